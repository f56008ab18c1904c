//! `promote` and `abort` for a plain VirtualService canary, one that no Argo Rollout manages: move one route's
//! traffic from the stable version to the canary a step at a time (or all at once), or send all of it back to
//! the stable version.
//!
//! Which version is which comes from the command's flags (`--stable`, `--to`), else from what earlier edits
//! recorded in the `vroute.kubectl.io/versions` annotation (see [`roles`]); with neither, the edit is refused
//! with an error naming the flags to pass: a guess would move traffic the wrong way. The new split is written by
//! `set-weight`'s code, so route selection and every safety rule are the same, and the roles used are recorded
//! so that the next `promote` or `abort` needs no flags.

use super::object::Draft;
use super::roles::{self, Roles};
use super::weights::{self, Weight, named_shares};
use super::{Context, EditError, Summary, guard};
use crate::istio::route::percent;

/// The versions named on the command line; `None` falls back to the recorded roles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleFlags {
    /// `--stable`.
    pub stable: Option<String>,
    /// `--to` (alias `--canary`).
    pub canary: Option<String>,
}

/// `promote SERVICE [--step N]`: the canary's share of the route grows by `step` percentage points (at most
/// 100), or to 100 without a step; the stable version gets the rest. Refused when the route also sends traffic
/// to a third version: that is not a two-version canary, and only `set-weight` can say what the split becomes.
pub fn promote(
    vs: &mut Draft,
    route: Option<&str>,
    flags: &RoleFlags,
    step: Option<u64>,
    ctx: &Context,
) -> Result<Summary, EditError> {
    let target = Route::read(vs, route, ctx)?;
    let (roles, split) = target.promotion(flags, step, &ctx.vs_label(), |v| Ok(ctx.version(v)?.name.clone()))?;
    let before = vs.raw_http();
    let mut summary = weights::set_weight(vs, Some(&target.key), &split, false, ctx)?;
    if vs.raw_http() == before {
        summary.state.push_str(&promoted_already(&roles));
    }
    roles::remember(vs, &target.key, roles)?;
    Ok(summary)
}

/// `abort SERVICE`: all of the route's traffic to the stable version, in one write (every other destination
/// stays in the route with weight 0, so a later `promote` finds the canary again). The canary is not checked:
/// aborting must work even when the canary's subset is already gone.
pub fn abort(vs: &mut Draft, route: Option<&str>, flags: &RoleFlags, ctx: &Context) -> Result<Summary, EditError> {
    let target = Route::read(vs, route, ctx)?;
    let roles = target.abort_roles(flags, &ctx.vs_label(), |v| Ok(ctx.version(v)?.name.clone()))?;
    let before = vs.raw_http();
    let mut summary = weights::switch(vs, Some(&target.key), &roles.stable, ctx)?;
    if vs.raw_http() == before {
        summary.state.push_str(&aborted_already(&roles));
    }
    roles::remember(vs, &target.key, roles)?;
    Ok(summary)
}

/// The note on a promote that found nothing to do.
pub fn promoted_already(roles: &Roles) -> String {
    let canary = roles.canary.as_deref().unwrap_or_default();
    format!(" (nothing to promote: the canary {canary} already has all the traffic)")
}

/// The note on an abort that found nothing to do.
pub fn aborted_already(roles: &Roles) -> String {
    format!(" (nothing to abort: the stable version {} already has all the traffic)", roles.stable)
}

/// The route (a VirtualService's http route, an HTTPRoute's rule) a promote or abort applies to, with its
/// recorded roles and current split; what to write is decided here for both route APIs.
pub struct Route {
    /// How `--route` and the annotation name it: its name, or `#index`.
    pub key: String,
    /// `route "primary"`, for messages.
    pub label: String,
    pub recorded: Option<Roles>,
    /// `(version, share %)` of each destination, versions named as `status` names them.
    pub shares: Vec<(String, f64)>,
}

impl Route {
    fn read(vs: &Draft, route: Option<&str>, ctx: &Context) -> Result<Route, EditError> {
        let index = guard::editable_route(vs.http(), route, ctx)?;
        let chosen = &vs.http()[index];
        let key = chosen.key(index);
        Ok(Route {
            recorded: roles::read(vs)?.remove(&key),
            label: chosen.label(index),
            shares: named_shares(chosen, ctx),
            key,
        })
    }

