//! What an edit is validated against, taken from the read model: the routed host, the VirtualService that
//! routes it, its versions with their ready pods, the Rollouts that own routes in it, and (for `pin`) the
//! DestinationRule that can receive new subsets.

use super::EditError;
use super::object;
use crate::rollouts::{IstioOwnership, Rollout};
use crate::routes::objects::{DestinationRule, Labels, VirtualService, selects};
use crate::routes::{self, Options, PodCount, Scope, ServiceView, Snapshot, host};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt;

/// What the user asked to edit, and how to read names.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The service as typed: `reviews`, `reviews.prod`, an FQDN or a gateway host.
    pub service: &'a str,
    /// The command's namespace: short names typed by the user resolve in it.
    pub namespace: &'a str,
    /// `--virtual-service`, when several VirtualServices route the host.
    pub virtual_service: Option<&'a str>,
    pub domain: &'a str,
    pub version_label: &'a str,
    /// When the edit happens (recorded in the history); the core never reads the clock itself.
    pub now: Timestamp,
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
    /// Rollouts could not be listed (no permission), so ownership is unknown.
    pub rollouts_unknown: bool,
    pub now: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// One version a route can send traffic to: a subset of the host, or another Service host.
#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    /// As `status` names it: the subset (`v2`) or `service.namespace[/subset]`.
    pub name: String,
    pub host: String,
    pub subset: Option<String>,
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

    /// The read model's options for this request (what the snapshot must cover).
    pub fn options(&self) -> Options {
        Options {
            domain: self.domain.to_string(),
            version_label: self.version_label.to_string(),
            scope: Scope::Host { host: self.host(), input: self.service.to_string() },
        }
    }
}

impl Context {
    pub fn build(snap: &Snapshot, req: &Request) -> Result<Context, EditError> {
        let target = req.host();
        let report = routes::build(snap, &req.options())?;
        let Some(view) = report.services.iter().find(|s| s.host == target && !s.virtual_services.is_empty()) else {
            let routed_by = report.services.iter().filter(|s| s.host != target).map(|s| s.host.clone()).collect();
            return Err(EditError::NoVirtualService { host: target, routed_by });
        };
        let virtual_service = choose_virtual_service(view, req)?;
        let versions = view
            .versions
            .iter()
            .map(|v| Version {
                name: v.name.clone(),
                defined: match &v.subset {
                    Some(s) => subset_defined(snap, &v.host, s, req.domain),
                    None => service_exists(snap, &v.host, req.domain),
                },
                host: v.host.clone(),
                subset: v.subset.clone(),
                labels: v.labels.clone(),
                pods: v.pods,
            })
            .collect();
        let owners = snap
            .rollouts
            .iter()
            .filter_map(|r| Rollout::from_value(r).ok())
            .filter_map(|r| IstioOwnership::of(&r))
            .filter(|o| o.virtual_service(&virtual_service.namespace, &virtual_service.name).is_some())
            .collect();
        Ok(Context {
            destination_rule: exact_destination_rule(snap, &target, req.domain),
            pod_versions: pod_versions(snap, &target, req.domain, req.version_label),
            // The snapshot notes a forbidden Rollout listing instead of failing (see `cluster::snapshot`).
            rollouts_unknown: snap.partial.iter().any(|p| p.contains("rollouts.argoproj.io")),
            host: target,
            namespace: req.namespace.to_string(),
            domain: req.domain.to_string(),
            version_label: req.version_label.to_string(),
            virtual_service,
            versions,
            owners,
            now: req.now,
        })
    }

    /// `VirtualService prod/reviews`, for messages.
    pub fn vs_label(&self) -> String {
        format!("VirtualService {}", self.virtual_service)
    }

    /// The version a user means: a version name as `status` prints it, a subset of the host, or a Service host
    /// in any form (`reviews-v2`, `reviews-v2.prod`, the FQDN), optionally with `/subset`.
    pub fn version(&self, input: &str) -> Result<&Version, EditError> {
        let by_name = self.versions.iter().find(|v| v.name == input);
        let own_subset = || self.versions.iter().find(|v| v.host == self.host && v.subset.as_deref() == Some(input));
        let by_host = || {
            let (h, subset) = input.split_once('/').map_or((input, None), |(h, s)| (h, Some(s)));
            let resolved = host::resolve_user(h, &self.namespace, &self.domain);
            self.versions.iter().find(|v| v.host == resolved && v.subset.as_deref() == subset)
        };
        by_name.or_else(own_subset).or_else(by_host).ok_or_else(|| EditError::UnknownVersion {
            version: input.to_string(),
            host: host::short(&self.host, &self.domain),
            known: self.versions.iter().map(|v| v.name.clone()).collect(),
        })
    }

