//! The one way kubectl-vroute writes an object: GET it, transform it, and PUT the result guarded by the
//! `resourceVersion` that was read. A 409 Conflict means someone else wrote in between: the object is read
//! again and the SAME transform (an intent, not a diff) is applied and validated again, a bounded number of
//! times, so no concurrent change is ever overwritten and no edit is applied to a state it was not checked
//! against.
//!
//! Replace rather than patch: Istio route lists are atomic (a merge patch of `spec.http` replaces the whole
//! list), so only a guarded replace of the object as read keeps everyone's changes.

use super::resources::{self, ISTIO_VERSIONS, Res};
use super::{Action, Cluster, ClusterError};
pub use crate::views::result::DryRun;
use backon::{BackoffBuilder, ExponentialBuilder};
use kube::api::{GetParams, PostParams};
use kube::core::Request;
use serde_json::Value;
use std::time::Duration;

/// How many times a write is tried before giving up on conflicts.
const MAX_ATTEMPTS: u32 = 8;
/// Exponential backoff between attempts, from 20 ms doubling up to 640 ms, each wait plus a random share of
/// itself, so concurrent writers spread out instead of colliding again in step.
const BACKOFF_BASE: Duration = Duration::from_millis(20);
const BACKOFF_CAP: Duration = Duration::from_millis(640);

fn backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(BACKOFF_BASE)
        .with_max_delay(BACKOFF_CAP)
        .with_max_times(MAX_ATTEMPTS as usize - 1)
        .with_jitter()
        .build()
}
pub(super) const FIELD_MANAGER: &str = "kubectl-vroute";

/// The route kinds vroute writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    VirtualService,
    DestinationRule,
    HttpRoute,
}

impl Kind {
    fn resource(self, version: &'static str) -> Res {
        match self {
            Kind::VirtualService => resources::virtual_services(version),
            Kind::DestinationRule => resources::destination_rules(version),
            Kind::HttpRoute => resources::HTTP_ROUTES,
        }
    }

    /// The API versions to try, in order: Istio's (an older Istio serves only v1beta1); Gateway API's v1.
    fn versions(self) -> &'static [&'static str] {
        match self {
            Kind::HttpRoute => &["v1"],
            _ => &ISTIO_VERSIONS,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::VirtualService => "VirtualService",
            Kind::DestinationRule => "DestinationRule",
            Kind::HttpRoute => "HTTPRoute",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub kind: Kind,
    pub namespace: &'a str,
    pub name: &'a str,
}

/// What a write did.
#[derive(Clone, Debug)]
pub struct Written<T> {
    /// The object as last read.
    pub before: Value,
    /// The object as stored (or as it would be with a dry run); equal to `before` when nothing changed.
    pub after: Value,
    /// Whether the transform changed anything (with a dry run: whether it would have).
    pub changed: bool,
    /// What the transform reported about its change.
    pub detail: T,
    /// Conflicts met (and retried) on the way.
    pub conflicts: u32,
}

#[derive(Debug)]
pub enum WriteError<E> {
    /// The transform refused the object it was given.
    Edit(E),
    Cluster(ClusterError),
}

impl<E> From<ClusterError> for WriteError<E> {
    fn from(e: ClusterError) -> Self {
        WriteError::Cluster(e)
    }
}

/// Reads `target`, applies `transform` (which returns the new object, or `None` when nothing needs to change,
/// and a detail to report) and replaces the object guarded by the read `resourceVersion`, re-reading and
/// re-applying on conflicts. The transform must be pure: it runs once per attempt.
pub async fn update<T, E>(
    cluster: &Cluster,
    target: Target<'_>,
    dry_run: DryRun,
    mut transform: impl FnMut(&Value) -> Result<(Option<Value>, T), E>,
) -> Result<Written<T>, WriteError<E>> {
    let mut version = None;
    let mut conflicts = 0;
    let mut waits = backoff();
    for _ in 0..MAX_ATTEMPTS {
        let (res, current) = get(cluster, target, &mut version).await?;
        let (new, detail) = transform(&current).map_err(WriteError::Edit)?;
        let Some(mut new) = new else {
            return Ok(Written { after: current.clone(), before: current, changed: false, detail, conflicts });
        };
        // The guard itself: whatever the transform did, the write only lands on the version it was given.
        new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
        if dry_run == DryRun::Client {
            return Ok(Written { before: current, after: new, changed: true, detail, conflicts });
        }
        match replace(cluster, res, target, &new, dry_run == DryRun::Server).await {
            Ok(stored) => return Ok(Written { before: current, after: stored, changed: true, detail, conflicts }),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                conflicts += 1;
                if let Some(wait) = waits.next() {
                    tokio::time::sleep(wait).await;
                }
            }
            Err(e) => return Err(api_error(cluster, "update", res, target, e).into()),
        }
    }
    Err(WriteError::Cluster(ClusterError::Api {
        verb: "update".into(),
        resource: target.kind.resource(version.unwrap_or(target.kind.versions()[0])).rbac_name(),
        scope: format!(" in namespace \"{}\"", target.namespace),
        code: 409,
        message: format!(
            "{} {}/{} kept changing under this edit: gave up after {conflicts} conflicting writes (nothing was \
             overwritten); run the command again",
            target.kind.name(),
            target.namespace,
            target.name
        ),
    }))
}

