//! The route graph: the one working model of who routes what to which version. Built from a [`Snapshot`]
//! in passes, each with one concern:
//!
//! 1. [`build`]: the hosts in scope, each with its routes in Istio's evaluation order (destinations as
//!    versions with effective shares, mirrors, reachability) and its versions (subset labels, pods, owning
//!    workloads);
//! 2. [`lint`]: what is wrong with each host's routes and versions;
//! 3. [`chain`]: whether callers at each version reach the same version (`sourceLabels` pinning);
//! 4. [`ownership`]: which Argo Rollout rewrites which route, its phase and step, and drift (blue-green
//!    Rollouts, which switch Services rather than routes, add their active and preview versions: `bluegreen`);
//! 5. [`traffic`] (when Prometheus is asked): live rates per version and observed cross-version calls.
//!
//! Objects are joined by reference ([`ObjectRef`], [`VersionKey`]), never by matching strings. Every
//! document users see is a projection of this graph ([`crate::views`]), so the graph can change without
//! touching a documented contract. Pure: no I/O, no clock.

mod bluegreen;
pub mod build;
pub mod chain;
pub mod findings;
pub mod gateway;
mod gateway_lint;
mod header_pin;
mod index;
pub mod lint;
pub mod ownership;
pub mod select;
pub mod traffic;

pub use findings::{Code, Finding, Severity};
pub use index::{Index, Waypoint};
pub use select::{Needed, close_names, needed, needed_namespaces};

use crate::gateway::objects::{HttpRoute as HttpRouteObject, Rule as GatewayRule};
use crate::gateway::route::Parent;
use crate::istio::{HttpRoute, VersionKey, VirtualService};
use crate::objects::{Labels, ObjectRef, Snapshot, Unreadable};
use crate::rollouts::IstioOwnership;
use serde::Serialize;
use std::collections::HashMap;
use thiserror::Error;

/// How to read the snapshot, and what to look at.
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
pub fn suggest(names: &[String]) -> String {
    if names.is_empty() { String::new() } else { format!("; did you mean: {}?", names.join(", ")) }
}

pub struct RouteGraph<'s> {
    pub hosts: Vec<HostNode<'s>>,
    /// Findings not tied to one host (what could not be listed or read, Prometheus).
    pub findings: Vec<Finding>,
    /// Every Rollout whose Istio traffic routing claims VirtualServices, readable or not (see
    /// [`Owner::unreadable`]).
    pub owners: Vec<Owner<'s>>,
    /// Rollouts that could not be read, not even the fields that say what they claim: any route of their
    /// namespace may be theirs.
    pub unknown_owners: Vec<&'s Unreadable>,
    /// No Rollout could be listed at all.
    pub rollouts_unlisted: bool,
    /// The cluster's namespaces, when they could be listed (a cluster always has some).
    pub namespaces: Option<Vec<&'s str>>,
}

impl RouteGraph<'_> {
    /// `Some(false)` when namespace `ns` certainly does not exist, with close names for the hint.
    pub fn missing_namespace(&self, ns: &str) -> Option<Vec<String>> {
        let known = self.namespaces.as_ref()?;
        if known.contains(&ns) {
            return None;
        }
        Some(select::close_names(ns, known.iter().map(|n| n.to_string())))
    }
}

/// A Rollout that rewrites routes.
pub struct Owner<'s> {
    pub rollout: ObjectRef,
    pub ownership: IstioOwnership,
    /// Set when the Rollout could not be read whole: only its routing fields are known (and why not the rest).
    pub unreadable: Option<&'s Unreadable>,
}

/// One routed host.
pub struct HostNode<'s> {
    /// Resolved: `reviews.prod.svc.cluster.local`, or a gateway host like `shop.example.com`.
    pub host: String,
    pub namespace: String,
    pub split: SplitKind,
    /// Routes send callers to the callee version matching their own (`sourceLabels` on the version label).
    pub version_pinned: bool,
    /// The request header the pinning goes by (`pin --header`), when it is not the callers' labels.
    pub pin_header: Option<String>,
    /// The waypoint serving the host (ambient mode), from the Service's or namespace's labels.
    pub waypoint: Option<index::Waypoint>,
    /// VirtualServices claiming the host, in the order Istio applies them.
    pub virtual_services: Vec<&'s VirtualService>,
    /// Every http route of those, in order.
    pub routes: Vec<RouteNode<'s>>,
    /// HTTPRoutes attached to the host (a Service parent, or a Gateway route's hostname), oldest first.
    pub http_routes: Vec<&'s HttpRouteObject>,
    /// Their rules, per audience in Gateway API precedence (the most specific match first).
    pub rules: Vec<RuleNode<'s>>,
    pub versions: Vec<VersionNode>,
    pub rollout: Option<RolloutNode>,
    pub findings: Vec<Finding>,
}

