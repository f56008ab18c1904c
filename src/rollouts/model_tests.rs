//! Tests of [`super`]: reading Rollouts as the API server returns them.

use super::*;
use serde_json::json;

#[test]
fn reads_a_rollout_as_the_api_server_returns_it() {
    let value = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "reviews", "namespace": "prod", "generation": 4, "uid": "abc"},
        "spec": {"replicas": 3, "strategy": {"canary": {
            "canaryService": "reviews-canary", "stableService": "reviews-stable",
            "steps": [{"setWeight": 20}, {"pause": {"duration": "1h"}}, {"pause": {}}, {"analysis": {"templates": []}}],
            "trafficRouting": {"istio": {"virtualService": {"name": "reviews-vs", "routes": ["primary"]},
                                         "destinationRule": {"name": "reviews-dr", "canarySubsetName": "canary",
                                                             "stableSubsetName": "stable"}},
                               "managedRoutes": [{"name": "header"}]}}}},
        "status": {"observedGeneration": "4", "stableRS": "abc", "currentPodHash": "def",
                   "currentStepIndex": 1, "pauseConditions": [{"reason": "CanaryPauseStep",
                                                               "startTime": "2025-01-02T03:04:05Z"}],
                   "canary": {"weights": {"canary": {"weight": 20, "podTemplateHash": "def"},
                                          "stable": {"weight": 80, "podTemplateHash": "abc"}}},
                   "someFutureField": {"x": 1}}
    });
    let ro = Rollout::from_value(&value).expect("parses");
    assert_eq!(ro.name(), "reviews");
    assert_eq!(ro.metadata.namespace, "prod");
    assert_eq!(ro.status.observed_generation, "4");
    assert_eq!(ro.status.stable_rs, "abc");
    let canary = ro.canary().expect("canary strategy");
    assert_eq!(canary.steps.len(), 4);
    assert_eq!(canary.steps[1].pause, Some(Pause { duration: Some(IntOrString::String("1h".into())) }));
    assert_eq!(canary.steps[2].pause, Some(Pause { duration: None }));
    assert!(canary.steps[3].analysis.is_some());
    let istio = canary.traffic_routing.as_ref().and_then(|t| t.istio.as_ref()).expect("istio");
    assert_eq!(istio.virtual_service.as_ref().map(|v| v.routes.clone()), Some(vec!["primary".to_string()]));
    assert_eq!(istio.virtual_services, None);
    assert_eq!(ro.status.pause_conditions[0].start_time, Some("2025-01-02T03:04:05Z".parse().expect("ts")));
    assert_eq!(ro.status.canary.weights.as_ref().map(|w| w.stable.weight), Some(80));
}

#[test]
fn empty_canary_and_empty_virtual_services_list_are_present() {
    let value = json!({"metadata": {"name": "r"}, "spec": {"strategy": {"canary": {
        "trafficRouting": {"istio": {"virtualServices": []}}}}}});
    let ro = Rollout::from_value(&value).expect("parses");
    let istio = ro.canary().and_then(|c| c.traffic_routing.as_ref()).and_then(|t| t.istio.as_ref());
    assert_eq!(istio.and_then(|i| i.virtual_services.clone()), Some(vec![]));
    assert!(ro.spec.strategy.blue_green.is_none());
}

#[test]
fn null_fields_take_their_default_like_go() {
    let value = json!({"metadata": {"name": "r", "namespace": null}, "spec": {"replicas": null, "strategy": {
        "canary": {"steps": [{"setWeight": null}, {"pause": null}], "trafficRouting": null}}},
        "status": null});
    let ro = Rollout::from_value(&value).expect("parses");
    assert_eq!(ro.metadata.namespace, "");
    let canary = ro.canary().expect("canary");
    assert_eq!(canary.steps, vec![Step::default(), Step::default()]);
    assert_eq!(ro.status, Status::default());
}

#[test]
fn an_out_of_range_number_names_its_field_in_text_too() {
    let text =
        r#"{"metadata": {"name": "r"}, "spec": {"strategy": {"canary": {"steps": [{"setWeight": 99999999999}]}}}}"#;
    let err = Rollout::from_json(text).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Rollout field spec.strategy.canary.steps[0].setWeight: invalid value: integer `99999999999`, expected i32"
    );
}

#[test]
fn observed_generation_accepts_an_integer() {
    let ro =
        Rollout::from_value(&json!({"metadata": {"name": "r"}, "status": {"observedGeneration": 7}})).expect("parses");
    assert_eq!(ro.status.observed_generation, "7");
}

#[test]
fn a_wrong_type_names_the_field() {
    let value = json!({"metadata": {"name": "r"}, "spec": {"strategy": {"canary": {"steps": [
        {"setWeight": 10}, {"setWeight": "twenty"}]}}}});
    match Rollout::from_value(&value) {
        Err(ParseError::Invalid { field, .. }) => assert_eq!(field, "spec.strategy.canary.steps[1].setWeight"),
        other => panic!("expected an invalid field, got {other:?}"),
    }
    let value = json!({"metadata": {"name": "r"}, "status": {"observedGeneration": true}});
    match Rollout::from_value(&value) {
        Err(ParseError::Invalid { field, message }) => {
            assert_eq!(field, "status.observedGeneration");
            assert!(message.contains("a string or an integer"), "{message}");
        }
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

#[test]
fn refuses_other_kinds_and_nameless_objects() {
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}});
    assert_eq!(
        Rollout::from_value(&deployment),
        Err(ParseError::NotARollout { field: "apiVersion", found: "apps/v1".into(), expected: "argoproj.io/v1alpha1" })
    );
    let experiment = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Experiment", "metadata": {"name": "e"}});
    assert_eq!(
        Rollout::from_value(&experiment),
        Err(ParseError::NotARollout { field: "kind", found: "Experiment".into(), expected: "Rollout" })
    );
    assert_eq!(Rollout::from_value(&json!({"kind": "Rollout"})), Err(ParseError::Missing { field: "metadata.name" }));
}
