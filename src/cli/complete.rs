//! Shell completion. `completion bash|zsh|fish` prints a script for `kubectl-vroute` itself; the hidden
//! `__complete` command answers kubectl's plugin completion protocol (kubectl >= 1.26 runs
//! `kubectl_complete-vroute ARGS... PARTIAL`, which execs `kubectl-vroute __complete ...`): one candidate per
//! line, then `:<directive>` as Cobra defines it. Service and Rollout names come from the cluster.

use super::common::KubeArgs;
use super::{PluginCli, print};
use crate::cluster::resources::{ROLLOUTS, Res, SERVICES, list};
use crate::error::Error;
use crate::exit::Exit;
use clap::{Args, CommandFactory};
use std::time::Duration;

#[derive(Args, Debug)]
pub struct CompletionArgs {
    /// The shell to print a completion script for.
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct CompleteArgs {
    /// The words typed so far after `kubectl vroute`, the last one being the partial word.
    #[arg(allow_hyphen_values = true, num_args = 0..)]
    pub words: Vec<String>,
}

pub fn completion(args: CompletionArgs) -> Result<Exit, Error> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut PluginCli::command(), "kubectl-vroute", &mut out);
    print(&String::from_utf8_lossy(&out))?;
    Ok(Exit::Ok)
}

/// Cobra's directives: 4 = do not fall back to file names; 0 = default (files are fine).
const NO_FILES: u8 = 4;
const FILES: u8 = 0;

pub async fn complete(args: CompleteArgs) -> Result<Exit, Error> {
    let (candidates, directive) = candidates(&args.words).await;
    let mut text: String = candidates.into_iter().map(|c| c + "\n").collect();
    text.push_str(&format!(":{directive}\n"));
    print(&text)?;
    Ok(Exit::Ok)
}

async fn candidates(words: &[String]) -> (Vec<String>, u8) {
    let (typed, partial) = match words.split_last() {
        Some((last, rest)) => (rest, last.as_str()),
        None => (&[][..], ""),
    };
    let root = PluginCli::command();
    let mut kube = KubeArgs { request_timeout: Duration::from_secs(2), ..Default::default() };
    let mut sub: Option<&clap::Command> = None;
    let mut words = typed.iter();
    while let Some(w) = words.next() {
        // kubectl's forms: `-n shop`, `--namespace shop`, `--namespace=shop`, `-nshop`, `-n=shop`.
        let (flag, attached) = split_flag(w);
        let mut value = || attached.map(str::to_string).or_else(|| words.next().cloned());
        match flag {
            "-n" | "--namespace" => kube.namespace = value(),
            "--context" => kube.context = value(),
            "--kubeconfig" => kube.kubeconfig = value().map(Into::into),
            w if w.starts_with('-') => {}
            w if sub.is_none() => sub = root.find_subcommand(w),
            _ => {}
        }
    }
    let cmd = sub.unwrap_or(&root);
    // A value being typed attached to its flag (`--output=ya`, `-nsh`): complete the value, keep the form.
    let (flag, attached) = split_flag(partial);
    if let Some(value) = attached {
        let form = &partial[..partial.len() - value.len()];
        let (values, directive) = flag_values(cmd, &root, flag, &kube).await;
        let values = values.into_iter().filter(|v| v.starts_with(value)).map(|v| format!("{form}{v}")).collect();
        return (values, directive);
    }
    let prefixed = |items: Vec<String>| items.into_iter().filter(|c| c.starts_with(partial)).collect::<Vec<_>>();

    if let Some(flag) = typed.last().filter(|w| w.starts_with('-') && split_flag(w).1.is_none()) {
        let takes_value = find_arg(cmd, &root, flag).is_some_and(|a| a.get_action().takes_values());
        if takes_value {
            let (values, directive) = flag_values(cmd, &root, flag, &kube).await;
            return (prefixed(values), directive);
        }
    }
    if partial.starts_with('-') {
        let flags = cmd.get_arguments().chain(root.get_arguments().filter(|a| a.is_global_set()));
        let longs = flags.filter(|a| !a.is_hide_set()).filter_map(|a| a.get_long().map(|l| format!("--{l}")));
        return (prefixed(longs.collect()), NO_FILES);
    }
    let Some(sub) = sub else {
        let subs = root.get_subcommands().filter(|s| !s.is_hide_set()).map(|s| s.get_name().to_string());
        return (prefixed(subs.collect()), NO_FILES);
    };
    let mut found = Vec::new();
    let (services, rollouts) = match sub.get_name() {
        "promote" | "abort" => (true, true),
        "retry" | "pause" | "wait" => (false, true),
        "status" | "set-weight" | "switch" | "mirror" | "pin" | "undo" | "analyze" | "route" | "timeout"
        | "retries" | "fault" | "circuit-break" => (true, false),
        _ => (false, false),
    };
    if rollouts {
        found.extend(names(&kube, ROLLOUTS, true).await);
    }
    if services {
        found.extend(names(&kube, SERVICES, true).await);
    }
    found.sort();
    found.dedup();
    (prefixed(found), NO_FILES)
}

