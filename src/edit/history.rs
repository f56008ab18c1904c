//! The undo history, kept on the VirtualService itself so that it travels with the object, needs no other
//! storage or permission, and is updated in the same guarded write as the edit it records.
//!
//! Annotation `vroute.kubectl.io/history`: a JSON list, oldest first, of at most [`LIMIT`] revisions:
//!
//! ```json
//! [{"revision": 3, "time": "2025-05-01T10:00:00Z", "command": "set-weight v1=90 v2=10",
//!   "http": [ ...spec.http as it was BEFORE this edit... ],
//!   "versions": "{\"primary\":{\"stable\":\"v1\",\"canary\":\"v2\"}}"}]
//! ```
//!
//! `revision` numbers grow by one per edit; `versions` is the `vroute.kubectl.io/versions` annotation before
//! the edit (absent when there was none). `undo` is an edit too: it restores a revision's `http` (and
//! `versions`) and records what it replaced, so undoing twice returns to where one started, as with
//! `kubectl rollout undo`. Only `spec.http` is recorded: subsets `pin` added to a DestinationRule stay.

use super::context::Context;
use super::{EditError, Summary, guard, object, roles};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const ANNOTATION: &str = "vroute.kubectl.io/history";
/// Revisions kept.
pub const LIMIT: usize = 10;
/// Annotations of one object share a 256 KiB limit: the oldest revisions go first when routes are large.
const MAX_BYTES: usize = 96 * 1024;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub revision: u32,
    pub time: Timestamp,
    pub command: String,
    pub http: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<String>,
}

impl Revision {
    /// `3 (2025-05-01T10:00:00Z, set-weight v1=90 v2=10)`.
    fn describe(&self) -> String {
        format!("{} ({}, {})", self.revision, self.time, self.command)
    }
}

pub fn read(vs: &Value) -> Result<Vec<Revision>, EditError> {
    let Some(text) = object::annotation(vs, ANNOTATION) else { return Ok(Vec::new()) };
    serde_json::from_str(text).map_err(|e| EditError::Malformed {
        object: object::describe(vs),
        field: format!("annotation {ANNOTATION}"),
        reason: format!(
            "is not valid ({e}); remove it with `kubectl annotate virtualservice {} {ANNOTATION}-` (this loses \
             the undo history)",
            vs["metadata"]["name"].as_str().unwrap_or_default()
        ),
    })
}

/// Appends to `after`'s history the routes of `before` (the object as read), as revision max+1.
pub fn record(after: &mut Value, before: &Value, command: String, now: Timestamp) -> Result<(), EditError> {
    let mut history = read(before)?;
    let revision = history.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
    history.push(Revision {
        revision,
        // Seconds are precise enough to tell edits apart by eye, and keep the annotation short.
        time: Timestamp::from_second(now.as_second()).unwrap_or(now),
        command,
        http: object::http(before)?,
        versions: object::annotation(before, roles::ANNOTATION).map(str::to_string),
    });
    let excess = history.len().saturating_sub(LIMIT);
    history.drain(..excess);
    let mut text = serde_json::to_string(&history).expect("history serializes");
    while text.len() > MAX_BYTES && history.len() > 1 {
        history.remove(0);
        text = serde_json::to_string(&history).expect("history serializes");
    }
    object::set_annotation(after, ANNOTATION, Some(text));
    Ok(())
}

