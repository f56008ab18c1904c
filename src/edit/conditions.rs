//! The request conditions a user types for `route` and `fault --header` (`--header end-user=jason`,
//! `--uri /api`, `--cookie user=jason`, `--query beta=1`, `--source-label app=tester`), parsed once into
//! [`Conditions`], and written as one match block of either route API: an Istio `HTTPMatchRequest` or a
//! Gateway API `HTTPRouteMatch`. All conditions of one command hold together (AND), as in one match block.
//!
//! Value forms, one grammar for headers and query parameters: `NAME=VALUE` (exact), `NAME^=PREFIX` and
//! `NAME~=REGEX`. A path is a prefix (`--uri /api`, as Gateway API's default `PathPrefix`), `=/exact` or
//! `~REGEX`.

use super::EditError;
use super::pin::HeaderName;
use serde_json::{Map, Value, json};
use std::fmt;
use std::str::FromStr;

/// How a string is compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Text {
    Exact(String),
    Prefix(String),
    Regex(String),
}

/// One condition on a request (or, for `SourceLabel`, on the calling pod).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    Header {
        name: HeaderName,
        value: Text,
    },
    /// A cookie `NAME=VALUE` in the `cookie` header, matched as Istio's documentation shows (a regex).
    Cookie {
        name: String,
        value: String,
    },
    Uri(Text),
    Query {
        name: String,
        value: Text,
    },
    /// A caller pod label (`sourceLabels`): sidecars only; an HTTPRoute has no such condition.
    SourceLabel {
        key: String,
        value: String,
    },
}

/// The conditions of one match block, in the order given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conditions(pub Vec<Condition>);

/// `--header`/`--query`: `NAME=VALUE`, `NAME^=PREFIX`, `NAME~=REGEX`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    pub name: String,
    pub value: Text,
}

impl FromStr for Pair {
    type Err = String;
    fn from_str(s: &str) -> Result<Pair, String> {
        let (name, value) = s.split_once('=').ok_or_else(|| {
            format!("{s:?} is not NAME=VALUE (also NAME^=PREFIX and NAME~=REGEX; e.g. end-user=jason)")
        })?;
        let (name, value) = match name.char_indices().last() {
            Some((i, '^')) => (&name[..i], Text::Prefix(value.to_string())),
            Some((i, '~')) => (&name[..i], Text::Regex(value.to_string())),
            _ => (name, Text::Exact(value.to_string())),
        };
        if name.is_empty() {
            return Err(format!("{s:?}: the name before '=' is empty"));
        }
        if value.text().is_empty() {
            return Err(format!("{s:?}: the value after '=' is empty"));
        }
        if let Text::Regex(r) = &value {
            check_regex(r)?;
        }
        Ok(Pair { name: name.to_string(), value })
    }
}

/// `--uri`: `/prefix`, `=/exact`, `~REGEX`.
impl FromStr for Text {
    type Err = String;
    fn from_str(s: &str) -> Result<Text, String> {
        let text = match (s.strip_prefix('='), s.strip_prefix('~')) {
            (Some(exact), _) => Text::Exact(exact.to_string()),
            (_, Some(regex)) => {
                check_regex(regex)?;
                return Ok(Text::Regex(regex.to_string()));
            }
            _ => Text::Prefix(s.to_string()),
        };
        if !text.text().starts_with('/') {
            return Err(format!("{s:?}: a path starts with '/' (/api, =/exact/path or ~REGEX)"));
        }
        Ok(text)
    }
}

/// A regex is checked where it is typed: the proxies would refuse the whole configuration later, and the
/// API server does not check it. RE2 (Envoy's) and Rust's regex crate agree on what is valid but
/// lookaround and backreferences, which both refuse.
fn check_regex(r: &str) -> Result<(), String> {
    if r.is_empty() {
        return Err("the regex is empty".into());
    }
    regex::Regex::new(r).map(|_| ()).map_err(|e| format!("{r:?} is not a valid regex: {e}"))
}

impl Text {
    pub fn text(&self) -> &str {
        match self {
            Text::Exact(t) | Text::Prefix(t) | Text::Regex(t) => t,
        }
    }

    /// Istio's StringMatch.
    fn istio(&self) -> Value {
        match self {
            Text::Exact(t) => json!({"exact": t}),
            Text::Prefix(t) => json!({"prefix": t}),
            Text::Regex(t) => json!({"regex": t}),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let op = |t: &Text| match t {
            Text::Exact(v) => format!("={v}"),
            Text::Prefix(v) => format!("^={v}"),
            Text::Regex(v) => format!("~={v}"),
        };
        match self {
            Condition::Header { name, value } => write!(f, "--header {name}{}", op(value)),
            Condition::Cookie { name, value } => write!(f, "--cookie {name}={value}"),
            Condition::Uri(Text::Prefix(p)) => write!(f, "--uri {p}"),
            Condition::Uri(Text::Exact(p)) => write!(f, "--uri ={p}"),
            Condition::Uri(Text::Regex(p)) => write!(f, "--uri ~{p}"),
            Condition::Query { name, value } => write!(f, "--query {name}{}", op(value)),
            Condition::SourceLabel { key, value } => write!(f, "--source-label {key}={value}"),
        }
    }
}

impl fmt::Display for Conditions {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(Condition::to_string).collect();
        f.write_str(&parts.join(" "))
    }
}

