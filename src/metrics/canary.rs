//! The queries behind a canary judgement, and how their answers become per-step counts for the judge.
//!
//! One range query fetches everything the ratio test needs: `sum by (ARM_LABEL, response_code)
//! (increase(istio_requests_total{...}[STEP]))`, evaluated once per step. Grouping by the response code and
//! classifying codes here gives requests AND errors per arm and step in a single round trip, and never a ratio
//! (a ratio turns "no traffic" into NaN or an empty vector). A second, instant query counts the requests that
//! client proxies failed with 503 UH/NR; it is only asked when routing is known to send the canary traffic.
//!
//! Every value a caller chose reaches PromQL through [`Selector`] (quoted) or [`any_of`] (regex-escaped and
//! quoted); label names are this module's constants.

use super::promql::{Selector, any_of};
use crate::judge::{Counts, Step};
use prometheus_http_query::response::Data;

const METRIC: &str = "istio_requests_total";

/// Client-side failures that mean "no healthy upstream" or "no route": what a canary subset without ready pods
/// produces. Istio joins several flags with commas (`UH,URX`).
const UNROUTABLE_FLAGS: &str = "(.+,)?(UH|NR)(,.+)?";

/// Flags a client proxy sets when a request never reached any pod: no healthy upstream, no route, overflow
/// (circuit breaker), connection failure. The destination never reports these requests.
const NEVER_ARRIVED_FLAGS: &str = "(.+,)?(UH|NR|UO|UF)(,.+)?";

/// The Istio label whose values tell the two arms apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ArmLabel {
    /// The pods' `version` label (subset splits).
    #[default]
    DestinationVersion,
    /// `service.istio.io/canonical-revision`, else `app.kubernetes.io/version`, else `version`: always set.
    DestinationCanonicalRevision,
    /// The Service name: host-level splits, where canary and baseline are two Services.
    DestinationServiceName,
    /// The workload (Deployment) name: Flagger's arms, `<target>` and `<target>-primary`, each behind its own
    /// Service, so the arms select the series within the namespace, as host-level arms do.
    DestinationWorkload,
}

impl ArmLabel {
    pub const ALL: [ArmLabel; 4] = [
        ArmLabel::DestinationVersion,
        ArmLabel::DestinationCanonicalRevision,
        ArmLabel::DestinationServiceName,
        ArmLabel::DestinationWorkload,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ArmLabel::DestinationVersion => "destination_version",
            ArmLabel::DestinationCanonicalRevision => "destination_canonical_revision",
            ArmLabel::DestinationServiceName => "destination_service_name",
            ArmLabel::DestinationWorkload => "destination_workload",
        }
    }
}

/// Whose view of the requests is counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reporter {
    /// The server-side proxy: what the pods answered.
    #[default]
    Destination,
    /// The client-side proxies: also failures they made themselves (timeouts, resets), but only from callers
    /// inside the mesh.
    Source,
    /// The server side, plus the requests client proxies failed before any pod saw them (flags UH, NR, UO, UF),
    /// where Istio can name the arm. No request is counted twice.
    Both,
    /// Ambient mode: the waypoint serving the service (ztunnel reports no HTTP metrics, and callers without
    /// sidecars report none either).
    Waypoint,
}

impl Reporter {
    pub const ALL: [Reporter; 4] = [Reporter::Destination, Reporter::Source, Reporter::Both, Reporter::Waypoint];

    pub fn as_str(self) -> &'static str {
        match self {
            Reporter::Destination => "destination",
            Reporter::Source => "source",
            Reporter::Both => "both",
            Reporter::Waypoint => "waypoint",
        }
    }
}

/// What to compare: the service's traffic, split into two arms by one label. Values are validated by the
/// caller (Kubernetes names and label values) and escaped here anyway.
#[derive(Clone, Copy, Debug)]
pub struct Canary<'a> {
    pub namespace: &'a str,
    /// A Service name in `namespace`, or a host as Istio reports `destination_service` (FQDN) when it has a dot.
    pub service: &'a str,
    pub label: ArmLabel,
    pub canary: &'a str,
    pub baseline: &'a str,
    pub reporter: Reporter,
}