    /// The roles and the two-version split a promote by `step` (all the way without one) writes. `object`
    /// names the route object in messages; `resolve` turns a version as typed into its name. Refused when the
    /// route also sends traffic to a third version: that is not a two-version canary, and only `set-weight`
    /// can say what the split becomes.
    pub fn promotion(
        &self,
        flags: &RoleFlags,
        step: Option<u64>,
        object: &str,
        resolve: impl Fn(&str) -> Result<String, EditError>,
    ) -> Result<(Roles, [Weight; 2]), EditError> {
        let (stable, canary) = (self.stable(flags), self.canary(flags));
        let (Some(stable), Some(canary)) = (&stable, &canary) else {
            return Err(self.unknown(stable.is_none(), canary.is_none(), object));
        };
        let (stable, canary) = (resolve(stable)?, resolve(canary)?);
        if stable == canary {
            return Err(EditError::SameVersion { version: stable, route: self.label.clone() });
        }
        let others: Vec<String> = self
            .shares
            .iter()
            .filter(|(name, share)| *share > 0.0 && *name != stable && *name != canary)
            .map(|(name, share)| format!("{name} {}%", percent(*share)))
            .collect();
        if !others.is_empty() {
            return Err(EditError::OtherVersions {
                vs: object.to_string(),
                route: self.label.clone(),
                others: others.join(", "),
                stable,
                canary,
            });
        }
        let current = self.share(&canary).round() as u64;
        let to = step.map_or(100, |step| current.saturating_add(step).min(100));
        let split =
            [Weight { version: stable.clone(), weight: 100 - to }, Weight { version: canary.clone(), weight: to }];
        Ok((Roles { stable, canary: Some(canary) }, split))
    }

    /// The roles an abort keeps: the stable version (resolved: it gets all the traffic) and the canary as
    /// given or recorded (not resolved: it may be gone already).
    pub fn abort_roles(
        &self,
        flags: &RoleFlags,
        object: &str,
        resolve: impl Fn(&str) -> Result<String, EditError>,
    ) -> Result<Roles, EditError> {
        let Some(stable) = self.stable(flags) else { return Err(self.unknown(true, false, object)) };
        Ok(Roles { stable: resolve(&stable)?, canary: self.canary(flags) })
    }

    fn share(&self, version: &str) -> f64 {
        self.shares.iter().filter(|(name, _)| name == version).map(|(_, share)| share).sum()
    }

    /// `--stable`, else the recorded stable version.
    fn stable(&self, flags: &RoleFlags) -> Option<String> {
        let recorded = self.recorded.as_ref().map(|r| r.stable.clone()).filter(|s| !s.is_empty());
        flags.stable.clone().or(recorded)
    }

    /// `--to`, else the recorded canary.
    fn canary(&self, flags: &RoleFlags) -> Option<String> {
        flags.canary.clone().or_else(|| self.recorded.as_ref().and_then(|r| r.canary.clone()))
    }

