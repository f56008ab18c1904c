//! The sequential test on the rate ratio: mixture likelihood-ratio e-values, conditional on the errors.
//!
//! Let `rho` = canary error rate / baseline error rate. Given that `E_k` errors happened in step `k`, each is a
//! canary error with probability `pi_k(rho) = rho * n_c,k / (rho * n_c,k + n_b,k)`, so `e_c,k ~ Bin(E_k, pi_k)`.
//! Conditioning on `E_k` removes the baseline's own error rate (a nuisance parameter) and uses the traffic split
//! observed in that step, so weight changes between steps need no correction. Against a null ratio `rho_n` the
//! likelihood ratio of an alternative `rho` over all steps is
//!
//! `L(rho) = prod_k (pi_k(rho) / pi_k(rho_n))^e_c,k * ((1 - pi_k(rho)) / (1 - pi_k(rho_n)))^e_b,k`
//!
//! and the e-value is its mixture over a fixed prior, `E = sum_j w_j L(rho_j)`. At `rho = rho_n` each factor
//! has expectation 1, so `E` is a nonnegative martingale over the steps; on the far side of the null it is a
//! supermartingale (the binomial family has monotone likelihood ratios). Ville's inequality then bounds
//! `P(E ever reaches 1/alpha) <= alpha`, however often it is looked at and whenever the looking stops. Two
//! conditions carry that guarantee from the maths to Argo:
//! - every look must extend the same sequence of steps (a fixed start such as the canary's creation; a sliding
//!   window restarts the martingale at each look and loses the guarantee);
//! - the conditional binomial is exact for Poisson-like error counts. Errors are really a subset of requests;
//!   when both arms share one rate the conditional law is then hypergeometric, which is less spread than the
//!   binomial (drawing without replacement), and Hoeffding's convex-order inequality keeps every factor's
//!   expectation at or below 1. At high error rates (several percent) the boundary `rho_n` effectively applies
//!   to the odds ratio, a few percent away from the rate ratio; the margin absorbs that.
//!
//! All arithmetic is in log space: `ln L(rho) = sum_k e_c,k ln(rho / rho_n) - E_k (ln(1 + rho r_k) - ln(1 + rho_n
//! r_k))` with `r_k = n_c,k / n_b,k`, and the mixture is a log-sum-exp, so millions of errors neither overflow
//! nor underflow.
//!
//! Priors. Both grids step by 1.25x over 13 points (a ~18x span), fine enough that a true ratio is never more
//! than ~12% from a grid point:
//! - "worse" (null `1 + margin`, alternatives above it): weights fall by 0.75 per step, favouring small
//!   regressions, which need all the help they can get; a 5x regression overwhelms any weight in one step.
//! - "not worse" (null `1 + passMargin`, alternatives below it): weights are a normal bump in `ln rho` around
//!   parity (sd 0.5), because the canary one wants to pass is one exactly as good as its baseline.

use super::input::StepCounts;

/// One alternative of a prior: the ratio and the log of its weight (weights sum to 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PriorPoint {
    pub ratio: f64,
    pub ln_weight: f64,
}

const GRID_FACTOR: f64 = 1.25;
const GRID_POINTS: i32 = 13;
const WORSE_DECAY: f64 = 0.75;
const NOT_WORSE_SPREAD: f64 = 0.5;

/// Alternatives `worse_above * 1.25^j`, `j = 1..=13`, weights proportional to `0.75^j`.
pub(crate) fn worse_prior(worse_above: f64) -> Vec<PriorPoint> {
    normalised((1..=GRID_POINTS).map(|j| (worse_above * GRID_FACTOR.powi(j), WORSE_DECAY.powi(j))))
}

/// Alternatives `not_worse_below / 1.25^j`, `j = 1..=13`, weights proportional to `exp(-(ln rho / 0.5)^2 / 2)`.
pub(crate) fn not_worse_prior(not_worse_below: f64) -> Vec<PriorPoint> {
    normalised((1..=GRID_POINTS).map(|j| {
        let ratio = not_worse_below / GRID_FACTOR.powi(j);
        let z = ratio.ln() / NOT_WORSE_SPREAD;
        (ratio, (-z * z / 2.0).exp())
    }))
}

fn normalised(points: impl Iterator<Item = (f64, f64)>) -> Vec<PriorPoint> {
    let points: Vec<(f64, f64)> = points.collect();
    let total: f64 = points.iter().map(|(_, weight)| weight).sum();
    points.into_iter().map(|(ratio, weight)| PriorPoint { ratio, ln_weight: (weight / total).ln() }).collect()
}

