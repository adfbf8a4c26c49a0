//! The task runtime of jejak: one supervision policy for every background task.
//!
//! Each long-running job of the node (indexer, document fetcher, batcher, evidence anchorer,
//! epoch job, webhook worker, the API's nullifier writer) is a [`Job`]: it does one unit of work
//! per [`Job::step`] and says how soon it wants the next ([`Pace`]). [`supervise`] runs it until
//! shutdown under one policy:
//!
//! - **Transient** failures (database, RPC, IPFS, a receiver down) are retried with capped
//!   exponential backoff and full jitter ([`backoff`]). A streak of failures is logged once when
//!   it starts and once when it ends, and counted in [`Health`] (exported as metrics).
//! - **Fatal** failures (a reorganisation below finality, a corrupt store, a configuration that
//!   cannot work) end the job with its error: the node then stops loudly rather than run half
//!   alive. Which is which is the job's error's to say ([`Classify`]); the supervisor decides.
//! - **Shutdown** is seen between steps and during every wait. A step in progress is given
//!   [`Policy::grace`] to finish (the current commit completes); every job is crash-safe, so one
//!   that takes longer is dropped as a crash would, and resumes at the next start.
//!
//! A panic is not caught here: the node treats a task that panicked as failed (fatal).

use std::collections::BTreeMap;
use std::fmt::Display;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

const TARGET: &str = "jejak::supervisor";

/// Whether a failure is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Retrying can succeed: a database restart, an RPC outage, a receiver down.
    Transient,
    /// Going on would be wrong or cannot work: stop the node.
    Fatal,
}

/// An error that knows its [`Severity`].
pub trait Classify {
    /// How the supervisor treats this error.
    fn severity(&self) -> Severity;

    /// Whether the error must stop the node.
    fn is_fatal(&self) -> bool {
        self.severity() == Severity::Fatal
    }
}

/// When a job wants its next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// At once: there is more to do.
    Busy,
    /// After this long (or at shutdown): caught up.
    Idle(Duration),
    /// Never: the job is finished (a queue whose senders are all gone).
    Done,
}

/// A unit of background work the supervisor drives.
pub trait Job: Send {
    /// The job's error; it says whether it is fatal.
    type Error: Classify + Display + Send;

    /// One unit of work. Must be safe to drop part-way (as a crash would).
    fn step(&mut self) -> impl Future<Output = Result<Pace, Self::Error>> + Send;

    /// Whether the job stops when shutdown is requested (the default) or runs until it reports
    /// [`Pace::Done`]: a queue that must drain after the requests that feed it.
    fn stops_with_shutdown(&self) -> bool {
        true
    }
}

/// Backoff and shutdown settings of the supervisor.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// First retry delay after a transient failure.
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_cap: Duration,
    /// How long a step in progress at shutdown may take to finish.
    pub grace: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(60),
            grace: Duration::from_secs(10),
        }
    }
}

/// Capped exponential backoff with full jitter: a delay in `[d/2, d)` where
/// `d = min(cap, base * 2^attempt)`; attempt 0 is the first retry.
pub fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(20)).min(cap);
    exp.mul_f64(0.5 + 0.5 * rand::random::<f64>())
}

/// How one task is doing, for metrics and status pages.
#[derive(Debug, Default)]
pub struct TaskHealth {
    /// Transient failures since start.
    pub failures_total: AtomicU64,
    /// Failures in the current streak (0: healthy).
    pub streak: AtomicU64,
    /// Whether the task stopped on a fatal error.
    pub fatal: AtomicBool,
}

/// The health of every supervised task, by name.
#[derive(Debug, Default)]
pub struct Health {
    tasks: Mutex<BTreeMap<&'static str, Arc<TaskHealth>>>,
}

impl Health {
    /// The entry of task `name`, made on first use.
    pub fn task(&self, name: &'static str) -> Arc<TaskHealth> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner()).entry(name).or_default().clone()
    }

    /// Every task with its entry, by name.
    pub fn snapshot(&self) -> Vec<(&'static str, Arc<TaskHealth>)> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|(k, v)| (*k, v.clone())).collect()
    }
}

