//! The route graph fed typed objects in-process, no cluster: manifests in, passes run, nodes and findings out.

use super::*;
use crate::objects::{Kind, offline};

const D: &str = "cluster.local";

pub(crate) fn snapshot(yaml: &str, ns: &str) -> Snapshot {
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(yaml).unwrap();
    offline::snapshot(docs.into_iter().map(|d| ("test.yaml".to_string(), d)).collect(), ns).unwrap()
}

fn options(scope: Scope) -> Options {
    Options { domain: D.into(), version_label: "version".into(), scope }
}

fn codes(graph: &RouteGraph) -> Vec<&'static str> {
    graph.all_findings().map(|f| f.code).collect()
}

/// A Service, its DestinationRule with subsets v1 and v2, and a Deployment per version with `pods` replicas.
pub(crate) fn service(app: &str, pods: [u32; 2]) -> String {
    let mut out = format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {app}}}\nspec: {{selector: {{app: {app}}}}}\n---\n\
         apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {app}}}\n\
         spec: {{host: {app}, subsets: [{{name: v1, labels: {{version: v1}}}}, {{name: v2, labels: {{version: v2}}}}]}}\n"
    );
    for (version, replicas) in ["v1", "v2"].iter().zip(pods) {
        out += &format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {app}-{version}}}\nspec:\n  replicas: {replicas}\n  \
             template: {{metadata: {{labels: {{app: {app}, version: {version}}}}}}}\n"
        );
    }
    out
}

fn split(app: &str, w1: u32, w2: u32) -> String {
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {app}}}\nspec:\n  hosts: [{app}]\n  http:\n  \
         - name: primary\n    route:\n    - {{destination: {{host: {app}, subset: v1}}, weight: {w1}}}\n    \
         - {{destination: {{host: {app}, subset: v2}}, weight: {w2}}}\n"
    )
}

/// `app` routed by caller version of `caller`: one route per pinned version, then a default to v1.
fn pinned(app: &str, caller: &str, versions: &[&str]) -> String {
    let mut http = String::new();
    for v in versions {
        http += &format!(
            "  - name: {v}-callers\n    match: [{{sourceLabels: {{app: {caller}, version: {v}}}}}]\n    \
             route: [{{destination: {{host: {app}, subset: {v}}}}}]\n"
        );
    }
    http += &format!("  - name: default\n    route: [{{destination: {{host: {app}, subset: v1}}}}]\n");
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {app}}}\nspec:\n  hosts: [{app}]\n  http:\n{http}"
    )
}

#[test]
fn a_split_host_has_its_routes_shares_versions_and_pods() {
    let snap = snapshot(&(service("a", [2, 1]) + &split("a", 1, 3)), "shop");
    let graph = build(&snap, &options(Scope::Namespace("shop".into()))).unwrap();
    let [host] = graph.hosts.as_slice() else { panic!("one host") };
    assert_eq!(host.host, "a.shop.svc.cluster.local");
    assert_eq!(host.split, SplitKind::Subset);
    let shares: Vec<(&str, f64)> = host.routes[0].destinations.iter().map(|d| (d.version.as_str(), d.share)).collect();
    assert_eq!(shares, [("v1", 25.0), ("v2", 75.0)]);
    let pods: Vec<(&str, Option<PodCount>)> = host.versions.iter().map(|v| (v.name.as_str(), v.pods)).collect();
    assert_eq!(pods, [("v1", Some(PodCount { ready: 2, total: 2 })), ("v2", Some(PodCount { ready: 1, total: 1 }))]);
    assert_eq!(host.versions[0].owners, ["Deployment/a-v1"]);
    assert!(codes(&graph).is_empty(), "{:?}", codes(&graph));
}

#[test]
fn the_chain_pass_finds_a_caller_version_without_its_route() {
    let whole = service("a", [1, 1]) + "---\n" + &service("b", [1, 1]) + &pinned("b", "a", &["v1", "v2"]);
    let graph_snap = snapshot(&whole, "shop");
    let graph =
        build(&graph_snap, &options(Scope::Host { host: "b.shop.svc.cluster.local".into(), input: "b".into() }))
            .unwrap();
    assert!(graph.hosts[0].version_pinned);
    assert!(codes(&graph).is_empty(), "{:?}", codes(&graph));

    let broken = service("a", [1, 1]) + "---\n" + &service("b", [1, 1]) + &pinned("b", "a", &["v1"]);
    let snap = snapshot(&broken, "shop");
    let graph = build(&snap, &options(Scope::Namespace("shop".into()))).unwrap();
    let chain: Vec<&str> = graph.all_findings().filter(|f| f.code == "VR110").map(|f| f.message.as_str()).collect();
    assert_eq!(chain, ["caller a (version=v2) can reach another version of b.shop: route default sends 100% to v1"]);
}