    /// The refusal when a role is neither given nor recorded, naming the flags that would give it.
    fn unknown(&self, no_stable: bool, no_canary: bool, object: &str) -> EditError {
        let (what, flags) = match (no_stable, no_canary) {
            (true, true) => ("stable and canary versions are", "--stable VERSION --to VERSION"),
            (true, false) => ("stable version is", "--stable VERSION"),
            _ => ("canary version is", "--to VERSION"),
        };
        let split = self.shares.iter().map(|(n, s)| format!("{n} {}%", percent(*s)));
        EditError::RolesUnknown {
            vs: object.to_string(),
            route: self.label.clone(),
            split: split.collect::<Vec<_>>().join(", "),
            what,
            flags,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::context::tests::{on, request, snapshot, split_vs, vs};
    use crate::edit::object::{self, Draft};
    use crate::edit::{Edit, Intent, apply, history};
    use serde_json::Value;
    use serde_json::json;

    fn ctx(obj: &Value) -> Context {
        Context::build(&snapshot(obj.clone(), &[("v1", 1), ("v2", 1)]), &request()).unwrap()
    }

    /// [`split_vs`] (v1 100%, v2 0%) with v2 recorded as the canary of v1.
    fn recorded() -> Value {
        let mut obj = split_vs();
        object::set_annotation(
            &mut obj,
            roles::ANNOTATION,
            Some(r#"{"primary":{"stable":"v1","canary":"v2"}}"#.into()),
        );
        obj
    }

    fn promote_edit(stable: Option<&str>, canary: Option<&str>, step: Option<u64>) -> Edit {
        let roles = RoleFlags { stable: stable.map(str::to_string), canary: canary.map(str::to_string) };
        Edit { intent: Intent::Promote { route: None, roles, step }, force: false }
    }

    fn weights(obj: &Value) -> Vec<i64> {
        let route = obj["spec"]["http"][0]["route"].as_array().unwrap();
        route.iter().map(|d| d["weight"].as_i64().unwrap()).collect()
    }

    #[test]
    fn promote_steps_the_recorded_canary_up_then_to_all_traffic() {
        let mut obj = recorded();
        let ctx = ctx(&obj);
        let mut messages = Vec::new();
        for step in [Some(25), Some(25), None] {
            let outcome = apply(&promote_edit(None, None, step), &obj, &ctx).unwrap();
            messages.push(outcome.message);
            obj = outcome.object.unwrap();
        }
        assert_eq!(
            messages,
            [
                "route \"primary\" now v1 75%, v2 25%",
                "route \"primary\" now v1 50%, v2 50%",
                "route \"primary\" now v1 0%, v2 100%"
            ]
        );
        let commands: Vec<String> =
            history::read(&Draft::new(&obj).unwrap()).unwrap().into_iter().map(|r| r.command).collect();
        assert_eq!(commands, ["promote --step 25", "promote --step 25", "promote"]);
        assert_eq!(
            roles::read(&Draft::new(&obj).unwrap()).unwrap()["primary"],
            Roles { stable: "v1".into(), canary: Some("v2".into()) },
            "promoting to 100% does not swap the roles"
        );
        let again = apply(&promote_edit(None, None, Some(10)), &obj, &ctx).unwrap();
        assert_eq!(again.object, None);
        assert_eq!(
            again.message,
            "route \"primary\" unchanged: v1 0%, v2 100% (nothing to promote: the canary v2 already has all the traffic)"
        );
    }

    #[test]
    fn a_step_past_100_stops_at_100() {
        let mut obj = recorded();
        let ctx = ctx(&obj);
        on(&mut obj, |d| promote(d, None, &RoleFlags::default(), Some(90), &ctx)).unwrap();
        on(&mut obj, |d| promote(d, None, &RoleFlags::default(), Some(90), &ctx)).unwrap();
        assert_eq!(weights(&obj), [0, 100]);
    }

    #[test]
    fn without_flags_or_recorded_roles_promote_and_abort_say_what_to_pass() {
        let obj = split_vs();
        let ctx = ctx(&obj);
        let err = apply(&promote_edit(None, None, None), &obj, &ctx).unwrap_err();
        assert_eq!(
            err.to_string(),
            "route \"primary\" of VirtualService prod/reviews sends v1 100%, v2 0%, but its stable and canary \
             versions are not recorded (annotation vroute.kubectl.io/versions, written by set-weight, switch, \
             promote and abort): pass --stable VERSION --to VERSION"
        );
        let only_stable = apply(&promote_edit(Some("v1"), None, None), &obj, &ctx).unwrap_err();
        assert!(only_stable.to_string().ends_with("its canary version is not recorded (annotation vroute.kubectl.io/versions, written by set-weight, switch, promote and abort): pass --to VERSION"), "{only_stable}");
        let abort = Edit { intent: Intent::Abort { route: None, roles: RoleFlags::default() }, force: false };
        let err = apply(&abort, &obj, &ctx).unwrap_err();
        assert!(err.to_string().ends_with("pass --stable VERSION"), "{err}");
    }

    #[test]
    fn flags_pick_the_versions_and_are_recorded_for_the_next_promote() {
        let obj = split_vs();
        let ctx = ctx(&obj);
        let first = apply(&promote_edit(Some("v1"), Some("v2"), Some(10)), &obj, &ctx).unwrap().object.unwrap();
        assert_eq!(weights(&first), [90, 10]);
        assert_eq!(
            history::read(&Draft::new(&first).unwrap()).unwrap()[0].command,
            "promote --stable v1 --to v2 --step 10"
        );
        let second = apply(&promote_edit(None, None, Some(10)), &first, &ctx).unwrap().object.unwrap();
        assert_eq!(weights(&second), [80, 20]);
        // A flag overrides the recorded role, and the new pair is recorded.
        let mut swapped = second.clone();
        on(&mut swapped, |d| {
            promote(d, None, &RoleFlags { stable: Some("v2".into()), canary: Some("v1".into()) }, None, &ctx)
        })
        .unwrap();
        assert_eq!(weights(&swapped), [100, 0]);
        assert_eq!(
            roles::read(&Draft::new(&swapped).unwrap()).unwrap()["primary"],
            Roles { stable: "v2".into(), canary: Some("v1".into()) }
        );
    }

    #[test]
    fn the_same_version_as_stable_and_canary_is_refused() {
        let mut obj = recorded();
        let ctx = ctx(&obj);
        let err =
            on(&mut obj, |d| promote(d, None, &RoleFlags { stable: Some("v2".into()), canary: None }, None, &ctx))
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "v2 cannot be both the stable and the canary version of route \"primary\": name the other one with \
             --stable or --to"
        );
    }

    #[test]
    fn traffic_to_a_third_version_is_left_to_set_weight() {
        let mut obj = vs(json!([{"name": "primary", "route": [
            {"destination": {"host": "reviews", "subset": "v1"}, "weight": 80},
            {"destination": {"host": "reviews", "subset": "v2"}, "weight": 10},
            {"destination": {"host": "reviews", "subset": "v3"}, "weight": 10}]}]));
        let ctx = ctx(&obj);
        let flags = RoleFlags { stable: Some("v1".into()), canary: Some("v2".into()) };
        let err = on(&mut obj, |d| promote(d, None, &flags, Some(10), &ctx)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "route \"primary\" of VirtualService prod/reviews also sends v3 10%, which is neither its stable \
             (v1) nor its canary (v2) version: promote only moves traffic between those two; set the whole split \
             with `kubectl vroute set-weight`"
        );
    }

    #[test]
    fn abort_sends_everything_back_to_the_stable_version_and_keeps_the_canary_recorded() {
        let mut obj = recorded();
        let ctx = ctx(&obj);
        on(&mut obj, |d| promote(d, None, &RoleFlags::default(), Some(40), &ctx)).unwrap();
        let abort = Edit { intent: Intent::Abort { route: None, roles: RoleFlags::default() }, force: false };
        let outcome = apply(&abort, &obj, &ctx).unwrap();
        assert_eq!(outcome.message, "route \"primary\" now v1 100%, v2 0%");
        let aborted = outcome.object.unwrap();
        assert_eq!(history::read(&Draft::new(&aborted).unwrap()).unwrap().last().unwrap().command, "abort");
        assert_eq!(
            roles::read(&Draft::new(&aborted).unwrap()).unwrap()["primary"],
            Roles { stable: "v1".into(), canary: Some("v2".into()) }
        );
        let again = apply(&abort, &aborted, &ctx).unwrap();
        assert_eq!(
            again.message,
            "route \"primary\" unchanged: v1 100%, v2 0% (nothing to abort: the stable version v1 already has all \
             the traffic)"
        );
    }

    #[test]
    fn abort_with_a_stable_flag_needs_no_record() {
        let mut obj = vs(json!([{"name": "primary", "route": [
            {"destination": {"host": "reviews", "subset": "v1"}, "weight": 70},
            {"destination": {"host": "reviews", "subset": "v2"}, "weight": 30}]}]));
        let ctx = ctx(&obj);
        on(&mut obj, |d| abort(d, None, &RoleFlags { stable: Some("v1".into()), canary: None }, &ctx)).unwrap();
        assert_eq!(weights(&obj), [100, 0]);
        assert_eq!(
            roles::read(&Draft::new(&obj).unwrap()).unwrap()["primary"],
            Roles { stable: "v1".into(), canary: None }
        );
    }
}
