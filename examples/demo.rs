//! `make demo`: a real local cluster where objects are real and controllers run (kube-apiserver + etcd with the
//! Istio and Argo Rollouts CRDs, kube-controller-manager, kube-scheduler, kwok's fake Nodes, the real Argo
//! Rollouts controller) and a real Prometheus. It seeds two namespaces:
//!
//! - `shop`: the chain a -> b -> c, v1 and v2 of each as Deployments, pinned by caller version, 50/50 at the entry,
//!   with ten minutes of Istio traffic metrics that keep flowing;
//! - `prod`: a canary Rollout `reviews` under the controller, judged by vroute-analysis from the traffic a
//!   simulator derives from the weights the controller writes.
//!
//! Then, through the real kubectl: `kubectl vroute status -n shop`, a good release of `reviews` that the
//! controller takes through its steps while the judge passes it, and a bad one (five times the errors) that the
//! judge fails and the controller aborts. It keeps running so you can explore until Ctrl-C, which (at any step)
//! stops every process it started and removes its scratch directory; `--once` stops at the end instead.

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::json;
use std::future::Future;
use std::time::{Duration, Instant};
use support::exporter::{Exporter, backfill, chain_traffic};
use support::parse_yaml_docs;
use support::release::{analysis_template, chain_with_deployments, judged, load, template_of, world};

const STEPS: u8 = 5;

// Several threads: the exporter's and the simulator's endpoints must answer Prometheus while kubectl runs.
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let once = std::env::args().any(|a| a == "--once");
    // Ctrl-C at any step drops the demo (its Drop impls kill the processes it started), then its scratch
    // directory goes; a user who stops a slow first run is left nothing to clean up by hand.
    tokio::select! {
        () = demo(once) => {}
        _ = tokio::signal::ctrl_c() => eprintln!("\ndemo: Ctrl-C, stopping the cluster"),
    }
    let scratch = support::scratch_dir_path();
    if let Err(e) = std::fs::remove_dir_all(&scratch)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        eprintln!("demo: could not remove {}: {e}", scratch.display());
    }
    eprintln!("demo: stopped; removed {}", scratch.display());
    // Not waiting for blocking threads still inside a kubectl the terminal's Ctrl-C has already stopped.
    std::process::exit(0);
}

