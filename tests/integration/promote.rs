//! `promote`, `abort`, `retry`, `pause` and `wait`, run through the real kubectl against the real API server with
//! the real Argo Rollouts CRD (status subresource, schema validation). Each Rollout is put in its state the way
//! the controller would (the status written through the status subresource); the exact `spec` and `status`
//! after the command show which patches reached which endpoint: a status patch sent to the main resource, or a
//! spec patch sent to `/status`, would be silently dropped by the API server. Then the plain VirtualService
//! canary (no Rollout), and every documented error.

use crate::support::cli::{fails, ok, once_rbac_settles, stderr, stdout, vroute};
use crate::support::role_for;
use crate::support::{env, scenarios};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

const STABLE: &str = scenarios::STABLE_HASH;
const CANARY: &str = scenarios::CANARY_HASH;

/// Canary steps: setWeight 20, pause, analysis, setWeight 60, a timed pause.
pub(crate) fn canary_steps() -> Value {
    json!({"canary": {"steps": [
        {"setWeight": 20}, {"pause": {}}, {"analysis": {"templates": [{"templateName": "success-rate"}]}},
        {"setWeight": 60}, {"pause": {"duration": "1h"}}]}})
}

fn blue_green() -> Value {
    json!({"blueGreen": {"activeService": "reviews-active", "previewService": "reviews-preview"}})
}

/// What the controller writes while an update (stable -> canary) runs, plus `extra`.
fn updating(extra: Value) -> Value {
    let mut status = json!({"currentPodHash": CANARY, "stableRS": STABLE,
                            "replicas": 3, "updatedReplicas": 1, "readyReplicas": 3, "availableReplicas": 3});
    status.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    status
}

fn pause_condition(reason: &str) -> Value {
    json!([{"reason": reason, "startTime": "2026-11-22T00:00:00Z"}])
}

/// Waiting at the canary's `pause: {}` step (index 1).
pub(crate) fn at_pause_step() -> Value {
    updating(json!({"phase": "Paused", "message": "CanaryPauseStep", "currentStepIndex": 1,
                    "controllerPause": true, "pauseConditions": pause_condition("CanaryPauseStep")}))
}

/// Creates Rollout `name` in a fresh namespace with this strategy, manual pause and status.
pub(crate) async fn seeded(prefix: &str, strategy: Value, paused: bool, status: Value) -> (String, Value) {
    let env = env();
    let ns = env.namespace(prefix).await;
    let stored = env.seed_rollout(&ns, scenarios::rollout("reviews", strategy, paused), status).await;
    (ns, stored)
}

/// `(spec, status)` of the stored Rollout.
async fn state(ns: &str, name: &str) -> (Value, Value) {
    let ro = env().get_rollout(ns, name).await;
    (ro["spec"].clone(), ro["status"].clone())
}

fn with(mut value: Value, changes: Value) -> Value {
    for (key, v) in changes.as_object().unwrap() {
        match v {
            Value::Null => value.as_object_mut().unwrap().remove(key),
            v => value.as_object_mut().unwrap().insert(key.clone(), v.clone()),
        };
    }
    value
}

fn resource_version(ro: &Value) -> Value {
    ro["metadata"]["resourceVersion"].clone()
}

#[tokio::test]
async fn promote_at_a_canary_pause_step_clears_only_the_pause_conditions() {
    let (ns, before) = seeded("promote-step", canary_steps(), false, at_pause_step()).await;
    let out = ok(&vroute(&["promote", "reviews", "-n", &ns]));
    assert_eq!(out, "rollout 'reviews' promoted\n");
    let (spec, status) = state(&ns, "reviews").await;
    assert_eq!(spec, before["spec"]);
    assert_eq!(status, with(before["status"].clone(), json!({"pauseConditions": null})));
}

#[tokio::test]
async fn promote_at_a_blue_green_pause_clears_the_pause_conditions() {
    let status = updating(json!({"phase": "Paused", "message": "BlueGreenPause", "controllerPause": true,
                                 "pauseConditions": pause_condition("BlueGreenPause"),
                                 "blueGreen": {"activeSelector": STABLE, "previewSelector": CANARY}}));
    let (ns, before) = seeded("promote-bg", blue_green(), false, status).await;
    ok(&vroute(&["promote", "reviews", "-n", &ns]));
    let (spec, status) = state(&ns, "reviews").await;
    assert_eq!(spec, before["spec"]);
    assert_eq!(status, with(before["status"].clone(), json!({"pauseConditions": null})));
}

