//! Tests of [`super`].

use super::*;
use serde_json::json;

fn canary(status: Value) -> Rollout {
    let steps = json!([{"setWeight": 20}, {"pause": {}}, {"analysis": {"templates": []}}, {"setWeight": 60}]);
    Rollout::from_value(&json!({"metadata": {"name": "reviews"}, "spec": {"strategy": {"canary": {"steps": steps}}},
                                "status": status}))
    .expect("valid rollout")
}

fn blue_green(status: Value) -> Rollout {
    Rollout::from_value(&json!({"metadata": {"name": "reviews"},
                                "spec": {"strategy": {"blueGreen": {"activeService": "a"}}}, "status": status}))
    .expect("valid rollout")
}

fn paused(mut ro: Rollout) -> Rollout {
    ro.spec.paused = true;
    ro
}

fn status_patch(body: Value) -> Patch {
    Patch { endpoint: Endpoint::Status, body }
}

fn unpause_patch() -> Patch {
    Patch { endpoint: Endpoint::Resource, body: json!({"spec": {"paused": false}}) }
}

fn applies(plan: Plan, patches: Vec<Patch>, message: &str) {
    assert_eq!(plan, Plan::Apply { patches, message: message.to_owned() });
}

fn idle(plan: Plan, reason: Idle) {
    match plan {
        Plan::Nothing { reason: got, message } => {
            assert_eq!(got, reason);
            assert!(message.starts_with("rollout 'reviews' "), "{message}");
        }
        other => panic!("expected nothing to do, got {other:?}"),
    }
}

const PAUSED_AT_STEP: &str = "CanaryPauseStep";

#[test]
fn promote_canary_paused_at_a_pause_step_clears_pause_conditions() {
    let ro = canary(json!({"currentStepIndex": 1, "controllerPause": true,
                           "pauseConditions": [{"reason": PAUSED_AT_STEP}]}));
    applies(
        promote(&ro),
        vec![status_patch(json!({"status": {"pauseConditions": null}}))],
        "rollout 'reviews' promoted",
    );
}

#[test]
fn promote_manually_paused_sends_status_then_spec() {
    let ro = paused(canary(json!({"currentStepIndex": 1, "pauseConditions": [{"reason": PAUSED_AT_STEP}]})));
    applies(
        promote(&ro),
        vec![status_patch(json!({"status": {"pauseConditions": null}})), unpause_patch()],
        "rollout 'reviews' promoted",
    );
}

#[test]
fn promote_inconclusive_step_analysis_with_controller_pause_moves_to_next_step() {
    let ro = canary(json!({"currentStepIndex": 2, "controllerPause": true,
                           "pauseConditions": [{"reason": "InconclusiveAnalysisRun"}],
                           "canary": {"currentStepAnalysisRunStatus": {"name": "a", "status": "Inconclusive"}}}));
    applies(
        promote(&ro),
        vec![status_patch(json!({"status": {"pauseConditions": null, "controllerPause": false,
                                            "currentStepIndex": 3}}))],
        "rollout 'reviews' promoted",
    );
}

#[test]
fn promote_inconclusive_without_controller_pause_only_clears_pause_conditions() {
    let ro = canary(json!({"currentStepIndex": 2,
                           "pauseConditions": [{"reason": "InconclusiveAnalysisRun"}],
                           "canary": {"currentStepAnalysisRunStatus": {"name": "a", "status": "Inconclusive"}}}));
    applies(
        promote(&ro),
        vec![status_patch(json!({"status": {"pauseConditions": null}}))],
        "rollout 'reviews' promoted",
    );
}

#[test]
fn promote_inconclusive_canary_without_steps_writes_nothing_like_upstream() {
    let ro = Rollout::from_value(&json!({"metadata": {"name": "reviews"}, "spec": {"strategy": {"canary": {}}},
        "status": {"controllerPause": true, "pauseConditions": [{"reason": "InconclusiveAnalysisRun"}],
                   "canary": {"currentStepAnalysisRunStatus": {"name": "a", "status": "Inconclusive"}}}}))
    .expect("valid rollout");
    idle(promote(&ro), Idle::NothingToPromote);
}

#[test]
fn promote_skips_a_running_analysis_step() {
    let ro = canary(json!({"currentStepIndex": 2,
                           "canary": {"currentStepAnalysisRunStatus": {"name": "a", "status": "Running"}}}));
    applies(
        promote(&ro),
        vec![status_patch(json!({"status": {"pauseConditions": null, "currentStepIndex": 3}}))],
        "rollout 'reviews' promoted",
    );
}

#[test]
fn promote_canary_before_the_controller_set_an_index_moves_to_step_one() {
    applies(
        promote(&canary(json!({}))),
        vec![status_patch(json!({"status": {"pauseConditions": null, "currentStepIndex": 1}}))],
        "rollout 'reviews' promoted",
    );
}

#[test]
fn promote_canary_with_all_steps_done_has_nothing_to_do() {
    idle(promote(&canary(json!({"currentStepIndex": 4}))), Idle::NothingToPromote);
}

