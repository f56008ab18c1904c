//! `set-weight` and `switch`: the split of one http route between versions.

use super::context::{Context, Version};
use super::object::Draft;
use super::{EditError, Summary, guard, roles};
use crate::istio::HttpRoute;
use crate::istio::route::{VersionKey, percent};
use serde_json::{Value, json};

/// One `VERSION=WEIGHT` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Weight {
    pub version: String,
    pub weight: u64,
}

/// Parses `v1=90 v2=10`. Weights are whole and non-negative (Istio's are int32 and it rejects negatives).
pub fn parse(args: &[String]) -> Result<Vec<Weight>, EditError> {
    args.iter()
        .map(|arg| {
            let bad = |reason| EditError::BadWeight { arg: arg.clone(), reason };
            let (version, value) =
                arg.rsplit_once('=').filter(|(v, _)| !v.is_empty()).ok_or_else(|| bad("it is not VERSION=WEIGHT"))?;
            let value = value.trim();
            let weight = value.parse::<u64>().map_err(|_| bad(why_not_a_weight(value)))?;
            Ok(Weight { version: version.to_string(), weight })
        })
        .collect()
}

fn why_not_a_weight(value: &str) -> &'static str {
    match value.parse::<f64>() {
        _ if value.is_empty() => "the weight is missing",
        Ok(n) if n < 0.0 || value.starts_with('-') => "a weight cannot be negative",
        Ok(_) => "a weight must be a whole number",
        Err(_) => "the weight is not a number",
    }
}

/// `set-weight`: the route's split becomes exactly the given weights; destinations not named keep their place
/// with weight 0 (so a later switch back finds them, and nothing else about them is lost).
pub fn set_weight(
    vs: &mut Draft,
    route: Option<&str>,
    weights: &[Weight],
    normalize: bool,
    ctx: &Context,
) -> Result<Summary, EditError> {
    let index = guard::editable_route(vs.http(), route, ctx)?;
    let split = resolve(weights, normalize, |v| ctx.version(v))?;
    apply_split(vs, index, &split, ctx)
}

/// The versions the weights name, each with its weight (scaled to 100 with `normalize`, else checked to sum to
/// 100); `version` resolves a version as typed.
pub fn resolve<'v>(
    weights: &[Weight],
    normalize: bool,
    version: impl Fn(&str) -> Result<&'v Version, EditError>,
) -> Result<Vec<(&'v Version, u64)>, EditError> {
    let mut split = Vec::with_capacity(weights.len());
    for w in weights {
        let v = version(&w.version)?;
        if split.iter().any(|(known, _)| *known == v) {
            return Err(EditError::DuplicateVersion { version: v.name.clone() });
        }
        split.push((v, w.weight));
    }
    let values: Vec<u64> = split.iter().map(|(_, w)| *w).collect();
    let values = if normalize { scale_to_100(&values)? } else { check_sum(&split)? };
    Ok(split.iter().map(|(v, _)| *v).zip(values).collect())
}

/// `switch`: everything to one version in a single write (blue/green cut-over).
pub fn switch(vs: &mut Draft, route: Option<&str>, version: &str, ctx: &Context) -> Result<Summary, EditError> {
    let index = guard::editable_route(vs.http(), route, ctx)?;
    let target = ctx.version(version)?;
    apply_split(vs, index, &[(target, 100)], ctx)
}

fn check_sum(split: &[(&Version, u64)]) -> Result<Vec<u64>, EditError> {
    let sum = split.iter().fold(0u64, |acc, (_, w)| acc.saturating_add(*w));
    if sum != 100 {
        let weights = split.iter().map(|(v, w)| format!("{}={w}", v.name)).collect::<Vec<_>>().join(" ");
        return Err(EditError::WeightSum { sum, weights });
    }
    Ok(split.iter().map(|(_, w)| *w).collect())
}

/// Scales relative weights to whole numbers summing to exactly 100 (largest remainder: the shares that lost
/// most to rounding down get the leftover points, earlier versions first on ties).
pub fn scale_to_100(weights: &[u64]) -> Result<Vec<u64>, EditError> {
    let total: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if total == 0 {
        return Err(EditError::ZeroTotal);
    }
    let scaled: Vec<(u128, u128)> =
        weights.iter().map(|&w| (u128::from(w) * 100 / total, u128::from(w) * 100 % total)).collect();
    let mut out: Vec<u64> = scaled.iter().map(|(q, _)| *q as u64).collect();
    let short = 100 - out.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| scaled[b].1.cmp(&scaled[a].1));
    for &i in order.iter().take(short as usize) {
        out[i] += 1;
    }
    Ok(out)
}

