//! `kubectl vroute status` and `check` output.

use super::{Format, finish, paint, table};
use crate::routes::{Finding, RolloutView, RouteView, ServiceView, SplitKind, StatusReport, VersionView};
use serde_json::Value;
use std::fmt::Write as _;

pub fn render(report: &StatusReport, format: Format, color: bool) -> Result<String, String> {
    match format {
        Format::Json => Ok(super::json(report)),
        Format::Yaml => super::yaml(report),
        Format::Table | Format::Wide => Ok(text(report, format == Format::Wide, color)),
    }
}

fn text(report: &StatusReport, wide: bool, color: bool) -> String {
    let mut out = String::new();
    for (i, svc) in report.services.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&service(svc, wide, color));
    }
    if !report.findings.is_empty() {
        out.push('\n');
        out.push_str(&findings(&report.findings, color));
    }
    out
}

fn service(svc: &ServiceView, wide: bool, color: bool) -> String {
    let mut out = String::new();
    let split = match svc.split {
        SplitKind::Subset => "subset split",
        SplitKind::Host => "host split",
        SplitKind::Mixed => "host and subset split",
        SplitKind::None => "no split",
    };
    let vs = if svc.virtual_services.is_empty() {
        "no VirtualService".to_string()
    } else {
        format!("VirtualService {}", svc.virtual_services.join(", "))
    };
    let pinned = if svc.version_pinned { ", version-pinned" } else { "" };
    let _ = writeln!(out, "{} ({split}{pinned}) {vs}", svc.host);
    if let Some(r) = &svc.rollout {
        let _ = writeln!(out, "{}", rollout_line(r));
    }
    if !svc.routes.is_empty() {
        out.push('\n');
        out.push_str(&routes(&svc.routes, wide));
    }
    out.push('\n');
    out.push_str(&versions(&svc.versions, wide));
    if !svc.findings.is_empty() {
        out.push('\n');
        out.push_str(&findings(&svc.findings, color));
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
    let mut t = table(&headers);
    for r in routes {
        let mut name = r.name.clone().unwrap_or_else(|| format!("#{}", r.index));
        if !r.reachable {
            name.push_str(" (unreachable)");
        }
        let dest: Vec<String> = r
            .destinations
            .iter()
            .map(|d| if wide { wide_dest(d.host.as_str(), &d.version) } else { d.version.clone() })
            .collect();
        let weights: Vec<String> = r.destinations.iter().map(|d| percent(d.weight_percent)).collect();
        let mirror = r.mirror.as_ref().map_or("-".into(), |m| format!("{} {}", m.version, percent(m.percent)));
        let mut row = vec![
            name,
            r.match_summary.clone(),
            dest.join("\n"),
            weights.join("\n"),
            mirror,
            r.retries.as_ref().map_or("-".into(), retries),
            r.timeout.clone().unwrap_or_else(|| "-".into()),
            r.fault.as_ref().map_or("-".into(), fault),
        ];
        if wide {
            row.push(r.virtual_service.clone());
            row.push(r.managed_by.clone().unwrap_or_else(|| "-".into()));
        }
        t.add_row(row);
    }
    finish(&t)
}

fn wide_dest(host: &str, version: &str) -> String {
    format!("{version} ({host})")
}

fn versions(versions: &[VersionView], wide: bool) -> String {
    let traffic = versions.iter().any(|v| v.traffic.is_some());
    let mut headers = vec!["version", "subset", "labels", "pods", "outlier", "owner"];
    if traffic {
        headers.extend(["rps", "errors"]);
    }
    if wide {
        headers.push("host");
    }
    let mut t = table(&headers);
    for v in versions {
        let labels: Vec<String> = v.labels.iter().map(|(k, val)| format!("{k}={val}")).collect();
        let mut row = vec![
            v.name.clone(),
            v.subset.clone().unwrap_or_else(|| "-".into()),
            if labels.is_empty() { "-".into() } else { labels.join(",") },
            v.pods.map_or("-".into(), |p| format!("{}/{}", p.ready, p.total)),
            if v.outlier_detection { "on".into() } else { "off".into() },
            if v.owners.is_empty() { "-".into() } else { v.owners.join(",") },
        ];
        if traffic {
            let t = v.traffic;
            row.push(t.map_or("-".into(), |t| format!("{:.2}", t.requests_per_second)));
            row.push(t.and_then(|t| t.error_rate).map_or("-".into(), |e| format!("{:.2}%", e * 100.0)));
        }
        if wide {
            row.push(v.host.clone());
        }
        t.add_row(row);
    }
    finish(&t)
}

/// The findings block: one line each, most severe first, with its fix hint.
pub fn findings(findings: &[Finding], color: bool) -> String {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| f.severity);
    let mut out = String::from("FINDINGS\n");
    for f in sorted {
        let severity = paint(&format!("{:<7}", f.severity.to_string()), f.severity, color);
        let object = if f.object.is_empty() { String::new() } else { format!("{}: ", f.object) };
        let _ = writeln!(out, "{severity} {} {object}{}", f.code, f.message);
        let _ = writeln!(out, "{:7} {:5} hint: {}", "", "", f.hint);
    }
    out
}

/// `33.3%`, `100%`: whole numbers without decimals.
pub fn percent(p: f64) -> String {
    if (p - p.round()).abs() < 0.05 { format!("{}%", p.round()) } else { format!("{p:.1}%") }
}

/// `3x 2s on 5xx,connect-failure` from an Istio retry policy.
fn retries(v: &Value) -> String {
    let attempts = v["attempts"].as_i64().map_or("?".into(), |a| a.to_string());
    let mut s = format!("{attempts}x");
    if let Some(t) = v["perTryTimeout"].as_str() {
        let _ = write!(s, " {t}");
    }
    if let Some(on) = v["retryOn"].as_str() {
        let _ = write!(s, " on {on}");
    }
    s
}

/// `delay 5s 10%`, `abort 503 50%` from an Istio fault policy.
fn fault(v: &Value) -> String {
    let pct = |p: &Value| p["percentage"]["value"].as_f64().map_or(String::new(), |x| format!(" {}", percent(x)));
    let mut parts = Vec::new();
    if v["delay"].is_object() {
        let d = &v["delay"];
        parts.push(format!("delay {}{}", d["fixedDelay"].as_str().unwrap_or("?"), pct(d)));
    }
    if v["abort"].is_object() {
        let a = &v["abort"];
        let what = a["httpStatus"]
            .as_i64()
            .map_or_else(|| a["grpcStatus"].as_str().unwrap_or("?").to_string(), |c| c.to_string());
        parts.push(format!("abort {what}{}", pct(a)));
    }
    if parts.is_empty() { "-".into() } else { parts.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn policies_render_compactly() {
        assert_eq!(retries(&json!({"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx"})), "3x 2s on 5xx");
        assert_eq!(
            fault(&json!({"delay": {"fixedDelay": "5s", "percentage": {"value": 10.0}}, "abort": {"httpStatus": 503}})),
            "delay 5s 10%, abort 503"
        );
        assert_eq!(percent(25.0), "25%");
        assert_eq!(percent(100.0 / 3.0), "33.3%");
    }
}
