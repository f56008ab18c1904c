//! Process exit codes: stable, documented in the README and in `--help`, and tested.

use std::fmt;

/// Every way `kubectl vroute` can end. The numbers are part of the public contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The command did what was asked (also: nothing needed doing).
    Ok = 0,
    /// A negative answer: `check` found errors, `analyze` judged `fail`, `wait` saw Degraded.
    Negative = 1,
    /// `wait` timed out.
    Timeout = 2,
    /// `analyze` judged `inconclusive`.
    Inconclusive = 3,
    /// Bad flags, arguments or input files.
    Usage = 4,
    /// The cluster refused or could not be reached (unreachable, forbidden, not found, conflict, CRDs missing).
    Cluster = 5,
    /// Prometheus could not be queried or answered garbage.
    Prometheus = 6,
    /// An edit was refused as unsafe (unknown version, no ready pods, managed by a Rollout...).
    Refused = 7,
    /// A local failure with no better code (e.g. output could not be written).
    Internal = 8,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// The exit-code table shown at the end of `kubectl vroute --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success (or nothing to do)
  1  negative result: check found errors, analyze judged fail, wait saw Degraded
  2  wait timed out
  3  analyze judged inconclusive
  4  usage error: bad flags, arguments or input files
  5  cluster error: unreachable, forbidden, not found, conflict, CRDs missing
  6  Prometheus error: unreachable, timed out or answered garbage
  7  edit refused as unsafe
  8  local failure (e.g. output could not be written)";
