//! Argo Rollouts I/O: read one Rollout (naming close ones when it is missing), select Rollouts by label, send the
//! merge patches the pure planners in [`crate::rollouts::actions`] compute, and watch one Rollout for `wait`.
//! Nothing here decides what to write.

use super::resources::ROLLOUTS;
use super::write::FIELD_MANAGER;
use super::{Action, Cluster, ClusterError};
use crate::rollouts::{Endpoint, Patch};
use futures::{Stream, StreamExt};
use kube::api::{Api, DynamicObject, GetParams, GroupVersionKind, ListParams, PatchParams};
use kube::core::Request;
use kube::discovery::ApiResource;
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;

/// GETs Rollout `name`. When it is missing, tells a missing Rollout (naming close ones) from a cluster without
/// the Argo Rollouts CRDs: both answer 404, but only the latter also answers 404 to a list.
pub async fn get(cluster: &Cluster, namespace: &str, name: &str) -> Result<Value, ClusterError> {
    let request = Request::new(ROLLOUTS.url(Some(namespace)))
        .get(name, &GetParams::default())
        .map_err(|e| ClusterError::Config(e.to_string()))?;
    match cluster.client.request::<Value>(request).await {
        Ok(rollout) => Ok(rollout),
        Err(kube::Error::Api(status)) if status.code == 404 => Err(missing(cluster, namespace, name).await),
        Err(e) => Err(action("get", namespace).error(&cluster.server, e)),
    }
}

async fn missing(cluster: &Cluster, namespace: &str, name: &str) -> ClusterError {
    let not_found = |suggestions| ClusterError::RolloutNotFound {
        name: name.to_string(),
        namespace: namespace.to_string(),
        suggestions,
    };
    match list(cluster, namespace, &ListParams::default()).await {
        Ok(items) => {
            let names = items.iter().filter_map(|r| r["metadata"]["name"].as_str().map(str::to_string));
            not_found(crate::graph::close_names(name, names))
        }
        Err(ClusterError::NotFound { .. }) => crd_missing(cluster),
        // Allowed to get but not to list: no suggestions, the answer is still "not found".
        Err(_) => not_found(Vec::new()),
    }
}

fn crd_missing(cluster: &Cluster) -> ClusterError {
    ClusterError::CrdMissing(format!(
        "the Argo Rollouts CRDs are not installed: {} is not served by {} (install Argo Rollouts, or its CRDs: \
         kubectl apply -k https://github.com/argoproj/argo-rollouts/manifests/crds)",
        ROLLOUTS.rbac_name(),
        cluster.server
    ))
}

/// The Rollouts of `namespace` whose labels match `selector` (kubectl's syntax: `app=reviews,tier!=db`).
pub async fn select(cluster: &Cluster, namespace: &str, selector: &str) -> Result<Vec<Value>, ClusterError> {
    match list(cluster, namespace, &ListParams::default().labels(selector)).await {
        Err(ClusterError::NotFound { .. }) => Err(crd_missing(cluster)),
        other => other,
    }
}

/// Sends one merge patch to the Rollout or its `status` subresource and returns the Rollout as stored (with
/// `dry_run`, as it would be stored: the API server validates and admits the patch but keeps nothing).
pub async fn patch(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    patch: &Patch,
    dry_run: bool,
) -> Result<Value, ClusterError> {
    let params = PatchParams { dry_run, field_manager: Some(FIELD_MANAGER.into()), ..Default::default() };
    let body = kube::api::Patch::Merge(&patch.body);
    let request = Request::new(ROLLOUTS.url(Some(namespace)));
    let request = match patch.endpoint {
        Endpoint::Resource => request.patch(name, &params, &body),
        Endpoint::Status => request.patch_subresource("status", name, &params, &body),
    }
    .map_err(|e| ClusterError::Config(e.to_string()))?;
    match cluster.client.request::<Value>(request).await {
        Ok(stored) => Ok(stored),
        Err(kube::Error::Api(status)) if status.code == 403 => Err(ClusterError::RolloutPatchForbidden {
            resource: match patch.endpoint {
                Endpoint::Resource => "rollouts",
                Endpoint::Status => "rollouts/status",
            },
            namespace: namespace.to_string(),
        }),
        Err(kube::Error::Api(status)) if status.code == 404 => Err(missing(cluster, namespace, name).await),
        Err(e) => Err(action("patch", namespace).error(&cluster.server, e)),
    }
}

/// Every new state of Rollout `name`, through the watch API (a list, then a watch that kube resumes after
/// disconnects and re-lists after expiry): `Some(rollout)` per change, `None` once it is deleted. A refused
/// list or watch (RBAC, no CRD) ends the stream with an error; other failures are retried with backoff.
pub fn watch(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> impl Stream<Item = Result<Option<Value>, ClusterError>> + use<> {
    let gvk = GroupVersionKind::gvk(ROLLOUTS.group, ROLLOUTS.version, "Rollout");
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client.clone(), namespace, &ApiResource::from_gvk_with_plural(&gvk, "rollouts"));
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let (server, namespace) = (cluster.server.clone(), namespace.to_string());
    // A (re-)list that does not contain the Rollout means it is gone.
    let mut listed = false;
    watcher(api, config).default_backoff().filter_map(move |event| {
        let item = match event {
            Ok(watcher::Event::Init) => {
                listed = false;
                None
            }
            Ok(watcher::Event::InitApply(obj) | watcher::Event::Apply(obj)) => {
                listed = true;
                Some(serde_json::to_value(obj).map(Some).map_err(|e| ClusterError::Config(e.to_string())))
            }
            Ok(watcher::Event::InitDone) => (!listed).then_some(Ok(None)),
            Ok(watcher::Event::Delete(_)) => Some(Ok(None)),
            Err(watcher::Error::InitialListFailed(e @ kube::Error::Api(_))) if refused(&e) => {
                Some(Err(action("list", &namespace).error(&server, e)))
            }
            Err(watcher::Error::WatchStartFailed(e @ kube::Error::Api(_))) if refused(&e) => {
                Some(Err(action("watch", &namespace).error(&server, e)))
            }
            Err(_) => None,
        };
        std::future::ready(item)
    })
}

/// A 403 or 404 will not go away by retrying.
fn refused(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.code == 403 || status.code == 404)
}

fn action<'a>(verb: &'a str, namespace: &'a str) -> Action<'a> {
    Action { verb, resource: "rollouts.argoproj.io", namespace: Some(namespace) }
}

async fn list(cluster: &Cluster, namespace: &str, params: &ListParams) -> Result<Vec<Value>, ClusterError> {
    super::resources::list_with(cluster, ROLLOUTS, Some(namespace), params).await
}
