//! The one error type of the plugin's operations, and the one place each failure meets its documented exit
//! code ([`Error::exit`]). Every variant is typed: a usage error is a [`Usage`], never a failure that happens
//! to carry a message.

use crate::analysis::AnalysisError;
use crate::cluster::ClusterError;
use crate::cluster::write::WriteError;
use crate::duration::DurationError;
use crate::edit::EditError;
use crate::exit::Exit;
use crate::graph::ModelError;
use crate::metrics::PromError;
use crate::objects::offline::ManifestError;
use crate::render::RenderError;
use crate::rollouts::ParseError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Usage(#[from] Usage),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Prometheus(#[from] PromError),
    /// An edit refused as unsafe or impossible; the message says why and what to do instead.
    #[error(transparent)]
    Refused(EditError),
    /// A Rollout the API server returned cannot be read (a field of the wrong type, say).
    #[error("Rollout {name:?} cannot be read: {error}")]
    BadRollout { name: String, error: ParseError },
    /// `promote`/`abort` NAME is neither a Rollout nor a Service with a plain VirtualService canary.
    #[error("{rollout} (and as a plain VirtualService canary: {service})")]
    NotRolloutOrService { rollout: ClusterError, service: Box<Error> },
    /// A later patch of a Rollout failed after earlier ones were applied (`applied` names them).
    #[error("{error}")]
    AfterPatches { rollout: String, applied: Vec<&'static str>, error: Box<Error> },
    /// The result could not be rendered (a document that does not serialize).
    #[error(transparent)]
    Render(#[from] RenderError),
    /// stdout was closed by its reader: not an error worth a message.
    #[error("stdout closed")]
    ClosedPipe,
    #[error("writing output: {0}")]
    Output(std::io::Error),
    /// The dashboard could not take its port.
    #[error("cannot listen on {addr} (--port): {error}")]
    Listen { addr: std::net::SocketAddr, error: std::io::Error },
    /// A local failure before anything was asked (the process could not start its runtime, say).
    #[error("{0}")]
    Io(std::io::Error),
}

/// A mistake in what was asked: flags, arguments, files.
#[derive(Debug, Error)]
pub enum Usage {
    /// A flag or argument whose value is refused.
    #[error("{flag}: {problem}")]
    Flag { flag: String, problem: String },
    /// Flags that do not go together, or one that is missing.
    #[error("{0}")]
    Combination(String),
    #[error("{flag}: {error}")]
    Duration { flag: &'static str, error: DurationError },
    #[error("{path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path}: not valid YAML: {error}")]
    Yaml { path: String, error: String },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// An edit's arguments: a version, route or revision that does not exist, weights that do not add up.
    #[error(transparent)]
    Edit(Box<EditError>),
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::Usage(_) => Exit::Usage,
            Error::Cluster(_) | Error::Model(_) | Error::BadRollout { .. } | Error::NotRolloutOrService { .. } => {
                Exit::Cluster
            }
            Error::Prometheus(_) => Exit::Prometheus,
            Error::Refused(_) => Exit::Refused,
            Error::AfterPatches { error, .. } => error.exit(),
            Error::Render(_) | Error::Output(_) | Error::Io(_) | Error::Listen { .. } => Exit::Internal,
            Error::ClosedPipe => Exit::Ok,
        }
    }
}

impl From<EditError> for Error {
    /// An unknown service is a lookup failure, as in `status`; a wrong argument is a usage error; everything
    /// else an edit refuses is a refusal.
    fn from(e: EditError) -> Self {
        match e {
            EditError::Model(e) => Error::Model(e),
            e if e.is_usage() => Error::Usage(Usage::Edit(Box::new(e))),
            e => Error::Refused(e),
        }
    }
}

impl From<WriteError<EditError>> for Error {
    fn from(e: WriteError<EditError>) -> Self {
        match e {
            WriteError::Edit(e) => e.into(),
            WriteError::Cluster(e) => Error::Cluster(e),
        }
    }
}

impl From<AnalysisError> for Error {
    /// A request the analysis refuses is a usage error here (the flags made it); what kept it from the data
    /// is the cluster's or Prometheus's.
    fn from(e: AnalysisError) -> Self {
        match e {
            AnalysisError::Request(e) => Error::Usage(Usage::Flag { flag: analyze_flag(&e.field), problem: e.message }),
            AnalysisError::Cluster(e) | AnalysisError::NoCluster(e) | AnalysisError::RolloutNotFound(e) => {
                Error::Cluster(e)
            }
            e @ AnalysisError::BadRollout(_) => Error::Cluster(ClusterError::Config(e.to_string())),
            AnalysisError::Prometheus(e) => Error::Prometheus(e),
            AnalysisError::BadData { url, reason } => Error::Prometheus(PromError::Garbage { url, reason }),
        }
    }
}

/// The flag (or argument) of `kubectl vroute analyze` behind an analysis request field.
pub fn analyze_flag(field: &str) -> String {
    match field {
        "namespace" => "-n/--namespace".to_string(),
        "service" => "SERVICE".to_string(),
        "maxErrorRate" => "--max-error-rate".to_string(),
        "passMargin" => "--pass-margin".to_string(),
        "latencyThreshold" => "--latency-threshold".to_string(),
        "maxSlowShare" => "--max-slow-share".to_string(),
        other => format!("--{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_failure_has_its_documented_code() {
        let usage = Error::Usage(Usage::Combination("x".into()));
        assert_eq!(usage.exit(), Exit::Usage);
        assert_eq!(Error::Render(RenderError("no YAML for NaN".into())).exit(), Exit::Internal);
        assert_eq!(Error::Cluster(ClusterError::Config("x".into())).exit(), Exit::Cluster);
        assert_eq!(Error::from(EditError::ZeroTotal).exit(), Exit::Usage);
        assert_eq!(Error::from(EditError::NoRules { route: "r".into() }).exit(), Exit::Refused);
        let after = Error::AfterPatches { rollout: "r".into(), applied: vec!["status"], error: Box::new(usage) };
        assert_eq!(after.exit(), Exit::Usage);
        assert_eq!(Error::ClosedPipe.exit(), Exit::Ok);
    }

    #[test]
    fn request_fields_are_named_as_flags() {
        assert_eq!(analyze_flag("maxErrorRate"), "--max-error-rate");
        assert_eq!(analyze_flag("canary"), "--canary");
        assert_eq!(analyze_flag("namespace"), "-n/--namespace");
    }
}
