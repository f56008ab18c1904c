//! What a route does to the requests it sends, per route and so per version: `timeout`, `retries` and
//! `fault` (delay or abort a share of the requests, to test how callers cope). Values are typed and checked
//! where they are parsed; the route is chosen as for every edit (`--route`, else the only or the catch-all
//! one) and must not be one a Rollout manages.
//!
//! A fault on the route that takes every request with no condition hits every user: refused without
//! `--force`. With conditions (`fault --header end-user=jason`), the fault goes on the route for exactly those
//! conditions, made (as a copy of the catch-all's destinations) when there is none.

use super::conditions::Conditions;
use super::context::Context;
use super::matched::{self, catch_all_route};
use super::object::Draft;
use super::{EditError, Summary, guard};
use crate::duration;
use crate::numbers::significant;
use serde_json::{Map, Value, json};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Envoy's retry conditions (`x-envoy-retry-on` and `x-envoy-retry-grpc-on`), which Istio's `retryOn` takes,
/// besides HTTP status codes.
pub const RETRY_ON: [&str; 16] = [
    "5xx",
    "gateway-error",
    "reset",
    "reset-before-request",
    "connect-failure",
    "envoy-ratelimited",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "http3-post-connect-failure",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
];

/// One `--retry-on` entry: a named condition or a status code to retry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetryOn {
    Condition(&'static str),
    Status(u16),
}

impl FromStr for RetryOn {
    type Err = String;
    fn from_str(s: &str) -> Result<RetryOn, String> {
        if let Some(known) = RETRY_ON.iter().find(|k| **k == s) {
            return Ok(RetryOn::Condition(known));
        }
        match s.parse::<u16>() {
            Ok(code) if (400..=599).contains(&code) => Ok(RetryOn::Status(code)),
            Ok(_) => Err(format!("{s}: a status code to retry is from 400 to 599")),
            Err(_) => {
                Err(format!("{s:?} is not a retry condition; valid: {}, or a status code (503)", RETRY_ON.join(", ")))
            }
        }
    }
}

impl fmt::Display for RetryOn {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            RetryOn::Condition(c) => f.write_str(c),
            RetryOn::Status(code) => write!(f, "{code}"),
        }
    }
}

/// Retries of a route: how many, each try's deadline, on what.
#[derive(Clone, Debug, PartialEq)]
pub struct Retry {
    /// From 1 (`--off` is 0 attempts).
    pub attempts: u32,
    pub per_try_timeout: Option<Duration>,
    pub retry_on: Vec<RetryOn>,
}

/// What `retries` sets.
#[derive(Clone, Debug, PartialEq)]
pub enum Retries {
    Set(Retry),
    /// No retries (`attempts: 0`); without the field Istio retries twice.
    Off,
    /// Remove the field: the mesh's default (Istio: 2 attempts on connect-failure, refused-stream,
    /// unavailable, cancelled, retriable-status-codes).
    Default,
}

/// The most attempts `retries` writes: beyond it, retries multiply load on a failing version.
pub const MAX_ATTEMPTS: u32 = 10;

/// What `fault` injects: a fixed delay, an abort with a status code, or both, in a share of the requests.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub delay: Option<Duration>,
    pub abort: Option<u16>,
    pub percent: f64,
}

impl Retry {
    pub fn validate(&self) -> Result<(), EditError> {
        if self.attempts == 0 {
            return Err(bad("--attempts", "0 attempts: use --off to turn retries off".into()));
        }
        if self.attempts > MAX_ATTEMPTS {
            return Err(bad("--attempts", format!("{}: from 1 to {MAX_ATTEMPTS}", self.attempts)));
        }
        Ok(())
    }

    fn istio(&self) -> Value {
        let mut r = Map::new();
        r.insert("attempts".into(), json!(self.attempts));
        if let Some(t) = self.per_try_timeout {
            r.insert("perTryTimeout".into(), json!(duration::istio(t)));
        }
        if !self.retry_on.is_empty() {
            let on: Vec<String> = self.retry_on.iter().map(RetryOn::to_string).collect();
            r.insert("retryOn".into(), json!(on.join(",")));
        }
        Value::Object(r)
    }
}

