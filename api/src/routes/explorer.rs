//! The explorer's reads, public (no key): totals and indexer state, platforms, anchored batches,
//! published epochs with the score distribution as counts per range, evidence anchors, and a
//! search by transaction hash, root, batch id or CID. Everything comes from the chain events the
//! indexer recorded; every list is paged by cursor and every search is bounded.
//!
//! `GET /v1/session` (any key) tells the web app who signed in.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use jejak_store::chain::{self, ChainBatch};
use jejak_store::explorer::{self as db, EvidenceRow, Needle, RootRow, ScoreColumn};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::pagination::{PageQuery, PageRequest};
use crate::{ApiError, ApiResult, AppState};

/// Longest search text.
pub(crate) const MAX_QUERY_LEN: usize = 200;
/// Most results of each kind a search answers.
const SEARCH_LIMIT: i64 = 10;

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/explorer/summary", get(summary))
        .route("/v1/explorer/platforms", get(platforms))
        .route("/v1/explorer/platforms/{id}", get(platform))
        .route("/v1/explorer/batches", get(batches))
        .route("/v1/explorer/batches/{id}", get(batch))
        .route("/v1/explorer/epochs", get(epochs))
        .route("/v1/explorer/epochs/{epoch}", get(epoch))
        .route("/v1/explorer/evidence", get(evidence))
        .route("/v1/explorer/search", get(search))
        .route("/v1/session", get(session))
}

/// What the chain holds and where the indexer is.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Summary {
    /// EIP-155 chain id.
    chain_id: u64,
    /// Platforms registered.
    platforms: i64,
    /// Batches anchored.
    batches: i64,
    /// Attestations in anchored batches.
    attestations_anchored: i64,
    /// Reputation epochs whose root was published.
    epochs: i64,
    /// Leaves in this node's evidence log.
    evidence_log_size: u64,
    /// Evidence log heads anchored on chain.
    evidence_checkpoints_anchored: i64,
    /// The indexer.
    indexer: IndexerState,
}

/// Where the indexer is.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IndexerState {
    /// Chain head seen.
    head: u64,
    /// Finalized block.
    finalized: u64,
    /// Last block recorded.
    cursor: u64,
    /// Blocks between the head and the cursor.
    lag: u64,
}

/// `GET /v1/explorer/summary`: totals and the indexer's position.
#[utoipa::path(get, path = "/v1/explorer/summary", tag = "explorer",
    responses((status = 200, body = Summary), (status = "5XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn summary(State(st): State<AppState>) -> ApiResult<Json<Summary>> {
    let chain_id = st.chain_id as i64;
    let mut c = st.store.conn().await?;
    let totals = db::totals(&mut c, chain_id).await?;
    let log_size = jejak_store::evidence::log_size(&mut c).await?;
    let stored = chain::cursor(&mut c, chain_id).await?;
    let live = st.indexer.snapshot();
    let cursor = stored.map_or(live.cursor, |c| c.block_number.max(0) as u64);
    let head = live.head.max(stored.map_or(0, |c| c.head_number.max(0) as u64));
    let finalized = live.finalized.max(stored.map_or(0, |c| c.finalized_number.max(0) as u64));
    Ok(Json(Summary {
        chain_id: st.chain_id,
        platforms: totals.platforms,
        batches: totals.batches,
        attestations_anchored: totals.attestations,
        epochs: totals.epochs,
        evidence_log_size: log_size,
        evidence_checkpoints_anchored: totals.evidence_checkpoints,
        indexer: IndexerState { head, finalized, cursor, lag: head.saturating_sub(cursor) },
    }))
}

/// The finalized block as recorded (-1 before the first).
async fn finalized(c: &mut jejak_store::Conn, chain_id: i64) -> ApiResult<i64> {
    Ok(chain::cursor(c, chain_id).await?.map_or(-1, |cur| cur.finalized_number))
}

fn hex0x(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

/// A platform as the registry's events describe it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlatformView {
    /// Platform id.
    platform_id: i64,
    /// Current signer address.
    signer: String,
    /// Current profile CID.
    profile_cid: String,
    /// Not suspended.
    active: bool,
    /// Block it was registered in.
    registered_block: i64,
    /// Batches anchored.
    batches: i64,
    /// Attestations in them.
    attestations: i64,
}

async fn platform_view(c: &mut jejak_store::Conn, chain_id: i64, id: i64) -> ApiResult<Option<PlatformView>> {
    let Some(p) = chain::platform(c, chain_id, id).await? else { return Ok(None) };
    let (batches, attestations) = db::platform_totals(c, chain_id, id).await?;
    Ok(Some(PlatformView {
        platform_id: p.platform_id,
        signer: alloy_primitives::Address::from(p.signer).to_checksum(None),
        profile_cid: p.profile_cid,
        active: p.active,
        registered_block: p.registered_block,
        batches,
        attestations,
    }))
}

/// A page of platforms.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlatformPage {
    /// Platforms by id.
    data: Vec<PlatformView>,
    /// Cursor of the next page; null on the last.
    next_cursor: Option<String>,
}

