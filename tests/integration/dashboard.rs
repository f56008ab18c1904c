//! `kubectl vroute dashboard`: the page in a real headless Chromium (Debian's, through chromedriver) against the
//! real API server and a real Prometheus: what it draws, that it follows a weight change pushed by the server,
//! that its data is the data of `graph -o json` and `status -o json`, and that twenty open pages cost
//! Prometheus what one does.

use crate::support::browser::Browser;
use crate::support::process::{Supervised, wait_until};
use crate::support::{IstioEdge, OpenMetrics, Prometheus, env};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// A running `kubectl vroute dashboard --port 0`, and the address it printed.
struct Dashboard {
    url: String,
    http: reqwest::Client,
    _process: Supervised,
}

impl Dashboard {
    async fn start(ns: &str, args: &[&str]) -> Dashboard {
        let env = env();
        let log = env.work.join(format!("dashboard-{ns}-{}.log", args.len()));
        let mut cmd = env.vroute();
        cmd.args(["dashboard", "-n", ns, "--port", "0"]).args(args);
        let mut process = Supervised::spawn("kubectl vroute dashboard", cmd, &log).unwrap();
        let printed = || std::fs::read_to_string(&log).unwrap_or_default();
        wait_until("the dashboard's address", Duration::from_secs(30), &mut process, || {
            let printed = printed();
            async move { printed.contains("(Ctrl-C stops it)") }
        })
        .await
        .unwrap();
        let printed = printed();
        let line = printed.lines().find(|l| l.starts_with("kubectl vroute dashboard: http://")).unwrap();
        let url = line.split(' ').nth(3).unwrap().to_string();
        assert!(url.starts_with("http://127.0.0.1:") && url.ends_with('/'), "{line}");
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Dashboard { url, http, _process: process }
    }

