//! Typed views of Istio's VirtualService and DestinationRule (`networking.istio.io`), the fields the model
//! decides on. Match blocks, retry and fault policies are also kept as written ([`AsWritten`]): `-o json`
//! shows them verbatim, including fields a newer Istio adds. Edits write back to the object as read, never
//! from these views, so nothing they leave out is lost.

use crate::objects::meta::{Kind, Labels, Meta, ObjectRef};
use crate::objects::parse::nullable;
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;

pub use crate::objects::parse::AsWritten;

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct VirtualService {
    pub metadata: Meta,
    pub spec: VirtualServiceSpec,
}

impl VirtualService {
    pub fn reference(&self) -> ObjectRef {
        self.metadata.reference(Kind::VirtualService)
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct VirtualServiceSpec {
    #[serde(deserialize_with = "nullable")]
    pub hosts: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub gateways: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub http: Vec<HttpRoute>,
    #[serde(deserialize_with = "nullable")]
    pub export_to: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRoute {
    pub name: Option<String>,
    #[serde(rename = "match", deserialize_with = "nullable")]
    pub matches: Vec<AsWritten<HttpMatch>>,
    #[serde(deserialize_with = "nullable")]
    pub route: Vec<RouteDestination>,
    pub mirror: Option<Destination>,
    pub mirror_percentage: Option<Percent>,
    /// Deprecated integer form of `mirrorPercentage`, still accepted by Istio.
    pub mirror_percent: Option<u32>,
    #[serde(deserialize_with = "nullable")]
    pub mirrors: Vec<MirrorPolicy>,
    pub retries: Option<AsWritten<Retries>>,
    pub timeout: Option<String>,
    pub fault: Option<AsWritten<Fault>>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
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

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Percent {
    pub value: f64,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct MirrorPolicy {
    pub destination: Destination,
    pub percentage: Option<Percent>,
}

/// One `match` block: all its conditions must hold (AND); a route's blocks are alternatives (OR).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpMatch {
    pub name: Option<String>,
    pub uri: Option<StringMatch>,
    pub scheme: Option<StringMatch>,
    pub method: Option<StringMatch>,
    pub authority: Option<StringMatch>,
    #[serde(deserialize_with = "nullable")]
    pub headers: BTreeMap<String, StringMatch>,
    #[serde(deserialize_with = "nullable")]
    pub without_headers: BTreeMap<String, StringMatch>,
    #[serde(deserialize_with = "nullable")]
    pub query_params: BTreeMap<String, StringMatch>,
    #[serde(deserialize_with = "nullable")]
    pub source_labels: Labels,
    pub source_namespace: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub gateways: Vec<String>,
    pub port: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct StringMatch {
    pub exact: Option<String>,
    pub prefix: Option<String>,
    pub regex: Option<String>,
}

/// `retries`: shown in tables; the policy as written goes to `-o json`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Retries {
    pub attempts: Option<i64>,
    pub per_try_timeout: Option<String>,
    pub retry_on: Option<String>,
}

/// `fault`: delay and abort injection.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Fault {
    pub delay: Option<FaultDelay>,
    pub abort: Option<FaultAbort>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct FaultDelay {
    pub fixed_delay: Option<String>,
    pub percentage: Option<Percent>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct FaultAbort {
    pub http_status: Option<i64>,
    pub grpc_status: Option<String>,
    pub percentage: Option<Percent>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct DestinationRule {
    pub metadata: Meta,
    pub spec: DestinationRuleSpec,
}

impl DestinationRule {
    pub fn reference(&self) -> ObjectRef {
        self.metadata.reference(Kind::DestinationRule)
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct DestinationRuleSpec {
    pub host: String,
    #[serde(deserialize_with = "nullable")]
    pub subsets: Vec<Subset>,
    pub traffic_policy: Option<TrafficPolicy>,
    #[serde(deserialize_with = "nullable")]
    pub export_to: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Subset {
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub labels: Labels,
    pub traffic_policy: Option<TrafficPolicy>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct TrafficPolicy {
    /// Only its presence matters here.
    pub outlier_detection: Option<IgnoredAny>,
    #[serde(deserialize_with = "nullable")]
    pub port_level_settings: Vec<TrafficPolicy>,
}

impl TrafficPolicy {
    pub fn has_outlier_detection(&self) -> bool {
        self.outlier_detection.is_some() || self.port_level_settings.iter().any(|p| p.outlier_detection.is_some())
    }
}