/// `GET /v1/explorer/platforms`: registered platforms by id.
#[utoipa::path(get, path = "/v1/explorer/platforms", tag = "explorer", params(PageQuery),
    responses((status = 200, body = PlatformPage), (status = 422, body = crate::openapi::ErrorBody)))]
pub(crate) async fn platforms(
    State(st): State<AppState>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Json<PlatformPage>> {
    let page = PageRequest::from_query(q)?;
    let after = page.after_seq()?;
    let chain_id = st.chain_id as i64;
    let mut c = st.store.conn().await?;
    let ids = db::platform_ids(&mut c, chain_id, after, page.fetch).await?;
    let (ids, next_cursor) = page.finish(ids, i64::to_string);
    let mut data = Vec::with_capacity(ids.len());
    for id in ids {
        data.extend(platform_view(&mut c, chain_id, id).await?);
    }
    Ok(Json(PlatformPage { data, next_cursor }))
}

/// A path id: a non-negative integer, or a 404 with `code` (an id that cannot exist is not found).
fn path_id(raw: &str, code: &'static str, what: &str) -> ApiResult<i64> {
    raw.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| ApiError::not_found(code, format!("no such {what}")))
}

/// `GET /v1/explorer/platforms/{id}`: one platform.
#[utoipa::path(get, path = "/v1/explorer/platforms/{id}", tag = "explorer",
    params(("id" = i64, Path, description = "Platform id")),
    responses((status = 200, body = PlatformView), (status = 404, body = crate::openapi::ErrorBody)))]
pub(crate) async fn platform(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<PlatformView>> {
    let id = path_id(&id, "platform_not_found", "platform")?;
    let mut c = st.store.conn().await?;
    platform_view(&mut c, st.chain_id as i64, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("platform_not_found", format!("no platform {id} on this chain")))
}

/// An anchored batch.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BatchView {
    /// On-chain batch id.
    batch_id: i64,
    /// Platform.
    platform_id: i64,
    /// RFC 6962 root, hex.
    root: String,
    /// Attestations (leaves).
    count: i64,
    /// Batch document CID.
    cid: String,
    /// Attestations contract.
    contract: String,
    /// Anchoring transaction.
    transaction_hash: String,
    /// Block.
    block_number: i64,
    /// Block hash.
    block_hash: String,
    /// The block is final.
    finalized: bool,
    /// Revoked leaves (on the batch page only).
    #[serde(skip_serializing_if = "Option::is_none")]
    revocations: Option<i64>,
}

fn batch_view(b: ChainBatch, finalized: i64) -> BatchView {
    BatchView {
        batch_id: b.batch_id,
        platform_id: b.platform_id,
        root: hex::encode(b.root),
        count: b.count,
        cid: b.cid,
        contract: alloy_primitives::Address::from(b.key.contract).to_checksum(None),
        transaction_hash: hex0x(&b.key.tx_hash),
        block_number: b.key.block_number,
        block_hash: hex0x(&b.key.block_hash),
        finalized: finalized >= b.key.block_number,
        revocations: None,
    }
}

/// `?platform_id=&limit=&cursor=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BatchQuery {
    /// Only this platform's batches.
    platform_id: Option<i64>,
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of batches.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BatchPage {
    /// Newest first.
    data: Vec<BatchView>,
    /// Cursor of the next page; null on the last.
    next_cursor: Option<String>,
}