/// Writes the split into route `index`: each destination of a named version gets its weight, the others 0;
/// versions the route does not list yet are appended, copying a sibling destination of the same host.
fn apply_split(vs: &mut Draft, index: usize, split: &[(&Version, u64)], ctx: &Context) -> Result<Summary, EditError> {
    let before = named_shares(&vs.http()[index], ctx);
    let typed = vs.http()[index].route.clone();
    let mut http = vs.raw_http();
    let mut dests: Vec<Value> = http[index]["route"].as_array().cloned().unwrap_or_default();
    let keys: Vec<VersionKey> = typed.iter().map(|d| ctx.key(&d.destination)).collect();
    for (v, w) in place(&mut dests, &keys, split) {
        let destination = ctx.destination(v, &typed, &dests);
        dests.push(json!({"destination": destination, "weight": w}));
    }
    http[index]["route"] = Value::Array(dests);
    vs.set_http(http)?;
    let route = &vs.http()[index];
    let (key, label) = (route.key(index), route.label(index));
    let after = named_shares(route, ctx);
    roles::record(vs, &key, &before, &after)?;
    Ok(Summary { subject: label, state: split_state(&after) })
}

/// Writes the split's weights into `entries` (a route's destinations or a rule's backends, as written; `keys`
/// the version each goes to): an entry of a named version gets its weight, the others 0. Returns the versions
/// no entry goes to yet, with their weights, for the caller to append in its API's shape.
pub fn place<'v>(entries: &mut [Value], keys: &[VersionKey], split: &[(&'v Version, u64)]) -> Vec<(&'v Version, u64)> {
    let mut placed = vec![false; split.len()];
    for (raw, key) in entries.iter_mut().zip(keys) {
        let hit = split.iter().enumerate().position(|(i, (v, _))| !placed[i] && &v.key == key);
        raw["weight"] = json!(hit.map_or(0, |i| split[i].1));
        if let Some(i) = hit {
            placed[i] = true;
        }
    }
    split.iter().zip(placed).filter(|(_, placed)| !placed).map(|(s, _)| *s).collect()
}

/// `v1 90%, v2 10%`, a split as messages state it.
pub fn split_state(shares: &[(String, f64)]) -> String {
    shares.iter().map(|(n, s)| format!("{n} {}%", percent(*s))).collect::<Vec<_>>().join(", ")
}

