//! The dashboard's state document: what `GET /api/state` answers and every server-sent `state` event carries.
//! It holds the `graph -o json` and `status -o json` documents and the `graph -o svg` drawing of one read,
//! unchanged (one model, several views): the page draws nothing the CLI would not show.

use serde::Serialize;
use serde_json::value::{RawValue, to_raw_value};

/// The views of the last successful read, serialized once and shared by every open page.
pub struct Views {
    graph: Box<RawValue>,
    status: Box<RawValue>,
    svg: Box<RawValue>,
}

impl Views {
    pub fn of(graph: &impl Serialize, status: &impl Serialize, svg: &str) -> serde_json::Result<Views> {
        Ok(Views { graph: to_raw_value(graph)?, status: to_raw_value(status)?, svg: to_raw_value(svg)? })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct State<'a> {
    /// How many reads the dashboard has made (each refresh is one, whoever is looking).
    pub generation: u64,
    /// When this read was made (RFC 3339).
    pub read_at: &'a str,
    /// What is shown: `namespace demo`, `all namespaces`, `service reviews.prod`.
    pub scope: &'a str,
    /// How often calls are read again (`10s`); routes and pods are redrawn as soon as they change.
    pub interval: &'a str,
    /// Why the last read failed (absent when it did not); the views are then those of the last good read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    /// The `graph -o json` document (absent until a read succeeded).
    pub graph: Option<&'a RawValue>,
    /// The `status -o json` document.
    pub status: Option<&'a RawValue>,
    /// The `graph -o svg` drawing, as a string.
    pub svg: Option<&'a RawValue>,
}

impl<'a> State<'a> {
    pub fn new(generation: u64, read_at: &'a str, scope: &'a str, interval: &'a str) -> Self {
        State { generation, read_at, scope, interval, error: None, graph: None, status: None, svg: None }
    }

    pub fn with(mut self, views: Option<&'a Views>, error: Option<&'a str>) -> Self {
        self.error = error;
        if let Some(v) = views {
            (self.graph, self.status, self.svg) = (Some(&*v.graph), Some(&*v.status), Some(&*v.svg));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_failed_read_keeps_the_last_views_and_says_why() {
        let views = Views::of(&json!({"calls": []}), &json!({"services": []}), "<svg/>").unwrap();
        let state = State::new(7, "2026-12-02T22:00:00Z", "namespace demo", "10s")
            .with(Some(&views), Some("the API server did not answer"));
        let doc: serde_json::Value = serde_json::to_value(&state).unwrap();
        assert_eq!(
            doc,
            json!({
                "generation": 7, "readAt": "2026-12-02T22:00:00Z", "scope": "namespace demo", "interval": "10s",
                "error": "the API server did not answer",
                "graph": {"calls": []}, "status": {"services": []}, "svg": "<svg/>"
            })
        );
        let first = serde_json::to_value(State::new(1, "t", "all namespaces", "10s").with(None, Some("x"))).unwrap();
        assert!(first["graph"].is_null() && first["svg"].is_null());
    }
}
