//! Child processes that can never outlive the test binary, and small waiting helpers.
//!
//! Every child runs in its own process group and gets `PR_SET_PDEATHSIG(SIGKILL)`. The kernel sends that
//! signal when the *thread* that forked the child exits, so children are forked from one supervisor thread
//! that lives as long as the process: a test that panics, a Ctrl-C or an abort all take the children down,
//! and no etcd or kube-apiserver is left holding ports for the next run.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

fn supervisor() -> &'static Mutex<mpsc::Sender<SpawnRequest>> {
    static SUPERVISOR: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    SUPERVISOR.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("vroute-child-supervisor".into())
            .spawn(move || {
                // Serve spawn requests, then keep the thread alive: its exit would kill every child.
                for (mut cmd, reply) in rx.iter() {
                    let _ = reply.send(cmd.spawn());
                }
                loop {
                    std::thread::park();
                }
            })
            .expect("spawn supervisor thread");
        Mutex::new(tx)
    })
}

/// A child process killed (with its whole process group) on drop.
pub struct Supervised {
    pub name: String,
    child: Child,
    log: PathBuf,
}

impl Supervised {
    /// Starts `cmd` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> Result<Self, String> {
        let out = std::fs::File::create(log).map_err(|e| format!("{name}: create {}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        // SAFETY: only async-signal-safe libc calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::setpgid(0, 0);
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let (tx, rx) = mpsc::channel();
        supervisor().lock().unwrap().send((cmd, tx)).map_err(|e| e.to_string())?;
        let child = rx.recv().map_err(|e| e.to_string())?.map_err(|e| format!("{name}: cannot start: {e}"))?;
        Ok(Self { name: name.to_string(), child, log: log.to_path_buf() })
    }

    /// Fails when the process has already exited, quoting the end of its log.
    pub fn ensure_running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!("{} exited ({status}):\n{}", self.name, self.log_tail(40))),
            Err(e) => Err(format!("{}: {e}", self.name)),
        }
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        // SAFETY: signalling our own child's process group.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// A free TCP port on 127.0.0.1. The listener is dropped before the port is used, so a collision is
/// possible in theory; the services fail loudly on bind when it happens.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("bind 127.0.0.1:0")
}

/// Polls `probe` until it returns `Ok(true)`, the child dies, or `timeout` passes.
pub async fn wait_until<F, Fut>(
    what: &str,
    timeout: Duration,
    child: &mut Supervised,
    mut probe: F,
) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        child.ensure_running()?;
        if probe().await {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{what} not ready after {timeout:?}; last log lines:\n{}", child.log_tail(30)));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs a short command to completion, failing with its stderr.
pub fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
