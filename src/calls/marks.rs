//! What the call graph marks plainly on an edge: a call across versions where the routes pin them, a call
//! into a version with no ready pod, an error rate well above the callee's other versions, and a route that
//! allows calls nobody made.

use super::{CallEdge, Node};

/// A version's error rate counts as an outlier only from this many errors on the edge (a handful of 5xx on
/// a quiet edge is noise), and when it is at least twice the callee's other versions' and five points above.
pub const ERROR_OUTLIER_MIN_ERRORS: f64 = 5.0;
const ERROR_OUTLIER_RATIO: f64 = 2.0;
const ERROR_OUTLIER_POINTS: f64 = 0.05;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mark {
    /// Observed calls from one version to another on a host whose routes pin callers to their own version.
    CrossVersion,
    /// The callee version has pods, none of them ready: calls to it fail or wait.
    NoReadyPods,
    /// The edge's error rate is well above the same caller's calls to the service's other versions.
    ErrorOutlier,
    /// The routes allow the call, and none was observed over the window.
    Unused,
}

impl Mark {
    /// The name in documents (`graph -o json`, DOT and Mermaid classes).
    pub fn code(self) -> &'static str {
        match self {
            Mark::CrossVersion => "crossVersion",
            Mark::NoReadyPods => "noReadyPods",
            Mark::ErrorOutlier => "errorOutlier",
            Mark::Unused => "unused",
        }
    }

    /// What the mark means, for a reader of the drawing.
    pub fn describe(self) -> &'static str {
        match self {
            Mark::CrossVersion => "crosses versions on a pinned host",
            Mark::NoReadyPods => "into a version with no ready pod",
            Mark::ErrorOutlier => "errors well above the other versions",
            Mark::Unused => "allowed, not used",
        }
    }

    /// Marks a reader must act on (drawn in red), as opposed to [`Mark::Unused`] (drawn dashed).
    pub fn is_problem(self) -> bool {
        self != Mark::Unused
    }
}

pub(super) fn attach(edges: &mut [CallEdge], nodes: &[Node], traffic_known: bool, pinned: impl Fn(usize) -> bool) {
    let outliers: Vec<bool> = (0..edges.len()).map(|i| error_outlier(edges, nodes, i)).collect();
    for (e, outlier) in edges.iter_mut().zip(outliers) {
        let (from, to) = (&nodes[e.from], &nodes[e.to]);
        let requests = e.observed.as_ref().map_or(0.0, |f| f.requests);
        let versioned = !from.version.is_empty() && !to.version.is_empty();
        if requests >= 1.0 && pinned(e.to) && versioned && from.version != to.version {
            e.marks.push(Mark::CrossVersion);
        }
        if to.pods.is_some_and(|p| p.ready == 0) && (e.allowed || requests > 0.0) {
            e.marks.push(Mark::NoReadyPods);
        }
        if outlier {
            e.marks.push(Mark::ErrorOutlier);
        }
        if traffic_known && e.allowed && requests == 0.0 {
            e.marks.push(Mark::Unused);
        }
        e.marks.sort();
    }
}

/// Edge `i` against the same caller service's calls to the callee service's other versions, pooled.
fn error_outlier(edges: &[CallEdge], nodes: &[Node], i: usize) -> bool {
    let e = &edges[i];
    let Some(flow) = &e.observed else { return false };
    if flow.errors < ERROR_OUTLIER_MIN_ERRORS {
        return false;
    }
    let (caller, callee) = (nodes[e.from].group, nodes[e.to].group);
    let others = edges.iter().filter(|o| {
        nodes[o.from].group == caller && nodes[o.to].group == callee && nodes[o.to].version != nodes[e.to].version
    });
    let (errors, requests) =
        others.filter_map(|o| o.observed.as_ref()).fold((0.0, 0.0), |(e, r), f| (e + f.errors, r + f.requests));
    if requests <= 0.0 {
        return false;
    }
    let (rate, baseline) = (flow.errors / flow.requests, errors / requests);
    rate >= ERROR_OUTLIER_RATIO * baseline && rate - baseline >= ERROR_OUTLIER_POINTS
}
