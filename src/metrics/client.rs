//! One Prometheus client, two ways in: a direct URL (prometheus-http-query over reqwest), or the API
//! server's service proxy (`/api/v1/namespaces/NS/services/NAME:PORT/proxy/`) with the kube client, so no
//! port-forward is needed and the user's own credentials and RBAC apply.

use crate::cluster::Cluster;
use prometheus_http_query::response::Data;
use serde::Deserialize;
use std::str::FromStr;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum PromError {
    #[error("Prometheus at {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("Prometheus at {url} did not answer within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    #[error("Prometheus at {url} rejected the query: {reason}")]
    Query { url: String, reason: String },
    #[error("Prometheus at {url} answered something that is not a query result: {reason}")]
    Garbage { url: String, reason: String },
}

/// `--prometheus-url`: an `http` or `https` URL with a host, checked where it is typed so a typo is a usage
/// error (exit 4), not an "unreachable" Prometheus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromUrl(String);

impl FromStr for PromUrl {
    type Err = String;
    fn from_str(s: &str) -> Result<PromUrl, String> {
        let url = reqwest::Url::parse(s).map_err(|e| format!("{s:?} is not a URL ({e}): write http://HOST:PORT"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(format!("{s:?} is not an http(s) URL with a host: write http://HOST:PORT"));
        }
        Ok(PromUrl(s.trim_end_matches('/').to_string()))
    }
}

impl PromUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `--prometheus-service NAMESPACE/NAME:PORT` (the port may be a name, as the service proxy accepts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromService {
    pub namespace: String,
    pub name: String,
    pub port: String,
}

impl FromStr for PromService {
    type Err = String;
    fn from_str(s: &str) -> Result<PromService, String> {
        let bad = || format!("{s:?} is not NAMESPACE/NAME:PORT (e.g. istio-system/prometheus:9090)");
        let (ns, rest) = s.split_once('/').ok_or_else(bad)?;
        let (name, port) = rest.split_once(':').ok_or_else(bad)?;
        let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !(valid(ns) && valid(name) && valid(port)) {
            return Err(bad());
        }
        Ok(PromService { namespace: ns.into(), name: name.into(), port: port.into() })
    }
}

#[derive(Clone)]
enum Backend {
    Direct(prometheus_http_query::Client),
    /// `namespace` is Prometheus's, named when the proxy is forbidden.
    ApiProxy {
        cluster: Cluster,
        path: String,
        namespace: String,
    },
}

#[derive(Clone)]
pub struct Prom {
    backend: Backend,
    /// Where it points, for messages.
    pub url: String,
    pub timeout: Duration,
}

impl Prom {
    pub fn direct(url: &PromUrl, timeout: Duration) -> Result<Self, PromError> {
        let url = url.as_str();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .build()
            .map_err(|e| PromError::Unreachable { url: url.into(), reason: e.to_string() })?;
        let client = prometheus_http_query::Client::from(http, url)
            .map_err(|e| PromError::Unreachable { url: url.into(), reason: e.to_string() })?;
        Ok(Self { backend: Backend::Direct(client), url: url.to_string(), timeout })
    }

    pub fn via_api_server(cluster: &Cluster, service: &PromService, timeout: Duration) -> Self {
        let PromService { namespace, name, port } = service;
        let path = format!("/api/v1/namespaces/{namespace}/services/{name}:{port}/proxy");
        Self {
            url: format!("{}{path}", cluster.server),
            backend: Backend::ApiProxy { cluster: cluster.clone(), path, namespace: namespace.clone() },
            timeout,
        }
    }

    /// An instant query evaluated at `time` (unix seconds; `None` = now).
    pub async fn instant(&self, query: &str, time: Option<i64>) -> Result<Data, PromError> {
        tracing::trace!(url = %self.url, query, time, "Prometheus instant query");
        let fut = async {
            match &self.backend {
                Backend::Direct(client) => {
                    let mut q = client.query(query);
                    if let Some(t) = time {
                        q = q.at(t);
                    }
                    q.get().await.map(|r| r.into_inner().0).map_err(|e| self.classify(e))
                }
                Backend::ApiProxy { cluster, path, namespace } => {
                    let mut params = vec![("query", query.to_string())];
                    params.extend(time.map(|t| ("time", t.to_string())));
                    self.via_proxy(cluster, namespace, &format!("{path}/api/v1/query"), &params).await
                }
            }
        };
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| PromError::Timeout { url: self.url.clone(), timeout: self.timeout })?
    }

    /// A range query evaluated at `start`, `start + step`, ... up to `end` (unix seconds; `step` in seconds).
    pub async fn range(&self, query: &str, start: i64, end: i64, step: i64) -> Result<Data, PromError> {
        tracing::trace!(url = %self.url, query, start, end, step, "Prometheus range query");
        let fut = async {
            match &self.backend {
                // Prometheus is told the same deadline, so it stops evaluating a query nobody waits for.
                Backend::Direct(client) => client
                    .query_range(query, start, end, step as f64)
                    .timeout(self.timeout.as_millis().try_into().unwrap_or(i64::MAX))
                    .get()
                    .await
                    .map(|r| r.into_inner().0)
                    .map_err(|e| self.classify(e)),
                Backend::ApiProxy { cluster, path, namespace } => {
                    let params = [
                        ("query", query.to_string()),
                        ("start", start.to_string()),
                        ("end", end.to_string()),
                        ("step", step.to_string()),
                        ("timeout", format!("{}ms", self.timeout.as_millis())),
                    ];
                    self.via_proxy(cluster, namespace, &format!("{path}/api/v1/query_range"), &params).await
                }
            }
        };
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| PromError::Timeout { url: self.url.clone(), timeout: self.timeout })?
    }

