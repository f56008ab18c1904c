//! `kubectl vroute status` and `check`, run through the real kubectl against the real API server.

use crate::support::cli::JsonWatch;
use crate::support::{IstioEdge, OpenMetrics, Prometheus, env, scenarios};
use serde_json::{Value, json};
use std::process::Output;
use std::time::{Duration, Instant};

fn run(args: &[&str]) -> Output {
    env().vroute().args(args).output().expect("run kubectl vroute")
}

fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("valid JSON on stdout")
}

fn service<'a>(doc: &'a Value, host_prefix: &str) -> &'a Value {
    doc["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["host"].as_str().unwrap().starts_with(host_prefix))
        .unwrap_or_else(|| panic!("no service {host_prefix} in {doc:#}"))
}

fn codes(svc: &Value) -> Vec<&str> {
    svc["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect()
}

fn weights(route: &Value) -> Vec<(String, f64)> {
    route["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["version"].as_str().unwrap().to_string(), d["weightPercent"].as_f64().unwrap()))
        .collect()
}

#[tokio::test]
async fn pinned_chain_is_consistent_and_shows_every_version() {
    let env = env();
    let ns = env.namespace("chain").await;
    env.seed_chain(&ns, false).await;
    let doc = json_of(&run(&["status", "-n", &ns, "-o", "json"]));
    assert_eq!(doc["services"].as_array().unwrap().len(), 3, "{doc:#}");

    let a = service(&doc, "a.");
    assert_eq!(a["host"], format!("a.{ns}.svc.cluster.local"));
    assert_eq!(a["split"], "subset");
    assert_eq!(a["versionPinned"], false);
    assert_eq!(weights(&a["routes"][0]), vec![("v1".into(), 50.0), ("v2".into(), 50.0)]);
    for v in a["versions"].as_array().unwrap() {
        assert_eq!(v["pods"], json!({"ready": 1, "total": 1}), "{v}");
        assert_eq!(v["labels"]["version"], v["name"]);
    }
    assert_eq!(a["versions"][0]["owners"], json!(["Deployment/a-v1"]));

    let b = service(&doc, "b.");
    assert_eq!(b["versionPinned"], true);
    assert_eq!(b["routes"][1]["matchSummary"], "from app=a,version=v2");
    assert_eq!(b["routes"][2]["matchSummary"], "*");
    for svc in doc["services"].as_array().unwrap() {
        assert!(codes(svc).is_empty(), "a consistent chain has no findings: {:#}", svc["findings"]);
    }

    // The human view says the same in one screen.
    let out = run(&["status", "b", "-n", &ns]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(text.contains(&format!("b.{ns}.svc.cluster.local (subset split, version-pinned)")), "{text}");
    assert!(text.contains("ROUTE") && text.contains("from app=a,version=v2") && text.contains("VERSION"), "{text}");
}

#[tokio::test]
async fn a_missing_pin_route_is_a_broken_chain() {
    let env = env();
    let ns = env.namespace("broken").await;
    env.seed_chain(&ns, true).await;
    let out = run(&["status", "b", "-n", &ns, "-o", "json"]);
    let doc = json_of(&out);
    let b = service(&doc, "b.");
    let finding = b["findings"].as_array().unwrap().iter().find(|f| f["code"] == "VR110").expect("VR110");
    assert_eq!(finding["severity"], "error");
    assert!(finding["message"].as_str().unwrap().contains("a (version=v2)"), "{finding}");
    assert!(finding["message"].as_str().unwrap().contains("sends 100% to v1"), "{finding}");

    // `check` gates on it: exit 1, one line per finding.
    let out = run(&["check", "-n", &ns]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("VR110") && text.contains("1 error(s)"), "{text}");
}

#[tokio::test]
async fn host_level_split_across_namespaces_counts_pods_in_both() {
    let env = env();
    let prod = env.namespace("prod").await;
    let stage = env.namespace("stage").await;
    for ns in [&prod, &stage] {
        env.create_yaml(ns, "apiVersion: v1\nkind: Service\nmetadata: {name: app}\nspec:\n  selector: {app: app}\n  ports: [{port: 80}]\n").await;
    }
    env.ready_pod(&prod, "app", "v1", 0).await;
    env.ready_pod(&prod, "app", "v1", 1).await;
    env.pod(&stage, "app", "v2", 0, false).await;
    let gateway_vs = format!(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: app-public}}
spec:
  hosts: [app.example.com]
  gateways: [public-gateway]
  http:
  - name: split
    route:
    - destination: {{host: app.{prod}.svc.cluster.local}}
      weight: 70
    - destination: {{host: app.{stage}.svc.cluster.local}}
      weight: 30
"#
    );
    env.create_yaml(&prod, &gateway_vs).await;
    let doc = json_of(&run(&["status", "-n", &prod, "-o", "json"]));
    let svc = service(&doc, "app.example.com");
    assert_eq!(svc["split"], "host");
    assert_eq!(weights(&svc["routes"][0]), vec![(format!("app.{prod}"), 70.0), (format!("app.{stage}"), 30.0)]);
    assert_eq!(svc["versions"][0]["pods"], json!({"ready": 2, "total": 2}));
    assert_eq!(svc["versions"][1]["pods"], json!({"ready": 0, "total": 1}), "pods of the other namespace are read");
    let no_pods = svc["findings"].as_array().unwrap().iter().find(|f| f["code"] == "VR102").expect("VR102");
    assert_eq!(no_pods["object"], format!("Service/{stage}/app"));
}

#[tokio::test]
async fn relative_weights_become_percentages_and_policies_are_shown() {
    let env = env();
    let ns = env.namespace("weights").await;
    let extra = "    retries: {attempts: 3, perTryTimeout: 2s, retryOn: 5xx}\n    timeout: 10s\n";
    let yaml = [
        scenarios::service_and_subsets("reviews", &["v1", "v2"]),
        scenarios::weighted_routes("reviews", ("v1", 1), ("v2", 3), extra),
    ];
    env.create_yaml(&ns, &yaml.join("---\n")).await;
    env.ready_pod(&ns, "reviews", "v1", 0).await;
    env.ready_pod(&ns, "reviews", "v2", 0).await;

    let doc = json_of(&run(&["status", &format!("reviews.{ns}"), "-n", "default", "-o", "json"]));
    let route = &service(&doc, "reviews.")["routes"][0];
    assert_eq!(weights(route), vec![("v1".into(), 25.0), ("v2".into(), 75.0)]);
    assert_eq!(route["retries"], json!({"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx"}));
    assert_eq!(route["timeout"], "10s");

    let text = String::from_utf8(run(&["status", "reviews", "-n", &ns]).stdout).unwrap();
    assert!(text.contains("25%") && text.contains("75%") && text.contains("3x 2s on 5xx"), "{text}");
    let yaml = String::from_utf8(run(&["status", "reviews", "-n", &ns, "-o", "yaml"]).stdout).unwrap();
    assert!(yaml.contains("weightPercent: 75"), "{yaml}");
}

#[tokio::test]
async fn prometheus_traffic_and_cross_version_calls_are_reported() {
    let env = env();
    let ns = env.namespace("traffic").await;
    env.seed_chain(&ns, false).await;
    let now = jiff::Timestamp::now().as_second();
    let start = now - 600;
    let b = |src_v: &str, v: &str| IstioEdge::new(&ns, "a", src_v, "b", v);
    let mut om = OpenMetrics::default();
    om.steady(&b("v1", "v1"), start, 30, 20, 300); // 10 rps
    om.steady(&b("v2", "v2"), start, 30, 20, 150); // 5 rps
    om.steady(&b("v2", "v2").code(503), start, 30, 20, 15); // 0.5 rps of 5xx
    om.steady(&b("v2", "v1"), start, 30, 20, 30); // a v2 caller reached b v1: 300 requests in 5 minutes
    let prom = Prometheus::start(&env.work.join(format!("prom-{ns}")), Some(&om.finish()), &[]).await.unwrap();

    let doc = json_of(&run(&["status", "b", "-n", &ns, "-o", "json", "--prometheus-url", &prom.url]));
    let svc = service(&doc, "b.");
    let v2 = svc["versions"].as_array().unwrap().iter().find(|v| v["name"] == "v2").unwrap();
    let rps = v2["traffic"]["requestsPerSecond"].as_f64().unwrap();
    assert!((rps - 5.5).abs() < 0.3, "v2 rps {rps}");
    let err = v2["traffic"]["errorRate"].as_f64().unwrap();
    assert!((err - 0.5 / 5.5).abs() < 0.01, "v2 error rate {err}");
    let crossing = svc["findings"].as_array().unwrap().iter().find(|f| f["code"] == "VR111").expect("VR111");
    assert!(crossing["message"].as_str().unwrap().contains("from a (version=v2)"), "{crossing}");

    // Unreachable Prometheus: routes are still shown, with a finding instead of numbers.
    let dead = format!("http://127.0.0.1:{}", crate::support::process::free_port());
    let doc = json_of(&run(&["status", "b", "-n", &ns, "-o", "json", "--prometheus-url", &dead]));
    assert_eq!(doc["findings"][0]["code"], "VR116", "{doc:#}");
    assert!(service(&doc, "b.")["versions"][0]["traffic"].is_null());
}

#[tokio::test]
async fn errors_name_the_problem_and_use_documented_exit_codes() {
    let env = env();
    let ns = env.namespace("errors").await;
    env.seed_chain(&ns, false).await;

    let out = run(&["status", "bb", "-n", &ns]);
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no Service or VirtualService host \"bb\"") && err.contains("did you mean: b"), "{err}");
    let suggested = err.split("did you mean:").nth(1).unwrap_or_default();
    assert!(!suggested.contains(&format!("b.{ns}")), "each service named once: {err}");
    // A namespace that does not exist is said to be one, with the close names there are.
    let out = run(&["status", "-n", &format!("{ns}x")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("(there is no namespace {ns}x; did you mean: {ns}")), "{err}");

    let (_, kubeconfig) = env.restricted_user(&ns, "nobody").await;
    let out = env.vroute().env("KUBECONFIG", &kubeconfig).args(["status", "-n", &ns]).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot list virtualservices.networking.istio.io"), "{err}");

    let bare = env.bare_cluster().await;
    let out = env.vroute().env("KUBECONFIG", bare).args(["status", "-n", "default"]).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the Istio CRDs are not installed"));

    let port = crate::support::process::free_port();
    let dead = env.work.join("dead.kubeconfig");
    let text = std::fs::read_to_string(&env.kubeconfig).unwrap();
    let server = env.control_plane.as_ref().map(|c| c.server.clone()).unwrap();
    std::fs::write(&dead, text.replace(&server, &format!("https://127.0.0.1:{port}"))).unwrap();
    let started = Instant::now();
    let out = env.vroute().env("KUBECONFIG", &dead).args(["status"]).output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot reach the API server at https://127.0.0.1:{port}")), "{err}");

    let out = run(&["status", "--output", "xml"]);
    assert_eq!(out.status.code(), Some(4), "usage errors exit 4");

    // Messages name the problem once, in a line, with what there is instead.
    let out = env.vroute().args(["--kubeconfig", "/nonexistent/kc", "status"]).output().unwrap();
    let err = crate::support::cli::fails(&out, 5);
    assert_eq!(err, "error: cannot read kubeconfig /nonexistent/kc: No such file or directory (os error 2)\n");
    let err = crate::support::cli::fails(&run(&["--context", "nope", "status"]), 5);
    assert!(err.starts_with("error: --context nope: no such context in the kubeconfig; its contexts: "), "{err}");
    // A server whose certificate the kubeconfig's CA did not sign: reachable, but not trusted (the bare cluster's
    // API server has a self-signed certificate of its own).
    let bare_config = kube::config::Kubeconfig::read_from(bare).unwrap();
    let bare_server = bare_config.clusters[0].cluster.as_ref().unwrap().server.clone().unwrap();
    let untrusted = env.work.join("untrusted.kubeconfig");
    std::fs::write(&untrusted, std::fs::read_to_string(bare).unwrap().replace(&bare_server, &server)).unwrap();
    let out = env.vroute().env("KUBECONFIG", &untrusted).args(["status", "-n", "default"]).output().unwrap();
    let err = crate::support::cli::fails(&out, 5);
    assert!(err.contains(&format!("the API server at {server} presented a certificate that is not trusted")), "{err}");
    assert!(!err.contains("cannot reach"), "{err}");
}

