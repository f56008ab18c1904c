//! The two queries behind `status --prometheus-*`: requests and 5xx per version, and who called which
//! version, over the last five minutes. Counts come as `increase()` sums, never as a ratio (a ratio turns
//! "no traffic" into NaN or an empty vector).

use super::promql::{Selector, any_of};
use super::{Prom, PromError, samples};
use crate::graph::traffic::{Edge, VersionRate};
use std::collections::HashMap;

pub const WINDOW: &str = "5m";
const WINDOW_SECONDS: f64 = 300.0;
/// Above this many hosts the regex filter costs more than it saves; ask for the whole mesh.
const MAX_FILTERED_HOSTS: usize = 100;

pub struct Observed {
    pub rates: Vec<VersionRate>,
    pub edges: Vec<Edge>,
}

/// Whose reports a view reads: as each host is served (`auto`: the waypoint's where one serves the host, else
/// the sidecars'), or one reporter for every host, for a mesh whose labels do not say how it is served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Telemetry {
    #[default]
    Auto,
    Destination,
    Waypoint,
}

impl Telemetry {
    /// Whether a version's requests are read from the waypoint's reports (`served_by_waypoint`: as detected).
    pub fn waypoint(self, served_by_waypoint: bool) -> bool {
        match self {
            Telemetry::Auto => served_by_waypoint,
            Telemetry::Destination => false,
            Telemetry::Waypoint => true,
        }
    }
}

/// The hosts a view asks about, by who reports their requests: sidecars (`reporter="destination"`), or, in
/// ambient mode, the waypoint serving them (`reporter="waypoint"`; ztunnel reports no HTTP metrics).
pub struct Hosts<'a> {
    pub sidecar: &'a [&'a str],
    pub waypoint: &'a [&'a str],
}

pub fn queries(hosts: &Hosts) -> (String, String) {
    let mut sel = Selector::default().eq("reporter", "destination");
    if !hosts.sidecar.is_empty() && hosts.sidecar.len() <= MAX_FILTERED_HOSTS {
        sel = sel.re("destination_service", &any_of(hosts.sidecar));
    }
    // The two reporters' series differ in `reporter`, so `or` is a union that counts nothing twice.
    let waypoint = (!hosts.waypoint.is_empty())
        .then(|| Selector::default().eq("reporter", "waypoint").re("destination_service", &any_of(hosts.waypoint)));
    let increase = |sel: &Selector, errors: bool| {
        let sel = if errors { sel.clone().re("response_code", "5..") } else { sel.clone() };
        format!("increase({}[{WINDOW}])", sel.render("istio_requests_total"))
    };
    let both = |errors: bool| match (&waypoint, hosts.sidecar.is_empty()) {
        (Some(w), true) => increase(w, errors),
        (Some(w), false) => format!("{} or {}", increase(&sel, errors), increase(w, errors)),
        (None, _) => increase(&sel, errors),
    };
    (
        format!("sum by (source_app, source_version, destination_service, destination_version) ({})", both(false)),
        format!("sum by (destination_service, destination_version) ({})", both(true)),
    )
}

pub async fn observe(prom: &Prom, hosts: &Hosts<'_>) -> Result<Observed, PromError> {
    let (all_q, err_q) = queries(hosts);
    let (all, errors) = tokio::try_join!(prom.instant(&all_q, None), prom.instant(&err_q, None))?;
    let mut errors_by_version: HashMap<(String, String), f64> = HashMap::new();
    for (labels, value) in samples(&errors) {
        errors_by_version.insert((label(labels, "destination_service"), label(labels, "destination_version")), value);
    }
    let edges: Vec<Edge> = samples(&all)
        .map(|(labels, value)| Edge {
            source_app: label(labels, "source_app"),
            source_version: label(labels, "source_version"),
            service: label(labels, "destination_service"),
            version: label(labels, "destination_version"),
            requests: value,
        })
        .collect();
    let mut totals: HashMap<(String, String), f64> = HashMap::new();
    for e in &edges {
        *totals.entry((e.service.clone(), e.version.clone())).or_default() += e.requests;
    }
    let rates = totals
        .into_iter()
        .map(|(key, requests)| VersionRate {
            requests_per_second: requests / WINDOW_SECONDS,
            errors_per_second: errors_by_version.get(&key).copied().unwrap_or(0.0) / WINDOW_SECONDS,
            service: key.0,
            version: key.1,
        })
        .collect();
    Ok(Observed { rates, edges })
}

fn label(labels: &HashMap<String, String>, name: &str) -> String {
    labels.get(name).cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_filter_hosts_and_count_errors_separately() {
        let (all, errors) = queries(&Hosts { sidecar: &["reviews.prod.svc.cluster.local"], waypoint: &[] });
        assert_eq!(
            all,
            r#"sum by (source_app, source_version, destination_service, destination_version) (increase(istio_requests_total{reporter="destination",destination_service=~"reviews\\.prod\\.svc\\.cluster\\.local"}[5m]))"#
        );
        assert!(errors.contains(r#"response_code=~"5..""#), "{errors}");
        assert!(!queries(&Hosts { sidecar: &[], waypoint: &[] }).0.contains("destination_service=~"));
    }

    #[test]
    fn waypoint_hosts_are_read_from_the_waypoint_reporter() {
        let hosts = Hosts { sidecar: &["a.shop.svc.cluster.local"], waypoint: &["b.mesh.svc.cluster.local"] };
        let (all, errors) = queries(&hosts);
        assert!(all.contains(r#"increase(istio_requests_total{reporter="destination",destination_service=~"a\\.shop\\.svc\\.cluster\\.local"}[5m]) or increase(istio_requests_total{reporter="waypoint",destination_service=~"b\\.mesh\\.svc\\.cluster\\.local"}[5m])"#), "{all}");
        assert_eq!(errors.matches(r#"response_code=~"5..""#).count(), 2, "{errors}");
        let only = queries(&Hosts { sidecar: &[], waypoint: &["b.mesh.svc.cluster.local"] }).0;
        assert!(!only.contains(r#"reporter="destination""#), "{only}");
    }
}
