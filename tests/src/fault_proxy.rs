//! A JSON-RPC proxy that misbehaves the way real providers do, between the indexer and anvil.
//!
//! Faults are drawn from a seeded generator, so a failing run can be replayed: rate limits (429
//! with and without `Retry-After`, and as JSON-RPC errors), `eth_getLogs` range limits in the
//! wording of Alchemy, Infura, QuickNode and Ankr (some with a suggested range), requests that
//! hang past the client's timeout, a head that goes backwards (a lagging backend), and answers
//! duplicated or out of order (batch items shuffled and repeated, log lists repeated and
//! shuffled).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// How often each fault happens, in percent of requests (or of eligible requests).
#[derive(Debug, Clone)]
pub struct Faults {
    /// Seed of the fault generator.
    pub seed: u64,
    /// HTTP 429 with a `Retry-After` header.
    pub rate_limit_with_hint: u32,
    /// HTTP 429 without a hint, or a JSON-RPC "rate limit" error.
    pub rate_limit_without_hint: u32,
    /// `eth_getLogs` over more than this many blocks is refused with a range error.
    pub max_log_range: u64,
    /// Requests held longer than the client's timeout.
    pub hang: u32,
    /// How long a hung request is held.
    pub hang_for: Duration,
    /// `eth_blockNumber` answers an older head.
    pub head_backwards: u32,
    /// Batch answers shuffled and with an item repeated; log lists repeated and shuffled.
    pub scramble: u32,
    /// `eth_sendRawTransaction` forwarded to the node, then its answer dropped (a gateway timeout
    /// after the node accepted the transaction).
    pub drop_send_answers: u32,
}

impl Faults {
    /// No fault at all (to turn on one at a time).
    pub fn none() -> Self {
        Self {
            seed: 7,
            rate_limit_with_hint: 0,
            rate_limit_without_hint: 0,
            max_log_range: u64::MAX,
            hang: 0,
            hang_for: Duration::ZERO,
            head_backwards: 0,
            scramble: 0,
            drop_send_answers: 0,
        }
    }
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            seed: 7,
            rate_limit_with_hint: 5,
            rate_limit_without_hint: 5,
            max_log_range: 40,
            hang: 3,
            hang_for: Duration::from_secs(3),
            head_backwards: 10,
            scramble: 30,
            drop_send_answers: 0,
        }
    }
}

/// Counts of what the proxy did, for the test to check that faults really happened.
#[derive(Debug, Default)]
pub struct FaultCounts {
    /// Requests seen.
    pub requests: AtomicU64,
    /// 429s and rate-limit errors sent.
    pub rate_limited: AtomicU64,
    /// Range errors sent.
    pub range_errors: AtomicU64,
    /// Requests hung.
    pub hung: AtomicU64,
    /// Stale heads answered.
    pub stale_heads: AtomicU64,
    /// Answers scrambled.
    pub scrambled: AtomicU64,
    /// Transactions forwarded whose answer was dropped.
    pub sends_dropped: AtomicU64,
}

#[derive(Debug)]
struct Inner {
    upstream: String,
    faults: Faults,
    counter: AtomicU64,
    counts: Arc<FaultCounts>,
    http: reqwest::Client,
}

