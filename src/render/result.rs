//! What commands that write print: per object, the diff (with `--diff`) and one line (`virtualservice
//! prod/reviews: route "primary" now v1 90%, v2 10%`, or upstream's `rollout 'reviews' promoted` for a Rollout),
//! or with `-o json|yaml` the one result document ([`crate::views::result`]).

use super::{Format, RenderError};
use crate::views::result::{DryRun, Entry, ResultDocument};

/// The human line of one entry (diff first, when there is one).
pub fn line(entry: &Entry, dry_run: DryRun) -> String {
    let suffix = dry_run.suffix();
    match entry.kind {
        "Rollout" => format!("{}{suffix}\n", entry.message),
        kind => format!(
            "{}{} {}/{}: {}{suffix}\n",
            entry.diff.as_deref().unwrap_or_default(),
            kind.to_lowercase(),
            entry.namespace,
            entry.name,
            entry.message
        ),
    }
}

/// Every entry's line, or the document.
pub fn render(entries: &[Entry], dry_run: DryRun, format: Format) -> Result<String, RenderError> {
    let doc = ResultDocument { dry_run, results: entries };
    match super::document(&doc, format) {
        Some(text) => text,
        None => Ok(entries.iter().map(|e| line(e, dry_run)).collect()),
    }
}
