//! Flags shared by several commands, and their conversion into library options: the only place clap's types
//! meet the library's.

use crate::cluster::{Cluster, ClusterError, ConnectOptions};
use crate::duration;
use crate::graph;
use crate::metrics::{Prom, PromError, PromService, PromUrl};
use crate::render::Format;
use crate::views::result::DryRun;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// Where every command's help lists the connection flags, apart from its own.
pub const CLUSTER_FLAGS: &str = "Cluster flags (as kubectl's)";

/// kubectl's connection flags.
#[derive(Args, Clone, Debug, Default)]
pub struct KubeArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, global = true, value_name = "FILE", help_heading = CLUSTER_FLAGS)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME", help_heading = CLUSTER_FLAGS)]
    pub context: Option<String>,
    /// The namespace to act in (default: the context's namespace).
    #[arg(short = 'n', long, global = true, value_name = "NS", help_heading = CLUSTER_FLAGS)]
    pub namespace: Option<String>,
    /// How long to wait for one API request before giving up (e.g. 30s, 1m; from 1ms to 1h).
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s", help_heading = CLUSTER_FLAGS,
          value_parser = duration::flag(duration::REQUEST_TIMEOUT))]
    pub request_timeout: Duration,
}

impl KubeArgs {
    pub async fn connect(&self, watch: bool) -> Result<Cluster, ClusterError> {
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
    pub fn options(&self, scope: graph::Scope) -> graph::Options {
        graph::Options { domain: self.cluster_domain.clone(), version_label: self.version_label.clone(), scope }
    }
}

/// Where Prometheus is.
#[derive(Args, Clone, Debug, Default)]
pub struct PromArgs {
    /// Prometheus base URL, reached directly (e.g. http://127.0.0.1:9090).
    #[arg(long, value_name = "URL", conflicts_with = "prometheus_service",
          value_parser = clap::value_parser!(PromUrl))]
    pub prometheus_url: Option<PromUrl>,
    /// Prometheus as a Service reached through the API server's service proxy with your credentials:
    /// NAMESPACE/NAME:PORT (e.g. istio-system/prometheus:9090). Needs `get services/proxy`.
    #[arg(long, value_name = "NS/NAME:PORT", value_parser = clap::value_parser!(PromService))]
    pub prometheus_service: Option<PromService>,
    /// How long to wait for Prometheus (from 1ms to 5m).
    #[arg(long, value_name = "DURATION", default_value = "5s",
          value_parser = duration::flag(duration::PROMETHEUS_TIMEOUT))]
    pub prometheus_timeout: Duration,
}

impl PromArgs {
    pub fn client(&self, cluster: Option<&Cluster>) -> Result<Option<Prom>, PromError> {
        match (&self.prometheus_url, &self.prometheus_service, cluster) {
            (Some(url), _, _) => Prom::direct(url, self.prometheus_timeout).map(Some),
            (None, Some(svc), Some(cluster)) => Ok(Some(Prom::via_api_server(cluster, svc, self.prometheus_timeout))),
            _ => Ok(None),
        }
    }
}

/// Whose Istio reports `status` and `check` read traffic from.
#[derive(Args, Debug)]
pub struct TelemetryArgs {
    /// Istio's reporter of the requests: `auto` reads a host's waypoint's reports (ambient mode) where the
    /// Service's or namespace's `istio.io/use-waypoint` label says one serves it, else the sidecars'
    /// (`destination`); `destination` or `waypoint` reads that reporter for every host.
    #[arg(long, value_enum, value_name = "REPORTER", default_value_t = ReporterArg::Auto)]
    pub reporter: ReporterArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReporterArg {
    Auto,
    Destination,
    Waypoint,
}

impl From<ReporterArg> for crate::metrics::status::Telemetry {
    fn from(arg: ReporterArg) -> Self {
        match arg {
            ReporterArg::Auto => Self::Auto,
            ReporterArg::Destination => Self::Destination,
            ReporterArg::Waypoint => Self::Waypoint,
        }
    }
}

/// `-o` of the data commands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputArg {
    #[default]
    Table,
    Wide,
    Json,
    Yaml,
}

impl From<OutputArg> for Format {
    fn from(arg: OutputArg) -> Format {
        match arg {
            OutputArg::Table => Format::Table,
            OutputArg::Wide => Format::Wide,
            OutputArg::Json => Format::Json,
            OutputArg::Yaml => Format::Yaml,
        }
    }
}

/// `-o` of the commands that write: a result document instead of messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DocumentArg {
    Json,
    Yaml,
}

/// The format of a writing command's output.
pub fn document_format(arg: Option<DocumentArg>) -> Format {
    match arg {
        None => Format::Table,
        Some(DocumentArg::Json) => Format::Json,
        Some(DocumentArg::Yaml) => Format::Yaml,
    }
}

/// `--dry-run`, as kubectl spells it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DryRunArg {
    /// Write for real.
    #[default]
    None,
    /// Compute the result locally; send nothing.
    Client,
    /// Send the write with `dryRun=All`: the API server validates and admits it but stores nothing.
    Server,
}

impl From<DryRunArg> for DryRun {
    fn from(arg: DryRunArg) -> DryRun {
        match arg {
            DryRunArg::None => DryRun::None,
            DryRunArg::Client => DryRun::Client,
            DryRunArg::Server => DryRun::Server,
        }
    }
}
