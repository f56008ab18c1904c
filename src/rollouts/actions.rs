//! promote, promote --full, abort, retry and pause as pure planners: given the Rollout as just read, the exact
//! JSON merge patches `kubectl argo rollouts` sends (upstream `pkg/kubectl-argo-rollouts/cmd/{promote,abort,
//! retry,pause}`), the endpoint each goes to, and the message to print.
//!
//! One addition: when every patch upstream would send changes nothing (promoting a healthy rollout, aborting an
//! aborted one), the plan says so instead, so the CLI can tell the user and exit 0 without writing.
//!
//! Not reproduced: upstream retries a status patch that answers 404 as one patch on the main resource, for
//! Rollouts v0.9 whose CRD had no status subresource. Every CRD since v0.10 (2020) has it, and with it a 404
//! means the Rollout (or the CRD) is gone, which the main resource would answer the same.

use super::model::Rollout;
use super::progress::canary_step_index;
use serde_json::{Map, Value};

/// Where a patch is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `PATCH .../namespaces/NS/rollouts/NAME` (needs `patch rollouts.argoproj.io`).
    Resource,
    /// `PATCH .../namespaces/NS/rollouts/NAME/status` (needs `patch rollouts.argoproj.io/status`).
    Status,
}

/// One write: an RFC 7386 JSON merge patch (`Content-Type: application/merge-patch+json`).
#[derive(Clone, Debug, PartialEq)]
pub struct Patch {
    pub endpoint: Endpoint,
    pub body: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Send the patches in order, stopping at the first failure (upstream sends the status patch first), then
    /// print `message`.
    Apply { patches: Vec<Patch>, message: String },
    /// Nothing would change: print `message` and exit 0 without writing.
    Nothing { reason: Idle, message: String },
}

/// Why a plan has nothing to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idle {
    /// promote: not paused, no pause condition, and no canary step left to skip (healthy, or mid-update with
    /// nothing to unblock).
    NothingToPromote,
    /// promote --full: `currentPodHash == stableRS` and not paused.
    NoUpdateInProgress,
    /// promote --full: `status.promoteFull` is already set and not paused.
    AlreadyPromotingFully,
    AlreadyAborted,
    NotAborted,
    AlreadyPaused,
}

impl Idle {
    fn message(self, name: &str) -> String {
        match self {
            Idle::NothingToPromote => {
                format!("rollout '{name}' is not paused and has no step to skip: nothing to promote")
            }
            Idle::NoUpdateInProgress => format!("rollout '{name}' has no update in progress: nothing to promote"),
            Idle::AlreadyPromotingFully => format!("rollout '{name}' is already being fully promoted"),
            Idle::AlreadyAborted => format!("rollout '{name}' is already aborted"),
            Idle::NotAborted => format!("rollout '{name}' is not aborted: nothing to retry"),
            Idle::AlreadyPaused => format!("rollout '{name}' is already paused"),
        }
    }
}

/// `kubectl argo rollouts promote NAME` (upstream `getPatches`, default case). At most one status patch:
/// - a canary whose current step analysis is `Inconclusive`, with pause conditions and `controllerPause`: clear
///   both and move to the next step (without the step bump the rollout would stay stuck if the next step is a
///   pause);
/// - else any pause conditions (`CanaryPauseStep`, `BlueGreenPause`, ...): clear them;
/// - else a canary with steps: move to the next step, which skips a running analysis or experiment step;
/// - else (blue-green not paused by the controller, canary without steps): none.
///
/// Plus `spec.paused: false` on the resource when manually paused.
pub fn promote(ro: &Rollout) -> Plan {
    let status = &ro.status;
    let inconclusive = ro.canary().is_some()
        && status.canary.current_step_analysis_run_status.as_ref().is_some_and(|run| run.status == "Inconclusive");
    let mut writes = Vec::new();
    if inconclusive && !status.pause_conditions.is_empty() && status.controller_pause {
        // Upstream writes nothing here for a canary without steps, and does not fall through to clearing the
        // pause conditions either.
        if let Some(next) = next_step_index(ro) {
            writes.extend([Write::ClearPauseConditions, Write::ControllerPause(false), Write::CurrentStepIndex(next)]);
        }
    } else if !status.pause_conditions.is_empty() {
        writes.push(Write::ClearPauseConditions);
    } else if let Some(next) = next_step_index(ro) {
        // `pauseConditions: null` is a no-op here (there are none); upstream sends it anyway.
        writes.extend([Write::ClearPauseConditions, Write::CurrentStepIndex(next)]);
    }
    if ro.spec.paused {
        writes.push(Write::SpecPaused(false));
    }
    plan(ro, &writes, "promoted", Idle::NothingToPromote)
}

/// `kubectl argo rollouts promote NAME --full`: `status.promoteFull: true` only while an update is in progress
/// (`currentPodHash != stableRS`), plus `spec.paused: false` when manually paused (added upstream in v1.9 so a
/// manually paused canary does not stay paused). With no update in progress, a paused Rollout is only unpaused,
/// as upstream does; an unpaused one is [`Idle::NoUpdateInProgress`].
pub fn promote_full(ro: &Rollout) -> Plan {
    let updating = ro.status.current_pod_hash != ro.status.stable_rs;
    let mut writes = Vec::new();
    if updating {
        writes.push(Write::PromoteFull(true));
    }
    if ro.spec.paused {
        writes.push(Write::SpecPaused(false));
    }
    let idle = if updating { Idle::AlreadyPromotingFully } else { Idle::NoUpdateInProgress };
    plan(ro, &writes, "fully promoted", idle)
}

