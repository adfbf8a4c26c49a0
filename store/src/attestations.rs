//! Accepted work events with their salted leaves, and the idempotency record of requests.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Conn, Result, digest};

/// An event accepted from a platform, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttestation {
    /// Public id (`att_...`).
    pub id: String,
    /// On-chain platform id.
    pub platform_id: i64,
    /// Event type wire name.
    pub event_type: String,
    /// The platform's own event id.
    pub event_id: Option<String>,
    /// The worker's account reference on the platform.
    pub worker_ref: String,
    /// When the event happened, unix seconds.
    pub occurred_at: i64,
    /// When the node accepted it, unix seconds.
    pub received_at: i64,
    /// The event's canonical JSON.
    pub body: String,
    /// SHA-256 of `body`.
    pub event_digest: [u8; 32],
    /// The leaf salt.
    pub salt: [u8; 32],
    /// The RFC 6962 leaf hash.
    pub leaf: [u8; 32],
}

/// A stored attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationRow {
    /// Acceptance order.
    pub seq: i64,
    /// The accepted event.
    pub attestation: NewAttestation,
    /// The local batch it went into.
    pub batch_id: Option<i64>,
    /// Its leaf index in that batch.
    pub leaf_index: Option<i64>,
}

macro_rules! select {
    ($tail:literal) => {
        concat!(
            "SELECT seq, id, platform_id, event_type, event_id, worker_ref, occurred_at, received_at, \
             body, event_digest, salt, leaf, batch_id, leaf_index FROM attestations ",
            $tail
        )
    };
}

fn from_row(r: AnyRow) -> Result<AttestationRow> {
    Ok(AttestationRow {
        seq: r.try_get("seq")?,
        attestation: NewAttestation {
            id: r.try_get("id")?,
            platform_id: r.try_get("platform_id")?,
            event_type: r.try_get("event_type")?,
            event_id: r.try_get("event_id")?,
            worker_ref: r.try_get("worker_ref")?,
            occurred_at: r.try_get("occurred_at")?,
            received_at: r.try_get("received_at")?,
            body: r.try_get("body")?,
            event_digest: digest(r.try_get("event_digest")?)?,
            salt: digest(r.try_get("salt")?)?,
            leaf: digest(r.try_get("leaf")?)?,
        },
        batch_id: r.try_get("batch_id")?,
        leaf_index: r.try_get("leaf_index")?,
    })
}

/// Stores an accepted event; returns its sequence number.
pub async fn insert(conn: &mut Conn, a: &NewAttestation) -> Result<i64> {
    let seq = sqlx::query_scalar(
        "INSERT INTO attestations (id, platform_id, event_type, event_id, worker_ref, occurred_at, \
         received_at, body, event_digest, salt, leaf) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING seq",
    )
    .bind(&a.id)
    .bind(a.platform_id)
    .bind(&a.event_type)
    .bind(&a.event_id)
    .bind(&a.worker_ref)
    .bind(a.occurred_at)
    .bind(a.received_at)
    .bind(&a.body)
    .bind(a.event_digest.to_vec())
    .bind(a.salt.to_vec())
    .bind(a.leaf.to_vec())
    .fetch_one(conn)
    .await?;
    Ok(seq)
}

/// The attestation with this public id.
pub async fn get(conn: &mut Conn, id: &str) -> Result<Option<AttestationRow>> {
    sqlx::query(select!("WHERE id = $1")).bind(id).fetch_optional(conn).await?.map(from_row).transpose()
}

/// The attestation a platform sent under its own event id.
pub async fn by_event_id(conn: &mut Conn, platform_id: i64, event_id: &str) -> Result<Option<AttestationRow>> {
    sqlx::query(select!("WHERE platform_id = $1 AND event_id = $2"))
        .bind(platform_id)
        .bind(event_id)
        .fetch_optional(conn)
        .await?
        .map(from_row)
        .transpose()
}

/// Every event of one worker account on a platform, in acceptance order.
pub async fn by_worker(conn: &mut Conn, platform_id: i64, worker_ref: &str) -> Result<Vec<AttestationRow>> {
    sqlx::query(select!("WHERE platform_id = $1 AND worker_ref = $2 ORDER BY seq"))
        .bind(platform_id)
        .bind(worker_ref)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

/// Platforms with events not yet in a batch.
pub async fn unbatched_platforms(conn: &mut Conn) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT DISTINCT platform_id FROM attestations WHERE batch_id IS NULL ORDER BY platform_id")
        .fetch_all(conn)
        .await?)
}

