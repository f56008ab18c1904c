//! Everything that turns documents into text: kubectl-style tables (no borders, UPPERCASE headers), `-o wide`,
//! `-o json` and `-o yaml`, for every command. Renderers return strings; writing them is the binary's job.
//! Whether to colour is decided once ([`Style`]) and passed down.

pub mod analysis;
pub mod calls;
pub mod calls_svg;
pub mod check;
pub mod result;
pub mod routes;
pub mod status;
pub mod wait;

use anstyle::AnsiColor;
use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Table,
    Wide,
    Json,
    Yaml,
}

/// How output looks, decided once per process from where stdout goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// stdout is a terminal (redraws, status lines, times).
    pub tty: bool,
    /// Colour: only on a terminal, and never with `NO_COLOR` set (https://no-color.org).
    pub color: bool,
    /// The terminal's width, to wrap long lines at; `None` piped (lines stay whole for grep).
    pub width: Option<usize>,
}

impl Style {
    /// `no_color` is whether `NO_COLOR` is set to something non-empty; `width` the terminal's columns.
    pub fn new(tty: bool, no_color: bool, width: Option<usize>) -> Style {
        Style { tty, color: tty && !no_color, width: width.filter(|_| tty) }
    }
}

/// A document that could not be rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot render the output: {0}")]
pub struct RenderError(pub String);

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

/// A table for people: the columns named in `optional` are left out when every row has `-` there, so the
/// default view fits 80 columns; `-o wide` (`all`) keeps every column.
pub fn table_of(headers: &[&str], rows: Vec<Vec<String>>, optional: &[&str], all: bool) -> String {
    let keep: Vec<bool> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| all || !optional.contains(h) || rows.iter().any(|r| r.get(i).is_some_and(|c| c != "-")))
        .collect();
    let pick = |row: &[String]| -> Vec<String> {
        row.iter().zip(&keep).filter(|(_, k)| **k).map(|(c, _)| c.clone()).collect()
    };
    let kept: Vec<&str> = headers.iter().zip(&keep).filter(|(_, k)| **k).map(|(h, _)| *h).collect();
    let mut t = table(&kept);
    for row in &rows {
        t.add_row(pick(row));
    }
    finish(&t)
}

/// `text` wrapped at word boundaries to `width` columns, continuation lines indented by `indent` spaces.
pub fn wrap(text: &str, width: usize, indent: usize) -> String {
    let words = text.trim_start_matches(' ');
    let lead = text.len() - words.len();
    let mut out = " ".repeat(lead);
    let mut column = lead;
    for (i, word) in words.split(' ').enumerate() {
        let len = word.chars().count();
        if i > 0 && column + 1 + len > width && column > indent {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            column = indent;
        } else if i > 0 {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += len;
    }
    out
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

pub fn json<T: Serialize>(value: &T) -> Result<String, RenderError> {
    let mut s = serde_json::to_string_pretty(value).map_err(|e| RenderError(e.to_string()))?;
    s.push('\n');
    Ok(s)
}

pub fn yaml<T: Serialize>(value: &T) -> Result<String, RenderError> {
    serde_saphyr::to_string(value).map_err(|e| RenderError(e.to_string()))
}

/// `-o json` or `-o yaml` of a document; `None` for the text formats, which each command renders itself.
pub fn document<T: Serialize>(value: &T, format: Format) -> Option<Result<String, RenderError>> {
    match format {
        Format::Json => Some(json(value)),
        Format::Yaml => Some(yaml(value)),
        Format::Table | Format::Wide => None,
    }
}

/// One document of a `--watch` stream: JSON on one line (one document per line, for `jq` and line-based
/// tools), YAML opened by `---` (a multi-document YAML stream); `None` for tables.
pub fn stream_document<T: Serialize>(value: &T, format: Format) -> Option<Result<String, RenderError>> {
    match format {
        Format::Json => Some(serde_json::to_string(value).map(|s| s + "\n").map_err(|e| RenderError(e.to_string()))),
        Format::Yaml => Some(yaml(value).map(|y| format!("---\n{y}"))),
        Format::Table | Format::Wide => None,
    }
}

/// `error`/`warning` in red/yellow when colour is on.
pub fn paint(text: &str, severity: crate::graph::Severity, color: bool) -> String {
    use crate::graph::Severity;
    let colour = match severity {
        Severity::Error => AnsiColor::Red,
        Severity::Warning => AnsiColor::Yellow,
        Severity::Info => AnsiColor::Cyan,
    };
    coloured(text, colour, color)
}

/// `text` in `colour` when colour is on (the one place escape sequences for colour are written).
pub fn coloured(text: &str, colour: AnsiColor, on: bool) -> String {
    if !on {
        return text.to_string();
    }
    let style = anstyle::Style::new().fg_color(Some(colour.into()));
    format!("{style}{text}{style:#}")
}

/// Terminal control: back to the start of the line and erase it (a status line); home and clear the screen.
pub const CLEAR_LINE: &str = "\r\x1b[K";
pub const CLEAR_SCREEN: &str = "\x1b[H\x1b[2J";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(Style::new(true, false, None).color);
        assert!(!Style::new(true, true, None).color);
        assert!(!Style::new(false, false, None).color);
        assert_eq!(Style::new(false, false, Some(80)).width, None, "piped: no wrapping");
    }

    #[test]
    fn long_lines_wrap_at_words_under_their_indent() {
        let text = "error   VR110 VirtualService/shop/b: caller a (version=v2) can reach another version of b.shop";
        let wrapped = wrap(text, 40, 14);
        assert_eq!(
            wrapped,
            "error   VR110 VirtualService/shop/b:\n              caller a (version=v2) can\n              reach another version of\n              b.shop"
        );
        assert!(wrapped.lines().all(|l| l.chars().count() <= 40));
        assert_eq!(wrap("short", 40, 14), "short");
        assert_eq!(wrap("    hint: a b", 10, 4), "    hint:\n    a b", "leading spaces are kept");
    }

    #[test]
    fn columns_of_dashes_only_are_left_out_unless_wide() {
        let rows = vec![vec!["a".to_string(), "-".into(), "1".into()], vec!["b".into(), "-".into(), "-".into()]];
        assert_eq!(
            table_of(&["name", "mirror", "fault"], rows.clone(), &["mirror", "fault"], false),
            "NAME   FAULT\na      1\nb      -\n"
        );
        assert!(
            table_of(&["name", "mirror", "fault"], rows, &["mirror", "fault"], true)
                .starts_with("NAME   MIRROR   FAULT")
        );
    }

    #[test]
    fn a_document_that_cannot_be_rendered_is_an_error_not_a_panic() {
        let map: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert!(json(&map).is_err(), "JSON object keys must be strings");
    }
}
