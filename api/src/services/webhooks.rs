//! Webhooks in both directions.
//!
//! - Incoming: a platform may send its events to `POST /v1/webhooks/events` signed instead of
//!   with an API key: `Jejak-Platform: <id>` and `Jejak-Signature: t=<unix seconds>,v1=<hex>`,
//!   where `v1` is HMAC-SHA256 over `"<t>.<body>"` with the platform's webhook secret. The
//!   timestamp must be within five minutes of the node's clock (replay window) and the MAC is
//!   compared in constant time. The header is read within bounds ([`SignatureHeader`]: 512
//!   bytes, four `v1=` entries) before anything else, and the MAC is computed once, off the async
//!   workers ([`verify_off_runtime`]).
//! - Outgoing: [`run`] produces events for subscribed platforms (finalized batches, evidence
//!   verdicts, score changes in a published epoch) into a durable delivery queue, and delivers
//!   them signed the same way, at least once, retrying with capped exponential backoff; a
//!   delivery out of attempts goes to the dead-letter list, readable and replayable through the
//!   API. Every delivery of one event carries the same event id (`Jejak-Webhook-Id`), the
//!   receiver's idempotency key. Deliveries go only where [`crate::services::egress`] allows,
//!   at most `per_platform_concurrency` of one platform per round, and keep a short excerpt of
//!   the receiver's answer. `score.changed` is written a page of workers per transaction.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hmac::{Hmac, Mac as _};
use jejak_store::webhooks::{self as db, DeliveryRow, DeliveryStatus};
use jejak_store::{now_secs, scores};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::services::egress::{self, EgressPolicy, LookupHost, SystemLookup};

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

