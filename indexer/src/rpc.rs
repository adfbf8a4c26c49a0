//! A JSON-RPC client for the few calls the indexer makes, built for unreliable providers.
//!
//! The indexer talks to the node directly over HTTP rather than through a general provider
//! because it needs what providers hide: the HTTP status and `Retry-After` header of a 429, the
//! text of a range-limit error (which often suggests a range that will work), batch requests
//! matched by id (a proxy may answer out of order or twice), per-request timeouts, and falling
//! over to the next endpoint when one misbehaves.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use alloy::primitives::{Address, B256, U64};
use alloy::rpc::types::Log;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Error, Result};

/// How the client retries and times out.
#[derive(Debug, Clone)]
pub struct RpcConfig {
    /// Endpoints, in order of preference.
    pub urls: Vec<String>,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
    /// Attempts per call across all endpoints before giving up.
    pub max_attempts: u32,
    /// First backoff delay.
    pub backoff_base: Duration,
    /// Longest backoff delay.
    pub backoff_cap: Duration,
}

impl Default for RpcConfig {
    fn default() -> Self {
        Self {
            urls: vec!["http://127.0.0.1:8545".into()],
            request_timeout: Duration::from_secs(20),
            max_attempts: 8,
            backoff_base: Duration::from_millis(200),
            backoff_cap: Duration::from_secs(10),
        }
    }
}

/// A block header, reduced to what reorganisation tracking needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// Number.
    pub number: U64,
    /// Hash.
    pub hash: B256,
    /// Parent hash.
    pub parent_hash: B256,
    /// Unix time.
    pub timestamp: U64,
}

impl Header {
    /// The number as u64.
    pub fn num(&self) -> u64 {
        self.number.to::<u64>()
    }
}

/// Which block a header request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockTag {
    /// A number.
    Number(u64),
    /// The head.
    Latest,
    /// The `finalized` tag.
    Finalized,
}

impl BlockTag {
    fn param(self) -> Value {
        match self {
            BlockTag::Number(n) => json!(format!("0x{n:x}")),
            BlockTag::Latest => json!("latest"),
            BlockTag::Finalized => json!("finalized"),
        }
    }
}

/// How a failed call should be treated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpcFailure {
    /// Rate limited; wait (the provider's hint when it gave one) and retry.
    RateLimited(Option<Duration>),
    /// The log range is too large; the provider may suggest one that works.
    RangeTooLarge(Option<(u64, u64)>),
    /// A network error, timeout or server error: retry, possibly elsewhere.
    Transient(String),
    /// The request itself is wrong; retrying will not help.
    Fatal(String),
}

/// The indexer's JSON-RPC client.
#[derive(Debug, Clone)]
pub struct RpcClient {
    cfg: Arc<RpcConfig>,
    http: reqwest::Client,
    /// Index of the endpoint currently preferred; moves on after a failure.
    preferred: Arc<AtomicUsize>,
    next_id: Arc<AtomicUsize>,
}

