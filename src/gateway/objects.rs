//! Typed views of the Gateway API objects the model reads (`gateway.networking.k8s.io`): HTTPRoute (v1),
//! Gateway (v1) and ReferenceGrant (v1beta1), the fields it decides on. Matches, timeouts and retry are also kept
//! as written ([`AsWritten`]) so `-o json` shows them verbatim. Defaults the API server applies (a rule without
//! matches matches every path, a path match without a type is a `PathPrefix`) are applied here too, so manifests
//! read offline mean what the stored objects mean.

use crate::objects::meta::{Kind, Meta, ObjectRef};
use crate::objects::parse::{AsWritten, nullable};
use serde::Deserialize;

/// The API group of every Gateway API kind.
pub const GROUP: &str = "gateway.networking.k8s.io";

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct HttpRoute {
    pub metadata: Meta,
    pub spec: HttpRouteSpec,
    pub status: RouteStatus,
}

impl HttpRoute {
    pub fn reference(&self) -> ObjectRef {
        self.metadata.reference(Kind::HttpRoute)
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRouteSpec {
    #[serde(deserialize_with = "nullable")]
    pub parent_refs: Vec<ParentRef>,
    #[serde(deserialize_with = "nullable")]
    pub hostnames: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub rules: Vec<Rule>,
}

/// `spec.parentRefs[]`: a Gateway (the default kind) or, for mesh routing (GAMMA), a Service.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct ParentRef {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    pub section_name: Option<String>,
    pub port: Option<u16>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Rule {
    pub name: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub matches: Vec<AsWritten<Match>>,
    #[serde(deserialize_with = "nullable")]
    pub filters: Vec<Filter>,
    #[serde(deserialize_with = "nullable")]
    pub backend_refs: Vec<BackendRef>,
    pub timeouts: Option<AsWritten<Timeouts>>,
    /// Experimental channel only in v1.6.
    pub retry: Option<AsWritten<Retry>>,
}

/// One match of a rule: every condition must hold (the rule's matches are ORed).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct Match {
    pub path: Option<PathMatch>,
    #[serde(deserialize_with = "nullable")]
    pub headers: Vec<ValueMatch>,
    #[serde(deserialize_with = "nullable")]
    pub query_params: Vec<ValueMatch>,
    pub method: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct PathMatch {
    #[serde(rename = "type")]
    pub kind: PathKind,
    pub value: String,
}

impl Default for PathMatch {
    fn default() -> Self {
        PathMatch { kind: PathKind::PathPrefix, value: "/".into() }
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathKind {
    Exact,
    #[default]
    PathPrefix,
    RegularExpression,
}

/// A header or query parameter condition.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase", default)]
pub struct ValueMatch {
    #[serde(rename = "type")]
    pub kind: ValueKind,
    pub name: String,
    pub value: String,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum ValueKind {
    #[default]
    Exact,
    RegularExpression,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Filter {
    #[serde(rename = "type")]
    pub kind: String,
    pub request_mirror: Option<RequestMirror>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestMirror {
    pub backend_ref: BackendRef,
    pub percent: Option<i32>,
    pub fraction: Option<Fraction>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Fraction {
    pub numerator: i32,
    pub denominator: Option<i32>,
}

/// `backendRefs[]` (and a mirror's `backendRef`): a Service by default.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct BackendRef {
    pub group: Option<String>,
    pub kind: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    pub namespace: Option<String>,
    pub port: Option<u16>,
    pub weight: Option<i64>,
}

impl BackendRef {
    /// A core Service (the default kind): the only backend kind the model resolves to pods.
    pub fn is_service(&self) -> bool {
        self.group.as_deref().unwrap_or("").is_empty() && self.kind.as_deref().unwrap_or("Service") == "Service"
    }

    /// `Service`, or `group/Kind` for other backends (`multicluster.x-k8s.io/ServiceImport`).
    pub fn kind_label(&self) -> String {
        match (self.group.as_deref().unwrap_or(""), self.kind.as_deref().unwrap_or("Service")) {
            ("", kind) => kind.to_string(),
            (group, kind) => format!("{group}/{kind}"),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Timeouts {
    pub request: Option<String>,
    pub backend_request: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Retry {
    #[serde(deserialize_with = "nullable")]
    pub codes: Vec<u16>,
    pub attempts: Option<i64>,
    pub backoff: Option<String>,
}

/// `status`, as the controllers of the route's parents write it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct RouteStatus {
    #[serde(deserialize_with = "nullable")]
    pub parents: Vec<ParentStatus>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ParentStatus {
    pub parent_ref: ParentRef,
    pub controller_name: String,
    #[serde(deserialize_with = "nullable")]
    pub conditions: Vec<Condition>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Condition {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub reason: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Gateway {
    pub metadata: Meta,
    pub spec: GatewaySpec,
}

impl Gateway {
    pub fn reference(&self) -> ObjectRef {
        self.metadata.reference(Kind::Gateway)
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewaySpec {
    pub gateway_class_name: String,
    #[serde(deserialize_with = "nullable")]
    pub listeners: Vec<Listener>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Listener {
    pub name: String,
    pub hostname: Option<String>,
    pub port: u16,
    pub protocol: String,
}

/// Lets routes of the `from` namespaces refer to objects of the grant's own namespace.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ReferenceGrant {
    pub metadata: Meta,
    pub spec: ReferenceGrantSpec,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ReferenceGrantSpec {
    #[serde(deserialize_with = "nullable")]
    pub from: Vec<GrantFrom>,
    #[serde(deserialize_with = "nullable")]
    pub to: Vec<GrantTo>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct GrantFrom {
    pub group: String,
    pub kind: String,
    pub namespace: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct GrantTo {
    pub group: String,
    pub kind: String,
    pub name: Option<String>,
}
