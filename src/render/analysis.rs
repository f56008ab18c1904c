//! `kubectl vroute analyze` output: the verdict, the evidence a reviewer checks, the window and the queries; or
//! the analysis service's own document with `-o json|yaml`.

use super::{Format, RenderError, finish, table};
use crate::analysis::Analysis;
use crate::analysis::window::Origin;
use crate::judge::ArmSummary;
use std::fmt::Write as _;

pub fn render(analysis: &Analysis, format: Format) -> Result<String, RenderError> {
    match super::document(analysis, format) {
        Some(doc) => doc,
        None => Ok(text(analysis)),
    }
}

/// The verdict first, then the evidence a reviewer checks: both arms' counts, the three e-values against
/// their threshold, the window and the queries.
pub fn text(analysis: &Analysis) -> String {
    let (j, w) = (&analysis.judgement, &analysis.window);
    let mut out = format!("{}: {}\n{}\n\n", j.verdict.as_str(), j.reason.code(), j.message);
    let mut arms = table(&["arm", "requests", "errors", "error rate", "95% interval"]);
    for (name, arm) in [("canary", &j.canary), ("baseline", &j.baseline)] {
        let rate = arm.error_rate.map_or_else(|| "-".to_string(), percent);
        arms.add_row(vec![name.to_string(), arm.requests.to_string(), arm.errors.to_string(), rate, interval(arm)]);
    }
    out.push_str(&finish(&arms));
    let e = &j.evidence;
    let mut tests = table(&["test", "e-value", "decides at"]);
    let threshold = format!(">= {}", number(e.threshold));
    let rows = [
        (format!("canary worse than {}x baseline", e.worse_above), e.e_worse, e.log10_e_worse),
        (format!("canary below {}x baseline", e.not_worse_below), e.e_not_worse, e.log10_e_not_worse),
        (format!("canary above the {} ceiling", percent(e.max_error_rate)), e.e_ceiling, e.log10_e_ceiling),
    ];
    for (name, value, log10) in rows {
        tests.add_row(vec![name, e_value(value, log10), threshold.clone()]);
    }
    out.push('\n');
    out.push_str(&finish(&tests));
    if let Some(signals) = &analysis.signals {
        out.push_str(&signal_lines(signals));
    }
    let origin = match w.from {
        Origin::Since => "from --since".to_string(),
        Origin::Window => format!("the last {}m", w.seconds() / 60),
        Origin::Rollout => "since the canary ReplicaSet was created".to_string(),
    };
    let _ = writeln!(out, "\nwindow: {} to {}, {} step(s) of {}s ({origin})", w.start, w.end, w.steps, w.step_seconds);
    if let Some(r) = &w.rollout {
        let rs = r.replica_set.as_deref().unwrap_or("none yet");
        let weight = r.canary_weight.map_or_else(|| "unknown".to_string(), percent);
        let _ = writeln!(out, "rollout: {}, canary ReplicaSet {rs}, canary weight {weight}", r.name);
    }
    for q in &analysis.queries {
        let _ = writeln!(out, "query ({}): {}", q.purpose, q.query);
    }
    out
}

/// Each signal's verdict, and the latency signal's slow shares and quantiles.
fn signal_lines(signals: &crate::analysis::document::SignalJudgements) -> String {
    let mut out = String::from("\n");
    if let Some(e) = &signals.errors {
        let _ = writeln!(out, "errors: {} ({})", e.verdict.as_str(), e.reason.code());
    }
    if let Some(l) = &signals.latency {
        let j = &l.judgement;
        let _ = writeln!(
            out,
            "latency: {} ({}), requests slower than {} ms",
            j.verdict.as_str(),
            j.reason.code(),
            number(l.threshold_ms)
        );
        let mut t = table(&["arm", "requests", "slower", "share", "p50 ms", "p95 ms", "p99 ms"]);
        let ms = |x: Option<f64>| x.map_or_else(|| "-".to_string(), number);
        for (name, arm, q) in [("canary", &j.canary, &l.canary_latency), ("baseline", &j.baseline, &l.baseline_latency)]
        {
            let share = arm.error_rate.map_or_else(|| "-".to_string(), percent);
            t.add_row(vec![
                name.into(),
                arm.requests.to_string(),
                arm.errors.to_string(),
                share,
                ms(q.p50),
                ms(q.p95),
                ms(q.p99),
            ]);
        }
        out.push_str(&finish(&t));
    }
    out
}

fn interval(arm: &ArmSummary) -> String {
    format!("{} - {}", percent(arm.wilson95[0]), percent(arm.wilson95[1]))
}

use crate::numbers::{rate as percent, significant as number};

/// E-values span hundreds of orders of magnitude; beyond f64 (saturated), the exact log10 is shown.
fn e_value(value: f64, log10: f64) -> String {
    if !(1e-300..1e300).contains(&value) {
        format!("1e{log10:.0}")
    } else if (1e-3..1e4).contains(&value) {
        number(value)
    } else {
        format!("{value:.2e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_exact_where_it_matters() {
        assert_eq!(percent(0.012_34), "1.23%");
        assert_eq!(percent(0.001), "0.1%");
        assert_eq!(e_value(20.0, 1.3), "20");
        assert_eq!(e_value(5.92e-6, -5.23), "5.92e-6");
        assert_eq!(e_value(1e300, 412.4), "1e412");
        assert_eq!(e_value(0.0, -712.6), "1e-713");
    }
}