/// Two Rollouts named `reviews`, in `prod` and `stage`, each owning the route of its own VirtualService of host
/// `reviews.prod`: each is joined to its own route, so neither reports drift.
#[test]
fn rollouts_join_their_routes_by_reference_not_by_name() {
    let rollout = |ns: &str, vs: &str, weight: u32| {
        format!(
            "---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {{name: reviews, namespace: {ns}}}\n\
             spec:\n  strategy:\n    canary:\n      steps: [{{setWeight: {weight}}}, {{pause: {{}}}}]\n      \
             trafficRouting: {{istio: {{virtualService: {{name: {vs}, routes: [primary]}}, \
             destinationRule: {{name: reviews, canarySubsetName: v2, stableSubsetName: v1}}}}}}\n\
             status: {{currentStepIndex: 1, canary: {{weights: {{canary: {{weight: {weight}}}, stable: {{weight: {}}}}}}}}}\n",
            100 - weight
        )
    };
    let other_vs = "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews-canary, namespace: stage}\n\
        spec:\n  hosts: [reviews.prod.svc.cluster.local]\n  http:\n  - name: primary\n    route:\n    \
        - {destination: {host: reviews.prod.svc.cluster.local, subset: v1}, weight: 50}\n    \
        - {destination: {host: reviews.prod.svc.cluster.local, subset: v2}, weight: 50}\n";
    let yaml = service("reviews", [1, 1])
        + &split("reviews", 80, 20)
        + &rollout("prod", "reviews", 20)
        + other_vs
        + &rollout("stage", "reviews-canary", 50);
    let snap = snapshot(&yaml, "prod");
    let graph = build(&snap, &options(Scope::Namespace("prod".into()))).unwrap();
    let host = graph.host("reviews.prod.svc.cluster.local").unwrap();
    let managed: Vec<String> = host.routes.iter().map(|r| r.managed_by.as_ref().unwrap().to_string()).collect();
    assert_eq!(managed, ["Rollout/prod/reviews", "Rollout/stage/reviews"]);
    assert!(!codes(&graph).contains(&"VR109"), "{:?}", graph.all_findings().collect::<Vec<_>>());
    let rollout = host.rollout.as_ref().unwrap();
    assert_eq!((rollout.desired_canary_weight, rollout.actual_canary_weight), (Some(20), Some(20.0)));
}

#[test]
fn an_unreadable_rollout_is_reported_and_still_owns_what_its_routing_claims() {
    let bad = "---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: a}\nspec:\n  strategy:\n    canary:\n      \
        steps: [{setWeight: 99999999999}]\n      trafficRouting: {istio: {virtualService: {name: a, routes: [primary]}}}\n";
    let snap = snapshot(&(service("a", [1, 1]) + &split("a", 100, 0) + bad), "shop");
    let graph = build(&snap, &options(Scope::Namespace("shop".into()))).unwrap();
    let finding = graph.findings.iter().find(|f| f.code == "VR115").expect("reported");
    assert_eq!(finding.object, "Rollout/shop/a");
    assert!(finding.message.contains("spec.strategy.canary.steps[0].setWeight"), "{}", finding.message);
    assert!(!finding.hint.contains("list rights"), "the hint speaks of the object, not of RBAC: {}", finding.hint);
    assert_eq!(
        graph.hosts[0].routes[0].managed_by.as_ref().map(ToString::to_string).as_deref(),
        Some("Rollout/shop/a")
    );
    assert!(graph.owners[0].unreadable.is_some());
}

