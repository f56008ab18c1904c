//! `promote`, `abort`, `retry` and `pause` against a cluster: find each target, let the pure planner
//! ([`crate::rollouts::actions`]) or the route edit ([`crate::edit::canary`]) decide, send what it decided. As
//! upstream's `PromoteRollout` serves its CLI, server and e2e tests, [`act`] serves every caller.
//!
//! A NAME is a Rollout when one of that name exists in the namespace (as with `kubectl argo rollouts`), else,
//! for `promote` and `abort`, a Service whose VirtualService runs a plain canary. Targets are done one after
//! the other; a failed one does not stop the others.

use super::edit::{self, Subject, WriteOptions};
use crate::cluster::rollouts;
use crate::cluster::{Cluster, ClusterError};
use crate::edit::{Edit, EditError};
use crate::error::{Error, Usage};
use crate::rollouts::actions::{dry_run_answer, merge_patch};
use crate::rollouts::{Endpoint, Patch, Plan, Rollout};
use crate::views::result::{DryRun, Entry, PatchEntry};
use serde_json::Value;

/// Which Rollouts a command acts on.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a> {
    Names(&'a [String]),
    /// A label selector in kubectl's syntax (`app=reviews,tier!=db`).
    Selector(&'a str),
}

/// What a command does to each target.
pub struct Act<'a> {
    /// The Argo Rollouts planner: `actions::promote`, `promote_full`, `abort`, `retry` or `pause`.
    pub plan: fn(&Rollout) -> Plan,
    /// `promote` and `abort`: the route edit for a NAME that is a plain VirtualService canary.
    pub canary: Option<CanaryAct<'a>>,
    pub dry_run: DryRun,
}

pub struct CanaryAct<'a> {
    pub edit: Edit,
    /// How to read the Service's names (its `service` is each NAME).
    pub subject: Subject<'a>,
    pub write: WriteOptions,
    /// `--service`: every NAME is a Service, even when a Rollout has that name.
    pub forced: bool,
    /// The first route-only flag given, if any: refused for a Rollout rather than ignored.
    pub route_flag: Option<&'static str>,
}

/// Acts on every target, in order: one result each. An error before any target (a selector that matches
/// nothing, say) is the outer error.
pub async fn act(cluster: &Cluster, targets: Targets<'_>, act: &Act<'_>) -> Result<Vec<Result<Entry, Error>>, Error> {
    match targets {
        Targets::Selector(selector) => {
            if let Some(flag) = act.canary.as_ref().and_then(|c| c.route_flag) {
                return Err(Usage::Combination(format!(
                    "-l selects Rollouts, and {flag} only applies to a plain VirtualService canary: leave it out, \
                     or name the Service instead of -l"
                ))
                .into());
            }
            let selected = rollouts::select(cluster, &cluster.namespace, selector).await?;
            if selected.is_empty() {
                return Err(ClusterError::NotFound {
                    what: format!("Rollouts matching -l {selector}"),
                    scope: format!(" in namespace \"{}\"", cluster.namespace),
                }
                .into());
            }
            let mut done = Vec::new();
            for rollout in selected {
                done.push(apply(cluster, rollout, act).await);
            }
            Ok(done)
        }
        Targets::Names(names) => {
            let mut done = Vec::new();
            for name in names {
                done.push(one(cluster, name, act).await);
            }
            Ok(done)
        }
    }
}

/// One NAME: a Rollout if one has that name (unless `--service`), else, for promote and abort, a Service with a
/// plain VirtualService canary.
async fn one(cluster: &Cluster, name: &str, act: &Act<'_>) -> Result<Entry, Error> {
    let canary = act.canary.as_ref();
    if let Some(canary) = canary.filter(|c| c.forced) {
        return service(cluster, name, canary).await;
    }
    match rollouts::get(cluster, &cluster.namespace, name).await {
        Ok(rollout) => {
            if let Some(flag) = canary.and_then(|c| c.route_flag) {
                return Err(Usage::Combination(format!(
                    "{name} is an Argo Rollout: {flag} only applies to a plain VirtualService canary. Leave it \
                     out to act on the Rollout, or pass --service to edit the routes of Service {name} instead"
                ))
                .into());
            }
            apply(cluster, rollout, act).await
        }
        Err(e @ (ClusterError::RolloutNotFound { .. } | ClusterError::CrdMissing(_))) => match canary {
            None => Err(e.into()),
            Some(canary) => service(cluster, name, canary).await.map_err(|service| {
                if is_unrouted(&service) {
                    Error::NotRolloutOrService { rollout: e, service: Box::new(service) }
                } else {
                    service
                }
            }),
        },
        Err(e) => Err(e.into()),
    }
}

/// The route edit failed because NAME is no routed Service at all (rather than refusing a change to one).
fn is_unrouted(e: &Error) -> bool {
    matches!(
        e,
        Error::Model(_)
            | Error::Refused(EditError::NoVirtualService { .. } | EditError::RoutedByHttpRoute { .. })
            | Error::Cluster(ClusterError::CrdMissing(_))
    )
}

/// Plans the Rollout command on `value` (the Rollout as just read) and sends the patches.
async fn apply(cluster: &Cluster, value: Value, act: &Act<'_>) -> Result<Entry, Error> {
    let rollout = Rollout::from_value(&value).map_err(|error| Error::BadRollout {
        name: value["metadata"]["name"].as_str().unwrap_or_default().to_string(),
        error,
    })?;
    let (namespace, name) = (rollout.metadata.namespace.as_str(), rollout.name());
    match (act.plan)(&rollout) {
        Plan::Nothing { message, .. } => Ok(Entry::patched(namespace, name, false, message, Vec::new(), &value)),
        Plan::Apply { patches, message } => {
            let object = send(cluster, namespace, name, &patches, act.dry_run, value).await?;
            let sent = patches
                .into_iter()
                .map(|p| PatchEntry {
                    subresource: match p.endpoint {
                        Endpoint::Status => Some("status"),
                        Endpoint::Resource => None,
                    },
                    patch: p.body,
                })
                .collect();
            Ok(Entry::patched(namespace, name, true, message, sent, &object))
        }
    }
}

/// Sends the patches in order and returns the Rollout as stored after the last (or as it would be).
async fn send(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    patches: &[Patch],
    dry_run: DryRun,
    read: Value,
) -> Result<Value, Error> {
    let mut object = read;
    for (i, patch) in patches.iter().enumerate() {
        object = match dry_run {
            DryRun::Client => {
                merge_patch(&mut object, &patch.body);
                object
            }
            DryRun::Server => {
                let answer = rollouts::patch(cluster, namespace, name, patch, true).await?;
                dry_run_answer(object, answer, patch.endpoint)
            }
            DryRun::None => match rollouts::patch(cluster, namespace, name, patch, false).await {
                Ok(stored) => stored,
                // Upstream sends the same patches in the same order and stops the same way; say what stuck.
                Err(e) if i > 0 => {
                    let applied = patches[..i].iter().map(|p| part(p.endpoint)).collect();
                    return Err(Error::AfterPatches { rollout: name.to_string(), applied, error: Box::new(e.into()) });
                }
                Err(e) => return Err(e.into()),
            },
        };
    }
    Ok(object)
}

fn part(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Status => "status",
        Endpoint::Resource => "spec",
    }
}

/// A plain VirtualService canary: the route edit, through the edit commands' read and write path.
async fn service(cluster: &Cluster, name: &str, canary: &CanaryAct<'_>) -> Result<Entry, Error> {
    edit::route_edit(cluster, Subject { service: name, ..canary.subject }, &canary.edit, canary.write).await
}
