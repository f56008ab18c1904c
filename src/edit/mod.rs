//! Route edits (pure): `set-weight`, `switch`, `mirror`, `pin`, `undo`, and `promote`/`abort` of a plain
//! canary, as transforms of a VirtualService (and, for `pin`, its DestinationRule) or of an HTTPRoute
//! ([`rules`]) exactly as read from the API server, so every field vroute does not model (other routes,
//! unknown keys, labels, annotations) comes back unchanged. [`Routing`] says which API routes a host.
//!
//! An edit is an [`Edit`] (what the user asked) applied to an object and a [`Context`] (what the read model
//! knows: versions, ready pods, Rollout ownership). It returns the new object, or nothing when there is
//! nothing to change, or an [`EditError`] saying why it is refused. The same edit can be applied again to a
//! fresher object after a write conflict: it is an intent, not a diff.
//!
//! Every change that goes through [`apply`] is checked by the same guards (no traffic to a version without
//! ready pods or an undefined subset, no change to what an Argo Rollout manages) and recorded in the undo
//! history (see [`history`]).

pub mod canary;
pub mod circuit;
pub mod conditions;
pub mod context;
pub mod diff;
mod error;
mod guard;
pub mod history;
pub mod matched;
mod mirror;
pub mod object;
pub mod pin;
pub mod policy;
pub mod roles;
pub mod rules;
pub mod weights;

pub use context::{Context, Doubt, Request, with_object};
pub use error::EditError;
pub use mirror::MirrorTo;
pub use rules::RuleContext;
pub use weights::Weight;

use crate::graph;
use crate::objects::ObjectRef;
use object::Draft;
use serde_json::Value;

/// How a host is routed, with the context of an edit of it: by a VirtualService (Istio's API; it wins when an
/// HTTPRoute routes the host too, as it does for sidecars), or by HTTPRoutes only (Gateway API).
#[derive(Clone, Debug)]
pub enum Routing {
    Istio(Context),
    Gateway(RuleContext),
}

impl Routing {
    pub fn build(snap: &crate::objects::Snapshot, req: &Request) -> Result<Routing, EditError> {
        let graph = graph::build(snap, &req.options())?;
        Ok(match context::routed(&graph, req)? {
            context::Routed::Istio(node) => Routing::Istio(Context::from_graph(snap, &graph, node, req)?),
            context::Routed::Gateway(node) => Routing::Gateway(RuleContext::from_graph(snap, &graph, node, req)?),
        })
    }

    /// The object an edit of the host writes.
    pub fn object(&self) -> &ObjectRef {
        match self {
            Routing::Istio(ctx) => &ctx.virtual_service,
            Routing::Gateway(ctx) => &ctx.route,
        }
    }
}

/// What the user asked for, and whether to skip the ready-pods check.
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    pub intent: Intent,
    /// Route traffic to versions without ready pods anyway (and edit when Rollouts cannot be listed).
    pub force: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Intent {
    /// Set the split of one route: `--route` (name or `#index`), else the only or the default route.
    SetWeight {
        route: Option<String>,
        weights: Vec<Weight>,
        normalize: bool,
    },
    /// Everything to one version.
    Switch {
        route: Option<String>,
        version: String,
    },
    /// Mirror a share of a route's requests to a version; `None` stops mirroring.
    Mirror {
        route: Option<String>,
        to: Option<MirrorTo>,
    },
    /// Pin callers to their own version, told apart by their labels or by a header.
    Pin {
        by: pin::PinBy,
    },
    /// Restore the routes from before a revision (the latest when `None`).
    Undo {
        revision: Option<u32>,
    },
    /// A plain canary (no Rollout): `step` more percentage points to the canary, or all traffic when `None`.
    Promote {
        route: Option<String>,
        roles: canary::RoleFlags,
        step: Option<u64>,
    },
    /// A plain canary: all traffic back to the stable version.
    Abort {
        route: Option<String>,
        roles: canary::RoleFlags,
    },
    /// Requests that match conditions to one version, or (`to: None`) no longer.
    Route(matched::MatchRoute),
    /// A route's timeout; `None` removes it.
    Timeout {
        route: Option<String>,
        timeout: Option<std::time::Duration>,
    },
    Retries {
        route: Option<String>,
        retries: policy::Retries,
    },
    /// A fault on a route, or on the route for some conditions; `None` removes it.
    Fault {
        route: Option<String>,
        conditions: conditions::Conditions,
        fault: Option<policy::Fault>,
    },
}

