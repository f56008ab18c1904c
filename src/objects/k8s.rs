//! Kubernetes core and apps objects, only the fields the model reads (a full Pod is ~20x larger to decode):
//! Services (what selects a version's pods), Pods (ready or not, and who owns them), ReplicaSets (when a
//! Rollout's canary started).

use super::meta::{Kind, Labels, Meta, ObjectRef};
use super::parse::nullable;
use jiff::Timestamp;
use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Service {
    pub metadata: Meta,
    pub spec: ServiceSpec,
}

/// A namespace, for its labels (ambient mode and waypoints are enabled per namespace).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Namespace {
    pub metadata: Meta,
}

/// The label that makes a waypoint serve a namespace's or a Service's traffic (`none` opts a Service out).
pub const USE_WAYPOINT: &str = "istio.io/use-waypoint";

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ServiceSpec {
    /// `None` (no selector) means the Service's endpoints are managed by hand: no pods to count.
    pub selector: Option<Labels>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
}

/// A Pod as a list page is decoded: only what the model counts pods by. It lives for one page: the snapshot
/// keeps [`PodGroup`]s.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Pod {
    pub metadata: PodMeta,
    pub status: PodStatus,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodMeta {
    #[serde(deserialize_with = "nullable")]
    pub namespace: String,
    #[serde(deserialize_with = "nullable")]
    pub labels: Labels,
    #[serde(deserialize_with = "nullable")]
    pub owner_references: Vec<super::meta::OwnerRef>,
    pub deletion_timestamp: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PodStatus {
    #[serde(deserialize_with = "nullable")]
    pub conditions: Vec<PodCondition>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PodCondition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
}

impl Pod {
    /// Ready as a Service sees it: the Ready condition is True and the pod is not being deleted.
    pub fn is_ready(&self) -> bool {
        self.metadata.deletion_timestamp.is_none()
            && self.status.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True")
    }

    /// The workload that owns this pod, as `(kind, name)`: a ReplicaSet's Deployment is recovered from the
    /// `pod-template-hash` label, which is exactly the suffix the Deployment controller appended.
    pub fn owner(&self) -> Option<(String, String)> {
        let owner = self.metadata.owner_references.iter().find(|o| o.controller == Some(true))?;
        if owner.kind == "ReplicaSet"
            && let Some(hash) = self.metadata.labels.get("pod-template-hash")
            && let Some(deploy) = owner.name.strip_suffix(&format!("-{hash}"))
        {
            return Some(("Deployment".to_string(), deploy.to_string()));
        }
        Some((owner.kind.clone(), owner.name.clone()))
    }
}

/// Pods the model cannot tell apart (same namespace, labels and owner), counted. The model never needs a
/// pod's name, and pods come in large groups (a ReplicaSet's replicas share their labels): a cluster of
/// 48,000 pods is a few thousand groups, which is what keeps `status -A`'s memory to the model's size.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodGroup {
    pub namespace: String,
    pub labels: Labels,
    /// The controlling workload, as [`Pod::owner`] names it.
    pub owner: Option<(String, String)>,
    pub ready: usize,
    pub total: usize,
}

impl From<Pod> for PodGroup {
    fn from(pod: Pod) -> Self {
        let (ready, owner) = (pod.is_ready(), pod.owner());
        PodGroup {
            namespace: pod.metadata.namespace,
            labels: pod.metadata.labels,
            owner,
            ready: ready.into(),
            total: 1,
        }
    }
}

/// What tells pod groups apart: namespace, labels, owner.
type GroupKey = (String, Labels, Option<(String, String)>);

/// Pods folded into [`PodGroup`]s as they are read, page by page.
#[derive(Default)]
pub struct PodTally {
    groups: std::collections::HashMap<GroupKey, (usize, usize)>,
}

impl PodTally {
    pub fn add(&mut self, group: PodGroup) {
        self.count((group.namespace, group.labels, group.owner), group.ready, group.total);
    }

