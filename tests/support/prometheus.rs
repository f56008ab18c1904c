//! A real Prometheus (Debian's package) on a random loopback port with a throw-away TSDB.
//!
//! Two ways to give it data, both with the real Istio metric names and labels:
//! - backfill: OpenMetrics text turned into TSDB blocks by `promtool` before start-up (deterministic; query
//!   with an explicit evaluation time);
//! - scrape: targets on loopback that the caller serves, scraped every second (time moves, as in a mesh).

use super::process::{Supervised, free_port, run, wait_until};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct Prometheus {
    pub url: String,
    pub dir: PathBuf,
    _process: Supervised,
}

impl Prometheus {
    /// Starts Prometheus in `dir` (created). `backfill` is OpenMetrics text (see [`OpenMetrics`]);
    /// `scrape` lists loopback `host:port` targets scraped every second at `/metrics`.
    pub async fn start(dir: &Path, backfill: Option<&str>, scrape: &[String]) -> Result<Self, String> {
        let data = dir.join("data");
        std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
        if let Some(text) = backfill {
            let input = dir.join("backfill.om");
            std::fs::write(&input, text).map_err(|e| e.to_string())?;
            run(Command::new("promtool").args(["tsdb", "create-blocks-from", "openmetrics"]).arg(&input).arg(&data))?;
        }
        let config = dir.join("prometheus.yml");
        let mut cfg = String::from("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n");
        if !scrape.is_empty() {
            let targets: Vec<String> = scrape.iter().map(|t| format!("'{t}'")).collect();
            write!(cfg, "- job_name: mesh\n  static_configs:\n  - targets: [{}]\n", targets.join(", ")).unwrap();
        }
        std::fs::write(&config, cfg).map_err(|e| e.to_string())?;

        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let mut cmd = Command::new("prometheus");
        cmd.arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // Backfilled samples can be weeks old; keep them.
            .arg("--storage.tsdb.retention.time=3650d")
            .arg("--log.level=warn");
        let mut process = Supervised::spawn("prometheus", cmd, &dir.join("prometheus.log"))?;
        let ready = format!("{url}/-/ready");
        wait_until("prometheus", Duration::from_secs(60), &mut process, || async {
            matches!(reqwest::get(&ready).await, Ok(r) if r.status().is_success())
        })
        .await?;
        Ok(Self { url, dir: dir.to_path_buf(), _process: process })
    }

    /// Runs an instant query at `time` (unix seconds) and returns the raw JSON answer's `data.result`.
    pub async fn query(&self, promql: &str, time: i64) -> Result<serde_json::Value, String> {
        let resp = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", promql), ("time", &time.to_string())])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: serde_json::Value = resp.json().await.map_err(|e| e.to_string())?;
        if body["status"] != "success" {
            return Err(format!("query {promql:?} failed: {body}"));
        }
        Ok(body["data"]["result"].clone())
    }
}

/// The label set Istio's telemetry puts on `istio_requests_total`, for one (source version -> destination
/// version) edge of a service. Defaults mirror a sidecar-reported request inside one namespace.
#[derive(Clone, Debug)]
pub struct IstioEdge {
    pub reporter: &'static str,
    pub namespace: String,
    pub source_app: String,
    pub source_version: String,
    pub destination_service: String,
    pub destination_version: String,
    pub response_code: u16,
    pub response_flags: &'static str,
    /// The workload, when not `<service>-<version>` (Flagger's `podinfo` and `podinfo-primary`).
    pub destination_workload: Option<String>,
}

impl IstioEdge {
    pub fn workload(mut self, name: &str) -> Self {
        self.destination_workload = Some(name.into());
        self
    }

    pub fn new(namespace: &str, source_app: &str, source_version: &str, service: &str, version: &str) -> Self {
        Self {
            reporter: "destination",
            namespace: namespace.into(),
            source_app: source_app.into(),
            source_version: source_version.into(),
            destination_service: service.into(),
            destination_version: version.into(),
            response_code: 200,
            response_flags: "-",
            destination_workload: None,
        }
    }

    pub fn code(mut self, code: u16) -> Self {
        self.response_code = code;
        self
    }

