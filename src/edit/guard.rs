//! The safety rules every edit passes before anything is written: which route an edit may touch, no traffic
//! to versions that cannot serve it, and no change to what an Argo Rollout manages.

use super::context::{Context, Version};
use super::{EditError, object};
use crate::rollouts::{IstioOwnership, RouteClaim};
use crate::routes::host;
use serde_json::Value;

/// The route `--route` names (by name or `#index`), else the only route, else the default (first catch-all)
/// route; refused when a Rollout manages it.
pub fn editable_route(http: &[Value], wanted: Option<&str>, ctx: &Context) -> Result<usize, EditError> {
    let vs = ctx.vs_label();
    let keys: Vec<String> = http.iter().enumerate().map(|(i, r)| object::route_key(r, i)).collect();
    let index = match wanted {
        Some(w) => keys.iter().position(|k| k == w).ok_or_else(|| EditError::UnknownRoute {
            vs: vs.clone(),
            route: w.to_string(),
            routes: keys.clone(),
        })?,
        None if http.is_empty() => return Err(EditError::NoHttpRoutes { vs }),
        None if http.len() == 1 => 0,
        None => http.iter().position(object::is_catch_all).ok_or(EditError::AmbiguousRoute { vs, routes: keys })?,
    };
    let names = object::route_names(http);
    for owner in &ctx.owners {
        let (ns, name) = (&ctx.virtual_service.namespace, &ctx.virtual_service.name);
        if let Some(claim) = owner.http_route_claim(ns, name, &names, index) {
            return Err(EditError::ManagedByRollout {
                vs: ctx.vs_label(),
                route: object::route_label(&http[index], index),
                rollout: rollout_name(owner),
                why: match claim {
                    RouteClaim::Listed => "it is listed in the Rollout's trafficRouting.istio virtualService routes",
                    RouteClaim::Default => {
                        "the Rollout names no routes, so it takes the only or first unnamed http route"
                    }
                    RouteClaim::Managed => "it is one of the Rollout's trafficRouting.managedRoutes",
                },
            });
        }
    }
    Ok(index)
}

/// Refuses any change to the routes a Rollout manages, including handing its claim to another route (adding
/// routes before an unnamed claimed one, say). With Rollouts unlisted, ownership is unknown: refused unless
/// forced.
pub fn rollout_routes(before: &[Value], after: &[Value], ctx: &Context, force: bool) -> Result<(), EditError> {
    if ctx.rollouts_unknown && !force {
        return Err(EditError::RolloutsUnknown { vs: ctx.vs_label() });
    }
    for owner in &ctx.owners {
        let claimed_before = claimed(owner, before, ctx);
        let claimed_after = claimed(owner, after, ctx);
        let contents = |claimed: &[usize], http: &[Value]| claimed.iter().map(|&i| http[i].clone()).collect::<Vec<_>>();
        if contents(&claimed_before, before) != contents(&claimed_after, after) {
            let routes = claimed_before.iter().map(|&i| object::route_label(&before[i], i)).collect();
            return Err(EditError::RolloutRoutesChanged { vs: ctx.vs_label(), rollout: rollout_name(owner), routes });
        }
    }
    Ok(())
}

/// Indexes of the http routes `owner` claims in this VirtualService, in order.
pub fn claimed(owner: &IstioOwnership, http: &[Value], ctx: &Context) -> Vec<usize> {
    let names = object::route_names(http);
    let (ns, name) = (&ctx.virtual_service.namespace, &ctx.virtual_service.name);
    (0..http.len()).filter(|&i| owner.http_route_claim(ns, name, &names, i).is_some()).collect()
}

