use super::*;
use crate::objects::parse::from_value;
use serde_json::{Value, json};

fn route(name: &str, created: &str, rules: Value) -> HttpRoute {
    from_value(&json!({
        "metadata": {"name": name, "namespace": "prod", "creationTimestamp": created},
        "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "reviews"}], "rules": rules}
    }))
    .unwrap()
}

#[test]
fn weights_are_relative_and_default_to_one() {
    let r = route(
        "r",
        "2026-01-01T00:00:00Z",
        json!([{"backendRefs": [
        {"name": "reviews-v1"}, {"name": "reviews-v2", "weight": 3}]}]),
    );
    assert_eq!(r.spec.rules[0].shares(), vec![25.0, 75.0]);
    let lone = route("r", "", json!([{"backendRefs": [{"name": "reviews-v1"}]}]));
    assert_eq!(lone.spec.rules[0].shares(), vec![100.0]);
    let zero = route("r", "", json!([{"backendRefs": [{"name": "a", "weight": 0}, {"name": "b", "weight": 0}]}]));
    assert_eq!(zero.spec.rules[0].shares(), vec![0.0, 0.0]);
    let one_zero = route("r", "", json!([{"backendRefs": [{"name": "a", "weight": 0}, {"name": "b", "weight": 5}]}]));
    assert_eq!(one_zero.spec.rules[0].shares(), vec![0.0, 100.0]);
}

#[test]
fn mirror_percent_and_fraction() {
    let r = route(
        "r",
        "",
        json!([{"backendRefs": [{"name": "a"}], "filters": [
            {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "b"}, "percent": 20}},
            {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "c"}, "fraction": {"numerator": 1, "denominator": 8}}},
            {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "d"}}}
        ]}]),
    );
    let mirrors: Vec<(String, f64)> = r.spec.rules[0].mirrors().into_iter().map(|(b, p)| (b.name.clone(), p)).collect();
    assert_eq!(mirrors, vec![("b".into(), 20.0), ("c".into(), 12.5), ("d".into(), 100.0)]);
}

#[test]
fn parents_resolve_by_group_and_kind() {
    let service: ParentRef =
        from_value(&json!({"group": "", "kind": "Service", "name": "reviews", "port": 9080})).unwrap();
    assert_eq!(
        service.resolve("prod"),
        Parent::Service { service: ObjectRef::new(Kind::Service, "prod", "reviews"), port: Some(9080) }
    );
    let gateway: ParentRef = from_value(&json!({"name": "ingress", "namespace": "istio-system"})).unwrap();
    assert_eq!(
        gateway.resolve("prod"),
        Parent::Gateway { gateway: ObjectRef::new(Kind::Gateway, "istio-system", "ingress"), section: None }
    );
    let other: ParentRef = from_value(&json!({"group": "x.io", "kind": "Mesh", "name": "m"})).unwrap();
    assert_eq!(other.resolve("prod").to_string(), "x.io/Mesh/m");
}

