//! One canary analysis, end to end: the window (from the request, or from the cluster for `rollout=NAME`), the
//! counts from Prometheus, the judge, the document. The service and `kubectl vroute analyze` both run this.
//!
//! Round trips: one range query for both arms' requests and errors; plus, only when the Rollout says routing
//! sends the canary traffic, one instant query for client-side 503 UH/NR, sent concurrently. A window with no
//! whole step yet asks nothing: there is nothing to count, and the judge says so (`no-canary-traffic`).

use super::document::{Analysis, QueryRecord, QueryTime};
use super::error::{AnalysisError, RequestError};
use super::request::{Period, Request};
use super::rollout;
use super::window::Window;
use crate::cluster::{Cluster, ClusterError};
use crate::judge::{JudgeError, Observations, Reachability, judge};
use crate::metrics::canary::{label_values, single_value};
use crate::metrics::{Prom, PromError};
use jiff::Timestamp;
use prometheus_http_query::response::Data;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Called after every Prometheus query with its duration and whether it succeeded (for the service's metrics).
pub type QueryHook = Arc<dyn Fn(Duration, bool) + Send + Sync>;

/// Where the data comes from.
#[derive(Clone)]
pub struct Sources {
    pub prometheus: Prom,
    /// The cluster, for `rollout=NAME`; `Err` says why there is none.
    pub cluster: Result<Cluster, ClusterError>,
    /// A bound on the whole `rollout=NAME` lookup (two API reads), so that it and the Prometheus query fit the
    /// caller's own deadline together (the service: Argo's 10 s); `None`: only the per-request timeout.
    pub rollout_lookup_limit: Option<Duration>,
    pub on_query: Option<QueryHook>,
}

pub async fn analyze(request: &Request, sources: &Sources, now: Timestamp) -> Result<Analysis, AnalysisError> {
    let mut window = window(request, sources, now).await?;
    let (canary_value, baseline_value) = arms(request, &window)?;
    // The Rollout's two templates carry the same value: there is no canary to tell apart yet.
    if canary_value == baseline_value {
        window = Window { steps: 0, end: window.start, ..window };
    }
    let canary = request.canary(&canary_value, &baseline_value);
    let mut observations = Observations::default();
    let mut queries = Vec::new();
    if window.steps > 0 {
        let counts = QueryRecord::range("counts", canary.counts_query(window.step_seconds), &window);
        let routed = window.rollout.as_ref().and_then(|r| r.canary_weight).filter(|w| *w > 0.0);
        let unroutable =
            routed.map(|_| QueryRecord::instant("unroutable", canary.unroutable_query(window.seconds()), window.end));
        let (data, unroutable_data) = tokio::try_join!(run(sources, &counts), async {
            match &unroutable {
                Some(query) => run(sources, query).await.map(Some),
                None => Ok(None),
            }
        })?;
        let bad = |reason: String| AnalysisError::BadData { url: sources.prometheus.url.clone(), reason };
        if matches!(&data, Data::Matrix(series) if series.is_empty()) {
            return Err(absent(request, sources, &canary, &window).await?);
        }
        observations.steps =
            canary.steps(&data, window.first_evaluation(), window.step_seconds, window.steps).map_err(bad)?;
        if let (Some(canary_weight), Some(data)) = (routed, unroutable_data) {
            let unroutable_requests = single_value(&data).map_err(bad)?;
            observations.reachability = Some(Reachability { canary_weight, unroutable_requests });
        }
        queries.push(counts);
        queries.extend(unroutable);
    }
    let judgement = judge(&observations, &request.params).map_err(|e| match e {
        JudgeError::Params(p) => AnalysisError::Request(p.into()),
        JudgeError::Input(input) => {
            AnalysisError::BadData { url: sources.prometheus.url.clone(), reason: input.to_string() }
        }
    })?;
    Ok(Analysis { judgement, window, queries })
}

/// Neither arm has a single series in the window: not "no traffic yet" (which needs the service's series to
/// exist), but a service, namespace or arm values that name nothing Prometheus has. Says what it has instead,
/// at the cost of one or two small instant queries, asked only here.
async fn absent(
    request: &Request,
    sources: &Sources,
    canary: &crate::metrics::canary::Canary<'_>,
    window: &Window,
) -> Result<AnalysisError, AnalysisError> {
    let range = window.seconds();
    let lookback = crate::duration::format(Duration::from_secs(range.max(0) as u64));
    let label = request.label.as_str();
    let present = QueryRecord::instant("present", canary.present_arms_query(range), window.end);
    let present = run(sources, &present).await?;
    let arms = label_values(&present, label, Some(("reporter", canary.reporters())));
    if !arms.is_empty() {
        return Ok(AnalysisError::Request(RequestError::new(
            "canary",
            format!(
                "{} in namespace {} has no series with {label}={} or {label}={} in the last {lookback}; it has \
                 {label}={}: name those as canary and baseline",
                canary.service,
                canary.namespace,
                canary.canary,
                canary.baseline,
                arms.join(", ")
            ),
        )));
    }
    let reporters = label_values(&present, "reporter", None);
    if !reporters.is_empty() {
        return Ok(AnalysisError::Request(RequestError::new(
            "reporter",
            format!(
                "{} in namespace {} has no series reported by {} in the last {lookback}, only by reporter={}: pass \
                 that reporter (a waypoint reports ambient mode's requests)",
                canary.service,
                canary.namespace,
                canary.reporters().join(" or "),
                reporters.join(", ")
            ),
        )));
    }
    let neighbours = QueryRecord::instant("neighbours", canary.neighbours_query(range), window.end);
    let services = label_values(&run(sources, &neighbours).await?, "destination_service_name", None);
    let there = if services.is_empty() {
        format!(
            "and none for any service in namespace {}: check the namespace, and that Prometheus scrapes Istio's \
             metrics",
            canary.namespace
        )
    } else {
        format!("Prometheus has these services there: {}", services.join(", "))
    };
    Ok(AnalysisError::Request(RequestError::new(
        "service",
        format!(
            "no istio_requests_total series for service {} in namespace {} in the last {lookback} ({there})",
            canary.service, canary.namespace
        ),
    )))
}

/// The arms' values: as the request names them, else from the Rollout's pod templates.
fn arms(request: &Request, window: &Window) -> Result<(String, String), AnalysisError> {
    let from_rollout = |field: &str, value: Option<&String>| {
        value.cloned().ok_or_else(|| {
            let rollout = window.rollout.as_ref().map_or("", |r| r.name.as_str());
            let why = match field {
                "canary" => "the canary pod template (status.currentPodHash)",
                _ => "the stable pod template (status.stableRS)",
            };
            AnalysisError::Request(RequestError::new(
                field,
                format!(
                    "not given, and Rollout {rollout:?} has no value of {} in {why} to judge by: pass {field}=VALUE",
                    request.label.as_str()
                ),
            ))
        })
    };
    let found = window.rollout.as_ref();
    let canary = match &request.canary {
        Some(c) => c.clone(),
        None => from_rollout("canary", found.and_then(|r| r.canary_value.as_ref()))?,
    };
    let baseline = match &request.baseline {
        Some(b) => b.clone(),
        None => from_rollout("baseline", found.and_then(|r| r.baseline_value.as_ref()))?,
    };
    Ok((canary, baseline))
}

async fn window(request: &Request, sources: &Sources, now: Timestamp) -> Result<Window, AnalysisError> {
    let step = request.step_seconds;
    match &request.period {
        Period::Since(start) => Ok(Window::since(*start, now, step)?),
        Period::Window(seconds) => Ok(Window::last(*seconds, now, step)),
        Period::Rollout(name) => {
            let cluster = sources.cluster.as_ref().map_err(|e| AnalysisError::NoCluster(e.clone()))?;
            let lookup = rollout::window(cluster, &request.namespace, name, request.label, now, step);
            match sources.rollout_lookup_limit {
                Some(limit) => tokio::time::timeout(limit, lookup).await.unwrap_or_else(|_| {
                    Err(AnalysisError::Cluster(ClusterError::Unreachable {
                        server: cluster.server.clone(),
                        reason: format!("reading Rollout {name:?} and its ReplicaSet took longer than {limit:?}"),
                    }))
                }),
                None => lookup.await,
            }
        }
    }
}

async fn run(sources: &Sources, record: &QueryRecord) -> Result<Data, PromError> {
    let prom = &sources.prometheus;
    let started = Instant::now();
    let result = match &record.at {
        QueryTime::Range { start, end, step_seconds } => {
            prom.range(&record.query, start.as_second(), end.as_second(), *step_seconds).await
        }
        QueryTime::Instant { time } => prom.instant(&record.query, Some(time.as_second())).await,
    };
    if let Some(hook) = &sources.on_query {
        hook(started.elapsed(), result.is_ok());
    }
    result
}
