//! The README, run. Every console block the README marks `<!-- readme-test: SCENARIO -->` is executed through
//! the real kubectl against a freshly seeded namespace (or offline files, or a real Prometheus), and each command
//! must print what the README shows and exit as it implies. Every other `kubectl vroute` line in the README
//! must at least parse. So the README cannot rot silently: change the tool's output and this test names the
//! README line to update.
//!
//! Matching: `...` alone on a line stands for any number of lines, `...` inside a line for any text; RFC 3339
//! times are compared as `<time>`. A command is expected to succeed unless one of its output lines starts
//! with `error`; `$ echo $?` checks the exact code of the command before it.

mod blocks;
pub(crate) mod scenario;

use blocks::{Example, README, Step};
use scenario::Scenario;

#[tokio::test]
async fn every_readme_example_prints_what_the_readme_shows() {
    let examples = blocks::examples();
    assert!(examples.len() >= 10, "the README's marked examples were not found: {}", examples.len());
    // Each example runs in a namespace of its own, all at once; `SCENARIO as NAME` starts a group that later
    // examples marked `continue NAME` carry on, in order.
    let mut groups: Vec<(Option<String>, Vec<Example>)> = Vec::new();
    for example in examples {
        let (scenario, name) = match example.scenario.split_once(" as ") {
            Some((scenario, name)) => (scenario.to_string(), Some(name.to_string())),
            None => (example.scenario.clone(), None),
        };
        if let Some(name) = scenario.strip_prefix("continue ") {
            let group = groups.iter_mut().find(|(n, _)| n.as_deref() == Some(name));
            let (_, group) = group.unwrap_or_else(|| panic!("README.md:{}: no group {name:?}", example.line));
            group.push(example);
        } else {
            groups.push((name, vec![Example { scenario, ..example }]));
        }
    }
    let groups: Vec<Vec<Example>> = groups.into_iter().map(|(_, g)| g).collect();
    let runs = groups.into_iter().map(|group| async move {
        let scenario = Scenario::set_up(&group[0].scenario, group[0].line).await;
        let mut failures = Vec::new();
        let mut last_code = None;
        for step in group.iter().flat_map(|e| &e.steps) {
            if let Err(failure) = run_step(&scenario, step, &mut last_code).await {
                failures.push(failure);
                break; // later steps of the example depend on this one
            }
        }
        failures
    });
    let failures: Vec<String> = futures::future::join_all(runs).await.into_iter().flatten().collect();
    assert!(failures.is_empty(), "{} README example(s) differ:\n\n{}", failures.len(), failures.join("\n\n"));
}

async fn run_step(scenario: &Scenario, step: &Step, last_code: &mut Option<i32>) -> Result<(), String> {
    let words = blocks::words(&step.command);
    let (code, output) = match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["echo", "$?"] => {
            let shown: i32 = step.expected.join("").trim().parse().map_err(|_| step.fail("expects a number"))?;
            return match *last_code {
                Some(code) if code == shown => Ok(()),
                code => Err(step.fail(&format!("the command before exited {code:?}, not {shown}"))),
            };
        }
        ["kubectl", "vroute", args @ ..] => scenario.run(args).await,
        _ => return Err(step.fail("the README runner only runs `kubectl vroute ...` and `echo $?`")),
    };
    *last_code = Some(code);
    if !blocks::matches(&step.expected, &output) {
        return Err(step.fail(&format!(
            "printed (exit {code}):\n{}\n  the README shows:\n{}",
            indent(&output),
            indent(&step.expected.join("\n"))
        )));
    }
    // `error: ...` (a failed command) or `error   VR110 ...` (a finding); not `errors: pass` (a signal's verdict).
    let shows_error = step.expected.iter().any(|l| l.starts_with("error:") || l.starts_with("error "));
    if shows_error == (code == 0) {
        let expected = if shows_error { "a failure" } else { "success" };
        return Err(step.fail(&format!("exit code {code}, but the README shows {expected}:\n{}", indent(&output))));
    }
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    | {l}")).collect::<Vec<_>>().join("\n")
}

#[test]
fn every_other_readme_command_line_parses() {
    use clap::Parser;
    let lines = blocks::other_command_lines();
    assert!(lines.len() >= 5, "the quickstart's commands were not found");
    for (line, command) in lines {
        let words = blocks::words(&command);
        let args = std::iter::once("kubectl-vroute".to_string()).chain(words.into_iter().skip(2));
        // `--help` comes back as an "error" that prints the help: that is a line that parses.
        if let Err(e) = kubectl_vroute::cli::PluginCli::try_parse_from(args)
            && e.kind() != clap::error::ErrorKind::DisplayHelp
        {
            panic!("README.md:{line}: `{command}` does not parse:\n{e}");
        }
    }
    // A console example outside a marked block would never run: every `$ kubectl vroute` line must be in one.
    let marked: usize = blocks::examples().iter().map(|e| e.steps.len()).sum();
    let prompts = README.lines().filter(|l| l.starts_with("$ kubectl vroute") || l.starts_with("$ echo")).count();
    assert_eq!(marked, prompts, "a `$ kubectl vroute` example is not in a <!-- readme-test --> block");
}
