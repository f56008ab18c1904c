//! `pin --header H` on an HTTPRoute: for every version (a backend Service whose selector carries the version
//! label, `reviews-v2` selecting `version: v2`), a rule sending the requests with `H: v2` to that Service.
//! HTTPRoutes have no caller conditions, so a header the callers set and propagate is the only way to pin.
//!
//! The rules are appended: Gateway API ranks a rule by its match, not its place, so `PathPrefix /` plus one
//! header outranks the catch-all and ties with other one-header rules, where the earlier rule wins. Rules that
//! match more specific paths keep taking their requests, as the routes before the default do for a
//! VirtualService's pins. Idempotent: a version already pinned by an equivalent rule (any name) is left alone,
//! and rules vroute added (`vroute-pin-VERSION`) are corrected in place.

use super::context::RuleContext;
use super::draft::RouteDraft;
use crate::edit::context::Version;
use crate::edit::pin::HeaderName;
use crate::edit::{EditError, Summary};
use crate::gateway::objects::{Match, PathMatch, Rule, ValueKind, ValueMatch};
use crate::names::is_dns_label;
use serde_json::json;

/// Gateway API's limit on `spec.rules`.
const MAX_RULES: usize = 16;

pub fn pin(route: &mut RouteDraft, header: &HeaderName, ctx: &RuleContext) -> Result<Summary, EditError> {
    let versions = ctx.pin_versions();
    if versions.is_empty() {
        return Err(EditError::NoVersions { host: ctx.host.clone(), label: ctx.version_label.clone() });
    }
    let siblings: Vec<_> = route.rules().iter().flat_map(|r| r.backend_refs.clone()).collect();
    let mut pinned = Vec::new();
    for (value, version) in versions {
        pinned.push(format!("{header}={value} -> {}", version.name));
        if route.rules().iter().any(|r| pins(r, header, &value, version, ctx)) {
            continue;
        }
        let name = format!("vroute-pin-{value}");
        let mut rule = json!({
            "matches": [{"headers": [{"type": "Exact", "name": header.as_str(), "value": value}]}],
            "backendRefs": [ctx.backend(version, &siblings)?],
        });
        if is_dns_label(&name) {
            rule["name"] = json!(name);
        }
        let mut rules = route.raw_rules();
        match route.rules().iter().position(|r| r.name.as_deref() == Some(name.as_str())) {
            Some(stale) => rules[stale] = rule,
            None if rules.len() >= MAX_RULES => {
                return Err(EditError::TooManyRules { route: ctx.label(), max: MAX_RULES });
            }
            None => rules.push(rule),
        }
        route.set_rules(rules)?;
    }
    Ok(Summary { subject: format!("requests with header {header}"), state: format!("pinned {}", pinned.join(", ")) })
}

/// Whether `rule` sends exactly the requests with `header: value` (and no others) to `version` alone.
fn pins(rule: &Rule, header: &HeaderName, value: &str, version: &Version, ctx: &RuleContext) -> bool {
    let wanted = Match {
        path: Some(PathMatch::default()),
        headers: vec![ValueMatch { kind: ValueKind::Exact, name: header.to_string(), value: value.to_string() }],
        ..Match::default()
    };
    let matches = rule.effective_matches();
    let same = matches.len() == 1 && Match { path: Some(matches[0].path()), ..matches[0].clone() } == wanted;
    same && matches!(rule.backend_refs.as_slice(), [only] if ctx.version_of(only) == Some(version))
}
