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

/// The pods of [`chain`], as Deployments would run them: `(app, version)` pairs.
pub const CHAIN_PODS: [(&str, &str); 6] =
    [("a", "v1"), ("a", "v2"), ("b", "v1"), ("b", "v2"), ("c", "v1"), ("c", "v2")];

impl TestEnv {
    /// Creates a Ready pod `app-version-<n>` labelled `app`, `version` (and `pod-template-hash`), owned by
    /// the ReplicaSet a Deployment `app-version` would create, so owners show as `Deployment/app-version`.
    pub async fn ready_pod(&self, ns: &str, app: &str, version: &str, index: usize) {
        self.pod(ns, app, version, index, true).await;
    }

    pub async fn pod(&self, ns: &str, app: &str, version: &str, index: usize, ready: bool) {
        let api: Api<Pod> = Api::namespaced(self.client().await, ns);
        let hash = "5d8c7f9b6";
        let name = format!("{app}-{version}-{hash}-{index}");
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {
                "name": name,
                "labels": {"app": app, "version": version, "pod-template-hash": hash},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{app}-{version}-{hash}"),
                                     "uid": "00000000-0000-0000-0000-000000000001", "controller": true}]
            },
            "spec": {"containers": [{"name": app, "image": format!("example/{app}:{version}")}]}
        }))
        .unwrap();
        api.create(&PostParams::default(), &pod).await.expect("create pod");
        let status = if ready { "True" } else { "False" };
        let patch = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": status}]}});
        api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch)).await.expect("pod status");
    }

    /// Creates the [`chain`] scenario with one Ready pod per version.
    pub async fn seed_chain(&self, ns: &str, break_b_v2: bool) {
        self.create_yaml(ns, &chain(break_b_v2)).await;
        for (app, version) in CHAIN_PODS {
            self.ready_pod(ns, app, version, 0).await;
        }
    }
}
