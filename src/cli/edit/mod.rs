//! `set-weight`, `switch`, `mirror`, `pin` and `undo`: flags turned into an [`Edit`](crate::edit::Edit), done
//! by [`crate::ops::edit`], printed by [`crate::render::result`].

pub mod policy;

use super::common::{DocumentArg, DryRunArg, KubeArgs, document_format};
use super::print;
use crate::edit::pin::{HeaderName, PinBy};
use crate::edit::{Edit, Intent, MirrorTo, weights};
use crate::error::Error;
use crate::exit::Exit;
use crate::ops::edit::{self, Subject, WriteOptions};
use crate::render;
use crate::views::result::Entry;
use clap::Args;

/// Flags every edit command takes.
#[derive(Args, Debug)]
pub struct EditFlags {
    /// Compute the change without storing it: `client` sends nothing, `server` has the API server validate
    /// and admit the write (schema, webhooks) without storing it. `--dry-run` alone means `client`.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = DryRunArg::None, num_args = 0..=1,
          require_equals = true, default_missing_value = "client")]
    pub dry_run: DryRunArg,
    /// Print a unified diff of each object's spec before and after.
    #[arg(long)]
    pub diff: bool,
    /// Print a result document (each object as written, with its message) instead of messages.
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<DocumentArg>,
    /// The VirtualService to edit (NAME or NAMESPACE/NAME) when several route the service.
    #[arg(long, value_name = "NAME")]
    pub virtual_service: Option<String>,
    /// The HTTPRoute to edit (NAME or NAMESPACE/NAME) when several route the service (default: the only one,
    /// else the one in the Service's namespace whose parent is the Service).
    #[arg(long, value_name = "NAME")]
    pub http_route: Option<String>,
    /// The cluster's DNS domain, for resolving short host names.
    #[arg(long, default_value = "cluster.local", value_name = "DOMAIN")]
    pub cluster_domain: String,
}

impl EditFlags {
    pub fn write(&self) -> WriteOptions {
        WriteOptions { dry_run: self.dry_run.into(), diff: self.diff }
    }

    /// How the edit names its subject (`service` is each command's SERVICE).
    pub fn subject<'a>(&'a self, service: &'a str, version_label: &'a str) -> Subject<'a> {
        Subject {
            service,
            virtual_service: self.virtual_service.as_deref(),
            http_route: self.http_route.as_deref(),
            domain: &self.cluster_domain,
            version_label,
        }
    }

    /// Prints what the command did: each object's line (and diff), or the result document.
    pub fn print(&self, entries: &[Entry]) -> Result<(), Error> {
        print(&render::result::render(entries, self.dry_run.into(), document_format(self.output))?)
    }
}

/// `kubectl vroute set-weight reviews v1=90 v2=10`
#[derive(Args, Debug)]
pub struct SetWeightArgs {
    /// A Service name or Istio host in any form: reviews, reviews.prod, reviews.prod.svc.cluster.local.
    pub service: String,
    /// VERSION=WEIGHT per version, whole numbers summing to 100. Versions are subset names (v1), or Service
    /// hosts in any form for host-level splits (reviews-v2, reviews.stage). Destinations not named get 0.
    #[arg(required = true, value_name = "VERSION=WEIGHT")]
    pub weights: Vec<String>,
    /// The route to edit (a VirtualService http route, an HTTPRoute rule), by name or as #INDEX (default: the
    /// only one, else the catch-all one).
    #[arg(long, value_name = "NAME")]
    pub route: Option<String>,
    /// Scale the weights to sum to 100 in proportion (v1=3 v2=1 becomes 75/25).
    #[arg(long)]
    pub normalize: bool,
    /// Send traffic to a version even if it has no ready pods, and edit a route an Argo Rollout manages (its
    /// controller writes its own weights back within seconds).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub flags: EditFlags,
}

/// `kubectl vroute switch reviews v2`
#[derive(Args, Debug)]
pub struct SwitchArgs {
    /// A Service name or Istio host in any form.
    pub service: String,
    /// The version that gets 100% (the others stay in the route with weight 0).
    pub version: String,
    /// The route to edit (a VirtualService http route, an HTTPRoute rule), by name or as #INDEX (default: the
    /// only one, else the catch-all one).
    #[arg(long, value_name = "NAME")]
    pub route: Option<String>,
    /// Switch even if the version has no ready pods.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub flags: EditFlags,
}

