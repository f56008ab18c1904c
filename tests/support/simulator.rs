//! A traffic simulator that closes the loop of a live canary: it watches a namespace's VirtualServices,
//! DestinationRules and Pods, splits a caller's requests to one service as the route's weights say (the weights
//! the Argo Rollouts controller writes), spreads each share over the Ready pods of its subset, and counts the
//! requests as Istio's sidecars would: `istio_requests_total` and `istio_request_duration_milliseconds` with the
//! real labels, from both reporters, per-version error rates and latencies as configured. Prometheus scrapes the
//! counters on loopback. No request is ever sent anywhere: the pods' IPs are kwok's fakes.
//!
//! The routing is read independently of kubectl-vroute's own model (plain JSON, Istio's rules as documented), so
//! the simulator is an oracle for the tool, not a copy of it.

use futures::StreamExt;
use kube::Client;
use kube::api::{Api, DynamicObject, GroupVersionKind};
use kube::discovery::ApiResource;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Istio's default buckets for `istio_request_duration_milliseconds`.
const BUCKETS: [f64; 12] = [1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0];
const TICK: Duration = Duration::from_millis(500);

/// What the caller does.
#[derive(Clone, Debug)]
pub struct Load {
    /// The Service called (short name, in the namespace).
    pub service: String,
    /// The calling app and its version, as their sidecar reports them.
    pub caller: (String, String),
    pub requests_per_second: f64,
    /// By the pods' `version` label: the share of requests answered 500 (default 0).
    pub error_rate: BTreeMap<String, f64>,
    /// By the pods' `version` label: mean latency in ms (exponentially distributed; default 20).
    pub latency_ms: BTreeMap<String, f64>,
    /// `None`: the expected counts exactly (fluid traffic, for scenarios that test behaviour, not chance).
    /// `Some(seed)`: real traffic's chance, from that seed: Poisson arrivals per pod and tick, each request an
    /// error with its version's error rate (binomial), so a judge faces the noise it would in production.
    pub seed: Option<u64>,
}

pub struct Simulator {
    pub addr: SocketAddr,
    load: Arc<Mutex<Load>>,
    counters: Arc<Mutex<Counters>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Default)]
struct Counters {
    /// Series (label text) -> requests, fractional until shown.
    requests: BTreeMap<String, f64>,
    /// Series -> (cumulative bucket counts, sum, count).
    durations: BTreeMap<String, ([f64; BUCKETS.len()], f64, f64)>,
    /// Version -> when a pod of it was first sent a request.
    first_traffic: BTreeMap<String, Instant>,
}

impl Simulator {
    pub async fn start(client: Client, namespace: &str, load: Load) -> std::io::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Mutex::new(Counters::default()));
        let (shown, kept) = (counters.clone(), counters.clone());
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let counters = shown.clone();
                async move { render(&counters.lock().unwrap()) }
            }),
        );
        let load = Arc::new(Mutex::new(load));
        let stores = Stores::start(client, namespace);
        let (ns, task_load) = (namespace.to_string(), load.clone());
        let task = tokio::spawn(async move {
            let server = tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            let mut draws = task_load.lock().unwrap().seed.map(Draws::seeded);
            let mut last = Instant::now();
            let mut ticks = tokio::time::interval(TICK);
            loop {
                ticks.tick().await;
                let dt = last.elapsed().as_secs_f64();
                last = Instant::now();
                let load = task_load.lock().unwrap().clone();
                let routed = stores.route(&ns, &load);
                count(&mut counters.lock().unwrap(), &ns, &load, &routed, dt, draws.as_mut());
                if server.is_finished() {
                    break;
                }
            }
        });
        Ok(Simulator { addr, load, counters: kept, task })
    }

    /// Changes the load from now on (counters keep growing from where they are).
    pub fn set(&self, change: impl FnOnce(&mut Load)) {
        change(&mut self.load.lock().unwrap());
    }

    /// When the pods of `version` were first sent a request (to within a tick), if they have been.
    pub fn first_traffic(&self, version: &str) -> Option<Instant> {
        self.counters.lock().unwrap().first_traffic.get(version).copied()
    }
}

/// Watch-fed caches of what routing depends on.
struct Stores {
    virtual_services: reflector::Store<DynamicObject>,
    destination_rules: reflector::Store<DynamicObject>,
    pods: reflector::Store<DynamicObject>,
    services: reflector::Store<DynamicObject>,
}

impl Stores {
    fn start(client: Client, ns: &str) -> Stores {
        let watch = |group: &str, version: &str, kind: &str| {
            let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
            let writer = reflector::store::Writer::new(ar.clone());
            let store = writer.as_reader();
            let stream = reflector(writer, watcher(api, watcher::Config::default())).default_backoff();
            tokio::spawn(stream.for_each(|_| std::future::ready(())));
            store
        };
        Stores {
            virtual_services: watch("networking.istio.io", "v1", "VirtualService"),
            destination_rules: watch("networking.istio.io", "v1", "DestinationRule"),
            pods: watch("", "v1", "Pod"),
            services: watch("", "v1", "Service"),
        }
    }

