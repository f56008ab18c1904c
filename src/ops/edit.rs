//! The route edits against a cluster: read the snapshot once, then write through the one write mechanism
//! ([`write::update`]), whose transform rebuilds the edit's context around the object it just read and applies
//! the pure edit to it. Services, pods, DestinationRules and Rollouts are read once per command: a conflict
//! concerns the object being written, which is re-read on every attempt.
//!
//! `pin` writes two objects: the DestinationRule (new subsets) before the VirtualService routes that use them,
//! so no stored state ever routes to a subset that does not exist; if the routes then cannot be written, the
//! subsets are removed again.

use crate::cluster::write::{self, Kind, Target, Written};
use crate::cluster::{Cluster, snapshot};
use crate::edit::{self, Context, Edit, EditError, Request, Routing, RuleContext, diff, pin as pinning, with_object};
use crate::error::Error;
use crate::objects::{ObjectRef, Snapshot};
use crate::views::result::{DryRun, Entry};
use crate::views::routes::{self, RouteListing};

/// What to edit, as the user named it.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// A Service name or Istio host in any form.
    pub service: &'a str,
    /// `--virtual-service`, when several route the host.
    pub virtual_service: Option<&'a str>,
    /// `--http-route`, when several HTTPRoutes route the host.
    pub http_route: Option<&'a str>,
    pub domain: &'a str,
    pub version_label: &'a str,
}

/// How to write.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteOptions {
    pub dry_run: DryRun,
    /// Put each object's spec diff in its result.
    pub diff: bool,
}

/// `set-weight`, `switch`, `mirror`, `undo`, and a plain canary's `promote`/`abort`: one write of the
/// VirtualService, or of the HTTPRoute, that routes the host.
pub async fn route_edit(
    cluster: &Cluster,
    subject: Subject<'_>,
    edit: &Edit,
    opts: WriteOptions,
) -> Result<Entry, Error> {
    let req = request(cluster, subject, edit.force);
    let (snap, routing) = read_routing(cluster, &req).await?;
    match routing {
        Routing::Istio(ctx) => {
            let written = write_routes(cluster, &snap, &req, edit, &ctx.virtual_service, opts.dry_run).await?;
            Ok(entry(Kind::VirtualService, written, opts.diff))
        }
        Routing::Gateway(ctx) => {
            let written = write_rules(cluster, &snap, &req, edit, &ctx.route, opts.dry_run).await?;
            Ok(entry(Kind::HttpRoute, written, opts.diff))
        }
    }
}

/// `circuit-break`: one guarded write of the host's DestinationRule. A host routed by HTTPRoutes only has no
/// subsets to break circuits of (its versions are Services): refused, saying so.
pub async fn circuit_break(
    cluster: &Cluster,
    subject: Subject<'_>,
    version: Option<&str>,
    breaker: Option<&edit::circuit::Breaker>,
    opts: WriteOptions,
) -> Result<Entry, Error> {
    let req = request(cluster, subject, false);
    let (snap, ctx) = match read_routing(cluster, &req).await? {
        (snap, Routing::Istio(ctx)) => (snap, ctx),
        (_, Routing::Gateway(ctx)) => {
            return Err(Error::Refused(EditError::NoGatewayEquivalent {
                what: "circuit breaking",
                route: ctx.label(),
                host: ctx.host.clone(),
                instead: "Istio applies a DestinationRule for the backend Service's host: write its trafficPolicy \
                          (connectionPool, outlierDetection) there",
            }));
        }
    };
    let dr = ctx.destination_rule.clone().ok_or(EditError::NoDestinationRuleFor { host: ctx.host.clone() })?;
    let target = Target { kind: Kind::DestinationRule, namespace: &dr.namespace, name: &dr.name };
    let written = write::update(cluster, target, opts.dry_run, |current| {
        let ctx = Context::build(&with_object(&snap, current)?, &req)?;
        let outcome = edit::circuit::circuit_break(current, &dr, version, breaker, &ctx)?;
        Ok::<_, EditError>((outcome.object, outcome.message))
    })
    .await?;
    Ok(entry(Kind::DestinationRule, written, opts.diff))
}

