//! Labels and selectors as a small sorted map.
//!
//! Objects carry a handful of labels, and the model holds tens of thousands of label sets (every Service's
//! selector, every subset's labels, every group of pods). A `BTreeMap` allocates a node of eleven slots
//! (540 bytes for `String` pairs) for even one label; a sorted vector holds exactly what is there.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt;

/// `key -> value`, sorted by key, each key once (the last one read wins, as for a JSON object).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    pub const fn new() -> Self {
        Labels(Vec::new())
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key`, returning the value it replaced.
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &String)> + DoubleEndedIterator {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }
}

impl FromIterator<(String, String)> for Labels {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut labels = Labels::new();
        for (k, v) in iter {
            labels.insert(k, v);
        }
        labels.0.shrink_to_fit();
        labels
    }
}

impl<const N: usize> From<[(String, String); N]> for Labels {
    fn from(pairs: [(String, String); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = (&'a String, &'a String);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (String, String)>, fn(&'a (String, String)) -> Self::Item>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Labels;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of strings to strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Labels, A::Error> {
                let mut pairs: Vec<(String, String)> = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                // Sorted stably, then the last of equal keys kept: what a map built entry by entry holds.
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                let mut labels: Vec<(String, String)> = Vec::with_capacity(pairs.len());
                for pair in pairs {
                    match labels.last_mut() {
                        Some(last) if last.0 == pair.0 => *last = pair,
                        _ => labels.push(pair),
                    }
                }
                labels.shrink_to_fit();
                Ok(Labels(labels))
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_a_map_and_looks_up_by_key() {
        let labels: Labels = serde_json::from_str(r#"{"version": "v1", "app": "r", "app": "s"}"#).unwrap();
        assert_eq!(labels.len(), 2);
        assert_eq!(labels.get("app").map(String::as_str), Some("s"), "the last of a repeated key");
        assert_eq!(labels.keys().collect::<Vec<_>>(), ["app", "version"]);
        assert_eq!(serde_json::to_string(&labels).unwrap(), r#"{"app":"s","version":"v1"}"#);
        let mut more = labels.clone();
        assert_eq!(more.insert("tier".into(), "web".into()), None);
        assert_eq!(more.insert("app".into(), "t".into()).as_deref(), Some("s"));
        assert!(more.contains_key("tier") && !labels.contains_key("tier"));
        assert_eq!(Labels::from([("b".into(), "2".into()), ("a".into(), "1".into())]).keys().next().unwrap(), "a");
    }
}
