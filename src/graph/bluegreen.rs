//! Blue-green Rollouts in the graph. No route splits their traffic: the controller points the `activeService`
//! selector at the live version's pods and the `previewService` selector at the one waiting for promotion
//! (`rollouts-pod-template-hash`). So the active Service's host gets two versions, `active` and `preview`, each
//! the pods its Service selects, owned by the Rollout, and the Rollout's phase beside them.

use super::index::Index;
use super::{HostNode, Options, PodCount, RolloutNode, RouteGraph, Scope, SplitKind, VersionNode};
use crate::istio::VersionKey;
use crate::istio::host;
use crate::objects::meta::Labels;
use crate::objects::{Kind, ObjectRef, Snapshot};
use crate::rollouts::{self, Rollout, progress};

const HASH_LABEL: &str = "rollouts-pod-template-hash";

pub(super) fn attach<'s>(snap: &'s Snapshot, idx: &Index<'s>, opts: &Options, graph: &mut RouteGraph<'s>) {
    for ro in &snap.rollouts {
        let Some(bg) = ro.spec.strategy.blue_green.as_ref().filter(|bg| !bg.active_service.is_empty()) else {
            continue;
        };
        let ns = &ro.metadata.namespace;
        let fqdn = |svc: &str| format!("{svc}.{ns}.svc.{}", opts.domain);
        let active = fqdn(&bg.active_service);
        let preview = (!bg.preview_service.is_empty()).then(|| fqdn(&bg.preview_service));
        let wanted = match &opts.scope {
            Scope::All => true,
            Scope::Namespace(scope) => scope == ns,
            Scope::Host { host: target, .. } => *target == active || preview.as_ref() == Some(target),
        };
        if !wanted {
            continue;
        }
        let index = match graph.hosts.iter().position(|h| h.host == active) {
            Some(i) => i,
            None => {
                let at = graph.hosts.partition_point(|h| h.host < active);
                graph.hosts.insert(at, empty(&active, ns));
                at
            }
        };
        let node = &mut graph.hosts[index];
        let status = &ro.status.blue_green;
        let mut versions = vec![version(idx, "active", &active, &status.active_selector, ro, &opts.version_label)];
        if let Some(preview) = &preview {
            versions.push(version(idx, "preview", preview, &status.preview_selector, ro, &opts.version_label));
        }
        node.versions.extend(versions);
        node.rollout.get_or_insert_with(|| rollout(ro));
    }
}

fn empty<'s>(host: &str, namespace: &str) -> HostNode<'s> {
    HostNode {
        host: host.to_string(),
        namespace: namespace.to_string(),
        split: SplitKind::None,
        version_pinned: false,
        pin_header: None,
        waypoint: None,
        virtual_services: Vec::new(),
        routes: Vec::new(),
        http_routes: Vec::new(),
        rules: Vec::new(),
        versions: Vec::new(),
        rollout: None,
        findings: Vec::new(),
    }
}

/// The pods a blue-green Service selects: the selector the controller set names their pod-template hash.
fn version(idx: &Index, role: &str, host: &str, hash: &str, ro: &Rollout, version_label: &str) -> VersionNode {
    let labels: Labels =
        if hash.is_empty() { Labels::new() } else { Labels::from([(HASH_LABEL.to_string(), hash.to_string())]) };
    let pods = idx.pods(host, &labels);
    VersionNode {
        key: VersionKey { host: host.to_string(), subset: None },
        name: role.to_string(),
        labels,
        defined: host::service_of(host, idx.domain()).is_none() || idx.service(host).is_some(),
        pods: pods.as_ref().map(|p| PodCount::of(p.iter().copied())),
        outlier_detection: false,
        circuit_breaker: None,
        owners: vec![format!("Rollout/{} ({role})", ro.metadata.name)],
        traffic: None,
        waypoint: idx.waypoint(host).is_some(),
        pod_version: super::pod_version(pods.as_deref(), version_label),
    }
}

fn rollout(ro: &Rollout) -> RolloutNode {
    let phase = rollouts::phase(ro);
    RolloutNode {
        rollout: ObjectRef::new(Kind::Rollout, &ro.metadata.namespace, &ro.metadata.name),
        strategy: progress::strategy_kind(ro).map_or("unknown", |k| k.as_str()).to_string(),
        phase: phase.phase.as_str().to_string(),
        message: phase.message,
        step: None,
        canary_subset: None,
        stable_subset: None,
        desired_canary_weight: None,
        actual_canary_weight: None,
    }
}
