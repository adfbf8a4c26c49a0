//! `GET /v1/attestations/{id}`: an attestation with everything needed to check it without the
//! node: the event as committed, its salt and leaf, the inclusion proof, and the on-chain anchor.

use alloy_primitives::Address;
use axum::Json;
use axum::extract::{Path, State};
use jejak_core::merkle::MerkleTree;
use jejak_store::{attestations, batches, chain};
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::{ApiError, ApiResult, AppState};

/// An attestation with its inclusion proof, anchor and finality.
#[utoipa::path(get, path = "/v1/attestations/{id}", tag = "attestations", security(("api_key" = [])),
    params(("id" = String, Path, description = "Attestation id (att_...)")),
    responses((status = 200, body = crate::openapi::AttestationReceipt), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn get_attestation(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let not_found = || ApiError::not_found("attestation_not_found", format!("no attestation `{id}`"));
    let mut c = st.store.conn().await?;
    let row = attestations::get(&mut c, &id).await?.ok_or_else(not_found)?;
    let a = &row.attestation;
    // Someone else's attestation answers exactly like a missing one.
    if !who.can_read_platform(a.platform_id) {
        return Err(not_found());
    }
    let event: Value = serde_json::from_str(&a.body).map_err(ApiError::internal)?;
    let mut out = json!({
        "id": a.id,
        "platform_id": a.platform_id,
        "event_type": a.event_type,
        "event": event,
        "event_digest": hex::encode(a.event_digest),
        "salt": hex::encode(a.salt),
        "leaf": hex::encode(a.leaf),
        "received_at": a.received_at,
        "status": "accepted",
    });
    let (Some(batch_id), Some(leaf_index)) = (row.batch_id, row.leaf_index) else {
        return Ok(Json(out));
    };
    let batch =
        batches::get(&mut c, batch_id).await?.ok_or_else(|| ApiError::internal(format!("batch {batch_id} missing")))?;
    let leaves = attestations::batch_leaves(&mut c, batch_id).await?;
    let tree = MerkleTree::from_leaf_hashes(leaves);
    if tree.root() != batch.root {
        return Err(ApiError::internal(format!("batch {batch_id} leaves do not match its root")));
    }
    let proof = tree.inclusion_proof(leaf_index as u64).map_err(ApiError::internal)?;
    out["status"] = json!("batched");
    out["leaf_index"] = json!(leaf_index);
    out["inclusion_proof"] = json!(proof.iter().map(hex::encode).collect::<Vec<_>>());
    out["batch"] = json!({
        "root": hex::encode(batch.root),
        "count": batch.count,
        "cid": batch.cid,
        "status": batch.status.as_str(),
        "transaction_hash": batch.tx_hash.map(|h| format!("0x{}", hex::encode(h))),
    });
    let chain_id = st.chain_id as i64;
    if let Some(anchor) = chain::batch_by_root(&mut c, chain_id, a.platform_id, &batch.root).await? {
        let finalized =
            chain::cursor(&mut c, chain_id).await?.is_some_and(|cur| cur.finalized_number >= anchor.key.block_number);
        out["status"] = json!(if finalized { "final" } else { "anchored" });
        out["anchor"] = json!({
            "chain_id": st.chain_id,
            "contract": Address::from(anchor.key.contract).to_checksum(None),
            "batch_id": anchor.batch_id,
            "transaction_hash": format!("0x{}", hex::encode(anchor.key.tx_hash)),
            "block_number": anchor.key.block_number,
            "block_hash": format!("0x{}", hex::encode(anchor.key.block_hash)),
            "finalized": finalized,
        });
        if let Some(reason) = chain::revocation(&mut c, chain_id, anchor.batch_id, &a.leaf).await? {
            out["status"] = json!("revoked");
            out["revocation"] = json!({ "reason_code": reason });
        }
    }
    Ok(Json(out))
}

/// `?platform_id=&limit=&cursor=` of the attestation history.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryQuery {
    /// Only this platform's (admins and auditors; a platform key sees its own anyway).
    platform_id: Option<i64>,
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One accepted attestation in the history.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct HistoryItem {
    /// `att_...`.
    id: String,
    /// Platform.
    platform_id: i64,
    /// Event type.
    event_type: String,
    /// The platform's event id.
    event_id: Option<String>,
    /// The RFC 6962 leaf, hex.
    leaf: String,
    /// When the event happened (RFC 3339).
    occurred_at: String,
    /// When the node accepted it (RFC 3339).
    received_at: String,
    /// Whether it is in a batch yet.
    batched: bool,
}

/// A page of history.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct HistoryPage {
    /// Attestations in acceptance order.
    data: Vec<HistoryItem>,
    /// Cursor of the next page, null on the last.
    next_cursor: Option<String>,
}

/// The history of accepted attestations (auditors and admins: all; platforms: their own).
#[utoipa::path(get, path = "/v1/attestations", tag = "attestations", security(("api_key" = [])), params(HistoryQuery),
    responses((status = 200, body = HistoryPage), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn list_attestations(
    State(st): State<AppState>,
    who: Principal,
    q: Result<axum::extract::Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<HistoryPage>> {
    use crate::auth::Role;
    crate::body::require(&who, &[Role::Admin, Role::Auditor, Role::Platform], "reading the history")?;
    let axum::extract::Query(q) = q.map_err(|e| ApiError::unprocessable("invalid_request", e.body_text()))?;
    let page = crate::pagination::PageRequest::from_query(Ok(axum::extract::Query(crate::pagination::PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    })))?;
    let platform = match who.role {
        Role::Platform => match q.platform_id {
            Some(p) if Some(p) != who.platform_id => {
                return Err(ApiError::forbidden("wrong_platform", "a platform key reads its own history only"));
            }
            _ => who.platform_id,
        },
        _ => q.platform_id,
    };
    let mut c = st.store.conn().await?;
    let rows = attestations::page(&mut c, platform, page.after_seq()?, page.fetch).await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.seq.to_string());
    let t = |s: i64| crate::routes::tasks::rfc3339(s).as_str().unwrap_or_default().to_owned();
    let data = rows
        .iter()
        .map(|r| {
            let a = &r.attestation;
            HistoryItem {
                id: a.id.clone(),
                platform_id: a.platform_id,
                event_type: a.event_type.clone(),
                event_id: a.event_id.clone(),
                leaf: hex::encode(a.leaf),
                occurred_at: t(a.occurred_at),
                received_at: t(a.received_at),
                batched: r.batch_id.is_some(),
            }
        })
        .collect();
    Ok(Json(HistoryPage { data, next_cursor }))
}
