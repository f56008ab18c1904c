//! What the judge is given, and how Prometheus' floating-point counts become whole requests.
//!
//! Counts come from `increase()`, which extrapolates to the window edges, so they arrive as floats (`41.7`), and
//! increments computed from cumulative windows can even dip slightly below zero when the extrapolation of a later
//! window is smaller. The rules, per series (canary requests, canary errors, baseline requests, baseline errors):
//! - NaN and infinities are rejected: a verdict must never come from garbage.
//! - The running total of the raw values is rounded to the nearest whole request, and a step's count is how much
//!   that rounded total grew (never negative). Rounding totals rather than steps keeps fractions that arrive
//!   spread over many steps (0.4 + 0.4 + 0.4) instead of rounding each to zero, and absorbs negative jitter.
//! - A running total below -0.5 is rejected: no counter goes below zero, so the caller mixed up series or
//!   mishandled a reset. A running total above 2^53 is rejected: f64 stops counting whole requests there.
//! - An arm with more errors than requests over the window is rejected (errors are a subset of requests).
//!   Within one step rounding may put an error a step ahead of its request; the ratio test does not care, as
//!   it uses each arm's requests only as exposure.

use std::fmt;

/// Requests and errors of one arm in one step, as the metrics backend reported them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    pub requests: f64,
    pub errors: f64,
}

/// One step (for example one minute) of the analysis, both arms.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Step {
    pub canary: Counts,
    pub baseline: Counts,
}

/// Signals that let the judge tell "the canary is unreachable" from "the canary gets no traffic yet".
///
/// Istio's standard labels cannot name the subset of a request that never reached a pod, so this is told only
/// indirectly: routing says the canary should get traffic, none of it arrived, and about as many requests to
/// the service failed at the client with Envoy's `UH` (no healthy upstream) or `NR` (no route) flags as the
/// canary should have served.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reachability {
    /// Share of the service's traffic that routing sends to the canary, as a fraction in `[0, 1]` (from the
    /// Rollout's `status.canary.weights` or the VirtualService weights; Argo's percent / 100).
    pub canary_weight: f64,
    /// Requests to the service in the window, as the client-side proxies (`reporter="source"`) saw them, that
    /// failed with response code 503 and response flags `UH` or `NR`.
    pub unroutable_requests: f64,
}

/// Everything the judge needs about one analysis window: steps in time order, all starting at the same point.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observations {
    pub steps: Vec<Step>,
    pub reachability: Option<Reachability>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arm {
    Canary,
    Baseline,
}

impl fmt::Display for Arm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Arm::Canary => "canary",
            Arm::Baseline => "baseline",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Requests,
    Errors,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Requests => "requests",
            Field::Errors => "errors",
        })
    }
}

/// Input the judge refuses. `step` is the 0-based index into [`Observations::steps`]. These describe data from
/// the metrics backend, not the caller's parameters: the HTTP layer answers them as "Prometheus answered
/// garbage", never with a verdict.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum InputError {
    #[error("step {step}: {arm} {field} is {value}, not a finite number")]
    NotFinite { step: usize, arm: Arm, field: Field, value: f64 },
    #[error("step {step}: {arm} {field} bring the running total to {total}, below zero")]
    Negative { step: usize, arm: Arm, field: Field, total: f64 },
    #[error("step {step}: {arm} {field} bring the running total to {total}, too large to be a count")]
    TooLarge { step: usize, arm: Arm, field: Field, total: f64 },
    #[error("{arm}: {errors} errors out of {requests} requests")]
    ErrorsExceedRequests { arm: Arm, errors: u64, requests: u64 },
    #[error("{field} is {value}, expected {expected}")]
    Reachability { field: &'static str, value: f64, expected: &'static str },
}

/// Whole requests and errors of one arm (one step or a total).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ArmCounts {
    pub requests: u64,
    pub errors: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct StepCounts {
    pub canary: ArmCounts,
    pub baseline: ArmCounts,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ReachabilityCounts {
    pub canary_weight: f64,
    pub unroutable_requests: u64,
}

/// Validated, whole-request view of [`Observations`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Tally {
    pub steps: Vec<StepCounts>,
    pub canary: ArmCounts,
    pub baseline: ArmCounts,
    pub reachability: Option<ReachabilityCounts>,
}

/// Beyond 2^53 consecutive integers are no longer representable in f64.
const MAX_COUNT: f64 = 9_007_199_254_740_992.0;

