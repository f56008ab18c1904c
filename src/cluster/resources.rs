//! The API resources the tool reads and writes, and typed list calls over them.

use super::{Action, Cluster, ClusterError};
use crate::objects::Unreadable;
use crate::objects::read::{self, ListReader, Mentions, Readable};
use futures::{AsyncBufRead, AsyncBufReadExt};
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

/// Items handed to a fold at a time while a list is read.
const BATCH: usize = 512;

/// Lists a collection and reads each item on its own ([`read::item`]): the typed items, and those that could
/// not be read, named with the field at fault.
///
/// One request, its answer read as it arrives ([`ListReader`]): memory holds the items kept and one chunk of
/// the answer, not the answer. Not pages (`limit`/`continue`): the API server answers a whole list from its
/// watch cache, at one resourceVersion, while each page after the first cost it about three times the first
/// (kube-apiserver 1.35, 8,000 VirtualServices: 1.1 s in pages of 1,000 against 0.24 s whole).
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
    list_fold(cluster, res, namespace, keep, Vec::new(), |items, read| items.extend(read)).await
}

/// [`list_read`], the items handed to `fold` a batch at a time as they are read (and then dropped): what is
/// kept of them is up to `fold` (pods are counted, not kept).
pub async fn list_fold<T: Readable, A>(
    cluster: &Cluster,
    res: Res,
    namespace: Option<&str>,
    keep: Option<&Mentions>,
    mut acc: A,
    mut fold: impl FnMut(&mut A, Vec<T>),
) -> Result<(A, Vec<Unreadable>), ClusterError> {
    let rbac = res.rbac_name();
    let action = Action { verb: "list", resource: &rbac, namespace };
    let request = Request::new(res.url(namespace))
        .list(&ListParams::default())
        .map_err(|e| ClusterError::Config(e.to_string()))?;
    let body = cluster.client.request_stream(request).await.map_err(|e| action.error(&cluster.server, e))?;
    let mut body = std::pin::pin!(body);
    let not_a_list = |e: read::NotAList| ClusterError::Api {
        verb: "list".into(),
        resource: rbac.clone(),
        scope: action.scope(),
        code: 200,
        message: format!("the answer is not a list: {e}"),
    };
    let mut reader = ListReader::<T>::new(keep);
    loop {
        // A connection lost halfway is an error, never a shorter list.
        let chunk = body.fill_buf().await.map_err(|e| action.error(&cluster.server, kube::Error::ReadEvents(e)))?;
        if chunk.is_empty() {
            break;
        }
        let read = chunk.len();
        reader.feed(chunk).map_err(not_a_list)?;
        body.as_mut().consume(read);
        if reader.items.len() >= BATCH {
            fold(&mut acc, reader.take_items());
        }
    }
    let (rest, unreadable) = reader.finish().map_err(not_a_list)?;
    fold(&mut acc, rest);
    Ok((acc, unreadable))
}