#[test]
fn traffic_is_attached_per_version_and_crossings_of_a_pinned_host_are_errors() {
    let snap =
        snapshot(&(service("a", [1, 1]) + "---\n" + &service("b", [1, 1]) + &pinned("b", "a", &["v1", "v2"])), "shop");
    let mut graph = build(&snap, &options(Scope::Namespace("shop".into()))).unwrap();
    let host = "b.shop.svc.cluster.local";
    let rate = |version: &str, rps, eps| traffic::VersionRate {
        service: host.into(),
        version: version.into(),
        requests_per_second: rps,
        errors_per_second: eps,
    };
    let edge = traffic::Edge {
        source_app: "a".into(),
        source_version: "v2".into(),
        service: host.into(),
        version: "v1".into(),
        requests: 12.0,
    };
    traffic::attach(&mut graph, &[rate("v1", 10.0, 1.0), rate("v2", 0.0, 0.0)], &[edge], "version", D, "5m");
    let b = graph.host(host).unwrap();
    assert_eq!(b.versions[0].traffic, Some(Traffic { requests_per_second: 10.0, error_rate: Some(0.1) }));
    assert_eq!(b.versions[1].traffic, Some(Traffic { requests_per_second: 0.0, error_rate: None }), "not 0%");
    assert_eq!(codes(&graph), ["VR111"]);
}

/// A canary Rollout's subsets as its controller leaves them: `stable` and `canary`, each selecting a
/// pod-template hash, the pods labelled v1 and v2.
pub(crate) fn rollout_canary(app: &str, stable_weight: u32) -> String {
    let pod = |hash: &str, version: &str, i: u32| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {app}-{hash}-{i}, labels: {{app: {app}, version: {version}, \
             rollouts-pod-template-hash: {hash}}}}}\nstatus: {{conditions: [{{type: Ready, status: \"True\"}}]}}\n"
        )
    };
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {app}}}\nspec: {{selector: {{app: {app}}}}}\n---\n\
         apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {app}}}\nspec: {{host: {app}, subsets: [\
         {{name: stable, labels: {{app: {app}, rollouts-pod-template-hash: h1}}}}, \
         {{name: canary, labels: {{app: {app}, rollouts-pod-template-hash: h2}}}}]}}\n---\n\
         apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {app}}}\nspec:\n  hosts: [{app}]\n  http:\n  \
         - name: primary\n    route:\n    - {{destination: {{host: {app}, subset: stable}}, weight: {stable_weight}}}\n    \
         - {{destination: {{host: {app}, subset: canary}}, weight: {}}}\n{}{}{}",
        100 - stable_weight,
        pod("h1", "v1", 0),
        pod("h1", "v1", 1),
        pod("h2", "v2", 0)
    )
}

#[test]
fn a_subset_selecting_by_pod_template_hash_is_measured_by_its_pods_version_label() {
    let snap = snapshot(&rollout_canary("reviews", 80), "prod");
    let mut graph = build(&snap, &options(Scope::Namespace("prod".into()))).unwrap();
    let host = "reviews.prod.svc.cluster.local";
    let versions: Vec<(&str, Option<&str>)> =
        graph.host(host).unwrap().versions.iter().map(|v| (v.name.as_str(), v.telemetry_version("version"))).collect();
    assert_eq!(versions, [("stable", Some("v1")), ("canary", Some("v2"))]);
    // Istio reports the pods' label: the canary's requests are v2's.
    let rate = |version: &str, rps| traffic::VersionRate {
        service: host.into(),
        version: version.into(),
        requests_per_second: rps,
        errors_per_second: 0.0,
    };
    traffic::attach(&mut graph, &[rate("v1", 8.0), rate("v2", 2.0)], &[], "version", D, "5m");
    let rps: Vec<f64> =
        graph.host(host).unwrap().versions.iter().map(|v| v.traffic.unwrap().requests_per_second).collect();
    assert_eq!(rps, [8.0, 2.0]);

    // A canary that kept the stable's label cannot be told apart by telemetry: its subset's name stands.
    let same = rollout_canary("reviews", 80).replace("version: v2", "version: v1");
    let snap = snapshot(&same, "prod");
    let graph = build(&snap, &options(Scope::Namespace("prod".into()))).unwrap();
    let versions: Vec<Option<&str>> =
        graph.host(host).unwrap().versions.iter().map(|v| v.telemetry_version("version")).collect();
    assert_eq!(versions, [Some("stable"), Some("canary")]);
}

