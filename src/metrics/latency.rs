//! The latency signal's queries, from Istio's `istio_request_duration_milliseconds` histogram: per arm and
//! step, all requests (the `+Inf` bucket) and those at or under the threshold (its `le` bucket), so the slow
//! ones are a count exactly like the errors ([`Canary::latency_steps`]); which bucket bounds the histogram
//! has ([`Canary::buckets_query`]), to validate the threshold against them; and each arm's p50/p95/p99 over
//! the window, for people to read.
//!
//! With `reporter=both` the latency comes from the destination alone: a request a client proxy failed before
//! any pod saw it has no service latency to compare.

use super::canary::{Canary, Reporter, step_index};
use super::promql::Selector;
use crate::judge::{Counts, Step};
use prometheus_http_query::response::Data;
use serde::Serialize;

const BUCKET: &str = "istio_request_duration_milliseconds_bucket";

/// The quantiles shown beside the latency verdict.
pub const QUANTILES: [(&str, f64); 3] = [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)];

/// One arm's latency quantiles in milliseconds (`None`: no requests in the window).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Quantiles {
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

impl Canary<'_> {
    fn latency_selector(&self) -> Selector {
        let reporter = match self.reporter {
            Reporter::Both => Reporter::Destination,
            r => r,
        };
        self.arm_selector(Selector::default().eq("reporter", reporter.as_str()))
    }

    /// Per arm and step: the `+Inf` bucket (all requests) and the `le` bucket (at or under the threshold),
    /// `le` as the histogram spells it.
    pub fn latency_query(&self, step_seconds: i64, le: &str) -> String {
        let selector = self.latency_selector().re("le", &super::promql::any_of(&[le, "+Inf"]));
        format!("sum by ({}, le) (increase({}[{step_seconds}s]))", self.label.as_str(), selector.render(BUCKET))
    }

    /// The histogram's bucket bounds for the service over the `range_seconds` before the evaluation time.
    pub fn buckets_query(&self, range_seconds: i64) -> String {
        let selector = self.latency_selector();
        format!("count by (le) (last_over_time({}[{range_seconds}s]))", selector.render(BUCKET))
    }

    /// Each arm's p50, p95 and p99 over the `range_seconds` before the evaluation time, in one query (a
    /// `quantile` label tells them apart).
    pub fn quantiles_query(&self, range_seconds: i64) -> String {
        let buckets = format!(
            "sum by ({}, le) (increase({}[{range_seconds}s]))",
            self.label.as_str(),
            self.latency_selector().render(BUCKET)
        );
        let parts: Vec<String> = QUANTILES
            .iter()
            .map(|(name, q)| {
                format!("label_replace(histogram_quantile({q}, {buckets}), \"quantile\", \"{name}\", \"\", \"\")")
            })
            .collect();
        parts.join(" or ")
    }

    /// Turns [`Self::latency_query`]'s answer into steps whose `errors` are the slow requests (all minus those
    /// at or under `le`). Refuses what it did not ask for, as [`Canary::steps`] does.
    pub fn latency_steps(
        &self,
        data: &Data,
        le: &str,
        first: i64,
        step: i64,
        steps: usize,
    ) -> Result<Vec<Step>, String> {
        let Data::Matrix(series) = data else {
            return Err("expected a range-query matrix".to_string());
        };
        let mut all = vec![Step::default(); steps];
        let mut fast = vec![Step::default(); steps];
        for one in series {
            let labels = one.metric();
            let arm_value = labels.get(self.label.as_str()).map(String::as_str).unwrap_or_default();
            let bucket = labels.get("le").map(String::as_str).unwrap_or_default();
            let target = match bucket {
                "+Inf" => &mut all,
                b if b == le => &mut fast,
                other => return Err(format!("a series with le={other:?}, which was not asked for")),
            };
            for sample in one.samples() {
                let index = step_index(sample.timestamp(), first, step, steps)?;
                let counts = self.arm_counts(&mut target[index], arm_value)?;
                counts.requests += sample.value();
            }
        }
        let slow = |all: Counts, fast: Counts| Counts {
            requests: all.requests,
            // Counter resets and scrape jitter can make a bucket's increase exceed the total's by a hair.
            errors: (all.requests - fast.requests).max(0.0),
        };
        Ok(all
            .iter()
            .zip(&fast)
            .map(|(a, f)| Step { canary: slow(a.canary, f.canary), baseline: slow(a.baseline, f.baseline) })
            .collect())
    }

    /// Each arm's quantiles from [`Self::quantiles_query`]'s answer (NaN, as `histogram_quantile` answers for
    /// no requests, is `None`).
    pub fn quantiles(&self, data: &Data) -> Result<(Quantiles, Quantiles), String> {
        let Data::Vector(v) = data else { return Err("expected an instant vector".to_string()) };
        let (mut canary, mut baseline) = (Quantiles::default(), Quantiles::default());
        for s in v {
            let labels = s.metric();
            let arm = match labels.get(self.label.as_str()).map(String::as_str) {
                Some(a) if a == self.canary => &mut canary,
                Some(a) if a == self.baseline => &mut baseline,
                other => {
                    return Err(format!("a quantile for {}={other:?}, which was not asked for", self.label.as_str()));
                }
            };
            let value = Some(s.sample().value()).filter(|x| x.is_finite());
            match labels.get("quantile").map(String::as_str) {
                Some("p50") => arm.p50 = value,
                Some("p95") => arm.p95 = value,
                Some("p99") => arm.p99 = value,
                other => return Err(format!("a quantile labelled {other:?}, which was not asked for")),
            }
        }
        Ok((canary, baseline))
    }
}

