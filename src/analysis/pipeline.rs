//! One canary analysis, end to end: the window (from the request, or from the cluster for `rollout=NAME`), the
//! counts from Prometheus, the judge, the document. The service and `kubectl vroute analyze` both run this.
//!
//! Round trips: one range query for both arms' requests and errors; plus, only when the Rollout says routing
//! sends the canary traffic, one instant query for client-side 503 UH/NR, sent concurrently. A window with no
//! whole step yet asks nothing: there is nothing to count, and the judge says so (`no-canary-traffic`).

use super::document::{Analysis, LatencyJudgement, QueryRecord, QueryTime, SignalJudgements};
use super::error::{AnalysisError, RequestError};
use super::request::{Period, Request};
use super::rollout;
use super::window::Window;
use crate::cluster::{Cluster, ClusterError};
use crate::judge::{JudgeError, Observations, Reachability, judge};
use crate::metrics::canary::{label_values, single_value};
use crate::metrics::latency::{Quantiles, bucket_for};
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
    let signals = request.signals;
    let bad = |reason: String| AnalysisError::BadData { url: sources.prometheus.url.clone(), reason };
    let mut observations = Observations::default();
    let mut queries = Vec::new();
    let mut latency = None;
    if window.steps > 0 {
        let counts = QueryRecord::range("counts", canary.counts_query(window.step_seconds), &window);
        let routed = window.rollout.as_ref().and_then(|r| r.canary_weight).filter(|w| *w > 0.0);
        let unroutable =
            routed.map(|_| QueryRecord::instant("unroutable", canary.unroutable_query(window.seconds()), window.end));
        // The threshold's bucket first: a threshold the histogram does not have is the caller's mistake (400).
        let bucket = match signals.latency {
            Some(l) => {
                Some((l, latency_bucket(request, sources, &canary, &window, l.threshold_ms, &mut queries).await?))
            }
            None => None,
        };
        let latency_queries = bucket.as_ref().and_then(|(_, le)| le.as_ref()).map(|le| {
            (
                QueryRecord::range("latency", canary.latency_query(window.step_seconds, le), &window),
                QueryRecord::instant("quantiles", canary.quantiles_query(window.seconds()), window.end),
            )
        });
        let (data, unroutable_data, latency_data) = tokio::try_join!(
            async {
                if signals.errors || latency_queries.is_none() {
                    run(sources, &counts).await.map(Some)
                } else {
                    Ok(None)
                }
            },
            async {
                match &unroutable {
                    Some(query) => run(sources, query).await.map(Some),
                    None => Ok(None),
                }
            },
            async {
                match &latency_queries {
                    Some((steps, quantiles)) => {
                        let (s, q) = tokio::try_join!(run(sources, steps), run(sources, quantiles))?;
                        Ok::<_, PromError>(Some((s, q)))
                    }
                    None => Ok(None),
                }
            },
        )?;
        let no_series = |d: &Data| matches!(d, Data::Matrix(series) if series.is_empty());
        let counted_nothing =
            data.as_ref().is_none_or(no_series) && latency_data.as_ref().is_none_or(|(steps, _)| no_series(steps));
        if counted_nothing {
            return Err(absent(request, sources, &canary, &window).await?);
        }
        if let Some(data) = &data {
            observations.steps =
                canary.steps(data, window.first_evaluation(), window.step_seconds, window.steps).map_err(bad)?;
            queries.push(counts);
        }
        if let (Some(canary_weight), Some(data)) = (routed, unroutable_data) {
            let unroutable_requests = single_value(&data).map_err(bad)?;
            observations.reachability = Some(Reachability { canary_weight, unroutable_requests });
        }
        queries.extend(unroutable);
        if let Some((l, le)) = bucket {
            let mut seen =
                LatencySeen { latency: l, observations: Observations::default(), quantiles: Default::default() };
            if let (Some((steps, quantiles)), Some(le), Some((q_steps, q_quantiles))) =
                (latency_data, le, latency_queries)
            {
                seen.observations.steps = canary
                    .latency_steps(&steps, &le, window.first_evaluation(), window.step_seconds, window.steps)
                    .map_err(bad)?;
                seen.quantiles = canary.quantiles(&quantiles).map_err(bad)?;
                queries.extend([q_steps, q_quantiles]);
            }
            latency = Some(seen);
        }
    } else if let Some(l) = signals.latency {
        latency =
            Some(LatencySeen { latency: l, observations: Observations::default(), quantiles: Default::default() });
    }
    let params = crate::judge::share_alpha(&request.params, signals.count());
    let judged = |o: &Observations, p: &crate::judge::Params| {
        judge(o, p).map_err(|e| match e {
            JudgeError::Params(p) => AnalysisError::Request(p.into()),
            JudgeError::Input(input) => {
                AnalysisError::BadData { url: sources.prometheus.url.clone(), reason: input.to_string() }
            }
        })
    };
    let errors = if signals.errors { Some(judged(&observations, &params)?) } else { None };
    let latency = match latency {
        Some(seen) => {
            let p = crate::judge::Params { max_error_rate: seen.latency.max_slow_share, ..params };
            let mut judgement = judged(&seen.observations, &p)?;
            // The judge speaks of errors; here they are the requests slower than the threshold.
            let slow = format!("share over {} ms", crate::numbers::significant(seen.latency.threshold_ms));
            judgement.message = judgement.message.replace("error rate", &slow).replace("no errors", "no slow requests");
            Some(LatencyJudgement {
                threshold_ms: seen.latency.threshold_ms,
                judgement,
                canary_latency: seen.quantiles.0,
                baseline_latency: seen.quantiles.1,
            })
        }
        None => None,
    };
    let mut all: Vec<(&str, &crate::judge::Judgement)> = Vec::new();
    all.extend(errors.as_ref().map(|j| ("errors", j)));
    all.extend(latency.as_ref().map(|l| ("latency", &l.judgement)));
    let judgement = crate::judge::combine(&all).expect("at least one signal is always judged");
    let signals = latency.is_some().then(|| SignalJudgements { errors: errors.clone(), latency: latency.clone() });
    Ok(Analysis { judgement, window, queries, signals })
}

