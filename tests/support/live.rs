//! The live world: a control plane of its own where objects are real and controllers run. kube-controller-
//! manager makes Deployments and ReplicaSets into Pods (and collects garbage), kube-scheduler puts the Pods on
//! kwok's fake Nodes, kwok makes them Running and Ready, and the real Argo Rollouts controller runs the
//! Rollouts. It is separate from the suite's main control plane because a garbage collector would delete the
//! main suite's hand-made fixtures (Pods whose owners do not exist).
//!
//! Per scenario ([`Canary`]): a namespace, a traffic simulator for it, a Prometheus scraping the simulator, and
//! a vroute-analysis service judging from that Prometheus, so a scenario can stop its Prometheus or restart its
//! judge without touching the others.

use super::controlplane::ControlPlane;
use super::process::{Supervised, free_port, wait_until};
use super::prometheus::Prometheus;
use super::simulator::{Load, Simulator};
use k8s_openapi::api::core::v1::{Namespace, Node};
use kube::Client;
use kube::api::{Api, PostParams};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Live {
    pub kubeconfig: PathBuf,
    pub kubectl: PathBuf,
    /// Upstream's `kubectl-argo-rollouts`, for side-by-side parity.
    pub argo_plugin: PathBuf,
    pub work: PathBuf,
    // Drop order: the controllers before the control plane they talk to.
    _argo: Supervised,
    _kwok: Supervised,
    _scheduler: Supervised,
    _kcm: Supervised,
    _control_plane: ControlPlane,
}

/// Fake Nodes: enough room for every scenario's pods.
const NODES: usize = 2;

impl Live {
    pub async fn start(assets: &Path, work: &Path) -> Result<Live, String> {
        let started = Instant::now();
        std::fs::create_dir_all(work).map_err(|e| e.to_string())?;
        let bin = assets.join("bin");
        let cp = ControlPlane::start(assets, work).await?;
        let kubeconfig = cp.kubeconfig.clone();
        let client = super::client_from(&kubeconfig).await;
        super::install_crds(&client, &assets.join("crds")).await?;

        let kcm = start_controller_manager(&bin, work, &kubeconfig).await?;
        let scheduler = start_scheduler(&bin, work, &kubeconfig).await?;
        let kwok = start_kwok(&bin, assets, work, &kubeconfig).await?;
        create_nodes(&client).await?;
        let argo = start_argo(&bin, work, &kubeconfig).await?;
        eprintln!("live: control plane, controllers, kwok and Argo Rollouts ready in {:.1?}", started.elapsed());
        Ok(Live {
            kubeconfig,
            kubectl: cp.kubectl.clone(),
            argo_plugin: bin.join("kubectl-argo-rollouts"),
            work: work.to_path_buf(),
            _argo: argo,
            _kwok: kwok,
            _scheduler: scheduler,
            _kcm: kcm,
            _control_plane: cp,
        })
    }

    pub async fn client(&self) -> Client {
        super::client_from(&self.kubeconfig).await
    }

