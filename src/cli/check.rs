//! `kubectl vroute check`: only the findings, with an exit code a CI job can gate on. With `-f`, the
//! manifests are linted offline, before anything is applied.

use super::common::{KubeArgs, ModelArgs, PromArgs};
use super::{CliError, print, stdout_is_tty};
use crate::exit::Exit;
use crate::render::{self, Format};
use crate::routes::{self, Finding, Scope, Severity, StatusReport};
use clap::Args;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Every namespace.
    #[arg(short = 'A', long, conflicts_with = "filename")]
    pub all_namespaces: bool,
    /// Lint these manifests offline instead of the cluster (files, directories, or - for stdin).
    #[arg(short = 'f', long = "filename", value_name = "FILE", num_args = 1..)]
    pub filename: Vec<PathBuf>,
    /// Output format (table and wide print the same lines).
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    #[command(flatten)]
    pub prom: PromArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

/// The `-o json` document of `check`.
#[derive(Serialize)]
struct CheckReport<'a> {
    findings: Vec<HostFinding<'a>>,
    errors: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct HostFinding<'a> {
    /// The routed host the finding belongs to; empty for findings about the whole listing.
    host: &'a str,
    #[serde(flatten)]
    finding: &'a Finding,
}

pub async fn run(kube: &KubeArgs, args: CheckArgs) -> Result<Exit, CliError> {
    let report = if args.filename.is_empty() {
        let cluster = kube.connect(false).await?;
        let opts = super::status::options(&cluster, &args.model, None, args.all_namespaces);
        let prom = args.prom.client(Some(&cluster))?;
        super::status::load(&cluster, &opts, prom.as_ref(), args.all_namespaces).await?
    } else {
        let ns = kube.namespace.clone().unwrap_or_else(|| "default".to_string());
        let snap = routes::offline::snapshot(read_manifests(&args.filename)?, &ns).map_err(CliError::Usage)?;
        routes::build(&snap, &args.model.options(Scope::All))?
    };
    let findings: Vec<HostFinding> = report
        .findings
        .iter()
        .map(|f| HostFinding { host: "", finding: f })
        .chain(
            report.services.iter().flat_map(|s| s.findings.iter().map(|f| HostFinding { host: &s.host, finding: f })),
        )
        .collect();
    let count = |sev| findings.iter().filter(|f| f.finding.severity == sev).count();
    let doc = CheckReport { errors: count(Severity::Error), warnings: count(Severity::Warning), findings };
    let text = match args.output {
        Format::Json => render::json(&doc),
        Format::Yaml => render::yaml(&doc).map_err(CliError::Usage)?,
        Format::Table | Format::Wide => table(&report, doc.errors, doc.warnings),
    };
    print(&text)?;
    Ok(if report.has_errors() { Exit::Negative } else { Exit::Ok })
}

fn table(report: &StatusReport, errors: usize, warnings: usize) -> String {
    let all: Vec<Finding> = report.all_findings().cloned().collect();
    let mut out =
        if all.is_empty() { String::new() } else { render::status::findings(&all, render::use_color(stdout_is_tty())) };
    out.push_str(&format!(
        "{} routed host(s) checked: {errors} error(s), {warnings} warning(s)\n",
        report.services.len()
    ));
    out
}

/// Reads every document of every file (directories: their .yaml, .yml and .json files; `-`: stdin).
fn read_manifests(paths: &[PathBuf]) -> Result<Vec<(String, serde_json::Value)>, CliError> {
    let mut docs = Vec::new();
    for path in paths {
        for file in expand(path)? {
            let text = if file == Path::new("-") {
                std::io::read_to_string(std::io::stdin()).map_err(|e| CliError::Usage(format!("stdin: {e}")))?
            } else {
                std::fs::read_to_string(&file).map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?
            };
            let parsed: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text)
                .map_err(|e| CliError::Usage(format!("{}: not valid YAML: {e}", file.display())))?;
            docs.extend(parsed.into_iter().map(|d| (file.display().to_string(), d)));
        }
    }
    Ok(docs)
}

fn expand(path: &Path) -> Result<Vec<PathBuf>, CliError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml" || x == "json"))
        .collect();
    files.sort();
    Ok(files)
}
