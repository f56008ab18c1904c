//! Every verdict and reason branch of `judge`, its errors, and the JSON shape.

use super::*;
use serde_json::{Value, json};

/// One step per `(canary requests, canary errors, baseline requests, baseline errors)`.
fn observe(steps: &[(f64, f64, f64, f64)]) -> Observations {
    let steps = steps
        .iter()
        .map(|&(cn, ce, bn, be)| Step {
            canary: Counts { requests: cn, errors: ce },
            baseline: Counts { requests: bn, errors: be },
        })
        .collect();
    Observations { steps, reachability: None }
}

fn reachable(mut observations: Observations, canary_weight: f64, unroutable_requests: f64) -> Observations {
    observations.reachability = Some(Reachability { canary_weight, unroutable_requests });
    observations
}

fn verdict_of(observations: &Observations, params: &Params) -> (Verdict, Reason) {
    let judgement = judge(observations, params).expect("valid input");
    (judgement.verdict, judgement.reason)
}

fn judged(observations: &Observations) -> (Verdict, Reason) {
    verdict_of(observations, &Params::default())
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    keys.sort();
    keys
}

/// Sorted paths of every `null` in a JSON tree: only the documented nullable fields may appear.
fn nulls(value: &Value) -> Vec<String> {
    fn walk(value: &Value, path: String, found: &mut Vec<String>) {
        match value {
            Value::Null => found.push(path),
            Value::Object(map) => map.iter().for_each(|(k, v)| walk(v, format!("{path}.{k}"), found)),
            Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| walk(v, format!("{path}[{i}]"), found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(value, String::new(), &mut found);
    found.sort();
    found
}

#[test]
fn no_canary_traffic_is_inconclusive() {
    let quiet = observe(&[(0.0, 0.0, 1000.0, 10.0); 3]);
    assert_eq!(judged(&quiet), (Verdict::Inconclusive, Reason::NoCanaryTraffic));
    // Routing says the canary gets nothing: no traffic is expected, not a failure.
    assert_eq!(judged(&reachable(quiet, 0.0, 500.0)), (Verdict::Inconclusive, Reason::NoCanaryTraffic));
}

#[test]
fn canary_unreachable_fails_only_when_the_failures_account_for_its_share() {
    let quiet = observe(&[(0.0, 0.0, 800.0, 8.0)]);
    // Weight 20%, 800 baseline + 200 unroutable requests: the canary should have served 0.2 * 1000 = 200, and
    // 200 requests failed with UH/NR (>= 200 / 2 and >= 10).
    assert_eq!(judged(&reachable(quiet.clone(), 0.2, 200.0)), (Verdict::Fail, Reason::CanaryUnreachable));
    // 60 failures against an expected 0.2 * 860 = 172: they may be someone else's.
    assert_eq!(judged(&reachable(quiet, 0.2, 60.0)), (Verdict::Inconclusive, Reason::NoCanaryTraffic));
    // All traffic to the canary and all of it unroutable, but only 9 requests: too few to abort on.
    let idle = observe(&[(0.0, 0.0, 0.0, 0.0)]);
    assert_eq!(judged(&reachable(idle, 1.0, 9.0)), (Verdict::Inconclusive, Reason::NoCanaryTraffic));
}

#[test]
fn error_rate_ceiling_fails_a_canary_as_bad_as_a_broken_baseline() {
    // Both arms at 30%: the ratio test sees equals, the ceiling e-value of 30/100 against 10% is 7.3e5.
    let broken = observe(&[(100.0, 30.0, 1000.0, 300.0)]);
    assert_eq!(judged(&broken), (Verdict::Fail, Reason::ErrorRateCeiling));
    let judgement = judge(&broken, &Params::default()).expect("valid");
    assert!((judgement.evidence.e_ceiling / 732_363.0 - 1.0).abs() < 1e-5, "{}", judgement.evidence.e_ceiling);
    // Against a 25% ceiling the same counts are no evidence (E = 0.77): no failure.
    let lenient = Params { max_error_rate: 0.25, ..Params::default() };
    assert_ne!(verdict_of(&broken, &lenient).0, Verdict::Fail);
    // At the threshold: 19/100 gives E = 15.4 (not yet), 20/100 gives 30.7 (fail). Baselines as bad, so only
    // the ceiling can decide.
    let at = |errors| observe(&[(100.0, errors, 1000.0, errors * 10.0)]);
    assert_ne!(judged(&at(19.0)).0, Verdict::Fail);
    assert_eq!(judged(&at(20.0)), (Verdict::Fail, Reason::ErrorRateCeiling));
}

#[test]
fn no_baseline_traffic_is_inconclusive_unless_the_ceiling_fails() {
    assert_eq!(judged(&observe(&[(1000.0, 5.0, 0.0, 0.0)])), (Verdict::Inconclusive, Reason::NoBaselineTraffic));
    assert_eq!(judged(&observe(&[(100.0, 30.0, 0.0, 0.0)])), (Verdict::Fail, Reason::ErrorRateCeiling));
}

#[test]
fn a_clearly_worse_canary_fails() {
    // 4% vs 1% at a 20% share: 80 errors of which 40 on the canary, where rho = 1.1 expects 0.2157 * 80 = 17.
    assert_eq!(judged(&observe(&[(1000.0, 40.0, 4000.0, 40.0)])), (Verdict::Fail, Reason::CanaryWorse));
    // Zero baseline errors is no obstacle: 10 canary errors against none at a 20% share is strong evidence.
    assert_eq!(judged(&observe(&[(1000.0, 10.0, 4000.0, 0.0)])), (Verdict::Fail, Reason::CanaryWorse));
}

#[test]
fn fail_threshold_is_one_over_alpha() {
    // Canary 2000 requests at a 20% share, baseline 80 errors. The "worse" e-value is 19.74 with 39 canary errors
    // and 29.17 with 40 (default prior, null 1.1), around the default threshold 20.
    let with = |canary_errors| observe(&[(2000.0, canary_errors, 8000.0, 80.0)]);
    assert_eq!(judged(&with(39.0)), (Verdict::Inconclusive, Reason::NotEnoughEvidence));
    assert_eq!(judged(&with(40.0)), (Verdict::Fail, Reason::CanaryWorse));
    let e = judge(&with(40.0), &Params::default()).expect("valid").evidence.e_worse;
    assert!((e - 29.17).abs() < 0.01, "{e}");
    // alpha = 0.01 needs 100: 43.8 with 41 errors is not enough, 103.6 with 43 is.
    let strict = Params { alpha: 0.01, ..Params::default() };
    assert_eq!(verdict_of(&with(41.0), &strict), (Verdict::Inconclusive, Reason::NotEnoughEvidence));
    assert_eq!(verdict_of(&with(43.0), &strict), (Verdict::Fail, Reason::CanaryWorse));
}

#[test]
fn an_equal_canary_with_enough_errors_passes() {
    // 1% in both arms, 500 errors at a 20% share: the "not worse" e-value is ~7.8e8, far above 20.
    let equal = observe(&[(10_000.0, 100.0, 40_000.0, 400.0)]);
    assert_eq!(judged(&equal), (Verdict::Pass, Reason::NotWorse));
    // Against a tighter "not worse" bound (1.2x instead of 2x) the same data are not enough yet.
    let tight = Params { pass_margin: 0.2, ..Params::default() };
    assert_eq!(verdict_of(&equal, &tight), (Verdict::Inconclusive, Reason::NotEnoughEvidence));
}

#[test]
fn zero_errors_in_both_arms_is_decided_by_the_upper_bound() {
    // 0/1000: upper bound 0.383% < 10%.
    assert_eq!(judged(&observe(&[(1000.0, 0.0, 4000.0, 0.0)])), (Verdict::Pass, Reason::NoErrors));
    // 0/20: upper bound 3.84146 / 23.84146 = 16.1% >= 10%.
    assert_eq!(judged(&observe(&[(20.0, 0.0, 80.0, 0.0)])), (Verdict::Inconclusive, Reason::NotEnoughEvidence));
}

#[test]
fn not_worse_but_near_the_ceiling_is_inconclusive() {
    // 8% in both arms, ceiling 8.5%. Canary 800/10000: centre = 801.92073 / 10003.84146 = 0.080161,
    // half = 1.95996 / 10003.84146 * sqrt(800 * 9200 / 10000 + 0.96036) = 0.00019592 * 27.1470 = 0.0053187
    // -> [7.48%, 8.548%]: not above the ceiling, not yet below it.
    let near = observe(&[(10_000.0, 800.0, 40_000.0, 3200.0)]);
    let params = Params { max_error_rate: 0.085, ..Params::default() };
    assert_eq!(verdict_of(&near, &params), (Verdict::Inconclusive, Reason::CeilingNotCleared));
}

#[test]
fn few_errors_are_not_enough() {
    assert_eq!(judged(&observe(&[(200.0, 1.0, 800.0, 4.0)])), (Verdict::Inconclusive, Reason::NotEnoughEvidence));
}

#[test]
fn evidence_accumulates_over_steps() {
    // Twenty one-minute steps of the passing case above, split 20x: the same totals, the same verdict.
    let steps = vec![(500.0, 5.0, 2000.0, 20.0); 20];
    let judgement = judge(&observe(&steps), &Params::default()).expect("valid");
    assert_eq!((judgement.verdict, judgement.reason), (Verdict::Pass, Reason::NotWorse));
    assert_eq!((judgement.evidence.steps, judgement.evidence.informative_errors), (20, 500));
    // Steps where one arm is silent carry no ratio information but still count for the arm totals.
    let mut gappy = steps;
    gappy.push((300.0, 3.0, 0.0, 0.0));
    let judgement = judge(&observe(&gappy), &Params::default()).expect("valid");
    assert_eq!((judgement.canary.requests, judgement.evidence.informative_errors), (10_300, 500));
}

#[test]
fn bad_parameters_and_bad_counts_are_errors_not_verdicts() {
    let fine = observe(&[(1000.0, 10.0, 4000.0, 40.0)]);
    let bad = Params { max_error_rate: 0.0, ..Params::default() };
    match judge(&fine, &bad) {
        Err(JudgeError::Params(err)) => assert_eq!(err.field, "maxErrorRate"),
        other => panic!("expected a parameter error, got {other:?}"),
    }
    let garbage = observe(&[(1000.0, f64::NAN, 4000.0, 40.0)]);
    match judge(&garbage, &Params::default()) {
        Err(JudgeError::Input(InputError::NotFinite { step: 0, arm: Arm::Canary, field: Field::Errors, .. })) => {}
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[test]
fn json_shape_of_a_pass() {
    let judgement = judge(&observe(&[(10_000.0, 100.0, 40_000.0, 400.0)]), &Params::default()).expect("valid");
    let json = serde_json::to_value(&judgement).expect("serializes");
    assert_eq!(keys(&json), ["baseline", "canary", "evidence", "message", "reason", "verdict"]);
    assert_eq!(json["verdict"], "pass");
    assert_eq!(json["reason"], "not-worse");
    assert!(json["message"].as_str().is_some_and(|m| m.starts_with("canary error rate 1% (100/10000)")));
    assert_eq!(json["canary"]["requests"], 10_000);
    assert_eq!(json["canary"]["errors"], 100);
    assert_eq!(json["canary"]["errorRate"], 0.01);
    let wilson = json["canary"]["wilson95"].as_array().expect("array");
    assert!(wilson.len() == 2 && wilson.iter().all(Value::is_f64));
    assert_eq!(keys(&json["canary"]), ["errorRate", "errors", "requests", "wilson95"]);
    assert_eq!(
        keys(&json["evidence"]),
        [
            "eCeiling",
            "eNotWorse",
            "eWorse",
            "informativeErrors",
            "log10ECeiling",
            "log10ENotWorse",
            "log10EWorse",
            "maxErrorRate",
            "notWorseBelow",
            "rateRatio",
            "steps",
            "threshold",
            "unroutableRequests",
            "worseAbove"
        ]
    );
    let evidence = &json["evidence"];
    assert_eq!((evidence["threshold"].as_f64(), evidence["worseAbove"].as_f64()), (Some(20.0), Some(1.1)));
    assert_eq!((evidence["notWorseBelow"].as_f64(), evidence["maxErrorRate"].as_f64()), (Some(2.0), Some(0.1)));
    assert_eq!((evidence["rateRatio"].as_f64(), evidence["informativeErrors"].as_u64()), (Some(1.0), Some(500)));
    assert_eq!(nulls(&json), [".evidence.unroutableRequests"]);
    let e_not_worse = evidence["eNotWorse"].as_f64().expect("number");
    let log10 = evidence["log10ENotWorse"].as_f64().expect("number");
    assert!(e_not_worse > 20.0 && (e_not_worse.log10() - log10).abs() < 1e-9);
}

#[test]
fn json_has_no_nan_without_traffic() {
    let judgement = judge(&observe(&[(0.0, 0.0, 0.0, 0.0)]), &Params::default()).expect("valid");
    let json = serde_json::to_value(&judgement).expect("serializes");
    assert_eq!(json["canary"], json!({"requests": 0, "errors": 0, "errorRate": null, "wilson95": [0.0, 1.0]}));
    assert_eq!(
        nulls(&json),
        [".baseline.errorRate", ".canary.errorRate", ".evidence.rateRatio", ".evidence.unroutableRequests"]
    );
    for e in ["eWorse", "eNotWorse", "eCeiling"] {
        assert_eq!(json["evidence"][e].as_f64(), Some(1.0), "{e}");
    }
}

#[test]
fn json_stays_finite_at_extreme_counts() {
    // 10^12 requests per arm, the canary failing twice as often: ln E is in the millions.
    let huge = observe(&[(1e12, 2e10, 1e12, 1e10)]);
    let judgement = judge(&huge, &Params::default()).expect("valid");
    assert_eq!((judgement.verdict, judgement.reason), (Verdict::Fail, Reason::CanaryWorse));
    assert_eq!(judgement.evidence.e_worse, 1e300);
    assert_eq!(judgement.evidence.e_not_worse, 0.0);
    assert!(judgement.evidence.log10_e_worse > 1e5 && judgement.evidence.log10_e_not_worse < -1e5);
    let text = serde_json::to_string(&judgement).expect("serializes");
    let back: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(nulls(&back), [".evidence.unroutableRequests"]);
}

#[test]
fn reason_codes_are_stable_kebab_case() {
    let all = [
        (Reason::CanaryUnreachable, "canary-unreachable", Verdict::Fail),
        (Reason::ErrorRateCeiling, "error-rate-ceiling", Verdict::Fail),
        (Reason::CanaryWorse, "canary-worse", Verdict::Fail),
        (Reason::NotWorse, "not-worse", Verdict::Pass),
        (Reason::NoErrors, "no-errors", Verdict::Pass),
        (Reason::NoCanaryTraffic, "no-canary-traffic", Verdict::Inconclusive),
        (Reason::NoBaselineTraffic, "no-baseline-traffic", Verdict::Inconclusive),
        (Reason::CeilingNotCleared, "ceiling-not-cleared", Verdict::Inconclusive),
        (Reason::NotEnoughEvidence, "not-enough-evidence", Verdict::Inconclusive),
    ];
    for (reason, code, verdict) in all {
        assert_eq!(serde_json::to_value(reason).expect("serializes"), code);
        assert_eq!(reason.verdict(), verdict);
        assert_eq!(serde_json::to_value(verdict).expect("serializes"), verdict.as_str());
    }
}
