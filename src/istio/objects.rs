//! Typed views of Istio's VirtualService and DestinationRule (`networking.istio.io`), the fields the model
//! decides on. Match blocks, retry and fault policies are also kept as written ([`AsWritten`]): `-o json`
//! shows them verbatim, including fields a newer Istio adds. Edits write back to the object as read, never
//! from these views, so nothing they leave out is lost.

use crate::objects::meta::{Kind, Labels, Meta, ObjectRef};
use crate::objects::parse::nullable;
use serde::Deserialize;
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
    /// Read leniently (as written): a field of a type vroute does not expect must not hide the rule.
    pub outlier_detection: Option<serde_json::Value>,
    pub connection_pool: Option<serde_json::Value>,
    #[serde(deserialize_with = "nullable")]
    pub port_level_settings: Vec<TrafficPolicy>,
}

/// A version's circuit breaking: the connection limits and outlier detection its proxies apply (`status`
/// shows it; `circuit-break` writes it). Each `None` is a limit not set.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CircuitBreaker {
    pub max_connections: Option<u64>,
    pub max_pending_requests: Option<u64>,
    pub consecutive_5xx_errors: Option<u64>,
    pub base_ejection_time: Option<String>,
    pub max_ejection_percent: Option<u64>,
}

impl CircuitBreaker {
    /// What a subset's proxies apply: Istio takes each of `connectionPool` and `outlierDetection` from the
    /// subset's policy when it sets one, else from the rule's.
    pub fn effective(subset: Option<&TrafficPolicy>, rule: Option<&TrafficPolicy>) -> Option<CircuitBreaker> {
        let pick =
            |f: fn(&TrafficPolicy) -> Option<&serde_json::Value>| subset.and_then(f).or_else(|| rule.and_then(f));
        let pool = pick(|p| p.connection_pool.as_ref());
        let outlier = pick(|p| p.outlier_detection.as_ref());
        if pool.is_none() && outlier.is_none() {
            return None;
        }
        let n = |v: Option<&serde_json::Value>, path: &[&str]| {
            path.iter().try_fold(v?, |v, k| v.get(k)).and_then(serde_json::Value::as_u64)
        };
        Some(CircuitBreaker {
            max_connections: n(pool, &["tcp", "maxConnections"]),
            max_pending_requests: n(pool, &["http", "http1MaxPendingRequests"]),
            consecutive_5xx_errors: n(outlier, &["consecutive5xxErrors"]),
            base_ejection_time: outlier
                .and_then(|o| o.get("baseEjectionTime"))
                .and_then(|t| t.as_str())
                .map(str::to_string),
            max_ejection_percent: n(outlier, &["maxEjectionPercent"]),
        })
    }

    /// `100 conn, 10 pending`: the connection limits alone (the table's column; outlier detection has its own),
    /// or `None` when no limit is set.
    pub fn limits(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(n) = self.max_connections {
            parts.push(format!("{n} conn"));
        }
        if let Some(n) = self.max_pending_requests {
            parts.push(format!("{n} pending"));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// `100 conn, 10 pending, eject after 5 5xx for 30s`, or `on` when only other settings are present.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self.limits().into_iter().collect();
        if let Some(n) = self.consecutive_5xx_errors {
            let time = self.base_ejection_time.as_ref().map(|t| format!(" for {t}")).unwrap_or_default();
            parts.push(format!("eject after {n} 5xx{time}"));
        }
        if parts.is_empty() { "on".into() } else { parts.join(", ") }
    }
}

impl TrafficPolicy {
    pub fn has_outlier_detection(&self) -> bool {
        self.outlier_detection.is_some() || self.port_level_settings.iter().any(|p| p.outlier_detection.is_some())
    }
}
