//! Object identity and metadata: what every object kubectl-vroute reads has, and how objects refer to each
//! other (by kind, namespace and name, never by a `"ns/name"` string to be matched).

use super::parse::nullable;
use serde::Deserialize;
use std::fmt;

pub use super::labels::Labels;

/// The kinds the model knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    VirtualService,
    DestinationRule,
    Service,
    Pod,
    Rollout,
    ReplicaSet,
    HttpRoute,
    Gateway,
    ReferenceGrant,
    Namespace,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::VirtualService => "VirtualService",
            Kind::DestinationRule => "DestinationRule",
            Kind::Service => "Service",
            Kind::Pod => "Pod",
            Kind::Rollout => "Rollout",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::HttpRoute => "HTTPRoute",
            Kind::Gateway => "Gateway",
            Kind::ReferenceGrant => "ReferenceGrant",
            Kind::Namespace => "Namespace",
        }
    }
}

/// A namespaced object, by identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

impl ObjectRef {
    pub fn new(kind: Kind, namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ObjectRef { kind, namespace: namespace.into(), name: name.into() }
    }

    /// `namespace/name`, as kubectl names an object of a known kind.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// `VirtualService prod/reviews`, for messages.
    pub fn label(&self) -> String {
        format!("{} {}/{}", self.kind.as_str(), self.namespace, self.name)
    }
}

/// `VirtualService/prod/reviews`, as findings name objects.
impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.kind.as_str(), self.namespace, self.name)
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Meta {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub namespace: String,
    #[serde(deserialize_with = "nullable")]
    pub labels: Labels,
    #[serde(deserialize_with = "nullable")]
    pub annotations: Labels,
    pub creation_timestamp: Option<String>,
    pub resource_version: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub owner_references: Vec<OwnerRef>,
    pub deletion_timestamp: Option<String>,
}

impl Meta {
    pub fn reference(&self, kind: Kind) -> ObjectRef {
        ObjectRef::new(kind, &self.namespace, &self.name)
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct OwnerRef {
    pub kind: String,
    pub name: String,
    pub controller: Option<bool>,
}

/// How `--route`, messages and the versions annotation refer to a route or rule of any route API: its name,
/// or `#index` when it has none.
pub fn route_key(name: Option<&str>, index: usize) -> String {
    name.filter(|n| !n.is_empty()).map_or_else(|| format!("#{index}"), str::to_string)
}

/// True when every label of `selector` is on `labels` (an empty selector selects everything).
pub fn selects(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}
