//! Wilson score interval for one arm's error rate.
//!
//! Wilson rather than the textbook normal ("Wald") interval because error counts are often 0 or a handful: Wald
//! collapses to [0, 0] at zero errors, Wilson gives the rule-of-three upper bound.

/// Two-sided 95% normal quantile.
const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson 95% interval `[lo, hi]` for `errors` out of `requests`.
///
/// With no requests it is `[0, 1]` (the formula's own limit: nothing is known), so callers never see NaN.
/// Callers guarantee `errors <= requests`; the result is clamped to `[0, 1]` anyway because at zero errors the
/// lower bound is a difference of two equal floats.
pub fn wilson95(errors: u64, requests: u64) -> [f64; 2] {
    if requests == 0 {
        return [0.0, 1.0];
    }
    let (x, n) = (errors as f64, requests as f64);
    let z2 = Z95 * Z95;
    let centre = (x + z2 / 2.0) / (n + z2);
    let half = Z95 / (n + z2) * (x * (n - x) / n + z2 / 4.0).sqrt();
    [(centre - half).clamp(0.0, 1.0), (centre + half).clamp(0.0, 1.0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: [f64; 2], expected: [f64; 2]) {
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 5e-7, "{actual:?} != {expected:?}");
        }
    }

    // z = 1.959964, z^2 = 3.841459, z^2/2 = 1.920729, z^2/4 = 0.960365; n + z^2 = 1003.841459 in all three cases.

    #[test]
    fn zero_of_a_thousand() {
        // centre = 1.920729 / 1003.841459 = 0.00191338
        // half   = 1.959964 / 1003.841459 * sqrt(0 + 0.960365) = 0.00195246 * 0.979982 = 0.00191338
        // -> [0, 0.00382676] = [0, 0.383%]
        assert_close(wilson95(0, 1000), [0.0, 0.003_826_76]);
    }

    #[test]
    fn one_of_a_thousand() {
        // centre = (1 + 1.920729) / 1003.841459 = 0.00290955
        // half   = 0.00195246 * sqrt(1 * 999 / 1000 + 0.960365) = 0.00195246 * sqrt(1.959365) = 0.00195246 * 1.399773
        //        = 0.00273301
        // -> [0.00017655, 0.00564256] = [0.018%, 0.564%]
        assert_close(wilson95(1, 1000), [0.000_176_55, 0.005_642_56]);
    }

    #[test]
    fn five_of_a_thousand() {
        // centre = (5 + 1.920729) / 1003.841459 = 0.00689425
        // half   = 0.00195246 * sqrt(5 * 995 / 1000 + 0.960365) = 0.00195246 * sqrt(5.935365) = 0.00195246 * 2.436260
        //        = 0.00475671
        // -> [0.00213754, 0.01165096] = [0.214%, 1.165%]
        assert_close(wilson95(5, 1000), [0.002_137_54, 0.011_650_96]);
    }

    #[test]
    fn no_requests_means_nothing_is_known() {
        assert_eq!(wilson95(0, 0), [0.0, 1.0]);
    }

    #[test]
    fn all_errors_reaches_one() {
        // centre = (3 + 1.920729) / 6.841459 = 0.719251, half = 1.959964 / 6.841459 * sqrt(0 + 0.960365) = 0.280749
        // -> [0.438503, 1]: the upper bound is (3 + z^2) / (3 + z^2), exactly 1 up to rounding.
        let [lo, hi] = wilson95(3, 3);
        assert!((lo - 0.438_503).abs() < 5e-6, "{lo}");
        assert_eq!(hi, 1.0);
    }
}
