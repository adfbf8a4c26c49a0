//! Leadership of the singleton jobs among instances sharing a database.
//!
//! Each singleton job has a [`Lease`]: a [`LeaseKeeper`] task takes it when it is free or has
//! run out, renews it every `[leases] renew_secs`, and ends the term when the lease was taken
//! over or could not be renewed before it ran out. The job itself runs inside [`Leased`], which
//! steps it only during a term that is ready (its takeover work done), builds it afresh at each
//! new term (its state is re-read from the store, as after a restart) and drops it the moment the
//! term ends. The job's store is fenced by the lease ([`jejak_store::Store::fenced`]), so a write
//! made after the term ended (a holder that paused past its lease) is refused by the database:
//! the job's step fails, [`Leased`] sees the term over and stands by, saying so in the log.
//!
//! A lease may depend on another held here: the evidence and epoch jobs send through the anchor
//! role's transaction sender (one owner of the key's nonces), so they take their leases only on
//! the instance whose anchor term is ready, and give them up with it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use jejak_runtime::{Classify, Job, Pace, Severity};
use jejak_store::Store;
use jejak_store::leases::{self, Fence};
use tokio::time::Instant;

const TARGET: &str = "jejak::leader";

/// How often a job's term is looked at while a step runs.
const TERM_WATCH: Duration = Duration::from_millis(100);

/// What must be done at the start of a term before the job runs (the anchor role reconciles
/// every transaction recorded by an earlier holder).
pub type TermStart = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = Result<(), HookError>> + Send>> + Send>;

/// A takeover step that failed.
#[derive(Debug)]
pub struct HookError {
    /// What went wrong.
    pub message: String,
    /// Whether retrying can help.
    pub severity: Severity,
}

impl HookError {
    /// From any classified error.
    pub fn from<E: Classify + std::fmt::Display>(e: E) -> Self {
        Self { message: e.to_string(), severity: e.severity() }
    }
}

/// One job's lease as this instance sees it.
#[derive(Debug)]
pub struct Lease {
    /// The term held (if any), shared with the job's fenced store.
    pub fence: Arc<Fence>,
    /// The token of the term whose takeover work is done (0: none).
    ready: AtomicI64,
}

impl Lease {
    /// A lease of `job` for instance `holder`, not held yet.
    pub fn new(job: &str, holder: &str) -> Arc<Self> {
        Arc::new(Self { fence: Fence::new(job, holder), ready: AtomicI64::new(0) })
    }

    /// The token of the current term once it is ready to run the job.
    pub fn ready_token(&self) -> Option<i64> {
        let token = self.fence.token()?;
        (self.ready.load(Ordering::Acquire) == token).then_some(token)
    }

    /// The job's name.
    pub fn job(&self) -> &str {
        self.fence.job()
    }

    fn end_term(&self) {
        self.ready.store(0, Ordering::Release);
        self.fence.end_term();
    }
}

/// Lease timing.
#[derive(Debug, Clone, Copy)]
pub struct LeaseTiming {
    /// How long a lease lasts unless renewed.
    pub ttl: Duration,
    /// How often it is renewed (and a lapsed one looked for).
    pub renew: Duration,
}

/// Why a lease keeper stopped.
#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    /// The database.
    #[error(transparent)]
    Store(#[from] jejak_store::Error),
    /// The takeover work of a new term.
    #[error("taking over `{job}`: {message}")]
    TermStart {
        /// The job.
        job: String,
        /// What went wrong.
        message: String,
        /// Whether retrying can help.
        severity: Severity,
    },
}

impl Classify for KeeperError {
    fn severity(&self) -> Severity {
        match self {
            KeeperError::Store(e) => e.severity(),
            KeeperError::TermStart { severity, .. } => *severity,
        }
    }
}

/// Takes, renews and gives up one lease (a supervised task).
pub struct LeaseKeeper {
    store: Store,
    lease: Arc<Lease>,
    timing: LeaseTiming,
    requires: Option<Arc<Lease>>,
    on_term: Option<TermStart>,
    /// Until when the current term is certainly ours (the lease's expiry as last renewed, by
    /// this process's clock).
    valid_until: Instant,
}

impl std::fmt::Debug for LeaseKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseKeeper").field("lease", &self.lease).field("timing", &self.timing).finish_non_exhaustive()
    }
}

impl LeaseKeeper {
    /// A keeper of `lease` on `store` (unfenced).
    pub fn new(store: Store, lease: Arc<Lease>, timing: LeaseTiming) -> Self {
        Self { store, lease, timing, requires: None, on_term: None, valid_until: Instant::now() }
    }