#[tokio::test]
async fn check_lints_manifests_offline() {
    let dir = env().work.join("check-f");
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.yaml");
    let deployments: String = scenarios::CHAIN_PODS
        .iter()
        .map(|(app, v)| {
            format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {app}-{v}}}\nspec:\n  selector: {{matchLabels: {{app: {app}, version: {v}}}}}\n  template:\n    metadata: {{labels: {{app: {app}, version: {v}}}}}\n    spec: {{containers: [{{name: x, image: x}}]}}\n"
            )
        })
        .collect();
    std::fs::write(&good, format!("{}\n{deployments}", scenarios::chain(false))).unwrap();
    let broken = dir.join("broken.yaml");
    std::fs::write(&broken, format!("{}\n{deployments}", scenarios::chain(true))).unwrap();

    // Offline: no cluster is contacted, even with a kubeconfig pointing nowhere.
    let offline = |file: &std::path::Path| {
        env().vroute().env("KUBECONFIG", "/nonexistent").args(["check", "-f"]).arg(file).output().unwrap()
    };
    let out = offline(&good);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = offline(&broken);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("VR110 VirtualService/default/b"));
    // -n says where manifests without a namespace go, as for `kubectl apply -f`.
    let out =
        env().vroute().env("KUBECONFIG", "/nonexistent").args(["check", "-n", "shop", "-f"]).arg(&broken).output();
    assert!(String::from_utf8_lossy(&out.unwrap().stdout).contains("VR110 VirtualService/shop/b"));

    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "kind: VirtualService\nmetadata: {name: r}\nspec: {http: [{route: [{destination: {host: r}, weight: 1.5}]}]}\n",
    )
    .unwrap();
    let out = offline(&bad);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("VirtualService r"));
}

