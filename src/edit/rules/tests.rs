//! HTTPRoute edits on a bookinfo-shaped mesh route: Service `reviews` in `prod` is the parent, Services
//! `reviews-v1` and `reviews-v2` are its versions.

use super::*;
use crate::edit::canary::RoleFlags;
use crate::edit::context::tests::{ready_pods, request};
use crate::edit::pin::PinBy;
use crate::edit::{MirrorTo, Routing, Weight, with_object};
use crate::objects::Snapshot;
use crate::objects::k8s::{Service, ServiceSpec};
use crate::objects::meta::{Labels, Meta};
use crate::rollouts::Rollout;
use serde_json::json;

fn service(name: &str, version: Option<&str>) -> Service {
    let mut selector = Labels::from([("app".into(), "reviews".into())]);
    if let Some(v) = version {
        selector.insert("version".into(), v.into());
    }
    Service {
        metadata: Meta { name: name.into(), namespace: "prod".into(), ..Default::default() },
        spec: ServiceSpec { selector: Some(selector), type_: None },
    }
}

fn route(rules: Value) -> Value {
    json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
           "metadata": {"name": "reviews", "namespace": "prod", "resourceVersion": "3"},
           "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "reviews", "port": 9080}],
                    "rules": rules}})
}

/// One catch-all rule: reviews-v1 100, reviews-v2 0.
fn split_route() -> Value {
    route(json!([{"name": "primary", "backendRefs": [
        {"name": "reviews-v1", "port": 9080, "weight": 100},
        {"name": "reviews-v2", "port": 9080, "weight": 0}]}]))
}

/// The mesh with `obj` as its HTTPRoute and `ready` ready pods per version (v1, v2, v3 Services exist).
fn snapshot(obj: &Value, ready: &[(&str, usize)]) -> Snapshot {
    let mut snap = Snapshot {
        services: vec![
            service("reviews", None),
            service("reviews-v1", Some("v1")),
            service("reviews-v2", Some("v2")),
            service("reviews-v3", Some("v3")),
        ],
        ..Default::default()
    };
    for (version, n) in ready {
        snap.pods.push(ready_pods(version, *n));
    }
    with_object(&snap, obj).unwrap()
}

fn ctx(snap: &Snapshot) -> RuleContext {
    RuleContext::build(snap, &request()).unwrap()
}

fn edit(intent: Intent) -> Edit {
    Edit { intent, force: false }
}

fn set(weights: &[(&str, u64)], rule: Option<&str>) -> Edit {
    let weights = weights.iter().map(|(v, w)| Weight { version: v.to_string(), weight: *w }).collect();
    edit(Intent::SetWeight { route: rule.map(str::to_string), weights, normalize: false })
}

fn weights(obj: &Value, rule: usize) -> Vec<i64> {
    let backends = obj["spec"]["rules"][rule]["backendRefs"].as_array().unwrap();
    backends.iter().map(|b| b["weight"].as_i64().unwrap()).collect()
}

/// A Rollout whose Gateway API plugin names HTTPRoute `reviews`, with reviews-v1 stable and reviews-v2 canary.
fn plugin_rollout() -> Rollout {
    Rollout::from_value(&json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "reviews", "namespace": "prod"},
        "spec": {"strategy": {"canary": {"stableService": "reviews-v1", "canaryService": "reviews-v2",
            "trafficRouting": {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "reviews"}}}}}}}))
    .unwrap()
}

/// A rule for testers to reviews-v3, and `primary` between the Rollout's Services (which its plugin manages).
fn testers_and_managed_primary() -> (Value, Snapshot) {
    let obj = route(json!([
        {"name": "testers", "matches": [{"headers": [{"name": "x-test", "value": "1"}]}],
         "backendRefs": [{"name": "reviews-v3", "port": 9080}]},
        {"name": "primary", "backendRefs": [
            {"name": "reviews-v1", "port": 9080, "weight": 100}, {"name": "reviews-v2", "port": 9080, "weight": 0}]}]));
    let mut snap = snapshot(&obj, &[("v1", 1), ("v2", 1), ("v3", 1)]);
    snap.rollouts.push(plugin_rollout());
    (obj, snap)
}

