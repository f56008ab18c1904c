//! Snapshot -> per-host views. One pass builds indexes; each host's view is then assembled from them.

use super::findings::Code;
use super::host;
use super::model::*;
use super::objects::{DestinationRule, HttpRoute, Pod, Service, Subset, VirtualService, selects};
use super::render_match;
use super::{ModelError, Options, Scope, Snapshot};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Lookup tables over a snapshot, built once.
pub(super) struct Index<'a> {
    pub domain: &'a str,
    /// VirtualServices by resolved host, oldest first: for sidecars Istio applies only the oldest one.
    pub vs_by_host: BTreeMap<String, Vec<&'a VirtualService>>,
    pub services: HashMap<(&'a str, &'a str), &'a Service>,
    /// DestinationRules with their resolved hosts.
    pub drs: Vec<(String, &'a DestinationRule)>,
    /// The same, by exact host, and the wildcard ones apart: lookups stay O(1) per host on big meshes.
    drs_by_host: HashMap<String, Vec<&'a DestinationRule>>,
    wildcard_drs: Vec<(String, &'a DestinationRule)>,
    pub pods_by_ns: HashMap<&'a str, Vec<&'a Pod>>,
    /// `namespace/name` of every Rollout, to tell Rollout-owned pods from Deployment-owned ones.
    pub rollout_names: BTreeSet<String>,
}

impl<'a> Index<'a> {
    pub fn new(snap: &'a Snapshot, domain: &'a str) -> Self {
        let mut vs_by_host: BTreeMap<String, Vec<&VirtualService>> = BTreeMap::new();
        for vs in &snap.virtual_services {
            let ns = &vs.metadata.namespace;
            let hosts: BTreeSet<String> = vs.spec.hosts.iter().map(|h| host::resolve(h, ns, domain)).collect();
            for h in hosts {
                vs_by_host.entry(h).or_default().push(vs);
            }
        }
        for list in vs_by_host.values_mut() {
            list.sort_by(|a, b| {
                (&a.metadata.creation_timestamp, &a.metadata.namespace, &a.metadata.name).cmp(&(
                    &b.metadata.creation_timestamp,
                    &b.metadata.namespace,
                    &b.metadata.name,
                ))
            });
        }
        let services = snap.services.iter().map(|s| ((&*s.metadata.namespace, &*s.metadata.name), s)).collect();
        let drs: Vec<(String, &DestinationRule)> = snap
            .destination_rules
            .iter()
            .map(|dr| (host::resolve(&dr.spec.host, &dr.metadata.namespace, domain), dr))
            .collect();
        let mut pods_by_ns: HashMap<&str, Vec<&Pod>> = HashMap::new();
        for pod in &snap.pods {
            pods_by_ns.entry(&pod.metadata.namespace).or_default().push(pod);
        }
        let rollout_names = snap
            .rollouts
            .iter()
            .filter_map(|r| {
                Some(format!("{}/{}", r["metadata"]["namespace"].as_str()?, r["metadata"]["name"].as_str()?))
            })
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
        Self { domain, vs_by_host, services, drs, drs_by_host, wildcard_drs, pods_by_ns, rollout_names }
    }

    pub fn service(&self, host_name: &str) -> Option<&'a Service> {
        let (name, ns) = host::service_of(host_name, self.domain)?;
        self.services.get(&(ns.as_str(), name.as_str())).copied()
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
    pub fn pods(&self, host_name: &str, subset_labels: &BTreeMap<String, String>) -> Option<Vec<&'a Pod>> {
        let svc = self.service(host_name)?;
        let selector = svc.spec.selector.as_ref().filter(|s| !s.is_empty())?;
        let pods = self.pods_by_ns.get(svc.metadata.namespace.as_str()).map(Vec::as_slice).unwrap_or_default();
        Some(
            pods.iter()
                .filter(|p| selects(selector, &p.metadata.labels) && selects(subset_labels, &p.metadata.labels))
                .copied()
                .collect(),
        )
    }
}

