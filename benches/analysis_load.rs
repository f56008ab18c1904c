//! `cargo bench --bench analysis_load`: how much load `vroute-analysis` takes, and what it adds to Prometheus.
//!
//! A real Prometheus holds two hours of Istio series for one busy service (50 callers x 2 versions x 3 response
//! codes, a sample every 15 s); the release `vroute-analysis` binary judges its canary over the last hour
//! (60 one-minute steps). From a load generator on loopback (same machine, same cores):
//! 1. cached: identical judge requests from many connections, the service's 5 s cache on;
//! 2. coalesced: the same with the cache off (`--cache-ttl 0`): concurrent requests share in-flight queries
//!    (at the given and at twice the number of connections);
//! 3. cache miss: one request at a time with the cache off, so every request is a Prometheus round trip,
//!    interleaved with the very same range query sent straight to Prometheus: the service's overhead.
//!
//! Load phases are bounded by a request count and a time limit. `VROUTE_BENCH_SECONDS` (default 10) and
//! `VROUTE_BENCH_CONNECTIONS` (default 64) tune them. Prints a markdown table (pasted into the README).

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::Value;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::process::{Supervised, free_port, wait_until};
use support::{IstioEdge, OpenMetrics, Prometheus};

const SAMPLE_SECONDS: i64 = 15;
const CALLERS: usize = 50;
const MAX_REQUESTS: usize = 1_000_000;
const MISS_SAMPLES: usize = 300;
const NAMESPACE: &str = "bench";
const QUERY: &str = "namespace=bench&service=checkout&canary=v2&baseline=v1&window=1h";

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let seconds: u64 = std::env::var("VROUTE_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let connections: usize = std::env::var("VROUTE_BENCH_CONNECTIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(64);
    let work = std::env::temp_dir().join(format!("vroute-bench-analysis-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();

    let prometheus = Prometheus::start(&work.join("prometheus"), Some(&mesh_history()), &[]).await.unwrap();
    let cached = start_service(&work, "cached", &prometheus.url, &[]).await;
    let uncached = start_service(&work, "uncached", &prometheus.url, &["--cache-ttl", "0"]).await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(2 * connections).build().unwrap();
    let example: Value =
        client.get(format!("{}/v1/judge?{QUERY}", cached.url)).send().await.unwrap().json().await.unwrap();
    eprintln!("example answer:\n{}", serde_json::to_string_pretty(&example).unwrap());
    assert_eq!(example["verdict"], "pass", "the benchmark's canary is as good as its baseline");

    println!("| scenario | requests | connections | throughput | p50 | p99 | max |\n|---|---|---|---|---|---|---|");
    let limit = Duration::from_secs(seconds);
    // Coalesced answers wait for a Prometheus round trip, so their throughput is connections / round trip: shown
    // at two concurrencies.
    let scenarios = [
        ("cached (5 s TTL)", &cached, connections),
        ("coalesced only (TTL 0)", &uncached, connections),
        ("coalesced only (TTL 0)", &uncached, 2 * connections),
    ];
    for (name, service, connections) in scenarios {
        let url = format!("{}/v1/judge?{QUERY}", service.url);
        load(&client, &url, connections, Duration::from_secs(1)).await; // warm-up
        let (latencies, elapsed) = load(&client, &url, connections, limit).await;
        let rate = latencies.len() as f64 / elapsed.as_secs_f64();
        let [p50, p99, max] = [0.5, 0.99, 1.0].map(|q| ms(percentile(&latencies, q)));
        println!("| {name} | {} | {connections} | {rate:.0}/s | {p50} | {p99} | {max} |", latencies.len());
    }

    // Cache misses: the same range query the service sends, straight to Prometheus, alternating with the service.
    let counts = &example["queries"][0];
    let raw_url = format!("{}/api/v1/query_range", prometheus.url);
    let params = [
        ("query", counts["query"].as_str().unwrap().to_string()),
        ("start", counts["start"].as_str().unwrap().to_string()),
        ("end", counts["end"].as_str().unwrap().to_string()),
        ("step", counts["stepSeconds"].to_string()),
    ];
    let service_url = format!("{}/v1/judge?{QUERY}", uncached.url);
    let (mut raw, mut service) = (Vec::new(), Vec::new());
    for _ in 0..MISS_SAMPLES {
        let started = Instant::now();
        let body = client.get(&raw_url).query(&params).send().await.unwrap().bytes().await.unwrap();
        raw.push(started.elapsed());
        assert!(body.starts_with(br#"{"status":"success""#));
        let started = Instant::now();
        let response = client.get(&service_url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
        service.push(started.elapsed());
    }
    raw.sort();
    service.sort();
    for (name, latencies) in
        [("cache miss: the range query sent to Prometheus", &raw), ("cache miss: vroute-analysis", &service)]
    {
        let [p50, p99, max] = [0.5, 0.99, 1.0].map(|q| ms(percentile(latencies, q)));
        println!("| {name} | {MISS_SAMPLES} | 1 | - | {p50} | {p99} | {max} |");
    }
    let (raw50, service50) = (percentile(&raw, 0.5), percentile(&service, 0.5));
    let added = service50.as_secs_f64() - raw50.as_secs_f64();
    println!(
        "\nOn a cache miss the service adds {:.2} ms to the median Prometheus round trip ({:.1}% of {}).",
        added * 1e3,
        added / raw50.as_secs_f64() * 100.0,
        ms(raw50)
    );
    let _ = std::fs::remove_dir_all(&work);
}

/// Two hours of one service's traffic: every caller calls both versions, 1% errors, some 404s.
fn mesh_history() -> String {
    let now = jiff::Timestamp::now().as_second() / SAMPLE_SECONDS * SAMPLE_SECONDS;
    let steps = (2 * 3600 / SAMPLE_SECONDS) as usize;
    let start = now - steps as i64 * SAMPLE_SECONDS;
    let mut om = OpenMetrics::default();
    for caller in 0..CALLERS {
        for version in ["v1", "v2"] {
            let edge = IstioEdge::new(NAMESPACE, &format!("caller-{caller}"), "v1", "checkout", version);
            om.steady(&edge, start, SAMPLE_SECONDS, steps, 97);
            om.steady(&edge.clone().code(404), start, SAMPLE_SECONDS, steps, 2);
            om.steady(&edge.code(503), start, SAMPLE_SECONDS, steps, 1);
        }
    }
    om.finish()
}

struct Service {
    url: String,
    _process: Supervised,
}

async fn start_service(work: &std::path::Path, name: &str, prometheus: &str, args: &[&str]) -> Service {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vroute-analysis"));
    // Logs at warn: one JSON line per computed judgement is right in production, but would measure the terminal.
    cmd.args(["--listen", &addr, "--prometheus-url", prometheus]).args(args).env("RUST_LOG", "warn");
    let mut process = Supervised::spawn(name, cmd, &work.join(format!("{name}.log"))).unwrap();
    let health = format!("http://{addr}/healthz");
    wait_until(name, Duration::from_secs(30), &mut process, || async {
        matches!(reqwest::get(&health).await, Ok(r) if r.status().is_success())
    })
    .await
    .unwrap();
    Service { url: format!("http://{addr}"), _process: process }
}

/// `connections` tasks sending `url` back to back until `limit` passes or [`MAX_REQUESTS`] are done; every
/// answer must be a 200. Returns each request's latency (sorted) and the time taken.
async fn load(client: &reqwest::Client, url: &str, connections: usize, limit: Duration) -> (Vec<Duration>, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url, stop) = (client.clone(), url.to_string(), stop.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while !stop.load(Ordering::Relaxed) && latencies.len() < MAX_REQUESTS / connections {
                    let sent = Instant::now();
                    let response = client.get(&url).send().await.expect("request");
                    assert_eq!(response.status(), 200);
                    response.bytes().await.expect("body");
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let timer = tokio::spawn(async move {
        tokio::time::sleep(limit).await;
        stop.store(true, Ordering::Relaxed);
    });
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    timer.abort();
    all.sort();
    (all, elapsed)
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}