/// Steps that say something about the ratio: both arms served requests (otherwise `pi_k` is 0 or 1 whatever
/// `rho` is) and something failed (otherwise there is nothing to split).
fn informative(steps: &[StepCounts]) -> impl Iterator<Item = &StepCounts> {
    steps.iter().filter(|s| s.canary.requests > 0 && s.baseline.requests > 0 && s.canary.errors + s.baseline.errors > 0)
}

/// Errors in the steps the ratio test can use.
pub(crate) fn informative_errors(steps: &[StepCounts]) -> u64 {
    informative(steps).map(|s| s.canary.errors + s.baseline.errors).sum()
}

/// `ln E` of the mixture e-value of `prior` against the null ratio `null_ratio` (see the module comment).
/// Always finite for the priors above and counts up to 2^53; exactly 0 when no step is informative.
pub(crate) fn ln_e_value(steps: &[StepCounts], null_ratio: f64, prior: &[PriorPoint]) -> f64 {
    // Per step: r_k, e_c,k, E_k and ln(1 + rho_n r_k), shared by every alternative.
    let stats: Vec<(f64, f64, f64, f64)> = informative(steps)
        .map(|s| {
            let exposure = s.canary.requests as f64 / s.baseline.requests as f64;
            let errors = (s.canary.errors + s.baseline.errors) as f64;
            (exposure, s.canary.errors as f64, errors, (null_ratio * exposure).ln_1p())
        })
        .collect();
    // Without data every L(rho) is 1 and so is E; return it exactly rather than as a sum of rounded weights.
    if stats.is_empty() {
        return 0.0;
    }
    let terms = prior.iter().map(|point| {
        let ln_ratio = (point.ratio / null_ratio).ln();
        let ln_likelihood: f64 = stats
            .iter()
            .map(|&(exposure, canary_errors, errors, ln_null)| {
                canary_errors * ln_ratio - errors * ((point.ratio * exposure).ln_1p() - ln_null)
            })
            .sum();
        point.ln_weight + ln_likelihood
    });
    log_sum_exp(terms)
}

