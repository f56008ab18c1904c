//! A tolerant, typed view of an Argo Rollout (`argoproj.io/v1alpha1`, kind `Rollout`): only the fields
//! kubectl-vroute reads, named as in upstream `pkg/apis/rollouts/v1alpha1/types.go`.
//!
//! Tolerant like the Go client it stands in for: every field is optional (`#[serde(default)]`), `null` means
//! "absent", unknown fields are ignored. `Option` marks the Go pointers whose presence matters (a `canary: {}`
//! strategy is a canary strategy; `virtualServices: []` selects list mode), plain values the Go values whose zero
//! value and absence are the same thing.

use crate::objects::parse::{self, nullable};
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
    #[serde(deserialize_with = "nullable")]
    pub api_version: String,
    #[serde(deserialize_with = "nullable")]
    pub kind: String,
    #[serde(deserialize_with = "nullable")]
    pub metadata: Metadata,
    #[serde(deserialize_with = "nullable")]
    pub spec: Spec,
    #[serde(deserialize_with = "nullable")]
    pub status: Status,
}

impl Rollout {
    /// Read a Rollout as the API server returns it. `apiVersion` and `kind` are checked when present (items of a
    /// list may come without them); `metadata.name` is required because every message names the Rollout.
    pub fn from_value(value: &Value) -> Result<Rollout, ParseError> {
        Rollout::checked(parse::from_value(value))
    }

    /// [`Rollout::from_value`] for an item of a list response, as text.
    pub fn from_json(text: &str) -> Result<Rollout, ParseError> {
        Rollout::checked(parse::from_str(text))
    }

    fn checked(parsed: Result<Rollout, parse::FieldError>) -> Result<Rollout, ParseError> {
        let rollout = parsed.map_err(|e| ParseError::Invalid { field: e.path, message: e.message })?;
        rollout.check()?;
        Ok(rollout)
    }

