//! `GET /v1/workers/{id}/reputation`: a worker's reputation and credit score with the reasons
//! behind them, per platform, and their history per epoch. `id` is the identity commitment.
//!
//! Who may read: the worker's own key, admins and auditors. A platform key sees only workers
//! linked to it, and only its own entry of the per-platform breakdown: showing it the worker's
//! other platforms would let platforms link one worker across them. Anyone else gets the answer
//! a missing worker gets.
//!
//! `GET /v1/workers/{id}/bundle`: the worker's portable bundle (`jejak bundle export`), built from
//! the latest published epoch's stored data, for the worker's own key or an admin. Its cost (the
//! epoch's Poseidon tree and the worker's batch trees rebuilt from stored leaves) is bounded: at
//! most [`crate::limits::BUNDLES_AT_ONCE`] builds at once on an instance (more answer 503 `bundle_busy`), and per
//! key a bucket of [`crate::limits::BUNDLE_BURST`] downloads refilled one per [`crate::limits::BUNDLE_REFILL_SECS`] s (429).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jejak_store::scores::{self, EpochStatus};
use serde_json::{Value, json};

use crate::auth::{Principal, Role};
use crate::{ApiError, ApiResult, AppState};

/// The worker's portable bundle (format `jejak-bundle/v1`, RFC 8785 canonical JSON).
#[utoipa::path(get, path = "/v1/workers/{id}/bundle", tag = "reputation", security(("api_key" = [])),
    params(("id" = String, Path, description = "Identity commitment (decimal)")),
    responses(
        (status = 200, description = "The bundle (`jejak bundle verify` checks it against the chain and IPFS); the worker's own key or an admin", content_type = "application/json", body = Object),
        (status = 404, description = "`worker_not_found`: no published epoch scores the worker (or not yours)", body = crate::openapi::ErrorBody),
        (status = 429, description = "`rate_limited`: this key's bundle allowance is spent; see `Retry-After`", body = crate::openapi::ErrorBody),
        (status = 503, description = "`bundle_busy`: other bundles are being built; retry", body = crate::openapi::ErrorBody),
        (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn get_bundle(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    crate::body::require(&who, &[Role::Admin, Role::Worker], "downloading a worker's bundle")?;
    let commitment = jejak_core::event::parse_field_element(&id).map_err(|e| {
        ApiError::unprocessable("invalid_request", format!("worker id must be an identity commitment: {e}"))
    })?;
    let not_found = || ApiError::not_found("worker_not_found", format!("no published score for worker `{id}`"));
    if who.role == Role::Worker && who.worker_id.as_deref() != Some(id.as_str()) {
        return Err(not_found());
    }
    let gate = &st.services.bundles;
    gate.per_key.check(&who.key_id)?;
    let _running = gate.running.clone().try_acquire_owned().map_err(|_| {
        let mut e = ApiError::unavailable("bundle_busy", "other bundles are being built; retry in a few seconds");
        e.retry_after = Some(5);
        e
    })?;
    let chain_id = st.chain_id as i64;
    let published = {
        let mut c = st.store.conn().await?;
        scores::worker_history(&mut c, chain_id, &commitment.to_be_bytes::<32>(), HISTORY).await?
    };
    if !published.iter().any(|(_, s)| *s == EpochStatus::Published) {
        return Err(not_found());
    }
    let d = jejak_verify::bundle::Deployment {
        chain_id: st.chain_id,
        attestations: st.attestations_contract,
        reputation_roots: st.services.settings.reputation_roots,
    };
    let bytes = jejak_verify::bundle::export(&st.store, d, &id, None).await.map_err(|e| match e {
        jejak_verify::Error::Export(m) if m.starts_with("no published score") => not_found(),
        jejak_verify::Error::Export(m) => ApiError::unavailable("bundle_unavailable", m),
        other => ApiError::internal(other),
    })?;
    tracing::info!(target: "jejak::api", key = %who.key_id, worker = %id, bytes = bytes.len(), "bundle exported");
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"jejak-bundle.json\"".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// Epochs listed in `history`.
const HISTORY: i64 = 100;

fn status_str(s: EpochStatus) -> &'static str {
    s.as_str()
}

/// A worker's reputation and credit with reasons, per platform, and history.
#[utoipa::path(get, path = "/v1/workers/{id}/reputation", tag = "reputation", security(("api_key" = [])),
    params(("id" = String, Path, description = "Identity commitment (decimal)")),
    responses((status = 200, body = crate::openapi::Reputation), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn get_reputation(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let commitment = jejak_core::event::parse_field_element(&id).map_err(|e| {
        ApiError::unprocessable("invalid_request", format!("worker id must be an identity commitment: {e}"))
    })?;
    let commitment = commitment.to_be_bytes::<32>();
    let not_found = || ApiError::not_found("worker_not_found", format!("no reputation for worker `{id}`"));
    if who.role == Role::Worker && who.worker_id.as_deref() != Some(id.as_str()) {
        return Err(not_found());
    }
    let chain_id = st.chain_id as i64;
    let mut c = st.store.conn().await?;
    let history = scores::worker_history(&mut c, chain_id, &commitment, HISTORY).await?;
    let Some((latest, status)) = history.first() else {
        return Err(not_found());
    };
    let card: Value = serde_json::from_str(&latest.card).map_err(ApiError::internal)?;
    let mut platforms: Vec<Value> = card["platforms"].as_array().cloned().unwrap_or_default();
    if who.role == Role::Platform {
        platforms.retain(|p| p["platform_id"].as_i64().is_some_and(|p| Some(p) == who.platform_id));
        if platforms.is_empty() {
            return Err(not_found());
        }
    }
    let epoch = scores::epoch(&mut c, chain_id, latest.epoch)
        .await?
        .ok_or_else(|| ApiError::internal(format!("epoch {} of a worker row is missing", latest.epoch)))?;
    let history: Vec<Value> = history
        .iter()
        .map(|(w, s)| {
            json!({
                "epoch": w.epoch,
                "status": status_str(*s),
                "reputation": w.reputation,
                "credit": w.credit,
                "tier": w.tier,
                "gigs": w.gigs,
            })
        })
        .collect();
    let mut snapshot = json!({
        "root": format!("0x{}", hex::encode(epoch.root)),
        "snapshot_cid": epoch.snapshot_cid,
        "leaf_index": latest.leaf_index,
        "leaf": format!("0x{}", hex::encode(latest.leaf)),
        "transaction_hash": epoch.tx_hash.map(|h| format!("0x{}", hex::encode(h))),
    });
    // The salt opens the leaf: only the worker gets it, to prove with.
    if who.role == Role::Worker {
        snapshot["salt"] = json!(format!("0x{}", hex::encode(latest.salt)));
    }
    Ok(Json(json!({
        "worker": id,
        "epoch": latest.epoch,
        "status": status_str(*status),
        "as_of": epoch.as_of,
        "params_version": epoch.params_version,
        "reputation": {
            "score": latest.reputation,
            "gigs": latest.gigs,
            "active_months": card["active_months"],
            "reasons": card["reputation_reasons"],
        },
        "credit": {
            "score": latest.credit,
            "tier": latest.tier,
            "limit": card["credit_limit"],
            "tenure_months": card["tenure_months"],
            "components": card["credit_components"],
            "reasons": card["credit_reasons"],
        },
        "platforms": platforms,
        "snapshot": snapshot,
        "history": history,
    })))
}