/// Document order says the catch-all comes first; the spec says the header match wins.
#[test]
fn precedence_is_by_specificity_not_document_order() {
    let r = route(
        "r",
        "2026-01-01T00:00:00Z",
        json!([
            {"backendRefs": [{"name": "reviews-v1"}]},
            {"matches": [{"headers": [{"name": "end-user", "value": "jason"}]}], "backendRefs": [{"name": "reviews-v2"}]},
            {"matches": [{"path": {"type": "Exact", "value": "/health"}}], "backendRefs": [{"name": "reviews-v3"}]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/api/v2"}}], "backendRefs": [{"name": "reviews-v3"}]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}, "method": "GET"}], "backendRefs": [{"name": "reviews-v3"}]}
        ]),
    );
    let rules: Vec<(&HttpRoute, usize)> = (0..5).map(|i| (&r, i)).collect();
    let order: Vec<usize> = precedence(&rules).iter().map(|c| c.rule).collect();
    assert_eq!(order, vec![2, 3, 4, 1, 0]);
    assert_eq!(reachable(&rules), vec![true; 5], "a VirtualService in this order would never reach rules 1-4");
}

#[test]
fn ties_go_to_the_oldest_route_then_the_name() {
    let old = route("zeta", "2026-01-01T00:00:00Z", json!([{"backendRefs": [{"name": "reviews-v1"}]}]));
    let new = route("alpha", "2026-02-01T00:00:00Z", json!([{"backendRefs": [{"name": "reviews-v2"}]}]));
    let same_age = route("beta", "2026-01-01T00:00:00Z", json!([{"backendRefs": [{"name": "reviews-v3"}]}]));
    let rules = [(&new, 0), (&old, 0), (&same_age, 0)];
    let order: Vec<&str> = precedence(&rules).iter().map(|c| c.route.metadata.name.as_str()).collect();
    assert_eq!(order, vec!["beta", "zeta", "alpha"]);
    // The same catch-all three times: only the first applies.
    assert_eq!(reachable(&rules), vec![false, false, true]);
}

#[test]
fn a_rule_is_unreachable_only_when_every_match_is_covered() {
    let r = route(
        "r",
        "",
        json!([
            {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}], "backendRefs": [{"name": "a"}]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}, {"path": {"type": "Exact", "value": "/other"}}],
             "backendRefs": [{"name": "b"}]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/api/"}}], "backendRefs": [{"name": "c"}]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/apiary"}}], "backendRefs": [{"name": "d"}]}
        ]),
    );
    let rules: Vec<(&HttpRoute, usize)> = (0..4).map(|i| (&r, i)).collect();
    // Rule 1 still takes /other; rule 2 (`/api/` is `/api`) is shadowed by rule 0; `/apiary` is not under `/api`.
    assert_eq!(reachable(&rules), vec![true, true, false, true]);
}

#[test]
fn covering_needs_every_condition() {
    let m = |v: Value| -> Match { from_value(&v).unwrap() };
    let all = m(json!({}));
    let jason = m(json!({"headers": [{"name": "end-user", "value": "jason"}]}));
    let get = m(json!({"method": "GET"}));
    assert!(all.covers(&jason) && all.covers(&get));
    assert!(!jason.covers(&all) && !jason.covers(&get) && !get.covers(&jason));
    assert!(
        m(json!({"path": {"type": "Exact", "value": "/a"}}))
            .covers(&m(json!({"path": {"type": "Exact", "value": "/a"}})))
    );
    assert!(!m(json!({"path": {"type": "Exact", "value": "/a"}})).covers(&m(json!({"path": {"value": "/a"}}))));
}

#[test]
fn summaries_read_like_the_virtual_service_ones() {
    let r = route(
        "r",
        "",
        json!([
            {"backendRefs": [{"name": "a"}]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}, "headers": [{"name": "end-user", "value": "jason"}]},
                         {"path": {"type": "Exact", "value": "/x"}, "method": "GET", "queryParams": [{"type": "RegularExpression", "name": "q", "value": "a.*"}]}],
             "backendRefs": [{"name": "b"}]}
        ]),
    );
    assert_eq!(summary(&r.spec.rules[0]), "*");
    assert_eq!(summary(&r.spec.rules[1]), "path^=/api header end-user=jason | path=/x method=GET query q~=a.*");
}

#[test]
fn status_conditions_are_found_by_parent() {
    let r: HttpRoute = from_value(&json!({
        "metadata": {"name": "r", "namespace": "prod"},
        "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "reviews"}]},
        "status": {"parents": [{"parentRef": {"group": "", "kind": "Service", "name": "reviews", "namespace": "prod"},
            "controllerName": "istio.io/gateway-controller",
            "conditions": [{"type": "Accepted", "status": "False", "reason": "NoMatchingParent", "message": "no such"}]}]}
    }))
    .unwrap();
    let found = conditions(&r, &r.spec.parent_refs[0]).unwrap();
    assert_eq!(found[0].reason, "NoMatchingParent");
}
