//! Gateway API's traffic-management semantics, in one place beside [`crate::istio`]: the typed HTTPRoute,
//! Gateway and ReferenceGrant ([`objects`]) and how routes apply ([`route`]): parents, backends and their
//! shares, mirrors, and rule precedence by specificity. The route graph maps HTTPRoutes into the same hosts
//! and versions as VirtualServices through this module.

pub mod objects;
pub mod route;

pub use objects::{Gateway, HttpRoute, ReferenceGrant};
pub use route::Parent;
