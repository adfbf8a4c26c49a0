//! Health, readiness, metrics, the OpenAPI document and indexer status.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::{ApiResult, AppState};

/// `GET /healthz`: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up", body = crate::openapi::Health)))]
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers, the indexer reaches the chain and is within
/// `ready_max_lag_blocks` of the head; also names the verifying key and its origin.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready", body = crate::openapi::Readiness),
        (status = 503, description = "Not ready: `checks` says why", body = crate::openapi::Readiness)))]
pub(crate) async fn readyz(State(st): State<AppState>) -> Response {
    // The database's own error may name its host, user or more: it goes to the log, and the
    // answer (served without a key) only says the check failed.
    let database = match st.store.ping().await {
        Ok(()) => json!({"ok": true}),
        Err(e) => {
            tracing::warn!(target: "jejak::api", error = %jejak_core::redact::urls_in_text(&e.to_string()), "readiness: the database does not answer");
            json!({"ok": false, "error": "the database does not answer"})
        }
    };
    let mut live = st.indexer.snapshot();
    let leases = lease_info(&st).await;
    if !st.services.instance.runs("indexer") {
        // Another instance indexes: what it recorded stands for the chain and the indexer here.
        if let Ok(mut c) = st.store.conn().await
            && let Ok(Some(stored)) = jejak_store::chain::cursor(&mut c, st.chain_id as i64).await
        {
            live.head = stored.head_number.max(0) as u64;
            live.finalized = stored.finalized_number.max(0) as u64;
            live.cursor = stored.block_number.max(0) as u64;
            live.lag = live.head.saturating_sub(live.cursor);
        }
    }
    let chain_ok = live.head > 0 && !live.head_stalled;
    let chain = json!({
        "ok": chain_ok,
        "head": live.head,
        "finalized": live.finalized,
        "head_stalled": live.head_stalled,
        "last_error": live.last_error.as_deref().map(served_error),
    });
    let max_lag = st.services.settings.ready_max_lag_blocks;
    let lag_ok = live.head > 0 && live.lag <= max_lag;
    let indexer = json!({"ok": lag_ok, "lag": live.lag, "max_lag": max_lag, "cursor": live.cursor,
        "here": st.services.instance.runs("indexer")});
    let ready = database["ok"] == true && chain_ok && lag_ok;
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    // Which key proofs are checked with, and where it came from: informative, not a readiness
    // condition (the node refuses to start with development keys outside anvil's chain).
    let proofs = st.services.proofs.as_ref().map(|p| p.key_json());
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": {"database": database, "chain": chain, "indexer": indexer},
        "verifying_key": proofs,
        "instance": instance_info(&st),
        "leases": leases,
    });
    (status, Json(body)).into_response()
}

/// An indexer or RPC error as answered to anyone: every URL in it (an RPC endpoint may carry a
/// provider's key in its path, query or userinfo) reduced to scheme and host.
fn served_error(e: &str) -> String {
    jejak_core::redact::urls_in_text(e)
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain")))]
pub(crate) async fn metrics(State(st): State<AppState>) -> Response {
    let body = crate::metrics::render(&st).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

/// `GET /openapi.json`: this API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub(crate) async fn openapi_json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], crate::openapi::document_json()).into_response()
}

/// Any route that does not exist (the operations router's fallback; the full API's is the web app).
pub(crate) async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::not_found("not_found", "no such route")
}

/// `GET /v1/index/status`: head, finalized, cursor, lag, reorgs, alarms, IPFS queue by status.
#[utoipa::path(get, path = "/v1/index/status", tag = "operations",
    responses((status = 200, body = crate::openapi::IndexStatus), (status = "5XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn index_status(State(st): State<AppState>) -> ApiResult<Json<Value>> {
    let live = st.indexer.snapshot();
    let mut c = st.store.conn().await?;
    let stored = jejak_store::chain::cursor(&mut c, st.chain_id as i64).await?;
    let queue = jejak_store::ipfs::counts(&mut c).await?;
    let ipfs: serde_json::Map<String, Value> =
        queue.into_iter().map(|(s, n)| (s.as_str().to_string(), json!(n))).collect();
    let cursor = stored.map_or(live.cursor, |c| c.block_number.max(0) as u64);
    let head = live.head.max(stored.map_or(0, |c| c.head_number.max(0) as u64));
    Ok(Json(json!({
        "chain_id": st.chain_id,
        "head": head,
        "finalized": live.finalized.max(stored.map_or(0, |c| c.finalized_number.max(0) as u64)),
        "cursor": cursor,
        "lag": head.saturating_sub(cursor),
        "reorgs": stored.map_or(live.reorgs, |c| c.reorgs as u64),
        "events_indexed_since_start": live.events_indexed,
        "log_range": live.log_range,
        "alarms": {
            "finality_lagging": live.finality_lagging,
            "head_stalled": live.head_stalled,
        },
        "last_error": live.last_error.as_deref().map(served_error),
        "ipfs": ipfs,
        "instance": instance_info(&st),
        "leases": lease_info(&st).await,
    })))
}

/// This instance's id and roles.
fn instance_info(st: &AppState) -> Value {
    let i = &st.services.instance;
    json!({"id": i.id, "roles": i.roles})
}

/// Every lease in the database, with its holder and age (empty when the database cannot say:
/// the database check reports that).
async fn lease_info(st: &AppState) -> Vec<Value> {
    let now = jejak_store::leases::now_millis();
    let rows = match jejak_store::leases::list(&st.store).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::debug!(target: "jejak::api", error = %jejak_core::redact::urls_in_text(&e.to_string()), "reading the leases failed");
            return Vec::new();
        }
    };
    rows.into_iter()
        .map(|l| {
            json!({
                "job": l.job,
                "held_here": l.holder == st.services.instance.id,
                "holder": l.holder,
                "token": l.token,
                "age_ms": now.saturating_sub(l.acquired_at).max(0),
                "renewed_ms_ago": now.saturating_sub(l.renewed_at).max(0),
                "expired": l.expires_at <= now,
            })
        })
        .collect()
}