#[test]
fn the_demo_seeds_the_chain_shows_live_traffic_runs_a_live_canary_agrees_with_kubectl_and_cleans_up() {
    use std::io::{BufRead, Read};
    let demo = crate::support::plugin_dir().join("examples/demo");
    let mut child = std::process::Command::new(&demo)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the demo");
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    // Everything up to its "press Ctrl-C" line: the demo is then ready for a user to explore.
    let mut text = String::new();
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.expect("demo output");
        text.push_str(&line);
        text.push('\n');
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    let ready = text.contains("Press Ctrl-C");
    let scratch = std::env::temp_dir().join(format!("vroute-test-{}", child.id()));
    let explored = ready.then(|| explore_the_demo_as_printed(&text));
    // SAFETY: signalling our own child, as a terminal's Ctrl-C would.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().expect("the demo stops");
    let errors = errors.join().unwrap();
    assert!(ready && status.success(), "{status}\n{text}{errors}");
    assert!(!scratch.exists(), "Ctrl-C left {} behind: {errors}", scratch.display());
    assert!(errors.contains("demo: stopped; removed"), "{errors}");
    explored.expect("the demo was ready").unwrap_or_else(|e| panic!("{e}"));

    for host in ["a", "b", "c"] {
        assert!(text.contains(&format!("{host}.shop.svc.cluster.local (subset split")), "{text}");
    }
    assert!(text.contains("version-pinned"), "{text}");
    // Every version row carries live traffic: about 20 requests per second each.
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("v1 ") || l.starts_with("v2 ")).collect();
    assert_eq!(rows.len(), 6, "{text}");
    for row in rows {
        let rps: f64 = row.split_whitespace().nth(5).and_then(|x| x.parse().ok()).unwrap_or(0.0);
        assert!((15.0..25.0).contains(&rps), "live traffic in {row:?}");
    }
    let chain = text.split("# release v2").next().unwrap();
    assert!(!chain.contains("FINDINGS"), "the seeded chain is consistent: {text}");
    // The live canary: the good release ends Healthy, the bad one Degraded (aborted by the judge).
    let (good, bad) = text.split_once("# release v3").expect("both releases ran");
    let good = good.split_once("# release v2").unwrap().1;
    assert!(good.lines().any(|l| l == "Healthy"), "v2 became Healthy: {good}");
    // `status --watch`, piped, drew a frame per change while the controller moved the weights step by step.
    assert!(good.matches("kubectl vroute status --watch  (").count() >= 3, "watch frames: {good}");
    for weight in ["desired 20% / actual 20%", "desired 50% / actual 50%"] {
        assert!(good.contains(weight), "the watch showed {weight}: {good}");
    }
    assert!(bad.contains("Degraded"), "v3 was aborted: {bad}");
    assert!(bad.contains("error: rollout 'reviews' is Degraded"), "wait said so: {bad}");
}