    /// The caller's requests to `load.service`: `(share, Ready pods of that share)` per destination.
    fn route(&self, ns: &str, load: &Load) -> Vec<(f64, Vec<Value>)> {
        let host = &load.service;
        let fqdn = format!("{host}.{ns}.svc.cluster.local");
        let names = [host.clone(), format!("{host}.{ns}"), fqdn.clone()];
        let values = |store: &reflector::Store<DynamicObject>| -> Vec<Value> {
            store.state().iter().filter_map(|o| serde_json::to_value(o.as_ref()).ok()).collect()
        };
        let Some(service) = values(&self.services).into_iter().find(|s| s["metadata"]["name"] == host.as_str()) else {
            return Vec::new();
        };
        let selector = service["spec"]["selector"].clone();
        let ready_pods: Vec<Value> =
            values(&self.pods).into_iter().filter(|p| ready(p) && selects(&selector, p)).collect();
        let vs = values(&self.virtual_services).into_iter().find(|vs| {
            vs["spec"]["hosts"].as_array().is_some_and(|h| h.iter().any(|h| names.iter().any(|n| h == n.as_str())))
        });
        // No VirtualService: plain Kubernetes load balancing over every Ready pod of the Service.
        let Some(vs) = vs else { return vec![(1.0, ready_pods)] };
        let caller = BTreeMap::from([("app", load.caller.0.as_str()), ("version", load.caller.1.as_str())]);
        let Some(route) = vs["spec"]["http"].as_array().into_iter().flatten().find(|r| applies(r, &caller)) else {
            return Vec::new();
        };
        let dests = route["route"].as_array().cloned().unwrap_or_default();
        let weights: Vec<f64> = match dests.len() {
            1 => vec![1.0],
            _ => dests.iter().map(|d| d["weight"].as_f64().unwrap_or(0.0).max(0.0)).collect(),
        };
        let total: f64 = weights.iter().sum();
        let rules = values(&self.destination_rules);
        dests
            .iter()
            .zip(weights)
            .filter(|(_, w)| total > 0.0 && *w > 0.0)
            .map(|(d, w)| {
                let subset = d["destination"]["subset"].as_str();
                let labels = subset
                    .and_then(|s| {
                        rules
                            .iter()
                            .flat_map(|r| r["spec"]["subsets"].as_array().cloned().unwrap_or_default())
                            .find(|x| x["name"] == s)
                    })
                    .map(|s| s["labels"].clone())
                    .unwrap_or(Value::Null);
                let pods = ready_pods.iter().filter(|p| selects(&labels, p)).cloned().collect();
                (w / total, pods)
            })
            .collect()
    }
}

/// Istio's first-match rule for a route: no match, or a block whose sourceLabels the caller carries (the
/// simulator's caller sends no headers, so a block testing the request never matches).
fn applies(route: &Value, caller: &BTreeMap<&str, &str>) -> bool {
    let Some(blocks) = route["match"].as_array() else { return true };
    blocks.iter().any(|b| {
        let Some(block) = b.as_object() else { return false };
        block.iter().all(|(k, v)| match k.as_str() {
            "sourceLabels" => {
                v.as_object().is_some_and(|m| m.iter().all(|(l, x)| caller.get(l.as_str()).copied() == x.as_str()))
            }
            "name" => true,
            _ => false,
        })
    })
}

fn selects(selector: &Value, pod: &Value) -> bool {
    let labels = &pod["metadata"]["labels"];
    selector.as_object().is_none_or(|m| m.iter().all(|(k, v)| &labels[k] == v))
}