/// The result of applying an edit to one object.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The object to write; `None` when it already is as asked.
    pub object: Option<Value>,
    /// What the edit did (or found already done), e.g. `route "primary" now v1 90%, v2 10%`.
    pub message: String,
}

/// What an edit is about and the state it leaves, for the message.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// `route "primary"`, `routes`, `callers with app=a`.
    pub subject: String,
    /// `v1 90%, v2 10%`, `mirrors 10% to v2`, `pinned version=v1 -> v1`.
    pub state: String,
}

impl Summary {
    pub fn message(&self, changed: bool) -> String {
        if changed {
            format!("{} now {}", self.subject, self.state)
        } else {
            format!("{} unchanged: {}", self.subject, self.state)
        }
    }
}

/// Applies `edit` to VirtualService `vs` (as read) in `ctx`, guards the result and records it in the history.
pub fn apply(edit: &Edit, vs: &Value, ctx: &Context) -> Result<Outcome, EditError> {
    let before = Draft::new(vs)?;
    let mut new = before.clone();
    let summary = match &edit.intent {
        Intent::SetWeight { route, weights, normalize } => {
            weights::set_weight(&mut new, route.as_deref(), weights, *normalize, ctx)?
        }
        Intent::Switch { route, version } => weights::switch(&mut new, route.as_deref(), version, ctx)?,
        Intent::Mirror { route, to } => mirror::mirror(&mut new, route.as_deref(), to.as_ref(), ctx)?,
        Intent::Pin { by } => pin::pin(&mut new, by, ctx)?,
        Intent::Undo { revision } => history::undo(&mut new, *revision, ctx)?,
        Intent::Promote { route, roles, step } => canary::promote(&mut new, route.as_deref(), roles, *step, ctx)?,
        Intent::Abort { route, roles } => canary::abort(&mut new, route.as_deref(), roles, ctx)?,
        Intent::Route(asked) => matched::route(&mut new, asked, ctx)?,
        Intent::Timeout { route, timeout } => policy::timeout(&mut new, route.as_deref(), *timeout, ctx)?,
        Intent::Retries { route, retries } => policy::retries(&mut new, route.as_deref(), retries, ctx)?,
        Intent::Fault { route, conditions, fault } => {
            policy::fault(&mut new, route.as_deref(), conditions, fault.as_ref(), ctx)?
        }
    };
    if new.raw_http() == before.raw_http() {
        return Ok(Outcome { object: None, message: summary.message(false) });
    }
    guard::destinations(before.http(), new.http(), ctx, edit.force)?;
    guard::rollout_routes(&before, &new, ctx, edit.force)?;
    history::record(&mut new, &before, edit.describe(&ctx.version_label), ctx.now)?;
    Ok(Outcome { object: Some(new.into_raw()), message: summary.message(true) })
}

