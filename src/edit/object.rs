//! Small accessors over raw Kubernetes objects (`serde_json::Value`). Edits work on the object exactly as read
//! so that every field vroute does not model survives the round trip; these helpers keep that code short.

use super::EditError;
use crate::routes::host;
use serde_json::{Map, Value};

/// `VirtualService prod/reviews`, for messages.
pub fn describe(obj: &Value) -> String {
    let meta = &obj["metadata"];
    format!(
        "{} {}/{}",
        obj["kind"].as_str().unwrap_or("object"),
        meta["namespace"].as_str().unwrap_or_default(),
        meta["name"].as_str().unwrap_or_default()
    )
}

/// `spec.http` as a list (absent means no routes).
pub fn http(vs: &Value) -> Result<Vec<Value>, EditError> {
    match &vs["spec"]["http"] {
        Value::Null => Ok(Vec::new()),
        Value::Array(routes) if routes.iter().all(Value::is_object) => Ok(routes.clone()),
        _ => Err(EditError::Malformed {
            object: describe(vs),
            field: "spec.http".into(),
            reason: "is not a list of routes".into(),
        }),
    }
}

pub fn set_http(vs: &mut Value, http: Vec<Value>) {
    if let Some(spec) = object_mut(vs, "spec") {
        spec.insert("http".into(), Value::Array(http));
    }
}

/// `route "primary"`, or `route #2` for an unnamed one (the index `status` shows).
pub fn route_label(route: &Value, index: usize) -> String {
    match route["name"].as_str().filter(|n| !n.is_empty()) {
        Some(name) => format!("route {name:?}"),
        None => format!("route #{index}"),
    }
}

/// How `--route` and the versions annotation refer to a route: its name, or `#index`.
pub fn route_key(route: &Value, index: usize) -> String {
    route["name"].as_str().filter(|n| !n.is_empty()).map_or_else(|| format!("#{index}"), str::to_string)
}

pub fn route_names(http: &[Value]) -> Vec<Option<&str>> {
    http.iter().map(|r| r["name"].as_str()).collect()
}

/// A route with no match, or with an empty match block, takes every request that reaches it.
pub fn is_catch_all(route: &Value) -> bool {
    match route["match"].as_array() {
        None => true,
        Some(blocks) => blocks.is_empty() || blocks.iter().any(|m| m.as_object().is_some_and(Map::is_empty)),
    }
}

/// The destinations of a route (`route[]`), empty when absent.
pub fn destinations(route: &Value) -> &[Value] {
    route["route"].as_array().map(Vec::as_slice).unwrap_or_default()
}

/// Effective shares in percent, as Istio applies them: weights are relative and a lone destination gets all.
pub fn shares(route: &Value) -> Vec<f64> {
    let dests = destinations(route);
    if dests.len() == 1 {
        return vec![100.0];
    }
    let weights: Vec<f64> = dests.iter().map(|d| d["weight"].as_f64().unwrap_or(0.0).max(0.0)).collect();
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| if total == 0.0 { 0.0 } else { w * 100.0 / total }).collect()
}

/// `90`, or `33.3` when the share is not whole.
pub fn percent(share: f64) -> String {
    if (share - share.round()).abs() < 1e-9 { format!("{share:.0}") } else { format!("{share:.1}") }
}

/// `(resolved host, subset)` of a `destination` object, hosts resolved as Istio does in namespace `ns`.
pub fn destination_key(destination: &Value, ns: &str, domain: &str) -> (String, Option<String>) {
    let h = destination["host"].as_str().unwrap_or_default();
    (host::resolve(h, ns, domain), destination["subset"].as_str().map(str::to_string))
}

pub fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj["metadata"]["annotations"][key].as_str()
}

/// Sets or (with `None`) removes one annotation, leaving the others alone.
pub fn set_annotation(obj: &mut Value, key: &str, value: Option<String>) {
    let Some(meta) = object_mut(obj, "metadata") else { return };
    match value {
        Some(v) => {
            let annotations = meta.entry("annotations").or_insert_with(|| Value::Object(Map::new()));
            if !annotations.is_object() {
                *annotations = Value::Object(Map::new());
            }
            annotations[key] = Value::String(v);
        }
        None => {
            if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                annotations.remove(key);
            }
        }
    }
}

/// The object under `key`, created when absent.
fn object_mut<'a>(obj: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let map = obj.as_object_mut()?;
    let child = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    child.as_object_mut()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shares_are_relative_and_a_lone_destination_gets_everything() {
        let two = json!({"route": [{"weight": 1}, {"weight": 3}]});
        assert_eq!(shares(&two), vec![25.0, 75.0]);
        assert_eq!(shares(&json!({"route": [{"weight": 10}]})), vec![100.0]);
        assert_eq!(shares(&json!({"route": [{"weight": 0}, {}]})), vec![0.0, 0.0]);
        assert_eq!(percent(100.0 / 3.0), "33.3");
        assert_eq!(percent(90.0), "90");
    }

    #[test]
    fn catch_all_routes_have_no_or_an_empty_match() {
        assert!(is_catch_all(&json!({})));
        assert!(is_catch_all(&json!({"match": [{"uri": {"prefix": "/"}}, {}]})));
        assert!(!is_catch_all(&json!({"match": [{"sourceLabels": {"version": "v1"}}]})));
    }

    #[test]
    fn annotations_are_set_and_removed_without_touching_others() {
        let mut obj = json!({"metadata": {"name": "r", "annotations": {"keep": "me"}}});
        set_annotation(&mut obj, "k", Some("v".into()));
        assert_eq!(obj["metadata"]["annotations"], json!({"keep": "me", "k": "v"}));
        set_annotation(&mut obj, "k", None);
        assert_eq!(obj["metadata"]["annotations"], json!({"keep": "me"}));
        let mut bare = json!({"metadata": {"name": "r"}});
        set_annotation(&mut bare, "k", Some("v".into()));
        assert_eq!(annotation(&bare, "k"), Some("v"));
    }

    #[test]
    fn malformed_http_is_named() {
        let vs = json!({"kind": "VirtualService", "metadata": {"name": "r", "namespace": "p"}, "spec": {"http": 3}});
        let err = http(&vs).unwrap_err();
        assert_eq!(err.to_string(), "VirtualService p/r: spec.http is not a list of routes");
    }
}
