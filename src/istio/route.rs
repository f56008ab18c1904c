//! How Istio applies a VirtualService's http routes, in one place for the read model, the chain check and the
//! edits: which route catches every request, the effective share of each destination, what is mirrored, which
//! version a destination is, whether a VirtualService applies to sidecars, and whether a match block applies
//! to a given caller.

use super::host;
use super::objects::{Destination, HttpMatch, HttpRoute, StringMatch, VirtualService};
use crate::objects::meta::{Labels, selects};

/// A version a route can send traffic to: a host (resolved) and, for subset splits, a subset of it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersionKey {
    pub host: String,
    pub subset: Option<String>,
}

/// Names versions: subsets when one host is split, `service.namespace[/subset]` when several are.
pub struct Namer<'a> {
    pub domain: &'a str,
    pub multi_host: bool,
}

impl Namer<'_> {
    pub fn name(&self, key: &VersionKey) -> String {
        match (self.multi_host, key.subset.as_deref()) {
            (false, Some(s)) => s.to_string(),
            (true, Some(s)) => format!("{}/{s}", host::short(&key.host, self.domain)),
            (_, None) => host::short(&key.host, self.domain),
        }
    }
}

/// The version a destination written in namespace `ns` goes to; hosts resolve as Istio resolves them.
pub fn destination_key(destination: &Destination, ns: &str, domain: &str) -> VersionKey {
    VersionKey { host: host::resolve(&destination.host, ns, domain), subset: destination.subset.clone() }
}

impl HttpMatch {
    /// True when the block tests something about the request itself (not only who sends it): such a block
    /// may or may not apply to a given caller's request.
    pub fn has_request_conditions(&self) -> bool {
        self.uri.is_some()
            || self.scheme.is_some()
            || self.method.is_some()
            || self.authority.is_some()
            || !self.headers.is_empty()
            || !self.without_headers.is_empty()
            || !self.query_params.is_empty()
            || self.port.is_some()
    }

    /// True when the block has no condition at all, so it matches every request.
    pub fn is_unconditional(&self) -> bool {
        !self.has_request_conditions()
            && self.source_labels.is_empty()
            && self.source_namespace.is_none()
            && self.gateways.is_empty()
    }

    /// Whether the block's caller conditions (source labels, namespace, gateway) hold for a sidecar caller
    /// with these pod labels in this namespace. Request conditions are not looked at.
    pub fn from_caller(&self, labels: &Labels, namespace: &str) -> bool {
        selects(&self.source_labels, labels)
            && self.source_namespace.as_ref().is_none_or(|ns| ns == namespace)
            && (self.gateways.is_empty() || self.gateways.iter().any(|g| g == "mesh"))
    }
}

/// What a route's match does for one caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applies {
    /// Every request of the caller matches.
    Always,
    /// Some requests may match (the block also tests the request).
    Sometimes,
    Never,
}

impl HttpMatch {
    /// The `(header, value)` of a block that tests exactly one header for an exact value and nothing else,
    /// as `pin --header` writes them.
    pub fn header_pin(&self) -> Option<(&str, &str)> {
        let [(name, m)] = self.headers.iter().collect::<Vec<_>>()[..] else { return None };
        let mut rest = self.clone();
        rest.headers.clear();
        match m {
            StringMatch { exact: Some(v), prefix: None, regex: None } if rest.is_unconditional() => Some((name, v)),
            _ => None,
        }
    }
}

impl HttpRoute {
    /// What the route does for a mesh request carrying header `name: value`, from any caller: a block that
    /// tests the header for another exact value never applies; one with no other condition always does.
    pub fn for_header(&self, name: &str, value: &str) -> Applies {
        if self.matches.is_empty() {
            return Applies::Always;
        }
        let mut applies = Applies::Never;
        for m in self.matches.iter().map(|m| &m.typed) {
            if !(m.gateways.is_empty() || m.gateways.iter().any(|g| g == "mesh")) {
                continue;
            }
            let mut rest = m.clone();
            rest.gateways.clear();
            match rest.headers.remove(name) {
                Some(StringMatch { exact: Some(v), .. }) if v != value => continue,
                None | Some(StringMatch { exact: Some(_), prefix: None, regex: None }) if rest.is_unconditional() => {
                    return Applies::Always;
                }
                _ => applies = Applies::Sometimes,
            }
        }
        applies
    }

    /// A route with no match, or with a block without conditions, takes every request that reaches it.
    pub fn is_catch_all(&self) -> bool {
        self.matches.is_empty() || self.matches.iter().any(|m| m.typed.is_unconditional())
    }

    /// Whether this route applies to a sidecar caller with these labels, in this namespace.
    pub fn applies_to(&self, labels: &Labels, namespace: &str) -> Applies {
        if self.is_catch_all() {
            return Applies::Always;
        }
        let mut applies = Applies::Never;
        for m in self.matches.iter().map(|m| &m.typed).filter(|m| m.from_caller(labels, namespace)) {
            if !m.has_request_conditions() {
                return Applies::Always;
            }
            applies = Applies::Sometimes;
        }
        applies
    }

    /// Effective shares in percent, one per destination: Istio weights are relative, and a lone destination
    /// gets everything whatever its weight.
    pub fn shares(&self) -> Vec<f64> {
        if self.route.len() == 1 {
            return vec![100.0];
        }
        let weights: Vec<i64> = self.route.iter().map(|d| d.weight.unwrap_or(0).max(0)).collect();
        let total: i64 = weights.iter().sum();
        weights.iter().map(|w| if total == 0 { 0.0 } else { *w as f64 * 100.0 / total as f64 }).collect()
    }

