//! Why an edit was refused. Every message names the object and field at fault and says what to do instead:
//! these are printed as they are, after `error: `.

use crate::graph::ModelError;
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum EditError {
    /// The service itself is unknown (not a refusal: nothing was found to edit).
    #[error(transparent)]
    Model(#[from] ModelError),

    #[error(
        "no VirtualService has {host} in its hosts and no HTTPRoute routes it, so there are no routes to edit{}",
        routed_by_hint(.routed_by)
    )]
    NoVirtualService { host: String, routed_by: Vec<String> },
    /// Routed by HTTPRoutes only: their edits are not built yet, and a VirtualService added beside them would
    /// make the routing undefined (VR121), so the message must not suggest one.
    #[error(
        "{host} is routed by HTTPRoute {}, not by a VirtualService: this edit works on VirtualServices only",
        .routes.join(", ")
    )]
    RoutedByHttpRoute { host: String, routes: Vec<String> },
    #[error(
        "several HTTPRoutes route {host}: {}; pick one with --http-route NAMESPACE/NAME",
        .candidates.join(", ")
    )]
    AmbiguousHttpRoute { host: String, candidates: Vec<String> },
    #[error(
        "{host} is routed by {route}: `pin` writes VirtualService routes that match callers' sourceLabels, which \
         an HTTPRoute cannot express (and waypoints ignore); pin callers by a request header they propagate \
         instead: `kubectl vroute pin {service} --header NAME` (e.g. x-version)"
    )]
    PinOnHttpRoute { host: String, route: String, service: String },
    #[error("{route} would have more than {max} rules, Gateway API's limit: remove rules it no longer needs first")]
    TooManyRules { route: String, max: usize },
    #[error("--http-route {wanted}: no such HTTPRoute routes {host} (these do: {})", .candidates.join(", "))]
    UnknownHttpRoute { host: String, wanted: String, candidates: Vec<String> },
    #[error("{route} has no rules (spec.rules is empty)")]
    NoRules { route: String },
    #[error("{route} has no rule {rule:?}; its rules are: {}", .rules.join(", "))]
    UnknownRule { route: String, rule: String, rules: Vec<String> },
    #[error(
        "{route} has several rules and none of them catches every request: pick one with --route ({})",
        .rules.join(", ")
    )]
    AmbiguousRule { route: String, rules: Vec<String> },
    #[error(
        "{rule} of {route} is managed by Rollout {rollout} (its Gateway API traffic-router plugin \
         argoproj-labs/gatewayAPI names this HTTPRoute, and the rule sends to the Rollout's canary or stable \
         Service): its controller rewrites these weights on every reconcile and would revert the edit. Use \
         `kubectl vroute promote {name} -n {namespace}` or `kubectl vroute abort {name} -n {namespace}` instead; \
         the route's other rules can still be edited (--force writes it anyway, for the controller to undo)",
        namespace = rollout.split_once('/').map_or("", |(ns, _)| ns),
        name = rollout.rsplit('/').next().unwrap_or(rollout)
    )]
    ManagedByPlugin { route: String, rule: String, rollout: String },
    #[error(
        "this edit would change {} of {route}, which Rollout {rollout} manages through its Gateway API plugin: \
         change them with `kubectl vroute promote/abort` on the Rollout",
        .rules.join(", ")
    )]
    RolloutRulesChanged { route: String, rollout: String, rules: Vec<String> },
    #[error(
        "several VirtualServices route {host}: {}; pick one with --virtual-service NAMESPACE/NAME",
        .candidates.join(", ")
    )]
    AmbiguousVirtualService { host: String, candidates: Vec<String> },
    #[error("--virtual-service {wanted}: no such VirtualService routes {host} (these do: {})", .candidates.join(", "))]
    UnknownVirtualService { host: String, wanted: String, candidates: Vec<String> },

    #[error("{vs} has no http routes (spec.http is empty); vroute edits http routes only")]
    NoHttpRoutes { vs: String },
    #[error("{vs} has no http route {route:?}; its routes are: {}", .routes.join(", "))]
    UnknownRoute { vs: String, route: String, routes: Vec<String> },
    #[error(
        "{vs} has several http routes and none of them catches every request: pick one with --route ({})",
        .routes.join(", ")
    )]
    AmbiguousRoute { vs: String, routes: Vec<String> },

    #[error(
        "{route} of {vs} is managed by Rollout {rollout} ({why}): its controller rewrites this route on every \
         reconcile and would revert the edit within seconds. Use `kubectl vroute promote {name} -n {namespace}` or \
         `kubectl vroute abort {name} -n {namespace}` instead; the other routes of the VirtualService can still be \
         edited (--force writes it anyway, for the controller to undo)",
        namespace = rollout.split_once('/').map_or("", |(ns, _)| ns),
        name = rollout.rsplit('/').next().unwrap_or(rollout)
    )]
    ManagedByRollout { vs: String, route: String, rollout: String, why: &'static str },
    #[error(
        "this edit would change {} of {vs}, which Rollout {rollout} manages. Change them with \
         `kubectl vroute promote/abort`; if the Rollout claims a route only because it is the only (or first \
         unnamed) http route, name it in the Rollout's spec.strategy.canary.trafficRouting.istio \
         virtualService.routes first",
        .routes.join(", ")
    )]
    RolloutRoutesChanged { vs: String, rollout: String, routes: Vec<String> },
    #[error(
        "cannot list rollouts.argoproj.io, so cannot tell whether an Argo Rollout manages the routes of {vs}: \
         grant `list` on rollouts.argoproj.io (see the README's RBAC section), or pass --force if none does"
    )]
    RolloutsUnknown { vs: String },
    #[error(
        "Rollout {rollout} cannot be read ({error}){}: fix the Rollout, or pass --force{}",
        unreadable_claim(.vs, .routes),
        if .routes.is_some() { " to edit anyway" } else { " if it does not" }
    )]
    RolloutUnreadable { vs: String, rollout: String, error: String, routes: Option<Vec<String>> },

    #[error("weight {arg:?}: {reason}; write VERSION=WEIGHT with a whole number from 0 to 100, e.g. v1=90 v2=10")]
    BadWeight { arg: String, reason: &'static str },
    #[error("version {version} is given more than once; give each version one weight")]
    DuplicateVersion { version: String },
    #[error(
        "weights add up to {sum}, not 100 ({weights}): fix them, or pass --normalize to scale them to 100 in \
         proportion"
    )]
    WeightSum { sum: u64, weights: String },
    #[error("weights add up to 0: at least one version needs a positive weight")]
    ZeroTotal,
    #[error("{host} has no version {version:?}; known versions: {}", known_list(.known))]
    UnknownVersion { version: String, host: String, known: Vec<String> },
    #[error("{what} of {vs} would send traffic to {target}, {reason}")]
    NotRoutable { vs: String, what: String, target: String, reason: String },
    #[error(
        "{what} of {vs} would send {percent}% to version {version}, which has no ready pods ({ready}/{total} \
         ready): those requests would fail with 503. Scale it up (or fix its subset labels), or pass --force"
    )]
    NoReadyPods { vs: String, what: String, version: String, percent: String, ready: usize, total: usize },
    #[error("--percent {value}: a mirror share must be more than 0 and at most 100 (use --off to stop mirroring)")]
    BadPercent { value: f64 },

    #[error(
        "{host} has no versions to pin: no DestinationRule defines subsets for it and none of its pods carries \
         the label {label:?} (use --label to name the version label)"
    )]
    NoVersions { host: String, label: String },
    #[error(
        "pods of {host} labelled {label}={} have no subset, and no DestinationRule for {host} exists to add it \
         to: create one (host: {host})",
        .versions.join(", ")
    )]
    NoDestinationRule { host: String, label: String, versions: Vec<String> },
    #[error(
        "pods labelled {label}={value} have no subset in {dr}, and {value:?} is not a valid subset name (lowercase \
         letters, digits and '-'): add a subset selecting them to {dr} by hand"
    )]
    BadSubsetName { dr: String, label: String, value: String },

    #[error(
        "{vs} has no vroute history (annotation vroute.kubectl.io/history): nothing to undo; routes edited by \
         other tools cannot be undone by vroute"
    )]
    NoHistory { vs: String },
    #[error("{vs} has no revision {revision} in its vroute history; available: {}", .available.join("; "))]
    UnknownRevision { vs: String, revision: u32, available: Vec<String> },

    #[error(
        "{route} of {vs} sends {split}, but its {what} not recorded (annotation vroute.kubectl.io/versions, \
         written by set-weight, switch, promote and abort): pass {flags}"
    )]
    RolesUnknown { vs: String, route: String, split: String, what: &'static str, flags: &'static str },
    #[error(
        "{version} cannot be both the stable and the canary version of {route}: name the other one with --stable \
         or --to"
    )]
    SameVersion { version: String, route: String },
    #[error(
        "{route} of {vs} also sends {others}, which is neither its stable ({stable}) nor its canary ({canary}) \
         version: promote only moves traffic between those two; set the whole split with `kubectl vroute set-weight`"
    )]
    OtherVersions { vs: String, route: String, others: String, stable: String, canary: String },

    #[error("{flag}: {problem}")]
    BadValue { flag: &'static str, problem: String },
    #[error("{problem}")]
    BadConditions { problem: String },
    #[error(
        "give at least one condition (--header, --cookie, --uri, --query, --source-label); to send every request \
         to one version use `kubectl vroute switch`"
    )]
    NoConditions,
    #[error("{what}: {why}")]
    NotInGatewayApi { what: String, why: String },
    #[error("{what} has no Gateway API field: {route} routes {host}, and HTTPRoutes cannot express it. {instead}")]
    NoGatewayEquivalent { what: &'static str, route: String, host: String, instead: &'static str },
    #[error(
        "{route} of {vs} takes every request with no condition: a fault there hits every user of the service. \
         Fault only some requests (--header end-user=tester), or pass --force if that is what you want"
    )]
    FaultForEveryone { vs: String, route: String },
    #[error(
        "no DestinationRule has host {host} exactly: circuit breaking is set in the host's DestinationRule; \
         create one (host: {host})"
    )]
    NoDestinationRuleFor { host: String },
    #[error("{vs} has no catch-all route whose destinations a faulted route could copy: give --route")]
    NoCatchAll { vs: String },

    #[error("{object}: {field} {reason}")]
    Malformed { object: String, field: String, reason: String },
}

