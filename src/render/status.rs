//! `kubectl vroute status` output: per service its routes and versions, then its findings.

use super::{Format, RenderError, Style, paint, table_of, wrap};
use crate::graph::{Finding, SplitKind};
use crate::istio::objects::{Fault, Retries};
use crate::views::status::{AudienceView, DestinationView, MirrorView, RolloutView, RouteView, RuleView};
use crate::views::status::{ServiceView, StatusReport, VersionView};
use std::fmt::Write as _;

pub fn render(report: &StatusReport, format: Format, style: Style) -> Result<String, RenderError> {
    match super::document(report, format) {
        Some(doc) => doc,
        None => Ok(text(report, format == Format::Wide, style)),
    }
}

/// One redraw of `status --watch`: a document of the stream ([`super::stream_document`]), or the tables.
pub fn render_frame(report: &StatusReport, format: Format, style: Style) -> Result<String, RenderError> {
    match super::stream_document(report, format) {
        Some(doc) => doc,
        None => Ok(text(report, format == Format::Wide, style)),
    }
}

fn text(report: &StatusReport, wide: bool, style: Style) -> String {
    let mut out = String::new();
    for (i, svc) in report.services.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&service(svc, wide, style));
    }
    if !report.findings.is_empty() {
        out.push('\n');
        out.push_str(&findings(report.findings.iter().copied(), style));
    }
    out
}

fn service(svc: &ServiceView, wide: bool, style: Style) -> String {
    let mut out = String::new();
    let split = match svc.split {
        SplitKind::Subset => "subset split",
        SplitKind::Host => "host split",
        SplitKind::Mixed => "host and subset split",
        SplitKind::None => "no split",
    };
    let vs = match (svc.virtual_services.is_empty(), svc.http_routes.is_empty()) {
        (true, true) => "no VirtualService".to_string(),
        (false, true) => format!("VirtualService {}", svc.virtual_services.join(", ")),
        (true, false) => format!("HTTPRoute {}", svc.http_routes.join(", ")),
        (false, false) => {
            format!("VirtualService {}, HTTPRoute {}", svc.virtual_services.join(", "), svc.http_routes.join(", "))
        }
    };
    let pinned = match (svc.version_pinned, svc.pin_header) {
        (true, Some(h)) => format!(", version-pinned by header {h}"),
        (true, None) => ", version-pinned".to_string(),
        (false, _) => String::new(),
    };
    let pinned = match svc.waypoint {
        Some(w) => format!("{pinned}, waypoint {w}"),
        None => pinned.to_string(),
    };
    let header = format!("{} ({split}{pinned}) {vs}", svc.host);
    let _ = writeln!(out, "{}", style.width.map_or_else(|| header.clone(), |w| wrap(&header, w, 2)));
    if let Some(r) = &svc.rollout {
        let _ = writeln!(out, "{}", rollout_line(r));
    }
    if !svc.routes.is_empty() {
        out.push('\n');
        out.push_str(&routes(&svc.routes, wide));
    }
    if !svc.rules.is_empty() {
        out.push('\n');
        out.push_str(&rules(&svc.rules, wide));
    }
    out.push('\n');
    out.push_str(&versions(&svc.versions, wide));
    if !svc.findings.is_empty() {
        out.push('\n');
        out.push_str(&findings(svc.findings.iter().copied(), style));
    }
    out
}

fn rollout_line(r: &RolloutView) -> String {
    let mut line = format!("Rollout {}/{} ({}): {}", r.namespace, r.name, r.strategy, r.phase);
    if !r.message.is_empty() {
        let _ = write!(line, " - {}", r.message);
    }
    if let Some(step) = &r.step {
        let _ = write!(line, ", step {step}");
    }
    if r.desired_canary_weight.is_some() || r.actual_canary_weight.is_some() {
        let desired = r.desired_canary_weight.map_or("-".into(), |w| format!("{w}%"));
        let actual = r.actual_canary_weight.map_or("-".into(), percent);
        let _ = write!(line, ", canary weight desired {desired} / actual {actual}");
    }
    line
}

