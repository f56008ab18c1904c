//! The per-version call graph: which version of which workload calls which version of which service, as the
//! routes allow it and as Istio's telemetry saw it. Nodes are workload versions grouped by service; an edge
//! is a caller version and a callee version, with what the routes say of it (allowed or not) and what was
//! observed over the window (rate, errors, latency, share of the caller's traffic).
//!
//! Built from the route graph ([`crate::graph`], which already knows each host's versions, pods and routes in
//! Istio's order) and a list of [`Observation`]s; laid out in layers ([`layers`]) so every renderer draws the
//! same picture. Pure: no I/O, no clock.

mod focus;
pub mod layers;
mod marks;

use crate::graph::{PodCount, RouteGraph};
use crate::istio::host;
use crate::istio::route::Applies;
use crate::objects::Labels;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use marks::{ERROR_OUTLIER_MIN_ERRORS, Mark};

/// Requests over the window from one caller version to one callee version, from Istio's standard metrics
/// (`istio_requests_total`, `istio_request_duration_milliseconds`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observation {
    pub source_app: String,
    pub source_version: String,
    pub source_namespace: String,
    /// `destination_service`: the host called, resolved (`b.demo.svc.cluster.local`).
    pub service: String,
    /// `destination_app`, which is how a caller is known to be that service's workload.
    pub app: String,
    pub version: String,
    pub requests: f64,
    /// Of `requests`, 5xx responses.
    pub errors: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// What is known of live traffic.
#[derive(Clone, Debug, PartialEq)]
pub enum Telemetry {
    /// Observations over the window (possibly none: nothing called anything).
    Observed { window: String, window_seconds: f64, calls: Vec<Observation> },
    /// Not asked or not reachable: the graph shows what the routes allow, and says why traffic is unknown.
    Unknown(String),
}

/// Everything the call graph is built from. `apps` maps a Service host to the `app` its selector picks (how a
/// caller's `source_app` is known to be that service, when no call to it was observed).
pub struct Input<'g, 's> {
    pub routes: &'g RouteGraph<'s>,
    pub telemetry: &'g Telemetry,
    pub apps: &'g BTreeMap<String, String>,
    pub version_label: &'g str,
    pub domain: &'g str,
    /// Show only this host's neighbourhood (`graph SERVICE`): `routes` holds its namespace, so the services
    /// around it are drawn with their own routes and pods.
    pub focus: Option<&'g str>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CallGraph {
    /// Services (and callers that are none of the shown services), in layer order.
    pub groups: Vec<Group>,
    pub nodes: Vec<Node>,
    /// Ordered by caller, then callee.
    pub edges: Vec<CallEdge>,
    /// `None` when traffic is unknown ([`Telemetry::Unknown`], with the reason in `unknown`).
    pub window: Option<String>,
    pub unknown: Option<String>,
}

/// A service's versions, or a workload calling in from outside the view (an ingress gateway, a load generator).
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// `b.demo` for a service; `app.namespace` for a caller that is no shown service.
    pub name: String,
    /// The resolved host; `None` for a caller only.
    pub service: Option<String>,
    /// 0 for entry points (nothing in the graph calls them), then one more than the deepest caller.
    pub layer: usize,
    /// Indexes into [`CallGraph::nodes`], by version.
    pub nodes: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// `b.demo/v2`: the group and the version (unique in the graph).
    pub id: String,
    pub group: usize,
    pub app: Option<String>,
    pub namespace: String,
    /// The version label's value; empty when the workload has none (Istio reports `unknown`).
    pub version: String,
    /// `None` when not known (a caller outside the view, a host with no Service selector).
    pub pods: Option<PodCount>,
    /// Requests received over the window, per second; `None` when traffic is unknown.
    pub requests_per_second: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CallEdge {
    pub from: usize,
    pub to: usize,
    /// The callee's routes send (some of) the caller's requests to this version.
    pub allowed: bool,
    /// `None` when traffic is unknown or nothing was observed on this edge.
    pub observed: Option<Flow>,
    pub marks: Vec<Mark>,
}

