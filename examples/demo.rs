//! `make demo`: a real local control plane (kube-apiserver + etcd with the Istio and Argo Rollouts CRDs)
//! and a real Prometheus, seeded with the a -> b -> c chain (v1 and v2 of each, pinned by caller version,
//! 50/50 at the entry) and live Istio traffic metrics; then `kubectl vroute status` through the real kubectl.
//!
//! It keeps running so you can explore; `--once` prints the status and stops (used by the tests).

#[path = "../tests/support/mod.rs"]
mod support;

use std::future::Future;
use std::time::{Duration, Instant};
use support::exporter::{Exporter, backfill, chain_traffic};
use support::{Prometheus, env};

const NAMESPACE: &str = "shop";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let once = std::env::args().any(|a| a == "--once");
    let ns = NAMESPACE;
    let started = Instant::now();
    let env = step(1, "local control plane: kube-apiserver + etcd with the Istio and Argo Rollouts CRDs", async {
        eprintln!("      (built from the Go module proxy on the first run, about 5 min on 2 cores; cached after that)");
        env()
    })
    .await;
    step(2, &format!("namespace {ns}: the chain a -> b -> c, v1 and v2 of each, 6 pods"), async {
        env.create_yaml("", &format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n")).await;
        env.seed_chain(ns, false).await;
    })
    .await;

    // Ten minutes of history (backfilled), then live scrapes of counters that carry on from it: rates over
    // the last five minutes are meaningful from the first second.
    const HISTORY: i64 = 600;
    let flows = chain_traffic(ns);
    let (_exporter, prom) = step(3, "Prometheus with 10 minutes of Istio request metrics, then live scrapes", async {
        let exporter = Exporter::start(flows.clone(), Duration::from_secs(HISTORY as u64))
            .await
            .expect("start the metrics exporter");
        let target = exporter.addr.to_string();
        let history = backfill(&flows, jiff::Timestamp::now().as_second(), HISTORY, 15, &target);
        let prom = Prometheus::start(&env.work.join("demo-prometheus"), Some(&history), &[target])
            .await
            .expect("start Prometheus");
        (exporter, prom)
    })
    .await;
    step(4, "waiting for Prometheus to answer with live rates", async {
        // Two scrapes make a rate; wait until Prometheus has them (bounded: 30 s).
        let probe = format!("sum(rate(istio_requests_total{{destination_service_namespace=\"{ns}\"}}[5m]))");
        for _ in 0..60 {
            if prom
                .query(&probe, jiff::Timestamp::now().as_second())
                .await
                .is_ok_and(|r| r.as_array().is_some_and(|a| !a.is_empty()))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    })
    .await;
    eprintln!(
        "demo: ready in {:.1} s; running kubectl vroute status through kubectl\n",
        started.elapsed().as_secs_f64()
    );

    let plugin_dir = support::plugin_dir();
    let status = env
        .vroute()
        .args(["status", "-n", ns, "--prometheus-url", &prom.url])
        .status()
        .expect("run kubectl vroute status");
    if once {
        std::process::exit(status.code().unwrap_or(1));
    }
    println!(
        "\nThe demo cluster keeps running until you press Ctrl-C. In another shell:\n\
         \n  export KUBECONFIG={kubeconfig}\n  export PATH={plugin}:$PATH\n  \
         kubectl vroute status -n {ns} --prometheus-url {url}\n  kubectl vroute check -n {ns}\n  \
         kubectl get virtualservices,destinationrules,pods -n {ns}\n\
         \n(kubectl 1.35, built for the demo, is {kubectl_path})",
        kubeconfig = env.kubeconfig.display(),
        plugin = plugin_dir.display(),
        url = prom.url,
        kubectl_path = env.kubectl.display(),
    );
    let _ = tokio::signal::ctrl_c().await;
}

/// Runs one start-up step between a numbered "what" line and the time it took, so a slow first run shows
/// where it is.
async fn step<T>(n: u8, what: &str, work: impl Future<Output = T>) -> T {
    eprintln!("demo: [{n}/4] {what}");
    let started = Instant::now();
    let value = work.await;
    eprintln!("      done in {:.1} s", started.elapsed().as_secs_f64());
    value
}
