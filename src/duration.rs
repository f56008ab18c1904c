//! The one duration grammar for everything a user types: flags (`--timeout 1h30m`, `--request-timeout 250ms`)
//! and the analysis service's parameters (`window=10m`). Parsing is jiff's (its "friendly" format: `90s`,
//! `1h30m`, `1h 30m`, `250ms`, `1.5h`, `2d`, `1w`, and ISO 8601 `PT1H30M`), plus a bare number of seconds as
//! kubectl's `--request-timeout` takes it. Days and weeks are 24 hours and 7 days; months and years are refused
//! (their length depends on a date). Each use has its own range ([`Range`]), named in every refusal and in the
//! README.

use jiff::{Span, SpanRelativeTo};
use std::fmt;
use std::time::Duration;

/// The durations one use accepts, bounds included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub min: Duration,
    pub max: Duration,
    /// The smallest step: a window is counted in whole seconds, a route's timeouts in whole milliseconds
    /// (what both route APIs can write).
    pub resolution: Resolution,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    Any,
    Milliseconds,
    Seconds,
}

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// `--request-timeout`: one API request.
pub const REQUEST_TIMEOUT: Range =
    Range { min: Duration::from_millis(1), max: secs(3_600), resolution: Resolution::Any };
/// `--prometheus-timeout`: one Prometheus query.
pub const PROMETHEUS_TIMEOUT: Range =
    Range { min: Duration::from_millis(1), max: secs(300), resolution: Resolution::Any };
/// `wait --timeout`: a whole rollout.
pub const WAIT_TIMEOUT: Range =
    Range { min: Duration::from_millis(1), max: secs(7 * 86_400), resolution: Resolution::Any };
/// `window` (HTTP) and `analyze --window`: the judged period.
pub const WINDOW: Range = Range { min: secs(60), max: secs(366 * 86_400), resolution: Resolution::Seconds };
/// How often a live view reads again (`graph --watch --interval`, the dashboard's refresh).
pub const REFRESH: Range = Range { min: secs(1), max: secs(3_600), resolution: Resolution::Seconds };
/// `step` (HTTP) and `analyze --step`: one step of the sequential test. At least two scrapes of a 5 s
/// interval, so every step holds counts.
pub const STEP: Range = Range { min: secs(10), max: secs(3_600), resolution: Resolution::Seconds };
/// `vroute-analysis --cache-ttl`: 0 keeps only request coalescing.
pub const CACHE_TTL: Range = Range { min: Duration::ZERO, max: secs(3_600), resolution: Resolution::Any };

/// `timeout` and `retries --per-try-timeout`: one request to a route (Gateway API writes at most 99999h; a day
/// is plenty).
pub const ROUTE_TIMEOUT: Range =
    Range { min: Duration::from_millis(1), max: secs(86_400), resolution: Resolution::Milliseconds };
/// `fault --delay`: the delay injected before a request is forwarded.
pub const FAULT_DELAY: Range =
    Range { min: Duration::from_millis(1), max: secs(3_600), resolution: Resolution::Milliseconds };
/// `circuit-break --ejection` and `--interval`: outlier detection's times.
pub const EJECTION: Range =
    Range { min: Duration::from_millis(1), max: secs(86_400), resolution: Resolution::Milliseconds };

/// Why a duration was refused. The message names the text and what would be accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("{text:?} is not a duration (examples: 250ms, 30s, 5m, 1h30m, 2d)")]
    Malformed { text: String },
    #[error("{text:?}: a duration cannot be negative")]
    Negative { text: String },
    #[error("{text:?}: months and years have no fixed length; give days (e.g. 30d)")]
    Calendar { text: String },
    #[error("{text:?} is out of range: {range}")]
    OutOfRange { text: String, range: Range },
    #[error("{text:?}: give whole {unit}")]
    Fraction { text: String, unit: &'static str },
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "from {} to {}", format(self.min), format(self.max))
    }
}

