//! Route edits of hosts routed by Gateway API HTTPRoutes, through the real kubectl against the real API server
//! (whose Gateway API CRD schema and CEL rules validate every write): `set-weight`, `switch`, `mirror`,
//! `undo`, a plain canary's `promote`/`abort`, dry runs and diffs, each refusal with its exit code, and
//! concurrent writers.

use crate::support::cli::{fails, ok, once_rbac_settles, stderr, vroute};
use crate::support::env;
use crate::support::role_for;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::{Value, json};
use std::process::Output;

async fn routes(ns: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "HTTPRoute");
    Api::namespaced_with(env().client().await, ns, &ApiResource::from_gvk(&gvk))
}

async fn get(ns: &str) -> Value {
    serde_json::to_value(routes(ns).await.get("reviews").await.expect("get HTTPRoute")).unwrap()
}

/// `(backend, weight)` of rule `index` as stored.
fn split(route: &Value, index: usize) -> Vec<(String, i64)> {
    let backends = route["spec"]["rules"][index]["backendRefs"].as_array().unwrap();
    backends.iter().map(|b| (b["name"].as_str().unwrap().to_string(), b["weight"].as_i64().unwrap_or(1))).collect()
}

fn pairs(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(v, w)| (v.to_string(), *w)).collect()
}

fn history(route: &Value) -> Vec<Value> {
    let text = route["metadata"]["annotations"]["vroute.kubectl.io/history"].as_str().unwrap_or("[]");
    serde_json::from_str(text).unwrap()
}

/// Bookinfo's reviews on Gateway API (rule #0: v1 90 / v2 10, rule #1: `end-user: jason` to v2), one Ready pod
/// per version.
async fn bookinfo(prefix: &str) -> String {
    let env = env();
    let ns = env.namespace(prefix).await;
    env.seed_bookinfo_reviews(&ns).await;
    ns
}