/// What the latency signal saw: its counts per step and each arm's quantiles.
struct LatencySeen {
    latency: super::request::Latency,
    observations: Observations,
    quantiles: (Quantiles, Quantiles),
}

/// The `le` of the histogram bucket at the threshold; `None` when the service has no histogram series at all in
/// the window (nothing to judge: the latency signal is inconclusive, never a verdict). A threshold that is not
/// a bucket bound is refused, naming the nearest ones.
async fn latency_bucket(
    request: &Request,
    sources: &Sources,
    canary: &crate::metrics::canary::Canary<'_>,
    window: &Window,
    threshold_ms: f64,
    queries: &mut Vec<QueryRecord>,
) -> Result<Option<String>, AnalysisError> {
    let record = QueryRecord::instant("buckets", canary.buckets_query(window.seconds()), window.end);
    let data = run(sources, &record).await?;
    queries.push(record);
    match bucket_for(&data, threshold_ms) {
        Ok(le) => Ok(Some(le)),
        Err((_, _, 0)) => Ok(None),
        Err((below, above, _)) => {
            let nearest: Vec<String> = below.into_iter().chain(above).collect();
            Err(AnalysisError::Request(RequestError::new(
                "latencyThreshold",
                format!(
                    "{} ms is not a bucket bound of istio_request_duration_milliseconds for {} in namespace {}; the \
                     nearest are {} (ms)",
                    crate::numbers::significant(threshold_ms),
                    request.service,
                    request.namespace,
                    nearest.join(" and ")
                ),
            )))
        }
    }
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