/// The object as stored now (for a read-only view of what an edit command would change).
pub async fn read(cluster: &Cluster, target: Target<'_>) -> Result<Value, ClusterError> {
    get(cluster, target, &mut None).await.map(|(_, obj)| obj)
}

/// GETs the object in the first Istio API version the server serves (remembered for the later attempts).
async fn get(
    cluster: &Cluster,
    target: Target<'_>,
    version: &mut Option<&'static str>,
) -> Result<(Res, Value), ClusterError> {
    let candidates: &[&'static str] = match version {
        Some(v) => &[*v],
        None => target.kind.versions(),
    };
    for &v in candidates {
        let res = target.kind.resource(v);
        let request = Request::new(res.url(Some(target.namespace)))
            .get(target.name, &GetParams::default())
            .map_err(|e| ClusterError::Config(e.to_string()))?;
        match cluster.client.request::<Value>(request).await {
            Ok(obj) => {
                *version = Some(v);
                return Ok((res, obj));
            }
            // 404: this version is not served, or the object is gone; the next version tells which.
            Err(kube::Error::Api(status)) if status.code == 404 => continue,
            Err(e) => return Err(api_error(cluster, "get", res, target, e)),
        }
    }
    Err(ClusterError::NotFound {
        what: format!("{} {:?}", target.kind.name(), target.name),
        scope: format!(" in namespace \"{}\"", target.namespace),
    })
}

async fn replace(
    cluster: &Cluster,
    res: Res,
    target: Target<'_>,
    obj: &Value,
    server_dry_run: bool,
) -> Result<Value, kube::Error> {
    let params = PostParams { dry_run: server_dry_run, field_manager: Some(FIELD_MANAGER.into()) };
    let body = serde_json::to_vec(obj).map_err(kube::Error::SerdeError)?;
    let request = Request::new(res.url(Some(target.namespace)))
        .replace(target.name, &params, body)
        .map_err(kube::Error::BuildRequest)?;
    cluster.client.request::<Value>(request).await
}

/// The error for a failed request, naming the verb and resource as RBAC spells them.
fn api_error(cluster: &Cluster, verb: &str, res: Res, target: Target<'_>, err: kube::Error) -> ClusterError {
    let resource = res.rbac_name();
    Action { verb, resource: &resource, namespace: Some(target.namespace) }.error(&cluster.server, err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_jittered_and_ends_with_the_attempts() {
        let waits: Vec<Duration> = backoff().collect();
        assert_eq!(waits.len(), MAX_ATTEMPTS as usize - 1, "a wait between attempts, none after the last");
        for (n, wait) in waits.iter().enumerate() {
            let floor = BACKOFF_BASE.saturating_mul(1 << n).min(BACKOFF_CAP);
            assert!(*wait >= floor && *wait <= floor * 2, "wait {n}: {wait:?}");
        }
        let firsts: Vec<Duration> = (0..50).map(|_| backoff().next().unwrap()).collect();
        assert!(firsts.iter().any(|w| *w != firsts[0]), "jittered: {firsts:?}");
    }
}
