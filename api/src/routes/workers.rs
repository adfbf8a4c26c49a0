//! `GET /v1/workers/{id}/reputation`: a worker's reputation and credit score with the reasons
//! behind them, per platform, and their history per epoch. `id` is the identity commitment.
//!
//! Who may read: the worker's own key, admins and auditors. A platform key sees only workers
//! linked to it, and only its own entry of the per-platform breakdown: showing it the worker's
//! other platforms would let platforms link one worker across them. Anyone else gets the answer
//! a missing worker gets.

use axum::Json;
use axum::extract::{Path, State};
use jejak_store::scores::{self, EpochStatus};
use serde_json::{Value, json};

use crate::auth::{Principal, Role};
use crate::{ApiError, ApiResult, AppState};

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