pub fn build(snap: &Snapshot, opts: &Options) -> Result<StatusReport, ModelError> {
    let idx = Index::new(snap, &opts.domain);
    let hosts = select_hosts(&idx, snap, opts)?;
    let mut report = StatusReport {
        services: hosts.iter().map(|h| service_view(&idx, h)).collect(),
        findings: snap.partial.iter().map(|p| Code::PartialListing.finding("", p.clone())).collect(),
    };
    super::chain::check(&idx, opts, &mut report);
    super::rollout::attach(&snap.rollouts, &snap.virtual_services, &mut report);
    Ok(report)
}

/// Namespaces whose Services and Pods the views of the selected hosts read (the hosts' own, and those of
/// their routes' destinations), so the cluster layer can fetch exactly those and no more.
pub fn needed_namespaces(snap: &Snapshot, opts: &Options) -> BTreeSet<String> {
    let idx = Index::new(snap, &opts.domain);
    let mut hosts = select_hosts(&idx, snap, opts).unwrap_or_default();
    if let Scope::Host { host, .. } = &opts.scope {
        hosts.push(host.clone());
    }
    let vss = hosts.iter().filter_map(|h| idx.vs_by_host.get(h)).flatten();
    let dests = vss.flat_map(|vs| destination_hosts(vs, idx.domain).collect::<Vec<_>>());
    hosts.iter().cloned().chain(dests).filter_map(|h| host::service_of(&h, idx.domain).map(|(_, ns)| ns)).collect()
}

/// Resolved destination hosts of every route of a VirtualService.
fn destination_hosts<'v>(vs: &'v VirtualService, domain: &'v str) -> impl Iterator<Item = String> + 'v {
    let ns = &vs.metadata.namespace;
    vs.spec.http.iter().flat_map(|r| r.route.iter()).map(move |d| host::resolve(&d.destination.host, ns, domain))
}

fn select_hosts(idx: &Index, snap: &Snapshot, opts: &Options) -> Result<Vec<String>, ModelError> {
    let domain = idx.domain;
    let in_namespace = |h: &str, ns: &str| host::service_of(h, domain).is_some_and(|(_, n)| n == ns);
    let selected: Vec<String> = idx
        .vs_by_host
        .iter()
        .filter(|(h, vss)| match &opts.scope {
            Scope::All => true,
            Scope::Namespace(ns) => {
                in_namespace(h, ns)
                    || vss.iter().any(|vs| &vs.metadata.namespace == ns)
                    || vss.iter().any(|vs| destination_hosts(vs, domain).any(|d| in_namespace(&d, ns)))
            }
            Scope::Host { host: target, .. } => {
                *h == target || vss.iter().any(|vs| destination_hosts(vs, domain).any(|d| &d == target))
            }
        })
        .map(|(h, _)| h.clone())
        .collect();
    match &opts.scope {
        Scope::Host { host: target, input } if selected.is_empty() => {
            if idx.service(target).is_some() {
                Ok(vec![target.clone()])
            } else {
                Err(ModelError::UnknownService {
                    input: input.clone(),
                    host: target.clone(),
                    suggestions: suggestions(input, idx, snap),
                })
            }
        }
        _ => Ok(selected),
    }
}

/// Up to three known names close to what the user typed.
fn suggestions(input: &str, idx: &Index, snap: &Snapshot) -> Vec<String> {
    let mut candidates: BTreeSet<String> = snap.services.iter().map(|s| s.metadata.name.clone()).collect();
    candidates.extend(idx.vs_by_host.keys().map(|h| host::short(h, idx.domain)));
    close_names(input, candidates)
}

