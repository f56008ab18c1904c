//! A judgement request, validated: every field checked against its grammar or range, so nothing a caller sends
//! can change the shape of a query, and every refusal names the parameter.

use super::error::RequestError;
use super::input::RawParams;
use crate::duration;
use crate::judge::Params;
use crate::metrics::canary::{ArmLabel, Canary, Reporter};
use crate::names::{is_dns_label, is_dns_subdomain, is_label_value};
use jiff::Timestamp;

/// The parameter names, as the HTTP contract spells them.
pub const FIELDS: [&str; 17] = [
    "namespace",
    "service",
    "canary",
    "baseline",
    "label",
    "since",
    "window",
    "rollout",
    "step",
    "reporter",
    "maxErrorRate",
    "margin",
    "passMargin",
    "alpha",
    "signals",
    "latencyThreshold",
    "maxSlowShare",
];

/// Without `since`, `window` or `rollout`: the last ten minutes.
pub const DEFAULT_WINDOW_SECONDS: i64 = 600;
/// The longest `window`, and the oldest `since`: beyond a year a request is a mistake, not an analysis.
pub const MAX_PERIOD_SECONDS: i64 = duration::WINDOW.max.as_secs() as i64;

/// Where the analysis starts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Period {
    /// A fixed start: every look extends the same window, as the sequential test needs.
    Since(Timestamp),
    /// The last N seconds. Each look judges a different window, so the judge's "valid however often it is
    /// asked" guarantee holds per look, not over a whole analysis: prefer `since` or `rollout`.
    Window(i64),
    /// A fixed start found in the cluster: the creation of the Rollout's current ReplicaSet.
    Rollout(String),
}

/// Without `step`: one minute, whatever Prometheus scrape interval a mesh uses (Istio's default is 15 s).
pub const DEFAULT_STEP_SECONDS: i64 = 60;

#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub namespace: String,
    /// A Service name in `namespace`, or the FQDN Istio reports as `destination_service`.
    pub service: String,
    /// The arms' values of `label`; with `rollout=NAME` either may be left out, and is then read from the
    /// Rollout's canary or stable pod template.
    pub canary: Option<String>,
    pub baseline: Option<String>,
    pub label: ArmLabel,
    pub period: Period,
    /// The length of one step of the sequential test (each step is one look's worth of counts).
    pub step_seconds: i64,
    pub reporter: Reporter,
    pub params: Params,
    /// What is judged: the error share, and (with a threshold) the share of requests slower than it.
    pub signals: Signals,
}

/// `signals=errors` (the default), `signals=latency`, `signals=errors,latency`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Signals {
    pub errors: bool,
    pub latency: Option<Latency>,
}

/// The latency signal: the share of requests slower than `threshold_ms` (a bucket bound of Istio's
/// `istio_request_duration_milliseconds` histogram), judged as the error share is; `max_slow_share` is its
/// ceiling, as `maxErrorRate` is the error share's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Latency {
    pub threshold_ms: f64,
    pub max_slow_share: f64,
}

impl Default for Signals {
    fn default() -> Self {
        Signals { errors: true, latency: None }
    }
}

impl Signals {
    /// How many verdicts share `alpha` (each signal's tests get `alpha / count`, so that the combined
    /// verdict's false-fail rate stays at or below `alpha`: a union bound).
    pub fn count(&self) -> usize {
        usize::from(self.errors) + usize::from(self.latency.is_some())
    }
}

/// The default latency ceiling: a canary with more than half its requests slower than the threshold fails
/// whatever its baseline does (a threshold most of the baseline's requests exceed is itself a mistake).
pub const DEFAULT_MAX_SLOW_SHARE: f64 = 0.5;

/// Two requests with equal keys ask exactly the same question (numbers compared by value, so `0.05` and `5e-2`
/// are one request): they may share one Prometheus round trip and one answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestKey(String);