/// `(version name, share %)` of each destination of a route.
pub fn named_shares(route: &HttpRoute, ctx: &Context) -> Vec<(String, f64)> {
    route.route.iter().map(|d| ctx.name_of(&d.destination)).zip(route.shares()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::context::tests::{on, request, snapshot, split_vs, vs};

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn ctx(vs: &Value) -> Context {
        Context::build(&snapshot(vs.clone(), &[("v1", 1), ("v2", 1)]), &request()).unwrap()
    }

    #[test]
    fn weights_parse_and_bad_ones_are_named() {
        assert_eq!(parse(&args(&["v1=90", "v2= 10"])).unwrap()[1], Weight { version: "v2".into(), weight: 10 });
        let reason = |a: &str| match parse(&args(&[a])) {
            Err(EditError::BadWeight { reason, .. }) => reason,
            other => panic!("{a}: {other:?}"),
        };
        assert_eq!(reason("v1=-5"), "a weight cannot be negative");
        assert_eq!(reason("v1=12.5"), "a weight must be a whole number");
        assert_eq!(reason("v1=ten"), "the weight is not a number");
        assert_eq!(reason("v1="), "the weight is missing");
        assert_eq!(reason("v1"), "it is not VERSION=WEIGHT");
        assert_eq!(reason("=5"), "it is not VERSION=WEIGHT");
        let err = parse(&args(&["v1=-5"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "weight \"v1=-5\": a weight cannot be negative; write VERSION=WEIGHT with a whole number from 0 to 100, e.g. v1=90 v2=10"
        );
    }

    #[test]
    fn normalizing_keeps_proportions_and_sums_to_100() {
        assert_eq!(scale_to_100(&[1, 3]).unwrap(), vec![25, 75]);
        assert_eq!(scale_to_100(&[1, 1, 1]).unwrap(), vec![34, 33, 33]);
        assert_eq!(scale_to_100(&[9, 1]).unwrap(), vec![90, 10]);
        assert_eq!(scale_to_100(&[2, 0]).unwrap(), vec![100, 0]);
        assert_eq!(scale_to_100(&[u64::MAX, u64::MAX]).unwrap(), vec![50, 50]);
        assert_eq!(scale_to_100(&[0, 0]), Err(EditError::ZeroTotal));
    }

    #[test]
    fn set_weight_rewrites_only_the_weights_of_the_route() {
        let mut obj = split_vs();
        obj["spec"]["http"][0]["route"][0]["destination"]["port"] = json!({"number": 9080});
        obj["spec"]["http"][0]["retries"] = json!({"attempts": 3});
        let ctx = ctx(&obj);
        let w = parse(&args(&["v1=90", "v2=10"])).unwrap();
        let summary = on(&mut obj, |d| set_weight(d, None, &w, false, &ctx)).unwrap();
        assert_eq!(summary.message(true), "route \"primary\" now v1 90%, v2 10%");
        assert_eq!(
            obj["spec"]["http"][0],
            json!({"name": "primary", "retries": {"attempts": 3}, "route": [
                {"destination": {"host": "reviews", "subset": "v1", "port": {"number": 9080}}, "weight": 90},
                {"destination": {"host": "reviews", "subset": "v2"}, "weight": 10}]})
        );
    }

    #[test]
    fn a_new_version_copies_its_siblings_destination() {
        let mut obj =
            vs(json!([{"route": [{"destination": {"host": "reviews", "subset": "v1", "port": {"number": 9080}}}]}]));
        let ctx = ctx(&obj);
        on(&mut obj, |d| set_weight(d, None, &parse(&args(&["v2=25", "v1=75"])).unwrap(), false, &ctx)).unwrap();
        assert_eq!(
            obj["spec"]["http"][0]["route"],
            json!([{"destination": {"host": "reviews", "subset": "v1", "port": {"number": 9080}}, "weight": 75},
                   {"destination": {"host": "reviews", "subset": "v2", "port": {"number": 9080}}, "weight": 25}])
        );
    }

    #[test]
    fn weights_must_sum_to_100_unless_normalized() {
        let mut obj = split_vs();
        let ctx = ctx(&obj);
        let err = on(&mut obj, |d| set_weight(d, None, &parse(&args(&["v1=100", "v2=10"])).unwrap(), false, &ctx))
            .unwrap_err();
        assert_eq!(err, EditError::WeightSum { sum: 110, weights: "v1=100 v2=10".into() });
        assert!(err.to_string().contains("pass --normalize"), "{err}");
        let summary =
            on(&mut obj, |d| set_weight(d, None, &parse(&args(&["v1=3", "v2=1"])).unwrap(), true, &ctx)).unwrap();
        assert_eq!(summary.state, "v1 75%, v2 25%");
    }

    #[test]
    fn unknown_and_repeated_versions_are_refused() {
        let mut obj = split_vs();
        let ctx = ctx(&obj);
        let err = on(&mut obj, |d| set_weight(d, None, &parse(&args(&["v1=50", "v3=50"])).unwrap(), false, &ctx))
            .unwrap_err();
        assert_eq!(err.to_string(), "reviews.prod has no version \"v3\"; known versions: v1, v2");
        let twice = parse(&args(&["v1=50", "reviews/v1=50"])).unwrap();
        assert_eq!(
            on(&mut obj, |d| set_weight(d, None, &twice, false, &ctx)),
            Err(EditError::DuplicateVersion { version: "v1".into() })
        );
    }

    #[test]
    fn switch_sends_everything_to_one_version_and_keeps_the_other_at_zero() {
        let mut obj = split_vs();
        let ctx = ctx(&obj);
        let summary = on(&mut obj, |d| switch(d, Some("primary"), "v2", &ctx)).unwrap();
        assert_eq!(summary.message(true), "route \"primary\" now v1 0%, v2 100%");
        let weights: Vec<&Value> =
            obj["spec"]["http"][0]["route"].as_array().unwrap().iter().map(|d| &d["weight"]).collect();
        assert_eq!(weights, [&json!(0), &json!(100)]);
    }

    #[test]
    fn host_level_versions_are_service_hosts_in_any_form() {
        let mut obj = vs(json!([{"route": [
            {"destination": {"host": "reviews.prod.svc.cluster.local"}, "weight": 100},
            {"destination": {"host": "reviews.stage.svc.cluster.local"}, "weight": 0}]}]));
        obj["spec"]["hosts"] = json!(["shop.example.com"]);
        let snap = snapshot(obj.clone(), &[("v1", 1)]);
        let req = crate::edit::context::Request { service: "shop.example.com", ..request() };
        let ctx = Context::build(&snap, &req).unwrap();
        let summary =
            on(&mut obj, |d| set_weight(d, None, &parse(&args(&["reviews=100"])).unwrap(), false, &ctx)).unwrap();
        assert_eq!(summary.state, "reviews.prod 100%, reviews.stage 0%");
        let summary = on(&mut obj, |d| switch(d, None, "reviews.stage.svc.cluster.local", &ctx)).unwrap();
        assert_eq!(summary.state, "reviews.prod 0%, reviews.stage 100%");
    }
}
