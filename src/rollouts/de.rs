//! Deserialize a typed view out of a borrowed `serde_json::Value`, remembering WHERE it failed.
//!
//! `serde_json::from_value` says what was wrong ("invalid type: string \"x\", expected i32") but not where; for
//! a Rollout read from the API server or from a file, the field path is what the user needs to fix it. This
//! deserializer hands the derive-generated visitors the same calls `serde_json::Value`'s own deserializer would,
//! tracks the path on the stack, and records the path of the innermost value whose visitor failed.
//!
//! It also drops object entries whose value is `null`, so a `null` field takes its `#[serde(default)]`: Go's
//! `encoding/json`, which the Argo Rollouts tooling uses, treats `null` as "leave the zero value" for every type.

use serde::de::value::{Error, StrDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::cell::RefCell;
use std::fmt;

/// Where a value sits in the document, as a chain of borrowed segments: nothing is allocated unless an error is
/// reported.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, key) => write!(f, "{key}"),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// A deserialization failure: the dotted path of the offending value (`spec.strategy.canary.steps[1].setWeight`,
/// empty for the document itself) and serde's description of the problem.
#[derive(Debug)]
pub(crate) struct PathError {
    pub path: String,
    pub message: String,
}

/// Deserialize `T` from `value`, naming the field on failure.
pub(crate) fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, PathError> {
    let failed_at = RefCell::new(None);
    T::deserialize(Tracked { value, path: Path::Root, failed_at: &failed_at })
        .map_err(|error| PathError { path: failed_at.take().unwrap_or_default(), message: error.to_string() })
}

struct Tracked<'v, 'p> {
    value: &'v Value,
    path: Path<'p>,
    /// The path of the first (innermost) failure; outer frames see it already set and leave it alone.
    failed_at: &'p RefCell<Option<String>>,
}

impl Tracked<'_, '_> {
    fn record<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        if result.is_err() && self.failed_at.borrow().is_none() {
            *self.failed_at.borrow_mut() = Some(self.path.to_string());
        }
        result
    }
}

impl<'de> de::Deserializer<'de> for Tracked<'_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (None, Some(i), _) => visitor.visit_i64(i),
                (None, None, Some(f)) => visitor.visit_f64(f),
                (None, None, None) => Err(de::Error::custom(format!("unrepresentable number {n}"))),
            },
            Value::String(s) => visitor.visit_str(s),
            Value::Array(items) => visitor.visit_seq(Items {
                items: items.iter().enumerate(),
                path: &self.path,
                failed_at: self.failed_at,
            }),
            Value::Object(map) => visitor.visit_map(Entries {
                entries: map.iter().filter(|(_, v)| !v.is_null()),
                pending: None,
                path: &self.path,
                failed_at: self.failed_at,
            }),
        };
        self.record(result)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.value.is_null() {
            let result = visitor.visit_none();
            self.record(result)
        } else {
            visitor.visit_some(self)
        }
    }

    /// Derived structs also accept a sequence of their fields in order; Go's `encoding/json` does not, and a
    /// list where an object belongs is a mistake worth naming.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if self.value.is_array() {
            let result = Err(de::Error::invalid_type(de::Unexpected::Seq, &visitor));
            self.record(result)
        } else {
            self.deserialize_any(visitor)
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit unit_struct
        newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

struct Items<'v, 'p, I: Iterator<Item = (usize, &'v Value)>> {
    items: I,
    path: &'p Path<'p>,
    failed_at: &'p RefCell<Option<String>>,
}

impl<'de, 'v, I: Iterator<Item = (usize, &'v Value)>> SeqAccess<'de> for Items<'v, '_, I> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, Error> {
        let Some((index, value)) = self.items.next() else { return Ok(None) };
        let path = Path::Index(self.path, index);
        seed.deserialize(Tracked { value, path, failed_at: self.failed_at }).map(Some)
    }
}

struct Entries<'v, 'p, I: Iterator<Item = (&'v String, &'v Value)>> {
    entries: I,
    /// The entry whose key was just handed out; its value comes next.
    pending: Option<(&'v String, &'v Value)>,
    path: &'p Path<'p>,
    failed_at: &'p RefCell<Option<String>>,
}

impl<'de, 'v, I: Iterator<Item = (&'v String, &'v Value)>> MapAccess<'de> for Entries<'v, '_, I> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        self.pending = Some((key, value));
        seed.deserialize(StrDeserializer::<Error>::new(key)).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        let (key, value) = self.pending.take().ok_or_else(|| de::Error::custom("value requested before its key"))?;
        let path = Path::Key(self.path, key);
        seed.deserialize(Tracked { value, path, failed_at: self.failed_at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, rename_all = "camelCase")]
    struct Outer {
        name: String,
        inner: Option<Inner>,
        items: Vec<Inner>,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, rename_all = "camelCase")]
    struct Inner {
        set_weight: Option<i32>,
        flag: bool,
    }

    #[test]
    fn reads_nested_values_and_ignores_unknown_fields() {
        let value = json!({"name": "x", "unknown": {"deep": [1, 2]}, "inner": {"setWeight": 20},
                           "items": [{"flag": true}]});
        let outer: Outer = from_value(&value).expect("parses");
        assert_eq!(
            outer,
            Outer {
                name: "x".into(),
                inner: Some(Inner { set_weight: Some(20), flag: false }),
                items: vec![Inner { set_weight: None, flag: true }],
            }
        );
    }

    #[test]
    fn null_fields_take_their_default_like_go() {
        let value = json!({"name": null, "inner": null, "items": [{"flag": null, "setWeight": null}]});
        let outer: Outer = from_value(&value).expect("parses");
        assert_eq!(outer, Outer { name: String::new(), inner: None, items: vec![Inner::default()] });
    }

    #[test]
    fn names_the_innermost_failing_field() {
        let value = json!({"items": [{"flag": true}, {"setWeight": "twenty"}]});
        let error = from_value::<Outer>(&value).expect_err("wrong type");
        assert_eq!(error.path, "items[1].setWeight");
        assert!(error.message.contains("expected i32"), "{}", error.message);
    }

    #[test]
    fn names_a_container_of_the_wrong_shape() {
        let error = from_value::<Outer>(&json!({"inner": [1]})).expect_err("wrong type");
        assert_eq!(error.path, "inner");
        assert!(error.message.contains("expected struct Inner"), "{}", error.message);
        let error = from_value::<Outer>(&json!({"items": [{}, "x"]})).expect_err("wrong type");
        assert_eq!(error.path, "items[1]");
        let error = from_value::<Outer>(&json!("not an object")).expect_err("wrong type");
        assert_eq!(error.path, "");
    }

    #[test]
    fn out_of_range_numbers_are_errors() {
        let error = from_value::<Outer>(&json!({"inner": {"setWeight": 5_000_000_000_i64}})).expect_err("range");
        assert_eq!(error.path, "inner.setWeight");
    }
}
