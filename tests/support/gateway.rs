//! Gateway API scenarios: Istio's bookinfo reviews on Gateway API (one Service per version, a mesh HTTPRoute)
//! and route status written where a controller would write it.

use super::TestEnv;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::json;

/// `reviews` and `reviews-v1..v3` Services (each version's selects its pods), and Istio's bookinfo mesh
/// route `reviews`: 90/10 between v1 and v2, and `end-user: jason` to v2, the header rule written last.
pub fn bookinfo_reviews() -> String {
    let mut out = String::from(
        "apiVersion: v1\nkind: Service\nmetadata: {name: reviews}\nspec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}\n",
    );
    for v in ["v1", "v2", "v3"] {
        out += &format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: reviews-{v}}}\n\
             spec: {{selector: {{app: reviews, version: {v}}}, ports: [{{name: http, port: 9080}}]}}\n"
        );
    }
    out + "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: reviews}\nspec:\n  \
           parentRefs: [{group: \"\", kind: Service, name: reviews, port: 9080}]\n  rules:\n  \
           - backendRefs: [{name: reviews-v1, port: 9080, weight: 90}, {name: reviews-v2, port: 9080, weight: 10}]\n  \
           - matches: [{headers: [{type: Exact, name: end-user, value: jason}]}]\n    \
             backendRefs: [{name: reviews-v2, port: 9080}]\n"
}

impl TestEnv {
    /// [`bookinfo_reviews`] with one Ready pod per version.
    pub async fn seed_bookinfo_reviews(&self, ns: &str) {
        self.create_yaml(ns, &bookinfo_reviews()).await;
        for v in ["v1", "v2", "v3"] {
            self.ready_pod(ns, "reviews", v, 0).await;
        }
    }

    /// Writes an HTTPRoute's `status.parents` as the parent's controller would.
    pub async fn route_status(&self, ns: &str, name: &str, parents: serde_json::Value) {
        let gvk = GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "HTTPRoute");
        let api: Api<DynamicObject> = Api::namespaced_with(self.client().await, ns, &ApiResource::from_gvk(&gvk));
        let patch = json!({"status": {"parents": parents}});
        api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await.expect("HTTPRoute status");
    }
}