impl Request {
    pub fn parse(raw: &RawParams) -> Result<Request, RequestError> {
        if let Some(name) = raw.unknown(&FIELDS) {
            return Err(RequestError::new(name, format!("unknown parameter; known: {}", FIELDS.join(", "))));
        }
        let namespace = required(raw, "namespace")?;
        if !is_dns_label(namespace) {
            return Err(RequestError::new("namespace", "must be a Kubernetes namespace name (RFC 1123 label)"));
        }
        let service = required(raw, "service")?;
        check_service(service, namespace)?;
        let period = period(raw)?;
        let from_rollout = matches!(period, Period::Rollout(_));
        let canary = label_value(raw, "canary", from_rollout)?;
        let baseline = label_value(raw, "baseline", from_rollout)?;
        if canary.is_some() && canary == baseline {
            return Err(RequestError::new("baseline", "must differ from canary"));
        }
        let step_seconds = match raw.get("step") {
            None => DEFAULT_STEP_SECONDS,
            Some(text) => duration::parse(text, duration::STEP)
                .map_err(|e| RequestError::new("step", e.to_string()))?
                .as_secs() as i64,
        };
        let request = Request {
            namespace: namespace.to_string(),
            service: service.to_string(),
            canary: canary.map(str::to_string),
            baseline: baseline.map(str::to_string),
            label: one_of(raw, "label", &ArmLabel::ALL, |l| l.as_str())?,
            period,
            step_seconds,
            reporter: one_of(raw, "reporter", &Reporter::ALL, |r| r.as_str())?,
            params: params(raw)?,
            signals: signals(raw)?,
        };
        Ok(request)
    }

    pub fn key(&self) -> RequestKey {
        let period = match &self.period {
            Period::Since(t) => format!("since={}", t.as_second()),
            Period::Window(seconds) => format!("window={seconds}"),
            Period::Rollout(name) => format!("rollout={name}"),
        };
        let p = &self.params;
        // Every part is validated, so none contains a NUL: the parts cannot run into each other.
        let signals = match self.signals.latency {
            Some(l) => format!(
                "{}+latency:{:x}:{:x}",
                self.signals.errors,
                l.threshold_ms.to_bits(),
                l.max_slow_share.to_bits()
            ),
            None => "errors".to_string(),
        };
        RequestKey(format!(
            "{}\0{}\0{}\0{}\0{}\0{period}\0{}\0{}\0{:x}\0{:x}\0{:x}\0{:x}\0{signals}",
            self.namespace,
            self.service,
            self.canary.as_deref().unwrap_or("-"),
            self.baseline.as_deref().unwrap_or("-"),
            self.label.as_str(),
            self.step_seconds,
            self.reporter.as_str(),
            p.alpha.to_bits(),
            p.margin.to_bits(),
            p.pass_margin.to_bits(),
            p.max_error_rate.to_bits(),
        ))
    }

    /// The query-level view of this request, once the arms' values are known.
    pub fn canary<'a>(&'a self, canary: &'a str, baseline: &'a str) -> Canary<'a> {
        Canary {
            namespace: &self.namespace,
            service: &self.service,
            label: self.label,
            canary,
            baseline,
            reporter: self.reporter,
        }
    }
}

/// `signals`, `latencyThreshold` (milliseconds) and `maxSlowShare`: a threshold only with the latency signal,
/// and required by it.
fn signals(raw: &RawParams) -> Result<Signals, RequestError> {
    let mut signals = Signals { errors: false, latency: None };
    let listed = raw.get("signals").unwrap_or("errors");
    let mut latency = false;
    for name in listed.split(',').map(str::trim) {
        match name {
            "errors" => signals.errors = true,
            "latency" => latency = true,
            other => {
                return Err(RequestError::new(
                    "signals",
                    format!("{other:?} is not a signal: give errors, latency or errors,latency"),
                ));
            }
        }
    }
    let number = |field: &str| -> Result<Option<f64>, RequestError> {
        raw.get(field)
            .map(|text| {
                text.trim().parse::<f64>().map_err(|_| RequestError::new(field, format!("{text:?} is not a number")))
            })
            .transpose()
    };
    let threshold = number("latencyThreshold")?;
    let max_slow_share = number("maxSlowShare")?;
    if !latency {
        for (field, given) in [("latencyThreshold", threshold), ("maxSlowShare", max_slow_share)] {
            if given.is_some() {
                return Err(RequestError::new(field, "only with signals=latency or signals=errors,latency"));
            }
        }
        return Ok(signals);
    }
    let threshold_ms = threshold.ok_or_else(|| {
        RequestError::new(
            "latencyThreshold",
            "required with the latency signal: a bucket bound of istio_request_duration_milliseconds in ms (e.g. 250)",
        )
    })?;
    if !(threshold_ms > 0.0 && threshold_ms.is_finite()) {
        return Err(RequestError::new("latencyThreshold", "must be a positive number of milliseconds"));
    }
    let max_slow_share = max_slow_share.unwrap_or(DEFAULT_MAX_SLOW_SHARE);
    if !(max_slow_share > 0.0 && max_slow_share <= 0.5) {
        return Err(RequestError::new("maxSlowShare", format!("must be in (0, 0.5], got {max_slow_share}")));
    }
    signals.latency = Some(Latency { threshold_ms, max_slow_share });
    Ok(signals)
}