/// Up to three of `candidates` close to `input` (a typo away, or containing it), closest first. Only the first
/// DNS label of each is compared: `reviews.prod` is close to `reveiws`.
pub fn close_names(input: &str, candidates: impl IntoIterator<Item = String>) -> Vec<String> {
    let wanted = input.split('.').next().unwrap_or(input);
    let mut scored: Vec<(usize, String)> = candidates
        .into_iter()
        .map(|c| (edit_distance(wanted, c.split('.').next().unwrap_or(&c)), c))
        .filter(|(d, c)| *d <= 2.max(wanted.len() / 3) || c.contains(wanted))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// A route with no match, or with an empty match block, takes every request that reaches it.
pub(super) fn is_catch_all(route: &HttpRoute) -> bool {
    route.matches.is_empty() || route.matches.iter().any(|m| m.as_object().is_some_and(|o| o.is_empty()))
}

/// Effective shares in percent: Istio weights are relative, and a lone destination gets everything.
pub(super) fn shares(route: &HttpRoute) -> Vec<f64> {
    if route.route.len() == 1 {
        return vec![100.0];
    }
    let weights: Vec<i64> = route.route.iter().map(|d| d.weight.unwrap_or(0).max(0)).collect();
    let total: i64 = weights.iter().sum();
    weights.iter().map(|w| if total == 0 { 0.0 } else { *w as f64 * 100.0 / total as f64 }).collect()
}

fn vs_object(vs: &VirtualService) -> String {
    format!("VirtualService/{}/{}", vs.metadata.namespace, vs.metadata.name)
}

fn mesh_bound(vs: &VirtualService) -> bool {
    vs.spec.gateways.is_empty() || vs.spec.gateways.iter().any(|g| g == "mesh")
}

/// Names versions: subsets when one host is split, `service.namespace[/subset]` when several are.
struct Namer<'a> {
    domain: &'a str,
    multi_host: bool,
}

impl Namer<'_> {
    fn name(&self, host_name: &str, subset: Option<&str>) -> String {
        match (self.multi_host, subset) {
            (false, Some(s)) => s.to_string(),
            (false, None) => host::short(host_name, self.domain),
            (true, Some(s)) => format!("{}/{s}", host::short(host_name, self.domain)),
            (true, None) => host::short(host_name, self.domain),
        }
    }
}

