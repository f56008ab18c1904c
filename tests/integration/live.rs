//! The real Argo Rollouts controller in the loop: canaries whose steps the controller runs, whose traffic the
//! simulator derives from the weights the controller writes, and whose analysis vroute-analysis judges from the
//! real Prometheus. Every scenario has a namespace, a Prometheus and a judge of its own, and they all run at
//! once (the live cluster's controllers serve them all).

use crate::support::env;
use crate::support::live::Live;
use crate::support::release::{
    analysis_template, create, judged, load, output, phase, release_of, rollout_of, template_of, text, until_of,
    weights_of, world, world_of,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The Rollout `reviews` of `ns`.
async fn rollout(live: &Live, ns: &str) -> Value {
    rollout_of(live, ns, "reviews").await
}

/// `(stable, canary)` weights of route `primary` of VirtualService `reviews`.
async fn weights(live: &Live, ns: &str) -> (i64, i64) {
    weights_of(live, ns, "reviews").await
}

/// A new release of `reviews`: the pod template at `version`.
async fn release(live: &Live, ns: &str, version: &str) {
    release_of(live, ns, "reviews", version).await
}

async fn until(
    live: &Live,
    ns: &str,
    what: &str,
    timeout: Duration,
    check: impl Fn(&Value) -> bool,
) -> Result<Value, String> {
    until_of(live, ns, "reviews", what, timeout, check).await
}

/// Scenario 1: a canary as good as its stable version goes through its steps under the real controller and
/// becomes Healthy; `wait` sees it; `status` during the run shows the controller's weights and step.
async fn good_canary(live: &Live) -> Result<(), String> {
    let ns = live.namespace("live-good").await;
    let canary = live.canary(&ns, load(&[("v1", 0.01), ("v2", 0.01)], 400.0)).await?;
    create(live, &ns, &analysis_template()).await;
    let steps = json!([{"setWeight": 50}, judged(canary.analysis_url()), {"setWeight": 100}]);
    create(live, &ns, &world(steps, "v1")).await;
    until(live, &ns, "first Healthy", Duration::from_secs(60), |ro| phase(ro) == "Healthy").await?;

    let mut wait = live.vroute();
    wait.args(["wait", "reviews", "-n", &ns, "--timeout", "4m"]);
    let waited = tokio::spawn(output(wait));
    release(live, &ns, "v2").await;
    // status while the analysis runs: the controller's 50% on the canary, desired and actual, at step 1/3.
    until(live, &ns, "the analysis step", Duration::from_secs(60), |ro| ro["status"]["currentStepIndex"] == 1).await?;
    let mut status = live.vroute();
    status.args(["status", "reviews", "-n", &ns, "-o", "json"]);
    let shown = output(status).await;
    let doc: Value = serde_json::from_slice(&shown.stdout).map_err(|e| format!("{e}: {}", text(&shown)))?;
    let r = &doc["services"][0]["rollout"];
    if (r["desiredCanaryWeight"].as_i64(), r["actualCanaryWeight"].as_f64(), r["step"].as_str())
        != (Some(50), Some(50.0), Some("1/3"))
    {
        return Err(format!("{ns}: status during the analysis shows {r:#}"));
    }
    let waited = waited.await.unwrap();
    if waited.status.code() != Some(0) {
        return Err(format!("{ns}: wait did not see Healthy: {}", text(&waited)));
    }
    // Healthy comes with the stable ReplicaSet switched; the controller moves the route's weights back to the
    // stable subset on its next reconcile (until then both subsets select the same, new pods).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ro = rollout(live, &ns).await;
        let w = weights(live, &ns).await;
        if phase(&ro) == "Healthy" && w == (100, 0) {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("{ns}: ended {:#} with weights {w:?}", ro["status"]));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(canary);
    Ok(())
}

/// Scenario 2: five times the stable version's errors: the judge fails the canary, the controller aborts, the
/// route is back at 100/0, `wait` exits 1 and `status` shows Degraded with the AnalysisRun's message.
async fn bad_canary(live: &Live) -> Result<(), String> {
    let ns = live.namespace("live-bad").await;
    let canary = live.canary(&ns, load(&[("v1", 0.01), ("v2", 0.05)], 400.0)).await?;
    create(live, &ns, &analysis_template()).await;
    create(live, &ns, &world(json!([{"setWeight": 50}, judged(canary.analysis_url()), {"setWeight": 100}]), "v1"))
        .await;
    until(live, &ns, "first Healthy", Duration::from_secs(60), |ro| phase(ro) == "Healthy").await?;
    let mut wait = live.vroute();
    wait.args(["wait", "reviews", "-n", &ns, "--timeout", "4m"]);
    let waited = tokio::spawn(output(wait));
    release(live, &ns, "v2").await;
    let waited = waited.await.unwrap();
    if waited.status.code() != Some(1) || !String::from_utf8_lossy(&waited.stderr).contains("is Degraded") {
        return Err(format!("{ns}: wait should exit 1 on Degraded: {}", text(&waited)));
    }
    let ro = until(live, &ns, "aborted", Duration::from_secs(30), |ro| ro["status"]["abort"] == true).await?;
    // The route goes back on the controller's reconcile of the abort, which may follow Degraded by a moment.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut w = weights(live, &ns).await;
    while w != (100, 0) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        w = weights(live, &ns).await;
    }
    if w != (100, 0) {
        return Err(format!("{ns}: 15 s after the abort the route gives {w:?}, not (100, 0)"));
    }
    let mut status = live.vroute();
    status.args(["status", "reviews", "-n", &ns, "-o", "json"]);
    let doc: Value = serde_json::from_slice(&output(status).await.stdout).map_err(|e| e.to_string())?;
    let r = &doc["services"][0]["rollout"];
    if r["phase"] != "Degraded" || !r["message"].as_str().unwrap_or_default().contains("error-rate-vs-baseline") {
        return Err(format!("{ns}: status shows {r:#}; the Rollout says {:#}", ro["status"]));
    }
    drop(canary);
    Ok(())
}

