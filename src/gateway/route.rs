//! How HTTPRoutes apply, per the Gateway API spec: what a parent reference and a backend reference point at,
//! each backend's effective share (relative weights, default 1), mirrors, and, unlike a VirtualService, rule
//! precedence by match specificity rather than document order.

use super::objects::{
    BackendRef, Condition, HttpRoute, Match, ParentRef, PathKind, PathMatch, Rule, ValueKind, ValueMatch,
};
use crate::istio::route::Applies;
use crate::objects::meta::{Kind, ObjectRef};
use std::cmp::Ordering;

/// What a route attaches to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Parent {
    /// Mesh routing (GAMMA): traffic addressed to this Service.
    Service { service: ObjectRef, port: Option<u16> },
    /// North-south: a Gateway's listeners (one, with `sectionName`).
    Gateway { gateway: ObjectRef, section: Option<String> },
    /// A kind the model does not follow (`group/Kind`), shown as written.
    Other { kind: String, name: String },
}

impl ParentRef {
    /// The parent, its namespace defaulting to the route's.
    pub fn resolve(&self, route_namespace: &str) -> Parent {
        let ns = self.namespace.as_deref().unwrap_or(route_namespace);
        let group = self.group.as_deref().unwrap_or(super::objects::GROUP);
        match (group, self.kind.as_deref().unwrap_or("Gateway")) {
            ("" | "core", "Service") => {
                Parent::Service { service: ObjectRef::new(Kind::Service, ns, &self.name), port: self.port }
            }
            (super::objects::GROUP, "Gateway") => Parent::Gateway {
                gateway: ObjectRef::new(Kind::Gateway, ns, &self.name),
                section: self.section_name.clone(),
            },
            (group, kind) => Parent::Other { kind: format!("{group}/{kind}"), name: self.name.clone() },
        }
    }

    /// Whether a status entry's `parentRef` is this reference (defaults applied on both sides).
    pub fn same_as(&self, other: &ParentRef, route_namespace: &str) -> bool {
        self.resolve(route_namespace) == other.resolve(route_namespace)
    }
}

impl std::fmt::Display for Parent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Parent::Service { service, port: Some(port) } => write!(f, "{service}:{port}"),
            Parent::Service { service, port: None } => write!(f, "{service}"),
            Parent::Gateway { gateway, section: Some(s) } => write!(f, "{gateway}/{s}"),
            Parent::Gateway { gateway, section: None } => write!(f, "{gateway}"),
            Parent::Other { kind, name } => write!(f, "{kind}/{name}"),
        }
    }
}

impl BackendRef {
    /// The Service this backend is, its namespace defaulting to the route's; `None` for other kinds.
    pub fn service(&self, route_namespace: &str) -> Option<ObjectRef> {
        self.is_service()
            .then(|| ObjectRef::new(Kind::Service, self.namespace.as_deref().unwrap_or(route_namespace), &self.name))
    }
}

impl Rule {
    /// Effective share of each backend, in percent: weights are relative and default to 1; weight 0 gets
    /// nothing; when every weight is 0 nothing is routed (the rule answers 500).
    pub fn shares(&self) -> Vec<f64> {
        let weights: Vec<i64> = self.backend_refs.iter().map(|b| b.weight.unwrap_or(1).max(0)).collect();
        let total: i64 = weights.iter().sum();
        weights.iter().map(|w| if total == 0 { 0.0 } else { *w as f64 * 100.0 / total as f64 }).collect()
    }

    /// The `RequestMirror` filters and the share of requests each copies: `percent`, or `fraction`
    /// (denominator 100 by default), or every request.
    pub fn mirrors(&self) -> Vec<(&BackendRef, f64)> {
        self.filters
            .iter()
            .filter_map(|f| f.request_mirror.as_ref())
            .map(|m| {
                let fraction = m.fraction.as_ref().map(|f| {
                    let denominator = f.denominator.unwrap_or(100).max(1);
                    f64::from(f.numerator) * 100.0 / f64::from(denominator)
                });
                (&m.backend_ref, m.percent.map(f64::from).or(fraction).unwrap_or(100.0))
            })
            .collect()
    }

    /// The rule's matches, as the API server defaults them: none means every request (`PathPrefix /`).
    pub fn effective_matches(&self) -> Vec<Match> {
        if self.matches.is_empty() {
            vec![Match { path: Some(PathMatch::default()), ..Match::default() }]
        } else {
            self.matches.iter().map(|m| m.typed.clone()).collect()
        }
    }

