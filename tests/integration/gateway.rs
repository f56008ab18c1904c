//! Gateway API HTTPRoutes in `status` and `check`, against the real Gateway API CRDs (v1.6, experimental
//! channel): Istio's bookinfo shapes, precedence that differs from document order, consumer routes, a
//! Gateway-parented route, route status as a controller writes it, and the findings.

use crate::support::cli::JsonWatch;
use crate::support::{env, gateway::bookinfo_reviews};
use serde_json::{Value, json};
use std::process::Output;

use crate::support::cli::vroute as run;

fn json_of(out: &Output) -> Value {
    serde_json::from_str(&crate::support::cli::ok(out)).expect("valid JSON on stdout")
}

fn host<'a>(doc: &'a Value, host: &str) -> &'a Value {
    doc["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["host"] == host)
        .unwrap_or_else(|| panic!("no service {host} in {doc:#}"))
}

fn shares(rule: &Value) -> Vec<(String, f64)> {
    rule["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["version"].as_str().unwrap().to_string(), d["weightPercent"].as_f64().unwrap()))
        .collect()
}

fn codes(doc: &Value) -> Vec<String> {
    let general = doc["findings"].as_array().into_iter().flatten();
    let per_host = doc["services"].as_array().into_iter().flatten().flat_map(|s| s["findings"].as_array().unwrap());
    general.chain(per_host).map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn bookinfo_on_gateway_api_shows_versions_shares_and_precedence() {
    let env = env();
    let ns = env.namespace("gw-bookinfo").await;
    env.seed_bookinfo_reviews(&ns).await;
    let parent = json!({"group": "", "kind": "Service", "name": "reviews", "namespace": ns, "port": 9080});
    env.route_status(&ns, "reviews", json!([{"parentRef": parent, "controllerName": "istio.io/mesh-controller",
        "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted", "message": "Route was valid",
                        "lastTransitionTime": "2026-12-01T00:00:00Z"},
                       {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs", "message": "All references resolved",
                        "lastTransitionTime": "2026-12-01T00:00:00Z"}]}]))
    .await;

    let doc = json_of(&run(&["status", "reviews", "-n", &ns, "-o", "json"]));
    let svc = host(&doc, &format!("reviews.{ns}.svc.cluster.local"));
    assert_eq!(svc["split"], "host");
    assert_eq!(svc["httpRoutes"], json!([format!("{ns}/reviews")]));
    let rules = svc["rules"].as_array().unwrap();
    // The header rule is written second but applies first: Gateway API orders by specificity.
    assert_eq!(rules[0]["index"], 1, "{svc:#}");
    assert_eq!(rules[0]["matchSummary"], "header end-user=jason");
    assert_eq!(shares(&rules[0]), vec![(format!("reviews-v2.{ns}"), 100.0)]);
    assert_eq!(rules[1]["matchSummary"], "*");
    assert_eq!(shares(&rules[1]), vec![(format!("reviews-v1.{ns}"), 90.0), (format!("reviews-v2.{ns}"), 10.0)]);
    assert!(rules.iter().all(|r| r["reachable"] == true && r["audience"] == json!({"kind": "producers"})));
    assert_eq!(rules[0]["parent"], format!("Service/{ns}/reviews:9080"));
    assert_eq!(rules[0]["conditions"][0]["type"], "Accepted");
    // The API server defaulted the catch-all's matches; they are shown as stored.
    assert_eq!(rules[1]["matches"], json!([{"path": {"type": "PathPrefix", "value": "/"}}]));
    let versions: Vec<(&str, &Value)> =
        svc["versions"].as_array().unwrap().iter().map(|v| (v["name"].as_str().unwrap(), &v["pods"])).collect();
    assert_eq!(
        versions,
        vec![
            (format!("reviews-v1.{ns}").as_str(), &json!({"ready": 1, "total": 1})),
            (format!("reviews-v2.{ns}").as_str(), &json!({"ready": 1, "total": 1}))
        ]
    );
    assert!(codes(&doc).is_empty(), "{doc:#}");

    // The table: rules in the order they apply, to whom, and with -o wide the route, parent and Accepted.
    let out = run(&["status", "reviews", "-n", &ns, "-o", "wide"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("HTTPRoute {ns}/reviews")), "{text}");
    let header = text.lines().find(|l| l.starts_with("RULE")).unwrap_or_else(|| panic!("{text}"));
    for column in ["FOR", "MATCH", "BACKEND", "WEIGHT", "HTTPROUTE", "PARENT", "ACCEPTED"] {
        assert!(header.contains(column), "{header}");
    }
    let first = text.lines().skip_while(|l| !l.starts_with("RULE")).nth(1).unwrap();
    assert!(first.starts_with("#1") && first.contains("header end-user=jason") && first.contains("True"), "{text}");

    // `check` passes it: nothing is wrong.
    let out = run(&["check", "-n", &ns]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test]
async fn broken_http_routes_are_findings() {
    let env = env();
    let ns = env.namespace("gw-broken").await;
    let other = env.namespace("gw-other").await;
    env.seed_bookinfo_reviews(&ns).await;
    env.create_yaml(&other, "apiVersion: v1\nkind: Service\nmetadata: {name: ratings}\nspec: {selector: {app: ratings}, ports: [{port: 9080}]}\n").await;
    let broken = format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: ratings}}\nspec:\n  \
         parentRefs: [{{group: \"\", kind: Service, name: ratings}}]\n  rules:\n  \
         - backendRefs: [{{name: ratings-v9, port: 9080}}, {{name: ratings, namespace: {other}, port: 9080}}]\n  \
         - matches: [{{path: {{type: PathPrefix, value: /}}}}]\n    backendRefs: [{{name: reviews-v1, port: 9080, weight: 0}}]\n"
    );
    env.create_yaml(&ns, &broken).await;
    let parent = json!({"group": "", "kind": "Service", "name": "ratings", "namespace": ns});
    env.route_status(&ns, "ratings", json!([{"parentRef": parent, "controllerName": "istio.io/mesh-controller",
        "conditions": [{"type": "Accepted", "status": "False", "reason": "BackendNotFound", "message": "backend(ratings-v9) not found",
                        "lastTransitionTime": "2026-12-01T00:00:00Z"}]}]))
    .await;
    // The same host routed by a VirtualService too.
    env.create_yaml(&ns, "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\nspec:\n  hosts: [reviews]\n  http: [{route: [{destination: {host: reviews-v1}}]}]\n").await;

    let out = run(&["check", "-n", &ns, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "errors fail check: {}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["code"].as_str().unwrap().into(), f["message"].as_str().unwrap().into()))
        .collect();
    let has = |code: &str, text: &str| found.iter().any(|(c, m)| c == code && m.contains(text));
    assert!(has("VR119", &format!("names parent Service/{ns}/ratings, which does not exist")), "{found:#?}");
    assert!(has("VR120", "(BackendNotFound: backend(ratings-v9) not found)"), "{found:#?}");
    assert!(has("VR117", &format!("sends 50% to Service/{ns}/ratings-v9, which does not exist")), "{found:#?}");
    assert!(has("VR118", &format!("Service/{other}/ratings, in another namespace")), "{found:#?}");
    assert!(has("VR121", &format!("VirtualService {ns}/reviews and HTTPRoute {ns}/reviews")), "{found:#?}");
    // A lone backend at weight 0 routes nothing: not the "all zero" of several, but its share is 0.
    let doc = json_of(&run(&["status", "ratings", "-n", &ns, "-o", "json"]));
    let svc = host(&doc, &format!("ratings.{ns}.svc.cluster.local"));
    let catch_all = svc["rules"].as_array().unwrap().iter().find(|r| r["index"] == 1).unwrap();
    assert_eq!(shares(catch_all), vec![(format!("reviews-v1.{ns}"), 0.0)]);

    // A ReferenceGrant in the backend's namespace makes the cross-namespace backend valid.
    let grant = format!(
        "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {{name: from-{ns}}}\nspec:\n  \
         from: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: {ns}}}]\n  to: [{{group: \"\", kind: Service, name: ratings}}]\n"
    );
    env.create_yaml(&other, &grant).await;
    let doc: Value = serde_json::from_slice(&run(&["check", "-n", &ns, "-o", "json"]).stdout).unwrap();
    assert!(!codes_of_check(&doc).contains(&"VR118".to_string()), "{doc:#}");
}

fn codes_of_check(doc: &Value) -> Vec<String> {
    doc["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

/// Document order and Gateway API order differ: a VirtualService written this way would never reach its
/// later routes; the HTTPRoute reaches every rule, and only a true duplicate is unreachable.
#[tokio::test]
async fn precedence_follows_the_spec_not_document_order() {
    let env = env();
    let ns = env.namespace("gw-precedence").await;
    env.seed_bookinfo_reviews(&ns).await;
    let route = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: ordered}\nspec:\n  \
                 parentRefs: [{group: \"\", kind: Service, name: reviews-v3}]\n  rules:\n  \
                 - name: everything\n    backendRefs: [{name: reviews-v1, port: 9080}]\n  \
                 - name: api\n    matches: [{path: {type: PathPrefix, value: /api}}]\n    backendRefs: [{name: reviews-v2, port: 9080}]\n  \
                 - name: api-v2\n    matches: [{path: {type: PathPrefix, value: /api/v2}}]\n    backendRefs: [{name: reviews-v3, port: 9080}]\n  \
                 - name: health\n    matches: [{path: {type: Exact, value: /health}}]\n    backendRefs: [{name: reviews-v3, port: 9080}]\n  \
                 - name: api-again\n    matches: [{path: {type: PathPrefix, value: /api/}}]\n    backendRefs: [{name: reviews-v3, port: 9080}]\n";
    env.create_yaml(&ns, route).await;
    let doc = json_of(&run(&["status", "reviews-v3", "-n", &ns, "-o", "json"]));
    let svc = host(&doc, &format!("reviews-v3.{ns}.svc.cluster.local"));
    let order: Vec<(&str, bool)> = svc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["reachable"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        order,
        vec![("health", true), ("api-v2", true), ("api", true), ("api-again", false), ("everything", true)],
        "{svc:#}"
    );
    let found: Vec<&str> = svc["findings"].as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert!(found.iter().any(|m| m.contains("rule api-again never applies for every caller")), "{found:?}");
}

/// A route in the caller's namespace applies to callers there, before the producer's route; both are shown.
#[tokio::test]
async fn consumer_routes_override_producer_routes_for_their_callers() {
    let env = env();
    let ns = env.namespace("gw-producer").await;
    let shop = env.namespace("gw-consumer").await;
    env.seed_bookinfo_reviews(&ns).await;
    let consumer = format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: reviews-for-shop}}\nspec:\n  \
         parentRefs: [{{group: \"\", kind: Service, name: reviews, namespace: {ns}}}]\n  rules:\n  \
         - backendRefs: [{{name: reviews-v3, namespace: {ns}, port: 9080}}]\n"
    );
    env.create_yaml(&shop, &consumer).await;
    let grant = format!(
        "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {{name: from-shop}}\nspec:\n  \
         from: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: {shop}}}]\n  to: [{{group: \"\", kind: Service}}]\n"
    );
    env.create_yaml(&ns, &grant).await;
    // Seen from either namespace: the producer's namespace, and the consumer's (its route is there).
    for view in [&ns, &shop] {
        let doc = json_of(&run(&["status", "-n", view, "-o", "json"]));
        let svc = host(&doc, &format!("reviews.{ns}.svc.cluster.local"));
        let audiences: Vec<&Value> = svc["rules"].as_array().unwrap().iter().map(|r| &r["audience"]).collect();
        assert_eq!(
            audiences,
            vec![
                &json!({"kind": "producers"}),
                &json!({"kind": "producers"}),
                &json!({"kind": "consumers", "namespace": shop})
            ],
            "{svc:#}"
        );
        let last = &svc["rules"][2];
        assert_eq!(last["reachable"], true, "the consumer catch-all does not shadow the producer's rules");
        assert_eq!(shares(last), vec![(format!("reviews-v3.{ns}"), 100.0)]);
        assert_eq!(svc["httpRoutes"].as_array().unwrap().len(), 2);
        assert!(codes(&doc).is_empty(), "{doc:#}");
    }
    let text = String::from_utf8_lossy(&run(&["status", "reviews", "-n", &ns]).stdout).to_string();
    assert!(text.lines().any(|l| l.contains(&format!("ns {shop}")) && l.contains("reviews-v3")), "{text}");
}

#[tokio::test]
async fn gateway_routes_are_shown_by_hostname() {
    let env = env();
    let ns = env.namespace("gw-ingress").await;
    env.seed_bookinfo_reviews(&ns).await;
    let ingress = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: bookinfo-gateway}\nspec:\n  \
                   gatewayClassName: istio\n  listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}]\n\
                   ---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: bookinfo}\nspec:\n  \
                   parentRefs: [{name: bookinfo-gateway}]\n  hostnames: [bookinfo.example.com]\n  rules:\n  \
                   - matches: [{path: {type: PathPrefix, value: /reviews}}]\n    \
                     backendRefs: [{name: reviews-v1, port: 9080, weight: 3}, {name: reviews-v2, port: 9080}]\n    \
                     filters: [{type: RequestMirror, requestMirror: {backendRef: {name: reviews-v3, port: 9080}, percent: 25}}]\n    \
                     timeouts: {request: 10s}\n    retry: {attempts: 3, codes: [503]}\n";
    env.create_yaml(&ns, ingress).await;
    let doc = json_of(&run(&["status", "-n", &ns, "-o", "json"]));
    let svc = host(&doc, "bookinfo.example.com");
    let rule = &svc["rules"][0];
    assert_eq!(rule["audience"], json!({"kind": "gateway", "gateway": format!("{ns}/bookinfo-gateway")}));
    assert_eq!(shares(rule), vec![(format!("reviews-v1.{ns}"), 75.0), (format!("reviews-v2.{ns}"), 25.0)]);
    assert_eq!(rule["mirror"]["version"], format!("reviews-v3.{ns}"));
    assert_eq!(rule["mirror"]["percent"], 25.0);
    assert_eq!(rule["timeouts"], json!({"request": "10s"}));
    assert_eq!(rule["retry"], json!({"attempts": 3, "codes": [503]}));
    assert!(codes(&doc).is_empty(), "{doc:#}");
    let text = String::from_utf8_lossy(&run(&["status", "-n", &ns]).stdout).to_string();
    let row = text.lines().find(|l| l.contains("path^=/reviews")).unwrap_or_else(|| panic!("{text}"));
    for cell in ["reviews-v3", "25%", "3x on 503", "10s"] {
        assert!(row.contains(cell), "{cell} in {row}");
    }
}

/// `check -f` reads HTTPRoutes, Gateways and ReferenceGrants from manifests, no cluster involved.
#[test]
fn check_files_lints_http_routes_offline() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bookinfo.yaml");
    let broken = bookinfo_reviews()
        .replace("name: reviews-v2, port: 9080, weight: 10", "name: reviews-v4, port: 9080, weight: 10");
    std::fs::write(&file, broken).unwrap();
    let out = env().vroute().args(["check", "-f", file.to_str().unwrap(), "-n", "bookinfo"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("VR117") && text.contains("Service/bookinfo/reviews-v4, which does not exist"), "{text}");
}

/// Rules whose weights Argo Rollouts' Gateway API plugin sets belong to the Rollout: shown as managed, with
/// the Rollout's phase, step and the canary share the route gives.
#[tokio::test]
async fn rules_the_rollouts_gateway_api_plugin_manages_are_shown_as_owned() {
    let env = env();
    let ns = env.namespace("gw-rollout").await;
    env.seed_bookinfo_reviews(&ns).await;
    let strategy = json!({"canary": {
        "canaryService": "reviews-v2", "stableService": "reviews-v1",
        "steps": [{"setWeight": 10}, {"pause": {}}],
        "trafficRouting": {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "reviews", "namespace": ns}}}
    }});
    let status = json!({"currentStepIndex": 1, "currentPodHash": "abc", "stableRS": "def",
        "canary": {"weights": {"canary": {"weight": 10, "serviceName": "reviews-v2", "podTemplateHash": "abc"},
                               "stable": {"weight": 90, "serviceName": "reviews-v1", "podTemplateHash": "def"}}},
        "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-12-01T00:00:00Z"}], "controllerPause": true});
    env.seed_rollout(&ns, crate::support::scenarios::rollout("reviews", strategy, false), status).await;
    let doc = json_of(&run(&["status", "reviews", "-n", &ns, "-o", "json"]));
    let svc = host(&doc, &format!("reviews.{ns}.svc.cluster.local"));
    for rule in svc["rules"].as_array().unwrap() {
        assert_eq!(rule["managedBy"], format!("Rollout/{ns}/reviews"), "{rule:#}");
    }
    assert_eq!(svc["rollout"]["name"], "reviews");
    assert_eq!(svc["rollout"]["step"], "1/2");
    assert_eq!(svc["rollout"]["desiredCanaryWeight"], 10);
    assert_eq!(svc["rollout"]["actualCanaryWeight"], 10.0);
    assert!(codes(&doc).is_empty(), "the route gives what the Rollout wants: {doc:#}");
    let text = String::from_utf8_lossy(&run(&["status", "reviews", "-n", &ns, "-o", "wide"]).stdout).to_string();
    assert!(text.contains(&format!("Rollout {ns}/reviews (canary): Paused")), "{text}");
    assert!(text.lines().filter(|l| l.contains(&format!("Rollout/{ns}/reviews"))).count() >= 2, "{text}");
}

