//! Tests of [`super`].

use super::*;
use serde_json::{Value, json};

fn ownership(canary: Value) -> IstioOwnership {
    ownership_with_status(canary, json!({}))
}

fn ownership_with_status(canary: Value, status: Value) -> IstioOwnership {
    let ro = Rollout::from_value(&json!({"metadata": {"name": "reviews", "namespace": "prod"},
                                         "spec": {"strategy": {"canary": canary}}, "status": status}))
    .expect("valid rollout");
    IstioOwnership::of(&ro).expect("istio traffic routing")
}

fn subset_mode(virtual_service: Value) -> Value {
    json!({"trafficRouting": {"istio": {"virtualService": virtual_service,
        "destinationRule": {"name": "reviews-dr", "canarySubsetName": "canary", "stableSubsetName": "stable",
                            "additionalSubsetNames": ["mirror"]}},
        "managedRoutes": [{"name": "header-route"}]}})
}

#[test]
fn no_ownership_without_istio_traffic_routing() {
    for spec in [json!({"blueGreen": {}}), json!({"canary": {}}), json!({"canary": {"trafficRouting": {}}})] {
        let ro = Rollout::from_value(&json!({"metadata": {"name": "r"}, "spec": {"strategy": spec}}))
            .expect("valid rollout");
        assert_eq!(IstioOwnership::of(&ro), None, "{spec}");
    }
}

#[test]
fn virtual_service_by_name_is_in_the_rollouts_namespace() {
    let o = ownership(subset_mode(json!({"name": "reviews-vs", "routes": ["primary"]})));
    assert_eq!(
        o.virtual_services,
        vec![VirtualServiceClaim {
            namespace: "prod".into(),
            name: "reviews-vs".into(),
            routes: RouteSelection::Named(vec!["primary".into()]),
        }]
    );
    assert!(o.virtual_service("prod", "reviews-vs").is_some());
    assert!(o.virtual_service("stage", "reviews-vs").is_none());
}

#[test]
fn virtual_service_by_name_dot_namespace() {
    let o = ownership(subset_mode(json!({"name": "gateway-vs.edge"})));
    assert!(o.virtual_service("edge", "gateway-vs").is_some());
    assert!(o.virtual_service("prod", "gateway-vs").is_none());
    let o = ownership(subset_mode(json!({"name": "gateway-vs.edge.svc.cluster.local"})));
    assert!(o.virtual_service("edge", "gateway-vs").is_some());
    let o = ownership(subset_mode(json!({"name": "trailing-dot."})));
    assert!(o.virtual_service("prod", "trailing-dot").is_some());
    let o = ownership(subset_mode(json!({"name": ".edge"})));
    assert_eq!(o.virtual_services, vec![]);
}

#[test]
fn virtual_services_list_wins_and_each_has_its_own_routes() {
    let o = ownership(json!({"trafficRouting": {"istio": {
        "virtualService": {"name": "ignored"},
        "virtualServices": [{"name": "a", "routes": ["r1"]}, {"name": "b.other"}]}}}));
    assert_eq!(
        o.virtual_services,
        vec![
            VirtualServiceClaim {
                namespace: "prod".into(),
                name: "a".into(),
                routes: RouteSelection::Named(vec!["r1".into()])
            },
            VirtualServiceClaim { namespace: "other".into(), name: "b".into(), routes: RouteSelection::Default },
        ]
    );
    let empty_list = ownership(json!({"trafficRouting": {"istio": {"virtualService": {"name": "single"},
                                                                    "virtualServices": []}}}));
    assert_eq!(empty_list.virtual_services, vec![]);
}

#[test]
fn listed_routes_are_owned_by_name_and_others_are_not() {
    let o = ownership(subset_mode(json!({"name": "vs", "routes": ["primary"]})));
    let routes = [Some("pinned-v2"), Some("primary"), None];
    assert_eq!(o.http_route_claim("prod", "vs", &routes, 1), Some(RouteClaim::Listed));
    assert_eq!(o.http_route_claim("prod", "vs", &routes, 0), None);
    assert_eq!(o.http_route_claim("prod", "vs", &routes, 2), None);
    assert_eq!(o.http_route_claim("prod", "other-vs", &routes, 1), None);
}

#[test]
fn omitted_routes_claim_the_only_route_even_when_named() {
    let o = ownership(subset_mode(json!({"name": "vs"})));
    assert_eq!(o.http_route_claim("prod", "vs", &[Some("primary")], 0), Some(RouteClaim::Default));
}

#[test]
fn omitted_routes_claim_the_first_unnamed_route() {
    let o = ownership(subset_mode(json!({"name": "vs"})));
    let routes = [Some("header-route"), Some("pinned"), Some(""), None];
    assert_eq!(o.http_route_claim("prod", "vs", &routes, 2), Some(RouteClaim::Default));
    assert_eq!(o.http_route_claim("prod", "vs", &routes, 3), None);
    assert_eq!(o.http_route_claim("prod", "vs", &routes, 1), None);
}