    /// Every mirror target and the share of requests copied to it: `mirror` with `mirrorPercentage` (or the
    /// deprecated integer `mirrorPercent`; 100 when neither is set), then the `mirrors` list.
    pub fn mirrors(&self) -> Vec<(&Destination, f64)> {
        let single = self.mirror.as_ref().map(|m| {
            let percent = self.mirror_percentage.as_ref().map(|p| p.value).or(self.mirror_percent.map(f64::from));
            (m, percent.unwrap_or(100.0))
        });
        let listed = self.mirrors.iter().map(|m| (&m.destination, m.percentage.as_ref().map_or(100.0, |p| p.value)));
        single.into_iter().chain(listed).collect()
    }

    /// How `--route` and the versions annotation refer to a route: its name, or `#index`.
    pub fn key(&self, index: usize) -> String {
        crate::objects::meta::route_key(self.name.as_deref(), index)
    }

    /// `route "primary"`, or `route #2` for an unnamed one (the index `status` shows).
    pub fn label(&self, index: usize) -> String {
        match self.name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => format!("route {name:?}"),
            None => format!("route #{index}"),
        }
    }
}

impl VirtualService {
    /// Sidecars apply VirtualServices bound to the mesh (no `gateways`, or `mesh` among them).
    pub fn mesh_bound(&self) -> bool {
        self.spec.gateways.is_empty() || self.spec.gateways.iter().any(|g| g == "mesh")
    }

    /// The hosts it routes, resolved in its namespace, without repeats.
    pub fn resolved_hosts(&self, domain: &str) -> std::collections::BTreeSet<String> {
        self.spec.hosts.iter().map(|h| host::resolve(h, &self.metadata.namespace, domain)).collect()
    }

    /// Resolved destination hosts of every route.
    pub fn destination_hosts<'v>(&'v self, domain: &'v str) -> impl Iterator<Item = String> + 'v {
        let ns = &self.metadata.namespace;
        self.spec.http.iter().flat_map(|r| r.route.iter()).map(move |d| host::resolve(&d.destination.host, ns, domain))
    }

    /// The names of its http routes in order (`None` for an unnamed one): what Rollout route claims read.
    pub fn route_names(&self) -> Vec<Option<&str>> {
        self.spec.http.iter().map(|r| r.name.as_deref()).collect()
    }
}

/// `90`, or `33.3` when the share is not whole (edit messages): the people's number format.
pub fn percent(share: f64) -> String {
    crate::numbers::significant(share)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::parse::from_value;
    use serde_json::json;

    fn route(value: serde_json::Value) -> HttpRoute {
        from_value(&value).unwrap()
    }

    #[test]
    fn shares_are_relative_and_a_lone_destination_gets_everything() {
        let two = route(
            json!({"route": [{"destination": {"host": "a"}, "weight": 1}, {"destination": {"host": "b"}, "weight": 3}]}),
        );
        assert_eq!(two.shares(), vec![25.0, 75.0]);
        assert_eq!(route(json!({"route": [{"destination": {"host": "a"}, "weight": 10}]})).shares(), vec![100.0]);
        assert_eq!(route(json!({"route": [{"weight": 0}, {}]})).shares(), vec![0.0, 0.0]);
        assert_eq!(percent(100.0 / 3.0), "33.3");
        assert_eq!(percent(90.0), "90");
    }

    #[test]
    fn catch_all_routes_have_no_match_or_a_block_without_conditions() {
        assert!(route(json!({})).is_catch_all());
        assert!(route(json!({"match": [{"uri": {"prefix": "/"}}, {}]})).is_catch_all());
        assert!(route(json!({"match": [{"name": "everything", "ignoreUriCase": true}]})).is_catch_all());
        assert!(!route(json!({"match": [{"sourceLabels": {"version": "v1"}}]})).is_catch_all());
        assert!(!route(json!({"match": [{"gateways": ["public"]}]})).is_catch_all());
    }

    #[test]
    fn a_match_applies_to_a_caller_by_its_labels_namespace_and_requests() {
        let labels = Labels::from([("app".into(), "a".into()), ("version".into(), "v2".into())]);
        let pinned = route(json!({"match": [{"sourceLabels": {"version": "v2"}}]}));
        assert_eq!(pinned.applies_to(&labels, "shop"), Applies::Always);
        let other = route(json!({"match": [{"sourceLabels": {"version": "v1"}}]}));
        assert_eq!(other.applies_to(&labels, "shop"), Applies::Never);
        let header = route(json!({"match": [{"sourceLabels": {"app": "a"}, "headers": {"x": {"exact": "1"}}}]}));
        assert_eq!(header.applies_to(&labels, "shop"), Applies::Sometimes);
        let elsewhere = route(json!({"match": [{"sourceNamespace": "prod"}]}));
        assert_eq!(elsewhere.applies_to(&labels, "shop"), Applies::Never);
        let gateway = route(json!({"match": [{"gateways": ["public"]}]}));
        assert_eq!(gateway.applies_to(&labels, "shop"), Applies::Never);
    }

    #[test]
    fn mirrors_in_every_form() {
        let r = route(json!({"mirror": {"host": "a", "subset": "v2"}, "mirrorPercent": 5,
                             "mirrors": [{"destination": {"host": "b"}}]}));
        let got: Vec<(String, f64)> = r.mirrors().into_iter().map(|(d, p)| (d.host.clone(), p)).collect();
        assert_eq!(got, vec![("a".to_string(), 5.0), ("b".to_string(), 100.0)]);
        assert_eq!(route(json!({"name": "", "mirror": {"host": "a"}})).mirrors()[0].1, 100.0);
        assert_eq!(route(json!({"name": ""})).key(3), "#3");
        assert_eq!(route(json!({"name": "p"})).label(0), "route \"p\"");
    }
}