#[test]
fn set_weight_rewrites_only_the_weights_and_records_history_and_roles() {
    let mut obj = split_route();
    obj["spec"]["rules"][0]["timeouts"] = json!({"request": "3s"});
    let ctx = ctx(&snapshot(&obj, &[("v1", 1), ("v2", 1)]));
    let outcome = apply(&set(&[("reviews-v1", 90), ("reviews-v2", 10)], None), &obj, &ctx).unwrap();
    assert_eq!(outcome.message, "rule \"primary\" now reviews-v1.prod 90%, reviews-v2.prod 10%");
    let new = outcome.object.unwrap();
    assert_eq!(weights(&new, 0), [90, 10]);
    let draft = RouteDraft::new(&new).unwrap();
    let history = history::read(&draft).unwrap();
    assert_eq!(history[0].command, "set-weight reviews-v1=90 reviews-v2=10");
    assert_eq!(history[0].rules.as_deref(), Some(&obj["spec"]["rules"].as_array().unwrap()[..]));
    assert_eq!(history[0].http, None);
    assert_eq!(
        roles::read(&draft).unwrap()["primary"],
        roles::Roles { stable: "reviews-v1.prod".into(), canary: Some("reviews-v2.prod".into()) }
    );
    let mut stripped = new.clone();
    stripped["metadata"].as_object_mut().unwrap().remove("annotations");
    stripped["spec"]["rules"][0]["backendRefs"][0]["weight"] = json!(100);
    stripped["spec"]["rules"][0]["backendRefs"][1]["weight"] = json!(0);
    assert_eq!(stripped, obj, "nothing else changed");
    // The same split again writes nothing.
    let again = apply(&set(&[("reviews-v1", 90), ("reviews-v2", 10)], None), &new, &ctx).unwrap();
    assert_eq!(again.object, None);
    assert!(again.message.contains("unchanged"), "{}", again.message);
}

#[test]
fn a_version_the_rule_lacks_is_appended_with_its_siblings_port() {
    let obj = split_route();
    let ctx = ctx(&snapshot(&obj, &[("v1", 1), ("v3", 1)]));
    let outcome = apply(&edit(Intent::Switch { route: None, version: "reviews-v3".into() }), &obj, &ctx).unwrap();
    let new = outcome.object.unwrap();
    assert_eq!(new["spec"]["rules"][0]["backendRefs"][2], json!({"name": "reviews-v3", "port": 9080, "weight": 100}));
    assert_eq!(weights(&new, 0), [0, 0, 100]);
}

#[test]
fn the_default_rule_is_the_catch_all_and_others_are_named() {
    let obj = route(json!([
        {"name": "jason", "matches": [{"headers": [{"name": "end-user", "value": "jason"}]}],
         "backendRefs": [{"name": "reviews-v2", "port": 9080}]},
        {"backendRefs": [{"name": "reviews-v1", "port": 9080}]}]));
    let ctx = ctx(&snapshot(&obj, &[("v1", 1), ("v2", 1)]));
    let outcome = apply(&set(&[("reviews-v1", 50), ("reviews-v2", 50)], None), &obj, &ctx).unwrap();
    assert_eq!(outcome.message, "rule #1 now reviews-v1.prod 50%, reviews-v2.prod 50%");
    let outcome = apply(&set(&[("reviews-v1", 100)], Some("jason")), &obj, &ctx).unwrap();
    assert_eq!(outcome.message, "rule \"jason\" now reviews-v2.prod 0%, reviews-v1.prod 100%");
    let err = apply(&set(&[("reviews-v1", 100)], Some("nope")), &obj, &ctx).unwrap_err();
    assert_eq!(err.to_string(), "HTTPRoute prod/reviews has no rule \"nope\"; its rules are: jason, #1");

    let no_catch_all = route(json!([{"matches": [{"path": {"type": "Exact", "value": "/a"}}],
        "backendRefs": [{"name": "reviews-v1", "port": 9080}]},
        {"matches": [{"method": "GET"}], "backendRefs": [{"name": "reviews-v1", "port": 9080}]}]));
    let ctx = super::context::RuleContext::build(&snapshot(&no_catch_all, &[]), &request()).unwrap();
    let err = apply(&set(&[("reviews-v1", 100)], None), &no_catch_all, &ctx).unwrap_err();
    assert!(matches!(err, EditError::AmbiguousRule { .. }), "{err}");
}

