//! `vroute-analysis` (the real binary, on a loopback port) and `kubectl vroute analyze`, against a real
//! Prometheus holding backfilled Istio series with the real labels, and the real API server for `rollout=NAME`.
//!
//! One Prometheus (the "mesh") serves the judgement tests: per service, 45 minutes of history before the
//! start of the suite and 4 minutes after it, one sample every 15 s:
//! - `good`: v1 and v2 both at 1% errors, 400 requests/min each;
//! - `worse`: v1 at 1%, v2 at 5% (five times worse);
//! - `idle`: v1 only, the canary never got a request;
//! - `trickle`: v1 at 1%, v2 one request a minute without errors (too little to say anything);
//! - `flaky`: v1 only, plus client-side 503 UH for the service as many as v1 serves (a canary with no ready
//!   pods behind a 50% route).

use crate::support::process::{Supervised, free_port, wait_until};
use crate::support::{IstioEdge, OpenMetrics, Prometheus, env, scenarios};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SAMPLE_SECONDS: i64 = 15;

/// A running `vroute-analysis`.
struct Service {
    url: String,
    process: Supervised,
    log: std::path::PathBuf,
}

impl Service {
    async fn start(name: &str, prometheus: &str, args: &[&str]) -> Service {
        Service::start_with(name, prometheus, args, "http", reqwest::Client::new()).await
    }

    async fn start_with(name: &str, prometheus: &str, args: &[&str], scheme: &str, client: reqwest::Client) -> Service {
        Service::spawn(name, prometheus, args, scheme, client, &env().kubeconfig).await
    }

    async fn spawn(
        name: &str,
        prometheus: &str,
        args: &[&str],
        scheme: &str,
        client: reqwest::Client,
        kubeconfig: &std::path::Path,
    ) -> Service {
        let env = env();
        let url = format!("{scheme}://127.0.0.1:{}", free_port());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vroute-analysis"));
        cmd.args(["--listen", url.rsplit('/').next().unwrap(), "--prometheus-url", prometheus])
            .args(args)
            .env("KUBECONFIG", kubeconfig);
        let log = env.work.join(format!("vroute-analysis-{name}-{}.log", free_port()));
        let mut process = Supervised::spawn(name, cmd, &log).expect("start vroute-analysis");
        let health = format!("{url}/healthz");
        wait_until(name, Duration::from_secs(30), &mut process, || async {
            matches!(client.get(&health).send().await, Ok(r) if r.status().is_success())
        })
        .await
        .expect("vroute-analysis answers /healthz");
        Service { url, process, log }
    }

    async fn get(&self, query: &str) -> (u16, Value) {
        answer(reqwest::Client::new().get(format!("{}/v1/judge?{query}", self.url)).send().await).await
    }

    async fn post(&self, body: &Value) -> (u16, Value) {
        answer(reqwest::Client::new().post(format!("{}/v1/judge", self.url)).json(body).send().await).await
    }

    async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.url)).await.unwrap().text().await.unwrap()
    }
}

async fn answer(response: reqwest::Result<reqwest::Response>) -> (u16, Value) {
    let response = response.expect("the service answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}")))
}

pub(crate) struct Mesh {
    pub ns: String,
    pub prometheus: Prometheus,
    service: Service,
}

static MESH: tokio::sync::OnceCell<Mesh> = tokio::sync::OnceCell::const_new();

pub(crate) async fn mesh() -> &'static Mesh {
    MESH.get_or_init(|| async {
        let env = env();
        let ns = env.namespace("analysis").await;
        let now = jiff::Timestamp::now().as_second() / SAMPLE_SECONDS * SAMPLE_SECONDS;
        let start = now - 45 * 60;
        let steps = (49 * 60 / SAMPLE_SECONDS) as usize;
        let edge = |service: &str, version: &str| IstioEdge::new(&ns, "frontend", "v1", service, version);
        let mut om = OpenMetrics::default();
        // Requests per 15 s sample: (service, version, 200s, 500s).
        for (service, version, ok, failed) in [
            ("good", "v1", 99, 1),
            ("good", "v2", 99, 1),
            ("worse", "v1", 99, 1),
            ("worse", "v2", 95, 5),
            ("idle", "v1", 99, 1),
            ("trickle", "v1", 99, 1),
            ("flaky", "v1", 100, 0),
        ] {
            om.steady(&edge(service, version), start, SAMPLE_SECONDS, steps, ok);
            if failed > 0 {
                om.steady(&edge(service, version).code(500), start, SAMPLE_SECONDS, steps, failed);
            }
        }
        // Ambient mode: only the waypoint reports this service's requests; v2 five times worse.
        for (version, ok, failed) in [("v1", 99, 1), ("v2", 95, 5)] {
            let waypoint = |code| IstioEdge { reporter: "waypoint", ..edge("ambient", version).code(code) };
            om.steady(&waypoint(200), start, SAMPLE_SECONDS, steps, ok);
            om.steady(&waypoint(500), start, SAMPLE_SECONDS, steps, failed);
        }
        // Latency, Istio's histogram: per 15 s sample, 5 of 100 requests slower than 250 ms in both arms of
        // `good`; `slow` has good's errors but v2's slow share five times v1's.
        let window = (start, SAMPLE_SECONDS, steps);
        for (service, version, ok, failed, slow) in
            [("good", "v1", 99, 1, 5), ("good", "v2", 99, 1, 5), ("slow", "v1", 99, 1, 5), ("slow", "v2", 99, 1, 25)]
        {
            if service == "slow" {
                om.steady(&edge(service, version), start, SAMPLE_SECONDS, steps, ok);
                om.steady(&edge(service, version).code(500), start, SAMPLE_SECONDS, steps, failed);
            }
            om.latency(&edge(service, version), window, ok + failed, slow, 250.0);
        }
        // Flagger's naming: Services podinfo-primary and podinfo-canary in front of the workloads podinfo-primary
        // (the baseline) and podinfo (the canary); the canary five times worse.
        for (service, workload, ok, failed) in
            [("podinfo-primary", "podinfo-primary", 99, 1), ("podinfo-canary", "podinfo", 95, 5)]
        {
            let flagger = edge(service, "").workload(workload);
            om.steady(&flagger, start, SAMPLE_SECONDS, steps, ok);
            om.steady(&flagger.clone().code(500), start, SAMPLE_SECONDS, steps, failed);
        }
        let one_a_minute: Vec<u64> = (0..=steps as u64).map(|i| i / 4).collect();
        om.requests(&edge("trickle", "v2"), start, SAMPLE_SECONDS, &one_a_minute);
        let unroutable = IstioEdge { reporter: "source", response_flags: "UH", ..edge("flaky", "unknown").code(503) };
        om.steady(&unroutable, start, SAMPLE_SECONDS, steps, 100);
        let prometheus = Prometheus::start(&env.work.join(format!("prom-{ns}")), Some(&om.finish()), &[])
            .await
            .expect("start Prometheus");
        let service = Service::start("mesh", &prometheus.url, &[]).await;
        Mesh { ns, prometheus, service }
    })
    .await
}

