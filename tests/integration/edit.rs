//! `set-weight`, `switch`, `mirror`, `pin` and `undo`, run through the real kubectl against the real API server
//! (whose Istio CRD schemas validate every write): each safety rule with its message and exit code, dry runs,
//! history, RBAC, and concurrent writers.

use crate::support::cli::{fails, ok, once_rbac_settles, stderr, vroute};
use crate::support::role_for;
use crate::support::{env, scenarios};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use std::process::Output;
use std::time::{Duration, Instant};

async fn api(ns: &str, kind: &str) -> Api<DynamicObject> {
    env().istio(ns, kind).await
}

async fn get(ns: &str, kind: &str, name: &str) -> Value {
    serde_json::to_value(api(ns, kind).await.get(name).await.expect("get object")).unwrap()
}

/// `(subset or host, weight)` of each destination of the named route.
fn split(vs: &Value, route: &str) -> Vec<(String, i64)> {
    let route = vs["spec"]["http"].as_array().unwrap().iter().find(|r| r["name"] == route).expect("route");
    route["route"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let dest = &d["destination"];
            let version = dest["subset"].as_str().or(dest["host"].as_str()).unwrap().to_string();
            (version, d["weight"].as_i64().unwrap_or(-1))
        })
        .collect()
}

fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(v, w)| (v.to_string(), *w)).collect()
}

fn history(vs: &Value) -> Vec<Value> {
    serde_json::from_str(vs["metadata"]["annotations"]["vroute.kubectl.io/history"].as_str().unwrap_or("[]")).unwrap()
}

/// Service `reviews` with subsets v1 and v2 (one Ready pod each), and a VirtualService whose route `primary`
/// sends everything to v1 (`extra` is appended to that route).
async fn reviews(prefix: &str, extra: &str) -> String {
    let env = env();
    let ns = env.namespace(prefix).await;
    let yaml = [
        scenarios::service_and_subsets("reviews", &["v1", "v2"]),
        scenarios::weighted_routes("reviews", ("v1", 100), ("v2", 0), extra),
    ];
    env.create_yaml(&ns, &yaml.join("---\n")).await;
    env.ready_pod(&ns, "reviews", "v1", 0).await;
    env.ready_pod(&ns, "reviews", "v2", 0).await;
    ns
}

/// Copies of an object with the fields every write changes removed.
fn stable_part(obj: &Value) -> Value {
    let mut obj = obj.clone();
    let meta = obj["metadata"].as_object_mut().unwrap();
    for volatile in ["resourceVersion", "generation", "managedFields"] {
        meta.remove(volatile);
    }
    if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
        annotations.retain(|k, _| !k.starts_with("vroute.kubectl.io/"));
    }
    obj
}

#[tokio::test]
async fn set_weight_changes_one_split_and_keeps_every_other_field() {
    let env = env();
    let ns = env.namespace("keep").await;
    env.create_yaml(&ns, &scenarios::service_and_subsets("reviews", &["v1", "v2"])).await;
    env.ready_pod(&ns, "reviews", "v1", 0).await;
    env.ready_pod(&ns, "reviews", "v2", 0).await;
    let vs = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  labels: {team: books}
  annotations: {owner: "books@example.com"}
spec:
  hosts: [reviews]
  exportTo: ["."]
  http:
  - name: jason
    match: [{headers: {end-user: {exact: jason}}}]
    rewrite: {uri: /v2}
    corsPolicy: {allowOrigins: [{exact: "https://example.com"}]}
    route: [{destination: {host: reviews, subset: v2, port: {number: 8080}}}]
  - name: primary
    retries: {attempts: 3, perTryTimeout: 2s, retryOn: 5xx}
    fault: {delay: {fixedDelay: 5s, percentage: {value: 0.1}}}
    route:
    - destination: {host: reviews, subset: v1, port: {number: 8080}}
      headers: {request: {set: {x-version: v1}}}
      weight: 100
  tcp:
  - route: [{destination: {host: reviews, port: {number: 9000}}}]
"#;
    env.create_yaml(&ns, vs).await;
    let before = get(&ns, "VirtualService", "reviews").await;

    let out = ok(&vroute(&["set-weight", "reviews", "v1=90", "v2=10", "-n", &ns]));
    assert_eq!(out, format!("virtualservice {ns}/reviews: route \"primary\" now v1 90%, v2 10%\n"));

    let after = get(&ns, "VirtualService", "reviews").await;
    // Exactly the weights changed (and the new destination was added, copying its sibling's port).
    let mut expected = stable_part(&before);
    let route = &mut expected["spec"]["http"][1]["route"];
    route[0]["weight"] = json!(90);
    route
        .as_array_mut()
        .unwrap()
        .push(json!({"destination": {"host": "reviews", "subset": "v2", "port": {"number": 8080}}, "weight": 10}));
    assert_eq!(stable_part(&after), expected);
    let versions: Value =
        serde_json::from_str(after["metadata"]["annotations"]["vroute.kubectl.io/versions"].as_str().unwrap()).unwrap();
    assert_eq!(versions, json!({"primary": {"stable": "v1", "canary": "v2"}}));

    // The read model agrees.
    let doc: Value = serde_json::from_str(&ok(&vroute(&["status", "reviews", "-n", &ns, "-o", "json"]))).unwrap();
    let primary = &doc["services"][0]["routes"][1];
    let shares: Vec<f64> =
        primary["destinations"].as_array().unwrap().iter().map(|d| d["weightPercent"].as_f64().unwrap()).collect();
    assert_eq!(shares, [90.0, 10.0]);
}

