//! `kubectl vroute graph`: the call graph of the demo chain (pinned, and broken), a canary split and a call
//! across versions seen in the real Prometheus, through the real kubectl against the real API server.

use crate::support::{IstioEdge, OpenMetrics, Prometheus, env, scenarios};
use serde_json::{Value, json};
use std::process::Output;

fn run(args: &[&str]) -> Output {
    env().vroute().args(args).output().expect("run kubectl vroute")
}

fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("valid JSON on stdout")
}

/// `from -> to [marks]` of every call in the document.
fn calls(doc: &Value) -> Vec<String> {
    let calls = doc["calls"].as_array().unwrap();
    calls
        .iter()
        .map(|c| {
            let marks: Vec<&str> = c["marks"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
            let marks = if marks.is_empty() { String::new() } else { format!(" {}", marks.join(",")) };
            format!("{} -> {}{marks}", c["from"].as_str().unwrap(), c["to"].as_str().unwrap())
        })
        .collect()
}

fn call<'a>(doc: &'a Value, from: &str, to: &str) -> &'a Value {
    let calls = doc["calls"].as_array().unwrap();
    calls.iter().find(|c| c["from"] == from && c["to"] == to).unwrap_or_else(|| panic!("no {from} -> {to}: {doc:#}"))
}

#[tokio::test]
async fn without_prometheus_the_routes_draw_the_pinned_chain_and_say_traffic_is_unknown() {
    let env = env();
    let ns = env.namespace("graph-chain").await;
    env.seed_chain(&ns, false).await;
    let doc = json_of(&run(&["graph", "-n", &ns, "-o", "json"]));
    assert_eq!(doc["traffic"], "unknown");
    assert!(doc["trafficUnknown"].as_str().unwrap().contains("--prometheus-url"), "{doc:#}");
    let (a, b, c) = (format!("a.{ns}"), format!("b.{ns}"), format!("c.{ns}"));
    assert_eq!(
        calls(&doc),
        [
            format!("{a}/v1 -> {b}/v1"),
            format!("{a}/v2 -> {b}/v2"),
            format!("{b}/v1 -> {c}/v1"),
            format!("{b}/v2 -> {c}/v2")
        ]
    );
    let layers: Vec<(&str, u64)> = doc["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["layer"].as_u64().unwrap()))
        .collect();
    assert_eq!(layers, [(a.as_str(), 0), (b.as_str(), 1), (c.as_str(), 2)]);
    assert_eq!(doc["services"][1]["versions"][1]["pods"], json!({"ready": 1, "total": 1}));

    // The drawing for people, the same graph.
    let out = run(&["graph", "-n", &ns]);
    assert!(out.status.success());
    let tree = String::from_utf8(out.stdout).unwrap();
    assert!(tree.starts_with("Calls the routes allow (traffic unknown: no Prometheus given"), "{tree}");
    assert!(
        tree.contains(&format!(
            "LAYER 0 (entry points: nothing shown calls them)\n{a}\n  v1  1/1 ready\n    -> {b} v1"
        )),
        "{tree}"
    );
    assert!(!tree.contains("\x1b["), "no colour when piped");
    // One service's view without telemetry: its callers and what it calls, as their routes allow.
    let one = json_of(&run(&["graph", "c", "-n", &ns, "-o", "json"]));
    assert_eq!(calls(&one), [format!("{b}/v1 -> {c}/v1"), format!("{b}/v2 -> {c}/v2")]);
    let one = json_of(&run(&["graph", "b", "-n", &ns, "-o", "json"]));
    assert_eq!(calls(&one).len(), 4, "a -> b and b -> c: {one:#}");
    let dot = String::from_utf8(run(&["graph", "-n", &ns, "-o", "dot"]).stdout).unwrap();
    assert!(dot.contains(&format!("\"{a}/v1\" -> \"{b}/v1\"")), "{dot}");
    let svg = String::from_utf8(run(&["graph", "-n", &ns, "-o", "svg"]).stdout).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
    assert_eq!(svg.matches("<path class=\"call").count(), 4, "{svg}");
}

#[tokio::test]
async fn a_broken_chain_marks_the_call_into_the_version_without_ready_pods() {
    let env = env();
    let ns = env.namespace("graph-broken").await;
    env.create_yaml(&ns, &scenarios::chain(false)).await;
    for (app, version) in scenarios::CHAIN_PODS.into_iter().filter(|p| *p != ("b", "v2")) {
        env.ready_pod(&ns, app, version, 0).await;
    }
    let doc = json_of(&run(&["graph", "-n", &ns, "-o", "json"]));
    let into = call(&doc, &format!("a.{ns}/v2"), &format!("b.{ns}/v2"));
    assert_eq!(into["marks"], json!(["noReadyPods"]), "{doc:#}");
    let mermaid = String::from_utf8(run(&["graph", "-n", &ns, "-o", "mermaid"]).stdout).unwrap();
    assert!(mermaid.starts_with("flowchart LR\n") && mermaid.contains("linkStyle"), "{mermaid}");
}

#[tokio::test]
async fn observed_calls_from_prometheus_carry_rates_latency_and_crossings() {
    let env = env();
    let ns = env.namespace("graph-traffic").await;
    env.seed_chain(&ns, false).await;
    let now = jiff::Timestamp::now().as_second();
    let start = now - 600;
    let edge = |src: &str, src_v: &str, dst: &str, v: &str| IstioEdge::new(&ns, src, src_v, dst, v);
    let mut om = OpenMetrics::default();
    om.steady(&edge("loadgen", "v1", "a", "v1"), start, 30, 20, 300); // 10 rps
    om.steady(&edge("a", "v1", "b", "v1"), start, 30, 20, 300); // 10 rps
    om.steady(&edge("a", "v2", "b", "v2"), start, 30, 20, 150); // 5 rps
    om.steady(&edge("a", "v2", "b", "v2").code(503), start, 30, 20, 15); // 0.5 rps of 5xx
    om.steady(&edge("a", "v2", "b", "v1"), start, 30, 20, 30); // a v2 caller reached b v1: 1 rps
    om.latency(&edge("a", "v1", "b", "v1"), (start, 30, 20), 300, 30, 250.0);
    let prom = Prometheus::start(&env.work.join(format!("prom-{ns}")), Some(&om.finish()), &[]).await.unwrap();

    let doc = json_of(&run(&["graph", "-n", &ns, "-o", "json", "--prometheus-url", &prom.url, "--window", "5m"]));
    assert_eq!((doc["traffic"].as_str(), doc["window"].as_str()), (Some("observed"), Some("5m")), "{doc:#}");
    let (a, b) = (format!("a.{ns}"), format!("b.{ns}"));
    let crossing = call(&doc, &format!("{a}/v2"), &format!("{b}/v1"));
    assert_eq!(crossing["marks"], json!(["crossVersion"]));
    assert_eq!(crossing["allowed"], false, "the routes send a v2 caller to v2 only");
    let rps = crossing["requestsPerSecond"].as_f64().unwrap();
    assert!((rps - 1.0).abs() < 0.1, "{rps}");
    let share = crossing["share"].as_f64().unwrap();
    assert!((share - 100.0 / 6.5).abs() < 1.0, "1 of 6.5 rps a v2 sent: {share}");
    let pinned = call(&doc, &format!("{a}/v2"), &format!("{b}/v2"));
    let errors = pinned["errorRate"].as_f64().unwrap();
    assert!((errors - 0.5 / 5.5).abs() < 0.01, "{errors}");
    let timed = call(&doc, &format!("{a}/v1"), &format!("{b}/v1"));
    let (p50, p99) = (timed["p50Ms"].as_f64().unwrap(), timed["p99Ms"].as_f64().unwrap());
    assert!(p50 > 0.0 && p50 <= 100.0 && p99 > 250.0 && p99 <= 500.0, "90% under 100 ms, 10% slow: {p50} {p99}");
    assert!(pinned["p99Ms"].is_null(), "no histogram on that edge: unknown, not 0");
    // The load generator is a caller from outside the view, and a's v2 was allowed but not called by it.
    let loadgen = format!("loadgen.{ns}");
    assert_eq!(doc["services"][0]["name"], loadgen.as_str());
    assert!(doc["services"][0]["host"].is_null());
    assert_eq!(call(&doc, &format!("{loadgen}/v1"), &format!("{a}/v2"))["marks"], json!(["unused"]));

    // One service's view: its callers and what it calls.
    let one = json_of(&run(&["graph", "b", "-n", &ns, "-o", "json", "--prometheus-url", &prom.url]));
    let seen: Vec<String> = calls(&one);
    assert!(seen.contains(&format!("{a}/v2 -> {b}/v1 crossVersion")), "{seen:?}");
    assert!(!seen.iter().any(|c| c.starts_with(&loadgen)), "loadgen calls a, not b: {seen:?}");

    // Unreachable Prometheus: the routes are drawn, and traffic is unknown with the reason (never "no calls").
    let dead = format!("http://127.0.0.1:{}", crate::support::process::free_port());
    let doc = json_of(&run(&["graph", "-n", &ns, "-o", "json", "--prometheus-url", &dead]));
    assert_eq!(doc["traffic"], "unknown");
    assert!(doc["trafficUnknown"].as_str().unwrap().contains("127.0.0.1"), "{doc:#}");
    assert!(doc["calls"].as_array().unwrap().iter().all(|c| c["requestsPerSecond"].is_null()));
}

/// A Rollout's subsets are `stable` and `canary` (keyed by pod-template hash), but Istio reports the pods'
/// version label: the canary's calls are v2's, and `status` and `graph` both put them on the canary.
#[tokio::test]
async fn a_rollouts_canary_is_measured_by_its_pods_version_label() {
    let env = env();
    let ns = env.namespace("graph-rollout").await;
    env.create_yaml(&ns, &scenarios::canary_rollout("reviews", 80, 20)).await;
    for (hash, version, count) in [(scenarios::STABLE_HASH, "v1", 2), (scenarios::CANARY_HASH, "v2", 1)] {
        for i in 0..count {
            let labels = json!({"app": "reviews", "version": version, "rollouts-pod-template-hash": hash});
            env.pod_owned(&ns, &format!("reviews-{hash}"), labels, i, true).await;
        }
    }
    let now = jiff::Timestamp::now().as_second();
    let edge = |v: &str| IstioEdge::new(&ns, "productpage", "v1", "reviews", v);
    let mut om = OpenMetrics::default();
    om.steady(&edge("v1"), now - 600, 30, 20, 240); // 8 rps
    om.steady(&edge("v2"), now - 600, 30, 20, 60); // 2 rps
    let prom = Prometheus::start(&env.work.join(format!("prom-{ns}")), Some(&om.finish()), &[]).await.unwrap();

    let doc = json_of(&run(&["graph", "-n", &ns, "-o", "json", "--prometheus-url", &prom.url]));
    let (pp, reviews) = (format!("productpage.{ns}/v1"), format!("reviews.{ns}"));
    assert_eq!(calls(&doc), [format!("{pp} -> {reviews}/v1"), format!("{pp} -> {reviews}/v2")], "{doc:#}");
    let canary = call(&doc, &pp, &format!("{reviews}/v2"));
    assert_eq!(canary["allowed"], true, "the 80/20 split sends to the canary");
    let rps = canary["requestsPerSecond"].as_f64().unwrap();
    assert!((rps - 2.0).abs() < 0.2, "{rps}");

    let status = json_of(&run(&["status", "reviews", "-n", &ns, "-o", "json", "--prometheus-url", &prom.url]));
    let versions = status["services"][0]["versions"].as_array().unwrap();
    let rps: Vec<(String, f64)> = versions
        .iter()
        .map(|v| (v["name"].as_str().unwrap().to_string(), v["traffic"]["requestsPerSecond"].as_f64().unwrap()))
        .collect();
    assert!(
        matches!(rps.as_slice(), [(s, a), (c, b)] if s == "stable" && c == "canary" && (a - 8.0).abs() < 0.5 && (b - 2.0).abs() < 0.3),
        "{rps:?}"
    );
}

#[tokio::test]
async fn a_window_below_a_minute_is_a_usage_error() {
    let out = run(&["graph", "--window", "10s"]);
    assert_eq!(out.status.code(), Some(4), "usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--window"), "{err}");
}