/// `GET /v1/explorer/batches`: anchored batches, newest first, of all platforms or one.
#[utoipa::path(get, path = "/v1/explorer/batches", tag = "explorer", params(BatchQuery),
    responses((status = 200, body = BatchPage), (status = 422, body = crate::openapi::ErrorBody)))]
pub(crate) async fn batches(
    State(st): State<AppState>,
    q: Result<Query<BatchQuery>, QueryRejection>,
) -> ApiResult<Json<BatchPage>> {
    let Query(q) = q.map_err(|e| ApiError::unprocessable("invalid_request", e.body_text()))?;
    let page = PageRequest::from_query(Ok(Query(PageQuery { limit: q.limit, cursor: q.cursor })))?;
    let invalid = || ApiError::unprocessable("invalid_request", "cursor: not a cursor this API gave");
    let before = match page.after.as_str() {
        "" => None,
        s => {
            let (b, l) = s.split_once(':').ok_or_else(invalid)?;
            Some((b.parse::<i64>().map_err(|_| invalid())?, l.parse::<i64>().map_err(|_| invalid())?))
        }
    };
    let chain_id = st.chain_id as i64;
    let mut c = st.store.conn().await?;
    let fin = finalized(&mut c, chain_id).await?;
    let rows = db::batches_page(&mut c, chain_id, q.platform_id, before, page.fetch).await?;
    let (rows, next_cursor) = page.finish(rows, |b| format!("{}:{}", b.key.block_number, b.key.log_index));
    Ok(Json(BatchPage { data: rows.into_iter().map(|b| batch_view(b, fin)).collect(), next_cursor }))
}

/// `GET /v1/explorer/batches/{id}`: one batch by its on-chain id.
#[utoipa::path(get, path = "/v1/explorer/batches/{id}", tag = "explorer",
    params(("id" = i64, Path, description = "On-chain batch id")),
    responses((status = 200, body = BatchView), (status = 404, body = crate::openapi::ErrorBody)))]
pub(crate) async fn batch(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<BatchView>> {
    let id = path_id(&id, "batch_not_found", "batch")?;
    let chain_id = st.chain_id as i64;
    let mut c = st.store.conn().await?;
    let b = db::batch_by_id(&mut c, chain_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("batch_not_found", format!("no batch {id} on this chain")))?;
    let fin = finalized(&mut c, chain_id).await?;
    let revocations = db::revocations(&mut c, chain_id, b.batch_id).await?;
    Ok(Json(BatchView { revocations: Some(revocations), ..batch_view(b, fin) }))
}

/// Workers per score range.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Bucket {
    /// Lowest score of the range.
    from: i64,
    /// Highest score of the range.
    to: i64,
    /// Workers in it.
    count: i64,
}

/// How an epoch's scores are spread: counts only, no worker named.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Distribution {
    /// Workers scored.
    workers: i64,
    /// Reputation (0 to 1000) in ranges of 100.
    reputation: Vec<Bucket>,
    /// Credit score (300 to 850) in ranges of 50.
    credit: Vec<Bucket>,
}

/// A published reputation epoch.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EpochView {
    /// Epoch.
    epoch: i64,
    /// Poseidon root, hex (big-endian).
    root: String,
    /// Snapshot manifest CID.
    snapshot_cid: String,
    /// Scoring parameters version.
    params_version: i64,
    /// Publishing transaction.
    transaction_hash: String,
    /// Block.
    block_number: i64,
    /// The block is final.
    finalized: bool,
    /// A later root replaced it.
    replaced: bool,
    /// Score distribution (on the epoch page, when this node computed the epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    distribution: Option<Distribution>,
}

fn epoch_view(r: RootRow, finalized: i64) -> EpochView {
    EpochView {
        epoch: r.epoch,
        root: hex::encode(r.root),
        snapshot_cid: r.snapshot_cid,
        params_version: r.params_version,
        transaction_hash: hex0x(&r.key.tx_hash),
        block_number: r.key.block_number,
        finalized: finalized >= r.key.block_number,
        replaced: r.replaced,
        distribution: None,
    }
}