    /// How `--route` and messages refer to a rule: its name, or `#index`.
    pub fn key(&self, index: usize) -> String {
        crate::objects::meta::route_key(self.name.as_deref(), index)
    }

    /// `rule "primary"`, or `rule #1` for an unnamed one.
    pub fn label(&self, index: usize) -> String {
        match self.name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => format!("rule {name:?}"),
            None => format!("rule #{index}"),
        }
    }

    /// What the rule does for a request carrying header `name: value` on any path: a match that tests the header
    /// for another exact value never takes it; one that tests nothing else (on `PathPrefix /`) always does.
    pub fn for_header(&self, name: &str, value: &str) -> Applies {
        let mut applies = Applies::Never;
        for m in self.effective_matches() {
            let mut rest = m.clone();
            let tested: Vec<ValueMatch> = rest.headers.extract_if(.., |h| h.name.eq_ignore_ascii_case(name)).collect();
            if tested.iter().any(|h| h.kind == ValueKind::Exact && h.value != value) {
                continue;
            }
            let exact = tested.iter().all(|h| h.kind == ValueKind::Exact);
            let unconditional = rest.path() == PathMatch::default()
                && rest.headers.is_empty()
                && rest.query_params.is_empty()
                && rest.method.is_none();
            if exact && unconditional {
                return Applies::Always;
            }
            applies = Applies::Sometimes;
        }
        applies
    }

    /// The `(header, value)` of a rule whose one match tests exactly one header for an exact value (on
    /// `PathPrefix /`) and nothing else, as `pin --header` writes them.
    pub fn header_pin(&self) -> Option<(&str, &str)> {
        let [m] = self.matches.as_slice() else { return None };
        let m = &m.typed;
        let [h] = m.headers.as_slice() else { return None };
        let plain = m.path() == PathMatch::default() && m.query_params.is_empty() && m.method.is_none();
        (plain && h.kind == ValueKind::Exact).then_some((h.name.as_str(), h.value.as_str()))
    }

    /// Whether the rule takes every request (no matches, or one that is `PathPrefix /` and nothing else).
    pub fn is_catch_all(&self) -> bool {
        let every = |m: &Match| {
            m.path() == PathMatch::default() && m.headers.is_empty() && m.query_params.is_empty() && m.method.is_none()
        };
        self.effective_matches().iter().any(every)
    }
}

impl Match {
    pub fn path(&self) -> PathMatch {
        self.path.clone().unwrap_or_default()
    }

    /// Whether every request this match takes is also taken by `self` (so `self`, ranked first, shadows it).
    pub fn covers(&self, other: &Match) -> bool {
        let (mine, theirs) = (self.path(), other.path());
        let path = match (mine.kind, theirs.kind) {
            (PathKind::PathPrefix, PathKind::PathPrefix | PathKind::Exact) => prefix_covers(&mine.value, &theirs.value),
            (a, b) => a == b && mine.value == theirs.value,
        };
        let method = self.method.is_none() || self.method == other.method;
        let subset = |mine: &[ValueMatch], theirs: &[ValueMatch]| mine.iter().all(|m| theirs.contains(m));
        path && method && subset(&self.headers, &other.headers) && subset(&self.query_params, &other.query_params)
    }

    /// The rank of this match in the spec's precedence (smaller first): Exact path, then regular expressions
    /// (implementation-specific; Istio ranks them between exact and prefix), then the longest prefix; then a
    /// method match; then the most header matches; then the most query parameter matches.
    fn rank(&self) -> (u8, std::cmp::Reverse<usize>, bool, std::cmp::Reverse<usize>, std::cmp::Reverse<usize>) {
        let path = self.path();
        let kind = match path.kind {
            PathKind::Exact => 0,
            PathKind::RegularExpression => 1,
            PathKind::PathPrefix => 2,
        };
        use std::cmp::Reverse;
        // A prefix's trailing slash is ignored (`/api/` is `/api`), so it does not make the prefix longer.
        let length =
            if path.kind == PathKind::PathPrefix { path.value.trim_end_matches('/').len() } else { path.value.len() };
        (kind, Reverse(length), self.method.is_none(), Reverse(self.headers.len()), Reverse(self.query_params.len()))
    }
}

/// A `PathPrefix` matches whole path segments: `/api` takes `/api` and `/api/v2`, not `/apiary`.
fn prefix_covers(prefix: &str, path: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    prefix.is_empty() || path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
}

