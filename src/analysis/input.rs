//! Request parameters as they arrive, before validation: from a query string, or from a JSON body whose values
//! Argo Rollouts templates as strings (`"alpha": "0.05"`) or a person writes as numbers (`"alpha": 0.05`).

use super::error::RequestError;
use serde_json::Value;
use std::collections::BTreeMap;

/// Parameter name -> text. Empty values count as absent: Argo substitutes `""` for an argument left at its
/// default (the templates' `rollout: ""`), and `{{args.x}}` in a URL becomes `x=`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawParams(BTreeMap<String, String>);

impl RawParams {
    /// From `name=value` pairs; a name given twice is refused (which one was meant?).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Result<Self, RequestError> {
        let mut params = RawParams::default();
        for (name, value) in pairs {
            params.insert(name, value)?;
        }
        Ok(params)
    }

    /// From a JSON object whose values are strings, numbers, booleans or null (absent).
    pub fn from_json(body: &[u8]) -> Result<Self, RequestError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| RequestError::new("body", format!("not valid JSON: {e}")))?;
        let Value::Object(fields) = value else {
            return Err(RequestError::new("body", "expected a JSON object of parameters"));
        };
        let mut params = RawParams::default();
        for (name, value) in fields {
            let text = match value {
                Value::Null => continue,
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Array(_) | Value::Object(_) => {
                    return Err(RequestError::new(&name, "expected a string or a number"));
                }
            };
            params.insert(name, text)?;
        }
        Ok(params)
    }

    /// Both sets together (a POST may carry parameters in its URL too); a name in both is refused.
    pub fn merge(mut self, other: RawParams) -> Result<Self, RequestError> {
        for (name, value) in other.0 {
            self.insert(name, value)?;
        }
        Ok(self)
    }

    fn insert(&mut self, name: String, value: String) -> Result<(), RequestError> {
        if self.0.contains_key(&name) {
            return Err(RequestError::new(&name, "given more than once"));
        }
        self.0.insert(name, value);
        Ok(())
    }

    /// The non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// The first parameter whose name is not in `known`.
    pub fn unknown(&self, known: &[&str]) -> Option<&str> {
        self.0.keys().map(String::as_str).find(|name| !known.contains(name))
    }

    /// Adds a parameter (for callers that build requests from flags).
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.0.insert(name.to_string(), value.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str, value: &str) -> (String, String) {
        (name.to_string(), value.to_string())
    }

    #[test]
    fn json_values_may_be_strings_numbers_or_null() {
        let params =
            RawParams::from_json(br#"{"alpha": "0.05", "margin": 0.2, "rollout": null, "x": true}"#).expect("valid");
        assert_eq!(params.get("alpha"), Some("0.05"));
        assert_eq!(params.get("margin"), Some("0.2"));
        assert_eq!(params.get("rollout"), None);
        assert_eq!(params.get("x"), Some("true"));
    }

    #[test]
    fn malformed_bodies_name_what_is_wrong() {
        assert_eq!(RawParams::from_json(b"[1]").unwrap_err().field, "body");
        assert_eq!(RawParams::from_json(b"{").unwrap_err().field, "body");
        assert_eq!(RawParams::from_json(br#"{"canary": ["v2"]}"#).unwrap_err().field, "canary");
    }

    #[test]
    fn a_parameter_given_twice_is_refused() {
        let err = RawParams::from_pairs([pair("canary", "v2"), pair("canary", "v3")]).unwrap_err();
        assert_eq!(err.field, "canary");
        let query = RawParams::from_pairs([pair("alpha", "0.1")]).unwrap();
        let body = RawParams::from_json(br#"{"alpha": 0.1}"#).unwrap();
        assert_eq!(query.merge(body).unwrap_err().field, "alpha");
    }

    #[test]
    fn empty_values_are_absent_and_unknown_names_are_found() {
        let params = RawParams::from_pairs([pair("rollout", ""), pair("canaryy", "v2")]).unwrap();
        assert_eq!(params.get("rollout"), None);
        assert_eq!(params.unknown(&["rollout", "canary"]), Some("canaryy"));
    }
}
