//! `promote`, `abort`, `retry`, `pause` and `wait`: flags turned into an [`Act`] (what to do to a Rollout, and
//! for `promote`/`abort` what to do to a plain VirtualService canary), done by [`crate::ops::rollout`], printed
//! by [`crate::render::result`]; `wait` in [`wait`].
//!
//! A NAME given to `promote` or `abort` is a Rollout when one of that name exists in the namespace (as with
//! `kubectl argo rollouts`), else a Service whose VirtualService runs a plain canary; `--service` forces the
//! latter, and flags that only make sense for routes (`--step`, `--to`, ...) are refused for a Rollout rather
//! than ignored.

mod wait;

pub use wait::WaitArgs;

use super::common::{DocumentArg, DryRunArg, KubeArgs, document_format};
use super::edit::EditFlags;
use super::{print, report};
use crate::edit::canary::RoleFlags;
use crate::edit::{Edit, Intent};
use crate::error::Error;
use crate::exit::Exit;
use crate::ops::rollout::{self as ops, Act, CanaryAct};
use crate::render::{self, Style};
use crate::rollouts::actions;
use clap::Args;

/// Which Rollouts a command acts on: names, or a label selector.
#[derive(Args, Debug)]
pub struct Targets {
    /// The Rollouts to act on, in the namespace (-n), each in turn (a failure does not stop the others).
    #[arg(value_name = "NAME", required_unless_present = "selector")]
    pub names: Vec<String>,
    /// Act on every Rollout of the namespace whose labels match (kubectl's syntax: app=reviews,tier!=db).
    #[arg(short = 'l', long, value_name = "SELECTOR", conflicts_with = "names")]
    pub selector: Option<String>,
}

/// `--dry-run` and `-o` for the Rollout-only commands.
#[derive(Args, Debug)]
pub struct RolloutFlags {
    /// Compute the change without storing it: `client` sends nothing, `server` has the API server validate
    /// and admit the patches without storing them. `--dry-run` alone means `client`.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = DryRunArg::None, num_args = 0..=1,
          require_equals = true, default_missing_value = "client")]
    pub dry_run: DryRunArg,
    /// Print a result document (each Rollout as patched, with the patches sent) instead of messages.
    #[arg(short = 'o', long, value_enum, value_name = "FORMAT")]
    pub output: Option<DocumentArg>,
}

/// Flags of `promote` and `abort` for a plain VirtualService canary (no Rollout).
#[derive(Args, Debug)]
pub struct CanaryFlags {
    /// Treat each NAME as a Service running a plain canary (its VirtualService route or HTTPRoute rule), even
    /// when a Rollout has that name. Without it, a NAME no Rollout has is taken as such a Service.
    #[arg(long, conflicts_with = "selector")]
    pub service: bool,
    /// Plain canary: the stable version (default: the one recorded by earlier vroute edits of the route).
    #[arg(long, value_name = "VERSION")]
    pub stable: Option<String>,
    /// Plain canary: the route (an http route, an HTTPRoute rule), by name or as #INDEX (default: the only one,
    /// else the catch-all one).
    #[arg(long, value_name = "NAME")]
    pub route: Option<String>,
    /// Plain canary: send traffic to a version even if it has no ready pods.
    #[arg(long)]
    pub force: bool,
}

/// `kubectl vroute promote reviews`
#[derive(Args, Debug)]
pub struct PromoteArgs {
    #[command(flatten)]
    pub targets: Targets,
    /// Rollout: skip every remaining step, pause and analysis (only while an update is in progress).
    #[arg(long, conflicts_with = "step")]
    pub full: bool,
    /// Plain canary: percentage points the canary gains (default: all of the traffic).
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u64).range(1..=100))]
    pub step: Option<u64>,
    /// Plain canary: the version to promote (default: the canary recorded by earlier vroute edits of the route).
    #[arg(long, visible_alias = "canary", value_name = "VERSION")]
    pub to: Option<String>,
    #[command(flatten)]
    pub canary: CanaryFlags,
    #[command(flatten)]
    pub flags: EditFlags,
}

/// `kubectl vroute abort reviews`
#[derive(Args, Debug)]
pub struct AbortArgs {
    #[command(flatten)]
    pub targets: Targets,
    #[command(flatten)]
    pub canary: CanaryFlags,
    #[command(flatten)]
    pub flags: EditFlags,
}

