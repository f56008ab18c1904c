//! Command-line definitions and dispatch: flags -> options -> operation ([`crate::ops`]) -> render. Flags are
//! parsed here and turned into library options; nothing below `cli` sees clap. Each command lives in its own
//! file.

mod analyze;
mod check;
pub mod common;
mod complete;
mod dashboard;
mod edit;
mod graph;
mod rollout;
mod status;
mod version;

pub use analyze::AnalysisCli;

use crate::error::Error;
use crate::exit::{EXIT_CODES_HELP, Exit};
use crate::render::Style;
use clap::{Parser, Subcommand};
use common::KubeArgs;
use std::io::Write;

/// See and steer traffic between versions of a service (Istio + Argo Rollouts).
#[derive(Debug, Parser)]
#[command(name = "kubectl-vroute", bin_name = "kubectl vroute", version, about, after_help = EXIT_CODES_HELP)]
pub struct PluginCli {
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Log detail to stderr, as kubectl's -v: 1 and up, the full cause of a failure (the request, the
    /// library's error); 6 and up, every API server and Prometheus request too; 9, everything.
    #[arg(short = 'v', long = "v", global = true, value_name = "LEVEL", default_value_t = 0,
          help_heading = common::CLUSTER_FLAGS)]
    pub verbosity: u8,
    #[command(subcommand)]
    pub command: Command,
}

// One value per process, parsed once: boxing the larger argument structs would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show each version's routes, weights, matches, pods, rollout state and problems.
    Status(status::StatusArgs),
    /// Draw the per-version call graph: who calls which version, as the routes allow and as Istio saw it
    /// (rate, errors, p50/p99, share), with crossings on pinned hosts and calls into versions without ready
    /// pods marked. A layered drawing, or -o dot|mermaid|svg|json.
    Graph(graph::GraphArgs),
    /// Serve a live page on 127.0.0.1 (default port 3110): the call graph, each service's routes and versions,
    /// the Rollouts and the findings, updated for every open tab by one read loop.
    Dashboard(dashboard::DashboardArgs),
    /// Print only the findings; exit 1 when any is an error (for CI). With -f, lint YAML files offline.
    Check(check::CheckArgs),
    /// Set the traffic split of one route: `set-weight reviews v1=90 v2=10`.
    SetWeight(edit::SetWeightArgs),
    /// Send all of one route's traffic to one version in a single write (blue/green cut-over).
    Switch(edit::SwitchArgs),
    /// Mirror a share of one route's requests to a version (`--off` stops).
    Mirror(edit::MirrorArgs),
    /// Route each caller version to the same version of the service (sourceLabels routes before the default).
    Pin(edit::PinArgs),
    /// Send the requests that match conditions (a header, a cookie, a path, a query parameter, a caller label)
    /// to one version, before the catch-all route; --remove takes the route out; alone, lists such routes.
    Route(edit::policy::RouteArgs),
    /// Set a route's request timeout (`timeout reviews 5s`; --off removes it).
    Timeout(edit::policy::TimeoutArgs),
    /// Set a route's retries (`--attempts 3 --per-try-timeout 2s --retry-on 5xx`; --off: none).
    Retries(edit::policy::RetriesArgs),
    /// Inject a delay or an abort into a share of a route's requests, or only of those matching conditions
    /// (--off removes it). Refused on the catch-all route without --force: it hits every user.
    Fault(edit::policy::FaultArgs),
    /// Set connection limits and outlier detection for a version (its DestinationRule subset) or all of them
    /// (--off removes them).
    CircuitBreak(edit::policy::CircuitBreakArgs),
    /// Restore a VirtualService's routes from before the last (or the Nth) vroute edit.
    Undo(edit::UndoArgs),
    /// Promote Argo Rollouts to their next step (--full: to the end), exactly as `kubectl argo rollouts
    /// promote`; or move a plain canary's traffic (a VirtualService route, an HTTPRoute rule) up (--step) or
    /// all the way.
    Promote(rollout::PromoteArgs),
    /// Abort Argo Rollouts (back to the stable version), or send a plain canary's traffic back to its stable
    /// version in one write.
    Abort(rollout::AbortArgs),
    /// Retry aborted Argo Rollouts.
    Retry(rollout::RolloutArgs),
    /// Pause Argo Rollouts (spec.paused); `promote` resumes them.
    Pause(rollout::RolloutArgs),
    /// Watch an Argo Rollout until it is Healthy (or --for paused|degraded): exit 0 reached, 1 Degraded,
    /// 2 timed out.
    Wait(rollout::WaitArgs),
    /// Judge a canary against its baseline from Istio's Prometheus metrics, as vroute-analysis does: exit 0
    /// pass, 1 fail, 3 inconclusive.
    Analyze(analyze::AnalyzeArgs),
    /// Print the plugin's version and the API server's.
    Version(version::VersionArgs),
    /// Print a shell completion script for kubectl-vroute (bash, zsh, fish, elvish, powershell).
    // The connection flags are global, but no cluster is asked: its help leaves them out.
    #[command(help_template = "{about-with-newline}\n{usage-heading} kubectl vroute completion <SHELL>\n\n\
                               Arguments:\n{positionals}\n\nOptions:\n  -h, --help  Print help\n")]
    Completion(complete::CompletionArgs),
    /// kubectl's plugin completion protocol (called by the kubectl_complete-vroute script).
    #[command(name = "__complete", hide = true)]
    Complete(complete::CompleteArgs),
}

