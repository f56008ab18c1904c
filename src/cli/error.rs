//! The one error type commands return, and its exit code.

use crate::cluster::ClusterError;
use crate::exit::Exit;
use crate::metrics::PromError;
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
            CliError::Cluster(_) | CliError::Model(_) => Exit::Cluster,
            CliError::Prometheus(_) => Exit::Prometheus,
            CliError::ClosedPipe => Exit::Ok,
            CliError::Io(_) => Exit::Internal,
        }
    }
}
