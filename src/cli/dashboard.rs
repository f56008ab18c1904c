//! `kubectl vroute dashboard`: the call graph, each service's routes and versions, the Rollouts and the
//! findings on a local web page (127.0.0.1 only), kept live for every open tab by one read loop.

use super::common::{KubeArgs, ModelArgs, PromArgs};
use super::graph::graph_options;
use super::print;
use crate::dashboard::{self, Config};
use crate::duration;
use crate::error::Error;
use crate::exit::Exit;
use crate::ops::graph::GraphOptions;
use clap::Args;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct DashboardArgs {
    /// Every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// The port on 127.0.0.1 to serve on (0: any free port; the address is printed).
    #[arg(long, default_value_t = 3110)]
    pub port: u16,
    /// How far back calls are counted (from 1m).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = duration::flag(duration::WINDOW))]
    pub window: Duration,
    /// How often calls are read again from Prometheus (routes, versions and pods are redrawn as they change).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration::flag(duration::REFRESH))]
    pub interval: Duration,
    #[command(flatten)]
    pub prom: PromArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub async fn run(kube: &KubeArgs, args: DashboardArgs) -> Result<Exit, Error> {
    let cluster = kube.connect(true).await?;
    let status = graph_options(&cluster, &args.model, &args.prom, None, args.all_namespaces)?;
    let scope =
        if args.all_namespaces { "all namespaces".to_string() } else { format!("namespace {}", cluster.namespace) };
    let opts = GraphOptions { status, window: args.window };
    let config = Config { port: args.port, interval: args.interval, scope };
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let ready = |addr| print(&format!("kubectl vroute dashboard: http://{addr}/ (Ctrl-C stops it)\n"));
    dashboard::serve(&cluster, &opts, config, stop, ready).await?;
    Ok(Exit::Ok)
}
