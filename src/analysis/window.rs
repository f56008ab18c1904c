//! The analysis window: where it starts, how it is cut into steps, and where it ends. Pure: `now` is passed in.
//!
//! Steps are the request's `step` (one minute by default), longer only when the window would otherwise have more
//! than 1,440 steps (so the range query stays small). A window with a fixed start (`since`, `rollout`) ends at the last whole step
//! after its start, so every later look extends the same steps, as the sequential test needs; a `window=10m`
//! look ends at the last whole minute, so looks within one minute agree. The step in progress is left for the
//! next look: its counts are still arriving.

use super::error::RequestError;
use super::request::MAX_PERIOD_SECONDS;
use jiff::Timestamp;
use serde::Serialize;

pub const MAX_STEPS: i64 = 1_440;

/// How the start was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Origin {
    Since,
    Window,
    Rollout,
}

/// What `rollout=NAME` found in the cluster.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStart {
    pub name: String,
    /// The Rollout's `status.currentPodHash`; `None` before the controller has set one (no canary yet).
    pub pod_template_hash: Option<String>,
    /// The ReplicaSet of that hash, whose creation is the canary's start.
    pub replica_set: Option<String>,
    /// The `label` values of the canary's and the stable pod templates: the arms, unless the request names them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_value: Option<String>,
    /// Share of traffic routing sends to the canary (`status.canary.weights`, as a fraction), when the Rollout
    /// routes traffic; it lets a canary that gets none of it be told unreachable.
    pub canary_weight: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
    pub step_seconds: i64,
    pub steps: usize,
    pub from: Origin,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutStart>,
}

impl Window {
    /// From a fixed start the caller gave.
    pub fn since(start: Timestamp, now: Timestamp, step: i64) -> Result<Window, RequestError> {
        if start > now {
            return Err(RequestError::new("since", format!("{start} is in the future (now {now})")));
        }
        if now.as_second() - start.as_second() > MAX_PERIOD_SECONDS {
            return Err(RequestError::new("since", "is more than 366 days ago"));
        }
        Ok(Window::fixed(start, now, Origin::Since, None, step))
    }

    /// From a fixed start found in the cluster. A start slightly in the future (clocks differ) is an empty
    /// window, not an error.
    pub fn rollout(start: Timestamp, now: Timestamp, rollout: RolloutStart, step: i64) -> Window {
        Window::fixed(start, now, Origin::Rollout, Some(rollout), step)
    }

    /// A Rollout with no canary yet: nothing to look at, so nothing to judge.
    pub fn empty(now: Timestamp, rollout: RolloutStart, step: i64) -> Window {
        let now = Timestamp::from_second(now.as_second()).unwrap_or(now);
        Window { start: now, end: now, step_seconds: step, steps: 0, from: Origin::Rollout, rollout: Some(rollout) }
    }

    /// The last `seconds` (validated by the request), ending at the last whole step.
    pub fn last(seconds: i64, now: Timestamp, step: i64) -> Window {
        let step = step_for(seconds, step);
        let end = now.as_second().div_euclid(step) * step;
        let steps = seconds / step;
        Window {
            start: second(end - steps * step),
            end: second(end),
            step_seconds: step,
            steps: steps as usize,
            from: Origin::Window,
            rollout: None,
        }
    }

    fn fixed(start: Timestamp, now: Timestamp, from: Origin, rollout: Option<RolloutStart>, step: i64) -> Window {
        // Whole seconds, rounded up: a fraction of a second before the start must not count.
        let start = start.as_second() + i64::from(start.subsec_nanosecond() > 0);
        let length = (now.as_second() - start).max(0);
        let step = step_for(length, step);
        let steps = length / step;
        Window {
            start: second(start),
            end: second(start + steps * step),
            step_seconds: step,
            steps: steps as usize,
            from,
            rollout,
        }
    }

    /// The first evaluation time of the range query: the end of the first step.
    pub fn first_evaluation(&self) -> i64 {
        self.start.as_second() + self.step_seconds
    }

    pub fn seconds(&self) -> i64 {
        self.end.as_second() - self.start.as_second()
    }
}

/// The requested step, or a whole multiple of it large enough to keep a window within [`MAX_STEPS`].
fn step_for(length: i64, step: i64) -> i64 {
    let multiple = (length + step * MAX_STEPS - 1) / (step * MAX_STEPS);
    step * multiple.max(1)
}

/// A whole-second timestamp; every value here comes from a valid timestamp minus at most a year.
fn second(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn a_fixed_start_ends_at_the_last_whole_step() {
        let w = Window::since(at(1_000), at(1_000 + 7 * 60 + 59), 60).unwrap();
        assert_eq!((w.start, w.end, w.steps, w.step_seconds), (at(1_000), at(1_420), 7, 60));
        assert_eq!(w.first_evaluation(), 1_060);
        // A later look extends the same steps.
        let later = Window::since(at(1_000), at(1_000 + 9 * 60), 60).unwrap();
        assert_eq!((later.start, later.steps), (at(1_000), 9));
    }

    #[test]
    fn sub_second_starts_round_up() {
        let start: Timestamp = "1970-01-01T00:16:40.25Z".parse().unwrap();
        assert_eq!(Window::since(start, at(1_200), 60).unwrap().start, at(1_001));
    }

    #[test]
    fn last_n_minutes_align_to_whole_minutes() {
        let w = Window::last(600, at(100_020 + 59), 60);
        assert_eq!((w.start, w.end, w.steps), (at(100_020 - 600), at(100_020), 10));
        assert_eq!(
            Window::last(600, at(100_010), 60),
            Window::last(600, at(100_019), 60),
            "looks within a minute agree"
        );
    }

    #[test]
    fn long_windows_use_longer_steps() {
        let day = Window::last(86_400, at(10_000_000), 60);
        assert_eq!((day.step_seconds, day.steps), (60, 1_440));
        let week = Window::since(at(0), at(7 * 86_400), 60).unwrap();
        assert_eq!((week.step_seconds, week.steps), (420, 1_440));
    }

    #[test]
    fn a_shorter_step_cuts_the_same_window_finer() {
        let w = Window::since(at(1_000), at(1_000 + 65), 10).unwrap();
        assert_eq!((w.steps, w.step_seconds, w.end), (6, 10, at(1_060)));
        // Beyond 1,440 steps the step grows by whole multiples of itself.
        let day = Window::since(at(0), at(86_400), 10).unwrap();
        assert_eq!((day.step_seconds, day.steps), (60, 1_440));
    }

    #[test]
    fn starts_in_the_future() {
        assert_eq!(Window::since(at(2_000), at(1_000), 60).unwrap_err().field, "since");
        assert_eq!(Window::since(at(0), at(MAX_PERIOD_SECONDS + 1), 60).unwrap_err().field, "since");
        let rollout = RolloutStart {
            name: "r".into(),
            pod_template_hash: None,
            replica_set: None,
            canary_value: None,
            baseline_value: None,
            canary_weight: None,
        };
        let w = Window::rollout(at(1_005), at(1_000), rollout, 60);
        assert_eq!((w.steps, w.start, w.end), (0, at(1_005), at(1_005)));
    }
}