/// One fixture per finding code the graph's passes emit (VR111 needs traffic, above; VR116 is the status
/// operation's, tested against a real unreachable Prometheus in the integration suite).
#[test]
fn every_finding_code_is_emitted_by_its_case() {
    let vs = |name: &str, http: &str| {
        format!(
            "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {name}}}\nspec:\n  hosts: [a]\n  http:\n{http}"
        )
    };
    let route = |dests: &str| format!("  - name: r\n    route: [{dests}]\n");
    let v = |subset: &str, weight: u32| format!("{{destination: {{host: a, subset: {subset}}}, weight: {weight}}}");
    let drift = "---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: a}\nspec:\n  strategy:\n    \
        canary:\n      steps: [{setWeight: 20}]\n      trafficRouting: {istio: {virtualService: {name: a, routes: [r]}, \
        destinationRule: {name: a, canarySubsetName: v2, stableSubsetName: v1}}}\n\
        status: {currentStepIndex: 0, canary: {weights: {canary: {weight: 20}, stable: {weight: 80}}}}\n";
    let second_dr = "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: a-too}\n\
        spec: {host: a, subsets: [{name: v1, labels: {version: v1}}]}\n";
    let outlier = "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: a}\nspec:\n  host: a\n  \
        subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 5}}}]\n";
    let unreadable = "---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: x}\nspec:\n  strategy:\n    \
        canary: {steps: [{setWeight: 99999999999}]}\n";
    let base = service("a", [1, 1]);
    let cases: Vec<(&str, String)> = vec![
        ("VR101", base.clone() + &vs("a", &route(&v("v9", 100)))),
        ("VR102", service("a", [1, 0]) + &vs("a", &route(&format!("{}, {}", v("v1", 50), v("v2", 50))))),
        ("VR103", service("a", [1, 0]) + &vs("a", &route(&v("v1", 100)))),
        ("VR104", base.clone() + &vs("a", &route("{destination: {host: ghost}}"))),
        (
            "VR105",
            base.clone()
                + &vs(
                    "a",
                    &(route(&v("v1", 100)) + "  - name: never\n    route: [{destination: {host: a, subset: v2}}]\n"),
                ),
        ),
        ("VR106", base.clone() + &vs("a", &route(&v("v1", 100))) + &vs("b", &route(&v("v2", 100)))),
        ("VR107", base.clone() + &vs("a", &route(&v("v1", 50)))),
        ("VR108", base.clone() + &vs("a", &route(&format!("{}, {}", v("v1", 50), v("v1", 50))))),
        ("VR109", base.clone() + &vs("a", &route(&format!("{}, {}", v("v1", 100), v("v2", 0)))) + drift),
        ("VR112", base.clone() + &vs("a", &route(&format!("{}, {}", v("v1", 0), v("v2", 0))))),
        ("VR113", base.clone() + second_dr + &vs("a", &route(&v("v1", 100)))),
        (
            "VR114",
            base.replace("kind: DestinationRule", "kind: Ignored")
                + outlier
                + &vs("a", &route(&format!("{}, {}", v("v1", 90), v("v2", 10)))),
        ),
        ("VR115", base.clone() + &vs("a", &route(&v("v1", 100))) + unreadable),
    ];
    for (code, yaml) in cases {
        let snap = snapshot(&yaml, "shop");
        let graph = build(&snap, &options(Scope::Namespace("shop".into()))).unwrap();
        assert!(codes(&graph).contains(&code), "{code}: got {:?}", graph.all_findings().collect::<Vec<_>>());
    }
    let mut partial = snapshot(&(service("a", [1, 1]) + &split("a", 50, 50)), "shop");
    partial.partial.push(crate::objects::PartialListing {
        resource: crate::objects::Listable::VirtualServices,
        listed: crate::objects::Listed::Namespace("shop".into()),
        reason: crate::objects::Shortfall::Forbidden,
    });
    let graph = build(&partial, &options(Scope::Namespace("shop".into()))).unwrap();
    assert_eq!(codes(&graph), ["VR115"]);
    assert!(graph.findings[0].hint.contains("list rights"));
}

/// The README's findings table lists exactly the codes the tool emits, each once.
#[test]
fn the_readme_lists_every_finding_code() {
    let readme = include_str!("../../README.md");
    let listed: Vec<&str> =
        readme.lines().filter_map(|l| l.strip_prefix("| VR")).filter_map(|rest| rest.get(..3)).collect();
    let mut known: Vec<&str> = findings::ALL.iter().map(|c| &c.id()[2..]).collect();
    known.dedup();
    assert_eq!(listed, known);
}

