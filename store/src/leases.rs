//! Leases of the singleton jobs, with fencing tokens, and the one-process lock of SQLite.
//!
//! On PostgreSQL several node instances share one database, and each singleton job (indexer,
//! anchor, evidence anchorer, epoch job) runs on one of them at a time: the instance that holds
//! the job's row in `leases`. A lease is taken when it is free or has run out
//! ([`acquire`]), kept by renewing it before it runs out ([`renew`]) and given up at shutdown
//! ([`release`]). Every change of holder raises the row's fencing token.
//!
//! A job's writes go through a store made with [`crate::Store::fenced`]: each transaction it
//! begins first checks, in that transaction, that the lease still names this instance and the
//! token of its term (`FOR SHARE` on PostgreSQL, so a takeover waits for the write in progress
//! and every write after the takeover is refused). A holder that paused past its lease (a GC, a
//! stopped VM) and resumes therefore cannot write after its successor started: its write fails
//! with [`crate::Error::Fenced`].
//!
//! On SQLite one process owns the database ([`ProcessLock`]), so a lease is always granted to
//! whoever asks: the same code runs, the check is trivially true.
//!
//! Times are unix milliseconds of the instances' clocks (kept in step by NTP); a lease time of
//! seconds tolerates the usual skew.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use sqlx::Row as _;

use crate::{Backend, Conn, Error, Result, Store};

/// Current unix time in milliseconds.
pub fn now_millis() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// One instance's hold on one job's lease: the job, this instance's id and the token of the
/// current term (none when not held). Shared by the lease keeper, which sets and clears it, and
/// the fenced store of the job, which checks it in every transaction.
#[derive(Debug)]
pub struct Fence {
    job: String,
    holder: String,
    /// The token of the term held; 0 when not held.
    token: AtomicI64,
    /// When the term started (unix ms); 0 when not held.
    since: AtomicI64,
    /// Writes refused because the token was superseded.
    refused: AtomicU64,
}

impl Fence {
    /// A fence for `job` held by instance `holder`, not held yet.
    pub fn new(job: impl Into<String>, holder: impl Into<String>) -> Arc<Self> {
        Arc::new(Self {
            job: job.into(),
            holder: holder.into(),
            token: AtomicI64::new(0),
            since: AtomicI64::new(0),
            refused: AtomicU64::new(0),
        })
    }

    /// The job.
    pub fn job(&self) -> &str {
        &self.job
    }

    /// This instance's id.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// The token of the term held, None when not held.
    pub fn token(&self) -> Option<i64> {
        Some(self.token.load(Ordering::Acquire)).filter(|t| *t > 0)
    }

    /// Whether this instance holds the lease.
    pub fn held(&self) -> bool {
        self.token().is_some()
    }

    /// When the current term started (unix ms), None when not held.
    pub fn since(&self) -> Option<i64> {
        self.held().then(|| self.since.load(Ordering::Acquire))
    }

    /// Writes refused by fencing since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Starts a term with `token`.
    pub fn begin_term(&self, token: i64, since: i64) {
        self.since.store(since, Ordering::Release);
        self.token.store(token, Ordering::Release);
    }

    /// Ends the current term (the lease was lost or given up).
    pub fn end_term(&self) {
        self.token.store(0, Ordering::Release);
        self.since.store(0, Ordering::Release);
    }

    /// Checks, on `conn` (inside the caller's transaction when it has one), that the lease still
    /// names this instance with the current token. On PostgreSQL the row stays share-locked to
    /// the end of that transaction, so no takeover can commit in between.
    pub(crate) async fn check(&self, conn: &mut Conn, backend: Backend, in_transaction: bool) -> Result<()> {
        let Some(token) = self.token() else {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(Error::Fenced { job: self.job.clone(), token: 0 });
        };
        let sql = if backend == Backend::Postgres && in_transaction {
            "SELECT token FROM leases WHERE job = $1 AND holder = $2 AND token = $3 FOR SHARE"
        } else {
            "SELECT token FROM leases WHERE job = $1 AND holder = $2 AND token = $3"
        };
        let found = sqlx::query(sql).bind(&self.job).bind(&self.holder).bind(token).fetch_optional(&mut *conn).await?;
        if found.is_none() {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(Error::Fenced { job: self.job.clone(), token });
        }
        Ok(())
    }
}

/// A lease as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    /// The job.
    pub job: String,
    /// The instance holding it.
    pub holder: String,
    /// The fencing token of the current term.
    pub token: i64,
    /// When the current holder took it (unix ms).
    pub acquired_at: i64,
    /// When it was last renewed (unix ms).
    pub renewed_at: i64,
    /// When it runs out unless renewed (unix ms).
    pub expires_at: i64,
}