#[test]
fn traffic_to_a_version_without_ready_pods_or_service_is_refused() {
    let obj = split_route();
    let ctx = ctx(&snapshot(&obj, &[("v1", 1)]));
    let err = apply(&set(&[("reviews-v1", 50), ("reviews-v2", 50)], None), &obj, &ctx).unwrap_err();
    assert_eq!(
        err.to_string(),
        "rule \"primary\" of HTTPRoute prod/reviews would send 50% to version reviews-v2.prod, which has no \
         ready pods (0/0 ready): those requests would fail with 503. Scale it up (or fix its subset labels), or \
         pass --force"
    );
    let forced = Edit { force: true, ..set(&[("reviews-v1", 50), ("reviews-v2", 50)], None) };
    assert!(apply(&forced, &obj, &ctx).unwrap().object.is_some());

    let mut gone = snapshot(&obj, &[("v1", 1), ("v2", 1)]);
    gone.services.retain(|s| s.metadata.name != "reviews-v2");
    let ctx = RuleContext::build(&gone, &request()).unwrap();
    let err = apply(&set(&[("reviews-v1", 50), ("reviews-v2", 50)], None), &obj, &ctx).unwrap_err();
    assert!(err.to_string().contains("which has no Service (its share would get HTTP 500)"), "{err}");
}

#[test]
fn plugin_managed_rules_are_refused_and_the_others_stay_editable() {
    let (obj, snap) = testers_and_managed_primary();
    let ctx = ctx(&snap);
    let err = apply(&set(&[("reviews-v1", 90), ("reviews-v2", 10)], None), &obj, &ctx).unwrap_err();
    assert_eq!(
        err,
        EditError::ManagedByPlugin {
            route: "HTTPRoute prod/reviews".into(),
            rule: "rule \"primary\"".into(),
            rollout: "prod/reviews".into()
        }
    );
    assert!(err.to_string().contains("Use `kubectl vroute promote reviews -n prod`"), "{err}");
    let mirror = edit(Intent::Mirror { route: Some("primary".into()), to: None });
    assert!(matches!(apply(&mirror, &obj, &ctx), Err(EditError::ManagedByPlugin { .. })));

    let to_v3 = MirrorTo { version: "reviews-v3".into(), percent: 5.0 };
    let outcome = apply(&edit(Intent::Mirror { route: Some("testers".into()), to: Some(to_v3) }), &obj, &ctx);
    assert!(outcome.unwrap().object.is_some(), "an unmanaged rule is editable");
    // Naming the Rollout's Service in a rule hands that rule to the plugin: refused too.
    let err = apply(&set(&[("reviews-v3", 50), ("reviews-v2", 50)], Some("testers")), &obj, &ctx).unwrap_err();
    assert_eq!(
        err,
        EditError::RolloutRulesChanged {
            route: "HTTPRoute prod/reviews".into(),
            rollout: "prod/reviews".into(),
            rules: vec!["rule \"testers\"".into()]
        }
    );

    let forced = Edit { force: true, ..set(&[("reviews-v1", 90), ("reviews-v2", 10)], None) };
    let ctx = RuleContext::build(&snap, &crate::edit::Request { force: true, ..request() }).unwrap();
    assert!(apply(&forced, &obj, &ctx).unwrap().object.is_some());
}

#[test]
fn unreadable_or_unlisted_rollouts_stop_an_edit_unless_forced() {
    let obj = split_route();
    let mut snap = snapshot(&obj, &[("v1", 1), ("v2", 1)]);
    snap.partial.push(crate::objects::PartialListing {
        resource: crate::objects::Listable::Rollouts,
        listed: crate::objects::Listed::Nothing,
        reason: crate::objects::Shortfall::Forbidden,
    });
    let ctx = ctx(&snap);
    let err = apply(&set(&[("reviews-v1", 90), ("reviews-v2", 10)], None), &obj, &ctx).unwrap_err();
    assert_eq!(err, EditError::RolloutsUnknown { vs: "HTTPRoute prod/reviews".into() });
    let forced = Edit { force: true, ..set(&[("reviews-v1", 90), ("reviews-v2", 10)], None) };
    assert!(apply(&forced, &obj, &ctx).is_ok());
}

