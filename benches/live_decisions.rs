//! `cargo bench --bench live_decisions`: how fast, and how often rightly, a canary is promoted or aborted on
//! the live loop (the real Argo Rollouts controller moving the weights, the simulator turning them into
//! Istio-shaped traffic with real chance in it, a real Prometheus scraping it every second), judged two ways side
//! by side in one run:
//!
//! - **vroute-analysis**: the shipped `vroute-judge-step` template (made quick: a look every 5 s, ten looks,
//!   `step=10s`), canary against baseline with the anytime-valid sequential test;
//! - **threshold**: an AnalysisTemplate with Argo's own `prometheus` provider and Flagger's request-success-rate
//!   check: the canary's non-5xx share over the last 10 s at least 99%, a look every 5 s, ten looks, aborting
//!   on the fifth failed look (Flagger's default failed-check threshold of 5, as `failureLimit: 4`). The canary
//!   is told apart by its `version` label, taken from the Rollout's pod template (`fieldRef`), so neither
//!   template changes with a release.
//!
//! Cases: traffic to the service (busy: 200 requests/s, quiet: 10/s; the canary gets 20%) crossed with the
//! stable version's error rate (0.5%; 0.9%, near the fixed threshold). In each case, per judge: repeated A/A
//! releases (the new version as good as the old: any abort is a false abort) and bad ones (five times the
//! errors: any promotion is a bad release shipped). Each case and judge is a namespace of its own with its own
//! simulator (same load, same seed for both judges), Prometheus and judge; all of them run at once, releases
//! one after another within each. A decision's time is from the canary pods' first request (as the simulator
//! saw it) to the Rollout's promotion (stable = the new revision), abort, or pause (the judge's inconclusive).
//!
//! `VROUTE_BENCH_RELEASES=A/A,BAD` (default `6,3`) sets the releases per namespace. Prints a markdown table
//! (pasted into the README).

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::live::{Canary, Live};
use support::release::{analysis_template, create, judged, output, phase, release_of, rollout_of, text, until_of};
use support::release::{weights_of, world};
use support::simulator::Load;

#[derive(Clone, Copy, PartialEq)]
enum Judge {
    Vroute,
    Threshold,
}

impl Judge {
    fn name(self) -> &'static str {
        match self {
            Judge::Vroute => "vroute-analysis",
            Judge::Threshold => "threshold (Argo prometheus, 99%)",
        }
    }
}

#[derive(Clone, Copy)]
struct Case {
    name: &'static str,
    requests_per_second: f64,
    stable_errors: f64,
}

const CASES: [Case; 3] = [
    Case { name: "busy, 0.5% errors", requests_per_second: 200.0, stable_errors: 0.005 },
    Case { name: "quiet, 0.5% errors", requests_per_second: 10.0, stable_errors: 0.005 },
    Case { name: "busy, 0.9% errors", requests_per_second: 200.0, stable_errors: 0.009 },
];

/// How a release ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Promoted,
    Aborted,
    /// Paused by an inconclusive analysis (the judge would not decide on the traffic it saw).
    Paused,
}

struct Decision {
    outcome: Outcome,
    /// From the canary's first request to the decision.
    after: Duration,
    /// The operator's abort of a paused release was never acted on by the controller (see [`decide`]).
    abort_ignored: bool,
}

/// Argo's `prometheus` provider with Flagger's success-rate check, the Prometheus at `address`.
fn threshold_template(address: &str) -> String {
    let selector = r#"reporter="destination", destination_workload_namespace="{{args.namespace}}", destination_service_name="{{args.service}}", destination_version="{{args.canary-version}}""#;
    let query = format!(
        "sum(rate(istio_requests_total{{{selector}, response_code!~\"5.*\"}}[10s])) / \
         sum(rate(istio_requests_total{{{selector}}}[10s]))"
    );
    serde_json::to_string(&json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
        "metadata": {"name": "success-rate-threshold"},
        "spec": {
            "args": [{"name": "namespace"}, {"name": "service"}, {"name": "canary-version"}],
            "metrics": [{
                "name": "request-success-rate",
                "interval": "5s", "count": 10, "failureLimit": 4,
                "successCondition": "result[0] >= 0.99",
                "provider": {"prometheus": {"address": address, "query": query}}
            }]
        }
    }))
    .unwrap()
}

