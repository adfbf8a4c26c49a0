//! Webhooks in both directions.
//!
//! - Incoming: a platform may send its events to `POST /v1/webhooks/events` signed instead of
//!   with an API key: `Jejak-Platform: <id>` and `Jejak-Signature: t=<unix seconds>,v1=<hex>`,
//!   where `v1` is HMAC-SHA256 over `"<t>.<body>"` with the platform's webhook secret. The
//!   timestamp must be within five minutes of the node's clock (replay window) and the MAC is
//!   compared in constant time.
//! - Outgoing: [`run`] produces events for subscribed platforms (finalized batches, evidence
//!   verdicts, score changes in a published epoch) into a durable delivery queue, and delivers
//!   them signed the same way, at least once, retrying with capped exponential backoff; a
//!   delivery out of attempts goes to the dead-letter list, readable and replayable through the
//!   API. Every delivery of one event carries the same event id (`Jejak-Webhook-Id`), the
//!   receiver's idempotency key.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hmac::{Hmac, Mac as _};
use jejak_store::webhooks::{self as db, DeliveryRow, DeliveryStatus};
use jejak_store::{now_secs, scores};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio_util::sync::CancellationToken;

use crate::AppState;

/// Seconds a signed request's timestamp may be away from the node's clock.
pub const REPLAY_WINDOW_SECS: i64 = 300;
/// Header naming the sending platform of an incoming webhook.
pub const PLATFORM_HEADER: &str = "jejak-platform";
/// Header carrying `t=<unix>,v1=<hex HMAC>`.
pub const SIGNATURE_HEADER: &str = "jejak-signature";
/// Header carrying an outgoing event's id.
pub const WEBHOOK_ID_HEADER: &str = "jejak-webhook-id";

/// Event types platforms subscribe to.
pub const EVENT_TYPES: [&str; 3] = ["batch.finalized", "evidence.verdict", "score.changed"];

