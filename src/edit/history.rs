//! The undo history, kept on the route object itself (a VirtualService, or an HTTPRoute) so that it travels
//! with the object, needs no other storage or permission, and is updated in the same guarded write as the edit
//! it records.
//!
//! Annotation `vroute.kubectl.io/history`: a JSON list, oldest first, of at most [`LIMIT`] revisions (an
//! HTTPRoute's revisions hold `rules`, its `spec.rules`, instead of `http`):
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
use super::object::{Annotated, Draft, RouteList};
use super::{EditError, Summary, guard, roles};
use crate::istio::HttpRoute;
use crate::objects::parse;
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
    /// A VirtualService's `spec.http` before the edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Vec<Value>>,
    /// An HTTPRoute's `spec.rules` before the edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<String>,
}

impl Revision {
    /// The routes recorded, under the name `A` keeps them (a revision of the other kind has none).
    pub fn routes<A: Annotated>(&self) -> Option<&[Value]> {
        match A::ROUTES {
            RouteList::Http => self.http.as_deref(),
            RouteList::Rules => self.rules.as_deref(),
        }
    }

    /// `3 (2025-05-01T10:00:00Z, set-weight v1=90 v2=10)`.
    fn describe(&self) -> String {
        format!("{} ({}, {})", self.revision, self.time, self.command)
    }
}

pub fn read(obj: &impl Annotated) -> Result<Vec<Revision>, EditError> {
    let Some(text) = obj.annotation(ANNOTATION) else { return Ok(Vec::new()) };
    serde_json::from_str(text).map_err(|e| damaged(obj, e.to_string()))
}

pub fn damaged(obj: &impl Annotated, why: String) -> EditError {
    EditError::Malformed {
        object: obj.label(),
        field: format!("annotation {ANNOTATION}"),
        reason: format!(
            "is not valid ({why}); remove it with `kubectl annotate {} {ANNOTATION}-` (this loses the undo history)",
            obj.kubectl_name()
        ),
    }
}

/// Appends to `after`'s history the routes of `before` (the object as read), as revision max+1.
pub fn record<A: Annotated>(after: &mut A, before: &A, command: String, now: Timestamp) -> Result<(), EditError> {
    let mut history = read(before)?;
    let revision = history.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
    let routes = Some(before.raw_routes());
    let (http, rules) = match A::ROUTES {
        RouteList::Http => (routes, None),
        RouteList::Rules => (None, routes),
    };
    history.push(Revision {
        revision,
        // Seconds are precise enough to tell edits apart by eye, and keep the annotation short.
        time: Timestamp::from_second(now.as_second()).unwrap_or(now),
        command,
        http,
        rules,
        versions: before.annotation(roles::ANNOTATION).map(str::to_string),
    });
    let excess = history.len().saturating_sub(LIMIT);
    history.drain(..excess);
    let mut text = serde_json::to_string(&history).expect("history serializes");
    while text.len() > MAX_BYTES && history.len() > 1 {
        history.remove(0);
        text = serde_json::to_string(&history).expect("history serializes");
    }
    after.set_annotation(ANNOTATION, Some(text));
    Ok(())
}

/// `undo`: brings back the routes (and recorded versions) from before revision `revision` (the latest when
/// `None`). Routes a Rollout manages keep their current content: the controller owns them, and its weights
/// have moved on since.
pub fn undo(vs: &mut Draft, revision: Option<u32>, ctx: &Context) -> Result<Summary, EditError> {
    let (entry, routes) = chosen(vs, revision)?;
    let current = vs.raw_http();
    let mut back = routes;
    let then_typed: Vec<HttpRoute> = parse::from_value(&Value::Array(back.clone()))
        .map_err(|e| damaged(vs, format!("revision {}: {e}", entry.revision)))?;
    for owner in &ctx.owners {
        let now = guard::claimed(owner, vs.http(), ctx);
        let then = guard::claimed(owner, &then_typed, ctx);
        if now.len() != then.len() {
            let routes = now.iter().map(|&i| vs.http()[i].label(i)).collect();
            let rollout = format!("{}/{}", owner.rollout_namespace, owner.rollout_name);
            return Err(EditError::RolloutRoutesChanged { vs: ctx.vs_label(), rollout, routes });
        }
        for (n, t) in now.into_iter().zip(then) {
            back[t] = current[n].clone();
        }
    }
    vs.set_http(back)?;
    vs.set_annotation(roles::ANNOTATION, entry.versions.clone());
    Ok(restored(&entry, "routes"))
}

