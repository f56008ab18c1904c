//! `cargo bench --bench graph_scale`: how fast `kubectl-vroute graph -A` draws a large mesh, against a real
//! kube-apiserver and a real Prometheus.
//!
//! 50 namespaces, each a chain of 20 services `s0 -> s1 -> ... -> s19` with two versions each (1,000 services,
//! 2,000 versions, 4,000 Ready pods): a Service and a DestinationRule (subsets v1, v2) per service, `s0` split
//! 90/10 by weight and every later hop pinned by the caller's version. Prometheus holds their telemetry, as
//! Istio's sidecars report it: every hop's requests at both versions, 5xx responses on the v2 hops, latency
//! histograms on every hop, a load generator into each `s0`, and one call per namespace that crosses versions
//! (`s9` v2 -> `s10` v1). The graph document is checked before anything is timed (1,000 services, every call,
//! 50 crossings marked), so a benchmark of a view that dropped part of the mesh would fail, not flatter.
//!
//! Measured (median of 7 runs after a warm-up, peak RSS of the plugin process alone): `graph -A -o json` and
//! the terminal drawing with telemetry, the route-allowed graph without Prometheus, one namespace's graph, and
//! beside them `status -A -o json` (the same cluster reads, without the calls) and `kubectl get` of the same
//! objects; `VROUTE_BENCH_BASELINE=PATH` also measures another build of the plugin (the one before a change) on
//! the same objects, its runs alternating with this build's. Prints a markdown table (pasted into the README). `VROUTE_BENCH_HOLD=1` keeps the seeded cluster and
//! Prometheus up at the end, printing where they are, until Ctrl-C (for profiling by hand).

#[path = "measure/mod.rs"]
mod measure;
#[path = "../tests/support/mod.rs"]
mod support;

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DynamicObject, PostParams};
use kube::discovery::ApiResource;
use measure::{SPAWN, measure_each, ms, spawner};
use serde_json::{Value, json};
use std::process::Command;
use std::time::Instant;
use support::{IstioEdge, OpenMetrics, Prometheus, env, scenarios};

const NAMESPACES: usize = 50;
const SERVICES_PER_NS: usize = 20;
const PODS_PER_VERSION: usize = 2;
const RUNS: usize = 7;
/// Telemetry: ten minutes of samples a minute apart, up to the moment Prometheus starts; the graph reads 5m.
const HISTORY: i64 = 600;
const STEP: i64 = 60;