fn routes(routes: &[RouteView], wide: bool) -> String {
    let mut headers = vec!["route", "match", "destination", "weight", "mirror", "retries", "timeout", "fault"];
    if wide {
        headers.extend(["virtualservice", "managed-by"]);
    }
    let mut rows = Vec::new();
    for r in routes {
        let mut name = r.name.map_or_else(|| format!("#{}", r.index), str::to_string);
        if !r.reachable {
            name.push_str(" (unreachable)");
        }
        let (dest, weights, mirror) = split_cells(&r.destinations, r.mirror.as_ref(), wide);
        let mut row = vec![
            name,
            r.match_summary.clone(),
            dest,
            weights,
            mirror,
            r.retries.map_or("-".into(), |r| retries(&r.typed)),
            r.timeout.unwrap_or("-").to_string(),
            r.fault.map_or("-".into(), |f| fault(&f.typed)),
        ];
        if wide {
            row.push(r.virtual_service.clone());
            row.push(r.managed_by.clone().unwrap_or_else(|| "-".into()));
        }
        rows.push(row);
    }
    table_of(&headers, rows, &["mirror", "retries", "timeout", "fault"], wide)
}

/// HTTPRoute rules in the order they apply: `for` says to whom when it is not every caller of the Service.
fn rules(rules: &[RuleView], wide: bool) -> String {
    let mut headers = vec!["rule", "for", "match", "backend", "weight", "mirror", "retry", "timeout"];
    if wide {
        headers.extend(["httproute", "parent", "accepted", "managed-by"]);
    }
    let mut rows = Vec::new();
    for r in rules {
        let mut name = r.name.map_or_else(|| format!("#{}", r.index), str::to_string);
        if !r.reachable {
            name.push_str(" (unreachable)");
        }
        let audience = match &r.audience {
            AudienceView::Producers => "*".to_string(),
            AudienceView::Consumers { namespace } => format!("ns {namespace}"),
            AudienceView::Gateway { gateway } => gateway.clone(),
        };
        let (dest, weights, mirror) = split_cells(&r.destinations, r.mirror.as_ref(), wide);
        let retry = r.retry.map_or("-".into(), |r| {
            let codes: Vec<String> = r.typed.codes.iter().map(u16::to_string).collect();
            if r.typed.attempts == Some(0) {
                return "off".to_string();
            }
            let mut s = format!("{}x", r.typed.attempts.map_or("?".into(), |a| a.to_string()));
            if !codes.is_empty() {
                let _ = write!(s, " on {}", codes.join(","));
            }
            s
        });
        let timeout = r.timeouts.and_then(|t| t.typed.request.clone().or(t.typed.backend_request.clone()));
        let mut row = vec![
            name,
            audience,
            r.match_summary.clone(),
            dest,
            weights,
            mirror,
            retry,
            timeout.unwrap_or_else(|| "-".into()),
        ];
        if wide {
            row.push(r.http_route.clone());
            row.push(r.parent.clone());
            let accepted = r.conditions.iter().find(|c| c.kind == "Accepted");
            row.push(accepted.map_or("-".into(), |c| c.status.clone()));
            row.push(r.managed_by.clone().unwrap_or_else(|| "-".into()));
        }
        rows.push(row);
    }
    table_of(&headers, rows, &["mirror", "retry", "timeout"], wide)
}

/// The destination, weight and mirror cells of a route or rule: one line per destination.
fn split_cells(destinations: &[DestinationView], mirror: Option<&MirrorView>, wide: bool) -> (String, String, String) {
    let dest: Vec<String> =
        destinations.iter().map(|d| if wide { wide_dest(d.host, d.version) } else { d.version.to_string() }).collect();
    let weights: Vec<String> = destinations.iter().map(|d| percent(d.weight_percent)).collect();
    let mirror = mirror.map_or("-".into(), |m| format!("{} {}", m.version, percent(m.percent)));
    (dest.join("\n"), weights.join("\n"), mirror)
}

fn wide_dest(host: &str, version: &str) -> String {
    format!("{version} ({host})")
}