/// Up to `limit` of a platform's unbatched events, oldest first: `(seq, leaf)`.
pub async fn unbatched(conn: &mut Conn, platform_id: i64, limit: i64) -> Result<Vec<(i64, [u8; 32])>> {
    let rows = sqlx::query(
        "SELECT seq, leaf FROM attestations WHERE platform_id = $1 AND batch_id IS NULL ORDER BY seq LIMIT $2",
    )
    .bind(platform_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(|r| Ok((r.try_get("seq")?, digest(r.try_get("leaf")?)?))).collect()
}

/// Puts a platform's unbatched events with `seq <= last_seq` into `batch_id`, numbering leaves
/// in `seq` order from 0. Returns how many were assigned.
pub async fn assign_batch(conn: &mut Conn, batch_id: i64, platform_id: i64, last_seq: i64) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE attestations SET batch_id = $1, leaf_index = t.idx \
         FROM (SELECT seq, ROW_NUMBER() OVER (ORDER BY seq) - 1 AS idx FROM attestations \
               WHERE platform_id = $2 AND batch_id IS NULL AND seq <= $3) AS t \
         WHERE attestations.seq = t.seq",
    )
    .bind(batch_id)
    .bind(platform_id)
    .bind(last_seq)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The leaves of a local batch in tree order.
pub async fn batch_leaves(conn: &mut Conn, batch_id: i64) -> Result<Vec<[u8; 32]>> {
    let rows: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT leaf FROM attestations WHERE batch_id = $1 ORDER BY leaf_index")
            .bind(batch_id)
            .fetch_all(conn)
            .await?;
    rows.into_iter().map(digest).collect()
}

/// A recorded answer to a request sent with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRow {
    /// The platform that sent it.
    pub platform_id: i64,
    /// The key.
    pub key: String,
    /// SHA-256 of the request body, to tell a retry from a different request with the same key.
    pub request_hash: [u8; 32],
    /// HTTP status answered.
    pub status: i64,
    /// Response body answered.
    pub response: String,
    /// When, unix seconds.
    pub created_at: i64,
}

/// The answer recorded for this key, if any.
pub async fn idempotency_get(conn: &mut Conn, platform_id: i64, key: &str) -> Result<Option<IdempotencyRow>> {
    let row = sqlx::query(
        "SELECT platform_id, key, request_hash, status, response, created_at FROM idempotency_keys \
         WHERE platform_id = $1 AND key = $2",
    )
    .bind(platform_id)
    .bind(key)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(IdempotencyRow {
            platform_id: r.try_get("platform_id")?,
            key: r.try_get("key")?,
            request_hash: digest(r.try_get("request_hash")?)?,
            status: r.try_get("status")?,
            response: r.try_get("response")?,
            created_at: r.try_get("created_at")?,
        })
    })
    .transpose()
}

/// Records the answer for a key. Fails with a unique violation when a concurrent request with
/// the same key got there first.
pub async fn idempotency_put(conn: &mut Conn, row: &IdempotencyRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO idempotency_keys (platform_id, key, request_hash, status, response, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(row.platform_id)
    .bind(&row.key)
    .bind(row.request_hash.to_vec())
    .bind(row.status)
    .bind(&row.response)
    .bind(row.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Up to `limit` attestations after `after_seq` in acceptance order, of one platform or all.
pub async fn page(
    conn: &mut Conn,
    platform_id: Option<i64>,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<AttestationRow>> {
    let rows = match platform_id {
        Some(p) => {
            sqlx::query(select!("WHERE seq > $1 AND platform_id = $2 ORDER BY seq LIMIT $3"))
                .bind(after_seq)
                .bind(p)
                .bind(limit)
                .fetch_all(conn)
                .await?
        }
        None => {
            sqlx::query(select!("WHERE seq > $1 ORDER BY seq LIMIT $2"))
                .bind(after_seq)
                .bind(limit)
                .fetch_all(conn)
                .await?
        }
    };
    rows.into_iter().map(from_row).collect()
}