/// The revision `undo` restores (the latest when `None`) and the routes it holds, or why there is none.
pub fn chosen<A: Annotated>(obj: &A, revision: Option<u32>) -> Result<(Revision, Vec<Value>), EditError> {
    let history = read(obj)?;
    let entry = match revision {
        None => history.last().ok_or_else(|| EditError::NoHistory { vs: obj.label() })?,
        Some(n) => history.iter().find(|r| r.revision == n).ok_or_else(|| EditError::UnknownRevision {
            vs: obj.label(),
            revision: n,
            available: history.iter().map(Revision::describe).collect(),
        })?,
    };
    let routes = entry.routes::<A>().ok_or_else(|| {
        damaged(obj, format!("revision {} holds no {} to restore", entry.revision, A::ROUTES.field()))
    })?;
    Ok((entry.clone(), routes.to_vec()))
}

/// The summary of an `undo` of `entry`.
pub fn restored(entry: &Revision, subject: &str) -> Summary {
    Summary { subject: subject.into(), state: format!("as before revision {}", entry.describe()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::context::tests::{on, request, snapshot, split_vs};
    use serde_json::json;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    fn draft(obj: &Value) -> Draft {
        Draft::new(obj).unwrap()
    }

    /// `obj` with route 0's first weight set to `w`, recorded as `command` at `time`.
    fn edited(obj: &Value, w: i64, command: &str, time: Timestamp) -> Value {
        let mut new = obj.clone();
        new["spec"]["http"][0]["route"][0]["weight"] = json!(w);
        let mut after = draft(&new);
        record(&mut after, &draft(obj), command.into(), time).unwrap();
        after.into_raw()
    }

    #[test]
    fn each_edit_records_the_routes_it_replaced() {
        let before = split_vs();
        let now = at(1_700_000_000).checked_add(jiff::SignedDuration::from_millis(250)).unwrap();
        let after = draft(&edited(&before, 90, "set-weight v1=90 v2=10", now));
        let history = read(&after).unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].revision, 1);
        assert_eq!(history[0].http, Some(draft(&before).raw_http()));
        assert_eq!(history[0].rules, None);
        assert_eq!(history[0].time.to_string(), "2023-11-14T22:13:20Z");
        assert!(after.annotation(ANNOTATION).unwrap().starts_with(r#"[{"revision":1,"time":"2023-11-14T22:13:20Z""#));
    }

    #[test]
    fn history_keeps_the_last_ten() {
        let mut vs = split_vs();
        for i in 0..15 {
            vs = edited(&vs, i, &format!("edit {i}"), at(1_700_000_000 + i));
        }
        let revisions: Vec<u32> = read(&draft(&vs)).unwrap().iter().map(|r| r.revision).collect();
        assert_eq!(revisions, (6..=15).collect::<Vec<_>>());
    }

    #[test]
    fn undo_restores_the_latest_or_a_chosen_revision() {
        let ctx = Context::build(&snapshot(split_vs(), &[("v1", 1), ("v2", 1)]), &request()).unwrap();
        let original = split_vs();
        let mut vs = original.clone();
        for (i, w) in [(1, 90), (2, 50)] {
            vs = edited(&vs, w, &format!("edit {i}"), at(1_700_000_000 + i));
        }
        let mut latest = vs.clone();
        let summary = on(&mut latest, |d| undo(d, None, &ctx)).unwrap();
        assert_eq!(latest["spec"]["http"][0]["route"][0]["weight"], json!(90));
        assert_eq!(summary.message(true), "routes now as before revision 2 (2023-11-14T22:13:22Z, edit 2)");
        let mut first = vs.clone();
        on(&mut first, |d| undo(d, Some(1), &ctx)).unwrap();
        assert_eq!(first["spec"], original["spec"]);

        let err = on(&mut vs, |d| undo(d, Some(7), &ctx)).unwrap_err();
        assert!(
            err.to_string()
                .contains("no revision 7 in its vroute history; available: 1 (2023-11-14T22:13:21Z, edit 1); 2 ("),
            "{err}"
        );
        let mut fresh = split_vs();
        assert_eq!(
            on(&mut fresh, |d| undo(d, None, &ctx)),
            Err(EditError::NoHistory { vs: "VirtualService prod/reviews".into() })
        );
    }

    #[test]
    fn a_damaged_history_is_named_with_its_remedy() {
        let mut vs = draft(&split_vs());
        vs.set_annotation(ANNOTATION, Some("[{".into()));
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
