//! The judge's answer: verdict, stable reason code, human message, per-arm summaries and the evidence.
//!
//! JSON shape (stable; the HTTP layer adds `window` and `queries` next to these fields):
//!
//! ```json
//! {
//!   "verdict": "pass",
//!   "reason": "not-worse",
//!   "message": "canary error rate 0.983% (236/24000) vs baseline 1.01% (970/96000): shown below 2x the
//!               baseline's (e-value 5.14e23 >= 20.0) and below the 10.0% ceiling (95% upper bound 1.12%)",
//!   "canary":   {"requests": 24000, "errors": 236, "errorRate": 0.00983, "wilson95": [0.00866, 0.01116]},
//!   "baseline": {"requests": 96000, "errors": 970, "errorRate": 0.01010, "wilson95": [0.00949, 0.01076]},
//!   "evidence": {
//!     "eWorse": 5.92e-6, "eNotWorse": 5.14e23, "eCeiling": 8.06e-236,
//!     "log10EWorse": -5.23, "log10ENotWorse": 23.71, "log10ECeiling": -235.09,
//!     "threshold": 20.0, "worseAbove": 1.1, "notWorseBelow": 2.0, "maxErrorRate": 0.1,
//!     "rateRatio": 0.973, "informativeErrors": 1206, "steps": 20, "unroutableRequests": null
//!   }
//! }
//! ```
//!
//! (Twenty one-minute steps at 100 requests/s, canary at 20%, both arms at ~1%; numbers shortened and the
//! message wrapped here.)
//!
//! Every number is finite: `errorRate` and `rateRatio` are `null` when undefined, `wilson95` is `[0, 1]` for an
//! arm without requests, and e-values saturate at 1e300 (the `log10` fields keep the exact size).

use serde::{Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Inconclusive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Why the judge decided as it did. Each reason belongs to exactly one verdict, so the pair can never disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Routing sends the canary traffic, none arrived, and about that many requests failed with 503 UH/NR.
    CanaryUnreachable,
    /// The ceiling e-value reached `1/alpha`: the canary's error rate is above `maxErrorRate`.
    ErrorRateCeiling,
    /// The "worse" e-value reached `1/alpha`: the canary's error rate is above `(1 + margin)` x the baseline's.
    CanaryWorse,
    /// The "not worse" e-value reached `1/alpha` and the canary's Wilson 95% upper bound is below the ceiling.
    NotWorse,
    /// Neither arm had an error, and the canary's Wilson 95% upper bound is below the ceiling.
    NoErrors,
    /// The canary served no requests in the window (and was not shown unreachable).
    NoCanaryTraffic,
    /// The baseline served no requests in the window: there is nothing to compare with.
    NoBaselineTraffic,
    /// The canary is shown not worse than its baseline, but its Wilson 95% upper bound is not below the ceiling.
    CeilingNotCleared,
    /// Neither e-value has reached `1/alpha` yet (or, with no errors at all, too few canary requests).
    NotEnoughEvidence,
}

impl Reason {
    /// The stable kebab-case code, as serialized.
    pub fn code(self) -> &'static str {
        match self {
            Reason::CanaryUnreachable => "canary-unreachable",
            Reason::ErrorRateCeiling => "error-rate-ceiling",
            Reason::CanaryWorse => "canary-worse",
            Reason::NotWorse => "not-worse",
            Reason::NoErrors => "no-errors",
            Reason::NoCanaryTraffic => "no-canary-traffic",
            Reason::NoBaselineTraffic => "no-baseline-traffic",
            Reason::CeilingNotCleared => "ceiling-not-cleared",
            Reason::NotEnoughEvidence => "not-enough-evidence",
        }
    }

    pub fn verdict(self) -> Verdict {
        match self {
            Reason::CanaryUnreachable | Reason::ErrorRateCeiling | Reason::CanaryWorse => Verdict::Fail,
            Reason::NotWorse | Reason::NoErrors => Verdict::Pass,
            Reason::NoCanaryTraffic
            | Reason::NoBaselineTraffic
            | Reason::CeilingNotCleared
            | Reason::NotEnoughEvidence => Verdict::Inconclusive,
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// One arm over the whole window, in whole requests.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArmSummary {
    pub requests: u64,
    pub errors: u64,
    /// `errors / requests`; `None` (JSON `null`) without requests.
    pub error_rate: Option<f64>,
    /// Wilson 95% interval of the error rate; `[0, 1]` without requests.
    pub wilson95: [f64; 2],
}

/// The numbers behind the verdict.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// E-value for "the canary is worse than `worseAbove` x the baseline" (saturated at 1e300).
    pub e_worse: f64,
    /// E-value for "the canary is better than `notWorseBelow` x the baseline" (saturated at 1e300).
    pub e_not_worse: f64,
    /// E-value for "the canary's error rate is above `maxErrorRate`" (saturated at 1e300).
    pub e_ceiling: f64,
    /// `log10` of the unsaturated e-values.
    pub log10_e_worse: f64,
    pub log10_e_not_worse: f64,
    pub log10_e_ceiling: f64,
    /// `1 / alpha`: the e-value either test must reach.
    pub threshold: f64,
    /// `1 + margin`.
    pub worse_above: f64,
    /// `1 + passMargin`.
    pub not_worse_below: f64,
    pub max_error_rate: f64,
    /// Canary error rate / baseline error rate over the whole window; `None` when either is undefined or the
    /// baseline had no errors.
    pub rate_ratio: Option<f64>,
    /// Errors in steps where both arms served requests: what the ratio test had to work with.
    pub informative_errors: u64,
    pub steps: usize,
    /// Client-side 503 UH/NR requests, when the caller supplied them.
    pub unroutable_requests: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Judgement {
    pub verdict: Verdict,
    pub reason: Reason,
    pub message: String,
    pub canary: ArmSummary,
    pub baseline: ArmSummary,
    pub evidence: Evidence,
}
