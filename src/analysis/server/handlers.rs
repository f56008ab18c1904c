//! The HTTP handlers. They translate only: parameters in, [`pipeline::analyze`] (through the coalescer), status
//! code and JSON out. What each status means is decided in [`crate::analysis::error`].

use super::telemetry::Telemetry;
use crate::analysis::coalesce::Coalescer;
use crate::analysis::document::ErrorDocument;
use crate::analysis::error::{AnalysisError, ErrorKind, RequestError};
use crate::analysis::flagger::{self, Hook};
use crate::analysis::input::RawParams;
use crate::analysis::pipeline::{self, Sources};
use crate::analysis::request::{Request, RequestKey};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State as Extract};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use std::sync::Arc;
use std::time::Instant;

pub struct State {
    pub sources: Sources,
    pub token: Option<String>,
    pub coalescer: Coalescer<RequestKey, Answer>,
    pub telemetry: Arc<Telemetry>,
}

type Shared = Extract<Arc<State>>;
type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// A finished answer, cheap to clone for every request that shares it.
#[derive(Clone)]
pub struct Answer {
    status: StatusCode,
    body: Bytes,
    verdict: Option<crate::judge::Verdict>,
}

impl Answer {
    fn error(kind: ErrorKind, field: Option<String>, message: String) -> Answer {
        let status = StatusCode::from_u16(kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Answer { status, body: json(&ErrorDocument { error: kind.code(), field, message }), verdict: None }
    }

    fn failed(e: &AnalysisError) -> Answer {
        Answer::error(e.kind(), e.field().map(str::to_string), e.to_string())
    }

    fn bad_request(e: RequestError) -> Answer {
        Answer::error(ErrorKind::BadRequest, Some(e.field.clone()), e.to_string())
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        json_response(self.status, self.body)
    }
}

pub async fn judge_get(Extract(state): Shared, headers: HeaderMap, query: Pairs) -> Response {
    judge(state, &headers, pairs(query)).await
}

/// POST and PUT: parameters in a JSON body (Argo's `jsonBody`), and possibly in the URL too (only there, when
/// the body is empty).
pub async fn judge_body(
    Extract(state): Shared,
    headers: HeaderMap,
    query: Pairs,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let params = match body {
        Ok(body) if body.trim_ascii().is_empty() => pairs(query),
        Ok(body) => pairs(query).and_then(|url| url.merge(RawParams::from_json(&body)?)),
        Err(e) => Err(RequestError::new("body", e.body_text())),
    };
    judge(state, &headers, params).await
}

fn pairs(query: Pairs) -> Result<RawParams, RequestError> {
    let Query(pairs) = query.map_err(|e| RequestError::new("query", e.body_text()))?;
    RawParams::from_pairs(pairs)
}

/// Flagger's `confirm-promotion` and `rollback` webhooks: the same judgement, its verdict as the status code
/// Flagger reads (see [`crate::analysis::flagger`]).
pub async fn flagger(
    Extract(state): Shared,
    Path(hook): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(hook) = Hook::parse(&hook) else {
        let message = format!("no Flagger hook {hook:?}: vroute-analysis answers confirm-promotion and rollback");
        return json_response(StatusCode::NOT_FOUND, json(&ErrorDocument { error: "not-found", field: None, message }));
    };
    let params = body.map_err(|e| RequestError::new("body", e.body_text())).and_then(|b| flagger::params(&b));
    let mut response = judge(state, &headers, params).await;
    if response.status() == StatusCode::OK {
        let holds = response.extensions().get::<Judged>().is_some_and(|v| hook.holds(v.0));
        if !holds {
            *response.status_mut() = StatusCode::PRECONDITION_FAILED;
        }
    }
    response
}

/// The verdict of a 200 answer, for the Flagger hooks to map.
#[derive(Clone, Copy)]
struct Judged(crate::judge::Verdict);

async fn judge(state: Arc<State>, headers: &HeaderMap, params: Result<RawParams, RequestError>) -> Response {
    if !authorized(state.token.as_deref(), headers) {
        state.telemetry.request(StatusCode::UNAUTHORIZED.as_u16(), None);
        let body = json(&ErrorDocument {
            error: "unauthorized",
            field: None,
            message: "missing or wrong bearer token (Authorization: Bearer ...)".into(),
        });
        let mut response = json_response(StatusCode::UNAUTHORIZED, body);
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    let answer = match params.and_then(|raw| Request::parse(&raw)) {
        Err(e) => Answer::bad_request(e),
        Ok(request) => {
            let worker = state.clone();
            let (answer, source) = state
                .coalescer
                .get(request.key(), |a: &Answer| a.status == StatusCode::OK, move || compute(request, worker))
                .await;
            state.telemetry.answer(source);
            tracing::debug!(source = source.as_str(), "judge request answered");
            answer.unwrap_or_else(|| Answer::error(ErrorKind::Internal, None, "the analysis panicked".into()))
        }
    };
    if answer.status == StatusCode::BAD_REQUEST {
        tracing::info!(status = 400, body = %String::from_utf8_lossy(&answer.body), "bad judge request");
    }
    state.telemetry.request(answer.status.as_u16(), answer.verdict.map(|v| v.as_str()));
    let verdict = answer.verdict;
    let mut response = answer.into_response();
    if let Some(v) = verdict {
        response.extensions_mut().insert(Judged(v));
    }
    response
}

/// An arm's value as judged: as asked, else as read from the Rollout.
fn arm<'a>(asked: &'a Option<String>, found: Option<&'a String>) -> &'a str {
    asked.as_ref().or(found).map_or("-", String::as_str)
}

/// One real analysis; logged once, however many requests share it.
async fn compute(request: Request, state: Arc<State>) -> Answer {
    let started = Instant::now();
    match pipeline::analyze(&request, &state.sources, Timestamp::now()).await {
        Ok(analysis) => {
            let j = &analysis.judgement;
            tracing::info!(
                namespace = %request.namespace,
                service = %request.service,
                canary = arm(&request.canary, analysis.window.rollout.as_ref().and_then(|r| r.canary_value.as_ref())),
                baseline = arm(&request.baseline, analysis.window.rollout.as_ref().and_then(|r| r.baseline_value.as_ref())),
                verdict = j.verdict.as_str(),
                reason = j.reason.code(),
                canary_requests = j.canary.requests,
                canary_errors = j.canary.errors,
                baseline_requests = j.baseline.requests,
                baseline_errors = j.baseline.errors,
                steps = analysis.window.steps,
                elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                "judged"
            );
            Answer { status: StatusCode::OK, body: json(&analysis), verdict: Some(j.verdict) }
        }
        Err(e) => {
            tracing::warn!(
                namespace = %request.namespace,
                service = %request.service,
                error = %e,
                kind = e.kind().code(),
                elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                "no judgement"
            );
            Answer::failed(&e)
        }
    }
}

/// How much of a guess matched, and how long the token is, must not show in the response time: the digests
/// of both (always 32 bytes) are compared in constant time.
fn authorized(token: Option<&str>, headers: &HeaderMap) -> bool {
    let Some(token) = token else {
        return true;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, value)| value.trim().as_bytes())
        .unwrap_or_default();
    use subtle::ConstantTimeEq;
    let digest = |bytes: &[u8]| ring::digest::digest(&ring::digest::SHA256, bytes);
    digest(given).as_ref().ct_eq(digest(token.as_bytes()).as_ref()).into()
}

pub async fn healthz() -> Response {
    json_response(StatusCode::OK, Bytes::from_static(br#"{"status":"ok"}"#))
}

/// Ready when Prometheus answers a trivial query: without it every judgement would be a 503.
pub async fn readyz(Extract(state): Shared) -> Response {
    match state.sources.prometheus.instant("vector(1)", None).await {
        Ok(_) => json_response(StatusCode::OK, Bytes::from_static(br#"{"status":"ready"}"#)),
        Err(e) => Answer::error(ErrorKind::PrometheusUnavailable, None, e.to_string()).into_response(),
    }
}

pub async fn metrics(Extract(state): Shared) -> Response {
    let mut response = state.telemetry.render().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    response
}

pub async fn not_found(uri: Uri) -> Response {
    let body = json(&ErrorDocument {
        error: "not-found",
        field: None,
        message: format!(
            "no such path {}; the judge is at /v1/judge (Flagger: /v1/flagger/confirm-promotion, /v1/flagger/rollback)",
            uri.path()
        ),
    });
    json_response(StatusCode::NOT_FOUND, body)
}

fn json<T: serde::Serialize>(value: &T) -> Bytes {
    // The documents are plain structs of strings and finite numbers: serializing them cannot fail.
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

fn json_response(status: StatusCode, body: Bytes) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn bearer_tokens_must_match_exactly() {
        assert!(authorized(None, &HeaderMap::new()));
        assert!(authorized(Some("s3cret"), &with_auth("Bearer s3cret")));
        assert!(authorized(Some("s3cret"), &with_auth("bearer s3cret")));
        for wrong in ["Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "s3cret", "Bearer "] {
            assert!(!authorized(Some("s3cret"), &with_auth(wrong)), "{wrong}");
        }
        assert!(!authorized(Some("s3cret"), &HeaderMap::new()));
    }
}
