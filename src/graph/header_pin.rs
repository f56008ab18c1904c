//! Version pinning by a request header (`pin --header H`): a caller at version vN sends `H: vN` (set at the
//! edge and propagated), and the host's routes send `H: vN` to vN. Unlike `sourceLabels`, this holds where the
//! route is applied without the caller's identity: on a waypoint (ambient mode) and in an HTTPRoute, which
//! has no caller conditions at all.
//!
//! A host is header-pinned by H when one of its routes (VirtualService http routes, else the HTTPRoute rules
//! that apply to the Service's own namespace) sends exactly the requests with `H: value`, and nothing else, to
//! the version whose version label is `value`. Then, per version of the host, a request carrying `H: value`
//! is walked through the routes in the order they apply, and any route that can send it to another version,
//! or the absence of any route that takes it, is a broken chain (VR110), as for a `sourceLabels` caller.

use super::findings::Code;
use super::index::Index;
use super::{Audience, DestinationNode, HostNode};
use crate::istio::VirtualService;
use crate::istio::host;
use crate::istio::route::Applies;

/// A VirtualService host pinned by a header.
pub(super) fn check_routes(idx: &Index, key: &str, vs: &VirtualService, node: &mut HostNode) {
    let values = version_values(idx, node, key);
    let routes: Vec<_> = node.routes.iter().filter(|r| std::ptr::eq(r.vs, vs)).collect();
    let pin = routes.iter().find_map(|r| {
        let [only] = r.destinations.as_slice() else { return None };
        r.route.matches.iter().filter_map(|m| m.typed.header_pin()).find(|pin| pinned_to(pin, only, &values))
    });
    let Some((header, _)) = pin.map(|(h, v)| (h.to_string(), v.to_string())) else { return };
    let request = |value: &str| {
        let steps = routes.iter().map(|r| {
            let label = r.route.name.clone().unwrap_or_else(|| format!("#{}", r.index));
            (format!("route {label}"), r.route.for_header(&header, value), r.destinations.as_slice())
        });
        walk(steps)
    };
    let found = breaks(idx, node, &header, &values, request, "route");
    finish(node, header, vs.reference().to_string(), found);
}

/// A host routed by HTTPRoutes, pinned by a header in the rules that apply to its own namespace.
pub(super) fn check_rules(idx: &Index, key: &str, node: &mut HostNode) {
    let values = version_values(idx, node, key);
    let rules: Vec<_> = node.rules.iter().filter(|r| r.audience == Audience::Producers).collect();
    let pin = rules.iter().find_map(|r| {
        let [only] = r.destinations.as_slice() else { return None };
        r.rule.header_pin().filter(|pin| pinned_to(pin, only, &values))
    });
    let Some((header, _)) = pin.map(|(h, v)| (h.to_string(), v.to_string())) else { return };
    let Some(object) = rules.first().map(|r| r.route.reference().to_string()) else { return };
    let request = |value: &str| {
        let steps =
            rules.iter().map(|r| (r.rule.label(r.index), r.rule.for_header(&header, value), r.destinations.as_slice()));
        walk(steps)
    };
    let found = breaks(idx, node, &header, &values, request, "rule");
    finish(node, header, object, found);
}

/// Whether a route taking `header: value` to `only` pins that value to its own version.
fn pinned_to((_, value): &(&str, &str), only: &DestinationNode, values: &[(String, String)]) -> bool {
    values.iter().any(|(v, name)| v == value && *name == only.version)
}

/// `(version label value, version name)` of each version of the host: a subset's label (else its name), a
/// Service's selector.
fn version_values(idx: &Index, node: &HostNode, key: &str) -> Vec<(String, String)> {
    node.versions
        .iter()
        .filter_map(|v| {
            let value = match &v.key.subset {
                Some(s) => v.labels.get(key).cloned().unwrap_or_else(|| s.clone()),
                None => idx.service(&v.key.host)?.spec.selector.as_ref()?.get(key)?.clone(),
            };
            Some((value, v.name.clone()))
        })
        .collect()
}

/// Every `(route, version, share)` a request may reach walking `steps` in order, and whether a step
/// certainly takes it.
fn walk<'a>(
    steps: impl Iterator<Item = (String, Applies, &'a [DestinationNode])>,
) -> (Vec<(String, String, f64)>, bool) {
    let mut reached = Vec::new();
    for (label, applies, destinations) in steps {
        if applies == Applies::Never {
            continue;
        }
        reached.extend(destinations.iter().map(|d| (label.clone(), d.version.clone(), d.share)));
        if applies == Applies::Always {
            return (reached, true);
        }
    }
    (reached, false)
}

/// The broken chains: per version, the request carrying its value walked with `walk`.
fn breaks(
    idx: &Index,
    node: &HostNode,
    header: &str,
    values: &[(String, String)],
    walk: impl Fn(&str) -> (Vec<(String, String, f64)>, bool),
    what: &str,
) -> Vec<String> {
    let callee = host::short(&node.host, idx.domain());
    let mut found = Vec::new();
    for (value, name) in values {
        let (reached, caught) = walk(value);
        let stray: Vec<String> = reached
            .iter()
            .filter(|(_, version, share)| *share > 0.0 && version != name)
            .map(|(step, version, share)| format!("{step} sends {share:.0}% to {version}"))
            .collect();
        if !stray.is_empty() {
            found.push(format!(
                "requests with {header}={value} can reach another version of {callee}: {}",
                stray.join(", ")
            ));
        } else if !caught {
            found.push(format!("requests with {header}={value} match no {what} of {callee} that certainly takes them"));
        }
    }
    found
}

fn finish(node: &mut HostNode, header: String, object: String, found: Vec<String>) {
    node.version_pinned = true;
    node.pin_header = Some(header);
    node.findings.extend(found.into_iter().map(|m| Code::BrokenVersionChain.finding(&object, m)));
}
