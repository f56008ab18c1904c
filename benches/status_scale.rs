//! `cargo bench --bench status_scale`: how fast `kubectl-vroute status` is against a real kube-apiserver.
//!
//! 1. One service: `kubectl-vroute status SVC -n NS -o json` beside
//!    `kubectl get virtualservices,destinationrules,services,pods -n NS -o json` on the same objects.
//! 2. Scale: `status -A -o json` over 200 namespaces holding 2,000 VirtualServices, 2,000 DestinationRules,
//!    200 Argo Rollouts and 10,000 Pods, plus 400 hosts routed by Gateway API HTTPRoutes (one Service per
//!    version, 2,000 more Pods: a mixed cluster) (1x), then four times that (4x): wall time and peak RSS of the plugin
//!    process; and one namespace's view of that cluster (`status svc0 -n scale-0`), which still lists
//!    VirtualServices, DestinationRules and Rollouts cluster-wide.
//!
//! `VROUTE_BENCH_SCALES` lists the scales, increasing (default `1,4`; `1` alone; `1,4,10` adds the 10x step:
//! 2,000 namespaces and 120,000 pods, which take long to seed). Growth ratios from each scale to the next are
//! printed for wall time, CPU time and peak RSS, for the whole cluster and for one namespace's view. At 4x,
//! `status -A -o json --watch` redraws 100 times (one VirtualService annotated at a time, each redraw waited
//! for) and its resident memory is read after each. (heaptrack sees only malloc, not the plugin's jemalloc: the
//! heap of a build with the system allocator is measured by hand against a held cluster.)
//! `VROUTE_BENCH_HOLD=1` keeps the seeded cluster up at the end, printing its KUBECONFIG, until Ctrl-C (for
//! profiling by hand); `VROUTE_BENCH_HOLD=seeded` holds it as soon as the largest scale is seeded, measuring
//! nothing.
//!
//! `VROUTE_BENCH_CALLGRIND=DIR` also counts the instructions
//! of each `kubectl-vroute` command at each scale with `valgrind --tool=callgrind` (repeatable, whatever else the
//! machine does), keeping the profiles in DIR for `callgrind_annotate`. `VROUTE_BENCH_BASELINE=PATH` also measures another
//! build of the plugin (say, the release before a change) on the same objects in the same run, its runs
//! alternating with this build's, so the two share the machine's state. Prints a markdown table (pasted into
//! the README).

#[path = "measure/mod.rs"]
mod measure;
#[path = "../tests/support/mod.rs"]
mod support;

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, DynamicObject, PostParams};
use measure::{Run, SPAWN, measure_each, measure_n, ms, spawner};
use std::process::Command;
use std::time::{Duration, Instant};
use support::{env, scenarios};

const NAMESPACES_PER_X: usize = 200;
const SERVICES_PER_NS: usize = 10;
const PODS_PER_SERVICE: usize = 5;
/// Hosts per namespace routed by an HTTPRoute (a parent Service, one Service per version, 90/10) instead.
const GATEWAY_SERVICES_PER_NS: usize = 2;
const RUNS: usize = 7;

