//! Which version of a route is the stable one and which the canary, recorded by `set-weight`, `switch`, `promote` and `abort` so
//! that promote/abort on a plain VirtualService (no Rollout) know where "forward" and "back" are.
//!
//! Annotation `vroute.kubectl.io/versions` on the VirtualService: a JSON object keyed by route (its name, or
//! `#index` when unnamed), each value `{"stable": VERSION, "canary": VERSION}` (`canary` absent when the route
//! sends everything to one version and never had another). Versions are named as `status` names them.
//! Example: `{"primary":{"stable":"v1","canary":"v2"}}`.
//!
//! - A recorded pair is kept as long as both versions are still destinations of the route: shifting 10% ->
//!   50% -> 100% to the canary, or switching back, does not swap the roles.
//! - Otherwise the stable version is the one that had the largest share BEFORE the edit (the incumbent), and
//!   the canary the other version with the largest share after it.

use super::EditError;
use super::object::Annotated;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const ANNOTATION: &str = "vroute.kubectl.io/versions";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    pub stable: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<String>,
}

/// The recorded roles of every route.
pub fn read(obj: &impl Annotated) -> Result<BTreeMap<String, Roles>, EditError> {
    let Some(text) = obj.annotation(ANNOTATION) else { return Ok(BTreeMap::new()) };
    serde_json::from_str(text).map_err(|e| EditError::Malformed {
        object: obj.label(),
        field: format!("annotation {ANNOTATION}"),
        reason: format!("is not valid ({e}); remove it with `kubectl annotate {} {ANNOTATION}-`", obj.kubectl_name()),
    })
}

/// Records the roles of route `key` after its split went from `before` to `after` (`(version, share %)`).
pub fn record(
    vs: &mut impl Annotated,
    key: &str,
    before: &[(String, f64)],
    after: &[(String, f64)],
) -> Result<(), EditError> {
    let previous = read(vs)?.remove(key);
    remember(vs, key, decide(previous.as_ref(), before, after))
}

/// Records `roles` for route `key`, keeping the other routes' roles.
pub fn remember(vs: &mut impl Annotated, key: &str, roles: Roles) -> Result<(), EditError> {
    let mut all = read(vs)?;
    all.insert(key.to_string(), roles);
    let text = serde_json::to_string(&all).expect("roles serialize");
    vs.set_annotation(ANNOTATION, Some(text));
    Ok(())
}

fn decide(previous: Option<&Roles>, before: &[(String, f64)], after: &[(String, f64)]) -> Roles {
    let present = |name: &str| after.iter().any(|(n, _)| n == name);
    if let Some(p) = previous.filter(|p| present(&p.stable) && p.canary.as_deref().is_none_or(present)) {
        return p.clone();
    }
    let stable = largest(before.iter()).or_else(|| largest(after.iter())).unwrap_or_default();
    let canary = largest(after.iter().filter(|(n, s)| *n != stable && *s > 0.0));
    Roles { stable, canary }
}

/// The version with the largest share; the first one on ties.
fn largest<'a>(shares: impl Iterator<Item = &'a (String, f64)>) -> Option<String> {
    shares
        .fold(None::<&(String, f64)>, |best, s| if best.is_none_or(|b| s.1 > b.1) { Some(s) } else { best })
        .map(|(n, _)| n.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::object::Draft;
    use serde_json::json;

    fn shares(list: &[(&str, f64)]) -> Vec<(String, f64)> {
        list.iter().map(|(n, s)| (n.to_string(), *s)).collect()
    }

    #[test]
    fn the_incumbent_is_stable_and_the_newcomer_canary() {
        let roles = decide(None, &shares(&[("v1", 100.0)]), &shares(&[("v1", 90.0), ("v2", 10.0)]));
        assert_eq!(roles, Roles { stable: "v1".into(), canary: Some("v2".into()) });
        let cut_over = decide(None, &shares(&[("v1", 100.0), ("v2", 0.0)]), &shares(&[("v1", 0.0), ("v2", 100.0)]));
        assert_eq!(cut_over, Roles { stable: "v1".into(), canary: Some("v2".into()) });
        let alone = decide(None, &shares(&[("v1", 100.0)]), &shares(&[("v1", 100.0)]));
        assert_eq!(alone, Roles { stable: "v1".into(), canary: None });
    }

    #[test]
    fn recorded_roles_stick_while_both_versions_stay() {
        let recorded = Roles { stable: "v1".into(), canary: Some("v2".into()) };
        let later =
            decide(Some(&recorded), &shares(&[("v1", 10.0), ("v2", 90.0)]), &shares(&[("v1", 0.0), ("v2", 100.0)]));
        assert_eq!(later, recorded);
        let replaced = decide(Some(&recorded), &shares(&[("v2", 100.0)]), &shares(&[("v2", 80.0), ("v3", 20.0)]));
        assert_eq!(replaced, Roles { stable: "v2".into(), canary: Some("v3".into()) });
    }

    #[test]
    fn the_annotation_is_a_json_object_per_route() {
        let mut vs = Draft::new(
            &json!({"metadata": {"name": "reviews", "annotations": {ANNOTATION: "{\"other\":{\"stable\":\"a\"}}"}}}),
        )
        .unwrap();
        record(&mut vs, "primary", &shares(&[("v1", 100.0)]), &shares(&[("v1", 50.0), ("v2", 50.0)])).unwrap();
        assert_eq!(
            vs.annotation(ANNOTATION),
            Some(r#"{"other":{"stable":"a"},"primary":{"stable":"v1","canary":"v2"}}"#)
        );
        let mut broken = Draft::new(&json!({"kind": "VirtualService", "metadata": {"name": "reviews", "namespace": "p", "annotations": {ANNOTATION: "nope"}}})).unwrap();
        let err = record(&mut broken, "primary", &[], &[]).unwrap_err();
        assert!(
            err.to_string().contains("kubectl annotate virtualservice reviews vroute.kubectl.io/versions-"),
            "{err}"
        );
    }
}