#[tokio::test]
async fn unsafe_edits_are_refused_with_exit_7_and_change_nothing() {
    let env = env();
    let ns = reviews("refuse", "").await;
    // v3: a subset whose only pod is not ready.
    let yaml = scenarios::service_and_subsets("reviews", &["v1", "v2", "v3"]);
    let dr = crate::support::parse_yaml_docs(&yaml).pop().unwrap();
    api(&ns, "DestinationRule")
        .await
        .patch("reviews", &PatchParams::default(), &Patch::Merge(&json!({"spec": dr["spec"]})))
        .await
        .unwrap();
    env.pod(&ns, "reviews", "v3", 0, false).await;
    let rv = || async { get(&ns, "VirtualService", "reviews").await["metadata"]["resourceVersion"].clone() };
    let unchanged = rv().await;

    // Wrong arguments are usage errors (4); what the cluster's state makes unsafe is refused (7).
    let cases: [(&[&str], &str, i32); 8] = [
        (
            &["set-weight", "reviews", "v1=50", "v9=50"],
            "reviews.NS has no version \"v9\"; known versions: v1, v2, v3",
            4,
        ),
        (&["set-weight", "reviews", "v1=110", "v2=-10"], "weight \"v2=-10\": a weight cannot be negative", 4),
        (&["set-weight", "reviews", "v1=89.5", "v2=10.5"], "weight \"v1=89.5\": a weight must be a whole number", 4),
        (
            &["set-weight", "reviews", "v1=90", "v2=20"],
            "weights add up to 110, not 100 (v1=90 v2=20): fix them, or pass --normalize",
            4,
        ),
        (&["set-weight", "reviews", "v1=0", "v2=0", "--normalize"], "weights add up to 0", 4),
        (
            &["set-weight", "reviews", "v1=90", "v3=10"],
            "would send 10% to version v3, which has no ready pods (0/1 ready)",
            7,
        ),
        (&["switch", "reviews", "v3"], "pass --force", 7),
        (
            &["set-weight", "reviews", "v1=100", "--route", "nope"],
            "has no http route \"nope\"; its routes are: primary",
            4,
        ),
    ];
    for (args, message, code) in cases {
        let args: Vec<&str> = args.iter().copied().chain(["-n", &ns]).collect();
        let err = fails(&vroute(&args), code);
        assert!(err.contains(&message.replace("NS", &ns)), "{args:?}: {err}");
    }
    assert_eq!(rv().await, unchanged, "no refusal wrote anything");

    // --normalize scales relative weights; --force overrides the ready-pods rule.
    ok(&vroute(&["set-weight", "reviews", "v1=3", "v2=1", "--normalize", "-n", &ns]));
    assert_eq!(split(&get(&ns, "VirtualService", "reviews").await, "primary"), pairs(&[("v1", 75), ("v2", 25)]));
    ok(&vroute(&["set-weight", "reviews", "v1=90", "v3=10", "--force", "-n", &ns]));

    // Several routes and none catches everything: the user must choose.
    let two = json!({"spec": {"http": [
        {"name": "a", "match": [{"uri": {"prefix": "/a"}}], "route": [{"destination": {"host": "reviews", "subset": "v1"}}]},
        {"name": "b", "match": [{"uri": {"prefix": "/b"}}], "route": [{"destination": {"host": "reviews", "subset": "v1"}}]}]}});
    api(&ns, "VirtualService").await.patch("reviews", &PatchParams::default(), &Patch::Merge(&two)).await.unwrap();
    let err = fails(&vroute(&["switch", "reviews", "v2", "-n", &ns]), 4);
    assert!(err.contains("none of them catches every request: pick one with --route (a, b)"), "{err}");

    // Bad flags are usage errors, not refusals.
    fails(&vroute(&["mirror", "reviews", "-n", &ns]), 4);
    fails(&vroute(&["set-weight", "reviews", "v1=100", "--dry-run=maybe", "-n", &ns]), 4);
}

