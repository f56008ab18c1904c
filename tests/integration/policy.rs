//! `route`, `timeout`, `retries`, `fault` and `circuit-break` through the real kubectl against the real API
//! server, whose Istio and Gateway API CRD schemas validate every write: Istio's bookinfo tasks end to end
//! (jason to v2; a delay and an abort for jason on ratings; undo of each), a header route surviving
//! `set-weight` and a plain canary's `promote`/`abort`, circuit breaking per subset in `status`, and every
//! refusal with its exit code.

use crate::support::cli::{fails, ok, vroute};
use crate::support::env;
use serde_json::{Value, json};

async fn get(ns: &str, kind: &str, name: &str) -> Value {
    let api = env().istio(ns, kind).await;
    serde_json::to_value(api.get(name).await.expect("get object")).unwrap()
}

async fn bookinfo(prefix: &str) -> String {
    let env = env();
    let ns = env.namespace(prefix).await;
    env.seed_bookinfo_istio(&ns).await;
    ns
}

fn http(vs: &Value) -> Vec<Value> {
    vs["spec"]["http"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn bookinfo_tasks_jason_to_v2_then_a_delay_and_an_abort_for_jason_on_ratings_each_undone() {
    let ns = bookinfo("bookinfo-tasks").await;
    let before_reviews = http(&get(&ns, "VirtualService", "reviews").await);
    let out = ok(&vroute(&["route", "reviews", "--to", "v2", "--header", "end-user=jason", "-n", &ns]));
    assert_eq!(
        out,
        format!(
            "virtualservice {ns}/reviews: route \"vroute-end-user-jason\" now sends --header end-user=jason to v2\n"
        )
    );
    let reviews = http(&get(&ns, "VirtualService", "reviews").await);
    assert_eq!(reviews[0]["match"], json!([{"headers": {"end-user": {"exact": "jason"}}}]));
    assert_eq!(reviews[0]["route"], json!([{"destination": {"host": "reviews", "subset": "v2"}}]));
    assert_eq!(reviews[1], before_reviews[0], "the catch-all is untouched, after the header route");
    // Asked again: nothing to write.
    let again = ok(&vroute(&["route", "reviews", "--to", "v2", "--header", "end-user=jason", "-n", &ns]));
    assert!(again.contains("unchanged"), "{again}");
    let listed: Value =
        serde_json::from_str(&ok(&vroute(&["route", "reviews", "-n", &ns, "-o", "json"]))).expect("listing JSON");
    assert_eq!(listed["routes"][0]["route"], "vroute-end-user-jason");
    assert_eq!(listed["routes"][0]["match"], "header end-user=jason");
    assert_eq!(listed["routes"][0]["to"], json!([{"version": "v2", "percent": 100.0}]));

    let before_ratings = http(&get(&ns, "VirtualService", "ratings").await);
    ok(&vroute(&["fault", "ratings", "--delay", "7s", "--header", "end-user=jason", "-n", &ns]));
    let ratings = http(&get(&ns, "VirtualService", "ratings").await);
    assert_eq!(ratings[0]["fault"], json!({"delay": {"fixedDelay": "7s", "percentage": {"value": 100}}}));
    assert_eq!(ratings[0]["route"], before_ratings[0]["route"], "the faulted route sends where the catch-all does");
    ok(&vroute(&["fault", "ratings", "--abort", "500", "--percent", "100", "--header", "end-user=jason", "-n", &ns]));
    let ratings = http(&get(&ns, "VirtualService", "ratings").await);
    assert_eq!(ratings.len(), 2, "the abort replaced the delay on the same route");
    assert_eq!(ratings[0]["fault"], json!({"abort": {"httpStatus": 500, "percentage": {"value": 100}}}));

    // Undo of each: the abort back to the delay, then (from before revision 1) no fault route; jason's route
    // gone. A second plain `undo` would undo the undo, as `kubectl rollout undo` does.
    ok(&vroute(&["undo", "ratings", "-n", &ns]));
    assert_eq!(http(&get(&ns, "VirtualService", "ratings").await)[0]["fault"]["delay"]["fixedDelay"], "7s");
    ok(&vroute(&["undo", "ratings", "--to-revision", "1", "-n", &ns]));
    assert_eq!(http(&get(&ns, "VirtualService", "ratings").await), before_ratings);
    ok(&vroute(&["undo", "reviews", "-n", &ns]));
    assert_eq!(http(&get(&ns, "VirtualService", "reviews").await), before_reviews);
}

#[tokio::test]
async fn a_header_route_survives_set_weight_and_a_plain_canarys_promote_and_abort() {
    let ns = bookinfo("header-survives").await;
    ok(&vroute(&["set-weight", "reviews", "v1=90", "v2=10", "-n", &ns]));
    ok(&vroute(&["route", "reviews", "--to", "v3", "--header", "end-user=jason", "-n", &ns]));
    let header_route = http(&get(&ns, "VirtualService", "reviews").await)[0].clone();
    ok(&vroute(&["set-weight", "reviews", "v1=80", "v2=20", "-n", &ns]));
    ok(&vroute(&["promote", "reviews", "--step", "30", "-n", &ns]));
    let vs = http(&get(&ns, "VirtualService", "reviews").await);
    assert_eq!(vs[0], header_route);
    assert_eq!(vs[1]["route"][1]["weight"], 50, "promote moved the catch-all: {vs:?}");
    ok(&vroute(&["abort", "reviews", "-n", &ns]));
    let vs = http(&get(&ns, "VirtualService", "reviews").await);
    assert_eq!(vs[0], header_route, "abort leaves the testers' route alone");
    assert_eq!(vs[1]["route"][0]["weight"], 100);
    // Removed by its conditions.
    let out = ok(&vroute(&["route", "reviews", "--remove", "--header", "end-user=jason", "-n", &ns]));
    assert!(out.contains("removed"), "{out}");
    assert_eq!(http(&get(&ns, "VirtualService", "reviews").await).len(), 1);
}

#[tokio::test]
async fn timeouts_retries_and_circuit_breaking_are_written_as_istio_reads_them_and_shown_by_status() {
    let ns = bookinfo("policies").await;
    ok(&vroute(&["timeout", "reviews", "2.5s", "-n", &ns]));
    ok(&vroute(&[
        "retries",
        "reviews",
        "--attempts",
        "3",
        "--per-try-timeout",
        "1s",
        "--retry-on",
        "5xx,503",
        "-n",
        &ns,
    ]));
    let route = &http(&get(&ns, "VirtualService", "reviews").await)[0];
    assert_eq!(route["timeout"], "2.5s");
    assert_eq!(route["retries"], json!({"attempts": 3, "perTryTimeout": "1s", "retryOn": "5xx,503"}));
    ok(&vroute(&["retries", "reviews", "--off", "-n", &ns]));
    assert_eq!(http(&get(&ns, "VirtualService", "reviews").await)[0]["retries"], json!({"attempts": 0}));
    ok(&vroute(&["timeout", "reviews", "--off", "-n", &ns]));
    assert!(http(&get(&ns, "VirtualService", "reviews").await)[0].get("timeout").is_none());

    let cb = ["circuit-break", "reviews", "--version", "v3", "--max-connections", "100", "--max-pending", "10"];
    let out = ok(&vroute(&[&cb[..], &["--consecutive-5xx", "5", "--ejection", "30s", "-n", &ns]].concat()));
    assert!(out.contains("version v3") && out.contains("100 conn, 10 pending, eject after 5 5xx for 30s"), "{out}");
    let dr = get(&ns, "DestinationRule", "reviews").await;
    assert_eq!(dr["spec"]["subsets"][2]["labels"], json!({"version": "v3"}), "the subset keeps its labels");
    assert_eq!(dr["spec"]["subsets"][2]["trafficPolicy"]["connectionPool"]["tcp"]["maxConnections"], 100);
    assert!(dr["spec"]["subsets"][0].get("trafficPolicy").is_none(), "other subsets untouched");
    let status: Value = serde_json::from_str(&ok(&vroute(&["status", "reviews", "-n", &ns, "-o", "json"]))).unwrap();
    let versions = status["services"][0]["versions"].as_array().unwrap().clone();
    let v3 = versions.iter().find(|v| v["name"] == "v3").unwrap();
    assert_eq!(
        v3["circuitBreaker"],
        json!({"maxConnections": 100, "maxPendingRequests": 10, "consecutive5xxErrors": 5,
               "baseEjectionTime": "30s", "maxEjectionPercent": null})
    );
    assert_eq!(v3["outlierDetection"], true);
    assert!(versions.iter().filter(|v| v["name"] != "v3").all(|v| v["circuitBreaker"].is_null()));
    let table = ok(&vroute(&["status", "reviews", "-n", &ns]));
    let rows = table.lines().skip_while(|l| !l.starts_with("VERSION"));
    assert!(table.contains("100 conn, 10 pending") && rows.into_iter().all(|l| l.len() <= 80), "{table}");
    let wide = ok(&vroute(&["status", "reviews", "-n", &ns, "-o", "wide"]));
    assert!(wide.contains("100 conn, 10 pending, eject after 5 5xx for 30s"), "{wide}");
    ok(&vroute(&["circuit-break", "reviews", "--version", "v3", "--off", "-n", &ns]));
    let dr = get(&ns, "DestinationRule", "reviews").await;
    assert!(dr["spec"]["subsets"][2].get("trafficPolicy").is_none(), "{dr}");
}

#[tokio::test]
async fn refusals_name_the_problem_with_their_exit_codes() {
    let ns = bookinfo("policy-refusals").await;
    let everyone = fails(&vroute(&["fault", "ratings", "--abort", "500", "-n", &ns]), 7);
    assert!(everyone.contains("hits every user of the service"), "{everyone}");
    let zero =
        fails(&vroute(&["fault", "ratings", "--abort", "500", "--percent", "0", "--header", "x=1", "-n", &ns]), 4);
    assert!(zero.contains("use --off to remove a fault"), "{zero}");
    let code = fails(&vroute(&["fault", "ratings", "--abort", "700", "--header", "x=1", "-n", &ns]), 4);
    assert!(code.contains("--abort: 700: an HTTP status code from 200 to 599"), "{code}");
    let on = fails(&vroute(&["retries", "reviews", "--attempts", "2", "--retry-on", "5xxx", "-n", &ns]), 4);
    assert!(on.contains("valid: 5xx, gateway-error"), "{on}");
    let attempts = fails(&vroute(&["retries", "reviews", "--attempts", "0", "-n", &ns]), 4);
    assert!(attempts.contains("use --off"), "{attempts}");
    let duration = fails(&vroute(&["timeout", "reviews", "1.5ms", "-n", &ns]), 4);
    assert!(duration.contains("give whole milliseconds"), "{duration}");
    let regex = fails(&vroute(&["route", "reviews", "--to", "v2", "--header", "end-user~=(", "-n", &ns]), 4);
    assert!(regex.contains("not a valid regex"), "{regex}");
    let nothing = fails(&vroute(&["route", "reviews", "--to", "v2", "-n", &ns]), 4);
    assert!(nothing.contains("give at least one condition"), "{nothing}");
    let unknown = fails(&vroute(&["route", "reviews", "--to", "v9", "--header", "x=1", "-n", &ns]), 4);
    assert!(unknown.contains("has no version \"v9\""), "{unknown}");
    // A version without ready pods, as set-weight refuses it.
    env().pod(&ns, "reviews", "v4", 0, false).await;
    let dr = serde_json::json!({"spec": {"subsets": [{"name": "v1", "labels": {"version": "v1"}},
        {"name": "v2", "labels": {"version": "v2"}}, {"name": "v3", "labels": {"version": "v3"}},
        {"name": "v4", "labels": {"version": "v4"}}]}});
    let api = env().istio(&ns, "DestinationRule").await;
    api.patch("reviews", &Default::default(), &kube::api::Patch::Merge(&dr)).await.unwrap();
    let unready = fails(&vroute(&["route", "reviews", "--to", "v4", "--header", "x=1", "-n", &ns]), 7);
    assert!(unready.contains("which has no ready pods"), "{unready}");
    // Nothing of that was written.
    assert_eq!(http(&get(&ns, "VirtualService", "ratings").await).len(), 1);
    assert_eq!(http(&get(&ns, "VirtualService", "reviews").await).len(), 1);
    // --force: the user knows every request is hit.
    ok(&vroute(&["fault", "ratings", "--delay", "100ms", "--percent", "1", "--force", "-n", &ns]));
    assert_eq!(http(&get(&ns, "VirtualService", "ratings").await)[0]["fault"]["delay"]["fixedDelay"], "0.1s");
}

#[tokio::test]
async fn a_rollout_managed_route_is_refused() {
    let env = env();
    let ns = env.namespace("policy-rollout").await;
    env.seed_canary_rollout(&ns, "reviews", 80, 20).await;
    let err = fails(&vroute(&["timeout", "reviews", "5s", "-n", &ns]), 7);
    assert!(err.contains("is managed by Rollout"), "{err}");
    // --force edits it anyway, for the controller to undo.
    ok(&vroute(&["fault", "reviews", "--abort", "503", "--force", "--route", "primary", "-n", &ns]));
    // A header route for testers is not the Rollout's: it can be added before its route.
    ok(&vroute(&["route", "reviews", "--to", "canary", "--header", "x-canary=1", "-n", &ns]));
}

#[tokio::test]
async fn on_an_httproute_header_routes_timeouts_and_retries_map_and_faults_and_breakers_are_refused() {
    let env = env();
    let ns = env.namespace("policy-gateway").await;
    env.seed_bookinfo_reviews(&ns).await;
    let out = ok(&vroute(&["route", "reviews", "--to", "reviews-v3", "--header", "end-user=tester", "-n", &ns]));
    assert!(out.contains(&format!("sends --header end-user=tester to reviews-v3.{ns}")), "{out}");
    let route = get_route(&ns).await;
    let rule = route["spec"]["rules"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        rule["backendRefs"],
        json!([{"group": "", "kind": "Service", "name": "reviews-v3", "port": 9080, "weight": 1}])
    );
    // Asked again, against the object as the API server stored (and defaulted) it: nothing to write.
    let again = ok(&vroute(&["route", "reviews", "--to", "reviews-v3", "--header", "end-user=tester", "-n", &ns]));
    assert!(again.contains("unchanged"), "{again}");
    ok(&vroute(&["timeout", "reviews", "3s", "--route", "#0", "-n", &ns]));
    ok(&vroute(&[
        "retries",
        "reviews",
        "--attempts",
        "2",
        "--per-try-timeout",
        "1s",
        "--retry-on",
        "gateway-error",
        "--route",
        "#0",
        "-n",
        &ns,
    ]));
    let rule0 = get_route(&ns).await["spec"]["rules"][0].clone();
    assert_eq!(rule0["timeouts"], json!({"request": "3s", "backendRequest": "1s"}));
    assert_eq!(rule0["retry"], json!({"attempts": 2, "codes": [502, 503, 504]}));
    let fault = fails(&vroute(&["fault", "reviews", "--abort", "500", "--header", "end-user=tester", "-n", &ns]), 7);
    assert!(fault.contains("fault injection has no Gateway API field"), "{fault}");
    let breaker = fails(&vroute(&["circuit-break", "reviews", "--max-connections", "10", "-n", &ns]), 7);
    assert!(breaker.contains("circuit breaking has no Gateway API field"), "{breaker}");
    let prefix = fails(&vroute(&["route", "reviews", "--to", "reviews-v3", "--header", "end-user^=t", "-n", &ns]), 7);
    assert!(prefix.contains("Exact or RegularExpression"), "{prefix}");
}

async fn get_route(ns: &str) -> Value {
    use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
    let gvk = GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "HTTPRoute");
    let api: Api<DynamicObject> = Api::namespaced_with(env().client().await, ns, &ApiResource::from_gvk(&gvk));
    serde_json::to_value(api.get("reviews").await.unwrap()).unwrap()
}

#[tokio::test]
async fn every_condition_form_is_written_as_the_istio_schema_accepts_it() {
    let ns = bookinfo("policy-conditions").await;
    let args = [
        "route",
        "reviews",
        "--to",
        "v3",
        "--header",
        "x-group~=beta-[0-9]+",
        "--cookie",
        "user=jason",
        "--uri",
        "/reviews/",
        "--query",
        "beta^=1",
        "--source-label",
        "app=productpage",
        "--name",
        "testers",
    ];
    // Server-side dry run first: the API server's schema validation, nothing stored.
    ok(&vroute(&[&args[..], &["--dry-run=server", "-n", &ns]].concat()));
    assert_eq!(http(&get(&ns, "VirtualService", "reviews").await).len(), 1);
    let out = ok(&vroute(&[&args[..], &["-n", &ns]].concat()));
    assert!(out.contains("route \"testers\" now sends"), "{out}");
    let route = &http(&get(&ns, "VirtualService", "reviews").await)[0];
    assert_eq!(
        route["match"],
        json!([{"headers": {"x-group": {"regex": "beta-[0-9]+"}, "cookie": {"regex": "^(.*?;\\s*)?(user=jason)(;.*)?$"}},
                "uri": {"prefix": "/reviews/"}, "queryParams": {"beta": {"prefix": "1"}},
                "sourceLabels": {"app": "productpage"}}])
    );
    let listing = ok(&vroute(&["route", "reviews", "-n", &ns]));
    assert!(listing.contains("testers") && listing.contains("v3 100%"), "{listing}");
}
