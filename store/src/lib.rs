//! Storage of jejak: the only crate that issues SQL.
//!
//! One [`Store`] over SQLite (the embedded default, a file under the data directory) or
//! PostgreSQL (production, and several node instances sharing one database), through sqlx's
//! `Any` driver so that every query is written once. Queries use `$n` placeholders, which both
//! engines accept. Migrations live in `migrations/sqlite` and `migrations/postgres` at the
//! workspace root and run when a store is opened.
//!
//! Modules group queries by what they serve: [`keys`] (API keys), [`attestations`] (accepted
//! events and idempotency), [`batches`] (batches built by the node), [`chain`] (indexed contract
//! events, the block window and the cursor), [`ipfs`] (the IPFS fetch queue), [`evidence`]
//! (proof-of-reality tasks, files, the append-only evidence log, verdicts, checkpoints), [`scores`]
//! (reputation epochs, worker scores, the attestations an epoch counts), [`proofs`] (consumed
//! nullifiers, root states), [`credentials`] (issued credentials, revocation), [`webhooks`]
//! (incoming secrets, outgoing subscriptions and deliveries), [`explorer`] (public chain facts
//! counted and paged for the explorer), [`identities`] (node-held identity
//! secrets, sealed), [`links`] (link tokens used), [`sends`] (transactions the node signed, reconciled before any re-send),
//! [`market`] (the marketplace's gigs, their append-only history, search, idempotent answers),
//! [`leases`] (which instance runs each singleton job, fencing tokens, SQLite's one-process lock),
//! [`ratelimits`] (per-key token buckets shared by API replicas, PostgreSQL). [`keys::KeyChanges`]
//! hears key changes made by any instance (PostgreSQL `LISTEN jejak_keys`).
//! Query
//! functions take a connection (`&mut AnyConnection`), so callers choose whether they run inside
//! a transaction.

pub mod attestations;
pub mod batches;
pub mod chain;
pub mod credentials;
mod error;
pub mod evidence;
pub mod explorer;
pub mod identities;
pub mod ipfs;
pub mod keys;
pub mod leases;
pub mod links;
pub mod market;
pub mod proofs;
pub mod ratelimits;
pub mod scores;
pub mod sends;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;
pub mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection as _, Executor as _};

pub use error::{Error, Result};
pub use sqlx::AnyConnection as Conn;

/// A transaction on the store.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// The engine a database URL names.
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            Err(Error::UnsupportedUrl(redact(url)))
        }
    }
}

/// A connection pool on SQLite or PostgreSQL with the jejak schema.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// A leased job's store: every transaction and connection checks the job's lease first.
    fence: Option<std::sync::Arc<leases::Fence>>,
    /// Where a listener connects (PostgreSQL only).
    listen_url: Option<Secret>,
}

/// A database URL, which may carry a password: never printed.
#[derive(Clone)]
struct Secret(std::sync::Arc<str>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<database url>")
    }
}

/// Pool settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most connections (default: 4 on SQLite, whose writers queue anyway; 16 on PostgreSQL).
    pub max_connections: Option<u32>,
    /// How long a task waits for a free connection before it fails (transiently).
    pub acquire_timeout: Duration,
}

/// The pool's connections at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections lent out.
    pub in_use: u32,
    /// Connections open and free.
    pub idle: u32,
    /// Most connections the pool may open.
    pub max: u32,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: None, acquire_timeout: Duration::from_secs(30) }
    }
}

impl Store {
    /// Opens the database at `url` (`sqlite://path?mode=rwc` or `postgres://...`), runs pending
    /// migrations and returns a pool.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, PoolSettings::default()).await
    }

    /// [`Store::connect`] with these pool settings.
    pub async fn connect_with(url: &str, settings: PoolSettings) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let options = AnyConnectOptions::from_str(url)?;
        if backend == Backend::Sqlite {
            // WAL is a property of the file; set it once, before other connections exist,
            // because switching needs a lock busy_timeout cannot wait for.
            let mut conn = sqlx::AnyConnection::connect_with(&options).await?;
            conn.execute("PRAGMA journal_mode = WAL").await?;
            conn.close().await?;
        }
        let max = settings.max_connections.unwrap_or(match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 16,
        });
        let pool = AnyPoolOptions::new()
            .max_connections(max.max(1))
            .acquire_timeout(settings.acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; \
                             PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await?;
        let listen_url = (backend == Backend::Postgres).then(|| Secret(url.into()));
        let store = Self { pool, backend, fence: None, listen_url };
        evidence::fill_log_nodes(&store).await?;
        tracing::debug!(target: "jejak::store", ?backend, "store ready");
        Ok(store)
    }

    /// The engine behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for queries that need no transaction.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool's connections now.
    pub fn pool_status(&self) -> PoolStatus {
        let (open, idle) = (self.pool.size(), self.pool.num_idle() as u32);
        PoolStatus { in_use: open.saturating_sub(idle), idle, max: self.pool.options().get_max_connections() }
    }

    /// This store for a leased job: [`Store::begin`] checks the job's lease (holder and token)
    /// inside each transaction before the job writes anything in it, and [`Store::conn`] checks it
    /// when the connection is handed out; either fails with [`Error::Fenced`] once the term
    /// `fence` names is over. See [`leases`].
    pub fn fenced(&self, fence: std::sync::Arc<leases::Fence>) -> Self {
        Self { pool: self.pool.clone(), backend: self.backend, fence: Some(fence), listen_url: self.listen_url.clone() }
    }

    /// The URL a dedicated listening connection opens (PostgreSQL; None on SQLite).
    pub(crate) fn listen_url(&self) -> Option<&str> {
        self.listen_url.as_ref().map(|s| &*s.0)
    }

    /// The lease this store's writes are fenced by, if any.
    pub fn fence(&self) -> Option<&std::sync::Arc<leases::Fence>> {
        self.fence.as_ref()
    }

    /// Acquires a connection for a sequence of queries outside a transaction. On a fenced store
    /// the lease is checked first (not atomically with what follows: writes that must be fenced
    /// go through [`Store::begin`]).
    pub async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        let mut conn = self.pool.acquire().await?;
        if let Some(fence) = &self.fence {
            fence.check(&mut conn, self.backend, false).await?;
        }
        Ok(conn)
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers wait for each other instead of failing on upgrade. On
    /// a fenced store the transaction first checks the job's lease (see [`leases`]).
    pub async fn begin(&self) -> Result<Tx> {
        let mut tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        if let Some(fence) = &self.fence {
            fence.check(&mut tx, self.backend, true).await?;
        }
        Ok(tx)
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A URL with its userinfo (user and password, which may hold an `@`) and query masked, for
/// messages and logs.
pub fn redact(url: &str) -> String {
    jejak_core::redact::credentials(url)
}

/// Current unix time in seconds.
pub fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Reads a 32-byte hash column.
pub(crate) fn digest(bytes: Vec<u8>) -> Result<[u8; 32]> {
    bytes.try_into().map_err(|b: Vec<u8>| Error::Corrupt(format!("expected 32 bytes, found {}", b.len())))
}

/// Commits a transaction.
pub async fn commit(tx: Tx) -> Result<()> {
    tx.commit().await?;
    Ok(())
}

/// Rolls a transaction back.
pub async fn rollback(tx: Tx) -> Result<()> {
    tx.rollback().await?;
    Ok(())
}
