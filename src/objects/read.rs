//! Reading a list response item by item: each item becomes its typed view, or an [`Unreadable`] entry that
//! names the object and the field at fault. One bad object never hides the others, and is never dropped.

use super::k8s::{Namespace, Pod, ReplicaSet, Service};
use super::meta::{Kind, ObjectRef};
use super::parse::{self, FieldError};
use super::snapshot::Unreadable;
use super::stream;
pub use super::stream::NotAList;
use crate::gateway::{Gateway, HttpRoute, ReferenceGrant};
use crate::istio::{DestinationRule, VirtualService};
use crate::rollouts::{ParseError, Rollout, routing};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A kind the snapshot reads.
pub trait Readable: Sized + DeserializeOwned {
    const KIND: Kind;

    fn read(text: &str) -> Result<Self, FieldError>;

    /// Checks a view read without error tracking (the fast path of [`item`]); `false` reads the item again
    /// through [`Readable::read`], which names the field at fault.
    fn valid(&self) -> bool {
        true
    }

    /// Gives back the spare capacity of the lists just read: a decoded list grows by doubling (a VirtualService
    /// with one route holds room for four), and the snapshot keeps tens of thousands of objects.
    fn compact(&mut self) {}

    /// What a Rollout that cannot be read whole still says about the routes it owns.
    fn salvage(_text: &str) -> Option<Rollout> {
        None
    }
}

macro_rules! readable {
    ($($type:ty => $kind:expr),*) => {$(
        impl Readable for $type {
            const KIND: Kind = $kind;
            fn read(text: &str) -> Result<Self, FieldError> {
                parse::from_str(text)
            }
        }
    )*};
}

readable!(Service => Kind::Service, Pod => Kind::Pod, ReplicaSet => Kind::ReplicaSet,
          HttpRoute => Kind::HttpRoute, Gateway => Kind::Gateway, ReferenceGrant => Kind::ReferenceGrant,
          Namespace => Kind::Namespace);

impl Readable for VirtualService {
    const KIND: Kind = Kind::VirtualService;

    fn read(text: &str) -> Result<Self, FieldError> {
        parse::from_str(text)
    }

    fn compact(&mut self) {
        let spec = &mut self.spec;
        for list in [&mut spec.hosts, &mut spec.gateways, &mut spec.export_to] {
            list.shrink_to_fit();
        }
        spec.http.shrink_to_fit();
        for route in &mut spec.http {
            route.matches.shrink_to_fit();
            route.route.shrink_to_fit();
            route.mirrors.shrink_to_fit();
        }
    }
}

impl Readable for DestinationRule {
    const KIND: Kind = Kind::DestinationRule;

    fn read(text: &str) -> Result<Self, FieldError> {
        parse::from_str(text)
    }

    fn compact(&mut self) {
        self.spec.subsets.shrink_to_fit();
        self.spec.export_to.shrink_to_fit();
    }
}

impl Readable for Rollout {
    const KIND: Kind = Kind::Rollout;

    fn read(text: &str) -> Result<Self, FieldError> {
        Rollout::from_json(text).map_err(FieldError::from)
    }

    fn salvage(text: &str) -> Option<Rollout> {
        routing::from_json(text)
    }

    fn valid(&self) -> bool {
        self.check().is_ok()
    }
}

impl From<ParseError> for FieldError {
    fn from(e: ParseError) -> Self {
        match e {
            ParseError::Invalid { field, message } => FieldError { path: field, message },
            other => FieldError { path: String::new(), message: other.to_string() },
        }
    }
}

/// The name of an object whose fields cannot be read.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Named {
    metadata: NamedMeta,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct NamedMeta {
    name: String,
    namespace: String,
}

/// The items of a whole list response body, each read on its own ([`ListReader`]). Fails only when the body is
/// not a list.
pub fn items<T: Readable>(body: &str) -> Result<(Vec<T>, Vec<Unreadable>), NotAList> {
    let mut reader = ListReader::new(None);
    reader.feed(body.as_bytes())?;
    reader.finish()
}

/// Words one of which an object's JSON must contain to concern a view (namespaces' names, bounded as DNS labels are), or
/// any wildcard host (`"*...`), which may cover anything. A view of one namespace reads the cluster's
/// VirtualServices to find the few elsewhere that route its hosts: every such object names the namespace
/// (`reviews.prod`, `namespace: prod`) or is one of its own (`"namespace": "prod"`). The others are skipped
/// unread, so what one namespace's view keeps does not grow with the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mentions(pub Vec<String>);

impl Mentions {
    /// These words and `more`, when `more` adds any (`None`: these cover them all already).
    pub fn with<'a>(&self, more: impl IntoIterator<Item = &'a String>) -> Option<Mentions> {
        let mut wider = self.clone();
        for word in more {
            if !wider.0.contains(word) {
                wider.0.push(word.clone());
            }
        }
        (wider.0.len() > self.0.len()).then_some(wider)
    }

    pub fn in_text(&self, text: &str) -> bool {
        let dns = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
        let bytes = text.as_bytes();
        text.contains("\"*")
            || self.0.iter().flat_map(|word| text.match_indices(word.as_str())).any(|(at, word)| {
                let before = at.checked_sub(1).map(|i| bytes[i]);
                let after = bytes.get(at + word.len()).copied();
                !before.is_some_and(dns) && !after.is_some_and(dns)
            })
    }
}

