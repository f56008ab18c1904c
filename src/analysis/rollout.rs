//! `rollout=NAME`: the canary's start, read from the cluster on every request, so the service keeps no state
//! and a restart loses nothing. The start is the creation of the ReplicaSet behind the Rollout's
//! `status.currentPodHash` (the canary's pods, created when the update began); the canary's share of traffic
//! comes from `status.canary.weights`, what the controller last wrote to the router; and the arms' values, unless
//! the request names them, from the pod templates of the canary and the stable ReplicaSets (`status.stableRS`),
//! so templates need no per-release arguments.
//!
//! Reads: `get` on the Rollout, `list` on ReplicaSets by the `rollouts-pod-template-hash` label (the RBAC in
//! plugin-manifest/rbac.yaml grants exactly these).

use super::error::AnalysisError;
use super::window::{RolloutStart, Window};
use crate::cluster::resources::{REPLICA_SETS, list_with};
use crate::cluster::{Cluster, ClusterError, rollouts};
use crate::metrics::canary::ArmLabel;
use crate::names::is_label_value;
use crate::objects::k8s::ReplicaSet;
use crate::objects::{Kind, ObjectRef};
use crate::rollouts::Rollout;
use crate::rollouts::progress::{WeightSource, desired_weights, max_traffic_weight};
use jiff::Timestamp;
use kube::api::ListParams;

const HASH_LABEL: &str = "rollouts-pod-template-hash";