fn judge_query(ns: &str, service: &str, extra: &str) -> String {
    format!("namespace={ns}&service={service}&canary=v2&baseline=v1{extra}")
}

#[tokio::test]
async fn a_canary_as_good_as_its_baseline_passes_with_the_evidence() {
    let mesh = mesh().await;
    let (status, doc) = mesh.service.get(&judge_query(&mesh.ns, "good", "&window=30m")).await;
    assert_eq!(status, 200, "{doc:#}");
    assert_eq!((doc["verdict"].as_str(), doc["reason"].as_str()), (Some("pass"), Some("not-worse")), "{doc:#}");
    for arm in ["canary", "baseline"] {
        let requests = doc[arm]["requests"].as_u64().unwrap();
        assert!((11_900..=12_100).contains(&requests), "{arm}: 30 minutes at 400/min, got {requests}");
        let rate = doc[arm]["errorRate"].as_f64().unwrap();
        assert!((rate - 0.01).abs() < 0.001, "{arm} error rate {rate}");
        let [low, high] = [doc[arm]["wilson95"][0].as_f64().unwrap(), doc[arm]["wilson95"][1].as_f64().unwrap()];
        assert!(low < rate && rate < high, "{arm}: {low} < {rate} < {high}");
    }
    let evidence = &doc["evidence"];
    assert!(evidence["eNotWorse"].as_f64().unwrap() >= 20.0 && evidence["eWorse"].as_f64().unwrap() < 1.0);
    assert_eq!(evidence["threshold"], json!(20.0));
    assert_eq!((doc["window"]["steps"].as_u64(), doc["window"]["from"].as_str()), (Some(30), Some("window")));
    let query = doc["queries"][0]["query"].as_str().unwrap();
    assert_eq!(doc["queries"].as_array().unwrap().len(), 1, "one round trip: {doc:#}");
    assert!(query.starts_with("sum by (destination_version, response_code) (increase("), "{query}");
    assert_eq!(doc["queries"][0]["stepSeconds"], json!(60));

    // The other arm labels and reporters are valid PromQL on a real Prometheus, and `both` counts nothing twice
    // (`good` has no client-side failures to add).
    for extra in ["&label=destination_canonical_revision", "&reporter=both"] {
        let (status, other) = mesh.service.get(&judge_query(&mesh.ns, "good", &format!("&window=30m{extra}"))).await;
        assert_eq!(status, 200, "{extra}: {other:#}");
        assert_eq!((&other["canary"], &other["baseline"]), (&doc["canary"], &doc["baseline"]), "{extra}");
    }

    // The same question as the ClusterAnalysisTemplate asks it: a JSON body, every value a string.
    let body = json!({"namespace": mesh.ns, "service": "good", "canary": "v2", "baseline": "v1", "rollout": "",
                      "label": "destination_version", "window": "30m", "alpha": "0.05", "maxErrorRate": 0.1});
    let (status, posted) = mesh.service.post(&body).await;
    assert_eq!(status, 200, "{posted:#}");
    assert_eq!(posted["verdict"], "pass");
    assert_eq!(posted["canary"], doc["canary"]);

    // The judgement is logged once, as JSON.
    let log = std::fs::read_to_string(&mesh.service.log).unwrap();
    let judged: Vec<Value> = log.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).collect();
    assert!(
        judged.iter().any(|l| l["fields"]["message"] == "judged" && l["fields"]["service"] == "good"),
        "no JSON log line for the judgement:\n{log}"
    );
}

