//! Limits: per-key rate limits (token buckets answered 429 with `Retry-After`), per client
//! address limits for requests without a key and for failed authentications ([`AddressGuard`],
//! applied by [`admission`] before any key or signature is checked), CORS, and the middleware
//! that turns every bare error answer of the stack (unknown route, wrong method, body over the
//! limit, timeout) into the API's JSON error format.

use std::collections::HashMap;
use std::hash::{BuildHasher as _, RandomState};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use jejak_store::Backend;

use crate::auth::{self, Principal};
use crate::{ApiError, AppState};

/// Per-key request rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second per key (0 turns limiting off).
    pub per_second: f64,
    /// Requests a key may send at once after being idle.
    pub burst: f64,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self { per_second: 100.0, burst: 200.0 }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

const SHARDS: usize = 16;
/// Buckets per shard before idle ones are dropped.
const MAX_BUCKETS: usize = 10_000;

/// Token buckets per API key.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    hasher: RandomState,
    shards: Vec<Mutex<HashMap<String, Bucket>>>,
}

impl RateLimiter {
    /// A limiter with one bucket per key.
    pub fn new(limit: RateLimit) -> Self {
        Self { limit, hasher: RandomState::new(), shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect() }
    }

    /// Takes a token from `key`'s bucket, or answers 429 with the seconds until one is there.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        self.take(key, true)
    }

    /// Answers 429 as [`RateLimiter::check`] would, without taking a token.
    pub fn peek(&self, key: &str) -> Result<(), ApiError> {
        self.take(key, false)
    }

    /// Takes a token from `key`'s bucket if one is there, never refusing.
    pub fn charge(&self, key: &str) {
        let _ = self.take(key, true);
    }

    fn take(&self, key: &str, consume: bool) -> Result<(), ApiError> {
        let RateLimit { per_second, burst } = self.limit;
        if per_second <= 0.0 {
            return Ok(());
        }
        let shard = &self.shards[self.hasher.hash_one(key) as usize % SHARDS];
        let mut buckets = shard.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if buckets.len() >= MAX_BUCKETS {
            // A full bucket is the same as no bucket: drop those.
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * per_second < burst);
        }
        let b = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: burst, at: now });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * per_second).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            if consume {
                b.tokens -= 1.0;
            }
            Ok(())
        } else {
            let wait = ((1.0 - b.tokens) / per_second).ceil().max(1.0) as u64;
            tracing::debug!(target: "jejak::api", key, wait, "rate limited");
            Err(ApiError::too_many_requests(wait))
        }
    }
}