#[test]
fn promote_manually_paused_canary_with_all_steps_done_sends_upstreams_patches() {
    applies(
        promote(&paused(canary(json!({"currentStepIndex": 4})))),
        vec![status_patch(json!({"status": {"pauseConditions": null, "currentStepIndex": 4}})), unpause_patch()],
        "rollout 'reviews' promoted",
    );
}

#[test]
fn promote_canary_without_steps_has_nothing_to_do() {
    let ro = Rollout::from_value(&json!({"metadata": {"name": "reviews"}, "spec": {"strategy": {"canary": {}}}}))
        .expect("valid rollout");
    idle(promote(&ro), Idle::NothingToPromote);
}

#[test]
fn promote_blue_green_paused_before_promotion_clears_pause_conditions() {
    let ro = blue_green(json!({"controllerPause": true, "pauseConditions": [{"reason": "BlueGreenPause"}]}));
    applies(
        promote(&ro),
        vec![status_patch(json!({"status": {"pauseConditions": null}}))],
        "rollout 'reviews' promoted",
    );
}

#[test]
fn promote_blue_green_without_pause_conditions_sends_no_status_patch() {
    idle(promote(&blue_green(json!({}))), Idle::NothingToPromote);
    applies(promote(&paused(blue_green(json!({})))), vec![unpause_patch()], "rollout 'reviews' promoted");
}

#[test]
fn promote_full_during_an_update() {
    let ro = canary(json!({"currentPodHash": "new", "stableRS": "old", "currentStepIndex": 1}));
    applies(
        promote_full(&ro),
        vec![status_patch(json!({"status": {"promoteFull": true}}))],
        "rollout 'reviews' fully promoted",
    );
    applies(
        promote_full(&paused(ro)),
        vec![status_patch(json!({"status": {"promoteFull": true}})), unpause_patch()],
        "rollout 'reviews' fully promoted",
    );
}

#[test]
fn promote_full_without_an_update_only_unpauses() {
    let ro = canary(json!({"currentPodHash": "same", "stableRS": "same"}));
    idle(promote_full(&ro), Idle::NoUpdateInProgress);
    applies(promote_full(&paused(ro)), vec![unpause_patch()], "rollout 'reviews' fully promoted");
}

#[test]
fn promote_full_twice_has_nothing_to_do() {
    let ro = canary(json!({"currentPodHash": "new", "stableRS": "old", "promoteFull": true}));
    idle(promote_full(&ro), Idle::AlreadyPromotingFully);
}

#[test]
fn abort_retry_pause_send_upstreams_patches() {
    let ro = canary(json!({"currentPodHash": "new", "stableRS": "old"}));
    applies(abort(&ro), vec![status_patch(json!({"status": {"abort": true}}))], "rollout 'reviews' aborted");
    applies(
        pause(&ro),
        vec![Patch { endpoint: Endpoint::Resource, body: json!({"spec": {"paused": true}}) }],
        "rollout 'reviews' paused",
    );
    let aborted = canary(json!({"abort": true}));
    applies(retry(&aborted), vec![status_patch(json!({"status": {"abort": false}}))], "rollout 'reviews' retried");
}

#[test]
fn abort_retry_pause_that_change_nothing() {
    idle(abort(&canary(json!({"abort": true}))), Idle::AlreadyAborted);
    idle(retry(&canary(json!({}))), Idle::NotAborted);
    idle(pause(&paused(canary(json!({})))), Idle::AlreadyPaused);
}

#[test]
fn merge_patches_delete_nulls_merge_objects_and_replace_the_rest() {
    let mut rollout = json!({"spec": {"paused": true, "replicas": 2},
                             "status": {"pauseConditions": [{"reason": "CanaryPauseStep"}], "currentStepIndex": 1}});
    merge_patch(&mut rollout, &json!({"status": {"pauseConditions": null, "currentStepIndex": 2}}));
    merge_patch(&mut rollout, &json!({"spec": {"paused": false}}));
    assert_eq!(rollout, json!({"spec": {"paused": false, "replicas": 2}, "status": {"currentStepIndex": 2}}));
    let mut bare = json!({"metadata": {"name": "r"}});
    merge_patch(&mut bare, &json!({"status": {"abort": true}}));
    assert_eq!(bare, json!({"metadata": {"name": "r"}, "status": {"abort": true}}));
}

#[test]
fn server_dry_run_answers_add_up_to_what_the_patches_would_store() {
    // promote of a manually paused canary: the spec patch, then the status patch; neither is stored.
    let read = json!({"spec": {"paused": true}, "status": {"currentStepIndex": 1, "pauseConditions": [{}]}});
    let spec_answer = json!({"spec": {"paused": false}, "status": {"currentStepIndex": 1, "pauseConditions": [{}]}});
    let after_spec = dry_run_answer(read, spec_answer, Endpoint::Resource);
    // The status answer comes from the stored object, which still has spec.paused: true.
    let status_answer = json!({"spec": {"paused": true}, "status": {"currentStepIndex": 2}});
    let after = dry_run_answer(after_spec, status_answer, Endpoint::Status);
    assert_eq!(after, json!({"spec": {"paused": false}, "status": {"currentStepIndex": 2}}));
}
