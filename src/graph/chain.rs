//! Version-consistency of call chains: for every host whose routes pin callers by version (`sourceLabels`
//! with the version label), simulate a request from each caller version and report any route that can send
//! it to another version of the callee, or the absence of any route for it.
//!
//! Who calls a pinned host: the apps named in its `sourceLabels` (their versions come from their pods and
//! subsets); when no app is named, any workload carrying each pinned version. A caller version the callee
//! does not have (say, only v1 is deployed) may go anywhere: that is a fallback, not a broken chain.

use super::findings::Code;
use super::index::Index;
use super::{HostNode, Options, RouteGraph};
use crate::istio::VirtualService;
use crate::istio::host;
use crate::istio::route::Applies;
use crate::objects::Labels;
use std::collections::BTreeSet;

pub(super) fn check(idx: &Index, opts: &Options, graph: &mut RouteGraph) {
    let key = opts.version_label.as_str();
    for node in &mut graph.hosts {
        match node.virtual_services.iter().copied().find(|vs| vs.mesh_bound()) {
            Some(vs) if label_pinned(vs, key) => by_labels(idx, key, vs, node),
            Some(vs) => super::header_pin::check_routes(idx, key, vs, node),
            None => super::header_pin::check_rules(idx, key, node),
        }
    }
}

fn label_pinned(vs: &VirtualService, key: &str) -> bool {
    vs.spec.http.iter().flat_map(|r| &r.matches).any(|m| m.typed.source_labels.contains_key(key))
}

/// The chain check of a host pinned by `sourceLabels`.
fn by_labels(idx: &Index, key: &str, vs: &VirtualService, node: &mut HostNode) {
    let blocks = || vs.spec.http.iter().flat_map(|r| &r.matches).map(|m| &m.typed);
    node.version_pinned = true;
    // A waypoint applies the VirtualService without the caller's identity: `sourceLabels` never match
    // there, so no chain through this host is pinned, whatever the routes say.
    if let Some(w) = idx.waypoint(&node.host) {
        node.findings.push(Code::WaypointIgnoresSourceLabels.finding(
            vs.reference().to_string(),
            format!(
                "{} pins callers by sourceLabels, but waypoint {} serves {} ({} has istio.io/use-waypoint): \
                 waypoints ignore sourceLabels, so a caller at one version can reach any version; pin by a \
                 header the callers propagate instead: `kubectl vroute pin {} --header x-version`",
                vs.reference().label(),
                w.name,
                host::short(&node.host, idx.domain()),
                w.labelled,
                host::service_of(&node.host, idx.domain()).map_or_else(|| node.host.clone(), |(name, _)| name)
            ),
        ));
        return;
    }
    let apps: BTreeSet<&str> = blocks().filter_map(|m| m.source_labels.get("app").map(String::as_str)).collect();
    let mut callers: Vec<Caller> = Vec::new();
    if apps.is_empty() {
        let pinned = blocks().filter_map(|m| m.source_labels.get(key));
        for v in pinned.chain(callee_versions(node, key).iter().map(|(v, _)| v)) {
            let labels = Labels::from([(key.to_string(), v.clone())]);
            let caller = Caller { app: None, version: v.clone(), labels, namespace: vs.metadata.namespace.clone() };
            if !callers.iter().any(|c| c.version == caller.version) {
                callers.push(caller);
            }
        }
    } else {
        for app in apps {
            callers.extend(app_versions(idx, app, key, &vs.metadata.namespace));
        }
    }
    let object = vs.reference().to_string();
    let callee = host::short(&node.host, idx.domain());
    let versions = callee_versions(node, key);
    let mut findings = Vec::new();
    for caller in callers {
        let expected: Vec<&str> =
            versions.iter().filter(|(v, _)| *v == caller.version).map(|(_, n)| n.as_str()).collect();
        if expected.is_empty() {
            continue;
        }
        let (reached, caught) = simulate(vs, node, &caller);
        let stray: Vec<String> = reached
            .iter()
            .filter(|(_, version, share)| *share > 0.0 && !expected.contains(&version.as_str()))
            .map(|(route, version, share)| format!("route {route} sends {share:.0}% to {version}"))
            .collect();
        let message = if !stray.is_empty() {
            format!("caller {} can reach another version of {callee}: {}", caller.describe(key), stray.join(", "))
        } else if !caught {
            format!(
                "caller {} matches no route of {callee}: its requests are spread over every version",
                caller.describe(key)
            )
        } else {
            continue;
        };
        findings.push(Code::BrokenVersionChain.finding(&object, message));
    }
    node.findings.extend(findings);
}

struct Caller {
    app: Option<String>,
    version: String,
    labels: Labels,
    namespace: String,
}

impl Caller {
    fn describe(&self, key: &str) -> String {
        match &self.app {
            Some(app) => format!("{app} ({key}={})", self.version),
            None => format!("{key}={}", self.version),
        }
    }
}

/// `(version label value, version name)` of each subset version of the callee.
pub(super) fn callee_versions(node: &HostNode, key: &str) -> Vec<(String, String)> {
    node.versions
        .iter()
        .filter_map(|v| {
            let subset = v.key.subset.as_ref()?;
            Some((v.labels.get(key).cloned().unwrap_or_else(|| subset.clone()), v.name.clone()))
        })
        .collect()
}

/// The versions an app runs, from its pods (labels of a real pod make the best simulated caller) and from
/// the subsets of the Services selecting it (versions without pods yet).
fn app_versions(idx: &Index, app: &str, key: &str, fallback_ns: &str) -> Vec<Caller> {
    let mut callers: Vec<Caller> = Vec::new();
    for pod in idx.pods_of_app(app) {
        let Some(version) = pod.labels.get(key) else { continue };
        if !callers.iter().any(|c| &c.version == version) {
            callers.push(Caller {
                app: Some(app.to_string()),
                version: version.clone(),
                labels: pod.labels.clone(),
                namespace: pod.namespace.clone(),
            });
        }
    }
    for (dr_host, dr) in idx.drs_of_app(app) {
        for subset in &dr.spec.subsets {
            let Some(version) = subset.labels.get(key) else { continue };
            if !callers.iter().any(|c| &c.version == version) {
                let mut labels = subset.labels.clone();
                labels.insert("app".into(), app.into());
                let namespace =
                    host::service_of(dr_host, idx.domain()).map_or_else(|| fallback_ns.to_string(), |(_, ns)| ns);
                callers.push(Caller { app: Some(app.to_string()), version: version.clone(), labels, namespace });
            }
        }
    }
    callers
}

/// Walks the routes of `vs` in order for one caller: returns every `(route, version, share)` its requests
/// may reach, and whether some route certainly catches them (otherwise they fall through to plain load
/// balancing).
fn simulate(vs: &VirtualService, node: &HostNode, caller: &Caller) -> (Vec<(String, String, f64)>, bool) {
    let mut reached = Vec::new();
    for route in node.routes.iter().filter(|r| std::ptr::eq(r.vs, vs)) {
        let applies = route.route.applies_to(&caller.labels, &caller.namespace);
        if applies == Applies::Never {
            continue;
        }
        let label = route.route.name.clone().unwrap_or_else(|| format!("#{}", route.index));
        reached.extend(route.destinations.iter().map(|d| (label.clone(), d.version.clone(), d.share)));
        if applies == Applies::Always {
            return (reached, true);
        }
    }
    (reached, false)
}