#[test]
fn a_blue_green_rollout_shows_its_active_and_preview_versions() {
    let pods = |hash: &str, version: &str| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: reviews-{hash}, labels: {{app: reviews, version: {version}, \
             rollouts-pod-template-hash: {hash}}}}}\nstatus: {{conditions: [{{type: Ready, status: \"True\"}}]}}\n"
        )
    };
    let yaml = format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: reviews-active}}\nspec: {{selector: {{app: reviews, rollouts-pod-template-hash: h1}}}}\n\
         ---\napiVersion: v1\nkind: Service\nmetadata: {{name: reviews-preview}}\nspec: {{selector: {{app: reviews, rollouts-pod-template-hash: h2}}}}\n\
         ---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {{name: reviews}}\nspec:\n  replicas: 0\n  strategy:\n    \
         blueGreen: {{activeService: reviews-active, previewService: reviews-preview, autoPromotionEnabled: false}}\n\
         status: {{phase: Paused, message: BlueGreenPause, blueGreen: {{activeSelector: h1, previewSelector: h2}}}}\n{}{}",
        pods("h1", "v1"),
        pods("h2", "v2")
    );
    let snap = snapshot(&yaml, "prod");
    let graph = build(&snap, &options(Scope::Namespace("prod".into()))).unwrap();
    let host = graph.host("reviews-active.prod.svc.cluster.local").expect("the active Service's host");
    let versions: Vec<(&str, Option<PodCount>, &str)> =
        host.versions.iter().map(|v| (v.name.as_str(), v.pods, v.owners[0].as_str())).collect();
    let one = Some(PodCount { ready: 1, total: 1 });
    assert_eq!(versions, [("active", one, "Rollout/reviews (active)"), ("preview", one, "Rollout/reviews (preview)")]);
    let rollout = host.rollout.as_ref().unwrap();
    assert_eq!((rollout.strategy.as_str(), rollout.phase.as_str()), ("blueGreen", "Paused"));
}

/// Istio's bookinfo on Gateway API: one Service per version, a mesh HTTPRoute at 90/10 and a header rule to v2
/// written after the catch-all (document order would never reach it; Gateway API precedence does).
fn bookinfo_gamma(extra: &str) -> String {
    let mut out =
        String::from("apiVersion: v1\nkind: Service\nmetadata: {name: reviews}\nspec: {selector: {app: reviews}}\n");
    for v in ["v1", "v2", "v3"] {
        out += &format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: reviews-{v}}}\nspec: {{selector: {{app: reviews, version: {v}}}}}\n\
             ---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: reviews-{v}}}\nspec:\n  replicas: 1\n  \
             template: {{metadata: {{labels: {{app: reviews, version: {v}}}}}}}\n"
        );
    }
    out += "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: reviews}\nspec:\n  \
            parentRefs: [{group: \"\", kind: Service, name: reviews, port: 9080}]\n  rules:\n  \
            - backendRefs: [{name: reviews-v1, port: 9080, weight: 90}, {name: reviews-v2, port: 9080, weight: 10}]\n  \
            - matches: [{headers: [{name: end-user, value: jason}]}]\n    backendRefs: [{name: reviews-v2, port: 9080}]\n";
    out + extra
}

#[test]
fn http_routes_are_hosts_with_rules_in_gateway_api_precedence() {
    let snap = snapshot(&bookinfo_gamma(""), "bookinfo");
    let graph = build(&snap, &options(Scope::Namespace("bookinfo".into()))).unwrap();
    let host = graph.host("reviews.bookinfo.svc.cluster.local").expect("the route's parent Service is a host");
    assert_eq!(host.split, SplitKind::Host);
    let order: Vec<usize> = host.rules.iter().map(|r| r.index).collect();
    assert_eq!(order, vec![1, 0], "the header rule is more specific, so it applies first");
    assert!(host.rules.iter().all(|r| r.reachable));
    let shares: Vec<(String, f64)> = host.rules[1].destinations.iter().map(|d| (d.version.clone(), d.share)).collect();
    assert_eq!(shares, vec![("reviews-v1.bookinfo".into(), 90.0), ("reviews-v2.bookinfo".into(), 10.0)]);
    let versions: Vec<(&str, Option<PodCount>)> = host.versions.iter().map(|v| (v.name.as_str(), v.pods)).collect();
    assert_eq!(
        versions,
        vec![
            ("reviews-v1.bookinfo", Some(PodCount { ready: 1, total: 1 })),
            ("reviews-v2.bookinfo", Some(PodCount { ready: 1, total: 1 }))
        ]
    );
    assert!(codes(&graph).is_empty(), "{:?}", graph.all_findings().collect::<Vec<_>>());
}

