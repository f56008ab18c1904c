//! What the edit commands print: one line per object (`virtualservice prod/reviews: route "primary" now v1
//! 90%, v2 10%`), optionally preceded by the spec diff, or with `-o json|yaml` one result document.
//!
//! The document is a stable contract: `{"dryRun": "none|client|server", "results": [{"kind", "namespace",
//! "name", "changed", "message", "conflicts", "diff" (with --diff), "object"}]}`, where `object` is the
//! object as stored (or as it would be stored with a dry run), without `managedFields`, and `conflicts` counts
//! the write conflicts that were retried.

use super::{EditFlags, Output};
use crate::cli::{CliError, print as print_out};
use crate::cluster::write::{DryRun, Kind, Written};
use crate::edit::diff;
use crate::render;
use serde::Serialize;
use serde_json::Value;

/// One object an edit command wrote (or would write, or found already as asked).
pub struct Report {
    kind: Kind,
    before: Value,
    after: Value,
    changed: bool,
    message: String,
    conflicts: u32,
}

impl Report {
    pub fn new(kind: Kind, written: Written<String>) -> Self {
        Report {
            kind,
            before: written.before,
            after: written.after,
            changed: written.changed,
            message: written.detail,
            conflicts: written.conflicts,
        }
    }

    fn namespace(&self) -> &str {
        self.before["metadata"]["namespace"].as_str().unwrap_or_default()
    }

    fn name(&self) -> &str {
        self.before["metadata"]["name"].as_str().unwrap_or_default()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    dry_run: DryRun,
    results: Vec<ResultDoc<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultDoc<'a> {
    kind: &'static str,
    namespace: &'a str,
    name: &'a str,
    changed: bool,
    message: &'a str,
    conflicts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<String>,
    object: Value,
}

pub fn print(reports: &[Report], flags: &EditFlags) -> Result<(), CliError> {
    let text = match flags.output {
        None => human(reports, flags),
        Some(format) => {
            let results = reports
                .iter()
                .map(|r| ResultDoc {
                    kind: r.kind.name(),
                    namespace: r.namespace(),
                    name: r.name(),
                    changed: r.changed,
                    message: &r.message,
                    conflicts: r.conflicts,
                    diff: flags.diff.then(|| diff::spec(&r.before, &r.after)),
                    object: without_managed_fields(&r.after),
                })
                .collect();
            let doc = Document { dry_run: flags.dry_run, results };
            match format {
                Output::Json => render::json(&doc),
                Output::Yaml => render::yaml(&doc).map_err(CliError::Usage)?,
            }
        }
    };
    print_out(&text)
}

/// The object as `kubectl get -o json` shows it: without `metadata.managedFields`, which only the API server
/// reads.
pub(in crate::cli) fn without_managed_fields(obj: &Value) -> Value {
    let mut obj = obj.clone();
    if let Some(meta) = obj["metadata"].as_object_mut() {
        meta.remove("managedFields");
    }
    obj
}

fn human(reports: &[Report], flags: &EditFlags) -> String {
    let suffix = match flags.dry_run {
        DryRun::None => "",
        DryRun::Client => " (dry run)",
        DryRun::Server => " (server dry run)",
    };
    let mut out = String::new();
    for r in reports {
        if flags.diff {
            out.push_str(&diff::spec(&r.before, &r.after));
        }
        let kind = r.kind.name().to_lowercase();
        out.push_str(&format!("{kind} {}/{}: {}{suffix}\n", r.namespace(), r.name(), r.message));
    }
    out
}
