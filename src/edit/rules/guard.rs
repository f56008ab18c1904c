//! The safety rules every HTTPRoute edit passes, as a VirtualService edit passes [`crate::edit::guard`]'s:
//! which rule an edit may touch, no traffic to a backend that cannot serve it, and no change to the rules a
//! Rollout's Gateway API plugin rewrites (or may: one that could not be read or listed stops the edit unless
//! forced).

use super::context::RuleContext;
use super::draft::RouteDraft;
use crate::edit::EditError;
use crate::edit::context::Version;
use crate::gateway::objects::{HttpRoute, Rule};
use crate::istio::host;
use crate::istio::route::percent;

/// The rule `--route` names (by name or `#index`), else the only rule, else the first rule that catches every
/// request; refused when a Rollout's plugin manages it, unless forced.
pub fn editable_rule(route: &RouteDraft, wanted: Option<&str>, ctx: &RuleContext) -> Result<usize, EditError> {
    let rules = route.rules();
    let keys: Vec<String> = rules.iter().enumerate().map(|(i, r)| r.key(i)).collect();
    let index = match wanted {
        Some(w) => keys.iter().position(|k| k == w).ok_or_else(|| EditError::UnknownRule {
            route: ctx.label(),
            rule: w.to_string(),
            rules: keys.clone(),
        })?,
        None if rules.is_empty() => return Err(EditError::NoRules { route: ctx.label() }),
        None if rules.len() == 1 => 0,
        None => rules
            .iter()
            .position(Rule::is_catch_all)
            .ok_or(EditError::AmbiguousRule { route: ctx.label(), rules: keys })?,
    };
    if let Some(rollout) = ctx.owner_of(route.view(), &rules[index]).filter(|_| !ctx.force) {
        return Err(EditError::ManagedByPlugin {
            route: ctx.label(),
            rule: rules[index].label(index),
            rollout: rollout.key(),
        });
    }
    Ok(index)
}

/// Unforced, refuses any edit while Rollouts are unlisted or one cannot be read (either may own the route),
/// and any change to a rule a Rollout's plugin manages.
pub fn owned(before: &RouteDraft, after: &RouteDraft, ctx: &RuleContext, force: bool) -> Result<(), EditError> {
    if force {
        return Ok(());
    }
    if ctx.rollouts_unknown {
        return Err(EditError::RolloutsUnknown { vs: ctx.label() });
    }
    if let Some(doubt) = ctx.doubts.first() {
        return Err(EditError::RolloutUnreadable {
            vs: ctx.label(),
            rollout: doubt.rollout.key(),
            error: doubt.error.to_string(),
            routes: None,
        });
    }
    for (rollout, _) in &ctx.owners {
        let claimed = managed(before.view(), before.rules(), ctx, rollout);
        let claims = managed(after.view(), after.rules(), ctx, rollout);
        let (old, new) = (before.raw_rules(), after.raw_rules());
        let mut touched: Vec<usize> = claimed
            .iter()
            .chain(&claims)
            .copied()
            .filter(|&i| old.get(i) != new.get(i) || claimed.contains(&i) != claims.contains(&i))
            .collect();
        touched.sort_unstable();
        touched.dedup();
        if !touched.is_empty() {
            let rules = touched.iter().map(|&i| after.rules().get(i).unwrap_or(&before.rules()[i]).label(i)).collect();
            return Err(EditError::RolloutRulesChanged { route: ctx.label(), rollout: rollout.key(), rules });
        }
    }
    Ok(())
}

/// Indexes of the rules of `rules` (the route's, or a revision's) Rollout `rollout` manages.
pub fn managed(
    route: &HttpRoute,
    rules: &[Rule],
    ctx: &RuleContext,
    rollout: &crate::objects::ObjectRef,
) -> Vec<usize> {
    let owns = |rule: &Rule| ctx.owners.iter().any(|(ro, own)| ro == rollout && own.manages(route, rule));
    (0..rules.len()).filter(|&i| owns(&rules[i])).collect()
}

/// Refuses traffic to a backend that cannot serve it (a Service that does not exist: Gateway API answers
/// its share with HTTP 500; unless forced, one without ready pods) in every rule the edit adds or changes.
pub fn destinations(before: &[Rule], after: &[Rule], ctx: &RuleContext, force: bool) -> Result<(), EditError> {
    for (index, rule) in after.iter().enumerate().filter(|(_, r)| !before.contains(r)) {
        let what = rule.label(index);
        for (b, share) in rule.backend_refs.iter().zip(rule.shares()) {
            let Some(v) = ctx.version_of(b).filter(|_| share > 0.0) else { continue };
            defined(v, &what, ctx)?;
            if let Some(pods) = v.pods.filter(|p| p.ready == 0 && !force) {
                return Err(EditError::NoReadyPods {
                    vs: ctx.label(),
                    what,
                    version: v.name.clone(),
                    percent: percent(share),
                    ready: pods.ready,
                    total: pods.total,
                });
            }
        }
    }
    Ok(())
}

/// Refuses a backend Service that does not exist.
pub fn defined(v: &Version, what: &str, ctx: &RuleContext) -> Result<(), EditError> {
    if v.defined {
        return Ok(());
    }
    Err(EditError::NotRoutable {
        vs: ctx.label(),
        what: what.to_string(),
        target: host::short(&v.key.host, &ctx.domain),
        reason: "which has no Service (its share would get HTTP 500): create the Service or fix the name".into(),
    })
}