impl Fault {
    pub fn validate(&self) -> Result<(), EditError> {
        if self.delay.is_none() && self.abort.is_none() {
            return Err(bad("fault", "give --delay DURATION or --abort CODE (or --off to remove the fault)".into()));
        }
        // `!(x > 0)` also refuses NaN.
        if !(self.percent > 0.0 && self.percent <= 100.0) {
            let why = if self.percent == 0.0 { ": 0% injects nothing (use --off to remove a fault)" } else { "" };
            return Err(bad("--percent", format!("{}: more than 0 and at most 100{why}", self.percent)));
        }
        if let Some(code) = self.abort.filter(|c| !(200..=599).contains(c)) {
            return Err(bad("--abort", format!("{code}: an HTTP status code from 200 to 599")));
        }
        Ok(())
    }

    fn istio(&self) -> Value {
        let percentage = json!({"value": whole(self.percent)});
        let mut f = Map::new();
        if let Some(d) = self.delay {
            f.insert("delay".into(), json!({"fixedDelay": duration::istio(d), "percentage": percentage}));
        }
        if let Some(code) = self.abort {
            f.insert("abort".into(), json!({"httpStatus": code, "percentage": percentage}));
        }
        Value::Object(f)
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(d) = self.delay {
            parts.push(format!("delays {}", duration::format(d)));
        }
        if let Some(code) = self.abort {
            parts.push(format!("aborts with {code}"));
        }
        format!("{} {}% of requests", parts.join(" and "), significant(self.percent))
    }
}

/// Whole percentages as integers, as the API server stores them (so a second run finds nothing to change).
fn whole(p: f64) -> Value {
    if p.fract() == 0.0 { json!(p as u64) } else { json!(p) }
}

fn bad(flag: &'static str, problem: String) -> EditError {
    EditError::BadValue { flag, problem }
}

/// The route `--route` names, else the only or catch-all one; not one a Rollout manages.
fn chosen(vs: &Draft, route: Option<&str>, ctx: &Context) -> Result<(usize, String), EditError> {
    let index = guard::editable_route(vs.http(), route, ctx)?;
    Ok((index, vs.http()[index].label(index)))
}

/// Sets (or, with `None`, removes) one field of the chosen route.
fn set_field(vs: &mut Draft, index: usize, field: &str, value: Option<Value>) -> Result<(), EditError> {
    let mut http = vs.raw_http();
    let Some(r) = http[index].as_object_mut() else { unreachable!("a route that reads as a route is an object") };
    match value {
        Some(v) => r.insert(field.into(), v),
        None => r.remove(field),
    };
    vs.set_http(http)
}

/// `times out after 5s`, `has no timeout`: one message for both route APIs.
pub fn timeout_state(timeout: Option<Duration>) -> String {
    match timeout {
        Some(t) => format!("times out after {}", duration::format(t)),
        None => "has no timeout".into(),
    }
}

/// `retries 3 times on 5xx,503, 2s each`: one message for both route APIs.
pub fn retry_state(attempts: u32, on: &[String], each: Option<Duration>) -> String {
    let on = if on.is_empty() { String::new() } else { format!(" on {}", on.join(",")) };
    let each = each.map(|t| format!(", {} each", duration::format(t))).unwrap_or_default();
    format!("retries {attempts} times{on}{each}")
}

pub fn timeout(
    vs: &mut Draft,
    route: Option<&str>,
    timeout: Option<Duration>,
    ctx: &Context,
) -> Result<Summary, EditError> {
    let (index, subject) = chosen(vs, route, ctx)?;
    set_field(vs, index, "timeout", timeout.map(|t| json!(duration::istio(t))))?;
    Ok(Summary { subject, state: timeout_state(timeout) })
}

pub fn retries(vs: &mut Draft, route: Option<&str>, retries: &Retries, ctx: &Context) -> Result<Summary, EditError> {
    let (index, subject) = chosen(vs, route, ctx)?;
    let (value, state) = match retries {
        Retries::Set(r) => {
            r.validate()?;
            let on: Vec<String> = r.retry_on.iter().map(RetryOn::to_string).collect();
            (Some(r.istio()), retry_state(r.attempts, &on, r.per_try_timeout))
        }
        Retries::Off => (Some(json!({"attempts": 0})), "does not retry".into()),
        Retries::Default => (None, "retries as the mesh's default".into()),
    };
    set_field(vs, index, "retries", value)?;
    Ok(Summary { subject, state })
}

