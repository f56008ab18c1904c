//! From counts to verdict: the guards and the sequential tests, in the order that keeps a verdict sound.

use super::JudgeError;
use super::ceiling;
use super::input::{ArmCounts, Observations, ReachabilityCounts, Tally, tally};
use super::judgement::{ArmSummary, Evidence, Judgement, Reason};
use super::message::message;
use super::params::Params;
use super::sequential::{informative_errors, ln_e_value, not_worse_prior, worse_prior};
use super::wilson::wilson95;

/// E-values are reported up to this size; the `log10` fields carry the rest.
const E_VALUE_CAP: f64 = 1e300;

/// Fewest client-side 503 UH/NR requests that can show the canary unreachable: a handful of such failures
/// happen on any busy service (a pod restarting, a config push) and must not abort a rollout.
const MIN_UNROUTABLE_REQUESTS: u64 = 10;

/// Judges one analysis window. Pure: the same observations and parameters always give the same judgement.
///
/// Errors: invalid `params` (the HTTP layer answers 400 naming the field) and invalid counts (data from the
/// metrics backend that no verdict may be built on).
pub fn judge(observations: &Observations, params: &Params) -> Result<Judgement, JudgeError> {
    params.validate()?;
    let tally = tally(observations)?;
    let (canary, baseline) = (summarise(tally.canary), summarise(tally.baseline));
    let (worse_above, not_worse_below) = (params.worse_above(), params.not_worse_below());
    let ln_worse = ln_e_value(&tally.steps, worse_above, &worse_prior(worse_above));
    let ln_not_worse = ln_e_value(&tally.steps, not_worse_below, &not_worse_prior(not_worse_below));
    let ln_ceiling = ceiling::ln_e_value(tally.canary.errors, tally.canary.requests, params.max_error_rate);
    let evidence = Evidence {
        e_worse: ln_worse.exp().min(E_VALUE_CAP),
        e_not_worse: ln_not_worse.exp().min(E_VALUE_CAP),
        e_ceiling: ln_ceiling.exp().min(E_VALUE_CAP),
        log10_e_worse: ln_worse / std::f64::consts::LN_10,
        log10_e_not_worse: ln_not_worse / std::f64::consts::LN_10,
        log10_e_ceiling: ln_ceiling / std::f64::consts::LN_10,
        threshold: params.threshold(),
        worse_above,
        not_worse_below,
        max_error_rate: params.max_error_rate,
        rate_ratio: rate_ratio(tally.canary, tally.baseline),
        informative_errors: informative_errors(&tally.steps),
        steps: tally.steps.len(),
        unroutable_requests: tally.reachability.map(|r| r.unroutable_requests),
    };
    let ln_threshold = params.threshold().ln();
    let shown = Shown {
        above_ceiling: ln_ceiling >= ln_threshold,
        worse: ln_worse >= ln_threshold,
        not_worse: ln_not_worse >= ln_threshold,
    };
    let reason = decide(&tally, &canary, params, shown);
    let message = message(reason, &canary, &baseline, &evidence, tally.reachability.as_ref());
    Ok(Judgement { verdict: reason.verdict(), reason, message, canary, baseline, evidence })
}

fn summarise(arm: ArmCounts) -> ArmSummary {
    ArmSummary {
        requests: arm.requests,
        errors: arm.errors,
        error_rate: (arm.requests > 0).then(|| arm.errors as f64 / arm.requests as f64),
        wilson95: wilson95(arm.errors, arm.requests),
    }
}

fn rate_ratio(canary: ArmCounts, baseline: ArmCounts) -> Option<f64> {
    (canary.requests > 0 && baseline.errors > 0)
        .then(|| (canary.errors as f64 / canary.requests as f64) / (baseline.errors as f64 / baseline.requests as f64))
}

/// The canary got nothing although routing sends it traffic, and the requests that failed for lack of an
/// upstream are at least half of what it should have served (so they are its requests, not stray failures).
/// Only called when the canary served no request in the whole window.
fn unreachable(tally: &Tally, signal: &ReachabilityCounts) -> bool {
    let seen = (tally.baseline.requests + signal.unroutable_requests) as f64;
    signal.canary_weight > 0.0
        && signal.unroutable_requests >= MIN_UNROUTABLE_REQUESTS
        && signal.unroutable_requests as f64 >= signal.canary_weight * seen / 2.0
}

/// Which e-values reached `1/alpha`.
struct Shown {
    above_ceiling: bool,
    worse: bool,
    not_worse: bool,
}

/// The order matters: nothing is judged without canary traffic; failures that need no baseline (unreachable,
/// ceiling) come before the comparison; a comparison needs a baseline; "worse" is checked before "not worse" so
/// a canary showing both (possible between the two margins) fails; a pass always needs the canary's Wilson
/// upper bound below the ceiling.
///
/// Each failure test spends its own `alpha`. A canary sitting exactly on both nulls at once (rate ratio
/// `1 + margin` and error rate `maxErrorRate`) could therefore be failed in up to `2 * alpha` of analyses; an
/// A/A canary below the ceiling sits inside both nulls and is failed far less often (see the calibration).
fn decide(tally: &Tally, canary: &ArmSummary, params: &Params, shown: Shown) -> Reason {
    if tally.canary.requests == 0 {
        return match &tally.reachability {
            Some(signal) if unreachable(tally, signal) => Reason::CanaryUnreachable,
            _ => Reason::NoCanaryTraffic,
        };
    }
    if shown.above_ceiling {
        return Reason::ErrorRateCeiling;
    }
    // Without a baseline a pass could rest on the absolute ceiling alone: the fixed-threshold check this judge
    // exists to improve on. Pause for a human instead.
    if tally.baseline.requests == 0 {
        return Reason::NoBaselineTraffic;
    }
    if shown.worse {
        return Reason::CanaryWorse;
    }
    let below_ceiling = canary.wilson95[1] < params.max_error_rate;
    // Zero errors on both sides carry no information about the ratio; the ceiling's upper bound decides.
    if tally.canary.errors == 0 && tally.baseline.errors == 0 {
        return if below_ceiling { Reason::NoErrors } else { Reason::NotEnoughEvidence };
    }
    match (shown.not_worse, below_ceiling) {
        (true, true) => Reason::NotWorse,
        (true, false) => Reason::CeilingNotCleared,
        (false, _) => Reason::NotEnoughEvidence,
    }
}
