//! The objects of a canary release under the live controller, shared by the live scenarios and the demo: the
//! shipped analysis template made quick, a Service with its DestinationRule and VirtualService, and a canary
//! Rollout routing through them.

use super::simulator::Load;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The shipped blocking-step template, namespaced, its looks every 5 s instead of every minute (ten of them, as
/// shipped) so a scenario takes a minute, not ten. Everything else (URL, args, conditions, limits) as shipped.
pub fn analysis_template() -> String {
    let shipped = include_str!("../../rollouts/cluster-analysis-template.yaml");
    let doc = shipped.split("\napiVersion:").nth(1).map(|d| format!("apiVersion:{d}")).unwrap_or_default();
    doc.replace("kind: ClusterAnalysisTemplate", "kind: AnalysisTemplate").replace("interval: 1m", "interval: 5s")
}

/// Service, DestinationRule, VirtualService and a canary Rollout `reviews` at `version`, whose steps are
/// `steps` (JSON), routing through subsets `stable`/`canary` of route `primary`.
pub fn world(steps: Value, version: &str) -> String {
    world_of("reviews", steps, version)
}

/// [`world`] for an app of another name.
pub fn world_of(app: &str, steps: Value, version: &str) -> String {
    let rollout = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": app},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": app}},
            "template": template_of(app, version),
            "strategy": {"canary": {
                "trafficRouting": {"istio": {
                    "virtualService": {"name": app, "routes": ["primary"]},
                    "destinationRule": {"name": app, "canarySubsetName": "canary", "stableSubsetName": "stable"}}},
                "steps": steps}}
        }
    });
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {app}}}\nspec: {{selector: {{app: {app}}}, ports: [{{name: http, port: 9080}}]}}\n\
         ---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {app}}}\n\
         spec: {{host: {app}, subsets: [{{name: stable, labels: {{app: {app}}}}}, {{name: canary, labels: {{app: {app}}}}}]}}\n\
         ---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {app}}}\nspec:\n  hosts: [{app}]\n  http:\n  \
         - name: primary\n    route:\n    - {{destination: {{host: {app}, subset: stable}}, weight: 100}}\n    \
         - {{destination: {{host: {app}, subset: canary}}, weight: 0}}\n---\n{}",
        serde_json::to_string(&rollout).unwrap()
    )
}

pub fn template_of(app: &str, version: &str) -> Value {
    json!({"metadata": {"labels": {"app": app, "version": version}},
           "spec": {"containers": [{"name": app, "image": format!("example/{app}:{version}")}]}})
}

/// The blocking analysis step judging the canary with the shipped template (arms read from the Rollout), the
/// judge at `analysis_url`.
pub fn judged(analysis_url: &str) -> Value {
    json!({"analysis": {"templates": [{"templateName": "vroute-judge-step"}], "args": [
        {"name": "namespace", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "service", "value": "reviews"},
        {"name": "rollout", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "step", "value": "10s"},
        {"name": "analysis-url", "value": analysis_url}]}})
}

pub fn load(error_rate: &[(&str, f64)], rps: f64) -> Load {
    Load {
        service: "reviews".into(),
        caller: ("productpage".into(), "v1".into()),
        requests_per_second: rps,
        error_rate: error_rate.iter().map(|(v, r)| (v.to_string(), *r)).collect(),
        latency_ms: BTreeMap::new(),
    }
}

/// The chain a -> b -> c of [`super::scenarios::chain`] with real Deployments (one Ready pod per version, made by
/// the controllers and kwok), for a cluster where objects are real.
pub fn chain_with_deployments() -> String {
    let mut docs = vec![super::scenarios::chain(false)];
    for (app, version) in super::scenarios::CHAIN_PODS {
        docs.push(format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {app}-{version}}}\nspec:\n  replicas: 1\n  \
             selector: {{matchLabels: {{app: {app}, version: {version}}}}}\n  template:\n    \
             metadata: {{labels: {{app: {app}, version: {version}}}}}\n    \
             spec: {{containers: [{{name: {app}, image: example/{app}:{version}}}]}}\n"
        ));
    }
    docs.join("---\n")
}