/// `route SERVICE` alone: the routes that test the request, as stored now.
pub async fn list_routes(cluster: &Cluster, subject: Subject<'_>) -> Result<RouteListing, Error> {
    let req = request(cluster, subject, false);
    let (_, routing) = read_routing(cluster, &req).await?;
    let object = routing.object();
    let kind = match routing {
        Routing::Istio(_) => Kind::VirtualService,
        Routing::Gateway(_) => Kind::HttpRoute,
    };
    let raw = write::read(cluster, Target { kind, namespace: &object.namespace, name: &object.name }).await?;
    Ok(routes::listing(&routing, &raw)?)
}

/// What `pin` did: the results of the services done, the first failure (which stops the command), and what
/// was done to undo a half-written service.
pub struct Pinned {
    pub entries: Vec<Entry>,
    pub error: Option<Error>,
    pub notes: Vec<String>,
}

/// `pin`: each service in turn.
pub async fn pin(
    cluster: &Cluster,
    services: &[String],
    subject: Subject<'_>,
    edit: &Edit,
    opts: WriteOptions,
) -> Pinned {
    let mut pinned = Pinned { entries: Vec::new(), error: None, notes: Vec::new() };
    for service in services {
        let req = request(cluster, Subject { service, ..subject }, edit.force);
        match pin_one(cluster, &req, edit, opts, &mut pinned.notes).await {
            Ok(done) => pinned.entries.extend(done),
            Err(e) => {
                pinned.error = Some(e);
                break;
            }
        }
    }
    pinned
}

async fn pin_one(
    cluster: &Cluster,
    req: &Request<'_>,
    edit: &Edit,
    opts: WriteOptions,
    notes: &mut Vec<String>,
) -> Result<Vec<Entry>, Error> {
    let (snap, ctx) = match read_routing(cluster, req).await? {
        (snap, Routing::Istio(ctx)) => (snap, ctx),
        (snap, Routing::Gateway(ctx)) => {
            let written = write_rules(cluster, &snap, req, edit, &ctx.route, opts.dry_run).await?;
            return Ok(vec![entry(Kind::HttpRoute, written, opts.diff)]);
        }
    };
    let dr = pinning::destination_rule_to_extend(&ctx)?.cloned();
    // Both changes are first computed locally (reads only), so that a refusal of the routes (a new subset
    // without ready pods, say) stops the command before the DestinationRule is touched.
    let planned_dr = match &dr {
        Some(dr) => Some(write_subsets(cluster, &snap, req, dr, DryRun::Client).await?),
        None => None,
    };
    let planned_snap = extended(&snap, planned_dr.as_ref())?;
    let planned_vs = write_routes(cluster, &planned_snap, req, edit, &ctx.virtual_service, DryRun::Client).await?;
    let entries = |dr_written: Option<Written<String>>, vs_written| {
        let dr_entry = dr_written.map(|w| entry(Kind::DestinationRule, w, opts.diff));
        dr_entry.into_iter().chain([entry(Kind::VirtualService, vs_written, opts.diff)]).collect()
    };
    if opts.dry_run == DryRun::Client {
        return Ok(entries(planned_dr, planned_vs));
    }
    let dr_written = match &dr {
        Some(dr) => Some(write_subsets(cluster, &snap, req, dr, opts.dry_run).await?),
        None => None,
    };
    let snap = extended(&snap, dr_written.as_ref())?;
    match write_routes(cluster, &snap, req, edit, &ctx.virtual_service, opts.dry_run).await {
        Ok(vs_written) => Ok(entries(dr_written, vs_written)),
        Err(e) => {
            if let (Some(dr), Some(written)) = (&dr, dr_written.filter(|w| w.changed && opts.dry_run == DryRun::None)) {
                notes.push(roll_back(cluster, dr, &written).await);
            }
            Err(e)
        }
    }
}

/// The request of an edit in the cluster's namespace (`-n` says how to read short names).
pub fn request<'a>(cluster: &'a Cluster, subject: Subject<'a>, force: bool) -> Request<'a> {
    Request {
        force,
        service: subject.service,
        namespace: &cluster.namespace,
        virtual_service: subject.virtual_service,
        http_route: subject.http_route,
        domain: subject.domain,
        version_label: subject.version_label,
        now: jiff::Timestamp::now(),
    }
}