#[tokio::test]
async fn dry_runs_store_nothing_and_server_dry_run_runs_the_schema() {
    let ns = reviews("dryrun", "").await;
    let before = get(&ns, "VirtualService", "reviews").await;

    for mode in ["--dry-run=client", "--dry-run=server"] {
        let out = ok(&vroute(&["set-weight", "reviews", "v1=90", "v2=10", mode, "-n", &ns, "-o", "json"]));
        let doc: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["dryRun"], mode.trim_start_matches("--dry-run="));
        let result = &doc["results"][0];
        assert_eq!((result["kind"].as_str(), result["changed"].as_bool()), (Some("VirtualService"), Some(true)));
        assert_eq!(split(&result["object"], "primary"), pairs(&[("v1", 90), ("v2", 10)]), "{mode}");
    }
    let human = ok(&vroute(&["switch", "reviews", "v2", "--dry-run=server", "-n", &ns]));
    assert_eq!(human, format!("virtualservice {ns}/reviews: route \"primary\" now v1 0%, v2 100% (server dry run)\n"));
    assert_eq!(get(&ns, "VirtualService", "reviews").await, before, "dry runs stored nothing");

    // A history entry whose routes the schema refuses (a 0s timeout): only the server's dry run notices.
    let mut bad = before["spec"]["http"].clone();
    bad[0]["timeout"] = json!("0s");
    let entry = json!([{"revision": 1, "time": "2025-01-01T00:00:00Z", "command": "set-weight v1=100", "http": bad}]);
    let annotate = json!({"metadata": {"annotations": {"vroute.kubectl.io/history": entry.to_string()}}});
    let annotated = api(&ns, "VirtualService")
        .await
        .patch("reviews", &PatchParams::default(), &Patch::Merge(&annotate))
        .await
        .unwrap();
    ok(&vroute(&["undo", "reviews", "--dry-run=client", "-n", &ns]));
    let err = fails(&vroute(&["undo", "reviews", "--dry-run=server", "-n", &ns]), 5);
    assert!(err.contains("update virtualservices.networking.istio.io") && err.contains("timeout"), "{err}");
    let now = get(&ns, "VirtualService", "reviews").await;
    assert_eq!(now["metadata"]["resourceVersion"], json!(annotated.metadata.resource_version));
}

#[tokio::test]
async fn diff_shows_the_spec_before_and_after() {
    let ns = reviews("diff", "").await;
    let out = ok(&vroute(&["set-weight", "reviews", "v1=90", "v2=10", "--diff", "-n", &ns]));
    assert!(
        out.starts_with(&format!(
            "--- VirtualService {ns}/reviews (before)\n+++ VirtualService {ns}/reviews (after)\n@@"
        )),
        "{out}"
    );
    let changed: Vec<&str> =
        out.lines().filter(|l| l.starts_with(['-', '+']) && !l.starts_with("---") && !l.starts_with("+++")).collect();
    assert_eq!(changed, ["-    weight: 100", "+    weight: 90", "-    weight: 0", "+    weight: 10"], "{out}");
    assert!(out.ends_with(&format!("virtualservice {ns}/reviews: route \"primary\" now v1 90%, v2 10%\n")), "{out}");
    assert!(!out.contains("vroute.kubectl.io"), "annotations are not part of the diff: {out}");
}

