//! `pin`: make a service version-consistent. For every version vN (a DestinationRule subset), callers labelled
//! `<label>: vN` (and `app: APP` with `--from`) get a route to subset vN, placed before the default route, so a
//! v2 caller only ever reaches v2. Pods whose version has no subset get one first (in the DestinationRule: a
//! separate write that must land before the routes that use it).
//!
//! With `--header H`, requests carrying `H: vN` are routed to vN instead: callers set the header and propagate
//! it. That holds where the caller's labels are unknown (a waypoint in ambient mode ignores `sourceLabels`; an
//! HTTPRoute has no caller conditions at all), and it replaces the `sourceLabels` routes vroute added before.
//!
//! Idempotent: a version already pinned by an equivalent route (any name) is left alone, and routes vroute
//! added before are recognised by name (`vroute-pin-[APP-]VERSION`) and corrected in place.

use super::context::{Context, Version};
use super::object::{Draft, describe};
use super::{EditError, Outcome, Summary};
use crate::istio::HttpRoute;
use crate::names::is_dns_label;
use crate::objects::ObjectRef;
use serde_json::{Map, Value, json};
use std::fmt;
use std::str::FromStr;

/// How `pin` tells callers' versions apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinBy {
    /// By the caller pod's version label (`sourceLabels`; sidecars only), optionally only callers `app: APP`.
    Caller { from: Option<String> },
    /// By a request header carrying the caller's version, which callers set and propagate.
    Header(HeaderName),
}

/// A request header name as both route APIs match it: lowercase (Istio requires it), letters, digits, `-`,
/// `_` and `.`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderName(String);

