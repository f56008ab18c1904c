//! The objects the tool reads, as typed views parsed once at the boundary: identities ([`meta`]), Kubernetes
//! workloads ([`k8s`]), everything one view reads with what could not be read ([`snapshot`]), and the same
//! built from manifest files ([`offline`]). Istio's objects are in [`crate::istio`], Argo's in
//! [`crate::rollouts`]. Below this boundary nothing decides on raw JSON.

pub mod k8s;
pub mod labels;
pub mod meta;
pub mod offline;
pub mod parse;
pub mod read;
pub mod snapshot;
pub mod stream;

pub use meta::{Kind, Labels, ObjectRef};
pub use snapshot::{Listable, Listed, PartialListing, Shortfall, Snapshot, Unreadable};
