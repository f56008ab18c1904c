//! A tolerant, typed view of an Argo Rollout (`argoproj.io/v1alpha1`, kind `Rollout`): only the fields
//! kubectl-vroute reads, named as in upstream `pkg/apis/rollouts/v1alpha1/types.go`.
//!
//! Tolerant like the Go client it stands in for: every field is optional (`#[serde(default)]`), `null` means
//! "absent", unknown fields are ignored. `Option` marks the Go pointers whose presence matters (a `canary: {}`
//! strategy is a canary strategy; `virtualServices: []` selects list mode), plain values the Go values whose zero
//! value and absence are the same thing.

use super::de;
use jiff::Timestamp;
use serde::de::{IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::fmt;
use thiserror::Error;

/// Why a JSON object could not be read as a Rollout.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("not an Argo Rollout: {field} is {found:?}, expected {expected:?}")]
    NotARollout { field: &'static str, found: String, expected: &'static str },
    #[error("Rollout has no {field}")]
    Missing { field: &'static str },
    #[error("Rollout field {field}: {message}")]
    Invalid { field: String, message: String },
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Rollout {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    pub spec: Spec,
    pub status: Status,
}

impl Rollout {
    /// Read a Rollout as the API server returns it. `apiVersion` and `kind` are checked when present (items of a
    /// list may come without them); `metadata.name` is required because every message names the Rollout.
    pub fn from_value(value: &Value) -> Result<Rollout, ParseError> {
        let rollout: Rollout =
            de::from_value(value).map_err(|e| ParseError::Invalid { field: e.path, message: e.message })?;
        let group = rollout.api_version.split('/').next().unwrap_or_default();
        if !rollout.api_version.is_empty() && group != "argoproj.io" {
            return Err(ParseError::NotARollout {
                field: "apiVersion",
                found: rollout.api_version,
                expected: "argoproj.io/v1alpha1",
            });
        }
        if !rollout.kind.is_empty() && rollout.kind != "Rollout" {
            return Err(ParseError::NotARollout { field: "kind", found: rollout.kind, expected: "Rollout" });
        }
        if rollout.metadata.name.is_empty() {
            return Err(ParseError::Missing { field: "metadata.name" });
        }
        Ok(rollout)
    }

    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    pub fn canary(&self) -> Option<&Canary> {
        self.spec.strategy.canary.as_ref()
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Metadata {
    pub name: String,
    /// Empty in a manifest read from a file; the caller fills in the namespace it will be applied to.
    pub namespace: String,
    pub generation: i64,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Spec {
    /// Absent means 1 (upstream `defaults.GetReplicasOrDefault`).
    pub replicas: Option<i32>,
    pub paused: bool,
    pub restart_at: Option<Timestamp>,
    pub strategy: Strategy,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Strategy {
    pub canary: Option<Canary>,
    pub blue_green: Option<BlueGreen>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Canary {
    pub canary_service: String,
    pub stable_service: String,
    pub steps: Vec<Step>,
    pub traffic_routing: Option<TrafficRouting>,
    pub ping_pong: Option<PingPong>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct PingPong {
    pub ping_service: String,
    pub pong_service: String,
}

/// One canary step. Only the step kinds' presence (and the few values shown in `status`) are read.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Step {
    pub set_weight: Option<i32>,
    pub pause: Option<Pause>,
    pub experiment: Option<IgnoredAny>,
    pub analysis: Option<IgnoredAny>,
    pub set_canary_scale: Option<SetCanaryScale>,
    pub plugin: Option<Named>,
    pub set_header_route: Option<Named>,
    pub set_mirror_route: Option<Named>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Pause {
    pub duration: Option<IntOrString>,
}

/// Kubernetes `intstr.IntOrString`: `30` or `"30s"`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i64),
    String(String),
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(i) => write!(f, "{i}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct SetCanaryScale {
    pub weight: Option<i32>,
    pub replicas: Option<i32>,
    pub match_traffic_weight: bool,
}

/// Anything referred to by name only (managed routes, header/mirror route steps, step plugins).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Named {
    pub name: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TrafficRouting {
    pub istio: Option<Istio>,
    pub managed_routes: Vec<Named>,
    /// Absent means 100 (upstream `weightutil.MaxTrafficWeight`).
    pub max_traffic_weight: Option<i32>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Istio {
    pub virtual_service: Option<IstioVirtualService>,
    pub virtual_services: Option<Vec<IstioVirtualService>>,
    pub destination_rule: Option<IstioDestinationRule>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct IstioVirtualService {
    /// `name` or `name.namespace`.
    pub name: String,
    /// Names of the http routes whose weights the controller sets; empty means "the default route".
    pub routes: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct IstioDestinationRule {
    pub name: String,
    pub canary_subset_name: String,
    pub stable_subset_name: String,
    pub additional_subset_names: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct BlueGreen {
    pub post_promotion_analysis: Option<IgnoredAny>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Status {
    pub abort: bool,
    pub pause_conditions: Vec<PauseCondition>,
    pub controller_pause: bool,
    pub promote_full: bool,
    pub current_step_index: Option<i32>,
    pub current_pod_hash: String,
    #[serde(rename = "stableRS")]
    pub stable_rs: String,
    pub phase: String,
    pub message: String,
    /// A string upstream (a number since v0.10, a hash before); integers are accepted too.
    #[serde(deserialize_with = "string_or_integer")]
    pub observed_generation: String,
    pub replicas: i32,
    pub updated_replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    pub restarted_at: Option<Timestamp>,
    pub conditions: Vec<Condition>,
    pub canary: CanaryStatus,
    pub blue_green: BlueGreenStatus,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct PauseCondition {
    /// `CanaryPauseStep`, `BlueGreenPause`, `InconclusiveAnalysisRun` or `InconclusiveExperiment`.
    pub reason: String,
    pub start_time: Option<Timestamp>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct CanaryStatus {
    pub current_step_analysis_run_status: Option<AnalysisRunStatus>,
    pub weights: Option<TrafficWeights>,
    /// `ping` or `pong`: which ping-pong service is stable.
    pub stable_ping_pong: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct AnalysisRunStatus {
    pub name: String,
    /// `Pending`, `Running`, `Successful`, `Failed`, `Error` or `Inconclusive`.
    pub status: String,
    pub message: String,
}

/// The weights the controller last set on the traffic router (`status.canary.weights`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct TrafficWeights {
    pub canary: WeightDestination,
    pub stable: WeightDestination,
    pub additional: Vec<WeightDestination>,
    pub verified: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct WeightDestination {
    pub weight: i32,
    pub service_name: String,
    pub pod_template_hash: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct BlueGreenStatus {
    pub active_selector: String,
    pub preview_selector: String,
    pub post_promotion_analysis_run_status: Option<AnalysisRunStatus>,
}

fn string_or_integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct StringOrInteger;
    impl Visitor<'_> for StringOrInteger {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or an integer")
        }
        fn visit_str<E>(self, s: &str) -> Result<String, E> {
            Ok(s.to_owned())
        }
        fn visit_u64<E>(self, n: u64) -> Result<String, E> {
            Ok(n.to_string())
        }
        fn visit_i64<E>(self, n: i64) -> Result<String, E> {
            Ok(n.to_string())
        }
    }
    deserializer.deserialize_any(StringOrInteger)
}

#[cfg(test)]
mod tests {
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
    fn observed_generation_accepts_an_integer() {
        let ro = Rollout::from_value(&json!({"metadata": {"name": "r"}, "status": {"observedGeneration": 7}}))
            .expect("parses");
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
            Err(ParseError::NotARollout {
                field: "apiVersion",
                found: "apps/v1".into(),
                expected: "argoproj.io/v1alpha1"
            })
        );
        let experiment = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Experiment", "metadata": {"name": "e"}});
        assert_eq!(
            Rollout::from_value(&experiment),
            Err(ParseError::NotARollout { field: "kind", found: "Experiment".into(), expected: "Rollout" })
        );
        assert_eq!(
            Rollout::from_value(&json!({"kind": "Rollout"})),
            Err(ParseError::Missing { field: "metadata.name" })
        );
    }
}