/// One item of a list as its typed view: `None` when it does not concern the view (`keep`), an [`Unreadable`]
/// naming the object and the field at fault when it does not read.
pub fn item<T: Readable>(raw: &str, keep: Option<&Mentions>) -> Option<Result<T, Unreadable>> {
    if keep.is_some_and(|k| !k.in_text(raw)) {
        return None;
    }
    // The one-pass decode first; the field-tracking reader only for an item that does not read.
    if let Ok(mut item) = serde_json::from_str::<T>(raw)
        && item.valid()
    {
        item.compact();
        return Some(Ok(item));
    }
    Some(match T::read(raw) {
        Ok(mut item) => {
            item.compact();
            Ok(item)
        }
        Err(error) => {
            let named: Named = serde_json::from_str(raw).unwrap_or_default();
            Err(Unreadable {
                object: ObjectRef::new(T::KIND, named.metadata.namespace, named.metadata.name),
                error,
                routing: T::salvage(raw),
            })
        }
    })
}

/// Reads a list response chunk by chunk as it arrives ([`stream::Items`]): the items of interest read so far
/// (taken by the caller as it goes, so they need not all be held), and those that could not be read.
pub struct ListReader<'k, T> {
    split: stream::Items,
    keep: Option<&'k Mentions>,
    pub items: Vec<T>,
    unreadable: Vec<Unreadable>,
}

impl<'k, T: Readable> ListReader<'k, T> {
    pub fn new(keep: Option<&'k Mentions>) -> Self {
        Self { split: stream::Items::default(), keep, items: Vec::new(), unreadable: Vec::new() }
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), NotAList> {
        let (keep, items, unreadable) = (self.keep, &mut self.items, &mut self.unreadable);
        self.split.feed(chunk, |raw| {
            let text = std::str::from_utf8(raw).map_err(|e| NotAList(format!("an item is not UTF-8: {e}")))?;
            match item::<T>(text, keep) {
                Some(Ok(read)) => items.push(read),
                Some(Err(bad)) => unreadable.push(bad),
                None => {}
            }
            Ok(())
        })
    }

    /// The items read since the last call.
    pub fn take_items(&mut self) -> Vec<T> {
        std::mem::take(&mut self.items)
    }

    /// The items not yet taken and every unreadable one, once the answer has ended where the list does.
    pub fn finish(self) -> Result<(Vec<T>, Vec<Unreadable>), NotAList> {
        self.split.finish()?;
        Ok((self.items, self.unreadable))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bad_item_is_named_and_the_others_are_read() {
        let body = r#"{"kind": "RolloutList", "items": [
            {"metadata": {"name": "good", "namespace": "shop"}},
            {"metadata": {"name": "bad", "namespace": "shop"}, "spec": {"strategy": {"canary": {
                "steps": [{"setWeight": 99999999999}],
                "trafficRouting": {"istio": {"virtualService": {"name": "a"}}}}}}}]}"#;
        let (read, unreadable) = items::<Rollout>(body).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(unreadable[0].object, ObjectRef::new(Kind::Rollout, "shop", "bad"));
        assert_eq!(unreadable[0].error.path, "spec.strategy.canary.steps[0].setWeight");
        assert!(unreadable[0].routing.is_some(), "its routing fields are still known");
        assert!(items::<Pod>("[]").is_err());
        assert!(items::<Pod>(r#"{"items": [{"metadata": {"name": "a"}}"#).is_err(), "a list cut short");
    }

    #[test]
    fn a_filtered_list_reads_only_the_items_naming_the_namespace_or_a_wildcard() {
        let prod = Mentions(vec!["prod".into()]);
        assert!(prod.in_text(r#"{"host": "reviews.prod.svc.cluster.local"}"#));
        assert!(prod.in_text(r#"{"namespace":"prod"}"#));
        assert!(!prod.in_text(r#"{"namespace":"prod-2", "host": "preprod.x"}"#), "a longer name is another");
        assert!(prod.in_text(r#"{"hosts": ["*.local"]}"#), "a wildcard may cover the namespace's hosts");
        let body = r#"{"items": [
            {"metadata": {"name": "a", "namespace": "prod"}},
            {"metadata": {"name": "b", "namespace": "shop"}},
            {"metadata": {"name": "c", "namespace": "shop"}, "spec": {"strategy": {"canary": {
                "steps": [{"setWeight": 99999999999}],
                "trafficRouting": {"istio": {"virtualService": {"name": "r.prod"}}}}}}}]}"#;
        let mut reader = ListReader::<Rollout>::new(Some(&prod));
        reader.feed(body.as_bytes()).unwrap();
        let (read, unreadable) = reader.finish().unwrap();
        let names: Vec<&str> = read.iter().map(|r| r.metadata.name.as_str()).collect();
        assert_eq!(names, ["a"]);
        assert_eq!(unreadable[0].object.name, "c", "an unreadable item that concerns the view is kept");
    }
}