/// What a user does next: the printed `export` lines, then kubectl (found on that PATH, as is the plugin) and
/// `kubectl vroute` must tell the same story about the demo's pods and Deployments.
fn explore_the_demo_as_printed(text: &str) -> Result<(), String> {
    let export = |name: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(&format!("export {name}=")))
            .map(str::to_string)
            .ok_or(format!("no `export {name}=` line in:\n{text}"))
    };
    let kubeconfig = export("KUBECONFIG")?;
    // Nothing of the machine's own PATH: the printed directories alone must hold kubectl and the plugin.
    let path = export("PATH")?.replace("$PATH", "/nonexistent");
    let kubectl = |args: &[&str]| -> Result<Value, String> {
        let out = std::process::Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", &kubeconfig)
            .env("PATH", &path)
            .output()
            .map_err(|e| format!("kubectl on the printed PATH {path}: {e}"))?;
        if !out.status.success() {
            return Err(format!("kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr)));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| format!("kubectl {args:?}: {e}"))
    };
    let pods = kubectl(&["get", "pods", "-n", "shop", "-o", "json"])?;
    let deployments = kubectl(&["get", "deployments", "-n", "shop", "-o", "json"])?;
    let status = kubectl(&["vroute", "status", "-n", "shop", "-o", "json"])?;
    let mut checked = 0;
    for service in status["services"].as_array().into_iter().flatten() {
        let app = service["host"].as_str().unwrap_or_default().split('.').next().unwrap_or_default();
        for version in service["versions"].as_array().into_iter().flatten() {
            let name = version["name"].as_str().unwrap_or_default();
            let of_version: Vec<&Value> = pods["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["metadata"]["labels"]["app"] == app && p["metadata"]["labels"]["version"] == name)
                .collect();
            let ready = of_version
                .iter()
                .filter(|p| {
                    p["status"]["conditions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
                .count();
            let seen = json!({"ready": ready, "total": of_version.len()});
            if version["pods"] != seen || ready == 0 {
                return Err(format!("{app} {name}: vroute says {} pods, kubectl {seen}", version["pods"]));
            }
            let owner = format!("{app}-{name}");
            let deployment = deployments["items"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|d| d["metadata"]["name"] == owner.as_str())
                .ok_or(format!("vroute names Deployment/{owner}; kubectl get deployments has none"))?;
            if deployment["status"]["readyReplicas"] != json!(ready) {
                return Err(format!("Deployment/{owner}: {} ready, its pods {ready}", deployment["status"]));
            }
            if version["owners"] != json!([format!("Deployment/{owner}")]) {
                return Err(format!("{app} {name}: owners {}", version["owners"]));
            }
            checked += 1;
        }
    }
    if checked != 6 {
        return Err(format!("expected a, b and c with v1 and v2 each; checked {checked}: {status}"));
    }
    Ok(())
}

#[tokio::test]
async fn a_rollout_canary_shows_owner_step_weights_and_drift() {
    let env = env();
    let ns = env.namespace("rollout").await;
    env.seed_canary_rollout(&ns, "reviews", 80, 20).await;
    let doc = json_of(&run(&["status", "reviews", "-n", &ns, "-o", "json"]));
    let svc = service(&doc, "reviews.");
    let ro = &svc["rollout"];
    assert_eq!(ro["name"], "reviews");
    assert_eq!(ro["strategy"], "canary");
    assert_eq!(ro["phase"], "Paused");
    assert_eq!(ro["step"], "1/2");
    assert_eq!(ro["desiredCanaryWeight"], 20);
    assert_eq!(ro["actualCanaryWeight"], 20.0);
    assert_eq!(svc["routes"][0]["managedBy"], format!("Rollout/{ns}/reviews"));
    let canary = svc["versions"].as_array().unwrap().iter().find(|v| v["name"] == "canary").unwrap();
    assert_eq!(canary["owners"][0], "Rollout/reviews (canary)");
    assert_eq!(canary["pods"], json!({"ready": 1, "total": 1}));
    assert!(codes(svc).is_empty(), "{:#}", svc["findings"]);
    let text = String::from_utf8(run(&["status", "reviews", "-n", &ns]).stdout).unwrap();
    assert!(
        text.contains("Rollout") && text.contains("step 1/2") && text.contains("desired 20% / actual 20%"),
        "{text}"
    );

    // Someone hand-edits the managed route: the Rollout's desired weight and the route disagree.
    let patch = json!({"spec": {"http": [{"name": "primary", "route": [
        {"destination": {"host": "reviews", "subset": "stable"}, "weight": 90},
        {"destination": {"host": "reviews", "subset": "canary"}, "weight": 10}]}]}});
    let vs = env.istio(&ns, "VirtualService").await;
    vs.patch("reviews", &Default::default(), &kube::api::Patch::Merge(&patch)).await.unwrap();
    let doc = json_of(&run(&["status", "reviews", "-n", &ns, "-o", "json"]));
    let drift =
        service(&doc, "reviews.")["findings"].as_array().unwrap().iter().find(|f| f["code"] == "VR109").cloned();
    let drift = drift.expect("VR109 drift");
    assert!(
        drift["message"].as_str().unwrap().contains("wants 20%")
            && drift["message"].as_str().unwrap().contains("gives 10%"),
        "{drift}"
    );
}

#[tokio::test]
async fn watch_redraws_when_a_route_changes() {
    let env = env();
    let ns = env.namespace("watch").await;
    let yaml = [
        scenarios::service_and_subsets("web", &["v1", "v2"]),
        scenarios::weighted_routes("web", ("v1", 90), ("v2", 10), ""),
    ];
    env.create_yaml(&ns, &yaml.join("---\n")).await;
    let watch = JsonWatch::start(&["status", "web", "-n", &ns, "--watch", "-o", "json"]);
    let first = watch.until("a first draw", Duration::from_secs(20), |_| true);
    assert_eq!(weights(&service(&first, "web.")["routes"][0])[1], ("v2".into(), 10.0));

    let patch = json!({"spec": {"http": [{"name": "primary", "route": [
        {"destination": {"host": "web", "subset": "v1"}, "weight": 50},
        {"destination": {"host": "web", "subset": "v2"}, "weight": 50}]}]}});
    let vs = env.istio(&ns, "VirtualService").await;
    vs.patch("web", &Default::default(), &kube::api::Patch::Merge(&patch)).await.unwrap();
    let redrawn = watch.until("the new split", Duration::from_secs(20), |doc| {
        weights(&service(doc, "web.")["routes"][0])[1].1 == 50.0
    });
    assert_eq!(weights(&service(&redrawn, "web.")["routes"][0]), vec![("v1".into(), 50.0), ("v2".into(), 50.0)]);

    // A VirtualService for the same host in another namespace is part of the view, so its arrival redraws too.
    let elsewhere = env.namespace("watch-other").await;
    let shadow = format!(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: web-shadow}}\nspec:\n  \
         hosts: [web.{ns}.svc.cluster.local]\n  http:\n  - route: [{{destination: {{host: web.{ns}.svc.cluster.local, subset: v1}}}}]\n"
    );
    env.create_yaml(&elsewhere, &shadow).await;
    let redrawn =
        watch.until("the new VirtualService", Duration::from_secs(20), |doc| doc.to_string().contains("web-shadow"));
    drop(watch);
    let codes: Vec<&str> =
        service(&redrawn, "web.")["findings"].as_array().unwrap().iter().filter_map(|f| f["code"].as_str()).collect();
    assert!(codes.contains(&"VR106"), "two VirtualServices claim web: {codes:?}");
}

/// `--prometheus-service` through the real API server's service proxy. The proxy cannot reach a Prometheus here
/// (it refuses loopback endpoints, and tests only ever talk to loopback), so what is checked is that the request
/// takes the proxy's real path and that each of its answers becomes a clear message: Prometheus down (no
/// endpoints), a wrong Service name, and a user without `services/proxy`.
#[tokio::test]
async fn prometheus_through_the_api_server_names_what_the_proxy_answered() {
    let env = env();
    let ns = env.namespace("promsvc").await;
    env.seed_chain(&ns, false).await;
    let down = "apiVersion: v1\nkind: Service\nmetadata: {name: prometheus}\nspec:\n  ports: [{name: web, port: 9090}]\n\
                ---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: prometheus}\n";
    env.create_yaml(&ns, down).await;
    let prometheus = format!("{ns}/prometheus:9090");

    // status still shows the routes, and says why there are no traffic figures.
    let doc = json_of(&run(&["status", "b", "-n", &ns, "-o", "json", "--prometheus-service", &prometheus]));
    let finding = &doc["findings"][0];
    assert_eq!(finding["code"], "VR116", "{doc:#}");
    let message = finding["message"].as_str().unwrap();
    assert!(message.contains(&format!("/api/v1/namespaces/{ns}/services/prometheus:9090/proxy")), "{message}");
    assert!(message.contains("service proxy answered 503: no endpoints available for service"), "{message}");
    assert!(service(&doc, "b.")["versions"][0]["traffic"].is_null());

    let analyze = |kubeconfig: &std::path::Path, service: &str| {
        let args = ["analyze", "b", "-n", &ns, "--canary", "v2", "--baseline", "v1", "--prometheus-service", service];
        env.vroute().env("KUBECONFIG", kubeconfig).args(args).output().unwrap()
    };
    let out = analyze(&env.kubeconfig, &prometheus);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains("503: no endpoints available for service \"prometheus\""), "{err}");
    assert!(!err.contains("Status {"), "no debug dump: {err}");

    let out = analyze(&env.kubeconfig, &format!("{ns}/nope:9090"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains("answered 404: services \"nope\" not found"), "{err}");

    let (_, nobody) = env.restricted_user(&ns, "nobody").await;
    let out = analyze(&nobody, &prometheus);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains(&format!("needs `get` on `services/proxy` in namespace \"{ns}\"")), "{err}");
}

/// `--watch -o yaml` piped is a YAML stream (`---` before each document), and `-o json` one document per
/// line: both parse as streams with one document per redraw.
#[tokio::test]
async fn watch_documents_form_a_stream_that_parses() {
    let env = env();
    let ns = env.namespace("watch-yaml").await;
    let yaml = [
        scenarios::service_and_subsets("web", &["v1", "v2"]),
        scenarios::weighted_routes("web", ("v1", 90), ("v2", 10), ""),
    ];
    env.create_yaml(&ns, &yaml.join("---\n")).await;
    let mut children: Vec<std::process::Child> = ["yaml", "json"]
        .iter()
        .map(|format| {
            env.vroute()
                .args(["status", "web", "-n", &ns, "--watch", "-o", format])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let patch = json!({"spec": {"http": [{"name": "primary", "route": [
        {"destination": {"host": "web", "subset": "v1"}, "weight": 50},
        {"destination": {"host": "web", "subset": "v2"}, "weight": 50}]}]}});
    let vs = env.istio(&ns, "VirtualService").await;
    vs.patch("web", &Default::default(), &kube::api::Patch::Merge(&patch)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let outputs: Vec<String> = children
        .iter_mut()
        .map(|c| {
            c.kill().unwrap();
            let mut out = String::new();
            std::io::Read::read_to_string(c.stdout.as_mut().unwrap(), &mut out).unwrap();
            c.wait().unwrap();
            out
        })
        .collect();
    let docs: Vec<Value> = serde_saphyr::from_multiple(&outputs[0]).expect("a YAML stream");
    assert!(docs.len() >= 2, "a document per redraw: {}", outputs[0]);
    assert!(outputs[0].starts_with("---\n"), "{}", outputs[0]);
    let lines: Vec<Value> = outputs[1].lines().map(|l| serde_json::from_str(l).expect("a document per line")).collect();
    assert!(lines.len() >= 2, "{}", outputs[1]);
    assert_eq!(docs.last(), lines.last(), "the same last document in both formats");
}

/// Runs `kubectl vroute ARGS` with stdout and stderr on a real pseudo-terminal `cols` columns wide, as a user's
/// terminal is, and returns what it printed.
fn on_terminal(args: &[&str], cols: u16) -> String {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize { ws_row: 50, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: openpty writes two descriptors we then own; the pointers are to live locals.
    let opened = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &size) };
    assert_eq!(opened, 0, "openpty");
    // SAFETY: both descriptors were just opened and are owned by these files alone.
    let (mut master, slave) = unsafe { (std::fs::File::from_raw_fd(master), std::fs::File::from_raw_fd(slave)) };
    let mut cmd = env().vroute();
    cmd.args(args).stdin(std::process::Stdio::null());
    cmd.stdout(slave.try_clone().unwrap()).stderr(slave.try_clone().unwrap());
    let mut child = cmd.spawn().expect("run on the terminal");
    drop(cmd);
    drop(slave);
    let mut out = Vec::new();
    // Reading ends with EIO once the child (the last holder of the slave side) exits.
    let _ = master.read_to_end(&mut out);
    child.wait().unwrap();
    String::from_utf8_lossy(&out).replace("\r\n", "\n")
}

/// The demo's view (the chain with a broken hop, live traffic from a real Prometheus) fits an 80-column terminal:
/// empty columns are left out and findings wrap at word boundaries under their message.
#[tokio::test]
async fn status_fits_an_80_column_terminal() {
    let env = env();
    let ns = env.namespace("eighty").await;
    env.seed_chain(&ns, true).await;
    let history = crate::support::exporter::backfill_until_now(&crate::support::exporter::chain_traffic(&ns), 600);
    let prom =
        crate::support::Prometheus::start(&env.work.join(format!("prom-{ns}")), Some(&history), &[]).await.unwrap();
    let text = on_terminal(&["status", "-n", &ns, "--prometheus-url", &prom.url], 80);
    let plain = text.replace("\x1b[31m", "").replace("\x1b[33m", "").replace("\x1b[36m", "").replace("\x1b[0m", "");
    assert!(plain.contains("VR110") && plain.contains("RPS"), "{plain}");
    let wide: Vec<&str> = plain.lines().filter(|l| l.chars().count() > 80).collect();
    assert!(wide.is_empty(), "lines over 80 columns: {wide:#?}\n{plain}");
    // Piped, findings stay one line each (for grep).
    let piped = crate::support::cli::ok(&crate::support::cli::vroute(&["status", "-n", &ns]));
    assert!(piped.lines().any(|l| l.contains("VR110") && l.chars().count() > 80), "{piped}");
}

/// A list is one request (the API server's watch cache answers it whole, at one resourceVersion), read as it
/// arrives: a version with 1,100 pods, split over many chunks of the answer, counts every one of them.
#[tokio::test]
async fn a_list_is_one_request_read_as_it_arrives_and_every_item_counts() {
    use kube::api::{Api, PostParams};
    let env = env();
    let ns = env.namespace("paged").await;
    let yaml = [
        scenarios::service_and_subsets("reviews", &["v1", "v2"]),
        scenarios::weighted_routes("reviews", ("v1", 100), ("v2", 0), ""),
    ];
    env.create_yaml(&ns, &yaml.join("---\n")).await;
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(env.client().await, &ns);
    let created = futures::future::join_all((0..1_100).map(|i| {
        let pods = pods.clone();
        async move {
            let pod = serde_json::from_value(json!({"metadata": {"name": format!("reviews-v1-{i}"),
                "labels": {"app": "reviews", "version": "v1"}},
                "spec": {"containers": [{"name": "app", "image": "example/reviews:v1"}]}}))
            .unwrap();
            pods.create(&PostParams::default(), &pod).await.map(|_| ())
        }
    }))
    .await;
    assert!(created.iter().all(Result::is_ok), "{:?}", created.iter().find(|r| r.is_err()));
    let out = run(&["status", "reviews", "-n", &ns, "-o", "json", "--v=6"]);
    let doc = json_of(&out);
    let v1 = doc["services"][0]["versions"].as_array().unwrap().iter().find(|v| v["name"] == "v1").unwrap().clone();
    assert_eq!(v1["pods"], json!({"ready": 0, "total": 1_100}), "{v1:#}");
    let log = String::from_utf8_lossy(&out.stderr);
    let requests: Vec<&str> =
        log.lines().filter(|l| l.contains("API request") && l.contains(&format!("/namespaces/{ns}/pods"))).collect();
    assert_eq!(requests.len(), 1, "one request for the namespace's pods: {log}");
    assert!(!requests[0].contains("limit=") && !requests[0].contains("continue="), "not paged: {}", requests[0]);
}

/// One namespace's view reads of the cluster-wide lists only the objects that name its namespace: the routes
/// from elsewhere that concern it are all found (a second VirtualService claiming the host, a gateway route
/// sending to it, a Rollout elsewhere managing its routes, even one that cannot be read), while an object of
/// a namespace whose name merely starts with this one's is not read at all (`status -A` reads it).
#[tokio::test]
async fn a_namespace_view_reads_what_names_its_namespace_and_nothing_else() {
    let env = env();
    let home = env.namespace("home").await;
    let other = env.namespace("other").await;
    let near = env.namespace_named(format!("{home}0")).await;
    let seed = format!(
        "{}---\n{}",
        scenarios::service_and_subsets("reviews", &["v1", "v2"]),
        scenarios::weighted_routes("reviews", ("v1", 90), ("v2", 10), "")
    );
    env.create_yaml(&home, &seed).await;
    env.create_yaml(&near, &seed).await;
    let elsewhere = format!(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: reviews-too}}
spec:
  hosts: [reviews.{home}.svc.cluster.local]
  http:
  - route:
    - destination: {{host: reviews.{home}.svc.cluster.local, subset: v1}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: shop}}
spec:
  hosts: [shop.example.com]
  gateways: [public]
  http:
  - route:
    - destination: {{host: reviews.{home}.svc.cluster.local, subset: v2}}
"#
    );
    env.create_yaml(&other, &elsewhere).await;
    // Rollouts that cannot be read (a setWeight out of range), one claiming this namespace's routes.
    let bad = |vs: &str| {
        json!({"canary": {"steps": [{"setWeight": 99_999_999_999_i64}],
            "trafficRouting": {"istio": {"virtualService": {"name": vs}}}}})
    };
    let ours = scenarios::rollout("claims-home", bad(&format!("reviews.{home}")), false);
    env.create_yaml(&other, &serde_json::to_string(&ours).unwrap()).await;
    let theirs = scenarios::rollout("claims-near", bad("reviews"), false);
    env.create_yaml(&near, &serde_json::to_string(&theirs).unwrap()).await;

    // Routes from here to subsets whose DestinationRules name no word this view starts with: a Service of the
    // near namespace (its rule is the namespace's own), and a host outside the mesh (its rule elsewhere).
    env.create_yaml(&near, &scenarios::service_and_subsets("ratings", &["v1", "v2"])).await;
    let outward = format!(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: payments}}
spec:
  hosts: [payments.example.com]
  http:
  - match: [{{headers: {{x-ratings: {{exact: "1"}}}}}}]
    route:
    - destination: {{host: ratings.{near}.svc.cluster.local, subset: v2}}
  - route:
    - destination: {{host: payments.example.com, subset: v1}}
      weight: 90
    - destination: {{host: payments.example.com, subset: v9}}
      weight: 10
"#
    );
    env.create_yaml(&home, &outward).await;
    let payments_rule = r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payments}