/// Characters a regex gives a meaning to, escaped so a cookie's name and value match literally.
fn escape(s: &str) -> String {
    s.chars().fold(String::new(), |mut out, c| {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

fn cookie_regex(name: &str, value: &str) -> String {
    format!("^(.*?;\\s*)?({}={})(;.*)?$", escape(name), escape(value))
}

impl Conditions {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks what can only be seen with all conditions together: one condition per header, query parameter,
    /// label and path (a second would silently replace the first in a match block).
    pub fn validate(&self) -> Result<(), EditError> {
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.0 {
            let key = match c {
                Condition::Header { name, .. } => format!("header {name}"),
                Condition::Cookie { .. } => "header cookie".to_string(),
                Condition::Uri(_) => "--uri".to_string(),
                Condition::Query { name, .. } => format!("query parameter {name}"),
                Condition::SourceLabel { key, .. } => format!("source label {key}"),
            };
            if !seen.insert(key.clone()) {
                return Err(EditError::BadConditions {
                    problem: format!("{key} is given twice: one match block holds one condition per {key}"),
                });
            }
        }
        Ok(())
    }

    /// The Istio `HTTPMatchRequest` these conditions make.
    pub fn istio(&self) -> Value {
        let mut block = Map::new();
        let mut entry = |field: &str, key: &str, value: Value| {
            let map = block.entry(field).or_insert_with(|| json!({}));
            map[key] = value;
        };
        for c in &self.0 {
            match c {
                Condition::Header { name, value } => entry("headers", name.as_str(), value.istio()),
                Condition::Cookie { name, value } => {
                    entry("headers", "cookie", json!({"regex": cookie_regex(name, value)}))
                }
                Condition::Query { name, value } => entry("queryParams", name, value.istio()),
                Condition::SourceLabel { key, value } => entry("sourceLabels", key, json!(value)),
                Condition::Uri(_) => {}
            }
        }
        if let Some(Condition::Uri(path)) = self.0.iter().find(|c| matches!(c, Condition::Uri(_))) {
            block.insert("uri".into(), path.istio());
        }
        Value::Object(block)
    }

    /// The Gateway API `HTTPRouteMatch` these conditions make; a condition it has no field for is refused,
    /// saying which.
    pub fn gateway(&self) -> Result<Value, EditError> {
        let mut block = Map::new();
        let refuse =
            |c: &Condition, why: &str| EditError::NotInGatewayApi { what: c.to_string(), why: why.to_string() };
        let typed = |t: &Text, c: &Condition| match t {
            Text::Exact(v) => Ok(("Exact", v.clone())),
            Text::Regex(v) => Ok(("RegularExpression", v.clone())),
            Text::Prefix(_) => {
                Err(refuse(c, "HTTPRoute header and query matches are Exact or RegularExpression; use ~=^PREFIX"))
            }
        };
        let (mut headers, mut query) = (Vec::new(), Vec::new());
        for c in &self.0 {
            match c {
                Condition::Header { name, value } => {
                    let (kind, v) = typed(value, c)?;
                    headers.push(json!({"type": kind, "name": name.as_str(), "value": v}));
                }
                Condition::Cookie { name, value } => headers
                    .push(json!({"type": "RegularExpression", "name": "cookie", "value": cookie_regex(name, value)})),
                Condition::Query { name, value } => {
                    let (kind, v) = typed(value, c)?;
                    query.push(json!({"type": kind, "name": name, "value": v}));
                }
                Condition::Uri(path) => {
                    let kind = match path {
                        Text::Exact(_) => "Exact",
                        Text::Prefix(_) => "PathPrefix",
                        Text::Regex(_) => "RegularExpression",
                    };
                    block.insert("path".into(), json!({"type": kind, "value": path.text()}));
                }
                Condition::SourceLabel { .. } => {
                    return Err(refuse(
                        c,
                        "an HTTPRoute cannot match on the calling pod; match a header the caller sets",
                    ));
                }
            }
        }
        if !headers.is_empty() {
            block.insert("headers".into(), Value::Array(headers));
        }
        if !query.is_empty() {
            block.insert("queryParams".into(), Value::Array(query));
        }
        Ok(Value::Object(block))
    }

    /// A route name made from the conditions (`vroute-end-user-jason`), a DNS label as both APIs accept.
    pub fn route_name(&self, prefix: &str) -> String {
        let words: Vec<String> = self
            .0
            .iter()
            .map(|c| match c {
                Condition::Header { name, value } => format!("{name}-{}", value.text()),
                Condition::Cookie { name, value } => format!("cookie-{name}-{value}"),
                Condition::Uri(p) => format!("uri-{}", p.text()),
                Condition::Query { name, value } => format!("{name}-{}", value.text()),
                Condition::SourceLabel { key, value } => format!("{key}-{value}"),
            })
            .collect();
        let mut slug = String::new();
        for c in format!("{prefix}-{}", words.join("-")).chars() {
            let c = c.to_ascii_lowercase();
            let c = if c.is_ascii_alphanumeric() { c } else { '-' };
            if !(c == '-' && slug.ends_with('-')) {
                slug.push(c);
            }
        }
        slug.truncate(63);
        slug.trim_end_matches('-').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> Condition {
        let p: Pair = s.parse().unwrap();
        Condition::Header { name: p.name.parse().unwrap(), value: p.value }
    }

    #[test]
    fn pairs_read_exact_prefix_and_regex_and_refuse_what_is_not_one() {
        assert_eq!("end-user=jason".parse::<Pair>().unwrap().value, Text::Exact("jason".into()));
        assert_eq!("end-user^=ja".parse::<Pair>().unwrap().value, Text::Prefix("ja".into()));
        let regex = "end-user~=j.*n".parse::<Pair>().unwrap();
        assert_eq!((regex.name.as_str(), regex.value), ("end-user", Text::Regex("j.*n".into())));
        assert_eq!("a=b=c".parse::<Pair>().unwrap().value, Text::Exact("b=c".into()));
        for bad in ["end-user", "=jason", "end-user=", "x~=(", "^=v"] {
            assert!(bad.parse::<Pair>().is_err(), "{bad}");
        }
        assert!("x~=(".parse::<Pair>().unwrap_err().contains("not a valid regex"));
    }

    #[test]
    fn paths_are_prefixes_unless_marked_exact_or_regex() {
        assert_eq!("/api".parse::<Text>().unwrap(), Text::Prefix("/api".into()));
        assert_eq!("=/api/v2".parse::<Text>().unwrap(), Text::Exact("/api/v2".into()));
        assert_eq!("~/api/v[0-9]+".parse::<Text>().unwrap(), Text::Regex("/api/v[0-9]+".into()));
        assert!("api".parse::<Text>().unwrap_err().contains("starts with '/'"));
    }

    #[test]
    fn one_block_in_istio_form() {
        let conditions = Conditions(vec![
            header("end-user=jason"),
            Condition::Uri(Text::Prefix("/reviews".into())),
            Condition::Query { name: "beta".into(), value: Text::Exact("1".into()) },
            Condition::SourceLabel { key: "app".into(), value: "productpage".into() },
        ]);
        assert_eq!(
            conditions.istio(),
            json!({"headers": {"end-user": {"exact": "jason"}}, "uri": {"prefix": "/reviews"},
                   "queryParams": {"beta": {"exact": "1"}}, "sourceLabels": {"app": "productpage"}})
        );
        assert_eq!(
            conditions.to_string(),
            "--header end-user=jason --uri /reviews --query beta=1 --source-label app=productpage"
        );
    }

    #[test]
    fn a_cookie_matches_literally_inside_the_cookie_header() {
        let block = Conditions(vec![Condition::Cookie { name: "user".into(), value: "j.s".into() }]).istio();
        let regex = block["headers"]["cookie"]["regex"].as_str().unwrap();
        let re = regex::Regex::new(regex).unwrap();
        assert!(re.is_match("user=j.s"));
        assert!(re.is_match("a=1; user=j.s; b=2"));
        assert!(!re.is_match("user=jxs"), "the dot is literal");
        assert!(!re.is_match("xuser=j.s"));
    }

    #[test]
    fn gateway_form_maps_what_it_has_and_refuses_the_rest() {
        let conditions = Conditions(vec![header("end-user=jason"), Condition::Uri(Text::Exact("/r".into()))]);
        assert_eq!(
            conditions.gateway().unwrap(),
            json!({"path": {"type": "Exact", "value": "/r"},
                   "headers": [{"type": "Exact", "name": "end-user", "value": "jason"}]})
        );
        let prefix = Conditions(vec![header("end-user^=ja")]).gateway().unwrap_err().to_string();
        assert!(prefix.contains("Exact or RegularExpression"), "{prefix}");
        let label = Conditions(vec![Condition::SourceLabel { key: "app".into(), value: "a".into() }]);
        assert!(label.gateway().unwrap_err().to_string().contains("cannot match on the calling pod"));
    }

    #[test]
    fn a_condition_twice_is_refused_and_names_are_dns_labels() {
        let twice = Conditions(vec![header("end-user=jason"), header("end-user=bob")]);
        assert!(twice.validate().unwrap_err().to_string().contains("header end-user is given twice"));
        let name = Conditions(vec![header("end-user=Jason.Smith"), Condition::Uri(Text::Prefix("/api/".into()))])
            .route_name("vroute");
        assert_eq!(name, "vroute-end-user-jason-smith-uri-api");
        assert!(crate::names::is_dns_label(&name));
    }
}