/// The window from the canary's start to `now`, in steps of `step` seconds.
pub async fn window(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    label: ArmLabel,
    now: Timestamp,
    step: i64,
) -> Result<Window, AnalysisError> {
    let value = rollouts::get(cluster, namespace, name).await.map_err(|e| match e {
        ClusterError::RolloutNotFound { .. } => AnalysisError::RolloutNotFound(e),
        other => AnalysisError::Cluster(other),
    })?;
    let rollout = Rollout::from_value(&value).map_err(|e| AnalysisError::BadRollout(e.to_string()))?;
    let hash = rollout.status.current_pod_hash.clone();
    let stable = rollout.status.stable_rs.clone();
    let mut start = RolloutStart {
        name: name.to_string(),
        pod_template_hash: None,
        replica_set: None,
        canary_value: None,
        baseline_value: None,
        canary_weight: canary_weight(&rollout),
    };
    // No canary yet, or the canary is the stable version (no update in progress): nothing to compare.
    if hash.is_empty() || hash == stable {
        return Ok(Window::empty(now, start, step));
    }
    // The hashes go into a label selector: they must be label values, whatever the object holds.
    for h in [&hash, &stable].into_iter().filter(|h| !h.is_empty()) {
        if !is_label_value(h) {
            return Err(AnalysisError::BadRollout(format!("a pod template hash {h:?} is not a label value")));
        }
    }
    let hashes = if stable.is_empty() { hash.clone() } else { format!("{hash},{stable}") };
    let replica_sets = list_replica_sets(cluster, namespace, &hashes).await?;
    let owner = ObjectRef::new(Kind::Rollout, namespace, name);
    let of = |h: &str| {
        replica_sets.iter().find(|rs| rs.owned_by(&owner) && rs.metadata.labels.get(HASH_LABEL).is_some_and(|l| l == h))
    };
    let Some(canary) = of(&hash) else {
        return Err(AnalysisError::BadRollout(format!(
            "no ReplicaSet in namespace {namespace:?} with {HASH_LABEL}={hash} belongs to Rollout {name:?}"
        )));
    };
    let created = canary.metadata.creation_timestamp.ok_or_else(|| {
        AnalysisError::BadRollout(format!("ReplicaSet {:?} has no creationTimestamp", canary.metadata.name))
    })?;
    start.canary_value = arm_value(&rollout, canary, label, Arm::Canary);
    start.baseline_value = of(&stable).and_then(|rs| arm_value(&rollout, rs, label, Arm::Baseline));
    start.replica_set = Some(canary.metadata.name.clone());
    start.pod_template_hash = Some(hash);
    Ok(Window::rollout(created, now, start, step))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Arm {
    Canary,
    Baseline,
}

/// The value an arm's series carry for `label`, as Istio derives it from the pod template (or, for host-level
/// arms, the Rollout's canary and stable Services).
fn arm_value(rollout: &Rollout, rs: &ReplicaSet, label: ArmLabel, arm: Arm) -> Option<String> {
    let labels = &rs.spec.template.metadata.labels;
    let value = match label {
        ArmLabel::DestinationVersion => labels.get("version").cloned(),
        // Istio's own fallback chain for the canonical revision.
        ArmLabel::DestinationCanonicalRevision => {
            ["service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"]
                .iter()
                .find_map(|k| labels.get(k).cloned())
                .or_else(|| Some("latest".to_string()))
        }
        ArmLabel::DestinationServiceName => rollout.canary().map(|c| match arm {
            Arm::Canary => c.canary_service.clone(),
            Arm::Baseline => c.stable_service.clone(),
        }),
        // A Rollout's canary and stable pods belong to one workload: the label cannot tell them apart.
        ArmLabel::DestinationWorkload => None,
    };
    value.filter(|v| is_label_value(v))
}

async fn list_replica_sets(cluster: &Cluster, namespace: &str, hashes: &str) -> Result<Vec<ReplicaSet>, AnalysisError> {
    let params = ListParams::default().labels(&format!("{HASH_LABEL} in ({hashes})"));
    Ok(list_with(cluster, REPLICA_SETS, Some(namespace), &params).await?)
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

    fn replica_set(owner_kind: &str, labels: serde_json::Value) -> ReplicaSet {
        serde_json::from_value(json!({"metadata": {
            "name": "reviews-abc", "namespace": "prod",
            "creationTimestamp": "2026-01-31T12:00:00Z",
            "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": owner_kind, "name": "reviews", "uid": "u"}]
        }, "spec": {"template": {"metadata": {"labels": labels}}}}))
        .unwrap()
    }

    #[test]
    fn the_replica_set_must_belong_to_the_rollout() {
        let rollout = ObjectRef::new(Kind::Rollout, "prod", "reviews");
        assert!(replica_set("Rollout", json!({})).owned_by(&rollout));
        assert!(!replica_set("Deployment", json!({})).owned_by(&rollout));
        assert!(!replica_set("Rollout", json!({})).owned_by(&ObjectRef::new(Kind::Rollout, "stage", "reviews")));
    }

    #[test]
    fn arms_come_from_the_pod_templates_as_istio_reads_them() {
        let ro = rollout(json!({}), None);
        let rs = replica_set("Rollout", json!({"app": "reviews", "version": "v2"}));
        assert_eq!(arm_value(&ro, &rs, ArmLabel::DestinationVersion, Arm::Canary).as_deref(), Some("v2"));
        assert_eq!(arm_value(&ro, &rs, ArmLabel::DestinationCanonicalRevision, Arm::Canary).as_deref(), Some("v2"));
        let bare = replica_set("Rollout", json!({"app": "reviews"}));
        assert_eq!(arm_value(&ro, &bare, ArmLabel::DestinationVersion, Arm::Canary), None);
        assert_eq!(
            arm_value(&ro, &bare, ArmLabel::DestinationCanonicalRevision, Arm::Canary).as_deref(),
            Some("latest")
        );
        let hosts = Rollout::from_value(&json!({"metadata": {"name": "reviews"}, "spec": {"strategy": {"canary": {
            "canaryService": "reviews-canary", "stableService": "reviews-stable"}}}}))
        .unwrap();
        assert_eq!(
            arm_value(&hosts, &bare, ArmLabel::DestinationServiceName, Arm::Baseline).as_deref(),
            Some("reviews-stable")
        );
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