impl Canary<'_> {
    /// The service's series. With host-level arms (`destination_service_name`) the arms ARE the Services, so
    /// the arm matcher selects them and the service itself is not matched.
    fn service_selector(&self) -> Selector {
        let selector = Selector::default();
        if matches!(self.label, ArmLabel::DestinationServiceName | ArmLabel::DestinationWorkload) {
            selector.eq("destination_service_namespace", self.namespace)
        } else if self.service.contains('.') {
            selector.eq("destination_service", self.service)
        } else {
            selector.eq("destination_service_namespace", self.namespace).eq("destination_service_name", self.service)
        }
    }

    fn arms(&self, selector: Selector) -> Selector {
        selector.re(self.label.as_str(), &any_of(&[self.canary, self.baseline]))
    }

    /// `base` narrowed to the service's series of both arms (the latency queries' selector).
    pub(super) fn arm_selector(&self, base: Selector) -> Selector {
        self.arms(base.merge(self.service_selector()))
    }

    /// Requests of both arms per step, grouped by arm and response code (see the module comment).
    pub fn counts_query(&self, step_seconds: i64) -> String {
        let increase =
            |selector: Selector| format!("increase({}[{step_seconds}s])", self.arms(selector).render(METRIC));
        let inner = match self.reporter {
            Reporter::Destination | Reporter::Source | Reporter::Waypoint => {
                increase(Selector::default().eq("reporter", self.reporter.as_str()).merge(self.service_selector()))
            }
            // Disjoint by `reporter`, so `or` is a union and nothing is counted twice.
            Reporter::Both => format!(
                "{} or {}",
                increase(Selector::default().eq("reporter", "destination").merge(self.service_selector())),
                increase(
                    Selector::default()
                        .eq("reporter", "source")
                        .merge(self.service_selector())
                        .re("response_flags", NEVER_ARRIVED_FLAGS)
                ),
            ),
        };
        format!("sum by ({}, response_code) ({inner})", self.label.as_str())
    }

    /// The reporters and arm-label values the service has any series for in the `range_seconds` before the
    /// evaluation time: asked only when neither arm has a series, to say what there is instead.
    pub fn present_arms_query(&self, range_seconds: i64) -> String {
        let selector = self.service_selector();
        let by = self.label.as_str();
        format!("count by (reporter, {by}) (last_over_time({}[{range_seconds}s]))", selector.render(METRIC))
    }

    /// The `reporter` values the counts are read from.
    pub fn reporters(&self) -> &'static [&'static str] {
        match self.reporter {
            Reporter::Both => &["destination", "source"],
            Reporter::Destination => &["destination"],
            Reporter::Source => &["source"],
            Reporter::Waypoint => &["waypoint"],
        }
    }

    /// The services of the namespace with any series in the range: asked only when the service has none.
    pub fn neighbours_query(&self, range_seconds: i64) -> String {
        let selector = Selector::default().eq("destination_service_namespace", self.namespace);
        format!("count by (destination_service_name) (last_over_time({}[{range_seconds}s]))", selector.render(METRIC))
    }

    /// Client-side 503 UH/NR requests to the service over `range_seconds` before the evaluation time. With
    /// host-level arms only the canary Service's failures count.
    pub fn unroutable_query(&self, range_seconds: i64) -> String {
        let mut selector = Selector::default().eq("reporter", "source").merge(self.service_selector());
        match self.label {
            ArmLabel::DestinationServiceName => selector = selector.eq("destination_service_name", self.canary),
            // A request no pod received names no workload ("unknown"): none can be told to be the canary's.
            ArmLabel::DestinationWorkload => selector = selector.eq("destination_workload", self.canary),
            _ => {}
        }
        let selector = selector.eq("response_code", "503").re("response_flags", UNROUTABLE_FLAGS);
        format!("sum(increase({}[{range_seconds}s]))", selector.render(METRIC))
    }

    /// Turns the answer of [`Self::counts_query`], evaluated at `first + k * step` for `k` in `0..steps`, into
    /// one [`Step`] per evaluation. A series missing at an evaluation had no traffic there (zero). Anything
    /// else unexpected (another result type, an arm value not asked for, a timestamp off the grid) is an
    /// error: a verdict must never rest on an answer that was not understood.
    pub fn steps(&self, data: &Data, first: i64, step: i64, steps: usize) -> Result<Vec<Step>, String> {
        let Data::Matrix(series) = data else {
            return Err("expected a range-query matrix".to_string());
        };
        let mut out = vec![Step::default(); steps];
        for one in series {
            let labels = one.metric();
            let arm_value = labels.get(self.label.as_str()).map(String::as_str).unwrap_or_default();
            let code = labels.get("response_code").map(String::as_str).unwrap_or_default();
            let is_error = code.len() == 3 && code.starts_with('5');
            for sample in one.samples() {
                let index = step_index(sample.timestamp(), first, step, steps)?;
                let counts = self.arm_counts(&mut out[index], arm_value)?;
                counts.requests += sample.value();
                if is_error {
                    counts.errors += sample.value();
                }
            }
        }
        Ok(out)
    }
}

