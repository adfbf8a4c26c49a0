//! Webhooks: the secrets platforms sign incoming events with, outgoing subscriptions, their
//! deliveries (pending, delivered, dead) and the producer's read positions.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Conn, Result};

/// Sets (or rotates) a platform's incoming-webhook secret.
pub async fn set_platform_secret(conn: &mut Conn, platform_id: i64, secret: &[u8], now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO platform_webhook_secrets (platform_id, secret, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (platform_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at",
    )
    .bind(platform_id)
    .bind(secret.to_vec())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A platform's incoming-webhook secret.
pub async fn platform_secret(conn: &mut Conn, platform_id: i64) -> Result<Option<Vec<u8>>> {
    Ok(sqlx::query_scalar("SELECT secret FROM platform_webhook_secrets WHERE platform_id = $1")
        .bind(platform_id)
        .fetch_optional(conn)
        .await?)
}

/// An outgoing subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRow {
    /// `whs_...`.
    pub id: String,
    /// The platform it belongs to.
    pub platform_id: i64,
    /// Where deliveries go.
    pub url: String,
    /// Event types, comma separated.
    pub events: String,
    /// The HMAC secret deliveries are signed with.
    pub secret: Vec<u8>,
    /// Creation time.
    pub created_at: i64,
    /// Deletion time.
    pub deleted_at: Option<i64>,
}

impl SubscriptionRow {
    /// Whether it wants events of `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.deleted_at.is_none() && self.events.split(',').any(|e| e == event_type)
    }
}

fn subscription_from_row(r: AnyRow) -> Result<SubscriptionRow> {
    Ok(SubscriptionRow {
        id: r.try_get("id")?,
        platform_id: r.try_get("platform_id")?,
        url: r.try_get("url")?,
        events: r.try_get("events")?,
        secret: r.try_get("secret")?,
        created_at: r.try_get("created_at")?,
        deleted_at: r.try_get("deleted_at")?,
    })
}

const SUB_COLUMNS: &str = "id, platform_id, url, events, secret, created_at, deleted_at";

