//! The IPFS trustless gateway (`GET /ipfs/{cid}`), for the raw blocks this node holds.
//!
//! Only public documents live in the blockstore (batch documents, snapshots, profiles), so the
//! gateway needs no key. Evidence files are kept elsewhere and never served here.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::{ApiError, ApiResult, AppState};

async fn lookup(st: &AppState, cid: &str) -> ApiResult<Vec<u8>> {
    let cid = cid.split('?').next().unwrap_or(cid);
    let parsed = jejak_core::cid::parse(cid).map_err(|e| ApiError::bad_request("invalid_cid", e.to_string()))?;
    match st.blockstore.get(&parsed).await {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(ApiError::not_found("block_not_found", format!("this node does not hold {cid}"))),
        Err(e) => Err(ApiError::internal(e)),
    }
}

fn headers(cid: &str, len: usize, resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.ipld.raw"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=29030400, immutable"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&format!("\"{cid}.raw\"")) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("/ipfs/{cid}")) {
        h.insert("x-ipfs-path", v);
    }
}

/// `GET /ipfs/{cid}` (with `Accept: application/vnd.ipld.raw` or `?format=raw`).
#[utoipa::path(get, path = "/ipfs/{cid}", tag = "ipfs",
    params(("cid" = String, Path, description = "CIDv1 (raw, sha2-256)")),
    responses((status = 200, description = "The raw block", body = String, content_type = "application/vnd.ipld.raw"),
        (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn get_block(State(st): State<AppState>, Path(cid): Path<String>) -> ApiResult<Response> {
    let bytes = lookup(&st, &cid).await?;
    let len = bytes.len();
    let mut resp = (StatusCode::OK, Body::from(bytes)).into_response();
    headers(&cid, len, &mut resp);
    Ok(resp)
}

/// `HEAD /ipfs/{cid}`.
#[utoipa::path(head, path = "/ipfs/{cid}", tag = "ipfs",
    params(("cid" = String, Path, description = "CIDv1 (raw, sha2-256)")),
    responses((status = 200, description = "The block is held", body = String, content_type = "application/vnd.ipld.raw"),
        (status = "4XX", description = "Not held or not a CID", body = crate::openapi::ErrorBody)))]
pub(crate) async fn head_block(State(st): State<AppState>, Path(cid): Path<String>) -> ApiResult<Response> {
    let bytes = lookup(&st, &cid).await?;
    let mut resp = StatusCode::OK.into_response();
    headers(&cid, bytes.len(), &mut resp);
    Ok(resp)
}
