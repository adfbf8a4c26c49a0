//! API keys. Only the SHA-256 of a key's secret is stored.
//!
//! On PostgreSQL every change of a key (creation, revocation) sends `NOTIFY jejak_keys, '<id>'`
//! in the statement that makes it, so it is delivered when (and only if) the change commits;
//! each API instance listens ([`KeyChanges`]) and drops the key from its cache.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Conn, Result, digest};

/// A stored API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    /// Public key id (the part of the key before the secret).
    pub id: String,
    /// SHA-256 of the secret.
    pub secret_hash: [u8; 32],
    /// `admin`, `platform`, `worker` or `auditor`.
    pub role: String,
    /// The platform a `platform` key acts for.
    pub platform_id: Option<i64>,
    /// The worker a `worker` key acts for.
    pub worker_id: Option<String>,
    /// Free text for operators.
    pub label: String,
    /// Creation time, unix seconds.
    pub created_at: i64,
    /// Revocation time, unix seconds.
    pub revoked_at: Option<i64>,
}

fn from_row(r: AnyRow) -> Result<ApiKeyRow> {
    Ok(ApiKeyRow {
        id: r.try_get("id")?,
        secret_hash: digest(r.try_get("secret_hash")?)?,
        role: r.try_get("role")?,
        platform_id: r.try_get("platform_id")?,
        worker_id: r.try_get("worker_id")?,
        label: r.try_get("label")?,
        created_at: r.try_get("created_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

macro_rules! select {
    ($tail:literal) => {
        concat!(
            "SELECT id, secret_hash, role, platform_id, worker_id, label, created_at, revoked_at \
             FROM api_keys ",
            $tail
        )
    };
}

/// The channel key changes are announced on (PostgreSQL).
pub const CHANNEL: &str = "jejak_keys";

fn on_postgres(conn: &Conn) -> bool {
    conn.backend_name() == "PostgreSQL"
}

/// Stores a new key (announced on [`CHANNEL`] on PostgreSQL).
pub async fn insert(conn: &mut Conn, key: &ApiKeyRow) -> Result<()> {
    const INSERT: &str = "INSERT INTO api_keys (id, secret_hash, role, platform_id, worker_id, label, created_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    // One statement: the notification goes out when the row commits, never without it.
    let announced = concat!(
        "WITH k AS (INSERT INTO api_keys (id, secret_hash, role, platform_id, worker_id, label, created_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id) ",
        "SELECT pg_notify('jejak_keys', id) FROM k"
    );
    sqlx::query(if on_postgres(conn) { announced } else { INSERT })
        .bind(&key.id)
        .bind(key.secret_hash.to_vec())
        .bind(&key.role)
        .bind(key.platform_id)
        .bind(&key.worker_id)
        .bind(&key.label)
        .bind(key.created_at)
        .bind(key.revoked_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The key with this id, revoked or not.
pub async fn get(conn: &mut Conn, id: &str) -> Result<Option<ApiKeyRow>> {
    sqlx::query(select!("WHERE id = $1")).bind(id).fetch_optional(conn).await?.map(from_row).transpose()
}

/// Every key, oldest first.
pub async fn list(conn: &mut Conn) -> Result<Vec<ApiKeyRow>> {
    sqlx::query(select!("ORDER BY created_at, id")).fetch_all(conn).await?.into_iter().map(from_row).collect()
}

/// Revokes a key (announced on [`CHANNEL`] on PostgreSQL); false when no unrevoked key has this id.
pub async fn revoke(conn: &mut Conn, id: &str, at: i64) -> Result<bool> {
    if on_postgres(conn) {
        // One statement: the notification goes out when the revocation commits.
        let rows = sqlx::query(
            "WITH k AS (UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id) \
             SELECT pg_notify('jejak_keys', id) FROM k",
        )
        .bind(id)
        .bind(at)
        .fetch_all(conn)
        .await?;
        return Ok(rows.len() == 1);
    }
    let done = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// What [`KeyChanges::next`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// The key with this id changed.
    Key(String),
    /// The listening connection was lost (it reconnects on the next call): changes made
    /// meanwhile were not seen.
    Lost,
}

/// Key changes announced by every instance on one PostgreSQL database.
#[derive(Debug)]
pub struct KeyChanges {
    listener: sqlx::postgres::PgListener,
}

impl KeyChanges {
    /// Listens on [`CHANNEL`]; None on SQLite (one process: nothing to hear).
    pub async fn listen(store: &crate::Store) -> Result<Option<Self>> {
        let Some(url) = store.listen_url() else {
            return Ok(None);
        };
        let mut listener = sqlx::postgres::PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(Self { listener }))
    }

    /// The next change, waiting for it.
    pub async fn next(&mut self) -> Result<KeyChange> {
        Ok(match self.listener.try_recv().await? {
            Some(n) => KeyChange::Key(n.payload().to_owned()),
            None => KeyChange::Lost,
        })
    }
}

/// Up to `limit` keys of platform `platform_id` with ids after `after`, in id order.
pub async fn page_for_platform(conn: &mut Conn, platform_id: i64, after: &str, limit: i64) -> Result<Vec<ApiKeyRow>> {
    sqlx::query(select!("WHERE platform_id = $3 AND id > $1 ORDER BY id LIMIT $2"))
        .bind(after)
        .bind(limit)
        .bind(platform_id)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

/// Up to `limit` keys with ids after `after`, in id order.
pub async fn page(conn: &mut Conn, after: &str, limit: i64) -> Result<Vec<ApiKeyRow>> {
    sqlx::query(select!("WHERE id > $1 ORDER BY id LIMIT $2"))
        .bind(after)
        .bind(limit)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}