impl FromStr for HeaderName {
    type Err = String;
    fn from_str(s: &str) -> Result<HeaderName, String> {
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.');
        match s.chars().find(|c| !ok(*c)) {
            _ if s.is_empty() || s.len() > 256 => Err("a header name has 1 to 256 characters".into()),
            Some(c) => Err(format!(
                "{c:?} is not allowed in a header name: use lowercase letters, digits, '-', '_' and '.' (x-version)"
            )),
            None => Ok(HeaderName(s.to_string())),
        }
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl HeaderName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `pin`'s change to the VirtualService; the subsets must already be in `ctx` (see [`add_subsets`]).
pub fn pin(vs: &mut Draft, by: &PinBy, ctx: &Context) -> Result<Summary, EditError> {
    let versions = ctx.subset_versions();
    if versions.is_empty() {
        return Err(EditError::NoVersions { host: ctx.host.clone(), label: ctx.version_label.clone() });
    }
    let from = match by {
        PinBy::Caller { from } => from.as_deref(),
        PinBy::Header(_) => None,
    };
    if let PinBy::Header(_) = by {
        drop_label_pins(vs, ctx)?;
    }
    let mut at = vs.http().iter().position(HttpRoute::is_catch_all).unwrap_or(vs.http().len());
    let mut pinned = Vec::new();
    for (value, version) in &versions {
        let block = match by {
            PinBy::Header(h) => json!({"headers": {h.as_str(): {"exact": value}}}),
            PinBy::Caller { from } => {
                let mut labels = Map::new();
                if let Some(app) = from {
                    labels.insert("app".into(), json!(app));
                }
                labels.insert(ctx.version_label.clone(), json!(value));
                json!({"sourceLabels": labels})
            }
        };
        let key = match by {
            PinBy::Header(h) => h.to_string(),
            PinBy::Caller { .. } => ctx.version_label.clone(),
        };
        pinned.push(format!("{key}={value} -> {}", version.name));
        if vs.http()[..at].iter().any(|r| pins(r, &block, version, ctx)) {
            continue;
        }
        let name = match from {
            Some(app) => format!("vroute-pin-{app}-{value}"),
            None => format!("vroute-pin-{value}"),
        };
        if let Some(stale) = vs.http().iter().position(|r| r.name.as_deref() == Some(name.as_str())) {
            let mut http = vs.raw_http();
            http.remove(stale);
            vs.set_http(http)?;
            if stale < at {
                at -= 1;
            }
        }
        let mut http = vs.raw_http();
        let (siblings, raw) = match (vs.http().get(at), http.get(at)) {
            (Some(typed), Some(raw)) => (typed.route.clone(), raw["route"].as_array().cloned().unwrap_or_default()),
            _ => (Vec::new(), Vec::new()),
        };
        let destination = ctx.destination(version, &siblings, &raw);
        http.insert(at, json!({"name": name, "match": [block], "route": [{"destination": destination}]}));
        vs.set_http(http)?;
        at += 1;
    }
    let subject = match (by, from) {
        (PinBy::Header(h), _) => format!("requests with header {h}"),
        (_, Some(app)) => format!("callers with app={app}"),
        (_, None) => "callers".to_string(),
    };
    Ok(Summary { subject, state: format!("pinned {}", pinned.join(", ")) })
}

/// Removes the `sourceLabels` pin routes vroute added (named `vroute-pin-...`, matching only on the caller's
/// version label): header pins replace them, and where they are ignored (a waypoint) they only mislead.
fn drop_label_pins(vs: &mut Draft, ctx: &Context) -> Result<(), EditError> {
    let label_pin = |r: &HttpRoute| {
        r.name.as_deref().is_some_and(|n| n.starts_with("vroute-pin-"))
            && r.matches.iter().all(|m| m.typed.source_labels.contains_key(&ctx.version_label))
            && !r.matches.is_empty()
    };
    let keep: Vec<Value> =
        vs.raw_http().into_iter().zip(vs.http()).filter(|(_, typed)| !label_pin(typed)).map(|(raw, _)| raw).collect();
    if keep.len() != vs.http().len() {
        vs.set_http(keep)?;
    }
    Ok(())
}

/// Whether `route` sends exactly the callers of `block` to `version` (and nothing else). The block is compared
/// as written: another condition in it (a header, say) would make it pin fewer requests.
fn pins(route: &HttpRoute, block: &Value, version: &Version, ctx: &Context) -> bool {
    route.matches.iter().any(|m| &m.raw == block)
        && matches!(route.route.as_slice(), [only] if ctx.version_of(&only.destination) == Some(version))
}

/// The DestinationRule `pin` must extend first, if some pods' version has no subset yet.
pub fn destination_rule_to_extend(ctx: &Context) -> Result<Option<&ObjectRef>, EditError> {
    let missing = ctx.versions_without_subset();
    if missing.is_empty() {
        return Ok(None);
    }
    let dr = ctx.destination_rule.as_ref().ok_or_else(|| EditError::NoDestinationRule {
        host: ctx.host.clone(),
        label: ctx.version_label.clone(),
        versions: missing.clone(),
    })?;
    if let Some(bad) = missing.iter().find(|v| !is_dns_label(v)) {
        return Err(EditError::BadSubsetName { dr: dr.label(), label: ctx.version_label.clone(), value: bad.clone() });
    }
    Ok(Some(dr))
}

/// Adds a subset `{name: vN, labels: {<label>: vN}}` for each version of the host's pods that has none.
pub fn add_subsets(dr: &Value, ctx: &Context) -> Result<Outcome, EditError> {
    let missing = ctx.versions_without_subset();
    if missing.is_empty() {
        return Ok(Outcome { object: None, message: "subsets unchanged: every version of the pods has one".into() });
    }
    let mut new = dr.clone();
    let mut subsets = match &dr["spec"]["subsets"] {
        Value::Null => Vec::new(),
        Value::Array(list) => list.clone(),
        _ => {
            return Err(EditError::Malformed {
                object: describe(dr),
                field: "spec.subsets".into(),
                reason: "is not a list".into(),
            });
        }
    };
    let label = &ctx.version_label;
    subsets.extend(missing.iter().map(|v| json!({"name": v, "labels": {label: v}})));
    new["spec"]["subsets"] = Value::Array(subsets);
    let message = format!("added subset(s) {} for pods labelled {label}={}", missing.join(", "), missing.join(","));
    Ok(Outcome { object: Some(new), message })
}

/// The subsets `after` has and `before` had not: what a rollback removes.
pub fn added_subsets(before: &Value, after: &Value) -> Vec<Value> {
    let old = before["spec"]["subsets"].as_array().cloned().unwrap_or_default();
    let new = after["spec"]["subsets"].as_array().cloned().unwrap_or_default();
    new.into_iter().filter(|s| !old.contains(s)).collect()
}

/// Rollback of [`add_subsets`]: removes exactly the subsets it added (one changed since is left alone).
pub fn remove_subsets(dr: &Value, added: &[Value]) -> Outcome {
    let subsets = dr["spec"]["subsets"].as_array().cloned().unwrap_or_default();
    let kept: Vec<Value> = subsets.iter().filter(|s| !added.contains(s)).cloned().collect();
    if kept.len() == subsets.len() {
        return Outcome { object: None, message: "subsets unchanged: the added ones are already gone".into() };
    }
    let mut new = dr.clone();
    new["spec"]["subsets"] = Value::Array(kept);
    let names: Vec<&str> = added.iter().filter_map(|s| s["name"].as_str()).collect();
    Outcome { object: Some(new), message: format!("removed subset(s) {} again", names.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::context::tests::{on, ready_pods, request, snapshot, vs};
    use crate::edit::context::with_object;

    fn default_only() -> Value {
        vs(json!([{"name": "default", "route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]))
    }

    fn ctx(vs: &Value) -> Context {
        Context::build(&snapshot(vs.clone(), &[("v1", 1), ("v2", 1)]), &request()).unwrap()
    }

    #[test]
    fn pin_adds_one_route_per_version_before_the_default_route() {
        let mut obj = default_only();
        let ctx = ctx(&obj);
        let summary = on(&mut obj, |d| pin(d, &PinBy::Caller { from: Some("productpage".into()) }, &ctx)).unwrap();
        assert_eq!(summary.message(true), "callers with app=productpage now pinned version=v1 -> v1, version=v2 -> v2");
        let http = obj["spec"]["http"].as_array().unwrap();
        assert_eq!(http.len(), 3);
        assert_eq!(
            http[1],
            json!({"name": "vroute-pin-productpage-v2",
                   "match": [{"sourceLabels": {"app": "productpage", "version": "v2"}}],
                   "route": [{"destination": {"host": "reviews", "subset": "v2"}}]})
        );
        assert_eq!(http[2]["name"], "default");
    }

    #[test]
    fn pinning_twice_changes_nothing() {
        let mut once = default_only();
        on(&mut once, |d| pin(d, &PinBy::Caller { from: None }, &ctx(&default_only()))).unwrap();
        let mut twice = once.clone();
        let ctx = ctx(&once);
        on(&mut twice, |d| pin(d, &PinBy::Caller { from: None }, &ctx)).unwrap();
        assert_eq!(once, twice);
    }

    #[test]
    fn an_equivalent_route_under_another_name_counts_as_pinned() {
        let mut obj = vs(json!([
            {"name": "v1-callers", "match": [{"sourceLabels": {"version": "v1"}}],
             "route": [{"destination": {"host": "reviews.prod.svc.cluster.local", "subset": "v1"}}]},
            {"name": "default", "route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]));
        let ctx = ctx(&obj);
        on(&mut obj, |d| pin(d, &PinBy::Caller { from: None }, &ctx)).unwrap();
        let names: Vec<&str> =
            obj["spec"]["http"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["v1-callers", "vroute-pin-v2", "default"]);
    }

    #[test]
    fn a_stale_pin_route_is_corrected_in_place() {
        let mut obj = vs(json!([
            {"name": "vroute-pin-v2", "match": [{"sourceLabels": {"version": "v2"}}],
             "route": [{"destination": {"host": "reviews", "subset": "v1"}}]},
            {"name": "default", "route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]));
        let ctx = ctx(&obj);
        on(&mut obj, |d| pin(d, &PinBy::Caller { from: None }, &ctx)).unwrap();
        let http = obj["spec"]["http"].as_array().unwrap();
        assert_eq!(http.len(), 3);
        assert_eq!(http[1]["route"][0]["destination"]["subset"], "v2");
    }

    #[test]
    fn pods_without_a_subset_get_one_in_the_destination_rule() {
        let mut snap = snapshot(default_only(), &[("v1", 1)]);
        snap.pods.push(ready_pods("v3", 1));
        let ctx = Context::build(&snap, &request()).unwrap();
        assert_eq!(destination_rule_to_extend(&ctx).unwrap().map(|r| r.key()), Some("prod/reviews".into()));
        let dr = json!({"kind": "DestinationRule", "metadata": {"name": "reviews", "namespace": "prod"},
            "spec": {"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                                     {"name": "v2", "labels": {"version": "v2"}}]}});
        let outcome = add_subsets(&dr, &ctx).unwrap();
        let new = outcome.object.unwrap();
        assert_eq!(new["spec"]["subsets"][2], json!({"name": "v3", "labels": {"version": "v3"}}));
        assert_eq!(added_subsets(&dr, &new), vec![json!({"name": "v3", "labels": {"version": "v3"}})]);

        // With the subset in place, the routes include v3; the rollback removes exactly what was added.
        let ctx = Context::build(&with_object(&snap, &new).unwrap(), &request()).unwrap();
        let mut obj = default_only();
        assert!(
            on(&mut obj, |d| pin(d, &PinBy::Caller { from: None }, &ctx)).unwrap().state.contains("version=v3 -> v3")
        );
        let back = remove_subsets(&new, &added_subsets(&dr, &new)).object.unwrap();
        assert_eq!(back, dr);
    }

    #[test]
    fn subsets_need_a_rule_and_a_valid_name() {
        let mut snap = snapshot(default_only(), &[]);
        snap.pods.push(ready_pods("1.2.3", 1));
        let ctx = Context::build(&snap, &request()).unwrap();
        let err = destination_rule_to_extend(&ctx).unwrap_err();
        assert!(matches!(err, EditError::BadSubsetName { ref value, .. } if value == "1.2.3"), "{err}");
        snap.destination_rules.clear();
        let ctx = Context::build(&snap, &request()).unwrap();
        assert!(matches!(destination_rule_to_extend(&ctx), Err(EditError::NoDestinationRule { .. })));
    }

    #[test]
    fn a_host_without_versions_cannot_be_pinned() {
        let mut snap = snapshot(default_only(), &[]);
        snap.destination_rules.clear();
        let ctx = Context::build(&snap, &request()).unwrap();
        let mut obj = default_only();
        assert!(matches!(
            on(&mut obj, |d| pin(d, &PinBy::Caller { from: None }, &ctx)),
            Err(EditError::NoVersions { .. })
        ));
    }

    #[test]
    fn header_pins_route_each_version_by_its_header_and_replace_label_pins() {
        let mut obj = default_only();
        let ctx = ctx(&obj);
        on(&mut obj, |d| pin(d, &PinBy::Caller { from: None }, &ctx)).unwrap();
        let header = PinBy::Header("x-version".parse().unwrap());
        let ctx = Context::build(&snapshot(obj.clone(), &[("v1", 1), ("v2", 1)]), &request()).unwrap();
        let summary = on(&mut obj, |d| pin(d, &header, &ctx)).unwrap();
        assert_eq!(
            summary.message(true),
            "requests with header x-version now pinned x-version=v1 -> v1, x-version=v2 -> v2"
        );
        let http = obj["spec"]["http"].as_array().unwrap();
        assert_eq!(http.len(), 3, "the label pins are gone: {http:#?}");
        assert_eq!(
            http[0],
            json!({"name": "vroute-pin-v1", "match": [{"headers": {"x-version": {"exact": "v1"}}}],
                   "route": [{"destination": {"host": "reviews", "subset": "v1"}}]})
        );
        let again = obj.clone();
        let ctx = Context::build(&snapshot(obj.clone(), &[("v1", 1), ("v2", 1)]), &request()).unwrap();
        on(&mut obj, |d| pin(d, &header, &ctx)).unwrap();
        assert_eq!(obj, again, "idempotent");
    }

    #[test]
    fn header_names_are_checked() {
        assert_eq!("x-version".parse::<HeaderName>().unwrap().as_str(), "x-version");
        assert!("X-Version".parse::<HeaderName>().unwrap_err().contains("'X' is not allowed"));
        assert!("".parse::<HeaderName>().is_err());
    }
}