fn required<'a>(raw: &'a RawParams, field: &str) -> Result<&'a str, RequestError> {
    raw.get(field).ok_or_else(|| RequestError::new(field, "required"))
}

/// A label value; `optional` when a Rollout can supply it.
fn label_value<'a>(raw: &'a RawParams, field: &str, optional: bool) -> Result<Option<&'a str>, RequestError> {
    let Some(value) = raw.get(field) else {
        if optional {
            return Ok(None);
        }
        return Err(RequestError::new(field, "required (it may be left out only with rollout=NAME)"));
    };
    if !is_label_value(value) {
        return Err(RequestError::new(
            field,
            "must be a Kubernetes label value: at most 63 letters, digits, '-', '_' or '.', starting and ending \
             with a letter or digit",
        ));
    }
    Ok(Some(value))
}

/// A short name is a Service in the request's namespace; a name with dots is the host Istio reports as
/// `destination_service`. A cluster-local FQDN must name the same namespace as the request.
fn check_service(service: &str, namespace: &str) -> Result<(), RequestError> {
    let valid = if service.contains('.') { is_dns_subdomain(service) } else { is_dns_label(service) };
    if !valid {
        return Err(RequestError::new(
            "service",
            "must be a Service name or its FQDN (for example reviews or reviews.shop.svc.cluster.local)",
        ));
    }
    let mut parts = service.split('.');
    if let (Some(_), Some(ns), Some("svc")) = (parts.next(), parts.next(), parts.next())
        && ns != namespace
    {
        return Err(RequestError::new("service", format!("is in namespace {ns:?}, not {namespace:?}")));
    }
    Ok(())
}

fn one_of<T: Copy + Default>(
    raw: &RawParams,
    field: &str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<T, RequestError> {
    let Some(value) = raw.get(field) else {
        return Ok(T::default());
    };
    all.iter().copied().find(|t| name(*t) == value).ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|t| name(*t)).collect();
        RequestError::new(field, format!("must be one of {}", names.join(", ")))
    })
}

fn period(raw: &RawParams) -> Result<Period, RequestError> {
    let given: Vec<&str> = ["since", "window", "rollout"].into_iter().filter(|f| raw.get(f).is_some()).collect();
    if given.len() > 1 {
        return Err(RequestError::new(given[1], format!("give only one of since, window and rollout, not {given:?}")));
    }
    if let Some(since) = raw.get("since") {
        let time: Timestamp = since
            .parse()
            .map_err(|_| RequestError::new("since", "must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z"))?;
        return Ok(Period::Since(time));
    }
    if let Some(window) = raw.get("window") {
        let window =
            duration::parse(window, duration::WINDOW).map_err(|e| RequestError::new("window", e.to_string()))?;
        return Ok(Period::Window(window.as_secs() as i64));
    }
    if let Some(rollout) = raw.get("rollout") {
        if !is_dns_subdomain(rollout) {
            return Err(RequestError::new("rollout", "must be a Rollout name (RFC 1123 subdomain)"));
        }
        return Ok(Period::Rollout(rollout.to_string()));
    }
    Ok(Period::Window(DEFAULT_WINDOW_SECONDS))
}

