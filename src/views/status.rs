//! The `status -o json` / `-o yaml` document: a projection of the route graph, and the contract scripts read.
//! Fields may be added, never renamed or removed (`tests/golden/` holds it byte for byte).

use crate::gateway::objects::{Match as GatewayMatch, Retry, Timeouts};
use crate::graph::{Audience, ConditionNode, Finding, HostNode, PodCount, RouteGraph, RouteNode, RuleNode};
use crate::graph::{DestinationNode, MirrorNode, SplitKind, Traffic, VersionNode};
use crate::istio::objects::{AsWritten, Fault, HttpMatch, Retries};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct StatusReport<'g> {
    pub services: Vec<ServiceView<'g>>,
    /// Findings not tied to one service (for example, objects that could not be listed).
    pub findings: Vec<&'g Finding>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView<'g> {
    /// The routed host, resolved (`reviews.prod.svc.cluster.local`, or a gateway host like `shop.example.com`).
    pub host: &'g str,
    pub namespace: &'g str,
    /// `subset` (one host, DestinationRule subsets), `host` (several Services), `mixed`, or `none` (no routes).
    pub split: SplitKind,
    /// True when routes send callers to the callee version matching their own (`sourceLabels` on versions).
    pub version_pinned: bool,
    /// The request header the pinning goes by (`pin --header`; absent when it goes by the callers' labels).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin_header: Option<&'g str>,
    /// The waypoint serving the host in ambient mode (absent when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waypoint: Option<&'g str>,
    /// VirtualServices claiming the host, as `namespace/name`, in the order Istio applies them.
    pub virtual_services: Vec<String>,
    pub routes: Vec<RouteView<'g>>,
    /// HTTPRoutes attached to the host, as `namespace/name`, oldest first (absent when none: documents of
    /// VirtualService-only hosts are unchanged).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub http_routes: Vec<String>,
    /// Their rules, per audience in Gateway API precedence (most specific match first); absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleView<'g>>,
    pub versions: Vec<VersionView<'g>>,
    pub rollout: Option<RolloutView<'g>>,
    /// Most severe first, as the table lists them.
    pub findings: Vec<&'g Finding>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteView<'g> {
    pub virtual_service: String,
    /// Position in the VirtualService's `http` list.
    pub index: usize,
    pub name: Option<&'g str>,
    /// The match blocks exactly as written (OR of ANDs); empty means "every request".
    #[serde(rename = "match")]
    pub matches: &'g [AsWritten<HttpMatch>],
    /// The same conditions, readable: `from version=v2 | header end-user=jason`, or `*`.
    pub match_summary: String,
    pub destinations: Vec<DestinationView<'g>>,
    pub mirror: Option<MirrorView<'g>>,
    pub retries: Option<&'g AsWritten<Retries>>,
    pub timeout: Option<&'g str>,
    pub fault: Option<&'g AsWritten<Fault>>,
    /// False when an earlier route catches every request first.
    pub reachable: bool,
    /// `Rollout/namespace/name` when an Argo Rollout rewrites this route's weights.
    pub managed_by: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleView<'g> {
    pub http_route: String,
    /// Position in the HTTPRoute's `rules` list.
    pub index: usize,
    pub name: Option<&'g str>,
    /// The parent through which the rule applies here: `Service/prod/reviews`, `Gateway/istio-system/ingress`.
    pub parent: String,
    pub audience: AudienceView<'g>,
    /// The matches exactly as written (ORed); empty means every request.
    #[serde(rename = "matches")]
    pub matches: &'g [AsWritten<GatewayMatch>],
    /// The same conditions, readable: `path^=/api header end-user=jason`, or `*`.
    pub match_summary: String,
    pub destinations: Vec<DestinationView<'g>>,
    pub mirror: Option<MirrorView<'g>>,
    pub timeouts: Option<&'g AsWritten<Timeouts>>,
    pub retry: Option<&'g AsWritten<Retry>>,
    /// False when a more specific or older rule takes every one of its matches first.
    pub reachable: bool,
    /// The route's status conditions for this parent, as its controller wrote them.
    pub conditions: &'g [ConditionNode],
    /// `Rollout/namespace/name` when an Argo Rollout rewrites this rule's weights.
    pub managed_by: Option<String>,
}

/// Who a rule applies to: `producers` (every caller of the Service), `consumers` (callers in `namespace`),
/// or `gateway` (requests through `gateway`, `namespace/name`).
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum AudienceView<'g> {
    Producers,
    Consumers { namespace: &'g str },
    Gateway { gateway: String },
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationView<'g> {
    pub host: &'g str,
    pub subset: Option<&'g str>,
    /// The version this destination is (see [`VersionView::name`]).
    pub version: &'g str,
    /// The weight as written (relative); `None` when omitted.
    pub weight: Option<i64>,
    /// The effective share of this route's requests: weight / sum of weights, in percent (4 decimals).
    #[serde(serialize_with = "crate::numbers::ser_percent")]
    pub weight_percent: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MirrorView<'g> {
    pub host: &'g str,
    pub subset: Option<&'g str>,
    pub version: &'g str,
    #[serde(serialize_with = "crate::numbers::ser_percent")]
    pub percent: f64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionView<'g> {
    /// Subset name for subset splits; `service.namespace` (plus `/subset`) for host splits.
    pub name: &'g str,
    pub host: &'g str,
    pub subset: Option<&'g str>,
    /// Pod labels the version selects beyond the Service selector (the subset's labels).
    pub labels: &'g crate::objects::Labels,
    /// `None` when the host has no Service with a selector to count pods by.
    pub pods: Option<PodCount>,
    pub outlier_detection: bool,
    /// Connection limits and ejection the version's proxies apply (null: none).
    pub circuit_breaker: Option<&'g crate::istio::objects::CircuitBreaker>,
    /// Workloads owning the selected pods, e.g. `Deployment/reviews-v2`, `Rollout/reviews`.
    pub owners: &'g [String],
    /// Live traffic over the last 5 minutes, when Prometheus was asked.
    pub traffic: Option<Traffic>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutView<'g> {
    pub name: &'g str,
    pub namespace: &'g str,
    pub strategy: &'g str,
    pub phase: &'g str,
    pub message: &'g str,
    /// `i/n`, as `kubectl argo rollouts` shows it.
    pub step: Option<&'g str>,
    pub canary_subset: Option<&'g str>,
    pub stable_subset: Option<&'g str>,
    /// The canary weight the Rollout wants (`status.canary.weights.canary.weight`).
    pub desired_canary_weight: Option<i64>,
    /// The canary share the VirtualService actually gives, in percent.
    #[serde(serialize_with = "crate::numbers::ser_opt_percent")]
    pub actual_canary_weight: Option<f64>,
}

/// The document for a graph.
pub fn project<'g>(graph: &'g RouteGraph) -> StatusReport<'g> {
    StatusReport { services: graph.hosts.iter().map(service).collect(), findings: by_severity(&graph.findings) }
}

