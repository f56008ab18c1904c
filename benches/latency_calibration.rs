//! Calibration and power of the judge's latency signal, by simulation: `cargo bench --bench latency_calibration`.
//!
//! Each run is an hour of one-minute looks, as Argo asks (`signals=errors,latency`): the judge sees, per step
//! and arm, all requests and those slower than the threshold, and judges the slow share with `alpha / 2`
//! (the other half is the error signal's). Latency per request is exponential; the threshold is the
//! baseline's p95 (5% of its requests slower). A/A runs give both arms the same latency; A/B runs make the
//! canary's slow share double (10%: its mean latency 1.3x the baseline's).
//!
//! Comparators, peeked at every step:
//! - Flagger's request-duration check: the canary's P99 in the step against a fixed threshold, failing the
//!   run at the 5th failed check. A P99 above a bound means more than 1% of the step's requests slower than
//!   it, which is how it is computed here. Naive: the threshold 1.5x the baseline's own P99; matched: tuned on
//!   A/A runs to the judge's false-fail rate.
//! - A fixed-horizon one-sided two-proportion z-test on the cumulative slow counts: naive z > 1.645, matched
//!   as above.
//!
//! Seeded, so a rerun gives the same tables. Prints markdown and writes `docs/latency-calibration.md`.

use kubectl_vroute::judge::{Counts, Observations, Params, Step, Verdict, combine, judge, share_alpha, wilson95};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Binomial, Distribution, Poisson};
use std::fmt::Write as _;
use std::thread;
use std::time::Instant;

const RPS: f64 = 100.0;
const STEPS: usize = 60;
const SHARES: [f64; 3] = [0.05, 0.2, 0.5];
const AA_RUNS: usize = 2000;
const AB_RUNS: usize = 1000;
const TUNING_RUNS: usize = 20_000;
/// The baseline's share of requests slower than the threshold (its p95), and the canary's in A/B runs.
const SLOW: f64 = 0.05;
const SLOW_DOUBLED: f64 = 0.10;
const ERRORS: f64 = 0.01;
const FLAGGER_FAILED_CHECKS: usize = 5;
const Z_NAIVE: f64 = 1.645;

/// One step's counts: (requests, slow, above the Flagger bound, errors) per arm.
#[derive(Clone, Copy, Default)]
struct Arm {
    requests: u64,
    slow: u64,
    above_bound: u64,
    errors: u64,
}

/// Exponential latency with mean 1 for the baseline: the threshold `T` is its p95; `bound` (a Flagger P99
/// threshold, above `T`) is given in the same units.
fn simulate(seed: u64, share: f64, canary_slow: f64, bound: f64) -> Vec<(Arm, Arm)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let t = (1.0 / SLOW).ln();
    let per_step = RPS * 60.0;
    let arm = |rng: &mut StdRng, n: f64, slow: f64| {
        let requests = Poisson::new(n).unwrap().sample(rng) as u64;
        let slow_n = Binomial::new(requests, slow).unwrap().sample(rng);
        // Memoryless: of the requests slower than T, those slower than `bound` too.
        let mean = t / (1.0 / slow).ln();
        let beyond = (-(bound - t) / mean).exp();
        let above_bound = Binomial::new(slow_n, beyond.min(1.0)).unwrap().sample(rng);
        let errors = Binomial::new(requests, ERRORS).unwrap().sample(rng);
        Arm { requests, slow: slow_n, above_bound, errors }
    };
    (0..STEPS)
        .map(|_| (arm(&mut rng, per_step * share, canary_slow), arm(&mut rng, per_step * (1.0 - share), SLOW)))
        .collect()
}

/// The first step at which the judge fails the run: latency alone, and errors and latency combined.
fn judged(data: &[(Arm, Arm)], params: &Params) -> (Option<usize>, Option<usize>) {
    let latency_params = Params { max_error_rate: 0.5, ..share_alpha(params, 2) };
    let errors_params = share_alpha(params, 2);
    let (mut slow, mut errors) = (Observations::default(), Observations::default());
    let (mut latency_fail, mut combined_fail) = (None, None);
    for (k, (c, b)) in data.iter().enumerate() {
        let counts = |a: &Arm, bad: u64| Counts { requests: a.requests as f64, errors: bad as f64 };
        slow.steps.push(Step { canary: counts(c, c.slow), baseline: counts(b, b.slow) });
        errors.steps.push(Step { canary: counts(c, c.errors), baseline: counts(b, b.errors) });
        let l = judge(&slow, &latency_params).unwrap();
        let e = judge(&errors, &errors_params).unwrap();
        if l.verdict == Verdict::Fail {
            latency_fail.get_or_insert(k);
        }
        if combine(&[("errors", &e), ("latency", &l)]).unwrap().verdict == Verdict::Fail {
            combined_fail.get_or_insert(k);
            // Argo aborts at the first failed measurement.
            break;
        }
    }
    (latency_fail, combined_fail)
}

