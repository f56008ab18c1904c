//! Argo Rollouts semantics: phase computation and the promote / abort / retry / pause decisions.
//!
//! Pure code matching argoproj/argo-rollouts v1.9 (see `docs` of each module for the upstream function it
//! follows): a typed view of a Rollout read from the API ([`model`]), its phase ([`phase`]), its step and
//! weights ([`progress`]), what the `promote`/`abort`/`retry`/`pause` commands write ([`actions`]), what its Istio
//! traffic routing owns ([`ownership`]) and when `wait` is done ([`wait`]). Sending the patches, watching and
//! printing belong to the callers.

pub mod actions;
pub mod model;
pub mod ownership;
pub mod phase;
pub mod plugins;
pub mod progress;
pub mod routing;
pub mod wait;

pub use actions::{Endpoint, Idle, Patch, Plan};
pub use model::{ParseError, Rollout};
pub use ownership::{DestinationRole, GatewayOwnership, IstioOwnership, RouteClaim, ServiceRole};
pub use phase::{Phase, PhaseStatus, phase};
pub use progress::{DesiredWeights, StepProgress, StrategyKind, WeightSource};
pub use wait::{WaitDecision, WaitTarget};
