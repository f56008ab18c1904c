//! The one error type commands return, and its exit code.

use crate::cluster::ClusterError;
use crate::cluster::write::WriteError;
use crate::edit::EditError;
use crate::exit::Exit;
use crate::metrics::PromError;
use crate::rollouts::ParseError;
use crate::routes::ModelError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
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
    NotRolloutOrService { rollout: ClusterError, service: Box<CliError> },
    /// stdout was closed by its reader: not an error worth a message.
    #[error("stdout closed")]
    ClosedPipe,
    #[error("writing output: {0}")]
    Io(std::io::Error),
}

impl CliError {
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Usage(_) => Exit::Usage,
            CliError::Cluster(_)
            | CliError::Model(_)
            | CliError::BadRollout { .. }
            | CliError::NotRolloutOrService { .. } => Exit::Cluster,
            CliError::Prometheus(_) => Exit::Prometheus,
            CliError::Refused(_) => Exit::Refused,
            CliError::ClosedPipe => Exit::Ok,
            CliError::Io(_) => Exit::Internal,
        }
    }
}

impl From<EditError> for CliError {
    /// An unknown service is a lookup failure, as in `status`; everything else an edit refuses is a refusal.
    fn from(e: EditError) -> Self {
        match e {
            EditError::Model(e) => CliError::Model(e),
            e => CliError::Refused(e),
        }
    }
}

impl From<WriteError<EditError>> for CliError {
    fn from(e: WriteError<EditError>) -> Self {
        match e {
            WriteError::Edit(e) => e.into(),
            WriteError::Cluster(e) => CliError::Cluster(e),
        }
    }
}