#[tokio::test]
async fn promote_after_an_inconclusive_step_analysis_moves_past_it() {
    let status = updating(json!({
        "phase": "Paused", "message": "InconclusiveAnalysisRun", "currentStepIndex": 2, "controllerPause": true,
        "pauseConditions": pause_condition("InconclusiveAnalysisRun"),
        "canary": {"currentStepAnalysisRunStatus": {"name": "reviews-7c9d8e6f4-2", "status": "Inconclusive"}}}));
    let (ns, before) = seeded("promote-inconclusive", canary_steps(), false, status).await;
    let doc: Value = serde_json::from_str(&ok(&vroute(&["promote", "reviews", "-n", &ns, "-o", "json"]))).unwrap();
    let result = &doc["results"][0];
    assert_eq!(result["message"], "rollout 'reviews' promoted");
    assert_eq!(
        result["patches"],
        json!([{"subresource": "status", "patch": {"status": {
            "pauseConditions": null, "controllerPause": false, "currentStepIndex": 3}}}])
    );
    let (spec, status) = state(&ns, "reviews").await;
    assert_eq!(spec, before["spec"]);
    let expected = with(
        before["status"].clone(),
        json!({"pauseConditions": null, "controllerPause": false, "currentStepIndex": 3}),
    );
    assert_eq!(status, expected);
    assert_eq!(result["object"]["status"], expected, "the document shows the Rollout as stored");
}

#[tokio::test]
async fn promote_skips_a_running_analysis_step() {
    let status = updating(json!({
        "phase": "Progressing", "message": "more replicas need to be updated", "currentStepIndex": 2,
        "canary": {"currentStepAnalysisRunStatus": {"name": "reviews-7c9d8e6f4-2", "status": "Running"}}}));
    let (ns, before) = seeded("promote-analysis", canary_steps(), false, status).await;
    ok(&vroute(&["promote", "reviews", "-n", &ns]));
    let (spec, status) = state(&ns, "reviews").await;
    assert_eq!(spec, before["spec"]);
    assert_eq!(status, with(before["status"].clone(), json!({"currentStepIndex": 3})));
}

#[tokio::test]
async fn promote_of_a_blue_green_without_pause_conditions_only_unpauses() {
    let status = updating(json!({"phase": "Progressing", "message": "waiting for post-promotion verification",
                                 "blueGreen": {"activeSelector": CANARY, "previewSelector": CANARY}}));
    let (ns, before) = seeded("promote-bg-nothing", blue_green(), false, status.clone()).await;
    let out = ok(&vroute(&["promote", "reviews", "-n", &ns]));
    assert_eq!(out, "rollout 'reviews' is not paused and has no step to skip: nothing to promote\n");
    assert_eq!(resource_version(&env().get_rollout(&ns, "reviews").await), resource_version(&before), "no write");

    // Manually paused: the spec patch alone, no status patch.
    let env = env();
    let paused = env.seed_rollout(&ns, scenarios::rollout("paused", blue_green(), true), status).await;
    let doc: Value = serde_json::from_str(&ok(&vroute(&["promote", "paused", "-n", &ns, "-o", "json"]))).unwrap();
    assert_eq!(doc["results"][0]["patches"], json!([{"subresource": null, "patch": {"spec": {"paused": false}}}]));
    let (spec, status) = state(&ns, "paused").await;
    assert_eq!(spec, with(paused["spec"].clone(), json!({"paused": false})));
    assert_eq!(status, paused["status"]);
}