/// Parses `text` in the grammar and checks it against `range`.
pub fn parse(text: &str, range: Range) -> Result<Duration, DurationError> {
    let text = text.trim();
    let err = |f: fn(String) -> DurationError| f(text.to_string());
    let duration = match text.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let span: Span = text.parse().map_err(|_| err(|text| DurationError::Malformed { text }))?;
            if span.is_negative() {
                return Err(err(|text| DurationError::Negative { text }));
            }
            let signed = span
                .to_duration(SpanRelativeTo::days_are_24_hours())
                .map_err(|_| err(|text| DurationError::Calendar { text }))?;
            Duration::try_from(signed).map_err(|_| err(|text| DurationError::Negative { text }))?
        }
    };
    if duration < range.min || duration > range.max {
        return Err(DurationError::OutOfRange { text: text.to_string(), range });
    }
    let (step, unit) = match range.resolution {
        Resolution::Any => (1, ""),
        Resolution::Milliseconds => (1_000_000, "milliseconds"),
        Resolution::Seconds => (1_000_000_000, "seconds"),
    };
    if duration.subsec_nanos() % step != 0 {
        return Err(DurationError::Fraction { text: text.to_string(), unit });
    }
    Ok(duration)
}

/// A clap value parser for flags of this `range`.
pub fn flag(range: Range) -> impl Fn(&str) -> Result<Duration, DurationError> + Clone + Send + Sync + 'static {
    move |text| parse(text, range)
}

/// `1h30m`, `250ms`, `7d`: the shortest spelling the grammar reads back.
pub fn format(d: Duration) -> String {
    if d.is_zero() {
        return "0s".to_string();
    }
    let mut out = String::new();
    let mut secs = d.as_secs();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    let millis = d.subsec_millis();
    if millis > 0 {
        out.push_str(&format!("{millis}ms"));
    }
    out
}

/// As Istio stores a duration (protobuf's JSON form, which Go's duration syntax reads too): `7s`, `0.25s`.
pub fn istio(d: Duration) -> String {
    let millis = d.subsec_millis();
    if millis == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}.{}s", d.as_secs(), format!("{millis:03}").trim_end_matches('0'))
    }
}

/// As Gateway API writes a duration (GEP-2257: hours, minutes, seconds and milliseconds, no days, no
/// fractions): `1h30m`, `250ms`, `1s500ms`.
pub fn gateway_api(d: Duration) -> String {
    if d.is_zero() {
        return "0s".to_string();
    }
    let mut out = String::new();
    let mut secs = d.as_secs();
    for (unit, size) in [("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    if d.subsec_millis() > 0 {
        out.push_str(&format!("{}ms", d.subsec_millis()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANY: Range = Range { min: Duration::ZERO, max: secs(366 * 86_400), resolution: Resolution::Any };

    #[test]
    fn one_grammar_for_flags_and_parameters() {
        for (text, seconds) in [("1h30m", 5_400.0), ("1h 30m", 5_400.0), ("90s", 90.0), ("250ms", 0.25)] {
            assert_eq!(parse(text, ANY), Ok(Duration::from_secs_f64(seconds)), "{text}");
        }
        assert_eq!(parse("2d", ANY), Ok(secs(172_800)));
        assert_eq!(parse("1w", ANY), Ok(secs(604_800)));
        assert_eq!(parse("1.5h", ANY), Ok(secs(5_400)));
        assert_eq!(parse("PT10M", ANY), Ok(secs(600)));
        assert_eq!(parse("30", ANY), Ok(secs(30)), "a bare number is seconds, as kubectl reads it");
    }

    #[test]
    fn refusals_say_why() {
        assert!(matches!(parse("5 parsecs", ANY), Err(DurationError::Malformed { .. })));
        assert!(matches!(parse("", ANY), Err(DurationError::Malformed { .. })));
        assert!(matches!(parse("-5m", ANY), Err(DurationError::Negative { .. })));
        assert!(matches!(parse("1y", ANY), Err(DurationError::Calendar { .. })));
        let err = parse("250ms", WINDOW).unwrap_err();
        assert_eq!(err.to_string(), "\"250ms\" is out of range: from 1m to 366d");
        assert!(matches!(parse("90.5s", WINDOW), Err(DurationError::Fraction { .. })));
        assert_eq!(parse("0s", REQUEST_TIMEOUT).unwrap_err().to_string(), "\"0s\" is out of range: from 1ms to 1h");
        assert_eq!(parse("0", CACHE_TTL), Ok(Duration::ZERO));
    }

    #[test]
    fn formatting_reads_back() {
        for d in [secs(5_400), Duration::from_millis(250), secs(7 * 86_400), secs(61), Duration::ZERO] {
            assert_eq!(parse(&format(d), ANY), Ok(d), "{}", format(d));
        }
        assert_eq!(format(secs(5_400)), "1h30m");
    }
}
