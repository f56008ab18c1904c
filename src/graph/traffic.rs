//! Live traffic joined into the model: requests per second and error rate per version, and observed calls
//! that crossed versions on hosts whose routes pin them.

use super::findings::Code;
use super::{RouteGraph, Traffic};
use crate::istio::host;

/// Rates over the window for one `(destination_service, destination_version)`.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionRate {
    pub service: String,
    pub version: String,
    pub requests_per_second: f64,
    pub errors_per_second: f64,
}

/// Requests observed over the window from one caller version to one callee version.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    pub source_app: String,
    pub source_version: String,
    pub service: String,
    pub version: String,
    pub requests: f64,
}

/// Fills `traffic` of every version and adds cross-version findings. `version_label` is the pod label whose
/// value Istio reports as `destination_version`.
pub fn attach(
    graph: &mut RouteGraph,
    rates: &[VersionRate],
    edges: &[Edge],
    version_label: &str,
    domain: &str,
    window: &str,
) {
    for view in &mut graph.hosts {
        for v in &mut view.versions {
            let wanted = v.key.subset.as_ref().and_then(|_| v.telemetry_version(version_label));
            let matching = rates.iter().filter(|r| r.service == v.key.host && wanted.is_none_or(|w| w == r.version));
            let (rps, eps) =
                matching.fold((0.0, 0.0), |(a, b), r| (a + r.requests_per_second, b + r.errors_per_second));
            v.traffic = Some(Traffic { requests_per_second: rps, error_rate: (rps > 0.0).then(|| eps / rps) });
        }
        if !view.version_pinned {
            continue;
        }
        let crossing = edges.iter().filter(|e| {
            e.service == view.host
                && e.requests >= 1.0
                && known(&e.source_version)
                && known(&e.version)
                && e.source_version != e.version
        });
        for e in crossing {
            view.findings.push(Code::CrossVersionTraffic.finding(
                host::object(&view.host, domain),
                format!(
                    "observed {:.0} requests in the last {window} from {} ({version_label}={}) to {} {version_label}={}",
                    e.requests,
                    e.source_app,
                    e.source_version,
                    host::short(&view.host, domain),
                    e.version
                ),
            ));
        }
    }
}

/// Istio reports `unknown` when a workload has no version label.
fn known(version: &str) -> bool {
    !version.is_empty() && version != "unknown"
}
