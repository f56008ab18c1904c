//! What an edit is validated against, read from the route graph: the routed host, the VirtualService that
//! routes it, its versions with their ready pods, the Rollouts that own routes in it (and those that could not
//! be read), and, for `pin`, the DestinationRule that can receive new subsets.

use super::EditError;
use crate::graph::{self, HostNode, Index, Options, PodCount, RouteGraph, Scope};
use crate::istio::objects::{Destination, RouteDestination};
use crate::istio::route::{VersionKey, destination_key};
use crate::istio::{DestinationRule, VirtualService, host};
use crate::objects::meta::Labels;
use crate::objects::parse::FieldError;
use crate::objects::{Kind, ObjectRef, Snapshot};
use crate::rollouts::IstioOwnership;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What the user asked to edit, and how to read names.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The service as typed: `reviews`, `reviews.prod`, an FQDN or a gateway host.
    pub service: &'a str,
    /// The command's namespace: short names typed by the user resolve in it.
    pub namespace: &'a str,
    /// `--virtual-service`, when several VirtualServices route the host.
    pub virtual_service: Option<&'a str>,
    /// `--http-route`, when several HTTPRoutes route the host.
    pub http_route: Option<&'a str>,
    pub domain: &'a str,
    pub version_label: &'a str,
    /// When the edit happens (recorded in the history); the core never reads the clock itself.
    pub now: Timestamp,
    /// `--force`: edit routes a Rollout manages too (its controller will write its own weights back).
    pub force: bool,
}

#[derive(Clone, Debug)]
pub struct Context {
    /// The routed host, resolved.
    pub host: String,
    pub namespace: String,
    pub domain: String,
    pub version_label: String,
    /// The VirtualService the edit applies to.
    pub virtual_service: ObjectRef,
    /// The DestinationRule for exactly this host, where `pin` adds missing subsets.
    pub destination_rule: Option<ObjectRef>,
    pub versions: Vec<Version>,
    /// Pods of the host's Service by the value of their version label.
    pub pod_versions: BTreeMap<String, PodCount>,
    /// Rollouts whose Istio traffic routing claims routes of the VirtualService.
    pub owners: Vec<IstioOwnership>,
    /// Rollouts that could not be read and claim routes of the VirtualService, or may.
    pub doubts: Vec<Doubt>,
    /// Rollouts could not be listed (no permission), so ownership is unknown.
    pub rollouts_unknown: bool,
    pub now: Timestamp,
    /// The user knows a Rollout may own the routes and edits anyway.
    pub force: bool,
}

/// A Rollout that could not be read, in the way of an edit.
#[derive(Clone, Debug, PartialEq)]
pub struct Doubt {
    pub rollout: ObjectRef,
    pub error: FieldError,
    /// What it claims, when its routing fields at least could be read.
    pub ownership: Option<IstioOwnership>,
}

/// One version a route can send traffic to: a subset of the host, or another Service host.
#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    /// As `status` names it: the subset (`v2`) or `service.namespace[/subset]`.
    pub name: String,
    pub key: VersionKey,
    /// The subset's labels.
    pub labels: Labels,
    /// The subset is defined by a DestinationRule, or the host's Service exists (or it is not a Service host).
    pub defined: bool,
    /// `None` when pods cannot be counted (no Service selector).
    pub pods: Option<PodCount>,
}

impl Request<'_> {
    /// The host the user means, resolved.
    pub fn host(&self) -> String {
        host::resolve_user(self.service, self.namespace, self.domain)
    }

    /// The graph's options for this request (what the snapshot must cover).
    pub fn options(&self) -> Options {
        Options {
            domain: self.domain.to_string(),
            version_label: self.version_label.to_string(),
            scope: Scope::Host { host: self.host(), input: self.service.to_string() },
        }
    }
}

impl Context {
    /// Builds the context of a VirtualService edit, refusing a host routed by HTTPRoutes only.
    pub fn build(snap: &Snapshot, req: &Request) -> Result<Context, EditError> {
        let graph = graph::build(snap, &req.options())?;
        match routed(&graph, req)? {
            Routed::Istio(node) => Context::from_graph(snap, &graph, node, req),
            Routed::Gateway(node) => Err(EditError::RoutedByHttpRoute {
                host: node.host.clone(),
                routes: node.http_routes.iter().map(|r| r.reference().key()).collect(),
            }),
        }
    }

    pub(crate) fn from_graph(
        snap: &Snapshot,
        graph: &RouteGraph,
        node: &HostNode,
        req: &Request,
    ) -> Result<Context, EditError> {
        let target = node.host.clone();
        let virtual_service = choose_virtual_service(&node.virtual_services, &node.host, req)?;
        let versions = versions(node);
        let idx = Index::new(snap, req.domain);
        Ok(Context {
            destination_rule: exact_destination_rule(&idx, &target, req.domain),
            pod_versions: pod_versions(&idx, &target, req.version_label),
            owners: graph
                .owners_of(&virtual_service)
                .filter(|o| o.unreadable.is_none())
                .map(|o| o.ownership.clone())
                .collect(),
            doubts: doubts(graph, &virtual_service),
            rollouts_unknown: graph.rollouts_unlisted,
            host: target,
            namespace: req.namespace.to_string(),
            domain: req.domain.to_string(),
            version_label: req.version_label.to_string(),
            virtual_service,
            versions,
            now: req.now,
            force: req.force,
        })
    }

