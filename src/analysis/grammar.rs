//! Durations in request values. Name grammars live in [`crate::names`], shared with the route edits.

/// A duration as Prometheus writes them: one or more `<integer><unit>` with units `s`, `m`, `h`, `d`
/// (`90s`, `10m`, `1h30m`). Returns whole seconds; `None` when malformed, zero or absurdly large.
pub fn parse_duration(text: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 || digits > 9 {
            return None;
        }
        let number: i64 = rest[..digits].parse().ok()?;
        let unit = match rest[digits..].chars().next()? {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => return None,
        };
        total = total.checked_add(number.checked_mul(unit)?)?;
        rest = &rest[digits + 1..];
    }
    (total > 0).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_prometheus_style() {
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("10m"), Some(600));
        assert_eq!(parse_duration("1h30m"), Some(5_400));
        assert_eq!(parse_duration("2d"), Some(172_800));
        for bad in ["", "10", "m", "-5m", "5 m", "0s", "1.5h", "10ms", "9999999999s", "5m0"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