/// Scenario 3: no traffic reaches the canary (a route ahead of the Rollout's sends the only caller to the stable
/// version; the baseline is busy): every look is inconclusive, the run is Inconclusive and the controller pauses
/// the Rollout (InconclusiveAnalysisRun); `kubectl vroute promote` resumes it and the controller goes on to
/// Healthy. (With no series for either arm at all, the judge would answer an error instead: nothing was ever
/// measured for that service.)
async fn no_canary_traffic(live: &Live) -> Result<(), String> {
    let ns = live.namespace("live-quiet").await;
    let canary = live.canary(&ns, load(&[("v1", 0.01)], 400.0)).await?;
    create(live, &ns, &analysis_template()).await;
    let steps = json!([{"setWeight": 50}, judged(canary.analysis_url()), {"setWeight": 100}]);
    let to_stable = "  http:\n  - name: productpage-to-stable\n    match: [{sourceLabels: {app: productpage}}]\n    \
                     route: [{destination: {host: reviews, subset: stable}}]\n  - name: primary";
    create(live, &ns, &world(steps, "v1").replacen("  http:\n  - name: primary", to_stable, 1)).await;
    until(live, &ns, "first Healthy", Duration::from_secs(60), |ro| phase(ro) == "Healthy").await?;
    release(live, &ns, "v2").await;
    let paused = |ro: &Value| {
        ro["status"]["pauseConditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["reason"] == "InconclusiveAnalysisRun"))
    };
    until(live, &ns, "paused as inconclusive", Duration::from_secs(120), paused).await?;
    let mut promote = live.vroute();
    promote.args(["promote", "reviews", "-n", &ns]);
    let promoted = output(promote).await;
    if !promoted.status.success() || !String::from_utf8_lossy(&promoted.stdout).contains("rollout 'reviews' promoted") {
        return Err(format!("{ns}: promote: {}", text(&promoted)));
    }
    until(live, &ns, "Healthy after promote", Duration::from_secs(60), |ro| {
        phase(ro) == "Healthy" && ro["status"]["stableRS"] == ro["status"]["currentPodHash"]
    })
    .await?;
    drop(canary);
    Ok(())
}

/// Scenario 4: Prometheus stops in the middle of the analysis: the judge answers 503, Argo counts Errors, and
/// after `consecutiveErrorLimit` the run errors and the Rollout aborts. The canary is never promoted.
async fn prometheus_stops(live: &Live) -> Result<(), String> {
    let ns = live.namespace("live-blind").await;
    let mut canary = live.canary(&ns, load(&[("v1", 0.01), ("v2", 0.01)], 400.0)).await?;
    create(live, &ns, &analysis_template()).await;
    create(live, &ns, &world(json!([{"setWeight": 50}, judged(canary.analysis_url()), {"setWeight": 100}]), "v1"))
        .await;
    let first = until(live, &ns, "first Healthy", Duration::from_secs(60), |ro| phase(ro) == "Healthy").await?;
    release(live, &ns, "v2").await;
    until(live, &ns, "the analysis step", Duration::from_secs(60), |ro| ro["status"]["currentStepIndex"] == 1).await?;
    canary.stop_prometheus();
    let ro = until(live, &ns, "aborted", Duration::from_secs(150), |ro| ro["status"]["abort"] == true).await?;
    if ro["status"]["stableRS"] != first["status"]["stableRS"] {
        return Err(format!("{ns}: the canary was promoted while the judge could not see: {:#}", ro["status"]));
    }
    let message = ro["status"]["message"].as_str().unwrap_or_default();
    if !message.contains("Error") && !message.contains("error") {
        return Err(format!("{ns}: aborted, but not for the errors: {message}"));
    }
    Ok(())
}

/// Scenario 4, continued: vroute-analysis restarted mid-analysis answers from the same window (it keeps no
/// state: the window starts where the Rollout's canary ReplicaSet was created), and the canary still passes.
async fn judge_restarts(live: &Live) -> Result<(), String> {
    let ns = live.namespace("live-restart").await;
    let mut canary = live.canary(&ns, load(&[("v1", 0.01), ("v2", 0.01)], 400.0)).await?;
    create(live, &ns, &analysis_template()).await;
    create(live, &ns, &world(json!([{"setWeight": 50}, judged(canary.analysis_url()), {"setWeight": 100}]), "v1"))
        .await;
    until(live, &ns, "first Healthy", Duration::from_secs(60), |ro| phase(ro) == "Healthy").await?;
    release(live, &ns, "v2").await;
    until(live, &ns, "the analysis step", Duration::from_secs(60), |ro| ro["status"]["currentStepIndex"] == 1).await?;
    let ask = |url: String| {
        let ns = ns.clone();
        async move {
            let query = format!("{url}/v1/judge?namespace={ns}&service=reviews&rollout=reviews&step=10s");
            let doc: Value =
                reqwest::get(&query).await.map_err(|e| e.to_string())?.json().await.map_err(|e| e.to_string())?;
            Ok::<Value, String>(doc)
        }
    };
    let before = ask(canary.analysis_url().to_string()).await?;
    canary.start_analysis().await?;
    let after = ask(canary.analysis_url().to_string()).await?;
    if before["window"]["start"] != after["window"]["start"] || after["window"]["start"].is_null() {
        return Err(format!(
            "{ns}: the window moved across a restart: {:#} then {:#}",
            before["window"], after["window"]
        ));
    }
    until(live, &ns, "Healthy", Duration::from_secs(150), |ro| {
        phase(ro) == "Healthy" && ro["status"]["stableRS"] == ro["status"]["currentPodHash"]
    })
    .await?;
    Ok(())
}

/// Scenario 6: a route the controller manages: `set-weight` is refused; with `--force` it is written and the
/// controller puts its own weights back, and how fast is measured (what the refusal's message claims).
async fn managed_route(live: &Live) -> Result<Duration, String> {
    let ns = live.namespace("live-managed").await;
    create(live, &ns, &world(json!([{"setWeight": 20}, {"pause": {}}]), "v1")).await;
    until(live, &ns, "first Healthy", Duration::from_secs(60), |ro| phase(ro) == "Healthy").await?;
    release(live, &ns, "v2").await;
    until(live, &ns, "paused at 20%", Duration::from_secs(60), |ro| ro["status"]["currentStepIndex"] == 1).await?;
    let settled = Instant::now() + Duration::from_secs(30);
    while weights(live, &ns).await != (80, 20) && Instant::now() < settled {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut refused = live.vroute();
    refused.args(["set-weight", "reviews", "stable=50", "canary=50", "-n", &ns]);
    let refused = output(refused).await;
    if refused.status.code() != Some(7) || !String::from_utf8_lossy(&refused.stderr).contains("is managed by Rollout") {
        return Err(format!("{ns}: set-weight on the managed route: {}", text(&refused)));
    }
    let mut forced = live.vroute();
    forced.args(["set-weight", "reviews", "stable=50", "canary=50", "--force", "-n", &ns]);
    let written = Instant::now();
    let forced = output(forced).await;
    if !forced.status.success() {
        return Err(format!("{ns}: set-weight --force: {}", text(&forced)));
    }
    let deadline = written + Duration::from_secs(60);
    loop {
        if weights(live, &ns).await == (80, 20) {
            return Ok(written.elapsed());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{ns}: the controller did not restore 80/20 within 60s: {:?}",
                weights(live, &ns).await
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the controller made of a Rollout after a command: phase, step, abort, manual pause, pause reasons, and
/// the route's weights.
async fn state(live: &Live, ns: &str, app: &str) -> Value {
    let ro = rollout_of(live, ns, app).await;
    let reasons: Vec<Value> =
        ro["status"]["pauseConditions"].as_array().into_iter().flatten().map(|c| c["reason"].clone()).collect();
    json!({"phase": ro["status"]["phase"], "step": ro["status"]["currentStepIndex"], "abort": ro["status"]["abort"],
           "paused": ro["spec"]["paused"], "pauses": reasons, "weights": weights_of(live, ns, app).await,
           "updated": ro["status"]["currentPodHash"] == ro["status"]["stableRS"]})
}

/// Waits until the two Rollouts are in the same state, unchanged for two seconds (the controller done).
async fn same(live: &Live, ns: &str, after: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = (Value::Null, Instant::now());
    loop {
        let (a, b) = (state(live, ns, "parity-a").await, state(live, ns, "parity-b").await);
        if a == b && b["phase"] != "Progressing" {
            if last.0 == a && last.1.elapsed() > Duration::from_secs(2) {
                return Ok(());
            }
            if last.0 != a {
                last = (a.clone(), Instant::now());
            }
        }
        if Instant::now() > deadline {
            return Err(format!("{ns}: after {after}, kubectl vroute left {a} and kubectl argo rollouts {b}"));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Scenario 5: the same sequence applied to two identical Rollouts, one with `kubectl vroute`, one with
/// upstream's `kubectl argo rollouts`: after each command both are in the same phase, step and weights.
async fn parity(live: &Live) -> Result<(), String> {
    let ns = live.namespace("live-parity").await;
    let steps =
        json!([{"setWeight": 20}, {"pause": {}}, {"setWeight": 40}, {"pause": {}}, {"setWeight": 60}, {"pause": {}}]);
    for app in ["parity-a", "parity-b"] {
        create(live, &ns, &world_of(app, steps.clone(), "v1")).await;
    }
    same(live, &ns, "the first deploy").await?;
    for app in ["parity-a", "parity-b"] {
        release_of(live, &ns, app, "v2").await;
    }
    same(live, &ns, "a release").await?;
    let vroute = |args: &[&str]| {
        let mut c = live.vroute();
        c.args(args).args(["parity-a", "-n", &ns]);
        c
    };
    let argo = |args: &[&str]| {
        let mut c = live.argo_rollouts();
        c.args(args).args(["parity-b", "-n", &ns]);
        c
    };
    let sequence: [(&str, &[&str], &[&str]); 6] = [
        ("promote", &["promote"], &["promote"]),
        ("promote --full", &["promote", "--full"], &["promote", "--full"]),
        ("release, then abort", &["abort"], &["abort"]),
        ("retry", &["retry"], &["retry", "rollout"]),
        ("pause", &["pause"], &["pause"]),
        // `--full`: a plain promote of a Rollout that is both paused and at a pause step races the controller,
        // for upstream as for vroute (the status patch clears the pause, a reconcile before the spec patch
        // unpauses re-adds it), so its outcome is not the commands' to compare.
        ("promote --full of a paused rollout", &["promote", "--full"], &["promote", "--full"]),
    ];
    for (what, ours, theirs) in sequence {
        if what.starts_with("release") {
            for app in ["parity-a", "parity-b"] {
                release_of(live, &ns, app, "v3").await;
            }
            same(live, &ns, "a second release").await?;
        }
        let (a, b) = (output(vroute(ours)).await, output(argo(theirs)).await);
        if !a.status.success() || !b.status.success() {
            return Err(format!("{ns}: {what}: kubectl vroute {}\nkubectl argo rollouts {}", text(&a), text(&b)));
        }
        same(live, &ns, what).await?;
    }
    Ok(())
}

/// Scenario 7: a blue-green Rollout (activeService/previewService): `status` shows the active and the preview
/// version with their pods, `promote` switches them under the real controller, `wait` sees Healthy.
async fn blue_green(live: &Live) -> Result<(), String> {
    let ns = live.namespace("live-bluegreen").await;
    let service = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec: {{selector: {{app: reviews}}, ports: [{{port: 9080}}]}}\n---\n"
        )
    };
    let blue_green = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "reviews"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "reviews"}}, "template": template_of("reviews", "v1"),
                 "strategy": {"blueGreen": {"activeService": "reviews-active", "previewService": "reviews-preview",
                                            "autoPromotionEnabled": false}}}});
    let yaml = format!(
        "{}{}{}",
        service("reviews-active"),
        service("reviews-preview"),
        serde_json::to_string(&blue_green).unwrap()
    );
    create(live, &ns, &yaml).await;
    until(live, &ns, "first Healthy", Duration::from_secs(60), |ro| phase(ro) == "Healthy").await?;
    release(live, &ns, "v2").await;
    let paused = until(live, &ns, "waiting for promotion", Duration::from_secs(60), |ro| {
        phase(ro) == "Paused"
            && !ro["status"]["blueGreen"]["previewSelector"].is_null()
            && ro["status"]["blueGreen"]["previewSelector"] != ro["status"]["blueGreen"]["activeSelector"]
    })
    .await?;
    let bg = &paused["status"]["blueGreen"];
    let mut status = live.vroute();
    status.args(["status", "-n", &ns, "-o", "json"]);
    let shown = output(status).await;
    let doc: Value = serde_json::from_slice(&shown.stdout).map_err(|e| format!("{e}: {}", text(&shown)))?;
    let service = &doc["services"][0];
    let versions: Vec<(String, String, Value)> = service["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            (
                v["name"].as_str().unwrap_or_default().into(),
                v["labels"]["rollouts-pod-template-hash"].as_str().unwrap_or_default().into(),
                v["pods"].clone(),
            )
        })
        .collect();
    let two = json!({"ready": 2, "total": 2});
    let expected = vec![
        ("active".to_string(), bg["activeSelector"].as_str().unwrap_or_default().to_string(), two.clone()),
        ("preview".to_string(), bg["previewSelector"].as_str().unwrap_or_default().to_string(), two),
    ];
    if versions != expected || service["rollout"]["strategy"] != "blueGreen" || service["rollout"]["phase"] != "Paused"
    {
        return Err(format!("{ns}: status shows {service:#}"));
    }
    let mut promote = live.vroute();
    promote.args(["promote", "reviews", "-n", &ns]);
    let promoted = output(promote).await;
    if !promoted.status.success() {
        return Err(format!("{ns}: promote: {}", text(&promoted)));
    }
    let mut wait = live.vroute();
    wait.args(["wait", "reviews", "-n", &ns, "--timeout", "2m"]);
    let waited = output(wait).await;
    if waited.status.code() != Some(0) {
        return Err(format!("{ns}: wait after promote: {}", text(&waited)));
    }
    let ro = rollout(live, &ns).await;
    if ro["status"]["blueGreen"]["activeSelector"] != bg["previewSelector"] {
        return Err(format!("{ns}: promote did not switch: {:#}", ro["status"]["blueGreen"]));
    }
    Ok(())
}

