//! `kubectl vroute status [SERVICE]`: per-version routes, weights, matches, pods, rollout state, traffic
//! and findings; `--watch` redraws on every change the watch API reports.

use super::common::{KubeArgs, ModelArgs, OutputArg, PromArgs, TelemetryArgs};
use super::print;
use crate::cluster::Cluster;
use crate::error::Error;
use crate::exit::Exit;
use crate::graph::{RouteGraph, Scope};
use crate::istio::host;
use crate::ops::status::{self, StatusOptions};
use crate::render::{self, Format, Style};
use crate::views;
use clap::Args;

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// A Service name or Istio host in any form: reviews, reviews.prod, reviews.prod.svc.cluster.local.
    /// Without it: every service in the namespace (or, with -A, everywhere) that a VirtualService routes.
    pub service: Option<String>,
    /// Every namespace.
    #[arg(short = 'A', long, conflicts_with = "service")]
    pub all_namespaces: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputArg::Table)]
    pub output: OutputArg,
    /// Redraw whenever a VirtualService, DestinationRule, Service, Pod or Rollout changes (until Ctrl-C).
    #[arg(short = 'w', long)]
    pub watch: bool,
    #[command(flatten)]
    pub prom: PromArgs,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub async fn run(kube: &KubeArgs, args: StatusArgs, style: Style) -> Result<Exit, Error> {
    let cluster = kube.connect(args.watch).await?;
    let opts = options(
        &cluster,
        &args.model,
        &args.prom,
        args.telemetry.reporter.into(),
        args.service.as_deref(),
        args.all_namespaces,
    )?;
    let format = Format::from(args.output);
    let view = |graph: &RouteGraph| show(graph, &cluster, args.all_namespaces, format, style, false);
    if !args.watch {
        status::show(&cluster, &opts, view).await??;
        return Ok(Exit::Ok);
    }
    let frame = |graph: &RouteGraph| show(graph, &cluster, args.all_namespaces, format, style, true);
    // A table in a terminal redraws the screen; piped, each table follows the last under a line with its time,
    // so a log of the watch reads as a history. Documents (-o json|yaml) are one per change either way.
    let redraw = |graph: &RouteGraph| {
        if matches!(format, Format::Table | Format::Wide) {
            let clear = if style.tty { render::CLEAR_SCREEN } else { "\n" };
            let time = jiff::Zoned::now().strftime("%H:%M:%S");
            print(&format!("{clear}kubectl vroute status --watch  ({time})\n\n"))?;
        }
        frame(graph)
    };
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    status::watch(&cluster, &opts, stop, redraw).await?;
    Ok(Exit::Ok)
}

/// The options of `status` and `check` against a cluster.
pub(super) fn options(
    cluster: &Cluster,
    model: &ModelArgs,
    prom: &PromArgs,
    telemetry: crate::metrics::status::Telemetry,
    service: Option<&str>,
    all: bool,
) -> Result<StatusOptions, Error> {
    let scope = match service {
        Some(input) => Scope::Host {
            host: host::resolve_user(input, &cluster.namespace, &model.cluster_domain),
            input: input.to_string(),
        },
        None if all => Scope::All,
        None => Scope::Namespace(cluster.namespace.clone()),
    };
    Ok(StatusOptions {
        graph: model.options(scope),
        all_namespaces: all,
        prometheus: prom.client(Some(cluster))?,
        telemetry,
    })
}

/// Prints the view; `stream`: as one frame of `--watch` (see [`render::status::render_frame`]).
fn show(
    graph: &RouteGraph,
    cluster: &Cluster,
    all: bool,
    format: Format,
    style: Style,
    stream: bool,
) -> Result<(), Error> {
    if graph.hosts.is_empty() && matches!(format, Format::Table | Format::Wide) {
        let where_ = if all { "any namespace".to_string() } else { format!("namespace {}", cluster.namespace) };
        let missing = graph
            .missing_namespace(&cluster.namespace)
            .filter(|_| !all)
            .map(|close| format!(" (there is no namespace {}{})", cluster.namespace, crate::graph::suggest(&close)));
        eprintln!("No VirtualService or HTTPRoute routes a service in {where_}{}.", missing.unwrap_or_default());
    }
    if format == Format::Json {
        return super::print_json(&views::status::Streamed(graph), stream);
    }
    let report = views::status::project(graph);
    let text = if stream {
        render::status::render_frame(&report, format, style)?
    } else {
        render::status::render(&report, format, style)?
    };
    print(&text)
}
