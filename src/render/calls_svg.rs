//! The call graph drawn as one self-contained SVG (no Graphviz, no fonts or scripts fetched): one column per
//! layer, left to right; in each, a box per service with a row per version; a curve per call from the caller
//! version's row to the callee version's, labelled with its rate, dashed when unused or not observed, red
//! when marked. Every element carries a `<title>` with the full figures (a tooltip in a browser) and the ids
//! of what it draws (`data-from`, `data-to`, `data-id`), so a page can find them.

use super::calls::{call_figures, edge_label, heading, version_figures};
use crate::calls::{CallGraph, Mark};
use std::fmt::Write as _;

const MARGIN: f64 = 24.0;
const TITLE: f64 = 36.0;
const GAP_X: f64 = 180.0;
const GAP_Y: f64 = 24.0;
const HEADER: f64 = 26.0;
const ROW: f64 = 24.0;
// A character of the 12 px bold group names, generously (a name must never run out of its box).
const CHAR: f64 = 7.6;

/// Where a group's box and its versions' rows are.
struct Placed {
    x: f64,
    y: f64,
    width: f64,
}

pub fn svg(g: &CallGraph) -> String {
    let width_of = |s: &str| s.chars().count() as f64 * CHAR + 24.0;
    let texts =
        g.groups.iter().map(|grp| width_of(&grp.name)).chain(g.nodes.iter().map(|n| width_of(&version_figures(n))));
    let box_w = texts.fold(160.0_f64, f64::max).min(360.0);
    let layers = g.groups.iter().map(|grp| grp.layer).max().map_or(0, |l| l + 1);
    let mut column_y = vec![MARGIN + TITLE; layers.max(1)];
    let mut placed = Vec::with_capacity(g.groups.len());
    for grp in &g.groups {
        let x = MARGIN + grp.layer as f64 * (box_w + GAP_X);
        let y = column_y[grp.layer];
        column_y[grp.layer] = y + HEADER + grp.nodes.len() as f64 * ROW + 8.0 + GAP_Y;
        placed.push(Placed { x, y, width: box_w });
    }
    // Each node's row centre, by node index.
    let mut row = vec![(0.0, 0.0, 0.0); g.nodes.len()];
    for (grp, p) in g.groups.iter().zip(&placed) {
        for (i, &n) in grp.nodes.iter().enumerate() {
            row[n] = (p.x, p.y + HEADER + i as f64 * ROW + ROW / 2.0, p.width);
        }
    }
    let width = MARGIN * 2.0 + layers.max(1) as f64 * box_w + layers.saturating_sub(1) as f64 * GAP_X;
    let height = column_y.iter().copied().fold(MARGIN + TITLE, f64::max) + MARGIN;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="Helvetica, Arial, sans-serif" font-size="12">"#
    );
    out += concat!(
        "<style>.group{fill:#f6f8fa;stroke:#57606a}.outside{stroke-dasharray:4 3}.version{fill:#fff;stroke:#d0d7de}",
        ".call{fill:none;stroke:#57606a;stroke-width:1.5}.unused{stroke:#8c959f;stroke-dasharray:5 4}",
        ".problem{stroke:#cf222e;stroke-width:2}.label{fill:#24292f;font-size:10px}.label.problem{fill:#cf222e;stroke:none}",
        ".name{font-weight:bold}</style>\n",
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">",
        "<path d=\"M0,0L10,5L0,10z\" fill=\"#57606a\"/></marker>",
        "<marker id=\"arrow-problem\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">",
        "<path d=\"M0,0L10,5L0,10z\" fill=\"#cf222e\"/></marker></defs>\n"
    );
    let _ = writeln!(out, r#"<text x="{MARGIN}" y="{}" class="name">{}</text>"#, MARGIN + 12.0, xml(&heading(g)));
    if g.groups.is_empty() {
        let _ = writeln!(
            out,
            r#"<text x="{MARGIN}" y="{}">Nothing to draw: no routed service, and no call observed.</text>"#,
            MARGIN + 40.0
        );
    }
    for (grp, p) in g.groups.iter().zip(&placed) {
        let h = HEADER + grp.nodes.len() as f64 * ROW + 8.0;
        let class = if grp.service.is_none() { "group outside" } else { "group" };
        let _ = writeln!(
            out,
            r#"<g data-group="{}"><title>{}</title><rect class="{class}" x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" rx="6"/><text class="name" x="{:.1}" y="{:.1}">{}</text></g>"#,
            xml(&grp.name),
            xml(grp.service.as_deref().unwrap_or("a caller outside the view")),
            p.x,
            p.y,
            p.width,
            p.x + 10.0,
            p.y + 17.0,
            xml(&grp.name)
        );
        for &n in &grp.nodes {
            let (x, cy, w) = row[n];
            let node = &g.nodes[n];
            let _ = writeln!(
                out,
                r#"<g data-id="{}"><title>{}</title><rect class="version" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="3"/><text x="{:.1}" y="{:.1}">{}</text></g>"#,
                xml(&node.id),
                xml(&node.id),
                x + 6.0,
                cy - ROW / 2.0 + 2.0,
                w - 12.0,
                ROW - 4.0,
                x + 12.0,
                cy + 4.0,
                xml(&version_figures(node))
            );
        }
    }
    for e in &g.edges {
        let (x1, y1, w1) = row[e.from];
        let (x2, y2, _) = row[e.to];
        let (sx, tx) = (x1 + w1 - 6.0, x2 + 6.0);
        let bend = ((tx - sx).abs() / 2.0).max(60.0);
        let problem = e.marks.iter().any(|m| m.is_problem());
        let mut class = String::from("call");
        if e.marks.contains(&Mark::Unused) || e.observed.is_none() {
            class += " unused";
        }
        if problem {
            class += " problem";
        }
        let marker = if problem { "arrow-problem" } else { "arrow" };
        let (from, to) = (&g.nodes[e.from].id, &g.nodes[e.to].id);
        let title = format!(
            "{from} -> {to}: {}",
            [call_figures(e)]
                .into_iter()
                .chain(e.marks.iter().map(|m| m.describe().to_string()))
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("; ")
        );
        let _ = write!(
            out,
            r#"<g data-from="{}" data-to="{}"><title>{}</title><path class="{class}" marker-end="url(#{marker})" d="M{sx:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {tx:.1},{y2:.1}"/>"#,
            xml(from),
            xml(to),
            xml(&title),
            sx + bend,
            tx - bend
        );
        let label = edge_label(e, " · ");
        if !label.is_empty() {
            let label_class = if problem { "label problem" } else { "label" };
            // Above a level call; under a sloped one, on the side where the curve is higher, so a caller's
            // calls to its callee's two versions (a canary split) never print their labels over each other.
            let (mx, my) = ((sx + tx) / 2.0, (y1 + y2) / 2.0);
            let (x, y, anchor) = match y2.total_cmp(&y1) {
                std::cmp::Ordering::Equal => (mx, my - 4.0, "middle"),
                std::cmp::Ordering::Greater => (mx - 6.0, my + 14.0, "end"),
                std::cmp::Ordering::Less => (mx + 6.0, my + 14.0, "start"),
            };
            let _ = write!(
                out,
                r#"<text class="{label_class}" x="{x:.1}" y="{y:.1}" text-anchor="{anchor}">{}</text>"#,
                xml(&label)
            );
        }
        out += "</g>\n";
    }
    out += "</svg>\n";
    out
}

/// Text and attribute values escaped for XML.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