async fn demo(once: bool) {
    let started = Instant::now();
    let live = step(
        1,
        "the cluster: kube-apiserver + etcd, kube-controller-manager, kube-scheduler, kwok, Argo Rollouts",
        async {
            eprintln!(
                "      (built from the Go module proxy on the first run, about 14 min on 2 cores; cached after that)"
            );
            support::live_world().await.unwrap_or_else(|e| panic!("the live world failed to start: {e}"))
        },
    )
    .await;
    let client = live.client().await;
    let create = |ns: &'static str, yaml: String| {
        let client = client.clone();
        async move {
            for doc in parse_yaml_docs(&yaml) {
                let (api, obj) = support::dynamic_api(&client, ns, doc).await;
                api.create(&Default::default(), &obj).await.expect("create a demo object");
            }
        }
    };
    step(2, "namespace shop: the chain a -> b -> c, v1 and v2 of each as Deployments", async {
        create("", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n".into()).await;
        create("shop", chain_with_deployments()).await;
        wait_for(&live.kubectl(), &["wait", "-n", "shop", "--for=condition=Available", "deployment", "--all", "--timeout=120s"]).await;
    })
    .await;

    // The chain's ten minutes of history (backfilled), then live scrapes that carry on from it; the canary's
    // traffic comes from the simulator, scraped by the same Prometheus.
    const HISTORY: i64 = 600;
    let flows = chain_traffic("shop");
    let exporter = Exporter::start(flows.clone(), Duration::from_secs(HISTORY as u64)).await.expect("exporter");
    let target = exporter.addr.to_string();
    let history = backfill(&flows, jiff::Timestamp::now().as_second(), HISTORY, 15, &target);
    let errors = [("v1", 0.01), ("v2", 0.01), ("v3", 0.05), ("v4", 0.01), ("v5", 0.01)];
    let canary =
        step(3, "namespace prod: Rollout reviews (canary, Istio subsets), vroute-analysis, Prometheus", async {
            let canary = live
                .canary_with("prod", load(&errors, 400.0), Some(&history), std::slice::from_ref(&target))
                .await
                .expect("the canary's Prometheus and judge");
            create("prod", analysis_template()).await;
            let steps = json!([{"setWeight": 20}, {"pause": {"duration": "10s"}}, {"setWeight": 50},
                           judged(canary.analysis_url()), {"setWeight": 100}]);
            create("prod", world(steps, "v1")).await;
            wait_for(&live.vroute(), &["wait", "reviews", "-n", "prod", "--timeout", "2m"]).await;
            canary
        })
        .await;
    let prometheus = canary.prometheus_url().to_string();
    step(4, "waiting for Prometheus to answer with live rates", async {
        let probe = format!("{prometheus}/api/v1/query?query=sum(rate(istio_requests_total[1m]))");
        for _ in 0..60 {
            let answer = reqwest::get(&probe).await.ok().map(|r| r.json::<serde_json::Value>());
            let has = match answer {
                Some(json) => json.await.is_ok_and(|j| j["data"]["result"].as_array().is_some_and(|a| !a.is_empty())),
                None => false,
            };
            if has {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
    .await;
    eprintln!("demo: ready in {:.1} s\n", started.elapsed().as_secs_f64());
    run(&live.vroute(), &["status", "-n", "shop", "--prometheus-url", &prometheus]).await;

    step(5, "a live canary: release reviews v2 (as good as v1), then v3 (five times the errors)", async {
        for (version, outcome) in
            [("v2", "the judge passes it"), ("v3", "the judge fails it and the controller aborts")]
        {
            println!("\n# release {version}: {outcome}");
            let template = json!({"spec": {"template": template_of("reviews", version)}}).to_string();
            let watch = Watch::start(&live.vroute(), &["status", "reviews", "-n", "prod", "--watch"]);
            run(&live.kubectl(), &["patch", "rollout", "reviews", "-n", "prod", "--type", "merge", "-p", &template])
                .await;
            let waited = quietly(&live.vroute(), &["wait", "reviews", "-n", "prod", "--timeout", "3m"]).await;
            watch.stop().await;
            println!("\n$ kubectl vroute wait reviews -n prod --timeout 3m\n{waited}");
            run(&live.vroute(), &["status", "reviews", "-n", "prod", "--prometheus-url", &prometheus]).await;
        }
    })
    .await;
    if once {
        return;
    }
    println!(
        "\nThe demo cluster keeps running until you press Ctrl-C. In another shell:\n\
         \n  export KUBECONFIG={kubeconfig}\n  export PATH={plugin}:{krew}:{kubectl}:$PATH\n\
         \n  kubectl vroute status -n shop --prometheus-url {prometheus}\n  kubectl vroute check -n shop\n  \
         kubectl get deployments,pods -n shop\n  \
         kubectl vroute status reviews -n prod --watch --prometheus-url {prometheus}     # in one shell, then in another:\n  \
         kubectl patch rollout reviews -n prod --type merge -p '{{\"spec\":{{\"template\":{{\"metadata\":{{\"labels\":{{\"version\":\"v4\"}}}}}}}}}}'\n  \
         kubectl vroute wait reviews -n prod     # the steps, the judge's pass, Healthy\n\n\
         Press Ctrl-C to stop the cluster and remove its files.",
        kubeconfig = live.kubeconfig.display(),
        plugin = support::plugin_bin().display(),
        krew = concat!(env!("CARGO_MANIFEST_DIR"), "/krew"),
        kubectl = live.kubectl.parent().map(|p| p.display().to_string()).unwrap_or_default(),
    );
    std::future::pending::<()>().await;
}

/// Runs a command the way a user would, printed first, its output on the terminal (on a blocking thread: the
/// runtime keeps serving the metrics endpoints meanwhile).
async fn run(cmd: &std::process::Command, args: &[&str]) {
    let mut cmd = rebuild(cmd);
    let before: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    let shown = before.iter().map(String::as_str).chain(args.iter().copied()).collect::<Vec<_>>().join(" ");
    println!("\n$ kubectl {shown}");
    cmd.args(args);
    let _ = tokio::task::spawn_blocking(move || cmd.status()).await.expect("run kubectl");
}

/// Runs a command and returns what it printed (stdout, then stderr), whatever its exit.
async fn quietly(cmd: &std::process::Command, args: &[&str]) -> String {
    let mut cmd = rebuild(cmd);
    cmd.args(args);
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().expect("run kubectl");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)).trim_end().to_string()
}

/// `kubectl vroute status --watch` in the background, piped: each table it draws is printed, as it comes,
/// unless it is the same as the last one (a change elsewhere in scope redraws an unchanged view).
struct Watch {
    child: tokio::process::Child,
    printer: tokio::task::JoinHandle<()>,
}

impl Watch {
    fn start(cmd: &std::process::Command, args: &[&str]) -> Watch {
        let mut cmd = tokio::process::Command::from(rebuild(cmd));
        cmd.args(args).stdout(std::process::Stdio::piped()).kill_on_drop(true);
        println!("\n$ kubectl vroute {}    # in the background while the controller works", args.join(" "));
        let mut child = cmd.spawn().expect("run kubectl vroute status --watch");
        let stdout = child.stdout.take().expect("piped stdout");
        let printer = tokio::spawn(async move {
            use tokio::io::AsyncBufReadExt;
            let mut lines = tokio::io::BufReader::new(stdout).lines();
            let (mut frame, mut last, mut header) = (String::new(), String::new(), String::new());
            let show = |header: &str, frame: &str, last: &mut String| {
                if !frame.trim().is_empty() && frame != last.as_str() {
                    println!("{header}\n{}", frame.trim_end());
                    *last = frame.to_string();
                }
            };
            while let Ok(Some(line)) = lines.next_line().await {
                if line.starts_with("kubectl vroute status --watch") {
                    show(&header, &frame, &mut last);
                    (header, frame) = (format!("\n{line}"), String::new());
                } else {
                    frame.push_str(&line);
                    frame.push('\n');
                }
            }
            show(&header, &frame, &mut last);
        });
        Watch { child, printer }
    }

    /// Stops the watch once the frame it is drawing is out.
    async fn stop(mut self) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let _ = self.child.kill().await;
        let _ = self.printer.await;
    }
}

/// Runs a command quietly and insists that it succeeds.
async fn wait_for(cmd: &std::process::Command, args: &[&str]) {
    let mut cmd = rebuild(cmd);
    cmd.args(args);
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().expect("run kubectl");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A fresh copy of a prepared command (program, arguments, environment).
fn rebuild(cmd: &std::process::Command) -> std::process::Command {
    let mut copy = std::process::Command::new(cmd.get_program());
    copy.args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => copy.env(k, v),
            None => copy.env_remove(k),
        };
    }
    copy
}

/// Runs one start-up step between a numbered "what" line and the time it took, so a slow first run shows
/// where it is.
async fn step<T>(n: u8, what: &str, work: impl Future<Output = T>) -> T {
    eprintln!("demo: [{n}/{STEPS}] {what}");
    let started = Instant::now();
    let value = work.await;
    eprintln!("      done in {:.1} s", started.elapsed().as_secs_f64());
    value
}
