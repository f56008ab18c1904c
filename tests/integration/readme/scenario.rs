//! The worlds the README's examples run in. Each README example names one; it gets a fresh namespace (the
//! README's `shop` or `prod` stands for it), seeded objects, and where needed a real Prometheus whose URL
//! stands in for the README's `http://127.0.0.1:9090`.

use crate::support::exporter::{AHEAD, backfill_until_now, chain_traffic};
use crate::support::prometheus::{IstioEdge, OpenMetrics};
use crate::support::{Prometheus, env, scenarios};
use serde_json::json;
use std::io::Read;
use std::path::PathBuf;

const README_PROMETHEUS: &str = "http://127.0.0.1:9090";

pub struct Scenario {
    /// The README's namespace and the test namespace that stands for it.
    namespace: Option<(&'static str, String)>,
    prometheus: Option<Prometheus>,
    /// The working directory commands run in (`check -f deploy/` reads files there).
    dir: PathBuf,
    /// No cluster at all: the kubeconfig points nowhere.
    offline: bool,
}

impl Scenario {
    pub async fn set_up(name: &str, line: usize) -> Self {
        let env = env();
        let dir = env.work.join(format!("readme-{line}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut scenario = Self { namespace: None, prometheus: None, dir, offline: false };
        let ns = match name {
            "offline" | "cluster" => None,
            "rollouts" => Some(("prod", env.namespace("readme-prod").await)),
            "gateway" | "bookinfo" => Some(("bookinfo", env.namespace("readme-bookinfo").await)),
            _ => Some(("shop", env.namespace("readme-shop").await)),
        };
        let test_ns = ns.as_ref().map(|(_, ns)| ns.clone()).unwrap_or_default();
        scenario.namespace = ns;
        match name {
            // The chain a -> b -> c, v1 and v2 of each, a split 50/50, b and c pinned by caller version.
            "chain" => env.seed_chain(&test_ns, false).await,
            // ... where b has no route for callers at v2.
            "chain-broken" => env.seed_chain(&test_ns, true).await,
            // ... where b v3 was deployed (one Ready pod) but has no subset yet.
            "chain-v3" => {
                env.seed_chain(&test_ns, false).await;
                env.ready_pod(&test_ns, "b", "v3", 0).await;
            }
            // The chain with ten minutes of the demo's traffic in Prometheus (and [`AHEAD`] more).
            "traffic" => {
                env.seed_chain(&test_ns, false).await;
                let history = backfill_until_now(&chain_traffic(&test_ns), 600);
                scenario.prometheus = Some(prometheus(&scenario.dir, &history).await);
            }
            // Service reviews: 30 minutes of v1 at 80 rps and v2 at 20 rps, 1% errors and 5% of requests slower
            // than 250 ms each.
            "analysis" => {
                let history = reviews_traffic(&test_ns);
                scenario.prometheus = Some(prometheus(&scenario.dir, &history).await);
            }
            // Rollouts reviews (label team=books; paused at its pause step mid-update) and ratings (healthy).
            "rollouts" => seed_rollouts(&test_ns).await,
            // Istio's bookinfo reviews on Gateway API: reviews-v1..v3 Services, a mesh HTTPRoute at 90/10 and
            // a header rule to v2.
            "gateway" => env.seed_bookinfo_reviews(&test_ns).await,
            // Istio's bookinfo all at v1: reviews (subsets v1..v3) and ratings (v1), one unnamed route each.
            "bookinfo" => env.seed_bookinfo_istio(&test_ns).await,
            // deploy/: the chain's manifests with b's route for v2 callers missing.
            "offline" => {
                scenario.offline = true;
                std::fs::create_dir_all(scenario.dir.join("deploy")).unwrap();
                let manifests = format!("{}\n{}", scenarios::chain(true), chain_deployments());
                std::fs::write(scenario.dir.join("deploy/chain.yaml"), manifests).unwrap();
            }
            "cluster" => {}
            other => panic!("README.md:{line}: unknown readme-test scenario {other:?}"),
        }
        scenario
    }

    /// Runs `kubectl vroute ARGS` (`WORD<TAB>` as a completion request), stdout and stderr interleaved as on a
    /// terminal, with the README's names in place of the test's.
    pub async fn run(&self, args: &[&str]) -> (i32, String) {
        let env = env();
        let mut args: Vec<String> = args.iter().map(|a| self.to_test(a)).collect();
        let completing = args.last().is_some_and(|a| a.ends_with("<TAB>"));
        let mut cmd = if completing {
            let partial = args.pop().unwrap().trim_end_matches("<TAB>").to_string();
            args.push(partial);
            env.complete()
        } else {
            env.vroute()
        };
        cmd.args(&args).current_dir(&self.dir);
        if self.offline {
            cmd.env("KUBECONFIG", "/nonexistent");
        }
        let (code, output) = tokio::task::spawn_blocking(move || interleaved(cmd, !completing)).await.unwrap();
        let output = if completing {
            // Cobra's protocol: one candidate per line, then `:<directive>`; a shell shows them side by side.
            output.lines().filter(|l| !l.starts_with(':')).collect::<Vec<_>>().join("  ")
        } else {
            output
        };
        (code, self.to_readme(&output))
    }

    /// Runs `kubectl vroute ARGS` and returns its exit code and stdout alone, with the README's names.
    pub async fn run_stdout(&self, args: &[&str]) -> (i32, String) {
        let mut cmd = env().vroute();
        cmd.args(args.iter().map(|a| self.to_test(a))).current_dir(&self.dir);
        if self.offline {
            cmd.env("KUBECONFIG", "/nonexistent");
        }
        let out = tokio::task::spawn_blocking(move || cmd.output().expect("run kubectl")).await.unwrap();
        (out.status.code().unwrap_or(-1), self.to_readme(&String::from_utf8_lossy(&out.stdout)))
    }

    fn to_test(&self, word: &str) -> String {
        let mut word = word.to_string();
        if let Some((readme, test)) = &self.namespace
            && word == *readme
        {
            word = test.clone();
        }
        if let Some(prometheus) = &self.prometheus {
            word = word.replace(README_PROMETHEUS, &prometheus.url);
        }
        word
    }

    fn to_readme(&self, output: &str) -> String {
        let mut output = output.to_string();
        if let Some((readme, test)) = &self.namespace {
            output = output.replace(test.as_str(), readme);
        }
        if let Some(prometheus) = &self.prometheus {
            output = output.replace(&prometheus.url, README_PROMETHEUS);
        }
        output
    }
}

/// Runs `cmd` with stdout and stderr on one pipe, so lines keep the order they were written in (`stderr`
/// false: stdout only, as a shell's completion shows).
fn interleaved(mut cmd: std::process::Command, stderr: bool) -> (i32, String) {
    let (mut reader, writer) = std::io::pipe().expect("pipe");
    if stderr {
        cmd.stderr(writer.try_clone().expect("pipe"));
    } else {
        cmd.stderr(std::process::Stdio::null());
    }
    cmd.stdout(writer);
    let mut child = cmd.spawn().expect("run kubectl");
    drop(cmd); // closes this process's copies of the write end, so the read below ends with the child
    let mut output = String::new();
    reader.read_to_string(&mut output).expect("read the output");
    let status = child.wait().expect("wait for kubectl");
    (status.code().unwrap_or(-1), output)
}

async fn prometheus(dir: &std::path::Path, history: &str) -> Prometheus {
    Prometheus::start(&dir.join("prometheus"), Some(history), &[]).await.expect("start Prometheus")
}

/// 30 minutes of `reviews` traffic up to now (and [`AHEAD`] more), one sample every 15 s: v1 80 rps, v2 20 rps,
/// 1% of each 5xx.
fn reviews_traffic(ns: &str) -> String {
    let now = jiff::Timestamp::now().as_second() / 15 * 15;
    let start = now - 30 * 60;
    let steps = ((now + AHEAD - start) / 15) as usize;
    let mut metrics = OpenMetrics::default();
    for (version, per_second) in [("v1", 80), ("v2", 20)] {
        let edge = IstioEdge::new(ns, "productpage", "v1", "reviews", version);
        metrics.steady(&edge, start, 15, steps, per_second * 15 * 99 / 100);
        metrics.steady(&edge.clone().code(503), start, 15, steps, per_second * 15 / 100);
        // Istio's latency histogram: 5% of each version's requests slower than 250 ms.
        metrics.latency(&edge, (start, 15, steps), per_second * 15, per_second * 15 * 5 / 100, 250.0);
    }
    metrics.finish()
}

/// A Deployment per version of the chain, standing in for its pods offline.
fn chain_deployments() -> String {
    scenarios::CHAIN_PODS
        .iter()
        .map(|(app, v)| {
            format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {app}-{v}}}\nspec:\n  selector: {{matchLabels: {{app: {app}, version: {v}}}}}\n  template:\n    metadata: {{labels: {{app: {app}, version: {v}}}}}\n    spec: {{containers: [{{name: {app}, image: example/{app}:{v}}}]}}\n"
            )
        })
        .collect()
}

async fn seed_rollouts(ns: &str) {
    let env = env();
    for app in ["reviews", "ratings"] {
        env.create_yaml(ns, &scenarios::service_and_subsets(app, &["stable", "canary"])).await;
    }
    let steps = json!({"canary": {"steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 60}, {"pause": {}}]}});
    let (stable, canary) = (scenarios::STABLE_HASH, scenarios::CANARY_HASH);
    let mut reviews = scenarios::rollout("reviews", steps.clone(), false);
    reviews["metadata"]["labels"]["team"] = json!("books");
    let paused = json!({"phase": "Paused", "message": "CanaryPauseStep", "currentStepIndex": 1,
                        "currentPodHash": canary, "stableRS": stable, "controllerPause": true,
                        "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-11-22T00:00:00Z"}],
                        "replicas": 3, "updatedReplicas": 1, "readyReplicas": 3, "availableReplicas": 3});
    env.seed_rollout(ns, reviews, paused).await;
    let healthy = json!({"phase": "Healthy", "currentPodHash": stable, "stableRS": stable, "currentStepIndex": 4,
                         "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2});
    env.seed_rollout(ns, scenarios::rollout("ratings", steps, false), healthy).await;
}
