//! The `graph` document (`graph -o json|yaml`, and the dashboard's data): the call graph's services in layer
//! order, their versions, and every call. Its shape is the contract the README documents:
//!
//! ```text
//! {"window": "5m" | null, "traffic": "observed" | "unknown", "trafficUnknown": "why" (only when unknown),
//!  "services": [{"name", "host" (null: a caller from outside the view), "layer",
//!                "versions": [{"id", "version", "pods": {"ready", "total"} | null, "requestsPerSecond" | null}]}],
//!  "calls": [{"from", "to", "allowed", "requestsPerSecond", "errorRate", "p50Ms", "p99Ms", "share" (each
//!             null when not observed), "marks": ["crossVersion" | "noReadyPods" | "errorOutlier" | "unused"]}]}
//! ```

use crate::calls::CallGraph;
use crate::graph::PodCount;
use crate::numbers::{ser_opt_figure, ser_opt_percent};
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphReport<'g> {
    pub window: Option<&'g str>,
    pub traffic: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_unknown: Option<&'g str>,
    pub services: Vec<ServiceView<'g>>,
    pub calls: Vec<CallView<'g>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView<'g> {
    pub name: &'g str,
    pub host: Option<&'g str>,
    pub layer: usize,
    pub versions: Vec<VersionView<'g>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionView<'g> {
    pub id: &'g str,
    pub version: &'g str,
    pub pods: Option<PodCount>,
    #[serde(serialize_with = "ser_opt_figure")]
    pub requests_per_second: Option<f64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallView<'g> {
    pub from: &'g str,
    pub to: &'g str,
    pub allowed: bool,
    #[serde(serialize_with = "ser_opt_figure")]
    pub requests_per_second: Option<f64>,
    #[serde(serialize_with = "ser_opt_figure")]
    pub error_rate: Option<f64>,
    #[serde(serialize_with = "ser_opt_figure")]
    pub p50_ms: Option<f64>,
    #[serde(serialize_with = "ser_opt_figure")]
    pub p99_ms: Option<f64>,
    /// Percent of what the caller version sent.
    #[serde(serialize_with = "ser_opt_percent")]
    pub share: Option<f64>,
    pub marks: Vec<&'static str>,
}

pub fn project(g: &CallGraph) -> GraphReport<'_> {
    let services = g
        .groups
        .iter()
        .map(|grp| ServiceView {
            name: &grp.name,
            host: grp.service.as_deref(),
            layer: grp.layer,
            versions: grp
                .nodes
                .iter()
                .map(|&n| {
                    let node = &g.nodes[n];
                    VersionView {
                        id: &node.id,
                        version: &node.version,
                        pods: node.pods,
                        requests_per_second: node.requests_per_second,
                    }
                })
                .collect(),
        })
        .collect();
    let calls = g
        .edges
        .iter()
        .map(|e| {
            let f = e.observed.as_ref();
            CallView {
                from: &g.nodes[e.from].id,
                to: &g.nodes[e.to].id,
                allowed: e.allowed,
                requests_per_second: f.map(|f| f.requests_per_second),
                error_rate: f.and_then(|f| f.error_rate),
                p50_ms: f.and_then(|f| f.p50_ms),
                p99_ms: f.and_then(|f| f.p99_ms),
                share: f.map(|f| f.share),
                marks: e.marks.iter().map(|m| m.code()).collect(),
            }
        })
        .collect();
    GraphReport {
        window: g.window.as_deref(),
        traffic: if g.unknown.is_some() { "unknown" } else { "observed" },
        traffic_unknown: g.unknown.as_deref(),
        services,
        calls,
    }
}