impl RpcClient {
    /// A client over the configured endpoints.
    pub fn new(cfg: RpcConfig) -> Result<Self> {
        if cfg.urls.is_empty() {
            return Err(Error::Config("at least one RPC URL is required".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(cfg.request_timeout)
            .connect_timeout(cfg.request_timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            cfg: Arc::new(cfg),
            http,
            preferred: Arc::new(AtomicUsize::new(0)),
            next_id: Arc::new(AtomicUsize::new(1)),
        })
    }

    /// `eth_chainId`.
    pub async fn chain_id(&self) -> Result<u64> {
        let v: U64 = self.call("eth_chainId", json!([])).await?;
        Ok(v.to())
    }

    /// `eth_blockNumber`.
    pub async fn block_number(&self) -> Result<u64> {
        let v: U64 = self.call("eth_blockNumber", json!([])).await?;
        Ok(v.to())
    }

    /// The header of a block, or None when the node does not know it (or the tag).
    pub async fn header(&self, tag: BlockTag) -> Result<Option<Header>> {
        self.call("eth_getBlockByNumber", json!([tag.param(), false])).await
    }

    /// Headers of blocks `from..=to` in one batch request, in order; None where a block is
    /// unknown (the chain got shorter meanwhile).
    pub async fn headers(&self, from: u64, to: u64) -> Result<Vec<Option<Header>>> {
        let calls: Vec<(&str, Value)> =
            (from..=to).map(|n| ("eth_getBlockByNumber", json!([BlockTag::Number(n).param(), false]))).collect();
        let out: Vec<Option<Header>> = self.batch(&calls).await?;
        for (i, h) in out.iter().enumerate() {
            if let Some(h) = h
                && h.num() != from + i as u64
            {
                return Err(Error::Rpc(RpcFailure::Transient(format!(
                    "asked for block {} and got block {}",
                    from + i as u64,
                    h.num()
                ))));
            }
        }
        Ok(out)
    }

    /// `eth_getLogs` over `from..=to` for `addresses`. Range errors come back as
    /// [`RpcFailure::RangeTooLarge`] without retrying, so the caller can split the range.
    pub async fn logs(&self, addresses: &[Address], from: u64, to: u64) -> Result<Vec<Log>> {
        let filter = json!([{
            "address": addresses,
            "fromBlock": format!("0x{from:x}"),
            "toBlock": format!("0x{to:x}"),
        }]);
        self.call("eth_getLogs", filter).await
    }

    /// One call with retries, backoff and endpoint fallback.
    pub async fn call<T: serde::de::DeserializeOwned>(&self, method: &str, params: Value) -> Result<T> {
        let body = json!({"jsonrpc": "2.0", "id": self.id(), "method": method, "params": params});
        let value = self.send_with_retry(&body, method).await?;
        let resp: Response = serde_json::from_value(value)
            .map_err(|e| Error::Rpc(RpcFailure::Transient(format!("{method}: malformed response: {e}"))))?;
        resp.into_result(method)
    }

    /// A batch of calls answered in the order given, whatever order the server used.
    pub async fn batch<T: serde::de::DeserializeOwned>(&self, calls: &[(&str, Value)]) -> Result<Vec<T>> {
        if calls.is_empty() {
            return Ok(Vec::new());
        }
        let first = self.next_id.fetch_add(calls.len(), Ordering::Relaxed);
        let body: Vec<Value> = calls
            .iter()
            .enumerate()
            .map(|(i, (m, p))| json!({"jsonrpc": "2.0", "id": first + i, "method": m, "params": p}))
            .collect();
        let value = self.send_with_retry(&Value::Array(body), "batch").await?;
        let items: Vec<Response> = match value {
            Value::Array(items) => items
                .into_iter()
                .map(serde_json::from_value)
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| Error::Rpc(RpcFailure::Transient(format!("batch: malformed item: {e}"))))?,
            other => {
                // A single error object instead of an array: the whole batch was refused.
                let r: Response = serde_json::from_value(other)
                    .map_err(|e| Error::Rpc(RpcFailure::Transient(format!("batch: malformed response: {e}"))))?;
                r.into_result::<Value>("batch")?;
                return Err(Error::Rpc(RpcFailure::Transient("batch: not an array".into())));
            }
        };
        let mut slots: Vec<Option<T>> = (0..calls.len()).map(|_| None).collect();
        for item in items {
            let Some(idx) = item.id.as_ref().and_then(Value::as_u64).map(|id| id as usize) else {
                continue;
            };
            if idx < first || idx >= first + calls.len() {
                continue;
            }
            let slot = &mut slots[idx - first];
            if slot.is_none() {
                *slot = Some(item.into_result(calls[idx - first].0)?);
            }
        }
        slots
            .into_iter()
            .enumerate()
            .map(|(i, s)| s.ok_or_else(|| Error::Rpc(RpcFailure::Transient(format!("batch: no answer for item {i}")))))
            .collect()
    }

    fn id(&self) -> usize {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    async fn send_with_retry(&self, body: &Value, method: &str) -> Result<Value> {
        let n = self.cfg.urls.len();
        let mut last = RpcFailure::Transient("no attempt made".into());
        for attempt in 0..self.cfg.max_attempts {
            let idx = self.preferred.load(Ordering::Relaxed) % n;
            let url = &self.cfg.urls[idx];
            match self.send_once(url, body).await {
                Ok(v) => match classify_body(&v) {
                    None => return Ok(v),
                    Some(RpcFailure::RangeTooLarge(hint)) => {
                        return Err(Error::Rpc(RpcFailure::RangeTooLarge(hint)));
                    }
                    Some(RpcFailure::Fatal(m)) => return Err(Error::Rpc(RpcFailure::Fatal(m))),
                    Some(f) => last = f,
                },
                Err(f @ RpcFailure::RangeTooLarge(_)) | Err(f @ RpcFailure::Fatal(_)) => {
                    return Err(Error::Rpc(f));
                }
                Err(f) => last = f,
            }
            // Move on to the next endpoint and wait before trying again.
            if n > 1 {
                let _ = self.preferred.compare_exchange(idx, (idx + 1) % n, Ordering::Relaxed, Ordering::Relaxed);
            }
            let delay = match &last {
                RpcFailure::RateLimited(Some(hint)) => (*hint).min(self.cfg.backoff_cap),
                _ => backoff(attempt, self.cfg.backoff_base, self.cfg.backoff_cap),
            };
            tracing::debug!(target: "jejak::indexer", method, attempt, endpoint = %jejak_core::redact::origin(url), ?delay, failure = ?last, "rpc retry");
            tokio::time::sleep(delay).await;
        }
        Err(Error::Rpc(last))
    }

    async fn send_once(&self, url: &str, body: &Value) -> std::result::Result<Value, RpcFailure> {
        // Errors name the endpoint by scheme and host only: a provider's key may be in its path,
        // query or userinfo, and these texts are logged and served (`/readyz`, index status).
        let shown = jejak_core::redact::origin(url);
        let resp = self
            .http
            .post(url)
            .json(body)
            .send()
            .await
            .map_err(|e| RpcFailure::Transient(format!("{shown}: {}", e.without_url())))?;
        let status = resp.status();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let hint =
                resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(retry_after);
            return Err(RpcFailure::RateLimited(hint));
        }
        let text = resp.bytes().await.map_err(|e| RpcFailure::Transient(format!("{shown}: {}", e.without_url())))?;
        match serde_json::from_slice::<Value>(&text) {
            Ok(v) => Ok(v),
            Err(_) if status.is_server_error() || status.is_client_error() => {
                let body = String::from_utf8_lossy(&text);
                match classify_message(&body) {
                    Some(f) => Err(f),
                    None => Err(RpcFailure::Transient(format!("{shown}: HTTP {status}"))),
                }
            }
            Err(e) => Err(RpcFailure::Transient(format!("{shown}: undecodable body: {e}"))),
        }
    }
}

/// Capped exponential backoff with jitter: the node's one policy ([`jejak_runtime::backoff`]).
pub fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    jejak_runtime::backoff(attempt, base, cap)
}