/// How long a request waits for the shared bucket before it is admitted on the local one.
pub const SHARED_LIMIT_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Charges a key's request: to this instance's bucket first (cheap: a flood is refused without a
/// database round trip), then, on PostgreSQL with shared limits on, to the bucket every replica
/// shares, so N replicas admit the key's rate once, not N times. A database failure there, or no
/// answer within [`SHARED_LIMIT_WAIT`] (a pool with no free connection), admits the request
/// (logged): the local bucket still bounds it, and the limiter must not turn a database hiccup
/// into refusals, or stalls, of every key.
pub(crate) async fn charge_key(st: &AppState, key: &str) -> Result<(), ApiError> {
    let services = &st.services;
    services.limiter.check(key)?;
    let RateLimit { per_second, burst } = services.settings.rate_limit;
    if !services.settings.shared_rate_limits || st.store.backend() != Backend::Postgres || per_second <= 0.0 {
        return Ok(());
    }
    let charged = async {
        let mut c = st.store.conn().await?;
        jejak_store::ratelimits::charge(&mut c, key, per_second, burst).await
    };
    let warn = |why: &dyn std::fmt::Display| {
        tracing::warn!(target: "jejak::api", error = %why, "the shared rate limit could not be charged; admitted on the local limit");
    };
    match tokio::time::timeout(SHARED_LIMIT_WAIT, charged).await {
        Ok(Ok(c)) if c.admitted => Ok(()),
        Ok(Ok(c)) => {
            let wait = ((1.0 - c.tokens) / per_second).ceil().max(1.0) as u64;
            tracing::debug!(target: "jejak::api", key, wait, "rate limited across replicas");
            Err(ApiError::too_many_requests(wait))
        }
        Ok(Err(e)) => {
            warn(&e);
            Ok(())
        }
        Err(_) => {
            warn(&"no answer in time");
            Ok(())
        }
    }
}

/// Bundle builds running at once on one instance.
pub const BUNDLES_AT_ONCE: usize = 2;
/// Bundle downloads a key may make at once after being idle.
pub const BUNDLE_BURST: f64 = 3.0;
/// Seconds until a key may download one more bundle.
pub const BUNDLE_REFILL_SECS: f64 = 20.0;

/// The bounds on bundle downloads.
#[derive(Debug)]
pub struct BundleGate {
    /// Downloads per key.
    pub per_key: RateLimiter,
    /// Builds running on this instance.
    pub running: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Default for BundleGate {
    fn default() -> Self {
        Self {
            per_key: RateLimiter::new(RateLimit { per_second: 1.0 / BUNDLE_REFILL_SECS, burst: BUNDLE_BURST }),
            running: std::sync::Arc::new(tokio::sync::Semaphore::new(BUNDLES_AT_ONCE)),
        }
    }
}

/// The caller's network address: the TCP peer, or, when the peer is one of the configured
/// trusted proxies (a load balancer), the nearest address in `X-Forwarded-For` that is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// Reads the address from a request's connection info and headers.
    pub fn of(extensions: &Extensions, headers: &HeaderMap, trusted_proxies: &[IpAddr]) -> Self {
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip().to_canonical());
        if !trusted_proxies.contains(&peer) {
            return Self(peer);
        }
        // Proxies append: the last entry is what the nearest one saw. Walk back past the
        // trusted ones; anything before the first untrusted one is the client's own claim.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|a| a.trim().parse::<IpAddr>().map(|a| a.to_canonical()))
            .collect::<Vec<_>>();
        for a in forwarded.iter().rev() {
            match a {
                Ok(a) if trusted_proxies.contains(a) => continue,
                Ok(a) => return Self(*a),
                Err(_) => break,
            }
        }
        Self(peer)
    }

    /// The bucket an address counts against: an IPv4 address, or an IPv6 address's /64 (one
    /// subscriber's network hands out far more addresses than buckets could hold).
    fn bucket(self) -> String {
        match self.0 {
            IpAddr::V4(a) => a.to_string(),
            IpAddr::V6(a) => {
                let s = a.segments();
                format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        }
    }
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self::of(&parts.extensions, &parts.headers, &state.services.settings.trusted_proxies))
    }
}

/// Per client address: a rate for requests that carry no valid key (their callers have no
/// bucket of their own) and an allowance of failed authentications (wrong keys, wrong
/// signatures), past which the address is answered 429 before anything is checked.
#[derive(Debug)]
pub struct AddressGuard {
    anonymous: RateLimiter,
    failures: RateLimiter,
}

impl AddressGuard {
    /// A guard with these limits (a rate of 0 turns that limit off).
    pub fn new(anonymous: RateLimit, failures: RateLimit) -> Self {
        Self { anonymous: RateLimiter::new(anonymous), failures: RateLimiter::new(failures) }
    }

    /// A request without a (valid) key: takes a token from its address's bucket.
    pub fn anonymous(&self, addr: IpAddr) -> Result<(), ApiError> {
        self.anonymous.check(&ClientAddr(addr).bucket())
    }

    /// Refuses (429) an address that used up its failed authentications; takes nothing.
    pub fn check(&self, addr: IpAddr) -> Result<(), ApiError> {
        self.failures.peek(&ClientAddr(addr).bucket())
    }

    /// Counts a failed authentication against the address.
    pub fn failed(&self, addr: IpAddr) {
        self.failures.charge(&ClientAddr(addr).bucket());
    }
}

/// What [`admission`] found out about the caller's key, for the [`Principal`] extractor.
#[derive(Debug, Clone)]
pub(crate) enum Admitted {
    /// The key authenticated and took a token from its bucket.
    Key(Principal),
    /// The key did not authenticate: the handler answers with this error if it needs a key.
    Refused(ApiError),
}

