//! The IPFS fetch queue: every CID the chain names, with its fetch status.

use sqlx::Row as _;

use crate::{Conn, Error, Result};

/// Fetch status of a CID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchStatus {
    /// Not yet fetched; retried with backoff.
    Pending,
    /// Fetched, checked against its CID and its document checks passed.
    Fetched,
    /// Content arrived but did not match its CID or failed its document checks; never stored.
    Invalid,
    /// Attempts exhausted.
    GaveUp,
}

impl FetchStatus {
    /// Every status.
    pub const ALL: [FetchStatus; 4] = [Self::Pending, Self::Fetched, Self::Invalid, Self::GaveUp];

    /// Column value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Fetched => "fetched",
            Self::Invalid => "invalid",
            Self::GaveUp => "gave_up",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s).ok_or_else(|| Error::Corrupt(format!("fetch status `{s}`")))
    }
}

/// A queued CID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedObject {
    /// The CID.
    pub cid: String,
    /// What the document is (`batch`, `snapshot`, `profile`, `evidence`...).
    pub kind: String,
    /// Status.
    pub status: FetchStatus,
    /// Attempts so far.
    pub attempts: i64,
    /// Earliest next attempt, unix seconds.
    pub next_attempt_at: i64,
    /// Size once fetched.
    pub size: Option<i64>,
    /// Last error.
    pub error: Option<String>,
}

/// Queues a CID unless it is already known.
pub async fn enqueue(conn: &mut Conn, cid: &str, kind: &str, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO ipfs_objects (cid, kind, status, attempts, next_attempt_at, first_seen_at, updated_at) \
         VALUES ($1, $2, 'pending', 0, $3, $3, $3) ON CONFLICT (cid) DO NOTHING",
    )
    .bind(cid)
    .bind(kind)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Pending CIDs whose next attempt is due, oldest first.
pub async fn due(conn: &mut Conn, now: i64, limit: i64) -> Result<Vec<QueuedObject>> {
    let rows = sqlx::query(
        "SELECT cid, kind, status, attempts, next_attempt_at, size, error FROM ipfs_objects \
         WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, cid LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(object_from_row).collect()
}

/// A CID's queue entry.
pub async fn get(conn: &mut Conn, cid: &str) -> Result<Option<QueuedObject>> {
    sqlx::query("SELECT cid, kind, status, attempts, next_attempt_at, size, error FROM ipfs_objects WHERE cid = $1")
        .bind(cid)
        .fetch_optional(conn)
        .await?
        .map(object_from_row)
        .transpose()
}

fn object_from_row(r: sqlx::any::AnyRow) -> Result<QueuedObject> {
    Ok(QueuedObject {
        cid: r.try_get("cid")?,
        kind: r.try_get("kind")?,
        status: FetchStatus::parse(&r.try_get::<String, _>("status")?)?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        size: r.try_get("size")?,
        error: r.try_get("error")?,
    })
}

/// Records the outcome of an attempt.
pub async fn record_attempt(
    conn: &mut Conn,
    cid: &str,
    status: FetchStatus,
    next_attempt_at: i64,
    size: Option<i64>,
    error: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE ipfs_objects SET status = $2, attempts = attempts + 1, next_attempt_at = $3, \
         size = COALESCE($4, size), error = $5, updated_at = $6 WHERE cid = $1",
    )
    .bind(cid)
    .bind(status.as_str())
    .bind(next_attempt_at)
    .bind(size)
    .bind(error)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Number of CIDs in each status.
pub async fn counts(conn: &mut Conn) -> Result<Vec<(FetchStatus, i64)>> {
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM ipfs_objects GROUP BY status").fetch_all(conn).await?;
    let mut out: Vec<(FetchStatus, i64)> = FetchStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for r in rows {
        let s = FetchStatus::parse(&r.try_get::<String, _>("status")?)?;
        let n: i64 = r.try_get("n")?;
        if let Some(slot) = out.iter_mut().find(|(x, _)| *x == s) {
            slot.1 = n;
        }
    }
    Ok(out)
}

/// Queues several CIDs at once, skipping known ones (one statement per chunk).
pub async fn enqueue_many(conn: &mut Conn, items: &[(&str, &str)], now: i64) -> Result<()> {
    for chunk in items.chunks(500) {
        let sql = format!(
            "INSERT INTO ipfs_objects (cid, kind, status, attempts, next_attempt_at, first_seen_at, updated_at) VALUES {} \
             ON CONFLICT (cid) DO NOTHING",
            crate::chain::placeholders(chunk.len(), 7)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (cid, kind) in chunk {
            q = q.bind(*cid).bind(*kind).bind("pending").bind(0i64).bind(now).bind(now).bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