/// `kubectl argo rollouts abort NAME`: `{"status":{"abort":true}}`.
pub fn abort(ro: &Rollout) -> Plan {
    plan(ro, &[Write::Abort(true)], "aborted", Idle::AlreadyAborted)
}

/// `kubectl argo rollouts retry rollout NAME`: `{"status":{"abort":false}}`.
pub fn retry(ro: &Rollout) -> Plan {
    plan(ro, &[Write::Abort(false)], "retried", Idle::NotAborted)
}

/// `kubectl argo rollouts pause NAME`: `{"spec":{"paused":true}}` on the resource.
pub fn pause(ro: &Rollout) -> Plan {
    plan(ro, &[Write::SpecPaused(true)], "paused", Idle::AlreadyPaused)
}

/// The step after the current one, never past the end (upstream increments only while `index < len(steps)`).
/// `None` for a Rollout without canary steps.
fn next_step_index(ro: &Rollout) -> Option<i32> {
    let index = canary_step_index(ro)?;
    let count = ro.canary().map_or(0, |c| i32::try_from(c.steps.len()).unwrap_or(i32::MAX));
    Some(if index < count { index + 1 } else { index })
}

/// One field a plan sets, typed so "would it change anything" can be answered against the Rollout as read.
#[derive(Clone, Copy, Debug)]
enum Write {
    SpecPaused(bool),
    /// `pauseConditions: null` (merge-patch `null` deletes the field).
    ClearPauseConditions,
    ControllerPause(bool),
    CurrentStepIndex(i32),
    PromoteFull(bool),
    Abort(bool),
}

impl Write {
    fn endpoint(self) -> Endpoint {
        match self {
            Write::SpecPaused(_) => Endpoint::Resource,
            _ => Endpoint::Status,
        }
    }

    fn field(self) -> (&'static str, Value) {
        match self {
            Write::SpecPaused(paused) => ("paused", paused.into()),
            Write::ClearPauseConditions => ("pauseConditions", Value::Null),
            Write::ControllerPause(paused) => ("controllerPause", paused.into()),
            Write::CurrentStepIndex(index) => ("currentStepIndex", index.into()),
            Write::PromoteFull(full) => ("promoteFull", full.into()),
            Write::Abort(abort) => ("abort", abort.into()),
        }
    }

    fn changes(self, ro: &Rollout) -> bool {
        let status = &ro.status;
        match self {
            Write::SpecPaused(paused) => ro.spec.paused != paused,
            Write::ClearPauseConditions => !status.pause_conditions.is_empty(),
            Write::ControllerPause(paused) => status.controller_pause != paused,
            Write::CurrentStepIndex(index) => status.current_step_index != Some(index),
            Write::PromoteFull(full) => status.promote_full != full,
            Write::Abort(abort) => status.abort != abort,
        }
    }
}

/// The writes as at most two patches, status first as upstream sends them; or [`Plan::Nothing`] when no write
/// would change anything. When something changes, every write is sent, no-ops included, to match upstream
/// byte for byte.
fn plan(ro: &Rollout, writes: &[Write], verb: &str, idle: Idle) -> Plan {
    let name = ro.name();
    if !writes.iter().any(|w| w.changes(ro)) {
        return Plan::Nothing { reason: idle, message: idle.message(name) };
    }
    let patches = [(Endpoint::Status, "status"), (Endpoint::Resource, "spec")]
        .into_iter()
        .filter_map(|(endpoint, section)| {
            let fields: Map<String, Value> = writes
                .iter()
                .filter(|w| w.endpoint() == endpoint)
                .map(|w| {
                    let (key, value) = w.field();
                    (key.to_owned(), value)
                })
                .collect();
            (!fields.is_empty())
                .then(|| Patch { endpoint, body: Value::Object(Map::from_iter([(section.into(), fields.into())])) })
        })
        .collect();
    Plan::Apply { patches, message: format!("rollout '{name}' {verb}") }
}

/// Applies an RFC 7386 JSON merge patch to `target` as the API server does (`null` deletes a field, objects
/// merge, anything else replaces): what `--dry-run=client` shows instead of sending.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(fields) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in fields {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// With `--dry-run=server` nothing is stored, so the answer to each patch lacks the earlier ones: keep from it
/// only the part its endpoint writes (the status subresource writes `status`, the resource everything else)
/// over the object so far.
pub fn dry_run_answer(so_far: Value, mut answer: Value, endpoint: Endpoint) -> Value {
    match endpoint {
        Endpoint::Status => {
            let mut object = so_far;
            object["status"] = answer["status"].take();
            object
        }
        Endpoint::Resource => {
            if let Some(status) = so_far.get("status") {
                answer["status"] = status.clone();
            }
            answer
        }
    }
}

#[cfg(test)]
#[path = "actions_tests.rs"]
mod tests;