/// Admission of every request, before any handler: an address that used up its failed
/// authentications is answered 429; a bearer key is authenticated once (cached) and charged
/// once against its own bucket; a request without a valid key is charged against its address.
pub(crate) async fn admission(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let services = &st.services;
    let addr = ClientAddr::of(req.extensions(), req.headers(), &services.settings.trusted_proxies).0;
    let token = req.headers().get(header::AUTHORIZATION).map(|h| auth::bearer(h).map(str::to_owned));
    let admitted = match token {
        Some(token) => {
            if let Err(e) = services.guard.check(addr) {
                return e.into_response();
            }
            let authenticated = match token {
                Some(token) => auth::authenticate(&st, &token).await,
                None => Err(ApiError::unauthorized(auth::BEARER_FORMAT)),
            };
            match authenticated {
                Ok(who) => match charge_key(&st, &who.key_id).await {
                    Ok(()) => Some(Admitted::Key(who)),
                    Err(e) => return e.into_response(),
                },
                Err(e) if e.status == StatusCode::UNAUTHORIZED => {
                    services.guard.failed(addr);
                    if let Err(e) = services.guard.anonymous(addr) {
                        return e.into_response();
                    }
                    Some(Admitted::Refused(e))
                }
                Err(e) => return e.into_response(),
            }
        }
        None => {
            if let Err(e) = services.guard.anonymous(addr) {
                return e.into_response();
            }
            None
        }
    };
    if let Some(a) = admitted {
        req.extensions_mut().insert(a);
    }
    next.run(req).await
}

/// The CORS layer for the configured origins: none (no CORS headers), `*`, or a list.
pub fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods(tower_http::cors::Any)
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Rewrites error answers that are not JSON (from axum's router and extractors, the body limit,
/// the timeout) into `{"error": {...}}` with a stable code, keeping `Allow` and `Retry-After`.
pub(crate) async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this route does not take this method"),
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "the request took longer than the API's timeout"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is larger than the API accepts"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "the body's Content-Type is not accepted"),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid_request", "the request does not have the documented shape"),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests"),
        StatusCode::SERVICE_UNAVAILABLE => ("service_unavailable", "the service is unavailable"),
        s if s.is_server_error() => ("internal", "internal error"),
        _ => ("bad_request", "the request could not be read"),
    };
    let keep: Vec<_> = [header::ALLOW, header::RETRY_AFTER]
        .into_iter()
        .filter_map(|h| resp.headers().get(&h).cloned().map(|v| (h, v)))
        .collect();
    let mut out = ApiError::new(status, code, message).into_response();
    out.headers_mut().extend(keep);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_the_burst_then_answers_429_with_retry_after() {
        let l = RateLimiter::new(RateLimit { per_second: 1.0, burst: 3.0 });
        for _ in 0..3 {
            l.check("a").unwrap();
        }
        let e = l.check("a").unwrap_err();
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.retry_after, Some(1));
        l.check("b").expect("keys have their own buckets");
        RateLimiter::new(RateLimit { per_second: 0.0, burst: 0.0 }).check("a").expect("0 turns limiting off");
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let mut ext = Extensions::new();
        ext.insert(ConnectInfo(SocketAddr::new(ip("10.0.0.5"), 443)));
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.66, 198.51.100.7, 10.0.0.9"));
        // The peer is not a trusted proxy: its header is the caller's own claim.
        assert_eq!(ClientAddr::of(&ext, &headers, &[]).0, ip("10.0.0.5"));
        // Behind the load balancer (and a second trusted hop), the nearest untrusted address.
        let trusted = [ip("10.0.0.5"), ip("10.0.0.9")];
        assert_eq!(ClientAddr::of(&ext, &headers, &trusted).0, ip("198.51.100.7"));
        // IPv4-mapped peers are their IPv4 address; IPv6 clients count per /64.
        let mut mapped = Extensions::new();
        mapped.insert(ConnectInfo(SocketAddr::new(ip("::ffff:192.0.2.1"), 1)));
        assert_eq!(ClientAddr::of(&mapped, &HeaderMap::new(), &[]).0, ip("192.0.2.1"));
        assert_eq!(ClientAddr(ip("2001:db8:1:2:3:4:5:6")).bucket(), ClientAddr(ip("2001:db8:1:2::9")).bucket());
        assert_ne!(ClientAddr(ip("2001:db8:1:2::1")).bucket(), ClientAddr(ip("2001:db8:1:3::1")).bucket());
    }
}
