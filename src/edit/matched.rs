//! `route SERVICE --to VERSION --header end-user=jason`: send the requests that match some conditions to one
//! version (dark launch, A/B, testers first), before any weight moves. The route is one match block placed
//! before the routes that take requests whatever they carry (version pins by caller, the catch-all), so a
//! tester's request wins over a caller pin; `--remove` takes it out again.
//!
//! A route is found by its conditions (the same match block, whoever wrote it) or its name: asking again
//! changes nothing, and asking with another version moves the existing route, keeping whatever else it has
//! (a fault, retries). `fault --header` shares the lookup: its conditions name the same routes.

use super::conditions::Conditions;
use super::context::Context;
use super::object::Draft;
use super::{EditError, Summary, guard};
use crate::istio::HttpRoute;
use serde_json::{Value, json};

/// What `route` was asked: a version for the conditions, or (`to: None`) their removal.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchRoute {
    pub conditions: Conditions,
    pub to: Option<String>,
    /// `--name`: the route's name when it is added (default: made from the conditions).
    pub name: Option<String>,
}

/// The route whose only match block is `block`, else the one named `name`.
pub fn find(vs: &Draft, block: &Value, name: Option<&str>) -> Option<usize> {
    let raw = vs.raw_http();
    let same = |r: &Value| r.get("match").and_then(Value::as_array).is_some_and(|m| m.len() == 1 && &m[0] == block);
    raw.iter().position(same).or_else(|| name.and_then(|n| vs.http().iter().position(|r| r.name.as_deref() == Some(n))))
}

/// Where a route that tests the request goes: before the first route that takes requests whatever they
/// carry (a caller pin, the catch-all), or last.
pub fn position(http: &[HttpRoute]) -> usize {
    http.iter()
        .position(|r| r.matches.is_empty() || r.matches.iter().all(|m| !m.typed.has_request_conditions()))
        .unwrap_or(http.len())
}

/// A name no other route of the VirtualService has: `wanted`, else `wanted-2`, `wanted-3`...
pub fn unique_name(http: &[HttpRoute], wanted: &str) -> String {
    free_name(wanted, |n| http.iter().any(|r| r.name.as_deref() == Some(n)))
}

/// `wanted`, else `wanted-2`, `wanted-3`...: the first that `taken` does not claim (for both route APIs).
pub fn free_name(wanted: &str, taken: impl Fn(&str) -> bool) -> String {
    (1..).map(|i| if i == 1 { wanted.to_string() } else { format!("{wanted}-{i}") }).find(|n| !taken(n)).unwrap()
}

/// The destinations of the route that takes the rest of the traffic (the catch-all), as written: what a
/// faulted copy of it sends to.
pub fn catch_all_route(vs: &Draft) -> Option<Value> {
    let index = vs.http().iter().position(HttpRoute::is_catch_all)?;
    vs.raw_http()[index].get("route").cloned()
}

pub fn route(vs: &mut Draft, asked: &MatchRoute, ctx: &Context) -> Result<Summary, EditError> {
    // `--remove --name N` alone finds the route by its name; anything else needs conditions (an empty block
    // would be a catch-all).
    let by_name_only = asked.conditions.is_empty() && asked.to.is_none() && asked.name.is_some();
    if asked.conditions.is_empty() && !by_name_only {
        return Err(EditError::NoConditions);
    }
    asked.conditions.validate()?;
    let block = asked.conditions.istio();
    let found = match &asked.name {
        Some(name) if by_name_only => vs.http().iter().position(|r| r.name.as_deref() == Some(name.as_str())),
        _ => find(vs, &block, asked.name.as_deref()),
    };
    let conditions = match &asked.name {
        Some(name) if by_name_only => format!("the name {name:?}"),
        _ => asked.conditions.to_string(),
    };
    let Some(to) = &asked.to else {
        let Some(index) = found else {
            return Ok(Summary { subject: "routes".into(), state: format!("no route matches {conditions}") });
        };
        let key = vs.http()[index].key(index);
        guard::editable_route(vs.http(), Some(&key), ctx)?;
        let subject = vs.http()[index].label(index);
        let mut http = vs.raw_http();
        http.remove(index);
        vs.set_http(http)?;
        return Ok(Summary { subject, state: "removed".into() });
    };
    let version = ctx.version(to)?;
    let mut http = vs.raw_http();
    let index = match found {
        Some(index) => {
            guard::editable_route(vs.http(), Some(&vs.http()[index].key(index)), ctx)?;
            index
        }
        None => {
            let at = position(vs.http());
            let wanted = asked.name.clone().unwrap_or_else(|| asked.conditions.route_name("vroute"));
            let name = unique_name(vs.http(), &wanted);
            http.insert(at, json!({"name": name, "match": [block], "route": []}));
            at
        }
    };
    let subject = match http[index].get("name").and_then(Value::as_str) {
        Some(name) => format!("route {name:?}"),
        None => format!("route #{index}"),
    };
    guard::defined(version, &subject, ctx)?;
    let (typed, raw) = match vs.http().iter().position(HttpRoute::is_catch_all) {
        Some(i) => (vs.http()[i].route.clone(), vs.raw_http()[i]["route"].as_array().cloned().unwrap_or_default()),
        None => (Vec::new(), Vec::new()),
    };
    http[index]["route"] = json!([{"destination": ctx.destination(version, &typed, &raw)}]);
    vs.set_http(http)?;
    Ok(Summary { subject, state: format!("sends {conditions} to {}", version.name) })
}

