//! A short-lived cache of `GET /v1/workers/{id}/reputation` answers per API key.
//!
//! Scores change once per epoch (a day by default), while platforms and workers read them far
//! more often; two database queries per read would cap the node well below what it can serve.
//! An answer is kept for `reputation_cache` (1 s by default, 0 turns it off) per (key, path): the
//! key is authenticated and rate limited on every request as usual, so a revoked key gets no
//! cached answer once its revocation is seen, and each key only ever gets its own answers (a
//! platform's filtered view is never served to anyone else).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use http_body_util::BodyExt as _;

use crate::{ApiError, AppState};

/// Most answers kept; past it the cache starts over.
const MAX_ENTRIES: usize = 50_000;
/// Largest answer kept.
const MAX_BODY: usize = 256 << 10;

/// Answers by (key id, path).
#[derive(Debug, Default)]
pub struct ResponseCache {
    ttl: Duration,
    entries: Mutex<HashMap<(String, String), (Instant, Bytes)>>,
}

impl ResponseCache {
    /// A cache keeping answers for `ttl` (zero: off).
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    fn get(&self, key: &(String, String)) -> Option<Bytes> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, b)| b.clone())
    }

    fn put(&self, key: (String, String), body: Bytes) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (Instant::now(), body));
    }
}

fn json(body: Bytes) -> Response {
    let mut resp = (StatusCode::OK, Body::from(body)).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// The caching layer of the reputation route.
pub(crate) async fn reputation(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let cache = &st.services.reputation_cache;
    if cache.ttl.is_zero() {
        return next.run(req).await;
    }
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    // Without a usable key the handler answers (401) as it always does.
    let Some(token) = token else {
        return next.run(req).await;
    };
    let who = match crate::auth::authenticate(&st, &token).await {
        Ok(who) => who,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = st.services.limiter.check(&who.key_id) {
        return e.into_response();
    }
    let key = (who.key_id, req.uri().path().to_owned());
    if let Some(body) = cache.get(&key) {
        return json(body);
    }
    let resp = next.run(req).await;
    if resp.status() != StatusCode::OK {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    match body.collect().await {
        Ok(collected) => {
            let bytes = collected.to_bytes();
            if bytes.len() <= MAX_BODY {
                cache.put(key, bytes.clone());
            }
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => ApiError::internal(e).into_response(),
    }
}
