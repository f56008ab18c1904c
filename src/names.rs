//! Kubernetes name grammars (label values, RFC 1123 labels and subdomains): one definition for every place
//! that checks user input before it reaches a query, a URL or an object.

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
}
