//! What a Rollout with `spec.strategy.canary.trafficRouting.istio` owns, i.e. what its controller rewrites on
//! every reconcile (even while paused), so that route editing can refuse to touch it and `status` can name the
//! owner. Upstream: `rollout/trafficrouting/istio/istio.go` (`SetWeight`, `getHttpRouteIndexesToPatch`,
//! `processRoutes`, `getHost`, `UpdateHash`, `orderRoutes`), `utils/istio/istio.go`
//! (`GetVirtualServiceNamespaceName`, `MultipleVirtualServiceConfigured`), `rollout/trafficrouting/
//! service_helper.go` (`GetStableAndCanaryServices`).
//!
//! Only http routes are modelled: upstream also sets the weights of `tlsRoutes` / `tcpRoutes` (and of the first
//! tls/tcp route when those lists are omitted), which vroute does not edit.

use super::model::{Istio, IstioVirtualService, Rollout};

/// Everything one Rollout's Istio traffic routing claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IstioOwnership {
    /// The owning Rollout, `namespace` and `name`.
    pub rollout_namespace: String,
    pub rollout_name: String,
    pub virtual_services: Vec<VirtualServiceClaim>,
    /// `trafficRouting.managedRoutes`: http routes the controller creates and deletes (header and mirror steps)
    /// in each of its VirtualServices, where it also keeps them first.
    pub managed_routes: Vec<String>,
    /// Subset mode only.
    pub destination_rule: Option<DestinationRuleClaim>,
    /// Host mode: the Services (in the Rollout's namespace) whose selectors the controller sets, and the short
    /// host names it recognises in routes. Empty when not configured.
    pub canary_service: String,
    pub stable_service: String,
    /// Experiment services (`status.canary.weights.additional`) the controller currently gives weight to.
    pub experiment_services: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualServiceClaim {
    pub namespace: String,
    pub name: String,
    pub routes: RouteSelection,
}

/// Which http routes of a VirtualService get their weights set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteSelection {
    /// The routes named in `routes`.
    Named(Vec<String>),
    /// `routes` omitted: the only http route (named or not) when there is exactly one, else the first unnamed
    /// one, else none.
    Default,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestinationRuleClaim {
    /// Always the Rollout's namespace: upstream reads the DestinationRule there and takes `name` verbatim (no
    /// `name.namespace` form, unlike VirtualServices).
    pub namespace: String,
    pub name: String,
    /// Subsets whose `rollouts-pod-template-hash` label the controller rewrites.
    pub canary_subset: String,
    pub stable_subset: String,
    /// Subsets whose route weights the controller leaves alone (it subtracts them from the stable weight).
    pub additional_subsets: Vec<String>,
}

/// Why a Rollout owns an http route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteClaim {
    /// Named in `virtualService(s).routes`.
    Listed,
    /// `routes` omitted and this is the route the controller picks (see [`RouteSelection::Default`]).
    Default,
    /// Named in `managedRoutes`.
    Managed,
}

/// What the controller does with one destination of a route it owns (upstream `processRoutes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DestinationRole {
    /// Set to the canary weight.
    Canary,
    /// Set to what canary and additional destinations leave (`100 - canary - additional`, at least 0).
    Stable,
    /// Set to the experiment's weight.
    Experiment,
    /// In `additionalSubsetNames`: weight kept.
    AdditionalSubset,
    /// Anything else: removed from the route when its weight is not 0 (a 0-weight one stays).
    Foreign,
    /// Empty host or one starting with `.`: upstream skips it entirely.
    Ignored,
}

impl IstioOwnership {
    /// `None` unless the Rollout is a canary with `trafficRouting.istio`.
    pub fn of(ro: &Rollout) -> Option<IstioOwnership> {
        let canary = ro.canary()?;
        let routing = canary.traffic_routing.as_ref()?;
        let istio = routing.istio.as_ref()?;
        let namespace = &ro.metadata.namespace;
        let virtual_services = configured_virtual_services(istio)
            .iter()
            .filter_map(|vs| {
                let (name, vs_namespace) = split_virtual_service_name(&vs.name);
                // An empty name cannot be fetched; upstream `GetRolloutVirtualServiceKeys` skips it too.
                (!name.is_empty()).then(|| VirtualServiceClaim {
                    namespace: if vs_namespace.is_empty() { namespace.clone() } else { vs_namespace.to_owned() },
                    name: name.to_owned(),
                    routes: if vs.routes.is_empty() {
                        RouteSelection::Default
                    } else {
                        RouteSelection::Named(vs.routes.clone())
                    },
                })
            })
            .collect();
        let (stable_service, canary_service) = stable_and_canary_services(ro);
        Some(IstioOwnership {
            rollout_namespace: namespace.clone(),
            rollout_name: ro.name().to_owned(),
            virtual_services,
            managed_routes: routing.managed_routes.iter().map(|r| r.name.clone()).collect(),
            destination_rule: istio.destination_rule.as_ref().map(|dr| DestinationRuleClaim {
                namespace: namespace.clone(),
                name: dr.name.clone(),
                canary_subset: dr.canary_subset_name.clone(),
                stable_subset: dr.stable_subset_name.clone(),
                additional_subsets: dr.additional_subset_names.clone(),
            }),
            canary_service,
            stable_service,
            experiment_services: ro
                .status
                .canary
                .weights
                .iter()
                .flat_map(|w| w.additional.iter().map(|d| d.service_name.clone()))
                .collect(),
        })
    }

