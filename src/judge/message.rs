//! The one-line human explanation of a judgement. Wording may change; the reason code is the stable part.

use super::input::ReachabilityCounts;
use super::judgement::{ArmSummary, Evidence, Reason};

use crate::numbers::{rate as percent, significant};

fn rate(arm: &ArmSummary) -> String {
    match arm.error_rate {
        Some(r) => format!("{} ({}/{})", percent(r), arm.errors, arm.requests),
        None => "undefined (no requests)".to_string(),
    }
}

/// E-values span hundreds of orders of magnitude: plain digits in the readable range, scientific outside it.
fn e_value(e: f64) -> String {
    if (1e-3..1e4).contains(&e) { significant(e) } else { format!("{e:.2e}") }
}

pub(crate) fn message(
    reason: Reason,
    canary: &ArmSummary,
    baseline: &ArmSummary,
    evidence: &Evidence,
    reachability: Option<&ReachabilityCounts>,
) -> String {
    let rates = format!("canary error rate {} vs baseline {}", rate(canary), rate(baseline));
    let ceiling = percent(evidence.max_error_rate);
    let threshold = e_value(evidence.threshold);
    let [low, high] = canary.wilson95.map(percent);
    match reason {
        Reason::CanaryUnreachable => {
            let (weight, unroutable) = reachability.map_or((0.0, 0), |r| (r.canary_weight, r.unroutable_requests));
            format!(
                "the canary served no requests although routing sends it {}, while {unroutable} requests to the \
                 service failed with 503 UH/NR (no healthy upstream or no route)",
                percent(weight)
            )
        }
        Reason::ErrorRateCeiling => format!(
            "canary error rate {}: shown above the {ceiling} ceiling (e-value {} >= {threshold}; 95% interval \
             {low} to {high})",
            rate(canary),
            e_value(evidence.e_ceiling)
        ),
        Reason::CanaryWorse => format!(
            "{rates}: shown above {}x the baseline's (e-value {} >= {threshold})",
            evidence.worse_above,
            e_value(evidence.e_worse)
        ),
        Reason::NotWorse => format!(
            "{rates}: shown below {}x the baseline's (e-value {} >= {threshold}) and below the {ceiling} ceiling \
             (95% upper bound {high})",
            evidence.not_worse_below,
            e_value(evidence.e_not_worse)
        ),
        Reason::NoErrors => format!(
            "no errors in either arm; {} canary requests bound its error rate below {high} (95%), under the \
             {ceiling} ceiling",
            canary.requests
        ),
        Reason::NoCanaryTraffic => "the canary served no requests in the window: nothing to judge yet".to_string(),
        Reason::NoBaselineTraffic => format!(
            "the baseline served no requests in the window, so the canary cannot be compared with it (canary error \
             rate {})",
            rate(canary)
        ),
        Reason::CeilingNotCleared => format!(
            "{rates}: shown below {}x the baseline's, but its 95% upper bound {high} is not yet below the {ceiling} \
             ceiling",
            evidence.not_worse_below
        ),
        Reason::NotEnoughEvidence if canary.errors == 0 && baseline.errors == 0 => format!(
            "no errors in either arm yet, but {} canary requests only bound its error rate below {high} (95%); \
             passing needs that bound under the {ceiling} ceiling",
            canary.requests
        ),
        Reason::NotEnoughEvidence => format!(
            "{rates}: not enough evidence yet (worse than {}x: e-value {}; better than {}x: e-value {}; either \
             must reach {threshold})",
            evidence.worse_above,
            e_value(evidence.e_worse),
            evidence.not_worse_below,
            e_value(evidence.e_not_worse)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_keep_three_significant_digits() {
        let shown: Vec<String> = [0.0, 0.012_34, 0.001, 0.000_04, 0.123, 1.0].into_iter().map(percent).collect();
        assert_eq!(shown, ["0%", "1.23%", "0.1%", "<0.01%", "12.3%", "100%"]);
    }

    #[test]
    fn e_values_switch_to_scientific_outside_the_readable_range() {
        let shown: Vec<String> = [20.0, 43.81, 0.16, 7.7549e8, 1e-5].into_iter().map(e_value).collect();
        assert_eq!(shown, ["20", "43.8", "0.16", "7.75e8", "1.00e-5"]);
    }
}
