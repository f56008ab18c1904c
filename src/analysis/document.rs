//! The documents the service answers with (and `analyze -o json` prints). Stable: fields may be added, never
//! renamed or removed.
//!
//! A judgement (HTTP 200) is the judge's [`Judgement`] (`verdict`, `reason`, `message`, `canary`, `baseline`,
//! `evidence`) plus `window` (what was looked at) and `queries` (the PromQL that fetched it, to re-run by hand).
//! An error (400, 401, 503) is `{"error": CODE, "field": NAME (400 only), "message": TEXT}`.

use super::window::Window;
use crate::judge::Judgement;
use crate::metrics::latency::Quantiles;
use jiff::Timestamp;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    #[serde(flatten)]
    pub judgement: Judgement,
    pub window: Window,
    pub queries: Vec<QueryRecord>,
    /// Each signal's own judgement, when the latency signal was asked for (absent otherwise, so an
    /// errors-only document is as it always was).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signals: Option<SignalJudgements>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SignalJudgements {
    pub errors: Option<Judgement>,
    pub latency: Option<LatencyJudgement>,
}

/// The latency signal's judgement: its `errors` are the requests slower than `thresholdMs`, its `errorRate`
/// their share; and each arm's p50/p95/p99 in milliseconds over the window, for people to read.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencyJudgement {
    pub threshold_ms: f64,
    #[serde(flatten)]
    pub judgement: Judgement,
    pub canary_latency: Quantiles,
    pub baseline_latency: Quantiles,
}

/// One Prometheus query, with the times it was evaluated at.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryRecord {
    /// `counts` (requests and errors per arm and step) or `unroutable` (client-side 503 UH/NR).
    pub purpose: &'static str,
    pub query: String,
    #[serde(flatten)]
    pub at: QueryTime,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum QueryTime {
    /// `/api/v1/query_range` with these parameters.
    Range {
        start: Timestamp,
        end: Timestamp,
        #[serde(rename = "stepSeconds")]
        step_seconds: i64,
    },
    /// `/api/v1/query` at this time.
    Instant { time: Timestamp },
}

impl QueryRecord {
    /// The range query over `window`'s steps: evaluated at the end of each.
    pub fn range(purpose: &'static str, query: String, window: &Window) -> QueryRecord {
        let first = Timestamp::from_second(window.first_evaluation()).unwrap_or(window.end);
        QueryRecord {
            purpose,
            query,
            at: QueryTime::Range { start: first, end: window.end, step_seconds: window.step_seconds },
        }
    }

    pub fn instant(purpose: &'static str, query: String, time: Timestamp) -> QueryRecord {
        QueryRecord { purpose, query, at: QueryTime::Instant { time } }
    }
}

/// The body of every non-200 answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorDocument {
    pub error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}
