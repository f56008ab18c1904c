//! The per-version model `status` and `check` print: for each routed host, its routes in evaluation order,
//! its versions with their pods, the Rollout that drives it, and what is wrong.
//!
//! This is also the `-o json` / `-o yaml` contract: fields may be added, never renamed or removed.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Serialize)]
pub struct StatusReport {
    pub services: Vec<ServiceView>,
    /// Findings not tied to one service (for example, objects that could not be listed).
    pub findings: Vec<Finding>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView {
    /// The routed host, resolved (`reviews.prod.svc.cluster.local`, or a gateway host like `shop.example.com`).
    pub host: String,
    pub namespace: String,
    /// `subset` (one host, DestinationRule subsets), `host` (several Services), `mixed`, or `none` (no routes).
    pub split: SplitKind,
    /// True when routes send callers to the callee version matching their own (`sourceLabels` on versions).
    pub version_pinned: bool,
    /// VirtualServices claiming the host, as `namespace/name`, in the order Istio applies them.
    pub virtual_services: Vec<String>,
    pub routes: Vec<RouteView>,
    pub versions: Vec<VersionView>,
    pub rollout: Option<RolloutView>,
    pub findings: Vec<Finding>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitKind {
    Subset,
    Host,
    Mixed,
    None,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteView {
    pub virtual_service: String,
    /// Position in the VirtualService's `http` list.
    pub index: usize,
    pub name: Option<String>,
    /// The match blocks exactly as written (OR of ANDs); empty means "every request".
    #[serde(rename = "match")]
    pub matches: Vec<Value>,
    /// The same conditions, readable: `from version=v2 | header end-user=jason`, or `*`.
    pub match_summary: String,
    pub destinations: Vec<DestinationView>,
    pub mirror: Option<MirrorView>,
    pub retries: Option<Value>,
    pub timeout: Option<String>,
    pub fault: Option<Value>,
    /// False when an earlier route catches every request first.
    pub reachable: bool,
    /// `Rollout/namespace/name` when an Argo Rollout rewrites this route's weights.
    pub managed_by: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationView {
    pub host: String,
    pub subset: Option<String>,
    /// The version this destination is (see [`VersionView::name`]).
    pub version: String,
    /// The weight as written (relative); `None` when omitted.
    pub weight: Option<i64>,
    /// The effective share of this route's requests: weight / sum of weights, in percent.
    pub weight_percent: f64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MirrorView {
    pub host: String,
    pub subset: Option<String>,
    pub version: String,
    pub percent: f64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionView {
    /// Subset name for subset splits; `service.namespace` (plus `/subset`) for host splits.
    pub name: String,
    pub host: String,
    pub subset: Option<String>,
    /// Pod labels the version selects beyond the Service selector (the subset's labels).
    pub labels: BTreeMap<String, String>,
    /// `None` when the host has no Service with a selector to count pods by.
    pub pods: Option<PodCount>,
    pub outlier_detection: bool,
    /// Workloads owning the selected pods, e.g. `Deployment/reviews-v2`, `Rollout/reviews`.
    pub owners: Vec<String>,
    /// Live traffic over the last 5 minutes, when Prometheus was asked.
    pub traffic: Option<Traffic>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PodCount {
    pub ready: usize,
    pub total: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Traffic {
    pub requests_per_second: f64,
    /// 5xx responses / all responses; `None` when there were no requests (not 0: nothing was measured).
    pub error_rate: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutView {
    pub name: String,
    pub namespace: String,
    pub strategy: String,
    pub phase: String,
    pub message: String,
    /// `i/n`, as `kubectl argo rollouts` shows it.
    pub step: Option<String>,
    pub canary_subset: Option<String>,
    pub stable_subset: Option<String>,
    /// The canary weight the Rollout wants (`status.canary.weights.canary.weight`).
    pub desired_canary_weight: Option<i64>,
    /// The canary share the VirtualService actually gives, in percent.
    pub actual_canary_weight: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Stable code, e.g. `VR101` (see the README's table).
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The object to look at, as `Kind/namespace/name`.
    pub object: String,
    /// One line on how to fix it.
    pub hint: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

impl StatusReport {
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().chain(self.services.iter().flat_map(|s| s.findings.iter()))
    }

    pub fn has_errors(&self) -> bool {
        self.all_findings().any(|f| f.severity == Severity::Error)
    }
}
