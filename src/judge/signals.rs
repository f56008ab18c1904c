//! Several signals, one verdict. Each signal is judged with its share of `alpha` (`alpha / k` for `k` signals,
//! so by the union bound the combined false-fail rate stays at or below `alpha`); the canary fails when any
//! signal fails, passes only when every signal passes, and is inconclusive otherwise. The verdict's reason and
//! numbers are those of the signal that decided it (the first failing one, else the first inconclusive one),
//! its message naming that signal.

use super::{Judgement, Params, Verdict};

/// `params` for one of `count` signals: the same margins, `alpha` split evenly.
pub fn share_alpha(params: &Params, count: usize) -> Params {
    Params { alpha: params.alpha / count.max(1) as f64, ..*params }
}

/// The combined judgement of `(signal name, judgement)` pairs, in their order of precedence.
pub fn combine(judged: &[(&str, &Judgement)]) -> Option<Judgement> {
    let pick = |v: Verdict| judged.iter().find(|(_, j)| j.verdict == v);
    let (name, decided) = pick(Verdict::Fail).or_else(|| pick(Verdict::Inconclusive)).or_else(|| judged.first())?;
    let mut out = (*decided).clone();
    if judged.len() > 1 {
        out.message = match out.verdict {
            Verdict::Pass => {
                let names: Vec<&str> = judged.iter().map(|(n, _)| *n).collect();
                format!("{} pass; {name}: {}", names.join(" and "), out.message)
            }
            _ => format!("{name}: {}", out.message),
        };
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::{Counts, Observations, Step, judge};

    fn judged(canary_errors: f64, baseline_errors: f64) -> Judgement {
        let c = |requests, errors| Counts { requests, errors };
        let steps = (0..30)
            .map(|_| Step { canary: c(2_000.0, canary_errors), baseline: c(8_000.0, baseline_errors) })
            .collect();
        judge(&Observations { steps, ..Default::default() }, &Params::default()).unwrap()
    }

    #[test]
    fn any_fail_fails_all_pass_passes_and_the_decider_is_named() {
        let (good, bad) = (judged(20.0, 80.0), judged(100.0, 80.0));
        assert_eq!(good.verdict, Verdict::Pass);
        assert_eq!(bad.verdict, Verdict::Fail);
        let both = combine(&[("errors", &good), ("latency", &bad)]).unwrap();
        assert_eq!(both.verdict, Verdict::Fail);
        assert!(both.message.starts_with("latency: "), "{}", both.message);
        assert_eq!(both.canary, bad.canary);
        let pass = combine(&[("errors", &good), ("latency", &good)]).unwrap();
        assert_eq!(pass.verdict, Verdict::Pass);
        assert!(pass.message.starts_with("errors and latency pass; errors: "), "{}", pass.message);
        let quiet = judge(&Observations::default(), &Params::default()).unwrap();
        assert_eq!(combine(&[("errors", &good), ("latency", &quiet)]).unwrap().verdict, Verdict::Inconclusive);
        assert_eq!(combine(&[("errors", &good)]).unwrap(), good, "one signal: its judgement as it is");
    }

    #[test]
    fn alpha_is_split_evenly() {
        assert_eq!(share_alpha(&Params::default(), 2).alpha, 0.025);
        assert_eq!(share_alpha(&Params::default(), 1), Params::default());
    }
}