#[tokio::test]
async fn promote_of_a_manually_paused_canary_sends_the_status_patch_then_the_spec_patch() {
    let (ns, before) = seeded("promote-manual", canary_steps(), true, at_pause_step()).await;
    let doc: Value = serde_json::from_str(&ok(&vroute(&["promote", "reviews", "-n", &ns, "-o", "json"]))).unwrap();
    assert_eq!(
        doc["results"][0]["patches"],
        json!([{"subresource": "status", "patch": {"status": {"pauseConditions": null}}},
               {"subresource": null, "patch": {"spec": {"paused": false}}}])
    );
    let (spec, status) = state(&ns, "reviews").await;
    assert_eq!(spec, with(before["spec"].clone(), json!({"paused": false})));
    assert_eq!(status, with(before["status"].clone(), json!({"pauseConditions": null})));
}

#[tokio::test]
async fn promote_full_during_an_update_sets_promote_full_and_unpauses() {
    let env = env();
    let (ns, before) = seeded("promote-full", canary_steps(), false, at_pause_step()).await;
    assert_eq!(ok(&vroute(&["promote", "reviews", "--full", "-n", &ns])), "rollout 'reviews' fully promoted\n");
    let (spec, status) = state(&ns, "reviews").await;
    assert_eq!(spec, before["spec"]);
    assert_eq!(status, with(before["status"].clone(), json!({"promoteFull": true})));
    let again = ok(&vroute(&["promote", "reviews", "--full", "-n", &ns]));
    assert_eq!(again, "rollout 'reviews' is already being fully promoted\n");

    // A manually paused canary is unpaused too (upstream v1.9), or it would stay paused.
    let paused = env.seed_rollout(&ns, scenarios::rollout("paused", canary_steps(), true), at_pause_step()).await;
    ok(&vroute(&["promote", "paused", "--full", "-n", &ns]));
    let (spec, status) = state(&ns, "paused").await;
    assert_eq!(spec, with(paused["spec"].clone(), json!({"paused": false})));
    assert_eq!(status, with(paused["status"].clone(), json!({"promoteFull": true})));
}

