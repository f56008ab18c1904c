//! Changes to what a view reads, through the watch API (no polling): the same kinds, the same Istio API
//! version and as wide a scope as the snapshot read them. VirtualServices, DestinationRules and Rollouts are
//! watched everywhere when the user may list them cluster-wide (one in another namespace may route to, define
//! subsets for, or manage a host here); Services and Pods in the namespace. The Gateway API kinds (HTTPRoutes,
//! Gateways, ReferenceGrants) the same way, and only where their CRDs are served: a cluster without them gets
//! no watch that fails forever.

use super::Cluster;
use super::resources::{self, GATEWAYS, HTTP_ROUTES, PODS, REFERENCE_GRANTS, ROLLOUTS, Res, SERVICES};
use futures::{Stream, StreamExt};
use kube::api::{Api, DynamicObject, GroupVersionKind, ListParams};
use kube::core::PartialObjectMeta;
use kube::discovery::ApiResource;
use kube::runtime::{WatchStreamExt, watcher};

/// What the watches report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Every watch has made its first full listing (or failed to: a kind that cannot be watched, say no Rollout
    /// CRD, is retried with backoff and never ends the stream). A view read after this sees every later change.
    Ready,
    /// Something changed since.
    Changed,
}

/// [`Change::Ready`] once, then one [`Change::Changed`] per change.
pub fn changes(
    cluster: &Cluster,
    namespace: Option<&str>,
    istio_version: &'static str,
) -> impl Stream<Item = Change> + use<> {
    let cluster = cluster.clone();
    let namespace = namespace.map(str::to_string);
    futures::stream::once(async move { watched(&cluster, namespace.as_deref(), istio_version).await }).flat_map(
        |apis| {
            let n = apis.len();
            let streams = apis.into_iter().enumerate().map(|(i, api)| {
                // Metadata only: any change bumps an object's resourceVersion, which is all that matters here.
                watcher(api, watcher::Config::default()).default_backoff().map(move |e| (i, e)).boxed()
            });
            let mut listed = vec![false; n];
            let mut ready = false;
            futures::stream::select_all(streams).filter_map(move |(i, event)| {
                let change = match event {
                    // The first listing of each watch repeats what a view reads; a failure counts as done.
                    Ok(watcher::Event::InitDone) | Err(_) if !listed[i] => {
                        listed[i] = true;
                        (!ready && listed.iter().all(|l| *l)).then(|| {
                            ready = true;
                            Change::Ready
                        })
                    }
                    Ok(watcher::Event::Init | watcher::Event::InitApply(_)) | Err(_) => None,
                    // Later events, and a re-listing after the watch expired (it may hold what was missed).
                    Ok(_) => Some(Change::Changed),
                };
                std::future::ready(change)
            })
        },
    )
}

async fn watched(
    cluster: &Cluster,
    ns: Option<&str>,
    istio_version: &'static str,
) -> Vec<Api<PartialObjectMeta<DynamicObject>>> {
    let resource = |r: Res, kind: &str| {
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(r.group, r.version, kind), r.plural)
    };
    let kinds = [
        (resource(resources::virtual_services(istio_version), "VirtualService"), true, false),
        (resource(resources::destination_rules(istio_version), "DestinationRule"), true, false),
        (resource(SERVICES, "Service"), false, false),
        (resource(PODS, "Pod"), false, false),
        (resource(ROLLOUTS, "Rollout"), true, false),
        (resource(HTTP_ROUTES, "HTTPRoute"), true, true),
        (resource(GATEWAYS, "Gateway"), true, true),
        (resource(REFERENCE_GRANTS, "ReferenceGrant"), true, true),
    ];
    let scoped = kinds.iter().map(|(ar, wide, optional)| async move {
        let everywhere = Api::all_with(cluster.client.clone(), ar);
        let namespaced = |ns: &str| Api::namespaced_with(cluster.client.clone(), ns, ar);
        // One small list answers both questions: may the user watch everywhere, and is the kind served at all.
        let probe = match (ns, *wide, *optional) {
            (Some(ns), false, _) => return Some(namespaced(ns)),
            (None, _, false) => return Some(everywhere),
            _ => everywhere.list_metadata(&ListParams::default().limit(1)).await,
        };
        match (probe, ns) {
            (Ok(_), _) if *wide => Some(everywhere),
            (Err(kube::Error::Api(e)), _) if *optional && e.code == 404 => None,
            (_, Some(ns)) => Some(namespaced(ns)),
            (_, None) => Some(everywhere),
        }
    });
    futures::future::join_all(scoped).await.into_iter().flatten().collect()
}