/// A page of epochs.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EpochPage {
    /// Newest first.
    data: Vec<EpochView>,
    /// Cursor of the next page; null on the last.
    next_cursor: Option<String>,
}

/// `GET /v1/explorer/epochs`: published reputation roots, newest epoch first.
#[utoipa::path(get, path = "/v1/explorer/epochs", tag = "explorer", params(PageQuery),
    responses((status = 200, body = EpochPage), (status = 422, body = crate::openapi::ErrorBody)))]
pub(crate) async fn epochs(
    State(st): State<AppState>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Json<EpochPage>> {
    let page = PageRequest::from_query(q)?;
    let before = if page.after.is_empty() { None } else { Some(page.after_seq()?) };
    let chain_id = st.chain_id as i64;
    let mut c = st.store.conn().await?;
    let fin = finalized(&mut c, chain_id).await?;
    let rows = db::roots_page(&mut c, chain_id, before, page.fetch).await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.epoch.to_string());
    Ok(Json(EpochPage { data: rows.into_iter().map(|r| epoch_view(r, fin)).collect(), next_cursor }))
}

/// Counts per range of `width` from `min` to `max` (the top score falls in the last range),
/// every range present.
fn buckets(found: &[(i64, i64)], min: i64, max: i64, width: i64) -> Vec<Bucket> {
    let mut out: Vec<Bucket> =
        (min..max).step_by(width as usize).map(|from| Bucket { from, to: (from + width).min(max), count: 0 }).collect();
    for &(start, n) in found {
        let last = out.len().saturating_sub(1);
        let i = ((start.clamp(min, max) - min) / width) as usize;
        if let Some(b) = out.get_mut(i.min(last)) {
            b.count += n;
        }
    }
    out
}

/// `GET /v1/explorer/epochs/{epoch}`: one published epoch, with the distribution of its scores.
#[utoipa::path(get, path = "/v1/explorer/epochs/{epoch}", tag = "explorer",
    params(("epoch" = i64, Path, description = "Epoch")),
    responses((status = 200, body = EpochView), (status = 404, body = crate::openapi::ErrorBody)))]
pub(crate) async fn epoch(State(st): State<AppState>, Path(epoch): Path<String>) -> ApiResult<Json<EpochView>> {
    let epoch = path_id(&epoch, "epoch_not_found", "epoch")?;
    let chain_id = st.chain_id as i64;
    let mut c = st.store.conn().await?;
    let r = db::root(&mut c, chain_id, epoch)
        .await?
        .ok_or_else(|| ApiError::not_found("epoch_not_found", format!("no root published for epoch {epoch}")))?;
    let fin = finalized(&mut c, chain_id).await?;
    let reputation = db::score_histogram(&mut c, chain_id, epoch, ScoreColumn::Reputation, 100).await?;
    let credit = db::score_histogram(&mut c, chain_id, epoch, ScoreColumn::Credit, 50).await?;
    let workers: i64 = reputation.iter().map(|(_, n)| n).sum();
    let distribution = (workers > 0).then(|| Distribution {
        workers,
        reputation: buckets(&reputation, 0, 1000, 100),
        credit: buckets(&credit, 300, 850, 50),
    });
    Ok(Json(EpochView { distribution, ..epoch_view(r, fin) }))
}

/// An anchored evidence log head.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EvidenceView {
    /// Checkpoint index.
    index: i64,
    /// Log size.
    size: i64,
    /// Log root at that size, hex.
    root: String,
    /// Checkpoint document CID.
    cid: String,
    /// Anchoring transaction.
    transaction_hash: String,
    /// Block.
    block_number: i64,
    /// The block is final.
    finalized: bool,
}

fn evidence_view(e: EvidenceRow, finalized: i64) -> EvidenceView {
    EvidenceView {
        index: e.checkpoint,
        size: e.size,
        root: hex::encode(e.root),
        cid: e.cid,
        transaction_hash: hex0x(&e.key.tx_hash),
        block_number: e.key.block_number,
        finalized: finalized >= e.key.block_number,
    }
}

/// A page of evidence anchors.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EvidencePage {
    /// Newest first.
    data: Vec<EvidenceView>,
    /// Cursor of the next page; null on the last.
    next_cursor: Option<String>,
}

