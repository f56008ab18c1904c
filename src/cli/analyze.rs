//! The two front ends of the canary analysis: `kubectl vroute analyze` (one judgement, printed, verdict as the
//! exit code) and the `vroute-analysis` service's flags. Both feed the same pipeline
//! ([`crate::analysis::analyze`]); flag values go through the same validation as HTTP parameters.

use super::common::{KubeArgs, OutputArg, PromArgs};
use super::print;
use crate::analysis::server::{self, Config, ServeError, Tls};
use crate::analysis::{self, RawParams, Request, Sources};
use crate::cluster::{Cluster, ClusterError, ConnectOptions};
use crate::duration;
use crate::error::{Error, Usage, analyze_flag};
use crate::exit::Exit;
use crate::judge::Verdict;
use crate::metrics::{Prom, PromUrl};
use crate::render::{self, Format};
use clap::{Args, Parser};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `kubectl vroute analyze reviews --canary v2 --baseline v1 --rollout reviews`
#[derive(Args, Debug)]
#[command(after_help = "Exit codes: 0 pass, 1 fail, 3 inconclusive, 4 bad flags, 5 cluster error, 6 Prometheus error.")]
pub struct AnalyzeArgs {
    /// The Service whose canary is judged: its name in the namespace, or its FQDN.
    pub service: String,
    /// The canary's value of --label (for example v2). With --rollout: default, the canary pod template's.
    #[arg(long, value_name = "VALUE", required_unless_present = "rollout")]
    pub canary: Option<String>,
    /// The baseline's value of --label (for example v1). With --rollout: default, the stable pod template's.
    #[arg(long, value_name = "VALUE", required_unless_present = "rollout")]
    pub baseline: Option<String>,
    /// The Istio label that tells the arms apart: destination_version, destination_canonical_revision, or
    /// destination_service_name (host-level splits: canary and baseline are Services), or destination_workload
    /// (Flagger: the canary and primary Deployments).
    #[arg(long, value_name = "LABEL", default_value = "destination_version")]
    pub label: String,
    /// Judge everything since this time (RFC 3339, e.g. 2026-01-31T12:00:00Z).
    #[arg(long, value_name = "TIME", group = "period")]
    pub since: Option<String>,
    /// Judge the last DURATION (e.g. 30m, 1h30m). Default, without --since and --rollout: 10m.
    #[arg(long, value_name = "DURATION", group = "period")]
    pub window: Option<String>,
    /// Judge everything since this Argo Rollout's current canary ReplicaSet was created.
    #[arg(long, value_name = "NAME", group = "period")]
    pub rollout: Option<String>,
    /// The length of one step of the sequential test (10s to 1h, whole seconds; default 1m). Shorter steps let a
    /// busy service decide sooner; each step needs a few Prometheus scrapes.
    #[arg(long, value_name = "DURATION")]
    pub step: Option<String>,
    /// Whose counts: destination (the pods' proxies), source (the callers' proxies), both (the pods' counts
    /// plus requests callers' proxies failed before reaching any pod) or waypoint (ambient mode).
    #[arg(long, value_name = "REPORTER", default_value = "destination")]
    pub reporter: String,
    /// Fail a canary shown above this error rate whatever its baseline does (default 0.1).
    #[arg(long, value_name = "RATE")]
    pub max_error_rate: Option<String>,
    /// Fail once the canary's error rate is shown above (1 + margin) x the baseline's (default 0.1).
    #[arg(long, value_name = "X")]
    pub margin: Option<String>,
    /// Pass once it is shown below (1 + pass-margin) x the baseline's (default 1).
    #[arg(long, value_name = "X")]
    pub pass_margin: Option<String>,
    /// Error budget of each sequential test (default 0.05).
    #[arg(long, value_name = "P")]
    pub alpha: Option<String>,
    /// What to judge: errors, latency, or errors,latency (both, alpha split between them).
    #[arg(long, value_name = "LIST", default_value = "errors")]
    pub signals: String,
    /// The latency signal's threshold in ms: the share of requests slower than it is judged as the error share
    /// is. Must be a bucket bound of istio_request_duration_milliseconds (Istio's: ..., 100, 250, 500, 1000, ...).
    #[arg(long, value_name = "MS")]
    pub latency_threshold: Option<String>,
    /// Fail a canary shown with more than this share of requests slower than the threshold (default 0.5).
    #[arg(long, value_name = "SHARE")]
    pub max_slow_share: Option<String>,
    /// Output format (json: the service's document).
    #[arg(short = 'o', long, value_enum, default_value_t = OutputArg::Table)]
    pub output: OutputArg,
    #[command(flatten)]
    pub prom: PromArgs,
}

pub async fn run(kube: &KubeArgs, args: AnalyzeArgs) -> Result<Exit, Error> {
    if args.prom.prometheus_url.is_none() && args.prom.prometheus_service.is_none() {
        return Err(Usage::Combination(
            "analyze needs --prometheus-url URL or --prometheus-service NS/NAME:PORT".into(),
        )
        .into());
    }
    // The cluster is only needed for the namespace of the context, the service proxy, or a Rollout.
    let needs_cluster = kube.namespace.is_none() || args.prom.prometheus_service.is_some() || args.rollout.is_some();
    let cluster = if needs_cluster { Some(kube.connect(false).await?) } else { None };
    let namespace = kube.namespace.clone().or_else(|| cluster.as_ref().map(|c| c.namespace.clone()));
    let request = Request::parse(&params(&args, namespace.unwrap_or_default()))
        .map_err(|e| Usage::Flag { flag: analyze_flag(&e.field), problem: e.message })?;
    let prometheus = args.prom.client(cluster.as_ref())?.ok_or_else(|| Usage::Combination("no Prometheus".into()))?;
    let sources = Sources {
        prometheus,
        cluster: cluster.ok_or_else(|| ClusterError::Config("no cluster was needed for this request".into())),
        rollout_lookup_limit: None,
        on_query: None,
    };
    let analysis = analysis::analyze(&request, &sources, jiff::Timestamp::now()).await?;
    print(&render::analysis::render(&analysis, Format::from(args.output))?)?;
    Ok(match analysis.judgement.verdict {
        Verdict::Pass => Exit::Ok,
        Verdict::Fail => Exit::Negative,
        Verdict::Inconclusive => Exit::Inconclusive,
    })
}

