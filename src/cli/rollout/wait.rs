//! `kubectl vroute wait ROLLOUT`: watch one Rollout (the watch API, no polling) until its phase, computed exactly
//! as upstream computes it ([`crate::rollouts::phase`]), reaches the goal ([`crate::rollouts::wait::decide`]).
//! Exit 0 when reached, 1 when it became Degraded instead, 2 when `--timeout` elapsed first.
//!
//! Progress: one line each time what would be printed changes. Piped, the line is upstream's `kubectl argo
//! rollouts status` line (`Paused - CanaryPauseStep`), so scripts can compare the two; on a terminal it also
//! carries the time, the step and the canary weight, with the phase in colour unless `NO_COLOR` is set, and
//! below the last line a status line redrawn every second (time waited, time left), so a long pause visibly
//! still waits.

use crate::cli::common::KubeArgs;
use crate::cli::{CliError, print, stdout_is_tty};
use crate::cluster::{Cluster, ClusterError, rollouts};
use crate::duration;
use crate::exit::Exit;
use crate::render;
use crate::rollouts::progress::{desired_weights, step_progress};
use crate::rollouts::{Phase, PhaseStatus, Rollout, WaitDecision, WaitTarget, phase, wait};
use clap::Args;
use futures::StreamExt;
use serde_json::Value;
use std::time::{Duration, Instant};

/// `kubectl vroute wait reviews --for healthy --timeout 10m`
#[derive(Args, Debug)]
pub struct WaitArgs {
    /// The Rollout to watch, in the namespace (-n).
    pub rollout: String,
    /// The phase to wait for.
    #[arg(long = "for", value_enum, value_name = "PHASE", default_value_t = Goal::Healthy)]
    pub goal: Goal,
    /// Give up (exit 2) after this long: 90s, 10m, 1h30m (from 1ms to 7d).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = duration::flag(duration::WAIT_TIMEOUT))]
    pub timeout: Duration,
    /// Any pause counts as success: a pause step, a blue-green pre-promotion pause, an inconclusive analysis,
    /// a manual pause (for pipelines that run checks at each pause, then promote).
    #[arg(long)]
    pub success_on_pause: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Goal {
    Healthy,
    Paused,
    Degraded,
}

impl Goal {
    fn phase(self) -> &'static str {
        match self {
            Goal::Healthy => "Healthy",
            Goal::Paused => "Paused",
            Goal::Degraded => "Degraded",
        }
    }
}

impl From<Goal> for WaitTarget {
    fn from(goal: Goal) -> WaitTarget {
        match goal {
            Goal::Healthy => WaitTarget::Healthy,
            Goal::Paused => WaitTarget::Paused,
            Goal::Degraded => WaitTarget::Degraded,
        }
    }
}

pub async fn run(kube: &KubeArgs, args: WaitArgs) -> Result<Exit, CliError> {
    let cluster = kube.connect(true).await?;
    let tty = stdout_is_tty();
    let mut progress =
        Progress { tty, color: render::use_color(tty), printed: None, phase: None, started: Instant::now() };
    let outcome = tokio::time::timeout(args.timeout, watch(&cluster, &args, &mut progress)).await;
    progress.clear_status()?;
    match outcome {
        Ok(outcome) => outcome,
        Err(_) => {
            let now = progress.phase.map(|p| format!(" (it is {})", p.line())).unwrap_or_default();
            let pause = if args.success_on_pause && args.goal != Goal::Paused { " or paused" } else { "" };
            eprintln!(
                "error: timed out after {:?} waiting for rollout '{}' to be {}{pause}{now}",
                args.timeout,
                args.rollout,
                args.goal.phase()
            );
            Ok(Exit::Timeout)
        }
    }
}

