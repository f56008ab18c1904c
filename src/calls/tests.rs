//! The call graph from manifests and observations, in-process: the demo chain pinned and broken, a canary
//! split, calls across versions, error outliers, layers.

use super::*;
use crate::graph::{self, Options, Scope};
use crate::objects::Snapshot;

const D: &str = "cluster.local";

fn snapshot(yaml: &str) -> Snapshot {
    graph::tests::snapshot(yaml, "demo")
}

/// The route graph tests' Service with subsets v1 and v2 and a Deployment per version, as a document to append.
fn service(app: &str, pods: [u32; 2]) -> String {
    format!("---\n{}", graph::tests::service(app, pods))
}

fn split(app: &str, w1: u32, w2: u32) -> String {
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {app}}}\nspec:\n  hosts: [{app}]\n  http:\n  \
         - route:\n    - {{destination: {{host: {app}, subset: v1}}, weight: {w1}}}\n    \
         - {{destination: {{host: {app}, subset: v2}}, weight: {w2}}}\n"
    )
}

/// `app` routed by the version of callers `caller`, then a default to v1.
fn pinned(app: &str, caller: &str) -> String {
    let mut http = String::new();
    for v in ["v1", "v2"] {
        http += &format!(
            "  - match: [{{sourceLabels: {{app: {caller}, version: {v}}}}}]\n    route: [{{destination: {{host: {app}, subset: {v}}}}}]\n"
        );
    }
    http += &format!("  - route: [{{destination: {{host: {app}, subset: v1}}}}]\n");
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {app}}}\nspec:\n  hosts: [{app}]\n  http:\n{http}"
    )
}

/// The demo chain: a split 50/50, b pinned to a's version, c to b's; `b_v2` pods for b's v2.
fn chain(b_v2: u32) -> String {
    [
        service("a", [1, 1]),
        service("b", [1, b_v2]),
        service("c", [1, 1]),
        split("a", 50, 50),
        pinned("b", "a"),
        pinned("c", "b"),
    ]
    .concat()
}

fn call(from: (&str, &str), to: (&str, &str), requests: f64, errors: f64) -> Observation {
    Observation {
        source_app: from.0.into(),
        source_version: from.1.into(),
        source_namespace: "demo".into(),
        service: format!("{}.demo.svc.{D}", to.0),
        app: to.0.into(),
        version: to.1.into(),
        requests,
        errors,
        p50_ms: Some(4.0),
        p99_ms: Some(20.0),
    }
}

fn seen(calls: Vec<Observation>) -> Telemetry {
    Telemetry::Observed { window: "5m".into(), window_seconds: 300.0, calls }
}

fn calls_of(yaml: &str, telemetry: &Telemetry) -> CallGraph {
    let snap = snapshot(yaml);
    let opts = Options { domain: D.into(), version_label: "version".into(), scope: Scope::Namespace("demo".into()) };
    let routes = graph::build(&snap, &opts).unwrap();
    let apps = service_apps(&snap, D);
    build(&Input { routes: &routes, telemetry, apps: &apps, version_label: "version", domain: D, focus: None })
}

/// `from -> to` of every edge, with its marks.
fn edges(g: &CallGraph) -> Vec<String> {
    let marks = |e: &CallEdge| e.marks.iter().map(|m| format!(" {}", m.code())).collect::<String>();
    g.edges.iter().map(|e| format!("{} -> {}{}", g.nodes[e.from].id, g.nodes[e.to].id, marks(e))).collect()
}

fn layers(g: &CallGraph) -> Vec<(String, usize)> {
    g.groups.iter().map(|grp| (grp.name.clone(), grp.layer)).collect()
}

#[test]
fn without_telemetry_the_routes_draw_the_pinned_chain() {
    let g = calls_of(&chain(1), &Telemetry::Unknown("no Prometheus".into()));
    assert_eq!(g.window, None);
    assert_eq!(g.unknown.as_deref(), Some("no Prometheus"));
    assert_eq!(
        edges(&g),
        ["a.demo/v1 -> b.demo/v1", "a.demo/v2 -> b.demo/v2", "b.demo/v1 -> c.demo/v1", "b.demo/v2 -> c.demo/v2"]
    );
    assert!(g.edges.iter().all(|e| e.allowed && e.observed.is_none()));
    assert_eq!(layers(&g), [("a.demo".into(), 0), ("b.demo".into(), 1), ("c.demo".into(), 2)]);
    let ids: Vec<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["a.demo/v1", "a.demo/v2", "b.demo/v1", "b.demo/v2", "c.demo/v1", "c.demo/v2"]);
    assert!(g.nodes.iter().all(|n| n.requests_per_second.is_none() && n.pods == Some(PodCount { ready: 1, total: 1 })));
}