#[tokio::test]
async fn promote_full_without_an_update_has_nothing_to_do_unless_paused() {
    let env = env();
    let healthy = json!({"phase": "Healthy", "currentPodHash": STABLE, "stableRS": STABLE, "currentStepIndex": 5,
                         "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2});
    let (ns, before) = seeded("promote-full-idle", canary_steps(), false, healthy.clone()).await;
    let out = ok(&vroute(&["promote", "reviews", "--full", "-n", &ns]));
    assert_eq!(out, "rollout 'reviews' has no update in progress: nothing to promote\n");
    assert_eq!(resource_version(&env.get_rollout(&ns, "reviews").await), resource_version(&before), "no write");

    let paused = env.seed_rollout(&ns, scenarios::rollout("paused", canary_steps(), true), healthy).await;
    ok(&vroute(&["promote", "paused", "--full", "-n", &ns]));
    let (spec, status) = state(&ns, "paused").await;
    assert_eq!(spec, with(paused["spec"].clone(), json!({"paused": false})));
    assert_eq!(status, paused["status"], "no promoteFull without an update");
}

#[tokio::test]
async fn abort_retry_and_pause_write_upstreams_patches_and_say_when_there_is_nothing_to_do() {
    let (ns, before) = seeded("abort", canary_steps(), false, at_pause_step()).await;
    assert_eq!(ok(&vroute(&["abort", "reviews", "-n", &ns])), "rollout 'reviews' aborted\n");
    let (spec, status) = state(&ns, "reviews").await;
    assert_eq!(spec, before["spec"]);
    assert_eq!(status, with(before["status"].clone(), json!({"abort": true})));
    assert_eq!(ok(&vroute(&["abort", "reviews", "-n", &ns])), "rollout 'reviews' is already aborted\n");

    assert_eq!(ok(&vroute(&["retry", "reviews", "-n", &ns])), "rollout 'reviews' retried\n");
    let (spec, status) = state(&ns, "reviews").await;
    assert_eq!(spec, before["spec"]);
    assert_eq!(status, with(before["status"].clone(), json!({"abort": false})));
    assert_eq!(ok(&vroute(&["retry", "reviews", "-n", &ns])), "rollout 'reviews' is not aborted: nothing to retry\n");

    assert_eq!(ok(&vroute(&["pause", "reviews", "-n", &ns])), "rollout 'reviews' paused\n");
    let (spec, status) = state(&ns, "reviews").await;
    assert_eq!(spec, with(before["spec"].clone(), json!({"paused": true})));
    assert_eq!(status, with(before["status"].clone(), json!({"abort": false})));
    assert_eq!(ok(&vroute(&["pause", "reviews", "-n", &ns])), "rollout 'reviews' is already paused\n");
}

#[tokio::test]
async fn dry_runs_show_the_result_and_store_nothing() {
    let (ns, before) = seeded("dry-run", canary_steps(), true, at_pause_step()).await;
    let expected_spec = with(before["spec"].clone(), json!({"paused": false}));
    let expected_status = with(before["status"].clone(), json!({"pauseConditions": null}));
    for mode in ["--dry-run=server", "--dry-run=client"] {
        let doc: Value =
            serde_json::from_str(&ok(&vroute(&["promote", "reviews", mode, "-n", &ns, "-o", "json"]))).unwrap();
        assert_eq!(doc["dryRun"], mode.trim_start_matches("--dry-run="));
        let object = &doc["results"][0]["object"];
        assert_eq!((&object["spec"], &object["status"]), (&expected_spec, &expected_status), "{mode}");
    }
    let out = ok(&vroute(&["abort", "reviews", "--dry-run", "-n", &ns]));
    assert_eq!(out, "rollout 'reviews' aborted (dry run)\n");
    assert_eq!(resource_version(&env().get_rollout(&ns, "reviews").await), resource_version(&before));
}

#[tokio::test]
async fn several_rollouts_by_name_or_label_selector() {
    let env = env();
    let ns = env.namespace("many").await;
    for (name, team) in [("cart", "shop"), ("checkout", "shop"), ("search", "find")] {
        let mut ro = scenarios::rollout(name, canary_steps(), false);
        ro["metadata"]["labels"]["team"] = json!(team);
        env.seed_rollout(&ns, ro, at_pause_step()).await;
    }
    let out = ok(&vroute(&["pause", "-l", "team=shop", "-n", &ns]));
    assert_eq!(out, "rollout 'cart' paused\nrollout 'checkout' paused\n");
    let paused = |name: &'static str| {
        let ns = ns.clone();
        async move { env.get_rollout(&ns, name).await["spec"]["paused"].as_bool().unwrap_or(false) }
    };
    assert!(paused("cart").await && paused("checkout").await && !paused("search").await);

    // A missing name is reported; the others are still done, and the exit code is the failure's.
    let out = vroute(&["retry", "cart", "chekout", "search", "-n", &ns]);
    let err = fails(&out, 5);
    assert_eq!(
        stdout(&out),
        "rollout 'cart' is not aborted: nothing to retry\nrollout 'search' is not aborted: nothing to retry\n"
    );
    assert_eq!(err, format!("error: Rollout \"chekout\" not found in namespace \"{ns}\"; did you mean: checkout?\n"));

    let err = fails(&vroute(&["promote", "-l", "team=shop", "--step", "10", "-n", &ns]), 4);
    assert!(err.contains("-l selects Rollouts, and --step only applies to a plain VirtualService canary"), "{err}");
    let err = fails(&vroute(&["pause", "-l", "team=none", "-n", &ns]), 5);
    assert!(err.contains(&format!("Rollouts matching -l team=none not found in namespace \"{ns}\"")), "{err}");
}

/// Starts `kubectl vroute wait ...` and returns it with its first stdout line.
fn start_wait(args: &[&str]) -> (std::process::Child, BufReader<std::process::ChildStdout>, String) {
    let mut child =
        env().vroute().arg("wait").args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    (child, lines, first)
}

fn finish(
    mut child: std::process::Child,
    mut lines: BufReader<std::process::ChildStdout>,
) -> (Option<i32>, String, String) {
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut lines, &mut rest).unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (child.wait().unwrap().code(), rest, err)
}