#[tokio::main]
async fn main() {
    if std::env::var_os(SPAWN).is_some() {
        spawner();
    }
    let env = env();
    let started = Instant::now();
    populate().await;
    let pods = NAMESPACES * SERVICES_PER_NS * 2 * PODS_PER_VERSION;
    eprintln!("bench: {NAMESPACES} namespaces, {pods} pods populated in {:?}", started.elapsed());
    let started = Instant::now();
    let prom = Prometheus::start(&env.work.join("prom-graph-scale"), Some(&telemetry()), &[]).await.unwrap();
    eprintln!("bench: telemetry backfilled in {:?}", started.elapsed());

    let plugin = support::plugin_dir().join("kubectl-vroute");
    let vroute = |args: &[&str]| {
        let mut c = Command::new(&plugin);
        c.env("KUBECONFIG", &env.kubeconfig).env("NO_COLOR", "1").args(args);
        c
    };
    let url = prom.url.as_str();
    check(vroute(&["graph", "-A", "-o", "json", "--prometheus-url", url]));

    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "`kubectl-vroute graph -A -o json --prometheus-url URL`",
            vec!["graph", "-A", "-o", "json", "--prometheus-url", url],
        ),
        ("`kubectl-vroute graph -A --prometheus-url URL` (the drawing)", vec!["graph", "-A", "--prometheus-url", url]),
        (
            "`kubectl-vroute graph -A -o svg --prometheus-url URL`",
            vec!["graph", "-A", "-o", "svg", "--prometheus-url", url],
        ),
        ("`kubectl-vroute graph -A -o json` (no Prometheus: the routes only)", vec!["graph", "-A", "-o", "json"]),
        (
            "`kubectl-vroute graph -n chain-0 -o json --prometheus-url URL`",
            vec!["graph", "-n", "chain-0", "-o", "json", "--prometheus-url", url],
        ),
        ("`kubectl-vroute status -A -o json` (the same reads, no calls)", vec!["status", "-A", "-o", "json"]),
    ];
    let kubectl_get = || {
        let mut c = env.kubectl();
        c.args(["get", "virtualservices,destinationrules,services,pods", "-A", "-o", "json"]);
        c
    };
    // The build before, on the same objects, its runs alternating with this build's.
    let baseline = std::env::var_os("VROUTE_BENCH_BASELINE").map(std::path::PathBuf::from);
    let before = |args: &[&str]| {
        let mut c = Command::new(baseline.as_ref().expect("VROUTE_BENCH_BASELINE"));
        c.env("KUBECONFIG", &env.kubeconfig).env("NO_COLOR", "1").args(args);
        c
    };
    let before_cases: Vec<(&str, Vec<&str>)> = match &baseline {
        Some(_) => vec![
            ("baseline `graph -A -o json --prometheus-url URL`", cases[0].1.clone()),
            ("baseline `graph -A -o json` (no Prometheus)", cases[3].1.clone()),
            ("baseline `status -A -o json`", cases[5].1.clone()),
        ],
        None => Vec::new(),
    };
    let mut makes: Vec<Box<dyn Fn() -> Command + '_>> =
        cases.iter().map(|(_, args)| Box::new(|| vroute(args)) as Box<dyn Fn() -> Command>).collect();
    makes.extend(before_cases.iter().map(|(_, args)| Box::new(|| before(args)) as Box<dyn Fn() -> Command>));
    let mut all: Vec<&dyn Fn() -> Command> = makes.iter().map(|m| m.as_ref()).collect();
    all.push(&kubectl_get);
    let runs = measure_each(RUNS, &all);

    println!(
        "| {NAMESPACES} namespaces, {} services, {pods} pods | command | median wall (CPU) | peak RSS |",
        NAMESPACES * SERVICES_PER_NS
    );
    println!("|---|---|---|---|");
    let names = cases
        .iter()
        .chain(&before_cases)
        .map(|(name, _)| *name)
        .chain(["`kubectl get virtualservices,destinationrules,services,pods -A -o json`"]);
    for (name, run) in names.zip(&runs) {
        println!("| graph scale | {name} | {} (CPU {}) | {} MB |", ms(run.wall), ms(run.cpu), run.rss_kb / 1024);
    }
    if std::env::var_os("VROUTE_BENCH_HOLD").is_some() {
        // For profiling by hand against the seeded cluster and Prometheus; both stop with us.
        eprintln!("bench: holding until Ctrl-C: KUBECONFIG={} Prometheus {url}", env.kubeconfig.display());
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The document `graph -A -o json` prints holds the whole mesh: every routed service, every observed call,
/// the crossings marked. Panics otherwise.
fn check(mut cmd: Command) {
    let out = cmd.output().expect("graph -A");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("graph -o json");
    assert_eq!(doc["traffic"], "observed", "{}", doc["trafficUnknown"]);
    let services = doc["services"].as_array().unwrap();
    let routed = services.iter().filter(|s| s["host"].is_string()).count();
    assert_eq!(routed, NAMESPACES * SERVICES_PER_NS, "routed services in graph -A");
    let calls = doc["calls"].as_array().unwrap();
    let seen = calls.iter().filter(|c| c["requestsPerSecond"].as_f64().is_some_and(|r| r > 0.0)).count();
    // Per namespace: the load generator into both versions of s0, both versions of every hop, one crossing.
    assert_eq!(seen, NAMESPACES * (2 + 2 * (SERVICES_PER_NS - 1) + 1), "observed calls in graph -A");
    let marked = |mark: &str| calls.iter().filter(|c| c["marks"].as_array().unwrap().iter().any(|m| m == mark)).count();
    assert_eq!(marked("crossVersion"), NAMESPACES, "one crossing per namespace");
    let timed = calls.iter().filter(|c| c["p99Ms"].is_number()).count();
    assert!(timed >= NAMESPACES * 2 * (SERVICES_PER_NS - 1), "latency on every hop: {timed}");
}

/// Creates the namespaces `chain-0..` with their services, routes and Ready pods, many requests at once.
async fn populate() {
    let client = env().client().await;
    let vs = ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk("networking.istio.io", "v1", "VirtualService"));
    let dr = ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk("networking.istio.io", "v1", "DestinationRule"));
    let svc = ApiResource::erase::<k8s_openapi::api::core::v1::Service>(&());
    let mut objects = Vec::new();
    let mut pods = Vec::new();
    for n in 0..NAMESPACES {
        let ns = format!("chain-{n}");
        let namespace: Namespace = serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap();
        Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &namespace).await.expect("namespace");
        for s in 0..SERVICES_PER_NS {
            let app = format!("s{s}");
            let routes = match s {
                0 => scenarios::weighted_routes(&app, ("v1", 90), ("v2", 10), ""),
                _ => scenarios::pinned_routes(&app, &format!("s{}", s - 1), &["v1", "v2"], "v1"),
            };
            let yaml = format!("{}---\n{routes}", scenarios::service_and_subsets(&app, &["v1", "v2"]));
            objects.extend(support::parse_yaml_docs(&yaml).into_iter().map(|doc| (ns.clone(), doc)));
            for version in ["v1", "v2"] {
                pods.extend((0..PODS_PER_VERSION).map(|i| (ns.clone(), app.clone(), version, i)));
            }
        }
    }
    let (vs, dr, svc) = (&vs, &dr, &svc);
    stream::iter(objects)
        .map(|(ns, doc)| {
            let client = client.clone();
            async move {
                let resource = match doc["kind"].as_str() {
                    Some("VirtualService") => vs,
                    Some("DestinationRule") => dr,
                    _ => svc,
                };
                let obj: DynamicObject = serde_json::from_value(doc).unwrap();
                Api::<DynamicObject>::namespaced_with(client, &ns, resource).create(&PostParams::default(), &obj).await
            }
        })
        .buffer_unordered(48)
        .try_collect::<Vec<_>>()
        .await
        .expect("routes");
    // Ready, as a kubelet would report them (there is no kubelet here), owned like a Deployment's pods.
    stream::iter(pods)
        .map(|(ns, app, version, i)| {
            let client = client.clone();
            async move {
                let labels = json!({"app": app, "version": version, "pod-template-hash": "5d8c7f9b6"});
                scenarios::create_pod(&client, &ns, &format!("{app}-{version}-5d8c7f9b6"), labels, i, true).await
            }
        })
        .buffer_unordered(48)
        .try_collect::<Vec<()>>()
        .await
        .expect("pods");
}