#[test]
fn one_services_graph_is_its_neighbourhood_in_the_namespaces_routes() {
    let snap = snapshot(&chain(1));
    let opts = Options { domain: D.into(), version_label: "version".into(), scope: Scope::Namespace("demo".into()) };
    let routes = graph::build(&snap, &opts).unwrap();
    let apps = service_apps(&snap, D);
    let unknown = Telemetry::Unknown("no Prometheus".into());
    let around = |host: &str| {
        let focus = format!("{host}.demo.svc.{D}");
        let input = Input {
            routes: &routes,
            telemetry: &unknown,
            apps: &apps,
            version_label: "version",
            domain: D,
            focus: Some(&focus),
        };
        build(&input)
    };
    let b = around("b");
    assert_eq!(
        edges(&b),
        ["a.demo/v1 -> b.demo/v1", "a.demo/v2 -> b.demo/v2", "b.demo/v1 -> c.demo/v1", "b.demo/v2 -> c.demo/v2"]
    );
    let c = around("c");
    assert_eq!(edges(&c), ["b.demo/v1 -> c.demo/v1", "b.demo/v2 -> c.demo/v2"]);
    assert_eq!(layers(&c), [("b.demo".into(), 0), ("c.demo".into(), 1)], "a is no neighbour of c");
    assert!(c.groups.iter().all(|g| g.nodes.iter().all(|&n| c.nodes[n].group < c.groups.len())));
    let ids: Vec<&str> = c.groups.iter().flat_map(|g| g.nodes.iter().map(|&n| c.nodes[n].id.as_str())).collect();
    assert_eq!(ids, ["b.demo/v1", "b.demo/v2", "c.demo/v1", "c.demo/v2"]);
}

#[test]
fn a_broken_chain_marks_the_call_into_the_version_without_pods() {
    let g = calls_of(&chain(0), &Telemetry::Unknown("no Prometheus".into()));
    assert!(edges(&g).contains(&"a.demo/v2 -> b.demo/v2 noReadyPods".to_string()), "{:?}", edges(&g));
}

#[test]
fn observed_calls_carry_rates_shares_and_latency_and_crossings_are_marked() {
    let telemetry = seen(vec![
        call(("loadgen", "v1"), ("a", "v1"), 3000.0, 0.0),
        call(("a", "v1"), ("b", "v1"), 3000.0, 0.0),
        call(("a", "v2"), ("b", "v2"), 1425.0, 0.0),
        call(("a", "v2"), ("b", "v1"), 75.0, 0.0),
        call(("b", "v1"), ("c", "v1"), 3000.0, 0.0),
    ]);
    let g = calls_of(&chain(1), &telemetry);
    assert_eq!(
        edges(&g),
        [
            "loadgen.demo/v1 -> a.demo/v1",
            "loadgen.demo/v1 -> a.demo/v2 unused",
            "a.demo/v1 -> b.demo/v1",
            "a.demo/v2 -> b.demo/v1 crossVersion",
            "a.demo/v2 -> b.demo/v2",
            "b.demo/v1 -> c.demo/v1",
            "b.demo/v2 -> c.demo/v2 unused",
        ]
    );
    let crossing = g.edge("a.demo/v2", "b.demo/v1").unwrap();
    assert!(!crossing.allowed, "the routes send a v2 caller to v2 only");
    let flow = crossing.observed.as_ref().unwrap();
    assert_eq!((flow.requests_per_second, flow.share), (0.25, 5.0));
    assert_eq!((flow.p50_ms, flow.p99_ms, flow.error_rate), (Some(4.0), Some(20.0), Some(0.0)));
    assert_eq!(g.node("b.demo/v1").unwrap().requests_per_second, Some(10.25));
    assert_eq!(g.node("c.demo/v2").unwrap().requests_per_second, Some(0.0), "a version with no traffic says 0");
    assert_eq!(g.groups[0].service, None, "the load generator is a caller from outside");
    assert_eq!(
        layers(&g),
        [("loadgen.demo".into(), 0), ("a.demo".into(), 1), ("b.demo".into(), 2), ("c.demo".into(), 3)]
    );
}

#[test]
fn a_rollouts_stable_and_canary_are_the_versions_its_pods_report() {
    let yaml = [service("productpage", [1, 0]), "---\n".into(), graph::tests::rollout_canary("reviews", 80)].concat();
    let telemetry = seen(vec![
        call(("productpage", "v1"), ("reviews", "v1"), 2400.0, 0.0),
        call(("productpage", "v1"), ("reviews", "v2"), 600.0, 0.0),
    ]);
    let g = calls_of(&yaml, &telemetry);
    assert_eq!(edges(&g), ["productpage.demo/v1 -> reviews.demo/v1", "productpage.demo/v1 -> reviews.demo/v2"]);
    assert!(g.edges.iter().all(|e| e.allowed), "the 80/20 split allows both");
    assert_eq!(g.node("reviews.demo/v2").unwrap().pods, Some(PodCount { ready: 1, total: 1 }), "the canary's pods");
}