/// Reads the model as seen from the route object's namespace, whatever namespace the user works in. Rollouts
/// are listed cluster-wide when allowed, since one in another namespace may manage the routes; with namespace
/// rights only, the route object's own namespace is the one that counts.
pub async fn read_routing(cluster: &Cluster, req: &Request<'_>) -> Result<(Snapshot, Routing), Error> {
    let snap = snapshot::fetch(cluster, false, &req.options()).await?.snapshot;
    let routing = Routing::build(&snap, req)?;
    if routing.object().namespace == cluster.namespace {
        return Ok((snap, routing));
    }
    let home = Cluster { namespace: routing.object().namespace.clone(), ..cluster.clone() };
    let snap = snapshot::fetch(&home, false, &req.options()).await?.snapshot;
    let routing = Routing::build(&snap, req)?;
    Ok((snap, routing))
}

fn extended(snap: &Snapshot, dr: Option<&Written<String>>) -> Result<Snapshot, Error> {
    Ok(match dr {
        Some(w) => with_object(snap, &w.after)?,
        None => snap.clone(),
    })
}

pub async fn write_routes(
    cluster: &Cluster,
    snap: &Snapshot,
    req: &Request<'_>,
    edit: &Edit,
    vs: &ObjectRef,
    dry_run: DryRun,
) -> Result<Written<String>, Error> {
    let target = Target { kind: Kind::VirtualService, namespace: &vs.namespace, name: &vs.name };
    let written = write::update(cluster, target, dry_run, |current| {
        let ctx = Context::build(&with_object(snap, current)?, req)?;
        let outcome = edit::apply(edit, current, &ctx)?;
        Ok::<_, EditError>((outcome.object, outcome.message))
    })
    .await?;
    Ok(written)
}

pub async fn write_rules(
    cluster: &Cluster,
    snap: &Snapshot,
    req: &Request<'_>,
    edit: &Edit,
    route: &ObjectRef,
    dry_run: DryRun,
) -> Result<Written<String>, Error> {
    let target = Target { kind: Kind::HttpRoute, namespace: &route.namespace, name: &route.name };
    let written = write::update(cluster, target, dry_run, |current| {
        let ctx = RuleContext::build(&with_object(snap, current)?, req)?;
        let outcome = edit::rules::apply(edit, current, &ctx)?;
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
) -> Result<Written<String>, Error> {
    let target = Target { kind: Kind::DestinationRule, namespace: &dr.namespace, name: &dr.name };
    let written = write::update(cluster, target, dry_run, |current| {
        let ctx = Context::build(&with_object(snap, current)?, req)?;
        let outcome = pinning::add_subsets(current, &ctx)?;
        Ok::<_, EditError>((outcome.object, outcome.message))
    })
    .await?;
    Ok(written)
}

/// Removes the subsets a failed `pin` added, and says how that went. The failure that caused it is what the
/// command reports.
async fn roll_back(cluster: &Cluster, dr: &ObjectRef, written: &Written<String>) -> String {
    let added = pinning::added_subsets(&written.before, &written.after);
    let target = Target { kind: Kind::DestinationRule, namespace: &dr.namespace, name: &dr.name };
    let undone = write::update(cluster, target, DryRun::None, |current| {
        let outcome = pinning::remove_subsets(current, &added);
        Ok::<_, EditError>((outcome.object, outcome.message))
    })
    .await;
    match undone {
        Ok(w) => format!("destinationrule {}: {} (rolled back: the routes could not be written)", dr.key(), w.detail),
        Err(e) => format!(
            "warning: destinationrule {}: the subsets added for the routes could not be removed again ({}); \
             remove them by hand",
            dr.key(),
            Error::from(e)
        ),
    }
}

/// The result of one guarded write.
pub fn entry(kind: Kind, written: Written<String>, with_diff: bool) -> Entry {
    let mut entry = Entry::written(kind.name(), &written.after, written.changed, written.detail, written.conflicts);
    entry.diff = with_diff.then(|| diff::spec(&written.before, &written.after));
    entry
}
