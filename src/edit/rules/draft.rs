//! The HTTPRoute an edit transforms: decisions are made on its typed view ([`HttpRoute`], with the Gateway API
//! semantics of [`crate::gateway::route`]); changes are written into the object exactly as read, so every field
//! vroute does not model (filters, matches, timeouts, unknown keys) survives the round trip.

use crate::edit::EditError;
use crate::edit::object::{self, Annotated, RouteList};
use crate::gateway::objects::{HttpRoute, Rule};
use serde_json::Value;

#[derive(Clone, Debug)]
pub struct RouteDraft {
    raw: Value,
    view: HttpRoute,
}

impl RouteDraft {
    pub fn new(raw: &Value) -> Result<RouteDraft, EditError> {
        Ok(RouteDraft { view: read(raw)?, raw: raw.clone() })
    }

    pub fn view(&self) -> &HttpRoute {
        &self.view
    }

    pub fn rules(&self) -> &[Rule] {
        &self.view.spec.rules
    }

    pub fn into_raw(self) -> Value {
        self.raw
    }

    /// `spec.rules` exactly as written (empty when absent).
    pub fn raw_rules(&self) -> Vec<Value> {
        self.raw["spec"]["rules"].as_array().cloned().unwrap_or_default()
    }

    /// Replaces `spec.rules` and reads the view again.
    pub fn set_rules(&mut self, rules: Vec<Value>) -> Result<(), EditError> {
        if let Some(spec) = self.raw.as_object_mut().and_then(|o| o.get_mut("spec")).and_then(Value::as_object_mut) {
            spec.insert("rules".into(), Value::Array(rules));
        }
        self.view = read(&self.raw)?;
        Ok(())
    }
}

impl Annotated for RouteDraft {
    const ROUTES: RouteList = RouteList::Rules;

    fn annotation(&self, key: &str) -> Option<&str> {
        self.view.metadata.annotations.get(key).map(String::as_str)
    }

    fn set_annotation(&mut self, key: &str, value: Option<String>) {
        object::set_annotation(&mut self.raw, key, value.clone());
        match value {
            Some(v) => self.view.metadata.annotations.insert(key.to_string(), v),
            None => self.view.metadata.annotations.remove(key),
        };
    }

    fn label(&self) -> String {
        self.view.reference().label()
    }

    fn kubectl_name(&self) -> String {
        format!("httproute {}", self.view.metadata.name)
    }

    fn raw_routes(&self) -> Vec<Value> {
        self.raw_rules()
    }
}

fn read(raw: &Value) -> Result<HttpRoute, EditError> {
    object::typed(raw)
}