pub struct RouteNode<'s> {
    pub vs: &'s VirtualService,
    /// Position in the VirtualService's `http` list.
    pub index: usize,
    pub route: &'s HttpRoute,
    pub destinations: Vec<DestinationNode>,
    pub mirror: Option<MirrorNode>,
    /// False when an earlier route of the host catches every request first.
    pub reachable: bool,
    /// The Rollout that rewrites this route's weights.
    pub managed_by: Option<ObjectRef>,
}

/// One rule of an HTTPRoute, as it applies to one audience.
pub struct RuleNode<'s> {
    pub route: &'s HttpRouteObject,
    /// Position in the HTTPRoute's `rules` list.
    pub index: usize,
    pub rule: &'s GatewayRule,
    /// The parent through which the rule applies to this host.
    pub parent: Parent,
    pub audience: Audience,
    /// Backends as versions with their effective shares; a backend that is not a Service is named by kind.
    pub destinations: Vec<DestinationNode>,
    pub mirror: Option<MirrorNode>,
    /// False when, for its audience, every match of the rule is taken by a match ranked before it.
    pub reachable: bool,
    /// What the parent's controller wrote in the route's status for this parent.
    pub conditions: Vec<ConditionNode>,
    /// The Rollout whose Gateway API plugin rewrites this rule's weights.
    pub managed_by: Option<ObjectRef>,
}

/// Who a rule applies to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Audience {
    /// Mesh, a route in the Service's own namespace (a producer route): every caller without a consumer route.
    Producers,
    /// Mesh, a route in the caller's namespace (a consumer route): callers in that namespace only, before any
    /// producer route.
    Consumers(String),
    /// North-south: requests through this Gateway.
    Gateway(ObjectRef),
}

impl std::fmt::Display for Audience {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Audience::Producers => f.write_str("every caller"),
            Audience::Consumers(ns) => write!(f, "callers in {ns}"),
            Audience::Gateway(g) => write!(f, "via {g}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConditionNode {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub reason: String,
    pub message: String,
}

pub struct DestinationNode {
    pub key: VersionKey,
    /// The version's name (see [`VersionNode::name`]).
    pub version: String,
    /// The weight as written (relative); `None` when omitted.
    pub weight: Option<i64>,
    /// Effective share of the route's requests, in percent.
    pub share: f64,
}

pub struct MirrorNode {
    pub key: VersionKey,
    pub version: String,
    pub percent: f64,
}

pub struct VersionNode {
    pub key: VersionKey,
    /// Subset name for subset splits; `service.namespace` (plus `/subset`) for host splits.
    pub name: String,
    /// Pod labels the version selects beyond the Service selector (the subset's labels).
    pub labels: Labels,
    /// The subset is defined by a DestinationRule, or the Service exists (or the host is not a Service host).
    pub defined: bool,
    /// `None` when the host has no Service with a selector to count pods by.
    pub pods: Option<PodCount>,
    pub outlier_detection: bool,
    /// Connection limits and ejection the version's proxies apply, if any.
    pub circuit_breaker: Option<crate::istio::objects::CircuitBreaker>,
    /// Workloads owning the selected pods, e.g. `Deployment/reviews-v2`, `Rollout/reviews (canary)`.
    pub owners: Vec<String>,
    /// Live traffic, when Prometheus was asked.
    pub traffic: Option<Traffic>,
    /// A waypoint serves the version's host (ambient mode): its requests are reported as `reporter="waypoint"`.
    pub waypoint: bool,
    /// The version label every selected pod carries, when they agree and no other version of the same host
    /// has the same one: what Istio reports as `destination_version` for them. A Rollout's `stable` and
    /// `canary` subsets select pods by their template hash, not by version, so their label is only found here.
    pub pod_version: Option<String>,
}

impl VersionNode {
    /// The `destination_version` Istio reports for this version's requests: the version label its subset
    /// selects, else the one its pods carry, else the subset's name (subsets are usually named after it).
    pub fn telemetry_version<'v>(&'v self, version_label: &str) -> Option<&'v str> {
        let label = self.labels.get(version_label).or(self.pod_version.as_ref());
        label.or(self.key.subset.as_ref()).map(String::as_str)
    }
}

