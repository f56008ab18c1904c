//! A real kube-apiserver backed by a real etcd, both on random loopback ports, with RBAC on.

use super::process::{Supervised, free_port, run, wait_until};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Token of the cluster admin (group system:masters) in the apiserver's static token file.
const ADMIN_TOKEN: &str = "vroute-admin-token";

pub struct ControlPlane {
    pub server: String,
    pub kubeconfig: PathBuf,
    pub ca_file: PathBuf,
    pub kubectl: PathBuf,
    bin: PathBuf,
    etcd_url: String,
    // Field order is drop order: the apiserver goes before the etcd it talks to.
    _apiserver: Supervised,
    _etcd: Supervised,
}

/// Runs `tests/controlplane/assets.sh` (a cached build) and returns the assets directory.
pub fn assets_dir() -> Result<PathBuf, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/controlplane/assets.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&script).stderr(std::process::Stdio::inherit());
    let dir = run(&mut cmd).map_err(|e| format!("building the test control plane failed: {e}"))?;
    Ok(PathBuf::from(dir.trim()))
}

impl ControlPlane {
    pub async fn start(assets: &Path, work: &Path) -> Result<Self, String> {
        let bin = assets.join("bin");
        let etcd = start_etcd(&bin, work).await?;
        let (apiserver, server, ca_file) = start_apiserver(&bin, work, &etcd.1, "/registry").await?;
        let kubeconfig = work.join("admin.kubeconfig");
        write_kubeconfig(&kubeconfig, &server, &ca_file, "admin", ADMIN_TOKEN)?;
        let kubectl = if bin.join("kubectl").exists() { bin.join("kubectl") } else { PathBuf::from("kubectl") };
        Ok(Self { server, kubeconfig, ca_file, kubectl, bin, etcd_url: etcd.1, _apiserver: apiserver, _etcd: etcd.0 })
    }

    /// A second, empty cluster (no CRDs, nothing): another kube-apiserver on the same etcd under another
    /// key prefix. Cheap, and the way to test what users without Istio see.
    pub async fn bare(&self, work: &Path) -> Result<BareCluster, String> {
        std::fs::create_dir_all(work).map_err(|e| e.to_string())?;
        let (apiserver, server, ca_file) = start_apiserver(&self.bin, work, &self.etcd_url, "/bare").await?;
        let kubeconfig = work.join("admin.kubeconfig");
        write_kubeconfig(&kubeconfig, &server, &ca_file, "admin", ADMIN_TOKEN)?;
        Ok(BareCluster { kubeconfig, _apiserver: apiserver })
    }
}

pub struct BareCluster {
    pub kubeconfig: PathBuf,
    _apiserver: Supervised,
}

async fn start_etcd(bin: &Path, work: &Path) -> Result<(Supervised, String), String> {
    let (client, peer) = (free_port(), free_port());
    let client_url = format!("http://127.0.0.1:{client}");
    let peer_url = format!("http://127.0.0.1:{peer}");
    let mut cmd = Command::new(bin.join("etcd"));
    cmd.arg(format!("--data-dir={}", work.join("etcd").display()))
        .arg(format!("--listen-client-urls={client_url}"))
        .arg(format!("--advertise-client-urls={client_url}"))
        .arg(format!("--listen-peer-urls={peer_url}"))
        .arg(format!("--initial-advertise-peer-urls={peer_url}"))
        .arg(format!("--initial-cluster=default={peer_url}"))
        // Test data is thrown away: skipping fsync makes every write several times faster.
        .arg("--unsafe-no-fsync=true")
        .arg("--log-level=warn");
    let mut child = Supervised::spawn("etcd", cmd, &work.join("etcd.log"))?;
    let health = format!("{client_url}/health");
    wait_until("etcd", Duration::from_secs(60), &mut child, || http_ok(&health)).await?;
    Ok((child, client_url))
}

async fn start_apiserver(
    bin: &Path,
    work: &Path,
    etcd_url: &str,
    etcd_prefix: &str,
) -> Result<(Supervised, String, PathBuf), String> {
    let port = free_port();
    let server = format!("https://127.0.0.1:{port}");
    let certs = work.join("certs");
    std::fs::create_dir_all(&certs).map_err(|e| e.to_string())?;
    let sa_key = certs.join("sa.key");
    run(Command::new("openssl").args(["genrsa", "-out"]).arg(&sa_key).arg("2048"))?;
    let tokens = work.join("tokens.csv");
    std::fs::write(&tokens, format!("{ADMIN_TOKEN},admin,admin-uid,\"system:masters\"\n"))
        .map_err(|e| e.to_string())?;

    let mut cmd = Command::new(bin.join("kube-apiserver"));
    cmd.arg(format!("--etcd-servers={etcd_url}"))
        .arg(format!("--etcd-prefix={etcd_prefix}"))
        .arg(format!("--cert-dir={}", certs.display()))
        .arg(format!("--secure-port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg("--advertise-address=127.0.0.1")
        // The sandbox has no default route, and the `kubernetes` Service endpoints are not needed.
        .arg("--endpoint-reconciler-type=none")
        .arg("--service-cluster-ip-range=10.0.0.0/16")
        .arg("--allow-privileged=true")
        .arg("--authorization-mode=RBAC")
        // Without a controller manager nobody creates default ServiceAccounts; admission would then refuse pods.
        .arg("--disable-admission-plugins=ServiceAccount")
        .arg(format!("--service-account-issuer={server}/"))
        .arg(format!("--service-account-key-file={}", sa_key.display()))
        .arg(format!("--service-account-signing-key-file={}", sa_key.display()))
        .arg(format!("--token-auth-file={}", tokens.display()))
        .arg("--v=0");
    let mut child = Supervised::spawn("kube-apiserver", cmd, &work.join("kube-apiserver.log"))?;
    // The self-signed serving certificate (written at start-up) carries its own CA in the same file.
    let ca_file = certs.join("apiserver.crt");
    let readyz = format!("{server}/readyz");
    let probe_ca = ca_file.clone();
    wait_until("kube-apiserver", Duration::from_secs(120), &mut child, || https_ok(readyz.clone(), probe_ca.clone()))
        .await?;
    Ok((child, server, ca_file))
}

async fn http_ok(url: &str) -> bool {
    matches!(reqwest::get(url).await, Ok(r) if r.status().is_success())
}

async fn https_ok(url: String, ca_file: PathBuf) -> bool {
    let Ok(pem) = std::fs::read(&ca_file) else { return false };
    let Ok(certs) = reqwest::Certificate::from_pem_bundle(&pem) else { return false };
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(5));
    for cert in certs {
        builder = builder.add_root_certificate(cert);
    }
    let Ok(client) = builder.build() else { return false };
    matches!(client.get(&url).bearer_auth(ADMIN_TOKEN).send().await, Ok(r) if r.status().is_success())
}

/// Writes a kubeconfig with one cluster, one token user and one context (named `vroute-test`).
pub fn write_kubeconfig(path: &Path, server: &str, ca_file: &Path, user: &str, token: &str) -> Result<(), String> {
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: vroute-test\n  cluster:\n    server: {server}\n    \
         certificate-authority: {ca}\nusers:\n- name: {user}\n  user:\n    token: {token}\ncontexts:\n\
         - name: vroute-test\n  context:\n    cluster: vroute-test\n    user: {user}\n    namespace: default\n\
         current-context: vroute-test\n",
        ca = ca_file.display()
    );
    std::fs::write(path, text).map_err(|e| format!("write {}: {e}", path.display()))
}
