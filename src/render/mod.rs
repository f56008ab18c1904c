//! Everything that turns results into text: kubectl-style tables (no borders, UPPERCASE headers), `-o wide`,
//! `-o json` and `-o yaml`. Renderers return strings; writing them is the binary's job.

pub mod status;

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Wide,
    Json,
    Yaml,
}

/// Whether to colour output: only on a terminal, and never with `NO_COLOR` set (https://no-color.org).
pub fn use_color(stdout_is_tty: bool) -> bool {
    stdout_is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A borderless table with UPPERCASE headers and three spaces between columns, as kubectl prints them.
pub fn table(headers: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers.iter().map(|h| h.to_uppercase()).collect::<Vec<_>>());
    let last = headers.len().saturating_sub(1);
    for (i, col) in t.column_iter_mut().enumerate() {
        col.set_padding((0, if i == last { 0 } else { 3 }));
    }
    t
}

/// Renders a table without trailing spaces.
pub fn finish(t: &Table) -> String {
    let mut out = String::new();
    for line in t.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn json<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

pub fn yaml<T: Serialize>(value: &T) -> Result<String, String> {
    serde_saphyr::to_string(value).map_err(|e| e.to_string())
}

/// `error`/`warning` in red/yellow when colour is on.
pub fn paint(text: &str, severity: crate::routes::Severity, color: bool) -> String {
    use crate::routes::Severity;
    if !color {
        return text.to_string();
    }
    let code = match severity {
        Severity::Error => "31",
        Severity::Warning => "33",
        Severity::Info => "36",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}