    /// `VirtualService prod/reviews`, for messages.
    pub fn vs_label(&self) -> String {
        self.virtual_service.label()
    }

    /// The version a user means: a version name as `status` prints it, a subset of the host, or a Service host
    /// in any form (`reviews-v2`, `reviews-v2.prod`, the FQDN), optionally with `/subset`.
    pub fn version(&self, input: &str) -> Result<&Version, EditError> {
        find_version(&self.versions, input, &self.host, &self.namespace, &self.domain)
    }

    /// The version a route destination (written in the VirtualService) goes to, if it is a known version.
    pub fn version_of(&self, destination: &Destination) -> Option<&Version> {
        let key = self.key(destination);
        self.versions.iter().find(|v| v.key == key)
    }

    /// Where a destination written in the VirtualService goes.
    pub fn key(&self, destination: &Destination) -> VersionKey {
        destination_key(destination, &self.virtual_service.namespace, &self.domain)
    }

    /// How a destination is named in messages: its version name, or what is written.
    pub fn name_of(&self, destination: &Destination) -> String {
        match self.version_of(destination) {
            Some(v) => v.name.clone(),
            None => {
                let key = self.key(destination);
                let h = host::short(&key.host, &self.domain);
                key.subset.map_or(h.clone(), |s| format!("{h}/{s}"))
            }
        }
    }

    /// A `destination` for version `v`: a copy of a sibling destination of the same host when the route has
    /// one (`siblings` typed, `raw` as written: the copy keeps its port and host spelling), else the short host
    /// name when the Service lives in the VirtualService's namespace, else the full name (Istio reads
    /// `reviews.prod` literally, not as a Service).
    pub fn destination(&self, v: &Version, siblings: &[RouteDestination], raw: &[Value]) -> Value {
        let ns = &self.virtual_service.namespace;
        let sibling = siblings.iter().position(|d| self.key(&d.destination).host == v.key.host);
        let mut dest = match sibling.and_then(|i| raw.get(i)).map(|d| &d["destination"]).filter(|d| d.is_object()) {
            Some(d) => d.clone(),
            None => match host::service_of(&v.key.host, &self.domain) {
                Some((name, svc_ns)) if &svc_ns == ns => json!({"host": name}),
                _ => json!({"host": v.key.host}),
            },
        };
        match &v.key.subset {
            Some(s) => dest["subset"] = json!(s),
            None => {
                dest.as_object_mut().map(|d| d.remove("subset"));
            }
        }
        dest
    }

    /// The defined subsets of the host, each with the version-label value its callers carry: the subset's own
    /// label, else its name (the chain check in the graph reads versions the same way).
    pub fn subset_versions(&self) -> Vec<(String, &Version)> {
        self.versions
            .iter()
            .filter(|v| v.key.host == self.host && v.defined)
            .filter_map(|v| {
                let subset = v.key.subset.as_ref()?;
                Some((v.labels.get(&self.version_label).unwrap_or(subset).clone(), v))
            })
            .collect()
    }

    /// Version-label values of the host's pods that no defined subset covers.
    pub fn versions_without_subset(&self) -> Vec<String> {
        let covered: Vec<String> = self.subset_versions().into_iter().map(|(value, _)| value).collect();
        self.pod_versions.keys().filter(|v| !covered.contains(v)).cloned().collect()
    }
}

/// Which API routes the host an edit is about, with its node.
pub(crate) enum Routed<'g, 's> {
    /// A VirtualService (it wins when an HTTPRoute routes the host too, as it does for sidecars).
    Istio(&'g HostNode<'s>),
    /// HTTPRoutes only.
    Gateway(&'g HostNode<'s>),
}

pub(crate) fn routed<'g, 's>(graph: &'g RouteGraph<'s>, req: &Request) -> Result<Routed<'g, 's>, EditError> {
    let target = req.host();
    let routed = |h: &&HostNode| h.host == target;
    if let Some(node) = graph.hosts.iter().filter(routed).find(|h| !h.virtual_services.is_empty()) {
        return Ok(Routed::Istio(node));
    }
    if let Some(node) = graph.hosts.iter().filter(routed).find(|h| !h.http_routes.is_empty()) {
        return Ok(Routed::Gateway(node));
    }
    let routed_by = graph.hosts.iter().filter(|h| h.host != target).map(|h| h.host.clone()).collect();
    Err(EditError::NoVirtualService { host: target, routed_by })
}

/// The versions of a host as the edits see them.
pub(crate) fn versions(node: &HostNode) -> Vec<Version> {
    node.versions
        .iter()
        .map(|v| Version {
            name: v.name.clone(),
            key: v.key.clone(),
            labels: v.labels.clone(),
            defined: v.defined,
            pods: v.pods,
        })
        .collect()
}

