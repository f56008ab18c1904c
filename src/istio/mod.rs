//! Istio's traffic-management semantics, in one place: the typed VirtualService and DestinationRule
//! ([`objects`]), host names ([`host`]), how http routes apply ([`route`]) and how match blocks read
//! ([`summary`]). The read model, the chain check and the edits all decide through this module.

pub mod host;
pub mod objects;
pub mod route;
pub mod summary;

pub use objects::{DestinationRule, HttpRoute, VirtualService};
pub use route::VersionKey;