#[tokio::main]
async fn main() {
    if std::env::var_os(SPAWN).is_some() {
        spawner();
    }
    let env = env();
    let plugin = support::plugin_dir().join("kubectl-vroute");
    println!("| benchmark | command | median wall | peak RSS |\n|---|---|---|---|");

    // 1. One service, against kubectl reading the same objects.
    let ns = env.namespace("bench-one").await;
    env.seed_chain(&ns, false).await;
    for i in 1..=20 {
        env.ready_pod(&ns, "b", if i % 2 == 0 { "v1" } else { "v2" }, i).await;
    }
    let kubectl_get = || {
        let mut c = env.kubectl();
        c.args(["get", "virtualservices,destinationrules,services,pods", "-n", &ns, "-o", "json"]);
        c
    };
    let baseline = std::env::var_os("VROUTE_BENCH_BASELINE").map(std::path::PathBuf::from);
    let vroute = |args: &[&str]| {
        let mut c = Command::new(&plugin);
        c.env("KUBECONFIG", &env.kubeconfig).args(args);
        c
    };
    let before = |args: &[&str]| {
        let mut c = Command::new(baseline.as_ref().expect("VROUTE_BENCH_BASELINE"));
        c.env("KUBECONFIG", &env.kubeconfig).args(args);
        c
    };
    // This build and, when given, the baseline, their runs alternating; rows for both.
    let compare = |case: &str, args: &[&str]| -> Run {
        let runs = match &baseline {
            Some(_) => measure_each(RUNS, &[&|| vroute(args), &|| before(args)]),
            None => measure_each(RUNS, &[&|| vroute(args)]),
        };
        if let [now, then] = runs.as_slice() {
            println!(
                "| {case} | baseline `kubectl-vroute {}` | {} (CPU {}) | {} MB |",
                args.join(" "),
                ms(then.wall),
                ms(then.cpu),
                then.rss_kb / 1024
            );
            println!(
                "| {case} | this build / baseline | {:.2}x wall, {:.2}x CPU | {:.2}x |",
                now.wall.as_secs_f64() / then.wall.as_secs_f64(),
                now.cpu.as_secs_f64() / then.cpu.as_secs_f64(),
                now.rss_kb as f64 / then.rss_kb as f64
            );
        }
        runs.into_iter().next().unwrap()
    };
    let get = measure(kubectl_get).wall;
    let Run { wall: one, rss_kb: one_rss, .. } = compare("one service", &["status", "b", "-n", &ns, "-o", "json"]);
    println!(
        "| one service | `kubectl get virtualservices,destinationrules,services,pods -n NS -o json` | {} | |",
        ms(get)
    );
    println!("| one service | `kubectl-vroute status b -n NS -o json` | {} | {} MB |", ms(one), one_rss / 1024);
    println!("| one service | ratio vroute / kubectl | {:.2}x | |", one.as_secs_f64() / get.as_secs_f64());

    // 2. Scale.
    let scales: Vec<usize> = match std::env::var("VROUTE_BENCH_SCALES") {
        Ok(list) => list
            .split(',')
            .map(|x| x.trim().parse().expect("VROUTE_BENCH_SCALES: increasing multiples, comma-separated (1,4,10)"))
            .collect(),
        Err(_) => vec![1, 4],
    };
    assert!(scales.windows(2).all(|w| w[0] < w[1]), "VROUTE_BENCH_SCALES must increase");
    let mut populated = 0;
    let mut results = Vec::new();
    for &scale in &scales {
        let started = Instant::now();
        populate(populated, scale * NAMESPACES_PER_X).await;
        populated = scale * NAMESPACES_PER_X;
        eprintln!("bench: {populated} namespaces populated in {:?}", started.elapsed());
        if std::env::var("VROUTE_BENCH_HOLD").as_deref() == Ok("seeded") && Some(&scale) == scales.last() {
            hold().await;
            return;
        }
        // The view holds the HTTPRoute hosts: a benchmark of a view that silently dropped them would flatter.
        let out = vroute(&["status", "-A", "-o", "json"]).output().expect("status -A");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status -A -o json");
        let routed = doc["services"].as_array().into_iter().flatten().filter(|s| s["httpRoutes"].is_array()).count();
        assert_eq!(routed, populated * GATEWAY_SERVICES_PER_NS, "HTTPRoute hosts in status -A");
        let all = compare(&format!("scale {scale}x"), &["status", "-A", "-o", "json"]);
        // kubectl takes seconds here (a minute at 4x); three runs are enough for a reference point, and none
        // at 10x, where it would take most of the benchmark's time.
        let get_all = (scale <= 4).then(|| {
            measure_n(3, || {
                let mut c = env.kubectl();
                c.args(["get", "virtualservices,destinationrules,services,pods", "-A", "-o", "json"]);
                c
            })
            .wall
        });
        let objects = format!(
            "{} ns, {} VS, {} DR, {} HTTPRoutes, {} Rollouts, {} Services, {} pods",
            populated,
            populated * SERVICES_PER_NS,
            populated * SERVICES_PER_NS,
            populated * GATEWAY_SERVICES_PER_NS,
            populated,
            populated * (SERVICES_PER_NS + 3 * GATEWAY_SERVICES_PER_NS),
            populated * (SERVICES_PER_NS + GATEWAY_SERVICES_PER_NS) * PODS_PER_SERVICE
        );
        println!(
            "| scale {scale}x ({objects}) | `kubectl-vroute status -A -o json` | {} (CPU {}) | {} MB |",
            ms(all.wall),
            ms(all.cpu),
            all.rss_kb / 1024
        );
        if let Some(get_all) = get_all {
            println!(
                "| scale {scale}x | `kubectl get virtualservices,destinationrules,services,pods -A -o json` | {} | |",
                ms(get_all)
            );
        }
        let one_ns =
            compare(&format!("scale {scale}x, one service"), &["status", "svc0", "-n", "scale-0", "-o", "json"]);
        println!(
            "| scale {scale}x | `kubectl-vroute status svc0 -n scale-0 -o json` (one service of the big cluster) | {} (CPU {}) | {} MB |",
            ms(one_ns.wall),
            ms(one_ns.cpu),
            one_ns.rss_kb / 1024
        );
        // At 4x, or at the largest scale asked below it.
        if scale == 4 || (scale < 4 && Some(&scale) == scales.iter().filter(|s| **s <= 4).max()) {
            watch_memory(scale, &vroute(&["status", "-A", "-o", "json", "--watch"])).await;
        }
        if let Some(dir) = std::env::var_os("VROUTE_BENCH_CALLGRIND").map(std::path::PathBuf::from) {
            let cases = [
                ("all", vec!["status", "-A", "-o", "json"]),
                ("one", vec!["status", "svc0", "-n", "scale-0", "-o", "json"]),
            ];
            for (case, args) in cases {
                let mut builds = vec![("this build", vroute(&args))];
                if baseline.is_some() {
                    builds.push(("baseline", before(&args)));
                }
                for (build, cmd) in builds {
                    let out = dir.join(format!("{}-{case}-{scale}x.callgrind", build.replace(' ', "-")));
                    let count = callgrind(cmd, &out);
                    println!(
                        "| scale {scale}x | {build}: `kubectl-vroute {}` under callgrind | {count} instructions | |",
                        args.join(" ")
                    );
                }
            }
        }
        results.push((scale, all, one_ns));
    }
    // Growth from each scale to the next: 4x the objects should cost about 4x for the whole cluster and about
    // 1x for one namespace's view.
    for pair in results.windows(2) {
        let [(a, all_a, one_a), (b, all_b, one_b)] = pair else { unreachable!() };
        let ratio = |x: &Run, y: &Run| {
            format!(
                "{:.2}x wall, {:.2}x CPU, {:.2}x peak RSS",
                y.wall.as_secs_f64() / x.wall.as_secs_f64(),
                y.cpu.as_secs_f64() / x.cpu.as_secs_f64(),
                y.rss_kb as f64 / x.rss_kb as f64
            )
        };
        println!("| growth {a}x -> {b}x | `status -A` | {} | |", ratio(all_a, all_b));
        println!("| growth {a}x -> {b}x | `status svc0 -n scale-0` | {} | |", ratio(one_a, one_b));
    }
    if std::env::var_os("VROUTE_BENCH_HOLD").is_some() {
        hold().await;
    }
}