#[tokio::test]
async fn undo_restores_earlier_routes_and_is_itself_undoable() {
    let ns = reviews("undo", "").await;
    let original = get(&ns, "VirtualService", "reviews").await;
    ok(&vroute(&["set-weight", "reviews", "v1=90", "v2=10", "-n", &ns]));
    ok(&vroute(&["switch", "reviews", "v2", "-n", &ns]));
    let vs = get(&ns, "VirtualService", "reviews").await;
    let commands: Vec<String> = history(&vs).iter().map(|h| h["command"].as_str().unwrap().to_string()).collect();
    assert_eq!(commands, ["set-weight v1=90 v2=10", "switch v2"]);

    let out = ok(&vroute(&["undo", "reviews", "-n", &ns]));
    assert!(out.contains("routes now as before revision 2 (") && out.contains(", switch v2)"), "{out}");
    assert_eq!(split(&get(&ns, "VirtualService", "reviews").await, "primary"), pairs(&[("v1", 90), ("v2", 10)]));
    // Undo is an edit too: undoing it brings the switch back.
    ok(&vroute(&["undo", "reviews", "-n", &ns]));
    assert_eq!(split(&get(&ns, "VirtualService", "reviews").await, "primary"), pairs(&[("v1", 0), ("v2", 100)]));

    ok(&vroute(&["undo", "reviews", "--to-revision", "1", "-n", &ns]));
    let restored = get(&ns, "VirtualService", "reviews").await;
    assert_eq!(restored["spec"], original["spec"]);
    assert!(restored["metadata"]["annotations"].get("vroute.kubectl.io/versions").is_none(), "versions restored too");
    assert_eq!(history(&restored).iter().map(|h| h["revision"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);

    let err = fails(&vroute(&["undo", "reviews", "--to-revision", "99", "-n", &ns]), 4);
    assert!(
        err.contains("has no revision 99 in its vroute history; available: 1 (") && err.contains("switch v2"),
        "{err}"
    );
    let fresh = reviews("undo-none", "").await;
    let err = fails(&vroute(&["undo", "reviews", "-n", &fresh]), 7);
    assert!(err.contains("has no vroute history (annotation vroute.kubectl.io/history): nothing to undo"), "{err}");
}

#[tokio::test]
async fn mirror_sets_and_removes_a_mirror() {
    let ns = reviews("mirror", "").await;
    let out = ok(&vroute(&["mirror", "reviews", "--to", "v2", "--percent", "10", "-n", &ns]));
    assert_eq!(out, format!("virtualservice {ns}/reviews: route \"primary\" now mirrors 10% to v2\n"));
    let route = get(&ns, "VirtualService", "reviews").await["spec"]["http"][0].clone();
    assert_eq!(route["mirror"], json!({"host": "reviews", "subset": "v2"}));
    assert_eq!(route["mirrorPercentage"], json!({"value": 10}));
    let out = ok(&vroute(&["mirror", "reviews", "--to", "v2", "--percent", "10", "-n", &ns]));
    assert!(out.ends_with("route \"primary\" unchanged: mirrors 10% to v2\n"), "{out}");
    let err = fails(&vroute(&["mirror", "reviews", "--to", "v2", "--percent", "150", "-n", &ns]), 4);
    assert!(err.contains("--percent 150: a mirror share must be more than 0 and at most 100"), "{err}");
    ok(&vroute(&["mirror", "reviews", "--off", "-n", &ns]));
    let route = get(&ns, "VirtualService", "reviews").await["spec"]["http"][0].clone();
    assert!(route.get("mirror").is_none() && route.get("mirrorPercentage").is_none(), "{route}");
}

fn findings(doc: &Value, host_prefix: &str) -> Vec<String> {
    let svc = doc["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["host"].as_str().unwrap().starts_with(host_prefix))
        .unwrap();
    svc["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn pin_makes_the_chain_consistent_is_idempotent_and_adds_missing_subsets() {
    let env = env();
    let ns = env.namespace("pin").await;
    env.seed_chain(&ns, true).await;
    let status = || serde_json::from_str::<Value>(&ok(&vroute(&["status", "-n", &ns, "-o", "json"]))).unwrap();
    assert!(findings(&status(), "b.").contains(&"VR110".to_string()), "the seeded chain is broken at b");

    let out = ok(&vroute(&["pin", "b", "--from", "a", "-n", &ns]));
    assert_eq!(
        out,
        format!("virtualservice {ns}/b: callers with app=a now pinned version=v1 -> v1, version=v2 -> v2\n")
    );
    let doc = status();
    for host in ["a.", "b.", "c."] {
        assert_eq!(findings(&doc, host), Vec::<String>::new(), "{host} is consistent: {doc:#}");
    }

    // Running it again changes nothing: not even the resourceVersion.
    let rv = get(&ns, "VirtualService", "b").await["metadata"]["resourceVersion"].clone();
    let out = ok(&vroute(&["pin", "b", "--from", "a", "-n", &ns]));
    assert!(out.contains("callers with app=a unchanged: pinned"), "{out}");
    assert_eq!(get(&ns, "VirtualService", "b").await["metadata"]["resourceVersion"], rv);

    // A v3 of b is deployed without a subset: pin adds the subset (DestinationRule first), then its route.
    // Without --from, any caller carrying the version label is pinned; several services in one command.
    env.ready_pod(&ns, "b", "v3", 0).await;
    let out = ok(&vroute(&["pin", "b", "c", "-n", &ns]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            format!("destinationrule {ns}/b: added subset(s) v3 for pods labelled version=v3"),
            format!("virtualservice {ns}/b: callers now pinned version=v1 -> v1, version=v2 -> v2, version=v3 -> v3"),
            format!("virtualservice {ns}/c: callers now pinned version=v1 -> v1, version=v2 -> v2"),
        ]
    );
    let dr = get(&ns, "DestinationRule", "b").await;
    assert_eq!(dr["spec"]["subsets"][2], json!({"name": "v3", "labels": {"version": "v3"}}));
    let doc = status();
    for host in ["a.", "b.", "c."] {
        assert_eq!(findings(&doc, host), Vec::<String>::new(), "{host} is consistent: {doc:#}");
    }
}

#[tokio::test]
async fn pin_removes_the_subsets_it_added_when_the_routes_cannot_be_written() {
    let env = env();
    let ns = env.namespace("pinback").await;
    env.seed_chain(&ns, true).await;
    env.ready_pod(&ns, "b", "v3", 0).await;
    let (_, kubeconfig) = env.restricted_user(&ns, "dr-only").await;
    // Everything but updating VirtualServices.
    let rbac = role_and_binding("dr-only", &ns, "[get, list]", "[get, list, update]");
    env.create_yaml(&ns, &rbac).await;
    let before = get(&ns, "DestinationRule", "b").await;

    let out = retry_while_rbac_settles(
        || env.vroute().env("KUBECONFIG", &kubeconfig).args(["pin", "b", "--from", "a", "-n", &ns]).output().unwrap(),
        "cannot list",
    );
    let err = fails(&out, 5);
    assert!(err.contains("cannot update virtualservices.networking.istio.io"), "{err}");
    assert!(err.contains(&format!("destinationrule {ns}/b: removed subset(s) v3 again (rolled back")), "{err}");
    assert_eq!(get(&ns, "DestinationRule", "b").await["spec"], before["spec"]);
}

#[tokio::test]
async fn a_route_a_rollout_manages_is_refused_and_its_neighbour_is_editable() {
    let env = env();
    let ns = env.namespace("rollout").await;
    env.seed_canary_rollout(&ns, "reviews", 80, 20).await;
    let vs = get(&ns, "VirtualService", "reviews").await;
    let mut http = vs["spec"]["http"].as_array().unwrap().clone();
    http.insert(
        0,
        json!({"name": "testers", "match": [{"headers": {"x-tester": {"exact": "yes"}}}],
                          "route": [{"destination": {"host": "reviews", "subset": "stable"}}]}),
    );
    let patch = json!({"spec": {"http": http}});
    api(&ns, "VirtualService").await.patch("reviews", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();

    for args in [
        vec!["set-weight", "reviews", "stable=50", "canary=50"],
        vec!["switch", "reviews", "canary", "--route", "primary"],
        vec!["mirror", "reviews", "--to", "canary", "--route", "primary"],
    ] {
        let args: Vec<&str> = args.into_iter().chain(["-n", &ns]).collect();
        let err = fails(&vroute(&args), 7);
        let refusal =
            format!("error: route \"primary\" of VirtualService {ns}/reviews is managed by Rollout {ns}/reviews");
        assert!(err.starts_with(&refusal), "{err}");
        assert!(
            err.contains(&format!(
                "Use `kubectl vroute promote reviews -n {ns}` or `kubectl vroute abort reviews -n {ns}` instead"
            )),
            "{err}"
        );
    }
    // Working from another namespace does not hide the Rollout.
    let err = fails(&vroute(&["set-weight", &format!("reviews.{ns}"), "stable=50", "canary=50", "-n", "default"]), 7);
    assert!(err.contains(&format!("is managed by Rollout {ns}/reviews")), "{err}");
    let out = ok(&vroute(&["set-weight", "reviews", "stable=90", "canary=10", "--route", "testers", "-n", &ns]));
    assert!(out.ends_with("route \"testers\" now stable 90%, canary 10%\n"), "{out}");
    let vs = get(&ns, "VirtualService", "reviews").await;
    assert_eq!(split(&vs, "primary"), pairs(&[("stable", 80), ("canary", 20)]), "the Rollout's route is untouched");
}

#[tokio::test]
async fn a_rollout_in_another_namespace_that_manages_the_route_is_respected() {
    let env = env();
    let (routes, release) = (env.namespace("routes").await, env.namespace("release").await);
    env.seed_canary_rollout(&routes, "reviews", 80, 20).await;
    // The Rollout lives in another namespace and names the VirtualService `reviews.<namespace>`, as Argo
    // Rollouts allows.
    let deleted = env.kubectl().args(["delete", "rollout", "reviews", "-n", &routes]).output().unwrap();
    assert!(deleted.status.success(), "{}", String::from_utf8_lossy(&deleted.stderr));
    let yaml = scenarios::canary_rollout("reviews", 80, 20);
    let rollout = yaml.rsplit("---").next().unwrap();
    let rollout =
        rollout.replace("virtualService: {name: reviews,", &format!("virtualService: {{name: reviews.{routes},"));
    env.create_yaml(&release, &rollout).await;

    let err = fails(&vroute(&["set-weight", "reviews", "stable=50", "canary=50", "-n", &routes]), 7);
    assert!(err.contains(&format!("VirtualService {routes}/reviews is managed by Rollout {release}/reviews")), "{err}");
    assert!(err.contains(&format!("`kubectl vroute promote reviews -n {release}`")), "{err}");
    let vs = get(&routes, "VirtualService", "reviews").await;
    assert_eq!(split(&vs, "primary"), pairs(&[("stable", 80), ("canary", 20)]), "nothing written");
    // status, looking at the routes' namespace, shows the same owner.
    let out = ok(&vroute(&["status", "reviews", "-n", &routes, "-o", "json"]));
    let doc: Value = serde_json::from_str(&out).unwrap();
    let service = &doc["services"][0];
    assert_eq!(service["routes"][0]["managedBy"], format!("Rollout/{release}/reviews"), "{service:#}");
    assert_eq!(
        (service["rollout"]["name"].as_str(), service["rollout"]["namespace"].as_str()),
        (Some("reviews"), Some(release.as_str()))
    );
}

/// The issue's reproduction: a Rollout the API server accepts (`setWeight: 99999999999`) but that no one can
/// read (upstream's is an int32 too) manages route `primary` of `a`. Edits used to go through because the
/// Rollout was silently dropped.
#[tokio::test]
async fn an_unreadable_rollout_that_manages_the_route_stops_edits_unless_forced() {
    let env = env();
    let ns = env.namespace("unreadable").await;
    env.seed_chain(&ns, false).await;
    let strategy = json!({"canary": {"steps": [{"setWeight": 99_999_999_999_i64}],
        "trafficRouting": {"istio": {"virtualService": {"name": "a", "routes": ["primary"]}}}}});
    env.create_yaml(&ns, &serde_json::to_string(&scenarios::rollout("a", strategy, false)).unwrap()).await;

    let err = fails(&vroute(&["set-weight", "a", "v1=60", "v2=40", "-n", &ns]), 7);
    let expected = format!(
        "error: Rollout {ns}/a cannot be read (spec.strategy.canary.steps[0].setWeight: invalid value: integer \
         `99999999999`, expected i32) and it claims route \"primary\" of VirtualService {ns}/a"
    );
    assert!(err.starts_with(&expected), "{err}");
    assert!(err.contains("pass --force to edit anyway"), "{err}");
    assert_eq!(split(&get(&ns, "VirtualService", "a").await, "primary"), pairs(&[("v1", 50), ("v2", 50)]));

    // status says what could not be read and why, with a hint about the object (not about list rights).
    let doc: Value = serde_json::from_str(&ok(&vroute(&["status", "a", "-n", &ns, "-o", "json"]))).unwrap();
    let finding = &doc["findings"][0];
    assert_eq!(
        (finding["code"].as_str(), finding["object"].as_str()),
        (Some("VR115"), Some(&*format!("Rollout/{ns}/a")))
    );
    assert!(finding["message"].as_str().unwrap().contains("steps[0].setWeight"), "{finding}");
    assert!(!finding["hint"].as_str().unwrap().contains("list rights"), "{finding}");
    assert_eq!(doc["services"][0]["routes"][0]["managedBy"], format!("Rollout/{ns}/a"));

    let out = ok(&vroute(&["set-weight", "a", "v1=60", "v2=40", "--force", "-n", &ns]));
    assert!(out.ends_with("route \"primary\" now v1 60%, v2 40%\n"), "{out}");
    assert_eq!(split(&get(&ns, "VirtualService", "a").await, "primary"), pairs(&[("v1", 60), ("v2", 40)]));
}

/// A Role with `vs_verbs` on VirtualServices and `dr_verbs` on DestinationRules (plus list on what the model
/// reads), bound to ServiceAccount `user`.
fn role_and_binding(user: &str, ns: &str, vs_verbs: &str, dr_verbs: &str) -> String {
    let rules = format!(
        "- apiGroups: [networking.istio.io]\n  resources: [virtualservices]\n  verbs: {vs_verbs}\n\
         - apiGroups: [networking.istio.io]\n  resources: [destinationrules]\n  verbs: {dr_verbs}\n\
         - apiGroups: [\"\"]\n  resources: [services, pods]\n  verbs: [list]\n\
         - apiGroups: [argoproj.io]\n  resources: [rollouts]\n  verbs: [list]"
    );
    role_for(ns, user, &rules)
}

/// Runs `command` until its stderr no longer contains `denied` (the new binding is in effect).
fn retry_while_rbac_settles(command: impl Fn() -> Output, denied: &str) -> Output {
    once_rbac_settles(command, |o| !stderr(o).contains(denied))
}

#[tokio::test]
async fn a_reader_is_told_which_permission_editing_needs_and_the_documented_role_suffices() {
    let env = env();
    let ns = reviews("rbac", "").await;
    let (_, reader) = env.restricted_user(&ns, "reader").await;
    env.create_yaml(&ns, &role_and_binding("reader", &ns, "[get, list]", "[get, list]")).await;
    let set = |kubeconfig: &std::path::Path| {
        env.vroute()
            .env("KUBECONFIG", kubeconfig)
            .args(["set-weight", "reviews", "v1=90", "v2=10", "-n", &ns])
            .output()
            .unwrap()
    };
    let err = fails(&retry_while_rbac_settles(|| set(&reader), "cannot list"), 5);
    assert_eq!(
        err,
        format!(
            "error: forbidden: cannot update virtualservices.networking.istio.io in namespace \"{ns}\". Ask for a Role \
             granting `update` on `virtualservices.networking.istio.io` (see the README's RBAC section)\n"
        )
    );

    // The README's editing Role: get, list and update on VirtualServices and DestinationRules, list on
    // Services, pods and Rollouts.
    let (_, editor) = env.restricted_user(&ns, "editor").await;
    env.create_yaml(&ns, &role_and_binding("editor", &ns, "[get, list, update]", "[get, list, update]")).await;
    ok(&retry_while_rbac_settles(|| set(&editor), "forbidden"));
    assert_eq!(split(&get(&ns, "VirtualService", "reviews").await, "primary"), pairs(&[("v1", 90), ("v2", 10)]));
}

#[tokio::test]
async fn twenty_concurrent_writers_lose_no_update() {
    const WRITERS: usize = 20;
    let env = env();
    let ns = env.namespace("race").await;
    env.create_yaml(&ns, &scenarios::service_and_subsets("reviews", &["v1", "v2"])).await;
    env.ready_pod(&ns, "reviews", "v1", 0).await;
    env.ready_pod(&ns, "reviews", "v2", 0).await;
    let mut http: Vec<Value> = (0..WRITERS)
        .map(|i| {
            json!({"name": format!("r{i}"), "match": [{"headers": {"x-route": {"exact": format!("r{i}")}}}],
                   "route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": 100},
                             {"destination": {"host": "reviews", "subset": "v2"}, "weight": 0}]})
        })
        .collect();
    http.push(json!({"name": "default", "route": [{"destination": {"host": "reviews", "subset": "v1"}}]}));
    let vs = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "reviews"},
                    "spec": {"hosts": ["reviews"], "http": http}});
    env.create_yaml(&ns, &vs.to_string()).await;

    // Even writers set a split, odd ones switch: each its own route of the same VirtualService.
    let expected = |i: usize| {
        if i.is_multiple_of(2) {
            pairs(&[("v1", 99 - i as i64), ("v2", i as i64 + 1)])
        } else {
            pairs(&[("v1", 0), ("v2", 100)])
        }
    };
    let started = Instant::now();
    let children: Vec<_> = (0..WRITERS)
        .map(|i| {
            let route = format!("r{i}");
            let mut cmd = env.vroute();
            if i.is_multiple_of(2) {
                cmd.args(["set-weight", "reviews", &format!("v1={}", 99 - i), &format!("v2={}", i + 1)]);
            } else {
                cmd.args(["switch", "reviews", "v2"]);
            }
            cmd.args(["--route", &route, "-n", &ns, "-o", "json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("start writer")
        })
        .collect();
    let outputs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let wall = started.elapsed();

    let vs = get(&ns, "VirtualService", "reviews").await;
    let (mut succeeded, mut failed, mut conflicts) = (0, 0, 0);
    for (i, out) in outputs.iter().enumerate() {
        let route = format!("r{i}");
        if out.status.success() {
            succeeded += 1;
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            conflicts += doc["results"][0]["conflicts"].as_u64().unwrap();
            assert_eq!(split(&vs, &route), expected(i), "writer {i} reported success: its change must be there");
        } else {
            failed += 1;
            let err = fails(out, 5);
            assert!(err.contains("conflicting writes (nothing was overwritten)"), "writer {i}: {err}");
            assert_eq!(split(&vs, &route), pairs(&[("v1", 100), ("v2", 0)]), "writer {i} failed: nothing of it stored");
        }
    }
    let revisions: Vec<u64> = history(&vs).iter().map(|h| h["revision"].as_u64().unwrap()).collect();
    assert_eq!(revisions.last().copied(), Some(succeeded), "one history revision per successful writer");
    eprintln!(
        "reliability: {WRITERS} concurrent writers on one VirtualService: {succeeded} succeeded, {failed} failed, \
         {conflicts} conflicts retried, wall time {wall:?}"
    );
    assert!(succeeded >= WRITERS as u64 / 2, "most writers get through within the retry budget");
}

/// Edits race two writers of other fields: a `kubectl apply --server-side` of a label started at the same
/// moment as each edit, and a merge patch of another label every 20 ms throughout, so that some edits read an
/// object that changes before they write it and must re-read it. Every change of all three must survive.
#[tokio::test]
async fn edits_racing_kubectl_apply_and_patches_of_other_fields_keep_every_change() {
    let env = env();
    let ns = reviews("apply-race", "").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let patcher = {
        let (ns, stop) = (ns.clone(), stop.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let api = api(&ns, "VirtualService").await;
                let mut beat = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    beat += 1;
                    let patch = json!({"metadata": {"labels": {"beat": beat.to_string()}}});
                    api.patch("reviews", &PatchParams::default(), &Patch::Merge(&patch)).await.expect("patch");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                beat
            })
        })
    };
    let manifest = env.work.join(format!("{ns}-labels.yaml"));
    // At least 10 rounds, and on until some edit met a conflict (each does with a chance of roughly 1 in 4).
    let (mut conflicts, mut rounds) = (0, 0);
    for round in 0..40u64 {
        if round >= 10 && conflicts > 0 {
            break;
        }
        rounds += 1;
        std::fs::write(
            &manifest,
            format!("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n  labels: {{round: \"{round}\"}}\n"),
        )
        .unwrap();
        let weight = 10 + round;
        let mut edit = env.vroute();
        edit.args([
            "set-weight",
            "reviews",
            &format!("v1={}", 100 - weight),
            &format!("v2={weight}"),
            "-n",
            &ns,
            "-o",
            "json",
        ]);
        let mut apply = env.kubectl();
        apply.args(["apply", "--server-side", "--field-manager=labeller", "-n", &ns, "-f"]).arg(&manifest);
        let (edit, apply) = (edit.output_async(), apply.output_async());
        let (edit, apply) = (edit.join().unwrap(), apply.join().unwrap());
        ok(&apply);
        let doc: Value = serde_json::from_str(&ok(&edit)).unwrap();
        conflicts += doc["results"][0]["conflicts"].as_u64().unwrap();
        let vs = get(&ns, "VirtualService", "reviews").await;
        assert_eq!(vs["metadata"]["labels"]["round"], json!(round.to_string()), "the apply survived round {round}");
        let expected = pairs(&[("v1", 100 - weight as i64), ("v2", weight as i64)]);
        assert_eq!(split(&vs, "primary"), expected, "the edit survived round {round}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let beats = patcher.join().unwrap();
    let vs = get(&ns, "VirtualService", "reviews").await;
    assert_eq!(vs["metadata"]["labels"]["beat"], json!(beats.to_string()), "every patch survived");
    let last = 10 + rounds as i64 - 1;
    assert_eq!(split(&vs, "primary"), pairs(&[("v1", 100 - last), ("v2", last)]));
    eprintln!(
        "reliability: {rounds} edits racing `kubectl apply --server-side` and {beats} merge patches of labels: every \
         change kept, {conflicts} conflicts retried"
    );
    assert!(conflicts > 0, "the patches made some edits re-read and re-apply (the path under test)");
}

/// Starts a command on a thread of its own, so two can race.
trait OutputAsync {
    fn output_async(self) -> std::thread::JoinHandle<Output>;
}

impl OutputAsync for std::process::Command {
    fn output_async(mut self) -> std::thread::JoinHandle<Output> {
        std::thread::spawn(move || self.output().expect("run command"))
    }
}
