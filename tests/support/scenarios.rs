//! Seeded scenarios: the objects of realistic multi-version deployments, shared by the integration tests,
//! the demo and `check -f` fixtures. Pods are created directly and marked Ready through the status
//! subresource, as a kubelet would (there is no kubelet or controller here).

use super::TestEnv;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use std::fmt::Write as _;

/// A Service `app` selecting `app: <app>`, and a DestinationRule with one subset per version.
pub fn service_and_subsets(app: &str, versions: &[&str]) -> String {
    let subsets: String = versions.iter().map(|v| format!("  - name: {v}\n    labels: {{version: {v}}}\n")).collect();
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {app}}}\nspec:\n  selector: {{app: {app}}}\n  ports: [{{name: http, port: 8080}}]\n\
         ---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {app}}}\nspec:\n  host: {app}\n  subsets:\n{subsets}"
    )
}

/// A VirtualService for `app` that sends each caller version of `caller` to the same version of `app`,
/// then everything else to `fallback`. `pinned` lists the versions that get a pinning route.
pub fn pinned_routes(app: &str, caller: &str, pinned: &[&str], fallback: &str) -> String {
    let mut http = String::new();
    for v in pinned {
        write!(
            http,
            "  - name: {v}-callers\n    match: [{{sourceLabels: {{app: {caller}, version: {v}}}}}]\n    route: [{{destination: {{host: {app}, subset: {v}}}}}]\n"
        )
        .unwrap();
    }
    write!(http, "  - name: default\n    route: [{{destination: {{host: {app}, subset: {fallback}}}}}]\n").unwrap();
    format!(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {app}}}\nspec:\n  hosts: [{app}]\n  http:\n{http}"
    )
}

/// A VirtualService splitting `app` between two subsets by relative weights.
pub fn weighted_routes(app: &str, (v1, w1): (&str, u32), (v2, w2): (&str, u32), extra: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {app}}}\nspec:\n  hosts: [{app}]\n  http:\n\
         \x20 - name: primary\n    route:\n    - destination: {{host: {app}, subset: {v1}}}\n      weight: {w1}\n\
         \x20   - destination: {{host: {app}, subset: {v2}}}\n      weight: {w2}\n{extra}"
    )
}

/// The chain a -> b -> c, two versions each, entry split 50/50, every hop pinned by caller version.
/// With `break_b_v2`, b has no route for v2 callers (they fall to b's default route, v1).
pub fn chain(break_b_v2: bool) -> String {
    let mut docs = vec![];
    for app in ["a", "b", "c"] {
        docs.push(service_and_subsets(app, &["v1", "v2"]));
    }
    docs.push(weighted_routes("a", ("v1", 50), ("v2", 50), ""));
    docs.push(pinned_routes("b", "a", if break_b_v2 { &["v1"] } else { &["v1", "v2"] }, "v1"));
    docs.push(pinned_routes("c", "b", &["v1", "v2"], "v1"));
    docs.join("---\n")
}

/// Istio's bookinfo routed as its `virtual-service-all-v1.yaml` routes it: `reviews` (subsets v1, v2, v3) and
/// `ratings` (v1), each VirtualService one unnamed route to v1.
pub fn bookinfo_istio() -> String {
    let vs = |app: &str| {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {app}}}\nspec:\n  hosts: [{app}]\n  \
             http:\n  - route: [{{destination: {{host: {app}, subset: v1}}}}]\n"
        )
    };
    [
        service_and_subsets("reviews", &["v1", "v2", "v3"]),
        vs("reviews"),
        service_and_subsets("ratings", &["v1"]),
        vs("ratings"),
    ]
    .join("---\n")
}

/// The pods of [`bookinfo_istio`].
pub const BOOKINFO_PODS: [(&str, &str); 4] =
    [("reviews", "v1"), ("reviews", "v2"), ("reviews", "v3"), ("ratings", "v1")];

/// The pods of [`chain`], as Deployments would run them: `(app, version)` pairs.
pub const CHAIN_PODS: [(&str, &str); 6] =
    [("a", "v1"), ("a", "v2"), ("b", "v1"), ("b", "v2"), ("c", "v1"), ("c", "v2")];

/// Pod-template hashes of the stable and canary ReplicaSets of [`canary_rollout`].
pub const STABLE_HASH: &str = "6b8f9c7d5";
pub const CANARY_HASH: &str = "7c9d8e6f4";