fn z_path(data: &[(Arm, Arm)]) -> Vec<f64> {
    let (mut nc, mut sc, mut nb, mut sb) = (0.0, 0.0, 0.0, 0.0);
    data.iter()
        .map(|(c, b)| {
            (nc, sc, nb, sb) = (nc + c.requests as f64, sc + c.slow as f64, nb + b.requests as f64, sb + b.slow as f64);
            let pooled = (sc + sb) / (nc + nb);
            let var = pooled * (1.0 - pooled) * (1.0 / nc + 1.0 / nb);
            if var > 0.0 { (sc / nc - sb / nb) / var.sqrt() } else { 0.0 }
        })
        .collect()
}

/// The step of Flagger's 5th failed P99 check.
fn flagger_fail(data: &[(Arm, Arm)]) -> Option<usize> {
    let failed = |c: &Arm| c.requests > 0 && c.above_bound as f64 / c.requests as f64 > 0.01;
    data.iter().enumerate().filter(|(_, (c, _))| failed(c)).nth(FLAGGER_FAILED_CHECKS - 1).map(|(k, _)| k)
}

fn parallel<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = thread::available_parallelism().map_or(1, |p| p.get()).min(n.max(1));
    let mut out: Vec<(usize, T)> = thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let f = &f;
                s.spawn(move || (t..n).step_by(threads).map(|i| (i, f(i))).collect::<Vec<_>>())
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, t)| t).collect()
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

fn rate(n: usize, of: usize) -> f64 {
    n as f64 / of as f64
}

/// Median minutes to fail (`-` when most runs never fail) and the share failed within the hour.
fn detection(fails: &[Option<usize>]) -> (String, f64) {
    let mut sorted: Vec<usize> = fails.iter().map(|f| f.unwrap_or(usize::MAX)).collect();
    sorted.sort_unstable();
    let median = sorted[(sorted.len() - 1) / 2];
    let text = if median == usize::MAX { "-".to_string() } else { format!("{} min", median + 1) };
    (text, rate(fails.iter().filter(|f| f.is_some()).count(), fails.len()))
}

/// The smallest Flagger bound (in baseline-mean units) and z critical value whose A/A ever-fail rate is at
/// most `level`, found on [`TUNING_RUNS`] runs.
fn tune(seed: u64, share: f64, level: f64) -> (f64, f64) {
    let allowed = (level * TUNING_RUNS as f64).floor() as usize;
    let max_z: Vec<f64> = parallel(TUNING_RUNS, |i| {
        z_path(&simulate(seed << 32 | i as u64, share, SLOW, f64::INFINITY)).into_iter().fold(f64::MIN, f64::max)
    });
    let mut z = max_z.clone();
    z.sort_by(|a, b| b.total_cmp(a));
    let z_matched = z[allowed.min(z.len() - 1)];
    let (mut lo, mut hi) = ((100.0f64).ln(), 12.0f64);
    for _ in 0..14 {
        let mid = (lo + hi) / 2.0;
        let fails = parallel(TUNING_RUNS / 4, |i| flagger_fail(&simulate(seed << 32 | i as u64, share, SLOW, mid)));
        if rate(fails.iter().filter(|f| f.is_some()).count(), fails.len()) > level { lo = mid } else { hi = mid }
    }
    (hi, z_matched)
}

