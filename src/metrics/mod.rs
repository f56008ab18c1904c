//! Prometheus: query building (pure, in [`promql`]) and a client that reaches Prometheus directly or
//! through the API server's service proxy with the user's kubeconfig credentials.

pub mod calls;
pub mod canary;
mod client;
pub mod latency;
pub mod promql;
pub mod status;

pub use client::{Prom, PromError, PromService, PromUrl};

use prometheus_http_query::response::Data;
use std::collections::HashMap;

/// Finite samples of an instant vector (NaN and infinities carry no figure), with their labels.
fn samples(data: &Data) -> impl Iterator<Item = (&HashMap<String, String>, f64)> {
    let vector = match data {
        Data::Vector(v) => v.as_slice(),
        _ => &[],
    };
    vector.iter().map(|v| (v.metric(), v.sample().value())).filter(|(_, x)| x.is_finite())
}