fn params(args: &AnalyzeArgs, namespace: String) -> RawParams {
    let optional = [
        ("canary", &args.canary),
        ("baseline", &args.baseline),
        ("step", &args.step),
        ("since", &args.since),
        ("window", &args.window),
        ("rollout", &args.rollout),
        ("maxErrorRate", &args.max_error_rate),
        ("margin", &args.margin),
        ("passMargin", &args.pass_margin),
        ("alpha", &args.alpha),
        ("latencyThreshold", &args.latency_threshold),
        ("maxSlowShare", &args.max_slow_share),
    ];
    let mut raw = RawParams::default()
        .with("namespace", namespace)
        .with("service", args.service.as_str())
        .with("label", args.label.as_str())
        .with("reporter", args.reporter.as_str())
        .with("signals", args.signals.as_str());
    for (name, value) in optional {
        if let Some(value) = value {
            raw = raw.with(name, value.as_str());
        }
    }
    raw
}

/// vroute-analysis: the Argo Rollouts `web` metric provider that judges a canary against its baseline from
/// Istio's Prometheus metrics. Every flag can also be set by the environment variable shown.
#[derive(Debug, Parser)]
#[command(name = "vroute-analysis", version)]
pub struct AnalysisCli {
    /// Address to listen on.
    #[arg(long, env = "LISTEN_ADDRESS", value_name = "ADDR", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// Prometheus base URL (e.g. http://prometheus.istio-system.svc.cluster.local:9090).
    #[arg(long, env = "PROMETHEUS_URL", value_name = "URL", value_parser = clap::value_parser!(PromUrl))]
    pub prometheus_url: PromUrl,
    /// How long to wait for each Prometheus query (keep it well under Argo's 10 s web timeout; from 1ms to 5m).
    #[arg(long, env = "PROMETHEUS_TIMEOUT", value_name = "DURATION", default_value = "5s",
          value_parser = duration::flag(duration::PROMETHEUS_TIMEOUT))]
    pub prometheus_timeout: Duration,
    /// A file holding the bearer token /v1/judge requires (read at start-up).
    #[arg(long, env = "TOKEN_FILE", value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// How long a judgement is reused for identical requests; 0 keeps only request coalescing (at most 1h).
    #[arg(long, env = "CACHE_TTL", value_name = "DURATION", default_value = "5s",
          value_parser = duration::flag(duration::CACHE_TTL))]
    pub cache_ttl: Duration,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, env = "TLS_CERT_FILE", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "TLS_KEY_FILE", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// The service's bound on a `rollout=NAME` lookup (both API reads together).
const ROLLOUT_LOOKUP_LIMIT: Duration = Duration::from_secs(3);

impl AnalysisCli {
    /// Builds the clients and serves until SIGTERM. The cluster (for `rollout=NAME`) comes from the usual
    /// places, in-cluster credentials included; without one the service still judges `since`/`window`
    /// requests and answers `rollout` ones 503, saying why.
    pub async fn serve(self) -> Result<(), ServeError> {
        let token = match &self.token_file {
            Some(path) => Some(read_token(path)?),
            None => None,
        };
        let prometheus = Prom::direct(&self.prometheus_url, self.prometheus_timeout).map_err(ServeError::Prometheus)?;
        // Argo Rollouts gives a web metric 10 s (its default timeoutSeconds). The Rollout lookup is bounded at
        // 3 s in all, so with the default 5 s Prometheus limit an answer always comes in time.
        if self.prometheus_timeout + ROLLOUT_LOOKUP_LIMIT >= Duration::from_secs(10) {
            tracing::warn!(
                prometheus_timeout = ?self.prometheus_timeout,
                "--prometheus-timeout plus the 3s Rollout lookup reaches Argo's default 10s web metric timeout: \
                 raise timeoutSeconds in the AnalysisTemplate, or lower --prometheus-timeout"
            );
        }
        let options = ConnectOptions { request_timeout: Some(ROLLOUT_LOOKUP_LIMIT), ..Default::default() };
        let cluster = Cluster::connect(&options).await.inspect_err(|e| {
            tracing::warn!(error = %e, "no cluster access: requests with rollout=NAME will be answered 503");
        });
        let tls = match (self.tls_cert, self.tls_key) {
            (Some(cert), Some(key)) => Some(Tls { cert, key }),
            _ => None,
        };
        let config = Config {
            listen: self.listen,
            sources: Sources { prometheus, cluster, rollout_lookup_limit: Some(ROLLOUT_LOOKUP_LIMIT), on_query: None },
            token,
            cache_ttl: self.cache_ttl,
            tls,
        };
        server::run(config, server::shutdown_signal()).await
    }
}

fn read_token(path: &std::path::Path) -> Result<String, ServeError> {
    let bad = |problem: String| ServeError::Token { path: path.display().to_string(), problem };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(bad("the file is empty".into()));
    }
    Ok(token.to_string())
}
