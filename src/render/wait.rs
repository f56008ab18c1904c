//! `kubectl vroute wait` lines. Piped: upstream's `kubectl argo rollouts status` line (`Paused -
//! CanaryPauseStep`), so scripts can compare the two. On a terminal: the time, the step and the canary weight,
//! the phase in colour (unless `NO_COLOR`), and a status line below the last line, redrawn every second.

use super::Style;
use crate::rollouts::progress::{desired_weights, step_progress};
use crate::rollouts::{Phase, PhaseStatus, Rollout};
use std::time::Duration;

pub use super::CLEAR_LINE;
use anstyle::AnsiColor;

/// What a state line says, before decoration: printed again only when it changes.
pub fn state(status: &PhaseStatus, rollout: &Rollout, style: Style) -> String {
    if !style.tty {
        return status.line();
    }
    let step = step_progress(rollout).map(|s| format!("step {s}"));
    let weight = desired_weights(rollout).map(|w| format!("canary {}%", w.canary));
    let detail: Vec<String> = step.into_iter().chain(weight).collect();
    if detail.is_empty() { status.line() } else { format!("{}  ({})", status.line(), detail.join(", ")) }
}

/// The state line as printed: on a terminal with the wall-clock `time` (`HH:MM:SS`) and the phase coloured.
pub fn decorate(line: &str, phase: &Phase, style: Style, time: &str) -> String {
    if !style.tty {
        return format!("{line}\n");
    }
    let colour = match phase {
        Phase::Healthy => AnsiColor::Green,
        Phase::Degraded => AnsiColor::Red,
        Phase::Paused => AnsiColor::Yellow,
        Phase::Progressing | Phase::Other(_) => AnsiColor::Cyan,
    };
    let name = phase.as_str();
    match line.strip_prefix(name) {
        Some(rest) if style.color => format!("{CLEAR_LINE}{time}  {}{rest}\n", super::coloured(name, colour, true)),
        _ => format!("{CLEAR_LINE}{time}  {line}\n"),
    }
}

/// Terminal only: `  waiting 1m05s for Healthy (3m55s left)`, in place of the previous status line.
pub fn waiting(waited: Duration, timeout: Duration, goal: &str) -> String {
    // Rounded up: "0s left" would read as already timed out.
    let left = Duration::from_secs(timeout.saturating_sub(waited).as_secs_f64().ceil() as u64);
    format!("{CLEAR_LINE}  waiting {} for {goal} ({} left)", minutes(waited), minutes(left))
}

/// `1m05s`, whole seconds.
fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 { format!("{}m{:02}s", s / 60, s % 60) } else { format!("{s}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_counts_down_in_whole_seconds() {
        let line = waiting(Duration::from_millis(65_400), Duration::from_secs(300), "Healthy");
        assert_eq!(line, "\r\x1b[K  waiting 1m05s for Healthy (3m55s left)");
    }

    #[test]
    fn piped_lines_are_upstreams_and_terminal_lines_carry_time_and_colour() {
        let piped = Style::new(false, false, None);
        assert_eq!(
            decorate("Paused - CanaryPauseStep", &Phase::Paused, piped, "12:00:00"),
            "Paused - CanaryPauseStep\n"
        );
        let tty = Style::new(true, false, None);
        assert_eq!(decorate("Healthy", &Phase::Healthy, tty, "12:00:00"), "\r\x1b[K12:00:00  \x1b[32mHealthy\x1b[0m\n");
        let plain = Style::new(true, true, None);
        assert_eq!(decorate("Healthy", &Phase::Healthy, plain, "12:00:00"), "\r\x1b[K12:00:00  Healthy\n");
    }
}