/// Runs a parsed command line; `style` says where stdout goes (decided once, by the binary).
pub async fn run(cli: PluginCli, style: Style) -> Result<Exit, Error> {
    let kube = &cli.kube;
    match cli.command {
        Command::Status(args) => status::run(kube, args, style).await,
        Command::Graph(args) => graph::run(kube, args, style).await,
        Command::Dashboard(args) => dashboard::run(kube, args).await,
        Command::Check(args) => check::run(kube, args, style).await,
        Command::SetWeight(args) => edit::set_weight(kube, args).await,
        Command::Switch(args) => edit::switch(kube, args).await,
        Command::Mirror(args) => edit::mirror(kube, args).await,
        Command::Pin(args) => edit::pin(kube, args).await,
        Command::Undo(args) => edit::undo(kube, args).await,
        Command::Route(args) => edit::policy::route(kube, args).await,
        Command::Timeout(args) => edit::policy::timeout(kube, args).await,
        Command::Retries(args) => edit::policy::retries(kube, args).await,
        Command::Fault(args) => edit::policy::fault(kube, args).await,
        Command::CircuitBreak(args) => edit::policy::circuit_break(kube, args).await,
        Command::Promote(args) => rollout::promote(kube, args).await,
        Command::Abort(args) => rollout::abort(kube, args).await,
        Command::Retry(args) => rollout::retry(kube, args).await,
        Command::Pause(args) => rollout::pause(kube, args).await,
        Command::Wait(args) => rollout::wait(kube, args, style).await,
        Command::Analyze(args) => analyze::run(kube, args).await,
        Command::Version(args) => version::run(kube, args).await,
        Command::Completion(args) => complete::completion(args),
        Command::Complete(args) => complete::complete(args).await,
    }
}

/// Sends log lines at `-v LEVEL` to stderr (nothing at 0: a message names the problem in one line, and the
/// detail behind it is for whoever asks). `color` as decided for stderr.
pub fn init_logging(level: u8, color: bool) {
    let filter = match level {
        0 => return,
        1..=5 => "kubectl_vroute=debug",
        6..=8 => "kubectl_vroute=trace",
        _ => "trace",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .try_init();
}

/// Writes to stdout; a reader that went away (`| head`) ends the command quietly instead of panicking.
pub fn print(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| if e.kind() == std::io::ErrorKind::BrokenPipe { Error::ClosedPipe } else { Error::Output(e) })
}

/// Writes `value` as JSON straight to stdout (pretty, or on one line for a `--watch` stream), never as one
/// string in memory first: `status -A -o json` of a large mesh is tens of megabytes.
pub fn print_json<T: serde::Serialize>(value: &T, one_line: bool) -> Result<(), Error> {
    let pipe = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::BrokenPipe { Error::ClosedPipe } else { Error::Output(e) }
    };
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let written =
        if one_line { serde_json::to_writer(&mut out, value) } else { serde_json::to_writer_pretty(&mut out, value) };
    written.map_err(|e| match e.io_error_kind() {
        Some(kind) => pipe(kind.into()),
        None => Error::Render(crate::render::RenderError(e.to_string())),
    })?;
    out.write_all(b"\n").and_then(|_| out.flush()).map_err(pipe)
}

/// Prints an error as kubectl does, with what was done before it failed.
pub fn report(e: &Error) {
    if let Error::AfterPatches { rollout, applied, .. } = e {
        for part in applied {
            eprintln!("warning: rollout '{rollout}': the {part} patch was applied");
        }
    }
    eprintln!("error: {e}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_duration_flag_reads_the_one_grammar() {
        let parse =
            |args: &[&str]| PluginCli::try_parse_from(std::iter::once("kubectl-vroute").chain(args.iter().copied()));
        let cli = parse(&["wait", "reviews", "--timeout", "1h30m"]).expect("wait --timeout 1h30m");
        let Command::Wait(wait) = cli.command else { panic!("wait") };
        assert_eq!(wait.timeout, std::time::Duration::from_secs(5_400));
        let cli = parse(&["status", "--request-timeout", "250ms", "--prometheus-timeout", "1.5s"]).expect("status");
        assert_eq!(cli.kube.request_timeout, std::time::Duration::from_millis(250));
        let err = parse(&["wait", "reviews", "--timeout", "8d"]).unwrap_err().to_string();
        assert!(err.contains("\"8d\" is out of range: from 1ms to 7d"), "{err}");
    }
}