impl EditError {
    /// Whether what was asked is itself wrong (an argument that names nothing, a value out of range, a choice
    /// left to make): a usage error (exit 4), as opposed to a refusal of what the cluster's state makes unsafe
    /// or impossible (exit 7).
    pub fn is_usage(&self) -> bool {
        use EditError::*;
        matches!(
            self,
            BadWeight { .. }
                | DuplicateVersion { .. }
                | WeightSum { .. }
                | ZeroTotal
                | BadPercent { .. }
                | UnknownVersion { .. }
                | UnknownRoute { .. }
                | UnknownRule { .. }
                | AmbiguousRoute { .. }
                | AmbiguousRule { .. }
                | AmbiguousVirtualService { .. }
                | UnknownVirtualService { .. }
                | AmbiguousHttpRoute { .. }
                | UnknownHttpRoute { .. }
                | UnknownRevision { .. }
                | RolesUnknown { .. }
                | SameVersion { .. }
                | BadValue { .. }
                | BadConditions { .. }
                | NoConditions
        )
    }
}

fn unreadable_claim(vs: &str, routes: &Option<Vec<String>>) -> String {
    match routes {
        Some(routes) => format!(
            " and it claims {} of {vs}, which this edit would change. Its controller cannot read it either and \
             leaves the route alone until the Rollout is fixed, then rewrites it",
            routes.join(", ")
        ),
        None => format!(", not even which routes it manages, so it may manage those of {vs}"),
    }
}

fn routed_by_hint(routed_by: &[String]) -> String {
    if routed_by.is_empty() {
        "; create a VirtualService for it first".to_string()
    } else {
        format!("; it is routed through host(s) {}: pass one of those instead", routed_by.join(", "))
    }
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() { "none (define subsets in its DestinationRule)".to_string() } else { known.join(", ") }
}
