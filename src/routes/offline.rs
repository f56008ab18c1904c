//! A snapshot built from manifests instead of a cluster, for `check -f`: the objects as they would be after
//! `kubectl apply -f`, with each workload standing in for the Ready pods it would run.

use super::Snapshot;
use super::objects::{Meta, OwnerRef, Pod, PodCondition, PodStatus};
use serde_json::Value;

/// `docs` are `(source, object)` pairs; objects without a namespace land in `default_ns`, as with kubectl.
pub fn snapshot(docs: Vec<(String, Value)>, default_ns: &str) -> Result<Snapshot, String> {
    let mut snap = Snapshot::default();
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
        let bad = |e: serde_json::Error| format!("{source}: {kind} {name}: {e}");
        match kind.as_str() {
            "VirtualService" => snap.virtual_services.push(serde_json::from_value(doc).map_err(bad)?),
            "DestinationRule" => snap.destination_rules.push(serde_json::from_value(doc).map_err(bad)?),
            "Service" => snap.services.push(serde_json::from_value(doc).map_err(bad)?),
            "Pod" => snap.pods.push(serde_json::from_value(doc).map_err(bad)?),
            "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet" => snap.pods.extend(pods_of(&kind, &doc)),
            "Rollout" => {
                snap.pods.extend(pods_of(&kind, &doc));
                snap.rollouts.push(doc);
            }
            _ => {}
        }
    }
    // Popping reversed the file order; Istio's precedence among equals depends on it.
    snap.virtual_services.reverse();
    snap.destination_rules.reverse();
    Ok(snap)
}

/// The Ready pods a workload asks for (`spec.replicas`, default 1), labelled from its pod template.
fn pods_of(kind: &str, doc: &Value) -> Vec<Pod> {
    let replicas = doc["spec"]["replicas"].as_u64().unwrap_or(1) as usize;
    let labels: super::objects::Labels =
        serde_json::from_value(doc["spec"]["template"]["metadata"]["labels"].clone()).unwrap_or_default();
    let name = doc["metadata"]["name"].as_str().unwrap_or_default();
    let namespace = doc["metadata"]["namespace"].as_str().unwrap_or_default();
    (0..replicas)
        .map(|i| Pod {
            metadata: Meta {
                name: format!("{name}-{i}"),
                namespace: namespace.to_string(),
                labels: labels.clone(),
                owner_references: vec![OwnerRef {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    controller: Some(true),
                }],
                ..Default::default()
            },
            status: PodStatus {
                phase: Some("Running".into()),
                conditions: vec![PodCondition { type_: "Ready".into(), status: "True".into() }],
            },
        })
        .collect()
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
        assert_eq!(snap.pods.len(), 2);
        assert!(snap.pods.iter().all(|p| p.is_ready() && p.metadata.namespace == "prod"));
        assert_eq!(snap.pods[0].owner().as_deref(), Some("Deployment/r-v1"));
        assert_eq!(snap.services[0].metadata.namespace, "x");
    }

    #[test]
    fn a_fractional_weight_is_an_error_naming_the_object() {
        let vs = json!({"kind": "VirtualService", "metadata": {"name": "r"},
            "spec": {"hosts": ["r"], "http": [{"route": [{"destination": {"host": "r"}, "weight": 90.5}]}]}});
        let err = snapshot(vec![("vs.yaml".into(), vs)], "prod").unwrap_err();
        assert!(err.starts_with("vs.yaml: VirtualService r: "), "{err}");
    }
}
