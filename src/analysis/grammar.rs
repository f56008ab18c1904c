//! The grammars request values must follow: Kubernetes names and label values, and durations. Checked before
//! anything else looks at a value, so a value that reaches a query or a URL is one Kubernetes itself accepts.

/// A Kubernetes label value: at most 63 characters, alphanumerics with `-`, `_`, `.` inside, alphanumeric at both
/// ends. Kubernetes also allows the empty value; here it means "not given", since a matcher on an empty value
/// selects every series that lacks the label.
pub fn is_label_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    bytes.len() <= 63
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b))
}

/// An RFC 1123 label (namespace and Service names): at most 63 lowercase alphanumerics or `-`, alphanumeric at
/// both ends.
pub fn is_dns_label(value: &str) -> bool {
    let bytes = value.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    bytes.len() <= 63 && alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-')
}

/// An RFC 1123 subdomain (most object names, and FQDNs): dot-separated labels, at most 253 characters.
pub fn is_dns_subdomain(value: &str) -> bool {
    value.len() <= 253 && value.split('.').all(is_dns_label)
}

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
    fn label_values_follow_the_kubernetes_grammar() {
        for ok in ["v1", "V2", "1.2.3", "canary_v2-rc.1", &"a".repeat(63)] {
            assert!(is_label_value(ok), "{ok}");
        }
        for bad in ["", "-v1", "v1.", r#"v1"} or vector(1) #"#, "v1|v2", "v.*", "v 1", "ü", &"a".repeat(64)] {
            assert!(!is_label_value(bad), "{bad}");
        }
    }

    #[test]
    fn names_follow_rfc_1123() {
        assert!(is_dns_label("shop-1") && is_dns_label("a"));
        for bad in ["", "Shop", "-a", "a-", "a.b", "a_b", &"a".repeat(64)] {
            assert!(!is_dns_label(bad), "{bad}");
        }
        assert!(is_dns_subdomain("reviews.shop.svc.cluster.local"));
        for bad in ["reviews..shop", ".reviews", "reviews.", "Reviews.shop", "a/b"] {
            assert!(!is_dns_subdomain(bad), "{bad}");
        }
    }

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
