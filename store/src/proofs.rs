//! Zero-knowledge proofs verified through the API: the nullifiers they consumed, and the state
//! of the reputation roots they are checked against.

use sqlx::Row as _;

use crate::{Conn, Result, digest};

/// A consumed nullifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NullifierRow {
    /// The verifier scope (32-byte big-endian field element).
    pub scope: [u8; 32],
    /// The nullifier (32-byte big-endian field element).
    pub nullifier: [u8; 32],
    /// The epoch proven against.
    pub epoch: i64,
    /// The root proven against.
    pub root: [u8; 32],
    /// The API key that verified it.
    pub key_id: String,
    /// When, unix seconds.
    pub verified_at: i64,
}

/// Records a nullifier; false when the scope already consumed it (a replay).
pub async fn consume(conn: &mut Conn, n: &NullifierRow) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO proof_nullifiers (scope, nullifier, epoch, root, key_id, verified_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (scope, nullifier) DO NOTHING",
    )
    .bind(n.scope.to_vec())
    .bind(n.nullifier.to_vec())
    .bind(n.epoch)
    .bind(n.root.to_vec())
    .bind(&n.key_id)
    .bind(n.verified_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// When the scope consumed this nullifier, if it did.
pub async fn consumed_at(conn: &mut Conn, scope: &[u8; 32], nullifier: &[u8; 32]) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT verified_at FROM proof_nullifiers WHERE scope = $1 AND nullifier = $2")
        .bind(scope.to_vec())
        .bind(nullifier.to_vec())
        .fetch_optional(conn)
        .await?)
}

/// What the indexed chain says about an epoch's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootState {
    /// The published root.
    pub root: [u8; 32],
    /// Block of `RootPublished`.
    pub block_number: i64,
    /// `expiresAt` of the `RootReplaced` event, once a later epoch replaced it (unix seconds;
    /// `u64::MAX` when the window saturated: never).
    pub expires_at: Option<u64>,
}

/// The root of `epoch` as indexed (the earliest `RootPublished`), with its expiry if replaced.
pub async fn root_state(conn: &mut Conn, chain_id: i64, epoch: i64) -> Result<Option<RootState>> {
    let Some(row) = sqlx::query(
        "SELECT root, block_number FROM chain_roots WHERE chain_id = $1 AND epoch = $2 AND kind = 'published' \
         ORDER BY block_number, log_index LIMIT 1",
    )
    .bind(chain_id)
    .bind(epoch)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let root: Option<Vec<u8>> = row.try_get("root")?;
    let Some(root) = root else {
        return Ok(None);
    };
    let expires_at: Option<Option<String>> = sqlx::query_scalar(
        "SELECT expires_at FROM chain_roots WHERE chain_id = $1 AND epoch = $2 AND kind = 'replaced' \
         ORDER BY block_number, log_index LIMIT 1",
    )
    .bind(chain_id)
    .bind(epoch)
    .fetch_optional(conn)
    .await?;
    Ok(Some(RootState {
        root: digest(root)?,
        block_number: row.try_get("block_number")?,
        expires_at: expires_at.flatten().as_deref().map(crate::chain::parse_u64).transpose()?,
    }))
}