fn params(raw: &RawParams) -> Result<Params, RequestError> {
    let defaults = Params::default();
    let number = |field: &str, default: f64| match raw.get(field) {
        None => Ok(default),
        Some(text) => text.trim().parse::<f64>().map_err(|_| RequestError::new(field, "must be a number")),
    };
    let params = Params {
        alpha: number("alpha", defaults.alpha)?,
        margin: number("margin", defaults.margin)?,
        pass_margin: number("passMargin", defaults.pass_margin)?,
        max_error_rate: number("maxErrorRate", defaults.max_error_rate)?,
    };
    params.validate()?;
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> RawParams {
        RawParams::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap()
    }

    const BASE: [(&str, &str); 4] =
        [("namespace", "shop"), ("service", "reviews"), ("canary", "v2"), ("baseline", "v1")];

    fn with(extra: &[(&str, &str)]) -> Result<Request, RequestError> {
        let mut pairs: Vec<(&str, &str)> =
            BASE.iter().copied().filter(|(k, _)| !extra.iter().any(|(e, _)| e == k)).collect();
        pairs.extend_from_slice(extra);
        Request::parse(&raw(&pairs))
    }

    fn field_of(extra: &[(&str, &str)]) -> String {
        with(extra).expect_err("refused").field
    }

    #[test]
    fn defaults_fill_everything_optional() {
        let request = with(&[]).expect("valid");
        assert_eq!(request.label, ArmLabel::DestinationVersion);
        assert_eq!(request.reporter, Reporter::Destination);
        assert_eq!(request.period, Period::Window(DEFAULT_WINDOW_SECONDS));
        assert_eq!(request.params, Params::default());
    }

    #[test]
    fn every_field_is_parsed() {
        let request = with(&[
            ("service", "reviews.shop.svc.cluster.local"),
            ("label", "destination_canonical_revision"),
            ("since", "2026-01-31T12:00:00Z"),
            ("reporter", "both"),
            ("maxErrorRate", "0.02"),
            ("margin", "0.25"),
            ("passMargin", "0.5"),
            ("alpha", "0.01"),
        ])
        .expect("valid");
        assert_eq!(request.label, ArmLabel::DestinationCanonicalRevision);
        assert_eq!(request.reporter, Reporter::Both);
        assert_eq!(request.period, Period::Since("2026-01-31T12:00:00Z".parse().unwrap()));
        assert_eq!(request.params, Params { alpha: 0.01, margin: 0.25, pass_margin: 0.5, max_error_rate: 0.02 });
        assert_eq!(with(&[("window", "1h30m")]).unwrap().period, Period::Window(5400));
        assert_eq!(with(&[("window", "1h 30m")]).unwrap().period, Period::Window(5400), "the flags' grammar");
        let refused = with(&[("window", "250ms")]).unwrap_err();
        assert_eq!(refused.message, "\"250ms\" is out of range: from 1m to 366d");
        assert_eq!(with(&[("rollout", "reviews")]).unwrap().period, Period::Rollout("reviews".into()));
    }

    #[test]
    fn hostile_and_malformed_values_name_their_field() {
        let cases: [(&[(&str, &str)], &str); 18] = [
            (&[("canary", r#"v1"} or vector(1) #"#)], "canary"),
            (&[("baseline", "v1|v2")], "baseline"),
            (&[("baseline", "v2")], "baseline"),
            (&[("namespace", "Shop")], "namespace"),
            (&[("namespace", r#"shop",x="#)], "namespace"),
            (&[("service", "reviews.other.svc.cluster.local")], "service"),
            (&[("service", "rev iews")], "service"),
            (&[("label", "source_app")], "label"),
            (&[("reporter", "ztunnel")], "reporter"),
            (&[("since", "yesterday")], "since"),
            (&[("window", "30s")], "window"),
            (&[("window", "250ms")], "window"),
            (&[("window", "-5m")], "window"),
            (&[("rollout", "Reviews")], "rollout"),
            (&[("since", "2026-01-31T12:00:00Z"), ("window", "10m")], "window"),
            (&[("alpha", "abc")], "alpha"),
            (&[("maxErrorRate", "0.9")], "maxErrorRate"),
            (&[("passMargin", "NaN")], "passMargin"),
        ];
        for (extra, field) in cases {
            assert_eq!(field_of(extra), field, "{extra:?}");
        }
        assert_eq!(field_of(&[("canaryy", "v2")]), "canaryy");
        let missing = Request::parse(&raw(&[("namespace", "shop"), ("service", "reviews"), ("canary", "v2")]));
        assert_eq!(
            missing.unwrap_err(),
            RequestError::new("baseline", "required (it may be left out only with rollout=NAME)")
        );
    }

    #[test]
    fn equal_questions_have_equal_keys() {
        let a = with(&[("alpha", "0.05"), ("label", "destination_version")]).unwrap();
        let b = with(&[("alpha", "5e-2")]).unwrap();
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), with(&[("alpha", "0.01")]).unwrap().key());
        assert_ne!(a.key(), with(&[("canary", "v3")]).unwrap().key());
        assert_ne!(with(&[("window", "10m")]).unwrap().key(), with(&[("window", "11m")]).unwrap().key());
    }
}
