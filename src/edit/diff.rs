//! `--diff`: what an edit changes in an object's spec, as a unified diff of its YAML.

use super::object;
use serde_json::Value;
use similar::TextDiff;

/// A unified diff of `spec` (empty when equal). Annotations (the history) are left out: they would drown
/// the one line that matters.
pub fn spec(before: &Value, after: &Value) -> String {
    let (old, new) = (yaml(&before["spec"]), yaml(&after["spec"]));
    if old == new {
        return String::new();
    }
    let label = object::describe(before);
    TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{label} (before)"), &format!("{label} (after)"))
        .to_string()
}

fn yaml(value: &Value) -> String {
    serde_saphyr::to_string(value).unwrap_or_else(|_| serde_json::to_string_pretty(value).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_spec_changes_are_shown() {
        let before = json!({"kind": "VirtualService", "metadata": {"name": "r", "namespace": "p"},
                            "spec": {"http": [{"route": [{"weight": 100}, {"weight": 0}]}]}});
        let mut after = before.clone();
        after["spec"]["http"][0]["route"][0]["weight"] = json!(90);
        after["spec"]["http"][0]["route"][1]["weight"] = json!(10);
        after["metadata"]["annotations"] = json!({"vroute.kubectl.io/history": "[]"});
        let diff = spec(&before, &after);
        assert!(diff.starts_with("--- VirtualService p/r (before)\n+++ VirtualService p/r (after)\n@@"), "{diff}");
        assert!(diff.contains("-  - weight: 100\n") && diff.contains("+  - weight: 90\n"), "{diff}");
        assert!(!diff.contains("history"), "{diff}");
        assert_eq!(spec(&before, &before), "");
    }
}
