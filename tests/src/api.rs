//! Helpers for the verification API tests: raw requests with any method and key, a published
//! epoch written straight into the store (for tests about credentials and reputation reads, not
//! about scoring), and a webhook receiver that fails on demand.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use jejak_store::scores::{EpochRow, EpochStatus, WorkerScoreRow};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::TestNode;

impl TestNode {
    /// Any request; `token` None sends no key. Returns status and JSON body (Null if not JSON).
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.api));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Writes a published epoch `epoch` holding one worker, `commitment` (decimal), linked to
    /// `platform`: what the epoch job leaves behind, without running it.
    pub async fn publish_fake_epoch(&self, epoch: i64, commitment: &str, platform: i64, reputation: i64) {
        let c: alloy::primitives::U256 = commitment.parse().unwrap();
        let now = jejak_store::now_secs();
        let chain_id = self.config.chain.chain_id as i64;
        let row = EpochRow {
            chain_id,
            epoch,
            status: EpochStatus::Published,
            as_of: now - 60,
            as_of_block: 1,
            params_version: 1,
            params_cid: "bafkreiparams".into(),
            depth: 20,
            worker_count: 1,
            root: [epoch as u8; 32],
            platforms: "[]".into(),
            snapshot_cid: Some("bafkreisnapshot".into()),
            tx_hash: Some([9; 32]),
            error: None,
            created_at: now,
            updated_at: now,
        };
        let card = json!({"platforms": [{"platform_id": platform}], "active_months": 3});
        let w = WorkerScoreRow {
            epoch,
            commitment: c.to_be_bytes::<32>(),
            leaf_index: 0,
            reputation,
            credit: 700,
            tier: "B".into(),
            gigs: 57,
            salt: [1; 32],
            leaf: [2; 32],
            card: card.to_string(),
        };
        let mut tx = self.db.store.begin().await.unwrap();
        jejak_store::scores::insert_epoch(&mut tx, &row, &[w]).await.unwrap();
        jejak_store::commit(tx).await.unwrap();
    }
}

/// What a [`Receiver`] saw.
#[derive(Debug, Clone)]
pub struct Received {
    /// `Jejak-Webhook-Id`.
    pub event_id: String,
    /// `Jejak-Signature`.
    pub signature: String,
    /// The body.
    pub body: String,
    /// The status answered.
    pub answered: u16,
}

/// An HTTP endpoint on 127.0.0.1 that answers 500 to its first `fail_first` requests (and to
/// every request while `down`), 200 after, and records everything.
#[derive(Debug, Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:PORT/hook`.
    pub url: String,
    /// Requests answered 500 before the first 200.
    pub fail_first: Arc<AtomicU32>,
    /// While non-zero every request fails.
    pub down: Arc<AtomicUsize>,
    /// Every request.
    pub seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Starts a receiver.
    pub async fn start(fail_first: u32) -> Self {
        let r = Self {
            url: String::new(),
            fail_first: Arc::new(AtomicU32::new(fail_first)),
            down: Arc::new(AtomicUsize::new(0)),
            seen: Arc::new(Mutex::new(Vec::new())),
        };
        let state = r.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(
                |axum::extract::State(s): axum::extract::State<Receiver>,
                 headers: axum::http::HeaderMap,
                 body: String| async move {
                    let failing = s.down.load(Ordering::SeqCst) > 0
                        || s.fail_first.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
                    let answered = if failing { 500 } else { 200 };
                    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                    s.seen.lock().await.push(Received {
                        event_id: h("jejak-webhook-id"),
                        signature: h("jejak-signature"),
                        body,
                        answered,
                    });
                    axum::http::StatusCode::from_u16(answered).unwrap()
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app.with_state(state)).await });
        Self { url: format!("http://{addr}/hook"), ..r }
    }

    /// Everything received so far.
    pub async fn received(&self) -> Vec<Received> {
        self.seen.lock().await.clone()
    }
}

/// A TCP port free at the time of asking, on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
