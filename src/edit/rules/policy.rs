//! `route`, `timeout` and `retries` on an HTTPRoute, in Gateway API's fields: a rule with one match for the
//! conditions, `timeouts.request`, and `retry` (attempts and status codes) with `timeouts.backendRequest` as
//! each try's deadline. Gateway API has no fault injection and no circuit breaking: those edits are refused
//! (see [`super::apply`]).
//!
//! A condition rule is appended: Gateway API ranks rules by their matches, not their place, so a rule with a
//! header condition outranks the catch-all wherever it stands.

use super::context::RuleContext;
use super::draft::RouteDraft;
use super::guard;
use crate::duration;
use crate::edit::conditions::Conditions;
use crate::edit::matched::MatchRoute;
use crate::edit::policy::{self, Retries, RetryOn};
use crate::edit::{EditError, Summary};
use crate::gateway::objects::{Match, Rule};
use crate::names::is_dns_label;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Gateway API's limit on `spec.rules`.
const MAX_RULES: usize = 16;

/// The rule whose only match is the conditions' (paths defaulted as the API server defaults them).
fn find(route: &RouteDraft, block: &Value, name: Option<&str>) -> Result<Option<usize>, EditError> {
    let wanted: Match = crate::edit::object::typed(block)?;
    let wanted = Match { path: Some(wanted.path()), ..wanted };
    let same = |r: &Rule| {
        let m = r.effective_matches();
        m.len() == 1 && Match { path: Some(m[0].path()), ..m[0].clone() } == wanted
    };
    Ok(route
        .rules()
        .iter()
        .position(same)
        .or_else(|| name.and_then(|n| route.rules().iter().position(|r| r.name.as_deref() == Some(n)))))
}

pub fn route(r: &mut RouteDraft, asked: &MatchRoute, ctx: &RuleContext) -> Result<Summary, EditError> {
    let by_name_only = asked.conditions.is_empty() && asked.to.is_none() && asked.name.is_some();
    if asked.conditions.is_empty() && !by_name_only {
        return Err(EditError::NoConditions);
    }
    asked.conditions.validate()?;
    let block = asked.conditions.gateway()?;
    let conditions = match &asked.name {
        Some(name) if by_name_only => format!("the name {name:?}"),
        _ => asked.conditions.to_string(),
    };
    let found = match &asked.name {
        Some(name) if by_name_only => r.rules().iter().position(|x| x.name.as_deref() == Some(name.as_str())),
        _ => find(r, &block, asked.name.as_deref())?,
    };
    let mut rules = r.raw_rules();
    let Some(to) = &asked.to else {
        let Some(index) = found else {
            return Ok(Summary { subject: "rules".into(), state: format!("no rule matches {conditions}") });
        };
        let key = r.rules()[index].key(index);
        guard::editable_rule(r, Some(&key), ctx)?;
        let subject = r.rules()[index].label(index);
        rules.remove(index);
        r.set_rules(rules)?;
        return Ok(Summary { subject, state: "removed".into() });
    };
    let version = ctx.version(to)?;
    let siblings: Vec<_> = r.rules().iter().flat_map(|x| x.backend_refs.clone()).collect();
    let backend = ctx.backend(version, &siblings)?;
    let index = match found {
        Some(index) => {
            guard::editable_rule(r, Some(&r.rules()[index].key(index)), ctx)?;
            index
        }
        None if rules.len() >= MAX_RULES => return Err(EditError::TooManyRules { route: ctx.label(), max: MAX_RULES }),
        None => {
            let mut rule = json!({"matches": [block]});
            let wanted = asked.name.clone().unwrap_or_else(|| asked.conditions.route_name("vroute"));
            // A rule name must be a DNS label; a name made from long conditions may not be one: unnamed then.
            let name =
                crate::edit::matched::free_name(&wanted, |n| r.rules().iter().any(|x| x.name.as_deref() == Some(n)));
            if is_dns_label(&name) {
                rule["name"] = json!(name);
            }
            rules.push(rule);
            rules.len() - 1
        }
    };
    // A rule already sending to the version alone is left as stored (the API server defaults a backend's
    // group, kind and weight: rewriting it would change nothing but the bytes).
    let already = r.rules().get(index).is_some_and(|x| {
        matches!(x.backend_refs.as_slice(), [only] if ctx.version_of(only) == Some(version)) && found.is_some()
    });
    if !already {
        rules[index]["backendRefs"] = json!([backend]);
    }
    r.set_rules(rules)?;
    guard::defined(version, &r.rules()[index].label(index), ctx)?;
    Ok(Summary { subject: r.rules()[index].label(index), state: format!("sends {conditions} to {}", version.name) })
}

/// Sets (or removes) `timeouts.<field>` of rule `index`, dropping an emptied `timeouts`.
fn set_timeout(rule: &mut Value, field: &str, value: Option<Duration>) {
    let Some(r) = rule.as_object_mut() else { return };
    let mut timeouts = r.get("timeouts").and_then(Value::as_object).cloned().unwrap_or_default();
    match value {
        Some(d) => timeouts.insert(field.into(), json!(duration::gateway_api(d))),
        None => timeouts.remove(field),
    };
    if timeouts.is_empty() {
        r.remove("timeouts");
    } else {
        r.insert("timeouts".into(), Value::Object(timeouts));
    }
}