fn main() {
    let started = Instant::now();
    let params = Params::default();
    let p99 = (100.0f64).ln();
    let naive_bound = 1.5 * p99;
    let mut doc = String::from("# Latency signal: calibration and power\n\n");
    writeln!(
        doc,
        "Simulated hour-long analyses at {RPS} requests/s, one look a minute, `signals=errors,latency` with the \
         default `alpha` {} split in two. Latency is exponential; the threshold is the baseline's p95 ({} of its \
         requests slower), errors {} in both arms. Flagger's P99 check fails a step when more than 1% of the \
         canary's requests in it are slower than its threshold, and the run at the {FLAGGER_FAILED_CHECKS}th failed \
         step; naive threshold 1.5x the baseline's P99.\n",
        params.alpha,
        pct(SLOW),
        pct(ERRORS)
    )
    .ok();
    writeln!(
        doc,
        "## A/A: the canary as fast as its baseline ({AA_RUNS} runs per row)\n\n| canary share | latency signal ever \
         fails (95% upper) | errors and latency combined ever fail (95% upper) | naive Flagger P99 ever fails | naive \
         z-test ever fails |\n|---|---|---|---|---|"
    )
    .ok();
    let mut levels = Vec::new();
    for (s, &share) in SHARES.iter().enumerate() {
        let runs = parallel(AA_RUNS, |i| {
            let data = simulate((10 + s as u64) << 32 | i as u64, share, SLOW, naive_bound);
            let (latency, combined) = judged(&data, &params);
            let z = z_path(&data).iter().any(|&z| z > Z_NAIVE);
            (latency.is_some(), combined.is_some(), flagger_fail(&data).is_some(), z)
        });
        let count = |f: fn(&(bool, bool, bool, bool)) -> bool| runs.iter().filter(|r| f(r)).count();
        let (l, c) = (count(|r| r.0), count(|r| r.1));
        let upper = |n: usize| pct(wilson95(n as u64, AA_RUNS as u64)[1]);
        levels.push(wilson95(l as u64, AA_RUNS as u64)[1]);
        writeln!(
            doc,
            "| {} | {} ({}) | {} ({}) | {} | {} |",
            pct(share),
            pct(rate(l, AA_RUNS)),
            upper(l),
            pct(rate(c, AA_RUNS)),
            upper(c),
            pct(rate(count(|r| r.2), AA_RUNS)),
            pct(rate(count(|r| r.3), AA_RUNS))
        )
        .ok();
    }
    writeln!(
        doc,
        "\n## A/B: the canary's slow share doubles, {} to {} ({AB_RUNS} runs per row)\n\nMedian minutes until the run \
         fails, and the share of runs failed within the hour. Matched comparators are tuned on {TUNING_RUNS} A/A runs \
         to the latency signal's A/A false-fail rate (its 95% upper bound, in their favour).\n\n| canary share | judge \
         | naive Flagger P99 | matched Flagger P99 (threshold / P99) | naive z-test | matched z-test (critical z) |\n\
         |---|---|---|---|---|---|",
        pct(SLOW),
        pct(SLOW_DOUBLED)
    )
    .ok();
    for (s, &share) in SHARES.iter().enumerate() {
        let (bound, z_matched) = tune(50 + s as u64, share, levels[s]);
        let runs = parallel(AB_RUNS, |i| {
            let seed = (20 + s as u64) << 32 | i as u64;
            let naive = simulate(seed, share, SLOW_DOUBLED, naive_bound);
            let matched = simulate(seed, share, SLOW_DOUBLED, bound);
            let z = z_path(&naive);
            [
                judged(&naive, &params).0,
                flagger_fail(&naive),
                flagger_fail(&matched),
                z.iter().position(|&v| v > Z_NAIVE),
                z.iter().position(|&v| v > z_matched),
            ]
        });
        // Per method (judge, naive and matched Flagger, naive and matched z-test): the step each run failed.
        let column = |m: usize| {
            let (median, within) = detection(&runs.iter().map(|r: &[Option<usize>; 5]| r[m]).collect::<Vec<_>>());
            format!("{median}, {}", pct(within))
        };
        writeln!(
            doc,
            "| {} | {} | {} | {} ({:.2}x) | {} | {} ({z_matched:.2}) |",
            pct(share),
            column(0),
            column(1),
            column(2),
            bound / p99,
            column(3),
            column(4),
        )
        .ok();
    }
    writeln!(
        doc,
        "\nReproduce with `cargo bench --bench latency_calibration` (seeded). This run took {:.0} s on {} cores.",
        started.elapsed().as_secs_f64(),
        thread::available_parallelism().map_or(1, |p| p.get())
    )
    .ok();
    print!("{doc}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/latency-calibration.md");
    std::fs::write(path, &doc).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
    eprintln!("wrote {path}");
}