/// An Argo Rollout canary with Istio subset routing: Service, DestinationRule (subsets `stable` and `canary`
/// keyed by `rollouts-pod-template-hash`, as the controller writes them), a VirtualService whose route
/// `primary` the Rollout owns (weights `stable_weight`/`canary_weight`), and the Rollout (setWeight 20, pause).
pub fn canary_rollout(app: &str, stable_weight: u32, canary_weight: u32) -> String {
    format!(
        r#"
apiVersion: v1
kind: Service
metadata: {{name: {app}}}
spec:
  selector: {{app: {app}}}
  ports: [{{name: http, port: 8080}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: {app}
  annotations: {{argo-rollouts.argoproj.io/managed-by-rollouts: {app}}}
spec:
  host: {app}
  subsets:
  - name: stable
    labels: {{rollouts-pod-template-hash: {STABLE_HASH}}}
  - name: canary
    labels: {{rollouts-pod-template-hash: {CANARY_HASH}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: {app}}}
spec:
  hosts: [{app}]
  http:
  - name: primary
    route:
    - destination: {{host: {app}, subset: stable}}
      weight: {stable_weight}
    - destination: {{host: {app}, subset: canary}}
      weight: {canary_weight}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {{name: {app}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: {app}}}}}
  template:
    metadata: {{labels: {{app: {app}}}}}
    spec: {{containers: [{{name: {app}, image: "example/{app}:v2"}}]}}
  strategy:
    canary:
      trafficRouting:
        istio:
          virtualService: {{name: {app}, routes: [primary]}}
          destinationRule: {{name: {app}, canarySubsetName: canary, stableSubsetName: stable}}
      steps:
      - setWeight: 20
      - pause: {{}}
"#
    )
}

/// The status the controller writes while [`canary_rollout`] waits at its pause step after setWeight 20.
pub fn paused_at_20(generation: i64) -> serde_json::Value {
    json!({"status": {
        "observedGeneration": generation.to_string(),
        "phase": "Paused", "message": "CanaryPauseStep",
        "currentStepIndex": 1, "currentPodHash": CANARY_HASH, "stableRS": STABLE_HASH,
        "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-11-22T00:00:00Z"}],
        "controllerPause": true,
        "replicas": 3, "updatedReplicas": 1, "readyReplicas": 3, "availableReplicas": 3,
        "canary": {"weights": {
            "canary": {"weight": 20, "podTemplateHash": CANARY_HASH},
            "stable": {"weight": 80, "podTemplateHash": STABLE_HASH}
        }}
    }})
}

impl TestEnv {
    /// Creates [`canary_rollout`] with 2 stable and 1 canary Ready pods, and writes [`paused_at_20`] through
    /// the status subresource, as the controller would.
    pub async fn seed_canary_rollout(&self, ns: &str, app: &str, stable_weight: u32, canary_weight: u32) {
        let created = self.create_yaml(ns, &canary_rollout(app, stable_weight, canary_weight)).await;
        for (hash, count) in [(STABLE_HASH, 2), (CANARY_HASH, 1)] {
            for i in 0..count {
                let labels = json!({"app": app, "rollouts-pod-template-hash": hash});
                self.pod_owned(ns, &format!("{app}-{hash}"), labels, i, true).await;
            }
        }
        let rollout = created.last().unwrap();
        let generation = rollout.metadata.generation.unwrap_or(1);
        let (api, _) = super::dynamic_api(&self.client().await, ns, serde_json::to_value(rollout).unwrap()).await;
        api.patch_status(app, &PatchParams::default(), &Patch::Merge(&paused_at_20(generation)))
            .await
            .expect("rollout status");
    }
}

impl TestEnv {
    /// Creates a Ready pod `app-version-<n>` labelled `app`, `version` (and `pod-template-hash`), owned by
    /// the ReplicaSet a Deployment `app-version` would create, so owners show as `Deployment/app-version`.
    pub async fn ready_pod(&self, ns: &str, app: &str, version: &str, index: usize) {
        self.pod(ns, app, version, index, true).await;
    }

    pub async fn pod(&self, ns: &str, app: &str, version: &str, index: usize, ready: bool) {
        let hash = "5d8c7f9b6";
        let labels = json!({"app": app, "version": version, "pod-template-hash": hash});
        self.pod_owned(ns, &format!("{app}-{version}-{hash}"), labels, index, ready).await;
    }