    /// The claim on VirtualService `namespace/name`, if this Rollout routes through it.
    pub fn virtual_service(&self, namespace: &str, name: &str) -> Option<&VirtualServiceClaim> {
        self.virtual_services.iter().find(|vs| vs.namespace == namespace && vs.name == name)
    }

    /// Whether the http route at `index` of VirtualService `namespace/name` is owned, and why. `route_names` are
    /// the names of ALL its http routes in order (`None` or `""` for an unnamed one): which route is the default
    /// one depends on the others.
    pub fn http_route_claim(
        &self,
        namespace: &str,
        name: &str,
        route_names: &[Option<&str>],
        index: usize,
    ) -> Option<RouteClaim> {
        let vs = self.virtual_service(namespace, name)?;
        let route_name = route_names.get(index).copied().flatten().filter(|n| !n.is_empty());
        let selected = match &vs.routes {
            RouteSelection::Named(names) => route_name.is_some_and(|n| names.iter().any(|l| l == n)),
            RouteSelection::Default => default_route_index(route_names) == Some(index),
        };
        if selected {
            let claim =
                if matches!(vs.routes, RouteSelection::Named(_)) { RouteClaim::Listed } else { RouteClaim::Default };
            return Some(claim);
        }
        route_name.filter(|n| self.managed_routes.iter().any(|m| m == n)).map(|_| RouteClaim::Managed)
    }

    /// Whether the controller rewrites subset `subset` of DestinationRule `namespace/name`.
    pub fn owns_subset(&self, namespace: &str, name: &str, subset: &str) -> bool {
        self.destination_rule.as_ref().is_some_and(|dr| {
            dr.namespace == namespace
                && dr.name == name
                && !subset.is_empty()
                && (subset == dr.canary_subset || subset == dr.stable_subset)
        })
    }

    /// Whether the controller sets the selector of Service `namespace/name` (host mode).
    pub fn owns_service(&self, namespace: &str, name: &str) -> bool {
        namespace == self.rollout_namespace
            && !name.is_empty()
            && (name == self.canary_service || name == self.stable_service)
    }

    /// The role of a destination (`host`, `subset`) in a route this Rollout owns, as upstream `processRoutes`
    /// decides it. Hosts are compared by their first label only (`reviews.prod.svc.cluster.local` is
    /// `reviews`, whatever its namespace), as upstream `getHost` does.
    pub fn destination_role(&self, host: &str, subset: Option<&str>) -> DestinationRole {
        // Upstream `getHost`: up to the first dot; a host starting with a dot gives an empty name.
        let short = host.split_once('.').map_or(host, |(head, _)| head);
        if short.is_empty() {
            return DestinationRole::Ignored;
        }
        // Upstream only compares non-empty subsets, so an unset subset name never matches.
        let subset = subset.unwrap_or_default();
        let is = |name: &str| !subset.is_empty() && subset == name;
        let dr = self.destination_rule.as_ref();
        if short == self.canary_service || dr.is_some_and(|dr| is(&dr.canary_subset)) {
            DestinationRole::Canary
        } else if short == self.stable_service || dr.is_some_and(|dr| is(&dr.stable_subset)) {
            DestinationRole::Stable
        } else if self.experiment_services.iter().any(|s| s == short) {
            DestinationRole::Experiment
        } else if dr.is_some_and(|dr| dr.additional_subsets.iter().any(|a| is(a))) {
            DestinationRole::AdditionalSubset
        } else {
            DestinationRole::Foreign
        }
    }
}

