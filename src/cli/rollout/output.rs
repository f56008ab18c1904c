//! What `promote`, `abort`, `retry` and `pause` print: per target, upstream's message for a Rollout
//! (`rollout 'reviews' promoted`) or the route edit's line for a VirtualService; with `-o json|yaml`, one
//! result document.
//!
//! The document is a stable contract, the edit commands' one plus `patches` for Rollouts: `{"dryRun":
//! "none|client|server", "results": [{"kind": "Rollout", "namespace", "name", "changed", "message", "patches":
//! [{"subresource": "status" | null, "patch": {...}}], "object"}, {"kind": "VirtualService", "namespace", "name",
//! "changed", "message", "conflicts", "diff" (with --diff), "object"}]}`. `object` is the object as stored after
//! the command (as it would be with a dry run), without `managedFields`; `patches` are the JSON merge patches
//! sent in order (empty when nothing needed changing).

use crate::cli::CliError;
use crate::cli::edit::Output;
use crate::cli::edit::output::without_managed_fields;
use crate::cluster::write::{DryRun, Written};
use crate::edit::diff;
use crate::render;
use crate::rollouts::{Endpoint, Patch, Rollout};
use serde::Serialize;
use serde_json::Value;

/// One target done (or found as asked).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Done {
    kind: &'static str,
    namespace: String,
    name: String,
    changed: bool,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    patches: Option<Vec<PatchDoc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conflicts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<String>,
    object: Value,
}

#[derive(Serialize)]
struct PatchDoc {
    subresource: Option<&'static str>,
    patch: Value,
}

impl Done {
    pub fn rollout(rollout: &Rollout, changed: bool, message: String, patches: Vec<Patch>, object: Value) -> Done {
        let patches = patches
            .into_iter()
            .map(|p| PatchDoc {
                subresource: match p.endpoint {
                    Endpoint::Status => Some("status"),
                    Endpoint::Resource => None,
                },
                patch: p.body,
            })
            .collect();
        Done {
            kind: "Rollout",
            namespace: rollout.metadata.namespace.clone(),
            name: rollout.name().to_string(),
            changed,
            message,
            patches: Some(patches),
            conflicts: None,
            diff: None,
            object: without_managed_fields(&object),
        }
    }

    pub fn virtual_service(written: Written<String>, with_diff: bool) -> Done {
        let meta = &written.before["metadata"];
        Done {
            kind: "VirtualService",
            namespace: meta["namespace"].as_str().unwrap_or_default().to_string(),
            name: meta["name"].as_str().unwrap_or_default().to_string(),
            changed: written.changed,
            message: written.detail,
            patches: None,
            conflicts: Some(written.conflicts),
            diff: with_diff.then(|| diff::spec(&written.before, &written.after)),
            object: without_managed_fields(&written.after),
        }
    }

    /// `rollout 'reviews' promoted` (upstream's words), or `virtualservice shop/reviews: route "primary" now ...`
    /// after the diff when one was asked for.
    pub fn human(&self, dry_run: DryRun) -> String {
        let suffix = match dry_run {
            DryRun::None => "",
            DryRun::Client => " (dry run)",
            DryRun::Server => " (server dry run)",
        };
        match self.kind {
            "Rollout" => format!("{}{suffix}\n", self.message),
            kind => format!(
                "{}{} {}/{}: {}{suffix}\n",
                self.diff.as_deref().unwrap_or_default(),
                kind.to_lowercase(),
                self.namespace,
                self.name,
                self.message
            ),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    dry_run: DryRun,
    results: &'a [Done],
}

pub fn document(done: &[Done], dry_run: DryRun, format: Output) -> Result<String, CliError> {
    let doc = Document { dry_run, results: done };
    match format {
        Output::Json => Ok(render::json(&doc)),
        Output::Yaml => render::yaml(&doc).map_err(CliError::Usage),
    }
}
