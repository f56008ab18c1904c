//! Test environment: one real control plane (etcd + kube-apiserver with the real Istio and Argo Rollouts
//! CRDs) per test binary, a namespace per test, restricted users, real Prometheus instances and the real
//! binaries run as subprocesses.
//!
//! Set `VROUTE_TEST_KUBECONFIG` to run the suite against an existing cluster (kind, k3d...) that already has
//! the Istio and Argo Rollouts CRDs; the kubeconfig's current context must be a cluster admin.
#![allow(dead_code)] // each test binary (and the demo) uses a different part of the harness

pub mod browser;
pub mod cli;
pub mod controlplane;
pub mod exporter;
pub mod gateway;
pub mod live;
pub mod process;
pub mod prometheus;
pub mod release;
pub mod scenarios;
pub mod simulator;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{ApiCapabilities, ApiResource, Scope};
use kube::{Client, Config};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use controlplane::{BareCluster, ControlPlane};
#[allow(unused_imports)] // the demo does not backfill
pub use prometheus::{IstioEdge, OpenMetrics, Prometheus};

pub struct TestEnv {
    pub kubeconfig: PathBuf,
    pub kubectl: PathBuf,
    /// Scratch directory of this test binary (removed at the next run once this process is gone).
    pub work: PathBuf,
    /// `None` when running against an existing cluster.
    pub control_plane: Option<ControlPlane>,
    /// The built test world (`tests/controlplane/assets.sh`); `None` with an existing cluster.
    assets: Option<PathBuf>,
    bare: tokio::sync::OnceCell<Result<BareCluster, String>>,
    live: tokio::sync::OnceCell<Result<live::Live, String>>,
}

static ENV: OnceLock<Result<TestEnv, String>> = OnceLock::new();

/// The shared environment, started on first use. Start-up failures fail every test loudly: the suite
/// never skips itself.
pub fn env() -> &'static TestEnv {
    let env = ENV.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Started on a thread of its own with its own runtime: each test has its own runtime, and the
        // environment must outlive all of them.
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            rt.block_on(TestEnv::start())
        })
        .join()
        .unwrap_or_else(|_| Err("test environment start-up panicked".into()))
    });
    match env {
        Ok(env) => env,
        Err(e) => panic!("test environment failed to start (the integration suite cannot run): {e}"),
    }
}

impl TestEnv {
    async fn start() -> Result<Self, String> {
        let work = scratch_dir()?;
        if let Ok(kubeconfig) = std::env::var("VROUTE_TEST_KUBECONFIG") {
            eprintln!("integration: using the existing cluster in VROUTE_TEST_KUBECONFIG={kubeconfig}");
            let env = Self {
                kubeconfig: kubeconfig.into(),
                kubectl: "kubectl".into(),
                work,
                control_plane: None,
                assets: None,
                bare: Default::default(),
                live: Default::default(),
            };
            env.wait_for_crds().await?;
            return Ok(env);
        }
        let started = Instant::now();
        let assets = controlplane::assets_dir()?;
        let cp = ControlPlane::start(&assets, &work).await?;
        let env = Self {
            kubeconfig: cp.kubeconfig.clone(),
            kubectl: cp.kubectl.clone(),
            work,
            control_plane: Some(cp),
            assets: Some(assets.clone()),
            bare: Default::default(),
            live: Default::default(),
        };
        env.install_crds(&assets.join("crds")).await?;
        eprintln!("integration: control plane with Istio and Argo Rollouts CRDs ready in {:.1?}", started.elapsed());
        Ok(env)
    }

    /// The kubeconfig of an empty cluster without any CRD (started on first use; local control plane only).
    pub async fn bare_cluster(&self) -> &Path {
        let bare = self
            .bare
            .get_or_init(|| async {
                let cp = self.control_plane.as_ref().ok_or("needs the local control plane")?;
                cp.bare(&self.work.join("bare")).await
            })
            .await;
        &bare.as_ref().expect("start the bare cluster").kubeconfig
    }

