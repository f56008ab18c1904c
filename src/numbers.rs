//! The one number format for people, and the one rounding for documents.
//!
//! People read three significant digits with trailing zeros dropped (`33.3%`, `1.23%`, `0.97%`, `20`), a zero as
//! `0%`, and a share too small or too close to all to show honestly as `<0.01%` or `>99.9%` (never a rounded
//! `0%` or `100%` that is not true). Documents (`-o json|yaml`) carry percentages rounded to 4 decimals and
//! other fractional figures to 6 significant digits: exact enough for any decision, without float noise
//! (`33.3333`, not `33.333333333333336`).

use serde::Serializer;

/// Three significant digits (no decimals from 100 up), trailing zeros dropped: `123`, `12.3`, `1.2`, `0.00123`.
pub fn significant(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x.is_finite() { "0".into() } else { x.to_string() };
    }
    let decimals = (2.0 - x.abs().log10().floor()).clamp(0.0, 12.0) as usize;
    trim(format!("{x:.decimals$}"))
}

/// A share in percent (`0..=100`) for people: `0%`, `<0.01%`, `0.97%`, `33.3%`, `>99.9%`, `100%`.
pub fn percent(p: f64) -> String {
    if p <= 0.0 {
        return "0%".into();
    }
    if p < 0.01 {
        return "<0.01%".into();
    }
    let shown = significant(p);
    if p < 100.0 && shown.parse::<f64>().is_ok_and(|s| s >= 100.0) {
        return ">99.9%".into();
    }
    format!("{shown}%")
}

/// A rate (a fraction `0..=1`) as a percentage for people.
pub fn rate(r: f64) -> String {
    percent(r * 100.0)
}

fn trim(s: String) -> String {
    if !s.contains('.') {
        return s;
    }
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A percentage in a document: 4 decimals.
pub fn document_percent(p: f64) -> f64 {
    (p * 10_000.0).round() / 10_000.0
}

/// Any other fractional figure in a document: 6 significant digits.
pub fn document_figure(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(5 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// `serialize_with` for percentages.
pub fn ser_percent<S: Serializer>(p: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(document_percent(*p))
}

/// `serialize_with` for optional percentages.
pub fn ser_opt_percent<S: Serializer>(p: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_some(&document_percent(*p)),
        None => s.serialize_none(),
    }
}

/// `serialize_with` for other figures.
pub fn ser_figure<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(document_figure(*x))
}

/// `serialize_with` for optional figures.
pub fn ser_opt_figure<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(x) => s.serialize_some(&document_figure(*x)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_get_three_significant_digits_and_honest_extremes() {
        let shown: Vec<String> =
            [0.0, 0.004, 0.0327, 0.97, 0.99, 1.0, 12.5, 100.0 / 3.0, 99.96, 100.0].into_iter().map(percent).collect();
        assert_eq!(shown, ["0%", "<0.01%", "0.0327%", "0.97%", "0.99%", "1%", "12.5%", "33.3%", ">99.9%", "100%"]);
        assert_eq!(rate(0.012_34), "1.23%");
        assert_eq!(significant(20.0), "20");
        assert_eq!(significant(43.81), "43.8");
        assert_eq!(significant(0.16), "0.16");
    }

    #[test]
    fn documents_are_rounded_without_float_noise() {
        assert_eq!(document_percent(100.0 / 3.0), 33.3333);
        assert_eq!(document_percent(10.0), 10.0);
        assert_eq!(document_figure(0.009_900_990_099), 0.00990099);
        assert_eq!(document_figure(123_456.789), 123_457.0);
        assert_eq!(serde_json::to_string(&document_percent(200.0 / 3.0)).unwrap(), "66.6667");
    }
}