#[tokio::test]
async fn http_route_rules_are_split_switched_mirrored_and_undone() {
    let ns = bookinfo("gw-edit").await;
    let original = get(&ns).await;

    // Dry runs store nothing; the server's runs the CRD schema.
    for mode in ["--dry-run=client", "--dry-run=server"] {
        let doc: Value = serde_json::from_str(&ok(&vroute(&[
            "set-weight",
            "reviews",
            "reviews-v1=50",
            "reviews-v2=50",
            mode,
            "-n",
            &ns,
            "-o",
            "json",
        ])))
        .unwrap();
        let result = &doc["results"][0];
        assert_eq!((result["kind"].as_str(), result["changed"].as_bool()), (Some("HTTPRoute"), Some(true)));
        assert_eq!(split(&result["object"], 0), pairs(&[("reviews-v1", 50), ("reviews-v2", 50)]), "{mode}");
    }
    assert_eq!(get(&ns).await, original, "dry runs stored nothing");

    // The catch-all rule is the default; the diff shows only its weights.
    let out = ok(&vroute(&["set-weight", "reviews", "reviews-v1=50", "reviews-v2=50", "--diff", "-n", &ns]));
    let changed: Vec<&str> =
        out.lines().filter(|l| l.starts_with(['-', '+']) && !l.starts_with("---") && !l.starts_with("+++")).collect();
    assert_eq!(changed, ["-    weight: 90", "+    weight: 50", "-    weight: 10", "+    weight: 50"], "{out}");
    assert!(
        out.ends_with(&format!("httproute {ns}/reviews: rule #0 now reviews-v1.{ns} 50%, reviews-v2.{ns} 50%\n")),
        "{out}"
    );
    let stored = get(&ns).await;
    assert_eq!(split(&stored, 0), pairs(&[("reviews-v1", 50), ("reviews-v2", 50)]));
    assert_eq!(stored["spec"]["rules"][1], original["spec"]["rules"][1], "the header rule is untouched");

    // A blue/green cut-over to a version the rule did not list: the new backend gets the rule's port.
    ok(&vroute(&["switch", "reviews", "reviews-v3", "-n", &ns]));
    let stored = get(&ns).await;
    assert_eq!(split(&stored, 0), pairs(&[("reviews-v1", 0), ("reviews-v2", 0), ("reviews-v3", 100)]));
    assert_eq!(stored["spec"]["rules"][0]["backendRefs"][2]["port"], 9080);

    // The header rule by index; a fractional mirror is stored as a fraction and accepted by the CRD's rules.
    ok(&vroute(&["set-weight", "reviews", "reviews-v3=100", "--route", "#1", "-n", &ns]));
    ok(&vroute(&["mirror", "reviews", "--to", "reviews-v2", "--percent", "12.5", "--route", "#1", "-n", &ns]));
    let stored = get(&ns).await;
    assert_eq!(split(&stored, 1), pairs(&[("reviews-v2", 0), ("reviews-v3", 100)]));
    // (The API server defaults the backend's group and kind.)
    assert_eq!(
        stored["spec"]["rules"][1]["filters"],
        json!([{"type": "RequestMirror", "requestMirror": {
            "backendRef": {"group": "", "kind": "Service", "name": "reviews-v2", "port": 9080},
            "fraction": {"numerator": 125, "denominator": 1000}}}])
    );
    // status reads back what was written.
    let doc: Value = serde_json::from_str(&ok(&vroute(&["status", "reviews", "-n", &ns, "-o", "json"]))).unwrap();
    let rules = doc["services"][0]["rules"].as_array().unwrap();
    let header = rules.iter().find(|r| r["index"] == 1).unwrap();
    assert_eq!(header["mirror"]["percent"], 12.5, "{header:#}");

    // Four edits, four revisions holding `rules`; undo walks back one at a time and is itself undoable.
    let revisions = history(&stored);
    assert_eq!(revisions.len(), 4);
    assert!(revisions.iter().all(|r| r["rules"].is_array() && r.get("http").is_none()), "{revisions:#?}");
    ok(&vroute(&["undo", "reviews", "-n", &ns]));
    assert_eq!(get(&ns).await["spec"]["rules"][1].get("filters"), None, "the mirror is gone again");
    ok(&vroute(&["undo", "reviews", "--to-revision", "1", "-n", &ns]));
    assert_eq!(get(&ns).await["spec"]["rules"], original["spec"]["rules"], "back to the start");
    let err = fails(&vroute(&["undo", "reviews", "--to-revision", "99", "-n", &ns]), 4);
    assert!(err.contains(&format!("HTTPRoute {ns}/reviews has no revision 99")), "{err}");
}

#[tokio::test]
async fn a_plain_canary_on_an_http_route_is_promoted_and_aborted() {
    let ns = bookinfo("gw-canary").await;
    let out = ok(&vroute(&[
        "promote",
        "reviews",
        "--service",
        "--stable",
        "reviews-v1",
        "--to",
        "reviews-v2",
        "--step",
        "20",
        "-n",
        &ns,
    ]));
    assert_eq!(out, format!("httproute {ns}/reviews: rule #0 now reviews-v1.{ns} 70%, reviews-v2.{ns} 30%\n"));
    // The roles are recorded: the next steps need no flags.
    ok(&vroute(&["promote", "reviews", "--step", "30", "-n", &ns]));
    assert_eq!(split(&get(&ns).await, 0), pairs(&[("reviews-v1", 40), ("reviews-v2", 60)]));
    ok(&vroute(&["abort", "reviews", "-n", &ns]));
    assert_eq!(split(&get(&ns).await, 0), pairs(&[("reviews-v1", 100), ("reviews-v2", 0)]));
    ok(&vroute(&["promote", "reviews", "-n", &ns]));
    assert_eq!(split(&get(&ns).await, 0), pairs(&[("reviews-v1", 0), ("reviews-v2", 100)]));
}

