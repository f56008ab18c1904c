//! `mirror` on an HTTPRoute rule: a `RequestMirror` filter copies a share of the rule's requests to a backend
//! (responses are discarded). A whole percentage is written as `percent`; a fractional one as `fraction`
//! (`12.5` -> 125/1000), the only way Gateway API takes it.

use super::context::RuleContext;
use super::draft::RouteDraft;
use super::guard;
use crate::edit::{EditError, MirrorTo, Summary};
use crate::gateway::objects::Rule;
use crate::istio::route::percent;
use serde_json::{Map, Value, json};

const TYPE: &str = "RequestMirror";

/// Mirrors to `to` (`None`: removes every `RequestMirror` filter of the rule). The filter for that version is
/// updated when there is one; a rule with several mirrors keeps them and gains this one; otherwise the rule's
/// one mirror becomes this one, as with a VirtualService's `mirror`.
pub fn mirror(
    route: &mut RouteDraft,
    rule: Option<&str>,
    to: Option<&MirrorTo>,
    ctx: &RuleContext,
) -> Result<Summary, EditError> {
    let index = guard::editable_rule(route, rule, ctx)?;
    let typed = route.rules()[index].clone();
    let subject = typed.label(index);
    let mut rules = route.raw_rules();
    let Some(r) = rules[index].as_object_mut() else { unreachable!("a rule that reads as a rule is an object") };
    let mut filters: Vec<Value> = r.get("filters").and_then(Value::as_array).cloned().unwrap_or_default();
    let mirrors: Vec<usize> = (0..filters.len()).filter(|&i| filters[i]["type"] == TYPE).collect();
    match to {
        None => filters.retain(|f| f["type"] != TYPE),
        Some(to) => {
            // `!(x > 0)` also refuses NaN.
            if !(to.percent > 0.0 && to.percent <= 100.0) {
                return Err(EditError::BadPercent { value: to.percent });
            }
            let version = ctx.version(&to.version)?;
            guard::defined(version, &subject, ctx)?;
            let backend = ctx.backend(version, &typed.backend_refs)?;
            let share = share(to.percent);
            let same = typed.filters.iter().position(|f| {
                f.request_mirror.as_ref().is_some_and(|m| ctx.version_of(&m.backend_ref) == Some(version))
            });
            match same {
                Some(i) => {
                    let m = &mut filters[i]["requestMirror"];
                    if let Some(m) = m.as_object_mut() {
                        m.remove("percent");
                        m.remove("fraction");
                        m.extend(share);
                    }
                }
                None => {
                    let mut request_mirror = Map::from_iter([("backendRef".to_string(), backend)]);
                    request_mirror.extend(share);
                    let filter = json!({"type": TYPE, "requestMirror": request_mirror});
                    match mirrors.as_slice() {
                        [one] => filters[*one] = filter,
                        _ => filters.push(filter),
                    }
                }
            }
        }
    }
    if filters.is_empty() {
        r.remove("filters");
    } else {
        r.insert("filters".into(), Value::Array(filters));
    }
    route.set_rules(rules)?;
    Ok(Summary { subject, state: describe(&route.rules()[index], ctx) })
}

/// `percent: 10`, or `fraction: {numerator: 125, denominator: 1000}` for 12.5.
fn share(p: f64) -> Map<String, Value> {
    if p.fract() == 0.0 {
        return Map::from_iter([("percent".to_string(), json!(p as u64))]);
    }
    // The smallest power of ten that makes the share whole, up to parts per million (percent's 4 decimals).
    let mut denominator: u64 = 1000;
    while denominator < 1_000_000 && ((p * denominator as f64 / 100.0).fract()).abs() > 1e-9 {
        denominator *= 10;
    }
    let numerator = (p * denominator as f64 / 100.0).round() as u64;
    Map::from_iter([("fraction".to_string(), json!({"numerator": numerator, "denominator": denominator}))])
}

/// `mirrors 10% to reviews-v2.bookinfo`, or `mirrors nothing`.
fn describe(rule: &Rule, ctx: &RuleContext) -> String {
    let targets: Vec<String> =
        rule.mirrors().into_iter().map(|(b, p)| format!("{}% to {}", percent(p), ctx.name_of(b))).collect();
    if targets.is_empty() { "mirrors nothing".into() } else { format!("mirrors {}", targets.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::share;
    use serde_json::json;

    #[test]
    fn fractional_shares_are_written_as_the_smallest_exact_fraction() {
        assert_eq!(json!(share(10.0)), json!({"percent": 10}));
        assert_eq!(json!(share(12.5)), json!({"fraction": {"numerator": 125, "denominator": 1000}}));
        assert_eq!(json!(share(0.05)), json!({"fraction": {"numerator": 5, "denominator": 10000}}));
        assert_eq!(json!(share(0.0001)), json!({"fraction": {"numerator": 1, "denominator": 1000000}}));
    }
}
