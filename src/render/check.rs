//! `kubectl vroute check` output: the findings, then one line a CI log reads.

use super::{Format, RenderError, Style};
use crate::views::check::CheckReport;

pub fn render(report: &CheckReport, format: Format, style: Style) -> Result<String, RenderError> {
    if let Some(doc) = super::document(report, format) {
        return doc;
    }
    let mut out = if report.findings.is_empty() {
        String::new()
    } else {
        super::status::findings(report.findings.iter().map(|f| f.finding), style)
    };
    out.push_str(&format!(
        "{} routed host(s) checked: {} error(s), {} warning(s)\n",
        report.hosts, report.errors, report.warnings
    ));
    Ok(out)
}
