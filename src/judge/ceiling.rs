//! The absolute ceiling, checked so that it stays valid however often Argo asks.
//!
//! The design's first idea, "fail when the Wilson 95% lower bound of the canary's error rate exceeds
//! `maxErrorRate`", is a fixed-sample test: re-checked every minute on a growing window it fails a canary that
//! sits exactly at the ceiling in ~18% of one-hour analyses (measured in `docs/judge-calibration.md` before this
//! change). So the failure uses an e-value instead, built like the ratio test's: the binomial likelihood ratio of
//! the canary's own counts, `L(p) = (p / m)^x ((1 - p) / (1 - m))^(n - x)` for `x` errors out of `n` requests
//! against the ceiling `m`, mixed over error rates above `m`. It is a nonnegative supermartingale while the
//! canary's true rate is at most `m`, so by Ville's inequality it reaches `1/alpha` with probability at most
//! `alpha`, at any number of looks. The Wilson interval stays in the output as the descriptive summary, and its
//! upper bound stays the minimum evidence a pass needs (a pass is not final in Argo; a failure aborts at once).
//!
//! The prior is the "worse" prior of the ratio test on the odds scale: odds `1.25^j` times the ceiling's,
//! `j = 1..=13`, weights falling by 0.75 per step. Odds rather than rates keep every alternative below 1.

use super::sequential::{PriorPoint, log_sum_exp, worse_prior};

/// `ln E` for "the error rate behind `errors` out of `requests` is above `ceiling`" (`0 < ceiling <= 0.5`, as
/// `Params::validate` guarantees; beyond that the largest alternative would round to a rate of 1).
pub(crate) fn ln_e_value(errors: u64, requests: u64, ceiling: f64) -> f64 {
    ln_e_value_with(errors, requests, ceiling, &worse_prior(ceiling / (1.0 - ceiling)))
}

/// As [`ln_e_value`], with a prior over the odds of the alternatives.
fn ln_e_value_with(errors: u64, requests: u64, ceiling: f64, prior: &[PriorPoint]) -> f64 {
    // No requests, no evidence: E = 1 exactly, rather than a sum of rounded weights.
    if requests == 0 {
        return 0.0;
    }
    let (x, n) = (errors as f64, requests as f64);
    let (ln_ceiling, ln_complement) = (ceiling.ln(), (-ceiling).ln_1p());
    log_sum_exp(prior.iter().map(|point| {
        let rate = point.ratio / (1.0 + point.ratio);
        point.ln_weight + x * (rate.ln() - ln_ceiling) + (n - x) * ((-rate).ln_1p() - ln_complement)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_case_by_hand() {
        // 3 errors out of 10 against a 10% ceiling, one alternative at 30% (odds 3/7):
        //   L(0.3) = (0.3 / 0.1)^3 * (0.7 / 0.9)^7 = 27 * 823543 / 4782969 = 27 * 0.1721824 = 4.6489243
        let prior = [PriorPoint { ratio: 3.0 / 7.0, ln_weight: 0.0 }];
        let e = ln_e_value_with(3, 10, 0.1, &prior).exp();
        assert!((e - 4.648_924_3).abs() < 1e-6, "{e}");
    }

    #[test]
    fn default_prior_around_the_threshold() {
        // Against the 10% ceiling, 20 errors out of 100 give E = 30.7 (fail at alpha 0.05), 18 give 8.25, and a
        // canary exactly at the ceiling (100/1000) gives 0.024: evidence against, not for, being above it.
        let e = |errors, requests| ln_e_value(errors, requests, 0.1).exp();
        assert!((e(20, 100) - 30.666).abs() < 1e-3, "{}", e(20, 100));
        assert!((e(18, 100) - 8.2525).abs() < 1e-3, "{}", e(18, 100));
        assert!(e(100, 1000) < 0.03);
    }

    #[test]
    fn no_requests_no_evidence_and_extremes_stay_finite() {
        assert_eq!(ln_e_value(0, 0, 0.1), 0.0);
        for (errors, requests, ceiling) in [(0, 1 << 53, 0.5), (1 << 53, 1 << 53, 0.5), (5, 10, 1e-300)] {
            assert!(ln_e_value(errors, requests, ceiling).is_finite(), "{errors}/{requests} at {ceiling}");
        }
    }
}
