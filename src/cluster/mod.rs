//! Cluster I/O: the kube client, reading the objects the model needs, and writing edits back.
//! Nothing here decides anything; it fetches and stores, and turns API failures into errors that say what
//! to do about them.

mod client;
pub mod resources;
pub mod rollouts;
pub mod snapshot;
pub mod watch;
pub mod write;

pub use client::{Cluster, ConnectOptions};

use thiserror::Error;

#[derive(Clone, Debug, Error)]
pub enum ClusterError {
    #[error("{0}")]
    Config(String),
    #[error("cannot reach the API server at {server}: {reason}")]
    Unreachable { server: String, reason: String },
    /// The server answered TLS with a certificate the kubeconfig does not trust: reachable, but not trusted.
    #[error(
        "the API server at {server} presented a certificate that is not trusted ({reason}): check the cluster's \
         certificate-authority(-data) in the kubeconfig, or that {server} is the server it names"
    )]
    Untrusted { server: String, reason: String },
    #[error(
        "forbidden: cannot {verb} {resource}{scope}. Ask for a Role granting `{verb}` on `{resource}` (see the README's RBAC section)"
    )]
    Forbidden { verb: String, resource: String, scope: String },
    #[error("{what} not found{scope}")]
    NotFound { what: String, scope: String },
    #[error("{0}")]
    CrdMissing(String),
    #[error("{verb} {resource}{scope}: {message}")]
    Api { verb: String, resource: String, scope: String, code: u16, message: String },
    #[error("Rollout \"{name}\" not found in namespace \"{namespace}\"{}", crate::graph::suggest(.suggestions))]
    RolloutNotFound { name: String, namespace: String, suggestions: Vec<String> },
    /// `resource` is `rollouts` or `rollouts/status`, as RBAC rules name them.
    #[error(
        "forbidden: cannot patch {resource} (API group argoproj.io) in namespace \"{namespace}\". Ask for a Role \
         granting `patch` on `rollouts` and `rollouts/status` in API group argoproj.io, or a RoleBinding to the \
         built-in `edit` ClusterRole, which includes both wherever Argo Rollouts is installed (its \
         argo-rollouts-aggregate-to-edit role aggregates into it); see the README's RBAC section"
    )]
    RolloutPatchForbidden { resource: &'static str, namespace: String },
}

/// What a request was doing, for error messages.
#[derive(Clone, Debug)]
pub struct Action<'a> {
    pub verb: &'a str,
    /// Resource name as RBAC spells it, e.g. `virtualservices.networking.istio.io`.
    pub resource: &'a str,
    /// `None` for cluster-wide.
    pub namespace: Option<&'a str>,
}

impl Action<'_> {
    pub fn scope(&self) -> String {
        match self.namespace {
            Some(ns) => format!(" in namespace \"{ns}\""),
            None => " at the cluster scope".to_string(),
        }
    }

    /// Turns a kube error into one that names the verb, the resource and the remedy.
    pub fn error(&self, server: &str, err: kube::Error) -> ClusterError {
        // The message names the verb, the resource and the remedy; the library's whole error is for -v.
        tracing::debug!(verb = self.verb, resource = self.resource, namespace = self.namespace, error = ?err,
                        "API request failed");
        match err {
            kube::Error::Api(status) => match status.code {
                403 => ClusterError::Forbidden {
                    verb: self.verb.to_string(),
                    resource: self.resource.to_string(),
                    scope: self.scope(),
                },
                404 => ClusterError::NotFound { what: self.resource.to_string(), scope: self.scope() },
                code => ClusterError::Api {
                    verb: self.verb.to_string(),
                    resource: self.resource.to_string(),
                    scope: self.scope(),
                    code,
                    message: status.message,
                },
            },
            other => match certificate_problem(&other) {
                Some(reason) => ClusterError::Untrusted { server: server.to_string(), reason },
                None => ClusterError::Unreachable { server: server.to_string(), reason: root_cause(&other) },
            },
        }
    }
}

/// A TLS certificate the client refused (an unknown issuer, a name mismatch, an expired certificate),
/// found by type in the error chain.
fn certificate_problem(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let rustls = |e: &(dyn std::error::Error + 'static)| match e.downcast_ref::<rustls::Error>() {
        Some(rustls::Error::InvalidCertificate(why)) => Some(format!("{why:?}")),
        _ => None,
    };
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(why) = rustls(e) {
            return Some(why);
        }
        // An io::Error's `source()` skips the error it wraps (the TLS stack wraps rustls's error in io::Errors,
        // one inside another): look inside each.
        let mut io = e.downcast_ref::<std::io::Error>();
        while let Some(inner) = io.and_then(|io| io.get_ref()) {
            let inner: &(dyn std::error::Error + 'static) = inner;
            if let Some(why) = rustls(inner) {
                return Some(why);
            }
            io = inner.downcast_ref::<std::io::Error>();
        }
        cur = e.source();
    }
    None
}

/// The innermost message of an error chain: "connection refused" says more than "client error (Connect)".
/// The innermost message alone (`No such file or directory (os error 2)`), where outer messages repeat what
/// the caller already says (the kubeconfig's path).
pub(crate) fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let inner = cur.to_string();
    let outer = err.to_string();
    if inner == outer { outer } else { format!("{outer}: {inner}") }
}