/// A flag word and the value attached to it: `--namespace=shop` and `-n=shop` and `-nshop` are `-n`/`--namespace`
/// with `shop`; anything else has none.
fn split_flag(word: &str) -> (&str, Option<&str>) {
    if let Some(long) = word.strip_prefix("--") {
        return match long.split_once('=') {
            Some((name, value)) => (&word[..2 + name.len()], Some(value)),
            None => (word, None),
        };
    }
    match word.strip_prefix('-').filter(|rest| rest.len() > 1) {
        // Only value-taking shorts attach a value (`-A` and `-w` combine as booleans).
        Some(rest) if ["n", "o", "f", "l", "v"].contains(&&rest[..1]) => {
            (&word[..2], Some(rest[1..].strip_prefix('=').unwrap_or(&rest[1..])))
        }
        _ => (word, None),
    }
}

/// The values a flag takes, and whether files may complete it.
async fn flag_values(cmd: &clap::Command, root: &clap::Command, flag: &str, kube: &KubeArgs) -> (Vec<String>, u8) {
    match flag {
        "-n" | "--namespace" => {
            (names(kube, Res { group: "", version: "v1", plural: "namespaces" }, false).await, NO_FILES)
        }
        "--context" => (contexts(), NO_FILES),
        "--kubeconfig" | "-f" | "--filename" => (Vec::new(), FILES),
        _ => {
            let values = find_arg(cmd, root, flag)
                .map(|a| a.get_possible_values().iter().map(|v| v.get_name().to_string()).collect())
                .unwrap_or_default();
            (values, NO_FILES)
        }
    }
}

fn find_arg<'a>(cmd: &'a clap::Command, root: &'a clap::Command, flag: &str) -> Option<&'a clap::Arg> {
    let matches = |a: &&clap::Arg| {
        flag.strip_prefix("--").is_some_and(|l| a.get_long() == Some(l))
            || flag
                .strip_prefix('-')
                .and_then(|s| s.chars().next())
                .is_some_and(|c| flag.len() == 2 && a.get_short() == Some(c))
    };
    cmd.get_arguments().find(matches).or_else(|| root.get_arguments().find(matches))
}

#[cfg(test)]
mod tests {
    use super::split_flag;

    #[test]
    fn kubectl_flag_forms_are_split() {
        assert_eq!(split_flag("--namespace=shop"), ("--namespace", Some("shop")));
        assert_eq!(split_flag("-nshop"), ("-n", Some("shop")));
        assert_eq!(split_flag("-n=shop"), ("-n", Some("shop")));
        assert_eq!(split_flag("--output="), ("--output", Some("")));
        assert_eq!(split_flag("-n"), ("-n", None));
        assert_eq!(split_flag("-Aw"), ("-Aw", None));
        assert_eq!(split_flag("reviews"), ("reviews", None));
    }
}

#[derive(Clone, serde::Deserialize)]
struct Named {
    metadata: NameOnly,
}

#[derive(Clone, serde::Deserialize)]
struct NameOnly {
    name: String,
}

/// Object names, best effort: completion must never hang or print errors into the shell.
async fn names(kube: &KubeArgs, res: Res, namespaced: bool) -> Vec<String> {
    let lookup = async {
        let cluster = kube.connect(false).await.ok()?;
        let ns = namespaced.then_some(cluster.namespace.as_str());
        list::<Named>(&cluster, res, ns).await.ok()
    };
    match tokio::time::timeout(Duration::from_secs(2), lookup).await {
        Ok(Some(items)) => items.into_iter().map(|i| i.metadata.name).collect(),
        _ => Vec::new(),
    }
}

fn contexts() -> Vec<String> {
    kube::config::Kubeconfig::read().map(|k| k.contexts.into_iter().map(|c| c.name).collect()).unwrap_or_default()
}