/// `undo`: brings back the routes (and recorded versions) from before revision `revision` (the latest when
/// `None`). Routes a Rollout manages keep their current content: the controller owns them, and its weights
/// have moved on since.
pub fn undo(vs: &mut Value, revision: Option<u32>, ctx: &Context) -> Result<Summary, EditError> {
    let history = read(vs)?;
    let entry = match revision {
        None => history.last().ok_or_else(|| EditError::NoHistory { vs: ctx.vs_label() })?,
        Some(n) => history.iter().find(|r| r.revision == n).ok_or_else(|| EditError::UnknownRevision {
            vs: ctx.vs_label(),
            revision: n,
            available: history.iter().map(Revision::describe).collect(),
        })?,
    };
    let current = object::http(vs)?;
    let mut restored = entry.http.clone();
    for owner in &ctx.owners {
        let now = guard::claimed(owner, &current, ctx);
        let then = guard::claimed(owner, &restored, ctx);
        if now.len() != then.len() {
            let routes = now.iter().map(|&i| object::route_label(&current[i], i)).collect();
            let rollout = format!("{}/{}", owner.rollout_namespace, owner.rollout_name);
            return Err(EditError::RolloutRoutesChanged { vs: ctx.vs_label(), rollout, routes });
        }
        for (n, t) in now.into_iter().zip(then) {
            restored[t] = current[n].clone();
        }
    }
    object::set_http(vs, restored);
    object::set_annotation(vs, roles::ANNOTATION, entry.versions.clone());
    Ok(Summary { subject: "routes".into(), state: format!("as before revision {}", entry.describe()) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::context::tests::{request, snapshot, split_vs};
    use serde_json::json;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn each_edit_records_the_routes_it_replaced() {
        let before = split_vs();
        let mut after = before.clone();
        after["spec"]["http"][0]["route"][0]["weight"] = json!(90);
        let now = at(1_700_000_000).checked_add(jiff::SignedDuration::from_millis(250)).unwrap();
        record(&mut after, &before, "set-weight v1=90 v2=10".into(), now).unwrap();
        let history = read(&after).unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].revision, 1);
        assert_eq!(history[0].http, object::http(&before).unwrap());
        assert_eq!(history[0].time.to_string(), "2023-11-14T22:13:20Z");
        assert!(
            object::annotation(&after, ANNOTATION)
                .unwrap()
                .starts_with(r#"[{"revision":1,"time":"2023-11-14T22:13:20Z""#)
        );
    }

    #[test]
    fn history_keeps_the_last_ten() {
        let mut vs = split_vs();
        for i in 0..15 {
            let before = vs.clone();
            vs["spec"]["http"][0]["route"][0]["weight"] = json!(i);
            record(&mut vs, &before, format!("edit {i}"), at(1_700_000_000 + i)).unwrap();
        }
        let history = read(&vs).unwrap();
        let revisions: Vec<u32> = history.iter().map(|r| r.revision).collect();
        assert_eq!(revisions, (6..=15).collect::<Vec<_>>());
    }

    #[test]
    fn undo_restores_the_latest_or_a_chosen_revision() {
        let ctx = Context::build(&snapshot(split_vs(), &[("v1", 1), ("v2", 1)]), &request()).unwrap();
        let original = split_vs();
        let mut vs = original.clone();
        for (i, w) in [(1, 90), (2, 50)] {
            let before = vs.clone();
            vs["spec"]["http"][0]["route"][0]["weight"] = json!(w);
            record(&mut vs, &before, format!("edit {i}"), at(1_700_000_000 + i)).unwrap();
        }
        let mut latest = vs.clone();
        let summary = undo(&mut latest, None, &ctx).unwrap();
        assert_eq!(latest["spec"]["http"][0]["route"][0]["weight"], json!(90));
        assert_eq!(summary.message(true), "routes now as before revision 2 (2023-11-14T22:13:22Z, edit 2)");
        let mut first = vs.clone();
        undo(&mut first, Some(1), &ctx).unwrap();
        assert_eq!(first["spec"], original["spec"]);

        let err = undo(&mut vs, Some(7), &ctx).unwrap_err();
        assert!(
            err.to_string()
                .contains("no revision 7 in its vroute history; available: 1 (2023-11-14T22:13:21Z, edit 1); 2 ("),
            "{err}"
        );
        let mut fresh = split_vs();
        assert_eq!(
            undo(&mut fresh, None, &ctx),
            Err(EditError::NoHistory { vs: "VirtualService prod/reviews".into() })
        );
    }

    #[test]
    fn a_damaged_history_is_named_with_its_remedy() {
        let mut vs = split_vs();
        object::set_annotation(&mut vs, ANNOTATION, Some("[{".into()));
        let err = read(&vs).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("VirtualService prod/reviews: annotation vroute.kubectl.io/history is not valid"),
            "{err}"
        );
        assert!(
            err.to_string().contains("kubectl annotate virtualservice reviews vroute.kubectl.io/history-"),
            "{err}"
        );
    }
}
