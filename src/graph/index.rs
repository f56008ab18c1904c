//! Lookup tables over a snapshot, built once per graph: VirtualServices by the host they route (in Istio's
//! order), Services by identity, DestinationRules by host (wildcards apart, so lookups stay O(1) per host on
//! big meshes), pods by namespace, and which workloads are Rollouts.

use crate::gateway::route::Parent;
use crate::gateway::{HttpRoute, ReferenceGrant};
use crate::istio::host;
use crate::istio::objects::{DestinationRule, Subset, VirtualService};
use crate::objects::Snapshot;
use crate::objects::k8s::{PodGroup, Service, USE_WAYPOINT};
use crate::objects::meta::{Kind, Labels, ObjectRef, selects};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub struct Index<'a> {
    domain: String,
    /// VirtualServices by resolved host, oldest first: for sidecars Istio applies only the oldest one.
    pub vs_by_host: BTreeMap<String, Vec<&'a VirtualService>>,
    services: HashMap<(&'a str, &'a str), &'a Service>,
    /// DestinationRules with their resolved hosts, in listing order.
    pub drs: Vec<(String, &'a DestinationRule)>,
    drs_by_host: HashMap<String, Vec<&'a DestinationRule>>,
    wildcard_drs: Vec<(String, &'a DestinationRule)>,
    pub pods_by_ns: HashMap<&'a str, Vec<&'a PodGroup>>,
    /// Pods by their `app` label, in listing order: a caller app's versions, found without a scan per host.
    pods_by_app: HashMap<&'a str, Vec<&'a PodGroup>>,
    /// DestinationRules (with their resolved hosts) by the `app` their host's Service selects.
    drs_by_app: HashMap<&'a str, Vec<(String, &'a DestinationRule)>>,
    /// Every Rollout, to tell Rollout-owned pods from Deployment-owned ones.
    rollouts: HashSet<ObjectRef>,
    /// HTTPRoutes by the host they route: a Service parent's host (mesh), or a Gateway route's hostnames.
    pub routes_by_host: BTreeMap<String, Vec<Attached<'a>>>,
    gateways: HashSet<ObjectRef>,
    grants: Vec<&'a ReferenceGrant>,
    namespace_labels: HashMap<&'a str, &'a Labels>,
}

/// Where a waypoint serves a host's traffic, and which label says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waypoint {
    pub name: String,
    /// `Service/ns/name` or `Namespace/ns`: the object carrying `istio.io/use-waypoint`.
    pub labelled: String,
}

/// An HTTPRoute attached to a host through one of its parents.
#[derive(Clone, Debug)]
pub struct Attached<'a> {
    pub route: &'a HttpRoute,
    /// Which of `spec.parentRefs`.
    pub parent_index: usize,
    pub parent: Parent,
}

