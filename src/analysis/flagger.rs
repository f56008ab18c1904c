//! Flagger's webhooks, answered by the same judge. Flagger POSTs `{"name", "namespace", "phase", "checksum",
//! "metadata": {...}}` (its `CanaryWebhookPayload`) and reads only the status code:
//! - `confirm-promotion` halts the promotion until the hook answers 200: here 200 only when the judge passes;
//! - `rollback` rolls the canary back when the hook answers 200: here 200 only when the judge fails.
//!
//! Any other verdict is 412 (the condition of the hook does not hold), with the judgement as the body either
//! way; a request the judge cannot answer keeps its 400/503, which confirms nothing and rolls nothing back.
//!
//! Flagger's naming gives the arms: the canary workload is the target (`<name>`), the baseline its
//! `<name>-primary` copy, told apart by Istio's `destination_workload`. Every judge parameter may be set in
//! the hook's `metadata` (`service`, `canary`, `baseline`, `label`, `window`, `since`, `signals`, ...) and is
//! validated as on `/v1/judge`.

use super::error::RequestError;
use super::input::RawParams;
use crate::judge::Verdict;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The hooks served, as Flagger names their types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    ConfirmPromotion,
    Rollback,
}

impl Hook {
    pub fn parse(path: &str) -> Option<Hook> {
        match path {
            "confirm-promotion" => Some(Hook::ConfirmPromotion),
            "rollback" => Some(Hook::Rollback),
            _ => None,
        }
    }

    /// Whether the hook's condition holds for this verdict (then Flagger gets 200).
    pub fn holds(self, verdict: Verdict) -> bool {
        match self {
            Hook::ConfirmPromotion => verdict == Verdict::Pass,
            Hook::Rollback => verdict == Verdict::Fail,
        }
    }
}

/// What the judge needs of Flagger's payload (its `phase`, `checksum` and any later field are not).
#[derive(Debug, Deserialize)]
struct Payload {
    name: String,
    namespace: String,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

/// The judge's parameters for a Flagger payload: Flagger's naming, overridden by `metadata`.
pub fn params(body: &[u8]) -> Result<RawParams, RequestError> {
    let payload: Payload = serde_json::from_slice(body)
        .map_err(|e| RequestError::new("body", format!("not a Flagger webhook payload ({e})")))?;
    for reserved in ["namespace", "name"] {
        if payload.metadata.contains_key(reserved) {
            return Err(RequestError::new(
                &format!("metadata.{reserved}"),
                "comes from the Canary itself, not from metadata",
            ));
        }
    }
    let mut fields: BTreeMap<String, String> = BTreeMap::from([
        ("service".into(), payload.name.clone()),
        ("label".into(), "destination_workload".into()),
        ("canary".into(), payload.name.clone()),
        ("baseline".into(), format!("{}-primary", payload.name)),
    ]);
    fields.extend(payload.metadata);
    fields.insert("namespace".into(), payload.namespace);
    RawParams::from_pairs(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::request::Request;

    #[test]
    fn flaggers_naming_gives_the_arms_and_metadata_overrides_it() {
        let body = br#"{"name": "podinfo", "namespace": "test", "phase": "Promoting", "checksum": "6d5c",
                        "metadata": {"window": "15m", "signals": "errors,latency", "latencyThreshold": "500"}}"#;
        let request = Request::parse(&params(body).unwrap()).unwrap();
        assert_eq!(
            (request.canary.as_deref(), request.baseline.as_deref()),
            (Some("podinfo"), Some("podinfo-primary"))
        );
        assert_eq!(request.label.as_str(), "destination_workload");
        assert_eq!(request.service, "podinfo");
        assert!(request.signals.latency.is_some());
        let own = br#"{"name": "podinfo", "namespace": "test", "metadata": {"label": "destination_version", "canary": "v2", "baseline": "v1"}}"#;
        let request = Request::parse(&params(own).unwrap()).unwrap();
        assert_eq!(request.canary.as_deref(), Some("v2"));
    }

    #[test]
    fn a_payload_that_is_not_flaggers_is_refused_naming_the_field() {
        assert_eq!(params(b"{}").unwrap_err().field, "body");
        let hostile = br#"{"name": "podinfo", "namespace": "test", "metadata": {"namespace": "other"}}"#;
        assert_eq!(params(hostile).unwrap_err().field, "metadata.namespace");
        let unknown = br#"{"name": "podinfo", "namespace": "test", "metadata": {"speed": "fast"}}"#;
        assert_eq!(Request::parse(&params(unknown).unwrap()).unwrap_err().field, "speed");
        assert!(Hook::ConfirmPromotion.holds(Verdict::Pass) && !Hook::ConfirmPromotion.holds(Verdict::Inconclusive));
        assert!(Hook::Rollback.holds(Verdict::Fail) && !Hook::Rollback.holds(Verdict::Pass));
    }
}
