//! Version-consistency of call chains: for every host whose routes pin callers by version (`sourceLabels`
//! with the version label), simulate a request from each caller version and report any route that can send
//! it to another version of the callee, or the absence of any route for it.
//!
//! Who calls a pinned host: the apps named in its `sourceLabels` (their versions come from their pods and
//! subsets); when no app is named, any workload carrying each pinned version. A caller version the callee
//! does not have (say, only v1 is deployed) may go anywhere: that is a fallback, not a broken chain.

use super::Options;
use super::build::{Index, is_catch_all};
use super::findings::Code;
use super::host;
use super::model::{RouteView, ServiceView, StatusReport};
use super::objects::{HttpMatch, Labels, VirtualService, selects};
use std::collections::BTreeSet;

pub(super) fn check(idx: &Index, opts: &Options, report: &mut StatusReport) {
    for view in &mut report.services {
        let Some(vs) = idx.vs_by_host.get(&view.host).and_then(|l| l.iter().find(|vs| sidecar_bound(vs))) else {
            continue;
        };
        let matches: Vec<HttpMatch> = vs.spec.http.iter().flat_map(|r| &r.matches).map(HttpMatch::parse).collect();
        let key = opts.version_label.as_str();
        if !matches.iter().any(|m| m.source_labels.contains_key(key)) {
            continue;
        }
        view.version_pinned = true;
        let apps: BTreeSet<&str> =
            matches.iter().filter_map(|m| m.source_labels.get("app").map(String::as_str)).collect();
        let mut callers: Vec<Caller> = Vec::new();
        if apps.is_empty() {
            let pinned = matches.iter().filter_map(|m| m.source_labels.get(key));
            for v in pinned.chain(callee_versions(view, key).iter().map(|(v, _)| v)) {
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
        let object = format!("VirtualService/{}/{}", vs.metadata.namespace, vs.metadata.name);
        let callee = host::short(&view.host, idx.domain);
        let versions = callee_versions(view, key);
        for caller in callers {
            let expected: Vec<&str> =
                versions.iter().filter(|(v, _)| *v == caller.version).map(|(_, n)| n.as_str()).collect();
            if expected.is_empty() {
                continue;
            }
            let (reached, caught) = simulate(vs, &view.routes, &caller);
            let stray: Vec<String> = reached
                .iter()
                .filter(|(_, version, share)| *share > 0.0 && !expected.contains(&version.as_str()))
                .map(|(route, version, share)| format!("route {route} sends {share:.0}% to {version}"))
                .collect();
            if !stray.is_empty() {
                view.findings.push(Code::BrokenVersionChain.finding(
                    &object,
                    format!(
                        "caller {} can reach another version of {callee}: {}",
                        caller.describe(key),
                        stray.join(", ")
                    ),
                ));
            } else if !caught {
                view.findings.push(Code::BrokenVersionChain.finding(
                    &object,
                    format!(
                        "caller {} matches no route of {callee}: its requests are spread over every version",
                        caller.describe(key)
                    ),
                ));
            }
        }
    }
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

/// Sidecars apply VirtualServices bound to the mesh (no `gateways`, or `mesh` among them).
fn sidecar_bound(vs: &VirtualService) -> bool {
    vs.spec.gateways.is_empty() || vs.spec.gateways.iter().any(|g| g == "mesh")
}

/// `(version label value, version name)` of each subset version of the callee.
fn callee_versions(view: &ServiceView, key: &str) -> Vec<(String, String)> {
    view.versions
        .iter()
        .filter_map(|v| {
            let subset = v.subset.as_ref()?;
            Some((v.labels.get(key).cloned().unwrap_or_else(|| subset.clone()), v.name.clone()))
        })
        .collect()
}

/// The versions an app runs, from its pods (labels of a real pod make the best simulated caller) and from
/// the subsets of the Services selecting it (versions without pods yet).
fn app_versions(idx: &Index, app: &str, key: &str, fallback_ns: &str) -> Vec<Caller> {
    let mut callers: Vec<Caller> = Vec::new();
    let pods = idx.pods_by_ns.values().flatten().filter(|p| p.metadata.labels.get("app").is_some_and(|a| a == app));
    for pod in pods {
        let Some(version) = pod.metadata.labels.get(key) else { continue };
        if !callers.iter().any(|c| &c.version == version) {
            callers.push(Caller {
                app: Some(app.to_string()),
                version: version.clone(),
                labels: pod.metadata.labels.clone(),
                namespace: pod.metadata.namespace.clone(),
            });
        }
    }
    for (dr_host, dr) in &idx.drs {
        let selects_app = idx
            .service(dr_host)
            .and_then(|s| s.spec.selector.as_ref())
            .is_some_and(|s| s.get("app").is_some_and(|a| a == app));
        if !selects_app {
            continue;
        }
        for subset in &dr.spec.subsets {
            let Some(version) = subset.labels.get(key) else { continue };
            if !callers.iter().any(|c| &c.version == version) {
                let mut labels = subset.labels.clone();
                labels.insert("app".into(), app.into());
                let namespace =
                    host::service_of(dr_host, idx.domain).map_or_else(|| fallback_ns.to_string(), |(_, ns)| ns);
                callers.push(Caller { app: Some(app.to_string()), version: version.clone(), labels, namespace });
            }
        }
    }
    callers
}

/// Walks the routes in order for one caller: returns every `(route, version, share)` its requests may reach,
/// and whether some route certainly catches them (otherwise they fall through to plain load balancing).
fn simulate(vs: &VirtualService, routes: &[RouteView], caller: &Caller) -> (Vec<(String, String, f64)>, bool) {
    let vs_key = format!("{}/{}", vs.metadata.namespace, vs.metadata.name);
    let mut reached = Vec::new();
    for (index, route) in vs.spec.http.iter().enumerate() {
        let (mut certain, mut possible) = (is_catch_all(route), false);
        for m in route.matches.iter().map(HttpMatch::parse) {
            let from_caller = selects(&m.source_labels, &caller.labels)
                && m.source_namespace.as_ref().is_none_or(|ns| *ns == caller.namespace)
                && (m.gateways.is_empty() || m.gateways.iter().any(|g| g == "mesh"));
            if from_caller {
                if m.has_request_conditions() {
                    possible = true;
                } else {
                    certain = true;
                }
            }
        }
        if !(certain || possible) {
            continue;
        }
        if let Some(view) = routes.iter().find(|r| r.virtual_service == vs_key && r.index == index) {
            let label = view.name.clone().unwrap_or_else(|| format!("#{index}"));
            reached.extend(view.destinations.iter().map(|d| (label.clone(), d.version.clone(), d.weight_percent)));
        }
        if certain {
            return (reached, true);
        }
    }
    (reached, false)
}
