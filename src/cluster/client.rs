//! A kube `Client` built the way kubectl builds one: `--kubeconfig`, `--context`, `-n`, then `KUBECONFIG`,
//! `~/.kube/config`, then in-cluster credentials.

use super::ClusterError;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::path::PathBuf;
use std::time::Duration;

/// How to reach the cluster, straight from the kubectl-style flags.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// `-n`; `None` means the context's namespace (or `default`).
    pub namespace: Option<String>,
    /// Per-request timeout; `None` for long watches.
    pub request_timeout: Option<Duration>,
}

/// A connected client plus what the commands need to know about where it points.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    /// The namespace commands act in when no `-A` is given.
    pub namespace: String,
    /// The API server address, for error messages.
    pub server: String,
}

/// A dead API server must fail fast and name itself, not hang: kube's defaults wait much longer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Cluster {
    pub async fn connect(opts: &ConnectOptions) -> Result<Self, ClusterError> {
        let mut config = load_config(opts).await?;
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        config.read_timeout = opts.request_timeout;
        // Retrying 429/503 silently would hide an overloaded or dead server; kubectl does not either.
        config.default_retry = false;
        let server = config.cluster_url.to_string().trim_end_matches('/').to_string();
        let namespace = opts.namespace.clone().unwrap_or_else(|| config.default_namespace.clone());
        let client = build_client(config).map_err(|e| ClusterError::Config(e.to_string()))?;
        Ok(Self { client, namespace, server })
    }
}

/// kube's default client stack, with one change: TCP_NODELAY. Without it the HTTP request that follows the
/// TLS handshake's last flight waits for the server's delayed ACK (Nagle's algorithm): 40 ms on every new
/// connection, several times the whole cost of a `status` against a nearby API server.
fn build_client(config: Config) -> Result<Client, kube::Error> {
    use hyper_util::client::legacy::connect::HttpConnector;
    use kube::client::ConfigExt;
    use tower::ServiceBuilder;

    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let https = config.rustls_https_connector_with_connector(http)?;
    let mut connector = hyper_timeout::TimeoutConnector::new(https);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    let http_client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        // What kube's own stack traces (each request and its answer), for `-v 6`.
        .map_request(|req: http::Request<_>| {
            tracing::trace!(method = %req.method(), url = %req.uri(), "API request");
            req
        })
        .map_response(|res: http::Response<_>| {
            tracing::trace!(status = res.status().as_u16(), "API response");
            res
        })
        .map_err(tower::BoxError::from)
        .service(http_client);
    Ok(Client::new(service, config.default_namespace))
}

async fn load_config(opts: &ConnectOptions) -> Result<Config, ClusterError> {
    let options = KubeConfigOptions { context: opts.context.clone(), ..Default::default() };
    if let Some(path) = &opts.kubeconfig {
        let kubeconfig = Kubeconfig::read_from(path).map_err(|e| {
            ClusterError::Config(format!("cannot read kubeconfig {}: {}", path.display(), super::innermost(&e)))
        })?;
        known_context(&kubeconfig, opts.context.as_deref(), &path.display().to_string())?;
        return Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| ClusterError::Config(format!("kubeconfig {}: {}", path.display(), super::innermost(&e))));
    }
    if let Some(context) = &opts.context {
        let kubeconfig = Kubeconfig::read()
            .map_err(|e| ClusterError::Config(format!("cannot read the kubeconfig: {}", super::innermost(&e))))?;
        known_context(&kubeconfig, Some(context), "the kubeconfig")?;
        return Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| ClusterError::Config(super::innermost(&e)));
    }
    Config::infer().await.map_err(|e| {
        ClusterError::Config(format!(
            "no usable kubeconfig (KUBECONFIG, ~/.kube/config) or in-cluster config: {}",
            super::innermost(&e)
        ))
    })
}

/// `--context NAME` must name a context of the kubeconfig; the error lists the ones there are.
fn known_context(kubeconfig: &Kubeconfig, wanted: Option<&str>, source: &str) -> Result<(), ClusterError> {
    let Some(wanted) = wanted else { return Ok(()) };
    let names: Vec<&str> = kubeconfig.contexts.iter().map(|c| c.name.as_str()).collect();
    if names.contains(&wanted) {
        return Ok(());
    }
    let known =
        if names.is_empty() { "it has none".to_string() } else { format!("its contexts: {}", names.join(", ")) };
    Err(ClusterError::Config(format!("--context {wanted}: no such context in {source}; {known}")))
}
