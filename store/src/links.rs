//! Link tokens used: each worker's consent to one account link counts once. The token itself
//! is checked by the API; the store only remembers which ones were spent.

use crate::{Conn, Result};

/// One spent link token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkTokenUse {
    /// The identity's Ed25519 link key.
    pub link_key: [u8; 32],
    /// The token's nonce.
    pub nonce: [u8; 16],
    /// The platform that linked with it.
    pub platform_id: i64,
    /// The token's expiry, unix seconds.
    pub expires_at: i64,
    /// When it was used, unix seconds.
    pub used_at: i64,
}

/// Whether the token of this key and nonce was used already.
pub async fn used(conn: &mut Conn, link_key: &[u8; 32], nonce: &[u8; 16]) -> Result<bool> {
    let row = sqlx::query("SELECT 1 FROM link_token_uses WHERE link_key = $1 AND nonce = $2")
        .bind(link_key.to_vec())
        .bind(nonce.to_vec())
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

/// Records a token as used. A token used already fails with a unique violation
/// ([`crate::Error::is_unique_violation`]), so two concurrent uses cannot both succeed.
pub async fn record_use(conn: &mut Conn, u: &LinkTokenUse) -> Result<()> {
    sqlx::query(
        "INSERT INTO link_token_uses (link_key, nonce, platform_id, expires_at, used_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(u.link_key.to_vec())
    .bind(u.nonce.to_vec())
    .bind(u.platform_id)
    .bind(u.expires_at)
    .bind(u.used_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets tokens that expired before `before` (they are refused for their expiry anyway);
/// returns how many rows went.
pub async fn prune_expired(conn: &mut Conn, before: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM link_token_uses WHERE expires_at < $1").bind(before).execute(conn).await?;
    Ok(done.rows_affected())
}