/// The step a sample evaluated at `timestamp` belongs to; a time off the evaluation grid is an error (an
/// answer that was not asked for).
pub(super) fn step_index(timestamp: f64, first: i64, step: i64, steps: usize) -> Result<usize, String> {
    let offset = (timestamp - first as f64) / step as f64;
    let index = offset.round();
    if (offset - index).abs() > 1e-6 || index < 0.0 || index >= steps as f64 {
        return Err(format!("a sample at {timestamp} is not one of the {steps} evaluation times"));
    }
    Ok(index as usize)
}

impl Canary<'_> {
    /// The counts of the arm whose label value is `arm_value`, in one step; another value is an error.
    pub(super) fn arm_counts<'s>(&self, step: &'s mut Step, arm_value: &str) -> Result<&'s mut Counts, String> {
        if arm_value == self.canary {
            Ok(&mut step.canary)
        } else if arm_value == self.baseline {
            Ok(&mut step.baseline)
        } else {
            Err(format!("a series with {}={arm_value:?}, which was not asked for", self.label.as_str()))
        }
    }
}

/// The values of `label` in an instant vector's series whose `filter` label is one of `among` (any series when
/// `filter` is `None`), sorted, empty ones left out.
pub fn label_values(data: &Data, label: &str, filter: Option<(&str, &[&str])>) -> Vec<String> {
    let Data::Vector(v) = data else { return Vec::new() };
    let kept = |m: &std::collections::HashMap<String, String>| {
        filter.is_none_or(|(key, among)| m.get(key).is_some_and(|value| among.contains(&value.as_str())))
    };
    let mut values: Vec<String> = v
        .iter()
        .filter(|s| kept(s.metric()))
        .filter_map(|s| s.metric().get(label).cloned())
        .filter(|s| !s.is_empty())
        .collect();
    values.sort();
    values.dedup();
    values
}