#[derive(Debug, Deserialize)]
struct Response {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    result: Option<Value>,
    #[serde(default)]
    error: Option<RpcErrorObject>,
}

#[derive(Debug, Deserialize)]
struct RpcErrorObject {
    code: i64,
    message: String,
    #[serde(default)]
    data: Option<Value>,
}

impl Response {
    fn into_result<T: serde::de::DeserializeOwned>(self, method: &str) -> Result<T> {
        if let Some(e) = self.error {
            let text = match &e.data {
                Some(d) => format!("{} {}", e.message, d),
                None => e.message.clone(),
            };
            let failure = classify_message(&text).unwrap_or(if e.code == -32602 || e.code == -32601 {
                RpcFailure::Fatal(format!("{method}: {text}"))
            } else {
                RpcFailure::Transient(format!("{method}: {} {text}", e.code))
            });
            return Err(Error::Rpc(failure));
        }
        serde_json::from_value(self.result.unwrap_or(Value::Null))
            .map_err(|e| Error::Rpc(RpcFailure::Transient(format!("{method}: unexpected result: {e}"))))
    }
}

/// Classifies a JSON body that carries a top-level error (single call) so retries can act on
/// it; batch bodies are left to per-item handling.
fn classify_body(v: &Value) -> Option<RpcFailure> {
    let err = v.get("error")?;
    let msg = err.get("message").and_then(Value::as_str).unwrap_or("");
    let data = err.get("data").map(|d| d.to_string()).unwrap_or_default();
    let text = format!("{msg} {data}");
    // Other JSON-RPC errors are answers, not transport failures: they pass on as None.
    classify_message(&text)
}