#[test]
fn http_route_findings() {
    let extra = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: broken}\nspec:\n  \
                 parentRefs: [{group: \"\", kind: Service, name: ratings}]\n  rules:\n  \
                 - backendRefs: [{name: ratings-v9}, {name: ratings, namespace: other}]\n  \
                 - matches: [{path: {type: PathPrefix, value: /}}]\n    backendRefs: [{name: reviews-v1, weight: 0}, {name: reviews-v2, weight: 0}]\n\
                 status:\n  parents:\n  - parentRef: {group: \"\", kind: Service, name: ratings}\n    controllerName: istio.io/gateway-controller\n    \
                 conditions: [{type: Accepted, status: \"False\", reason: BackendNotFound, message: no ratings}]\n\
                 ---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\nspec:\n  hosts: [reviews]\n  \
                 http: [{route: [{destination: {host: reviews-v1}}]}]\n";
    let snap = snapshot(&bookinfo_gamma(extra), "bookinfo");
    let graph = build(&snap, &options(Scope::All)).unwrap();
    let found: Vec<(&str, &str)> = graph.all_findings().map(|f| (f.code, f.message.as_str())).collect();
    let has = |code: &str, text: &str| found.iter().any(|(c, m)| *c == code && m.contains(text));
    assert!(has("VR119", "names parent Service/bookinfo/ratings, which does not exist"), "{found:#?}");
    assert!(
        has("VR120", "is not Accepted by parent Service/bookinfo/ratings (BackendNotFound: no ratings)"),
        "{found:#?}"
    );
    assert!(has("VR117", "sends 50% to Service/bookinfo/ratings-v9, which does not exist"), "{found:#?}");
    assert!(has("VR118", "Service/other/ratings, in another namespace, and no ReferenceGrant"), "{found:#?}");
    assert!(has("VR112", "rule #1: all backend weights are 0"), "{found:#?}");
    assert!(has("VR105", "rule #1 never applies for every caller"), "{found:#?}");
    assert!(has("VR121", "is routed by VirtualService bookinfo/reviews and HTTPRoute bookinfo/reviews"), "{found:#?}");
}

#[test]
fn a_reference_grant_allows_a_cross_namespace_backend() {
    let extra = "---\napiVersion: v1\nkind: Service\nmetadata: {name: ratings, namespace: other}\nspec: {selector: {app: ratings}}\n\
                 ---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: ratings}\nspec:\n  \
                 parentRefs: [{group: \"\", kind: Service, name: reviews}]\n  rules:\n  \
                 - matches: [{path: {type: PathPrefix, value: /ratings}}]\n    backendRefs: [{name: ratings, namespace: other}]\n";
    let grant = "---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: from-bookinfo, namespace: other}\n\
                 spec:\n  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: bookinfo}]\n  to: [{group: \"\", kind: Service}]\n";
    let without = snapshot(&bookinfo_gamma(extra), "bookinfo");
    assert!(codes(&build(&without, &options(Scope::All)).unwrap()).contains(&"VR118"));
    let with = snapshot(&bookinfo_gamma(&format!("{extra}{grant}")), "bookinfo");
    assert!(!codes(&build(&with, &options(Scope::All)).unwrap()).contains(&"VR118"));
}

/// A consumer route (in the caller's namespace) applies to its callers before any producer route, and the
/// producer route stays reachable for everyone else.
#[test]
fn consumer_routes_are_their_own_audience() {
    let consumer = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: reviews-for-shop, namespace: shop}\nspec:\n  \
                    parentRefs: [{group: \"\", kind: Service, name: reviews, namespace: bookinfo}]\n  rules:\n  \
                    - backendRefs: [{name: reviews-v3, namespace: bookinfo}]\n";
    let snap = snapshot(&bookinfo_gamma(consumer), "bookinfo");
    let graph = build(&snap, &options(Scope::All)).unwrap();
    let host = graph.host("reviews.bookinfo.svc.cluster.local").unwrap();
    let audiences: Vec<String> = host.rules.iter().map(|r| r.audience.to_string()).collect();
    assert_eq!(audiences, vec!["every caller", "every caller", "callers in shop"]);
    assert!(host.rules.iter().all(|r| r.reachable), "the consumer catch-all does not shadow producer rules");
    assert!(codes(&graph).contains(&"VR118"), "the consumer route's backend is in another namespace");
}

#[test]
fn gateway_routes_are_hosts_by_hostname() {
    let extra = "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: ingress}\nspec:\n  gatewayClassName: istio\n  \
                 listeners: [{name: http, port: 80, protocol: HTTP}]\n\
                 ---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: shop}\nspec:\n  \
                 parentRefs: [{name: ingress}]\n  hostnames: [shop.example.com]\n  rules:\n  \
                 - backendRefs: [{name: reviews-v1, weight: 3}, {name: reviews-v2}]\n";
    let snap = snapshot(&bookinfo_gamma(extra), "bookinfo");
    let graph = build(&snap, &options(Scope::Namespace("bookinfo".into()))).unwrap();
    let host = graph.host("shop.example.com").expect("a Gateway route's hostname is a host");
    assert_eq!(host.rules[0].audience, Audience::Gateway(ObjectRef::new(Kind::Gateway, "bookinfo", "ingress")));
    let shares: Vec<f64> = host.rules[0].destinations.iter().map(|d| d.share).collect();
    assert_eq!(shares, vec![75.0, 25.0]);
    assert!(!codes(&graph).contains(&"VR119"), "the Gateway exists");
}

/// Argo Rollouts' Gateway API plugin sets the weights of the rules naming its canary and stable Services:
/// those rules are the Rollout's, and the host shows the Rollout with the canary share the rule gives.
#[test]
fn rules_the_gateway_api_plugin_rewrites_are_owned_by_the_rollout() {
    let rollout = "---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: reviews}\nspec:\n  \
                   selector: {matchLabels: {app: reviews}}\n  template: {metadata: {labels: {app: reviews}}}\n  strategy:\n    canary:\n      \
                   canaryService: reviews-v2\n      stableService: reviews-v1\n      steps: [{setWeight: 10}, {pause: {}}]\n      \
                   trafficRouting:\n        plugins:\n          argoproj-labs/gatewayAPI: {httpRoute: reviews, namespace: bookinfo}\n";
    let snap = snapshot(&bookinfo_gamma(rollout), "bookinfo");
    let graph = build(&snap, &options(Scope::Namespace("bookinfo".into()))).unwrap();
    let host = graph.host("reviews.bookinfo.svc.cluster.local").unwrap();
    let managed: Vec<(usize, Option<String>)> =
        host.rules.iter().map(|r| (r.index, r.managed_by.as_ref().map(ToString::to_string))).collect();
    assert_eq!(
        managed,
        vec![(1, Some("Rollout/bookinfo/reviews".into())), (0, Some("Rollout/bookinfo/reviews".into()))]
    );
    let ro = host.rollout.as_ref().expect("the Rollout is shown on the host");
    assert_eq!(ro.actual_canary_weight, Some(10.0), "the split rule's share, not the header rule's 100%");
}

/// In ambient mode a waypoint applies the VirtualService without the caller's identity: `sourceLabels`
/// pinning does not hold there, and the chain check must say so rather than pass.
#[test]
fn source_labels_pinning_on_a_waypoint_served_host_is_an_error() {
    let manifests = format!("{}---\n{}{}", service("a", [1, 1]), service("b", [1, 1]), pinned("b", "a", &["v1", "v2"]));
    let plain = snapshot(&manifests, "shop");
    assert!(!codes(&build(&plain, &options(Scope::All)).unwrap()).contains(&"VR122"));
    let ns = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}}\n";
    let ambient = snapshot(&format!("{manifests}{ns}"), "shop");
    let graph = build(&ambient, &options(Scope::All)).unwrap();
    let b = graph.host("b.shop.svc.cluster.local").unwrap();
    assert_eq!(b.waypoint.as_ref().map(|w| w.name.as_str()), Some("waypoint"));
    let f = b.findings.iter().find(|f| f.code == "VR122").expect("VR122");
    assert!(
        f.message.contains("waypoint waypoint serves b.shop (Namespace/shop has istio.io/use-waypoint)"),
        "{}",
        f.message
    );
    assert!(!b.findings.iter().any(|f| f.code == "VR110"), "the chain is not simulated as if sourceLabels held");
    // A Service may opt out of its namespace's waypoint.
    let opted_out =
        manifests.replacen("metadata: {name: b}", "metadata: {name: b, labels: {istio.io/use-waypoint: none}}", 1);
    let snap = snapshot(&format!("{opted_out}{ns}"), "shop");
    assert!(!codes(&build(&snap, &options(Scope::All)).unwrap()).contains(&"VR122"));
}

