//! `kubectl vroute check`: only the findings, with an exit code a CI job can gate on. With `-f`, the
//! manifests are linted offline, before anything is applied.

use super::common::{KubeArgs, ModelArgs, OutputArg, PromArgs, TelemetryArgs};
use super::print;
use crate::error::{Error, Usage};
use crate::exit::Exit;
use crate::graph::{self, RouteGraph, Scope};
use crate::objects::offline;
use crate::ops::status;
use crate::render::{self, Format, Style};
use crate::views;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Every namespace.
    #[arg(short = 'A', long, conflicts_with = "filename")]
    pub all_namespaces: bool,
    /// Lint these manifests offline instead of the cluster (files, directories, or - for stdin). Objects that
    /// name no namespace are read as in -n (default: `default`), as `kubectl apply -f` would create them.
    #[arg(short = 'f', long = "filename", value_name = "FILE", num_args = 1..)]
    pub filename: Vec<PathBuf>,
    /// Output format (table and wide print the same lines).
    #[arg(short = 'o', long, value_enum, default_value_t = OutputArg::Table)]
    pub output: OutputArg,
    #[command(flatten)]
    pub prom: PromArgs,
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
    #[command(flatten)]
    pub model: ModelArgs,
}

pub async fn run(kube: &KubeArgs, args: CheckArgs, style: Style) -> Result<Exit, Error> {
    let format = Format::from(args.output);
    let show = |graph: &RouteGraph| -> Result<Exit, Error> {
        print(&render::check::render(&views::check::project(graph), format, style)?)?;
        Ok(if graph.has_errors() { Exit::Negative } else { Exit::Ok })
    };
    if args.filename.is_empty() {
        let cluster = kube.connect(false).await?;
        let opts = super::status::options(
            &cluster,
            &args.model,
            &args.prom,
            args.telemetry.reporter.into(),
            None,
            args.all_namespaces,
        )?;
        return status::show(&cluster, &opts, show).await?;
    }
    let ns = kube.namespace.clone().unwrap_or_else(|| "default".to_string());
    let snap = offline::snapshot(read_manifests(&args.filename)?, &ns).map_err(Usage::from)?;
    show(&graph::build(&snap, &args.model.options(Scope::All))?)
}

/// Reads every document of every file (directories: their .yaml, .yml and .json files; `-`: stdin).
fn read_manifests(paths: &[PathBuf]) -> Result<Vec<(String, serde_json::Value)>, Usage> {
    let mut docs = Vec::new();
    for path in paths {
        for file in expand(path)? {
            let name = file.display().to_string();
            let text = if file == Path::new("-") {
                std::io::read_to_string(std::io::stdin()).map_err(|error| Usage::Read { path: "stdin".into(), error })
            } else {
                std::fs::read_to_string(&file).map_err(|error| Usage::Read { path: name.clone(), error })
            }?;
            let parsed: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text)
                .map_err(|e| Usage::Yaml { path: name.clone(), error: e.to_string() })?;
            docs.extend(parsed.into_iter().map(|d| (name.clone(), d)));
        }
    }
    Ok(docs)
}

fn expand(path: &Path) -> Result<Vec<PathBuf>, Usage> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|error| Usage::Read { path: path.display().to_string(), error })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml" || x == "json"))
        .collect();
    files.sort();
    Ok(files)
}