/// One match of one rule, as precedence sorts them.
#[derive(Clone, Debug)]
pub struct Candidate<'r> {
    pub route: &'r HttpRoute,
    pub rule: usize,
    /// Position in the rule's matches (as defaulted: [`Rule::effective_matches`]).
    pub index: usize,
    /// Position of its `(route, rule)` in the slice given to [`precedence`].
    pub at: usize,
    pub matched: Match,
}

/// Every match of the given rules in the order the spec applies them: by specificity ([`Match::rank`]), then
/// the oldest route, then `namespace/name` alphabetically, then rule order, then match order.
pub fn precedence<'r>(rules: &[(&'r HttpRoute, usize)]) -> Vec<Candidate<'r>> {
    let mut all: Vec<Candidate<'r>> =
        rules
            .iter()
            .enumerate()
            .flat_map(|(at, &(route, rule))| {
                route.spec.rules[rule]
                    .effective_matches()
                    .into_iter()
                    .enumerate()
                    .map(move |(index, matched)| Candidate { route, rule, index, at, matched })
            })
            .collect();
    all.sort_by(|a, b| {
        a.matched
            .rank()
            .cmp(&b.matched.rank())
            .then_with(|| older(a.route, b.route))
            .then(a.rule.cmp(&b.rule))
            .then(a.index.cmp(&b.index))
    });
    all
}

/// The spec's tie-break between routes: the oldest first (RFC 3339 timestamps sort as text), then
/// `namespace/name`.
fn older(a: &HttpRoute, b: &HttpRoute) -> Ordering {
    let created = |r: &HttpRoute| r.metadata.creation_timestamp.clone().unwrap_or_default();
    created(a)
        .cmp(&created(b))
        .then_with(|| a.metadata.namespace.cmp(&b.metadata.namespace))
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

/// How a set of rules applies, from one precedence pass.
pub struct Order {
    /// Positions in the given slice, in the order of each rule's first match.
    pub rules: Vec<usize>,
    /// For each rule given, whether some request reaches it: not when every one of its matches is covered by
    /// a match ranked before it.
    pub reachable: Vec<bool>,
}

pub fn order(rules: &[(&HttpRoute, usize)]) -> Order {
    let mut seen: Vec<Match> = Vec::new();
    let mut order = Order { rules: Vec::new(), reachable: vec![false; rules.len()] };
    for c in precedence(rules) {
        if !order.rules.contains(&c.at) {
            order.rules.push(c.at);
        }
        if !seen.iter().any(|s| s.covers(&c.matched)) {
            order.reachable[c.at] = true;
        }
        seen.push(c.matched);
    }
    order
}

/// [`Order::reachable`] alone.
pub fn reachable(rules: &[(&HttpRoute, usize)]) -> Vec<bool> {
    order(rules).reachable
}

/// The conditions the controller of `parent` wrote for it, if any.
pub fn conditions<'r>(route: &'r HttpRoute, parent: &ParentRef) -> Option<&'r [Condition]> {
    let ns = &route.metadata.namespace;
    route.status.parents.iter().find(|p| p.parent_ref.same_as(parent, ns)).map(|p| p.conditions.as_slice())
}

/// `path^=/api header end-user=jason method=GET query q=1`, or `*` for every request; matches joined by ` | `.
pub fn summary(rule: &Rule) -> String {
    let matches = rule.effective_matches();
    let parts: Vec<String> = matches.iter().map(summary_of).collect();
    parts.join(" | ")
}

fn summary_of(m: &Match) -> String {
    let mut parts = Vec::new();
    let path = m.path();
    match path.kind {
        PathKind::PathPrefix if path.value.trim_end_matches('/').is_empty() => {}
        PathKind::PathPrefix => parts.push(format!("path^={}", path.value)),
        PathKind::Exact => parts.push(format!("path={}", path.value)),
        PathKind::RegularExpression => parts.push(format!("path~={}", path.value)),
    }
    let op = |v: &ValueMatch| if v.kind == super::objects::ValueKind::Exact { "=" } else { "~=" };
    for h in &m.headers {
        parts.push(format!("header {}{}{}", h.name, op(h), h.value));
    }
    if let Some(method) = &m.method {
        parts.push(format!("method={method}"));
    }
    for q in &m.query_params {
        parts.push(format!("query {}{}{}", q.name, op(q), q.value));
    }
    if parts.is_empty() { "*".to_string() } else { parts.join(" ") }
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod tests;
