//! `rollout=NAME`: the canary's start, read from the cluster on every request, so the service keeps no state
//! and a restart loses nothing. The start is the creation of the ReplicaSet behind the Rollout's
//! `status.currentPodHash` (the canary's pods, created when the update began); the canary's share of traffic
//! comes from `status.canary.weights`, what the controller last wrote to the router.
//!
//! Reads: `get` on the Rollout, `list` on ReplicaSets by the `rollouts-pod-template-hash` label (the RBAC in
//! plugin-manifest/rbac.yaml grants exactly these).

use super::error::{AnalysisError, RequestError};
use super::window::{RolloutStart, Window};
use crate::cluster::resources::{REPLICA_SETS, list_with};
use crate::cluster::{Cluster, ClusterError, rollouts};
use crate::names::is_label_value;
use crate::rollouts::Rollout;
use crate::rollouts::progress::{WeightSource, desired_weights, max_traffic_weight};
use jiff::Timestamp;
use kube::api::ListParams;
use serde::Deserialize;

const HASH_LABEL: &str = "rollouts-pod-template-hash";

/// The window from the canary's start to `now`.
pub async fn window(cluster: &Cluster, namespace: &str, name: &str, now: Timestamp) -> Result<Window, AnalysisError> {
    let value = rollouts::get(cluster, namespace, name).await.map_err(|e| match e {
        ClusterError::RolloutNotFound { .. } => AnalysisError::Request(RequestError::new("rollout", e.to_string())),
        other => AnalysisError::Cluster(other),
    })?;
    let rollout = Rollout::from_value(&value).map_err(|e| AnalysisError::BadRollout(e.to_string()))?;
    let hash = rollout.status.current_pod_hash.clone();
    let mut start = RolloutStart {
        name: name.to_string(),
        pod_template_hash: None,
        replica_set: None,
        canary_weight: canary_weight(&rollout),
    };
    if hash.is_empty() {
        return Ok(Window::empty(now, start));
    }
    // The hash goes into a label selector: it must be a label value, whatever the object holds.
    if !is_label_value(&hash) {
        return Err(AnalysisError::BadRollout(format!("status.currentPodHash {hash:?} is not a label value")));
    }
    let replica_sets = list_replica_sets(cluster, namespace, &hash).await?;
    let Some(canary) = owned_by(&replica_sets, name) else {
        return Err(AnalysisError::BadRollout(format!(
            "no ReplicaSet in namespace {namespace:?} with {HASH_LABEL}={hash} belongs to Rollout {name:?}"
        )));
    };
    let created = canary.metadata.creation_timestamp.ok_or_else(|| {
        AnalysisError::BadRollout(format!("ReplicaSet {:?} has no creationTimestamp", canary.metadata.name))
    })?;
    start.replica_set = Some(canary.metadata.name.clone());
    start.pod_template_hash = Some(hash);
    Ok(Window::rollout(created, now, start))
}

#[derive(Clone, Debug, Deserialize)]
struct ReplicaSet {
    metadata: Metadata,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    name: String,
    creation_timestamp: Option<Timestamp>,
    #[serde(default)]
    owner_references: Vec<OwnerReference>,
}

#[derive(Clone, Debug, Deserialize)]
struct OwnerReference {
    kind: String,
    name: String,
}

async fn list_replica_sets(cluster: &Cluster, namespace: &str, hash: &str) -> Result<Vec<ReplicaSet>, AnalysisError> {
    let params = ListParams::default().labels(&format!("{HASH_LABEL}={hash}"));
    Ok(list_with(cluster, REPLICA_SETS, Some(namespace), &params).await?)
}

/// The ReplicaSet the Rollout owns (another Rollout's pods could carry the same hash label: same template).
fn owned_by<'a>(replica_sets: &'a [ReplicaSet], rollout: &str) -> Option<&'a ReplicaSet> {
    replica_sets.iter().find(|rs| rs.metadata.owner_references.iter().any(|o| o.kind == "Rollout" && o.name == rollout))
}

/// The canary's share of traffic, when the controller has written weights to a router. A weight computed from
/// the steps is not used: routing may not have caught up with it, and "unreachable" must rest on what routing
/// really does.
fn canary_weight(rollout: &Rollout) -> Option<f64> {
    let weights = desired_weights(rollout).filter(|w| w.source == WeightSource::Status)?;
    let max = max_traffic_weight(rollout);
    let share = f64::from(weights.canary) / f64::from(max);
    (max > 0 && (0.0..=1.0).contains(&share)).then_some(share)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn replica_set(name: &str, owner_kind: &str, owner: &str) -> ReplicaSet {
        serde_json::from_value(json!({"metadata": {
            "name": name,
            "creationTimestamp": "2026-01-31T12:00:00Z",
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": owner_kind, "name": owner, "uid": "u"}]
        }}))
        .unwrap()
    }

    #[test]
    fn the_replica_set_must_belong_to_the_rollout() {
        let sets = [replica_set("other-abc", "Rollout", "other"), replica_set("reviews-abc", "Rollout", "reviews")];
        assert_eq!(owned_by(&sets, "reviews").unwrap().metadata.name, "reviews-abc");
        assert!(owned_by(&[replica_set("reviews-abc", "Deployment", "reviews")], "reviews").is_none());
    }

    fn rollout(status: serde_json::Value, max: Option<i32>) -> Rollout {
        let routing = match max {
            Some(m) => json!({"istio": {}, "maxTrafficWeight": m}),
            None => json!({"istio": {}}),
        };
        Rollout::from_value(&json!({
            "metadata": {"name": "reviews"},
            "spec": {"strategy": {"canary": {"trafficRouting": routing, "steps": [{"setWeight": 20}]}}},
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn canary_weight_comes_only_from_weights_the_controller_wrote() {
        let written = json!({"canary": {"weights": {"canary": {"weight": 20}, "stable": {"weight": 80}}}});
        assert_eq!(canary_weight(&rollout(written.clone(), None)), Some(0.2));
        assert_eq!(canary_weight(&rollout(written, Some(1000))), Some(0.02));
        assert_eq!(canary_weight(&rollout(json!({"currentStepIndex": 0, "availableReplicas": 1}), None)), None);
    }
}