/// What was observed on one edge over the window.
#[derive(Clone, Debug, PartialEq)]
pub struct Flow {
    pub requests_per_second: f64,
    /// 5xx / all; `None` with no requests.
    pub error_rate: Option<f64>,
    pub errors: f64,
    pub requests: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// This edge's part of everything the caller version sent, in percent.
    pub share: f64,
}

impl CallGraph {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    pub fn edge(&self, from: &str, to: &str) -> Option<&CallEdge> {
        self.edges.iter().find(|e| self.nodes[e.from].id == from && self.nodes[e.to].id == to)
    }
}

/// Builds the call graph of the route graph's hosts and the observed calls into or out of them.
pub fn build(input: &Input) -> CallGraph {
    let (observed, window_seconds) = match input.telemetry {
        Telemetry::Observed { calls, window_seconds, .. } => (calls.as_slice(), *window_seconds),
        Telemetry::Unknown(_) => (&[][..], 1.0),
    };
    // Callers learn which app a service's workload is from the calls into it, beside the Services' selectors.
    let mut apps = input.apps.clone();
    for o in observed.iter().filter(|o| !o.app.is_empty() && o.app != "unknown") {
        apps.entry(o.service.clone()).or_insert_with(|| o.app.clone());
    }
    // A workload's app in a namespace to the service it serves (the first by host when several select it).
    let mut workloads: HashMap<(String, String), String> = HashMap::new();
    for (service, app) in &apps {
        if let Some((_, ns)) = host::service_of(service, input.domain) {
            workloads.entry((ns, app.clone())).or_insert_with(|| service.clone());
        }
    }
    let mut b = Builder { input, apps, workloads, groups: Vec::new(), nodes: Vec::new(), by_key: HashMap::new() };
    let pinned: BTreeSet<&str> =
        input.routes.hosts.iter().filter(|h| h.version_pinned).map(|h| h.host.as_str()).collect();
    // Every version of every shown host, by the host its pods serve (a host split's versions are Services).
    let mut at_key: HashMap<&crate::istio::VersionKey, usize> = HashMap::new();
    for h in &input.routes.hosts {
        for v in &h.versions {
            let version = v.telemetry_version(input.version_label).unwrap_or_default();
            let n = b.service_node(&v.key.host, None, version);
            b.nodes[n].pods = v.pods;
            at_key.insert(&v.key, n);
        }
    }
    let mut flows: BTreeMap<(usize, usize), Observation> = BTreeMap::new();
    for o in observed.iter().filter(|o| o.requests > 0.0) {
        let to = b.service_node(&o.service, Some(o.app.clone()).filter(|a| !a.is_empty()), known(&o.version));
        let from = b.caller_node(&o.source_app, &o.source_namespace, known(&o.source_version));
        let f = flows.entry((from, to)).or_default();
        f.requests += o.requests;
        f.errors += o.errors;
        // Two series on one edge (say both reporters) keep the slower quantile: never hide latency.
        f.p50_ms = max_opt(f.p50_ms, o.p50_ms);
        f.p99_ms = max_opt(f.p99_ms, o.p99_ms);
    }
    let mut edges: BTreeMap<(usize, usize), CallEdge> = BTreeMap::new();
    let mut sent: HashMap<usize, f64> = HashMap::new();
    for (&(from, _), f) in &flows {
        *sent.entry(from).or_default() += f.requests;
    }
    for (&(from, to), f) in &flows {
        let flow = Flow {
            requests_per_second: f.requests / window_seconds,
            error_rate: (f.requests > 0.0).then(|| f.errors / f.requests),
            errors: f.errors,
            requests: f.requests,
            p50_ms: f.p50_ms,
            p99_ms: f.p99_ms,
            share: 100.0 * f.requests / sent[&from],
        };
        edges.insert((from, to), CallEdge { from, to, allowed: false, observed: Some(flow), marks: Vec::new() });
    }
    // What the routes allow each known caller of each host: observed callers, and those its sourceLabels name.
    let mut observed_callers: HashMap<&str, BTreeSet<usize>> = HashMap::new();
    for &(from, to) in flows.keys() {
        if let Some(t) = b.node_host(to) {
            observed_callers.entry(t).or_default().insert(from);
        }
    }
    for h in &input.routes.hosts {
        let hosts: BTreeSet<&str> = h.versions.iter().map(|v| v.key.host.as_str()).collect();
        let mut callers: BTreeSet<usize> =
            hosts.iter().filter_map(|t| observed_callers.get(t)).flatten().copied().collect();
        callers.extend(b.named_callers(h));
        for caller in callers {
            for key in allowed(&b, h, caller) {
                if let Some(&to) = at_key.get(key) {
                    edges.entry((caller, to)).or_insert(CallEdge {
                        from: caller,
                        to,
                        allowed: false,
                        observed: None,
                        marks: Vec::new(),
                    });
                    edges.get_mut(&(caller, to)).expect("inserted").allowed = true;
                }
            }
        }
    }
    let mut received: HashMap<usize, f64> = HashMap::new();
    for e in edges.values() {
        *received.entry(e.to).or_default() += e.observed.as_ref().map_or(0.0, |f| f.requests_per_second);
    }
    let traffic_known = matches!(input.telemetry, Telemetry::Observed { .. });
    // What a caller from outside the view receives was not asked for: unknown, not zero.
    for (i, n) in b.nodes.iter_mut().enumerate() {
        let asked = traffic_known && b.groups[n.group].service.is_some();
        n.requests_per_second = asked.then(|| received.get(&i).copied().unwrap_or(0.0));
    }
    let mut edges: Vec<CallEdge> = edges.into_values().collect();
    let (mut groups, mut nodes) = (b.groups, b.nodes);
    if let Some(focus) = input.focus {
        // The focus and, when it is a host split, the Services its versions are.
        let versions = input.routes.host(focus).into_iter().flat_map(|h| &h.versions);
        let hosts = versions.map(|v| v.key.host.as_str()).chain([focus]).collect();
        (groups, nodes, edges) = focus::around(groups, nodes, edges, &hosts);
    }
    let pinned_node = |n: usize| groups[nodes[n].group].service.as_deref().is_some_and(|h| pinned.contains(h));
    marks::attach(&mut edges, &nodes, traffic_known, pinned_node);
    layers::assign(&mut groups, &nodes, &edges);
    let (window, unknown) = match input.telemetry {
        Telemetry::Observed { window, .. } => (Some(window.clone()), None),
        Telemetry::Unknown(why) => (None, Some(why.clone())),
    };
    layers::order(CallGraph { groups, nodes, edges, window, unknown })
}

