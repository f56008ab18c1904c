//! Where a Rollout is in its update, as `kubectl argo rollouts get rollout` shows it: strategy, step `i/n`,
//! the current step, and the traffic weights it wants. Upstream: `pkg/kubectl-argo-rollouts/info/rollout_info.go`
//! (`NewRolloutInfo`), `utils/replicaset/canary.go` (`GetCurrentCanaryStep`, `GetCurrentSetWeight`),
//! `utils/rollout/rolloututil.go` (`CanaryStepString`), `utils/weightutil` (`MaxTrafficWeight`).

use super::model::{Rollout, Step, WeightDestination};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrategyKind {
    Canary,
    BlueGreen,
}

impl StrategyKind {
    /// `canary` or `blueGreen`, as the field is spelled in the Rollout spec.
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyKind::Canary => "canary",
            StrategyKind::BlueGreen => "blueGreen",
        }
    }
}

/// Canary first, as upstream `NewRolloutInfo` checks it (a Rollout declaring both is invalid anyway).
pub fn strategy_kind(ro: &Rollout) -> Option<StrategyKind> {
    let strategy = &ro.spec.strategy;
    if strategy.canary.is_some() {
        Some(StrategyKind::Canary)
    } else if strategy.blue_green.is_some() {
        Some(StrategyKind::BlueGreen)
    } else {
        None
    }
}

/// Upstream's `Step` column: `status.currentStepIndex` over the number of steps. The index is 0-based and counts
/// the steps already done, so a canary at its first step shows `0/4` and a finished one `4/4`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepProgress {
    pub index: i32,
    pub count: usize,
}

impl fmt::Display for StepProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Shown only for a canary with steps whose controller has set `currentStepIndex` (upstream shows nothing
/// otherwise, not `0/n`).
pub fn step_progress(ro: &Rollout) -> Option<StepProgress> {
    let canary = ro.canary()?;
    let index = ro.status.current_step_index?;
    (!canary.steps.is_empty()).then_some(StepProgress { index, count: canary.steps.len() })
}

/// Upstream `GetCurrentCanaryStep`'s index: `None` without a canary with steps, else `currentStepIndex` (0 when
/// the controller has not set it yet), which may equal the step count once every step is done.
pub(crate) fn canary_step_index(ro: &Rollout) -> Option<i32> {
    let canary = ro.canary()?;
    (!canary.steps.is_empty()).then(|| ro.status.current_step_index.unwrap_or(0))
}

/// The step being executed (upstream `GetCurrentCanaryStep`), `None` when all are done. A negative index, which
/// would crash upstream, also gives `None`.
pub fn current_step(ro: &Rollout) -> Option<&Step> {
    let index = usize::try_from(canary_step_index(ro)?).ok()?;
    ro.canary()?.steps.get(index)
}

/// A step as upstream `CanaryStepString` renders it: `setWeight: 20`, `pause`, `pause: 1h`, `analysis`,
/// `setCanaryScale{weight: 25}`, `setHeaderRoute: NAME`... and `invalid` for a step of no known kind.
pub fn describe_step(step: &Step) -> String {
    if let Some(weight) = step.set_weight {
        return format!("setWeight: {weight}");
    }
    if let Some(pause) = &step.pause {
        return match &pause.duration {
            Some(duration) => format!("pause: {duration}"),
            None => "pause".to_owned(),
        };
    }
    if step.experiment.is_some() {
        return "experiment".to_owned();
    }
    if step.analysis.is_some() {
        return "analysis".to_owned();
    }
    // A setCanaryScale with none of its three fields falls through to the next kinds, as upstream.
    if let Some(scale) = &step.set_canary_scale {
        if let Some(weight) = scale.weight {
            return format!("setCanaryScale{{weight: {weight}}}");
        } else if scale.match_traffic_weight {
            return "setCanaryScale{matchTrafficWeight: true}".to_owned();
        } else if let Some(replicas) = scale.replicas {
            return format!("setCanaryScale{{replicas: {replicas}}}");
        }
    }
    if let Some(plugin) = &step.plugin {
        return format!("plugin: {}", plugin.name);
    }
    if let Some(route) = &step.set_header_route {
        return format!("setHeaderRoute: {}", route.name);
    }
    if let Some(route) = &step.set_mirror_route {
        return format!("setMirrorRoute: {}", route.name);
    }
    "invalid".to_owned()
}

/// Upstream `MaxTrafficWeight`: `trafficRouting.maxTrafficWeight`, else 100.
pub fn max_traffic_weight(ro: &Rollout) -> i32 {
    ro.canary().and_then(|c| c.traffic_routing.as_ref()).and_then(|t| t.max_traffic_weight).unwrap_or(100)
}

/// Upstream `GetCurrentSetWeight`, the canary weight the steps ask for (info's `SetWeight`): 0 once aborted, the
/// maximum when no step is current (no steps, or all done), else the last `setWeight` at or before the current
/// step (0 if none).
pub fn current_set_weight(ro: &Rollout) -> i32 {
    if ro.status.abort {
        return 0;
    }
    let current = canary_step_index(ro).and_then(|i| usize::try_from(i).ok());
    match (ro.canary(), current) {
        (Some(canary), Some(index)) if index < canary.steps.len() => {
            canary.steps.iter().take(index + 1).rev().find_map(|s| s.set_weight).unwrap_or(0)
        }
        _ => max_traffic_weight(ro),
    }
}

/// Where a [`DesiredWeights`] came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightSource {
    /// `status.canary.weights`: what the controller last wrote to the traffic router.
    Status,
    /// Not written yet (or by a controller too old to): computed the way upstream info does.
    Computed,
}