/// `Jejak-Signature` for `body` at time `t`.
pub fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=<unix>,v1=<hex>`.
    #[error("Jejak-Signature must read t=<unix seconds>,v1=<hex HMAC-SHA256>")]
    Malformed,
    /// The timestamp is outside the replay window.
    #[error("the signature timestamp is more than {REPLAY_WINDOW_SECS} s away from the node's clock")]
    OutsideWindow,
    /// No `v1` matches.
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks a `Jejak-Signature` header against `body` at `now`.
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: i64) -> Result<(), SignatureError> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.parse::<i64>().map_err(|_| SignatureError::Malformed)?),
            Some(("v1", v)) => sigs.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if sigs.is_empty() {
        return Err(SignatureError::Malformed);
    }
    // abs_diff: a timestamp such as i64::MIN must not overflow the subtraction.
    if now.abs_diff(t) > REPLAY_WINDOW_SECS.unsigned_abs() {
        return Err(SignatureError::OutsideWindow);
    }
    for sig in sigs {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        // verify_slice compares in constant time.
        if mac.verify_slice(&sig).is_ok() {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

/// Delivery settings.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Attempts before a delivery is dead.
    pub max_attempts: u32,
    /// First retry delay (doubles each attempt).
    pub backoff_base: Duration,
    /// Longest retry delay.
    pub backoff_cap: Duration,
    /// Timeout of one delivery request.
    pub timeout: Duration,
    /// Pause between rounds when there is nothing to do.
    pub poll_interval: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            max_attempts: 12,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(3600),
            timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(500),
        }
    }
}

impl WebhookSettings {
    /// Delay before the attempt after `attempts` failed ones: base * 2^(attempts - 1), capped.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 1u32.checked_shl(attempts.saturating_sub(1).min(30)).unwrap_or(u32::MAX);
        self.backoff_base.saturating_mul(factor).min(self.backoff_cap)
    }
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A stable event id for what `key` names, so producing an event twice (after a crash before
/// the cursor moved) queues it once.
fn event_id(key: &str) -> String {
    format!("evt_{}", &hex::encode(Sha256::digest(key.as_bytes()))[..32])
}

/// Queues an event for every live subscription of `platform_id` that wants `event_type`.
async fn enqueue(
    c: &mut jejak_store::Conn,
    platform_id: i64,
    event_type: &str,
    key: &str,
    data: Value,
) -> jejak_store::Result<usize> {
    let subs = db::live_subscriptions(c, platform_id).await?;
    let id = event_id(key);
    let now = now_secs();
    let payload = json!({
        "id": id,
        "type": event_type,
        "created_at": crate::routes::tasks::rfc3339(now),
        "platform_id": platform_id,
        "data": data,
    })
    .to_string();
    let mut n = 0;
    for s in subs.iter().filter(|s| s.wants(event_type)) {
        let d = DeliveryRow {
            id: format!("whd_{}", uuid::Uuid::now_v7().simple()),
            subscription_id: s.id.clone(),
            platform_id,
            event_id: id.clone(),
            event_type: event_type.to_owned(),
            payload: payload.clone(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: now_ms(),
            last_status: None,
            last_error: None,
            created_at: now,
            updated_at: now,
        };
        n += usize::from(db::insert_delivery(c, &d).await?);
    }
    Ok(n)
}

/// Block and log index packed in one cursor value.
const LOG_SLOTS: i64 = 1_000_000;

/// One production round: new finalized batches, verdicts and published epochs become
/// deliveries, each source in one transaction with its cursor. Returns events queued.
async fn produce(st: &AppState) -> jejak_store::Result<usize> {
    let chain_id = st.chain_id as i64;
    let mut queued = 0;

    // Finalized batches.
    let mut tx = st.store.begin().await?;
    let finalized = jejak_store::chain::cursor(&mut tx, chain_id).await?.map_or(-1, |c| c.finalized_number);
    match db::cursor(&mut tx, "batch").await? {
        // First run: subscribers hear of what is finalized from now on.
        None => db::set_cursor(&mut tx, "batch", finalized.max(0) * LOG_SLOTS + LOG_SLOTS - 1).await?,
        Some(pos) => {
            let after = (pos / LOG_SLOTS, pos % LOG_SLOTS);
            let batches = jejak_store::chain::batches_after(&mut tx, chain_id, after, 500).await?;
            let mut last = pos;
            for b in batches.iter().filter(|b| b.key.block_number <= finalized) {
                let data = json!({
                    "batch_id": b.batch_id,
                    "root": hex::encode(b.root),
                    "count": b.count,
                    "cid": b.cid,
                    "chain_id": st.chain_id,
                    "transaction_hash": format!("0x{}", hex::encode(b.key.tx_hash)),
                    "block_number": b.key.block_number,
                });
                let key = format!("batch:{}:{}", chain_id, b.batch_id);
                queued += enqueue(&mut tx, b.platform_id, "batch.finalized", &key, data).await?;
                last = b.key.block_number * LOG_SLOTS + b.key.log_index;
            }
            if last != pos {
                db::set_cursor(&mut tx, "batch", last).await?;
            }
        }
    }
    jejak_store::commit(tx).await?;

    // Evidence verdicts.
    let mut tx = st.store.begin().await?;
    match db::cursor(&mut tx, "verdict").await? {
        None => {
            let last = db::last_verdict_seq(&mut tx).await?;
            db::set_cursor(&mut tx, "verdict", last).await?;
        }
        Some(pos) => {
            let rows = db::verdicts_after(&mut tx, pos, 500).await?;
            for (seq, task, platform_id, outcome, verdict, at) in &rows {
                let data = json!({
                    "task": task,
                    "outcome": outcome,
                    "evaluated_at": crate::routes::tasks::rfc3339(*at),
                    "verdict": serde_json::from_str::<Value>(verdict).unwrap_or(Value::Null),
                });
                queued += enqueue(&mut tx, *platform_id, "evidence.verdict", &format!("verdict:{seq}"), data).await?;
            }
            if let Some((seq, ..)) = rows.last() {
                db::set_cursor(&mut tx, "verdict", *seq).await?;
            }
        }
    }
    jejak_store::commit(tx).await?;

    // Score changes of published epochs.
    let mut tx = st.store.begin().await?;
    let published: Vec<i64> = scores::epochs(&mut tx, chain_id)
        .await?
        .into_iter()
        .filter(|e| e.status == scores::EpochStatus::Published)
        .map(|e| e.epoch)
        .collect();
    match db::cursor(&mut tx, "epoch").await? {
        None => db::set_cursor(&mut tx, "epoch", published.iter().copied().max().unwrap_or(0)).await?,
        Some(pos) => {
            if let Some(epoch) = published.iter().copied().filter(|e| *e > pos).min() {
                let previous = published.iter().copied().filter(|e| *e < epoch).max();
                queued += score_changes(st, &mut tx, epoch, previous).await?;
                db::set_cursor(&mut tx, "epoch", epoch).await?;
            }
        }
    }
    jejak_store::commit(tx).await?;
    Ok(queued)
}

/// `score.changed` for every worker whose scores differ from the previous published epoch, to
/// each platform the worker's card names.
async fn score_changes(
    st: &AppState,
    c: &mut jejak_store::Conn,
    epoch: i64,
    previous: Option<i64>,
) -> jejak_store::Result<usize> {
    let chain_id = st.chain_id as i64;
    let before: HashMap<[u8; 32], scores::WorkerScoreRow> = match previous {
        Some(p) => scores::worker_scores(c, chain_id, p).await?.into_iter().map(|w| (w.commitment, w)).collect(),
        None => HashMap::new(),
    };
    let mut queued = 0;
    for w in scores::worker_scores(c, chain_id, epoch).await? {
        let old = before.get(&w.commitment);
        if old.is_some_and(|o| (o.reputation, o.credit, &o.tier, o.gigs) == (w.reputation, w.credit, &w.tier, w.gigs)) {
            continue;
        }
        let worker = alloy_primitives::U256::from_be_bytes(w.commitment).to_string();
        let card: Value = serde_json::from_str(&w.card).unwrap_or(Value::Null);
        let platforms: Vec<i64> = card["platforms"]
            .as_array()
            .map(|ps| ps.iter().filter_map(|p| p["platform_id"].as_i64()).collect())
            .unwrap_or_default();
        let data = json!({
            "worker": worker,
            "epoch": epoch,
            "reputation": w.reputation,
            "credit": w.credit,
            "tier": w.tier,
            "gigs": w.gigs,
            "previous": old.map(|o| json!({
                "epoch": o.epoch, "reputation": o.reputation, "credit": o.credit, "tier": o.tier, "gigs": o.gigs,
            })),
        });
        for p in platforms {
            queued +=
                enqueue(c, p, "score.changed", &format!("score:{chain_id}:{epoch}:{worker}:{p}"), data.clone()).await?;
        }
    }
    Ok(queued)
}

/// Attempts one delivery and records the outcome.
async fn deliver(st: &AppState, http: &reqwest::Client, d: DeliveryRow) -> jejak_store::Result<()> {
    let settings = &st.services.settings.webhooks;
    let now = now_secs();
    let mut c = st.store.conn().await?;
    let sub = db::subscription(&mut c, &d.subscription_id).await?;
    let Some(sub) = sub.filter(|s| s.deleted_at.is_none()) else {
        db::record_attempt(&mut c, &d.id, DeliveryStatus::Dead, now_ms(), None, Some("subscription deleted"), now)
            .await?;
        return Ok(());
    };
    drop(c);
    st.services.metrics.webhook_attempts.fetch_add(1, Ordering::Relaxed);
    let sent = http
        .post(&sub.url)
        .timeout(settings.timeout)
        .header("content-type", "application/json")
        .header(WEBHOOK_ID_HEADER, &d.event_id)
        .header("jejak-delivery", &d.id)
        .header(SIGNATURE_HEADER, sign(&sub.secret, now, d.payload.as_bytes()))
        .body(d.payload.clone())
        .send()
        .await;
    let (ok, status, error) = match sent {
        Ok(r) if r.status().is_success() => (true, Some(i64::from(r.status().as_u16())), None),
        Ok(r) => (false, Some(i64::from(r.status().as_u16())), Some(format!("receiver answered {}", r.status()))),
        Err(e) => (false, None, Some(format!("request failed: {e}"))),
    };
    let attempts = d.attempts as u32 + 1;
    let (new_status, next) = if ok {
        (DeliveryStatus::Delivered, now_ms())
    } else if attempts >= settings.max_attempts {
        (DeliveryStatus::Dead, now_ms())
    } else {
        (DeliveryStatus::Pending, now_ms() + settings.backoff(attempts).as_millis() as i64)
    };
    tracing::info!(target: "jejak::webhooks", delivery = %d.id, event = %d.event_id, attempts, status = ?status, outcome = new_status.as_str(), error = error.as_deref().unwrap_or(""), "webhook delivery attempt");
    let mut c = st.store.conn().await?;
    db::record_attempt(&mut c, &d.id, new_status, next, status, error.as_deref(), now).await
}

/// Produces and delivers webhooks until `shutdown`, under the node's supervision policy.
pub async fn run(st: AppState, shutdown: CancellationToken) -> jejak_store::Result<()> {
    let worker = WebhookWorker::new(st)?;
    jejak_runtime::supervise(
        "webhooks",
        worker,
        jejak_runtime::Policy::default(),
        &jejak_runtime::Health::default(),
        shutdown,
    )
    .await
}

/// The outgoing webhook worker: each step produces new events and attempts the due deliveries.
/// A database error ends the step (transient ones are retried by the supervisor; no delivery
/// outcome is lost, each is recorded as it happens).
#[derive(Debug)]
pub struct WebhookWorker {
    st: AppState,
    http: reqwest::Client,
}

impl WebhookWorker {
    /// A worker over the API's state.
    pub fn new(st: AppState) -> jejak_store::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| jejak_store::Error::Corrupt(format!("webhook HTTP client: {e}")))?;
        tracing::info!(target: "jejak::webhooks", "webhook dispatcher started");
        Ok(Self { st, http })
    }
}

impl jejak_runtime::Job for WebhookWorker {
    type Error = jejak_store::Error;

    async fn step(&mut self) -> jejak_store::Result<jejak_runtime::Pace> {
        let (st, http) = (&self.st, &self.http);
        let queued = produce(st).await?;
        let due = {
            let mut c = st.store.conn().await?;
            db::due(&mut c, now_ms(), 64).await?
        };
        let busy = queued > 0 || !due.is_empty();
        let results = futures::future::join_all(due.into_iter().map(|d| deliver(st, http, d))).await;
        for r in results {
            r?;
        }
        Ok(if busy {
            jejak_runtime::Pace::Busy
        } else {
            jejak_runtime::Pace::Idle(st.services.settings.webhooks.poll_interval)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_inside_the_window_only() {
        let secret = b"whsec_test";
        let body = br#"{"events":[]}"#;
        let now = 1_800_000_000;
        let h = sign(secret, now, body);
        assert_eq!(verify(secret, &h, body, now), Ok(()));
        assert_eq!(verify(secret, &h, body, now + REPLAY_WINDOW_SECS), Ok(()));
        assert_eq!(verify(secret, &h, body, now + REPLAY_WINDOW_SECS + 1), Err(SignatureError::OutsideWindow));
        assert_eq!(verify(secret, &h, body, now - REPLAY_WINDOW_SECS - 1), Err(SignatureError::OutsideWindow));
        assert_eq!(verify(secret, &h, br#"{"events":[1]}"#, now), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"other", &h, body, now), Err(SignatureError::Mismatch));
        assert_eq!(verify(secret, "v1=00", body, now), Err(SignatureError::Malformed));
        // A signature made for another timestamp does not verify with this one.
        let moved = h.replace(&format!("t={now}"), &format!("t={}", now + 1));
        assert_eq!(verify(secret, &moved, body, now), Err(SignatureError::Mismatch));
    }

    #[test]
    fn extreme_timestamps_are_outside_the_window_not_an_overflow() {
        let secret = b"whsec_test";
        let body = b"{}";
        for (t, now) in
            [(i64::MIN, 1_800_000_000), (i64::MAX, 1_800_000_000), (i64::MIN, i64::MAX), (i64::MAX, i64::MIN)]
        {
            let h = sign(secret, t, body);
            assert_eq!(verify(secret, &h, body, now), Err(SignatureError::OutsideWindow), "t={t} now={now}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_timestamp_and_clock_verify_without_panicking(t in proptest::prelude::any::<i64>(), now in proptest::prelude::any::<i64>()) {
            let h = sign(b"k", t, b"x");
            let inside = now.checked_sub(t).is_some_and(|d| d.unsigned_abs() <= REPLAY_WINDOW_SECS as u64);
            proptest::prop_assert_eq!(verify(b"k", &h, b"x", now).is_ok(), inside);
        }

        #[test]
        fn any_header_verifies_without_panicking(header in proptest::prelude::any::<String>(), now in proptest::prelude::any::<i64>()) {
            let _ = verify(b"k", &header, b"x", now);
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = WebhookSettings {
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(1),
            ..Default::default()
        };
        assert_eq!(s.backoff(1), Duration::from_millis(100));
        assert_eq!(s.backoff(2), Duration::from_millis(200));
        assert_eq!(s.backoff(4), Duration::from_millis(800));
        assert_eq!(s.backoff(5), Duration::from_secs(1));
        assert_eq!(s.backoff(40), Duration::from_secs(1));
    }
}