/// The versions `h`'s routes send requests from `caller` to, in Istio's evaluation order: each route that may
/// apply adds its destinations, the first that always applies ends the walk. A host with no mesh route sends
/// to every version (the Service balances over all its pods).
fn allowed<'h>(b: &Builder, h: &'h crate::graph::HostNode, caller: usize) -> Vec<&'h crate::istio::VersionKey> {
    let node = &b.nodes[caller];
    let mut labels = Labels::default();
    if let Some(app) = &node.app {
        labels.insert("app".into(), app.clone());
    }
    if !node.version.is_empty() {
        labels.insert(b.input.version_label.to_string(), node.version.clone());
    }
    let mesh: Vec<_> = h.routes.iter().filter(|r| r.reachable && r.vs.mesh_bound()).collect();
    let rules: Vec<_> = h
        .rules
        .iter()
        .filter(|r| r.reachable)
        .filter(|r| match &r.audience {
            crate::graph::Audience::Producers => true,
            crate::graph::Audience::Consumers(ns) => *ns == node.namespace,
            crate::graph::Audience::Gateway(_) => false,
        })
        .collect();
    if mesh.is_empty() && rules.is_empty() {
        return h.versions.iter().map(|v| &v.key).collect();
    }
    let mut keys = Vec::new();
    for r in mesh {
        let applies = r.route.applies_to(&labels, &node.namespace);
        if applies != Applies::Never {
            keys.extend(r.destinations.iter().filter(|d| d.share > 0.0).map(|d| &d.key));
        }
        if applies == Applies::Always {
            return keys;
        }
    }
    keys.extend(rules.iter().flat_map(|r| &r.destinations).filter(|d| d.share > 0.0).map(|d| &d.key));
    keys
}