/// Stores a subscription.
pub async fn insert_subscription(conn: &mut Conn, s: &SubscriptionRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_subscriptions (id, platform_id, url, events, secret, created_at, deleted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&s.id)
    .bind(s.platform_id)
    .bind(&s.url)
    .bind(&s.events)
    .bind(s.secret.clone())
    .bind(s.created_at)
    .bind(s.deleted_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The subscription with this id, deleted or not.
pub async fn subscription(conn: &mut Conn, id: &str) -> Result<Option<SubscriptionRow>> {
    let sql = format!("SELECT {SUB_COLUMNS} FROM webhook_subscriptions WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(conn).await?.map(subscription_from_row).transpose()
}

/// Up to `limit` live subscriptions with ids after `after`, of one platform or all.
pub async fn subscriptions_page(
    conn: &mut Conn,
    platform_id: Option<i64>,
    after: &str,
    limit: i64,
) -> Result<Vec<SubscriptionRow>> {
    let rows = match platform_id {
        Some(p) => {
            let sql = format!(
                "SELECT {SUB_COLUMNS} FROM webhook_subscriptions WHERE deleted_at IS NULL AND id > $1 \
                 AND platform_id = $2 ORDER BY id LIMIT $3"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after).bind(p).bind(limit).fetch_all(conn).await?
        }
        None => {
            let sql = format!(
                "SELECT {SUB_COLUMNS} FROM webhook_subscriptions WHERE deleted_at IS NULL AND id > $1 \
                 ORDER BY id LIMIT $2"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after).bind(limit).fetch_all(conn).await?
        }
    };
    rows.into_iter().map(subscription_from_row).collect()
}

/// Live subscriptions of a platform.
pub async fn live_subscriptions(conn: &mut Conn, platform_id: i64) -> Result<Vec<SubscriptionRow>> {
    let sql = format!(
        "SELECT {SUB_COLUMNS} FROM webhook_subscriptions WHERE platform_id = $1 AND deleted_at IS NULL ORDER BY id"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(platform_id)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(subscription_from_row)
        .collect()
}

/// Live subscriptions of a platform, counted.
pub async fn live_subscription_count(conn: &mut Conn, platform_id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM webhook_subscriptions WHERE platform_id = $1 AND deleted_at IS NULL")
        .bind(platform_id)
        .fetch_one(conn)
        .await?)
}

/// Whether any live subscription, of any platform, wants `event_type`.
pub async fn anyone_wants(conn: &mut Conn, event_type: &str) -> Result<bool> {
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT events FROM webhook_subscriptions WHERE deleted_at IS NULL").fetch_all(conn).await?;
    Ok(rows.iter().any(|events| events.split(',').any(|e| e == event_type)))
}

/// Every platform's incoming-webhook secret as stored: (platform, stored bytes).
pub async fn platform_secrets(conn: &mut Conn) -> Result<Vec<(i64, Vec<u8>)>> {
    let rows = sqlx::query("SELECT platform_id, secret FROM platform_webhook_secrets ORDER BY platform_id")
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(|r| Ok((r.try_get("platform_id")?, r.try_get("secret")?))).collect()
}

/// Replaces a platform's stored secret bytes (sealing a secret kept in the clear), only if they
/// are still `old`; false otherwise.
pub async fn reseal_platform_secret(conn: &mut Conn, platform_id: i64, old: &[u8], new: &[u8]) -> Result<bool> {
    let done = sqlx::query("UPDATE platform_webhook_secrets SET secret = $3 WHERE platform_id = $1 AND secret = $2")
        .bind(platform_id)
        .bind(old.to_vec())
        .bind(new.to_vec())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Every subscription's secret as stored, deleted ones included: (subscription, stored bytes).
pub async fn subscription_secrets(conn: &mut Conn) -> Result<Vec<(String, Vec<u8>)>> {
    let rows = sqlx::query("SELECT id, secret FROM webhook_subscriptions ORDER BY id").fetch_all(conn).await?;
    rows.into_iter().map(|r| Ok((r.try_get("id")?, r.try_get("secret")?))).collect()
}

/// Replaces a subscription's stored secret bytes, only if they are still `old`; false otherwise.
pub async fn reseal_subscription_secret(conn: &mut Conn, id: &str, old: &[u8], new: &[u8]) -> Result<bool> {
    let done = sqlx::query("UPDATE webhook_subscriptions SET secret = $3 WHERE id = $1 AND secret = $2")
        .bind(id)
        .bind(old.to_vec())
        .bind(new.to_vec())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a subscription (its pending deliveries are abandoned by the dispatcher); false when
/// there is no live one with this id.
pub async fn delete_subscription(conn: &mut Conn, id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE webhook_subscriptions SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Attempts exhausted: on the dead-letter list until replayed.
    Dead,
}

impl DeliveryStatus {
    /// Column value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    /// Parses a column value.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Dead].into_iter().find(|x| x.as_str() == s)
    }
}

/// A delivery of one event to one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    /// `whd_...`.
    pub id: String,
    /// The subscription.
    pub subscription_id: String,
    /// Its platform.
    pub platform_id: i64,
    /// The event id (`evt_...`), the receiver's idempotency key.
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// The JSON body sent.
    pub payload: String,
    /// Status.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i64,
    /// Next attempt, unix milliseconds (retries start sub-second).
    pub next_attempt_at: i64,
    /// HTTP status of the last attempt.
    pub last_status: Option<i64>,
    /// Error of the last attempt.
    pub last_error: Option<String>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

fn delivery_from_row(r: AnyRow) -> Result<DeliveryRow> {
    let status: String = r.try_get("status")?;
    Ok(DeliveryRow {
        id: r.try_get("id")?,
        subscription_id: r.try_get("subscription_id")?,
        platform_id: r.try_get("platform_id")?,
        event_id: r.try_get("event_id")?,
        event_type: r.try_get("event_type")?,
        payload: r.try_get("payload")?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| crate::Error::Corrupt(format!("delivery status `{status}`")))?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_status: r.try_get("last_status")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const DELIVERY_COLUMNS: &str = "id, subscription_id, platform_id, event_id, event_type, payload, status, attempts, \
     next_attempt_at, last_status, last_error, created_at, updated_at";

/// Queues a delivery; false when this event was already queued for this subscription.
pub async fn insert_delivery(conn: &mut Conn, d: &DeliveryRow) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO webhook_deliveries (id, subscription_id, platform_id, event_id, event_type, payload, status, \
         attempts, next_attempt_at, last_status, last_error, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (event_id, subscription_id) DO NOTHING",
    )
    .bind(&d.id)
    .bind(&d.subscription_id)
    .bind(d.platform_id)
    .bind(&d.event_id)
    .bind(&d.event_type)
    .bind(&d.payload)
    .bind(d.status.as_str())
    .bind(d.attempts)
    .bind(d.next_attempt_at)
    .bind(d.last_status)
    .bind(&d.last_error)
    .bind(d.created_at)
    .bind(d.updated_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Pending deliveries due at `now_ms`, oldest first.
pub async fn due(conn: &mut Conn, now_ms: i64, limit: i64) -> Result<Vec<DeliveryRow>> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at, id LIMIT $2"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now_ms)
        .bind(limit)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(delivery_from_row)
        .collect()
}

/// Pending deliveries due at `now_ms`, oldest first, at most `per_platform` of any one platform
/// (so one platform's backlog cannot fill every slot), `limit` in all.
pub async fn due_fair(conn: &mut Conn, now_ms: i64, per_platform: i64, limit: i64) -> Result<Vec<DeliveryRow>> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM (SELECT {DELIVERY_COLUMNS}, ROW_NUMBER() OVER \
         (PARTITION BY platform_id ORDER BY next_attempt_at, id) AS platform_rank FROM webhook_deliveries \
         WHERE status = 'pending' AND next_attempt_at <= $1) ranked WHERE platform_rank <= $2 \
         ORDER BY next_attempt_at, id LIMIT $3"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now_ms)
        .bind(per_platform)
        .bind(limit)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(delivery_from_row)
        .collect()
}

/// Claims a pending delivery read as due at `seen_at` for one attempt, until `until_ms`: true for
/// the one caller whose update finds it unchanged (compare and set on its row, so instances
/// sharing a database never attempt it two at a time); false when another claimed, attempted or
/// removed it since. A claim whose holder died runs out at `until_ms`, and the delivery is due
/// again (at least once).
pub async fn claim(conn: &mut Conn, id: &str, seen_at: i64, until_ms: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET next_attempt_at = $3 \
         WHERE id = $1 AND status = 'pending' AND next_attempt_at = $2",
    )
    .bind(id)
    .bind(seen_at)
    .bind(until_ms)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The delivery with this id.
pub async fn delivery(conn: &mut Conn, id: &str) -> Result<Option<DeliveryRow>> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(conn).await?.map(delivery_from_row).transpose()
}

/// Up to `limit` deliveries with ids after `after`, filtered by platform and status.
pub async fn deliveries_page(
    conn: &mut Conn,
    platform_id: Option<i64>,
    status: DeliveryStatus,
    after: &str,
    limit: i64,
) -> Result<Vec<DeliveryRow>> {
    let rows = match platform_id {
        Some(p) => {
            let sql = format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE status = $1 AND id > $2 AND platform_id = $3 \
                 ORDER BY id LIMIT $4"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(status.as_str())
                .bind(after)
                .bind(p)
                .bind(limit)
                .fetch_all(conn)
                .await?
        }
        None => {
            let sql = format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE status = $1 AND id > $2 ORDER BY id LIMIT $3"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(status.as_str()).bind(after).bind(limit).fetch_all(conn).await?
        }
    };
    rows.into_iter().map(delivery_from_row).collect()
}

/// Records an attempt's outcome: `status` is the new status, `next_attempt_at` (unix ms) when to
/// retry.
pub async fn record_attempt(
    conn: &mut Conn,
    id: &str,
    status: DeliveryStatus,
    next_attempt_at: i64,
    last_status: Option<i64>,
    last_error: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, next_attempt_at = $3, \
         last_status = $4, last_error = $5, updated_at = $6 WHERE id = $1",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(next_attempt_at)
    .bind(last_status)
    .bind(last_error)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Puts a dead delivery back in the queue with fresh attempts, due at `due_ms`; false when it
/// is not dead.
pub async fn replay(conn: &mut Conn, id: &str, now: i64, due_ms: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3, updated_at = $2 \
         WHERE id = $1 AND status = 'dead'",
    )
    .bind(id)
    .bind(now)
    .bind(due_ms)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deliveries per status (the backlog is the pending ones).
pub async fn counts(conn: &mut Conn) -> Result<Vec<(DeliveryStatus, i64)>> {
    let rows =
        sqlx::query("SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status").fetch_all(conn).await?;
    let mut out = Vec::new();
    for r in rows {
        let s: String = r.try_get("status")?;
        if let Some(s) = DeliveryStatus::parse(&s) {
            out.push((s, r.try_get("n")?));
        }
    }
    Ok(out)
}

/// The producer's position in `source`, if it has one.
pub async fn cursor(conn: &mut Conn, source: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT position FROM webhook_cursors WHERE source = $1")
        .bind(source)
        .fetch_optional(conn)
        .await?)
}

/// Moves the producer's position in `source`.
pub async fn set_cursor(conn: &mut Conn, source: &str, position: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_cursors (source, position) VALUES ($1, $2) \
         ON CONFLICT (source) DO UPDATE SET position = excluded.position",
    )
    .bind(source)
    .bind(position)
    .execute(conn)
    .await?;
    Ok(())
}

/// Verdicts after `after_seq` with their task's platform: (seq, task id, platform, outcome,
/// verdict JSON, evaluated_at).
pub async fn verdicts_after(
    conn: &mut Conn,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<(i64, String, i64, String, String, i64)>> {
    let rows = sqlx::query(
        "SELECT v.seq, v.task_id, t.platform_id, v.outcome, v.verdict, v.evaluated_at FROM evidence_verdicts v \
         JOIN evidence_tasks t ON t.id = v.task_id WHERE v.seq > $1 ORDER BY v.seq LIMIT $2",
    )
    .bind(after_seq)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                r.try_get("seq")?,
                r.try_get("task_id")?,
                r.try_get("platform_id")?,
                r.try_get("outcome")?,
                r.try_get("verdict")?,
                r.try_get("evaluated_at")?,
            ))
        })
        .collect()
}

/// The highest verdict `seq`, 0 before the first.
pub async fn last_verdict_seq(conn: &mut Conn) -> Result<i64> {
    let v: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM evidence_verdicts").fetch_one(conn).await?;
    Ok(v.unwrap_or(0))
}