/// The same document as [`project`]'s, each service projected only as it is written: the whole report of a
/// large mesh (ten thousand services) is tens of megabytes of views, none of which need exist at once.
pub struct Streamed<'g>(pub &'g RouteGraph<'g>);

impl Serialize for Streamed<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Services<'g>(&'g [HostNode<'g>]);
        impl Serialize for Services<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().map(service))
            }
        }
        // Field for field as StatusReport (the golden files hold the two to the same bytes).
        let mut report = serializer.serialize_struct("StatusReport", 2)?;
        report.serialize_field("services", &Services(&self.0.hosts))?;
        report.serialize_field("findings", &by_severity(&self.0.findings))?;
        report.end()
    }
}

/// Most severe first, in the order found within a severity: the one order of every view.
pub fn by_severity(findings: &[Finding]) -> Vec<&Finding> {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| f.severity);
    sorted
}

fn service<'g>(node: &'g HostNode) -> ServiceView<'g> {
    ServiceView {
        host: &node.host,
        namespace: &node.namespace,
        split: node.split,
        version_pinned: node.version_pinned,
        pin_header: node.pin_header.as_deref(),
        waypoint: node.waypoint.as_ref().map(|w| w.name.as_str()),
        virtual_services: node.virtual_services.iter().map(|vs| vs.reference().key()).collect(),
        routes: node.routes.iter().map(route).collect(),
        http_routes: node.http_routes.iter().map(|r| r.reference().key()).collect(),
        rules: node.rules.iter().map(rule).collect(),
        versions: node.versions.iter().map(version).collect(),
        rollout: node.rollout.as_ref().map(|r| RolloutView {
            name: &r.rollout.name,
            namespace: &r.rollout.namespace,
            strategy: &r.strategy,
            phase: &r.phase,
            message: &r.message,
            step: r.step.as_deref(),
            canary_subset: r.canary_subset.as_deref(),
            stable_subset: r.stable_subset.as_deref(),
            desired_canary_weight: r.desired_canary_weight,
            actual_canary_weight: r.actual_canary_weight,
        }),
        findings: by_severity(&node.findings),
    }
}

