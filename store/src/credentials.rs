//! Verifiable credentials the node issued, and their revocation.
//!
//! A credential's `seq` places it in the status lists: list `(seq - 1) / size + 1`, index
//! `(seq - 1) % size`; positions are never reused.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Conn, Result};

/// An issued credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRow {
    /// Issue order, from 1; its status list position.
    pub seq: i64,
    /// `id` of the credential (`urn:uuid:...`).
    pub id: String,
    /// The worker's identity commitment (decimal).
    pub worker: String,
    /// Epoch the summary comes from.
    pub epoch: i64,
    /// Issue time, unix seconds.
    pub issued_at: i64,
    /// `validUntil`, unix seconds.
    pub valid_until: i64,
    /// Revocation time.
    pub revoked_at: Option<i64>,
    /// Revocation reason.
    pub reason: Option<String>,
}

fn from_row(r: AnyRow) -> Result<CredentialRow> {
    Ok(CredentialRow {
        seq: r.try_get("seq")?,
        id: r.try_get("id")?,
        worker: r.try_get("worker")?,
        epoch: r.try_get("epoch")?,
        issued_at: r.try_get("issued_at")?,
        valid_until: r.try_get("valid_until")?,
        revoked_at: r.try_get("revoked_at")?,
        reason: r.try_get("reason")?,
    })
}

const COLUMNS: &str = "seq, id, worker, epoch, issued_at, valid_until, revoked_at, reason";

/// Records a credential about to be issued; returns its `seq`.
pub async fn insert(
    conn: &mut Conn,
    id: &str,
    worker: &str,
    epoch: i64,
    issued_at: i64,
    valid_until: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO credentials (id, worker, epoch, issued_at, valid_until) VALUES ($1, $2, $3, $4, $5) \
         RETURNING seq",
    )
    .bind(id)
    .bind(worker)
    .bind(epoch)
    .bind(issued_at)
    .bind(valid_until)
    .fetch_one(conn)
    .await?)
}

/// The credential with this id.
pub async fn get(conn: &mut Conn, id: &str) -> Result<Option<CredentialRow>> {
    let sql = format!("SELECT {COLUMNS} FROM credentials WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(conn).await?.map(from_row).transpose()
}

/// Up to `limit` credentials after `after_seq`, of one worker or all.
pub async fn page(conn: &mut Conn, worker: Option<&str>, after_seq: i64, limit: i64) -> Result<Vec<CredentialRow>> {
    let rows = match worker {
        Some(w) => {
            let sql = format!("SELECT {COLUMNS} FROM credentials WHERE seq > $1 AND worker = $2 ORDER BY seq LIMIT $3");
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after_seq).bind(w).bind(limit).fetch_all(conn).await?
        }
        None => {
            let sql = format!("SELECT {COLUMNS} FROM credentials WHERE seq > $1 ORDER BY seq LIMIT $2");
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after_seq).bind(limit).fetch_all(conn).await?
        }
    };
    rows.into_iter().map(from_row).collect()
}

/// Revokes a credential; false when there is no such unrevoked credential.
pub async fn revoke(conn: &mut Conn, id: &str, at: i64, reason: &str) -> Result<bool> {
    let done = sqlx::query("UPDATE credentials SET revoked_at = $2, reason = $3 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .bind(at)
        .bind(reason)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The `seq` of every revoked credential, in order.
pub async fn revoked(conn: &mut Conn) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT seq FROM credentials WHERE revoked_at IS NOT NULL ORDER BY seq")
        .fetch_all(conn)
        .await?)
}

/// The highest `seq` issued, 0 before the first.
pub async fn max_seq(conn: &mut Conn) -> Result<i64> {
    let max: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM credentials").fetch_one(conn).await?;
    Ok(max.unwrap_or(0))
}