/// Runs `job` as task `name` under the policy until shutdown (or until it is done). Returns the
/// error that made it stop when that error is fatal; transient ones never end it.
pub async fn supervise<J: Job>(
    name: &'static str,
    mut job: J,
    policy: Policy,
    health: &Health,
    shutdown: CancellationToken,
) -> Result<(), J::Error> {
    let me = health.task(name);
    let stops = job.stops_with_shutdown();
    let mut streak: u32 = 0;
    let mut streak_started = Instant::now();
    tracing::debug!(target: TARGET, task = name, "task started");
    loop {
        if stops && shutdown.is_cancelled() {
            tracing::debug!(target: TARGET, task = name, "task stopped");
            return Ok(());
        }
        let outcome = {
            let step = job.step();
            tokio::pin!(step);
            let early = if stops {
                tokio::select! {
                    r = &mut step => Some(r),
                    _ = shutdown.cancelled() => None,
                }
            } else {
                Some(step.as_mut().await)
            };
            match early {
                Some(r) => r,
                None => match tokio::time::timeout(policy.grace, &mut step).await {
                    Ok(r) => r,
                    Err(_) => {
                        tracing::warn!(target: TARGET, task = name, grace = ?policy.grace,
                            "step still running after the shutdown grace; dropped (it resumes at the next start)");
                        return Ok(());
                    }
                },
            }
        };
        let wait = match outcome {
            Ok(pace) => {
                if streak > 0 {
                    tracing::info!(target: TARGET, task = name, failures = streak,
                        after = ?streak_started.elapsed(), "task recovered");
                    streak = 0;
                    me.streak.store(0, Ordering::Relaxed);
                }
                match pace {
                    Pace::Busy => continue,
                    Pace::Idle(d) => d,
                    Pace::Done => {
                        tracing::debug!(target: TARGET, task = name, "task finished");
                        return Ok(());
                    }
                }
            }
            Err(e) if e.is_fatal() => {
                me.fatal.store(true, Ordering::Relaxed);
                tracing::error!(target: TARGET, task = name, error = %e, "fatal error: the task stops and the node with it");
                return Err(e);
            }
            Err(e) => {
                let delay = backoff(streak, policy.backoff_base, policy.backoff_cap);
                if streak == 0 {
                    streak_started = Instant::now();
                    tracing::warn!(target: TARGET, task = name, error = %e, retry_in = ?delay,
                        "task failed; retrying with backoff (logged once until it recovers)");
                } else {
                    tracing::debug!(target: TARGET, task = name, error = %e, failures = streak + 1, retry_in = ?delay, "task still failing");
                }
                streak = streak.saturating_add(1);
                me.streak.store(u64::from(streak), Ordering::Relaxed);
                me.failures_total.fetch_add(1, Ordering::Relaxed);
                delay
            }
        };
        if stops {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        } else {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    #[derive(Debug)]
    struct Failure(Severity);

    impl Display for Failure {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{:?} failure", self.0)
        }
    }

    impl Classify for Failure {
        fn severity(&self) -> Severity {
            self.0
        }
    }

    /// Plays a script of outcomes, then stays idle.
    struct Script {
        outcomes: VecDeque<Result<Pace, Failure>>,
        steps: Arc<AtomicU64>,
        drains: bool,
    }

    impl Job for Script {
        type Error = Failure;

        async fn step(&mut self) -> Result<Pace, Failure> {
            self.steps.fetch_add(1, Ordering::Relaxed);
            self.outcomes.pop_front().unwrap_or(Ok(Pace::Idle(Duration::from_secs(1))))
        }

        fn stops_with_shutdown(&self) -> bool {
            !self.drains
        }
    }

    fn script(outcomes: Vec<Result<Pace, Failure>>) -> (Script, Arc<AtomicU64>) {
        let steps = Arc::new(AtomicU64::new(0));
        (Script { outcomes: outcomes.into(), steps: steps.clone(), drains: false }, steps)
    }

    const FAST: Policy = Policy {
        backoff_base: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(4),
        grace: Duration::from_millis(50),
    };

    #[tokio::test]
    async fn transient_failures_are_retried_counted_and_forgotten_on_success() {
        let t = || Err(Failure(Severity::Transient));
        let (job, steps) = script(vec![t(), t(), t(), Ok(Pace::Busy), t(), Ok(Pace::Done)]);
        let health = Health::default();
        supervise("job", job, FAST, &health, CancellationToken::new()).await.unwrap();
        assert_eq!(steps.load(Ordering::Relaxed), 6);
        let h = health.task("job");
        assert_eq!(h.failures_total.load(Ordering::Relaxed), 4);
        assert_eq!(h.streak.load(Ordering::Relaxed), 0, "recovered");
        assert!(!h.fatal.load(Ordering::Relaxed));
    }

    #[tokio::test]
    async fn a_fatal_failure_ends_the_task_with_its_error() {
        let (job, steps) =
            script(vec![Err(Failure(Severity::Transient)), Err(Failure(Severity::Fatal)), Ok(Pace::Busy)]);
        let health = Health::default();
        let e = supervise("job", job, FAST, &health, CancellationToken::new()).await.unwrap_err();
        assert_eq!(e.0, Severity::Fatal);
        assert_eq!(steps.load(Ordering::Relaxed), 2, "nothing after the fatal error");
        assert!(health.task("job").fatal.load(Ordering::Relaxed));
    }

    #[tokio::test]
    async fn shutdown_ends_a_wait_at_once() {
        let (job, steps) = script(vec![Ok(Pace::Idle(Duration::from_secs(3600)))]);
        let token = CancellationToken::new();
        let health = Health::default();
        let running = tokio::spawn({
            let token = token.clone();
            async move { supervise("job", job, Policy::default(), &health, token).await }
        });
        while steps.load(Ordering::Relaxed) == 0 {
            tokio::task::yield_now().await;
        }
        token.cancel();
        running.await.unwrap().unwrap();
        assert_eq!(steps.load(Ordering::Relaxed), 1);
    }

    /// A step in progress at shutdown finishes within the grace; one that does not is dropped.
    #[tokio::test]
    async fn a_step_in_progress_gets_the_grace_to_finish() {
        /// A step that ends when the test says so, and tells when it started.
        struct Held {
            started: Arc<tokio::sync::Notify>,
            release: Arc<tokio::sync::Notify>,
            finished: Arc<AtomicBool>,
        }
        impl Job for Held {
            type Error = Failure;
            async fn step(&mut self) -> Result<Pace, Failure> {
                self.started.notify_one();
                self.release.notified().await;
                self.finished.store(true, Ordering::Relaxed);
                Ok(Pace::Busy)
            }
        }
        for (released, grace) in [(true, Duration::from_secs(30)), (false, Duration::from_millis(20))] {
            let (started, release) = (Arc::new(tokio::sync::Notify::new()), Arc::new(tokio::sync::Notify::new()));
            let finished = Arc::new(AtomicBool::new(false));
            let job = Held { started: started.clone(), release: release.clone(), finished: finished.clone() };
            let token = CancellationToken::new();
            let policy = Policy { grace, ..FAST };
            let running = tokio::spawn({
                let token = token.clone();
                async move { supervise("held", job, policy, &Health::default(), token).await }
            });
            started.notified().await;
            token.cancel();
            if released {
                release.notify_one();
            }
            running.await.unwrap().unwrap();
            assert_eq!(finished.load(Ordering::Relaxed), released, "released: {released}");
        }
    }

    #[tokio::test]
    async fn a_draining_job_runs_past_shutdown_until_done() {
        let (mut job, steps) = script(vec![Ok(Pace::Busy), Ok(Pace::Busy), Ok(Pace::Done)]);
        job.drains = true;
        let token = CancellationToken::new();
        token.cancel();
        supervise("queue", job, FAST, &Health::default(), token).await.unwrap();
        assert_eq!(steps.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let (base, cap) = (Duration::from_millis(100), Duration::from_secs(2));
        for attempt in 0..40 {
            let full = base.saturating_mul(1 << attempt.min(20)).min(cap);
            let d = backoff(attempt, base, cap);
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?} for {full:?}");
        }
    }
}