async fn watch(cluster: &Cluster, args: &WaitArgs, progress: &mut Progress) -> Result<Exit, CliError> {
    let ns = cluster.namespace.as_str();
    // A GET first: a missing Rollout (or CRD) is an error naming close names, not an endless wait.
    let first = rollouts::get(cluster, ns, &args.rollout).await?;
    if let Some(exit) = progress.observe(&first, args)? {
        return Ok(exit);
    }
    let mut changes = rollouts::watch(cluster, ns, &args.rollout).boxed();
    let mut second = tokio::time::interval(Duration::from_secs(1));
    loop {
        let change = tokio::select! {
            change = changes.next() => change,
            _ = second.tick(), if progress.tty => {
                progress.status(args)?;
                continue;
            }
        };
        let Some(change) = change else { break };
        let Some(rollout) = change? else {
            return Err(ClusterError::NotFound {
                what: format!("Rollout {:?} (deleted while waiting)", args.rollout),
                scope: format!(" in namespace \"{ns}\""),
            }
            .into());
        };
        if let Some(exit) = progress.observe(&rollout, args)? {
            return Ok(exit);
        }
    }
    Err(ClusterError::Config(format!(
        "the watch of Rollout {:?} ended unexpectedly; run the command again",
        args.rollout
    ))
    .into())
}

struct Progress {
    tty: bool,
    color: bool,
    /// The last line printed, without its time.
    printed: Option<String>,
    /// The last phase seen, for the timeout message.
    phase: Option<PhaseStatus>,
    started: Instant,
}

impl Progress {
    /// Prints the Rollout's state when it changed, and decides whether the wait is over.
    fn observe(&mut self, value: &Value, args: &WaitArgs) -> Result<Option<Exit>, CliError> {
        let rollout =
            Rollout::from_value(value).map_err(|error| CliError::BadRollout { name: args.rollout.clone(), error })?;
        let status = phase(&rollout);
        let line = if self.tty { detailed(&status, &rollout) } else { status.line() };
        if self.printed.as_ref() != Some(&line) {
            print(&self.decorate(&line, &status.phase))?;
            self.printed = Some(line);
        }
        let decision = wait::decide(&status.phase, args.goal.into(), args.success_on_pause);
        self.phase = Some(status);
        Ok(match decision {
            WaitDecision::Reached => Some(Exit::Ok),
            WaitDecision::Degraded => {
                let message = self.phase.as_ref().map(|p| p.message.as_str()).unwrap_or_default();
                eprintln!("error: rollout '{}' is Degraded: {message}", args.rollout);
                Some(Exit::Negative)
            }
            WaitDecision::KeepWaiting => None,
        })
    }

    /// Terminal only: `  waiting 1m05s for Healthy (3m55s left)` in place of the previous status line.
    fn status(&self, args: &WaitArgs) -> Result<(), CliError> {
        let waited = self.started.elapsed();
        // Rounded up: "0s left" would read as already timed out.
        let left = Duration::from_secs(args.timeout.saturating_sub(waited).as_secs_f64().ceil() as u64);
        print(&format!("{CLEAR_LINE}  waiting {} for {} ({} left)", minutes(waited), args.goal.phase(), minutes(left)))
    }

    fn clear_status(&self) -> Result<(), CliError> {
        if self.tty { print(CLEAR_LINE) } else { Ok(()) }
    }

    fn decorate(&self, line: &str, phase: &Phase) -> String {
        if !self.tty {
            return format!("{line}\n");
        }
        let time = jiff::Zoned::now().strftime("%H:%M:%S");
        let colour = match phase {
            Phase::Healthy => "32",
            Phase::Degraded => "31",
            Phase::Paused => "33",
            Phase::Progressing | Phase::Other(_) => "36",
        };
        let name = phase.as_str();
        match line.strip_prefix(name) {
            Some(rest) if self.color => format!("{CLEAR_LINE}{time}  \x1b[{colour}m{name}\x1b[0m{rest}\n"),
            _ => format!("{CLEAR_LINE}{time}  {line}\n"),
        }
    }
}

/// Back to the start of the line and erase it (a terminal's status line).
const CLEAR_LINE: &str = "\r\x1b[K";

/// `1m05s`, whole seconds.
fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 { format!("{}m{:02}s", s / 60, s % 60) } else { format!("{s}s") }
}

/// `Paused - CanaryPauseStep  (step 1/2, canary 20%)`.
fn detailed(status: &PhaseStatus, rollout: &Rollout) -> String {
    let step = step_progress(rollout).map(|s| format!("step {s}"));
    let weight = desired_weights(rollout).map(|w| format!("canary {}%", w.canary));
    let detail: Vec<String> = step.into_iter().chain(weight).collect();
    if detail.is_empty() { status.line() } else { format!("{}  ({})", status.line(), detail.join(", ")) }
}
