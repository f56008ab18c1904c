//! `kubectl vroute graph [SERVICE]`: the per-version call graph, as a layered drawing in the terminal, DOT,
//! Mermaid, SVG or the `graph` document; `--watch` redraws on every change and every refresh interval.

use super::common::{KubeArgs, ModelArgs, PromArgs};
use super::print;
use crate::calls::CallGraph;
use crate::duration;
use crate::error::Error;
use crate::exit::Exit;
use crate::graph::RouteGraph;
use crate::ops::graph::{self, GraphOptions};
use crate::render::{self, Style};
use crate::views;
use clap::{Args, ValueEnum};
use std::time::Duration;

#[derive(Args, Debug)]
pub struct GraphArgs {
    /// A Service name or Istio host (reviews, reviews.prod): its versions, their callers and what they call.
    /// Without it: every routed service in the namespace (or, with -A, everywhere) and the calls into and out of it.
    pub service: Option<String>,
    /// Every namespace.
    #[arg(short = 'A', long, conflicts_with = "service")]
    pub all_namespaces: bool,
    /// Output format: a layered drawing for people (`tree`), Graphviz `dot`, `mermaid`, a self-contained
    /// `svg` drawing, or the `json`/`yaml` document.
    #[arg(short = 'o', long, value_enum, default_value_t = GraphFormat::Tree)]
    pub output: GraphFormat,
    /// How far back calls are counted (from 1m).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = duration::flag(duration::WINDOW))]
    pub window: Duration,
    /// Redraw whenever routes, versions or pods change, and every --interval (traffic moves on its own).
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// With --watch: how often calls are read again from Prometheus (from 1s).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration::flag(duration::REFRESH))]
    pub interval: Duration,
    #[command(flatten)]
    pub prom: PromArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Tree,
    Dot,
    Mermaid,
    Svg,
    Json,
    Yaml,
}

pub async fn run(kube: &KubeArgs, args: GraphArgs, style: Style) -> Result<Exit, Error> {
    let cluster = kube.connect(args.watch).await?;
    let status = graph_options(&cluster, &args.model, &args.prom, args.service.as_deref(), args.all_namespaces)?;
    let opts = GraphOptions { status, window: args.window };
    if !args.watch {
        let text = graph::show(&cluster, &opts, |_, g| render_graph(g, args.output, style, false)).await??;
        print(&text)?;
        return Ok(Exit::Ok);
    }
    let draw = |read: Result<(&RouteGraph, &CallGraph), Error>| {
        let (_, g) = read?;
        let text = render_graph(g, args.output, style, true)?;
        if args.output == GraphFormat::Tree {
            let clear = if style.tty { render::CLEAR_SCREEN } else { "\n" };
            let time = jiff::Zoned::now().strftime("%H:%M:%S");
            print(&format!("{clear}kubectl vroute graph --watch  ({time})\n\n"))?;
        }
        print(&text)
    };
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    graph::live(&cluster, &opts, args.interval, stop, draw).await?;
    Ok(Exit::Ok)
}

/// The scope, model and Prometheus of the call graph (read from both reporters: `status`'s --reporter has no
/// say here).
pub(super) fn graph_options(
    cluster: &crate::cluster::Cluster,
    model: &ModelArgs,
    prom: &PromArgs,
    service: Option<&str>,
    all: bool,
) -> Result<crate::ops::status::StatusOptions, Error> {
    super::status::options(cluster, model, prom, crate::metrics::status::Telemetry::Auto, service, all)
}

/// One rendering; `stream`: as one frame of `--watch` (documents on one line, YAML opened by `---`).
pub fn render_graph(g: &CallGraph, format: GraphFormat, style: Style, stream: bool) -> Result<String, Error> {
    let doc = || views::calls::project(g);
    let text = match format {
        GraphFormat::Tree => render::calls::tree(g, style),
        GraphFormat::Dot => render::calls::dot(g),
        GraphFormat::Mermaid => render::calls::mermaid(g),
        GraphFormat::Svg => render::calls_svg::svg(g),
        GraphFormat::Json | GraphFormat::Yaml => {
            let f = if format == GraphFormat::Json { render::Format::Json } else { render::Format::Yaml };
            let text = if stream { render::stream_document(&doc(), f) } else { render::document(&doc(), f) };
            text.unwrap_or_else(|| Ok(String::new()))?
        }
    };
    Ok(text)
}