/// Ambient mode: once a waypoint serves the namespace, the chain's `sourceLabels` pinning no longer holds, and
/// `status` and `check` say so instead of passing.
#[tokio::test]
async fn source_labels_pinning_under_a_waypoint_is_reported() {
    let env = env();
    let ns = env.namespace("gw-ambient").await;
    env.seed_chain(&ns, false).await;
    let out = run(&["check", "-n", &ns]);
    assert_eq!(out.status.code(), Some(0), "the chain is consistent with sidecars");
    let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(env.client().await);
    let labels =
        json!({"metadata": {"labels": {"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint"}}});
    api.patch(&ns, &Default::default(), &kube::api::Patch::Merge(&labels)).await.expect("label the namespace");
    let doc = json_of(&run(&["status", "b", "-n", &ns, "-o", "json"]));
    let b = host(&doc, &format!("b.{ns}.svc.cluster.local"));
    assert_eq!(b["waypoint"], "waypoint");
    let vr122: Vec<&str> = b["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "VR122")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(vr122.len(), 1, "{b:#}");
    assert!(vr122[0].contains(&format!("(Namespace/{ns} has istio.io/use-waypoint)")), "{}", vr122[0]);
    let out = run(&["check", "-n", &ns]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let text = String::from_utf8_lossy(&run(&["status", "b", "-n", &ns]).stdout).to_string();
    assert!(text.contains("version-pinned, waypoint waypoint)"), "{text}");

    // Its traffic comes from the waypoint's reports (`reporter="waypoint"`); sidecar-era series are not it.
    let now = jiff::Timestamp::now().as_second();
    let edge = |v: &str| crate::support::IstioEdge::new(&ns, "a", v, "b", v);
    let mut om = crate::support::OpenMetrics::default();
    om.steady(&crate::support::IstioEdge { reporter: "waypoint", ..edge("v1") }, now - 600, 30, 20, 300); // 10 rps
    om.steady(&crate::support::IstioEdge { reporter: "waypoint", ..edge("v2") }.code(503), now - 600, 30, 20, 30);
    om.steady(&edge("v2"), now - 600, 30, 20, 150); // reporter="destination": not how this host is served now
    let prom =
        crate::support::Prometheus::start(&env.work.join(format!("prom-{ns}")), Some(&om.finish()), &[]).await.unwrap();
    let doc = json_of(&run(&["status", "b", "-n", &ns, "-o", "json", "--prometheus-url", &prom.url]));
    let b = host(&doc, &format!("b.{ns}.svc.cluster.local"));
    let traffic = |name: &str| {
        let v = b["versions"].as_array().unwrap().iter().find(|v| v["name"] == name).unwrap();
        (v["traffic"]["requestsPerSecond"].as_f64().unwrap_or(0.0), v["traffic"]["errorRate"].as_f64())
    };
    let (v1, _) = traffic("v1");
    assert!((v1 - 10.0).abs() < 0.5, "v1 from the waypoint: {v1}");
    let (v2, errors) = traffic("v2");
    assert!((v2 - 1.0).abs() < 0.2, "v2 only from the waypoint (1 rps of 503s), not the sidecar's 5: {v2}");
    assert_eq!(errors, Some(1.0));

    // `--reporter destination` overrides the detection: the sidecars' reports are read, for every host.
    let doc = json_of(&run(&[
        "status",
        "b",
        "-n",
        &ns,
        "-o",
        "json",
        "--prometheus-url",
        &prom.url,
        "--reporter",
        "destination",
    ]));
    let b = host(&doc, &format!("b.{ns}.svc.cluster.local"));
    let rate = |name: &str| {
        let v = b["versions"].as_array().unwrap().iter().find(|v| v["name"] == name).unwrap();
        v["traffic"]["requestsPerSecond"].as_f64().unwrap_or(0.0)
    };
    assert!((rate("v2") - 5.0).abs() < 0.5 && rate("v1") == 0.0, "the sidecar's series: {b:#}");
}

/// `status --watch` redraws on HTTPRoute changes: a weight moved in the route, and a consumer route created in
/// another namespace (HTTPRoutes are watched cluster-wide, as they are read).
#[tokio::test]
async fn watch_redraws_when_an_http_route_changes() {
    use std::time::Duration;
    let env = env();
    let ns = env.namespace("gw-watch").await;
    let shop = env.namespace("gw-watch-consumer").await;
    env.seed_bookinfo_reviews(&ns).await;
    let watch = JsonWatch::start(&["status", "reviews", "-n", &ns, "--watch", "-o", "json"]);
    let reviews = format!("reviews.{ns}.svc.cluster.local");
    let split = |doc: &Value| shares(&host(doc, &reviews)["rules"][1]);
    let first = watch.until("a first draw", Duration::from_secs(20), |_| true);
    assert_eq!(split(&first)[0].1, 90.0);

    let gvk = kube::api::GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "HTTPRoute");
    let api: kube::Api<kube::api::DynamicObject> =
        kube::Api::namespaced_with(env.client().await, &ns, &kube::api::ApiResource::from_gvk(&gvk));
    // A merge patch replaces the whole rules list: both rules, the split now 50/50.
    let patch = json!({"spec": {"rules": [
        {"backendRefs": [{"name": "reviews-v1", "port": 9080, "weight": 50}, {"name": "reviews-v2", "port": 9080, "weight": 50}]},
        {"matches": [{"headers": [{"type": "Exact", "name": "end-user", "value": "jason"}]}],
         "backendRefs": [{"name": "reviews-v2", "port": 9080}]}]}});
    api.patch("reviews", &Default::default(), &kube::api::Patch::Merge(&patch)).await.unwrap();
    watch.until("the split at 50/50", Duration::from_secs(20), |doc| split(doc)[0].1 == 50.0);

    let consumer = format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: reviews-for-shop}}\nspec:\n  \
         parentRefs: [{{group: \"\", kind: Service, name: reviews, namespace: {ns}}}]\n  rules:\n  \
         - backendRefs: [{{name: reviews-v3, namespace: {ns}, port: 9080}}]\n"
    );
    env.create_yaml(&shop, &consumer).await;
    watch.until("the consumer route", Duration::from_secs(20), |doc| {
        host(doc, &reviews)["httpRoutes"].as_array().is_some_and(|r| r.len() == 2)
    });
}

/// The way out of VR122: `pin --header` routes by a header the callers propagate, which a waypoint applies.
/// It replaces vroute's sourceLabels pins, the chain check walks each version's header through the routes, and
/// cross-version traffic the waypoint reports is still caught (VR111).
#[tokio::test]
async fn header_pinning_holds_under_a_waypoint_and_its_crossings_are_seen() {
    let env = env();
    let ns = env.namespace("gw-header-pin").await;
    let yaml = [
        crate::support::scenarios::service_and_subsets("b", &["v1", "v2"]),
        crate::support::scenarios::weighted_routes("b", ("v1", 100), ("v2", 0), ""),
    ];
    env.create_yaml(&ns, &yaml.join("---\n")).await;
    env.ready_pod(&ns, "b", "v1", 0).await;
    env.ready_pod(&ns, "b", "v2", 0).await;
    crate::support::cli::ok(&run(&["pin", "b", "-n", &ns]));
    let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(env.client().await);
    let labels = json!({"metadata": {"labels": {"istio.io/use-waypoint": "waypoint"}}});
    api.patch(&ns, &Default::default(), &kube::api::Patch::Merge(&labels)).await.expect("label the namespace");
    let out = run(&["check", "-n", &ns]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("VR122") && text.contains("kubectl vroute pin b --header x-version"), "{text}");

    let out = crate::support::cli::ok(&run(&["pin", "b", "--header", "x-version", "-n", &ns]));
    assert_eq!(
        out,
        format!(
            "virtualservice {ns}/b: requests with header x-version now pinned x-version=v1 -> v1, x-version=v2 -> v2\n"
        )
    );
    let vs = json_of(&env.kubectl().args(["get", "virtualservice", "b", "-n", &ns, "-o", "json"]).output().unwrap());
    let names: Vec<&str> = vs["spec"]["http"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["vroute-pin-v1", "vroute-pin-v2", "primary"], "the sourceLabels pins were replaced");
    let out = run(&["check", "-n", &ns]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let text = String::from_utf8_lossy(&run(&["status", "b", "-n", &ns]).stdout).to_string();
    assert!(text.contains("version-pinned by header x-version, waypoint waypoint)"), "{text}");
    let doc = json_of(&run(&["status", "b", "-n", &ns, "-o", "json"]));
    assert_eq!(host(&doc, &format!("b.{ns}.svc.cluster.local"))["pinHeader"], "x-version");

    // A caller that does not propagate the header: the waypoint reports v1 -> v2 traffic.
    let now = jiff::Timestamp::now().as_second();
    let mut om = crate::support::OpenMetrics::default();
    let crossing =
        crate::support::IstioEdge { reporter: "waypoint", ..crate::support::IstioEdge::new(&ns, "a", "v1", "b", "v2") };
    om.steady(&crossing, now - 600, 30, 20, 300);
    let prom =
        crate::support::Prometheus::start(&env.work.join(format!("prom-{ns}")), Some(&om.finish()), &[]).await.unwrap();
    let doc = json_of(&run(&["status", "b", "-n", &ns, "-o", "json", "--prometheus-url", &prom.url]));
    let b = host(&doc, &format!("b.{ns}.svc.cluster.local"));
    let vr111: Vec<&str> = b["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "VR111")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(vr111.len(), 1, "{b:#}");
    assert!(vr111[0].contains(&format!("from a (version=v1) to b.{ns} version=v2")), "{}", vr111[0]);
}

/// `pin --header` on an HTTPRoute host writes one rule per version; the chain check then finds that bookinfo's
/// `end-user: jason` rule (written before the pins, so it wins the tie) takes jason's v1 and v3 requests to v2.
#[tokio::test]
async fn header_pinning_an_http_route_adds_rules_and_the_chain_check_walks_them() {
    let env = env();
    let ns = env.namespace("gw-rule-pin").await;
    env.seed_bookinfo_reviews(&ns).await;
    let err = crate::support::cli::fails(&run(&["pin", "reviews", "-n", &ns]), 7);
    assert!(err.contains("pin callers by a request header they propagate instead"), "{err}");
    let out = crate::support::cli::ok(&run(&["pin", "reviews", "--header", "x-version", "-n", &ns]));
    assert!(out.contains(&format!("x-version=v3 -> reviews-v3.{ns}")), "{out}");
    let route =
        json_of(&env.kubectl().args(["get", "httproute", "reviews", "-n", &ns, "-o", "json"]).output().unwrap());
    let rules = route["spec"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 5, "{rules:#?}");
    assert_eq!(rules[4]["name"], "vroute-pin-v3");
    assert_eq!(rules[4]["matches"][0]["headers"], json!([{"type": "Exact", "name": "x-version", "value": "v3"}]));
    // Idempotent against the stored (defaulted) object.
    let again = crate::support::cli::ok(&run(&["pin", "reviews", "--header", "x-version", "-n", &ns]));
    assert!(again.contains("unchanged"), "{again}");

    let out = run(&["check", "-n", &ns, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let messages: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "VR110")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    let broken = |v: &str| {
        format!(
            "requests with x-version={v} can reach another version of reviews.{ns}: rule #1 sends 100% to reviews-v2.{ns}"
        )
    };
    assert_eq!(messages, [broken("v1"), broken("v3")]);
}