#[tokio::test]
async fn canaries_under_the_real_argo_rollouts_controller() {
    let live = env().live().await;
    type Scenario<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + 'a>>;
    let scenarios: Vec<(&str, Scenario)> = vec![
        ("good canary", Box::pin(good_canary(live))),
        ("bad canary", Box::pin(bad_canary(live))),
        ("no canary traffic", Box::pin(no_canary_traffic(live))),
        ("Prometheus stops", Box::pin(prometheus_stops(live))),
        ("the judge restarts", Box::pin(judge_restarts(live))),
        ("parity with kubectl argo rollouts", Box::pin(parity(live))),
        ("blue-green", Box::pin(blue_green(live))),
        (
            "a managed route",
            Box::pin(async {
                let reverted = managed_route(live).await?;
                eprintln!("live: the controller restored its weights {reverted:.1?} after set-weight --force");
                Ok(())
            }),
        ),
    ];
    let names: Vec<&str> = scenarios.iter().map(|(n, _)| *n).collect();
    let results = futures::future::join_all(scenarios.into_iter().map(|(_, s)| s)).await;
    let failures: Vec<String> =
        names.iter().zip(results).filter_map(|(n, r)| r.err().map(|e| format!("{n}: {e}"))).collect();
    assert!(failures.is_empty(), "{} scenario(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}