    /// The live world (controllers, kwok, Argo Rollouts), started on first use; it needs the local control
    /// plane's build. A start-up failure fails the test that asked, loudly.
    pub async fn live(&self) -> &live::Live {
        let live = self
            .live
            .get_or_init(|| async {
                let assets = self.assets.as_ref().ok_or("the live world needs the locally built test world")?;
                live::Live::start(assets, &self.work.join("live")).await
            })
            .await;
        match live {
            Ok(live) => live,
            Err(e) => panic!("the live world failed to start: {e}"),
        }
    }

    /// A client for the cluster admin.
    pub async fn client(&self) -> Client {
        client_from(&self.kubeconfig).await
    }

    /// Creates a fresh namespace for one test. Namespaces are never deleted: without a controller manager
    /// they would stay Terminating, and the etcd data is thrown away anyway.
    pub async fn namespace(&self, prefix: &str) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        self.namespace_named(format!("{prefix}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))).await
    }

    /// A namespace of exactly this name (unique names come from [`TestEnv::namespace`]).
    pub async fn namespace_named(&self, name: String) -> String {
        let ns: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap();
        Api::<Namespace>::all(self.client().await).create(&PostParams::default(), &ns).await.expect("create namespace");
        name
    }

    /// A ServiceAccount in `namespace` with no permissions, and a kubeconfig carrying its token.
    /// Bind roles to subject `system:serviceaccount:<namespace>:<name>` to grant it rights.
    pub async fn restricted_user(&self, namespace: &str, name: &str) -> (Client, PathBuf) {
        let client = self.client().await;
        let sas: Api<ServiceAccount> = Api::namespaced(client, namespace);
        let sa: ServiceAccount = serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap();
        sas.create(&PostParams::default(), &sa).await.expect("create service account");
        let request = TokenRequest {
            spec: TokenRequestSpec { audiences: vec![], expiration_seconds: Some(3600), ..Default::default() },
            ..Default::default()
        };
        let token = sas.create_token_request(name, &PostParams::default(), &request).await.expect("token request");
        let token = token.status.expect("token status").token;
        let path = self.work.join(format!("{namespace}-{name}.kubeconfig"));
        let mut config = Kubeconfig::read_from(&self.kubeconfig).expect("read admin kubeconfig");
        for user in &mut config.auth_infos {
            if let Some(auth) = user.auth_info.as_mut() {
                auth.token = Some(token.clone().into());
                auth.client_certificate = None;
                auth.client_certificate_data = None;
                auth.client_key = None;
                auth.client_key_data = None;
                auth.exec = None;
            }
        }
        std::fs::write(&path, serde_saphyr::to_string(&config).expect("serialize kubeconfig")).unwrap();
        (client_from(&path).await, path)
    }

    /// `kubectl` (the real one) with this cluster's admin kubeconfig. It is passed as `KUBECONFIG`, not as a
    /// flag: kubectl stops looking for a plugin name at the first flag, so `kubectl vroute ...` needs the
    /// plugin name first.
    pub fn kubectl(&self) -> Command {
        kubectl_for(&self.kubectl, &self.kubeconfig)
    }

    /// `kubectl vroute ...`: the real kubectl finding the plugin on PATH, as a user runs it.
    pub fn vroute(&self) -> Command {
        vroute_for(&self.kubectl, &self.kubeconfig)
    }

    /// `kubectl __complete vroute ...`: what a shell asks kubectl (>= 1.26) on `kubectl vroute <TAB>`; kubectl
    /// passes it to `kubectl_complete-vroute` found on PATH.
    pub fn complete(&self) -> Command {
        let mut cmd = self.kubectl();
        cmd.env("PATH", plugin_path()).args(["__complete", "vroute"]);
        cmd
    }

    /// The `networking.istio.io/v1` API for `kind` (`VirtualService`, `DestinationRule`) in `ns`, as admin.
    pub async fn istio(&self, ns: &str, kind: &str) -> Api<DynamicObject> {
        let gvk = kube::api::GroupVersionKind::gvk("networking.istio.io", "v1", kind);
        Api::namespaced_with(self.client().await, ns, &ApiResource::from_gvk(&gvk))
    }

    /// Creates every object of a multi-document YAML text, in order, through the dynamic API.
    pub async fn create_yaml(&self, namespace: &str, yaml: &str) -> Vec<DynamicObject> {
        let client = self.client().await;
        let mut created = Vec::new();
        for doc in parse_yaml_docs(yaml) {
            let (api, obj) = dynamic_api(&client, namespace, doc).await;
            created.push(api.create(&PostParams::default(), &obj).await.unwrap_or_else(|e| {
                panic!(
                    "create {}/{}: {e}",
                    obj.types.as_ref().map(|t| t.kind.as_str()).unwrap_or("?"),
                    obj.metadata.name.as_deref().unwrap_or("?")
                )
            }));
        }
        created
    }

    async fn install_crds(&self, dir: &Path) -> Result<(), String> {
        install_crds(&self.client().await, dir).await
    }

    /// Waits until the resources the tests use are served (CRDs Established and in discovery).
    async fn wait_for_crds(&self) -> Result<(), String> {
        wait_for_crds(&self.client().await).await
    }
}

/// Installs the CRDs of `dir` (its `istio/`, `argo-rollouts/` and `gateway-api/` files) and waits until they are
/// served.
pub async fn install_crds(client: &Client, dir: &Path) -> Result<(), String> {
    {
        let api: Api<CustomResourceDefinition> = Api::all(client.clone());
        for sub in ["istio", "argo-rollouts", "gateway-api"] {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
                .map_err(|e| format!("CRD dir {}: {e}", dir.join(sub).display()))?
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            for file in files {
                let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
                for doc in parse_yaml_docs(&text) {
                    let crd: CustomResourceDefinition =
                        serde_json::from_value(doc).map_err(|e| format!("{}: {e}", file.display()))?;
                    let name = crd.metadata.name.clone().unwrap_or_default();
                    // Server-side apply: idempotent, and the large Istio CRDs need no last-applied annotation.
                    api.patch(&name, &PatchParams::apply("vroute-tests").force(), &Patch::Apply(&crd))
                        .await
                        .map_err(|e| format!("install CRD {name}: {e}"))?;
                }
            }
        }
    }
    wait_for_crds(client).await
}

/// Waits until the resources the tests use are served (CRDs Established and in discovery).
async fn wait_for_crds(client: &Client) -> Result<(), String> {
    {
        let needed = [
            ("networking.istio.io", "v1", "VirtualService"),
            ("networking.istio.io", "v1", "DestinationRule"),
            ("argoproj.io", "v1alpha1", "Rollout"),
            ("argoproj.io", "v1alpha1", "AnalysisTemplate"),
            ("gateway.networking.k8s.io", "v1", "HTTPRoute"),
            ("gateway.networking.k8s.io", "v1", "Gateway"),
            ("gateway.networking.k8s.io", "v1beta1", "ReferenceGrant"),
        ];
        let deadline = Instant::now() + Duration::from_secs(60);
        for (group, version, kind) in needed {
            let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
            // Served in discovery is not enough: the resource's storage may still be initialising (503).
            loop {
                let listed = match kube::discovery::pinned_kind(client, &gvk).await {
                    Ok((ar, _)) => {
                        Api::<DynamicObject>::all_with(client.clone(), &ar).list(&Default::default()).await.map(|_| ())
                    }
                    Err(e) => Err(e),
                };
                match listed {
                    Ok(()) => break,
                    Err(e) if Instant::now() > deadline => {
                        return Err(format!("{kind}.{group}/{version} not served: {e}"));
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
                }
            }
        }
        Ok(())
    }
}

/// The real `kubectl` with `kubeconfig` (see [`TestEnv::kubectl`] for why it is an environment variable).
pub fn kubectl_for(kubectl: &Path, kubeconfig: &Path) -> Command {
    let mut cmd = Command::new(kubectl);
    cmd.env("KUBECONFIG", kubeconfig);
    cmd
}

/// `kubectl vroute ...` with `kubeconfig`: the real kubectl finding the plugin on PATH.
pub fn vroute_for(kubectl: &Path, kubeconfig: &Path) -> Command {
    let mut cmd = kubectl_for(kubectl, kubeconfig);
    cmd.env("PATH", plugin_path()).env("NO_COLOR", "1").arg("vroute");
    cmd
}

/// A Role with these `rules` (YAML list items, as under `rules:`) bound to ServiceAccount `user` of `ns`, both
/// named after the user.
pub fn role_for(ns: &str, user: &str, rules: &str) -> String {
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: {user}}}\nrules:\n{rules}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: {user}}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {user}}}\n\
         subjects:\n- {{kind: ServiceAccount, name: {user}, namespace: {ns}}}\n"
    )
}