struct Builder<'i, 'g, 's> {
    input: &'i Input<'g, 's>,
    /// Service host to its workload's `app` (see [`Input::apps`]).
    apps: BTreeMap<String, String>,
    /// `(namespace, app)` to the service host whose workload that is.
    workloads: HashMap<(String, String), String>,
    groups: Vec<Group>,
    nodes: Vec<Node>,
    /// (group name, version) to node.
    by_key: HashMap<(String, String), usize>,
}

impl Builder<'_, '_, '_> {
    fn node_host(&self, n: usize) -> Option<&str> {
        self.groups[self.nodes[n].group].service.as_deref()
    }

    /// The node of a service's version, made on first sight.
    fn service_node(&mut self, service: &str, app: Option<String>, version: &str) -> usize {
        let name = host::short(service, self.input.domain);
        let namespace = host::service_of(service, self.input.domain).map(|(_, ns)| ns).unwrap_or_default();
        let n = self.node(&name, Some(service), namespace, version);
        if self.nodes[n].app.is_none() {
            self.nodes[n].app = app.or_else(|| self.apps.get(service).cloned());
        }
        n
    }

    /// A caller: the version of a shown service whose workload it is, else a workload of its own.
    fn caller_node(&mut self, app: &str, namespace: &str, version: &str) -> usize {
        match self.workloads.get(&(namespace.to_string(), app.to_string())).cloned() {
            Some(s) => self.service_node(&s, Some(app.to_string()), version),
            None => {
                let named = !app.is_empty() && app != "unknown";
                let name = if named { format!("{app}.{namespace}") } else { "unknown".to_string() };
                let n = self.node(&name, None, namespace.to_string(), version);
                self.nodes[n].app = Some(app.to_string()).filter(|_| named);
                n
            }
        }
    }

    fn node(&mut self, group: &str, service: Option<&str>, namespace: String, version: &str) -> usize {
        if let Some(&n) = self.by_key.get(&(group.to_string(), version.to_string())) {
            return n;
        }
        let g = match self.groups.iter().position(|g| g.name == group) {
            Some(g) => g,
            None => {
                let service = service.map(str::to_string);
                self.groups.push(Group { name: group.to_string(), service, layer: 0, nodes: Vec::new() });
                self.groups.len() - 1
            }
        };
        let id = if version.is_empty() { group.to_string() } else { format!("{group}/{version}") };
        let n = self.nodes.len();
        self.nodes.push(Node {
            id,
            group: g,
            app: None,
            namespace,
            version: version.to_string(),
            pods: None,
            requests_per_second: None,
        });
        self.groups[g].nodes.push(n);
        self.by_key.insert((group.to_string(), version.to_string()), n);
        n
    }

    /// Callers `h`'s `sourceLabels` name by app and version, when that app is a shown service with that version.
    fn named_callers(&self, h: &crate::graph::HostNode) -> Vec<usize> {
        let key = self.input.version_label;
        let blocks = h.virtual_services.iter().flat_map(|vs| {
            vs.spec.http.iter().flat_map(|r| &r.matches).map(move |m| (&vs.metadata.namespace, &m.typed))
        });
        let mut found = Vec::new();
        for (vs_ns, m) in blocks {
            let (Some(app), Some(version)) = (m.source_labels.get("app"), m.source_labels.get(key)) else { continue };
            let ns = m.source_namespace.as_ref().unwrap_or(vs_ns);
            let Some(service) = self.workloads.get(&(ns.clone(), app.clone())) else { continue };
            if let Some(&n) = self.by_key.get(&(host::short(service, self.input.domain), version.clone())) {
                found.push(n);
            }
        }
        found
    }
}

/// Each Service's host and the `app` its selector picks (see [`Input::apps`]).
pub fn service_apps(snap: &crate::objects::Snapshot, domain: &str) -> BTreeMap<String, String> {
    let selected = snap.services.iter().filter_map(|s| {
        let app = s.spec.selector.as_ref()?.get("app")?;
        Some((format!("{}.{}.svc.{domain}", s.metadata.name, s.metadata.namespace), app.clone()))
    });
    selected.collect()
}

/// Istio reports `unknown` for a workload without the label: the same as none.
fn known(version: &str) -> &str {
    if version == "unknown" { "" } else { version }
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests;