#[test]
fn omitted_routes_claim_nothing_when_all_of_several_are_named() {
    let o = ownership(json!({"trafficRouting": {"istio": {"virtualService": {"name": "vs"}}}}));
    let routes = [Some("a"), Some("b")];
    assert_eq!(o.http_route_claim("prod", "vs", &routes, 0), None);
    assert_eq!(o.http_route_claim("prod", "vs", &routes, 1), None);
}

#[test]
fn managed_routes_are_owned_in_the_rollouts_virtual_services_only() {
    let o = ownership(subset_mode(json!({"name": "vs", "routes": ["primary"]})));
    let routes = [Some("header-route"), Some("primary")];
    assert_eq!(o.http_route_claim("prod", "vs", &routes, 0), Some(RouteClaim::Managed));
    assert_eq!(o.http_route_claim("prod", "unrelated", &routes, 0), None);
    assert_eq!(o.http_route_claim("prod", "vs", &routes, 7), None);
}

#[test]
fn destination_rule_subsets_in_the_rollouts_namespace() {
    let o = ownership(subset_mode(json!({"name": "vs"})));
    assert!(o.owns_subset("prod", "reviews-dr", "canary"));
    assert!(o.owns_subset("prod", "reviews-dr", "stable"));
    assert!(!o.owns_subset("prod", "reviews-dr", "mirror"));
    assert!(!o.owns_subset("prod", "reviews-dr", "v3"));
    assert!(!o.owns_subset("stage", "reviews-dr", "canary"));
    assert!(!o.owns_subset("prod", "other-dr", "canary"));
}

#[test]
fn host_mode_services() {
    let o = ownership(json!({"canaryService": "reviews-canary", "stableService": "reviews-stable",
                             "trafficRouting": {"istio": {"virtualService": {"name": "vs"}}}}));
    assert_eq!(o.destination_rule, None);
    assert!(o.owns_service("prod", "reviews-canary"));
    assert!(o.owns_service("prod", "reviews-stable"));
    assert!(!o.owns_service("stage", "reviews-canary"));
    assert!(!o.owns_service("prod", "reviews"));
    assert!(!o.owns_service("prod", ""));
}

#[test]
fn ping_pong_services_when_no_canary_or_stable_service() {
    let spec = json!({"pingPong": {"pingService": "ping-svc", "pongService": "pong-svc"},
                      "trafficRouting": {"istio": {"virtualService": {"name": "vs"}}}});
    let o = ownership_with_status(spec.clone(), json!({"canary": {"stablePingPong": "ping"}}));
    assert_eq!((o.stable_service.as_str(), o.canary_service.as_str()), ("ping-svc", "pong-svc"));
    let o = ownership_with_status(spec, json!({}));
    assert_eq!((o.stable_service.as_str(), o.canary_service.as_str()), ("pong-svc", "ping-svc"));
}

#[test]
fn destination_roles_follow_process_routes() {
    let o = ownership_with_status(
        json!({"canaryService": "reviews-canary", "stableService": "reviews-stable",
               "trafficRouting": {"istio": {"virtualService": {"name": "vs"},
                   "destinationRule": {"name": "dr", "canarySubsetName": "canary", "stableSubsetName": "stable",
                                       "additionalSubsetNames": ["mirror"]}}}}),
        json!({"canary": {"weights": {"canary": {"weight": 10}, "stable": {"weight": 80},
                                      "additional": [{"weight": 10, "serviceName": "exp-svc"}]}}}),
    );
    assert_eq!(o.destination_role("reviews-canary.prod.svc.cluster.local", None), DestinationRole::Canary);
    assert_eq!(o.destination_role("reviews-canary.elsewhere", None), DestinationRole::Canary);
    assert_eq!(o.destination_role("reviews", Some("canary")), DestinationRole::Canary);
    assert_eq!(o.destination_role("reviews-stable", None), DestinationRole::Stable);
    assert_eq!(o.destination_role("reviews", Some("stable")), DestinationRole::Stable);
    assert_eq!(o.destination_role("exp-svc", None), DestinationRole::Experiment);
    assert_eq!(o.destination_role("reviews", Some("mirror")), DestinationRole::AdditionalSubset);
    assert_eq!(o.destination_role("reviews", Some("v3")), DestinationRole::Foreign);
    assert_eq!(o.destination_role("reviews", Some("")), DestinationRole::Foreign);
    assert_eq!(o.destination_role(".prod.svc", Some("canary")), DestinationRole::Ignored);
    assert_eq!(o.destination_role("", None), DestinationRole::Ignored);
}
