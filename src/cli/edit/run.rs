//! The imperative shell of the edit commands: read the model once, then write through the one write
//! mechanism ([`write::update`]), whose transform rebuilds the context around the object it just read and
//! applies the pure edit to it. The Services, pods, DestinationRules and Rollouts are read once per command:
//! a conflict concerns the object being written, which is re-read on every attempt.

use super::EditFlags;
use super::output::{self, Report};
use crate::cli::CliError;
use crate::cli::common::KubeArgs;
use crate::cluster::write::{self, DryRun, Kind, Target, Written};
use crate::cluster::{Cluster, snapshot};
use crate::edit::{self, Context, Edit, EditError, ObjectRef, Request, pin as pinning, with_object};
use crate::exit::Exit;
use crate::routes::Snapshot;

/// `set-weight`, `switch`, `mirror` and `undo`: one VirtualService write.
pub async fn route_edit(kube: &KubeArgs, service: &str, edit: Edit, flags: &EditFlags) -> Result<Exit, CliError> {
    let cluster = kube.connect(false).await?;
    let req = request(&cluster, service, flags, "version");
    let (snap, ctx) = read(&cluster, &req).await?;
    let written = write_routes(&cluster, &snap, &req, &edit, &ctx.virtual_service, flags.dry_run).await?;
    output::print(&[Report::new(Kind::VirtualService, written)], flags)?;
    Ok(Exit::Ok)
}

/// `pin`: each service in turn; the first failure stops the command after printing what was done.
pub async fn pin(
    kube: &KubeArgs,
    services: &[String],
    label: &str,
    edit: &Edit,
    flags: &EditFlags,
) -> Result<Exit, CliError> {
    let cluster = kube.connect(false).await?;
    let mut reports = Vec::new();
    for service in services {
        let req = request(&cluster, service, flags, label);
        match pin_one(&cluster, &req, edit, flags.dry_run).await {
            Ok(done) => reports.extend(done),
            Err(e) => {
                output::print(&reports, flags)?;
                return Err(e);
            }
        }
    }
    output::print(&reports, flags)?;
    Ok(Exit::Ok)
}

/// Pins one service. The DestinationRule is written before the routes that use its new subsets, so no stored
/// state ever routes to a subset that does not exist; if the routes then cannot be written, the subsets are
/// removed again.
async fn pin_one(cluster: &Cluster, req: &Request<'_>, edit: &Edit, dry_run: DryRun) -> Result<Vec<Report>, CliError> {
    let (snap, ctx) = read(cluster, req).await?;
    let dr = pinning::destination_rule_to_extend(&ctx)?.cloned();
    // Both changes are first computed locally (reads only), so that a refusal of the routes (a new subset
    // without ready pods, say) stops the command before the DestinationRule is touched.
    let planned_dr = match &dr {
        Some(dr) => Some(write_subsets(cluster, &snap, req, dr, DryRun::Client).await?),
        None => None,
    };
    let planned_snap = extended(&snap, planned_dr.as_ref())?;
    let planned_vs = write_routes(cluster, &planned_snap, req, edit, &ctx.virtual_service, DryRun::Client).await?;
    let reports = |dr_written: Option<Written<String>>, vs_written| {
        let dr_report = dr_written.map(|w| Report::new(Kind::DestinationRule, w));
        dr_report.into_iter().chain([Report::new(Kind::VirtualService, vs_written)]).collect()
    };
    if dry_run == DryRun::Client {
        return Ok(reports(planned_dr, planned_vs));
    }
    let dr_written = match &dr {
        Some(dr) => Some(write_subsets(cluster, &snap, req, dr, dry_run).await?),
        None => None,
    };
    let snap = extended(&snap, dr_written.as_ref())?;
    match write_routes(cluster, &snap, req, edit, &ctx.virtual_service, dry_run).await {
        Ok(vs_written) => Ok(reports(dr_written, vs_written)),
        Err(e) => {
            if let (Some(dr), Some(written)) = (&dr, dr_written.filter(|w| w.changed && dry_run == DryRun::None)) {
                roll_back(cluster, dr, &written).await;
            }
            Err(e)
        }
    }
}

