//! A loopback `/metrics` endpoint with Istio request counters that grow at fixed rates, for Prometheus to
//! scrape while time moves (the demo, and end-to-end flows). Counters are computed from the elapsed time,
//! so there is no background task to stop.

use super::prometheus::IstioEdge;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// One counter: an edge and how many requests per second it receives.
#[derive(Clone, Debug)]
pub struct Flow {
    pub edge: IstioEdge,
    pub per_second: f64,
}

pub struct Exporter {
    pub addr: SocketAddr,
}

impl Exporter {
    /// Serves `flows` on 127.0.0.1 (random port) on the current runtime, as if they had been flowing for
    /// `history` already (so a backfill of that history continues seamlessly).
    pub async fn start(flows: Vec<Flow>, history: std::time::Duration) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let started = Instant::now() - history;
        let flows = Arc::new(flows);
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let flows = flows.clone();
                async move { render(&flows, started.elapsed().as_secs_f64()) }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr })
    }
}

/// How far past now the history of a Prometheus that only has backfilled samples (no scrape) runs, so that a
/// query made up to this long after seeding sees whole windows. Prometheus extrapolates a rate at most half a
/// step past a window's last sample: a 5-minute window that runs 20 s past the end of the data reads 19.4 rps
/// for 20 (what a loaded CI machine printed). Samples past now stay invisible to a query at now. Not for a
/// Prometheus that also scrapes: it refuses samples older than the newest backfilled one.
pub const AHEAD: i64 = 15 * 60;

/// [`backfill`] for a Prometheus that scrapes nothing: `history` seconds of `flows` up to now, 15 s apart,
/// and [`AHEAD`] more.
pub fn backfill_until_now(flows: &[Flow], history: i64) -> String {
    let now = jiff::Timestamp::now().as_second() / 15 * 15;
    backfill(flows, now + AHEAD, history + AHEAD, 15, "backfill")
}

/// OpenMetrics text with the counters' past: one sample every `step` seconds over the `history` before
/// `now`, labelled like the scrape of `target` (job `mesh`), so backfill and scrape form one series.
pub fn backfill(flows: &[Flow], now: i64, history: i64, step: i64, target: &str) -> String {
    let mut out = String::from("# TYPE istio_requests counter\n");
    for f in flows {
        let labels = format!("{},instance=\"{target}\",job=\"mesh\"", f.edge.label_text());
        for t in (0..=history).step_by(step as usize) {
            let _ = writeln!(
                out,
                "istio_requests_total{{{labels}}} {} {}",
                (f.per_second * t as f64).floor(),
                now - history + t
            );
        }
    }
    out.push_str("# EOF\n");
    out
}

/// Steady traffic through the chain of [`super::scenarios::chain`]: 20 rps per version at the entry, each version calling the same
/// version downstream, and 1% of 503s from c v2.
pub fn chain_traffic(ns: &str) -> Vec<Flow> {
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

fn render(flows: &[Flow], elapsed: f64) -> String {
    let mut out = String::from("# TYPE istio_requests_total counter\n");
    for f in flows {
        let _ = writeln!(out, "istio_requests_total{{{}}} {}", f.edge.label_text(), (f.per_second * elapsed).floor());
    }
    out
}