spec:
  host: payments.example.com
  subsets: [{name: v1, labels: {version: v1}}]
"#;
    env.create_yaml(&other, payments_rule).await;

    let doc = json_of(&run(&["status", "-n", &home, "-o", "json"]));
    let hosts: Vec<&str> = doc["services"].as_array().unwrap().iter().map(|s| s["host"].as_str().unwrap()).collect();
    assert_eq!(
        hosts,
        ["payments.example.com", format!("reviews.{home}.svc.cluster.local").as_str(), "shop.example.com"]
    );
    let unknown: Vec<&str> = service(&doc, "payments.example.com")["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "VR101")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(unknown.len(), 1, "only v9 is undefined: both rules elsewhere were read: {unknown:?}");
    assert!(unknown[0].contains("subset v9 of payments.example.com"), "{unknown:?}");
    let reviews = service(&doc, "reviews.");
    assert_eq!(reviews["virtualServices"], json!([format!("{home}/reviews"), format!("{other}/reviews-too")]));
    let unreadable: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "VR115")
        .map(|f| f["object"].as_str().unwrap())
        .collect();
    assert_eq!(unreadable, [format!("Rollout/{other}/claims-home")], "{doc:#}");
    // The same through one host's view, and the whole cluster's reads both Rollouts.
    let one = json_of(&run(&["status", "reviews", "-n", &home, "-o", "json"]));
    assert_eq!(service(&one, "reviews.")["virtualServices"], reviews["virtualServices"]);
    let all = json_of(&run(&["status", "-A", "-o", "json"]));
    let objects: Vec<&str> = all["findings"].as_array().unwrap().iter().filter_map(|f| f["object"].as_str()).collect();
    assert!(objects.contains(&format!("Rollout/{near}/claims-near").as_str()), "{objects:?}");
}
