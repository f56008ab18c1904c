//! Proof that the test environment is the real thing: CRD schemas validate, RBAC denies, subresources behave
//! as upstream, Prometheus answers PromQL over Istio series, and kubectl finds the plugin.

use crate::support::{IstioEdge, OpenMetrics, Prometheus, env};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use serde_json::json;
use std::process::Command;

fn vs_resource(version: &str) -> ApiResource {
    ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk("networking.istio.io", version, "VirtualService"))
}

fn virtual_service(name: &str, weight: serde_json::Value) -> serde_json::Value {
    json!({
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": name},
        "spec": {
            "hosts": ["reviews"],
            "http": [{"route": [
                {"destination": {"host": "reviews", "subset": "v1"}, "weight": weight},
                {"destination": {"host": "reviews", "subset": "v2"}, "weight": 10}
            ]}]
        }
    })
}

#[tokio::test]
async fn istio_crd_schema_rejects_a_fractional_weight_and_serves_v1beta1() {
    let env = env();
    let ns = env.namespace("schema").await;
    let client = env.client().await;
    let v1: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &vs_resource("v1"));

    let bad: DynamicObject = serde_json::from_value(virtual_service("bad", json!(90.5))).unwrap();
    let err = v1.create(&Default::default(), &bad).await.expect_err("fractional weight must be refused");
    let kube::Error::Api(status) = err else { panic!("expected an API error, got {err}") };
    assert_eq!(status.code, 422, "{status:?}");
    assert!(status.message.contains("weight"), "message names the field: {}", status.message);

    let good: DynamicObject = serde_json::from_value(virtual_service("good", json!(90))).unwrap();
    v1.create(&Default::default(), &good).await.expect("well-formed VirtualService");
    let v1beta1: Api<DynamicObject> = Api::namespaced_with(client, &ns, &vs_resource("v1beta1"));
    let read = v1beta1.get("good").await.expect("readable as v1beta1");
    assert_eq!(read.types.unwrap().api_version, "networking.istio.io/v1beta1");
    assert_eq!(read.data["spec"], virtual_service("good", json!(90))["spec"]);
}

#[tokio::test]
async fn rbac_denies_a_user_without_a_role_until_one_is_bound() {
    let env = env();
    let ns = env.namespace("rbac").await;
    let (user, _) = env.restricted_user(&ns, "viewer").await;
    let vs: Api<DynamicObject> = Api::namespaced_with(user, &ns, &vs_resource("v1"));
    match vs.list(&Default::default()).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 403, "{status:?}"),
        other => panic!("expected 403 Forbidden, got {other:?}"),
    }

    let rules = "- apiGroups: [networking.istio.io]\n  resources: [virtualservices]\n  verbs: [get, list]";
    let rbac = crate::support::role_for(&ns, "viewer", rules);
    env.create_yaml(&ns, &rbac).await;
    // RBAC is evaluated from an informer cache: allow it a moment to see the new binding.
    let mut last = None;
    for _ in 0..50 {
        match vs.list(&Default::default()).await {
            Ok(list) => {
                assert!(list.items.is_empty());
                return;
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("still denied after the RoleBinding: {last:?}");
}

#[tokio::test]
async fn rollout_status_is_only_written_through_its_subresource() {
    let env = env();
    let ns = env.namespace("subresource").await;
    let rollout = r#"
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: reviews}
spec:
  replicas: 1
  selector: {matchLabels: {app: reviews}}
  template:
    metadata: {labels: {app: reviews}}
    spec: {containers: [{name: app, image: example/reviews:v1}]}
  strategy:
    canary:
      steps: [{setWeight: 20}, {pause: {}}]
"#;
    env.create_yaml(&ns, rollout).await;
    let ar = ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Rollout"));
    let api: Api<DynamicObject> = Api::namespaced_with(env.client().await, &ns, &ar);
    let patch = json!({"status": {"abort": true}});

    let main = api.patch("reviews", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    assert!(main.data["status"]["abort"].is_null(), "main resource ignores status: {}", main.data["status"]);

    let via_status = api.patch_status("reviews", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    assert_eq!(via_status.data["status"]["abort"], json!(true));
    assert_eq!(api.get("reviews").await.unwrap().data["status"]["abort"], json!(true));
}

#[tokio::test]
async fn prometheus_answers_istio_promql_with_the_fed_values() {
    let env = env();
    let now = 1_700_000_000; // a fixed instant: backfilled data makes the answer deterministic
    let start = now - 600;
    let mut om = OpenMetrics::default();
    let ok = IstioEdge::new("shop", "productpage", "v2", "reviews", "v2");
    om.steady(&ok, start, 30, 20, 300);
    // 5xx series: 12 errors in every 30 s step, so 120 in the last 5 minutes.
    om.steady(&ok.clone().code(503), start, 30, 20, 12);
    om.steady(&IstioEdge::new("shop", "productpage", "v1", "reviews", "v1"), start, 30, 20, 100);
    let prom = Prometheus::start(&env.work.join("prom-foundation"), Some(&om.finish()), &[]).await.unwrap();

    let errors = r#"sum(increase(istio_requests_total{destination_version="v2",response_code=~"5.."}[5m]))"#;
    let result = prom.query(errors, now).await.unwrap();
    let value: f64 = result[0]["value"][1].as_str().unwrap().parse().unwrap();
    // increase() extrapolates to the window edges; with samples on both edges it is exact.
    assert!((value - 120.0).abs() < 1e-6, "expected 120 errors, got {value} ({result})");

    let none = r#"sum(increase(istio_requests_total{destination_version="v3",response_code=~"5.."}[5m]))"#;
    assert_eq!(prom.query(none, now).await.unwrap(), json!([]), "no series -> empty vector, not 0");
}

#[test]
fn binaries_answer_help_and_version_and_kubectl_finds_the_plugin() {
    for bin in [env!("CARGO_BIN_EXE_kubectl-vroute"), env!("CARGO_BIN_EXE_vroute-analysis")] {
        let out = Command::new(bin).arg("--version").output().unwrap();
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
        let help = Command::new(bin).arg("--help").output().unwrap();
        assert!(help.status.success() && String::from_utf8_lossy(&help.stdout).contains("Usage"));
    }
    // A command's own flags first, kubectl's connection flags apart under their own heading.
    let help = Command::new(env!("CARGO_BIN_EXE_kubectl-vroute")).args(["status", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    let (own, cluster) = help.split_once("Cluster flags (as kubectl's):").expect("a cluster-flags heading");
    assert!(own.contains("--watch") && !own.contains("--context"), "{help}");
    assert!(cluster.contains("--context") && cluster.contains("--namespace"), "{help}");

    let env = env();
    let plugin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_kubectl-vroute")).parent().unwrap();
    let path = format!("{}:{}", plugin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = env.kubectl().env("PATH", path).args(["vroute", "--version"]).output().unwrap();
    assert!(out.status.success(), "kubectl vroute: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    // On the PATH the demo prints, `kubectl plugin list` finds the plugin with no warning (cargo's own directory
    // also holds kubectl-vroute.d, dep-info kubectl would warn about as a plugin that is not executable).
    let out = env.kubectl().env("PATH", crate::support::plugin_path()).args(["plugin", "list"]).output().unwrap();
    let (listed, warned) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(listed.contains("vroute-plugin/kubectl-vroute"), "{listed}");
    assert!(!warned.contains("kubectl-vroute"), "{warned}");
}