#[test]
fn an_error_rate_well_above_the_other_versions_is_an_outlier() {
    let yaml = [service("a", [1, 1]), service("b", [1, 1]), split("b", 90, 10)].concat();
    let outlier = seen(vec![call(("a", "v1"), ("b", "v1"), 900.0, 9.0), call(("a", "v1"), ("b", "v2"), 100.0, 20.0)]);
    assert_eq!(edges(&calls_of(&yaml, &outlier)), ["a.demo/v1 -> b.demo/v1", "a.demo/v1 -> b.demo/v2 errorOutlier"]);
    // Too few errors to tell, or no worse than the others: no mark.
    let few = seen(vec![call(("a", "v1"), ("b", "v1"), 900.0, 0.0), call(("a", "v1"), ("b", "v2"), 10.0, 4.0)]);
    assert!(calls_of(&yaml, &few).edges.iter().all(|e| e.marks.is_empty()));
    let alike = seen(vec![call(("a", "v1"), ("b", "v1"), 900.0, 90.0), call(("a", "v1"), ("b", "v2"), 100.0, 12.0)]);
    assert!(calls_of(&yaml, &alike).edges.iter().all(|e| e.marks.is_empty()));
}

#[test]
fn observed_with_no_calls_marks_every_allowed_edge_unused() {
    let g = calls_of(&chain(1), &seen(Vec::new()));
    assert_eq!(g.window.as_deref(), Some("5m"));
    assert!(g.edges.iter().all(|e| e.marks == [Mark::Unused]), "{:?}", edges(&g));
    assert!(g.nodes.iter().all(|n| n.requests_per_second == Some(0.0)));
}

#[test]
fn a_cycle_is_layered_once_and_the_same_way_every_time() {
    let yaml = [service("a", [1, 1]), service("b", [1, 1]), split("a", 50, 50), split("b", 50, 50)].concat();
    let telemetry = seen(vec![
        call(("loadgen", "v1"), ("a", "v1"), 10.0, 0.0),
        call(("a", "v1"), ("b", "v1"), 10.0, 0.0),
        call(("b", "v1"), ("a", "v1"), 10.0, 0.0),
    ]);
    let g = calls_of(&yaml, &telemetry);
    assert_eq!(layers(&g), [("loadgen.demo".into(), 0), ("a.demo".into(), 1), ("b.demo".into(), 2)]);
    let again = calls_of(&yaml, &telemetry);
    assert_eq!(g, again);
}

/// The demo chain with a canary split at a, a call across versions and a broken v2 of c: each drawing is
/// compared with the file in `tests/golden/` (`VROUTE_BLESS=1` records them anew; review the diff).
#[test]
fn drawings_match_their_recorded_snapshots() {
    let yaml = [
        service("a", [2, 1]),
        service("b", [1, 1]),
        service("c", [1, 0]),
        split("a", 90, 10),
        pinned("b", "a"),
        pinned("c", "b"),
    ]
    .concat();
    let telemetry = seen(vec![
        call(("istio-ingressgateway", ""), ("a", "v1"), 2700.0, 0.0),
        call(("istio-ingressgateway", ""), ("a", "v2"), 300.0, 12.0),
        call(("a", "v1"), ("b", "v1"), 2700.0, 3.0),
        call(("a", "v2"), ("b", "v2"), 270.0, 0.0),
        call(("a", "v2"), ("b", "v1"), 30.0, 0.0),
        call(("b", "v1"), ("c", "v1"), 2730.0, 0.0),
    ]);
    let g = calls_of(&yaml, &telemetry);
    let plain = crate::render::Style::new(false, true, None);
    let drawings = [
        ("graph.txt", crate::render::calls::tree(&g, plain)),
        ("graph.dot", crate::render::calls::dot(&g)),
        ("graph.mmd", crate::render::calls::mermaid(&g)),
        ("graph.svg", crate::render::calls_svg::svg(&g)),
        ("graph.json", crate::render::json(&crate::views::calls::project(&g)).unwrap()),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var_os("VROUTE_BLESS").is_some();
    for (file, text) in drawings {
        let path = dir.join(file);
        if bless {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let recorded = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(text, recorded, "{file} differs from {} (VROUTE_BLESS=1 records it anew)", path.display());
    }
}