fn ready(pod: &Value) -> bool {
    pod["metadata"]["deletionTimestamp"].is_null()
        && pod["status"]["conditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

/// The random draws of a noisy simulator.
struct Draws(rand::rngs::StdRng);

impl Draws {
    fn seeded(seed: u64) -> Draws {
        Draws(rand::SeedableRng::seed_from_u64(seed))
    }

    /// `(requests, errors)` of one pod in one tick: expected `mean` requests, each failing with `rate`.
    fn requests(&mut self, mean: f64, rate: f64) -> (f64, f64) {
        use rand_distr::{Binomial, Distribution, Poisson};
        let n = if mean > 0.0 { Poisson::new(mean).map_or(0.0, |p| p.sample(&mut self.0)) } else { 0.0 };
        let errors = Binomial::new(n as u64, rate.clamp(0.0, 1.0)).map_or(0, |b| b.sample(&mut self.0));
        (n, errors as f64)
    }
}

/// Adds `dt` seconds of the caller's requests: their expected counts, or random ones with `draws`.
fn count(
    counters: &mut Counters,
    ns: &str,
    load: &Load,
    routed: &[(f64, Vec<Value>)],
    dt: f64,
    mut draws: Option<&mut Draws>,
) {
    let (caller, caller_version) = (&load.caller.0, &load.caller.1);
    for (share, pods) in routed {
        let requests = load.requests_per_second * dt * share;
        if pods.is_empty() {
            // No healthy upstream: the caller's sidecar answers 503 UH itself; no pod sees these requests.
            let labels = series(ns, "source", caller, caller_version, &load.service, None, 503, "UH");
            *counters.requests.entry(labels).or_default() += requests;
            continue;
        }
        for pod in pods {
            let version = pod["metadata"]["labels"]["version"].as_str().unwrap_or("unknown").to_string();
            let rate = load.error_rate.get(&version).copied().unwrap_or(0.0);
            let mean_requests = requests / pods.len() as f64;
            let (per_pod, errors) = match draws.as_deref_mut() {
                Some(draws) => draws.requests(mean_requests, rate),
                None => (mean_requests, mean_requests * rate),
            };
            if per_pod > 0.0 {
                counters.first_traffic.entry(version.clone()).or_insert_with(Instant::now);
            }
            let mean = load.latency_ms.get(&version).copied().unwrap_or(20.0);
            for reporter in ["destination", "source"] {
                for (code, n) in [(200, per_pod - errors), (500, errors)] {
                    if n <= 0.0 {
                        continue;
                    }
                    let labels = series(ns, reporter, caller, caller_version, &load.service, Some(pod), code, "-");
                    *counters.requests.entry(labels.clone()).or_default() += n;
                    let (buckets, sum, total) =
                        counters.durations.entry(labels).or_insert(([0.0; BUCKETS.len()], 0.0, 0.0));
                    for (bucket, bound) in buckets.iter_mut().zip(BUCKETS) {
                        *bucket += n * (1.0 - (-bound / mean).exp());
                    }
                    *sum += n * mean;
                    *total += n;
                }
            }
        }
    }
}

/// The label text of one series, with Istio's standard labels.
#[allow(clippy::too_many_arguments)]
fn series(
    ns: &str,
    reporter: &str,
    caller: &str,
    caller_version: &str,
    service: &str,
    pod: Option<&Value>,
    code: u16,
    flags: &str,
) -> String {
    let labels = pod.map(|p| p["metadata"]["labels"].clone()).unwrap_or(Value::Null);
    let version = labels["version"].as_str().unwrap_or("unknown");
    let app = labels["app"].as_str().unwrap_or("unknown");
    // Istio names a Rollout's or Deployment's pods after the workload, without the pod-template hash.
    let workload = pod
        .and_then(|p| p["metadata"]["ownerReferences"][0]["name"].as_str())
        .map(|rs| rs.rsplit_once('-').map_or(rs, |(w, _)| w).to_string())
        .unwrap_or_else(|| "unknown".into());
    let revision = labels["service.istio.io/canonical-revision"].as_str().unwrap_or(version);
    let set: BTreeMap<&str, String> = BTreeMap::from([
        ("connection_security_policy", if reporter == "destination" { "mutual_tls" } else { "unknown" }.into()),
        ("destination_app", app.into()),
        ("destination_canonical_revision", revision.into()),
        ("destination_canonical_service", service.into()),
        ("destination_service", format!("{service}.{ns}.svc.cluster.local")),
        ("destination_service_name", service.into()),
        ("destination_service_namespace", ns.into()),
        ("destination_version", version.into()),
        ("destination_workload", workload),
        ("destination_workload_namespace", ns.into()),
        ("reporter", reporter.into()),
        ("request_protocol", "http".into()),
        ("response_code", code.to_string()),
        ("response_flags", flags.into()),
        ("source_app", caller.into()),
        ("source_canonical_revision", caller_version.into()),
        ("source_version", caller_version.into()),
        ("source_workload", format!("{caller}-{caller_version}")),
        ("source_workload_namespace", ns.into()),
    ]);
    set.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect::<Vec<_>>().join(",")
}

fn render(counters: &Counters) -> String {
    let mut out = String::from("# TYPE istio_requests_total counter\n");
    for (labels, n) in &counters.requests {
        let _ = writeln!(out, "istio_requests_total{{{labels}}} {}", n.floor());
    }
    out.push_str("# TYPE istio_request_duration_milliseconds histogram\n");
    for (labels, (buckets, sum, total)) in &counters.durations {
        for (bucket, bound) in buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                out,
                "istio_request_duration_milliseconds_bucket{{{labels},le=\"{bound}\"}} {}",
                bucket.floor()
            );
        }
        let _ = writeln!(out, "istio_request_duration_milliseconds_bucket{{{labels},le=\"+Inf\"}} {}", total.floor());
        let _ = writeln!(out, "istio_request_duration_milliseconds_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "istio_request_duration_milliseconds_count{{{labels}}} {}", total.floor());
    }
    out
}