/// The one version label value all of these pods carry, if they have one and agree.
fn pod_version(pods: Option<&[&crate::objects::k8s::PodGroup]>, version_label: &str) -> Option<String> {
    let mut values = pods?.iter().map(|p| p.labels.get(version_label));
    let first = values.next()??;
    values.all(|v| v == Some(first)).then(|| first.clone())
}

/// Keeps [`VersionNode::pod_version`] only where it tells one version of a host from the others: two versions
/// whose pods share a label value (a canary with an unchanged label) are not told apart by telemetry.
fn unique_pod_versions(host: &mut HostNode) {
    let mut count: HashMap<(String, String), usize> = HashMap::new();
    for v in &host.versions {
        if let Some(pv) = &v.pod_version {
            *count.entry((v.key.host.clone(), pv.clone())).or_default() += 1;
        }
    }
    for v in &mut host.versions {
        if v.pod_version.as_ref().is_some_and(|pv| count[&(v.key.host.clone(), pv.clone())] > 1) {
            v.pod_version = None;
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitKind {
    Subset,
    Host,
    Mixed,
    None,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PodCount {
    pub ready: usize,
    pub total: usize,
}

impl PodCount {
    /// The ready and total pods of some pod groups.
    pub fn of<'p>(groups: impl IntoIterator<Item = &'p crate::objects::k8s::PodGroup>) -> Self {
        groups
            .into_iter()
            .fold(PodCount::default(), |c, g| PodCount { ready: c.ready + g.ready, total: c.total + g.total })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Traffic {
    #[serde(serialize_with = "crate::numbers::ser_figure")]
    pub requests_per_second: f64,
    /// 5xx responses / all responses; `None` when there were no requests (nothing was measured).
    #[serde(serialize_with = "crate::numbers::ser_opt_figure")]
    pub error_rate: Option<f64>,
}

/// What a Rollout driving a host is doing, as `kubectl argo rollouts get` shows it.
pub struct RolloutNode {
    pub rollout: ObjectRef,
    pub strategy: String,
    pub phase: String,
    pub message: String,
    /// `i/n`.
    pub step: Option<String>,
    pub canary_subset: Option<String>,
    pub stable_subset: Option<String>,
    /// The canary weight the Rollout wants (`status.canary.weights.canary.weight`).
    pub desired_canary_weight: Option<i64>,
    /// The canary share the VirtualService actually gives, in percent.
    pub actual_canary_weight: Option<f64>,
}

/// Builds the graph of the hosts `opts` selects: every pass but traffic, which needs Prometheus.
pub fn build<'s>(snap: &'s Snapshot, opts: &Options) -> Result<RouteGraph<'s>, ModelError> {
    let idx = Index::new(snap, &opts.domain);
    let hosts = select::hosts(&idx, snap, opts)?;
    let mut graph = RouteGraph {
        hosts: hosts.iter().map(|h| build::host(&idx, h, &opts.version_label)).collect(),
        findings: snap.partial.iter().map(|p| Code::PartialListing.finding("", p.to_string())).collect(),
        owners: Vec::new(),
        unknown_owners: Vec::new(),
        rollouts_unlisted: snap.rollouts_unlisted(),
        namespaces: (!snap.namespaces.is_empty())
            .then(|| snap.namespaces.iter().map(|n| n.metadata.name.as_str()).collect()),
    };
    bluegreen::attach(snap, &idx, opts, &mut graph);
    for host in &mut graph.hosts {
        unique_pod_versions(host);
        lint::host(&idx, host);
        gateway_lint::host(&idx, host);
    }
    chain::check(&idx, opts, &mut graph);
    ownership::attach(snap, &opts.scope, &mut graph);
    ownership::attach_gateway(snap, &mut graph);
    for host in &mut graph.hosts {
        lint::outlier_detection_on_canaries(host, &idx);
    }
    Ok(graph)
}

impl RouteGraph<'_> {
    pub fn host(&self, host: &str) -> Option<&HostNode<'_>> {
        self.hosts.iter().find(|h| h.host == host)
    }

    /// The Rollouts whose traffic routing claims VirtualService `vs`.
    pub fn owners_of<'g>(&'g self, vs: &'g ObjectRef) -> impl Iterator<Item = &'g Owner<'g>> + 'g {
        self.owners.iter().filter(move |o| o.ownership.virtual_service(&vs.namespace, &vs.name).is_some())
    }

    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().chain(self.hosts.iter().flat_map(|h| h.findings.iter()))
    }

    pub fn has_errors(&self) -> bool {
        self.all_findings().any(|f| f.severity == Severity::Error)
    }
}

#[cfg(test)]
pub(crate) mod tests;
