//! Match blocks rendered for people: `from app=a,version=v2 | header end-user=jason uri^=/api`.

use super::objects::HttpMatch;
use serde_json::Value;

/// `*` for "every request"; blocks (alternatives) are joined with ` | `.
pub fn summary(raw: &[Value]) -> String {
    if raw.is_empty() {
        return "*".to_string();
    }
    let blocks: Vec<String> = raw.iter().map(|b| block(&HttpMatch::parse(b))).collect();
    blocks.join(" | ")
}

fn block(m: &HttpMatch) -> String {
    let mut parts = Vec::new();
    if !m.source_labels.is_empty() {
        let labels: Vec<String> = m.source_labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parts.push(format!("from {}", labels.join(",")));
    }
    if let Some(ns) = &m.source_namespace {
        parts.push(format!("from-ns {ns}"));
    }
    for (name, value) in &m.headers {
        parts.push(format!("header {name}{value}"));
    }
    for (name, value) in &m.without_headers {
        parts.push(format!("!header {name}{value}"));
    }
    if let Some(uri) = &m.uri {
        parts.push(format!("uri{uri}"));
    }
    if let Some(method) = &m.method {
        parts.push(format!("method{method}"));
    }
    if let Some(authority) = &m.authority {
        parts.push(format!("authority{authority}"));
    }
    if let Some(scheme) = &m.scheme {
        parts.push(format!("scheme{scheme}"));
    }
    for (name, value) in &m.query_params {
        parts.push(format!("query {name}{value}"));
    }
    if let Some(port) = m.port {
        parts.push(format!("port {port}"));
    }
    if !m.gateways.is_empty() {
        parts.push(format!("gateway {}", m.gateways.join(",")));
    }
    if parts.is_empty() { "*".to_string() } else { parts.join(" ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_source_labels_headers_and_uri() {
        let raw = vec![
            json!({"sourceLabels": {"version": "v2", "app": "a"}}),
            json!({"headers": {"end-user": {"exact": "jason"}}, "uri": {"prefix": "/api"}}),
        ];
        assert_eq!(summary(&raw), "from app=a,version=v2 | header end-user=jason uri^=/api");
        assert_eq!(summary(&[]), "*");
        assert_eq!(summary(&[json!({"sourceNamespace": "prod", "gateways": ["mesh"]})]), "from-ns prod gateway mesh");
    }
}
