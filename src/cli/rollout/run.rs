//! The imperative shell of `promote`, `abort`, `retry` and `pause`: find each target, let the pure planner
//! ([`crate::rollouts::actions`]) or the route edit ([`crate::edit::canary`]) decide, send what it decided,
//! and report. Targets are done one after the other; a failed one is reported and the others still run, and
//! the command exits with the code of the first failure.

use super::Targets;
use super::output::{self, Done};
use crate::cli::common::KubeArgs;
use crate::cli::edit::{EditFlags, Output, run as edit_run};
use crate::cli::{CliError, print};
use crate::cluster::rollouts::{self, merge_patch};
use crate::cluster::write::DryRun;
use crate::cluster::{Cluster, ClusterError};
use crate::edit::{Edit, EditError};
use crate::exit::Exit;
use crate::rollouts::{Endpoint, Patch, Plan, Rollout};
use serde_json::Value;

/// What a command does to each target.
pub struct Act<'a> {
    /// The Argo Rollouts planner: `actions::promote`, `promote_full`, `abort`, `retry` or `pause`.
    pub plan: fn(&Rollout) -> Plan,
    /// `promote` and `abort`: the route edit for a NAME that is a plain VirtualService canary.
    pub canary: Option<CanaryAct<'a>>,
    pub dry_run: DryRun,
    pub output: Option<Output>,
}

pub struct CanaryAct<'a> {
    pub edit: Edit,
    pub flags: &'a EditFlags,
    /// `--service`: every NAME is a Service, even when a Rollout has that name.
    pub forced: bool,
    /// The first route-only flag given, if any: refused for a Rollout rather than ignored.
    pub route_flag: Option<&'static str>,
}

pub async fn run(kube: &KubeArgs, targets: &Targets, act: &Act<'_>) -> Result<Exit, CliError> {
    let cluster = kube.connect(false).await?;
    let mut done = Vec::new();
    let mut exit = Exit::Ok;
    match &targets.selector {
        Some(selector) => {
            if let Some(flag) = act.canary.as_ref().and_then(|c| c.route_flag) {
                return Err(CliError::Usage(format!(
                    "-l selects Rollouts, and {flag} only applies to a plain VirtualService canary: leave it out, \
                     or name the Service instead of -l"
                )));
            }
            let selected = rollouts::select(&cluster, &cluster.namespace, selector).await?;
            if selected.is_empty() {
                return Err(ClusterError::NotFound {
                    what: format!("Rollouts matching -l {selector}"),
                    scope: format!(" in namespace \"{}\"", cluster.namespace),
                }
                .into());
            }
            for rollout in selected {
                report(apply(&cluster, rollout, act).await, act, &mut done, &mut exit)?;
            }
        }
        None => {
            for name in &targets.names {
                report(one(&cluster, name, act).await, act, &mut done, &mut exit)?;
            }
        }
    }
    if let Some(format) = act.output {
        print(&output::document(&done, act.dry_run, format)?)?;
    }
    Ok(exit)
}

/// Prints a target's message (human output) or keeps it for the document; prints a failure as `error: ...`.
fn report(
    outcome: Result<Done, CliError>,
    act: &Act<'_>,
    done: &mut Vec<Done>,
    exit: &mut Exit,
) -> Result<(), CliError> {
    match outcome {
        Ok(d) => {
            if act.output.is_none() {
                print(&d.human(act.dry_run))?;
            }
            done.push(d);
        }
        Err(e) => {
            eprintln!("error: {e}");
            if *exit == Exit::Ok {
                *exit = e.exit();
            }
        }
    }
    Ok(())
}

/// One NAME: a Rollout if one has that name (unless `--service`), else, for promote and abort, a Service with a
/// plain VirtualService canary.
async fn one(cluster: &Cluster, name: &str, act: &Act<'_>) -> Result<Done, CliError> {
    let canary = act.canary.as_ref();
    if let Some(canary) = canary.filter(|c| c.forced) {
        return service(cluster, name, canary).await;
    }
    match rollouts::get(cluster, &cluster.namespace, name).await {
        Ok(rollout) => {
            if let Some(flag) = canary.and_then(|c| c.route_flag) {
                return Err(CliError::Usage(format!(
                    "{name} is an Argo Rollout: {flag} only applies to a plain VirtualService canary. Leave it \
                     out to act on the Rollout, or pass --service to edit the routes of Service {name} instead"
                )));
            }
            apply(cluster, rollout, act).await
        }
        Err(e @ (ClusterError::RolloutNotFound { .. } | ClusterError::CrdMissing(_))) => match canary {
            None => Err(e.into()),
            Some(canary) => service(cluster, name, canary).await.map_err(|service| {
                if is_unrouted(&service) {
                    CliError::NotRolloutOrService { rollout: e, service: Box::new(service) }
                } else {
                    service
                }
            }),
        },
        Err(e) => Err(e.into()),
    }
}

/// The route edit failed because NAME is no routed Service at all (rather than refusing a change to one).
fn is_unrouted(e: &CliError) -> bool {
    matches!(
        e,
        CliError::Model(_)
            | CliError::Refused(EditError::NoVirtualService { .. })
            | CliError::Cluster(ClusterError::CrdMissing(_))
    )
}

/// Plans the Rollout command on `value` (the Rollout as just read) and sends the patches.
async fn apply(cluster: &Cluster, value: Value, act: &Act<'_>) -> Result<Done, CliError> {
    let rollout = Rollout::from_value(&value).map_err(|error| CliError::BadRollout {
        name: value["metadata"]["name"].as_str().unwrap_or_default().to_string(),
        error,
    })?;
    let (namespace, name) = (rollout.metadata.namespace.as_str(), rollout.name());
    match (act.plan)(&rollout) {
        Plan::Nothing { message, .. } => Ok(Done::rollout(&rollout, false, message, Vec::new(), value)),
        Plan::Apply { patches, message } => {
            let object = send(cluster, namespace, name, &patches, act.dry_run, value).await?;
            Ok(Done::rollout(&rollout, true, message, patches, object))
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
) -> Result<Value, CliError> {
    let mut object = read;
    for (i, patch) in patches.iter().enumerate() {
        object = match dry_run {
            DryRun::Client => {
                merge_patch(&mut object, &patch.body);
                object
            }
            DryRun::Server => {
                // Nothing is stored, so each answer lacks the earlier patches: keep from each answer only the part
                // its endpoint writes (the status subresource writes `status`, the resource everything else).
                let mut answer = rollouts::patch(cluster, namespace, name, patch, true).await?;
                match patch.endpoint {
                    Endpoint::Status => {
                        object["status"] = answer["status"].clone();
                        object
                    }
                    Endpoint::Resource => {
                        if let Some(status) = object.get("status") {
                            answer["status"] = status.clone();
                        }
                        answer
                    }
                }
            }
            DryRun::None => rollouts::patch(cluster, namespace, name, patch, false).await.inspect_err(|_| {
                // Upstream sends the same patches in the same order and stops the same way; say what stuck.
                for earlier in &patches[..i] {
                    eprintln!("warning: rollout '{name}': the {} patch was applied", part(earlier.endpoint));
                }
            })?,
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
async fn service(cluster: &Cluster, name: &str, canary: &CanaryAct<'_>) -> Result<Done, CliError> {
    let req = edit_run::request(cluster, name, canary.flags, "version");
    let (snap, ctx) = edit_run::read(cluster, &req).await?;
    let written =
        edit_run::write_routes(cluster, &snap, &req, &canary.edit, &ctx.virtual_service, canary.flags.dry_run).await?;
    Ok(Done::virtual_service(written, canary.flags.diff))
}
