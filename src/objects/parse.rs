//! Reading typed views, naming the field at fault when it fails (`spec.strategy.canary.steps[1].setWeight`),
//! with `serde_path_to_error` doing the path tracking.
//!
//! `null` means "absent" for every field marked [`nullable`], as Go's `encoding/json` (which the API server and
//! the Argo tooling use) leaves the zero value for a `null`; YAML's empty value (`pause:`) is a `null` too.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Why a document could not be read as a typed view: the dotted path of the offending value (empty for the
/// document itself) and serde's description of the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() { f.write_str(&self.message) } else { write!(f, "{}: {}", self.path, self.message) }
    }
}

impl std::error::Error for FieldError {}

/// `T` from a JSON text (an item of a list response).
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, FieldError> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // serde_json appends the position in the text; the field path says more, and the text is not shown.
        let mut message = inner.to_string();
        let position = format!(" at line {} column {}", inner.line(), inner.column());
        if let Some(stripped) = message.strip_suffix(&position) {
            message = stripped.to_string();
        }
        FieldError { path: clean(path), message }
    })
}

/// `T` from a JSON value (a document of a manifest file).
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| FieldError { path: clean(e.path().to_string()), message: e.into_inner().to_string() })
}

/// serde_path_to_error writes `.` for the document itself.
fn clean(path: String) -> String {
    if path == "." { String::new() } else { path }
}

/// A field whose `null` means its default: `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Doc {
        #[serde(deserialize_with = "nullable")]
        items: Vec<Item>,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Item {
        weight: i32,
    }

    #[test]
    fn errors_name_the_field_in_text_and_in_values() {
        let text = r#"{"items": [{"weight": 1}, {"weight": 99999999999}]}"#;
        let err = from_str::<Doc>(text).unwrap_err();
        assert_eq!(err.path, "items[1].weight");
        assert_eq!(err.to_string(), "items[1].weight: invalid value: integer `99999999999`, expected i32");
        let err = from_value::<Doc>(&json!({"items": [{"weight": "x"}]})).unwrap_err();
        assert_eq!(err.to_string(), "items[0].weight: invalid type: string \"x\", expected i32");
        assert_eq!(from_value::<Doc>(&json!(3)).unwrap_err().path, "");
    }

    #[test]
    fn null_is_the_default() {
        assert_eq!(from_value::<Doc>(&json!({"items": null})), Ok(Doc::default()));
    }
}

/// A value both typed (to decide on) and exactly as written (to show).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AsWritten<T> {
    pub typed: T,
    pub raw: Value,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for AsWritten<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(deserializer)?;
        let typed = T::deserialize(&raw).map_err(D::Error::custom)?;
        Ok(AsWritten { typed, raw })
    }
}

/// Shown as written.
impl<T> Serialize for AsWritten<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}