/// Longest `Jejak-Signature` header read, bytes: `t=` and four `v1=` entries fit well inside.
pub const MAX_SIGNATURE_HEADER: usize = 512;
/// Most `v1=` entries in one header (a platform rotating its secret sends two).
pub const MAX_SIGNATURES: usize = 4;

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=<unix>,v1=<hex>`, or is over its bounds.
    #[error(
        "Jejak-Signature must read t=<unix seconds>,v1=<64 hex digits> (at most {MAX_SIGNATURES} v1 entries, {MAX_SIGNATURE_HEADER} bytes)"
    )]
    Malformed,
    /// The timestamp is outside the replay window.
    #[error("the signature timestamp is more than {REPLAY_WINDOW_SECS} s away from the node's clock")]
    OutsideWindow,
    /// No `v1` matches.
    #[error("the signature does not match the body")]
    Mismatch,
}

/// A `Jejak-Signature` header read within its bounds; nothing is verified yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// The signed timestamp.
    pub t: i64,
    /// The candidate MACs, 1 to [`MAX_SIGNATURES`].
    pub macs: Vec<[u8; 32]>,
}

impl SignatureHeader {
    /// Reads a header: one `t=`, 1 to [`MAX_SIGNATURES`] `v1=` of 64 hex digits, at most
    /// [`MAX_SIGNATURE_HEADER`] bytes. Cheap: no MAC is computed.
    pub fn parse(header: &str) -> Result<Self, SignatureError> {
        if header.len() > MAX_SIGNATURE_HEADER {
            return Err(SignatureError::Malformed);
        }
        let mut t = None;
        let mut macs = Vec::new();
        for part in header.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                Some(("t", v)) if t.is_none() => t = Some(v.parse::<i64>().map_err(|_| SignatureError::Malformed)?),
                Some(("v1", v)) if macs.len() < MAX_SIGNATURES => {
                    let mut mac = [0u8; 32];
                    hex::decode_to_slice(v, &mut mac).map_err(|_| SignatureError::Malformed)?;
                    macs.push(mac);
                }
                // Other schemes are skipped (a later version may add some); a second `t` or a
                // fifth `v1` is refused.
                Some((k, _)) if k != "t" && k != "v1" => {}
                _ => return Err(SignatureError::Malformed),
            }
        }
        let t = t.ok_or(SignatureError::Malformed)?;
        if macs.is_empty() {
            return Err(SignatureError::Malformed);
        }
        Ok(Self { t, macs })
    }

    /// Whether `t` is within the replay window of `now` (no overflow for any `t`).
    pub fn in_window(&self, now: i64) -> bool {
        now.abs_diff(self.t) <= REPLAY_WINDOW_SECS.unsigned_abs()
    }
}

/// What a verified signature vouches for: the signed timestamp and the SHA-256 of the body. A
/// request's idempotency is derived from these, never from the header's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// The signed timestamp.
    pub t: i64,
    /// SHA-256 of the signed body.
    pub body_sha256: [u8; 32],
}

impl VerifiedSignature {
    /// The idempotency key of a signed request sent without `Idempotency-Key`: the same
    /// timestamp and body are the same request, however the header is written.
    pub fn idempotency_key(&self) -> String {
        format!("jejak-signed:{}:{}", self.t, hex::encode(self.body_sha256))
    }
}

/// Checks a `Jejak-Signature` header against `body` at `now`: one MAC over the body, compared
/// in constant time with each of the (at most [`MAX_SIGNATURES`]) candidates. CPU-bound for a
/// large body: call it off the async workers ([`verify_off_runtime`]).
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: i64) -> Result<VerifiedSignature, SignatureError> {
    let parsed = SignatureHeader::parse(header)?;
    verify_parsed(secret, &parsed, body, now)
}

fn verify_parsed(
    secret: &[u8],
    h: &SignatureHeader,
    body: &[u8],
    now: i64,
) -> Result<VerifiedSignature, SignatureError> {
    if !h.in_window(now) {
        return Err(SignatureError::OutsideWindow);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(h.t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected: [u8; 32] = mac.finalize().into_bytes().into();
    // Every candidate is compared, in constant time, whichever matches.
    let matched = h.macs.iter().fold(subtle::Choice::from(0), |acc, m| acc | m.ct_eq(&expected));
    if !bool::from(matched) {
        return Err(SignatureError::Mismatch);
    }
    Ok(VerifiedSignature { t: h.t, body_sha256: Sha256::digest(body).into() })
}

/// Signature checks running at once off the async workers; more wait their turn.
static VERIFY_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// [`verify`] on the blocking pool, at most two at a time, so that MACs over large bodies
/// never stall the async workers that serve every other request.
pub async fn verify_off_runtime(
    secret: Vec<u8>,
    header: SignatureHeader,
    body: bytes::Bytes,
    now: i64,
) -> Result<VerifiedSignature, SignatureError> {
    let slot = VERIFY_SLOTS.acquire().await.expect("the semaphore is never closed");
    // The slot goes with the work, so a request that times out does not free it early.
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        verify_parsed(&secret, &header, &body, now)
    })
    .await
    .unwrap_or(Err(SignatureError::Mismatch))
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
    /// Where deliveries may go (subscription URLs are checked against it when made and on
    /// every connection).
    pub egress: EgressPolicy,
    /// How receivers' names are looked up (the system's resolver; tests bring their own).
    pub lookup: Arc<dyn LookupHost>,
    /// Deliveries of one platform attempted in one round: a platform whose receiver is slow or
    /// whose backlog is long cannot take every slot.
    pub per_platform_concurrency: usize,
    /// Live subscriptions a platform may have.
    pub max_subscriptions: usize,
    /// Workers read per transaction when `score.changed` fans out.
    pub fanout_page: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            max_attempts: 12,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(3600),
            timeout: Duration::from_secs(10),
            poll_interval: Duration::from_millis(500),
            egress: EgressPolicy::default(),
            lookup: Arc::new(SystemLookup),
            per_platform_concurrency: 8,
            max_subscriptions: 16,
            fanout_page: 1000,
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
    enqueue_to(c, &subs, platform_id, event_type, key, data).await
}

/// Queues an event for those of `subs` (the platform's live subscriptions) that want it.
async fn enqueue_to(
    c: &mut jejak_store::Conn,
    subs: &[db::SubscriptionRow],
    platform_id: i64,
    event_type: &str,
    key: &str,
    data: Value,
) -> jejak_store::Result<usize> {
    let wanted: Vec<&db::SubscriptionRow> = subs.iter().filter(|s| s.wants(event_type)).collect();
    if wanted.is_empty() {
        return Ok(0);
    }
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
    for s in wanted {
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
pub(crate) async fn produce(st: &AppState) -> jejak_store::Result<usize> {
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

    // Score changes of published epochs, a page of workers per transaction.
    queued += score_fanout(st).await?;
    Ok(queued)
}

/// Most deliveries one round queues for score changes before it lets deliveries run.
const FANOUT_ROUND: usize = 20_000;

/// `score.changed` for every worker whose scores differ from the previous published epoch, to
/// each platform the worker's card names. Written in pages of workers, each page and the
/// position after it in one transaction (a crash resumes at the page; event ids make a page
/// written twice queue nothing twice), and not at all when no subscription wants the event:
/// then the epoch is passed over without reading a worker.
async fn score_fanout(st: &AppState) -> jejak_store::Result<usize> {
    let chain_id = st.chain_id as i64;
    let page = st.services.settings.webhooks.fanout_page.max(1) as i64;
    let mut queued = 0;
    while queued < FANOUT_ROUND {
        let mut tx = st.store.begin().await?;
        let published: Vec<i64> = scores::epochs(&mut tx, chain_id)
            .await?
            .into_iter()
            .filter(|e| e.status == scores::EpochStatus::Published)
            .map(|e| e.epoch)
            .collect();
        let Some(pos) = db::cursor(&mut tx, "epoch").await? else {
            // First run: subscribers hear of epochs published from now on.
            db::set_cursor(&mut tx, "epoch", published.iter().copied().max().unwrap_or(0)).await?;
            jejak_store::commit(tx).await?;
            return Ok(queued);
        };
        let Some(epoch) = published.iter().copied().filter(|e| *e > pos).min() else {
            return Ok(queued);
        };
        let from = db::cursor(&mut tx, "epoch_page").await?.unwrap_or(0);
        let rows = if db::anyone_wants(&mut tx, "score.changed").await? {
            scores::worker_scores_page(&mut tx, chain_id, epoch, from, page).await?
        } else {
            Vec::new()
        };
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            // Done with this epoch (or nobody listens).
            db::set_cursor(&mut tx, "epoch", epoch).await?;
            db::set_cursor(&mut tx, "epoch_page", 0).await?;
            jejak_store::commit(tx).await?;
            continue;
        };
        let next = last.leaf_index + 1;
        let previous = published.iter().copied().filter(|e| *e < epoch).max();
        let before: HashMap<[u8; 32], scores::WorkerScoreRow> = match previous {
            Some(p) => scores::worker_scores_between(&mut tx, chain_id, p, &first.commitment, &last.commitment)
                .await?
                .into_iter()
                .map(|w| (w.commitment, w))
                .collect(),
            None => HashMap::new(),
        };
        let mut subs: HashMap<i64, Vec<db::SubscriptionRow>> = HashMap::new();
        for w in &rows {
            let old = before.get(&w.commitment);
            if old
                .is_some_and(|o| (o.reputation, o.credit, &o.tier, o.gigs) == (w.reputation, w.credit, &w.tier, w.gigs))
            {
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
                let live = match subs.entry(p) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => e.insert(db::live_subscriptions(&mut tx, p).await?),
                };
                let key = format!("score:{chain_id}:{epoch}:{worker}:{p}");
                queued += enqueue_to(&mut tx, live, p, "score.changed", &key, data.clone()).await?;
            }
        }
        db::set_cursor(&mut tx, "epoch_page", next).await?;
        jejak_store::commit(tx).await?;
    }
    Ok(queued)
}

/// At most this much of a receiver's answer is read, and this many characters of it kept.
const EXCERPT_READ: usize = 1024;
const EXCERPT_CHARS: usize = 200;

/// The start of a receiver's answer, for the delivery's `last_error`: a short excerpt, control
/// characters blanked, never more than [`EXCERPT_READ`] bytes read.
async fn excerpt(mut r: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < EXCERPT_READ {
        match r.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk[..chunk.len().min(EXCERPT_READ - body.len())]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&body)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(EXCERPT_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// An HTTP client error with its causes, URLs reduced to their origin.
fn failure_text(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    let text = jejak_core::redact::urls_in_text(&text);
    text.chars().take(EXCERPT_CHARS * 2).collect()
}

/// Attempts one delivery and records the outcome.
pub(crate) async fn deliver(st: &AppState, http: &reqwest::Client, d: DeliveryRow) -> jejak_store::Result<()> {
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
    let secret = match st.services.secrets.open_subscription_secret(&sub.id, &sub.secret) {
        Ok(secret) => secret,
        Err(e) => {
            tracing::error!(target: "jejak::webhooks", delivery = %d.id, subscription = %sub.id, error = %e.message, "webhook secret unreadable");
            let mut c = st.store.conn().await?;
            let why = "the subscription's secret does not open with this node's key";
            return db::record_attempt(&mut c, &d.id, DeliveryStatus::Dead, now_ms(), None, Some(why), now).await;
        }
    };
    st.services.metrics.webhook_attempts.fetch_add(1, Ordering::Relaxed);
    // The URL again, as written: the policy may be stricter than when the subscription was
    // made, and an address literal is never resolved (names are, through the client's
    // filtering resolver).
    let (ok, status, error) = match settings.egress.check_url(&sub.url) {
        Err(e) => (false, None, Some(format!("refused: {e}"))),
        Ok(_) => {
            let sent = http
                .post(&sub.url)
                .timeout(settings.timeout)
                .header("content-type", "application/json")
                .header(WEBHOOK_ID_HEADER, &d.event_id)
                .header("jejak-delivery", &d.id)
                .header(SIGNATURE_HEADER, sign(&secret, now, d.payload.as_bytes()))
                .body(d.payload.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => (true, Some(i64::from(r.status().as_u16())), None),
                Ok(r) => {
                    let code = r.status();
                    let answer = excerpt(r).await;
                    (false, Some(i64::from(code.as_u16())), Some(format!("receiver answered {code}: {answer}")))
                }
                Err(e) => (false, None, Some(format!("request failed: {}", failure_text(&e)))),
            }
        }
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
    /// Production (events to deliveries, with the sources' cursors) runs on the holder of this
    /// lease only; deliveries are claimed one by one by every worker. None: one instance, always.
    producer: Option<std::sync::Arc<jejak_store::leases::Fence>>,
}

impl WebhookWorker {
    /// A worker over the API's state.
    pub fn new(st: AppState) -> jejak_store::Result<Self> {
        let settings = &st.services.settings.webhooks;
        let http = egress::client(&settings.egress, settings.lookup.clone())
            .map_err(|e| jejak_store::Error::Corrupt(format!("webhook HTTP client: {e}")))?;
        tracing::info!(target: "jejak::webhooks", "webhook dispatcher started");
        Ok(Self { st, http, producer: None })
    }

    /// Produces new deliveries only while this instance holds `lease` (several instances share
    /// the database); delivers whatever it claims either way.
    pub fn producing_under(mut self, lease: std::sync::Arc<jejak_store::leases::Fence>) -> Self {
        self.producer = Some(lease);
        self
    }
}

impl jejak_runtime::Job for WebhookWorker {
    type Error = jejak_store::Error;

    async fn step(&mut self) -> jejak_store::Result<jejak_runtime::Pace> {
        let (st, http) = (&self.st, &self.http);
        let settings = &st.services.settings.webhooks;
        let queued = if self.producer.as_ref().is_none_or(|f| f.held()) { produce(st).await? } else { 0 };
        let due = {
            let mut c = st.store.conn().await?;
            let due = db::due_fair(&mut c, now_ms(), settings.per_platform_concurrency.max(1) as i64, 64).await?;
            // Each attempt is claimed first, for longer than it can take: another instance's
            // worker skips it, and it is due again only if this one dies before recording it.
            let until = now_ms().saturating_add(2 * settings.timeout.as_millis() as i64 + 5_000);
            let mut claimed = Vec::with_capacity(due.len());
            for d in due {
                if db::claim(&mut c, &d.id, d.next_attempt_at, until).await? {
                    claimed.push(d);
                }
            }
            claimed
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
        let ok = Ok(VerifiedSignature { t: now, body_sha256: Sha256::digest(body).into() });
        assert_eq!(verify(secret, &h, body, now), ok);
        assert_eq!(verify(secret, &h, body, now + REPLAY_WINDOW_SECS), ok);
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
    fn headers_are_bounded_before_any_mac() {
        let mac = "ab".repeat(32);
        let four = format!("t=1,{}", vec![format!("v1={mac}"); 4].join(","));
        assert_eq!(SignatureHeader::parse(&four).unwrap().macs.len(), 4);
        let five = format!("{four},v1={mac}");
        assert_eq!(SignatureHeader::parse(&five), Err(SignatureError::Malformed));
        assert_eq!(SignatureHeader::parse(&format!("t=1,t=2,v1={mac}")), Err(SignatureError::Malformed));
        assert_eq!(
            SignatureHeader::parse(&format!("t=1,v1={mac},{}", "x".repeat(500))),
            Err(SignatureError::Malformed)
        );
        assert_eq!(SignatureHeader::parse(&format!("t=1,v1={}", "ab".repeat(31))), Err(SignatureError::Malformed));
        assert!(SignatureHeader::parse(&format!(" t=1 , v1={mac}, v0=old,")).is_ok(), "unknown schemes are skipped");
        // Timestamps at the ends of i64 are outside the window, not an overflow.
        for t in [i64::MIN, i64::MAX] {
            let h = SignatureHeader::parse(&format!("t={t},v1={mac}")).unwrap();
            assert!(!h.in_window(1_800_000_000));
            assert_eq!(
                verify(b"k", &format!("t={t},v1={mac}"), b"", 1_800_000_000),
                Err(SignatureError::OutsideWindow)
            );
        }
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

    /// `testdata/webhook-signatures.json`: what [`sign`] and [`verify`] give for accepted and
    /// refused headers, read by the TypeScript SDK's tests (the SDK must agree with the node).
    /// Checked here against the file; `JEJAK_WRITE_TESTDATA=1` writes it instead.
    #[test]
    fn shared_signature_vectors() {
        let t = 1_800_000_000_i64;
        let long_secret = "k".repeat(100);
        let mac = |secret: &str, t: i64, body: &str| sign(secret.as_bytes(), t, body.as_bytes());
        let v1 = |h: &str| h.split_once(",v1=").unwrap().1.to_owned();
        let base = mac("whsec_test", t, r#"{"events":[]}"#);
        let mut flipped = v1(&base);
        flipped.replace_range(0..1, if flipped.starts_with('0') { "1" } else { "0" });
        let wrong = "ab".repeat(32);
        // (name, secret, body, header, now)
        let cases: Vec<(&str, String, String, String, i64)> = vec![
            ("plain", "whsec_test".into(), r#"{"events":[]}"#.into(), base.clone(), t),
            (
                "utf8 secret and body",
                "rahasia-é-ü".into(),
                "{\"note\":\"jalan é ✓\\n\"}\n".into(),
                mac("rahasia-é-ü", t, "{\"note\":\"jalan é ✓\\n\"}\n"),
                t,
            ),
            ("empty body, key longer than a block", long_secret.clone(), String::new(), mac(&long_secret, t, ""), t),
            (
                "edge of the window, late",
                "whsec_test".into(),
                "x".into(),
                mac("whsec_test", t, "x"),
                t + REPLAY_WINDOW_SECS,
            ),
            (
                "edge of the window, early",
                "whsec_test".into(),
                "x".into(),
                mac("whsec_test", t, "x"),
                t - REPLAY_WINDOW_SECS,
            ),
            (
                "rotation: the second v1 matches",
                "whsec_test".into(),
                r#"{"events":[]}"#.into(),
                format!("t={t},v1={wrong},v1={}", v1(&base)),
                t,
            ),
            (
                "other schemes and spaces skipped",
                "whsec_test".into(),
                r#"{"events":[]}"#.into(),
                format!(" t={t} , v0=old, v1={} ,", v1(&base)),
                t,
            ),
            ("body altered", "whsec_test".into(), r#"{"events":[1]}"#.into(), base.clone(), t),
            ("mac altered", "whsec_test".into(), r#"{"events":[]}"#.into(), format!("t={t},v1={flipped}"), t),
            ("other secret", "whsec_other".into(), r#"{"events":[]}"#.into(), base.clone(), t),
            (
                "timestamp moved",
                "whsec_test".into(),
                r#"{"events":[]}"#.into(),
                base.replace(&format!("t={t}"), &format!("t={}", t + 1)),
                t,
            ),
            ("too late", "whsec_test".into(), "x".into(), mac("whsec_test", t, "x"), t + REPLAY_WINDOW_SECS + 1),
            ("too early", "whsec_test".into(), "x".into(), mac("whsec_test", t, "x"), t - REPLAY_WINDOW_SECS - 1),
            ("no timestamp", "whsec_test".into(), "x".into(), format!("v1={wrong}"), t),
            ("no v1", "whsec_test".into(), "x".into(), format!("t={t}"), t),
            ("two timestamps", "whsec_test".into(), "x".into(), format!("t={t},t={t},v1={wrong}"), t),
            ("five v1", "whsec_test".into(), "x".into(), format!("t={t}{}", format!(",v1={wrong}").repeat(5)), t),
            ("short mac", "whsec_test".into(), "x".into(), format!("t={t},v1={}", "ab".repeat(31)), t),
            ("not hex", "whsec_test".into(), "x".into(), format!("t={t},v1={}", "zz".repeat(32)), t),
            ("timestamp not a number", "whsec_test".into(), "x".into(), format!("t=soon,v1={wrong}"), t),
            ("over 512 bytes", "whsec_test".into(), "x".into(), format!("t={t},v1={wrong},{}", "x".repeat(500)), t),
            ("not a header", "whsec_test".into(), "x".into(), "garbage".into(), t),
        ];
        let vectors: Vec<Value> = cases
            .iter()
            .map(|(name, secret, body, header, now)| {
                let outcome = match verify(secret.as_bytes(), header, body.as_bytes(), *now) {
                    Ok(_) => "ok",
                    Err(SignatureError::Malformed) => "malformed",
                    Err(SignatureError::OutsideWindow) => "outside_window",
                    Err(SignatureError::Mismatch) => "mismatch",
                };
                json!({"name": name, "secret": secret, "body": body, "header": header, "now": now, "expect": outcome})
            })
            .collect();
        let doc = json!({
            "about": "Jejak-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">, checked within a window of \
                      window_secs. Secrets and bodies are UTF-8 text. Made and checked by api/src/services/webhooks.rs \
                      shared_signature_vectors; read by sdk/typescript/test/webhooks.test.js.",
            "window_secs": REPLAY_WINDOW_SECS,
            "signed": {"secret": "whsec_test", "t": t, "body": r#"{"events":[]}"#, "header": base},
            "vectors": vectors,
        });
        let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/webhook-signatures.json");
        if std::env::var_os("JEJAK_WRITE_TESTDATA").is_some() {
            std::fs::write(path, &text).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            committed, text,
            "testdata/webhook-signatures.json is stale: run this test with JEJAK_WRITE_TESTDATA=1"
        );
        // Each kind of outcome is covered; seven headers are accepted.
        let outcomes: Vec<&str> = vectors.iter().map(|v| v["expect"].as_str().unwrap()).collect();
        assert_eq!(outcomes.iter().filter(|o| **o == "ok").count(), 7, "{outcomes:?}");
        for kind in ["malformed", "outside_window", "mismatch"] {
            assert!(outcomes.contains(&kind), "{kind} missing from {outcomes:?}");
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
