//! The API resources the tool reads and writes, and typed list calls over them.

use super::{Action, Cluster, ClusterError};
use crate::objects::Unreadable;
use crate::objects::read::{self, Mentions, Readable};
use kube::api::ListParams;
use kube::core::{ObjectList, Request};
use serde::de::DeserializeOwned;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Res {
    /// Empty for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
}

/// Istio's storage version since 1.22; older clusters serve only `v1beta1`.
pub const ISTIO_VERSIONS: [&str; 2] = ["v1", "v1beta1"];

pub const fn virtual_services(version: &'static str) -> Res {
    Res { group: "networking.istio.io", version, plural: "virtualservices" }
}
pub const fn destination_rules(version: &'static str) -> Res {
    Res { group: "networking.istio.io", version, plural: "destinationrules" }
}
pub const SERVICES: Res = Res { group: "", version: "v1", plural: "services" };
pub const PODS: Res = Res { group: "", version: "v1", plural: "pods" };
pub const NAMESPACES: Res = Res { group: "", version: "v1", plural: "namespaces" };
pub const REPLICA_SETS: Res = Res { group: "apps", version: "v1", plural: "replicasets" };
pub const ROLLOUTS: Res = Res { group: "argoproj.io", version: "v1alpha1", plural: "rollouts" };
pub const HTTP_ROUTES: Res = Res { group: "gateway.networking.k8s.io", version: "v1", plural: "httproutes" };
pub const GATEWAYS: Res = Res { group: "gateway.networking.k8s.io", version: "v1", plural: "gateways" };
pub const REFERENCE_GRANTS: Res =
    Res { group: "gateway.networking.k8s.io", version: "v1beta1", plural: "referencegrants" };

impl Res {
    /// The collection URL, cluster-wide when `namespace` is `None`.
    pub fn url(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) => format!("{base}/namespaces/{ns}/{}", self.plural),
            None => format!("{base}/{}", self.plural),
        }
    }

    /// The name RBAC rules use: `virtualservices.networking.istio.io`, `pods`.
    pub fn rbac_name(&self) -> String {
        if self.group.is_empty() { self.plural.to_string() } else { format!("{}.{}", self.plural, self.group) }
    }
}

/// Lists a collection in one request, decoding each item straight into `T` (only the fields `T` declares
/// are kept: a 10,000-pod list stays small in memory).
pub async fn list<T: DeserializeOwned + Clone>(
    cluster: &Cluster,
    res: Res,
    namespace: Option<&str>,
) -> Result<Vec<T>, ClusterError> {
    list_with(cluster, res, namespace, &ListParams::default()).await
}

/// [`list`] with list parameters (a label selector, say).
pub async fn list_with<T: DeserializeOwned + Clone>(
    cluster: &Cluster,
    res: Res,
    namespace: Option<&str>,
    params: &ListParams,
) -> Result<Vec<T>, ClusterError> {
    let rbac = res.rbac_name();
    let action = Action { verb: "list", resource: &rbac, namespace };
    let request = Request::new(res.url(namespace)).list(params).map_err(|e| ClusterError::Config(e.to_string()))?;
    match cluster.client.request::<ObjectList<T>>(request).await {
        Ok(list) => Ok(list.items),
        Err(e) => Err(action.error(&cluster.server, e)),
    }
}

/// Items per page of a list. Memory then grows with what the model keeps, not with the size of the API's
/// answers: a page or two of raw JSON is held at a time. All pages come from the resourceVersion of the first,
/// so the listing is one consistent snapshot.
pub const PAGE: u32 = 1000;

/// Lists a collection page by page and reads each item on its own ([`read::page`]): the typed items, and
/// those that could not be read, named with the field at fault. The next page is already being fetched (on
/// another worker) while this one is decoded, so paging costs the API server's time per page, not that plus
/// ours.
pub async fn list_read<T: Readable>(
    cluster: &Cluster,
    res: Res,
    namespace: Option<&str>,
) -> Result<(Vec<T>, Vec<Unreadable>), ClusterError> {
    list_where(cluster, res, namespace, None).await
}

/// [`list_read`] of only the items that [`Mentions`] `keep` (every item without it).
pub async fn list_where<T: Readable>(
    cluster: &Cluster,
    res: Res,
    namespace: Option<&str>,
    keep: Option<&Mentions>,
) -> Result<(Vec<T>, Vec<Unreadable>), ClusterError> {
    list_fold(cluster, res, namespace, keep, Vec::new, |items, page| items.extend(page)).await
}

/// [`list_read`], each page's items handed to `fold` as soon as they are read (and then dropped): what is kept
/// of them is up to `fold` (pods are counted, not kept). `init` starts the result over if the listing has to.
pub async fn list_fold<T: Readable, A>(
    cluster: &Cluster,
    res: Res,
    namespace: Option<&str>,
    keep: Option<&Mentions>,
    init: impl Fn() -> A,
    mut fold: impl FnMut(&mut A, Vec<T>),
) -> Result<(A, Vec<Unreadable>), ClusterError> {
    let rbac = res.rbac_name();
    let action = Action { verb: "list", resource: &rbac, namespace };
    let url = res.url(namespace);
    let fetch = |token: Option<String>| {
        let (client, url) = (cluster.client.clone(), url.clone());
        tokio::spawn(async move {
            let mut params = ListParams::default().limit(PAGE);
            if let Some(token) = &token {
                params = params.continue_token(token);
            }
            let request = Request::new(url).list(&params).map_err(kube::Error::BuildRequest)?;
            client.request_text(request).await
        })
    };
    let not_a_list = |e: serde_json::Error| ClusterError::Api {
        verb: "list".into(),
        resource: rbac.clone(),
        scope: action.scope(),
        code: 200,
        message: format!("the answer is not a list: {e}"),
    };
    let (mut items, mut unreadable) = (init(), Vec::new());
    let mut pending = Some(fetch(None));
    let mut continued = false;
    // A continue token expires after a few minutes (410 Gone): the listing starts over, once.
    let mut restarted = false;
    while let Some(handle) = pending.take() {
        let answer = handle.await.map_err(|e| ClusterError::Config(format!("listing {rbac}: {e}")))?;
        let body = match answer {
            Ok(body) => body,
            Err(kube::Error::Api(status)) if status.code == 410 && continued && !restarted => {
                (items, unreadable, continued, restarted) = (init(), Vec::new(), false, true);
                pending = Some(fetch(None));
                continue;
            }
            Err(e) => return Err(action.error(&cluster.server, e)),
        };
        if let Some(token) = read::next_page(&body).map_err(not_a_list)? {
            pending = Some(fetch(Some(token)));
            continued = true;
        }
        let page = read::page_where::<T>(&body, keep).map_err(not_a_list)?;
        drop(body);
        fold(&mut items, page.items);
        unreadable.extend(page.unreadable);
    }
    Ok((items, unreadable))
}
