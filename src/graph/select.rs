//! Which hosts a view covers, which namespaces' Services and Pods it needs, and close names for a typo.

use super::gateway;
use super::index::Index;
use super::{ModelError, Options, Scope};
use crate::istio::host;
use crate::objects::Snapshot;
use std::collections::BTreeSet;

/// The hosts `opts.scope` selects, in host order. A host asked for by name that no VirtualService routes is
/// still shown when its Service exists (it has no routes yet); otherwise the error names close ones.
pub fn hosts(idx: &Index, snap: &Snapshot, opts: &Options) -> Result<Vec<String>, ModelError> {
    let domain = idx.domain();
    let in_namespace = |h: &str, ns: &str| host::service_of(h, domain).is_some_and(|(_, n)| n == ns);
    let none = Vec::new();
    let selected: Vec<String> = idx
        .routed_hosts()
        .into_iter()
        .filter(|h| {
            let vss = idx.vs_by_host.get(*h).unwrap_or(&none);
            let routes = idx.routes_by_host.get(*h).map(Vec::as_slice).unwrap_or_default();
            let backends = || routes.iter().flat_map(|a| gateway::keys(std::slice::from_ref(a), domain));
            match &opts.scope {
                Scope::All => true,
                Scope::Namespace(ns) => {
                    in_namespace(h, ns)
                        || vss.iter().any(|vs| &vs.metadata.namespace == ns)
                        || vss.iter().any(|vs| vs.destination_hosts(domain).any(|d| in_namespace(&d, ns)))
                        || routes.iter().any(|a| &a.route.metadata.namespace == ns)
                        || backends().any(|k| in_namespace(&k.host, ns))
                }
                Scope::Host { host: target, .. } => {
                    *h == target
                        || vss.iter().any(|vs| vs.destination_hosts(domain).any(|d| &d == target))
                        || backends().any(|k| &k.host == target)
                }
            }
        })
        .map(|h| h.to_string())
        .collect();
    match &opts.scope {
        Scope::Host { host: target, input } if selected.is_empty() => {
            if idx.service(target).is_some() {
                Ok(vec![target.clone()])
            } else {
                Err(ModelError::UnknownService {
                    input: input.clone(),
                    host: target.clone(),
                    suggestions: suggestions(input, target, idx, snap),
                })
            }
        }
        _ => Ok(selected),
    }
}

/// What the views of the selected hosts read beyond the routes ([`needed`]).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Needed {
    /// Namespaces whose Services and Pods are shown: the hosts' own, and those of their routes' destinations.
    pub namespaces: BTreeSet<String>,
    /// Destinations that are no Service of the mesh's domain (a ServiceEntry's `api.example.com`): their
    /// DestinationRules may live in any namespace and name no namespace at all.
    pub other_hosts: BTreeSet<String>,
}

/// [`Needed`] by the views `opts` selects, so the cluster layer can fetch exactly that and no more.
pub fn needed(snap: &Snapshot, opts: &Options) -> Needed {
    let idx = Index::new(snap, &opts.domain);
    let mut selected = hosts(&idx, snap, opts).unwrap_or_default();
    if let Scope::Host { host, .. } = &opts.scope {
        selected.push(host.clone());
    }
    let domain = idx.domain();
    let vss = selected.iter().filter_map(|h| idx.vs_by_host.get(h)).flatten();
    let dests = vss.flat_map(|vs| vs.destination_hosts(domain).collect::<Vec<_>>());
    let routes = selected.iter().filter_map(|h| idx.routes_by_host.get(h));
    let backends = routes.flat_map(|a| gateway::keys(a, domain)).map(|k| k.host);
    let mut needed = Needed::default();
    for h in selected.iter().cloned().chain(dests).chain(backends) {
        match host::service_of(&h, domain) {
            Some((_, ns)) => needed.namespaces.insert(ns),
            None => needed.other_hosts.insert(h),
        };
    }
    needed
}

/// The namespaces of [`needed`].
pub fn needed_namespaces(snap: &Snapshot, opts: &Options) -> BTreeSet<String> {
    needed(snap, opts).namespaces
}

/// Up to three known names close to what the user typed.
/// Close names among the Services and routed hosts, each named once: by its name in the namespace the user
/// meant (`target`'s), as `name.namespace` elsewhere, a gateway host as it is.
fn suggestions(input: &str, target: &str, idx: &Index, snap: &Snapshot) -> Vec<String> {
    let domain = idx.domain();
    let here = host::service_of(target, domain).map(|(_, ns)| ns);
    let name = |h: &str| match host::service_of(h, domain) {
        Some((name, ns)) if Some(&ns) == here.as_ref() => name,
        _ => host::short(h, domain),
    };
    let services = snap.services.iter().map(|s| format!("{}.{}.svc.{domain}", s.metadata.name, s.metadata.namespace));
    let hosts = idx.routed_hosts().into_iter().cloned();
    let candidates: BTreeSet<String> = services.chain(hosts).map(|h| name(&h)).collect();
    close_names(input, candidates)
}

/// Up to three of `candidates` close to `input` (a typo away, or containing it), closest first. Only the first
/// DNS label of each is compared: `reviews.prod` is close to `reveiws`.
pub fn close_names(input: &str, candidates: impl IntoIterator<Item = String>) -> Vec<String> {
    let wanted = input.split('.').next().unwrap_or(input);
    let mut scored: Vec<(usize, String)> = candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(wanted, c.split('.').next().unwrap_or(&c)), c))
        .filter(|(d, c)| *d <= 2.max(wanted.len() / 3) || c.contains(wanted))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_allow_a_typo_or_a_part() {
        let names = ["reviews", "ratings", "details", "reviews-v2"].map(String::from);
        assert_eq!(close_names("reveiws", names.clone()), ["reviews"]);
        assert_eq!(close_names("detail", names.clone()), ["details"]);
        assert!(close_names("zzz", names).is_empty());
    }
}
