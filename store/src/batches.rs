//! Batches the node builds from accepted events, and their way to the chain.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Conn, Error, Result, digest};

/// Where a batch is on its way to the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchStatus {
    /// Tree built and document stored; not yet sent.
    Built,
    /// Transaction sent; waiting for it to be mined.
    Submitted,
    /// Transaction mined successfully.
    Anchored,
    /// The chain refused it; see the error.
    Failed,
}

impl BatchStatus {
    /// Column value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Built => "built",
            Self::Submitted => "submitted",
            Self::Anchored => "anchored",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "built" => Self::Built,
            "submitted" => Self::Submitted,
            "anchored" => Self::Anchored,
            "failed" => Self::Failed,
            other => return Err(Error::Corrupt(format!("batch status `{other}`"))),
        })
    }
}

/// A batch built by the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    /// Local id.
    pub id: i64,
    /// On-chain platform id.
    pub platform_id: i64,
    /// RFC 6962 root.
    pub root: [u8; 32],
    /// Number of leaves.
    pub count: i64,
    /// CID of the batch document.
    pub cid: String,
    /// Progress.
    pub status: BatchStatus,
    /// The anchoring transaction.
    pub tx_hash: Option<[u8; 32]>,
    /// Why the chain refused it.
    pub error: Option<String>,
    /// Creation time.
    pub created_at: i64,
}

fn from_row(r: AnyRow) -> Result<BatchRow> {
    let tx: Option<Vec<u8>> = r.try_get("tx_hash")?;
    Ok(BatchRow {
        id: r.try_get("id")?,
        platform_id: r.try_get("platform_id")?,
        root: digest(r.try_get("root")?)?,
        count: r.try_get("count")?,
        cid: r.try_get("cid")?,
        status: BatchStatus::parse(&r.try_get::<String, _>("status")?)?,
        tx_hash: tx.map(digest).transpose()?,
        error: r.try_get("error")?,
        created_at: r.try_get("created_at")?,
    })
}

macro_rules! select {
    ($tail:literal) => {
        concat!("SELECT id, platform_id, root, count, cid, status, tx_hash, error, created_at FROM batches ", $tail)
    };
}

/// Records a built batch; returns its local id.
pub async fn insert(
    conn: &mut Conn,
    platform_id: i64,
    root: &[u8; 32],
    count: i64,
    cid: &str,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO batches (platform_id, root, count, cid, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'built', $5, $5) RETURNING id",
    )
    .bind(platform_id)
    .bind(root.to_vec())
    .bind(count)
    .bind(cid)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// A batch by local id.
pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<BatchRow>> {
    sqlx::query(select!("WHERE id = $1")).bind(id).fetch_optional(conn).await?.map(from_row).transpose()
}

/// Batches in a state, oldest first.
pub async fn with_status(conn: &mut Conn, status: BatchStatus) -> Result<Vec<BatchRow>> {
    sqlx::query(select!("WHERE status = $1 ORDER BY id"))
        .bind(status.as_str())
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

/// Moves a batch along, recording the transaction and any error.
pub async fn set_status(
    conn: &mut Conn,
    id: i64,
    status: BatchStatus,
    tx_hash: Option<&[u8; 32]>,
    error: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE batches SET status = $2, tx_hash = COALESCE($3, tx_hash), error = $4, updated_at = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(tx_hash.map(|h| h.to_vec()))
    .bind(error)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