/// Refuses traffic to a destination that cannot serve it (an undefined subset, a missing Service, or, unless
/// forced, a version without ready pods) in every route the edit adds or changes. Routes it leaves as they
/// were are not its business: an edit elsewhere must stay possible while one route is broken.
pub fn destinations(before: &[Value], after: &[Value], ctx: &Context, force: bool) -> Result<(), EditError> {
    for (index, route) in after.iter().enumerate().filter(|(_, r)| !before.contains(r)) {
        let what = object::route_label(route, index);
        for (dest, share) in object::destinations(route).iter().zip(object::shares(route)) {
            if share <= 0.0 {
                continue;
            }
            let destination = &dest["destination"];
            match ctx.version_of(destination) {
                Some(v) => {
                    defined(v, &what, ctx)?;
                    if let Some(pods) = v.pods.filter(|p| p.ready == 0 && !force) {
                        return Err(EditError::NoReadyPods {
                            vs: ctx.vs_label(),
                            what,
                            version: v.name.clone(),
                            percent: object::percent(share),
                            ready: pods.ready,
                            total: pods.total,
                        });
                    }
                }
                // A subset of the edited host that is not even among its versions: no rule defines it.
                None => {
                    let (h, subset) = object::destination_key(destination, &ctx.virtual_service.namespace, &ctx.domain);
                    if let Some(subset) = subset.filter(|_| h == ctx.host) {
                        return Err(not_routable(ctx, &what, format!("subset {subset}"), undefined_subset(ctx)));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Refuses a version whose subset no DestinationRule defines, or whose Service does not exist.
pub fn defined(v: &Version, what: &str, ctx: &Context) -> Result<(), EditError> {
    if v.defined {
        return Ok(());
    }
    Err(match &v.subset {
        Some(s) => not_routable(ctx, what, format!("subset {s}"), undefined_subset(ctx)),
        None => not_routable(
            ctx,
            what,
            host::short(&v.host, &ctx.domain),
            "which has no Service: create the Service or fix the host name".into(),
        ),
    })
}

fn not_routable(ctx: &Context, what: &str, target: String, reason: String) -> EditError {
    EditError::NotRoutable { vs: ctx.vs_label(), what: what.to_string(), target, reason }
}

fn undefined_subset(ctx: &Context) -> String {
    let h = host::short(&ctx.host, &ctx.domain);
    format!("which no DestinationRule for {h} defines: define the subset in {h}'s DestinationRule first")
}

fn rollout_name(owner: &IstioOwnership) -> String {
    format!("{}/{}", owner.rollout_namespace, owner.rollout_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::context::tests::{request, snapshot, split_vs, vs};
    use serde_json::json;

    fn ctx(vs: Value) -> Context {
        Context::build(&snapshot(vs, &[("v1", 1), ("v2", 1)]), &request()).unwrap()
    }

    #[test]
    fn the_only_the_named_or_the_catch_all_route_is_chosen() {
        let http = json!([
            {"name": "jason", "match": [{"headers": {"end-user": {"exact": "jason"}}}], "route": []},
            {"route": []}
        ]);
        let ctx = ctx(vs(http.clone()));
        let http = http.as_array().unwrap();
        assert_eq!(editable_route(http, None, &ctx), Ok(1));
        assert_eq!(editable_route(http, Some("jason"), &ctx), Ok(0));
        assert_eq!(editable_route(http, Some("#1"), &ctx), Ok(1));
        assert_eq!(editable_route(&http[..1], None, &ctx), Ok(0));
        let err = editable_route(http, Some("nope"), &ctx).unwrap_err();
        assert_eq!(
            err.to_string(),
            "VirtualService prod/reviews has no http route \"nope\"; its routes are: jason, #1"
        );
    }

    #[test]
    fn several_routes_without_a_catch_all_are_ambiguous() {
        let http = json!([{"name": "a", "match": [{"uri": {"prefix": "/a"}}]}, {"name": "b", "match": [{"uri": {"prefix": "/b"}}]}]);
        let err = editable_route(http.as_array().unwrap(), None, &ctx(vs(http.clone()))).unwrap_err();
        assert_eq!(
            err,
            EditError::AmbiguousRoute {
                vs: "VirtualService prod/reviews".into(),
                routes: vec!["a".into(), "b".into()]
            }
        );
        assert!(err.to_string().contains("pick one with --route (a, b)"), "{err}");
    }

    #[test]
    fn weight_to_a_version_without_ready_pods_is_refused_unless_forced() {
        let ctx = Context::build(&snapshot(split_vs(), &[("v1", 1)]), &request()).unwrap();
        let before = object::http(&split_vs()).unwrap();
        let mut after = before.clone();
        after[0]["route"][1]["weight"] = json!(10);
        after[0]["route"][0]["weight"] = json!(90);
        let err = destinations(&before, &after, &ctx, false).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "route \"primary\" of VirtualService prod/reviews would send 10% to version v2, which has no ready pods (0/0 ready)"
            ),
            "{err}"
        );
        assert_eq!(destinations(&before, &after, &ctx, true), Ok(()));
        // Weight 0 sends nothing: allowed.
        assert_eq!(destinations(&before, &before, &ctx, false), Ok(()));
    }

    #[test]
    fn traffic_to_an_undefined_subset_is_refused_even_when_forced() {
        let ctx = ctx(split_vs());
        let before = object::http(&split_vs()).unwrap();
        let after = vec![json!({"route": [{"destination": {"host": "reviews", "subset": "v9"}}]})];
        let err = destinations(&before, &after, &ctx, true).unwrap_err();
        assert!(err.to_string().contains("subset v9, which no DestinationRule for reviews.prod defines"), "{err}");
    }

    #[test]
    fn unchanged_routes_are_not_judged() {
        let broken =
            vs(json!([{"route": [{"destination": {"host": "reviews", "subset": "v9"}}]}, {"name": "ok", "route": []}]));
        let ctx = ctx(broken.clone());
        let before = object::http(&broken).unwrap();
        let mut after = before.clone();
        after[1]["timeout"] = json!("1s");
        assert_eq!(destinations(&before, &after, &ctx, false), Ok(()));
    }
}