/// For profiling by hand (heaptrack, curl) against the seeded cluster; the control plane stops with us.
async fn hold() {
    eprintln!("bench: holding the seeded cluster until Ctrl-C: KUBECONFIG={}", env().kubeconfig.display());
    let _ = tokio::signal::ctrl_c().await;
}

/// `status -A --watch` over 100 redraws: one annotation change on a VirtualService at a time, each waited for
/// (its redraw is the next JSON line), the plugin's resident memory read after each. Memory must stay flat:
/// every redraw reads a new snapshot and drops the last.
async fn watch_memory(scale: usize, cmd: &Command) {
    use std::io::BufRead;
    const REDRAWS: usize = 100;
    let mut child = Command::new(cmd.get_program())
        .args(cmd.get_args())
        .env("KUBECONFIG", &env().kubeconfig)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("status --watch");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if line.is_err() || tx.send(()).is_err() {
                break;
            }
        }
    });
    let frame = || rx.recv_timeout(Duration::from_secs(120)).expect("a redraw within 2 minutes");
    let rss = || {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
        let field = |name: &str| -> u64 {
            let line = status.lines().find(|l| l.starts_with(name)).expect("VmRSS");
            line.split_whitespace().nth(1).unwrap().parse().unwrap()
        };
        (field("VmRSS:") / 1024, field("VmHWM:") / 1024)
    };
    frame();
    let api: Api<DynamicObject> = Api::namespaced_with(
        env().client().await,
        "scale-1",
        &kube::discovery::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(
            "networking.istio.io",
            "v1",
            "VirtualService",
        )),
    );
    let mut samples = vec![rss()];
    let started = Instant::now();
    for i in 1..=REDRAWS {
        let patch = serde_json::json!({"metadata": {"annotations": {"bench/redraw": i.to_string()}}});
        api.patch("svc1", &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&patch)).await.expect("patch");
        frame();
        samples.push(rss());
    }
    let elapsed = started.elapsed();
    // SAFETY: a signal to our own child, which then stops its watch and exits.
    unsafe { libc::kill(pid as i32, libc::SIGINT) };
    let _ = child.wait();
    let at = |n: usize| format!("{} MB", samples[n].0);
    println!(
        "| scale {scale}x | `kubectl-vroute status -A -o json --watch`, {REDRAWS} redraws ({} ms each) | resident after the first: {}, the 10th: {}, the 50th: {}, the 100th: {} | peak {} MB |",
        elapsed.as_millis() / REDRAWS as u128,
        at(0),
        at(10),
        at(50),
        at(100),
        samples.last().unwrap().1
    );
}

