//! Reading a list response item by item: each item becomes its typed view, or an [`Unreadable`] entry that
//! names the object and the field at fault. One bad object never hides the others, and is never dropped.

use super::k8s::{Namespace, Pod, ReplicaSet, Service};
use super::meta::{Kind, ObjectRef};
use super::parse::{self, FieldError};
use super::snapshot::Unreadable;
use crate::gateway::{Gateway, HttpRoute, ReferenceGrant};
use crate::istio::{DestinationRule, VirtualService};
use crate::rollouts::{ParseError, Rollout, routing};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

/// A kind the snapshot reads.
pub trait Readable: Sized + DeserializeOwned {
    const KIND: Kind;

    fn read(text: &str) -> Result<Self, FieldError>;

    /// Checks a view read without error tracking (the fast path of [`items`]); `false` sends the whole list
    /// through [`Readable::read`], item by item.
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

#[derive(Deserialize)]
struct List<'a> {
    #[serde(borrow)]
    items: Vec<&'a RawValue>,
    #[serde(default)]
    metadata: ListMeta,
}

/// The same list decoded in one pass, for the common case where every item reads.
#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct Typed<T> {
    items: Vec<T>,
    #[serde(default)]
    metadata: ListMeta,
}

/// Where the next page of a paged list starts (`metadata.continue`; empty or absent on the last page).
#[derive(Default, Deserialize)]
struct ListMeta {
    #[serde(rename = "continue", default)]
    next: Option<String>,
}

/// The continue token of a list page, read without decoding its items (to fetch the next page first).
pub fn next_page(body: &str) -> Result<Option<String>, serde_json::Error> {
    #[derive(Deserialize)]
    struct Head {
        #[serde(default)]
        metadata: ListMeta,
    }
    Ok(serde_json::from_str::<Head>(body)?.metadata.next.filter(|t| !t.is_empty()))
}

/// One page of a list: its items read as [`items`] reads them, and the token of the next page, if any.
pub struct Page<T> {
    pub items: Vec<T>,
    pub unreadable: Vec<Unreadable>,
    pub next: Option<String>,
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

/// The items of a list response body, each read on its own. Fails only when the body is not a list.
///
/// One pass decodes the whole list when every item reads (as almost always); only when one does not is the body
/// read again item by item, to name it and keep the others.
pub fn items<T: Readable>(body: &str) -> Result<(Vec<T>, Vec<Unreadable>), serde_json::Error> {
    page(body).map(|p| (p.items, p.unreadable))
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

/// [`items`] of one page, with the continue token of the next.
pub fn page<T: Readable>(body: &str) -> Result<Page<T>, serde_json::Error> {
    page_where(body, None)
}

/// [`page`], reading only the items that [`Mentions`] `keep` (all without it).
pub fn page_where<T: Readable>(body: &str, keep: Option<&Mentions>) -> Result<Page<T>, serde_json::Error> {
    let next = |meta: ListMeta| meta.next.filter(|t| !t.is_empty());
    if keep.is_none()
        && let Ok(mut list) = serde_json::from_str::<Typed<T>>(body)
        && list.items.iter().all(T::valid)
    {
        list.items.iter_mut().for_each(T::compact);
        return Ok(Page { items: list.items, unreadable: Vec::new(), next: next(list.metadata) });
    }
    let list: List = serde_json::from_str(body)?;
    let mut items = Vec::with_capacity(list.items.len());
    let mut unreadable = Vec::new();
    for raw in list.items {
        if keep.is_some_and(|k| !k.in_text(raw.get())) {
            continue;
        }
        // The one-pass decode first; the field-tracking reader only for an item that does not read.
        if let Ok(mut item) = serde_json::from_str::<T>(raw.get())
            && item.valid()
        {
            item.compact();
            items.push(item);
            continue;
        }
        match T::read(raw.get()) {
            Ok(mut item) => {
                item.compact();
                items.push(item)
            }
            Err(error) => {
                let named: Named = serde_json::from_str(raw.get()).unwrap_or_default();
                unreadable.push(Unreadable {
                    object: ObjectRef::new(T::KIND, named.metadata.namespace, named.metadata.name),
                    error,
                    routing: T::salvage(raw.get()),
                });
            }
        }
    }
    Ok(Page { items, unreadable, next: next(list.metadata) })
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
        let paged = page::<Pod>(r#"{"metadata": {"continue": "abc"}, "items": []}"#).unwrap();
        assert_eq!(paged.next.as_deref(), Some("abc"));
        assert!(page::<Pod>(r#"{"metadata": {"continue": ""}, "items": []}"#).unwrap().next.is_none());
    }

    #[test]
    fn a_filtered_page_reads_only_the_items_naming_the_namespace_or_a_wildcard() {
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
        let page = page_where::<Rollout>(body, Some(&prod)).unwrap();
        let names: Vec<&str> = page.items.iter().map(|r| r.metadata.name.as_str()).collect();
        assert_eq!(names, ["a"]);
        assert_eq!(page.unreadable[0].object.name, "c", "an unreadable item that concerns the view is kept");
    }
}
