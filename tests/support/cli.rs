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