#[tokio::test]
async fn wait_follows_the_rollout_until_the_controller_reports_it_healthy() {
    let env = env();
    let (ns, _) = seeded("wait-healthy", canary_steps(), false, at_pause_step()).await;
    let (child, lines, first) = start_wait(&["reviews", "--timeout", "60s", "-n", &ns]);
    assert_eq!(first, "Paused - CanaryPauseStep\n");
    // The controller resumes and finishes the update.
    let healthy = json!({"pauseConditions": null, "controllerPause": false, "phase": "Healthy", "message": "",
                         "currentStepIndex": 5, "stableRS": CANARY, "updatedReplicas": 2, "replicas": 2,
                         "availableReplicas": 2});
    env.patch_rollout_status(&ns, "reviews", healthy).await;
    let (code, rest, err) = finish(child, lines);
    assert_eq!(code, Some(0), "{rest}{err}");
    assert_eq!(rest, "Healthy\n");
}

#[tokio::test]
async fn wait_exits_1_when_the_rollout_becomes_degraded() {
    let env = env();
    let (ns, _) = seeded("wait-degraded", canary_steps(), false, at_pause_step()).await;
    let (child, lines, first) = start_wait(&["reviews", "-n", &ns]);
    assert_eq!(first, "Paused - CanaryPauseStep\n");
    let aborted = json!({"abort": true, "pauseConditions": null, "controllerPause": false, "phase": "Degraded",
                         "message": "RolloutAborted: Rollout aborted update to revision 2"});
    env.patch_rollout_status(&ns, "reviews", aborted).await;
    let (code, rest, err) = finish(child, lines);
    assert_eq!(code, Some(1), "{rest}{err}");
    assert_eq!(rest, "Degraded - RolloutAborted: Rollout aborted update to revision 2\n");
    assert_eq!(err, "error: rollout 'reviews' is Degraded: RolloutAborted: Rollout aborted update to revision 2\n");
}

#[tokio::test]
async fn wait_fails_when_the_rollout_is_deleted_while_waiting() {
    let env = env();
    let (ns, _) = seeded("wait-deleted", canary_steps(), false, at_pause_step()).await;
    let (child, lines, first) = start_wait(&["reviews", "-n", &ns]);
    assert_eq!(first, "Paused - CanaryPauseStep\n");
    let deleted = env.kubectl().args(["delete", "rollout", "reviews", "-n", &ns]).output().unwrap();
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    let (code, rest, err) = finish(child, lines);
    assert_eq!((code, rest.as_str()), (Some(5), ""));
    assert_eq!(err, format!("error: Rollout \"reviews\" (deleted while waiting) not found in namespace \"{ns}\"\n"));
}

#[tokio::test]
async fn wait_exits_2_on_timeout_and_0_on_a_pause_when_asked() {
    let (ns, _) = seeded("wait-timeout", canary_steps(), false, at_pause_step()).await;
    let started = Instant::now();
    let out = vroute(&["wait", "reviews", "--timeout", "2s", "-n", &ns]);
    let err = fails(&out, 2);
    assert!(started.elapsed() >= Duration::from_secs(2) && started.elapsed() < Duration::from_secs(10));
    assert_eq!(stdout(&out), "Paused - CanaryPauseStep\n");
    assert_eq!(
        err,
        "error: timed out after 2s waiting for rollout 'reviews' to be Healthy (it is Paused - CanaryPauseStep)\n"
    );
    for goal in [&["--success-on-pause"][..], &["--for", "paused"]] {
        let args: Vec<&str> = ["wait", "reviews", "--timeout", "30s", "-n", &ns].iter().chain(goal).copied().collect();
        assert_eq!(ok(&vroute(&args)), "Paused - CanaryPauseStep\n", "{goal:?}");
    }
}