    /// The version a route destination goes to, if it is one of the known versions.
    pub fn version_of(&self, destination: &Value) -> Option<&Version> {
        let (h, subset) = object::destination_key(destination, &self.virtual_service.namespace, &self.domain);
        self.versions.iter().find(|v| v.host == h && v.subset == subset)
    }

    /// How a destination is named in messages: its version name, or what is written.
    pub fn name_of(&self, destination: &Value) -> String {
        match self.version_of(destination) {
            Some(v) => v.name.clone(),
            None => {
                let (h, subset) = object::destination_key(destination, &self.virtual_service.namespace, &self.domain);
                let h = host::short(&h, &self.domain);
                subset.map_or(h.clone(), |s| format!("{h}/{s}"))
            }
        }
    }

    /// A `destination` for version `v`: a copy of a sibling destination of the same host when the route has
    /// one (keeping its port and host spelling), else the short host name when the Service lives in the
    /// VirtualService's namespace, else the full name (Istio reads `reviews.prod` literally, not as a Service).
    pub fn destination(&self, v: &Version, siblings: &[Value]) -> Value {
        let ns = &self.virtual_service.namespace;
        let sibling = siblings
            .iter()
            .map(|d| &d["destination"])
            .find(|d| d.is_object() && object::destination_key(d, ns, &self.domain).0 == v.host);
        let mut dest = match sibling {
            Some(d) => d.clone(),
            None => match host::service_of(&v.host, &self.domain) {
                Some((name, svc_ns)) if &svc_ns == ns => json!({"host": name}),
                _ => json!({"host": v.host}),
            },
        };
        match &v.subset {
            Some(s) => dest["subset"] = json!(s),
            None => {
                dest.as_object_mut().map(|d| d.remove("subset"));
            }
        }
        dest
    }

