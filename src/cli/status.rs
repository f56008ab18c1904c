//! `kubectl vroute status [SERVICE]`: per-version routes, weights, matches, pods, rollout state, traffic
//! and findings; `--watch` redraws on every change the watch API reports.

use super::common::{KubeArgs, ModelArgs, PromArgs};
use super::{CliError, print, stdout_is_tty};
use crate::cluster::Cluster;
use crate::cluster::resources::{self, PODS, ROLLOUTS, Res, SERVICES};
use crate::cluster::snapshot;
use crate::exit::Exit;
use crate::metrics::{Prom, status::WINDOW};
use crate::render::{self, Format};
use crate::routes::{self, Options, Scope, StatusReport, findings::Code, host};
use clap::Args;
use futures::StreamExt;
use kube::api::{Api, DynamicObject, GroupVersionKind, ListParams};
use kube::core::PartialObjectMeta;
use kube::discovery::ApiResource;
use kube::runtime::{WatchStreamExt, watcher};
use std::time::Duration;

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// A Service name or Istio host in any form: reviews, reviews.prod, reviews.prod.svc.cluster.local.
    /// Without it: every service in the namespace (or, with -A, everywhere) that a VirtualService routes.
    pub service: Option<String>,
    /// Every namespace.
    #[arg(short = 'A', long, conflicts_with = "service")]
    pub all_namespaces: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Redraw whenever a VirtualService, DestinationRule, Service, Pod or Rollout changes (until Ctrl-C).
    #[arg(short = 'w', long)]
    pub watch: bool,
    #[command(flatten)]
    pub prom: PromArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub async fn run(kube: &KubeArgs, args: StatusArgs) -> Result<Exit, CliError> {
    let cluster = kube.connect(args.watch).await?;
    let opts = options(&cluster, &args.model, args.service.as_deref(), args.all_namespaces);
    let prom = args.prom.client(Some(&cluster))?;
    if args.watch {
        return watch(&cluster, &opts, prom.as_ref(), &args).await;
    }
    let report = load(&cluster, &opts, prom.as_ref(), args.all_namespaces).await?;
    show(&report, &cluster, &args)?;
    Ok(Exit::Ok)
}

pub(super) fn options(cluster: &Cluster, model: &ModelArgs, service: Option<&str>, all: bool) -> Options {
    let scope = match service {
        Some(input) => Scope::Host {
            host: host::resolve_user(input, &cluster.namespace, &model.cluster_domain),
            input: input.to_string(),
        },
        None if all => Scope::All,
        None => Scope::Namespace(cluster.namespace.clone()),
    };
    model.options(scope)
}

/// Fetches, models and (when Prometheus is configured) adds live traffic. A Prometheus failure does not
/// hide the routes: it becomes a finding, and no traffic figure is shown for anything.
pub(super) async fn load(
    cluster: &Cluster,
    opts: &Options,
    prom: Option<&Prom>,
    all: bool,
) -> Result<StatusReport, CliError> {
    let snap = snapshot::fetch(cluster, all, opts).await?;
    let mut report = routes::build(&snap, opts)?;
    if let Some(prom) = prom {
        let mut hosts: Vec<&str> =
            report.services.iter().flat_map(|s| s.versions.iter().map(|v| v.host.as_str())).collect();
        hosts.sort_unstable();
        hosts.dedup();
        match crate::metrics::status::observe(prom, &hosts).await {
            Ok(seen) => routes::traffic::attach(
                &mut report,
                &seen.rates,
                &seen.edges,
                &opts.version_label,
                &opts.domain,
                WINDOW,
            ),
            Err(e) => report.findings.push(Code::PrometheusUnavailable.finding("", e.to_string())),
        }
    }
    Ok(report)
}

fn show(report: &StatusReport, cluster: &Cluster, args: &StatusArgs) -> Result<(), CliError> {
    if report.services.is_empty() && matches!(args.output, Format::Table | Format::Wide) {
        let where_ =
            if args.all_namespaces { "any namespace".to_string() } else { format!("namespace {}", cluster.namespace) };
        eprintln!("No VirtualService routes a service in {where_}.");
    }
    let text =
        render::status::render(report, args.output, render::use_color(stdout_is_tty())).map_err(CliError::Usage)?;
    print(&text)
}

/// The kinds whose changes trigger a redraw, watched as widely as the view reads them: VirtualServices,
/// DestinationRules and Rollouts everywhere when the user may list them cluster-wide (one in another namespace
/// may route to, define subsets for, or manage a host here), Services and Pods in the namespace.
async fn watched(ns: Option<&str>, cluster: &Cluster) -> Vec<Api<PartialObjectMeta<DynamicObject>>> {
    let resource = |r: Res, kind: &str| {
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(r.group, r.version, kind), r.plural)
    };
    let kinds = [
        (resource(resources::virtual_services("v1"), "VirtualService"), true),
        (resource(resources::destination_rules("v1"), "DestinationRule"), true),
        (resource(SERVICES, "Service"), false),
        (resource(PODS, "Pod"), false),
        (resource(ROLLOUTS, "Rollout"), true),
    ];
    let scoped = kinds.iter().map(|(ar, wide)| async move {
        let everywhere = Api::all_with(cluster.client.clone(), ar);
        match ns {
            None => everywhere,
            Some(_) if *wide && everywhere.list_metadata(&ListParams::default().limit(1)).await.is_ok() => everywhere,
            Some(ns) => Api::namespaced_with(cluster.client.clone(), ns, ar),
        }
    });
    futures::future::join_all(scoped).await
}

async fn watch(cluster: &Cluster, opts: &Options, prom: Option<&Prom>, args: &StatusArgs) -> Result<Exit, CliError> {
    let ns = (!args.all_namespaces).then_some(cluster.namespace.as_str());
    let apis = watched(ns, cluster).await;
    let n = apis.len();
    // Metadata-only watches: any change to an object bumps its resourceVersion, which is all we need to know.
    let streams = apis
        .into_iter()
        .enumerate()
        .map(|(i, api)| watcher(api, watcher::Config::default()).default_backoff().map(move |e| (i, e)).boxed());
    let mut events = futures::stream::select_all(streams);
    let mut initialised = vec![false; n];
    let redraw = |report: &StatusReport| -> Result<(), CliError> {
        if stdout_is_tty() && matches!(args.output, Format::Table | Format::Wide) {
            print("\x1b[H\x1b[2J")?;
            print(&format!("kubectl vroute status --watch  ({})\n\n", jiff::Zoned::now().strftime("%H:%M:%S")))?;
        }
        show(report, cluster, args)
    };
    redraw(&load(cluster, opts, prom, args.all_namespaces).await?)?;
    let mut dirty = false;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(Exit::Ok),
            event = events.next() => match event {
                None => return Ok(Exit::Ok),
                // The first full listing of each watch repeats what was just drawn.
                Some((i, Ok(watcher::Event::InitDone))) if !initialised[i] => initialised[i] = true,
                Some((_, Ok(watcher::Event::Init | watcher::Event::InitApply(_)))) => {}
                Some((_, Ok(_))) => dirty = true,
                // Watch errors (say, no Rollout CRD) are retried with backoff; the view is still drawn.
                Some((_, Err(_))) => {}
            },
            // Debounce: one redraw for a burst of changes (a rollout step touches several objects).
            _ = tokio::time::sleep(Duration::from_millis(300)), if dirty => {
                dirty = false;
                redraw(&load(cluster, opts, prom, args.all_namespaces).await?)?;
            }
        }
    }
}