    async fn via_proxy(
        &self,
        cluster: &Cluster,
        namespace: &str,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<Data, PromError> {
        let query =
            form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter().map(|(k, v)| (k, v))).finish();
        let request = http::Request::get(format!("{path}?{query}"))
            .body(Vec::new())
            .map_err(|e| PromError::Query { url: self.url.clone(), reason: e.to_string() })?;
        let text = cluster.client.request_text(request).await.map_err(|e| match e {
            // Prometheus's own 400/422 (a bad query) come back through the proxy unchanged.
            kube::Error::Api(s) if s.code == 400 || s.code == 422 => {
                PromError::Query { url: self.url.clone(), reason: s.message }
            }
            kube::Error::Api(s) if s.code == 401 || s.code == 403 => PromError::Unreachable {
                url: self.url.clone(),
                reason: format!(
                    "forbidden: {}. Reading Prometheus through the API server needs `get` on `services/proxy` in \
                     namespace \"{namespace}\" (or use --prometheus-url)",
                    s.message
                ),
            },
            // The proxy's own answers: no such Service or port, no endpoints (Prometheus down), a dial failure.
            kube::Error::Api(s) => PromError::Unreachable {
                url: self.url.clone(),
                reason: format!("the API server's service proxy answered {}: {}", s.code, s.message),
            },
            other => PromError::Unreachable { url: self.url.clone(), reason: other.to_string() },
        })?;
        parse_body(&text).map_err(|reason| PromError::Garbage { url: self.url.clone(), reason })
    }

    fn classify(&self, err: prometheus_http_query::Error) -> PromError {
        use prometheus_http_query::Error as E;
        // The message keeps to the cause; the whole request (its URL-encoded query) is for -v.
        tracing::debug!(error = ?err, "Prometheus request failed");
        let url = self.url.clone();
        match err {
            E::Prometheus(e) => PromError::Query { url, reason: e.to_string() },
            // reqwest's own deadline (the same as ours) can fire first: still a timeout, not an outage.
            E::Client(e) if e.inner().is_some_and(reqwest::Error::is_timeout) => {
                PromError::Timeout { url, timeout: self.timeout }
            }
            // Classified by reqwest's own kinds; the message is the cause, never reqwest's text, which carries
            // the whole URL-encoded query.
            E::Client(e) => match e.inner() {
                Some(r) if r.is_decode() => PromError::Garbage { url, reason: format!("{e}: {}", cause(r)) },
                Some(r) if r.is_connect() => {
                    PromError::Unreachable { url, reason: format!("cannot connect: {}", cause(r)) }
                }
                Some(r) => PromError::Unreachable { url, reason: format!("{e}: {}", cause(r)) },
                // The client's own checks of the answer: not labelled JSON, or not JSON at all.
                None => PromError::Garbage { url, reason: e.to_string() },
            },
            other => PromError::Unreachable { url, reason: other.to_string() },
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    data: Option<Data>,
    error: Option<String>,
}

fn parse_body(text: &str) -> Result<Data, String> {
    let env: Envelope = serde_json::from_str(text).map_err(|e| e.to_string())?;
    match (env.status.as_str(), env.data) {
        ("success", Some(data)) => Ok(data),
        _ => Err(env.error.unwrap_or_else(|| format!("status {}", env.status))),
    }
}

/// The innermost cause of an error (`Connection refused (os error 111)`), where the reason is.
fn cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_addresses_are_checked_where_they_are_typed() {
        assert_eq!("http://127.0.0.1:9090/".parse::<PromUrl>().unwrap().as_str(), "http://127.0.0.1:9090");
        assert!("localhost:9090".parse::<PromUrl>().unwrap_err().contains("is not an http(s) URL with a host"));
        assert!("127.0.0.1:9090".parse::<PromUrl>().unwrap_err().contains("is not a URL"));
        assert!("ftp://x".parse::<PromUrl>().is_err());
        let svc: PromService = "istio-system/prometheus:http".parse().unwrap();
        assert_eq!(
            (svc.namespace.as_str(), svc.name.as_str(), svc.port.as_str()),
            ("istio-system", "prometheus", "http")
        );
        for bad in ["prometheus:9090", "ns/prometheus", "ns/pro metheus:9090", "/p:1"] {
            assert!(bad.parse::<PromService>().unwrap_err().contains("is not NAMESPACE/NAME:PORT"), "{bad}");
        }
    }
}