/// Recognises the rate-limit and range-limit errors of the major providers from their text.
pub fn classify_message(text: &str) -> Option<RpcFailure> {
    let lower = text.to_ascii_lowercase();
    const RANGE: [&str; 13] = [
        "block range",
        "is limited to a",
        "query returned more than",
        "range is too large",
        "range too large",
        "exceed maximum block range",
        "response size exceeded",
        "response size should not",
        "limit exceeded",
        "too many blocks",
        "log response size",
        "query timeout exceeded",
        "max results",
    ];
    if RANGE.iter().any(|p| lower.contains(p)) && !lower.contains("rate limit") {
        return Some(RpcFailure::RangeTooLarge(suggested_range(text)));
    }
    if lower.contains("rate limit")
        || lower.contains("too many requests")
        || lower.contains("exceeded its compute units")
    {
        return Some(RpcFailure::RateLimited(retry_hint(&lower)));
    }
    None
}

/// Finds a range suggestion such as `[0x1a, 0x2f]` (Alchemy, Infura) in an error text.
fn suggested_range(text: &str) -> Option<(u64, u64)> {
    let open = text.find('[')?;
    let close = open + text[open..].find(']')?;
    let inner = &text[open + 1..close];
    let mut parts = inner.split(',').map(|p| p.trim().trim_matches('"'));
    let parse = |s: &str| -> Option<u64> {
        match s.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => s.parse().ok(),
        }
    };
    let a = parse(parts.next()?)?;
    let b = parse(parts.next()?)?;
    (a <= b).then_some((a, b))
}

/// Longest wait a provider's hint may ask for; longer hints are cut to it (the caller caps them
/// further at its backoff cap).
pub const MAX_RETRY_HINT: Duration = Duration::from_secs(3600);

/// A number of seconds from a provider (a `Retry-After` header or an error text) as a wait:
/// None for anything that is not a finite, non-negative number; at most [`MAX_RETRY_HINT`].
fn hint_secs(secs: f64) -> Option<Duration> {
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(secs.min(MAX_RETRY_HINT.as_secs_f64())).ok()
}

/// The delay a `Retry-After` header asks for: delay-seconds (fractions tolerated, as some
/// providers send them). An HTTP date, a negative, infinite or unreadable value gives None (the
/// client's own backoff applies).
pub fn retry_after(value: &str) -> Option<Duration> {
    hint_secs(value.trim().parse::<f64>().ok()?)
}