#[tokio::test]
async fn wait_on_a_terminal_shows_the_time_the_step_and_a_live_status_line() {
    let (ns, _) = seeded("wait-tty", canary_steps(), false, at_pause_step()).await;
    // `script` gives the command a real pseudo-terminal, as a user's shell would.
    let command = format!("kubectl vroute wait reviews --timeout 3s -n {ns}");
    let path = crate::support::plugin_path();
    let kubectl_dir = env().kubectl.parent().map(|d| d.display().to_string()).unwrap_or_default();
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("PATH", format!("{kubectl_dir}:{path}"))
        .env("KUBECONFIG", &env().kubeconfig)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    // The phase line carries the time and the step (and the canary weight, which this Rollout has not set)...
    let line = screen.split(['\r', '\n']).find(|l| l.contains("Paused - CanaryPauseStep")).unwrap_or_default();
    let (time, rest) = line.trim_start_matches("\x1b[K").split_once("  ").unwrap_or_default();
    assert!(time.len() == 8 && time.as_bytes()[2] == b':', "{screen:?}");
    assert_eq!(rest, "Paused - CanaryPauseStep  (step 1/5)", "{screen:?}");
    // ... and under it a status line counts the wait down, every second, erased before the timeout message.
    let redraws: Vec<&str> = screen.split("\r\x1b[K  waiting ").skip(1).collect();
    assert!(redraws.len() >= 2, "{screen:?}");
    for redraw in redraws {
        let (waited, rest) = redraw.split_once("s for Healthy (").unwrap_or_default();
        assert!(waited.parse::<u64>().is_ok_and(|s| s <= 3) && rest.contains("s left)"), "{screen:?}");
    }
    assert!(screen.contains("\r\x1b[Kerror: timed out after 3s"), "{screen:?}");
}

/// Service `reviews` with subsets v1 and v2 (one Ready pod each) and a VirtualService splitting route `primary`
/// `w1`/`w2` between them, as a team running canaries without Argo would have it.
async fn plain_canary(prefix: &str, w1: u32, w2: u32) -> String {
    let env = env();
    let ns = env.namespace(prefix).await;
    let yaml = [
        scenarios::service_and_subsets("reviews", &["v1", "v2"]),
        scenarios::weighted_routes("reviews", ("v1", w1), ("v2", w2), ""),
    ];
    env.create_yaml(&ns, &yaml.join("---\n")).await;
    env.ready_pod(&ns, "reviews", "v1", 0).await;
    env.ready_pod(&ns, "reviews", "v2", 0).await;
    ns
}

async fn virtual_service(ns: &str) -> Value {
    let api = env().istio(ns, "VirtualService").await;
    serde_json::to_value(api.get("reviews").await.unwrap()).unwrap()
}

