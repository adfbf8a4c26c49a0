//! The web app, embedded in the binary from `web/dist` (built by `make gen`, committed; `build.rs`
//! writes the table of its files), served at
//! `/` beside the API: hashed assets under `/assets/` as immutable, `index.html` for the app's
//! own routes (the app routes in the browser), everything else the API's JSON 404. The routes of
//! the API (`/v1`, `/ipfs`, `/metrics`, `/healthz`, `/readyz`, `/openapi.json`) are matched
//! before this fallback, so the app never shadows them.
//!
//! Every answer carries a Content-Security-Policy that allows only this origin's scripts, styles
//! and connections (no inline script or style, no frames, no other origin).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use std::collections::HashMap;
use std::sync::OnceLock;

use sha2::{Digest as _, Sha256};

use crate::ApiError;

mod assets {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

/// One embedded file: its bytes, its gzip copy if `make gen` wrote one, its entity tag.
struct Asset {
    data: &'static [u8],
    gzip: Option<&'static [u8]>,
    etag: String,
}

fn asset(path: &str) -> Option<&'static Asset> {
    static ASSETS: OnceLock<HashMap<&'static str, Asset>> = OnceLock::new();
    ASSETS
        .get_or_init(|| {
            let all: HashMap<&str, &[u8]> = assets::FILES.iter().copied().collect();
            all.iter()
                .filter(|(p, _)| !p.ends_with(".gz"))
                .map(|(&p, &data)| {
                    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(data)[..16]));
                    (p, Asset { data, gzip: all.get(format!("{p}.gz").as_str()).copied(), etag })
                })
                .collect()
        })
        .get(path)
}

/// The policy of every page and asset.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// First path segments the app routes in the browser; `/` too.
const APP_ROUTES: &[&str] =
    &["platforms", "batches", "epochs", "evidence", "check", "search", "signin", "wallet", "console", "prove"];

/// Whether `path` is one of the app's pages (answered with `index.html`).
pub fn is_app_route(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    path == "/" || APP_ROUTES.contains(&first)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|part| {
            let mut it = part.trim().split(';');
            let coding = it.next().unwrap_or_default().trim();
            let refused = it.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
    })
}

/// The fallback of the router: the app's files and pages, or the API's 404.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return ApiError::not_found("not_found", "no such route").into_response();
    }
    let path = uri.path();
    let (file, immutable) = if let Some(asset) = path.strip_prefix("/assets/") {
        (format!("assets/{asset}"), true)
    } else if is_app_route(path) {
        ("index.html".to_string(), false)
    } else {
        return ApiError::not_found("not_found", "no such route").into_response();
    };
    let Some(content) = asset(&file) else {
        return ApiError::not_found("not_found", "no such file").into_response();
    };
    let etag = content.etag.as_str();
    let mut resp = if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let (body, encoded) = match content.gzip.filter(|_| accepts_gzip(&headers)) {
            Some(gz) => (gz, true),
            None => (content.data, false),
        };
        let len = body.len();
        let mut r = if method == Method::HEAD { Response::new(Body::empty()) } else { Response::new(Body::from(body)) };
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&file)));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        if encoded {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        r
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable { "public, max-age=31536000, immutable" } else { "no-cache" }),
    );
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}
