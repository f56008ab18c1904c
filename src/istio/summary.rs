//! Match blocks rendered for people: `from app=a,version=v2 | header end-user=jason uri^=/api` (the
//! `matchSummary` of `status -o json`).

use super::objects::{AsWritten, HttpMatch, StringMatch};
use std::fmt;

/// `*` for "every request"; blocks (alternatives) are joined with ` | `.
pub fn summary(blocks: &[AsWritten<HttpMatch>]) -> String {
    if blocks.is_empty() {
        return "*".to_string();
    }
    let blocks: Vec<String> = blocks.iter().map(|b| block(&b.typed)).collect();
    blocks.join(" | ")
}

impl fmt::Display for StringMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.exact, &self.prefix, &self.regex) {
            (Some(v), _, _) => write!(f, "={v}"),
            (_, Some(v), _) => write!(f, "^={v}"),
            (_, _, Some(v)) => write!(f, "~={v}"),
            // `{}` on a header means "present with any value".
            _ => write!(f, " present"),
        }
    }
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
    use crate::objects::parse::from_value;
    use serde_json::json;

    #[test]
    fn renders_source_labels_headers_and_uri() {
        let blocks: Vec<AsWritten<HttpMatch>> = from_value(&json!([
            {"sourceLabels": {"version": "v2", "app": "a"}},
            {"headers": {"end-user": {"exact": "jason"}}, "uri": {"prefix": "/api"}}
        ]))
        .unwrap();
        assert_eq!(summary(&blocks), "from app=a,version=v2 | header end-user=jason uri^=/api");
        assert_eq!(summary(&[]), "*");
        let gateway: Vec<AsWritten<HttpMatch>> =
            from_value(&json!([{"sourceNamespace": "prod", "gateways": ["mesh"]}])).unwrap();
        assert_eq!(summary(&gateway), "from-ns prod gateway mesh");
    }
}
