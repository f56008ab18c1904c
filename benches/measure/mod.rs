//! How the benchmarks measure a command: wall time, CPU time and peak RSS of the plugin process alone, runs
//! alternating between commands so they share the machine's state.

// Each benchmark compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

/// Median wall time and CPU time (user + system) of the plugin process, and its largest peak RSS.
pub struct Run {
    pub wall: Duration,
    pub cpu: Duration,
    pub rss_kb: i64,
}

pub fn measure_n(runs: usize, make: impl Fn() -> Command) -> Run {
    measure_each(runs, &[&make]).remove(0)
}

/// Each command `runs` times after one warm-up each, their runs alternating, in turn first and last (A B, B A,
/// A B, ...) so neither always follows the other's load on the API server.
pub fn measure_each(runs: usize, makes: &[&dyn Fn() -> Command]) -> Vec<Run> {
    let mut samples: Vec<(Vec<Duration>, Vec<Duration>, i64)> = vec![(Vec::new(), Vec::new(), 0); makes.len()];
    for run in 0..=runs {
        let mut order: Vec<usize> = (0..makes.len()).collect();
        if run % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let (make, (walls, cpus, peak)) = (makes[i], &mut samples[i]);
            let (wall, cpu, rss) = once(make());
            if run > 0 {
                walls.push(wall);
                cpus.push(cpu);
                *peak = (*peak).max(rss);
            }
        }
    }
    samples
        .into_iter()
        .map(|(mut walls, mut cpus, rss_kb)| {
            walls.sort();
            cpus.sort();
            Run { wall: walls[walls.len() / 2], cpu: cpus[cpus.len() / 2], rss_kb }
        })
        .collect()
}

/// One run: wall time, CPU time and peak RSS (KB) of the command, measured by this benchmark re-executed as
/// a small spawner ([`spawner`]). Measured from here, the peak RSS would be at least this process's own: a
/// child forked from a process inherits its resident set until exec, and Linux keeps that high-water mark.
pub fn once(cmd: Command) -> (Duration, Duration, i64) {
    let mut spawn = Command::new(std::env::current_exe().expect("the benchmark's executable"));
    spawn.env(SPAWN, "1").arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => spawn.env(k, v),
            None => spawn.env_remove(k),
        };
    }
    let out = spawn.stderr(std::process::Stdio::inherit()).output().expect("spawn");
    assert!(out.status.success(), "{cmd:?} failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let [wall, cpu, rss]: [i64; 3] =
        text.split_whitespace().map(|n| n.parse().unwrap()).collect::<Vec<_>>().try_into().unwrap();
    (Duration::from_micros(wall as u64), Duration::from_micros(cpu as u64), rss)
}

/// Set for the benchmark's executable run as [`spawner`].
pub const SPAWN: &str = "VROUTE_BENCH_SPAWN";

/// Runs the command in its arguments (output discarded) and prints its wall and CPU time (microseconds) and
/// peak RSS (KB), read with `wait4`. Started small, this process hands the child no resident set of its own.
// The child is reaped by wait4 (which also reports its resource usage), not by Child::wait.
#[allow(clippy::zombie_processes)]
pub fn spawner() -> ! {
    let mut args = std::env::args_os().skip(1);
    let mut cmd = Command::new(args.next().expect("a command"));
    cmd.args(args).env_remove(SPAWN).stdout(std::process::Stdio::null());
    let started = Instant::now();
    let child = cmd.spawn().expect("spawn");
    let mut status = 0;
    // SAFETY: plain wait4 on our own child; the rusage struct is fully written by the kernel.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    let ok = pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    let tv = |t: libc::timeval| t.tv_sec * 1_000_000 + t.tv_usec;
    println!("{} {} {}", elapsed.as_micros(), tv(usage.ru_utime) + tv(usage.ru_stime), usage.ru_maxrss);
    std::process::exit(if ok { 0 } else { 1 })
}

pub fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}