    /// The defined subsets of the host, each with the version-label value its callers carry: the subset's own
    /// label, else its name (the chain check in `routes` reads versions the same way).
    pub fn subset_versions(&self) -> Vec<(String, &Version)> {
        self.versions
            .iter()
            .filter(|v| v.host == self.host && v.defined)
            .filter_map(|v| {
                let subset = v.subset.as_ref()?;
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

/// The snapshot with one object replaced by (or extended with) a fresher copy read for the write, so the
/// context of every write attempt describes the very object being transformed.
pub fn with_object(snap: &Snapshot, obj: &Value) -> Result<Snapshot, EditError> {
    let malformed = |e: serde_json::Error| EditError::Malformed {
        object: object::describe(obj),
        field: "spec".into(),
        reason: format!("cannot be read: {e}"),
    };
    let mut snap = snap.clone();
    match obj["kind"].as_str() {
        Some("VirtualService") => {
            let vs: VirtualService = serde_json::from_value(obj.clone()).map_err(malformed)?;
            let same = |o: &VirtualService| {
                o.metadata.namespace == vs.metadata.namespace && o.metadata.name == vs.metadata.name
            };
            snap.virtual_services.retain(|o| !same(o));
            snap.virtual_services.push(vs);
        }
        Some("DestinationRule") => {
            let dr: DestinationRule = serde_json::from_value(obj.clone()).map_err(malformed)?;
            let same = |o: &DestinationRule| {
                o.metadata.namespace == dr.metadata.namespace && o.metadata.name == dr.metadata.name
            };
            snap.destination_rules.retain(|o| !same(o));
            snap.destination_rules.push(dr);
        }
        other => {
            return Err(EditError::Malformed {
                object: object::describe(obj),
                field: "kind".into(),
                reason: format!("is {other:?}, expected VirtualService or DestinationRule"),
            });
        }
    }
    Ok(snap)
}

fn choose_virtual_service(view: &ServiceView, req: &Request) -> Result<ObjectRef, EditError> {
    let candidates = &view.virtual_services;
    let picked: Vec<&String> = match req.virtual_service {
        Some(wanted) => candidates
            .iter()
            .filter(|c| *c == wanted || c.split_once('/').is_some_and(|(_, name)| name == wanted))
            .collect(),
        None if candidates.len() == 1 => candidates.iter().collect(),
        None => candidates.iter().filter(|c| c.split_once('/').is_some_and(|(ns, _)| ns == req.namespace)).collect(),
    };
    match (picked.as_slice(), req.virtual_service) {
        ([one], _) => {
            let (namespace, name) = one.split_once('/').unwrap_or_default();
            Ok(ObjectRef { namespace: namespace.to_string(), name: name.to_string() })
        }
        ([], Some(wanted)) => Err(EditError::UnknownVirtualService {
            host: view.host.clone(),
            wanted: wanted.to_string(),
            candidates: candidates.clone(),
        }),
        _ => Err(EditError::AmbiguousVirtualService { host: view.host.clone(), candidates: candidates.clone() }),
    }
}

fn subset_defined(snap: &Snapshot, target: &str, subset: &str, domain: &str) -> bool {
    snap.destination_rules.iter().any(|dr| {
        host::matches(&host::resolve(&dr.spec.host, &dr.metadata.namespace, domain), target)
            && dr.spec.subsets.iter().any(|s| s.name == subset)
    })
}

fn service_exists(snap: &Snapshot, target: &str, domain: &str) -> bool {
    host::service_of(target, domain)
        .is_none_or(|(name, ns)| snap.services.iter().any(|s| s.metadata.name == name && s.metadata.namespace == ns))
}

/// The DestinationRule whose host is exactly `target`, preferring one in the Service's namespace. Wildcard
/// rules are left alone: a subset added there would apply to other hosts too.
fn exact_destination_rule(snap: &Snapshot, target: &str, domain: &str) -> Option<ObjectRef> {
    let home = host::service_of(target, domain).map(|(_, ns)| ns);
    let mut exact: Vec<&DestinationRule> = snap
        .destination_rules
        .iter()
        .filter(|dr| host::resolve(&dr.spec.host, &dr.metadata.namespace, domain) == target)
        .collect();
    exact.sort_by_key(|dr| Some(&dr.metadata.namespace) != home.as_ref());
    exact.first().map(|dr| ObjectRef { namespace: dr.metadata.namespace.clone(), name: dr.metadata.name.clone() })
}

fn pod_versions(snap: &Snapshot, target: &str, domain: &str, label: &str) -> BTreeMap<String, PodCount> {
    let mut counts: BTreeMap<String, PodCount> = BTreeMap::new();
    let Some((name, ns)) = host::service_of(target, domain) else { return counts };
    let selector = snap
        .services
        .iter()
        .find(|s| s.metadata.name == name && s.metadata.namespace == ns)
        .and_then(|s| s.spec.selector.as_ref())
        .filter(|s| !s.is_empty());
    let Some(selector) = selector else { return counts };
    let pods = snap.pods.iter().filter(|p| p.metadata.namespace == ns && selects(selector, &p.metadata.labels));
    for pod in pods {
        if let Some(value) = pod.metadata.labels.get(label) {
            let count = counts.entry(value.clone()).or_default();
            count.total += 1;
            count.ready += usize::from(pod.is_ready());
        }
    }
    counts
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::routes::objects::{Meta, Pod, PodCondition, PodStatus, Service, ServiceSpec};
    use serde_json::json;

    /// Service `reviews` in `prod` with subsets v1 and v2, each with `ready` ready pods, and `vs` as its
    /// VirtualService.
    pub fn snapshot(vs: Value, ready: &[(&str, usize)]) -> Snapshot {
        let dr = json!({"kind": "DestinationRule", "metadata": {"name": "reviews", "namespace": "prod"},
            "spec": {"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                                     {"name": "v2", "labels": {"version": "v2"}}]}});
        let mut snap = Snapshot {
            services: vec![Service {
                metadata: Meta { name: "reviews".into(), namespace: "prod".into(), ..Default::default() },
                spec: ServiceSpec { selector: Some(Labels::from([("app".into(), "reviews".into())])), type_: None },
            }],
            ..Default::default()
        };
        for (version, n) in ready {
            for i in 0..*n {
                snap.pods.push(pod(version, i, true));
            }
        }
        snap = with_object(&snap, &dr).unwrap();
        with_object(&snap, &vs).unwrap()
    }

    pub fn pod(version: &str, i: usize, ready: bool) -> Pod {
        Pod {
            metadata: Meta {
                name: format!("reviews-{version}-{i}"),
                namespace: "prod".into(),
                labels: Labels::from([("app".into(), "reviews".into()), ("version".into(), version.into())]),
                ..Default::default()
            },
            status: PodStatus {
                phase: Some("Running".into()),
                conditions: vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                }],
            },
        }
    }

    pub fn request() -> Request<'static> {
        Request {
            service: "reviews",
            namespace: "prod",
            virtual_service: None,
            domain: "cluster.local",
            version_label: "version",
            now: Timestamp::from_second(1_700_000_000).unwrap(),
        }
    }

    pub fn vs(http: Value) -> Value {
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
               "metadata": {"name": "reviews", "namespace": "prod", "resourceVersion": "7"},
               "spec": {"hosts": ["reviews"], "http": http}})
    }

    pub fn split_vs() -> Value {
        vs(json!([{"name": "primary", "route": [
            {"destination": {"host": "reviews", "subset": "v1"}, "weight": 100},
            {"destination": {"host": "reviews", "subset": "v2"}, "weight": 0}]}]))
    }

    #[test]
    fn versions_carry_definitions_and_ready_pods() {
        let ctx = Context::build(&snapshot(split_vs(), &[("v1", 2)]), &request()).unwrap();
        assert_eq!(ctx.virtual_service, ObjectRef { namespace: "prod".into(), name: "reviews".into() });
        assert_eq!(ctx.destination_rule, Some(ObjectRef { namespace: "prod".into(), name: "reviews".into() }));
        let v2 = ctx.version("v2").unwrap();
        assert!(v2.defined);
        assert_eq!(v2.pods, Some(PodCount { ready: 0, total: 0 }));
        assert_eq!(ctx.version("v1").unwrap().pods, Some(PodCount { ready: 2, total: 2 }));
        assert_eq!(ctx.version("reviews/v1").unwrap().name, "v1", "host/subset form");
        assert_eq!(ctx.version("reviews.prod.svc.cluster.local/v2").unwrap().name, "v2");
    }

    #[test]
    fn unknown_versions_list_the_known_ones() {
        let ctx = Context::build(&snapshot(split_vs(), &[]), &request()).unwrap();
        let err = ctx.version("v3").unwrap_err();
        assert_eq!(err.to_string(), "reviews.prod has no version \"v3\"; known versions: v1, v2");
    }

    #[test]
    fn a_host_without_virtual_service_is_refused_naming_who_routes_it() {
        let gateway = json!({"kind": "VirtualService", "metadata": {"name": "gw", "namespace": "prod"},
            "spec": {"hosts": ["shop.example.com"], "gateways": ["public"],
                     "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]}});
        let mut snap = snapshot(split_vs(), &[]);
        snap.virtual_services.clear();
        let snap = with_object(&snap, &gateway).unwrap();
        let err = Context::build(&snap, &request()).unwrap_err();
        assert_eq!(
            err,
            EditError::NoVirtualService {
                host: "reviews.prod.svc.cluster.local".into(),
                routed_by: vec!["shop.example.com".into()]
            }
        );
    }

    #[test]
    fn several_virtual_services_need_a_choice() {
        let mut other = split_vs();
        other["metadata"]["name"] = json!("reviews-too");
        let snap = with_object(&snapshot(split_vs(), &[]), &other).unwrap();
        let err = Context::build(&snap, &request()).unwrap_err();
        assert!(matches!(err, EditError::AmbiguousVirtualService { .. }), "{err}");
        let req = Request { virtual_service: Some("reviews-too"), ..request() };
        assert_eq!(Context::build(&snap, &req).unwrap().virtual_service.name, "reviews-too");
        let req = Request { virtual_service: Some("nope"), ..request() };
        assert!(matches!(Context::build(&snap, &req), Err(EditError::UnknownVirtualService { .. })));
    }

    #[test]
    fn pod_versions_without_a_subset_are_found() {
        let mut snap = snapshot(split_vs(), &[("v1", 1)]);
        snap.pods.push(pod("v3", 0, true));
        let ctx = Context::build(&snap, &request()).unwrap();
        assert_eq!(ctx.versions_without_subset(), vec!["v3".to_string()]);
        let values: Vec<String> = ctx.subset_versions().into_iter().map(|(v, _)| v).collect();
        assert_eq!(values, vec!["v1", "v2"]);
    }

    #[test]
    fn forbidden_rollout_listing_makes_ownership_unknown() {
        let mut snap = snapshot(split_vs(), &[]);
        snap.partial.push("cannot list rollouts.argoproj.io: Rollout ownership is not shown".into());
        assert!(Context::build(&snap, &request()).unwrap().rollouts_unknown);
    }
}
