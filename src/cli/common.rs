//! Flags shared by several commands, and their conversion into library options.

use crate::cluster::{Cluster, ConnectOptions};
use crate::duration;
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
    /// How long to wait for one API request before giving up (e.g. 30s, 1m; from 1ms to 1h).
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s",
          value_parser = duration::flag(duration::REQUEST_TIMEOUT))]
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
    /// How long to wait for Prometheus (from 1ms to 5m).
    #[arg(long, value_name = "DURATION", default_value = "5s",
          value_parser = duration::flag(duration::PROMETHEUS_TIMEOUT))]
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