async fn weights(ns: &str) -> Vec<i64> {
    let vs = virtual_service(ns).await;
    vs["spec"]["http"][0]["route"].as_array().unwrap().iter().map(|d| d["weight"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn a_plain_canary_is_promoted_step_by_step_with_the_versions_recorded_by_set_weight() {
    let ns = plain_canary("plain", 100, 0).await;
    ok(&vroute(&["set-weight", "reviews", "v1=90", "v2=10", "-n", &ns]));
    let out = ok(&vroute(&["promote", "reviews", "--step", "25", "-n", &ns]));
    assert_eq!(out, format!("virtualservice {ns}/reviews: route \"primary\" now v1 65%, v2 35%\n"));
    assert_eq!(weights(&ns).await, [65, 35]);
    ok(&vroute(&["promote", "reviews", "-n", &ns]));
    assert_eq!(weights(&ns).await, [0, 100]);
    let out = ok(&vroute(&["promote", "reviews", "-n", &ns]));
    assert_eq!(
        out,
        format!(
            "virtualservice {ns}/reviews: route \"primary\" unchanged: v1 0%, v2 100% (nothing to promote: the \
             canary v2 already has all the traffic)\n"
        )
    );
    let out = ok(&vroute(&["abort", "reviews", "-n", &ns]));
    assert_eq!(out, format!("virtualservice {ns}/reviews: route \"primary\" now v1 100%, v2 0%\n"));
    assert_eq!(weights(&ns).await, [100, 0]);

    let vs = virtual_service(&ns).await;
    let history: Vec<Value> =
        serde_json::from_str(vs["metadata"]["annotations"]["vroute.kubectl.io/history"].as_str().unwrap()).unwrap();
    let commands: Vec<&str> = history.iter().map(|r| r["command"].as_str().unwrap()).collect();
    assert_eq!(commands, ["set-weight v1=90 v2=10", "promote --step 25", "promote", "abort"]);
    ok(&vroute(&["undo", "reviews", "-n", &ns]));
    assert_eq!(weights(&ns).await, [0, 100], "undo takes back the abort");
}

#[tokio::test]
async fn a_plain_canary_without_recorded_versions_needs_flags_then_remembers_them() {
    let ns = plain_canary("plain-flags", 90, 10).await;
    let err = fails(&vroute(&["promote", "reviews", "-n", &ns]), 4);
    assert_eq!(
        err,
        format!(
            "error: route \"primary\" of VirtualService {ns}/reviews sends v1 90%, v2 10%, but its stable and canary \
             versions are not recorded (annotation vroute.kubectl.io/versions, written by set-weight, switch, \
             promote and abort): pass --stable VERSION --to VERSION\n"
        )
    );
    let err = fails(&vroute(&["abort", "reviews", "-n", &ns]), 4);
    assert!(err.ends_with("pass --stable VERSION\n"), "{err}");
    assert_eq!(weights(&ns).await, [90, 10], "refusals change nothing");

    ok(&vroute(&["promote", "reviews", "--stable", "v1", "--to", "v2", "--step", "40", "-n", &ns]));
    assert_eq!(weights(&ns).await, [50, 50]);
    let versions = &virtual_service(&ns).await["metadata"]["annotations"]["vroute.kubectl.io/versions"];
    assert_eq!(versions, r#"{"primary":{"stable":"v1","canary":"v2"}}"#);

    let doc: Value =
        serde_json::from_str(&ok(&vroute(&["abort", "reviews", "--dry-run=server", "-o", "json", "-n", &ns]))).unwrap();
    let result = &doc["results"][0];
    assert_eq!(
        (&result["kind"], &result["changed"], &result["conflicts"]),
        (&json!("VirtualService"), &json!(true), &json!(0))
    );
    assert_eq!(result["message"], "route \"primary\" now v1 100%, v2 0%");
    assert_eq!(result["object"]["spec"]["http"][0]["route"][1]["weight"], 0);
    assert_eq!(weights(&ns).await, [50, 50], "a server dry run stores nothing");
    ok(&vroute(&["abort", "reviews", "-n", &ns]));
    assert_eq!(weights(&ns).await, [100, 0]);
}

#[tokio::test]
async fn a_name_that_is_both_a_rollout_and_a_service_is_the_rollout_unless_service_is_given() {
    let env = env();
    let ns = plain_canary("both", 100, 0).await;
    ok(&vroute(&["set-weight", "reviews", "v1=80", "v2=20", "-n", &ns]));
    let before = env.seed_rollout(&ns, scenarios::rollout("reviews", canary_steps(), false), at_pause_step()).await;

    assert_eq!(ok(&vroute(&["promote", "reviews", "-n", &ns])), "rollout 'reviews' promoted\n");
    assert_eq!(weights(&ns).await, [80, 20], "the routes are not touched");
    let err = fails(&vroute(&["promote", "reviews", "--step", "30", "-n", &ns]), 4);
    assert_eq!(
        err,
        "error: reviews is an Argo Rollout: --step only applies to a plain VirtualService canary. Leave it out to \
         act on the Rollout, or pass --service to edit the routes of Service reviews instead\n"
    );
    ok(&vroute(&["promote", "reviews", "--service", "--step", "30", "-n", &ns]));
    assert_eq!(weights(&ns).await, [50, 50]);
    let (_, status) = state(&ns, "reviews").await;
    assert_eq!(status, with(before["status"].clone(), json!({"pauseConditions": null})), "promoted once only");
}

#[tokio::test]
async fn a_missing_rollout_names_close_ones_and_a_missing_crd_says_so() {
    let env = env();
    let (ns, _) = seeded("missing", canary_steps(), false, at_pause_step()).await;
    let err = fails(&vroute(&["retry", "reveiws", "-n", &ns]), 5);
    assert_eq!(err, format!("error: Rollout \"reveiws\" not found in namespace \"{ns}\"; did you mean: reviews?\n"));
    let err = fails(&vroute(&["promote", "reveiws", "-n", &ns]), 5);
    assert!(
        err.starts_with(&format!(
            "error: Rollout \"reveiws\" not found in namespace \"{ns}\"; did you mean: reviews? (and as a plain \
             VirtualService canary: no Service or VirtualService host \"reveiws\""
        )),
        "{err}"
    );
    let err = fails(&vroute(&["wait", "reveiws", "-n", &ns]), 5);
    assert!(err.contains("did you mean: reviews?"), "{err}");

    let bare = env.bare_cluster().await;
    for command in ["retry", "pause", "wait", "promote", "abort"] {
        let out = env.vroute().env("KUBECONFIG", bare).args([command, "reviews", "-n", "default"]).output().unwrap();
        let err = fails(&out, 5);
        assert!(
            err.starts_with("error: the Argo Rollouts CRDs are not installed: rollouts.argoproj.io is not served by"),
            "{command}: {err}"
        );
    }
}

/// A Role granting get/list/watch/patch on `resources` of argoproj.io, bound to ServiceAccount `user`.
fn rollout_role(user: &str, ns: &str, resources: &str) -> String {
    role_for(
        ns,
        user,
        &format!("- apiGroups: [argoproj.io]\n  resources: {resources}\n  verbs: [get, list, watch, patch]"),
    )
}

#[tokio::test]
async fn without_patch_on_rollouts_status_the_error_names_the_permission_and_the_edit_role() {
    let env = env();
    let (ns, before) = seeded("rbac", canary_steps(), false, at_pause_step()).await;
    let (_, kubeconfig) = env.restricted_user(&ns, "releaser").await;
    env.create_yaml(&ns, &rollout_role("releaser", &ns, "[rollouts]")).await;
    let as_user = |args: &[&str]| env.vroute().env("KUBECONFIG", &kubeconfig).args(args).output().unwrap();
    let out = once_rbac_settles(|| as_user(&["promote", "reviews", "-n", &ns]), |o| !stderr(o).contains("cannot get"));
    let err = fails(&out, 5);
    assert_eq!(
        err,
        format!(
            "error: forbidden: cannot patch rollouts/status (API group argoproj.io) in namespace \"{ns}\". Ask for a \
             Role granting `patch` on `rollouts` and `rollouts/status` in API group argoproj.io, or a RoleBinding to \
             the built-in `edit` ClusterRole, which includes both wherever Argo Rollouts is installed (its \
             argo-rollouts-aggregate-to-edit role aggregates into it); see the README's RBAC section\n"
        )
    );
    assert_eq!(state(&ns, "reviews").await.1, before["status"], "nothing was written");
    // pause writes the main resource only.
    ok(&as_user(&["pause", "reviews", "-n", &ns]));

    // The documented permissions are enough.
    let (_, kubeconfig) = env.restricted_user(&ns, "documented").await;
    env.create_yaml(&ns, &rollout_role("documented", &ns, "[rollouts, rollouts/status]")).await;
    let as_documented =
        || env.vroute().env("KUBECONFIG", &kubeconfig).args(["promote", "reviews", "-n", &ns]).output().unwrap();
    let out = once_rbac_settles(as_documented, |o| o.status.success());
    assert_eq!(ok(&out), "rollout 'reviews' promoted\n");
    let (spec, status) = state(&ns, "reviews").await;
    assert_eq!(spec["paused"], false);
    assert_eq!(status, with(before["status"].clone(), json!({"pauseConditions": null})));
}

#[tokio::test]
async fn wait_watches_so_it_needs_the_watch_permission_and_names_it() {
    // A poller would get by with `get`; `wait` opens a watch, and says so when it may not.
    let env = env();
    let (ns, _) = seeded("wait-rbac", canary_steps(), false, at_pause_step()).await;
    let (_, kubeconfig) = env.restricted_user(&ns, "watcher").await;
    let role = rollout_role("watcher", &ns, "[rollouts]").replace("[get, list, watch, patch]", "[get, list]");
    env.create_yaml(&ns, &role).await;
    let wait = || env.vroute().env("KUBECONFIG", &kubeconfig).args(["wait", "reviews", "-n", &ns]).output().unwrap();
    let out = once_rbac_settles(wait, |o| !stderr(o).contains("cannot get"));
    let err = fails(&out, 5);
    assert_eq!(stdout(&out), "Paused - CanaryPauseStep\n");
    assert_eq!(
        err,
        format!(
            "error: forbidden: cannot watch rollouts.argoproj.io in namespace \"{ns}\". Ask for a Role granting \
             `watch` on `rollouts.argoproj.io` (see the README's RBAC section)\n"
        )
    );
}