fn threshold_step() -> Value {
    json!({"analysis": {"templates": [{"templateName": "success-rate-threshold"}], "args": [
        {"name": "namespace", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "service", "value": "reviews"},
        {"name": "canary-version", "valueFrom": {"fieldRef": {"fieldPath": "spec.template.metadata.labels.version"}}}]}})
}

/// The errors of each version: `v1` at the case's rate, every later one the same (A/A) or five times it.
fn load(case: Case, bad: bool, releases: usize, seed: u64) -> Load {
    let canary = if bad { case.stable_errors * 5.0 } else { case.stable_errors };
    let mut error_rate = BTreeMap::from([("v1".to_string(), case.stable_errors)]);
    error_rate.extend((2..=releases + 1).map(|v| (format!("v{v}"), canary)));
    Load {
        service: "reviews".into(),
        caller: ("productpage".into(), "v1".into()),
        requests_per_second: case.requests_per_second,
        error_rate,
        latency_ms: BTreeMap::new(),
        seed: Some(seed),
    }
}

/// One namespace: a Rollout judged by `judge`, released `releases` times; the decisions in order.
async fn releases(
    live: &Live,
    case: Case,
    judge: Judge,
    bad: bool,
    releases: usize,
    seed: u64,
) -> Result<Vec<Decision>, String> {
    let prefix = format!("{}-{}", if judge == Judge::Vroute { "vroute" } else { "threshold" }, seed);
    let ns = live.namespace(&prefix).await;
    let canary = live.canary(&ns, load(case, bad, releases, seed)).await?;
    let step = match judge {
        Judge::Vroute => {
            create(live, &ns, &analysis_template()).await;
            judged(canary.analysis_url())
        }
        Judge::Threshold => {
            create(live, &ns, &threshold_template(canary.prometheus_url())).await;
            threshold_step()
        }
    };
    create(live, &ns, &world(json!([{"setWeight": 20}, step, {"setWeight": 100}]), "v1")).await;
    let wait = Duration::from_secs(120);
    until_of(live, &ns, "reviews", "first Healthy", wait, |ro| phase(ro) == "Healthy").await?;
    let mut decisions = Vec::new();
    for release in 2..=releases + 1 {
        decisions.push(decide(live, &canary, &ns, &format!("v{release}")).await?);
    }
    Ok(decisions)
}