/// `app` pinned by header `x-version`: one route per version, then a default to v1.
fn header_pinned(app: &str, versions: &[(&str, &str)]) -> String {
    let mut http = String::new();
    for (value, subset) in versions {
        http += &format!(
            "  - name: vroute-pin-{value}\n    match: [{{headers: {{x-version: {{exact: {value}}}}}}}]\n    \
             route: [{{destination: {{host: {app}, subset: {subset}}}}}]\n"
        );
    }
    http += &format!("  - name: default\n    route: [{{destination: {{host: {app}, subset: v1}}}}]\n");
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {app}}}\nspec:\n  hosts: [{app}]\n  http:\n{http}"
    )
}

/// Header pins hold under a waypoint (no VR122), and a pin route to the wrong version breaks the chain.
#[test]
fn header_pinning_is_checked_per_version_and_holds_under_a_waypoint() {
    let ns =
        "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio.io/use-waypoint: waypoint}}\n";
    let good = format!("{}{}{ns}", service("b", [1, 1]), header_pinned("b", &[("v1", "v1"), ("v2", "v2")]));
    let snap = snapshot(&good, "shop");
    let graph = build(&snap, &options(Scope::All)).unwrap();
    let b = graph.host("b.shop.svc.cluster.local").unwrap();
    assert!(b.version_pinned);
    assert_eq!(b.pin_header.as_deref(), Some("x-version"));
    assert!(b.findings.is_empty(), "{:?}", b.findings);

    let wrong = format!("{}{}{ns}", service("b", [1, 1]), header_pinned("b", &[("v1", "v1"), ("v2", "v1")]));
    let snap = snapshot(&wrong, "shop");
    let graph = build(&snap, &options(Scope::All)).unwrap();
    let b = graph.host("b.shop.svc.cluster.local").unwrap();
    let messages: Vec<&str> = b.findings.iter().filter(|f| f.code == "VR110").map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        ["requests with x-version=v2 can reach another version of b.shop: route vroute-pin-v2 sends 100% to v1"]
    );
}

