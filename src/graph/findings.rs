//! Findings: what is wrong, with a stable code, its severity and a one-line fix hint. The README lists every
//! code; a test holds the README, this list and the emitting code together.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Stable code, e.g. `VR101` (see the README's table).
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The object to look at, as `Kind/namespace/name` (or `Host/<host>`); empty for the whole listing.
    pub object: String,
    /// One line on how to fix it.
    pub hint: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    UnknownSubset,
    NoReadyPods,
    IdleSubsetNoReadyPods,
    UnknownHost,
    UnreachableRoute,
    DuplicateVirtualService,
    PartialSingleWeight,
    DuplicateDestination,
    RolloutWeightDrift,
    BrokenVersionChain,
    CrossVersionTraffic,
    ZeroTotalWeight,
    DuplicateSubset,
    OutlierDetectionOnCanary,
    PartialListing,
    /// The same code as [`Code::PartialListing`] (the view is incomplete), with a hint about the object.
    UnreadableObject,
    PrometheusUnavailable,
    BackendMissing,
    BackendNotGranted,
    ParentMissing,
    RouteNotAccepted,
    MixedRouteApis,
    WaypointIgnoresSourceLabels,
}

/// Every code, in the README's order.
pub const ALL: [Code; 23] = [
    Code::UnknownSubset,
    Code::NoReadyPods,
    Code::IdleSubsetNoReadyPods,
    Code::UnknownHost,
    Code::UnreachableRoute,
    Code::DuplicateVirtualService,
    Code::PartialSingleWeight,
    Code::DuplicateDestination,
    Code::RolloutWeightDrift,
    Code::BrokenVersionChain,
    Code::CrossVersionTraffic,
    Code::ZeroTotalWeight,
    Code::DuplicateSubset,
    Code::OutlierDetectionOnCanary,
    Code::PartialListing,
    Code::UnreadableObject,
    Code::PrometheusUnavailable,
    Code::BackendMissing,
    Code::BackendNotGranted,
    Code::ParentMissing,
    Code::RouteNotAccepted,
    Code::MixedRouteApis,
    Code::WaypointIgnoresSourceLabels,
];

impl Code {
    pub fn id(self) -> &'static str {
        match self {
            Code::UnknownSubset => "VR101",
            Code::NoReadyPods => "VR102",
            Code::IdleSubsetNoReadyPods => "VR103",
            Code::UnknownHost => "VR104",
            Code::UnreachableRoute => "VR105",
            Code::DuplicateVirtualService => "VR106",
            Code::PartialSingleWeight => "VR107",
            Code::DuplicateDestination => "VR108",
            Code::RolloutWeightDrift => "VR109",
            Code::BrokenVersionChain => "VR110",
            Code::CrossVersionTraffic => "VR111",
            Code::ZeroTotalWeight => "VR112",
            Code::DuplicateSubset => "VR113",
            Code::OutlierDetectionOnCanary => "VR114",
            Code::PartialListing | Code::UnreadableObject => "VR115",
            Code::PrometheusUnavailable => "VR116",
            Code::BackendMissing => "VR117",
            Code::BackendNotGranted => "VR118",
            Code::ParentMissing => "VR119",
            Code::RouteNotAccepted => "VR120",
            Code::MixedRouteApis => "VR121",
            Code::WaypointIgnoresSourceLabels => "VR122",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Code::UnknownSubset
            | Code::NoReadyPods
            | Code::UnknownHost
            | Code::BrokenVersionChain
            | Code::CrossVersionTraffic
            | Code::ZeroTotalWeight
            | Code::BackendMissing
            | Code::BackendNotGranted
            | Code::ParentMissing
            | Code::RouteNotAccepted
            | Code::WaypointIgnoresSourceLabels => Severity::Error,
            Code::IdleSubsetNoReadyPods
            | Code::UnreachableRoute
            | Code::DuplicateVirtualService
            | Code::PartialSingleWeight
            | Code::DuplicateDestination
            | Code::RolloutWeightDrift
            | Code::DuplicateSubset
            | Code::PartialListing
            | Code::UnreadableObject
            | Code::PrometheusUnavailable
            | Code::MixedRouteApis => Severity::Warning,
            Code::OutlierDetectionOnCanary => Severity::Info,
        }
    }

    pub fn hint(self) -> &'static str {
        match self {
            Code::UnknownSubset => "define the subset in the host's DestinationRule, or route to an existing one",
            Code::NoReadyPods => "scale the version up or fix the subset labels; requests to it fail with 503 UH",
            Code::IdleSubsetNoReadyPods => "no route sends it traffic yet; give it ready pods before shifting weight",
            Code::UnknownHost => "create the Service, fix the host name, or add a ServiceEntry for an external host",
            Code::UnreachableRoute => "move the route above the catch-all route, or delete it",
            Code::DuplicateVirtualService => "merge the routes into one VirtualService: sidecars use only the oldest",
            Code::PartialSingleWeight => {
                "a single destination always gets 100%; add the other version or drop the weight"
            }
            Code::DuplicateDestination => "merge the duplicate destinations into one with the summed weight",
            Code::RolloutWeightDrift => "let the Rollout controller reconcile, or use `kubectl vroute promote/abort`",
            Code::BrokenVersionChain => {
                "run `kubectl vroute pin` on the callee so each caller version has its own route"
            }
            Code::CrossVersionTraffic => "pin the callee (`kubectl vroute pin`) and check callers' version labels",
            Code::ZeroTotalWeight => "give at least one destination a positive weight",
            Code::DuplicateSubset => "keep each subset in one DestinationRule; which one applies depends on namespaces",
            Code::OutlierDetectionOnCanary => {
                "ejected canary pods hide their errors: judge the canary on client-side metrics"
            }
            Code::PartialListing => {
                "grant cluster-wide list rights (see the README's RBAC section) for a complete view"
            }
            Code::UnreadableObject => {
                "fix the field named above (its controller cannot read it either); until then edits of routes it \
                 may own are refused without --force"
            }
            Code::PrometheusUnavailable => {
                "check --prometheus-url / --prometheus-service; traffic figures are not shown"
            }
            Code::BackendMissing => "create the backend Service or fix its name; its share of requests gets HTTP 500",
            Code::BackendNotGranted => {
                "add a ReferenceGrant in the backend's namespace from HTTPRoutes of the route's namespace"
            }
            Code::ParentMissing => "create the parent Service or Gateway, or fix the parentRef",
            Code::RouteNotAccepted => "read the condition's reason; a route that is not Accepted routes nothing",
            Code::WaypointIgnoresSourceLabels => {
                "pin on a version header the callers propagate (an HTTPRoute header match), or keep sidecars for \
                 this namespace"
            }
            Code::MixedRouteApis => {
                "route the host with one API: mixing VirtualServices and HTTPRoutes is undefined in ambient mode"
            }
        }
    }

    pub fn finding(self, object: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            code: self.id(),
            severity: self.severity(),
            message: message.into(),
            object: object.into(),
            hint: self.hint(),
        }
    }
}
