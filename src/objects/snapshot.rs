//! Everything the route graph reads, parsed once at the boundary (the cluster, or manifest files), with what
//! could not be read and why: an object that does not parse is never dropped silently, and a listing the user
//! may not make is recorded as such, so that decisions rest on what is known and say what is not.

use super::k8s::{Namespace, PodGroup, Service};
use super::meta::ObjectRef;
use super::parse::FieldError;
use crate::gateway::{Gateway, HttpRoute, ReferenceGrant};
use crate::istio::{DestinationRule, VirtualService};
use crate::rollouts::Rollout;
use std::fmt;

#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub virtual_services: Vec<VirtualService>,
    pub destination_rules: Vec<DestinationRule>,
    pub services: Vec<Service>,
    /// Pods, counted in groups the model cannot tell apart.
    pub pods: Vec<PodGroup>,
    pub rollouts: Vec<Rollout>,
    /// Gateway API objects (none when its CRDs are not installed).
    pub http_routes: Vec<HttpRoute>,
    pub gateways: Vec<Gateway>,
    pub reference_grants: Vec<ReferenceGrant>,
    /// Namespaces, for their labels (waypoints); empty without the right to list them.
    pub namespaces: Vec<Namespace>,
    /// Listed objects that could not be read.
    pub unreadable: Vec<Unreadable>,
    /// Listings that could not cover everything the view asked for.
    pub partial: Vec<PartialListing>,
}

/// An object that was listed but could not be read as the model reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct Unreadable {
    pub object: ObjectRef,
    pub error: FieldError,
    /// For a Rollout, the fields that decide what its traffic routing owns, when those at least can be read (a
    /// bad step does not hide which routes it claims); `None` when not even they can.
    pub routing: Option<Rollout>,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}: {}", self.object.kind.as_str(), self.object.namespace, self.object.name, self.error)
    }
}

/// A listing that could not be made as wide as the view needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartialListing {
    pub resource: Listable,
    pub listed: Listed,
    pub reason: Shortfall,
}

/// The resources whose listing may be partial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listable {
    VirtualServices,
    DestinationRules,
    Rollouts,
    HttpRoutes,
    Gateways,
    ReferenceGrants,
}

impl Listable {
    /// The name RBAC rules use.
    pub fn rbac_name(self) -> &'static str {
        match self {
            Listable::VirtualServices => "virtualservices.networking.istio.io",
            Listable::DestinationRules => "destinationrules.networking.istio.io",
            Listable::Rollouts => "rollouts.argoproj.io",
            Listable::HttpRoutes => "httproutes.gateway.networking.k8s.io",
            Listable::Gateways => "gateways.gateway.networking.k8s.io",
            Listable::ReferenceGrants => "referencegrants.gateway.networking.k8s.io",
        }
    }
}

/// What was listed instead of everything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listed {
    /// Only this namespace.
    Namespace(String),
    /// Nothing at all.
    Nothing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shortfall {
    /// RBAC does not allow the wider list.
    Forbidden,
}

impl fmt::Display for PartialListing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let resource = self.resource.rbac_name();
        match (&self.listed, self.resource) {
            (Listed::Namespace(ns), _) => write!(
                f,
                "{resource} listed in namespace {ns} only (no cluster-wide list permission): objects in other \
                 namespaces are not shown"
            ),
            (Listed::Nothing, Listable::Rollouts) => {
                write!(f, "cannot list {resource}: Rollout ownership is not shown")
            }
            (Listed::Nothing, _) => write!(f, "cannot list {resource}: its objects are not shown"),
        }
    }
}

impl Snapshot {
    /// Whether no Rollout at all could be listed: which routes Rollouts own is then unknown.
    pub fn rollouts_unlisted(&self) -> bool {
        self.partial.iter().any(|p| p.resource == Listable::Rollouts && p.listed == Listed::Nothing)
    }

    /// The snapshot with one VirtualService replaced by (or extended with) a fresher copy: the object an edit
    /// is about to transform, so its context describes exactly that object.
    pub fn with_virtual_service(&self, vs: VirtualService) -> Snapshot {
        let mut snap = self.clone();
        let same =
            |o: &VirtualService| o.metadata.namespace == vs.metadata.namespace && o.metadata.name == vs.metadata.name;
        snap.virtual_services.retain(|o| !same(o));
        snap.virtual_services.push(vs);
        snap
    }

    /// The same for a DestinationRule.
    pub fn with_destination_rule(&self, dr: DestinationRule) -> Snapshot {
        let mut snap = self.clone();
        let same =
            |o: &DestinationRule| o.metadata.namespace == dr.metadata.namespace && o.metadata.name == dr.metadata.name;
        snap.destination_rules.retain(|o| !same(o));
        snap.destination_rules.push(dr);
        snap
    }

    /// The same for an HTTPRoute.
    pub fn with_http_route(&self, route: HttpRoute) -> Snapshot {
        let mut snap = self.clone();
        snap.http_routes.retain(|o| o.reference() != route.reference());
        snap.http_routes.push(route);
        snap
    }
}