    fn count(&mut self, key: GroupKey, ready: usize, total: usize) {
        let counts = self.groups.entry(key).or_default();
        counts.0 += ready;
        counts.1 += total;
    }

    /// The groups, in namespace, labels and owner order (the same snapshot reads the same way every time).
    pub fn groups(self) -> Vec<PodGroup> {
        let mut groups: Vec<PodGroup> = self
            .groups
            .into_iter()
            .map(|((namespace, labels, owner), (ready, total))| PodGroup { namespace, labels, owner, ready, total })
            .collect();
        groups.sort_by(|a, b| (&a.namespace, &a.labels, &a.owner).cmp(&(&b.namespace, &b.labels, &b.owner)));
        groups
    }
}

impl FromIterator<PodGroup> for PodTally {
    fn from_iter<I: IntoIterator<Item = PodGroup>>(iter: I) -> Self {
        let mut tally = PodTally::default();
        tally.extend(iter);
        tally
    }
}

impl Extend<PodGroup> for PodTally {
    fn extend<I: IntoIterator<Item = PodGroup>>(&mut self, iter: I) {
        iter.into_iter().for_each(|g| self.add(g));
    }
}

impl PodTally {
    /// Another tally's counts added to these (another namespace's pods, read concurrently).
    pub fn merge(&mut self, other: PodTally) {
        for (key, (ready, total)) in other.groups {
            self.count(key, ready, total);
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplicaSet {
    pub metadata: ReplicaSetMeta,
    pub spec: ReplicaSetSpec,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReplicaSetSpec {
    pub template: PodTemplate,
}

/// What a workload's pods are made from: here, only their labels.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PodTemplate {
    pub metadata: PodTemplateMeta,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PodTemplateMeta {
    #[serde(deserialize_with = "nullable")]
    pub labels: Labels,
}

/// A ReplicaSet's metadata, with its creation time typed (a canary's start).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReplicaSetMeta {
    pub name: String,
    pub namespace: String,
    pub creation_timestamp: Option<Timestamp>,
    #[serde(deserialize_with = "nullable")]
    pub labels: Labels,
    #[serde(deserialize_with = "nullable")]
    pub owner_references: Vec<super::meta::OwnerRef>,
}

impl ReplicaSet {
    /// Whether Rollout `rollout` (same namespace) controls it: the reference, not a name's shape, decides.
    pub fn owned_by(&self, rollout: &ObjectRef) -> bool {
        rollout.kind == Kind::Rollout
            && rollout.namespace == self.metadata.namespace
            && self.metadata.owner_references.iter().any(|o| o.kind == "Rollout" && o.name == rollout.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_alike_are_one_group_counted_by_readiness() {
        let pod = |hash: &str, ready: &str, deleting: bool| -> Pod {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": format!("r-{hash}-x"), "namespace": "prod",
                    "labels": {"app": "r", "pod-template-hash": hash},
                    "deletionTimestamp": deleting.then_some("2026-01-01T00:00:00Z"),
                    "ownerReferences": [{"kind": "ReplicaSet", "name": format!("r-v1-{hash}"), "controller": true}]},
                "status": {"conditions": [{"type": "Ready", "status": ready}]}}))
            .unwrap()
        };
        let tally: PodTally = [pod("a1", "True", false), pod("a1", "False", false), pod("a1", "True", true)]
            .into_iter()
            .chain([pod("b2", "True", false)])
            .map(PodGroup::from)
            .collect();
        let groups = tally.groups();
        assert_eq!(groups.len(), 2, "{groups:?}");
        assert_eq!((groups[0].ready, groups[0].total), (1, 3), "a terminating pod is not ready");
        assert_eq!(groups[0].owner, Some(("Deployment".into(), "r-v1".into())));
        assert_eq!((groups[1].ready, groups[1].total), (1, 1));
    }
}
