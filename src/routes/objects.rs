//! Typed, read-only views of the Kubernetes and Istio objects the model reads. Only the fields the model
//! uses are declared; everything else is ignored on read (edits work on the raw JSON, so nothing is lost).

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub type Labels = BTreeMap<String, String>;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Meta {
    pub name: String,
    pub namespace: String,
    pub labels: Labels,
    pub annotations: Labels,
    pub creation_timestamp: Option<String>,
    pub resource_version: Option<String>,
    pub owner_references: Vec<OwnerRef>,
    pub deletion_timestamp: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OwnerRef {
    pub kind: String,
    pub name: String,
    pub controller: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct VirtualService {
    pub metadata: Meta,
    pub spec: VirtualServiceSpec,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VirtualServiceSpec {
    pub hosts: Vec<String>,
    pub gateways: Vec<String>,
    pub http: Vec<HttpRoute>,
    pub export_to: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRoute {
    pub name: Option<String>,
    /// Kept raw: `-o json` shows match blocks exactly as written, and [`HttpMatch`] reads what the model needs.
    #[serde(rename = "match")]
    pub matches: Vec<Value>,
    pub route: Vec<RouteDestination>,
    pub mirror: Option<Destination>,
    pub mirror_percentage: Option<Percent>,
    /// Deprecated integer form of `mirrorPercentage`, still accepted by Istio.
    pub mirror_percent: Option<u32>,
    pub mirrors: Vec<MirrorPolicy>,
    pub retries: Option<Value>,
    pub timeout: Option<String>,
    pub fault: Option<Value>,
    pub delegate: Option<Value>,
    pub redirect: Option<Value>,
    pub direct_response: Option<Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RouteDestination {
    pub destination: Destination,
    pub weight: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Destination {
    pub host: String,
    pub subset: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Percent {
    pub value: f64,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct MirrorPolicy {
    pub destination: Destination,
    pub percentage: Option<Percent>,
}

/// One `match` block: all its conditions must hold (AND); a route's blocks are alternatives (OR).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpMatch {
    pub name: Option<String>,
    pub uri: Option<StringMatch>,
    pub scheme: Option<StringMatch>,
    pub method: Option<StringMatch>,
    pub authority: Option<StringMatch>,
    pub headers: BTreeMap<String, StringMatch>,
    pub without_headers: BTreeMap<String, StringMatch>,
    pub query_params: BTreeMap<String, StringMatch>,
    pub source_labels: Labels,
    pub source_namespace: Option<String>,
    pub gateways: Vec<String>,
    pub port: Option<u32>,
}

impl HttpMatch {
    pub fn parse(raw: &Value) -> Self {
        serde_json::from_value(raw.clone()).unwrap_or_default()
    }

    /// True when the block tests something about the request itself (not only who sends it): such a block
    /// may or may not apply to a given caller's request.
    pub fn has_request_conditions(&self) -> bool {
        self.uri.is_some()
            || self.scheme.is_some()
            || self.method.is_some()
            || self.authority.is_some()
            || !self.headers.is_empty()
            || !self.without_headers.is_empty()
            || !self.query_params.is_empty()
            || self.port.is_some()
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct StringMatch {
    pub exact: Option<String>,
    pub prefix: Option<String>,
    pub regex: Option<String>,
}

impl std::fmt::Display for StringMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.exact, &self.prefix, &self.regex) {
            (Some(v), _, _) => write!(f, "={v}"),
            (_, Some(v), _) => write!(f, "^={v}"),
            (_, _, Some(v)) => write!(f, "~={v}"),
            // `{}` on a header means "present with any value".
            _ => write!(f, " present"),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct DestinationRule {
    pub metadata: Meta,
    pub spec: DestinationRuleSpec,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DestinationRuleSpec {
    pub host: String,
    pub subsets: Vec<Subset>,
    pub traffic_policy: Option<TrafficPolicy>,
    pub export_to: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Subset {
    pub name: String,
    pub labels: Labels,
    pub traffic_policy: Option<TrafficPolicy>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrafficPolicy {
    pub outlier_detection: Option<Value>,
    pub port_level_settings: Vec<TrafficPolicy>,
}

impl TrafficPolicy {
    pub fn has_outlier_detection(&self) -> bool {
        self.outlier_detection.is_some() || self.port_level_settings.iter().any(|p| p.outlier_detection.is_some())
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Service {
    pub metadata: Meta,
    pub spec: ServiceSpec,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ServiceSpec {
    /// `None` (no selector) means the Service's endpoints are managed by hand: no pods to count.
    pub selector: Option<Labels>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
}

/// Just enough of a Pod to count ready replicas per version (a full Pod is ~20x larger to decode).
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

    /// The workload that owns this pod, as `Kind/name`: a ReplicaSet's Deployment is recovered from the
    /// `pod-template-hash` label, which is exactly the suffix the Deployment controller appended.
    pub fn owner(&self) -> Option<String> {
        let owner = self.metadata.owner_references.iter().find(|o| o.controller == Some(true))?;
        if owner.kind == "ReplicaSet"
            && let Some(hash) = self.metadata.labels.get("pod-template-hash")
            && let Some(deploy) = owner.name.strip_suffix(&format!("-{hash}"))
        {
            return Some(format!("Deployment/{deploy}"));
        }
        Some(format!("{}/{}", owner.kind, owner.name))
    }
}

/// True when every label of `selector` is on `labels` (an empty selector selects everything).
pub fn selects(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}
