//! Prometheus: query building (pure, in [`promql`]) and a client that reaches Prometheus directly or
//! through the API server's service proxy with the user's kubeconfig credentials.

mod client;
pub mod promql;
pub mod status;

pub use client::{Prom, PromError};