enum Refusal {
    NotFinite(f64),
    Negative(f64),
    TooLarge(f64),
}

/// One series rounded through its running total (see the module comment).
#[derive(Default)]
struct RunningCount {
    raw: f64,
    counted: u64,
}

impl RunningCount {
    fn push(&mut self, value: f64) -> Result<u64, Refusal> {
        if !value.is_finite() {
            return Err(Refusal::NotFinite(value));
        }
        self.raw += value;
        if self.raw < -0.5 {
            return Err(Refusal::Negative(self.raw));
        }
        if self.raw > MAX_COUNT {
            return Err(Refusal::TooLarge(self.raw));
        }
        // In range [-0.5, 2^53] after the checks above, so the cast is exact and never saturates.
        let rounded = self.raw.round().max(0.0) as u64;
        let grown = rounded.saturating_sub(self.counted);
        self.counted = self.counted.max(rounded);
        Ok(grown)
    }
}

#[derive(Default)]
struct ArmRunning {
    requests: RunningCount,
    errors: RunningCount,
}

impl ArmRunning {
    fn push(&mut self, step: usize, arm: Arm, counts: Counts) -> Result<ArmCounts, InputError> {
        let refuse = |field, refusal| match refusal {
            Refusal::NotFinite(value) => InputError::NotFinite { step, arm, field, value },
            Refusal::Negative(total) => InputError::Negative { step, arm, field, total },
            Refusal::TooLarge(total) => InputError::TooLarge { step, arm, field, total },
        };
        let requests = self.requests.push(counts.requests).map_err(|r| refuse(Field::Requests, r))?;
        let errors = self.errors.push(counts.errors).map_err(|r| refuse(Field::Errors, r))?;
        Ok(ArmCounts { requests, errors })
    }

    fn total(&self, arm: Arm) -> Result<ArmCounts, InputError> {
        let (requests, errors) = (self.requests.counted, self.errors.counted);
        if errors > requests {
            return Err(InputError::ErrorsExceedRequests { arm, errors, requests });
        }
        Ok(ArmCounts { requests, errors })
    }
}

fn reachability_counts(signal: &Reachability) -> Result<ReachabilityCounts, InputError> {
    let weight = signal.canary_weight;
    if !(0.0..=1.0).contains(&weight) {
        return Err(InputError::Reachability {
            field: "canaryWeight",
            value: weight,
            expected: "a fraction in [0, 1]",
        });
    }
    let unroutable = signal.unroutable_requests;
    if !(-0.5..=MAX_COUNT).contains(&unroutable) {
        return Err(InputError::Reachability {
            field: "unroutableRequests",
            value: unroutable,
            expected: "a request count (finite, not negative)",
        });
    }
    // In range after the check above, so the cast is exact.
    let unroutable_requests = unroutable.round().max(0.0) as u64;
    Ok(ReachabilityCounts { canary_weight: weight, unroutable_requests })
}

