//! The canary judge: per-arm request and error counts in, a verdict with its evidence out. Pure code: no I/O,
//! no clock, no async; the same input always gives the same judgement.
//!
//! Design (the statistics are in `sequential.rs`, the measured behaviour in `docs/judge-calibration.md`):
//! - Two sequential tests on the ratio `rho` of the canary's error rate to the baseline's, each a mixture
//!   likelihood-ratio e-value conditional on the errors of each step: "worse" (`rho > 1 + margin`) fails the
//!   canary once its e-value reaches `1/alpha`; "not worse" (`rho < 1 + passMargin`) passes it once its e-value
//!   does and the guards allow. Both stay valid however often Argo asks, as long as every look extends the same
//!   window (a fixed start, such as the canary's creation).
//! - Guards: no canary traffic is inconclusive (or `canary-unreachable` when the caller's routing signals show
//!   it); a canary shown above `maxErrorRate` fails (an anytime-valid e-value on its own counts, `ceiling.rs`,
//!   where a Wilson bound re-checked every minute would misfire); a pass needs the canary's Wilson 95% upper
//!   bound below `maxErrorRate`; zero errors in both arms is decided by that bound alone; no baseline traffic
//!   is inconclusive.
//! - Inputs are Prometheus floats, rounded through running totals (`input.rs`); NaN, negative totals and more
//!   errors than requests are typed errors, never verdicts.
//!
//! What it takes (defaults, 100 requests/s, 1-minute looks, `docs/judge-calibration.md`): with the canary at 20%
//! of traffic, an A/A canary passes after a median of ~12,000 requests in both arms at 1% errors (2 minutes) and
//! ~72,000 at 0.1% (12 minutes); at a 5% share ~24,000 and ~192,000 (4 and 32 minutes). A canary failing twice as
//! often as a 1% baseline fails after a median ~2,400 canary requests at 20% (2 minutes), ~1,500 at 5% (5
//! minutes). An A/A canary fails in under 1% of one-hour analyses (alpha is 5%).

mod ceiling;
mod decide;
mod input;
mod judgement;
mod message;
mod params;
mod sequential;
mod signals;
mod wilson;

#[cfg(test)]
mod tests;

pub use decide::judge;
pub use input::{Arm, Counts, Field, InputError, Observations, Reachability, Step};
pub use judgement::{ArmSummary, Evidence, Judgement, Reason, Verdict};
pub use params::{ParamError, Params};
pub use signals::{combine, share_alpha};
pub use wilson::wilson95;

/// Why [`judge`] could not judge.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum JudgeError {
    /// A parameter out of range (answer 400 naming `ParamError::field`).
    #[error(transparent)]
    Params(#[from] ParamError),
    /// Counts no verdict may be built on (answer as a bad upstream, never with a verdict).
    #[error(transparent)]
    Input(#[from] InputError),
}
