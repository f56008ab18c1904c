//! `kubectl vroute wait`: whether a phase ends the wait. The watch loop and the clock live in the caller, which
//! re-decides on every change of the Rollout.
//!
//! Exit codes of `wait`:
//! - 0: the target was reached ([`WaitDecision::Reached`]);
//! - 1: the Rollout became Degraded while the target was another phase ([`WaitDecision::Degraded`]);
//! - 2: `--timeout` elapsed first (still [`WaitDecision::KeepWaiting`] when it did).
//!
//! Upstream `kubectl argo rollouts status --watch` (`cmd/status/status.go`) stops only on Healthy (0) or Degraded
//! (1) and reports a timeout as 1 too; `--for paused|degraded`, `--success-on-pause` and the distinct timeout
//! code are vroute's.

use super::phase::Phase;

/// The phase `--for` waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitTarget {
    Healthy,
    Paused,
    Degraded,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitDecision {
    /// Exit 0.
    Reached,
    /// Exit 1: Degraded, and that was not the target.
    Degraded,
    /// Not there yet; exit 2 if the timeout elapses.
    KeepWaiting,
}

/// Decide on the phase computed by [`super::phase::phase`]. `success_on_pause` makes any pause (a pause step, a
/// blue-green pre-promotion pause, an inconclusive analysis, a manual pause) count as reached, whatever the
/// target. A phase that cannot lead to the target any more without a new update (Healthy while waiting for
/// paused) keeps waiting: the Rollout may still be updated again before the timeout.
pub fn decide(phase: &Phase, target: WaitTarget, success_on_pause: bool) -> WaitDecision {
    match (phase, target) {
        (Phase::Healthy, WaitTarget::Healthy)
        | (Phase::Paused, WaitTarget::Paused)
        | (Phase::Degraded, WaitTarget::Degraded) => WaitDecision::Reached,
        (Phase::Paused, _) if success_on_pause => WaitDecision::Reached,
        (Phase::Degraded, _) => WaitDecision::Degraded,
        _ => WaitDecision::KeepWaiting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHASES: [Phase; 4] = [Phase::Healthy, Phase::Progressing, Phase::Paused, Phase::Degraded];

    fn decisions(target: WaitTarget, success_on_pause: bool) -> Vec<WaitDecision> {
        PHASES.iter().map(|p| decide(p, target, success_on_pause)).collect()
    }

    use WaitDecision::{Degraded, KeepWaiting, Reached};

    #[test]
    fn waiting_for_healthy() {
        assert_eq!(decisions(WaitTarget::Healthy, false), [Reached, KeepWaiting, KeepWaiting, Degraded]);
        assert_eq!(decisions(WaitTarget::Healthy, true), [Reached, KeepWaiting, Reached, Degraded]);
    }

    #[test]
    fn waiting_for_paused() {
        assert_eq!(decisions(WaitTarget::Paused, false), [KeepWaiting, KeepWaiting, Reached, Degraded]);
        assert_eq!(decisions(WaitTarget::Paused, true), [KeepWaiting, KeepWaiting, Reached, Degraded]);
    }

    #[test]
    fn waiting_for_degraded() {
        assert_eq!(decisions(WaitTarget::Degraded, false), [KeepWaiting, KeepWaiting, KeepWaiting, Reached]);
        assert_eq!(decisions(WaitTarget::Degraded, true), [KeepWaiting, KeepWaiting, Reached, Reached]);
    }

    #[test]
    fn an_unknown_phase_keeps_waiting() {
        for target in [WaitTarget::Healthy, WaitTarget::Paused, WaitTarget::Degraded] {
            assert_eq!(decide(&Phase::Other("Rebalancing".into()), target, true), KeepWaiting);
        }
    }
}
