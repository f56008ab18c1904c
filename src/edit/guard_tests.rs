//! Tests of [`super`]: route choice and the safety rules.

use super::*;
use crate::edit::context::tests::{request, snapshot, split_vs, vs};
use crate::objects::parse::from_value;
use crate::objects::{Kind, ObjectRef, Unreadable};
use serde_json::{Value, json};

fn ctx(vs: Value) -> Context {
    Context::build(&snapshot(vs, &[("v1", 1), ("v2", 1)]), &request()).unwrap()
}

fn routes(http: &Value) -> Vec<HttpRoute> {
    from_value(http).unwrap()
}

#[test]
fn the_only_the_named_or_the_catch_all_route_is_chosen() {
    let http = json!([
        {"name": "jason", "match": [{"headers": {"end-user": {"exact": "jason"}}}], "route": []},
        {"route": []}
    ]);
    let ctx = ctx(vs(http.clone()));
    let http = routes(&http);
    assert_eq!(editable_route(&http, None, &ctx), Ok(1));
    assert_eq!(editable_route(&http, Some("jason"), &ctx), Ok(0));
    assert_eq!(editable_route(&http, Some("#1"), &ctx), Ok(1));
    assert_eq!(editable_route(&http[..1], None, &ctx), Ok(0));
    let err = editable_route(&http, Some("nope"), &ctx).unwrap_err();
    assert_eq!(err.to_string(), "VirtualService prod/reviews has no http route \"nope\"; its routes are: jason, #1");
}

#[test]
fn several_routes_without_a_catch_all_are_ambiguous() {
    let http = json!([{"name": "a", "match": [{"uri": {"prefix": "/a"}}]}, {"name": "b", "match": [{"uri": {"prefix": "/b"}}]}]);
    let err = editable_route(&routes(&http), None, &ctx(vs(http.clone()))).unwrap_err();
    assert_eq!(
        err,
        EditError::AmbiguousRoute { vs: "VirtualService prod/reviews".into(), routes: vec!["a".into(), "b".into()] }
    );
    assert!(err.to_string().contains("pick one with --route (a, b)"), "{err}");
}

#[test]
fn weight_to_a_version_without_ready_pods_is_refused_unless_forced() {
    let ctx = Context::build(&snapshot(split_vs(), &[("v1", 1)]), &request()).unwrap();
    let before_json = split_vs()["spec"]["http"].clone();
    let mut after_json = before_json.clone();
    after_json[0]["route"][1]["weight"] = json!(10);
    after_json[0]["route"][0]["weight"] = json!(90);
    let (before, after) = (routes(&before_json), routes(&after_json));
    let err = destinations(&before, &after, &ctx, false).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "route \"primary\" of VirtualService prod/reviews would send 10% to version v2, which has no ready pods (0/0 ready)"
        ),
        "{err}"
    );
    assert_eq!(destinations(&before, &after, &ctx, true), Ok(()));
    // Weight 0 sends nothing: allowed.
    assert_eq!(destinations(&before, &before, &ctx, false), Ok(()));
}

#[test]
fn traffic_to_an_undefined_subset_is_refused_even_when_forced() {
    let ctx = ctx(split_vs());
    let before = routes(&split_vs()["spec"]["http"]);
    let after = routes(&json!([{"route": [{"destination": {"host": "reviews", "subset": "v9"}}]}]));
    let err = destinations(&before, &after, &ctx, true).unwrap_err();
    assert!(err.to_string().contains("subset v9, which no DestinationRule for reviews.prod defines"), "{err}");
}

#[test]
fn unchanged_routes_are_not_judged() {
    let broken =
        json!([{"route": [{"destination": {"host": "reviews", "subset": "v9"}}]}, {"name": "ok", "route": []}]);
    let ctx = ctx(vs(broken.clone()));
    let mut after = broken.clone();
    after[1]["timeout"] = json!("1s");
    assert_eq!(destinations(&routes(&broken), &routes(&after), &ctx, false), Ok(()));
}

/// A Rollout the API server accepts but nobody can read (`setWeight` beyond int32), whose routing claims route
/// `primary` of `reviews`.
fn unreadable(routing_readable: bool) -> Unreadable {
    let routing = json!({"metadata": {"name": "reviews", "namespace": "prod"},
        "spec": {"strategy": {"canary": {"trafficRouting": {"istio": {
            "virtualService": {"name": "reviews", "routes": ["primary"]}}}}}}});
    Unreadable {
        object: ObjectRef::new(Kind::Rollout, "prod", "reviews"),
        error: crate::objects::parse::FieldError {
            path: "spec.strategy.canary.steps[0].setWeight".into(),
            message: "invalid value: integer `99999999999`, expected i32".into(),
        },
        routing: routing_readable.then(|| crate::rollouts::Rollout::from_value(&routing).unwrap()),
    }
}

#[test]
fn an_unreadable_rollout_that_claims_the_route_stops_the_edit_unless_forced() {
    let obj = vs(json!([
        {"name": "jason", "match": [{"headers": {"end-user": {"exact": "jason"}}}],
         "route": [{"destination": {"host": "reviews", "subset": "v1"}}]},
        {"name": "primary", "route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": 100},
                                      {"destination": {"host": "reviews", "subset": "v2"}, "weight": 0}]}]));
    let mut snap = snapshot(obj.clone(), &[("v1", 1), ("v2", 1)]);
    snap.unreadable.push(unreadable(true));
    let ctx = Context::build(&snap, &request()).unwrap();
    assert!(ctx.owners.is_empty(), "an unreadable Rollout is not a readable owner");
    let before = Draft::new(&obj).unwrap();
    let mut primary = obj.clone();
    primary["spec"]["http"][1]["route"][0]["weight"] = json!(60);
    primary["spec"]["http"][1]["route"][1]["weight"] = json!(40);
    let err = rollout_routes(&before, &Draft::new(&primary).unwrap(), &ctx, false).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("Rollout prod/reviews cannot be read (spec.strategy.canary.steps[0].setWeight: "),
        "{text}"
    );
    assert!(text.contains("claims route \"primary\" of VirtualService prod/reviews"), "{text}");
    assert!(rollout_routes(&before, &Draft::new(&primary).unwrap(), &ctx, true).is_ok(), "--force overrides");
    // Its claims are known: the route it does not claim stays editable.
    let mut jason = obj.clone();
    jason["spec"]["http"][0]["route"][0]["destination"]["subset"] = json!("v2");
    assert!(rollout_routes(&before, &Draft::new(&jason).unwrap(), &ctx, false).is_ok());
}

#[test]
fn an_unreadable_rollout_whose_claims_are_unknown_stops_every_edit_unless_forced() {
    let mut snap = snapshot(split_vs(), &[("v1", 1), ("v2", 1)]);
    snap.unreadable.push(unreadable(false));
    let ctx = Context::build(&snap, &request()).unwrap();
    let before = Draft::new(&split_vs()).unwrap();
    let err = rollout_routes(&before, &before, &ctx, false).unwrap_err();
    assert!(err.to_string().contains("not even which routes it manages"), "{err}");
    assert!(rollout_routes(&before, &before, &ctx, true).is_ok());
}
