//! The one result document of every command that writes: route edits (`set-weight`, `switch`, `mirror`, `pin`,
//! `undo`) and rollout commands (`promote`, `abort`, `retry`, `pause`).
//!
//! `{"dryRun": "none|client|server", "results": [{"kind", "namespace", "name", "changed", "message",
//! "patches" (Rollouts: the JSON merge patches sent, in order, each `{"subresource": "status" | null, "patch"}`),
//! "conflicts" (VirtualServices and DestinationRules: write conflicts met and retried), "diff" (with --diff),
//! "object"}]}`, where `object` is the object as stored after the command (as it would be with a dry run),
//! without `managedFields`.

use serde::Serialize;
use serde_json::Value;

/// `--dry-run`, as kubectl spells it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DryRun {
    /// Write for real.
    #[default]
    None,
    /// Compute the result locally; send nothing.
    Client,
    /// Send the write with `dryRun=All`: the API server validates and admits it but stores nothing.
    Server,
}

impl DryRun {
    /// What human output appends to each line.
    pub fn suffix(self) -> &'static str {
        match self {
            DryRun::None => "",
            DryRun::Client => " (dry run)",
            DryRun::Server => " (server dry run)",
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultDocument<'a> {
    pub dry_run: DryRun,
    pub results: &'a [Entry],
}

/// One object a command wrote (or would write, or found already as asked).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub changed: bool,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patches: Option<Vec<PatchEntry>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    pub object: Value,
}

#[derive(Clone, Debug, Serialize)]
pub struct PatchEntry {
    pub subresource: Option<&'static str>,
    pub patch: Value,
}

impl Entry {
    /// A guarded write of a VirtualService or DestinationRule.
    pub fn written(kind: &'static str, after: &Value, changed: bool, message: String, conflicts: u32) -> Entry {
        let meta = &after["metadata"];
        Entry {
            kind,
            namespace: meta["namespace"].as_str().unwrap_or_default().to_string(),
            name: meta["name"].as_str().unwrap_or_default().to_string(),
            changed,
            message,
            patches: None,
            conflicts: Some(conflicts),
            diff: None,
            object: without_managed_fields(after),
        }
    }

    /// Patches sent to a Rollout (none when nothing needed changing).
    pub fn patched(
        namespace: &str,
        name: &str,
        changed: bool,
        message: String,
        patches: Vec<PatchEntry>,
        after: &Value,
    ) -> Entry {
        Entry {
            kind: "Rollout",
            namespace: namespace.to_string(),
            name: name.to_string(),
            changed,
            message,
            patches: Some(patches),
            conflicts: None,
            diff: None,
            object: without_managed_fields(after),
        }
    }
}

/// The object as `kubectl get -o json` shows it: without `metadata.managedFields`, which only the API server
/// reads.
fn without_managed_fields(obj: &Value) -> Value {
    let mut obj = obj.clone();
    if let Some(meta) = obj["metadata"].as_object_mut() {
        meta.remove("managedFields");
    }
    obj
}