impl<'a> Index<'a> {
    pub fn new(snap: &'a Snapshot, domain: &str) -> Self {
        let mut vs_by_host: BTreeMap<String, Vec<&VirtualService>> = BTreeMap::new();
        for vs in &snap.virtual_services {
            for h in vs.resolved_hosts(domain) {
                vs_by_host.entry(h).or_default().push(vs);
            }
        }
        for list in vs_by_host.values_mut() {
            list.sort_by(|a, b| age(a).cmp(&age(b)));
        }
        let services: HashMap<(&str, &str), &Service> =
            snap.services.iter().map(|s| ((&*s.metadata.namespace, &*s.metadata.name), s)).collect();
        let drs: Vec<(String, &DestinationRule)> = snap
            .destination_rules
            .iter()
            .map(|dr| (host::resolve(&dr.spec.host, &dr.metadata.namespace, domain), dr))
            .collect();
        let mut drs_by_host: HashMap<String, Vec<&DestinationRule>> = HashMap::new();
        let mut wildcard_drs = Vec::new();
        for (h, dr) in &drs {
            if h.starts_with('*') {
                wildcard_drs.push((h.clone(), *dr));
            } else {
                drs_by_host.entry(h.clone()).or_default().push(*dr);
            }
        }
        let mut pods_by_ns: HashMap<&str, Vec<&PodGroup>> = HashMap::new();
        let mut pods_by_app: HashMap<&str, Vec<&PodGroup>> = HashMap::new();
        for pods in &snap.pods {
            pods_by_ns.entry(&pods.namespace).or_default().push(pods);
            if let Some(app) = pods.labels.get("app") {
                pods_by_app.entry(app).or_default().push(pods);
            }
        }
        let rollouts = snap
            .rollouts
            .iter()
            .map(|r| ObjectRef::new(Kind::Rollout, &r.metadata.namespace, &r.metadata.name))
            .chain(snap.unreadable.iter().filter(|u| u.object.kind == Kind::Rollout).map(|u| u.object.clone()))
            .collect();
        let mut routes_by_host: BTreeMap<String, Vec<Attached>> = BTreeMap::new();
        for route in &snap.http_routes {
            let ns = &route.metadata.namespace;
            for (parent_index, p) in route.spec.parent_refs.iter().enumerate() {
                let parent = p.resolve(ns);
                let hosts = match &parent {
                    Parent::Service { service, .. } => {
                        vec![format!("{}.{}.svc.{domain}", service.name, service.namespace)]
                    }
                    Parent::Gateway { .. } if route.spec.hostnames.is_empty() => vec!["*".to_string()],
                    Parent::Gateway { .. } => route.spec.hostnames.clone(),
                    Parent::Other { .. } => Vec::new(),
                };
                for h in hosts {
                    let list = routes_by_host.entry(h).or_default();
                    list.push(Attached { route, parent_index, parent: parent.clone() });
                }
            }
        }
        let gateways = snap.gateways.iter().map(|g| g.reference()).collect();
        let grants = snap.reference_grants.iter().collect();
        let namespace_labels = snap.namespaces.iter().map(|n| (n.metadata.name.as_str(), &n.metadata.labels)).collect();
        let mut drs_by_app: HashMap<&str, Vec<(String, &DestinationRule)>> = HashMap::new();
        for (h, dr) in &drs {
            let service =
                host::service_of(h, domain).and_then(|(name, ns)| services.get(&(ns.as_str(), name.as_str())).copied());
            let app = service.and_then(|s| s.spec.selector.as_ref()).and_then(|sel| sel.get("app"));
            if let Some(app) = app {
                drs_by_app.entry(app.as_str()).or_default().push((h.clone(), *dr));
            }
        }
        Self {
            domain: domain.to_string(),
            vs_by_host,
            services,
            drs,
            drs_by_host,
            wildcard_drs,
            pods_by_ns,
            pods_by_app,
            drs_by_app,
            rollouts,
            routes_by_host,
            gateways,
            grants,
            namespace_labels,
        }
    }

    /// The waypoint serving a Service host: the Service's `istio.io/use-waypoint` label, else its namespace's
    /// (`none` on the Service opts it out).
    pub fn waypoint(&self, host_name: &str) -> Option<Waypoint> {
        let (name, ns) = host::service_of(host_name, &self.domain)?;
        let service =
            self.services.get(&(ns.as_str(), name.as_str())).and_then(|s| s.metadata.labels.get(USE_WAYPOINT));
        match service.map(String::as_str) {
            Some("none") => None,
            Some(w) => Some(Waypoint { name: w.to_string(), labelled: format!("Service/{ns}/{name}") }),
            None => {
                let w = self.namespace_labels.get(ns.as_str())?.get(USE_WAYPOINT).filter(|w| *w != "none")?;
                Some(Waypoint { name: w.clone(), labelled: format!("Namespace/{ns}") })
            }
        }
    }

    pub fn has_gateway(&self, gateway: &ObjectRef) -> bool {
        self.gateways.contains(gateway)
    }

