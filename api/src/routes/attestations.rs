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