fn service_view(idx: &Index, target: &str) -> ServiceView {
    let domain = idx.domain;
    let vss: &[&VirtualService] = idx.vs_by_host.get(target).map(|v| v.as_slice()).unwrap_or(&[]);
    let namespace = host::service_of(target, domain)
        .map(|(_, ns)| ns)
        .or_else(|| vss.first().map(|vs| vs.metadata.namespace.clone()))
        .unwrap_or_default();

    // Every (host, subset) routed or mirrored to, in order of first appearance.
    let mut keys: Vec<(String, Option<String>)> = Vec::new();
    for vs in vss {
        for r in &vs.spec.http {
            let dests = r
                .route
                .iter()
                .map(|d| &d.destination)
                .chain(r.mirror.iter())
                .chain(r.mirrors.iter().map(|m| &m.destination));
            for d in dests {
                let key = (host::resolve(&d.host, &vs.metadata.namespace, domain), d.subset.clone());
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
    }
    let dest_hosts: BTreeSet<&String> = keys.iter().map(|(h, _)| h).collect();
    let namer = Namer { domain, multi_host: dest_hosts.len() > 1 };
    let split = match (dest_hosts.len(), keys.iter().any(|(_, s)| s.is_some())) {
        (0, _) => SplitKind::None,
        (1, true) => SplitKind::Subset,
        (1, false) => SplitKind::None,
        (_, false) => SplitKind::Host,
        (_, true) => SplitKind::Mixed,
    };

    let mut findings = Vec::new();
    let mut routes = Vec::new();
    let mut unknown_hosts = BTreeSet::new();
    for (n, vs) in vss.iter().enumerate() {
        if n > 0 && mesh_bound(vs) && vss[..n].iter().any(|older| mesh_bound(older)) {
            findings.push(Code::DuplicateVirtualService.finding(
                vs_object(vs),
                format!("{} also claims host {target}; sidecars apply only {}", vs_object(vs), vs_object(vss[0])),
            ));
        }
        let mut caught = false;
        for (index, r) in vs.spec.http.iter().enumerate() {
            let view = route_view(vs, index, r, !caught, &namer, idx, &mut findings, &mut unknown_hosts);
            caught |= is_catch_all(r);
            routes.push(view);
        }
    }

    // Versions: what is routed to, then the host's own subsets nobody routes to yet.
    if split != SplitKind::Host {
        for dr in idx.drs_for(target) {
            for s in &dr.spec.subsets {
                let key = (target.to_string(), Some(s.name.clone()));
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
    }
    let versions: Vec<VersionView> = keys.iter().map(|(h, s)| version_view(idx, h, s.as_deref(), &namer)).collect();
    for v in &versions {
        if let Some(pods) = v.pods.filter(|p| p.ready == 0) {
            let routed = routes
                .iter()
                .filter(|r| r.reachable)
                .flat_map(|r| &r.destinations)
                .any(|d| d.version == v.name && d.weight_percent > 0.0);
            let code = if routed { Code::NoReadyPods } else { Code::IdleSubsetNoReadyPods };
            let what = if routed { "receives traffic but selects" } else { "selects" };
            findings.push(code.finding(
                host::object(&v.host, domain),
                format!(
                    "version {} of {} {what} no ready pods ({}/{})",
                    v.name,
                    host::short(&v.host, domain),
                    pods.ready,
                    pods.total
                ),
            ));
        }
    }
    duplicate_subsets(idx, target, &mut findings);

    ServiceView {
        host: target.to_string(),
        namespace,
        split,
        version_pinned: false,
        virtual_services: vss.iter().map(|vs| format!("{}/{}", vs.metadata.namespace, vs.metadata.name)).collect(),
        routes,
        versions,
        rollout: None,
        findings,
    }
}

#[allow(clippy::too_many_arguments)] // internal assembly step; a struct would only rename the same values
fn route_view(
    vs: &VirtualService,
    index: usize,
    r: &HttpRoute,
    reachable: bool,
    namer: &Namer,
    idx: &Index,
    findings: &mut Vec<Finding>,
    unknown_hosts: &mut BTreeSet<String>,
) -> RouteView {
    let domain = idx.domain;
    let ns = &vs.metadata.namespace;
    let label = r.name.clone().unwrap_or_else(|| format!("#{index}"));
    let object = vs_object(vs);
    let shares = shares(r);
    let mut destinations = Vec::new();
    let mut seen = BTreeSet::new();
    for (d, share) in r.route.iter().zip(&shares) {
        let h = host::resolve(&d.destination.host, ns, domain);
        let subset = d.destination.subset.clone();
        if let Some(s) = &subset
            && idx.subset(&h, s).is_none()
        {
            findings.push(Code::UnknownSubset.finding(
                &object,
                format!(
                    "route {label} sends {share:.0}% to subset {s} of {}, which no DestinationRule defines",
                    host::short(&h, domain)
                ),
            ));
        }
        if host::service_of(&h, domain).is_some() && idx.service(&h).is_none() && unknown_hosts.insert(h.clone()) {
            findings.push(
                Code::UnknownHost.finding(&object, format!("route {label} sends traffic to {h}, which has no Service")),
            );
        }
        if !seen.insert((h.clone(), subset.clone())) {
            findings.push(
                Code::DuplicateDestination
                    .finding(&object, format!("route {label} lists {} twice", namer.name(&h, subset.as_deref()))),
            );
        }
        destinations.push(DestinationView {
            version: namer.name(&h, subset.as_deref()),
            host: h,
            subset,
            weight: d.weight,
            weight_percent: *share,
        });
    }
    if let [only] = r.route.as_slice()
        && let Some(w) = only.weight.filter(|w| *w > 0 && *w < 100)
    {
        findings.push(Code::PartialSingleWeight.finding(
            &object,
            format!("route {label} has a single destination with weight {w}: it still receives 100%"),
        ));
    }
    if r.route.len() > 1 && shares.iter().all(|s| *s == 0.0) {
        findings.push(Code::ZeroTotalWeight.finding(&object, format!("route {label}: all destination weights are 0")));
    }
    if !reachable {
        findings.push(Code::UnreachableRoute.finding(
            &object,
            format!("route {label} comes after a route that matches every request: it never applies"),
        ));
    }
    let mirror = r.mirror.as_ref().map(|m| {
        (m, r.mirror_percentage.as_ref().map(|p| p.value).or(r.mirror_percent.map(f64::from)).unwrap_or(100.0))
    });
    let mirror = mirror
        .or_else(|| r.mirrors.first().map(|m| (&m.destination, m.percentage.as_ref().map_or(100.0, |p| p.value))));
    RouteView {
        virtual_service: format!("{ns}/{}", vs.metadata.name),
        index,
        name: r.name.clone(),
        matches: r.matches.clone(),
        match_summary: render_match::summary(&r.matches),
        destinations,
        mirror: mirror.map(|(d, percent)| {
            let h = host::resolve(&d.host, ns, domain);
            MirrorView { version: namer.name(&h, d.subset.as_deref()), host: h, subset: d.subset.clone(), percent }
        }),
        retries: r.retries.clone(),
        timeout: r.timeout.clone(),
        fault: r.fault.clone(),
        reachable,
        managed_by: None,
    }
}

fn version_view(idx: &Index, h: &str, subset: Option<&str>, namer: &Namer) -> VersionView {
    let def = subset.and_then(|s| idx.subset(h, s));
    let labels = def.map(|(_, s)| s.labels.clone()).unwrap_or_default();
    let outlier_detection = def.is_some_and(|(dr, s)| {
        s.traffic_policy.as_ref().is_some_and(|p| p.has_outlier_detection())
            || dr.spec.traffic_policy.as_ref().is_some_and(|p| p.has_outlier_detection())
    }) || (subset.is_none()
        && idx
            .drs_for(h)
            .first()
            .and_then(|dr| dr.spec.traffic_policy.as_ref())
            .is_some_and(|p| p.has_outlier_detection()));
    // A subset nobody defines selects nothing: count no pods rather than all of the Service's.
    let pods = if subset.is_some() && def.is_none() { Some(Vec::new()) } else { idx.pods(h, &labels) };
    let owners: BTreeSet<String> = pods
        .iter()
        .flatten()
        .filter_map(|p| {
            let owner = p.owner()?;
            let rollout = owner.strip_prefix("Deployment/").map(|n| format!("{}/{n}", p.metadata.namespace));
            Some(match rollout {
                Some(r) if idx.rollout_names.contains(&r) => format!("Rollout/{}", r.split_once('/').unwrap().1),
                _ => owner,
            })
        })
        .collect();
    VersionView {
        name: namer.name(h, subset),
        host: h.to_string(),
        subset: subset.map(str::to_string),
        labels,
        pods: pods.map(|p| PodCount { ready: p.iter().filter(|p| p.is_ready()).count(), total: p.len() }),
        outlier_detection,
        owners: owners.into_iter().collect(),
        traffic: None,
    }
}

fn duplicate_subsets(idx: &Index, target: &str, findings: &mut Vec<Finding>) {
    let mut defined: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for dr in idx.drs_for(target) {
        for s in &dr.spec.subsets {
            defined.entry(&s.name).or_default().push(format!("{}/{}", dr.metadata.namespace, dr.metadata.name));
        }
    }
    for (subset, rules) in defined.into_iter().filter(|(_, r)| r.len() > 1) {
        findings.push(Code::DuplicateSubset.finding(
            format!("DestinationRule/{}", rules[1]),
            format!(
                "subset {subset} of {} is defined by several DestinationRules: {}",
                host::short(target, idx.domain),
                rules.join(", ")
            ),
        ));
    }
}
