//! The service's own metrics, in the Prometheus text format at `/metrics`. Hand-written: four series families
//! do not justify a metrics framework.
//!
//! - `vroute_analysis_requests_total{code, verdict}`: judge requests by HTTP status and verdict (`none` when
//!   there was no verdict: 400, 401, 503).
//! - `vroute_analysis_answers_total{source}`: how judgements were obtained: `ran` (asked Prometheus),
//!   `joined` (shared an identical request's round trip), `cached`.
//! - `vroute_analysis_prometheus_query_duration_seconds`: histogram of Prometheus query latency.
//! - `vroute_analysis_prometheus_query_failures_total`: queries that failed (unreachable, timeout, garbage).

use crate::analysis::coalesce::Source;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Upper bounds (seconds) of the latency buckets: from a cheap query on a quiet Prometheus to the 10 s
/// Argo waits at most.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
pub struct Telemetry {
    requests: Mutex<BTreeMap<(u16, &'static str), u64>>,
    answers: [AtomicU64; 3],
    /// Non-cumulative counts per bucket, plus one for `+Inf`.
    query_buckets: [AtomicU64; BUCKETS.len() + 1],
    query_micros: AtomicU64,
    query_failures: AtomicU64,
}

impl Telemetry {
    pub fn request(&self, code: u16, verdict: Option<&'static str>) {
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        *requests.entry((code, verdict.unwrap_or("none"))).or_default() += 1;
    }

    pub fn answer(&self, source: Source) {
        self.answers[source_index(source)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn query(&self, elapsed: Duration, ok: bool) {
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS.iter().position(|le| seconds <= *le).unwrap_or(BUCKETS.len());
        self.query_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.query_micros.fetch_add(elapsed.as_micros().try_into().unwrap_or(u64::MAX), Ordering::Relaxed);
        if !ok {
            self.query_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP vroute_analysis_requests_total Judge requests by HTTP status code and verdict.\n");
        out.push_str("# TYPE vroute_analysis_requests_total counter\n");
        for ((code, verdict), n) in self.requests.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            let _ = writeln!(out, "vroute_analysis_requests_total{{code=\"{code}\",verdict=\"{verdict}\"}} {n}");
        }
        out.push_str("# HELP vroute_analysis_answers_total Judgements by how they were obtained.\n");
        out.push_str("# TYPE vroute_analysis_answers_total counter\n");
        for source in [Source::Ran, Source::Joined, Source::Cached] {
            let n = self.answers[source_index(source)].load(Ordering::Relaxed);
            let _ = writeln!(out, "vroute_analysis_answers_total{{source=\"{}\"}} {n}", source.as_str());
        }
        let name = "vroute_analysis_prometheus_query_duration_seconds";
        let _ = writeln!(out, "# HELP {name} Latency of the queries sent to Prometheus.\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, bucket) in self.query_buckets.iter().enumerate() {
            cumulative += bucket.load(Ordering::Relaxed);
            let le = BUCKETS.get(i).map_or_else(|| "+Inf".to_string(), f64::to_string);
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let sum = self.query_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {cumulative}");
        let failures = "vroute_analysis_prometheus_query_failures_total";
        let _ = writeln!(out, "# HELP {failures} Prometheus queries that failed (unreachable, timed out, garbage).");
        let _ = writeln!(out, "# TYPE {failures} counter\n{failures} {}", self.query_failures.load(Ordering::Relaxed));
        out
    }
}

fn source_index(source: Source) -> usize {
    match source {
        Source::Ran => 0,
        Source::Joined => 1,
        Source::Cached => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let t = Telemetry::default();
        t.request(200, Some("pass"));
        t.request(200, Some("pass"));
        t.request(503, None);
        t.answer(Source::Joined);
        t.query(Duration::from_millis(3), true);
        t.query(Duration::from_millis(30), true);
        t.query(Duration::from_secs(20), false);
        let text = t.render();
        for line in [
            r#"vroute_analysis_requests_total{code="200",verdict="pass"} 2"#,
            r#"vroute_analysis_requests_total{code="503",verdict="none"} 1"#,
            r#"vroute_analysis_answers_total{source="joined"} 1"#,
            r#"vroute_analysis_prometheus_query_duration_seconds_bucket{le="0.005"} 1"#,
            r#"vroute_analysis_prometheus_query_duration_seconds_bucket{le="0.05"} 2"#,
            r#"vroute_analysis_prometheus_query_duration_seconds_bucket{le="10"} 2"#,
            r#"vroute_analysis_prometheus_query_duration_seconds_bucket{le="+Inf"} 3"#,
            "vroute_analysis_prometheus_query_duration_seconds_sum 20.033",
            "vroute_analysis_prometheus_query_duration_seconds_count 3",
            "vroute_analysis_prometheus_query_failures_total 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }
}
