//! Flags shared by several commands, and their conversion into library options.

use crate::cluster::{Cluster, ConnectOptions};
use crate::metrics::{Prom, PromError};
use crate::routes;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

/// kubectl's connection flags.
#[derive(Args, Clone, Debug, Default)]
pub struct KubeArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The namespace to act in (default: the context's namespace).
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
    /// How long to wait for one API request before giving up (e.g. 30s, 1m).
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
}

impl KubeArgs {
    pub async fn connect(&self, watch: bool) -> Result<Cluster, crate::cluster::ClusterError> {
        Cluster::connect(&ConnectOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            namespace: self.namespace.clone(),
            // A watch is one long response: a read timeout would cut it.
            request_timeout: (!watch).then_some(self.request_timeout),
        })
        .await
    }
}

/// How the model reads labels and host names.
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    /// The pod label that carries the version (what `sourceLabels` pin on, and Istio's `destination_version`).
    #[arg(long, default_value = "version", value_name = "LABEL")]
    pub version_label: String,
    /// The cluster's DNS domain, for resolving short host names.
    #[arg(long, default_value = "cluster.local", value_name = "DOMAIN")]
    pub cluster_domain: String,
}

impl ModelArgs {
    pub fn options(&self, scope: routes::Scope) -> routes::Options {
        routes::Options { domain: self.cluster_domain.clone(), version_label: self.version_label.clone(), scope }
    }
}

/// Where Prometheus is.
#[derive(Args, Clone, Debug, Default)]
pub struct PromArgs {
    /// Prometheus base URL, reached directly (e.g. http://127.0.0.1:9090).
    #[arg(long, value_name = "URL", conflicts_with = "prometheus_service")]
    pub prometheus_url: Option<String>,
    /// Prometheus as a Service reached through the API server's service proxy with your credentials:
    /// NAMESPACE/NAME:PORT (e.g. istio-system/prometheus:9090). Needs `get services/proxy`.
    #[arg(long, value_name = "NS/NAME:PORT")]
    pub prometheus_service: Option<String>,
    /// How long to wait for Prometheus.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub prometheus_timeout: Duration,
}

impl PromArgs {
    pub fn client(&self, cluster: Option<&Cluster>) -> Result<Option<Prom>, PromError> {
        match (&self.prometheus_url, &self.prometheus_service, cluster) {
            (Some(url), _, _) => Prom::direct(url, self.prometheus_timeout).map(Some),
            (None, Some(svc), Some(cluster)) => Prom::via_api_server(cluster, svc, self.prometheus_timeout).map(Some),
            _ => Ok(None),
        }
    }
}

/// `500ms`, `30s`, `5m`, `1h`, or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("invalid duration {s:?} (examples: 30s, 5m, 1h)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("invalid duration unit in {s:?} (use ms, s, m or h)")),
    };
    if !(secs.is_finite() && secs > 0.0) {
        return Err(format!("duration {s:?} must be positive"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_kubectl() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
    }
}
