//! Prometheus: query building (pure, in [`promql`]) and a client that reaches Prometheus directly or
//! through the API server's service proxy with the user's kubeconfig credentials.

pub mod calls;
pub mod canary;
mod client;
pub mod latency;
pub mod promql;
pub mod status;

pub use client::{Prom, PromError, PromService, PromUrl};