/// The version of `host` a user means, among `versions`: a version name as `status` prints it, a subset of
/// the host, or a Service host in any form (`reviews-v2`, `reviews-v2.prod`, the FQDN; short names resolve in
/// the command's `namespace`), optionally with `/subset`.
pub fn find_version<'v>(
    versions: &'v [Version],
    input: &str,
    host: &str,
    namespace: &str,
    domain: &str,
) -> Result<&'v Version, EditError> {
    let by_name = versions.iter().find(|v| v.name == input);
    let own_subset = || versions.iter().find(|v| v.key.host == host && v.key.subset.as_deref() == Some(input));
    let by_host = || {
        let (h, subset) = input.split_once('/').map_or((input, None), |(h, s)| (h, Some(s)));
        let resolved = host::resolve_user(h, namespace, domain);
        versions.iter().find(|v| v.key.host == resolved && v.key.subset.as_deref() == subset)
    };
    by_name.or_else(own_subset).or_else(by_host).ok_or_else(|| EditError::UnknownVersion {
        version: input.to_string(),
        host: host::short(host, domain),
        known: versions.iter().map(|v| v.name.clone()).collect(),
    })
}

/// The snapshot with one object replaced by (or extended with) a fresher copy read for the write, so the
/// context of every write attempt describes the very object being transformed.
pub fn with_object(snap: &Snapshot, obj: &Value) -> Result<Snapshot, EditError> {
    match obj["kind"].as_str() {
        Some("VirtualService") => Ok(snap.with_virtual_service(super::object::read(obj)?)),
        Some("DestinationRule") => Ok(snap.with_destination_rule(super::object::typed(obj)?)),
        Some("HTTPRoute") => Ok(snap.with_http_route(super::object::typed(obj)?)),
        other => Err(EditError::Malformed {
            object: super::object::describe(obj),
            field: "kind".into(),
            reason: format!("is {other:?}, expected VirtualService, DestinationRule or HTTPRoute"),
        }),
    }
}

/// The unreadable Rollouts that claim routes of `vs`, or whose claims cannot be read at all.
fn doubts(graph: &RouteGraph, vs: &ObjectRef) -> Vec<Doubt> {
    let claiming = graph.owners_of(vs).filter_map(|o| {
        let bad = o.unreadable?;
        Some(Doubt { rollout: o.rollout.clone(), error: bad.error.clone(), ownership: Some(o.ownership.clone()) })
    });
    let unknown = graph.unknown_owners.iter().map(|u| Doubt {
        rollout: u.object.clone(),
        error: u.error.clone(),
        ownership: None,
    });
    claiming.chain(unknown).collect()
}

fn choose_virtual_service(vss: &[&VirtualService], host: &str, req: &Request) -> Result<ObjectRef, EditError> {
    let candidates: Vec<ObjectRef> = vss.iter().map(|vs| vs.reference()).collect();
    let picked: Vec<&ObjectRef> = match req.virtual_service {
        Some(wanted) => candidates.iter().filter(|c| c.key() == wanted || c.name == wanted).collect(),
        None if candidates.len() == 1 => candidates.iter().collect(),
        None => candidates.iter().filter(|c| c.namespace == req.namespace).collect(),
    };
    let keys = || candidates.iter().map(ObjectRef::key).collect();
    match (picked.as_slice(), req.virtual_service) {
        ([one], _) => Ok((*one).clone()),
        ([], Some(wanted)) => Err(EditError::UnknownVirtualService {
            host: host.to_string(),
            wanted: wanted.to_string(),
            candidates: keys(),
        }),
        _ => Err(EditError::AmbiguousVirtualService { host: host.to_string(), candidates: keys() }),
    }
}

/// The DestinationRule whose host is exactly `target`, preferring one in the Service's namespace. Wildcard
/// rules are left alone: a subset added there would apply to other hosts too.
fn exact_destination_rule(idx: &Index, target: &str, domain: &str) -> Option<ObjectRef> {
    let home = host::service_of(target, domain).map(|(_, ns)| ns);
    let mut exact: Vec<&DestinationRule> = idx.drs.iter().filter(|(h, _)| h == target).map(|(_, dr)| *dr).collect();
    exact.sort_by_key(|dr| Some(&dr.metadata.namespace) != home.as_ref());
    exact.first().map(|dr| dr.metadata.reference(Kind::DestinationRule))
}

fn pod_versions(idx: &Index, target: &str, label: &str) -> BTreeMap<String, PodCount> {
    let mut counts: BTreeMap<String, PodCount> = BTreeMap::new();
    for pods in idx.pods(target, &Labels::new()).unwrap_or_default() {
        if let Some(value) = pods.labels.get(label) {
            let count = counts.entry(value.clone()).or_default();
            count.total += pods.total;
            count.ready += pods.ready;
        }
    }
    counts
}

#[cfg(test)]
#[path = "context_tests.rs"]
pub(crate) mod tests;
