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

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Pod {
    pub metadata: Meta,
    pub status: PodStatus,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct PodStatus {
    pub phase: Option<String>,
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