impl Edit {
    /// The command as the history records it, e.g. `set-weight v1=90 v2=10 --route primary`.
    pub fn describe(&self, version_label: &str) -> String {
        let route = |r: &Option<String>| r.as_ref().map(|r| format!(" --route {r}")).unwrap_or_default();
        let mut text = match &self.intent {
            Intent::SetWeight { route: r, weights, normalize } => {
                let split: Vec<String> = weights.iter().map(|w| format!("{}={}", w.version, w.weight)).collect();
                let normalize = if *normalize { " --normalize" } else { "" };
                format!("set-weight {}{}{normalize}", split.join(" "), route(r))
            }
            Intent::Switch { route: r, version } => format!("switch {version}{}", route(r)),
            Intent::Mirror { route: r, to: Some(to) } => {
                format!("mirror --to {} --percent {}{}", to.version, crate::istio::route::percent(to.percent), route(r))
            }
            Intent::Mirror { route: r, to: None } => format!("mirror --off{}", route(r)),
            Intent::Pin { by: pin::PinBy::Header(h) } => format!("pin --header {h} --label {version_label}"),
            Intent::Pin { by: pin::PinBy::Caller { from } } => {
                let from = from.as_ref().map(|a| format!(" --from {a}")).unwrap_or_default();
                format!("pin --label {version_label}{from}")
            }
            Intent::Undo { revision: None } => "undo".to_string(),
            Intent::Undo { revision: Some(n) } => format!("undo --to-revision {n}"),
            Intent::Promote { route: r, roles, step } => {
                let step = step.map(|s| format!(" --step {s}")).unwrap_or_default();
                format!("promote{}{step}{}", role_flags(roles), route(r))
            }
            Intent::Abort { route: r, roles } => format!("abort{}{}", role_flags(roles), route(r)),
            Intent::Route(asked) => {
                let to = asked.to.as_ref().map_or(" --remove".to_string(), |v| format!(" --to {v}"));
                let name = asked.name.as_ref().map(|n| format!(" --name {n}")).unwrap_or_default();
                format!("route{to} {}{name}", asked.conditions)
            }
            Intent::Timeout { route: r, timeout } => {
                let t = timeout.map_or("--off".to_string(), crate::duration::format);
                format!("timeout {t}{}", route(r))
            }
            Intent::Retries { route: r, retries } => format!("retries {}{}", retries_flags(retries), route(r)),
            Intent::Fault { route: r, conditions, fault } => {
                let f = fault.as_ref().map_or("--off".to_string(), fault_flags);
                let c = if conditions.is_empty() { String::new() } else { format!(" {conditions}") };
                format!("fault {f}{c}{}", route(r))
            }
        };
        if self.force {
            text.push_str(" --force");
        }
        text
    }
}

fn retries_flags(r: &policy::Retries) -> String {
    match r {
        policy::Retries::Off => "--off".into(),
        policy::Retries::Default => "--default".into(),
        policy::Retries::Set(r) => {
            let mut text = format!("--attempts {}", r.attempts);
            if let Some(t) = r.per_try_timeout {
                text.push_str(&format!(" --per-try-timeout {}", crate::duration::format(t)));
            }
            if !r.retry_on.is_empty() {
                let on: Vec<String> = r.retry_on.iter().map(ToString::to_string).collect();
                text.push_str(&format!(" --retry-on {}", on.join(",")));
            }
            text
        }
    }
}

fn fault_flags(f: &policy::Fault) -> String {
    let mut text = String::new();
    if let Some(d) = f.delay {
        text.push_str(&format!("--delay {} ", crate::duration::format(d)));
    }
    if let Some(code) = f.abort {
        text.push_str(&format!("--abort {code} "));
    }
    text + &format!("--percent {}", crate::numbers::significant(f.percent))
}

/// ` --stable v1 --to v2`, as given.
fn role_flags(roles: &canary::RoleFlags) -> String {
    let stable = roles.stable.as_ref().map(|v| format!(" --stable {v}")).unwrap_or_default();
    let canary = roles.canary.as_ref().map(|v| format!(" --to {v}")).unwrap_or_default();
    stable + &canary
}

#[cfg(test)]
mod tests {
    use super::context::tests::{request, snapshot, split_vs, vs};
    use super::object::Draft;
    use super::*;
    use serde_json::json;

    fn rollout(value: Value) -> crate::rollouts::Rollout {
        crate::rollouts::Rollout::from_value(&value).unwrap()
    }

    fn set(weights: &[(&str, u64)], route: Option<&str>) -> Edit {
        let weights = weights.iter().map(|(v, w)| Weight { version: v.to_string(), weight: *w }).collect();
        Edit { intent: Intent::SetWeight { route: route.map(str::to_string), weights, normalize: false }, force: false }
    }