    /// A pod of ReplicaSet `replica_set` (named `<replica_set>-<index>`) with these labels.
    pub async fn pod_owned(&self, ns: &str, replica_set: &str, labels: serde_json::Value, index: usize, ready: bool) {
        create_pod(&self.client().await, ns, replica_set, labels, index, ready).await.expect("create pod");
    }

    /// Creates the [`bookinfo_istio`] scenario with one Ready pod per version.
    pub async fn seed_bookinfo_istio(&self, ns: &str) {
        self.create_yaml(ns, &bookinfo_istio()).await;
        for (app, version) in BOOKINFO_PODS {
            self.ready_pod(ns, app, version, 0).await;
        }
    }

    /// Creates the [`chain`] scenario with one Ready pod per version.
    pub async fn seed_chain(&self, ns: &str, break_b_v2: bool) {
        self.create_yaml(ns, &chain(break_b_v2)).await;
        for (app, version) in CHAIN_PODS {
            self.ready_pod(ns, app, version, 0).await;
        }
    }
}

/// A Rollout `name` (labelled `app: <name>`) with this strategy block (`{"canary": {...}}` or
/// `{"blueGreen": {...}}`) and nothing around it: promote, abort, retry, pause and wait read only the Rollout.
/// `paused` sets `spec.paused`, as `kubectl argo rollouts pause` does.
pub fn rollout(name: &str, strategy: serde_json::Value, paused: bool) -> serde_json::Value {
    let mut rollout = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": name, "image": format!("example/{name}:v2")}]}},
            "strategy": strategy
        }
    });
    if paused {
        rollout["spec"]["paused"] = json!(true);
    }
    rollout
}

impl TestEnv {
    /// Creates `rollout` and writes `status` through the status subresource, as the controller would, with
    /// `observedGeneration` set to the generation just created (unless `status` sets it). Returns the Rollout
    /// as stored.
    pub async fn seed_rollout(
        &self,
        ns: &str,
        rollout: serde_json::Value,
        status: serde_json::Value,
    ) -> serde_json::Value {
        let client = self.client().await;
        let (api, obj) = super::dynamic_api(&client, ns, rollout).await;
        let created = api.create(&PostParams::default(), &obj).await.expect("create rollout");
        let mut status = status;
        if status.get("observedGeneration").is_none() {
            status["observedGeneration"] = json!(created.metadata.generation.unwrap_or(1).to_string());
        }
        let name = created.metadata.name.clone().unwrap_or_default();
        let stored = api
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&json!({"status": status})))
            .await
            .expect("rollout status");
        serde_json::to_value(stored).unwrap()
    }

    /// Rollout `name` as stored now.
    pub async fn get_rollout(&self, ns: &str, name: &str) -> serde_json::Value {
        let client = self.client().await;
        let (api, _) = super::dynamic_api(&client, ns, rollout(name, json!({}), false)).await;
        serde_json::to_value(api.get(name).await.expect("get rollout")).unwrap()
    }

    /// Writes `status` (a JSON merge patch of `.status`) through the status subresource, as the controller would.
    pub async fn patch_rollout_status(&self, ns: &str, name: &str, status: serde_json::Value) {
        let client = self.client().await;
        let (api, _) = super::dynamic_api(&client, ns, rollout(name, json!({}), false)).await;
        api.patch_status(name, &PatchParams::default(), &Patch::Merge(&json!({"status": status})))
            .await
            .expect("rollout status");
    }
}

/// Creates pod `<replica_set>-<index>` of ReplicaSet `replica_set` with these labels, and writes its readiness
/// through the status subresource, as a kubelet would. On a given client, for callers creating thousands.
pub async fn create_pod(
    client: &kube::Client,
    ns: &str,
    replica_set: &str,
    labels: serde_json::Value,
    index: usize,
    ready: bool,
) -> Result<(), kube::Error> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let name = format!("{replica_set}-{index}");
    let app = labels["app"].as_str().unwrap_or("app").to_string();
    let version = labels["version"].as_str().unwrap_or("v1").to_string();
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {
            "name": name,
            "labels": labels,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": replica_set,
                                 "uid": "00000000-0000-0000-0000-000000000001", "controller": true}]
        },
        "spec": {"containers": [{"name": app, "image": format!("example/{app}:{version}")}]}
    }))
    .unwrap();
    api.create(&PostParams::default(), &pod).await?;
    let status = if ready { "True" } else { "False" };
    let patch = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": status}]}});
    api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch)).await.map(|_| ())
}