/// The traffic split a canary's controller wants on its routes. Weights are in units of
/// [`max_traffic_weight`] (100 unless `maxTrafficWeight` is set).
///
/// Comparing with a VirtualService: the Istio reconciler (`processRoutes`) writes the canary weight as is but the
/// stable one as `100 - canary - additional - (weights of additionalSubsetNames destinations)`, floored at 0,
/// with a literal 100; `stable` here is the status' `max - canary - additional`. They agree unless
/// `maxTrafficWeight` is set or additional subsets carry weight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredWeights {
    pub canary: i32,
    pub stable: i32,
    /// Experiment destinations.
    pub additional: Vec<WeightDestination>,
    /// Whether the controller verified the weight on the router (never set for Istio, whose `VerifyWeight`
    /// answers nothing).
    pub verified: Option<bool>,
    pub source: WeightSource,
}

/// The weights of a canary with traffic routing: `status.canary.weights` when present. Otherwise upstream info's
/// `ActualWeight` rule for traffic-routed canaries: the maximum when no step is current, the step weight once
/// some canary pod is available, else 0; stable gets the rest (as the controller's `calculateWeightStatus`).
/// `None` for blue-green, and for a basic canary without weights: upstream derives those from ReplicaSet
/// availability, and there is no router whose weights could drift.
pub fn desired_weights(ro: &Rollout) -> Option<DesiredWeights> {
    let canary = ro.canary()?;
    if let Some(w) = &ro.status.canary.weights {
        return Some(DesiredWeights {
            canary: w.canary.weight,
            stable: w.stable.weight,
            additional: w.additional.clone(),
            verified: w.verified,
            source: WeightSource::Status,
        });
    }
    canary.traffic_routing.as_ref()?;
    let max = max_traffic_weight(ro);
    let canary_weight = if current_step(ro).is_none() {
        max
    } else if ro.status.available_replicas > 0 {
        current_set_weight(ro)
    } else {
        0
    };
    Some(DesiredWeights {
        canary: canary_weight,
        stable: max - canary_weight,
        additional: Vec::new(),
        verified: None,
        source: WeightSource::Computed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn rollout(strategy: Value, status: Value) -> Rollout {
        Rollout::from_value(&json!({"metadata": {"name": "r"}, "spec": {"strategy": strategy}, "status": status}))
            .expect("valid rollout")
    }

    fn steps() -> Value {
        json!([{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": 30}}])
    }

    #[test]
    fn strategy_kind_prefers_canary_like_upstream_info() {
        assert_eq!(strategy_kind(&rollout(json!({"canary": {}}), json!({}))), Some(StrategyKind::Canary));
        assert_eq!(strategy_kind(&rollout(json!({"blueGreen": {}}), json!({}))), Some(StrategyKind::BlueGreen));
        assert_eq!(
            strategy_kind(&rollout(json!({"canary": {}, "blueGreen": {}}), json!({}))),
            Some(StrategyKind::Canary)
        );
        assert_eq!(strategy_kind(&rollout(json!({}), json!({}))), None);
        assert_eq!(StrategyKind::BlueGreen.as_str(), "blueGreen");
    }

    #[test]
    fn step_progress_is_index_over_count() {
        let ro = rollout(json!({"canary": {"steps": steps()}}), json!({"currentStepIndex": 1}));
        assert_eq!(step_progress(&ro).map(|s| s.to_string()), Some("1/4".into()));
        let done = rollout(json!({"canary": {"steps": steps()}}), json!({"currentStepIndex": 4}));
        assert_eq!(step_progress(&done).map(|s| s.to_string()), Some("4/4".into()));
    }

    #[test]
    fn no_step_progress_without_index_or_steps_or_canary() {
        assert_eq!(step_progress(&rollout(json!({"canary": {"steps": steps()}}), json!({}))), None);
        assert_eq!(step_progress(&rollout(json!({"canary": {}}), json!({"currentStepIndex": 0}))), None);
        assert_eq!(step_progress(&rollout(json!({"blueGreen": {}}), json!({"currentStepIndex": 0}))), None);
    }

    #[test]
    fn current_step_and_its_description() {
        let ro = rollout(json!({"canary": {"steps": steps()}}), json!({"currentStepIndex": 3}));
        assert_eq!(current_step(&ro).map(describe_step), Some("pause: 30".into()));
        // Not yet set by the controller: the first step.
        let ro = rollout(json!({"canary": {"steps": steps()}}), json!({}));
        assert_eq!(current_step(&ro).map(describe_step), Some("setWeight: 20".into()));
        for index in [4, -1] {
            let ro = rollout(json!({"canary": {"steps": steps()}}), json!({"currentStepIndex": index}));
            assert_eq!(current_step(&ro), None, "index {index}");
        }
    }

    #[test]
    fn every_step_kind_is_described_like_upstream() {
        let cases = [
            (json!({"setWeight": 5}), "setWeight: 5"),
            (json!({"pause": {}}), "pause"),
            (json!({"pause": {"duration": "1h"}}), "pause: 1h"),
            (json!({"pause": {"duration": 45}}), "pause: 45"),
            (json!({"experiment": {"templates": []}}), "experiment"),
            (json!({"analysis": {"templates": []}}), "analysis"),
            (json!({"setCanaryScale": {"weight": 25}}), "setCanaryScale{weight: 25}"),
            (json!({"setCanaryScale": {"matchTrafficWeight": true}}), "setCanaryScale{matchTrafficWeight: true}"),
            (json!({"setCanaryScale": {"replicas": 3}}), "setCanaryScale{replicas: 3}"),
            (json!({"setCanaryScale": {}}), "invalid"),
            (json!({"plugin": {"name": "p"}}), "plugin: p"),
            (json!({"setHeaderRoute": {"name": "h"}}), "setHeaderRoute: h"),
            (json!({"setMirrorRoute": {"name": "m"}}), "setMirrorRoute: m"),
            (json!({}), "invalid"),
        ];
        for (step, expected) in cases {
            let ro = rollout(json!({"canary": {"steps": [step.clone()]}}), json!({}));
            assert_eq!(current_step(&ro).map(describe_step), Some(expected.to_owned()), "{step}");
        }
    }

    #[test]
    fn set_weight_follows_upstream() {
        let at = |index: i32| rollout(json!({"canary": {"steps": steps()}}), json!({"currentStepIndex": index}));
        assert_eq!(current_set_weight(&at(0)), 20);
        assert_eq!(current_set_weight(&at(1)), 20);
        assert_eq!(current_set_weight(&at(3)), 50);
        assert_eq!(current_set_weight(&at(4)), 100);
        let mut aborted = at(3);
        aborted.status.abort = true;
        assert_eq!(current_set_weight(&aborted), 0);
        let no_weight_yet = rollout(json!({"canary": {"steps": [{"pause": {}}, {"setWeight": 10}]}}), json!({}));
        assert_eq!(current_set_weight(&no_weight_yet), 0);
        let capped = rollout(json!({"canary": {"trafficRouting": {"maxTrafficWeight": 1000}}}), json!({}));
        assert_eq!(current_set_weight(&capped), 1000);
    }

    #[test]
    fn desired_weights_come_from_status_when_present() {
        let ro = rollout(
            json!({"canary": {"steps": steps()}}),
            json!({"currentStepIndex": 1, "canary": {"weights": {
                "canary": {"weight": 20, "serviceName": "c", "podTemplateHash": "new"},
                "stable": {"weight": 70, "serviceName": "s", "podTemplateHash": "old"},
                "additional": [{"weight": 10, "serviceName": "exp"}]}}}),
        );
        assert_eq!(
            desired_weights(&ro),
            Some(DesiredWeights {
                canary: 20,
                stable: 70,
                additional: vec![WeightDestination { weight: 10, service_name: "exp".into(), ..Default::default() }],
                verified: None,
                source: WeightSource::Status,
            })
        );
    }

    #[test]
    fn desired_weights_are_computed_like_upstream_info_without_status() {
        let routed =
            |status: Value| rollout(json!({"canary": {"steps": steps(), "trafficRouting": {"istio": {}}}}), status);
        let w = desired_weights(&routed(json!({"currentStepIndex": 2, "availableReplicas": 2}))).expect("weights");
        assert_eq!((w.canary, w.stable, w.source), (50, 50, WeightSource::Computed));
        let w = desired_weights(&routed(json!({"currentStepIndex": 2}))).expect("weights");
        assert_eq!((w.canary, w.stable), (0, 100));
        let w = desired_weights(&routed(json!({"currentStepIndex": 4}))).expect("weights");
        assert_eq!((w.canary, w.stable), (100, 0));
    }

    #[test]
    fn no_desired_weights_for_blue_green_or_basic_canary_without_status() {
        assert_eq!(desired_weights(&rollout(json!({"blueGreen": {}}), json!({}))), None);
        assert_eq!(desired_weights(&rollout(json!({"canary": {"steps": steps()}}), json!({}))), None);
    }
}