fn route<'g>(r: &'g RouteNode) -> RouteView<'g> {
    RouteView {
        virtual_service: r.vs.reference().key(),
        index: r.index,
        name: r.route.name.as_deref(),
        matches: &r.route.matches,
        match_summary: crate::istio::summary::summary(&r.route.matches),
        destinations: r.destinations.iter().map(destination).collect(),
        mirror: r.mirror.as_ref().map(mirror),
        retries: r.route.retries.as_ref(),
        timeout: r.route.timeout.as_deref(),
        fault: r.route.fault.as_ref(),
        reachable: r.reachable,
        managed_by: r.managed_by.as_ref().map(ToString::to_string),
    }
}

fn rule<'g>(r: &'g RuleNode) -> RuleView<'g> {
    RuleView {
        http_route: r.route.reference().key(),
        index: r.index,
        name: r.rule.name.as_deref(),
        parent: r.parent.to_string(),
        audience: match &r.audience {
            Audience::Producers => AudienceView::Producers,
            Audience::Consumers(ns) => AudienceView::Consumers { namespace: ns },
            Audience::Gateway(g) => AudienceView::Gateway { gateway: g.key() },
        },
        matches: &r.rule.matches,
        match_summary: crate::gateway::route::summary(r.rule),
        destinations: r.destinations.iter().map(destination).collect(),
        mirror: r.mirror.as_ref().map(mirror),
        timeouts: r.rule.timeouts.as_ref(),
        retry: r.rule.retry.as_ref(),
        reachable: r.reachable,
        conditions: &r.conditions,
        managed_by: r.managed_by.as_ref().map(ToString::to_string),
    }
}

fn destination(d: &DestinationNode) -> DestinationView<'_> {
    DestinationView {
        host: &d.key.host,
        subset: d.key.subset.as_deref(),
        version: &d.version,
        weight: d.weight,
        weight_percent: d.share,
    }
}

fn mirror(m: &MirrorNode) -> MirrorView<'_> {
    MirrorView { host: &m.key.host, subset: m.key.subset.as_deref(), version: &m.version, percent: m.percent }
}

fn version(v: &VersionNode) -> VersionView<'_> {
    VersionView {
        name: &v.name,
        host: &v.key.host,
        subset: v.key.subset.as_deref(),
        labels: &v.labels,
        pods: v.pods,
        outlier_detection: v.outlier_detection,
        circuit_breaker: v.circuit_breaker.as_ref(),
        owners: &v.owners,
        traffic: v.traffic,
    }
}

impl StatusReport<'_> {
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().copied().chain(self.services.iter().flat_map(|s| s.findings.iter().copied()))
    }
}