/// Releases `version` and waits for the controller's decision; then leaves the Rollout ready for the next.
async fn decide(live: &Live, canary: &Canary, ns: &str, version: &str) -> Result<Decision, String> {
    let before = rollout_of(live, ns, "reviews").await;
    let stable = before["status"]["stableRS"].clone();
    release_of(live, ns, "reviews", version).await;
    let deadline = Instant::now() + Duration::from_secs(240);
    let outcome = loop {
        let ro = rollout_of(live, ns, "reviews").await;
        let status = &ro["status"];
        // Until the controller has taken the new revision, the status is the last release's (an abort, a
        // pause): it clears both when it does.
        let revised = status["currentPodHash"] != before["status"]["currentPodHash"];
        let inconclusive = status["pauseConditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["reason"] == "InconclusiveAnalysisRun"));
        if revised && status["abort"] == true {
            break Outcome::Aborted;
        }
        if revised && phase(&ro) == "Healthy" && status["stableRS"] != stable {
            break Outcome::Promoted;
        }
        if revised && inconclusive {
            break Outcome::Paused;
        }
        if Instant::now() > deadline {
            return Err(format!("{ns}: release {version} undecided after 240 s: {status:#}"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let decided = Instant::now();
    let first = canary.simulator.first_traffic(version).ok_or(format!("{ns}: {version} never had traffic"))?;
    let mut abort_ignored = false;
    if outcome == Outcome::Paused {
        // What an operator would do with a release the judge could not vouch for: take it back.
        let mut abort = live.vroute();
        abort.args(["abort", "reviews", "-n", ns]);
        let out = output(abort).await;
        if !out.status.success() {
            return Err(format!("{ns}: abort after the pause: {}", text(&out)));
        }
    }
    // The next release starts from the stable version taking all traffic.
    let settle = Instant::now() + Duration::from_secs(120);
    loop {
        let weights = weights_of(live, ns, "reviews").await;
        if weights == (100, 0) {
            break;
        }
        // Upstream's controller sometimes never acts on an abort of a Rollout it paused itself (the abort
        // stays set, no `abortedAt`, the weights stay: argoproj/argo-rollouts#3756); upstream's own `abort`
        // writes the same patch. The decision is already measured: the next release replaces this one.
        let status = rollout_of(live, ns, "reviews").await["status"].clone();
        // Given 30 s to act first.
        let waited = settle.saturating_duration_since(Instant::now()) < Duration::from_secs(90);
        if outcome == Outcome::Paused && status["abort"] == true && status["abortedAt"].is_null() && waited {
            abort_ignored = true;
            break;
        }
        if Instant::now() > settle {
            let status = rollout_of(live, ns, "reviews").await["status"].clone();
            return Err(format!(
                "{ns}: weights {weights:?}, not back at 100/0, 120 s after the decision on {version} \
                 ({outcome:?}); the Rollout's status: {status}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(Decision { outcome, after: decided.saturating_duration_since(first), abort_ignored })
}

fn median(mut d: Vec<Duration>) -> Option<Duration> {
    d.sort();
    (!d.is_empty()).then(|| d[d.len() / 2])
}

/// `count (median time)` of the decisions that came out as `outcome`.
fn cell(decisions: &[Decision], outcome: Outcome) -> String {
    let times: Vec<Duration> = decisions.iter().filter(|d| d.outcome == outcome).map(|d| d.after).collect();
    match median(times.clone()) {
        Some(m) => format!("{} ({:.0} s)", times.len(), m.as_secs_f64()),
        None => "0".into(),
    }
}

/// The paused cell, with how many of those pauses the controller then would not abort.
fn paused(decisions: &[Decision]) -> String {
    let ignored = decisions.iter().filter(|d| d.abort_ignored).count();
    let cell = cell(decisions, Outcome::Paused);
    if ignored == 0 { cell } else { format!("{cell}; abort not acted on: {ignored}") }
}

fn counts() -> (usize, usize) {
    let given = std::env::var("VROUTE_BENCH_RELEASES").unwrap_or_default();
    let mut parts = given.split(',').map(|p| p.trim().parse::<usize>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(aa), Some(bad)) if aa > 0 && bad > 0 => (aa, bad),
        _ => (6, 3),
    }
}

// Several threads: every simulator's endpoint must answer its Prometheus while the others work.
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let started = Instant::now();
    let live = support::live_world().await.unwrap_or_else(|e| panic!("the live world failed to start: {e}"));
    let (aa, bad) = counts();
    let mut runs = Vec::new();
    for (c, case) in CASES.iter().enumerate() {
        for (b, (is_bad, n)) in [(false, aa), (true, bad)].into_iter().enumerate() {
            // The same seed for both judges: the same load drawn the same way.
            let seed = 100 + (c * 2 + b) as u64;
            for judge in [Judge::Vroute, Judge::Threshold] {
                runs.push(((case.name, is_bad, judge), releases(&live, *case, judge, is_bad, n, seed)));
            }
        }
    }
    let (keys, futures): (Vec<_>, Vec<_>) = runs.into_iter().unzip();
    let results = futures::future::join_all(futures).await;
    println!(
        "| case | releases | judge | promoted (median time) | aborted (median time) | paused, inconclusive (median time) |\n\
         |---|---|---|---|---|---|"
    );
    let mut failed = Vec::new();
    for ((case, is_bad, judge), result) in keys.into_iter().zip(results) {
        let kind = if is_bad { "5x errors" } else { "A/A" };
        match result {
            Ok(d) => println!(
                "| {case} | {} {kind} | {} | {} | {} | {} |",
                d.len(),
                judge.name(),
                cell(&d, Outcome::Promoted),
                cell(&d, Outcome::Aborted),
                paused(&d)
            ),
            Err(e) => failed.push(format!("{case}, {kind}, {}: {e}", judge.name())),
        }
    }
    eprintln!("live_decisions: {:.0} s in all", started.elapsed().as_secs_f64());
    assert!(failed.is_empty(), "{} run(s) failed:\n{}", failed.len(), failed.join("\n"));
}