/// `fault`: on the chosen route, or (with conditions) on the route for them. `None` removes the fault, and
/// a route vroute made only to carry it.
pub fn fault(
    vs: &mut Draft,
    route: Option<&str>,
    conditions: &Conditions,
    fault: Option<&Fault>,
    ctx: &Context,
) -> Result<Summary, EditError> {
    if let Some(f) = fault {
        f.validate()?;
    }
    let (index, subject) = if conditions.is_empty() {
        let (index, subject) = chosen(vs, route, ctx)?;
        if fault.is_some() && vs.http()[index].is_catch_all() && !ctx.force {
            return Err(EditError::FaultForEveryone { vs: ctx.vs_label(), route: subject });
        }
        (index, subject)
    } else {
        conditions.validate()?;
        let block = conditions.istio();
        match (matched::find(vs, &block, None), fault) {
            (Some(index), _) => {
                let key = vs.http()[index].key(index);
                chosen(vs, Some(&key), ctx)?
            }
            (None, None) => {
                return Ok(Summary { subject: "routes".into(), state: format!("no route matches {conditions}") });
            }
            (None, Some(_)) => {
                let destinations = catch_all_route(vs).ok_or(EditError::NoCatchAll { vs: ctx.vs_label() })?;
                let at = matched::position(vs.http());
                let name = matched::unique_name(vs.http(), &conditions.route_name("vroute-fault"));
                let mut http = vs.raw_http();
                http.insert(at, json!({"name": name, "match": [block], "route": destinations}));
                vs.set_http(http)?;
                (at, vs.http()[at].label(at))
            }
        }
    };
    let made_for_fault = vs.http()[index].name.as_deref().is_some_and(|n| n.starts_with("vroute-fault-"));
    if fault.is_none() && made_for_fault {
        let mut http = vs.raw_http();
        http.remove(index);
        vs.set_http(http)?;
        return Ok(Summary { subject, state: "removed (it was made for the fault)".into() });
    }
    set_field(vs, index, "fault", fault.map(Fault::istio))?;
    let state = match fault {
        Some(f) => f.describe(),
        None => "injects no fault".into(),
    };
    Ok(Summary { subject, state })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::conditions::{Condition, Text};
    use crate::edit::context::tests::{on, request, snapshot, split_vs};

    fn ctx(vs: &Value) -> Context {
        Context::build(&snapshot(vs.clone(), &[("v1", 1), ("v2", 1)]), &request()).unwrap()
    }

    fn jason() -> Conditions {
        Conditions(vec![Condition::Header { name: "end-user".parse().unwrap(), value: Text::Exact("jason".into()) }])
    }

    #[test]
    fn timeout_and_retries_are_written_as_istio_reads_them() {
        let mut vs = split_vs();
        let ctx = ctx(&vs);
        let s = on(&mut vs, |d| timeout(d, None, Some(Duration::from_millis(2_500)), &ctx)).unwrap();
        assert_eq!(s.message(true), "route \"primary\" now times out after 2s500ms");
        assert_eq!(vs["spec"]["http"][0]["timeout"], "2.5s");
        let retry = Retry {
            attempts: 3,
            per_try_timeout: Some(Duration::from_secs(2)),
            retry_on: vec!["5xx".parse().unwrap(), "503".parse().unwrap()],
        };
        let s = on(&mut vs, |d| retries(d, None, &Retries::Set(retry.clone()), &ctx)).unwrap();
        assert_eq!(s.state, "retries 3 times on 5xx,503, 2s each");
        assert_eq!(
            vs["spec"]["http"][0]["retries"],
            json!({"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,503"})
        );
        on(&mut vs, |d| retries(d, None, &Retries::Off, &ctx)).unwrap();
        assert_eq!(vs["spec"]["http"][0]["retries"], json!({"attempts": 0}));
        on(&mut vs, |d| retries(d, None, &Retries::Default, &ctx)).unwrap();
        on(&mut vs, |d| timeout(d, None, None, &ctx)).unwrap();
        assert_eq!(vs, split_vs(), "both removed again");
    }

    #[test]
    fn bad_retry_values_name_the_flag_and_the_range() {
        let mut vs = split_vs();
        let ctx = ctx(&vs);
        let zero = Retries::Set(Retry { attempts: 0, per_try_timeout: None, retry_on: vec![] });
        let err = on(&mut vs, |d| retries(d, None, &zero, &ctx)).unwrap_err().to_string();
        assert_eq!(err, "--attempts: 0 attempts: use --off to turn retries off");
        let err = "5xxx".parse::<RetryOn>().unwrap_err();
        assert!(err.starts_with("\"5xxx\" is not a retry condition; valid: 5xx, gateway-error,"), "{err}");
        assert!("200".parse::<RetryOn>().unwrap_err().contains("from 400 to 599"));
    }

    #[test]
    fn a_fault_for_everyone_needs_force_and_one_for_a_header_gets_its_own_route() {
        let mut vs = split_vs();
        let ctx = ctx(&vs);
        let delay = Fault { delay: Some(Duration::from_secs(7)), abort: None, percent: 100.0 };
        let err = on(&mut vs, |d| fault(d, None, &Conditions::default(), Some(&delay), &ctx)).unwrap_err();
        assert!(err.to_string().contains("every user"), "{err}");
        let s = on(&mut vs, |d| fault(d, None, &jason(), Some(&delay), &ctx)).unwrap();
        assert_eq!(s.message(true), "route \"vroute-fault-end-user-jason\" now delays 7s 100% of requests");
        let route = &vs["spec"]["http"][0];
        assert_eq!(route["fault"], json!({"delay": {"fixedDelay": "7s", "percentage": {"value": 100}}}));
        assert_eq!(route["route"], split_vs()["spec"]["http"][0]["route"], "the catch-all's destinations");
        let abort = Fault { delay: None, abort: Some(500), percent: 100.0 };
        on(&mut vs, |d| fault(d, None, &jason(), Some(&abort), &ctx)).unwrap();
        assert_eq!(vs["spec"]["http"][0]["fault"], json!({"abort": {"httpStatus": 500, "percentage": {"value": 100}}}));
        assert_eq!(vs["spec"]["http"].as_array().unwrap().len(), 2, "the same route, replaced");
        let s = on(&mut vs, |d| fault(d, None, &jason(), None, &ctx)).unwrap();
        assert_eq!(s.state, "removed (it was made for the fault)");
        assert_eq!(vs, split_vs());
    }

    #[test]
    fn a_fault_rides_on_an_existing_header_route_and_off_keeps_the_route() {
        let mut vs = split_vs();
        let ctx = ctx(&vs);
        let ask = matched::MatchRoute { conditions: jason(), to: Some("v2".into()), name: None };
        on(&mut vs, |d| matched::route(d, &ask, &ctx)).unwrap();
        let delay = Fault { delay: Some(Duration::from_secs(7)), abort: None, percent: 50.0 };
        on(&mut vs, |d| fault(d, None, &jason(), Some(&delay), &ctx)).unwrap();
        assert_eq!(vs["spec"]["http"][0]["name"], "vroute-end-user-jason");
        assert!(vs["spec"]["http"][0]["fault"].is_object());
        on(&mut vs, |d| fault(d, None, &jason(), None, &ctx)).unwrap();
        assert!(vs["spec"]["http"][0].get("fault").is_none());
        assert_eq!(vs["spec"]["http"][0]["route"][0]["destination"]["subset"], "v2");
    }

    #[test]
    fn fault_values_are_checked() {
        let mut vs = split_vs();
        let ctx = ctx(&vs);
        for (f, expected) in [
            (
                Fault { delay: None, abort: Some(500), percent: 0.0 },
                "--percent: 0: more than 0 and at most 100: 0% injects nothing (use --off to remove a fault)",
            ),
            (
                Fault { delay: None, abort: Some(700), percent: 10.0 },
                "--abort: 700: an HTTP status code from 200 to 599",
            ),
            (
                Fault { delay: None, abort: None, percent: 10.0 },
                "fault: give --delay DURATION or --abort CODE (or --off to remove the fault)",
            ),
        ] {
            let err = on(&mut vs, |d| fault(d, None, &jason(), Some(&f), &ctx)).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
    }
}
