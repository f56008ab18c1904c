//! kubectl-vroute: per-version routing for Istio and Argo Rollouts.
//!
//! The library holds all behaviour; the two binaries in `src/bin/` only parse flags and map errors to exit
//! codes. Pure modules (`objects`, `istio`, `graph`, `calls`, `views`, `edit`, `rollouts`, `judge`, `render`) never do
//! I/O; I/O modules (`cluster`, `metrics`'s client, `ops`, the analysis service) never decide.

pub mod analysis;
pub mod calls;
pub mod cli;
pub mod cluster;
pub mod dashboard;
pub mod duration;
pub mod edit;
pub mod error;
pub mod exit;
pub mod gateway;
pub mod graph;
pub mod istio;
pub mod judge;
pub mod metrics;
pub mod names;
pub mod numbers;
pub mod objects;
pub mod ops;
pub mod render;
pub mod rollouts;
pub mod views;

/// Process-wide set-up both binaries need before any connection: one TLS crypto provider (kube and
/// reqwest share rustls; with no process default, rustls would have to guess and can panic).
pub fn init_process() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
