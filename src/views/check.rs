//! The `check -o json` document: every finding with the host it belongs to, and the counts a CI gate reads.

use crate::graph::{Finding, RouteGraph, Severity};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct CheckReport<'g> {
    pub findings: Vec<HostFinding<'g>>,
    pub errors: usize,
    pub warnings: usize,
    /// Routed hosts looked at (not in the document: the table's last line says it).
    #[serde(skip)]
    pub hosts: usize,
}

#[derive(Debug, Serialize)]
pub struct HostFinding<'g> {
    /// The routed host the finding belongs to; empty for findings about the whole listing.
    pub host: &'g str,
    #[serde(flatten)]
    pub finding: &'g Finding,
}

pub fn project<'g>(graph: &'g RouteGraph) -> CheckReport<'g> {
    let general = graph.findings.iter().map(|f| HostFinding { host: "", finding: f });
    let per_host =
        graph.hosts.iter().flat_map(|h| h.findings.iter().map(|f| HostFinding { host: &h.host, finding: f }));
    let mut findings: Vec<HostFinding> = general.chain(per_host).collect();
    // Most severe first, as the table lists them.
    findings.sort_by_key(|f| f.finding.severity);
    let count = |sev| findings.iter().filter(|f| f.finding.severity == sev).count();
    CheckReport {
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        hosts: graph.hosts.len(),
        findings,
    }
}
