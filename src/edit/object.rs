//! The object an edit transforms: decisions are made on its typed view ([`VirtualService`], with the Istio
//! semantics of [`crate::istio::route`]); changes are written into the object exactly as read, so every field
//! vroute does not model survives the round trip. After each write the view is read again from the object, so
//! the next decision sees what will be stored.

use super::EditError;
use crate::istio::VirtualService;
use crate::objects::parse;
use serde_json::{Map, Value};

/// A VirtualService being edited.
#[derive(Clone, Debug)]
pub struct Draft {
    raw: Value,
    view: VirtualService,
}

impl Draft {
    pub fn new(raw: &Value) -> Result<Draft, EditError> {
        let view = read(raw)?;
        Ok(Draft { raw: raw.clone(), view })
    }

    pub fn view(&self) -> &VirtualService {
        &self.view
    }

    pub fn http(&self) -> &[crate::istio::HttpRoute] {
        &self.view.spec.http
    }

    pub fn raw(&self) -> &Value {
        &self.raw
    }

    pub fn into_raw(self) -> Value {
        self.raw
    }

    /// `spec.http` exactly as written (empty when absent).
    pub fn raw_http(&self) -> Vec<Value> {
        self.raw["spec"]["http"].as_array().cloned().unwrap_or_default()
    }

    /// Replaces `spec.http` and reads the view again; routes that do not read as routes are refused.
    pub fn set_http(&mut self, http: Vec<Value>) -> Result<(), EditError> {
        if let Some(spec) = object_mut(&mut self.raw, "spec") {
            spec.insert("http".into(), Value::Array(http));
        }
        self.view = read(&self.raw)?;
        Ok(())
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.view.metadata.annotations.get(key).map(String::as_str)
    }

    /// Sets or (with `None`) removes one annotation, leaving the others alone.
    pub fn set_annotation(&mut self, key: &str, value: Option<String>) {
        set_annotation(&mut self.raw, key, value.clone());
        match value {
            Some(v) => self.view.metadata.annotations.insert(key.to_string(), v),
            None => self.view.metadata.annotations.remove(key),
        };
    }

    /// `VirtualService prod/reviews`, for messages.
    pub fn label(&self) -> String {
        self.view.reference().label()
    }
}

/// A route object being edited, as the records vroute keeps on it (the undo history, the versions' roles)
/// see it: a VirtualService with its `spec.http`, or an HTTPRoute with its `spec.rules`.
pub trait Annotated {
    /// Which list holds the routes (and which field of a history revision records them).
    const ROUTES: RouteList;
    fn annotation(&self, key: &str) -> Option<&str>;
    fn set_annotation(&mut self, key: &str, value: Option<String>);
    /// `VirtualService prod/reviews`, for messages.
    fn label(&self) -> String;
    /// `virtualservice reviews`, as `kubectl annotate` takes it.
    fn kubectl_name(&self) -> String;
    /// The routes exactly as written (empty when absent).
    fn raw_routes(&self) -> Vec<Value>;
}

/// A route object's list of routes: a VirtualService's `spec.http`, an HTTPRoute's `spec.rules`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteList {
    Http,
    Rules,
}

impl RouteList {
    /// The spec field, as messages name it.
    pub fn field(self) -> &'static str {
        match self {
            RouteList::Http => "http",
            RouteList::Rules => "rules",
        }
    }
}

impl Annotated for Draft {
    const ROUTES: RouteList = RouteList::Http;
    fn annotation(&self, key: &str) -> Option<&str> {
        Draft::annotation(self, key)
    }
    fn set_annotation(&mut self, key: &str, value: Option<String>) {
        Draft::set_annotation(self, key, value)
    }
    fn label(&self) -> String {
        Draft::label(self)
    }
    fn kubectl_name(&self) -> String {
        format!("virtualservice {}", self.view.metadata.name)
    }
    fn raw_routes(&self) -> Vec<Value> {
        self.raw_http()
    }
}

/// The typed view of a VirtualService as read, or a refusal naming the field that does not read.
pub fn read(raw: &Value) -> Result<VirtualService, EditError> {
    typed(raw)
}

/// The typed view of any object as read, or a refusal naming the field that does not read.
pub fn typed<T: serde::de::DeserializeOwned>(raw: &Value) -> Result<T, EditError> {
    parse::from_value(raw).map_err(|e| EditError::Malformed {
        object: describe(raw),
        field: if e.path.is_empty() { "the object".into() } else { e.path },
        reason: format!("cannot be read: {}", e.message),
    })
}

/// `VirtualService prod/reviews` of an object as read, for messages.
pub fn describe(obj: &Value) -> String {
    let meta = &obj["metadata"];
    format!(
        "{} {}/{}",
        obj["kind"].as_str().unwrap_or("object"),
        meta["namespace"].as_str().unwrap_or_default(),
        meta["name"].as_str().unwrap_or_default()
    )
}

/// Sets or (with `None`) removes one annotation of an object as read, leaving the others alone.
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
    fn annotations_are_set_and_removed_without_touching_others() {
        let mut obj = json!({"metadata": {"name": "r", "annotations": {"keep": "me"}}});
        set_annotation(&mut obj, "k", Some("v".into()));
        assert_eq!(obj["metadata"]["annotations"], json!({"keep": "me", "k": "v"}));
        set_annotation(&mut obj, "k", None);
        assert_eq!(obj["metadata"]["annotations"], json!({"keep": "me"}));
        let mut draft = Draft::new(&json!({"kind": "VirtualService", "metadata": {"name": "r"}})).unwrap();
        draft.set_annotation("k", Some("v".into()));
        assert_eq!(draft.annotation("k"), Some("v"));
        assert_eq!(draft.raw()["metadata"]["annotations"], json!({"k": "v"}));
    }

    #[test]
    fn malformed_routes_are_named_with_their_field() {
        let vs = json!({"kind": "VirtualService", "metadata": {"name": "r", "namespace": "p"}, "spec": {"http": 3}});
        let err = Draft::new(&vs).unwrap_err();
        assert_eq!(
            err.to_string(),
            "VirtualService p/r: spec.http cannot be read: invalid type: integer `3`, expected a sequence"
        );
        let vs = json!({"kind": "VirtualService", "metadata": {"name": "r", "namespace": "p"},
                        "spec": {"http": [{"route": [{"weight": "ten"}]}]}});
        assert!(Draft::new(&vs).unwrap_err().to_string().contains("spec.http[0].route[0].weight"));
    }
}
