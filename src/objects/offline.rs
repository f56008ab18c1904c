//! A snapshot built from manifests instead of a cluster, for `check -f`: the objects as they would be after
//! `kubectl apply -f`, with each workload standing in for the Ready pods it would run.

use super::k8s::{Pod, PodGroup, PodTally};
use super::meta::{Kind, Labels, Meta, ObjectRef};
use super::parse::{self, FieldError, nullable};
use super::snapshot::{Snapshot, Unreadable};
use crate::rollouts::{Rollout, routing};
use serde::Deserialize;
use serde_json::Value;

/// A manifest document that is not a valid object of its kind.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {kind} {name}: {error}")]
pub struct ManifestError {
    /// The file (or `-`).
    pub file: String,
    pub kind: String,
    pub name: String,
    pub error: FieldError,
}

/// `docs` are `(source, object)` pairs; objects without a namespace land in `default_ns`, as with kubectl.
pub fn snapshot(docs: Vec<(String, Value)>, default_ns: &str) -> Result<Snapshot, ManifestError> {
    let mut snap = Snapshot::default();
    let mut pods = PodTally::default();
    let mut queue: Vec<(String, Value)> = docs;
    while let Some((source, mut doc)) = queue.pop() {
        if doc.is_null() {
            continue;
        }
        let kind = doc["kind"].as_str().unwrap_or_default().to_string();
        if kind == "List" {
            let items = doc["items"].as_array().cloned().unwrap_or_default();
            queue.extend(items.into_iter().map(|item| (source.clone(), item)));
            continue;
        }
        if doc["metadata"]["namespace"].as_str().is_none_or(str::is_empty) {
            doc["metadata"]["namespace"] = Value::String(default_ns.to_string());
        }
        let name = doc["metadata"]["name"].as_str().unwrap_or("?").to_string();
        let bad = |error| ManifestError { file: source.clone(), kind: kind.clone(), name: name.clone(), error };
        match kind.as_str() {
            "VirtualService" => snap.virtual_services.push(parse::from_value(&doc).map_err(bad)?),
            "DestinationRule" => snap.destination_rules.push(parse::from_value(&doc).map_err(bad)?),
            "Service" => snap.services.push(parse::from_value(&doc).map_err(bad)?),
            "HTTPRoute" => snap.http_routes.push(parse::from_value(&doc).map_err(bad)?),
            "Gateway" if gateway_api(&doc) => snap.gateways.push(parse::from_value(&doc).map_err(bad)?),
            "ReferenceGrant" => snap.reference_grants.push(parse::from_value(&doc).map_err(bad)?),
            "Namespace" => snap.namespaces.push(parse::from_value(&doc).map_err(bad)?),
            "Pod" => pods.add(parse::from_value::<Pod>(&doc).map_err(bad)?.into()),
            "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet" => {
                pods.add(pods_of(&kind, &parse::from_value(&doc).map_err(bad)?))
            }
            "Rollout" => {
                pods.add(pods_of(&kind, &parse::from_value(&doc).map_err(bad)?));
                match Rollout::from_value(&doc) {
                    Ok(rollout) => snap.rollouts.push(rollout),
                    // As in a cluster: a Rollout that cannot be read is reported, never dropped.
                    Err(e) => snap.unreadable.push(Unreadable {
                        object: ObjectRef::new(
                            Kind::Rollout,
                            doc["metadata"]["namespace"].as_str().unwrap_or_default(),
                            &name,
                        ),
                        error: e.into(),
                        routing: routing::from_value(&doc),
                    }),
                }
            }
            _ => {}
        }
    }
    snap.pods = pods.groups();
    // Popping reversed the file order; Istio's precedence among equals depends on it.
    snap.virtual_services.reverse();
    snap.destination_rules.reverse();
    snap.rollouts.reverse();
    snap.http_routes.reverse();
    Ok(snap)
}

/// Istio's own `Gateway` (`networking.istio.io`) shares the kind name; only Gateway API's is a route parent.
fn gateway_api(doc: &Value) -> bool {
    doc["apiVersion"].as_str().is_some_and(|v| v.starts_with(crate::gateway::objects::GROUP))
}

/// What a workload manifest says about the pods it runs.
#[derive(Default, Deserialize)]
#[serde(default)]
struct Workload {
    metadata: Meta,
    #[serde(deserialize_with = "nullable")]
    spec: WorkloadSpec,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct WorkloadSpec {
    /// Absent means 1, as for every workload kind.
    replicas: Option<u64>,
    #[serde(deserialize_with = "nullable")]
    template: Template,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Template {
    #[serde(deserialize_with = "nullable")]
    metadata: TemplateMeta,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct TemplateMeta {
    #[serde(deserialize_with = "nullable")]
    labels: Labels,
}

/// The Ready pods a workload asks for, labelled from its pod template.
fn pods_of(kind: &str, workload: &Workload) -> PodGroup {
    let replicas = workload.spec.replicas.unwrap_or(1) as usize;
    let meta = &workload.metadata;
    PodGroup {
        namespace: meta.namespace.clone(),
        labels: workload.spec.template.metadata.labels.clone(),
        owner: Some((kind.to_string(), meta.name.clone())),
        ready: replicas,
        total: replicas,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn workloads_become_ready_pods_and_lists_are_unpacked() {
        let docs = vec![
            (
                "a.yaml".to_string(),
                json!({"kind": "Deployment", "metadata": {"name": "r-v1"},
                "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "r", "version": "v1"}}}}}),
            ),
            (
                "b.yaml".to_string(),
                json!({"kind": "List", "items": [
                {"kind": "Service", "metadata": {"name": "r", "namespace": "x"}, "spec": {"selector": {"app": "r"}}}]}),
            ),
        ];
        let snap = snapshot(docs, "prod").unwrap();
        let owner = Some(("Deployment".into(), "r-v1".into()));
        let labels = Labels::from([("app".into(), "r".into()), ("version".into(), "v1".into())]);
        assert_eq!(snap.pods, [PodGroup { namespace: "prod".into(), labels, owner, ready: 2, total: 2 }]);
        assert_eq!(snap.services[0].metadata.namespace, "x");
    }

    #[test]
    fn a_fractional_weight_is_an_error_naming_the_object_and_the_field() {
        let vs = json!({"kind": "VirtualService", "metadata": {"name": "r"},
            "spec": {"hosts": ["r"], "http": [{"route": [{"destination": {"host": "r"}, "weight": 90.5}]}]}});
        let err = snapshot(vec![("vs.yaml".into(), vs)], "prod").unwrap_err();
        assert!(err.to_string().starts_with("vs.yaml: VirtualService r: spec.http[0].route[0].weight: "), "{err}");
    }

    #[test]
    fn an_unreadable_rollout_is_kept_with_what_it_routes() {
        let ro = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "a"},
            "spec": {"strategy": {"canary": {"steps": [{"setWeight": 99999999999_i64}],
                "trafficRouting": {"istio": {"virtualService": {"name": "a"}}}}}}});
        let snap = snapshot(vec![("ro.yaml".into(), ro)], "shop").unwrap();
        assert!(snap.rollouts.is_empty());
        let bad = &snap.unreadable[0];
        assert_eq!(bad.object, ObjectRef::new(Kind::Rollout, "shop", "a"));
        assert_eq!(bad.error.path, "spec.strategy.canary.steps[0].setWeight");
        assert!(bad.routing.is_some());
    }
}
