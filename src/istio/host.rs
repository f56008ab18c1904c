//! Istio host names: short-name resolution, matching and visibility (`exportTo`).

/// Resolves a host written in an Istio object living in `namespace`, exactly as Istio does: a name without
/// a dot is short for `<name>.<namespace>.svc.<domain>`; anything with a dot (including `reviews.prod`) is
/// taken literally, and so are `*` and IP addresses.
pub fn resolve(host: &str, namespace: &str, domain: &str) -> String {
    if host == "*" || host.contains('.') || host.parse::<std::net::IpAddr>().is_ok() {
        host.to_string()
    } else {
        format!("{host}.{namespace}.svc.{domain}")
    }
}

/// Resolves a host typed by a user on the command line, where every Kubernetes form is welcome:
/// `reviews`, `reviews.prod`, `reviews.prod.svc` and `reviews.prod.svc.cluster.local`. Other dotted names
/// (`shop.example.com`) are taken literally.
pub fn resolve_user(input: &str, namespace: &str, domain: &str) -> String {
    let input = input.trim_end_matches('.');
    let parts: Vec<&str> = input.split('.').collect();
    match parts.as_slice() {
        [name] => format!("{name}.{namespace}.svc.{domain}"),
        [name, ns] if !looks_like_domain(ns) => format!("{name}.{ns}.svc.{domain}"),
        [name, ns, "svc"] => format!("{name}.{ns}.svc.{domain}"),
        _ => input.to_string(),
    }
}

/// `example.com`: a second label that is a common top-level domain is not a namespace.
fn looks_like_domain(label: &str) -> bool {
    matches!(label, "com" | "org" | "net" | "io" | "dev" | "local" | "internal")
}

/// The `(name, namespace)` of a Kubernetes Service host `<name>.<namespace>.svc.<domain>`.
pub fn service_of(host: &str, domain: &str) -> Option<(String, String)> {
    let rest = host.strip_suffix(domain)?.strip_suffix(".svc.")?;
    let (name, ns) = rest.split_once('.')?;
    (!name.is_empty() && !ns.is_empty() && !ns.contains('.') && !name.contains('*'))
        .then(|| (name.to_string(), ns.to_string()))
}

/// The shortest unambiguous way to print a resolved host: `reviews.prod` for Service hosts.
pub fn short(host: &str, domain: &str) -> String {
    match service_of(host, domain) {
        Some((name, ns)) => format!("{name}.{ns}"),
        None => host.to_string(),
    }
}

/// How findings name the object behind a host: `Service/<namespace>/<name>`, or `Host/<host>`.
pub fn object(host: &str, domain: &str) -> String {
    match service_of(host, domain) {
        Some((name, ns)) => format!("Service/{ns}/{name}"),
        None => format!("Host/{host}"),
    }
}

/// Whether a (possibly wildcard) host pattern from a VirtualService or DestinationRule covers `host`.
pub fn matches(pattern: &str, host: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_prefix('*') {
        Some(suffix) => host.ends_with(suffix) && host.len() > suffix.len(),
        None => pattern == host,
    }
}

/// Whether an object in `owner_ns` with this `exportTo` list applies to clients in `client_ns`. An empty
/// list means the mesh default, which is "everywhere".
pub fn visible(export_to: &[String], owner_ns: &str, client_ns: &str) -> bool {
    export_to.is_empty() || export_to.iter().any(|e| e == "*" || (e == "." && owner_ns == client_ns) || e == client_ns)
}

#[cfg(test)]
mod tests {
    use super::*;
    const D: &str = "cluster.local";

    #[test]
    fn istio_expands_only_dotless_short_names() {
        assert_eq!(resolve("reviews", "prod", D), "reviews.prod.svc.cluster.local");
        assert_eq!(resolve("reviews.prod", "shop", D), "reviews.prod");
        assert_eq!(resolve("reviews.prod.svc.cluster.local", "x", D), "reviews.prod.svc.cluster.local");
        assert_eq!(resolve("*", "x", D), "*");
        assert_eq!(resolve("10.0.0.1", "x", D), "10.0.0.1");
    }

    #[test]
    fn users_may_type_any_kubernetes_form() {
        for input in ["reviews", "reviews.prod", "reviews.prod.svc", "reviews.prod.svc.cluster.local"] {
            assert_eq!(resolve_user(input, "prod", D), "reviews.prod.svc.cluster.local", "{input}");
        }
        assert_eq!(resolve_user("shop.example.com", "prod", D), "shop.example.com");
        assert_eq!(resolve_user("example.com", "prod", D), "example.com");
    }

    #[test]
    fn service_hosts_split_into_name_and_namespace() {
        assert_eq!(service_of("reviews.prod.svc.cluster.local", D), Some(("reviews".into(), "prod".into())));
        assert_eq!(service_of("shop.example.com", D), None);
        assert_eq!(service_of("*.prod.svc.cluster.local", D), None);
        assert_eq!(short("reviews.prod.svc.cluster.local", D), "reviews.prod");
    }

    #[test]
    fn wildcards_cover_suffixes_only() {
        assert!(matches("*.prod.svc.cluster.local", "reviews.prod.svc.cluster.local"));
        assert!(!matches("*.prod.svc.cluster.local", "reviews.stage.svc.cluster.local"));
        assert!(matches("*", "anything"));
        assert!(!matches("reviews.prod.svc.cluster.local", "ratings.prod.svc.cluster.local"));
    }

    #[test]
    fn export_to_limits_visibility() {
        assert!(visible(&[], "a", "b"));
        assert!(visible(&[".".into()], "a", "a"));
        assert!(!visible(&[".".into()], "a", "b"));
        assert!(visible(&["b".into()], "a", "b"));
        assert!(visible(&["*".into()], "a", "b"));
    }
}
