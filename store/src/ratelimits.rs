//! Rate limits shared by every API replica on one PostgreSQL database: a token bucket per key in
//! the UNLOGGED table `rate_buckets`, refilled and charged in one statement at the database's
//! clock (so replicas with skewed clocks agree). The row lock of the upsert serialises the
//! requests of one key; different keys do not wait on each other.

use sqlx::Row as _;

use crate::{Conn, Result};

/// What charging a bucket found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Charge {
    /// Whether a token was there (and taken).
    pub admitted: bool,
    /// Tokens left after the charge.
    pub tokens: f64,
}

/// Refills `key`'s bucket at `per_second` up to `burst` and takes one token if one is there.
/// PostgreSQL only.
pub async fn charge(conn: &mut Conn, key: &str, per_second: f64, burst: f64) -> Result<Charge> {
    let row = sqlx::query(
        "INSERT INTO rate_buckets AS b (key, tokens, at, admitted) \
         VALUES ($1, $3 - 1, extract(epoch FROM clock_timestamp())::float8, TRUE) \
         ON CONFLICT (key) DO UPDATE SET \
           tokens = LEAST($3, b.tokens + GREATEST(0, EXCLUDED.at - b.at) * $2) \
                    - CASE WHEN LEAST($3, b.tokens + GREATEST(0, EXCLUDED.at - b.at) * $2) >= 1 THEN 1 ELSE 0 END, \
           at = GREATEST(b.at, EXCLUDED.at), \
           admitted = LEAST($3, b.tokens + GREATEST(0, EXCLUDED.at - b.at) * $2) >= 1 \
         RETURNING tokens, admitted",
    )
    .bind(key)
    .bind(per_second)
    .bind(burst)
    .fetch_one(conn)
    .await?;
    Ok(Charge { admitted: row.try_get("admitted")?, tokens: row.try_get("tokens")? })
}