/// Finds "retry in 2s" / "try again in 500ms" style hints.
fn retry_hint(lower: &str) -> Option<Duration> {
    let idx = lower.find(" in ")?;
    let rest = lower[idx + 4..].trim_start();
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let n: f64 = digits.parse().ok()?;
    let unit = rest[digits.len()..].trim_start();
    if unit.starts_with("ms") {
        hint_secs(n / 1000.0)
    } else if unit.starts_with('s') {
        hint_secs(n)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_provider_range_errors() {
        let cases = [
            // Alchemy
            (
                "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on the response size, or you can request any block range with a cap of 10K logs in the response. Based on your parameters, this block range should work: [0x3d0900, 0x3d1129]",
                Some((0x3d0900, 0x3d1129)),
            ),
            // Infura
            ("query returned more than 10000 results. Try with this block range [0x1, 0x20].", Some((1, 0x20))),
            // QuickNode
            ("eth_getLogs is limited to a 10,000 range", None),
            // Ankr / generic
            ("block range is too wide", None),
            ("exceed maximum block range: 50000", None),
            // geth-style
            ("query timeout exceeded", None),
        ];
        for (text, hint) in cases {
            assert_eq!(classify_message(text), Some(RpcFailure::RangeTooLarge(hint)), "{text}");
        }
    }

    #[test]
    fn recognises_rate_limits_and_hints() {
        assert_eq!(
            classify_message("Too Many Requests: retry in 2s"),
            Some(RpcFailure::RateLimited(Some(Duration::from_secs(2))))
        );
        assert_eq!(classify_message("rate limit exceeded"), Some(RpcFailure::RateLimited(None)));
        assert_eq!(classify_message("execution reverted"), None);
    }

    #[test]
    fn absurd_retry_hints_are_ignored_or_capped() {
        for v in ["-1", "inf", "-inf", "NaN", "nan", "", "soon", "Wed, 21 Oct 2015 07:28:00 GMT", "-0.5"] {
            assert_eq!(retry_after(v), None, "Retry-After: {v}");
        }
        assert_eq!(retry_after("1e30"), Some(MAX_RETRY_HINT));
        assert_eq!(retry_after(" 2 "), Some(Duration::from_secs(2)));
        assert_eq!(retry_after("0.25"), Some(Duration::from_millis(250)));
        let huge = format!("rate limit exceeded, retry in {}s", "9".repeat(400));
        assert_eq!(classify_message(&huge), Some(RpcFailure::RateLimited(None)), "infinite after parsing");
        let long = "rate limit exceeded, retry in 99999999999999999999s";
        assert_eq!(classify_message(long), Some(RpcFailure::RateLimited(Some(MAX_RETRY_HINT))));
    }

    proptest::proptest! {
        #[test]
        fn any_retry_after_header_is_a_bounded_wait_or_none(v in proptest::prelude::any::<String>()) {
            if let Some(d) = retry_after(&v) {
                proptest::prop_assert!(d <= MAX_RETRY_HINT);
            }
        }

        #[test]
        fn any_number_as_retry_after_is_a_bounded_wait_or_none(n in proptest::num::f64::ANY) {
            if let Some(d) = retry_after(&n.to_string()) {
                proptest::prop_assert!(d <= MAX_RETRY_HINT);
                proptest::prop_assert!(n >= 0.0);
            }
        }

        #[test]
        fn any_provider_message_classifies_without_panicking(
            prefix in "(rate limit|too many requests|block range|query returned more than)?",
            n in "[0-9.]{0,400}",
            unit in "(ms|s|m|)",
            tail in proptest::prelude::any::<String>(),
        ) {
            let text = format!("{prefix} retry in {n}{unit} [{tail}]");
            match classify_message(&text) {
                Some(RpcFailure::RateLimited(Some(d))) => proptest::prop_assert!(d <= MAX_RETRY_HINT),
                Some(RpcFailure::RangeTooLarge(Some((a, b)))) => proptest::prop_assert!(a <= b),
                _ => {}
            }
        }
    }

    /// A provider answering 429 with `Retry-After: <value>` once, then a real answer: the call
    /// waits a bounded time and succeeds, whatever the header says.
    #[tokio::test]
    async fn a_429_with_an_absurd_retry_after_is_retried_not_a_panic() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        for value in ["-1", "inf", "NaN", "1e30"] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let server = tokio::spawn(async move {
                for answer in [
                    format!(
                        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: {value}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    ),
                    {
                        let body = r#"{"jsonrpc":"2.0","id":1,"result":"0x7a69"}"#;
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    },
                ] {
                    let (mut s, _) = listener.accept().await.unwrap();
                    let mut buf = vec![0u8; 4096];
                    let _ = s.read(&mut buf).await;
                    s.write_all(answer.as_bytes()).await.unwrap();
                    s.shutdown().await.unwrap();
                }
            });
            let rpc = RpcClient::new(RpcConfig {
                urls: vec![url],
                backoff_base: Duration::from_millis(10),
                backoff_cap: Duration::from_millis(50),
                ..Default::default()
            })
            .unwrap();
            let started = std::time::Instant::now();
            assert_eq!(rpc.chain_id().await.unwrap(), 31337, "Retry-After: {value}");
            assert!(started.elapsed() < Duration::from_secs(5), "Retry-After: {value} waited {:?}", started.elapsed());
            server.await.unwrap();
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(2);
        for attempt in 0..30 {
            let d = backoff(attempt, base, cap);
            assert!(d <= cap, "{attempt}: {d:?}");
            assert!(d >= base.saturating_mul(1 << attempt.min(16)).min(cap) / 2);
        }
    }
}
