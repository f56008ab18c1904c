//! The API resources the tool reads and writes, and typed list calls over them.

use super::{Action, Cluster, ClusterError};
use crate::objects::Unreadable;
use crate::objects::read::{self, Readable};
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
/// answers: one page of raw JSON is held at a time (kubectl pages by 500 too). All pages come from the
/// resourceVersion of the first, so the listing is one consistent snapshot.
pub const PAGE: u32 = 500;

/// Lists a collection page by page and reads each item on its own ([`read::page`]): the typed items, and
/// those that could not be read, named with the field at fault.
pub async fn list_read<T: Readable>(
    cluster: &Cluster,
    res: Res,
    namespace: Option<&str>,
) -> Result<(Vec<T>, Vec<Unreadable>), ClusterError> {
    let rbac = res.rbac_name();
    let action = Action { verb: "list", resource: &rbac, namespace };
    let (mut items, mut unreadable) = (Vec::new(), Vec::new());
    let mut next: Option<String> = None;
    // A continue token expires after a few minutes (410 Gone): the listing starts over, once.
    let mut restarted = false;
    loop {
        let mut params = ListParams::default().limit(PAGE);
        if let Some(token) = &next {
            params = params.continue_token(token);
        }
        let request =
            Request::new(res.url(namespace)).list(&params).map_err(|e| ClusterError::Config(e.to_string()))?;
        let body = match cluster.client.request_text(request).await {
            Ok(body) => body,
            Err(kube::Error::Api(status)) if status.code == 410 && next.is_some() && !restarted => {
                (items, unreadable, next, restarted) = (Vec::new(), Vec::new(), None, true);
                continue;
            }
            Err(e) => return Err(action.error(&cluster.server, e)),
        };
        let page = read::page::<T>(&body).map_err(|e| ClusterError::Api {
            verb: "list".into(),
            resource: rbac.clone(),
            scope: action.scope(),
            code: 200,
            message: format!("the answer is not a list: {e}"),
        })?;
        drop(body);
        items.extend(page.items);
        unreadable.extend(page.unreadable);
        match page.next {
            Some(token) => next = Some(token),
            None => return Ok((items, unreadable)),
        }
    }
}
