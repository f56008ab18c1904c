//! The README's exit-code table, row by row: each code it documents is produced by a real command, so the
//! table cannot drift from what the binary does.

use crate::support::cli::{stderr, stdout, vroute};
use crate::support::env;
use std::process::{Output, Stdio};

/// The codes the README's `## Exit codes` table lists.
fn documented() -> Vec<i32> {
    let readme = include_str!("../../README.md");
    let table = readme.split("## Exit codes").nth(1).expect("an exit-code section");
    table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.trim_start_matches('|').split('|').next()?.trim().parse().ok())
        .collect()
}

#[tokio::test]
async fn every_row_of_the_readme_exit_code_table_is_what_a_command_exits_with() {
    let env = env();
    let ns = env.namespace("exit-codes").await;
    env.seed_chain(&ns, true).await;
    let mesh = crate::analysis::mesh().await;
    let (paused, _) = crate::promote::seeded(
        "exit-codes-wait",
        crate::promote::canary_steps(),
        false,
        crate::promote::at_pause_step(),
    )
    .await;
    let analyze = |service: &str, url: &str| {
        let args = ["analyze", service, "-n", &mesh.ns, "--canary", "v2", "--baseline", "v1", "--window", "30m"];
        vroute(&[&args[..], &["--prometheus-url", url]].concat())
    };
    let full = || {
        let file = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
        let out = env.vroute().args(["status", "-n", &ns, "-o", "json"]).stdout(Stdio::from(file)).output();
        out.unwrap()
    };
    let examples: Vec<(i32, Output)> = vec![
        (0, vroute(&["status", "-n", &ns])),
        (1, vroute(&["check", "-n", &ns])),
        (2, vroute(&["wait", "reviews", "--timeout", "1s", "-n", &paused])),
        (3, analyze("idle", &mesh.prometheus.url)),
        (4, vroute(&["set-weight", "a", "v1", "-n", &ns])),
        (5, vroute(&["status", "nosuch", "-n", &ns])),
        (6, analyze("good", "http://127.0.0.1:1")),
        (7, vroute(&["undo", "a", "-n", &ns])),
        (8, full()),
    ];
    let tried: Vec<i32> = examples.iter().map(|(code, _)| *code).collect();
    assert_eq!(tried, documented(), "one example per documented code");
    for (code, out) in &examples {
        assert_eq!(out.status.code(), Some(*code), "exit {code}: stdout {}\nstderr {}", stdout(out), stderr(out));
    }
}
