//! The call graph as text: a layered drawing for the terminal (`tree`), Graphviz DOT and Mermaid. Every
//! rendering draws the same layers in the same order ([`crate::calls::layers`]); the SVG drawing is in
//! [`super::calls_svg`].

use super::Style;
use crate::calls::{CallEdge, CallGraph, Mark, Node};
use crate::numbers::{percent, rate, significant};
use anstyle::{AnsiColor, Effects};
use std::fmt::Write as _;

/// What one call carries, for people: `10 rps  100%  0% errors  p50 4 ms  p99 20 ms`, or what the routes say.
pub fn call_figures(e: &CallEdge) -> String {
    let Some(f) = &e.observed else {
        return if e.allowed { "allowed by the routes".into() } else { String::new() };
    };
    let mut parts =
        vec![format!("{} rps", significant(f.requests_per_second)), format!("{} of calls", percent(f.share))];
    parts.extend(f.error_rate.map(|r| format!("{} errors", rate(r))));
    parts.extend(f.p50_ms.map(|p| format!("p50 {} ms", significant(p))));
    parts.extend(f.p99_ms.map(|p| format!("p99 {} ms", significant(p))));
    if !e.allowed {
        parts.push("not routed".into());
    }
    parts.join("  ")
}

/// A version for people: `v1  1/1 ready  10 rps` (its group's name is shown above it).
pub fn version_figures(n: &Node) -> String {
    let mut parts = vec![if n.version.is_empty() { "(no version)".to_string() } else { n.version.clone() }];
    parts.extend(n.pods.map(|p| format!("{}/{} ready", p.ready, p.total)));
    parts.extend(n.requests_per_second.map(|r| format!("{} rps in", significant(r))));
    parts.join("  ")
}

/// The heading that says what the drawing shows.
pub fn heading(g: &CallGraph) -> String {
    match (&g.window, &g.unknown) {
        (Some(w), _) => format!("Calls observed over the last {w}, and calls the routes allow"),
        (None, Some(why)) => format!("Calls the routes allow (traffic unknown: {why})"),
        (None, None) => "Calls the routes allow".into(),
    }
}

/// The terminal drawing: layer by layer, entry points first; under each version, the calls it makes.
pub fn tree(g: &CallGraph, style: Style) -> String {
    let paint = |text: &str, color: Option<AnsiColor>, effects: Effects| {
        if !style.color || (color.is_none() && effects == Effects::new()) {
            return text.to_string();
        }
        let s = anstyle::Style::new().fg_color(color.map(Into::into)).effects(effects);
        format!("{s}{text}{s:#}")
    };
    let mut out = format!("{}\n", heading(g));
    if g.groups.is_empty() {
        out += "\nNothing to draw: no routed service, and no call observed.\n";
        return out;
    }
    let target_width = g.edges.iter().map(|e| target(g, e).chars().count()).max().unwrap_or(0);
    let mut layer = None;
    for grp in &g.groups {
        if layer != Some(grp.layer) {
            layer = Some(grp.layer);
            let what = if grp.layer == 0 { " (entry points: nothing shown calls them)" } else { "" };
            let _ = write!(out, "\n{}\n", paint(&format!("LAYER {}{what}", grp.layer), None, Effects::BOLD));
        }
        let outside = if grp.service.is_none() { "  (a caller outside the view)" } else { "" };
        let _ = writeln!(out, "{}{outside}", paint(&grp.name, Some(AnsiColor::Cyan), Effects::BOLD));
        for &n in &grp.nodes {
            let _ = writeln!(out, "  {}", version_figures(&g.nodes[n]));
            for e in g.edges.iter().filter(|e| e.from == n) {
                let line = format!("    -> {:<target_width$}  {}", target(g, e), call_figures(e));
                let marks: Vec<&str> = e.marks.iter().map(|m| m.describe()).collect();
                let problem = e.marks.iter().any(|m| m.is_problem());
                let text = if marks.is_empty() { line } else { format!("{line}  [{}]", marks.join("; ")) };
                let text = text.trim_end();
                let _ = match (problem, e.marks.contains(&Mark::Unused)) {
                    (true, _) => writeln!(out, "{}", paint(text, Some(AnsiColor::Red), Effects::new())),
                    (false, true) => writeln!(out, "{}", paint(text, None, Effects::DIMMED)),
                    (false, false) => writeln!(out, "{text}"),
                };
            }
        }
    }
    out
}

