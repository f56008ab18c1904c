//! Edits of a host routed by a Gateway API HTTPRoute: `set-weight`, `switch`, `mirror`, `undo` and a plain
//! canary's `promote`/`abort` on one rule's `backendRefs` (one Service per version), with the same safety as
//! VirtualService edits: the same guards in Gateway API terms ([`guard`]), the same undo history and version
//! roles kept as annotations on the HTTPRoute, and the same intent-not-diff shape, so a write conflict re-applies
//! the edit to the fresher object.

pub mod context;
pub mod draft;
mod guard;
mod mirror;
mod pin;
mod policy;
mod split;

pub use context::RuleContext;

use super::pin::PinBy;
use super::{Edit, EditError, Intent, Outcome, Summary, history, roles};
use crate::gateway::objects::{HttpRoute, Rule};
use crate::objects::parse;
use draft::RouteDraft;
use serde_json::Value;

/// Applies `edit` to HTTPRoute `route` (as read) in `ctx`, guards the result and records it in the history.
pub fn apply(edit: &Edit, route: &Value, ctx: &RuleContext) -> Result<Outcome, EditError> {
    let before = RouteDraft::new(route)?;
    let mut new = before.clone();
    let summary = match &edit.intent {
        Intent::SetWeight { route, weights, normalize } => {
            split::set_weight(&mut new, route.as_deref(), weights, *normalize, ctx)?
        }
        Intent::Switch { route, version } => split::switch(&mut new, route.as_deref(), version, ctx)?,
        Intent::Mirror { route, to } => mirror::mirror(&mut new, route.as_deref(), to.as_ref(), ctx)?,
        Intent::Undo { revision } => undo(&mut new, *revision, ctx)?,
        Intent::Promote { route, roles, step } => split::promote(&mut new, route.as_deref(), roles, *step, ctx)?,
        Intent::Abort { route, roles } => split::abort(&mut new, route.as_deref(), roles, ctx)?,
        Intent::Pin { by: PinBy::Header(header) } => pin::pin(&mut new, header, ctx)?,
        Intent::Pin { by: PinBy::Caller { .. } } => {
            let service = crate::istio::host::service_of(&ctx.host, &ctx.domain).map_or(ctx.host.clone(), |(n, _)| n);
            return Err(EditError::PinOnHttpRoute { host: ctx.host.clone(), route: ctx.label(), service });
        }
        Intent::Route(asked) => policy::route(&mut new, asked, ctx)?,
        Intent::Timeout { route, timeout } => policy::timeout(&mut new, route.as_deref(), *timeout, ctx)?,
        Intent::Retries { route, retries } => policy::retries(&mut new, route.as_deref(), retries, ctx)?,
        Intent::Fault { conditions, .. } => return Err(policy::no_fault(ctx, conditions)),
    };
    if new.raw_rules() == before.raw_rules() {
        return Ok(Outcome { object: None, message: summary.message(false) });
    }
    guard::destinations(before.rules(), new.rules(), ctx, edit.force)?;
    guard::owned(&before, &new, ctx, edit.force)?;
    history::record(&mut new, &before, edit.describe(&ctx.version_label), ctx.now)?;
    Ok(Outcome { object: Some(new.into_raw()), message: summary.message(true) })
}

/// `undo`: brings back the rules (and recorded versions) from before a revision. Rules a Rollout's plugin
/// manages keep their current content: its controller owns their weights, which have moved on since.
fn undo(route: &mut RouteDraft, revision: Option<u32>, ctx: &RuleContext) -> Result<Summary, EditError> {
    let (entry, mut back) = history::chosen(route, revision)?;
    let then: Vec<Rule> = parse::from_value(&Value::Array(back.clone()))
        .map_err(|e| history::damaged(route, format!("revision {}: {e}", entry.revision)))?;
    let then_view = HttpRoute {
        spec: crate::gateway::objects::HttpRouteSpec { rules: then, ..route.view().spec.clone() },
        ..route.view().clone()
    };
    let current = route.raw_rules();
    for (rollout, _) in &ctx.owners {
        let now = guard::managed(route.view(), route.rules(), ctx, rollout);
        let earlier = guard::managed(&then_view, &then_view.spec.rules, ctx, rollout);
        if now.len() != earlier.len() {
            let rules = now.iter().map(|&i| route.rules()[i].label(i)).collect();
            return Err(EditError::RolloutRulesChanged { route: ctx.label(), rollout: rollout.key(), rules });
        }
        for (n, t) in now.into_iter().zip(earlier) {
            back[t] = current[n].clone();
        }
    }
    route.set_rules(back)?;
    crate::edit::object::Annotated::set_annotation(route, roles::ANNOTATION, entry.versions.clone());
    Ok(history::restored(&entry, "rules"))
}

#[cfg(test)]
mod tests;