/// The mesh's telemetry as Istio's sidecars report it, for [`Prometheus::start`] to backfill.
fn telemetry() -> String {
    let now = jiff::Timestamp::now().as_second();
    let (start, steps) = (now - HISTORY, (HISTORY / STEP) as usize);
    let mut om = OpenMetrics::default();
    for n in 0..NAMESPACES {
        let ns = format!("chain-{n}");
        let edge = |from: &str, from_v: &str, to: &str, v: &str| IstioEdge::new(&ns, from, from_v, to, v);
        // 3 rps into s0, 90/10; every hop passes on what it gets, v2 answering 2% of it with a 503.
        om.steady(&edge("loadgen", "v1", "s0", "v1"), start, STEP, steps, 162);
        om.steady(&edge("loadgen", "v1", "s0", "v2"), start, STEP, steps, 18);
        for s in 0..SERVICES_PER_NS - 1 {
            let (from, to) = (format!("s{s}"), format!("s{}", s + 1));
            for (v, per_step) in [("v1", 162), ("v2", 18)] {
                let crossing = s == 9 && v == "v2";
                let per_step = if crossing { per_step - 6 } else { per_step };
                om.steady(&edge(&from, v, &to, v), start, STEP, steps, per_step);
                om.latency(&edge(&from, v, &to, v), (start, STEP, steps), per_step, per_step / 20, 250.0);
                if v == "v2" {
                    om.steady(&edge(&from, v, &to, v).code(503), start, STEP, steps, 1);
                }
                if crossing {
                    om.steady(&edge(&from, v, &to, "v1"), start, STEP, steps, 6);
                }
            }
        }
    }
    om.finish()
}