    /// A fresh namespace of the live cluster.
    pub async fn namespace(&self, prefix: &str) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
        Api::<Namespace>::all(self.client().await).create(&PostParams::default(), &ns).await.expect("create namespace");
        name
    }

    /// `kubectl` with the live cluster's admin kubeconfig.
    pub fn kubectl(&self) -> Command {
        super::kubectl_for(&self.kubectl, &self.kubeconfig)
    }

    /// `kubectl vroute ...` against the live cluster, as a user runs it.
    pub fn vroute(&self) -> Command {
        super::vroute_for(&self.kubectl, &self.kubeconfig)
    }

    /// `kubectl argo rollouts ...`: upstream's plugin, found by the real kubectl as a user's would be.
    pub fn argo_rollouts(&self) -> Command {
        let mut cmd = self.kubectl();
        let dir = self.argo_plugin.parent().unwrap().display().to_string();
        cmd.env("PATH", format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())).args(["argo", "rollouts"]);
        cmd
    }

    /// One scenario's traffic and judge: the simulator for `namespace`, a Prometheus scraping it every second,
    /// and a vroute-analysis service (with access to the live cluster, for `rollout=NAME`) judging from it.
    pub async fn canary(&self, namespace: &str, load: Load) -> Result<Canary, String> {
        self.canary_with(namespace, load, None, &[]).await
    }

    /// [`Live::canary`] whose Prometheus also has a backfilled history and scrapes other targets.
    pub async fn canary_with(
        &self,
        namespace: &str,
        load: Load,
        backfill: Option<&str>,
        also_scrape: &[String],
    ) -> Result<Canary, String> {
        let dir = self.work.join(format!("canary-{namespace}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let simulator = Simulator::start(self.client().await, namespace, load).await.map_err(|e| e.to_string())?;
        let mut targets = vec![simulator.addr.to_string()];
        targets.extend(also_scrape.iter().cloned());
        let prometheus = Prometheus::start(&dir.join("prometheus"), backfill, &targets).await?;
        let prometheus_url = prometheus.url.clone();
        let mut canary = Canary {
            dir,
            kubeconfig: self.kubeconfig.clone(),
            simulator,
            prometheus: Some(prometheus),
            prometheus_url,
            analysis: None,
        };
        canary.start_analysis().await?;
        Ok(canary)
    }
}

pub struct Canary {
    pub dir: PathBuf,
    kubeconfig: PathBuf,
    pub simulator: Simulator,
    prometheus: Option<Prometheus>,
    prometheus_url: String,
    analysis: Option<(Supervised, String)>,
}

impl Canary {
    pub fn prometheus_url(&self) -> &str {
        &self.prometheus_url
    }

    /// Stops this scenario's Prometheus: its judge then cannot see.
    pub fn stop_prometheus(&mut self) {
        self.prometheus = None;
    }

    /// The analysis service's base URL (the AnalysisTemplates' `analysis-url`).
    pub fn analysis_url(&self) -> &str {
        self.analysis.as_ref().map(|(_, url)| url.as_str()).unwrap_or_default()
    }

    /// Starts (or restarts, on the same port) the analysis service.
    pub async fn start_analysis(&mut self) -> Result<(), String> {
        let port = match self.analysis.take() {
            Some((old, url)) => {
                drop(old);
                url.rsplit(':').next().unwrap().parse().unwrap()
            }
            None => free_port(),
        };
        let bin = super::plugin_dir().join("vroute-analysis");
        let mut cmd = Command::new(bin);
        cmd.env("KUBECONFIG", &self.kubeconfig)
            .env("RUST_LOG", "info")
            .arg(format!("--listen=127.0.0.1:{port}"))
            .arg(format!("--prometheus-url={}", self.prometheus_url))
            // Every look asks anew: the test is about what the judge says as data arrives.
            .arg("--cache-ttl=0");
        let log = self.dir.join(format!("vroute-analysis-{}.log", std::process::id()));
        let mut child = Supervised::spawn("vroute-analysis", cmd, &log)?;
        let url = format!("http://127.0.0.1:{port}");
        let health = format!("{url}/healthz");
        wait_until("vroute-analysis", Duration::from_secs(30), &mut child, || async {
            matches!(reqwest::get(&health).await, Ok(r) if r.status().is_success())
        })
        .await?;
        self.analysis = Some((child, url));
        Ok(())
    }
}

async fn start_controller_manager(bin: &Path, work: &Path, kubeconfig: &Path) -> Result<Supervised, String> {
    // Deployments and ReplicaSets make Pods; the garbage collector cascades deletions; node lifecycle lifts the
    // not-ready taint once kwok reports a Node Ready.
    let only = [
        "--controllers=replicaset,deployment,garbagecollector,nodelifecycle",
        "--use-service-account-credentials=false",
    ];
    start_component("kube-controller-manager", "kcm", bin, work, kubeconfig, &only).await
}

async fn start_scheduler(bin: &Path, work: &Path, kubeconfig: &Path) -> Result<Supervised, String> {
    start_component("kube-scheduler", "scheduler", bin, work, kubeconfig, &[]).await
}

/// A Kubernetes component (`name`, from `bin`) that authenticates and authorizes with the admin kubeconfig,
/// serves its health on a free loopback port with certificates in `work/<certs>`, and is up once it answers.
async fn start_component(
    name: &str,
    certs: &str,
    bin: &Path,
    work: &Path,
    kubeconfig: &Path,
    extra: &[&str],
) -> Result<Supervised, String> {
    let port = free_port();
    let mut cmd = Command::new(bin.join(name));
    cmd.arg(format!("--kubeconfig={}", kubeconfig.display()))
        .arg(format!("--authentication-kubeconfig={}", kubeconfig.display()))
        .arg(format!("--authorization-kubeconfig={}", kubeconfig.display()))
        .arg("--leader-elect=false")
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--secure-port={port}"))
        .arg(format!("--cert-dir={}", work.join(certs).display()))
        .args(extra)
        .arg("--v=1");
    let mut child = Supervised::spawn(name, cmd, &work.join(format!("{name}.log")))?;
    let url = format!("https://127.0.0.1:{port}/healthz");
    wait_until(name, Duration::from_secs(90), &mut child, || insecure_ok(url.clone())).await?;
    Ok(child)
}

async fn start_kwok(bin: &Path, assets: &Path, work: &Path, kubeconfig: &Path) -> Result<Supervised, String> {
    let port = free_port();
    let mut cmd = Command::new(bin.join("kwok"));
    cmd.arg(format!("--kubeconfig={}", kubeconfig.display()))
        .arg(format!("--config={}", assets.join("kwok/stages.yaml").display()))
        .arg("--manage-all-nodes=false")
        .arg("--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake")
        .arg(format!("--server-address=127.0.0.1:{port}"))
        // Fake Pod IPs: nothing ever sends them a packet (the simulator only counts).
        .arg("--cidr=10.250.0.1/16")
        .arg("--node-ip=10.250.255.1");
    let mut child = Supervised::spawn("kwok", cmd, &work.join("kwok.log"))?;
    let url = format!("http://127.0.0.1:{port}/healthz");
    wait_until("kwok", Duration::from_secs(60), &mut child, || async {
        matches!(reqwest::get(&url).await, Ok(r) if r.status().is_success())
    })
    .await?;
    Ok(child)
}

async fn create_nodes(client: &Client) -> Result<(), String> {
    let nodes: Api<Node> = Api::all(client.clone());
    for i in 0..NODES {
        let node: Node = serde_json::from_value(json!({
            "metadata": {"name": format!("kwok-node-{i}"),
                         "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                         "labels": {"type": "kwok", "kubernetes.io/hostname": format!("kwok-node-{i}"),
                                    "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}},
            "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "500"},
                       "capacity": {"cpu": "64", "memory": "256Gi", "pods": "500"}}
        }))
        .unwrap();
        nodes.create(&PostParams::default(), &node).await.map_err(|e| format!("create node: {e}"))?;
    }
    // Ready, and schedulable (the node lifecycle controller lifts the not-ready taint).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = nodes.list(&Default::default()).await.map_err(|e| e.to_string())?;
        let ready = list.items.iter().filter(|n| {
            let ok = n
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            let tainted = n.spec.as_ref().and_then(|s| s.taints.as_ref()).is_some_and(|t| !t.is_empty());
            ok && !tainted
        });
        if ready.count() == NODES {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("kwok Nodes not Ready and untainted after 60s".into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn start_argo(bin: &Path, work: &Path, kubeconfig: &Path) -> Result<Supervised, String> {
    let (metrics, health) = (free_port(), free_port());
    let mut cmd = Command::new(bin.join("rollouts-controller"));
    cmd.arg(format!("--kubeconfig={}", kubeconfig.display()))
        .arg("--leader-elect=false")
        .arg(format!("--metricsPort={metrics}"))
        .arg(format!("--healthzPort={health}"))
        .arg("--loglevel=info");
    let mut child = Supervised::spawn("rollouts-controller", cmd, &work.join("rollouts-controller.log"))?;
    let url = format!("http://127.0.0.1:{health}/healthz");
    wait_until("rollouts-controller", Duration::from_secs(90), &mut child, || async {
        matches!(reqwest::get(&url).await, Ok(r) if r.status().is_success())
    })
    .await?;
    Ok(child)
}

/// An HTTPS endpoint with a self-signed certificate answers 200 (a controller's own `/healthz`).
async fn insecure_ok(url: String) -> bool {
    let Ok(client) =
        reqwest::Client::builder().danger_accept_invalid_certs(true).timeout(Duration::from_secs(2)).build()
    else {
        return false;
    };
    matches!(client.get(&url).send().await, Ok(r) if r.status().is_success())
}
