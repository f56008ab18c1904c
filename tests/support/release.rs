//! The objects of a canary release under the live controller, shared by the live scenarios and the demo: the
//! shipped analysis template made quick, a Service with its DestinationRule and VirtualService, and a canary
//! Rollout routing through them; and the helpers that read and drive them.

use super::live::Live;
use super::simulator::Load;
use kube::api::{Api, DynamicObject, GroupVersionKind, Patch};
use kube::discovery::ApiResource;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

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
        seed: None,
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

/// Creates every object of a multi-document YAML text in `ns` of the live cluster.
pub async fn create(live: &Live, ns: &str, yaml: &str) {
    let client = live.client().await;
    for doc in super::parse_yaml_docs(yaml) {
        let (api, obj) = super::dynamic_api(&client, ns, doc).await;
        api.create(&Default::default(), &obj).await.unwrap_or_else(|e| panic!("create in {ns}: {e}"));
    }
}

/// One object of the live cluster, as JSON.
pub async fn get(live: &Live, ns: &str, group: &str, version: &str, kind: &str, name: &str) -> Value {
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let api: Api<DynamicObject> = Api::namespaced_with(live.client().await, ns, &ApiResource::from_gvk(&gvk));
    serde_json::to_value(api.get(name).await.unwrap_or_else(|e| panic!("get {kind} {ns}/{name}: {e}"))).unwrap()
}

pub async fn rollout_of(live: &Live, ns: &str, app: &str) -> Value {
    get(live, ns, "argoproj.io", "v1alpha1", "Rollout", app).await
}

/// `(stable, canary)` weights of route `primary` of VirtualService `app` (-1 where one is missing).
pub async fn weights_of(live: &Live, ns: &str, app: &str) -> (i64, i64) {
    let vs = get(live, ns, "networking.istio.io", "v1", "VirtualService", app).await;
    let route = &vs["spec"]["http"][0]["route"];
    (route[0]["weight"].as_i64().unwrap_or(-1), route[1]["weight"].as_i64().unwrap_or(-1))
}

/// A new release of Rollout `app`: its pod template at `version`.
pub async fn release_of(live: &Live, ns: &str, app: &str, version: &str) {
    let patch = json!({"spec": {"template": template_of(app, version)}});
    let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout");
    let api: Api<DynamicObject> = Api::namespaced_with(live.client().await, ns, &ApiResource::from_gvk(&gvk));
    api.patch(app, &Default::default(), &Patch::Merge(&patch)).await.expect("release");
}

/// Polls `check` on Rollout `app` until it holds (Ok) or `timeout` passes (Err with the last Rollout status).
pub async fn until_of(
    live: &Live,
    ns: &str,
    app: &str,
    what: &str,
    timeout: Duration,
    check: impl Fn(&Value) -> bool,
) -> Result<Value, String> {
    let deadline = Instant::now() + timeout;
    loop {
        let ro = rollout_of(live, ns, app).await;
        if check(&ro) {
            return Ok(ro);
        }
        if Instant::now() > deadline {
            return Err(format!("{ns}: {what} not reached after {timeout:?}; status: {:#}", ro["status"]));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub fn phase(ro: &Value) -> &str {
    ro["status"]["phase"].as_str().unwrap_or_default()
}

/// Runs `command` (a prepared Command) on a blocking thread.
pub async fn output(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("run")).await.unwrap()
}

/// A command's outcome, for a failure message.
pub fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