/// Creates namespaces `from..to`, each with [`SERVICES_PER_NS`] services (Service, DestinationRule with two
/// subsets, VirtualService splitting 90/10) and [`PODS_PER_SERVICE`] pods per service; `svc0`'s route is
/// managed by an Argo Rollout.
async fn populate(from: usize, to: usize) {
    let client = env().client().await;
    let vs_ar = kube::discovery::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(
        "networking.istio.io",
        "v1",
        "VirtualService",
    ));
    let dr_ar = kube::discovery::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(
        "networking.istio.io",
        "v1",
        "DestinationRule",
    ));
    let mut jobs = Vec::new();
    for n in from..to {
        let ns = format!("scale-{n}");
        let namespace: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": ns}})).unwrap();
        Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &namespace).await.expect("namespace");
        for s in 0..SERVICES_PER_NS {
            let app = format!("svc{s}");
            for doc in support::parse_yaml_docs(&format!(
                "{}---\n{}",
                scenarios::service_and_subsets(&app, &["v1", "v2"]),
                scenarios::weighted_routes(&app, ("v1", 90), ("v2", 10), "")
            )) {
                jobs.push(Job::Object(ns.clone(), doc));
            }
            if s == 0 {
                jobs.push(Job::Object(ns.clone(), managing_rollout(&app)));
            }
            for p in 0..PODS_PER_SERVICE {
                jobs.push(Job::Pod(ns.clone(), app.clone(), if p == 0 { "v2" } else { "v1" }, p));
            }
        }
        for s in 0..GATEWAY_SERVICES_PER_NS {
            let app = format!("gw{s}");
            for doc in support::parse_yaml_docs(&gateway_service(&app)) {
                jobs.push(Job::Object(ns.clone(), doc));
            }
            for p in 0..PODS_PER_SERVICE {
                jobs.push(Job::Pod(ns.clone(), app.clone(), if p == 0 { "v2" } else { "v1" }, p));
            }
        }
    }
    let ro_ar =
        kube::discovery::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"));
    let route_ar = kube::discovery::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(
        "gateway.networking.k8s.io",
        "v1",
        "HTTPRoute",
    ));
    let (vs_ar, dr_ar, ro_ar, route_ar) = (&vs_ar, &dr_ar, &ro_ar, &route_ar);
    stream::iter(jobs)
        .map(|job| {
            let client = client.clone();
            async move {
                match job {
                    Job::Object(ns, doc) => {
                        let kind = doc["kind"].as_str().unwrap().to_string();
                        let obj: DynamicObject = serde_json::from_value(doc).unwrap();
                        let api: Api<DynamicObject> = match kind.as_str() {
                            "VirtualService" => Api::namespaced_with(client, &ns, vs_ar),
                            "DestinationRule" => Api::namespaced_with(client, &ns, dr_ar),
                            "Rollout" => Api::namespaced_with(client, &ns, ro_ar),
                            "HTTPRoute" => Api::namespaced_with(client, &ns, route_ar),
                            _ => Api::namespaced_with(client, &ns, &kube::discovery::ApiResource::erase::<k8s_openapi::api::core::v1::Service>(&())),
                        };
                        api.create(&PostParams::default(), &obj).await.map(|_| ())
                    }
                    Job::Pod(ns, app, version, i) => {
                        let pod: Pod = serde_json::from_value(serde_json::json!({
                            "metadata": {"name": format!("{app}-{version}-{i}"), "labels": {"app": app, "version": version}},
                            "spec": {"containers": [{"name": "app", "image": "example/app"}]}
                        }))
                        .unwrap();
                        Api::<Pod>::namespaced(client, &ns).create(&PostParams::default(), &pod).await.map(|_| ())
                    }
                }
            }
        })
        .buffer_unordered(48)
        .try_collect::<Vec<()>>()
        .await
        .expect("populate");
}

