//! The phase of a Rollout exactly as `kubectl argo rollouts status` computes it: upstream
//! `utils/rollout/rolloututil.go` `GetRolloutPhase` (client-side guards, then the controller's `status.phase`),
//! falling back to `CalculateRolloutPhase` for controllers that do not write `status.phase` (v0.10 and older).

use super::model::Rollout;
use std::fmt;

/// Upstream `RolloutPhase`. `Other` keeps a value a newer controller might write into `status.phase`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    Healthy,
    Progressing,
    Paused,
    Degraded,
    Other(String),
}

impl Phase {
    fn parse(s: &str) -> Phase {
        match s {
            "Healthy" => Phase::Healthy,
            "Progressing" => Phase::Progressing,
            "Paused" => Phase::Paused,
            "Degraded" => Phase::Degraded,
            other => Phase::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Phase::Healthy => "Healthy",
            Phase::Progressing => "Progressing",
            Phase::Paused => "Paused",
            Phase::Degraded => "Degraded",
            Phase::Other(s) => s,
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhaseStatus {
    pub phase: Phase,
    pub message: String,
}

impl PhaseStatus {
    fn new(phase: Phase, message: impl Into<String>) -> PhaseStatus {
        PhaseStatus { phase, message: message.into() }
    }

    /// `Paused - CanaryPauseStep`, or just `Healthy` when there is no message: the line upstream
    /// `cmd/status/status.go` prints each time it changes while watching.
    pub fn line(&self) -> String {
        if self.message.is_empty() { self.phase.to_string() } else { format!("{} - {}", self.phase, self.message) }
    }
}

/// Upstream `GetRolloutPhase`, in its order.
///
/// Its third guard (`TemplateResolvedFromRef && !isWorkloadGenerationObserved`) is not reproduced: that flag is
/// `json:"-"` and only ever set inside the controller, so for a Rollout read from the API it is always false.
pub fn phase(ro: &Rollout) -> PhaseStatus {
    if !is_generation_observed(ro) {
        return PhaseStatus::new(Phase::Progressing, "waiting for rollout spec update to be observed");
    }
    // Upstream `IsUnpausing`: a client cleared the pause conditions but the controller has not reacted yet. Both
    // are status fields, so `metadata.generation` does not move and the first guard cannot catch it.
    if ro.status.controller_pause && ro.status.pause_conditions.is_empty() {
        return PhaseStatus::new(Phase::Progressing, "waiting for rollout to unpause");
    }
    if !ro.status.phase.is_empty() {
        return PhaseStatus::new(Phase::parse(&ro.status.phase), ro.status.message.clone());
    }
    calculate_phase(ro)
}

/// Upstream `isGenerationObserved`. `status.observedGeneration` is a string: a number since v0.10, a pod-template
/// hash before. Anything that does not parse as a base-10 integer (Go `strconv.Atoi`, which like `i64::from_str`
/// takes an optional sign) counts as observed, and so does an observed generation AHEAD of `metadata.generation`
/// (an all-digit v0.9 hash).
fn is_generation_observed(ro: &Rollout) -> bool {
    match ro.status.observed_generation.parse::<i64>() {
        Ok(observed) => observed >= ro.metadata.generation,
        Err(_) => true,
    }
}

/// Upstream `CalculateRolloutPhase`: the controller's own rules, first match wins.
fn calculate_phase(ro: &Rollout) -> PhaseStatus {
    let (spec, status) = (&ro.spec, &ro.status);
    // Upstream looks at the REASON of every condition, whatever its type (not only `Progressing`).
    for cond in &status.conditions {
        if cond.type_ == "InvalidSpec" {
            return PhaseStatus::new(Phase::Degraded, format!("InvalidSpec: {}", cond.message));
        }
        if cond.reason == "RolloutAborted" || cond.reason == "ProgressDeadlineExceeded" {
            return PhaseStatus::new(Phase::Degraded, format!("{}: {}", cond.reason, cond.message));
        }
    }
    if spec.paused {
        return PhaseStatus::new(Phase::Paused, "manually paused");
    }
    if let Some(pause) = status.pause_conditions.first() {
        return PhaseStatus::new(Phase::Paused, pause.reason.clone());
    }
    if let Some(restart_at) = spec.restart_at
        && status.restarted_at != Some(restart_at)
    {
        return PhaseStatus::new(Phase::Progressing, "rollout is restarting");
    }
    if status.updated_replicas < spec.replicas.unwrap_or(1) {
        return PhaseStatus::new(Phase::Progressing, "more replicas need to be updated");
    }
    if status.available_replicas < status.updated_replicas {
        return PhaseStatus::new(Phase::Progressing, "updated replicas are still becoming available");
    }
    let fully_promoted = !status.stable_rs.is_empty() && status.stable_rs == status.current_pod_hash;
    // Blue-green is checked first, as upstream does for a (invalid) Rollout declaring both strategies.
    if let Some(blue_green) = &spec.strategy.blue_green {
        let active = &status.blue_green.active_selector;
        if active.is_empty() || *active != status.current_pod_hash {
            return PhaseStatus::new(Phase::Progressing, "active service cutover pending");
        }
        if !fully_promoted {
            let analysis_done =
                status.blue_green.post_promotion_analysis_run_status.as_ref().is_some_and(|run| {
                    matches!(run.status.as_str(), "Successful" | "Failed" | "Error" | "Inconclusive")
                });
            if blue_green.post_promotion_analysis.is_some() && !analysis_done {
                return PhaseStatus::new(Phase::Progressing, "waiting for analysis to complete");
            }
            return PhaseStatus::new(Phase::Progressing, "waiting for post-promotion verification to complete");
        }
    } else if let Some(canary) = &spec.strategy.canary {
        // Only a basic canary: blue-green and traffic-routed canaries keep old replicas on purpose
        // (scaleDownDelaySeconds).
        if canary.traffic_routing.is_none() && status.replicas > status.updated_replicas {
            return PhaseStatus::new(Phase::Progressing, "old replicas are pending termination");
        }
        if !fully_promoted {
            return PhaseStatus::new(Phase::Progressing, "waiting for all steps to complete");
        }
    }
    PhaseStatus::new(Phase::Healthy, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn rollout(spec: Value, status: Value) -> Rollout {
        Rollout::from_value(&json!({"metadata": {"name": "r", "generation": 2}, "spec": spec, "status": status}))
            .expect("valid rollout")
    }

    /// A healthy basic canary with the given status fields merged over it.
    fn canary(extra_status: Value) -> Rollout {
        let mut status = json!({"observedGeneration": "2", "replicas": 1, "updatedReplicas": 1,
                                "availableReplicas": 1, "stableRS": "aaa", "currentPodHash": "aaa"});
        if let (Some(base), Some(extra)) = (status.as_object_mut(), extra_status.as_object()) {
            base.extend(extra.clone());
        }
        rollout(json!({"replicas": 1, "strategy": {"canary": {}}}), status)
    }

    fn phase_of(ro: &Rollout) -> (Phase, String) {
        let p = phase(ro);
        (p.phase, p.message)
    }

    #[test]
    fn unobserved_generation_is_progressing_before_anything_else() {
        let ro = canary(json!({"observedGeneration": "1", "phase": "Healthy", "controllerPause": true}));
        assert_eq!(phase_of(&ro), (Phase::Progressing, "waiting for rollout spec update to be observed".into()));
    }

    #[test]
    fn observed_generation_that_is_not_a_number_or_is_ahead_counts_as_observed() {
        for observed in ["5d4f8c9b7", "", "3", "+2"] {
            let ro = canary(json!({"observedGeneration": observed}));
            assert_eq!(phase_of(&ro).0, Phase::Healthy, "observedGeneration {observed:?}");
        }
        let ro = canary(json!({"observedGeneration": "-2"}));
        assert_eq!(phase_of(&ro).0, Phase::Progressing);
    }

    #[test]
    fn controller_pause_without_pause_conditions_is_unpausing() {
        let ro = canary(json!({"controllerPause": true, "phase": "Paused", "message": "CanaryPauseStep"}));
        assert_eq!(phase_of(&ro), (Phase::Progressing, "waiting for rollout to unpause".into()));
    }

    #[test]
    fn controller_phase_is_used_when_set() {
        let ro = canary(json!({"controllerPause": true, "pauseConditions": [{"reason": "CanaryPauseStep"}],
                               "phase": "Paused", "message": "CanaryPauseStep"}));
        assert_eq!(phase_of(&ro), (Phase::Paused, "CanaryPauseStep".into()));
        let ro = canary(json!({"phase": "Rebalancing", "message": "new in v9"}));
        assert_eq!(phase_of(&ro), (Phase::Other("Rebalancing".into()), "new in v9".into()));
    }

    #[test]
    fn invalid_spec_condition_is_degraded() {
        let ro = canary(json!({"conditions": [
            {"type": "Available", "status": "True", "reason": "AvailableReason", "message": "ok"},
            {"type": "InvalidSpec", "status": "True", "reason": "InvalidSpec", "message": "bad steps"}]}));
        assert_eq!(phase_of(&ro), (Phase::Degraded, "InvalidSpec: bad steps".into()));
    }

    #[test]
    fn aborted_or_timed_out_reason_on_any_condition_is_degraded() {
        let ro = canary(json!({"conditions": [{"type": "Progressing", "status": "False", "reason": "RolloutAborted",
                                               "message": "Rollout aborted update to revision 2"}]}));
        assert_eq!(phase_of(&ro), (Phase::Degraded, "RolloutAborted: Rollout aborted update to revision 2".into()));
        let ro = canary(json!({"conditions": [{"type": "Whatever", "status": "False",
                                               "reason": "ProgressDeadlineExceeded", "message": "too slow"}]}));
        assert_eq!(phase_of(&ro), (Phase::Degraded, "ProgressDeadlineExceeded: too slow".into()));
    }

    #[test]
    fn spec_paused_is_manually_paused_before_pause_conditions() {
        let mut ro = canary(json!({"pauseConditions": [{"reason": "CanaryPauseStep"}]}));
        assert_eq!(phase_of(&ro), (Phase::Paused, "CanaryPauseStep".into()));
        ro.spec.paused = true;
        assert_eq!(phase_of(&ro), (Phase::Paused, "manually paused".into()));
    }

    #[test]
    fn pending_restart_is_progressing() {
        let mut ro = canary(json!({}));
        ro.spec.restart_at = Some("2025-01-01T00:00:00Z".parse().expect("ts"));
        assert_eq!(phase_of(&ro), (Phase::Progressing, "rollout is restarting".into()));
        // Same instant, other offset: restarted.
        ro.status.restarted_at = Some("2025-01-01T01:00:00+01:00".parse().expect("ts"));
        assert_eq!(phase_of(&ro).0, Phase::Healthy);
    }

    #[test]
    fn replica_counts_are_progressing() {
        let mut ro = canary(json!({"updatedReplicas": 1}));
        ro.spec.replicas = Some(3);
        assert_eq!(phase_of(&ro), (Phase::Progressing, "more replicas need to be updated".into()));
        // Absent spec.replicas means 1.
        ro.spec.replicas = None;
        ro.status.updated_replicas = 0;
        assert_eq!(phase_of(&ro), (Phase::Progressing, "more replicas need to be updated".into()));
        let ro = canary(json!({"updatedReplicas": 2, "availableReplicas": 1}));
        assert_eq!(phase_of(&ro), (Phase::Progressing, "updated replicas are still becoming available".into()));
    }

    #[test]
    fn basic_canary_with_old_replicas_is_progressing_but_traffic_routed_is_not() {
        let mut ro = canary(json!({"replicas": 2}));
        assert_eq!(phase_of(&ro), (Phase::Progressing, "old replicas are pending termination".into()));
        if let Some(c) = ro.spec.strategy.canary.as_mut() {
            c.traffic_routing = Some(Default::default());
        }
        assert_eq!(phase_of(&ro).0, Phase::Healthy);
    }

    #[test]
    fn canary_not_fully_promoted_is_progressing() {
        for status in
            [json!({"stableRS": "aaa", "currentPodHash": "bbb"}), json!({"stableRS": "", "currentPodHash": ""})]
        {
            let ro = canary(status);
            assert_eq!(phase_of(&ro), (Phase::Progressing, "waiting for all steps to complete".into()));
        }
    }

    #[test]
    fn healthy_canary() {
        assert_eq!(phase_of(&canary(json!({}))), (Phase::Healthy, String::new()));
    }

    fn blue_green(post_promotion_analysis: bool, status: Value) -> Rollout {
        let mut strategy = json!({"activeService": "active"});
        if post_promotion_analysis {
            strategy["postPromotionAnalysis"] = json!({"templates": [{"templateName": "t"}]});
        }
        let mut base = json!({"observedGeneration": "2", "replicas": 1, "updatedReplicas": 1,
                              "availableReplicas": 1, "currentPodHash": "new"});
        if let (Some(base), Some(extra)) = (base.as_object_mut(), status.as_object()) {
            base.extend(extra.clone());
        }
        rollout(json!({"replicas": 1, "strategy": {"blueGreen": strategy}}), base)
    }

    #[test]
    fn blue_green_rules() {
        let ro = blue_green(false, json!({"blueGreen": {"activeSelector": "old"}, "stableRS": "old"}));
        assert_eq!(phase_of(&ro), (Phase::Progressing, "active service cutover pending".into()));
        let ro = blue_green(false, json!({"stableRS": "new"}));
        assert_eq!(phase_of(&ro), (Phase::Progressing, "active service cutover pending".into()));
        let ro = blue_green(true, json!({"blueGreen": {"activeSelector": "new"}, "stableRS": "old"}));
        assert_eq!(phase_of(&ro), (Phase::Progressing, "waiting for analysis to complete".into()));
        let ro = blue_green(
            true,
            json!({"blueGreen": {"activeSelector": "new",
                   "postPromotionAnalysisRunStatus": {"name": "a", "status": "Running"}}, "stableRS": "old"}),
        );
        assert_eq!(phase_of(&ro), (Phase::Progressing, "waiting for analysis to complete".into()));
        let ro = blue_green(
            true,
            json!({"blueGreen": {"activeSelector": "new",
                   "postPromotionAnalysisRunStatus": {"name": "a", "status": "Successful"}}, "stableRS": "old"}),
        );
        assert_eq!(phase_of(&ro), (Phase::Progressing, "waiting for post-promotion verification to complete".into()));
        let ro = blue_green(false, json!({"blueGreen": {"activeSelector": "new"}, "stableRS": "old"}));
        assert_eq!(phase_of(&ro), (Phase::Progressing, "waiting for post-promotion verification to complete".into()));
        let ro = blue_green(false, json!({"blueGreen": {"activeSelector": "new"}, "stableRS": "new"}));
        assert_eq!(phase_of(&ro), (Phase::Healthy, String::new()));
    }

    #[test]
    fn progress_line_matches_upstream_watch_output() {
        assert_eq!(PhaseStatus::new(Phase::Healthy, "").line(), "Healthy");
        assert_eq!(PhaseStatus::new(Phase::Paused, "CanaryPauseStep").line(), "Paused - CanaryPauseStep");
    }
}