    /// Takes the lease only while `other`'s term is ready here, and gives it up with it.
    pub fn requires(mut self, other: Arc<Lease>) -> Self {
        self.requires = Some(other);
        self
    }

    /// Runs `hook` at the start of each term, before the job may run.
    pub fn on_term(mut self, hook: TermStart) -> Self {
        self.on_term = Some(hook);
        self
    }

    fn ttl_ms(&self) -> i64 {
        i64::try_from(self.timing.ttl.as_millis()).unwrap_or(i64::MAX)
    }

    async fn give_up(&mut self, why: &str) {
        if let Some(token) = self.lease.fence.token() {
            self.lease.end_term();
            tracing::info!(target: TARGET, job = self.lease.job(), token, why, "giving the lease up");
            let f = &self.lease.fence;
            if let Err(e) = leases::release(&self.store, f.job(), f.holder(), token).await {
                tracing::debug!(target: TARGET, job = f.job(), error = %e, "releasing the lease failed; it runs out by itself");
            }
        }
    }

    async fn keep(&mut self, token: i64) -> Result<(), KeeperError> {
        let started = Instant::now();
        let f = self.lease.fence.clone();
        let left = self.valid_until.saturating_duration_since(started);
        let renewed = tokio::time::timeout(
            left,
            leases::renew(&self.store, f.job(), f.holder(), token, leases::now_millis(), self.ttl_ms()),
        )
        .await;
        match renewed {
            Ok(Ok(true)) => {
                self.valid_until = started + self.timing.ttl;
                Ok(())
            }
            Ok(Ok(false)) => {
                self.lease.end_term();
                tracing::error!(target: TARGET, job = f.job(), token,
                    "lease lost: another instance took the job over; this one stands by (its writes are refused by fencing)");
                Ok(())
            }
            Ok(Err(e)) if e.is_fatal() => Err(e.into()),
            Ok(Err(_)) | Err(_) if Instant::now() >= self.valid_until => {
                self.lease.end_term();
                tracing::error!(target: TARGET, job = f.job(), token,
                    "the lease could not be renewed before it ran out; this instance stands by");
                Ok(())
            }
            Ok(Err(e)) => {
                tracing::warn!(target: TARGET, job = f.job(), error = %e, "renewing the lease failed; retrying before it runs out");
                Ok(())
            }
            Err(_) => Ok(()),
        }
    }
}

impl Job for LeaseKeeper {
    type Error = KeeperError;

    async fn step(&mut self) -> Result<Pace, KeeperError> {
        let idle = Pace::Idle(self.timing.renew);
        if let Some(other) = &self.requires
            && other.ready_token().is_none()
        {
            let why = format!("the `{}` lease is not held here", other.job());
            self.give_up(&why).await;
            return Ok(Pace::Idle(self.timing.renew.min(Duration::from_millis(500))));
        }
        match self.lease.fence.token() {
            Some(token) => {
                self.keep(token).await?;
                if let Some(token) = self.lease.fence.token()
                    && self.lease.ready.load(Ordering::Acquire) != token
                {
                    // The takeover work of this term failed last time: again.
                    self.start_term(token).await?;
                }
            }
            None => {
                let f = self.lease.fence.clone();
                let started = Instant::now();
                let now = leases::now_millis();
                if let Some(token) = leases::acquire(&self.store, f.job(), f.holder(), now, self.ttl_ms()).await? {
                    self.valid_until = started + self.timing.ttl;
                    f.begin_term(token, now);
                    tracing::info!(target: TARGET, job = f.job(), holder = f.holder(), token, "lease taken: this instance runs the job");
                    self.start_term(token).await?;
                }
            }
        }
        Ok(idle)
    }
}

impl LeaseKeeper {
    async fn start_term(&mut self, token: i64) -> Result<(), KeeperError> {
        if let Some(hook) = &mut self.on_term {
            match hook().await {
                Ok(()) => {}
                Err(e) if e.severity == Severity::Fatal => {
                    return Err(KeeperError::TermStart {
                        job: self.lease.job().to_owned(),
                        message: e.message,
                        severity: e.severity,
                    });
                }
                Err(e) => {
                    tracing::warn!(target: TARGET, job = self.lease.job(), error = %e.message,
                        "the takeover work failed; the job waits and it is tried again");
                    return Ok(());
                }
            }
        }
        if self.lease.fence.token() == Some(token) {
            self.lease.ready.store(token, Ordering::Release);
        }
        Ok(())
    }
}