/// `kubectl vroute mirror reviews --to v2 --percent 10`
#[derive(Args, Debug)]
pub struct MirrorArgs {
    /// A Service name or Istio host in any form.
    pub service: String,
    /// The version that receives a copy of the requests (its responses are discarded).
    #[arg(long, value_name = "VERSION", required_unless_present = "off")]
    pub to: Option<String>,
    /// The share of requests to copy, more than 0 and at most 100.
    #[arg(long, default_value_t = 100.0, value_name = "PERCENT", conflicts_with = "off")]
    pub percent: f64,
    /// Stop mirroring on the route.
    #[arg(long, conflicts_with = "to")]
    pub off: bool,
    /// The route to edit (a VirtualService http route, an HTTPRoute rule), by name or as #INDEX (default: the
    /// only one, else the catch-all one).
    #[arg(long, value_name = "NAME")]
    pub route: Option<String>,
    #[command(flatten)]
    pub flags: EditFlags,
}

/// `kubectl vroute pin b c --from a`
#[derive(Args, Debug)]
pub struct PinArgs {
    /// The services to pin (each is a separate edit), a Service name or host in any form.
    #[arg(required = true)]
    pub services: Vec<String>,
    /// The pod label that carries the version, on callers (`sourceLabels`) and on the service's pods.
    #[arg(long, default_value = "version", value_name = "LABEL")]
    pub label: String,
    /// Pin only callers with `app: APP`.
    #[arg(long, value_name = "APP", conflicts_with = "header")]
    pub from: Option<String>,
    /// Pin by a request header carrying the caller's version (`NAME: v2` goes to v2) instead of the caller's
    /// labels: the callers must set and propagate it. The way to pin under a waypoint (ambient mode, which
    /// ignores sourceLabels) and on hosts routed by HTTPRoutes.
    #[arg(long, value_name = "NAME", value_parser = clap::value_parser!(HeaderName))]
    pub header: Option<HeaderName>,
    /// Pin versions even if they have no ready pods.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub flags: EditFlags,
}

/// `kubectl vroute undo reviews`
#[derive(Args, Debug)]
pub struct UndoArgs {
    /// A Service name or Istio host in any form.
    pub service: String,
    /// Restore the routes as they were before this revision (default: the latest); an error lists them.
    #[arg(long, value_name = "N")]
    pub to_revision: Option<u32>,
    /// Restore even if a version it routes to has no ready pods now.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub flags: EditFlags,
}

pub async fn set_weight(kube: &KubeArgs, args: SetWeightArgs) -> Result<Exit, Error> {
    let weights = weights::parse(&args.weights)?;
    let intent = Intent::SetWeight { route: args.route, weights, normalize: args.normalize };
    route_edit(kube, &args.service, Edit { intent, force: args.force }, &args.flags).await
}

pub async fn switch(kube: &KubeArgs, args: SwitchArgs) -> Result<Exit, Error> {
    let intent = Intent::Switch { route: args.route, version: args.version };
    route_edit(kube, &args.service, Edit { intent, force: args.force }, &args.flags).await
}

pub async fn mirror(kube: &KubeArgs, args: MirrorArgs) -> Result<Exit, Error> {
    let to = args.to.map(|version| MirrorTo { version, percent: args.percent });
    let intent = Intent::Mirror { route: args.route, to };
    route_edit(kube, &args.service, Edit { intent, force: false }, &args.flags).await
}

pub async fn pin(kube: &KubeArgs, args: PinArgs) -> Result<Exit, Error> {
    let by = match args.header {
        Some(header) => PinBy::Header(header),
        None => PinBy::Caller { from: args.from },
    };
    let edit = Edit { intent: Intent::Pin { by }, force: args.force };
    let cluster = kube.connect(false).await?;
    let flags = &args.flags;
    let pinned = edit::pin(&cluster, &args.services, flags.subject("", &args.label), &edit, flags.write()).await;
    for note in &pinned.notes {
        eprintln!("{note}");
    }
    flags.print(&pinned.entries)?;
    match pinned.error {
        Some(e) => Err(e),
        None => Ok(Exit::Ok),
    }
}

pub async fn undo(kube: &KubeArgs, args: UndoArgs) -> Result<Exit, Error> {
    let intent = Intent::Undo { revision: args.to_revision };
    route_edit(kube, &args.service, Edit { intent, force: args.force }, &args.flags).await
}

pub(super) async fn route_edit(kube: &KubeArgs, service: &str, edit: Edit, flags: &EditFlags) -> Result<Exit, Error> {
    let cluster = kube.connect(false).await?;
    let done = edit::route_edit(&cluster, flags.subject(service, "version"), &edit, flags.write()).await?;
    flags.print(&[done])?;
    Ok(Exit::Ok)
}
