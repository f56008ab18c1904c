//! `kubectl vroute wait ROLLOUT`: [`crate::ops::wait`] until the goal, bounded by `--timeout`. Exit 0 when
//! reached, 1 when it became Degraded instead, 2 when `--timeout` elapsed first.
//!
//! Progress: one line each time what would be printed changes ([`crate::render::wait`]); on a terminal, below
//! the last line, a status line redrawn every second (time waited, time left), so a long pause visibly still
//! waits.

use crate::cli::common::KubeArgs;
use crate::cli::print;
use crate::duration;
use crate::error::Error;
use crate::exit::Exit;
use crate::ops::wait::{self, Ended, Goal as WaitGoal, Observer};
use crate::render::Style;
use crate::render::wait::{CLEAR_LINE, decorate, state, waiting};
use crate::rollouts::{PhaseStatus, Rollout, WaitTarget};
use clap::Args;
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

pub async fn run(kube: &KubeArgs, args: WaitArgs, style: Style) -> Result<Exit, Error> {
    let cluster = kube.connect(true).await?;
    let mut progress = Progress { style, printed: None, phase: None, started: Instant::now(), args: &args };
    let goal = WaitGoal { target: args.goal.into(), success_on_pause: args.success_on_pause };
    let outcome = tokio::time::timeout(args.timeout, wait::until(&cluster, &args.rollout, &goal, &mut progress)).await;
    if style.tty {
        print(CLEAR_LINE)?;
    }
    match outcome {
        Ok(Ok(Ended::Reached(_))) => Ok(Exit::Ok),
        Ok(Ok(Ended::Degraded(status))) => {
            eprintln!("error: rollout '{}' is Degraded: {}", args.rollout, status.message);
            Ok(Exit::Negative)
        }
        Ok(Err(e)) => Err(e),
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

struct Progress<'a> {
    style: Style,
    /// The last line printed, without its time.
    printed: Option<String>,
    /// The last phase seen, for the timeout message.
    phase: Option<PhaseStatus>,
    started: Instant,
    args: &'a WaitArgs,
}

impl Observer for Progress<'_> {
    /// Prints the Rollout's state when it changed.
    fn state(&mut self, rollout: &Rollout, status: &PhaseStatus) -> Result<(), Error> {
        let line = state(status, rollout, self.style);
        if self.printed.as_ref() != Some(&line) {
            let time = jiff::Zoned::now().strftime("%H:%M:%S").to_string();
            print(&decorate(&line, &status.phase, self.style, &time))?;
            self.printed = Some(line);
        }
        self.phase = Some(status.clone());
        Ok(())
    }

    fn wants_ticks(&self) -> bool {
        self.style.tty
    }

    fn tick(&mut self) -> Result<(), Error> {
        print(&waiting(self.started.elapsed(), self.args.timeout, self.args.goal.phase()))
    }
}