/// The routes that test the request (what `route SERVICE` lists): index, name, conditions as written.
pub fn listed(vs: &Draft) -> Vec<(usize, &HttpRoute)> {
    vs.http().iter().enumerate().filter(|(_, r)| r.matches.iter().any(|m| m.typed.has_request_conditions())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::conditions::{Condition, Text};
    use crate::edit::context::tests::{on, request, snapshot, split_vs};

    fn jason() -> Conditions {
        Conditions(vec![Condition::Header { name: "end-user".parse().unwrap(), value: Text::Exact("jason".into()) }])
    }

    fn ask(to: Option<&str>) -> MatchRoute {
        MatchRoute { conditions: jason(), to: to.map(str::to_string), name: None }
    }

    fn ctx(vs: &Value, pods: &[(&str, usize)]) -> Context {
        Context::build(&snapshot(vs.clone(), pods), &request()).unwrap()
    }

    #[test]
    fn a_header_route_goes_before_pins_and_the_catch_all_and_asking_again_changes_nothing() {
        let mut vs = split_vs();
        vs["spec"]["http"].as_array_mut().unwrap().insert(
            0,
            json!({"name": "vroute-pin-v1", "match": [{"sourceLabels": {"version": "v1"}}],
                   "route": [{"destination": {"host": "reviews", "subset": "v1"}}]}),
        );
        let ctx = ctx(&vs, &[("v1", 1), ("v2", 1)]);
        let summary = on(&mut vs, |d| route(d, &ask(Some("v2")), &ctx)).unwrap();
        assert_eq!(summary.message(true), "route \"vroute-end-user-jason\" now sends --header end-user=jason to v2");
        assert_eq!(
            vs["spec"]["http"][0],
            json!({"name": "vroute-end-user-jason", "match": [{"headers": {"end-user": {"exact": "jason"}}}],
                   "route": [{"destination": {"host": "reviews", "subset": "v2"}}]})
        );
        assert_eq!(vs["spec"]["http"][1]["name"], "vroute-pin-v1");
        let before = vs.clone();
        on(&mut vs, |d| route(d, &ask(Some("v2")), &ctx)).unwrap();
        assert_eq!(vs, before, "idempotent");
        // Another version moves the same route, keeping what else it has.
        vs["spec"]["http"][0]["timeout"] = json!("2s");
        on(&mut vs, |d| route(d, &ask(Some("v1")), &ctx)).unwrap();
        assert_eq!(vs["spec"]["http"].as_array().unwrap().len(), 3);
        assert_eq!(vs["spec"]["http"][0]["route"][0]["destination"]["subset"], "v1");
        assert_eq!(vs["spec"]["http"][0]["timeout"], "2s");
        let removed = on(&mut vs, |d| route(d, &ask(None), &ctx)).unwrap();
        assert_eq!(removed.message(true), "route \"vroute-end-user-jason\" now removed");
        assert_eq!(vs["spec"]["http"].as_array().unwrap().len(), 2);
        let again = on(&mut vs, |d| route(d, &ask(None), &ctx)).unwrap();
        assert_eq!(again.state, "no route matches --header end-user=jason");
    }

    #[test]
    fn an_unknown_version_or_no_conditions_is_refused() {
        let mut vs = split_vs();
        let ctx = ctx(&vs, &[("v1", 1)]);
        assert!(matches!(on(&mut vs, |d| route(d, &ask(Some("v9")), &ctx)), Err(EditError::UnknownVersion { .. })));
        let none = MatchRoute { conditions: Conditions::default(), to: Some("v2".into()), name: None };
        assert_eq!(on(&mut vs, |d| route(d, &none, &ctx)), Err(EditError::NoConditions));
    }

    #[test]
    fn names_are_unique_and_a_given_name_finds_its_route() {
        let mut vs = split_vs();
        vs["spec"]["http"][0]["name"] = json!("vroute-end-user-jason");
        let ctx = ctx(&vs, &[("v1", 1), ("v2", 1)]);
        on(&mut vs, |d| route(d, &ask(Some("v2")), &ctx)).unwrap();
        assert_eq!(vs["spec"]["http"][0]["name"], "vroute-end-user-jason-2");
        let by_name =
            MatchRoute { conditions: Conditions::default(), to: None, name: Some("vroute-end-user-jason-2".into()) };
        on(&mut vs, |d| route(d, &by_name, &ctx)).unwrap();
        assert_eq!(vs["spec"]["http"].as_array().unwrap().len(), 1);
        assert_eq!(vs["spec"]["http"][0]["name"], "vroute-end-user-jason", "the catch-all is not removed");
    }
}