/// Every refusal exits 7 (a wrong argument 4) and writes nothing.
#[tokio::test]
async fn unsafe_http_route_edits_are_refused_with_exit_7_and_change_nothing() {
    let env = env();
    let ns = bookinfo("gw-refuse").await;
    // A version Service with no pods, and an unrelated Service.
    let extra = "apiVersion: v1\nkind: Service\nmetadata: {name: reviews-v4}\n\
                 spec: {selector: {app: reviews, version: v4}, ports: [{port: 9080}]}\n---\n\
                 apiVersion: v1\nkind: Service\nmetadata: {name: ratings}\n\
                 spec: {selector: {app: ratings}, ports: [{port: 9080}]}\n";
    env.create_yaml(&ns, extra).await;
    let before = get(&ns).await;
    let exits = |code: i32, args: &[&str], expected: &str| {
        let mut all = args.to_vec();
        all.extend(["-n", ns.as_str()]);
        let err = fails(&vroute(&all), code);
        assert!(err.contains(expected), "{args:?}: {err}");
    };
    let refused = |args: &[&str], expected: &str| exits(7, args, expected);
    let wrong = |args: &[&str], expected: &str| exits(4, args, expected);
    refused(
        &["set-weight", "reviews", "reviews-v1=90", "reviews-v4=10"],
        &format!("would send 10% to version reviews-v4.{ns}, which has no ready pods (0/0 ready)"),
    );
    wrong(
        &["set-weight", "reviews", "reviews-v1=90", "ratings=10"],
        &format!("reviews.{ns} has no version \"ratings\"; known versions: reviews-v1.{ns}, reviews-v2.{ns}"),
    );
    wrong(&["set-weight", "reviews", "reviews-v1=90", "reviews-v2=20"], "weights add up to 110, not 100");
    wrong(
        &["mirror", "reviews", "--to", "reviews-v2", "--route", "nope"],
        "has no rule \"nope\"; its rules are: #0, #1",
    );
    refused(&["pin", "reviews"], "an HTTPRoute cannot express");
    assert_eq!(get(&ns).await["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"]);

    // A Rollout's Gateway API plugin owns both rules (each names its canary or stable Service).
    let strategy = json!({"canary": {"canaryService": "reviews-v2", "stableService": "reviews-v1",
        "steps": [{"setWeight": 10}, {"pause": {}}],
        "trafficRouting": {"plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "reviews", "namespace": ns}}}}});
    env.seed_rollout(&ns, crate::support::scenarios::rollout("reviews-canary", strategy, false), json!({})).await;
    refused(
        &["set-weight", "reviews", "reviews-v1=50", "reviews-v2=50"],
        &format!("rule #0 of HTTPRoute {ns}/reviews is managed by Rollout {ns}/reviews-canary"),
    );
    refused(&["mirror", "reviews", "--to", "reviews-v3", "--route", "#1"], "is managed by Rollout");
    assert_eq!(get(&ns).await["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"]);
    // --force writes anyway (for the controller to undo).
    ok(&vroute(&["set-weight", "reviews", "reviews-v1=50", "reviews-v2=50", "--force", "-n", &ns]));
    assert_eq!(split(&get(&ns).await, 0), pairs(&[("reviews-v1", 50), ("reviews-v2", 50)]));
}

/// Writers of different rules of one HTTPRoute, racing each other and a merge patch of a label: every
/// successful edit is stored and nothing of a failed one is.
#[tokio::test]
async fn concurrent_writers_on_one_http_route_lose_no_update() {
    const WRITERS: usize = 8;
    let env = env();
    let ns = bookinfo("gw-race").await;
    let mut rules: Vec<Value> = (0..WRITERS)
        .map(|i| {
            json!({"name": format!("r{i}"), "matches": [{"headers": [{"name": "x-route", "value": format!("r{i}")}]}],
                   "backendRefs": [{"name": "reviews-v1", "port": 9080, "weight": 100},
                                   {"name": "reviews-v2", "port": 9080, "weight": 0}]})
        })
        .collect();
    rules.push(json!({"name": "default", "backendRefs": [{"name": "reviews-v1", "port": 9080}]}));
    let patch = json!({"spec": {"rules": rules}});
    routes(&ns).await.patch("reviews", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();

    let children: Vec<_> = (0..WRITERS)
        .map(|i| {
            let mut cmd = env.vroute();
            cmd.args(["set-weight", "reviews", &format!("reviews-v1={}", 99 - i), &format!("reviews-v2={}", i + 1)])
                .args(["--route", &format!("r{i}"), "-n", &ns, "-o", "json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("start writer")
        })
        .collect();
    let api = routes(&ns).await;
    for n in 0..20 {
        let label = json!({"metadata": {"labels": {"touched": n.to_string()}}});
        api.patch("reviews", &PatchParams::default(), &Patch::Merge(&label)).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    }
    let outputs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let stored = get(&ns).await;
    assert_eq!(stored["metadata"]["labels"]["touched"], "19", "the label patches survive");
    let (mut succeeded, mut conflicts) = (0, 0);
    for (i, out) in outputs.iter().enumerate() {
        if out.status.success() {
            succeeded += 1;
            let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
            conflicts += doc["results"][0]["conflicts"].as_u64().unwrap();
            let expected = pairs(&[("reviews-v1", 99 - i as i64), ("reviews-v2", i as i64 + 1)]);
            assert_eq!(split(&stored, i), expected, "writer {i} reported success: its change must be there");
        } else {
            assert!(fails(out, 5).contains("conflicting writes (nothing was overwritten)"), "writer {i}");
            assert_eq!(split(&stored, i), pairs(&[("reviews-v1", 100), ("reviews-v2", 0)]), "writer {i}");
        }
    }
    assert_eq!(history(&stored).len(), succeeded, "one revision per successful writer");
    assert!(succeeded >= WRITERS / 2, "most writers get through within the retry budget");
    assert!(conflicts > 0, "some writers had to re-read and re-apply (the path under test)");
}

/// The README's editing Role, as it grants HTTPRoutes (VirtualServices are still read: one routing the host too
/// would be the one edited): a reader is told the permission to ask for; the Role suffices.
#[tokio::test]
async fn editing_an_http_route_needs_update_on_httproutes_and_the_documented_role_suffices() {
    let env = env();
    let ns = bookinfo("gw-rbac").await;
    let rules = |verbs: &str| {
        format!(
            "- apiGroups: [gateway.networking.k8s.io]\n  resources: [httproutes]\n  verbs: {verbs}\n\
             - apiGroups: [networking.istio.io]\n  resources: [virtualservices, destinationrules]\n  verbs: [get, list, watch]\n\
             - apiGroups: [\"\"]\n  resources: [services, pods]\n  verbs: [get, list, watch]\n\
             - apiGroups: [argoproj.io]\n  resources: [rollouts]\n  verbs: [get, list, watch]"
        )
    };
    let set = |kubeconfig: &std::path::Path| {
        env.vroute()
            .env("KUBECONFIG", kubeconfig)
            .args(["set-weight", "reviews", "reviews-v1=80", "reviews-v2=20", "-n", &ns])
            .output()
            .unwrap()
    };
    let (_, reader) = env.restricted_user(&ns, "reader").await;
    env.create_yaml(&ns, &role_for(&ns, "reader", &rules("[get, list, watch]"))).await;
    let err = fails(&once_rbac_settles(|| set(&reader), |o| !stderr(o).contains("cannot list")), 5);
    assert!(
        err.contains(&format!(
            "cannot update httproutes.gateway.networking.k8s.io in namespace \"{ns}\". Ask for a Role granting \
             `update` on `httproutes.gateway.networking.k8s.io`"
        )),
        "{err}"
    );
    let (_, editor) = env.restricted_user(&ns, "editor").await;
    env.create_yaml(&ns, &role_for(&ns, "editor", &rules("[get, list, watch, update]"))).await;
    ok(&once_rbac_settles(|| set(&editor), |o| !stderr(o).contains("forbidden")));
    assert_eq!(split(&get(&ns).await, 0), pairs(&[("reviews-v1", 80), ("reviews-v2", 20)]));
}
