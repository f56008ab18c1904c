//! Why an analysis produced no judgement, and what each reason means for the caller.
//!
//! The rule behind the split: a caller's mistake is a 400 naming the parameter; anything that kept the analysis
//! from seeing the data (Prometheus unreachable, slow or answering garbage; the cluster unreadable) is a 503,
//! which Argo counts as an Error and retries. None of them is ever turned into a verdict.

use crate::cluster::ClusterError;
use crate::judge::ParamError;
use crate::metrics::PromError;
use std::fmt;

/// A request parameter that is missing, malformed or out of range. `field` is the parameter's name as the
/// caller wrote it (`maxErrorRate`, or an unknown name), or `body` for a body that is not a JSON object.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RequestError {
    pub field: String,
    pub message: String,
}

impl RequestError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        RequestError { field: field.to_string(), message: message.into() }
    }
}

impl From<ParamError> for RequestError {
    fn from(e: ParamError) -> Self {
        RequestError::new(e.field, format!("must be {}, got {}", e.expected, e.value))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The Rollout named by `rollout` does not exist (the message suggests close names): the caller's mistake
    /// for the service (400, field `rollout`), a lookup failure for the CLI (exit 5, as `status` has).
    #[error("rollout: {0}")]
    RolloutNotFound(ClusterError),
    /// The Rollout named by `rollout` could not be read.
    #[error("reading the Rollout: {0}")]
    Cluster(#[from] ClusterError),
    /// The Rollout or its ReplicaSet is not in a state the canary's start can be read from.
    #[error("reading the Rollout: {0}")]
    BadRollout(String),
    /// `rollout=NAME` was asked of a service that has no cluster access.
    #[error("rollout is not available: the service has no cluster access ({0})")]
    NoCluster(ClusterError),
    #[error(transparent)]
    Prometheus(#[from] PromError),
    /// Prometheus answered, but not with counts a verdict may rest on (NaN, negative totals, more errors than
    /// requests, series that were not asked for).
    #[error("Prometheus at {url} answered counts no verdict may rest on: {reason}")]
    BadData { url: String, reason: String },
}

/// What the HTTP layer answers for an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400.
    BadRequest,
    /// 503, Prometheus side.
    PrometheusUnavailable,
    /// 503, cluster side.
    ClusterUnavailable,
    /// 500: a bug (the analysis panicked).
    Internal,
}

impl ErrorKind {
    /// The stable `error` code of the JSON error document.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad-request",
            ErrorKind::PrometheusUnavailable => "prometheus-unavailable",
            ErrorKind::ClusterUnavailable => "cluster-unavailable",
            ErrorKind::Internal => "internal",
        }
    }

    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::PrometheusUnavailable | ErrorKind::ClusterUnavailable => 503,
            ErrorKind::Internal => 500,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl AnalysisError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            AnalysisError::Request(_) | AnalysisError::RolloutNotFound(_) => ErrorKind::BadRequest,
            AnalysisError::Cluster(_) | AnalysisError::BadRollout(_) | AnalysisError::NoCluster(_) => {
                ErrorKind::ClusterUnavailable
            }
            // A query Prometheus rejects is built by this service from validated values, so it is not the
            // caller's fault; it is still no verdict.
            AnalysisError::Prometheus(_) | AnalysisError::BadData { .. } => ErrorKind::PrometheusUnavailable,
        }
    }

    /// The parameter at fault, for 400s.
    pub fn field(&self) -> Option<&str> {
        match self {
            AnalysisError::Request(e) => Some(&e.field),
            AnalysisError::RolloutNotFound(_) => Some("rollout"),
            _ => None,
        }
    }
}
