//! Tests of [`super`], and the fixtures the edit tests share.

use super::*;
use crate::objects::k8s::{PodGroup, Service, ServiceSpec};
use crate::objects::meta::Meta;
use serde_json::json;

/// Service `reviews` in `prod` with subsets v1 and v2, each with `ready` ready pods, and `vs` as its
/// VirtualService.
pub fn snapshot(vs: Value, ready: &[(&str, usize)]) -> Snapshot {
    let dr = json!({"kind": "DestinationRule", "metadata": {"name": "reviews", "namespace": "prod"},
        "spec": {"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                                 {"name": "v2", "labels": {"version": "v2"}}]}});
    let mut snap = Snapshot {
        services: vec![Service {
            metadata: Meta { name: "reviews".into(), namespace: "prod".into(), ..Default::default() },
            spec: ServiceSpec { selector: Some(Labels::from([("app".into(), "reviews".into())])), type_: None },
        }],
        ..Default::default()
    };
    for (version, n) in ready {
        snap.pods.push(ready_pods(version, *n));
    }
    snap = with_object(&snap, &dr).unwrap();
    with_object(&snap, &vs).unwrap()
}

/// `n` ready pods of reviews at `version`.
pub fn ready_pods(version: &str, n: usize) -> PodGroup {
    PodGroup {
        namespace: "prod".into(),
        labels: Labels::from([("app".into(), "reviews".into()), ("version".into(), version.into())]),
        owner: None,
        ready: n,
        total: n,
    }
}

/// Runs an edit on `obj` as a draft and leaves the result in `obj`.
pub fn on(
    obj: &mut Value,
    f: impl FnOnce(&mut crate::edit::object::Draft) -> Result<crate::edit::Summary, EditError>,
) -> Result<crate::edit::Summary, EditError> {
    let mut draft = crate::edit::object::Draft::new(obj)?;
    let result = f(&mut draft);
    *obj = draft.into_raw();
    result
}

pub fn request() -> Request<'static> {
    Request {
        service: "reviews",
        namespace: "prod",
        virtual_service: None,
        http_route: None,
        domain: "cluster.local",
        version_label: "version",
        now: Timestamp::from_second(1_700_000_000).unwrap(),
        force: false,
    }
}

pub fn vs(http: Value) -> Value {
    json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
           "metadata": {"name": "reviews", "namespace": "prod", "resourceVersion": "7"},
           "spec": {"hosts": ["reviews"], "http": http}})
}

pub fn split_vs() -> Value {
    vs(json!([{"name": "primary", "route": [
        {"destination": {"host": "reviews", "subset": "v1"}, "weight": 100},
        {"destination": {"host": "reviews", "subset": "v2"}, "weight": 0}]}]))
}

#[test]
fn versions_carry_definitions_and_ready_pods() {
    let ctx = Context::build(&snapshot(split_vs(), &[("v1", 2)]), &request()).unwrap();
    assert_eq!(ctx.virtual_service, ObjectRef::new(Kind::VirtualService, "prod", "reviews"));
    assert_eq!(ctx.destination_rule, Some(ObjectRef::new(Kind::DestinationRule, "prod", "reviews")));
    let v2 = ctx.version("v2").unwrap();
    assert!(v2.defined);
    assert_eq!(v2.pods, Some(PodCount { ready: 0, total: 0 }));
    assert_eq!(ctx.version("v1").unwrap().pods, Some(PodCount { ready: 2, total: 2 }));
    assert_eq!(ctx.version("reviews/v1").unwrap().name, "v1", "host/subset form");
    assert_eq!(ctx.version("reviews.prod.svc.cluster.local/v2").unwrap().name, "v2");
}

#[test]
fn unknown_versions_list_the_known_ones() {
    let ctx = Context::build(&snapshot(split_vs(), &[]), &request()).unwrap();
    let err = ctx.version("v3").unwrap_err();
    assert_eq!(err.to_string(), "reviews.prod has no version \"v3\"; known versions: v1, v2");
}

#[test]
fn a_host_without_virtual_service_is_refused_naming_who_routes_it() {
    let gateway = json!({"kind": "VirtualService", "metadata": {"name": "gw", "namespace": "prod"},
        "spec": {"hosts": ["shop.example.com"], "gateways": ["public"],
                 "http": [{"route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]}});
    let mut snap = snapshot(split_vs(), &[]);
    snap.virtual_services.clear();
    let snap = with_object(&snap, &gateway).unwrap();
    let err = Context::build(&snap, &request()).unwrap_err();
    assert_eq!(
        err,
        EditError::NoVirtualService {
            host: "reviews.prod.svc.cluster.local".into(),
            routed_by: vec!["shop.example.com".into()]
        }
    );
}

#[test]
fn several_virtual_services_need_a_choice() {
    let mut other = split_vs();
    other["metadata"]["name"] = json!("reviews-too");
    let snap = with_object(&snapshot(split_vs(), &[]), &other).unwrap();
    let err = Context::build(&snap, &request()).unwrap_err();
    assert!(matches!(err, EditError::AmbiguousVirtualService { .. }), "{err}");
    let req = Request { virtual_service: Some("reviews-too"), ..request() };
    assert_eq!(Context::build(&snap, &req).unwrap().virtual_service.name, "reviews-too");
    let req = Request { virtual_service: Some("nope"), ..request() };
    assert!(matches!(Context::build(&snap, &req), Err(EditError::UnknownVirtualService { .. })));
}

#[test]
fn pod_versions_without_a_subset_are_found() {
    let mut snap = snapshot(split_vs(), &[("v1", 1)]);
    snap.pods.push(ready_pods("v3", 1));
    let ctx = Context::build(&snap, &request()).unwrap();
    assert_eq!(ctx.versions_without_subset(), vec!["v3".to_string()]);
    let values: Vec<String> = ctx.subset_versions().into_iter().map(|(v, _)| v).collect();
    assert_eq!(values, vec!["v1", "v2"]);
}

#[test]
fn forbidden_rollout_listing_makes_ownership_unknown() {
    let mut snap = snapshot(split_vs(), &[]);
    snap.partial.push(crate::objects::PartialListing {
        resource: crate::objects::Listable::Rollouts,
        listed: crate::objects::Listed::Nothing,
        reason: crate::objects::Shortfall::Forbidden,
    });
    assert!(Context::build(&snap, &request()).unwrap().rollouts_unknown);
    // A partial listing of something else says nothing about Rollouts.
    let mut snap = snapshot(split_vs(), &[]);
    snap.partial.push(crate::objects::PartialListing {
        resource: crate::objects::Listable::VirtualServices,
        listed: crate::objects::Listed::Namespace("prod".into()),
        reason: crate::objects::Shortfall::Forbidden,
    });
    assert!(!Context::build(&snap, &request()).unwrap().rollouts_unknown);
}