/// Upstream `getVirtualServices`: the `virtualServices` list whenever the field is present (even empty), else
/// the single `virtualService`. Setting both is an InvalidSpec upstream; the list wins here as in the
/// controller's reconciler.
fn configured_virtual_services(istio: &Istio) -> &[IstioVirtualService] {
    match (&istio.virtual_services, &istio.virtual_service) {
        (Some(list), _) => list,
        (None, Some(single)) => std::slice::from_ref(single),
        (None, None) => &[],
    }
}

/// Upstream `GetVirtualServiceNamespaceName`: `name` or `name.namespace`; anything after a second dot is ignored
/// (`vs.prod.svc.cluster.local` is `vs` in `prod`). Returns `(name, namespace)`, the namespace empty when absent.
fn split_virtual_service_name(reference: &str) -> (&str, &str) {
    let mut parts = reference.split('.');
    (parts.next().unwrap_or_default(), parts.next().unwrap_or_default())
}

/// Upstream `getHttpRouteIndexesToPatch` with no route names.
fn default_route_index(route_names: &[Option<&str>]) -> Option<usize> {
    if route_names.len() == 1 {
        return Some(0);
    }
    route_names.iter().position(|n| n.is_none_or(str::is_empty))
}

/// Upstream `GetStableAndCanaryServices(ro, false)`: `(stable, canary)`. Ping-pong services count only when
/// neither `stableService` nor `canaryService` is set; which of ping and pong is stable is in
/// `status.canary.stablePingPong`.
fn stable_and_canary_services(ro: &Rollout) -> (String, String) {
    let Some(canary) = ro.canary() else { return Default::default() };
    match &canary.ping_pong {
        Some(pp) if canary.stable_service.is_empty() && canary.canary_service.is_empty() => {
            if ro.status.canary.stable_ping_pong == "ping" {
                (pp.ping_service.clone(), pp.pong_service.clone())
            } else {
                (pp.pong_service.clone(), pp.ping_service.clone())
            }
        }
        _ => (canary.stable_service.clone(), canary.canary_service.clone()),
    }
}

#[cfg(test)]
#[path = "ownership_tests.rs"]
mod tests;

/// The HTTPRoutes a Rollout's Gateway API traffic-router plugin rewrites: in each, the weights of the backends
/// that are its canary and stable Services.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayOwnership {
    pub routes: Vec<crate::objects::ObjectRef>,
    /// The Rollout's namespace, where its Services are.
    pub namespace: String,
    pub canary_service: String,
    pub stable_service: String,
}

/// Which of a Rollout's Services a backend is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceRole {
    Canary,
    Stable,
}

impl GatewayOwnership {
    /// `None` unless the Rollout is a canary with `trafficRouting.plugins["argoproj-labs/gatewayAPI"]`.
    pub fn of(ro: &Rollout) -> Option<GatewayOwnership> {
        let canary = ro.canary()?;
        let plugin = canary.traffic_routing.as_ref()?.plugins.gateway_api.as_ref()?;
        let namespace = plugin.namespace.clone().unwrap_or_else(|| ro.metadata.namespace.clone());
        let names = plugin.http_route.iter().cloned().chain(plugin.http_routes.iter().map(|r| r.name.clone()));
        let routes = names
            .filter(|n| !n.is_empty())
            .map(|n| crate::objects::ObjectRef::new(crate::objects::Kind::HttpRoute, &namespace, n))
            .collect();
        Some(GatewayOwnership {
            routes,
            namespace: ro.metadata.namespace.clone(),
            canary_service: canary.canary_service.clone(),
            stable_service: canary.stable_service.clone(),
        })
    }

    /// Whether the plugin rewrites rule `rule` of HTTPRoute `route`: the route is one it names, and the rule
    /// sends to its canary or stable Service.
    pub fn manages(&self, route: &crate::gateway::objects::HttpRoute, rule: &crate::gateway::objects::Rule) -> bool {
        self.routes.contains(&route.reference())
            && rule.backend_refs.iter().any(|b| self.role(b, &route.metadata.namespace).is_some())
    }

    /// Which of the Rollout's Services backend `b` of a route in `route_namespace` is.
    pub fn role(&self, b: &crate::gateway::objects::BackendRef, route_namespace: &str) -> Option<ServiceRole> {
        let service = b.service(route_namespace).filter(|s| s.namespace == self.namespace)?;
        match service.name {
            n if n == self.canary_service => Some(ServiceRole::Canary),
            n if n == self.stable_service => Some(ServiceRole::Stable),
            _ => None,
        }
    }
}