#[test]
fn header_pinning_on_an_http_route_is_checked_in_gateway_api_precedence() {
    let pins = "  - name: vroute-pin-v1\n    matches: [{headers: [{type: Exact, name: x-version, value: v1}]}]\n    \
                backendRefs: [{name: reviews-v1, port: 9080}]\n  \
                - name: vroute-pin-v2\n    matches: [{headers: [{type: Exact, name: x-version, value: v2}]}]\n    \
                backendRefs: [{name: reviews-v2, port: 9080}]\n";
    let snap = snapshot(&bookinfo_gamma(pins), "bookinfo");
    let graph = build(&snap, &options(Scope::All)).unwrap();
    let host = graph.host("reviews.bookinfo.svc.cluster.local").unwrap();
    assert_eq!(host.pin_header.as_deref(), Some("x-version"));
    // The jason rule (one header, written before the pins) ties with them and wins for jason's requests: a v1
    // caller acting for jason reaches v2. (reviews-v3 is no version of the route: nothing to pin it to.)
    let messages: Vec<&str> = host.findings.iter().filter(|f| f.code == "VR110").map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "requests with x-version=v1 can reach another version of reviews.bookinfo: rule #1 sends 100% to reviews-v2.bookinfo"
        ]
    );
    // Without the jason rule, the pins hold.
    let plain = bookinfo_gamma(pins).replace(
        "  - matches: [{headers: [{name: end-user, value: jason}]}]\n    backendRefs: [{name: reviews-v2, port: 9080}]\n",
        "",
    );
    let snap = snapshot(&plain, "bookinfo");
    let graph = build(&snap, &options(Scope::All)).unwrap();
    let host = graph.host("reviews.bookinfo.svc.cluster.local").unwrap();
    assert!(host.findings.is_empty(), "{:?}", host.findings);
}

#[test]
fn the_streamed_status_document_is_the_projected_one_byte_for_byte() {
    let yaml = format!(
        "{}---\n{}{}",
        service("reviews", [2, 0]),
        split("reviews", 90, 10),
        pinned("ratings", "reviews", &["v1"])
    );
    let snap = snapshot(&format!("{yaml}---\n{}", service("ratings", [1, 1])), "prod");
    let graph = build(&snap, &options(Scope::All)).unwrap();
    assert!(graph.hosts.len() == 2 && graph.all_findings().next().is_some(), "a document with something in it");
    let projected = serde_json::to_string_pretty(&crate::views::status::project(&graph)).unwrap();
    assert_eq!(serde_json::to_string_pretty(&crate::views::status::Streamed(&graph)).unwrap(), projected);
}