/// Validates and rounds the observations (see the module comment for the rules).
pub(crate) fn tally(observations: &Observations) -> Result<Tally, InputError> {
    let (mut canary, mut baseline) = (ArmRunning::default(), ArmRunning::default());
    let steps = observations
        .steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            Ok(StepCounts {
                canary: canary.push(index, Arm::Canary, step.canary)?,
                baseline: baseline.push(index, Arm::Baseline, step.baseline)?,
            })
        })
        .collect::<Result<Vec<_>, InputError>>()?;
    let reachability = observations.reachability.as_ref().map(reachability_counts).transpose()?;
    Ok(Tally { steps, canary: canary.total(Arm::Canary)?, baseline: baseline.total(Arm::Baseline)?, reachability })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(canary: (f64, f64), baseline: (f64, f64)) -> Step {
        Step {
            canary: Counts { requests: canary.0, errors: canary.1 },
            baseline: Counts { requests: baseline.0, errors: baseline.1 },
        }
    }

    fn observe(steps: Vec<Step>) -> Observations {
        Observations { steps, reachability: None }
    }

    #[test]
    fn fractions_are_kept_through_the_running_total() {
        // Canary requests: running totals 0.4, 0.8, 1.2, 101.6 round to 0, 1, 1, 102 -> steps 0, 1, 0, 101.
        // Per-step rounding would have counted 0 + 0 + 0 + 100 = 100 and lost the fractions.
        let steps = vec![step((0.4, 0.0), (10.0, 0.0)); 3].into_iter().chain([step((100.4, 1.0), (10.0, 0.0))]);
        let tally = tally(&observe(steps.collect())).expect("valid");
        let canary: Vec<u64> = tally.steps.iter().map(|s| s.canary.requests).collect();
        assert_eq!(canary, [0, 1, 0, 101]);
        assert_eq!(tally.canary, ArmCounts { requests: 102, errors: 1 });
        assert_eq!(tally.baseline, ArmCounts { requests: 40, errors: 0 });
    }

    #[test]
    fn negative_jitter_is_absorbed_not_counted_twice() {
        // Running totals 50.2, 49.9, 51.1 round to 50, 50, 51: steps 50, 0, 1 (the dip is not a negative step and
        // the recovery is not counted again).
        let steps = vec![step((50.2, 0.0), (1.0, 0.0)), step((-0.3, 0.0), (1.0, 0.0)), step((1.2, 0.0), (1.0, 0.0))];
        let tally = tally(&observe(steps)).expect("valid");
        let canary: Vec<u64> = tally.steps.iter().map(|s| s.canary.requests).collect();
        assert_eq!(canary, [50, 0, 1]);
    }

    #[test]
    fn small_negative_totals_round_to_zero() {
        let tally = tally(&observe(vec![step((-0.4, 0.0), (-0.2, -0.1))])).expect("within rounding");
        assert_eq!(tally.canary, ArmCounts::default());
        assert_eq!(tally.baseline, ArmCounts::default());
    }

    #[test]
    fn a_total_below_zero_is_refused_naming_step_arm_and_field() {
        // Baseline errors: running totals 1, then 1 - 1.75 = -0.75, beyond what rounding explains.
        let steps = vec![step((5.0, 0.0), (5.0, 1.0)), step((1.0, 0.0), (1.0, -1.75))];
        let err = tally(&observe(steps)).expect_err("negative total");
        assert_eq!(err, InputError::Negative { step: 1, arm: Arm::Baseline, field: Field::Errors, total: -0.75 });
        assert_eq!(err.to_string(), "step 1: baseline errors bring the running total to -0.75, below zero");
    }

    #[test]
    fn nan_and_infinity_are_refused() {
        let err = tally(&observe(vec![step((f64::NAN, 0.0), (1.0, 0.0))])).expect_err("NaN");
        assert!(
            matches!(err, InputError::NotFinite { step: 0, arm: Arm::Canary, field: Field::Requests, .. }),
            "{err}"
        );
        let err = tally(&observe(vec![step((1.0, 0.0), (1.0, 0.0)), step((1.0, f64::INFINITY), (1.0, 0.0))]))
            .expect_err("infinity");
        assert!(matches!(err, InputError::NotFinite { step: 1, arm: Arm::Canary, field: Field::Errors, .. }), "{err}");
    }

    #[test]
    fn totals_beyond_exact_integers_are_refused() {
        let err = tally(&observe(vec![step((1e16, 0.0), (1.0, 0.0))])).expect_err("too large");
        assert!(matches!(err, InputError::TooLarge { step: 0, arm: Arm::Canary, field: Field::Requests, .. }), "{err}");
    }

    #[test]
    fn more_errors_than_requests_is_refused() {
        let err = tally(&observe(vec![step((10.0, 2.0), (3.0, 4.0))])).expect_err("errors > requests");
        assert_eq!(err, InputError::ErrorsExceedRequests { arm: Arm::Baseline, errors: 4, requests: 3 });
    }

    #[test]
    fn reachability_is_validated_and_rounded() {
        let mut observations = observe(vec![]);
        observations.reachability = Some(Reachability { canary_weight: 0.25, unroutable_requests: 41.6 });
        let counts = tally(&observations).expect("valid").reachability;
        assert_eq!(counts, Some(ReachabilityCounts { canary_weight: 0.25, unroutable_requests: 42 }));

        for (weight, unroutable, field) in
            [(1.5, 0.0, "canaryWeight"), (f64::NAN, 0.0, "canaryWeight"), (0.5, -3.0, "unroutableRequests")]
        {
            observations.reachability = Some(Reachability { canary_weight: weight, unroutable_requests: unroutable });
            let err = tally(&observations).expect_err(field);
            assert!(matches!(err, InputError::Reachability { field: f, .. } if f == field), "{err}");
        }
    }
}