#[test]
fn mirror_adds_updates_and_removes_the_request_mirror_filter() {
    let mut obj = split_route();
    obj["spec"]["rules"][0]["filters"] =
        json!([{"type": "RequestHeaderModifier", "requestHeaderModifier": {"add": [{"name": "x", "value": "1"}]}}]);
    let ctx = ctx(&snapshot(&obj, &[("v1", 1)]));
    let to =
        |v: &str, p: f64| edit(Intent::Mirror { route: None, to: Some(MirrorTo { version: v.into(), percent: p }) });
    let outcome = apply(&to("reviews-v2", 10.0), &obj, &ctx).unwrap();
    assert_eq!(outcome.message, "rule \"primary\" now mirrors 10% to reviews-v2.prod");
    let mirrored = outcome.object.unwrap();
    assert_eq!(
        mirrored["spec"]["rules"][0]["filters"][1],
        json!({"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "reviews-v2", "port": 9080}, "percent": 10}})
    );
    let outcome = apply(&to("reviews-v2", 12.5), &mirrored, &ctx).unwrap();
    let updated = outcome.object.unwrap();
    assert_eq!(
        updated["spec"]["rules"][0]["filters"][1]["requestMirror"],
        json!({"backendRef": {"name": "reviews-v2", "port": 9080}, "fraction": {"numerator": 125, "denominator": 1000}})
    );
    assert_eq!(outcome.message, "rule \"primary\" now mirrors 12.5% to reviews-v2.prod");
    let replaced = apply(&to("reviews-v3", 5.0), &updated, &ctx).unwrap().object.unwrap();
    assert_eq!(replaced["spec"]["rules"][0]["filters"].as_array().unwrap().len(), 2, "one mirror, replaced");
    let off = apply(&edit(Intent::Mirror { route: None, to: None }), &replaced, &ctx).unwrap().object.unwrap();
    assert_eq!(off["spec"]["rules"][0]["filters"], obj["spec"]["rules"][0]["filters"]);
    assert!(matches!(apply(&to("reviews-v2", 0.0), &obj, &ctx), Err(EditError::BadPercent { .. })));
}

#[test]
fn promote_and_abort_move_traffic_between_the_recorded_versions() {
    let mut obj = split_route();
    let ctx = ctx(&snapshot(&obj, &[("v1", 1), ("v2", 1)]));
    let flags = RoleFlags::default();
    let promote = |step| edit(Intent::Promote { route: None, roles: flags.clone(), step });
    let err = apply(&promote(Some(20)), &obj, &ctx).unwrap_err();
    assert!(matches!(err, EditError::RolesUnknown { .. }), "{err}");
    let named = RoleFlags { stable: Some("reviews-v1".into()), canary: Some("reviews-v2".into()) };
    let first = edit(Intent::Promote { route: None, roles: named, step: Some(20) });
    obj = apply(&first, &obj, &ctx).unwrap().object.unwrap();
    assert_eq!(weights(&obj, 0), [80, 20]);
    obj = apply(&promote(Some(30)), &obj, &ctx).unwrap().object.unwrap();
    assert_eq!(weights(&obj, 0), [50, 50]);
    let outcome = apply(&edit(Intent::Abort { route: None, roles: flags.clone() }), &obj, &ctx).unwrap();
    assert_eq!(outcome.message, "rule \"primary\" now reviews-v1.prod 100%, reviews-v2.prod 0%");
    obj = outcome.object.unwrap();
    let again = apply(&edit(Intent::Abort { route: None, roles: flags }), &obj, &ctx).unwrap();
    assert!(
        again.message.ends_with("(nothing to abort: the stable version reviews-v1.prod already has all the traffic)")
    );
}

#[test]
fn undo_restores_rules_but_leaves_plugin_managed_rules_as_they_are() {
    let (obj, snap) = testers_and_managed_primary();
    let ctx = ctx(&snap);
    let to_v3 = Some(MirrorTo { version: "reviews-v3".into(), percent: 5.0 });
    let mirror = edit(Intent::Mirror { route: Some("testers".into()), to: to_v3 });
    let edited = apply(&mirror, &obj, &ctx).unwrap().object.unwrap();
    let mut moved = edited.clone();
    moved["spec"]["rules"][1]["backendRefs"][0]["weight"] = json!(70);
    moved["spec"]["rules"][1]["backendRefs"][1]["weight"] = json!(30);
    let outcome = apply(&edit(Intent::Undo { revision: None }), &moved, &ctx).unwrap();
    assert!(outcome.message.starts_with("rules now as before revision 1 ("), "{}", outcome.message);
    let restored = outcome.object.unwrap();
    assert_eq!(restored["spec"]["rules"][0], obj["spec"]["rules"][0], "the edited rule is back");
    assert_eq!(restored["spec"]["rules"][1], moved["spec"]["rules"][1], "the plugin's rule is untouched");
    let err = apply(&edit(Intent::Undo { revision: Some(9) }), &restored, &ctx).unwrap_err();
    assert!(err.to_string().starts_with("HTTPRoute prod/reviews has no revision 9 in its vroute history"), "{err}");
}

#[test]
fn pin_by_labels_is_refused_with_the_way_that_works_on_http_routes() {
    let obj = split_route();
    let ctx = ctx(&snapshot(&obj, &[("v1", 1)]));
    let by_labels = edit(Intent::Pin { by: PinBy::Caller { from: None } });
    let err = apply(&by_labels, &obj, &ctx).unwrap_err();
    assert!(matches!(err, EditError::PinOnHttpRoute { .. }), "{err}");
    assert!(err.to_string().contains("`kubectl vroute pin reviews --header NAME`"), "{err}");
}

#[test]
fn a_virtual_service_wins_when_both_apis_route_the_host() {
    let obj = split_route();
    let vs = json!({"kind": "VirtualService", "metadata": {"name": "reviews", "namespace": "prod"},
        "spec": {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews-v1"}}]}]}});
    let snap = with_object(&snapshot(&obj, &[("v1", 1)]), &vs).unwrap();
    assert!(matches!(Routing::build(&snap, &request()), Ok(Routing::Istio(_))));
    assert!(matches!(Routing::build(&snapshot(&obj, &[]), &request()), Ok(Routing::Gateway(_))));
}

#[test]
fn several_http_routes_need_a_choice_unless_one_is_the_producer_route() {
    let obj = split_route();
    let mut consumer = split_route();
    consumer["metadata"] = json!({"name": "reviews-for-web", "namespace": "web"});
    consumer["spec"]["parentRefs"][0]["namespace"] = json!("prod");
    let snap = with_object(&snapshot(&obj, &[]), &consumer).unwrap();
    assert_eq!(ctx(&snap).route.key(), "prod/reviews", "the producer route");
    let req = crate::edit::Request { http_route: Some("web/reviews-for-web"), ..request() };
    assert_eq!(RuleContext::build(&snap, &req).unwrap().route.key(), "web/reviews-for-web");
    let req = crate::edit::Request { http_route: Some("nope"), ..request() };
    assert!(matches!(RuleContext::build(&snap, &req), Err(EditError::UnknownHttpRoute { .. })));
}

#[test]
fn pin_by_header_adds_one_rule_per_version_with_pods_and_is_idempotent() {
    let obj = split_route();
    let snap = snapshot(&obj, &[("v1", 1), ("v2", 1), ("v3", 1)]);
    let header = edit(Intent::Pin { by: PinBy::Header("x-version".parse().unwrap()) });
    let outcome = apply(&header, &obj, &ctx(&snap)).unwrap();
    assert_eq!(
        outcome.message,
        "requests with header x-version now pinned x-version=v1 -> reviews-v1.prod, x-version=v2 -> reviews-v2.prod, \
         x-version=v3 -> reviews-v3.prod"
    );
    let new = outcome.object.unwrap();
    let rules = new["spec"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 4);
    assert_eq!(
        rules[3],
        json!({"name": "vroute-pin-v3", "matches": [{"headers": [{"type": "Exact", "name": "x-version", "value": "v3"}]}],
               "backendRefs": [{"name": "reviews-v3", "port": 9080}]})
    );
    let history = history::read(&RouteDraft::new(&new).unwrap()).unwrap();
    assert_eq!(history[0].command, "pin --header x-version --label version");
    // As the API server stores it (the path defaulted), pinning again changes nothing.
    let mut stored = new.clone();
    for rule in stored["spec"]["rules"].as_array_mut().unwrap().iter_mut().skip(1) {
        rule["matches"][0]["path"] = json!({"type": "PathPrefix", "value": "/"});
    }
    let again = apply(&header, &stored, &ctx(&with_object(&snap, &stored).unwrap())).unwrap();
    assert_eq!(again.object, None, "{}", again.message);
    // A version Service without pods is not pinned; one the route sends to is, and the guard refuses it.
    let snap = snapshot(&obj, &[("v1", 1)]);
    let err = apply(&header, &obj, &ctx(&snap)).unwrap_err();
    assert!(matches!(err, EditError::NoReadyPods { ref version, .. } if version == "reviews-v2.prod"), "{err}");
}

mod policies {
    use super::*;
    use crate::edit::conditions::{Condition, Conditions, Text};
    use crate::edit::matched::MatchRoute;
    use crate::edit::policy::{Fault, Retries, Retry};
    use std::time::Duration;

    fn run(obj: &Value, intent: Intent) -> Result<Outcome, EditError> {
        let snap = snapshot(obj, &[("v1", 1), ("v2", 1)]);
        apply(&Edit { intent, force: false }, obj, &ctx(&snap))
    }

    fn jason() -> Conditions {
        Conditions(vec![Condition::Header { name: "end-user".parse().unwrap(), value: Text::Exact("jason".into()) }])
    }

    #[test]
    fn a_header_route_is_a_rule_with_one_match_and_asking_again_changes_nothing() {
        let obj = split_route();
        let ask = MatchRoute { conditions: jason(), to: Some("reviews-v2".into()), name: None };
        let done = run(&obj, Intent::Route(ask.clone())).unwrap();
        assert_eq!(done.message, "rule \"vroute-end-user-jason\" now sends --header end-user=jason to reviews-v2.prod");
        let new = done.object.unwrap();
        assert_eq!(
            new["spec"]["rules"][1],
            json!({"name": "vroute-end-user-jason",
                   "matches": [{"headers": [{"type": "Exact", "name": "end-user", "value": "jason"}]}],
                   "backendRefs": [{"name": "reviews-v2", "port": 9080}]})
        );
        // As the API server stores it (the path defaulted), the rule is still found.
        let mut stored = new.clone();
        stored["spec"]["rules"][1]["matches"][0]["path"] = json!({"type": "PathPrefix", "value": "/"});
        assert_eq!(run(&stored, Intent::Route(ask)).unwrap().object, None);
        let prefix =
            Conditions(vec![Condition::Header { name: "end-user".parse().unwrap(), value: Text::Prefix("ja".into()) }]);
        let err =
            run(&obj, Intent::Route(MatchRoute { conditions: prefix, to: Some("reviews-v2".into()), name: None }));
        assert!(matches!(err, Err(EditError::NotInGatewayApi { .. })));
    }

    #[test]
    fn timeouts_and_retries_map_to_gateway_api_fields_and_faults_are_refused() {
        let obj = split_route();
        let t = run(&obj, Intent::Timeout { route: None, timeout: Some(Duration::from_millis(1_500)) }).unwrap();
        let new = t.object.unwrap();
        assert_eq!(new["spec"]["rules"][0]["timeouts"], json!({"request": "1s500ms"}));
        let retry = Retry {
            attempts: 3,
            per_try_timeout: Some(Duration::from_millis(500)),
            retry_on: vec!["gateway-error".parse().unwrap(), "500".parse().unwrap()],
        };
        let r = run(&new, Intent::Retries { route: None, retries: Retries::Set(retry) }).unwrap();
        assert_eq!(r.message, "rule \"primary\" now retries 3 times on 500,502,503,504, 500ms each");
        let new = r.object.unwrap();
        assert_eq!(new["spec"]["rules"][0]["retry"], json!({"attempts": 3, "codes": [500, 502, 503, 504]}));
        assert_eq!(new["spec"]["rules"][0]["timeouts"], json!({"request": "1s500ms", "backendRequest": "500ms"}));
        let five = Retry { attempts: 2, per_try_timeout: None, retry_on: vec!["5xx".parse().unwrap()] };
        let err = run(&obj, Intent::Retries { route: None, retries: Retries::Set(five) }).unwrap_err();
        assert!(err.to_string().contains("status codes only"), "{err}");
        let fault = Fault { delay: Some(Duration::from_secs(7)), abort: None, percent: 100.0 };
        let err = run(&obj, Intent::Fault { route: None, conditions: jason(), fault: Some(fault) }).unwrap_err();
        assert!(err.to_string().starts_with("fault injection has no Gateway API field"), "{err}");
    }
}
