//! `wait`: watch one Rollout (the watch API, no polling) until its phase, computed exactly as upstream computes
//! it ([`crate::rollouts::phase`]), reaches the goal ([`crate::rollouts::wait::decide`]). The caller bounds the
//! time and shows progress through an [`Observer`].

use crate::cluster::{Cluster, ClusterError, rollouts};
use crate::error::Error;
use crate::rollouts::{PhaseStatus, Rollout, WaitDecision, WaitTarget, phase, wait};
use futures::StreamExt;
use serde_json::Value;
use std::time::Duration;

/// What a wait ended with (a timeout is the caller's).
#[derive(Debug)]
pub enum Ended {
    Reached(PhaseStatus),
    Degraded(PhaseStatus),
}

/// Sees every state the Rollout goes through, and (when it asks for them) a tick every second.
pub trait Observer {
    fn state(&mut self, rollout: &Rollout, status: &PhaseStatus) -> Result<(), Error>;
    fn wants_ticks(&self) -> bool {
        false
    }
    fn tick(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

pub struct Goal {
    pub target: WaitTarget,
    /// Any pause counts as reached.
    pub success_on_pause: bool,
}

pub async fn until(cluster: &Cluster, name: &str, goal: &Goal, observer: &mut impl Observer) -> Result<Ended, Error> {
    let ns = cluster.namespace.as_str();
    // A GET first: a missing Rollout (or CRD) is an error naming close names, not an endless wait.
    let first = rollouts::get(cluster, ns, name).await?;
    if let Some(ended) = observe(&first, name, goal, observer)? {
        return Ok(ended);
    }
    let mut changes = rollouts::watch(cluster, ns, name).boxed();
    let mut second = tokio::time::interval(Duration::from_secs(1));
    loop {
        let change = tokio::select! {
            change = changes.next() => change,
            _ = second.tick(), if observer.wants_ticks() => {
                observer.tick()?;
                continue;
            }
        };
        let Some(change) = change else { break };
        let Some(rollout) = change? else {
            return Err(ClusterError::NotFound {
                what: format!("Rollout {name:?} (deleted while waiting)"),
                scope: format!(" in namespace \"{ns}\""),
            }
            .into());
        };
        if let Some(ended) = observe(&rollout, name, goal, observer)? {
            return Ok(ended);
        }
    }
    Err(ClusterError::Config(format!("the watch of Rollout {name:?} ended unexpectedly; run the command again")).into())
}

fn observe(value: &Value, name: &str, goal: &Goal, observer: &mut impl Observer) -> Result<Option<Ended>, Error> {
    let rollout = Rollout::from_value(value).map_err(|error| Error::BadRollout { name: name.to_string(), error })?;
    let status = phase(&rollout);
    observer.state(&rollout, &status)?;
    Ok(match wait::decide(&status.phase, goal.target, goal.success_on_pause) {
        WaitDecision::Reached => Some(Ended::Reached(status)),
        WaitDecision::Degraded => Some(Ended::Degraded(status)),
        WaitDecision::KeepWaiting => None,
    })
}