/// `ln sum exp(t)` without overflow: factor out the largest term.
pub(crate) fn log_sum_exp(terms: impl Iterator<Item = f64>) -> f64 {
    let terms: Vec<f64> = terms.collect();
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::super::input::ArmCounts;
    use super::*;

    fn step(canary: (u64, u64), baseline: (u64, u64)) -> StepCounts {
        StepCounts {
            canary: ArmCounts { requests: canary.0, errors: canary.1 },
            baseline: ArmCounts { requests: baseline.0, errors: baseline.1 },
        }
    }

    fn prior(points: &[(f64, f64)]) -> Vec<PriorPoint> {
        normalised(points.iter().copied())
    }

    #[test]
    fn tiny_case_by_hand() {
        // One step, 100 requests per arm (r = 1), 2 canary and 1 baseline errors. Null 1.1, alternatives 2.2 and
        // 4.4 with weight 1/2 each. pi(rho) = rho / (rho + 1):
        //   pi(1.1) = 1.1/2.1, 1 - pi(1.1) = 1/2.1
        //   L(2.2) = ((2.2/3.2) / (1.1/2.1))^2 * ((1/3.2) / (1/2.1)) = (21/16)^2 * (21/32) = 9261/8192 = 1.1304932
        //   L(4.4) = ((4.4/5.4) / (1.1/2.1))^2 * ((1/5.4) / (1/2.1)) = (14/9)^2 * (7/18) = 1372/1458 = 0.9410151
        //   E = (1.1304932 + 0.9410151) / 2 = 1.0357541
        let steps = [step((100, 2), (100, 1))];
        let e = ln_e_value(&steps, 1.1, &prior(&[(2.2, 0.5), (4.4, 0.5)])).exp();
        assert!((e - 1.035_754_1).abs() < 1e-7, "{e}");

        // A second step with 50 canary and 150 baseline requests (r = 1/3) and one canary error multiplies each
        // alternative by pi(rho) / pi(1.1) with pi(rho) = rho / (rho + 3):
        //   (2.2/5.2) / (1.1/4.1) = 41/26, (4.4/7.4) / (1.1/4.1) = 82/37
        //   E = (1.1304932 * 41/26 + 0.9410151 * 82/37) / 2 = (1.7827008 + 2.0854929) / 2 = 1.9340968
        let steps = [step((100, 2), (100, 1)), step((50, 1), (150, 0))];
        let e = ln_e_value(&steps, 1.1, &prior(&[(2.2, 0.5), (4.4, 0.5)])).exp();
        assert!((e - 1.934_096_8).abs() < 1e-7, "{e}");
    }

    #[test]
    fn not_worse_direction_by_hand() {
        // Null 2, one alternative 1 (parity). 100 requests per arm, 1 canary and 3 baseline errors:
        //   pi(1) = 1/2, pi(2) = 2/3: L(1) = ((1/2) / (2/3))^1 * ((1/2) / (1/3))^3 = 0.75 * 3.375 = 2.53125
        let e = ln_e_value(&[step((100, 1), (100, 3))], 2.0, &prior(&[(1.0, 1.0)])).exp();
        assert!((e - 2.531_25).abs() < 1e-12, "{e}");
    }

    #[test]
    fn steps_without_information_leave_the_e_value_at_one() {
        let steps = [step((100, 0), (100, 0)), step((0, 0), (100, 5)), step((100, 5), (0, 0))];
        assert_eq!(informative_errors(&steps), 0);
        assert_eq!(ln_e_value(&steps, 1.1, &worse_prior(1.1)), 0.0);
        assert_eq!(ln_e_value(&[], 2.0, &not_worse_prior(2.0)), 0.0);
    }

    /// Binomial probability of `k` successes out of `n` at `p`.
    fn binomial(n: u64, k: u64, p: f64) -> f64 {
        let choose: f64 = (1..=k).map(|i| (n - k + i) as f64 / i as f64).product();
        choose * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32)
    }

    /// The property Ville's inequality needs, checked exactly over every outcome of one step with 6 errors:
    /// the e-value's expectation is 1 at the null and below 1 on the null's far side.
    #[test]
    fn e_value_is_fair_at_the_null_and_subfair_beyond_it() {
        let (canary_requests, baseline_requests, errors) = (300u64, 700u64, 6u64);
        let expectation = |true_ratio: f64, null_ratio: f64, prior: &[PriorPoint]| -> f64 {
            let r = canary_requests as f64 / baseline_requests as f64;
            let pi = true_ratio * r / (true_ratio * r + 1.0);
            (0..=errors)
                .map(|k| {
                    let steps = [step((canary_requests, k), (baseline_requests, errors - k))];
                    binomial(errors, k, pi) * ln_e_value(&steps, null_ratio, prior).exp()
                })
                .sum()
        };
        let worse = worse_prior(1.1);
        assert!((expectation(1.1, 1.1, &worse) - 1.0).abs() < 1e-12);
        assert!(expectation(1.0, 1.1, &worse) < 1.0);
        let not_worse = not_worse_prior(2.0);
        assert!((expectation(2.0, 2.0, &not_worse) - 1.0).abs() < 1e-12);
        assert!(expectation(3.0, 2.0, &not_worse) < 1.0);
    }

    #[test]
    fn huge_counts_stay_finite() {
        // 10^12 requests per arm; the canary fails twice as often. ln L(2.2 vs 1.1) alone is in the millions.
        let steps = [step((1_000_000_000_000, 20_000_000_000), (1_000_000_000_000, 10_000_000_000))];
        let ln_worse = ln_e_value(&steps, 1.1, &worse_prior(1.1));
        let ln_not_worse = ln_e_value(&steps, 2.0, &not_worse_prior(2.0));
        assert!(ln_worse.is_finite() && ln_worse > 1e6, "{ln_worse}");
        assert!(ln_not_worse.is_finite() && ln_not_worse < -1e6, "{ln_not_worse}");
    }

    #[test]
    fn priors_sit_on_the_right_side_of_their_nulls_and_sum_to_one() {
        for (prior, null, above) in [(worse_prior(1.1), 1.1, true), (not_worse_prior(2.0), 2.0, false)] {
            assert_eq!(prior.len(), 13);
            let total: f64 = prior.iter().map(|p| p.ln_weight.exp()).sum();
            assert!((total - 1.0).abs() < 1e-12);
            assert!(prior.iter().all(|p| (p.ratio > null) == above && p.ln_weight.is_finite()));
        }
        // The heaviest "not worse" alternative is the one nearest parity: 2 / 1.25^3 = 1.024.
        let heaviest = not_worse_prior(2.0).into_iter().max_by(|a, b| a.ln_weight.total_cmp(&b.ln_weight));
        assert_eq!(heaviest.map(|p| p.ratio), Some(2.0 / 1.25f64.powi(3)));
    }
}