/// `b.demo v2`: the callee as the drawing names it.
fn target(g: &CallGraph, e: &CallEdge) -> String {
    let node = &g.nodes[e.to];
    let group = &g.groups[node.group].name;
    if node.version.is_empty() { group.clone() } else { format!("{group} {}", node.version) }
}

/// Graphviz DOT: one cluster per service, left to right in layers; unused calls dashed, problems red.
pub fn dot(g: &CallGraph) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::from("digraph calls {\n  rankdir=LR;\n  newrank=true;\n");
    let _ = writeln!(out, "  label={};\n  labelloc=t;", q(&heading(g)));
    out += "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n";
    out += "  edge [fontname=\"Helvetica\", fontsize=9];\n";
    for (i, grp) in g.groups.iter().enumerate() {
        let style = if grp.service.is_none() { "dashed" } else { "solid" };
        let _ = writeln!(out, "  subgraph cluster_{i} {{\n    label={};\n    style={style};", q(&grp.name));
        for &n in &grp.nodes {
            let node = &g.nodes[n];
            let _ = writeln!(out, "    {} [label={}];", q(&node.id), q(&version_figures(node).replace("  ", "\n")));
        }
        out += "  }\n";
    }
    for e in &g.edges {
        let mut attrs = vec![format!("label={}", q(&edge_label(e, "\n")))];
        if e.marks.iter().any(|m| m.is_problem()) {
            attrs.push("color=red, fontcolor=red".into());
        } else if e.marks.contains(&Mark::Unused) || e.observed.is_none() {
            attrs.push("style=dashed".into());
        }
        let _ = writeln!(out, "  {} -> {} [{}];", q(&g.nodes[e.from].id), q(&g.nodes[e.to].id), attrs.join(", "));
    }
    out += "}\n";
    out
}

/// A call's label in a drawing: its rate, errors and p99, and its marks.
pub fn edge_label(e: &CallEdge, sep: &str) -> String {
    let mut parts = Vec::new();
    if let Some(f) = &e.observed {
        parts.push(format!("{} rps ({})", significant(f.requests_per_second), percent(f.share)));
        if let Some(r) = f.error_rate.filter(|r| *r > 0.0) {
            parts.push(format!("{} errors", rate(r)));
        }
        parts.extend(f.p99_ms.map(|p| format!("p99 {} ms", significant(p))));
    }
    parts.extend(e.marks.iter().map(|m| m.describe().to_string()));
    parts.join(sep)
}

/// Mermaid `flowchart LR`, for Markdown pages that render it (GitHub, GitLab): the same clusters and styles.
pub fn mermaid(g: &CallGraph) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('"', "#quot;"));
    let mut out = String::from("flowchart LR\n");
    for (i, grp) in g.groups.iter().enumerate() {
        let _ = writeln!(out, "  subgraph g{i}[{}]", q(&grp.name));
        for &n in &grp.nodes {
            let _ = writeln!(out, "    n{n}[{}]", q(&version_figures(&g.nodes[n]).replace("  ", "<br/>")));
        }
        out += "  end\n";
    }
    let mut problems = Vec::new();
    for (i, e) in g.edges.iter().enumerate() {
        let arrow = if e.observed.is_none() { "-.->" } else { "-->" };
        let label = edge_label(e, "<br/>");
        let label = if label.is_empty() { String::new() } else { format!("|{}|", q(&label)) };
        let _ = writeln!(out, "  n{} {arrow}{label} n{}", e.from, e.to);
        if e.marks.iter().any(|m| m.is_problem()) {
            problems.push(i.to_string());
        }
    }
    if !problems.is_empty() {
        let _ = writeln!(out, "  linkStyle {} stroke:#d32f2f,color:#d32f2f", problems.join(","));
    }
    out
}
