//! The per-version route model (pure): from the objects of a cluster (or of YAML files) to what each
//! version of each routed host receives, and what is wrong with it.

mod build;
mod chain;
pub mod findings;
pub mod host;
pub mod model;
pub mod objects;
pub mod offline;
mod render_match;
mod rollout;
pub mod traffic;

pub use build::{build, close_names, needed_namespaces};
pub use model::*;

use objects::{DestinationRule, Pod, Service, VirtualService};
use thiserror::Error;

/// Everything the model reads, fetched once.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub virtual_services: Vec<VirtualService>,
    pub destination_rules: Vec<DestinationRule>,
    pub services: Vec<Service>,
    pub pods: Vec<Pod>,
    /// Rollouts as returned by the API server (parsed by [`crate::rollouts`]).
    pub rollouts: Vec<serde_json::Value>,
    /// Limits of what could be read (e.g. no cluster-wide list permission), reported as findings.
    pub partial: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Options {
    /// The cluster DNS domain (`cluster.local`).
    pub domain: String,
    /// The pod label that carries the version (`version`).
    pub version_label: String,
    pub scope: Scope,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Hosts routed by VirtualServices in, or to Services in, this namespace.
    Namespace(String),
    /// Every routed host.
    All,
    /// One host (resolved), as typed by the user (for error messages).
    Host { host: String, input: String },
}

#[derive(Debug, Error, PartialEq)]
pub enum ModelError {
    #[error("no Service or VirtualService host \"{input}\" (looked for {host}){}", suggest(.suggestions))]
    UnknownService { input: String, host: String, suggestions: Vec<String> },
}

/// `; did you mean: a, b?`, or nothing without names.
pub(crate) fn suggest(names: &[String]) -> String {
    if names.is_empty() { String::new() } else { format!("; did you mean: {}?", names.join(", ")) }
}
