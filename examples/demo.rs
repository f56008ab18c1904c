//! `make demo`: a real local control plane (kube-apiserver + etcd with the Istio and Argo Rollouts CRDs)
//! and a real Prometheus, seeded with the a -> b -> c chain (v1 and v2 of each, pinned by caller version,
//! 50/50 at the entry) and live Istio traffic metrics; then `kubectl vroute status` through the real kubectl.
//!
//! It keeps running so you can explore; `--once` prints the status and stops (used by the tests).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;
use support::exporter::{Exporter, Flow, backfill};
use support::{IstioEdge, Prometheus, env};

const NAMESPACE: &str = "shop";

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let once = std::env::args().any(|a| a == "--once");
    eprintln!("demo: starting a local control plane and Prometheus (first run builds them: ~5 min)...");
    let env = env();
    let ns = NAMESPACE;
    env.create_yaml("", &format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n")).await;
    env.seed_chain(ns, false).await;

    // Ten minutes of history (backfilled), then live scrapes of counters that carry on from it: rates over
    // the last five minutes are meaningful from the first second.
    const HISTORY: i64 = 600;
    let flows = traffic(ns);
    let exporter =
        Exporter::start(flows.clone(), Duration::from_secs(HISTORY as u64)).await.expect("start the metrics exporter");
    let target = exporter.addr.to_string();
    let history = backfill(&flows, jiff::Timestamp::now().as_second(), HISTORY, 15, &target);
    let prom = Prometheus::start(&env.work.join("demo-prometheus"), Some(&history), &[target])
        .await
        .expect("start Prometheus");
    // Two scrapes make a rate; wait until Prometheus has them.
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

/// Steady traffic through the chain: 20 rps per version at the entry, each version calling the same
/// version downstream, and 1% of 503s from c v2.
fn traffic(ns: &str) -> Vec<Flow> {
    let mut flows = Vec::new();
    for v in ["v1", "v2"] {
        let hops = [("istio-ingressgateway", "unknown", "a"), ("a", v, "b"), ("b", v, "c")];
        for (src, src_v, dst) in hops {
            flows.push(Flow { edge: IstioEdge::new(ns, src, src_v, dst, v), per_second: 20.0 });
        }
    }
    flows.push(Flow { edge: IstioEdge::new(ns, "b", "v2", "c", "v2").code(503), per_second: 0.2 });
    flows
}