/// `kubectl vroute retry reviews` and `kubectl vroute pause reviews`
#[derive(Args, Debug)]
pub struct RolloutArgs {
    #[command(flatten)]
    pub targets: Targets,
    #[command(flatten)]
    pub flags: RolloutFlags,
}

pub async fn promote(kube: &KubeArgs, args: PromoteArgs) -> Result<Exit, Error> {
    let route_only = [("--step", args.step.is_some()), ("--to", args.to.is_some())];
    let roles = RoleFlags { stable: args.canary.stable.clone(), canary: args.to };
    let intent = Intent::Promote { route: args.canary.route.clone(), roles, step: args.step };
    let canary = canary_act(intent, &args.canary, &args.flags, &route_only);
    let plan = if args.full { actions::promote_full } else { actions::promote };
    let act = Act { plan, canary: Some(canary), dry_run: args.flags.dry_run.into() };
    run(kube, &args.targets, &act, args.flags.output).await
}

pub async fn abort(kube: &KubeArgs, args: AbortArgs) -> Result<Exit, Error> {
    let roles = RoleFlags { stable: args.canary.stable.clone(), canary: None };
    let intent = Intent::Abort { route: args.canary.route.clone(), roles };
    let canary = canary_act(intent, &args.canary, &args.flags, &[]);
    let act = Act { plan: actions::abort, canary: Some(canary), dry_run: args.flags.dry_run.into() };
    run(kube, &args.targets, &act, args.flags.output).await
}

pub async fn retry(kube: &KubeArgs, args: RolloutArgs) -> Result<Exit, Error> {
    let act = Act { plan: actions::retry, canary: None, dry_run: args.flags.dry_run.into() };
    run(kube, &args.targets, &act, args.flags.output).await
}

pub async fn pause(kube: &KubeArgs, args: RolloutArgs) -> Result<Exit, Error> {
    let act = Act { plan: actions::pause, canary: None, dry_run: args.flags.dry_run.into() };
    run(kube, &args.targets, &act, args.flags.output).await
}

pub async fn wait(kube: &KubeArgs, args: WaitArgs, style: Style) -> Result<Exit, Error> {
    wait::run(kube, args, style).await
}

/// Acts on every target and prints, in order, each one's line (or its error), or the result document; exits
/// with the code of the first failure.
async fn run(kube: &KubeArgs, targets: &Targets, act: &Act<'_>, output: Option<DocumentArg>) -> Result<Exit, Error> {
    let cluster = kube.connect(false).await?;
    let targets = match &targets.selector {
        Some(selector) => ops::Targets::Selector(selector),
        None => ops::Targets::Names(&targets.names),
    };
    let mut done = Vec::new();
    let mut exit = Exit::Ok;
    for outcome in ops::act(&cluster, targets, act).await? {
        match outcome {
            Ok(entry) => {
                if output.is_none() {
                    print(&render::result::line(&entry, act.dry_run))?;
                }
                done.push(entry);
            }
            Err(e) => {
                report(&e);
                if exit == Exit::Ok {
                    exit = e.exit();
                }
            }
        }
    }
    if output.is_some() {
        print(&render::result::render(&done, act.dry_run, document_format(output))?)?;
    }
    Ok(exit)
}

/// `route_only` are the command's own plain-canary flags, with whether each was given.
fn canary_act<'a>(
    intent: Intent,
    canary: &CanaryFlags,
    flags: &'a EditFlags,
    route_only: &[(&'static str, bool)],
) -> CanaryAct<'a> {
    let shared = [
        ("--stable", canary.stable.is_some()),
        ("--route", canary.route.is_some()),
        ("--force", canary.force),
        ("--virtual-service", flags.virtual_service.is_some()),
        ("--http-route", flags.http_route.is_some()),
        ("--diff", flags.diff),
    ];
    let given = route_only.iter().chain(&shared).find(|(_, given)| *given).map(|(flag, _)| *flag);
    CanaryAct {
        edit: Edit { intent, force: canary.force },
        subject: flags.subject("", "version"),
        write: flags.write(),
        forced: canary.service,
        route_flag: given,
    }
}