/// `GET /v1/explorer/evidence`: the evidence log heads anchored on chain, newest first.
#[utoipa::path(get, path = "/v1/explorer/evidence", tag = "explorer", params(PageQuery),
    responses((status = 200, body = EvidencePage), (status = 422, body = crate::openapi::ErrorBody)))]
pub(crate) async fn evidence(
    State(st): State<AppState>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Json<EvidencePage>> {
    let page = PageRequest::from_query(q)?;
    let before = if page.after.is_empty() { None } else { Some(page.after_seq()?) };
    let chain_id = st.chain_id as i64;
    let mut c = st.store.conn().await?;
    let fin = finalized(&mut c, chain_id).await?;
    let rows = db::evidence_page(&mut c, chain_id, before, page.fetch).await?;
    let (rows, next_cursor) = page.finish(rows, |e| e.checkpoint.to_string());
    Ok(Json(EvidencePage { data: rows.into_iter().map(|e| evidence_view(e, fin)).collect(), next_cursor }))
}

/// `?q=`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchQuery {
    /// A transaction hash or root (64 hex digits, `0x` optional), a batch, platform or epoch id,
    /// or a CID.
    q: String,
}

/// What was found.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum HitKind {
    /// A batch (`id` is the batch id).
    Batch,
    /// A published epoch (`id` is the epoch).
    Epoch,
    /// An evidence anchor (`id` is the checkpoint index).
    Evidence,
    /// A platform (`id` is the platform id).
    Platform,
}

/// One search result.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Hit {
    /// What it is.
    kind: HitKind,
    /// Its id (batch id, epoch, checkpoint index, platform id).
    id: i64,
    /// Root, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    root: Option<String>,
    /// Leaf count of a batch, size of an evidence log head.
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<i64>,
    /// Anchoring transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_hash: Option<String>,
    /// Block.
    #[serde(skip_serializing_if = "Option::is_none")]
    block_number: Option<i64>,
    /// The block is final.
    #[serde(skip_serializing_if = "Option::is_none")]
    finalized: Option<bool>,
}

/// Search results.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SearchResults {
    /// At most 10 of each kind, in chain order.
    data: Vec<Hit>,
}

fn batch_hit(b: ChainBatch, fin: i64) -> Hit {
    Hit {
        kind: HitKind::Batch,
        id: b.batch_id,
        root: Some(hex::encode(b.root)),
        size: Some(b.count),
        transaction_hash: Some(hex0x(&b.key.tx_hash)),
        block_number: Some(b.key.block_number),
        finalized: Some(fin >= b.key.block_number),
    }
}

fn epoch_hit(r: RootRow, fin: i64) -> Hit {
    Hit {
        kind: HitKind::Epoch,
        id: r.epoch,
        root: Some(hex::encode(r.root)),
        size: None,
        transaction_hash: Some(hex0x(&r.key.tx_hash)),
        block_number: Some(r.key.block_number),
        finalized: Some(fin >= r.key.block_number),
    }
}

fn evidence_hit(e: EvidenceRow, fin: i64) -> Hit {
    Hit {
        kind: HitKind::Evidence,
        id: e.checkpoint,
        root: Some(hex::encode(e.root)),
        size: Some(e.size),
        transaction_hash: Some(hex0x(&e.key.tx_hash)),
        block_number: Some(e.key.block_number),
        finalized: Some(fin >= e.key.block_number),
    }
}

/// What a search text names.
enum Wanted {
    Id(i64),
    Hash([u8; 32]),
    Cid(String),
}

fn classify(q: &str) -> Option<Wanted> {
    if !q.is_empty() && q.len() <= 18 && q.bytes().all(|b| b.is_ascii_digit()) {
        return q.parse().ok().map(Wanted::Id);
    }
    let hex = q.strip_prefix("0x").unwrap_or(q);
    if hex.len() == 64 {
        let mut out = [0u8; 32];
        return hex::decode_to_slice(hex, &mut out).ok().map(|()| Wanted::Hash(out));
    }
    if q.len() <= jejak_core::cid::MAX_CID_LEN {
        return jejak_core::cid::parse(q).ok().map(|c| Wanted::Cid(c.to_string()));
    }
    None
}

