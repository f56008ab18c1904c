//! The safety rules every edit passes before anything is written: which route an edit may touch, no traffic
//! to versions that cannot serve it, and no change to what an Argo Rollout manages (or may manage: one that
//! could not be read, or not listed at all, stops the edit unless forced).

use super::EditError;
use super::context::{Context, Version};
use super::object::Draft;
use crate::istio::HttpRoute;
use crate::istio::host;
use crate::istio::route::percent;
use crate::rollouts::{IstioOwnership, RouteClaim};

/// The route `--route` names (by name or `#index`), else the only route, else the default (first catch-all)
/// route; refused when a Rollout manages it, unless forced.
pub fn editable_route(http: &[HttpRoute], wanted: Option<&str>, ctx: &Context) -> Result<usize, EditError> {
    let vs = ctx.vs_label();
    let keys: Vec<String> = http.iter().enumerate().map(|(i, r)| r.key(i)).collect();
    let index = match wanted {
        Some(w) => keys.iter().position(|k| k == w).ok_or_else(|| EditError::UnknownRoute {
            vs: vs.clone(),
            route: w.to_string(),
            routes: keys.clone(),
        })?,
        None if http.is_empty() => return Err(EditError::NoHttpRoutes { vs }),
        None if http.len() == 1 => 0,
        None => http.iter().position(HttpRoute::is_catch_all).ok_or(EditError::AmbiguousRoute { vs, routes: keys })?,
    };
    let names: Vec<Option<&str>> = http.iter().map(|r| r.name.as_deref()).collect();
    for owner in ctx.owners.iter().filter(|_| !ctx.force) {
        let (ns, name) = (&ctx.virtual_service.namespace, &ctx.virtual_service.name);
        if let Some(claim) = owner.http_route_claim(ns, name, &names, index) {
            return Err(EditError::ManagedByRollout {
                vs: ctx.vs_label(),
                route: http[index].label(index),
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
/// routes before an unnamed claimed one, say). Unforced, also refuses any edit while Rollouts are unlisted,
/// while a Rollout that cannot be read at all exists, and any change to routes an unreadable Rollout claims.
pub fn rollout_routes(before: &Draft, after: &Draft, ctx: &Context, force: bool) -> Result<(), EditError> {
    if ctx.rollouts_unknown && !force {
        return Err(EditError::RolloutsUnknown { vs: ctx.vs_label() });
    }
    for doubt in ctx.doubts.iter().filter(|_| !force) {
        let changed = match &doubt.ownership {
            None => None,
            Some(own) => match changed_claims(own, before, after, ctx) {
                Some(routes) => Some(routes),
                None => continue,
            },
        };
        return Err(EditError::RolloutUnreadable {
            vs: ctx.vs_label(),
            rollout: doubt.rollout.key(),
            error: doubt.error.to_string(),
            routes: changed,
        });
    }
    for owner in ctx.owners.iter().filter(|_| !force) {
        if let Some(routes) = changed_claims(owner, before, after, ctx) {
            return Err(EditError::RolloutRoutesChanged { vs: ctx.vs_label(), rollout: rollout_name(owner), routes });
        }
    }
    Ok(())
}

/// The routes `owner` claims before the edit, when the edit changes any of them (or which routes it claims).
fn changed_claims(owner: &IstioOwnership, before: &Draft, after: &Draft, ctx: &Context) -> Option<Vec<String>> {
    let claimed_before = claimed(owner, before.http(), ctx);
    let claimed_after = claimed(owner, after.http(), ctx);
    let (old, new) = (before.raw_http(), after.raw_http());
    let contents = |claimed: &[usize], http: &[serde_json::Value]| {
        claimed.iter().map(|&i| http.get(i).cloned()).collect::<Vec<_>>()
    };
    (contents(&claimed_before, &old) != contents(&claimed_after, &new))
        .then(|| claimed_before.iter().map(|&i| before.http()[i].label(i)).collect())
}

/// Indexes of the http routes `owner` claims in this VirtualService, in order.
pub fn claimed(owner: &IstioOwnership, http: &[HttpRoute], ctx: &Context) -> Vec<usize> {
    let names: Vec<Option<&str>> = http.iter().map(|r| r.name.as_deref()).collect();
    let (ns, name) = (&ctx.virtual_service.namespace, &ctx.virtual_service.name);
    (0..http.len()).filter(|&i| owner.http_route_claim(ns, name, &names, i).is_some()).collect()
}

/// Refuses traffic to a destination that cannot serve it (an undefined subset, a missing Service, or, unless
/// forced, a version without ready pods) in every route the edit adds or changes. Routes it leaves as they
/// were are not its business: an edit elsewhere must stay possible while one route is broken.
pub fn destinations(before: &[HttpRoute], after: &[HttpRoute], ctx: &Context, force: bool) -> Result<(), EditError> {
    for (index, route) in after.iter().enumerate().filter(|(_, r)| !before.contains(r)) {
        let what = route.label(index);
        for (dest, share) in route.route.iter().zip(route.shares()) {
            if share <= 0.0 {
                continue;
            }
            match ctx.version_of(&dest.destination) {
                Some(v) => {
                    defined(v, &what, ctx)?;
                    if let Some(pods) = v.pods.filter(|p| p.ready == 0 && !force) {
                        return Err(EditError::NoReadyPods {
                            vs: ctx.vs_label(),
                            what,
                            version: v.name.clone(),
                            percent: percent(share),
                            ready: pods.ready,
                            total: pods.total,
                        });
                    }
                }
                // A subset of the edited host that is not even among its versions: no rule defines it.
                None => {
                    let key = ctx.key(&dest.destination);
                    if let Some(subset) = key.subset.filter(|_| key.host == ctx.host) {
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
    Err(match &v.key.subset {
        Some(s) => not_routable(ctx, what, format!("subset {s}"), undefined_subset(ctx)),
        None => not_routable(
            ctx,
            what,
            host::short(&v.key.host, &ctx.domain),
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
#[path = "guard_tests.rs"]
mod tests;