pub(in crate::cli) fn request<'a>(
    cluster: &'a Cluster,
    service: &'a str,
    flags: &'a EditFlags,
    label: &'a str,
) -> Request<'a> {
    Request {
        service,
        namespace: &cluster.namespace,
        virtual_service: flags.virtual_service.as_deref(),
        domain: &flags.cluster_domain,
        version_label: label,
        now: jiff::Timestamp::now(),
    }
}

/// Reads the model as seen from the VirtualService's namespace, whatever namespace the user works in (`-n` only
/// says how to read short names). Rollouts are listed cluster-wide when allowed, since one in another namespace
/// may manage the routes; with namespace rights only, the VirtualService's own namespace is the one that counts.
pub(in crate::cli) async fn read(cluster: &Cluster, req: &Request<'_>) -> Result<(Snapshot, Context), CliError> {
    let snap = snapshot::fetch(cluster, false, &req.options()).await?;
    let ctx = Context::build(&snap, req)?;
    if ctx.virtual_service.namespace == cluster.namespace {
        return Ok((snap, ctx));
    }
    let home = Cluster { namespace: ctx.virtual_service.namespace.clone(), ..cluster.clone() };
    let snap = snapshot::fetch(&home, false, &req.options()).await?;
    let ctx = Context::build(&snap, req)?;
    Ok((snap, ctx))
}

fn extended(snap: &Snapshot, dr: Option<&Written<String>>) -> Result<Snapshot, CliError> {
    Ok(match dr {
        Some(w) => with_object(snap, &w.after)?,
        None => snap.clone(),
    })
}

pub(in crate::cli) async fn write_routes(
    cluster: &Cluster,
    snap: &Snapshot,
    req: &Request<'_>,
    edit: &Edit,
    vs: &ObjectRef,
    dry_run: DryRun,
) -> Result<Written<String>, CliError> {
    let target = Target { kind: Kind::VirtualService, namespace: &vs.namespace, name: &vs.name };
    let written = write::update(cluster, target, dry_run, |current| {
        let ctx = Context::build(&with_object(snap, current)?, req)?;
        let outcome = edit::apply(edit, current, &ctx)?;
        Ok::<_, EditError>((outcome.object, outcome.message))
    })
    .await?;
    Ok(written)
}

async fn write_subsets(
    cluster: &Cluster,
    snap: &Snapshot,
    req: &Request<'_>,
    dr: &ObjectRef,
    dry_run: DryRun,
) -> Result<Written<String>, CliError> {
    let target = Target { kind: Kind::DestinationRule, namespace: &dr.namespace, name: &dr.name };
    let written = write::update(cluster, target, dry_run, |current| {
        let ctx = Context::build(&with_object(snap, current)?, req)?;
        let outcome = pinning::add_subsets(current, &ctx)?;
        Ok::<_, EditError>((outcome.object, outcome.message))
    })
    .await?;
    Ok(written)
}

/// Removes the subsets a failed `pin` added. The failure that caused it is what the command reports; this
/// only says how the clean-up went.
async fn roll_back(cluster: &Cluster, dr: &ObjectRef, written: &Written<String>) {
    let added = pinning::added_subsets(&written.before, &written.after);
    let target = Target { kind: Kind::DestinationRule, namespace: &dr.namespace, name: &dr.name };
    let undone = write::update(cluster, target, DryRun::None, |current| {
        let outcome = pinning::remove_subsets(current, &added);
        Ok::<_, EditError>((outcome.object, outcome.message))
    })
    .await;
    match undone {
        Ok(w) => eprintln!("destinationrule {dr}: {} (rolled back: the routes could not be written)", w.detail),
        Err(e) => eprintln!(
            "warning: destinationrule {dr}: the subsets added for the routes could not be removed again ({}); \
             remove them by hand",
            CliError::from(e)
        ),
    }
}
