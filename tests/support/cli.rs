//! Running the plugin the way a user does, and reading what it said.

use super::env;
use std::process::Output;
use std::time::{Duration, Instant};

/// `kubectl vroute ARGS...` through the real kubectl, against the shared test cluster.
pub fn vroute(args: &[&str]) -> Output {
    env().vroute().args(args).output().expect("run kubectl vroute")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts success and returns stdout.
#[track_caller]
pub fn ok(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "stdout: {}\nstderr: {}", stdout(out), stderr(out));
    stdout(out)
}

/// Asserts the exit code and returns stderr.
#[track_caller]
pub fn fails(out: &Output, code: i32) -> String {
    assert_eq!(out.status.code(), Some(code), "stdout: {}\nstderr: {}", stdout(out), stderr(out));
    stderr(out)
}

/// RBAC is evaluated from an informer cache: a new binding takes a moment to apply. Runs `command` until
/// `settled` accepts its output (at most 5 s) and returns the last output.
pub fn once_rbac_settles(command: impl Fn() -> Output, settled: impl Fn(&Output) -> bool) -> Output {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = command();
        if settled(&out) || Instant::now() > deadline {
            return out;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A running `kubectl vroute ... --watch -o json`: killed when dropped, passed or failed (a --watch never
/// stops by itself, and a leftover one would keep the test run's output pipe open); each document it prints
/// arrives on `docs`.
pub struct JsonWatch {
    child: std::process::Child,
    pub docs: std::sync::mpsc::Receiver<serde_json::Value>,
}

impl JsonWatch {
    pub fn start(args: &[&str]) -> JsonWatch {
        use std::io::{BufRead, BufReader};
        let mut child = env().vroute().args(args).stdout(std::process::Stdio::piped()).spawn().expect("run --watch");
        let (tx, docs) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        // One JSON document per line, a line per redraw.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(serde_json::from_str(&line).expect("one JSON document per line"));
            }
        });
        JsonWatch { child, docs }
    }

    /// The next document for which `wanted` holds, within `timeout`; panics naming `what` otherwise.
    pub fn until(
        &self,
        what: &str,
        timeout: Duration,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let doc = self.docs.recv_timeout(left).unwrap_or_else(|_| panic!("no redraw with {what} in {timeout:?}"));
            if wanted(&doc) {
                return doc;
            }
        }
    }
}

impl Drop for JsonWatch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