    /// All labels, in Prometheus exposition order (sorted by name).
    pub fn labels(&self) -> BTreeMap<&'static str, String> {
        let ns = &self.namespace;
        let svc = &self.destination_service;
        let (src_app, src_ver, dst_ver) = (&self.source_app, &self.source_version, &self.destination_version);
        BTreeMap::from([
            (
                "connection_security_policy",
                if self.reporter == "destination" { "mutual_tls" } else { "unknown" }.into(),
            ),
            ("destination_app", svc.clone()),
            ("destination_canonical_revision", dst_ver.clone()),
            ("destination_canonical_service", svc.clone()),
            ("destination_cluster", "Kubernetes".into()),
            ("destination_principal", format!("spiffe://cluster.local/ns/{ns}/sa/{svc}")),
            ("destination_service", format!("{svc}.{ns}.svc.cluster.local")),
            ("destination_service_name", svc.clone()),
            ("destination_service_namespace", ns.clone()),
            ("destination_version", dst_ver.clone()),
            ("destination_workload", self.destination_workload.clone().unwrap_or_else(|| format!("{svc}-{dst_ver}"))),
            ("destination_workload_namespace", ns.clone()),
            ("grpc_response_status", String::new()),
            ("reporter", self.reporter.into()),
            ("request_protocol", "http".into()),
            ("response_code", self.response_code.to_string()),
            ("response_flags", self.response_flags.into()),
            ("source_app", src_app.clone()),
            ("source_canonical_revision", src_ver.clone()),
            ("source_canonical_service", src_app.clone()),
            ("source_cluster", "Kubernetes".into()),
            ("source_principal", format!("spiffe://cluster.local/ns/{ns}/sa/{src_app}")),
            ("source_version", src_ver.clone()),
            ("source_workload", format!("{src_app}-{src_ver}")),
            ("source_workload_namespace", ns.clone()),
        ])
    }

    pub fn label_text(&self) -> String {
        let parts: Vec<String> = self.labels().iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        parts.join(",")
    }
}

/// Builds OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`.
#[derive(Default)]
pub struct OpenMetrics {
    samples: String,
}

impl OpenMetrics {
    /// Adds one `istio_requests_total` series: cumulative `values[i]` at `start + i * step` (unix seconds).
    pub fn requests(&mut self, edge: &IstioEdge, start: i64, step: i64, values: &[u64]) -> &mut Self {
        let labels = edge.label_text();
        for (i, v) in values.iter().enumerate() {
            writeln!(self.samples, "istio_requests_total{{{labels}}} {v} {}", start + i as i64 * step).unwrap();
        }
        self
    }

    /// Adds a series whose counter grows by `per_step` every step, `steps + 1` samples from `start`.
    pub fn steady(&mut self, edge: &IstioEdge, start: i64, step: i64, steps: usize, per_step: u64) -> &mut Self {
        let values: Vec<u64> = (0..=steps as u64).map(|i| i * per_step).collect();
        self.requests(edge, start, step, &values)
    }

    /// Adds the `istio_request_duration_milliseconds_bucket` series of an edge: `per_step` requests every step,
    /// `slow` of them slower than `threshold` ms (and all faster than the next bound up), over Istio's bounds
    /// 100, 250, 500 and 1000 ms.
    pub fn latency(
        &mut self,
        edge: &IstioEdge,
        (start, step, steps): (i64, i64, usize),
        per_step: u64,
        slow: u64,
        threshold: f64,
    ) -> &mut Self {
        let labels = edge.label_text();
        for (le, bound) in [("100", 100.0), ("250", 250.0), ("500", 500.0), ("1000", 1000.0), ("+Inf", f64::INFINITY)] {
            let each = if bound <= threshold { per_step - slow } else { per_step };
            for i in 0..=steps as u64 {
                let t = start + i as i64 * step;
                writeln!(
                    self.samples,
                    "istio_request_duration_milliseconds_bucket{{{labels},le=\"{le}\"}} {} {t}",
                    i * each
                )
                .unwrap();
            }
        }
        self
    }

    pub fn finish(&self) -> String {
        // OpenMetrics wants every family's samples together, sorted by time within a series; promtool also
        // requires the `# EOF` trailer. The buckets are written as a gauge family of their own: promtool
        // takes their cumulative values as they are, which is all PromQL's increase() needs.
        let mut lines: Vec<&str> = self.samples.lines().collect();
        lines.sort_by_key(|l| {
            let (series, rest) = l.rsplit_once(' ').map(|(a, t)| (a.rsplit_once(' ').unwrap().0, t)).unwrap();
            (series.to_string(), rest.parse::<i64>().unwrap())
        });
        let mut out = String::new();
        let mut family = "";
        for line in lines {
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            if name != family {
                family = name;
                match name.strip_suffix("_total") {
                    Some(counter) => writeln!(out, "# TYPE {counter} counter").unwrap(),
                    None => writeln!(out, "# TYPE {name} gauge").unwrap(),
                }
            }
            out.push_str(line);
            out.push('\n');
        }
        out + "# EOF\n"
    }
}