    /// Whether a ReferenceGrant in `to.namespace` lets HTTPRoutes of `from_namespace` refer to Service `to`.
    pub fn granted(&self, from_namespace: &str, to: &ObjectRef) -> bool {
        self.grants.iter().filter(|g| g.metadata.namespace == to.namespace).any(|g| {
            let from = g.spec.from.iter().any(|f| {
                f.group == crate::gateway::objects::GROUP && f.kind == "HTTPRoute" && f.namespace == from_namespace
            });
            let target =
                g.spec.to.iter().any(|t| {
                    t.group.is_empty() && t.kind == "Service" && t.name.as_ref().is_none_or(|n| *n == to.name)
                });
            from && target
        })
    }

    /// Every host some VirtualService or HTTPRoute routes.
    pub fn routed_hosts(&self) -> BTreeSet<&String> {
        self.vs_by_host.keys().chain(self.routes_by_host.keys()).collect()
    }

    /// The cluster DNS domain hosts resolve in.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The Service a host names, if it is a Service host that exists.
    pub fn service(&self, host_name: &str) -> Option<&'a Service> {
        let (name, ns) = host::service_of(host_name, &self.domain)?;
        self.services.get(&(ns.as_str(), name.as_str())).copied()
    }

    /// Pods labelled `app: <app>`, in listing order.
    pub fn pods_of_app(&self, app: &str) -> &[&'a PodGroup] {
        self.pods_by_app.get(app).map(Vec::as_slice).unwrap_or_default()
    }

    /// DestinationRules (and their resolved hosts) of the Services selecting `app: <app>`, in listing order.
    pub fn drs_of_app(&self, app: &str) -> &[(String, &'a DestinationRule)] {
        self.drs_by_app.get(app).map(Vec::as_slice).unwrap_or_default()
    }

    /// Whether Service `namespace/name` exists.
    pub fn has_service(&self, namespace: &str, name: &str) -> bool {
        self.services.contains_key(&(namespace, name))
    }

    /// DestinationRules for a host: exact host first, then wildcards covering it.
    pub fn drs_for(&self, host_name: &str) -> Vec<&'a DestinationRule> {
        let mut exact: Vec<_> = self.drs_by_host.get(host_name).cloned().unwrap_or_default();
        let wild = self.wildcard_drs.iter().filter(|(h, _)| host::matches(h, host_name)).map(|(_, d)| *d);
        exact.extend(wild);
        exact
    }

    /// The subset definition (and its rule) for `host/subset`, if any rule defines it.
    pub fn subset(&self, host_name: &str, subset: &str) -> Option<(&'a DestinationRule, &'a Subset)> {
        self.drs_for(host_name)
            .into_iter()
            .find_map(|dr| dr.spec.subsets.iter().find(|s| s.name == subset).map(|s| (dr, s)))
    }

    /// Pods of the host's Service, narrowed to a subset's labels; `None` without a Service selector.
    pub fn pods(&self, host_name: &str, subset_labels: &Labels) -> Option<Vec<&'a PodGroup>> {
        let svc = self.service(host_name)?;
        let selector = svc.spec.selector.as_ref().filter(|s| !s.is_empty())?;
        let pods = self.pods_by_ns.get(svc.metadata.namespace.as_str()).map(Vec::as_slice).unwrap_or_default();
        Some(
            pods.iter()
                .filter(|p| selects(selector, &p.labels) && selects(subset_labels, &p.labels))
                .copied()
                .collect(),
        )
    }

    pub fn is_rollout(&self, rollout: &ObjectRef) -> bool {
        self.rollouts.contains(rollout)
    }
}

/// Istio's precedence among VirtualServices for one host: the oldest first, then by namespace and name.
fn age(vs: &VirtualService) -> (&Option<String>, &String, &String) {
    (&vs.metadata.creation_timestamp, &vs.metadata.namespace, &vs.metadata.name)
}
