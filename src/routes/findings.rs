//! Finding codes: stable identifiers, their severity and a one-line fix hint. The README lists them all.

use super::model::{Finding, Severity};

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
    PrometheusUnavailable,
}

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
            Code::PartialListing => "VR115",
            Code::PrometheusUnavailable => "VR116",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Code::UnknownSubset
            | Code::NoReadyPods
            | Code::UnknownHost
            | Code::BrokenVersionChain
            | Code::CrossVersionTraffic
            | Code::ZeroTotalWeight => Severity::Error,
            Code::IdleSubsetNoReadyPods
            | Code::UnreachableRoute
            | Code::DuplicateVirtualService
            | Code::PartialSingleWeight
            | Code::DuplicateDestination
            | Code::RolloutWeightDrift
            | Code::DuplicateSubset
            | Code::PartialListing
            | Code::PrometheusUnavailable => Severity::Warning,
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
            Code::PrometheusUnavailable => {
                "check --prometheus-url / --prometheus-service; traffic figures are not shown"
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