/// Versions; the subset's labels only in `-o wide` (the subset names them), the subset column only where a
/// version has one.
fn versions(versions: &[VersionView], wide: bool) -> String {
    let traffic = versions.iter().any(|v| v.traffic.is_some());
    let mut headers = vec!["version", "subset", "pods", "outlier", "breaker", "owner"];
    if traffic {
        headers.extend(["rps", "errors"]);
    }
    if wide {
        headers.extend(["labels", "host"]);
    }
    let mut rows = Vec::new();
    for v in versions {
        let mut row = vec![
            v.name.to_string(),
            v.subset.unwrap_or("-").to_string(),
            v.pods.map_or("-".into(), |p| format!("{}/{}", p.ready, p.total)),
            if v.outlier_detection { "on".into() } else { "off".into() },
            // The whole policy in -o wide; the limits alone fit 80 columns.
            match v.circuit_breaker {
                Some(b) if wide => b.summary(),
                Some(b) => b.limits().unwrap_or_else(|| "-".into()),
                None => "-".into(),
            },
            if v.owners.is_empty() { "-".into() } else { v.owners.join(",") },
        ];
        if traffic {
            let t = v.traffic;
            row.push(t.map_or("-".into(), |t| crate::numbers::significant(t.requests_per_second)));
            row.push(t.and_then(|t| t.error_rate).map_or("-".into(), crate::numbers::rate));
        }
        if wide {
            let labels: Vec<String> = v.labels.iter().map(|(k, val)| format!("{k}={val}")).collect();
            row.push(if labels.is_empty() { "-".into() } else { labels.join(",") });
            row.push(v.host.to_string());
        }
        rows.push(row);
    }
    table_of(&headers, rows, &["subset", "breaker"], wide)
}

/// The findings block: one line each, most severe first, with its fix hint; on a terminal wrapped at word
/// boundaries to its width, continuation lines under the message.
pub fn findings<'f>(findings: impl IntoIterator<Item = &'f Finding>, style: Style) -> String {
    const INDENT: usize = 14;
    let mut sorted: Vec<&Finding> = findings.into_iter().collect();
    sorted.sort_by_key(|f| f.severity);
    let fit = |text: String| match style.width {
        Some(width) => wrap(&text, width.max(INDENT + 20), INDENT),
        None => text,
    };
    let mut out = String::from("FINDINGS\n");
    for f in sorted {
        let severity = format!("{:<7}", f.severity.to_string());
        let object = if f.object.is_empty() { String::new() } else { format!("{}: ", f.object) };
        let line = fit(format!("{severity} {} {object}{}", f.code, f.message));
        let line = line.replacen(&severity, &paint(&severity, f.severity, style.color), 1);
        let _ = writeln!(out, "{line}");
        let _ = writeln!(out, "{}", fit(format!("{:7} {:5} hint: {}", "", "", f.hint)));
    }
    out
}

pub use crate::numbers::percent;

/// `3x 2s on 5xx,connect-failure` from an Istio retry policy.
fn retries(r: &Retries) -> String {
    // `attempts: 0` is how a route turns retries off.
    if r.attempts == Some(0) {
        return "off".to_string();
    }
    let mut s = format!("{}x", r.attempts.map_or("?".into(), |a| a.to_string()));
    if let Some(t) = &r.per_try_timeout {
        let _ = write!(s, " {t}");
    }
    if let Some(on) = &r.retry_on {
        let _ = write!(s, " on {on}");
    }
    s
}

/// `delay 5s 10%`, `abort 503 50%` from an Istio fault policy.
fn fault(f: &Fault) -> String {
    let pct =
        |p: Option<&crate::istio::objects::Percent>| p.map_or(String::new(), |p| format!(" {}", percent(p.value)));
    let mut parts = Vec::new();
    if let Some(d) = &f.delay {
        parts.push(format!("delay {}{}", d.fixed_delay.as_deref().unwrap_or("?"), pct(d.percentage.as_ref())));
    }
    if let Some(a) = &f.abort {
        let what = a.http_status.map_or_else(|| a.grpc_status.clone().unwrap_or_else(|| "?".into()), |c| c.to_string());
        parts.push(format!("abort {what}{}", pct(a.percentage.as_ref())));
    }
    if parts.is_empty() { "-".into() } else { parts.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::parse::from_value;
    use serde_json::json;

    #[test]
    fn policies_render_compactly() {
        let r: Retries = from_value(&json!({"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx"})).unwrap();
        assert_eq!(retries(&r), "3x 2s on 5xx");
        let f: Fault = from_value(
            &json!({"delay": {"fixedDelay": "5s", "percentage": {"value": 10.0}}, "abort": {"httpStatus": 503}}),
        )
        .unwrap();
        assert_eq!(fault(&f), "delay 5s 10%, abort 503");
        assert_eq!(percent(25.0), "25%");
        assert_eq!(percent(100.0 / 3.0), "33.3%");
    }
}