/// `GET /v1/explorer/search`: batches, epochs, evidence anchors and platforms named by a
/// transaction hash, root, id or CID.
#[utoipa::path(get, path = "/v1/explorer/search", tag = "explorer", params(SearchQuery),
    responses((status = 200, body = SearchResults),
        (status = 422, description = "`invalid_search`: not a hash, id or CID", body = crate::openapi::ErrorBody)))]
pub(crate) async fn search(
    State(st): State<AppState>,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> ApiResult<Json<SearchResults>> {
    let Query(q) = q.map_err(|e| ApiError::unprocessable("invalid_request", e.body_text()))?;
    let text = q.q.trim();
    let invalid = || {
        ApiError::unprocessable(
            "invalid_search",
            "search for a transaction hash or root (64 hex digits), a batch, platform or epoch id, or a CID",
        )
    };
    if text.len() > MAX_QUERY_LEN {
        return Err(invalid());
    }
    let wanted = classify(&text.to_ascii_lowercase()).or_else(|| classify(text)).ok_or_else(invalid)?;
    let chain_id = st.chain_id as i64;
    let mut c = st.store.conn().await?;
    let fin = finalized(&mut c, chain_id).await?;
    let mut data = Vec::new();
    match wanted {
        Wanted::Id(id) => {
            if let Some(b) = db::batch_by_id(&mut c, chain_id, id).await? {
                data.push(batch_hit(b, fin));
            }
            if let Some(r) = db::root(&mut c, chain_id, id).await? {
                data.push(epoch_hit(r, fin));
            }
            if chain::platform(&mut c, chain_id, id).await?.is_some() {
                data.push(Hit {
                    kind: HitKind::Platform,
                    id,
                    root: None,
                    size: None,
                    transaction_hash: None,
                    block_number: None,
                    finalized: None,
                });
            }
        }
        Wanted::Hash(h) => {
            data.extend(
                db::batches_by_hash(&mut c, chain_id, &h, SEARCH_LIMIT).await?.into_iter().map(|b| batch_hit(b, fin)),
            );
            let n = Needle::Hash(&h);
            data.extend(
                db::roots_matching(&mut c, chain_id, n, SEARCH_LIMIT).await?.into_iter().map(|r| epoch_hit(r, fin)),
            );
            data.extend(
                db::evidence_matching(&mut c, chain_id, n, SEARCH_LIMIT)
                    .await?
                    .into_iter()
                    .map(|e| evidence_hit(e, fin)),
            );
        }
        Wanted::Cid(cid) => {
            data.extend(
                db::batches_by_cid(&mut c, chain_id, &cid, SEARCH_LIMIT).await?.into_iter().map(|b| batch_hit(b, fin)),
            );
            let n = Needle::Cid(&cid);
            data.extend(
                db::roots_matching(&mut c, chain_id, n, SEARCH_LIMIT).await?.into_iter().map(|r| epoch_hit(r, fin)),
            );
            data.extend(
                db::evidence_matching(&mut c, chain_id, n, SEARCH_LIMIT)
                    .await?
                    .into_iter()
                    .map(|e| evidence_hit(e, fin)),
            );
        }
    }
    Ok(Json(SearchResults { data }))
}

/// The signed-in key.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SessionView {
    /// Key id.
    key_id: String,
    /// `admin`, `platform`, `worker` or `auditor`.
    role: String,
    /// Platform of a platform key.
    platform_id: Option<i64>,
    /// Worker of a worker key.
    worker_id: Option<String>,
}

/// `GET /v1/session`: who the key in `Authorization` is (what the web app shows after sign-in).
#[utoipa::path(get, path = "/v1/session", tag = "keys", security(("api_key" = [])),
    responses((status = 200, body = SessionView), (status = 401, body = crate::openapi::ErrorBody)))]
pub(crate) async fn session(who: Principal) -> Json<SessionView> {
    Json(SessionView {
        key_id: who.key_id,
        role: who.role.as_str().to_string(),
        platform_id: who.platform_id,
        worker_id: who.worker_id,
    })
}