/// `app` on Gateway API: its Service, `app-v1` and `app-v2` (one per version) and a mesh HTTPRoute at 90/10.
fn gateway_service(app: &str) -> String {
    let mut out = format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {app}}}\nspec: {{selector: {{app: {app}}}, ports: [{{port: 80}}]}}\n"
    );
    for v in ["v1", "v2"] {
        out += &format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {app}-{v}}}\nspec: {{selector: {{app: {app}, version: {v}}}, ports: [{{port: 80}}]}}\n"
        );
    }
    out + &format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {app}}}\nspec:\n  \
         parentRefs: [{{group: \"\", kind: Service, name: {app}}}]\n  rules:\n  \
         - backendRefs: [{{name: {app}-v1, port: 80, weight: 90}}, {{name: {app}-v2, port: 80, weight: 10}}]\n"
    )
}

/// A canary Rollout of `app` that owns route `primary` of its VirtualService (subsets v1 stable, v2 canary).
fn managing_rollout(app: &str) -> serde_json::Value {
    let strategy = serde_json::json!({"canary": {
        "trafficRouting": {"istio": {
            "virtualService": {"name": app, "routes": ["primary"]},
            "destinationRule": {"name": app, "canarySubsetName": "v2", "stableSubsetName": "v1"}}},
        "steps": [{"setWeight": 10}, {"pause": {}}]}});
    scenarios::rollout(app, strategy, false)
}

enum Job {
    Object(String, serde_json::Value),
    Pod(String, String, &'static str, usize),
}

/// Runs the command [`RUNS`] times (after one warm-up). The wall time includes the API server's own work on
/// the same two cores; the CPU time is the plugin's alone, read with the peak RSS from `wait4`.
fn measure(make: impl Fn() -> Command) -> Run {
    measure_n(RUNS, make)
}

/// The instructions `cmd` executes, counted by callgrind (profile kept in `out`).
fn callgrind(cmd: Command, out: &std::path::Path) -> String {
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let mut valgrind = Command::new("valgrind");
    valgrind.arg("--tool=callgrind").arg(format!("--callgrind-out-file={}", out.display())).arg(cmd.get_program());
    valgrind.args(cmd.get_args()).envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))));
    let status = valgrind.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).status().unwrap();
    assert!(status.success(), "{valgrind:?} failed");
    let text = std::fs::read_to_string(out).unwrap();
    let total: u64 =
        text.lines().find_map(|l| l.strip_prefix("summary: ")).and_then(|n| n.trim().parse().ok()).unwrap_or(0);
    format!("{:.3} G", total as f64 / 1e9)
}
