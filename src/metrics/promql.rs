//! PromQL building with validated label names and escaped label values: nothing a caller types can change
//! the shape of a query.

use std::fmt::Write as _;

/// A PromQL double-quoted string literal: backslash, quote and control characters escaped.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An RE2 pattern matching exactly one of `values` (each escaped, so `.` means a dot).
pub fn any_of(values: &[&str]) -> String {
    let escaped: Vec<String> = values.iter().map(|v| regex_escape(v)).collect();
    escaped.join("|")
}

fn regex_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A series selector built from matchers; values are always quoted here, never by callers.
#[derive(Clone, Debug, Default)]
pub struct Selector {
    matchers: Vec<String>,
}

impl Selector {
    /// `name="value"`. The name must be a constant or validated with [`is_label_name`].
    pub fn eq(mut self, name: &str, value: &str) -> Self {
        debug_assert!(is_label_name(name));
        self.matchers.push(format!("{name}={}", quote(value)));
        self
    }

    /// `name=~"pattern"` for a pattern built by this module (e.g. [`any_of`]) or a constant.
    pub fn re(mut self, name: &str, pattern: &str) -> Self {
        debug_assert!(is_label_name(name));
        self.matchers.push(format!("{name}=~{}", quote(pattern)));
        self
    }

    /// Appends the matchers of `other`, after this selector's own.
    pub fn merge(mut self, other: Selector) -> Self {
        self.matchers.extend(other.matchers);
        self
    }

    pub fn render(&self, metric: &str) -> String {
        format!("{metric}{{{}}}", self.matchers.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_stay_inside_their_string() {
        let hostile = r#"v1"} or vector(1) #"#;
        let q = Selector::default().eq("destination_version", hostile).render("istio_requests_total");
        assert_eq!(q, r#"istio_requests_total{destination_version="v1\"} or vector(1) #"}"#);
        assert_eq!(quote("a\\b\nc"), r#""a\\b\nc""#);
    }

    #[test]
    fn alternatives_are_regex_escaped() {
        assert_eq!(any_of(&["a.b.svc.cluster.local", "c"]), r"a\.b\.svc\.cluster\.local|c");
        let q = Selector::default().re("destination_service", &any_of(&["x.y"])).render("m");
        assert_eq!(q, r#"m{destination_service=~"x\\.y"}"#);
    }

    #[test]
    fn label_names_are_checked() {
        assert!(is_label_name("destination_version"));
        assert!(is_label_name("_x1"));
        assert!(!is_label_name("1x"));
        assert!(!is_label_name("a-b"));
        assert!(!is_label_name(r#"a"}"#));
        assert!(!is_label_name(""));
    }
}