/// `PATH` as a user who installed the plugin has it: the built `kubectl-vroute` first, then `krew/` (its
/// `kubectl_complete-vroute`, as the krew archive ships it), then the rest.
pub fn plugin_path() -> String {
    format!(
        "{}:{}/krew:{}",
        plugin_bin().display(),
        env!("CARGO_MANIFEST_DIR"),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// The directory holding the built `kubectl-vroute` (cargo sets the path for integration tests; the demo
/// example sits one level below it).
/// A directory holding only the plugin (a link to the built `kubectl-vroute`), for PATH: cargo's own output
/// directory also holds `kubectl-vroute.d` (dep-info), which `kubectl plugin list` warns about as a plugin
/// that is not executable.
pub fn plugin_bin() -> PathBuf {
    let built = plugin_dir();
    let dir = built.join("vroute-plugin");
    let link = dir.join("kubectl-vroute");
    if std::fs::symlink_metadata(&link).is_err() {
        std::fs::create_dir_all(&dir).expect("plugin bin directory");
        // Concurrent tests may race to create it: one link is all it takes.
        match std::os::unix::fs::symlink(built.join("kubectl-vroute"), &link) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => panic!("link the plugin: {e}"),
            _ => {}
        }
    }
    dir
}

pub fn plugin_dir() -> PathBuf {
    match option_env!("CARGO_BIN_EXE_kubectl-vroute") {
        Some(bin) => Path::new(bin).parent().unwrap().to_path_buf(),
        None => std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_path_buf(),
    }
}

pub async fn client_from(kubeconfig: &Path) -> Client {
    let kc = Kubeconfig::read_from(kubeconfig).expect("read kubeconfig");
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await.expect("kubeconfig");
    Client::try_from(config).expect("client")
}

/// Splits a multi-document YAML text into JSON values, dropping empty documents.
pub fn parse_yaml_docs(yaml: &str) -> Vec<serde_json::Value> {
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(yaml).expect("valid YAML");
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// The dynamic API for a JSON object (by its apiVersion/kind), in `namespace` when the kind is namespaced.
pub async fn dynamic_api(
    client: &Client,
    namespace: &str,
    doc: serde_json::Value,
) -> (Api<DynamicObject>, DynamicObject) {
    let obj: DynamicObject = serde_json::from_value(doc).expect("object with apiVersion and kind");
    let types = obj.types.clone().expect("apiVersion and kind");
    let gvk = kube::api::GroupVersionKind::try_from(&types).expect("valid apiVersion");
    let (ar, caps): (ApiResource, ApiCapabilities) =
        kube::discovery::pinned_kind(client, &gvk).await.expect("kind is served");
    let api = match caps.scope {
        Scope::Namespaced => Api::namespaced_with(client.clone(), namespace, &ar),
        Scope::Cluster => Api::all_with(client.clone(), &ar),
    };
    (api, obj)
}

/// The live world alone, without the suite's main control plane (for the demo and the benchmarks, which need
/// only it): owned by the caller, stopped when dropped.
#[allow(dead_code)] // the integration suite reaches it through env().live()
pub async fn live_world() -> Result<live::Live, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let assets = controlplane::assets_dir()?;
    live::Live::start(&assets, &scratch_dir()?.join("live")).await
}

/// Where this process keeps its scratch files (the demo removes it when it stops).
pub fn scratch_dir_path() -> PathBuf {
    std::env::temp_dir().join(format!("vroute-test-{}", std::process::id()))
}

/// A scratch directory for this process, after removing those of earlier runs whose process is gone
/// (a test binary never runs destructors of its shared environment).
fn scratch_dir() -> Result<PathBuf, String> {
    let base = std::env::temp_dir();
    if let Ok(entries) = std::fs::read_dir(&base) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("vroute-test-").and_then(|p| p.parse::<u32>().ok())
                && !Path::new(&format!("/proc/{pid}")).exists()
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = scratch_dir_path();
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    Ok(dir)
}
