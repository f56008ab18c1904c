//! `set-weight`, `switch` and a plain canary's `promote`/`abort` on an HTTPRoute rule: the weights of its
//! `backendRefs`. Gateway API weights are relative; vroute writes whole numbers summing to 100, so the weight
//! read is the share.

use super::context::RuleContext;
use super::draft::RouteDraft;
use super::guard;
use crate::edit::canary::{self, RoleFlags, Route};
use crate::edit::context::Version;
use crate::edit::weights::{self, Weight};
use crate::edit::{EditError, Summary, roles};
use crate::gateway::objects::Rule;
use serde_json::{Value, json};

pub fn set_weight(
    route: &mut RouteDraft,
    rule: Option<&str>,
    weights: &[Weight],
    normalize: bool,
    ctx: &RuleContext,
) -> Result<Summary, EditError> {
    let index = guard::editable_rule(route, rule, ctx)?;
    let split = weights::resolve(weights, normalize, |v| ctx.version(v))?;
    apply_split(route, index, &split, ctx)
}

pub fn switch(
    route: &mut RouteDraft,
    rule: Option<&str>,
    version: &str,
    ctx: &RuleContext,
) -> Result<Summary, EditError> {
    let index = guard::editable_rule(route, rule, ctx)?;
    apply_split(route, index, &[(ctx.version(version)?, 100)], ctx)
}

/// As a VirtualService route's ([`crate::edit::canary::promote`]): the canary gains `step` points.
pub fn promote(
    route: &mut RouteDraft,
    rule: Option<&str>,
    flags: &RoleFlags,
    step: Option<u64>,
    ctx: &RuleContext,
) -> Result<Summary, EditError> {
    let target = chosen(route, rule, ctx)?;
    let (roles, split) = target.promotion(flags, step, &ctx.label(), |v| Ok(ctx.version(v)?.name.clone()))?;
    let before = route.raw_rules();
    let mut summary = set_weight(route, Some(&target.key), &split, false, ctx)?;
    if route.raw_rules() == before {
        summary.state.push_str(&canary::promoted_already(&roles));
    }
    roles::remember(route, &target.key, roles)?;
    Ok(summary)
}

/// As a VirtualService route's ([`crate::edit::canary::abort`]): everything back to the stable version.
pub fn abort(
    route: &mut RouteDraft,
    rule: Option<&str>,
    flags: &RoleFlags,
    ctx: &RuleContext,
) -> Result<Summary, EditError> {
    let target = chosen(route, rule, ctx)?;
    let roles = target.abort_roles(flags, &ctx.label(), |v| Ok(ctx.version(v)?.name.clone()))?;
    let before = route.raw_rules();
    let mut summary = switch(route, Some(&target.key), &roles.stable, ctx)?;
    if route.raw_rules() == before {
        summary.state.push_str(&canary::aborted_already(&roles));
    }
    roles::remember(route, &target.key, roles)?;
    Ok(summary)
}

fn chosen(route: &RouteDraft, rule: Option<&str>, ctx: &RuleContext) -> Result<Route, EditError> {
    let index = guard::editable_rule(route, rule, ctx)?;
    let picked = &route.rules()[index];
    let key = picked.key(index);
    Ok(Route {
        recorded: roles::read(route)?.remove(&key),
        label: picked.label(index),
        shares: named_shares(picked, ctx),
        key,
    })
}

/// Writes the split into rule `index`: each backend of a named version gets its weight, the others 0 (they
/// stay, so a switch back finds them); versions the rule does not list yet are appended.
fn apply_split(
    route: &mut RouteDraft,
    index: usize,
    split: &[(&Version, u64)],
    ctx: &RuleContext,
) -> Result<Summary, EditError> {
    let typed = route.rules()[index].backend_refs.clone();
    let before = named_shares(&route.rules()[index], ctx);
    let mut rules = route.raw_rules();
    let mut backends: Vec<Value> = rules[index]["backendRefs"].as_array().cloned().unwrap_or_default();
    let keys: Vec<_> = typed.iter().map(|b| ctx.key(b)).collect();
    for (v, w) in weights::place(&mut backends, &keys, split) {
        let mut backend = ctx.backend(v, &typed)?;
        backend["weight"] = json!(w);
        backends.push(backend);
    }
    rules[index]["backendRefs"] = Value::Array(backends);
    route.set_rules(rules)?;
    let rule = &route.rules()[index];
    let (key, label) = (rule.key(index), rule.label(index));
    let after = named_shares(rule, ctx);
    roles::record(route, &key, &before, &after)?;
    Ok(Summary { subject: label, state: weights::split_state(&after) })
}

/// `(version name, share %)` of each backend of a rule.
pub fn named_shares(rule: &Rule, ctx: &RuleContext) -> Vec<(String, f64)> {
    rule.backend_refs.iter().map(|b| ctx.name_of(b)).zip(rule.shares()).collect()
}