/// Takes `job`'s lease for `holder` until `now + ttl_ms` when it is free, has run out, or names
/// `holder` already (the same instance restarted: its earlier incarnation's term ends here), and
/// on SQLite always; returns the new term's token, raised from the last one, or None when another
/// instance holds it.
pub async fn acquire(store: &Store, job: &str, holder: &str, now: i64, ttl_ms: i64) -> Result<Option<i64>> {
    let always = i64::from(store.backend() == Backend::Sqlite);
    let row = sqlx::query(
        "INSERT INTO leases (job, holder, token, acquired_at, renewed_at, expires_at) \
         VALUES ($1, $2, 1, $3, $3, $4) \
         ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, token = leases.token + 1, \
             acquired_at = excluded.acquired_at, renewed_at = excluded.renewed_at, \
             expires_at = excluded.expires_at \
         WHERE leases.expires_at <= excluded.acquired_at OR leases.holder = excluded.holder OR $5 = 1 \
         RETURNING token",
    )
    .bind(job)
    .bind(holder)
    .bind(now)
    .bind(now.saturating_add(ttl_ms))
    .bind(always)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| r.try_get::<i64, _>(0)).transpose()?)
}

/// Extends `holder`'s term `token` of `job` to `now + ttl_ms`; false when the term is over (the
/// token was superseded by another instance's [`acquire`]).
pub async fn renew(store: &Store, job: &str, holder: &str, token: i64, now: i64, ttl_ms: i64) -> Result<bool> {
    let done =
        sqlx::query("UPDATE leases SET renewed_at = $4, expires_at = $5 WHERE job = $1 AND holder = $2 AND token = $3")
            .bind(job)
            .bind(holder)
            .bind(token)
            .bind(now)
            .bind(now.saturating_add(ttl_ms))
            .execute(store.pool())
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives up `holder`'s term `token` of `job` (at shutdown), so a standby takes it at once.
pub async fn release(store: &Store, job: &str, holder: &str, token: i64) -> Result<()> {
    sqlx::query("UPDATE leases SET expires_at = 0 WHERE job = $1 AND holder = $2 AND token = $3")
        .bind(job)
        .bind(holder)
        .bind(token)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Every lease, by job.
pub async fn list(store: &Store) -> Result<Vec<LeaseRow>> {
    let rows = sqlx::query("SELECT job, holder, token, acquired_at, renewed_at, expires_at FROM leases ORDER BY job")
        .fetch_all(store.pool())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(LeaseRow {
                job: r.try_get(0)?,
                holder: r.try_get(1)?,
                token: r.try_get(2)?,
                acquired_at: r.try_get(3)?,
                renewed_at: r.try_get(4)?,
                expires_at: r.try_get(5)?,
            })
        })
        .collect()
}

/// `job`'s lease, if it was ever taken.
pub async fn get(store: &Store, job: &str) -> Result<Option<LeaseRow>> {
    Ok(list(store).await?.into_iter().find(|l| l.job == job))
}

/// An exclusive advisory lock on a file beside a SQLite database, held while this value lives:
/// a second process opening the same database refuses to start ([`Error::InUse`]). The lock is
/// the operating system's (`flock`), so it goes with the process, however it ends.
#[derive(Debug)]
pub struct ProcessLock {
    _file: std::fs::File,
    path: std::path::PathBuf,
}

impl ProcessLock {
    /// Locks the database at `url` for this process when it is a SQLite file; None for
    /// PostgreSQL (shared by design) and in-memory SQLite.
    pub fn for_url(url: &str) -> Result<Option<Self>> {
        if Backend::from_url(url)? != Backend::Sqlite {
            return Ok(None);
        }
        let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        let path = rest.split('?').next().unwrap_or("");
        if path.is_empty() || path == ":memory:" || rest.contains("mode=memory") {
            return Ok(None);
        }
        Self::lock(std::path::Path::new(path)).map(Some)
    }

    /// Locks `db` (the database file) through `db` + `.lock`.
    pub fn lock(db: &std::path::Path) -> Result<Self> {
        let mut name = db.as_os_str().to_owned();
        name.push(".lock");
        let path = std::path::PathBuf::from(name);
        let shown = path.display().to_string();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| Error::Lock { path: shown.clone(), source })?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file, path }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::InUse { path: db.display().to_string(), lock: shown }),
            Err(std::fs::TryLockError::Error(source)) => Err(Error::Lock { path: shown, source }),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}