    /// The state once the first read is done (503 until then).
    async fn state(&self) -> Value {
        for _ in 0..300 {
            let answer = self.http.get(format!("{}api/state", self.url)).send().await.unwrap();
            if answer.status() == 503 {
                assert_eq!(answer.headers()["retry-after"], "1");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            assert_eq!(answer.status(), 200);
            return answer.json().await.unwrap();
        }
        panic!("no state after 30 s");
    }
}

fn vroute_json(args: &[&str]) -> Value {
    let out = env().vroute().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The demo chain's traffic: a load generator into a (v1 and v2), each version pinned to the same version below.
fn chain_traffic(ns: &str) -> String {
    let start = jiff::Timestamp::now().as_second() - 600;
    let edge = |src: &str, src_v: &str, dst: &str, v: &str| IstioEdge::new(ns, src, src_v, dst, v);
    let mut om = OpenMetrics::default();
    for (src, src_v, dst, v, per_30s) in [
        ("loadgen", "v1", "a", "v1", 150),
        ("loadgen", "v1", "a", "v2", 150),
        ("a", "v1", "b", "v1", 150),
        ("a", "v2", "b", "v2", 150),
        ("b", "v1", "c", "v1", 150),
        ("b", "v2", "c", "v2", 150),
    ] {
        om.steady(&edge(src, src_v, dst, v), start, 30, 20, per_30s);
    }
    om.latency(&edge("a", "v1", "b", "v1"), (start, 30, 20), 150, 15, 250.0);
    om.finish()
}

const NODES: &str = "return [...document.querySelectorAll('#drawing svg g[data-id]')].map(g => g.dataset.id)";
const EDGES: &str = "return [...document.querySelectorAll('#drawing svg g[data-from]')].map(g => g.dataset.from + ' -> ' + g.dataset.to)";
const ROWS: &str =
    "return [...document.querySelectorAll('#calls tbody tr')].map(r => r.dataset.from + ' -> ' + r.dataset.to)";

fn ids(value: Value) -> BTreeSet<String> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_real_browser_draws_the_call_graph_and_follows_a_weight_change_with_no_console_errors() {
    let env = env();
    let ns = env.namespace("dashboard").await;
    env.seed_chain(&ns, false).await;
    let prom = Prometheus::start(&env.work.join(format!("prom-{ns}")), Some(&chain_traffic(&ns)), &[]).await.unwrap();
    let dashboard = Dashboard::start(&ns, &["--prometheus-url", &prom.url, "--interval", "2s"]).await;
    let state = dashboard.state().await;
    let graph = &state["graph"];
    assert_eq!(
        (graph["traffic"].as_str(), state["scope"].as_str()),
        (Some("observed"), Some(&*format!("namespace {ns}")))
    );

    let browser = Browser::start(&env.work.join(format!("browser-{ns}"))).await.unwrap();
    browser.goto(&dashboard.url).await.unwrap();
    let first = browser.wait_for("a state drawn", "return document.body.dataset.generation", secs(30)).await.unwrap();
    let first: u64 = first.as_str().unwrap().parse().unwrap();

    // The nodes and edges drawn are the graph document's versions and calls.
    let versions: BTreeSet<String> = graph["services"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["versions"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_string()))
        .collect();
    let (a, b, c, loadgen) = (format!("a.{ns}"), format!("b.{ns}"), format!("c.{ns}"), format!("loadgen.{ns}"));
    let expected: BTreeSet<String> = [&loadgen, &a, &b, &c]
        .iter()
        .flat_map(|s| if *s == &loadgen { vec![format!("{s}/v1")] } else { vec![format!("{s}/v1"), format!("{s}/v2")] })
        .collect();
    assert_eq!(versions, expected, "{graph:#}");
    assert_eq!(ids(browser.eval(NODES).await.unwrap()), versions);
    let calls: BTreeSet<String> = [
        (&loadgen, "v1", &a, "v1"),
        (&loadgen, "v1", &a, "v2"),
        (&a, "v1", &b, "v1"),
        (&a, "v2", &b, "v2"),
        (&b, "v1", &c, "v1"),
        (&b, "v2", &c, "v2"),
    ]
    .iter()
    .map(|(f, fv, t, tv)| format!("{f}/{fv} -> {t}/{tv}"))
    .collect();
    assert_eq!(ids(browser.eval(EDGES).await.unwrap()), calls);
    assert_eq!(ids(browser.eval(ROWS).await.unwrap()), calls);
    let rate = browser
        .eval(&format!("return document.querySelector('#calls tr[data-from=\"{a}/v1\"] td:nth-child(4)').textContent"))
        .await
        .unwrap();
    assert_eq!(rate, "5.00", "150 requests every 30 s");

    // The Services tab: a card per routed service, with the weights of a's split.
    let weights =
        format!("return document.querySelector('[data-host=\"a.{ns}.svc.cluster.local\"] td.weights').textContent");
    assert_eq!(browser.eval(&weights).await.unwrap(), "v1 50% · v2 50%");
    let cards = browser.eval("return document.querySelectorAll('#tab-services .card').length").await.unwrap();
    assert_eq!(cards, 3);

    // A weight change reaches the open page without a reload: the server pushes the next state.
    let out = env.vroute().args(["set-weight", "a", "v1=80", "v2=20", "-n", &ns]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let changed = weights.replace("return ", "const w = ") + "; return w === 'v1 80% · v2 20%' && w";
    browser.wait_for("the new weights on the page", &changed, secs(20)).await.unwrap();
    let now: u64 =
        browser.eval("return document.body.dataset.generation").await.unwrap().as_str().unwrap().parse().unwrap();
    assert!(now > first, "{now} after {first}");
    let live = browser.eval("return document.querySelector('#connection').textContent").await.unwrap();
    assert_eq!(live, "live");

    // Every tab draws without an error, a CSP violation or an uncaught exception in the console.
    for tab in ["services", "rollouts", "findings", "graph"] {
        browser.eval(&format!("location.hash = '#{tab}'; return true")).await.unwrap();
        let shown = format!("return !document.querySelector('section[data-tab=\"{tab}\"]').hidden");
        browser.wait_for(&format!("the {tab} tab shown"), &shown, secs(5)).await.unwrap();
    }
    let console = browser.console().await.unwrap();
    let errors: Vec<&String> = console.iter().filter(|l| l.starts_with("SEVERE") || l.starts_with("WARNING")).collect();
    assert!(errors.is_empty(), "console: {console:#?}");

    // `VROUTE_SCREENSHOTS=DIR` keeps what the page looks like (the README's pictures come from here).
    if let Some(dir) = std::env::var_os("VROUTE_SCREENSHOTS") {
        let png = browser.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(std::path::Path::new(&dir).join("dashboard.png"), png).unwrap();
    }
}

#[tokio::test]
async fn the_state_is_the_graph_and_status_documents_and_twenty_pages_cost_what_one_does() {
    let env = env();
    let ns = env.namespace("dashboard-cost").await;
    env.seed_chain(&ns, false).await;
    let prom = Prometheus::start(&env.work.join(format!("prom-{ns}")), Some(&chain_traffic(&ns)), &[]).await.unwrap();
    // An hour between Prometheus reads: any query after the first read would come from a page.
    let dashboard = Dashboard::start(&ns, &["--prometheus-url", &prom.url, "--interval", "1h"]).await;
    let state = dashboard.state().await;

    // One model, several views: the same documents `graph -o json` and `status -o json` print.
    let graph = vroute_json(&["graph", "-n", &ns, "-o", "json", "--prometheus-url", &prom.url]);
    assert_eq!(calls_of(&state["graph"]), calls_of(&graph));
    assert_eq!(state["graph"]["services"].as_array().unwrap().len(), graph["services"].as_array().unwrap().len());
    let status = vroute_json(&["status", "-n", &ns, "-o", "json"]);
    assert_eq!(state["status"], status, "the routes, versions, pods and findings of status -o json");
    assert!(state["svg"].as_str().unwrap().starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));

    // Prometheus's own count of the queries it answered (read from its /metrics, which is not a query).
    let queries = || async {
        let text = reqwest::get(format!("{}/metrics", prom.url)).await.unwrap().text().await.unwrap();
        let answered: f64 = text
            .lines()
            .filter(|l| l.starts_with("prometheus_http_requests_total{") && l.contains("handler=\"/api/v1/query"))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum();
        answered
    };
    let before = queries().await;
    // Twenty pages: each opens the event stream and reads the state, and each is sent the same text.
    let mut streams = vec![];
    for _ in 0..20 {
        let answer = dashboard.http.get(format!("{}events", dashboard.url)).send().await.unwrap();
        assert_eq!(answer.headers()["content-type"], "text/event-stream");
        streams.push(answer);
    }
    let mut firsts = BTreeSet::new();
    for stream in &mut streams {
        let mut text = String::new();
        while !text.contains("\n\n") {
            let chunk = tokio::time::timeout(secs(10), stream.chunk()).await.unwrap().unwrap().unwrap();
            text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
        assert!(text.starts_with("event: state\ndata: {"), "{text}");
        firsts.insert(text);
    }
    assert_eq!(firsts.len(), 1, "every page is sent the one state");
    for _ in 0..20 {
        assert_eq!(dashboard.state().await, state);
    }
    let after = queries().await;
    assert!(before > 0.0, "the first read queried Prometheus");
    assert_eq!(after, before, "twenty pages made no Prometheus query");

    // Served to its own name only: a page elsewhere that rebinds a DNS name to 127.0.0.1 is refused.
    let port = dashboard.url.trim_end_matches('/').rsplit(':').next().unwrap();
    let foreign =
        dashboard.http.get(format!("{}api/state", dashboard.url)).header("host", format!("evil.example:{port}"));
    let foreign = foreign.send().await.unwrap();
    assert_eq!(foreign.status(), 403);
    let page = dashboard.http.get(dashboard.url.replace("127.0.0.1", "localhost")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(policy.contains("script-src 'self'") && policy.contains("default-src 'none'"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"), "no external asset: {html}");
    let missing = dashboard.http.get(format!("{}nothing", dashboard.url)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

fn calls_of(graph: &Value) -> Vec<(String, String, Value)> {
    let calls = graph["calls"].as_array().unwrap();
    calls.iter().map(|c| (c["from"].to_string(), c["to"].to_string(), c["marks"].clone())).collect()
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
