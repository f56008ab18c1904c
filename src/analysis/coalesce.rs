//! Request coalescing with an optional short cache: identical requests that arrive while one is being worked
//! on wait for that one's answer instead of starting their own, and (with a TTL) later ones reuse it for a
//! few seconds. Ten rollouts' AnalysisRuns asking about the same canary, or a retry storm, then cost one
//! Prometheus round trip.
//!
//! The work runs in its own task, so a caller that goes away (Argo's timeout, a dropped connection) neither
//! cancels it for the others nor leaves a half-done entry behind. Only answers the caller marks as keepable
//! are cached (verdicts, not "Prometheus is down": a retry must ask again).

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How an answer was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// This caller did the work.
    Ran,
    /// Another caller was already doing the same work; this one waited for it.
    Joined,
    /// A recent answer to the same request.
    Cached,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Ran => "ran",
            Source::Joined => "joined",
            Source::Cached => "cached",
        }
    }
}

/// `None` when the work panicked.
type Pending<V> = Shared<BoxFuture<'static, Option<V>>>;

enum Slot<V> {
    Running(Pending<V>),
    Done { value: V, until: Instant },
}

pub struct Coalescer<K, V> {
    slots: Arc<Mutex<HashMap<K, Slot<V>>>>,
    ttl: Duration,
}

impl<K, V> Coalescer<K, V>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// `ttl` zero: coalescing only, nothing is kept once answered.
    pub fn new(ttl: Duration) -> Self {
        Coalescer { slots: Arc::default(), ttl }
    }

    /// The answer for `key`: a cached one, the one in progress, or `work()`'s. `None` only if the work panicked.
    pub async fn get<F, Fut>(&self, key: K, keep: fn(&V) -> bool, work: F) -> (Option<V>, Source)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V> + Send + 'static,
    {
        let (pending, source) = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            match slots.get(&key) {
                Some(Slot::Done { value, until }) if *until > Instant::now() => {
                    return (Some(value.clone()), Source::Cached);
                }
                Some(Slot::Running(pending)) => (pending.clone(), Source::Joined),
                _ => {
                    let pending = self.start(key.clone(), keep, work());
                    slots.insert(key, Slot::Running(pending.clone()));
                    (pending, Source::Ran)
                }
            }
        };
        (pending.await, source)
    }

    /// Spawns the work; when it ends, its slot becomes a cache entry or goes away, and only then are the
    /// waiters told (a request arriving in between finds the cache entry, or starts afresh).
    fn start<Fut>(&self, key: K, keep: fn(&V) -> bool, work: Fut) -> Pending<V>
    where
        Fut: Future<Output = V> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let (slots, ttl) = (self.slots.clone(), self.ttl);
        tokio::spawn(async move {
            let value = AssertUnwindSafe(work).catch_unwind().await.ok();
            {
                let mut slots = slots.lock().unwrap_or_else(PoisonError::into_inner);
                let now = Instant::now();
                match &value {
                    Some(v) if !ttl.is_zero() && keep(v) => {
                        slots.insert(key, Slot::Done { value: v.clone(), until: now + ttl });
                    }
                    _ => {
                        slots.remove(&key);
                    }
                }
                // Expired entries go here, so the map holds at most the requests of the last `ttl`.
                slots.retain(|_, slot| !matches!(slot, Slot::Done { until, .. } if *until <= now));
            }
            if let Some(v) = value {
                let _ = tx.send(v);
            }
        });
        rx.map(Result::ok).boxed().shared()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counted(runs: &Arc<AtomicUsize>, delay: Duration, value: u32) -> impl Future<Output = u32> + Send + 'static {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            value
        }
    }

    fn always(_: &u32) -> bool {
        true
    }

    #[tokio::test]
    async fn concurrent_identical_requests_share_one_run() {
        let coalescer = Arc::new(Coalescer::new(Duration::ZERO));
        let runs = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (coalescer, runs) = (coalescer.clone(), runs.clone());
                tokio::spawn(async move {
                    coalescer.get("k", always, || counted(&runs, Duration::from_millis(100), 7)).await
                })
            })
            .collect();
        let mut sources = Vec::new();
        for task in tasks {
            let (value, source) = task.await.unwrap();
            assert_eq!(value, Some(7));
            sources.push(source);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(sources.iter().filter(|s| **s == Source::Ran).count(), 1);
        // Without a TTL, the next request runs again.
        coalescer.get("k", always, || counted(&runs, Duration::ZERO, 8)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn answers_are_cached_for_the_ttl_when_keepable() {
        let coalescer = Coalescer::new(Duration::from_millis(300));
        let runs = Arc::new(AtomicUsize::new(0));
        assert_eq!(coalescer.get("a", always, || counted(&runs, Duration::ZERO, 1)).await, (Some(1), Source::Ran));
        assert_eq!(coalescer.get("a", always, || counted(&runs, Duration::ZERO, 2)).await, (Some(1), Source::Cached));
        assert_eq!(coalescer.get("b", always, || counted(&runs, Duration::ZERO, 3)).await.1, Source::Ran, "other key");
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(coalescer.get("a", always, || counted(&runs, Duration::ZERO, 4)).await, (Some(4), Source::Ran));

        fn never(_: &u32) -> bool {
            false
        }
        coalescer.get("c", never, || counted(&runs, Duration::ZERO, 5)).await;
        assert_eq!(coalescer.get("c", never, || counted(&runs, Duration::ZERO, 6)).await, (Some(6), Source::Ran));
    }

    #[tokio::test]
    async fn a_panicking_run_answers_none_and_leaves_no_entry() {
        let coalescer = Coalescer::new(Duration::from_secs(60));
        let (value, _) = coalescer
            .get("p", always, || async {
                if true {
                    panic!("work failed");
                }
                0
            })
            .await;
        assert_eq!(value, None);
        assert_eq!(coalescer.get("p", always, || async { 9 }).await, (Some(9), Source::Ran));
    }
}
