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

/// A failure is one line naming the problem; `-v` adds the detail behind it (the whole request, the
/// library's error) and, from 6, every request.
#[tokio::test]
async fn an_error_is_one_line_and_v_adds_its_detail() {
    let env = env();
    let mesh = crate::analysis::mesh().await;
    let down = ["analyze", "good", "-n", &mesh.ns, "--canary", "v2", "--baseline", "v1", "--window", "30m"];
    let down = [&down[..], &["--prometheus-url", "http://127.0.0.1:1"]].concat();
    let quiet = vroute(&down);
    assert_eq!(quiet.status.code(), Some(6));
    let text = stderr(&quiet);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("error: Prometheus at http://127.0.0.1:1 is unreachable: cannot connect"), "{text}");
    assert!(!text.contains("query="), "no URL-encoded query in the message: {text}");

    let detailed = vroute(&[&down[..], &["-v", "1"]].concat());
    assert_eq!(detailed.status.code(), Some(6));
    let text = stderr(&detailed);
    assert!(text.contains("Prometheus request failed") && text.contains("127.0.0.1:1/api/v1/query"), "{text}");
    assert!(text.trim_end().ends_with(stderr(&quiet).trim_end()), "the same message last: {text}");
    assert!(!text.contains("Prometheus range query"), "requests are logged from -v 6: {text}");

    let ns = env.namespace("verbosity").await;
    env.seed_chain(&ns, true).await;
    let every = vroute(&["status", "-n", &ns, "--prometheus-url", "http://127.0.0.1:1", "--v=6"]);
    let text = stderr(&every);
    assert!(text.contains("Prometheus instant query"), "{text}");
    assert!(text.contains("API request method=GET url=https://"), "every API request: {text}");
    assert!(stdout(&every).contains("a."), "the view itself is unchanged: {}", stdout(&every));
}