/// The single value of [`Canary::unroutable_query`]'s answer: an empty vector is zero (no such failures).
pub fn single_value(data: &Data) -> Result<f64, String> {
    match data {
        Data::Vector(v) if v.is_empty() => Ok(0.0),
        Data::Vector(v) if v.len() == 1 => Ok(v[0].sample().value()),
        Data::Vector(v) => Err(format!("expected one sum, got {} series", v.len())),
        _ => Err("expected an instant vector".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn one_query_counts_both_arms_by_code() {
        assert_eq!(
            canary(Reporter::Destination).counts_query(60),
            r#"sum by (destination_version, response_code) (increase(istio_requests_total{reporter="destination",destination_service_namespace="shop",destination_service_name="reviews",destination_version=~"v2|v1"}[60s]))"#
        );
    }

    #[test]
    fn both_reporters_are_a_disjoint_union() {
        let waypoint = canary(Reporter::Waypoint).counts_query(60);
        assert!(waypoint.contains(r#"{reporter="waypoint",destination_service_namespace="shop""#), "{waypoint}");
        assert!(!waypoint.contains(" or "), "one reporter: {waypoint}");
        let q = canary(Reporter::Both).counts_query(60);
        let (destination, source) = q.split_once(" or ").expect("a union");
        assert!(destination.contains(r#"reporter="destination""#) && !destination.contains("response_flags"), "{q}");
        assert!(source.contains(r#"reporter="source""#), "{q}");
        assert!(source.contains(r#"response_flags=~"(.+,)?(UH|NR|UO|UF)(,.+)?""#), "{q}");
    }

    #[test]
    fn fqdn_and_host_level_arms_select_the_right_series() {
        let fqdn = Canary { service: "reviews.shop.svc.cluster.local", ..canary(Reporter::Source) };
        let q = fqdn.counts_query(120);
        assert!(q.contains(r#"destination_service="reviews.shop.svc.cluster.local""#) && q.contains("[120s]"), "{q}");
        assert!(!q.contains("destination_service_name"), "{q}");

        let hosts = Canary {
            label: ArmLabel::DestinationServiceName,
            canary: "reviews-canary",
            baseline: "reviews-stable",
            ..canary(Reporter::Destination)
        };
        let q = hosts.counts_query(60);
        assert!(q.contains(r#"destination_service_name=~"reviews-canary|reviews-stable""#), "{q}");
        assert!(!q.contains(r#"destination_service_name="reviews""#), "{q}");
        assert!(hosts.unroutable_query(600).contains(r#"destination_service_name="reviews-canary""#));
    }

    #[test]
    fn hostile_values_cannot_change_the_query_shape() {
        // Values that reach this module are validated first; even if one were not, it stays inside its string.
        let hostile = Canary { canary: r#"v1"} or vector(1) #"#, baseline: "a.b", ..canary(Reporter::Destination) };
        let q = hostile.counts_query(60);
        assert!(q.contains(r#"destination_version=~"v1\"\\} or vector\\(1\\) #|a\\.b""#), "{q}");
        assert_eq!(q.matches(" or ").count(), 1, "only the escaped text contains 'or': {q}");
    }

    #[test]
    fn unroutable_counts_client_side_503_uh_nr() {
        assert_eq!(
            canary(Reporter::Destination).unroutable_query(900),
            r#"sum(increase(istio_requests_total{reporter="source",destination_service_namespace="shop",destination_service_name="reviews",response_code="503",response_flags=~"(.+,)?(UH|NR)(,.+)?"}[900s]))"#
        );
    }

    fn matrix(series: serde_json::Value) -> Data {
        serde_json::from_value(json!({"resultType": "matrix", "result": series})).expect("matrix")
    }

    #[test]
    fn matrix_becomes_steps_with_errors_classified_by_code() {
        let data = matrix(json!([
            {"metric": {"destination_version": "v2", "response_code": "200"}, "values": [[1060, "99"], [1180, "50"]]},
            {"metric": {"destination_version": "v2", "response_code": "503"}, "values": [[1060, "1"]]},
            {"metric": {"destination_version": "v1", "response_code": "404"}, "values": [[1120, "7.5"]]},
        ]));
        let steps = canary(Reporter::Destination).steps(&data, 1060, 60, 3).expect("valid");
        let c = |requests, errors| Counts { requests, errors };
        assert_eq!(steps[0], Step { canary: c(100.0, 1.0), baseline: c(0.0, 0.0) });
        assert_eq!(steps[1], Step { canary: c(0.0, 0.0), baseline: c(7.5, 0.0) }, "4xx is not an error");
        assert_eq!(steps[2], Step { canary: c(50.0, 0.0), baseline: c(0.0, 0.0) });
    }

    #[test]
    fn answers_that_were_not_asked_for_are_refused() {
        let q = canary(Reporter::Destination);
        let off_grid = matrix(json!([{"metric": {"destination_version": "v2"}, "values": [[1090, "1"]]}]));
        assert!(q.steps(&off_grid, 1060, 60, 3).is_err());
        let beyond = matrix(json!([{"metric": {"destination_version": "v2"}, "values": [[1240, "1"]]}]));
        assert!(q.steps(&beyond, 1060, 60, 3).is_err());
        let other_arm = matrix(json!([{"metric": {"destination_version": "v3"}, "values": [[1060, "1"]]}]));
        assert!(q.steps(&other_arm, 1060, 60, 3).unwrap_err().contains("v3"));
        let vector: Data = serde_json::from_value(json!({"resultType": "vector", "result": []})).unwrap();
        assert!(q.steps(&vector, 1060, 60, 3).is_err());
        assert_eq!(q.steps(&matrix(json!([])), 1060, 60, 2).unwrap(), vec![Step::default(); 2], "no series: zeros");
    }

    #[test]
    fn single_value_reads_a_sum_and_treats_no_series_as_zero() {
        let vector =
            |result| serde_json::from_value::<Data>(json!({"resultType": "vector", "result": result})).unwrap();
        assert_eq!(single_value(&vector(json!([]))), Ok(0.0));
        assert_eq!(single_value(&vector(json!([{"metric": {}, "value": [1, "42"]}]))), Ok(42.0));
        assert!(
            single_value(&vector(json!([{"metric": {}, "value": [1, "1"]}, {"metric": {}, "value": [1, "2"]}])))
                .is_err()
        );
    }
}
