//! `circuit-break`: connection limits and outlier detection in the host's DestinationRule, for one version
//! (its subset's `trafficPolicy`) or, without `--version`, for all (the rule's own `trafficPolicy`). Only the
//! fields asked for change; the subset's labels, its other policies and every other subset stay as written.
//! `--off` removes the connection pool and outlier detection of that policy (an emptied policy goes too).

use super::context::Context;
use super::{EditError, Outcome, Summary};
use crate::duration;
use crate::objects::ObjectRef;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// The limits `circuit-break` sets; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Breaker {
    pub max_connections: Option<u32>,
    pub max_pending: Option<u32>,
    pub consecutive_5xx: Option<u32>,
    pub ejection: Option<Duration>,
    pub interval: Option<Duration>,
    pub max_ejection_percent: Option<u32>,
}

impl Breaker {
    pub fn validate(&self) -> Result<(), EditError> {
        let bad = |flag, problem: String| EditError::BadValue { flag, problem };
        if *self == Breaker::default() {
            return Err(bad(
                "circuit-break",
                "give at least one of --max-connections, --max-pending, --consecutive-5xx, --ejection, --interval, \
                 --max-ejection-percent (or --off to remove them)"
                    .into(),
            ));
        }
        for (flag, v) in [
            ("--max-connections", self.max_connections),
            ("--max-pending", self.max_pending),
            ("--consecutive-5xx", self.consecutive_5xx),
        ] {
            if v == Some(0) {
                return Err(bad(flag, "0: at least 1 (--off removes the limits)".into()));
            }
        }
        if let Some(p) = self.max_ejection_percent.filter(|p| *p > 100) {
            return Err(bad("--max-ejection-percent", format!("{p}: from 0 to 100")));
        }
        Ok(())
    }
}

/// Sets `path` (creating the objects on the way) in `obj`.
fn put(obj: &mut Map<String, Value>, path: &[&str], value: Value) {
    let (last, parents) = path.split_last().expect("a path has a field");
    let mut cur = obj;
    for p in parents {
        let entry = cur.entry(p.to_string()).or_insert_with(|| json!({}));
        if !entry.is_object() {
            *entry = json!({});
        }
        cur = entry.as_object_mut().expect("just made an object");
    }
    cur.insert(last.to_string(), value);
}

/// Applies the breaker (or, with `None`, removes it) to DestinationRule `dr` as read.
pub fn circuit_break(
    dr: &Value,
    dr_ref: &ObjectRef,
    version: Option<&str>,
    breaker: Option<&Breaker>,
    ctx: &Context,
) -> Result<Outcome, EditError> {
    if let Some(b) = breaker {
        b.validate()?;
    }
    let mut new = dr.clone();
    let label = dr_ref.label();
    let (policy, subject): (&mut Value, String) = match version {
        None => (&mut new["spec"]["trafficPolicy"], format!("every version of {}", ctx.host)),
        Some(v) => {
            let version = ctx.version(v)?;
            let Some(subset) = version.key.subset.clone().filter(|_| version.key.host == ctx.host) else {
                return Err(EditError::BadValue {
                    flag: "--version",
                    problem: format!(
                        "{} is not a subset of {}: circuit breaking is set per subset",
                        version.name, ctx.host
                    ),
                });
            };
            let subsets = new["spec"]["subsets"].as_array_mut();
            let Some(entry) = subsets.and_then(|s| s.iter_mut().find(|s| s["name"] == subset.as_str())) else {
                return Err(EditError::NotRoutable {
                    vs: label,
                    what: "circuit-break".into(),
                    target: format!("subset {subset}"),
                    reason: "which it does not define".into(),
                });
            };
            (&mut entry["trafficPolicy"], format!("version {}", version.name))
        }
    };
    let mut map = policy.as_object().cloned().unwrap_or_default();
    match breaker {
        None => {
            map.remove("connectionPool");
            map.remove("outlierDetection");
        }
        Some(b) => {
            let mut set = |path: &[&str], v: Option<Value>| {
                if let Some(v) = v {
                    put(&mut map, path, v);
                }
            };
            set(&["connectionPool", "tcp", "maxConnections"], b.max_connections.map(|n| json!(n)));
            set(&["connectionPool", "http", "http1MaxPendingRequests"], b.max_pending.map(|n| json!(n)));
            set(&["outlierDetection", "consecutive5xxErrors"], b.consecutive_5xx.map(|n| json!(n)));
            set(&["outlierDetection", "baseEjectionTime"], b.ejection.map(|d| json!(duration::istio(d))));
            set(&["outlierDetection", "interval"], b.interval.map(|d| json!(duration::istio(d))));
            set(&["outlierDetection", "maxEjectionPercent"], b.max_ejection_percent.map(|n| json!(n)));
        }
    }
    if map.is_empty() {
        *policy = Value::Null;
    } else {
        *policy = Value::Object(map);
    }
    // An emptied policy is removed rather than left as `null`.
    drop_nulls(&mut new);
    let changed = new != *dr;
    let state = match breaker {
        None => "has no circuit breaking".to_string(),
        Some(_) => {
            let typed: crate::istio::DestinationRule = super::object::typed(&new)?;
            let subset = version.and_then(|v| ctx.version(v).ok()).and_then(|v| v.key.subset.clone());
            let policy = subset
                .and_then(|s| typed.spec.subsets.iter().find(|x| x.name == s))
                .and_then(|s| s.traffic_policy.as_ref());
            let rule = typed.spec.traffic_policy.as_ref();
            let effective = match version {
                Some(_) => crate::istio::objects::CircuitBreaker::effective(policy, rule),
                None => crate::istio::objects::CircuitBreaker::effective(None, rule),
            };
            format!("breaks circuits: {}", effective.map(|b| b.summary()).unwrap_or_default())
        }
    };
    let summary = Summary { subject: format!("{subject} ({label})"), state };
    Ok(Outcome { object: changed.then_some(new), message: summary.message(changed) })
}