    /// What the types alone do not check: the kind, and a name (every message names the Rollout).
    pub fn check(&self) -> Result<(), ParseError> {
        let group = self.api_version.split('/').next().unwrap_or_default();
        if !self.api_version.is_empty() && group != "argoproj.io" {
            return Err(ParseError::NotARollout {
                field: "apiVersion",
                found: self.api_version.clone(),
                expected: "argoproj.io/v1alpha1",
            });
        }
        if !self.kind.is_empty() && self.kind != "Rollout" {
            return Err(ParseError::NotARollout { field: "kind", found: self.kind.clone(), expected: "Rollout" });
        }
        if self.metadata.name.is_empty() {
            return Err(ParseError::Missing { field: "metadata.name" });
        }
        Ok(())
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
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    /// Empty in a manifest read from a file; the caller fills in the namespace it will be applied to.
    #[serde(deserialize_with = "nullable")]
    pub namespace: String,
    #[serde(deserialize_with = "nullable")]
    pub generation: i64,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Spec {
    /// Absent means 1 (upstream `defaults.GetReplicasOrDefault`).
    pub replicas: Option<i32>,
    #[serde(deserialize_with = "nullable")]
    pub paused: bool,
    pub restart_at: Option<Timestamp>,
    #[serde(deserialize_with = "nullable")]
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
    #[serde(deserialize_with = "nullable")]
    pub canary_service: String,
    #[serde(deserialize_with = "nullable")]
    pub stable_service: String,
    #[serde(deserialize_with = "nullable")]
    pub steps: Vec<Step>,
    pub traffic_routing: Option<TrafficRouting>,
    pub ping_pong: Option<PingPong>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct PingPong {
    #[serde(deserialize_with = "nullable")]
    pub ping_service: String,
    #[serde(deserialize_with = "nullable")]
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
    #[serde(deserialize_with = "nullable")]
    pub match_traffic_weight: bool,
}

/// Anything referred to by name only (managed routes, header/mirror route steps, step plugins).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Named {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TrafficRouting {
    pub istio: Option<Istio>,
    #[serde(deserialize_with = "nullable")]
    pub managed_routes: Vec<Named>,
    /// Absent means 100 (upstream `weightutil.MaxTrafficWeight`).
    pub max_traffic_weight: Option<i32>,
    #[serde(deserialize_with = "nullable")]
    pub plugins: super::plugins::Plugins,
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
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    /// Names of the http routes whose weights the controller sets; empty means "the default route".
    #[serde(deserialize_with = "nullable")]
    pub routes: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct IstioDestinationRule {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub canary_subset_name: String,
    #[serde(deserialize_with = "nullable")]
    pub stable_subset_name: String,
    #[serde(deserialize_with = "nullable")]
    pub additional_subset_names: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct BlueGreen {
    /// The Service whose selector the controller points at the live version.
    #[serde(deserialize_with = "nullable")]
    pub active_service: String,
    /// The Service it points at the version waiting for promotion.
    #[serde(deserialize_with = "nullable")]
    pub preview_service: String,
    pub post_promotion_analysis: Option<IgnoredAny>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Status {
    #[serde(deserialize_with = "nullable")]
    pub abort: bool,
    #[serde(deserialize_with = "nullable")]
    pub pause_conditions: Vec<PauseCondition>,
    #[serde(deserialize_with = "nullable")]
    pub controller_pause: bool,
    #[serde(deserialize_with = "nullable")]
    pub promote_full: bool,
    pub current_step_index: Option<i32>,
    #[serde(deserialize_with = "nullable")]
    pub current_pod_hash: String,
    #[serde(rename = "stableRS")]
    #[serde(deserialize_with = "nullable")]
    pub stable_rs: String,
    #[serde(deserialize_with = "nullable")]
    pub phase: String,
    #[serde(deserialize_with = "nullable")]
    pub message: String,
    /// A string upstream (a number since v0.10, a hash before); integers are accepted too.
    #[serde(deserialize_with = "string_or_integer")]
    pub observed_generation: String,
    #[serde(deserialize_with = "nullable")]
    pub replicas: i32,
    #[serde(deserialize_with = "nullable")]
    pub updated_replicas: i32,
    #[serde(deserialize_with = "nullable")]
    pub ready_replicas: i32,
    #[serde(deserialize_with = "nullable")]
    pub available_replicas: i32,
    pub restarted_at: Option<Timestamp>,
    #[serde(deserialize_with = "nullable")]
    pub conditions: Vec<Condition>,
    #[serde(deserialize_with = "nullable")]
    pub canary: CanaryStatus,
    #[serde(deserialize_with = "nullable")]
    pub blue_green: BlueGreenStatus,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct PauseCondition {
    /// `CanaryPauseStep`, `BlueGreenPause`, `InconclusiveAnalysisRun` or `InconclusiveExperiment`.
    #[serde(deserialize_with = "nullable")]
    pub reason: String,
    pub start_time: Option<Timestamp>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Condition {
    #[serde(rename = "type")]
    #[serde(deserialize_with = "nullable")]
    pub type_: String,
    #[serde(deserialize_with = "nullable")]
    pub status: String,
    #[serde(deserialize_with = "nullable")]
    pub reason: String,
    #[serde(deserialize_with = "nullable")]
    pub message: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct CanaryStatus {
    pub current_step_analysis_run_status: Option<AnalysisRunStatus>,
    pub weights: Option<TrafficWeights>,
    /// `ping` or `pong`: which ping-pong service is stable.
    #[serde(deserialize_with = "nullable")]
    pub stable_ping_pong: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct AnalysisRunStatus {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    /// `Pending`, `Running`, `Successful`, `Failed`, `Error` or `Inconclusive`.
    #[serde(deserialize_with = "nullable")]
    pub status: String,
    #[serde(deserialize_with = "nullable")]
    pub message: String,
}

/// The weights the controller last set on the traffic router (`status.canary.weights`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct TrafficWeights {
    #[serde(deserialize_with = "nullable")]
    pub canary: WeightDestination,
    #[serde(deserialize_with = "nullable")]
    pub stable: WeightDestination,
    #[serde(deserialize_with = "nullable")]
    pub additional: Vec<WeightDestination>,
    pub verified: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct WeightDestination {
    #[serde(deserialize_with = "nullable")]
    pub weight: i32,
    #[serde(deserialize_with = "nullable")]
    pub service_name: String,
    #[serde(deserialize_with = "nullable")]
    pub pod_template_hash: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct BlueGreenStatus {
    #[serde(deserialize_with = "nullable")]
    pub active_selector: String,
    #[serde(deserialize_with = "nullable")]
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
        fn visit_unit<E>(self) -> Result<String, E> {
            Ok(String::new())
        }
    }
    deserializer.deserialize_any(StringOrInteger)
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