/// The `le` label value of the histogram equal to `threshold_ms`, or the nearest bounds below and above it
/// (for the message) when none is.
pub fn bucket_for(data: &Data, threshold_ms: f64) -> Result<String, (Option<String>, Option<String>, usize)> {
    let les = super::canary::label_values(data, "le", None);
    let mut bounds: Vec<(f64, String)> =
        les.into_iter().filter_map(|le| le.parse::<f64>().ok().filter(|x| x.is_finite()).map(|x| (x, le))).collect();
    bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((_, le)) = bounds.iter().find(|(x, _)| (*x - threshold_ms).abs() <= 1e-9 * threshold_ms.max(1.0)) {
        return Ok(le.clone());
    }
    let below = bounds.iter().rev().find(|(x, _)| *x < threshold_ms).map(|(_, le)| le.clone());
    let above = bounds.iter().find(|(x, _)| *x > threshold_ms).map(|(_, le)| le.clone());
    Err((below, above, bounds.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::canary::ArmLabel;
    use serde_json::json;

    fn canary(reporter: Reporter) -> Canary<'static> {
        Canary {
            namespace: "shop",
            service: "reviews",
            label: ArmLabel::DestinationVersion,
            canary: "v2",
            baseline: "v1",
            reporter,
        }
    }

    #[test]
    fn one_query_counts_all_and_fast_requests_per_arm() {
        assert_eq!(
            canary(Reporter::Both).latency_query(60, "250"),
            r#"sum by (destination_version, le) (increase(istio_request_duration_milliseconds_bucket{reporter="destination",destination_service_namespace="shop",destination_service_name="reviews",destination_version=~"v2|v1",le=~"250|\\+Inf"}[60s]))"#
        );
        let q = canary(Reporter::Waypoint).quantiles_query(600);
        assert_eq!(q.matches("histogram_quantile(").count(), 3, "{q}");
        assert!(q.contains(r#""quantile", "p99""#) && q.contains(r#"reporter="waypoint""#), "{q}");
    }

    fn data(kind: &str, result: serde_json::Value) -> Data {
        serde_json::from_value(json!({"resultType": kind, "result": result})).unwrap()
    }

    #[test]
    fn slow_requests_are_all_minus_those_under_the_bound() {
        let m = data(
            "matrix",
            json!([
                {"metric": {"destination_version": "v2", "le": "+Inf"}, "values": [[1060, "100"], [1120, "50"]]},
                {"metric": {"destination_version": "v2", "le": "250"}, "values": [[1060, "90"], [1120, "50.5"]]},
                {"metric": {"destination_version": "v1", "le": "+Inf"}, "values": [[1060, "400"]]},
                {"metric": {"destination_version": "v1", "le": "250"}, "values": [[1060, "396"]]},
            ]),
        );
        let steps = canary(Reporter::Destination).latency_steps(&m, "250", 1060, 60, 2).unwrap();
        assert_eq!(steps[0].canary, Counts { requests: 100.0, errors: 10.0 });
        assert_eq!(steps[0].baseline, Counts { requests: 400.0, errors: 4.0 });
        assert_eq!(steps[1].canary, Counts { requests: 50.0, errors: 0.0 }, "never negative");
        let other =
            data("matrix", json!([{"metric": {"destination_version": "v2", "le": "500"}, "values": [[1060, "1"]]}]));
        assert!(
            canary(Reporter::Destination).latency_steps(&other, "250", 1060, 60, 2).unwrap_err().contains("le=\"500\"")
        );
    }

    #[test]
    fn the_threshold_must_be_a_bucket_bound_and_the_nearest_are_named() {
        let v = data(
            "vector",
            json!([
            {"metric": {"le": "100"}, "value": [1, "3"]}, {"metric": {"le": "250"}, "value": [1, "3"]},
            {"metric": {"le": "500"}, "value": [1, "3"]}, {"metric": {"le": "+Inf"}, "value": [1, "3"]}]),
        );
        assert_eq!(bucket_for(&v, 250.0), Ok("250".to_string()));
        assert_eq!(bucket_for(&v, 300.0), Err((Some("250".into()), Some("500".into()), 3)));
        assert_eq!(bucket_for(&data("vector", json!([])), 300.0), Err((None, None, 0)));
    }

    #[test]
    fn quantiles_read_per_arm_and_nan_is_none() {
        let v = data(
            "vector",
            json!([
            {"metric": {"destination_version": "v2", "quantile": "p50"}, "value": [1, "120"]},
            {"metric": {"destination_version": "v2", "quantile": "p99"}, "value": [1, "NaN"]},
            {"metric": {"destination_version": "v1", "quantile": "p95"}, "value": [1, "480.5"]}]),
        );
        let (c, b) = canary(Reporter::Destination).quantiles(&v).unwrap();
        assert_eq!(c, Quantiles { p50: Some(120.0), p95: None, p99: None });
        assert_eq!(b.p95, Some(480.5));
    }
}