fn drop_nulls(dr: &mut Value) {
    if let Some(spec) = dr["spec"].as_object_mut() {
        if spec.get("trafficPolicy").is_some_and(Value::is_null) {
            spec.remove("trafficPolicy");
        }
        for s in spec.get_mut("subsets").and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(s) = s.as_object_mut().filter(|s| s.get("trafficPolicy").is_some_and(Value::is_null)) {
                s.remove("trafficPolicy");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::context::tests::{request, snapshot, split_vs};

    fn dr() -> Value {
        json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
               "metadata": {"name": "reviews", "namespace": "prod"},
               "spec": {"host": "reviews", "subsets": [
                   {"name": "v1", "labels": {"version": "v1"}},
                   {"name": "v2", "labels": {"version": "v2"}, "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}]}})
    }

    fn ctx() -> Context {
        Context::build(&snapshot(split_vs(), &[("v1", 1), ("v2", 1)]), &request()).unwrap()
    }

    fn dr_ref() -> ObjectRef {
        ObjectRef::new(crate::objects::Kind::DestinationRule, "prod", "reviews")
    }

    #[test]
    fn a_subsets_breaker_keeps_its_other_policy_and_off_removes_only_the_breaker() {
        let b = Breaker {
            max_connections: Some(100),
            max_pending: Some(10),
            consecutive_5xx: Some(5),
            ejection: Some(Duration::from_secs(30)),
            ..Default::default()
        };
        let out = circuit_break(&dr(), &dr_ref(), Some("v2"), Some(&b), &ctx()).unwrap();
        assert_eq!(
            out.message,
            "version v2 (DestinationRule prod/reviews) now breaks circuits: 100 conn, 10 pending, eject after 5 5xx for 30s"
        );
        let new = out.object.unwrap();
        assert_eq!(
            new["spec"]["subsets"][1]["trafficPolicy"],
            json!({"tls": {"mode": "ISTIO_MUTUAL"},
                   "connectionPool": {"tcp": {"maxConnections": 100}, "http": {"http1MaxPendingRequests": 10}},
                   "outlierDetection": {"consecutive5xxErrors": 5, "baseEjectionTime": "30s"}})
        );
        assert_eq!(new["spec"]["subsets"][0], dr()["spec"]["subsets"][0]);
        let again = circuit_break(&new, &dr_ref(), Some("v2"), Some(&b), &ctx()).unwrap();
        assert!(again.object.is_none(), "idempotent");
        let off = circuit_break(&new, &dr_ref(), Some("v2"), None, &ctx()).unwrap().object.unwrap();
        assert_eq!(off, dr());
    }

    #[test]
    fn without_a_version_the_rules_policy_and_bad_values_are_named() {
        let b = Breaker { consecutive_5xx: Some(3), ..Default::default() };
        let new = circuit_break(&dr(), &dr_ref(), None, Some(&b), &ctx()).unwrap().object.unwrap();
        assert_eq!(new["spec"]["trafficPolicy"], json!({"outlierDetection": {"consecutive5xxErrors": 3}}));
        let off = circuit_break(&new, &dr_ref(), None, None, &ctx()).unwrap().object.unwrap();
        assert!(off["spec"].get("trafficPolicy").is_none());
        let zero = Breaker { max_connections: Some(0), ..Default::default() };
        let err = circuit_break(&dr(), &dr_ref(), None, Some(&zero), &ctx()).unwrap_err();
        assert_eq!(err.to_string(), "--max-connections: 0: at least 1 (--off removes the limits)");
        let none = circuit_break(&dr(), &dr_ref(), None, Some(&Breaker::default()), &ctx()).unwrap_err();
        assert!(none.to_string().starts_with("circuit-break: give at least one of"));
        assert!(matches!(
            circuit_break(&dr(), &dr_ref(), Some("v9"), Some(&b), &ctx()),
            Err(EditError::UnknownVersion { .. })
        ));
    }
}