/// A running proxy.
#[derive(Debug)]
pub struct FaultProxy {
    /// Its URL.
    pub url: String,
    /// What it did.
    pub counts: Arc<FaultCounts>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream`.
    pub async fn start(upstream: &str, faults: Faults) -> Self {
        let counts = Arc::new(FaultCounts::default());
        let inner = Arc::new(Inner {
            upstream: upstream.to_string(),
            faults,
            counter: AtomicU64::new(0),
            counts: counts.clone(),
            http: reqwest::Client::new(),
        });
        let app = Router::new().route("/", axum::routing::post(handle)).with_state(inner);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, counts, task }
    }
}

impl Inner {
    /// A deterministic pseudo-random number for the n-th draw (splitmix64).
    fn draw(&self) -> u64 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut z = self.faults.seed.wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn chance(&self, percent: u32) -> bool {
        self.draw() % 100 < u64::from(percent)
    }
}

fn rpc_error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn hex_u64(v: &Value) -> Option<u64> {
    v.as_str().and_then(|s| s.strip_prefix("0x")).and_then(|h| u64::from_str_radix(h, 16).ok())
}

/// The range error a provider would send for `eth_getLogs` over `from..=to`, or None.
fn range_error(inner: &Inner, call: &Value) -> Option<Value> {
    if call["method"] != "eth_getLogs" {
        return None;
    }
    let filter = &call["params"][0];
    let (from, to) = (hex_u64(&filter["fromBlock"])?, hex_u64(&filter["toBlock"])?);
    let max = inner.faults.max_log_range;
    if to < from || to - from < max {
        return None;
    }
    let suggested_to = from + max - 1;
    let id = &call["id"];
    let msg = match inner.draw() % 4 {
        0 => format!(
            "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no \
             limit on the response size. Based on your parameters, this block range should work: [0x{from:x}, 0x{suggested_to:x}]"
        ),
        1 => format!(
            "query returned more than 10000 results. Try with this block range [0x{from:x}, 0x{suggested_to:x}]."
        ),
        2 => "eth_getLogs is limited to a 10,000 range".to_string(),
        _ => "block range is too wide".to_string(),
    };
    inner.counts.range_errors.fetch_add(1, Ordering::Relaxed);
    Some(rpc_error(id, -32005, &msg))
}

async fn handle(State(inner): State<Arc<Inner>>, body: Bytes) -> Response {
    inner.counts.requests.fetch_add(1, Ordering::Relaxed);
    let f = &inner.faults;
    if inner.chance(f.rate_limit_with_hint) {
        inner.counts.rate_limited.fetch_add(1, Ordering::Relaxed);
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("0.2"));
        return (StatusCode::TOO_MANY_REQUESTS, h, "slow down").into_response();
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return (StatusCode::BAD_REQUEST, "bad json").into_response(),
    };
    if inner.chance(f.rate_limit_without_hint) {
        inner.counts.rate_limited.fetch_add(1, Ordering::Relaxed);
        if inner.draw() % 2 == 0 {
            return (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
        }
        if let Value::Object(_) = &request {
            return axum::Json(rpc_error(&request["id"], -32005, "rate limit exceeded")).into_response();
        }
    }
    if inner.chance(f.hang) {
        inner.counts.hung.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(f.hang_for).await;
    }
    if let Value::Object(_) = &request
        && let Some(err) = range_error(&inner, &request)
    {
        return axum::Json(err).into_response();
    }
    let upstream = match inner.http.post(&inner.upstream).json(&request).send().await {
        Ok(r) => r,
        Err(_) => return (StatusCode::BAD_GATEWAY, "upstream down").into_response(),
    };
    let mut answer: Value = match upstream.json().await {
        Ok(v) => v,
        Err(_) => return (StatusCode::BAD_GATEWAY, "upstream garbage").into_response(),
    };
    if request["method"] == "eth_sendRawTransaction" && inner.chance(f.drop_send_answers) {
        inner.counts.sends_dropped.fetch_add(1, Ordering::Relaxed);
        return (StatusCode::GATEWAY_TIMEOUT, "upstream timed out").into_response();
    }
    // A lagging backend behind the load balancer answers an older head.
    if request["method"] == "eth_blockNumber"
        && inner.chance(f.head_backwards)
        && let Some(head) = hex_u64(&answer["result"])
    {
        inner.counts.stale_heads.fetch_add(1, Ordering::Relaxed);
        let stale = head.saturating_sub(1 + inner.draw() % 5);
        answer["result"] = json!(format!("0x{stale:x}"));
    }
    if inner.chance(f.scramble) {
        match &mut answer {
            Value::Array(items) if items.len() > 1 => {
                inner.counts.scrambled.fetch_add(1, Ordering::Relaxed);
                let dup = items[(inner.draw() as usize) % items.len()].clone();
                items.push(dup);
                items.reverse();
                let k = (inner.draw() as usize) % items.len();
                items.rotate_left(k);
            }
            Value::Object(o) => {
                if let Some(Value::Array(logs)) = o.get_mut("result")
                    && request["method"] == "eth_getLogs"
                    && !logs.is_empty()
                {
                    inner.counts.scrambled.fetch_add(1, Ordering::Relaxed);
                    let dup = logs[(inner.draw() as usize) % logs.len()].clone();
                    logs.push(dup);
                    logs.reverse();
                }
            }
            _ => {}
        }
    }
    axum::Json(answer).into_response()
}