/// `reporter=waypoint` reads ambient mode's HTTP metrics; the default (`destination`) sees no request there.
#[tokio::test]
async fn ambient_services_are_judged_from_the_waypoint_reports() {
    let mesh = mesh().await;
    let (status, doc) = mesh.service.get(&judge_query(&mesh.ns, "ambient", "&window=30m&reporter=waypoint")).await;
    assert_eq!(status, 200, "{doc:#}");
    assert_eq!((doc["verdict"].as_str(), doc["reason"].as_str()), (Some("fail"), Some("canary-worse")), "{doc:#}");
    assert!(doc["queries"][0]["query"].as_str().unwrap().contains(r#"reporter="waypoint""#), "{doc:#}");
    // Sidecar reports hold none of its requests: no verdict, but an error that names the reporter that has them.
    let (status, doc) = mesh.service.get(&judge_query(&mesh.ns, "ambient", "&window=30m")).await;
    assert_eq!((status, doc["field"].as_str()), (400, Some("reporter")), "{doc:#}");
    assert!(doc["message"].as_str().unwrap().contains("only by reporter=waypoint: pass that reporter"), "{doc:#}");
}

#[tokio::test]
async fn a_canary_five_times_worse_fails() {
    let mesh = mesh().await;
    let (status, doc) = mesh.service.get(&judge_query(&mesh.ns, "worse", "&window=30m")).await;
    assert_eq!(status, 200, "{doc:#}");
    assert_eq!((doc["verdict"].as_str(), doc["reason"].as_str()), (Some("fail"), Some("canary-worse")), "{doc:#}");
    let ratio = doc["evidence"]["rateRatio"].as_f64().unwrap();
    assert!((ratio - 5.0).abs() < 0.5, "rate ratio {ratio}");
    assert!(doc["message"].as_str().unwrap().contains("shown above 1.1x the baseline's"), "{doc:#}");
}

#[tokio::test]
async fn no_canary_traffic_or_too_little_is_inconclusive() {
    let mesh = mesh().await;
    let (status, idle) = mesh.service.get(&judge_query(&mesh.ns, "idle", "&window=30m")).await;
    assert_eq!(status, 200, "missing canary data is a judgement, not an error: {idle:#}");
    assert_eq!((idle["verdict"].as_str(), idle["reason"].as_str()), (Some("inconclusive"), Some("no-canary-traffic")));
    assert_eq!(idle["canary"]["requests"], 0);
    assert_eq!(idle["canary"]["errorRate"], Value::Null, "no rate is made up");

    let (status, trickle) = mesh.service.get(&judge_query(&mesh.ns, "trickle", "&window=30m")).await;
    assert_eq!(status, 200, "{trickle:#}");
    assert_eq!(trickle["verdict"], "inconclusive", "{trickle:#}");
    assert_eq!(trickle["reason"], "not-enough-evidence", "{trickle:#}");
    let requests = trickle["canary"]["requests"].as_u64().unwrap();
    assert!((28..=32).contains(&requests), "one a minute for 30 minutes, got {requests}");

    // A service Prometheus has no series for at all: no verdict either, an error saying so.
    let (status, none) = mesh.service.get(&judge_query(&mesh.ns, "nosuch", "&window=30m")).await;
    assert_eq!((status, none["field"].as_str()), (400, Some("service")), "{none:#}");
}

#[tokio::test]
async fn malformed_and_hostile_parameters_are_refused_naming_the_field() {
    let mesh = mesh().await;
    let ns = &mesh.ns;
    let cases = [
        (judge_query(ns, "good", "").replace("canary=v2", "canary=v1%22%7D%20or%20vector(1)%20%23"), "canary"),
        (judge_query(ns, "good", "").replace("baseline=v1", "baseline=v.*"), "baseline"),
        (judge_query(ns, "good", "").replace(&format!("namespace={ns}"), "namespace=a%22,b=%22"), "namespace"),
        (judge_query(ns, "good%7D", ""), "service"),
        (judge_query(ns, "good", "&label=source_app"), "label"),
        (judge_query(ns, "good", "&window=-5m"), "window"),
        (judge_query(ns, "good", "&since=yesterday"), "since"),
        (judge_query(ns, "good", "&since=2999-01-01T00:00:00Z"), "since"),
        (judge_query(ns, "good", "&window=10m&rollout=good"), "rollout"),
        (judge_query(ns, "good", "&alpha=0.9"), "alpha"),
        (judge_query(ns, "good", "&maxErrorRate=lots"), "maxErrorRate"),
        (judge_query(ns, "good", "&reporter=ztunnel"), "reporter"),
        (judge_query(ns, "good", "&canary=v3"), "canary"),
        (judge_query(ns, "good", "&query=up"), "query"),
        (format!("namespace={ns}&service=good&canary=v2"), "baseline"),
    ];
    for (query, field) in cases {
        let (status, doc) = mesh.service.get(&query).await;
        assert_eq!(status, 400, "{query}: {doc:#}");
        assert_eq!(doc["error"], "bad-request", "{doc:#}");
        assert_eq!(doc["field"], field, "{query}: {doc:#}");
        assert!(doc["message"].as_str().unwrap().starts_with(field), "{doc:#}");
    }
    let (status, doc) = mesh.service.post(&json!({"namespace": ns, "service": "good", "canary": ["v2"]})).await;
    assert_eq!((status, doc["field"].as_str()), (400, Some("canary")), "{doc:#}");
    let raw = reqwest::Client::new().post(format!("{}/v1/judge", mesh.service.url)).body("not json").send().await;
    let (status, doc) = answer(raw).await;
    assert_eq!((status, doc["field"].as_str()), (400, Some("body")), "{doc:#}");
    let metrics = mesh.service.metrics().await;
    assert!(metrics.contains(r#"vroute_analysis_requests_total{code="400",verdict="none"}"#), "{metrics}");
}

#[tokio::test]
async fn a_configured_bearer_token_is_required() {
    let mesh = mesh().await;
    let token_file = env().work.join("analysis-token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let service = Service::start("token", &mesh.prometheus.url, &["--token-file", token_file.to_str().unwrap()]).await;
    let url = format!("{}/v1/judge?{}", service.url, judge_query(&mesh.ns, "good", "&window=30m"));
    let client = reqwest::Client::new();
    for header in [None, Some("Bearer wrong"), Some("Basic s3cret-token")] {
        let mut request = client.get(&url);
        if let Some(value) = header {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.headers().get("www-authenticate").map(|v| v.to_str().unwrap()), Some("Bearer"));
        let (status, doc) = answer(Ok(response)).await;
        assert_eq!((status, doc["error"].as_str()), (401, Some("unauthorized")), "{header:?}");
    }
    let (status, doc) = answer(client.get(&url).bearer_auth("s3cret-token").send().await).await;
    assert_eq!((status, doc["verdict"].as_str()), (200, Some("pass")), "{doc:#}");
    // Probes and scrapes carry no token.
    assert_eq!(client.get(format!("{}/healthz", service.url)).send().await.unwrap().status(), 200);
    assert_eq!(client.get(format!("{}/metrics", service.url)).send().await.unwrap().status(), 200);
}

/// A loopback HTTP server answering every request with `answer` (after `delay`).
async fn fake_upstream(delay: Duration, answer: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(move || async move {
        tokio::time::sleep(delay).await;
        (StatusCode::OK, answer)
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn prometheus_unreachable_slow_or_garbage_is_503_never_a_verdict() {
    let mesh = mesh().await;
    let query = judge_query(&mesh.ns, "good", "&window=30m");
    let dead = format!("http://127.0.0.1:{}", free_port());
    let slow = fake_upstream(Duration::from_secs(30), "{}").await;
    let garbage = fake_upstream(Duration::ZERO, "<html>not Prometheus</html>").await;
    let cases = [
        ("dead", &dead, "is unreachable: cannot connect: Connection refused"),
        ("slow", &slow, "did not answer within 1s"),
        ("garbage", &garbage, "answered something that is not a query result"),
    ];
    for (name, url, says) in cases {
        let service = Service::start(name, url, &["--prometheus-timeout", "1s"]).await;
        let started = Instant::now();
        let (status, doc) = service.get(&query).await;
        assert_eq!(status, 503, "{name}: {doc:#}");
        assert_eq!(doc["error"], "prometheus-unavailable", "{name}: {doc:#}");
        assert!(doc.get("verdict").is_none(), "{name}: no verdict without data");
        let message = doc["message"].as_str().unwrap();
        assert!(message.contains(says), "{name}: {doc:#}");
        // The cause in a line, not the client's text with the whole URL-encoded query in it.
        assert!(!message.contains("api/v1") && message.len() < 200, "{name}: {message}");
        assert!(started.elapsed() < Duration::from_secs(5), "{name}: answered within the timeout");
        let readyz = reqwest::get(format!("{}/readyz", service.url)).await.unwrap();
        assert_eq!(readyz.status(), 503, "{name}: not ready");
        let metrics = service.metrics().await;
        assert!(metrics.contains(r#"vroute_analysis_requests_total{code="503",verdict="none"} 1"#), "{metrics}");
        assert!(metrics.contains("vroute_analysis_prometheus_query_failures_total 1"), "{metrics}");
    }
    assert_eq!(reqwest::get(format!("{}/readyz", mesh.service.url)).await.unwrap().status(), 200);
}

/// A loopback proxy in front of Prometheus that counts range queries and holds each for `delay`.
async fn counting_proxy(upstream: String, delay: Duration) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let (counter, client) = (count.clone(), reqwest::Client::new());
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let (counter, client, upstream) = (counter.clone(), client.clone(), upstream.clone());
        async move {
            if uri.path() == "/api/v1/query_range" {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            tokio::time::sleep(delay).await;
            let target = format!("{upstream}{}", uri.path_and_query().map_or("/", |p| p.as_str()));
            match client.get(target).send().await {
                Ok(r) => {
                    let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
                    let content_type = r.headers().get("content-type").cloned();
                    let mut response = (status, r.bytes().await.unwrap()).into_response();
                    if let Some(value) = content_type {
                        response.headers_mut().insert("content-type", value);
                    }
                    response
                }
                Err(_) => StatusCode::BAD_GATEWAY.into_response(),
            }
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, count)
}

#[tokio::test]
async fn fifty_identical_concurrent_requests_cost_one_prometheus_query() {
    let mesh = mesh().await;
    let (proxy, count) = counting_proxy(mesh.prometheus.url.clone(), Duration::from_millis(500)).await;
    let service = Service::start("coalesce", &proxy, &[]).await;
    let url = format!("{}/v1/judge?{}", service.url, judge_query(&mesh.ns, "good", "&window=30m"));
    let client = reqwest::Client::new();
    let requests = (0..50).map(|_| async { answer(client.get(&url).send().await).await });
    let answers: Vec<(u16, Value)> = futures::future::join_all(requests).await;
    assert!(answers.iter().all(|(status, doc)| *status == 200 && doc == &answers[0].1), "identical answers");
    assert_eq!(answers[0].1["verdict"], "pass");
    assert_eq!(count.load(Ordering::SeqCst), 1, "50 identical concurrent requests, one Prometheus query");

    // Within the cache TTL (5 s by default) the same question costs nothing; another question costs one query.
    assert_eq!(service.get(&judge_query(&mesh.ns, "good", "&window=30m")).await.0, 200);
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(service.get(&judge_query(&mesh.ns, "good", "&window=30m&alpha=0.01")).await.0, 200);
    assert_eq!(count.load(Ordering::SeqCst), 2);
    let metrics = service.metrics().await;
    assert!(metrics.contains(r#"vroute_analysis_answers_total{source="ran"} 2"#), "{metrics}");
    assert!(metrics.contains(r#"vroute_analysis_requests_total{code="200",verdict="pass"} 52"#), "{metrics}");

    // Without a cache, only concurrent requests share: one after another, each asks.
    let (proxy, count) = counting_proxy(mesh.prometheus.url.clone(), Duration::ZERO).await;
    let uncached = Service::start("uncached", &proxy, &["--cache-ttl", "0"]).await;
    for _ in 0..2 {
        assert_eq!(uncached.get(&judge_query(&mesh.ns, "good", "&window=30m")).await.0, 200);
    }
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn sigterm_finishes_the_requests_in_flight_then_exits() {
    let mesh = mesh().await;
    let (proxy, _) = counting_proxy(mesh.prometheus.url.clone(), Duration::from_millis(1500)).await;
    let mut service = Service::start("sigterm", &proxy, &[]).await;
    let url = format!("{}/v1/judge?{}", service.url, judge_query(&mesh.ns, "good", "&window=30m"));
    let in_flight = tokio::spawn(async move { answer(reqwest::get(url).await).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // SAFETY: signalling a child this test started.
    unsafe { libc::kill(service.process.pid() as i32, libc::SIGTERM) };
    let (status, doc) = in_flight.await.unwrap();
    assert_eq!((status, doc["verdict"].as_str()), (200, Some("pass")), "{doc:#}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let exited = loop {
        match service.process.ensure_running() {
            Err(exited) => break exited,
            Ok(()) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            Ok(()) => panic!("still running 10 s after SIGTERM"),
        }
    };
    assert!(exited.contains("exited (exit status: 0)"), "{exited}");
}

/// A CA, and a server certificate for 127.0.0.1 it signed (webpki refuses a self-signed CA as a server's own
/// certificate). Returns (CA, certificate, key) paths.
fn certificates(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").current_dir(dir).args(args).output().expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &[&["req", "-x509"], &ec[..], &["-days", "1", "-subj", "/CN=test-ca", "-keyout", "ca.key", "-out", "ca.pem"]]
            .concat(),
    );
    openssl(&[&["req"], &ec[..], &["-subj", "/CN=127.0.0.1", "-keyout", "key.pem", "-out", "server.csr"]].concat());
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"))
}

#[tokio::test]
async fn https_with_a_certificate_and_key() {
    let mesh = mesh().await;
    let dir = env().work.join(format!("tls-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cert, key) = certificates(&dir);
    let root = reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap();
    let client = reqwest::Client::builder().add_root_certificate(root).build().unwrap();
    let args = ["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()];
    let service = Service::start_with("tls", &mesh.prometheus.url, &args, "https", client.clone()).await;
    let url = format!("{}/v1/judge?{}", service.url, judge_query(&mesh.ns, "good", "&window=30m"));
    let (status, doc) = answer(client.get(&url).send().await).await;
    assert_eq!((status, doc["verdict"].as_str()), (200, Some("pass")), "{doc:#}");
    let plain = reqwest::get(url.replace("https://", "http://")).await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success(), "no plain HTTP on the TLS port");
}

#[tokio::test]
async fn rollout_name_finds_the_canary_start_and_an_unreachable_canary_fails() {
    let mesh = mesh().await;
    let env = env();
    let ns = &mesh.ns;
    let strategy = json!({"canary": {"steps": [{"setWeight": 50}, {"pause": {}}],
                          "trafficRouting": {"istio": {"virtualService": {"name": "flaky"}}}}});
    let status = json!({"currentPodHash": "7c9d5f8b6", "stableRS": "5d8f7c9b4", "currentStepIndex": 1,
                        "canary": {"weights": {"canary": {"weight": 50, "podTemplateHash": "7c9d5f8b6"},
                                               "stable": {"weight": 50, "podTemplateHash": "5d8f7c9b4"}}}});
    let rollout = env.seed_rollout(ns, scenarios::rollout("flaky", strategy, false), status).await;
    let uid = rollout["metadata"]["uid"].as_str().unwrap();
    let replica_set = |name: &str, hash: &str, owner: &str| {
        format!(
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: {name}\n  labels: {{app: flaky, \
             rollouts-pod-template-hash: {hash}}}\n  ownerReferences:\n  - {{apiVersion: argoproj.io/v1alpha1, kind: \
             Rollout, name: {owner}, uid: {uid}}}\nspec:\n  replicas: 0\n  selector: {{matchLabels: {{app: flaky, \
             rollouts-pod-template-hash: {hash}}}}}\n  template:\n    metadata: {{labels: {{app: flaky, \
             rollouts-pod-template-hash: {hash}}}}}\n    spec: {{containers: [{{name: app, image: example/flaky}}]}}\n"
        )
    };
    // Same hash label, another owner: must not be taken for the canary.
    env.create_yaml(ns, &replica_set("decoy-7c9d5f8b6", "7c9d5f8b6", "decoy")).await;
    let created = env.create_yaml(ns, &replica_set("flaky-7c9d5f8b6", "7c9d5f8b6", "flaky")).await;
    let started = created[0].metadata.creation_timestamp.clone().unwrap().0;

    // Just created: nothing to judge yet, and nothing asked of Prometheus.
    let query = judge_query(ns, "flaky", "&rollout=flaky");
    let (status, doc) = mesh.service.get(&query).await;
    assert_eq!(status, 200, "{doc:#}");
    assert_eq!(doc["reason"], "no-canary-traffic", "{doc:#}");
    assert_eq!(doc["window"]["from"], "rollout");
    assert_eq!(doc["window"]["start"], started.to_string(), "the canary ReplicaSet's creation");
    assert_eq!(doc["window"]["rollout"]["replicaSet"], "flaky-7c9d5f8b6");
    assert_eq!(doc["window"]["rollout"]["canaryWeight"], json!(0.5));
    assert_eq!(doc["queries"], json!([]));

    // Once a whole step has passed: routing sends the canary half the traffic, none reached it, and client
    // proxies failed as many requests with 503 UH.
    let ready_at = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs((started.as_second() + 62) as u64);
    if let Ok(wait) = ready_at.duration_since(std::time::SystemTime::now()) {
        tokio::time::sleep(wait).await;
    }
    let (status, doc) = mesh.service.get(&query).await;
    assert_eq!(status, 200, "{doc:#}");
    assert_eq!(
        (doc["verdict"].as_str(), doc["reason"].as_str()),
        (Some("fail"), Some("canary-unreachable")),
        "{doc:#}"
    );
    assert!(doc["evidence"]["unroutableRequests"].as_u64().unwrap() >= 300, "{doc:#}");
    assert_eq!(doc["queries"][1]["purpose"], "unroutable");

    // The CLI reads the same Rollout with the user's kubeconfig.
    let out = analyze(&["flaky", "-n", ns, "--rollout", "flaky", "--prometheus-url", &mesh.prometheus.url]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("fail: canary-unreachable\n"));

    let (status, doc) = mesh.service.get(&judge_query(ns, "flaky", "&rollout=nosuch")).await;
    assert_eq!((status, doc["field"].as_str()), (400, Some("rollout")), "{doc:#}");
    // For the CLI a missing Rollout is a lookup failure (exit 5, as for a missing Service), with close names.
    let out = analyze(&["flaky", "-n", ns, "--rollout", "flakey", "--prometheus-url", &mesh.prometheus.url]);
    let err = crate::support::cli::fails(&out, 5);
    assert!(
        err.contains(&format!("Rollout \"flakey\" not found in namespace \"{ns}\"; did you mean: flaky?")),
        "{err}"
    );
    // A malformed Prometheus URL is a usage error that says so, not an unreachable Prometheus.
    let out = analyze(&["flaky", "-n", ns, "--prometheus-url", "localhost:9090"]);
    let err = crate::support::cli::fails(&out, 4);
    assert!(err.contains("is not an http(s) URL with a host: write http://HOST:PORT"), "{err}");
    assert!(!err.contains("unreachable"), "{err}");
    let out = analyze(&["flaky", "-n", ns, "--prometheus-service", "prometheus:9090"]);
    assert!(crate::support::cli::fails(&out, 4).contains("is not NAMESPACE/NAME:PORT"));
}

/// Argo gives a web metric 10 s. An API server that accepts connections but never answers must cost at most
/// the service's 3 s lookup bound, and the answer is a 503 (Argo retries), never a verdict.
#[tokio::test]
async fn a_hanging_api_server_is_a_503_within_the_lookup_bound() {
    let mesh = mesh().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("https://{}", listener.local_addr().unwrap());
    // Holds every connection open without a byte of answer, until the test's runtime ends.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let kubeconfig = env().work.join("hanging.kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters: [{{name: h, cluster: {{server: \"{server}\", insecure-skip-tls-verify: true}}}}]\n\
             users: [{{name: h, user: {{token: t}}}}]\ncontexts: [{{name: h, context: {{cluster: h, user: h, namespace: default}}}}]\n\
             current-context: h\n"
        ),
    )
    .unwrap();
    let service =
        Service::spawn("hanging", &mesh.prometheus.url, &[], "http", reqwest::Client::new(), &kubeconfig).await;
    let started = Instant::now();
    let (status, doc) = service.get(&judge_query(&mesh.ns, "good", "&rollout=good")).await;
    let took = started.elapsed();
    assert_eq!((status, doc["error"].as_str()), (503, Some("cluster-unavailable")), "{doc:#}");
    assert!(took < Duration::from_millis(4500), "answered after {took:?}");
    assert!(doc["message"].as_str().unwrap_or_default().contains(&server), "{doc:#}");
}

fn analyze(args: &[&str]) -> Output {
    env().vroute().arg("analyze").args(["--canary", "v2", "--baseline", "v1"]).args(args).output().unwrap()
}

#[tokio::test]
async fn analyze_prints_the_evidence_and_exits_with_the_verdict() {
    let mesh = mesh().await;
    let (ns, url) = (mesh.ns.as_str(), mesh.prometheus.url.as_str());
    let judged = |service: &str| analyze(&[service, "-n", ns, "--window", "30m", "--prometheus-url", url]);

    let out = judged("good");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with("pass: not-worse\ncanary error rate"), "{text}");
    for expected in [
        "ARM",
        "95% INTERVAL",
        "canary worse than 1.1x baseline",
        ">= 20",
        "30 step(s) of 60s",
        "query (counts): sum by",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    assert_eq!(judged("worse").status.code(), Some(1));
    assert_eq!(judged("idle").status.code(), Some(3));

    let json_out = analyze(&["good", "-n", ns, "--window", "30m", "--prometheus-url", url, "-o", "json"]);
    let doc: Value = serde_json::from_slice(&json_out.stdout).unwrap();
    assert_eq!((doc["verdict"].as_str(), doc["window"]["steps"].as_u64()), (Some("pass"), Some(30)));

    let dead = format!("http://127.0.0.1:{}", free_port());
    let out = analyze(&["good", "-n", ns, "--prometheus-url", &dead]);
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stderr));
    let out = analyze(&["good", "-n", ns, "--alpha", "2", "--prometheus-url", url]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--alpha: must be in (0, 0.5], got 2"), "{out:?}");
}

/// A typo is not "wait a bit": when neither arm has a single series in the window, the answer is an error that
/// names the service and namespace and says what Prometheus has there, never `inconclusive`, in the service
/// (400 on the field at fault) and the CLI (exit 4).
#[tokio::test]
async fn a_service_or_arms_prometheus_has_no_series_for_are_errors_that_say_what_it_has() {
    let mesh = mesh().await;
    let ns = mesh.ns.as_str();
    let (status, doc) = mesh.service.get(&judge_query(ns, "goood", "&window=30m")).await;
    assert_eq!((status, doc["field"].as_str()), (400, Some("service")), "{doc:#}");
    let message = doc["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "service: no istio_requests_total series for service goood in namespace {ns} in the last 30m \
             (Prometheus has these services there: "
        )) && message.contains("good, idle"),
        "{message}"
    );
    let (status, doc) =
        mesh.service.get(&format!("namespace={ns}&service=good&canary=stable&baseline=canary&window=30m")).await;
    assert_eq!((status, doc["field"].as_str()), (400, Some("canary")), "{doc:#}");
    assert!(
        doc["message"]
            .as_str()
            .unwrap()
            .contains("it has destination_version=v1, v2: name those as canary and baseline"),
        "{doc:#}"
    );

    let out = analyze(&["good", "-n", "nosuchns", "--window", "30m", "--prometheus-url", &mesh.prometheus.url]);
    let err = crate::support::cli::fails(&out, 4);
    assert!(err.contains("and none for any service in namespace nosuchns"), "{err}");
    // A service whose baseline has traffic but whose canary has none yet is still only inconclusive.
    let out = analyze(&["idle", "-n", ns, "--window", "30m", "--prometheus-url", &mesh.prometheus.url]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The latency signal: the share of requests slower than a bucket bound, judged against the baseline's as the
/// error share is, with alpha split between the two signals.
#[tokio::test]
async fn latency_is_a_second_signal_with_its_own_verdict_and_percentiles() {
    let mesh = mesh().await;
    let both = "&window=30m&signals=errors,latency&latencyThreshold=250";
    let (status, doc) = mesh.service.get(&judge_query(&mesh.ns, "good", both)).await;
    assert_eq!(status, 200, "{doc:#}");
    assert_eq!(doc["verdict"], "pass", "{doc:#}");
    assert_eq!(doc["signals"]["errors"]["verdict"], "pass");
    let latency = &doc["signals"]["latency"];
    assert_eq!(latency["verdict"], "pass", "{latency:#}");
    assert_eq!(latency["thresholdMs"], 250.0);
    assert_eq!(latency["evidence"]["threshold"], 40.0, "alpha 0.05 split in two: 1/0.025");
    let share = latency["canary"]["errorRate"].as_f64().unwrap();
    assert!((share - 0.05).abs() < 1e-9, "5 of 100 slower than 250 ms: {share}");
    for arm in ["canaryLatency", "baselineLatency"] {
        let p99 = latency[arm]["p99"].as_f64().unwrap_or_default();
        assert!(p99 > 250.0 && p99 <= 500.0, "{arm} p99 in the 250-500 ms bucket: {latency:#}");
    }
    assert!(doc["queries"].as_array().unwrap().iter().any(|q| q["purpose"] == "latency"));

    // As good by errors, five times slower: the combined verdict fails, named by the latency signal.
    let (_, errors_only) = mesh.service.get(&judge_query(&mesh.ns, "slow", "&window=30m")).await;
    assert_eq!(errors_only["verdict"], "pass", "{errors_only:#}");
    assert!(errors_only.get("signals").is_none(), "an errors-only document is as it was");
    let (status, slow) = mesh.service.get(&judge_query(&mesh.ns, "slow", both)).await;
    assert_eq!(status, 200);
    assert_eq!(slow["verdict"], "fail", "{slow:#}");
    assert_eq!(slow["reason"], "canary-worse");
    assert!(slow["message"].as_str().unwrap().starts_with("latency: "), "{slow:#}");
    assert_eq!(slow["signals"]["errors"]["verdict"], "pass");
    let (_, latency_only) =
        mesh.service.get(&judge_query(&mesh.ns, "slow", "&window=30m&signals=latency&latencyThreshold=250")).await;
    assert_eq!(latency_only["verdict"], "fail");
    assert_eq!(latency_only["evidence"]["threshold"], 20.0, "one signal keeps the whole alpha");

    // No histogram for the canary: inconclusive, never a verdict from missing data.
    let (status, idle) = mesh.service.get(&judge_query(&mesh.ns, "idle", both)).await;
    assert_eq!(status, 200, "{idle:#}");
    assert_eq!(idle["verdict"], "inconclusive", "{idle:#}");

    // Bad input, 400 naming the field.
    for (extra, field, says) in [
        ("&window=30m&signals=errors,latency&latencyThreshold=300", "latencyThreshold", "the nearest are 250 and 500"),
        ("&window=30m&signals=latency", "latencyThreshold", "required with the latency signal"),
        ("&window=30m&signals=speed", "signals", "\"speed\" is not a signal"),
        ("&window=30m&latencyThreshold=250", "latencyThreshold", "only with signals=latency"),
        ("&window=30m&signals=latency&latencyThreshold=250&maxSlowShare=0.9", "maxSlowShare", "(0, 0.5]"),
    ] {
        let (status, doc) = mesh.service.get(&judge_query(&mesh.ns, "good", extra)).await;
        assert_eq!((status, doc["field"].as_str()), (400, Some(field)), "{extra}: {doc:#}");
        assert!(doc["message"].as_str().unwrap().contains(says), "{extra}: {doc:#}");
    }

    // The CLI shows the same, with the verdict as its exit code.
    let (ns, url) = (mesh.ns.as_str(), mesh.prometheus.url.as_str());
    let args = ["slow", "-n", ns, "--window", "30m", "--prometheus-url", url, "--signals", "errors,latency"];
    let out = analyze(&[&args[..], &["--latency-threshold", "250"]].concat());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with("fail: canary-worse\nlatency: "), "{text}");
    assert!(text.contains("latency: fail (canary-worse), requests slower than 250 ms"), "{text}");
    assert!(text.contains("P99 MS") && text.contains("canary share over 250 ms 25%"), "{text}");
    let bad = analyze(&[&args[..], &["--latency-threshold", "300"]].concat());
    assert_eq!(bad.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--latency-threshold: 300 ms is not a bucket bound"));
}

/// Flagger's webhooks, with payloads shaped exactly as Flagger sends them (its CanaryWebhookPayload).
#[tokio::test]
async fn flagger_webhooks_confirm_promotion_only_on_pass_and_roll_back_only_on_fail() {
    let mesh = mesh().await;
    let hook = |name: &str, body: Value| {
        let url = format!("{}/v1/flagger/{name}", mesh.service.url);
        async move { answer(reqwest::Client::new().post(url).json(&body).send().await).await }
    };
    let payload = |name: &str, metadata: Value| {
        json!({"name": name, "namespace": mesh.ns, "phase": "Progressing", "checksum": "5c6f7d8b9a",
               "metadata": metadata})
    };
    // podinfo (the canary) is five times worse than podinfo-primary: no promotion, a rollback.
    let worse = payload("podinfo", json!({"window": "30m"}));
    let (status, doc) = hook("confirm-promotion", worse.clone()).await;
    assert_eq!(status, 412, "{doc:#}");
    assert_eq!(doc["verdict"], "fail", "the judgement is the body: {doc:#}");
    assert!(
        doc["queries"][0]["query"].as_str().unwrap().contains(r#"destination_workload=~"podinfo|podinfo-primary""#)
    );
    let (status, doc) = hook("rollback", worse).await;
    assert_eq!((status, doc["verdict"].as_str()), (200, Some("fail")));
    // A good canary, its arms named in metadata: promoted, not rolled back.
    let good =
        payload("good", json!({"window": "30m", "label": "destination_version", "canary": "v2", "baseline": "v1"}));
    let (status, doc) = hook("confirm-promotion", good.clone()).await;
    assert_eq!((status, doc["verdict"].as_str()), (200, Some("pass")), "{doc:#}");
    let (status, _) = hook("rollback", good).await;
    assert_eq!(status, 412);
    // No canary traffic: neither promoted nor rolled back.
    let idle =
        payload("idle", json!({"window": "30m", "label": "destination_version", "canary": "v2", "baseline": "v1"}));
    for name in ["confirm-promotion", "rollback"] {
        let (status, doc) = hook(name, idle.clone()).await;
        assert_eq!((status, doc["verdict"].as_str()), (412, Some("inconclusive")), "{name}: {doc:#}");
    }
    // Bad payloads are 400 naming the field; an unknown hook is 404.
    let (status, doc) = hook("rollback", json!({"namespace": mesh.ns})).await;
    assert_eq!((status, doc["field"].as_str()), (400, Some("body")), "{doc:#}");
    let (status, doc) = hook("rollback", payload("podinfo", json!({"namespace": "kube-system"}))).await;
    assert_eq!((status, doc["field"].as_str()), (400, Some("metadata.namespace")), "{doc:#}");
    let (status, _) = hook("pre-rollout", payload("podinfo", json!({}))).await;
    assert_eq!(status, 404);
}
