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

readable!(VirtualService => Kind::VirtualService, DestinationRule => Kind::DestinationRule,
          Service => Kind::Service, Pod => Kind::Pod, ReplicaSet => Kind::ReplicaSet,
          HttpRoute => Kind::HttpRoute, Gateway => Kind::Gateway, ReferenceGrant => Kind::ReferenceGrant,
          Namespace => Kind::Namespace);

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

/// [`items`] of one page, with the continue token of the next.
pub fn page<T: Readable>(body: &str) -> Result<Page<T>, serde_json::Error> {
    let next = |meta: ListMeta| meta.next.filter(|t| !t.is_empty());
    if let Ok(list) = serde_json::from_str::<Typed<T>>(body)
        && list.items.iter().all(T::valid)
    {
        return Ok(Page { items: list.items, unreadable: Vec::new(), next: next(list.metadata) });
    }
    let list: List = serde_json::from_str(body)?;
    let mut items = Vec::with_capacity(list.items.len());
    let mut unreadable = Vec::new();
    for raw in list.items {
        match T::read(raw.get()) {
            Ok(item) => items.push(item),
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
}
