//! Health and indexer status.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::{ApiResult, AppState};

/// `GET /healthz`: the process is up.
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /v1/index/status`: head, finalized, cursor, lag, reorgs, alarms, IPFS queue by status.
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
        "last_error": live.last_error,
        "ipfs": ipfs,
    })))
}