    /// A VirtualService with a Rollout-managed route `primary` and an unmanaged `jason` route.
    fn managed() -> (Value, Context) {
        let obj = vs(json!([
            {"name": "jason", "match": [{"headers": {"end-user": {"exact": "jason"}}}],
             "route": [{"destination": {"host": "reviews", "subset": "v1"}}]},
            {"name": "primary", "route": [
                {"destination": {"host": "reviews", "subset": "v1"}, "weight": 100},
                {"destination": {"host": "reviews", "subset": "v2"}, "weight": 0}]}]));
        let mut snap = snapshot(obj.clone(), &[("v1", 1), ("v2", 1)]);
        snap.rollouts.push(rollout(json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "reviews", "namespace": "prod"},
            "spec": {"strategy": {"canary": {"trafficRouting": {"istio": {
                "virtualService": {"name": "reviews", "routes": ["primary"]},
                "destinationRule": {"name": "reviews", "canarySubsetName": "v2", "stableSubsetName": "v1"}}}}}}})));
        (obj.clone(), Context::build(&snap, &request()).unwrap())
    }

    #[test]
    fn an_edit_returns_the_whole_object_with_only_its_change_and_a_history_entry() {
        let mut obj = split_vs();
        obj["metadata"]["labels"] = json!({"team": "books"});
        obj["spec"]["tcp"] = json!([{"route": [{"destination": {"host": "db"}}]}]);
        obj["spec"]["http"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "other", "fault": {"abort": {"httpStatus": 503}}}));
        let ctx = Context::build(&snapshot(obj.clone(), &[("v1", 1), ("v2", 1)]), &request()).unwrap();
        let outcome = apply(&set(&[("v1", 90), ("v2", 10)], Some("primary")), &obj, &ctx).unwrap();
        assert_eq!(outcome.message, "route \"primary\" now v1 90%, v2 10%");
        let mut new = outcome.object.unwrap();
        let history = history::read(&Draft::new(&new).unwrap()).unwrap();
        assert_eq!(history[0].command, "set-weight v1=90 v2=10 --route primary");
        assert_eq!(
            roles::read(&Draft::new(&new).unwrap()).unwrap()["primary"],
            roles::Roles { stable: "v1".into(), canary: Some("v2".into()) }
        );
        // Apart from the two weights and the two annotations, nothing changed.
        new["metadata"].as_object_mut().unwrap().remove("annotations");
        new["spec"]["http"][0]["route"][0]["weight"] = json!(100);
        new["spec"]["http"][0]["route"][1]["weight"] = json!(0);
        assert_eq!(new, obj);
    }

    #[test]
    fn an_edit_that_changes_nothing_writes_nothing() {
        let obj = split_vs();
        let ctx = Context::build(&snapshot(obj.clone(), &[("v1", 1)]), &request()).unwrap();
        let outcome = apply(&set(&[("v1", 100), ("v2", 0)], None), &obj, &ctx).unwrap();
        assert_eq!(outcome, Outcome { object: None, message: "route \"primary\" unchanged: v1 100%, v2 0%".into() });
    }

    #[test]
    fn no_ready_pods_is_refused_through_apply_unless_forced() {
        let obj = split_vs();
        let ctx = Context::build(&snapshot(obj.clone(), &[("v1", 1)]), &request()).unwrap();
        let edit = Edit { intent: Intent::Switch { route: None, version: "v2".into() }, force: false };
        assert!(matches!(apply(&edit, &obj, &ctx), Err(EditError::NoReadyPods { .. })));
        let forced = Edit { force: true, ..edit };
        let outcome = apply(&forced, &obj, &ctx).unwrap();
        assert_eq!(
            history::read(&Draft::new(&outcome.object.unwrap()).unwrap()).unwrap()[0].command,
            "switch v2 --force"
        );
    }

    #[test]
    fn a_rollout_managed_route_is_refused_but_its_neighbour_is_editable() {
        let (obj, ctx) = managed();
        let err = apply(&set(&[("v1", 90), ("v2", 10)], None), &obj, &ctx).unwrap_err();
        assert_eq!(
            err,
            EditError::ManagedByRollout {
                vs: "VirtualService prod/reviews".into(),
                route: "route \"primary\"".into(),
                rollout: "prod/reviews".into(),
                why: "it is listed in the Rollout's trafficRouting.istio virtualService routes",
            }
        );
        let text = err.to_string();
        assert!(
            text.starts_with("route \"primary\" of VirtualService prod/reviews is managed by Rollout prod/reviews")
        );
        assert!(
            text.contains("Use `kubectl vroute promote reviews -n prod` or `kubectl vroute abort reviews -n prod`"),
            "{text}"
        );
        let mirror = Edit { intent: Intent::Mirror { route: Some("primary".into()), to: None }, force: false };
        assert!(matches!(apply(&mirror, &obj, &ctx), Err(EditError::ManagedByRollout { .. })));

        let outcome = apply(&set(&[("v1", 50), ("v2", 50)], Some("jason")), &obj, &ctx).unwrap();
        assert_eq!(outcome.message, "route \"jason\" now v1 50%, v2 50%");
    }

    #[test]
    fn pin_may_not_take_a_rollouts_only_route_away_from_it() {
        // The Rollout names no routes: it owns the VirtualService's only route, named `primary`. Adding pin
        // routes would leave it with no unnamed route to own.
        let obj = split_vs();
        let mut snap = snapshot(obj.clone(), &[("v1", 1), ("v2", 1)]);
        snap.rollouts.push(rollout(json!({"metadata": {"name": "reviews", "namespace": "prod"},
            "spec": {"strategy": {"canary": {"trafficRouting": {"istio": {"virtualService": {"name": "reviews"}}}}}}})));
        let ctx = Context::build(&snap, &request()).unwrap();
        let pin = Edit { intent: Intent::Pin { by: pin::PinBy::Caller { from: None } }, force: false };
        let err = apply(&pin, &obj, &ctx).unwrap_err();
        assert!(
            matches!(err, EditError::RolloutRoutesChanged { ref routes, .. } if routes == &["route \"primary\""]),
            "{err}"
        );
        let expected = "this edit would change route \"primary\" of VirtualService prod/reviews, which Rollout prod/reviews manages";
        assert!(err.to_string().starts_with(expected), "{err}");
    }

    #[test]
    fn undo_leaves_rollout_managed_routes_as_they_are_now() {
        let (obj, ctx) = managed();
        let edited = apply(&set(&[("v2", 100)], Some("jason")), &obj, &ctx).unwrap().object.unwrap();
        // Meanwhile the controller moves the canary to 30%.
        let mut moved = edited.clone();
        moved["spec"]["http"][1]["route"][0]["weight"] = json!(70);
        moved["spec"]["http"][1]["route"][1]["weight"] = json!(30);
        let undo = Edit { intent: Intent::Undo { revision: None }, force: false };
        let restored = apply(&undo, &moved, &ctx).unwrap().object.unwrap();
        assert_eq!(restored["spec"]["http"][0], obj["spec"]["http"][0], "the edited route is back");
        assert_eq!(restored["spec"]["http"][1], moved["spec"]["http"][1], "the Rollout's route is untouched");
        let history = history::read(&Draft::new(&restored).unwrap()).unwrap();
        assert_eq!(
            history.iter().map(|r| r.command.as_str()).collect::<Vec<_>>(),
            ["set-weight v2=100 --route jason", "undo"]
        );
    }

    #[test]
    fn edits_are_refused_when_rollouts_cannot_be_listed_unless_forced() {
        let obj = split_vs();
        let mut snap = snapshot(obj.clone(), &[("v1", 1), ("v2", 1)]);
        snap.partial.push(crate::objects::PartialListing {
            resource: crate::objects::Listable::Rollouts,
            listed: crate::objects::Listed::Nothing,
            reason: crate::objects::Shortfall::Forbidden,
        });
        let ctx = Context::build(&snap, &request()).unwrap();
        let edit = set(&[("v1", 50), ("v2", 50)], None);
        assert!(matches!(apply(&edit, &obj, &ctx), Err(EditError::RolloutsUnknown { .. })));
        assert!(apply(&Edit { force: true, ..edit }, &obj, &ctx).is_ok());
    }
}