/// Gives up every lease `leases` holds (at a clean shutdown, so standbys take over at once).
pub async fn release_all(store: &Store, held: &[Arc<Lease>]) {
    for lease in held {
        if let Some(token) = lease.fence.token() {
            lease.end_term();
            let f = &lease.fence;
            if let Err(e) = leases::release(store, f.job(), f.holder(), token).await {
                tracing::debug!(target: TARGET, job = f.job(), error = %e, "releasing the lease failed; it runs out by itself");
            }
        }
    }
}

/// Why a leased job failed.
#[derive(Debug, thiserror::Error)]
pub enum LeasedError<E> {
    /// The job.
    #[error(transparent)]
    Job(E),
    /// Looking the lease up after a failure.
    #[error(transparent)]
    Store(#[from] jejak_store::Error),
}

impl<E: Classify> Classify for LeasedError<E> {
    fn severity(&self) -> Severity {
        match self {
            LeasedError::Job(e) => e.severity(),
            LeasedError::Store(e) => e.severity(),
        }
    }
}

/// A singleton job that runs only during this instance's ready terms of its lease.
pub struct Leased<J, F> {
    lease: Arc<Lease>,
    store: Store,
    make: F,
    current: Option<(i64, J)>,
    poll: Duration,
}

impl<J, F> std::fmt::Debug for Leased<J, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leased").field("lease", &self.lease).finish_non_exhaustive()
    }
}

impl<J, F> Leased<J, F>
where
    J: Job,
    F: FnMut() -> Result<J, J::Error> + Send,
{
    /// Runs the jobs `make` builds (one per term) while `lease` is held; `store` (unfenced)
    /// looks the lease up when a step fails; standbys look again every `poll`.
    pub fn new(lease: Arc<Lease>, store: Store, poll: Duration, make: F) -> Self {
        Self { lease, store, make, current: None, poll }
    }
}

/// Whether the term `token` of `lease` is over: by this instance's view, or else by the
/// database's (a write refused by fencing before the keeper noticed).
async fn term_over(lease: &Lease, store: &Store, token: i64) -> Result<bool, jejak_store::Error> {
    if lease.ready_token() != Some(token) {
        return Ok(true);
    }
    let row = leases::get(store, lease.job()).await?;
    let mine = row.is_some_and(|r| r.token == token && r.holder == lease.fence.holder());
    if !mine {
        lease.end_term();
    }
    Ok(!mine)
}

impl<J, F> Job for Leased<J, F>
where
    J: Job,
    J::Error: Send,
    F: FnMut() -> Result<J, J::Error> + Send,
{
    type Error = LeasedError<J::Error>;

    async fn step(&mut self) -> Result<Pace, Self::Error> {
        let Some(token) = self.lease.ready_token() else {
            if let Some((old, _)) = self.current.take() {
                tracing::warn!(target: TARGET, job = self.lease.job(), token = old, "term over: the job stops here and stands by");
            }
            return Ok(Pace::Idle(self.poll));
        };
        if self.current.as_ref().is_none_or(|(t, _)| *t != token) {
            let job = (self.make)().map_err(LeasedError::Job)?;
            self.current = Some((token, job));
        }
        let lease = self.lease.clone();
        let Some((_, job)) = self.current.as_mut() else { return Ok(Pace::Busy) };
        let watch = async {
            while lease.ready_token() == Some(token) {
                tokio::time::sleep(TERM_WATCH).await;
            }
        };
        let outcome = tokio::select! {
            r = job.step() => Some(r),
            () = watch => None,
        };
        match outcome {
            // The term ended mid-step: the step is dropped, as a crash would (every job resumes
            // from the store), and its writes after the takeover were refused by fencing.
            None => {
                self.current = None;
                tracing::warn!(target: TARGET, job = self.lease.job(), token, "term over during a step: the step is dropped");
                Ok(Pace::Busy)
            }
            Some(Ok(pace)) => Ok(pace),
            Some(Err(e)) => {
                if term_over(&self.lease, &self.store, token).await? {
                    self.current = None;
                    tracing::error!(target: TARGET, job = self.lease.job(), token, error = %e,
                        "a write was refused by fencing: another instance holds the job now; this one stands by");
                    Ok(Pace::Busy)
                } else {
                    Err(LeasedError::Job(e))
                }
            }
        }
    }
}

/// This instance's id: configured, else host name, process id and a random suffix.
pub fn instance_id(configured: Option<&str>) -> String {
    if let Some(id) = configured {
        return id.to_owned();
    }
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "node".into());
    format!("{host}-{}-{:04x}", std::process::id(), rand::random::<u16>())
}