/// Gateway API requires a try's deadline within the request's (`backendRequest <= request`).
fn check_deadlines(rule: &Rule, label: &str) -> Result<(), EditError> {
    let read = |t: &Option<String>| t.as_deref().and_then(|t| duration::parse(t, duration::ROUTE_TIMEOUT).ok());
    let Some(t) = rule.timeouts.as_ref().map(|t| &t.typed) else { return Ok(()) };
    match (read(&t.request), read(&t.backend_request)) {
        (Some(request), Some(each)) if each > request => Err(EditError::BadValue {
            flag: "--per-try-timeout",
            problem: format!(
                "{} is longer than {label}'s request timeout {}: Gateway API needs each try within the request's \
                 deadline",
                duration::format(each),
                duration::format(request)
            ),
        }),
        _ => Ok(()),
    }
}

pub fn timeout(
    r: &mut RouteDraft,
    rule: Option<&str>,
    timeout: Option<Duration>,
    ctx: &RuleContext,
) -> Result<Summary, EditError> {
    let index = guard::editable_rule(r, rule, ctx)?;
    let subject = r.rules()[index].label(index);
    let mut rules = r.raw_rules();
    set_timeout(&mut rules[index], "request", timeout);
    r.set_rules(rules)?;
    check_deadlines(&r.rules()[index], &subject)?;
    Ok(Summary { subject, state: policy::timeout_state(timeout) })
}

pub fn retries(
    r: &mut RouteDraft,
    rule: Option<&str>,
    retries: &Retries,
    ctx: &RuleContext,
) -> Result<Summary, EditError> {
    let index = guard::editable_rule(r, rule, ctx)?;
    let subject = r.rules()[index].label(index);
    let mut rules = r.raw_rules();
    let (retry, each, state) = match retries {
        Retries::Set(asked) => {
            asked.validate()?;
            let mut codes: Vec<u16> = Vec::new();
            for on in &asked.retry_on {
                match on {
                    RetryOn::Status(code) => codes.push(*code),
                    // Envoy's gateway-error is exactly these three responses.
                    RetryOn::Condition("gateway-error") => codes.extend([502, 503, 504]),
                    RetryOn::Condition(other) => {
                        return Err(EditError::NotInGatewayApi {
                            what: format!("--retry-on {other}"),
                            why: "an HTTPRoute's retry names status codes only: give codes (502,503) or \
                                  gateway-error"
                                .into(),
                        });
                    }
                }
            }
            codes.sort_unstable();
            codes.dedup();
            let mut retry = Map::new();
            retry.insert("attempts".into(), json!(asked.attempts));
            if !codes.is_empty() {
                retry.insert("codes".into(), json!(codes));
            }
            let on: Vec<String> = codes.iter().map(u16::to_string).collect();
            let state = policy::retry_state(asked.attempts, &on, asked.per_try_timeout);
            (Some(Value::Object(retry)), asked.per_try_timeout, state)
        }
        Retries::Off => (Some(json!({"attempts": 0})), None, "does not retry".into()),
        Retries::Default => (None, None, "retries as the implementation's default".into()),
    };
    if let Some(rule) = rules[index].as_object_mut() {
        match retry {
            Some(v) => rule.insert("retry".into(), v),
            None => rule.remove("retry"),
        };
    }
    set_timeout(&mut rules[index], "backendRequest", each);
    r.set_rules(rules)?;
    check_deadlines(&r.rules()[index], &subject)?;
    Ok(Summary { subject, state })
}

/// `fault --header` on an HTTPRoute names conditions too: refused all the same.
pub fn no_fault(ctx: &RuleContext, _conditions: &Conditions) -> EditError {
    EditError::NoGatewayEquivalent {
        what: "fault injection",
        route: ctx.label(),
        host: ctx.host.clone(),
        instead: "Inject faults in the backend itself, or route the host with a VirtualService (sidecars)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule_route() -> Value {
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
               "metadata": {"name": "reviews", "namespace": "prod"},
               "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "reviews"}],
                        "rules": [{"backendRefs": [{"name": "reviews-v1", "port": 9080}]}]}})
    }

    #[test]
    fn deadlines_are_checked_against_each_other() {
        let mut raw = rule_route();
        raw["spec"]["rules"][0]["timeouts"] = json!({"request": "1s", "backendRequest": "2s"});
        let draft = RouteDraft::new(&raw).unwrap();
        let err = check_deadlines(&draft.rules()[0], "rule #0").unwrap_err().to_string();
        assert!(err.starts_with("--per-try-timeout: 2s is longer than rule #0's request timeout 1s"), "{err}");
        let mut rule = raw["spec"]["rules"][0].clone();
        set_timeout(&mut rule, "backendRequest", None);
        set_timeout(&mut rule, "request", None);
        assert!(rule.get("timeouts").is_none());
    }
}
