//! The judge's tunable parameters, their defaults and their valid ranges.

use serde::Serialize;

/// What a caller may tune. Field names in JSON (and in the HTTP contract) are camelCase: `alpha`, `margin`,
/// `passMargin`, `maxErrorRate`.
///
/// The two margins bound an "indifference zone" in the rate ratio `rho = canary error rate / baseline error rate`:
/// - a canary is failed only once the data show `rho > 1 + margin`;
/// - it is passed only once they show `rho < 1 + passMargin` (and the absolute guards hold).
///
/// A canary with `1 + margin < rho < 1 + passMargin` may end either way; both statements are then true.
/// Defaults (measured in `docs/judge-calibration.md`, at 100 requests/s, 1-minute looks for an hour):
/// - `alpha = 0.05`: each failure test (ratio, ceiling) fails at most 5% of analyses of a canary inside its
///   null, and the ratio test passes at most 5% of analyses of a canary at least `1 + passMargin` times worse,
///   however often Argo asks;
/// - `margin = 0.1`: a canary exactly as good as its baseline then fails in well under 1% of runs (it sits
///   inside the null, not on its edge), while a 2x canary is caught about as fast (within ~10% either way) as
///   a peeking z-test tuned with hindsight to the same false-fail rate; a larger margin slows the detection of
///   small regressions, a zero margin spends all of `alpha` on A/A canaries;
/// - `passMargin = 1.0` (pass once shown less than 2x the baseline): an A/A canary at a 20% share passes after
///   roughly 70-120 errors in both arms together (~12,000 requests at 1% errors, ~72,000 at 0.1%; twice that at
///   a 5% share); a tighter bound needs far more errors (1.5x: ~3x as many, by the per-error information);
/// - `maxErrorRate = 0.1`: an absolute backstop for a broken baseline, well above a healthy service's error
///   rate. A canary is failed once shown above it (anytime-valid, like the ratio test) and passes only with its
///   Wilson 95% upper bound below it, which with zero errors takes ~3/maxErrorRate requests (rule of three):
///   35 at the default. Lower it to your SLO for a stricter floor.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    /// Error budget of each sequential test: the e-value threshold is `1 / alpha`. Range: `0 < alpha <= 0.5`.
    pub alpha: f64,
    /// Fail once the canary's error rate is shown above `(1 + margin)` times the baseline's.
    /// Range: `0 <= margin <= 10`.
    pub margin: f64,
    /// Pass once the canary's error rate is shown below `(1 + passMargin)` times the baseline's.
    /// Range: `0 < passMargin <= 10`.
    pub pass_margin: f64,
    /// Absolute ceiling for the canary's error rate. Range: `0 < maxErrorRate <= 0.5` (a service failing more
    /// than half its requests is broken whatever its baseline does).
    pub max_error_rate: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params { alpha: 0.05, margin: 0.1, pass_margin: 1.0, max_error_rate: 0.1 }
    }
}

/// A parameter outside its range. `field` is the camelCase name the caller used, so the HTTP layer can answer
/// 400 naming it.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error("{field} must be {expected}, got {value}")]
pub struct ParamError {
    pub field: &'static str,
    pub value: f64,
    pub expected: &'static str,
}

impl Params {
    /// The largest margin: beyond 11x a "margin" no longer describes a comparison, and the prior grids (spanning
    /// ~18x beyond the bound) would reach ratios no data set distinguishes.
    const MAX_MARGIN: f64 = 10.0;

    /// Checks every field, in declaration order, and names the first one out of range. NaN is out of every
    /// range (all comparisons with NaN are false, so each check is written as "inside", never "outside").
    pub fn validate(&self) -> Result<(), ParamError> {
        let check = |field, value: f64, inside: bool, expected| {
            if inside { Ok(()) } else { Err(ParamError { field, value, expected }) }
        };
        check("alpha", self.alpha, self.alpha > 0.0 && self.alpha <= 0.5, "in (0, 0.5]")?;
        check("margin", self.margin, (0.0..=Self::MAX_MARGIN).contains(&self.margin), "in [0, 10]")?;
        check(
            "passMargin",
            self.pass_margin,
            self.pass_margin > 0.0 && self.pass_margin <= Self::MAX_MARGIN,
            "in (0, 10]",
        )?;
        let ceiling = self.max_error_rate;
        check("maxErrorRate", ceiling, ceiling > 0.0 && ceiling <= 0.5, "in (0, 0.5]")
    }

    /// The e-value either test must reach to decide.
    pub fn threshold(&self) -> f64 {
        1.0 / self.alpha
    }

    /// `rho0`: the largest ratio the "worse" test tolerates.
    pub(crate) fn worse_above(&self) -> f64 {
        1.0 + self.margin
    }

    /// `rho1`: the ratio the "not worse" test must show the canary below.
    pub(crate) fn not_worse_below(&self) -> f64 {
        1.0 + self.pass_margin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Params::default().validate(), Ok(()));
        assert_eq!(Params::default().threshold(), 20.0);
    }

    #[test]
    fn each_bad_field_is_named_with_its_camel_case_name() {
        let d = Params::default();
        let cases = [
            (Params { alpha: 0.0, ..d }, "alpha"),
            (Params { alpha: 0.6, ..d }, "alpha"),
            (Params { alpha: f64::NAN, ..d }, "alpha"),
            (Params { margin: -0.1, ..d }, "margin"),
            (Params { margin: f64::INFINITY, ..d }, "margin"),
            (Params { pass_margin: 0.0, ..d }, "passMargin"),
            (Params { max_error_rate: 0.0, ..d }, "maxErrorRate"),
            (Params { max_error_rate: 0.6, ..d }, "maxErrorRate"),
        ];
        for (params, field) in cases {
            let err = params.validate().expect_err(field);
            assert_eq!(err.field, field);
            assert!(err.to_string().starts_with(field), "{err}");
        }
    }

    #[test]
    fn range_edges_are_inclusive_where_documented() {
        let edges = Params { alpha: 0.5, margin: 0.0, pass_margin: 10.0, max_error_rate: 0.5 };
        assert_eq!(edges.validate(), Ok(()));
    }

    #[test]
    fn serializes_camel_case() {
        let json = serde_json::to_value(Params::default()).expect("params serialize");
        assert_eq!(json, serde_json::json!({"alpha": 0.05, "margin": 0.1, "passMargin": 1.0, "maxErrorRate": 0.1}));
    }
}
