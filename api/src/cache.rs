//! A short-lived cache of `GET /v1/workers/{id}/reputation` answers per API key.
//!
//! Scores change once per epoch (a day by default), while platforms and workers read them far
//! more often; two database queries per read would cap the node well below what it can serve.
//! An answer is kept for `reputation_cache` (1 s by default, 0 turns it off) per (key, worker),
//! the worker being the canonical form of the commitment however the path writes it: the key is
//! authenticated and charged once on every request by the admission layer, as for any route, so
//! a revoked key gets no cached answer once its revocation is seen, and each key only ever gets
//! its own answers (a platform's filtered view is never served to anyone else).

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

    /// Answers kept (tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
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

/// The canonical decimal commitment of `/v1/workers/{id}/reputation`.
fn worker_of(path: &str) -> Option<String> {
    let id = path.strip_prefix("/v1/workers/")?.strip_suffix("/reputation")?;
    let decoded = percent_decode(id)?;
    jejak_core::event::parse_field_element(&decoded).ok().map(|c| c.to_string())
}

/// `%XX` escapes of a path segment decoded (axum's `Path` decodes them the same way).
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = (bytes.next()? as char).to_digit(16)?;
            let lo = (bytes.next()? as char).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

/// The caching layer of the reputation route.
pub(crate) async fn reputation(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let cache = &st.services.reputation_cache;
    if cache.ttl.is_zero() {
        return next.run(req).await;
    }
    // The admission layer authenticated the key and charged its bucket: nothing is charged
    // twice. Without a usable key the handler answers (401) as it always does.
    let Some(crate::limits::Admitted::Key(who)) = req.extensions().get::<crate::limits::Admitted>().cloned() else {
        return next.run(req).await;
    };
    // One entry per worker however the id is written (`0042`, `42`); an id that is not a
    // commitment is answered by the handler, uncached.
    let Some(worker) = worker_of(req.uri().path()) else {
        return next.run(req).await;
    };
    let key = (who.key_id, worker);
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
