//! Evidence files, receipts and the evidence log.
//!
//! - `POST /v1/tasks/{id}/evidence` (multipart): `file` parts (photos: JPEG, HEIF, PNG, WebP;
//!   tracks: GPX) and an optional `witnesses` part (a JSON list of witness statements). Each
//!   file is streamed to a temporary file while its SHA-256 is computed and its type sniffed
//!   from its first bytes; a file over its kind's limit is refused with 413 as soon as the limit
//!   is crossed, without reading the rest. Then every file is analysed (structure, metadata,
//!   perceptual hash); one refusal refuses the whole request and leaves nothing behind. Accepted
//!   files move into the blob store, new ones are appended to the evidence log, and the task's
//!   evidence is evaluated again, all in one transaction: 201 means stored.
//! - `GET /v1/evidence/{sha256}/receipt`: the file's leaf, inclusion proof and on-chain anchor.
//! - `GET /v1/evidence/consistency?from=A&to=B`: RFC 6962 consistency proof between two sizes
//!   of the log (public: it holds tree hashes only).
//! - `GET /v1/evidence/checkpoints`: the log's size and root and its anchored heads (public).

use axum::Json;
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jejak_core::merkle;
use jejak_evidence::{
    Analyzed, Anchor, Digested, EvidenceLeaf, EvidenceReceipt, UploadDigest, WitnessStatement, analyze,
};
use jejak_store::evidence::{self as db, NewFile, StatementRow};
use jejak_store::now_secs;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt as _;

use crate::routes::tasks::{can_read, hex32, parse_statements, rfc3339, writable_task};
use crate::services::evidence::{EvidenceSettings, TempBlob, evaluate_task};
use crate::{ApiError, ApiResult, AppState};

/// Largest `witnesses` part (one per request, of at most `MAX_STATEMENTS` statements).
const MAX_WITNESSES_PART: usize = 64 << 10;

/// The upload route: its own body limit, enforced while the body streams (chunked or not), and
/// its own timeout.
pub(crate) fn upload_routes(ev: &EvidenceSettings) -> axum::Router<AppState> {
    let limit = usize::try_from(ev.max_upload_bytes).unwrap_or(usize::MAX);
    axum::Router::new()
        .route("/v1/tasks/{id}/evidence", post(upload))
        .layer(DefaultBodyLimit::max(limit))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, ev.upload_timeout))
}

/// Receipts and the log.
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/evidence/{sha256}/receipt", get(receipt))
        .route("/v1/evidence/consistency", get(consistency))
        .route("/v1/evidence/checkpoints", get(checkpoints))
}

/// A file received in full and kept in a temporary file.
struct Staged {
    part: usize,
    filename: Option<String>,
    temp: TempBlob,
    digested: Digested,
}

fn malformed(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("malformed_multipart", format!("the multipart body could not be read: {e}"))
}

/// The request over its size limit, as an evidence refusal.
fn upload_too_large(limit: u64, what: String) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "evidence_too_large",
        format!("an upload request carries at most {limit} bytes, {what}"),
    )
    .with_details(json!({ "reason": jejak_evidence::ReasonCode::EvidenceTooLarge }))
}

/// A multipart error: the body limit crossed while streaming, or a malformed body.
fn multipart_error(e: MultipartError, limit: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return upload_too_large(limit, "and more has been sent".into());
    }
    malformed(e)
}

/// The answer to a refused file, with its stable reason code in the details.
fn refused(e: jejak_evidence::Error, part: usize, filename: Option<&str>) -> ApiError {
    let reason = e.reason();
    let (status, code) = match e {
        jejak_evidence::Error::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "evidence_too_large"),
        jejak_evidence::Error::Refused { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "evidence_refused"),
        jejak_evidence::Error::Core(e) => return ApiError::internal(e),
    };
    tracing::info!(target: "jejak::evidence", part, %reason, error = %e, "evidence file refused");
    ApiError::new(status, code, format!("file {part}: {e}")).with_details(json!({
        "reason": reason,
        "part": part,
        "filename": filename,
    }))
}

/// Streaming multipart upload of photos and GPX tracks (all or nothing).
#[utoipa::path(post, path = "/v1/tasks/{id}/evidence", tag = "evidence", security(("api_key" = [])),
    params(("id" = String, Path, description = "Task id (tsk_...)")),
    request_body(content = crate::openapi::UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = crate::openapi::UploadAnswer), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn upload(
    State(st): State<AppState>,
    who: crate::auth::Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let ev = st.evidence.clone();
    let announced = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(len) = announced.filter(|len| *len > ev.max_upload_bytes) {
        return Err(upload_too_large(ev.max_upload_bytes, format!("not {len}")));
    }
    writable_task(&st, &who, &id).await?;
    // Held until the answer: a key, and all keys together, have a bounded number of uploads in
    // flight (connections, temporary files, decoders).
    let _slot =
        ev.uploads.try_acquire(&who.key_id, ev.max_concurrent_uploads, ev.max_uploads_per_key).ok_or_else(|| {
            let mut e = ApiError::too_many_requests(1);
            e.message = format!(
                "at most {} uploads at once per key ({} on this node); retry when one has finished",
                ev.max_uploads_per_key, ev.max_concurrent_uploads
            );
            e
        })?;
    let limit = ev.max_upload_bytes;
    let mut multipart = multipart.map_err(|e| malformed(e.body_text()))?;

    let mut staged: Vec<Staged> = Vec::new();
    let mut statements: Option<Vec<WitnessStatement>> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(|e| multipart_error(e, limit))? {
        match field.name().unwrap_or_default() {
            "file" => {
                if staged.len() == ev.max_files_per_upload {
                    return Err(ApiError::unprocessable(
                        "invalid_request",
                        format!("at most {} files per request", ev.max_files_per_upload),
                    ));
                }
                staged.push(stage(&st, &mut field, staged.len(), limit).await?);
            }
            "witnesses" => {
                if statements.is_some() {
                    return Err(ApiError::unprocessable(
                        "invalid_request",
                        "one `witnesses` part per request, holding every statement",
                    ));
                }
                let mut body = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, limit))? {
                    if body.len() + chunk.len() > MAX_WITNESSES_PART {
                        return Err(ApiError::unprocessable(
                            "invalid_request",
                            format!("the witnesses part holds at most {MAX_WITNESSES_PART} bytes"),
                        ));
                    }
                    body.extend_from_slice(&chunk);
                }
                let v: Value = serde_json::from_slice(&body).map_err(|e| {
                    ApiError::bad_request("malformed_json", format!("the witnesses part is not valid JSON: {e}"))
                })?;
                statements = Some(parse_statements(v)?);
            }
            other => {
                return Err(ApiError::unprocessable(
                    "invalid_request",
                    format!("unknown part `{other}`: send `file` parts and an optional `witnesses` part"),
                ));
            }
        }
    }
    if staged.is_empty() {
        return Err(ApiError::unprocessable("invalid_request", "no `file` part: nothing to submit"));
    }
    let statements = statements.unwrap_or_default();

    // Every file is checked before any is kept: one refusal refuses the request.
    let mut analyzed: Vec<(TempBlob, Analyzed)> = Vec::with_capacity(staged.len());
    for s in staged {
        let a = analyze_staged(&st, &s).await?;
        let mut temp = s.temp;
        temp.stage(&a.sha256).await.map_err(ApiError::internal)?;
        analyzed.push((temp, a));
    }
    ev.photos.catch_up(&st.store).await?;

    // Recording and then moving the files runs to its end even if the client goes away or the
    // request times out: a committed file is always put in place, and an uncommitted one is
    // removed.
    let key_id = who.key_id.clone();
    let settle = tokio::spawn(async move {
        let items: Vec<&Analyzed> = analyzed.iter().map(|(_, a)| a).collect();
        // Two uploads of the same new file race for its log position: the loser's transaction
        // fails on the unique key and runs again, finding the file logged.
        let mut last = None;
        let mut answer = None;
        for _ in 0..3 {
            match store_submission(&st, &key_id, &id, &items, &statements).await {
                Ok(body) => {
                    answer = Some(body);
                    break;
                }
                Err(Failure::Store(e)) if e.is_unique_violation() => last = Some(e),
                Err(Failure::Store(e)) => return Err(e.into()),
                Err(Failure::Api(e)) => return Err(e),
            }
        }
        let Some(body) = answer else {
            return Err(ApiError::internal(format!(
                "evidence submission kept conflicting: {}",
                last.map(|e| e.to_string()).unwrap_or_default()
            )));
        };
        for (temp, a) in analyzed {
            // On failure the file stays staged for the next start; the submission is durable.
            let _ = st.evidence.blobs.keep(temp, &a.sha256).await;
        }
        Ok(body)
    });
    let body = settle.await.map_err(ApiError::internal)??;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Streams one file part into a temporary file through an [`UploadDigest`].
async fn stage(st: &AppState, field: &mut Field<'_>, part: usize, limit: u64) -> ApiResult<Staged> {
    let filename = field.file_name().map(str::to_owned);
    let (temp, mut file) = st.evidence.blobs.temp().await.map_err(ApiError::internal)?;
    let mut digest = UploadDigest::new(st.evidence.size_limits);
    while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, limit))? {
        digest.update(&chunk).map_err(|e| refused(e, part, filename.as_deref()))?;
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    let digested = digest.finish().map_err(|e| refused(e, part, filename.as_deref()))?;
    file.flush().await.map_err(ApiError::internal)?;
    drop(file);
    Ok(Staged { part, filename, temp, digested })
}

/// Validates a staged file and extracts everything the rules and the log need, one decode per
/// core at a time: the file is read only once a decoder is free, so waiting uploads hold no
/// file in memory.
async fn analyze_staged(st: &AppState, s: &Staged) -> ApiResult<Analyzed> {
    let _decoder = st.evidence.decodes.acquire().await.map_err(ApiError::internal)?;
    let bytes = tokio::fs::read(s.temp.path()).await.map_err(ApiError::internal)?;
    if bytes.len() as u64 != s.digested.size {
        return Err(ApiError::internal(format!("staged file {} changed size", s.temp.path().display())));
    }
    let (size_limits, parse_limits) = (st.evidence.size_limits, st.evidence.parse_limits);
    // Decoding a photo for its perceptual hash is CPU work: keep it off the async workers.
    let a = tokio::task::spawn_blocking(move || analyze(&bytes, &size_limits, &parse_limits))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| refused(e, s.part, s.filename.as_deref()))?;
    if a.sha256 != s.digested.sha256 {
        return Err(ApiError::internal("staged file does not hash as streamed"));
    }
    Ok(a)
}

enum Failure {
    Api(ApiError),
    Store(jejak_store::Error),
}

impl From<jejak_store::Error> for Failure {
    fn from(e: jejak_store::Error) -> Self {
        Failure::Store(e)
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

/// Logs new files, records the submission and the statements, and evaluates the task, in one
/// transaction.
async fn store_submission(
    st: &AppState,
    key_id: &str,
    task_id: &str,
    items: &[&Analyzed],
    statements: &[WitnessStatement],
) -> Result<Value, Failure> {
    let now = now_secs();
    let mut tx = st.store.begin().await?;
    let task = db::task(&mut tx, task_id)
        .await?
        .ok_or_else(|| ApiError::not_found("task_not_found", format!("no task `{task_id}`")))?;
    let mut accepted = Vec::with_capacity(items.len());
    for a in items {
        let (leaf_index, newly_logged) = match db::file(&mut tx, &a.sha256).await? {
            Some(f) => (f.leaf_index, false),
            None => {
                let leaf = a.leaf();
                let metadata = serde_json::to_string(&a.metadata).map_err(ApiError::internal)?;
                let file = NewFile {
                    sha256: a.sha256,
                    salt: leaf.salt,
                    metadata_hash: a.metadata_hash,
                    leaf_hash: leaf.hash(),
                    media_type: media_type_name(a),
                    size: a.size as i64,
                    metadata,
                    phash: a.perceptual_hash.map(|h| h.0),
                    created_at: now,
                };
                (db::append_file(&mut tx, &file).await?, true)
            }
        };
        let submitted = db::submit(&mut tx, task_id, &a.sha256, key_id, now).await?;
        accepted.push(json!({
            "sha256": hex::encode(a.sha256),
            "media_type": media_type_name(a),
            "kind": a.media_type.kind(),
            "size": a.size,
            "leaf_index": leaf_index,
            "newly_logged": newly_logged,
            "already_on_task": submitted.is_none(),
        }));
    }
    for w in statements {
        let row = StatementRow {
            witness_key: w.witness_key,
            signed_at: w.signed_at,
            signature: w.signature,
            received_at: now,
        };
        db::add_statement(&mut tx, task_id, &row).await?;
    }
    let verdict = evaluate_task(&mut tx, &st.evidence, &task, now).await?;
    jejak_store::commit(tx).await?;
    tracing::info!(target: "jejak::evidence", task = task_id, files = items.len(), "evidence accepted");
    let mut verdict = serde_json::to_value(&verdict).map_err(ApiError::internal)?;
    verdict["evaluated_at"] = rfc3339(now);
    Ok(json!({ "task": task_id, "accepted": accepted, "verdict": verdict }))
}

fn media_type_name(a: &Analyzed) -> String {
    serde_json::to_value(a.media_type).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The receipt of an evidence file: leaf inputs, inclusion path, anchor.
#[utoipa::path(get, path = "/v1/evidence/{sha256}/receipt", tag = "evidence", security(("api_key" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the file, hex")),
    responses((status = 200, body = crate::openapi::EvidenceReceiptAnswer), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn receipt(
    State(st): State<AppState>,
    who: crate::auth::Principal,
    Path(sha256): Path<String>,
) -> ApiResult<Json<Value>> {
    let not_found = || ApiError::not_found("evidence_not_found", format!("no evidence file {sha256}"));
    let sha = hex32("sha256", &sha256.to_ascii_lowercase()).map_err(|_| not_found())?;
    let mut c = st.store.conn().await?;
    let file = db::file(&mut c, &sha).await?.ok_or_else(not_found)?;
    // A file answers only to those who may read one of the tasks it was submitted on.
    if !db::tasks_with_file(&mut c, &sha).await?.iter().any(|t| can_read(&who, &t.task)) {
        return Err(not_found());
    }
    let contract: [u8; 20] = st.evidence.evidence_log.into();
    let chain_id = st.chain_id as i64;
    let anchor = db::first_anchor_covering(&mut c, chain_id, &contract, file.leaf_index).await?;
    let size = match &anchor {
        Some(a) => a.size as u64,
        None => db::log_size(&mut c).await?,
    };
    // O(log n) stored subtrees, never the whole log.
    let index = file.leaf_index as u64;
    let ids = merkle::inclusion_nodes(index, size).map_err(ApiError::internal)?;
    let nodes = db::required_log_nodes(&mut c, &ids).await?;
    let root = merkle::root_from(&nodes, size).map_err(ApiError::internal)?;
    if let Some(a) = &anchor
        && root != a.root
    {
        return Err(ApiError::internal(format!("the evidence log at size {size} no longer has its anchored root")));
    }
    let path = merkle::inclusion_proof_from(&nodes, index, size).map_err(ApiError::internal)?;
    let f = &file.file;
    let leaf = EvidenceLeaf { salt: f.salt, file_sha256: f.sha256, metadata_hash: f.metadata_hash };
    let on_chain = anchor.as_ref().map(|a| Anchor {
        chain_id: st.chain_id,
        contract,
        tx_hash: a.tx_hash,
        block_number: a.block_number as u64,
    });
    let receipt = EvidenceReceipt::from_path(index, size, root, path, leaf, on_chain).map_err(ApiError::internal)?;
    let finalized = match &anchor {
        Some(a) => jejak_store::chain::cursor(&mut c, chain_id)
            .await?
            .is_some_and(|cur| cur.finalized_number >= a.block_number),
        None => false,
    };
    let status = match (&anchor, finalized) {
        (None, _) => "logged",
        (Some(_), false) => "anchored",
        (Some(_), true) => "final",
    };
    Ok(Json(json!({
        "status": status,
        "receipt": receipt,
        "media_type": f.media_type,
        "size": f.size,
        "metadata": serde_json::from_str::<Value>(&f.metadata).unwrap_or(Value::Null),
        "checkpoint": anchor.map(|a| json!({
            "index": a.checkpoint,
            "size": a.size,
            "root": hex::encode(a.root),
            "cid": a.cid,
            "block_hash": format!("0x{}", hex::encode(a.block_hash)),
            "finalized": finalized,
        })),
    })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Range {
    from: u64,
    to: u64,
}

/// RFC 6962 consistency proof between two sizes of the evidence log.
#[utoipa::path(get, path = "/v1/evidence/consistency", tag = "evidence",
    params(crate::openapi::ConsistencyQuery),
    responses((status = 200, body = crate::openapi::Consistency), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn consistency(
    State(st): State<AppState>,
    range: Result<Query<Range>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(Range { from, to }) = range.map_err(|e| {
        ApiError::unprocessable("invalid_request", format!("expected ?from=SIZE&to=SIZE: {}", e.body_text()))
    })?;
    let mut c = st.store.conn().await?;
    let size = db::log_size(&mut c).await?;
    if from > to || to > size || to == 0 {
        return Err(ApiError::unprocessable(
            "invalid_request",
            format!("need 0 <= from <= to <= {size} (the log size) and to > 0; got from={from}, to={to}"),
        ));
    }
    // O(log n) stored subtrees, never the whole log.
    let ids = merkle::consistency_nodes(from, to).map_err(ApiError::internal)?;
    let nodes = db::required_log_nodes(&mut c, &ids).await?;
    let proof = merkle::consistency_proof_from(&nodes, from, to).map_err(ApiError::internal)?;
    Ok(Json(json!({
        "from": from,
        "to": to,
        "from_root": hex::encode(merkle::root_from(&nodes, from).map_err(ApiError::internal)?),
        "to_root": hex::encode(merkle::root_from(&nodes, to).map_err(ApiError::internal)?),
        "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
    })))
}

/// Most unanchored checkpoints listed (the anchorer keeps one in flight and stops at a failure).
const MAX_PENDING: i64 = 100;

/// The evidence log's size, a page of its anchored heads (newest first) and its pending ones.
#[utoipa::path(get, path = "/v1/evidence/checkpoints", tag = "evidence",
    params(crate::pagination::PageQuery),
    responses((status = 200, body = crate::openapi::Checkpoints), (status = "4XX", body = crate::openapi::ErrorBody),
        (status = "5XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn checkpoints(
    State(st): State<AppState>,
    q: Result<Query<crate::pagination::PageQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let page = crate::pagination::PageRequest::from_query(q)?;
    let before = match page.after_seq()? {
        0 => None,
        n => Some(n),
    };
    let contract: [u8; 20] = st.evidence.evidence_log.into();
    let chain_id = st.chain_id as i64;
    let mut c = st.store.conn().await?;
    let size = db::log_size(&mut c).await?;
    let finalized = jejak_store::chain::cursor(&mut c, chain_id).await?.map_or(-1, |cur| cur.finalized_number);
    let rows = db::anchors_page(&mut c, chain_id, &contract, before, page.fetch).await?;
    let (rows, next_cursor) = page.finish(rows, |a| a.checkpoint.to_string());
    let anchored: Vec<Value> = rows
        .into_iter()
        .map(|a| {
            json!({
                "index": a.checkpoint,
                "size": a.size,
                "root": hex::encode(a.root),
                "cid": a.cid,
                "transaction_hash": format!("0x{}", hex::encode(a.tx_hash)),
                "block_number": a.block_number,
                "finalized": finalized >= a.block_number,
            })
        })
        .collect();
    let pending: Vec<Value> = db::unanchored_checkpoints(&mut c, MAX_PENDING)
        .await?
        .into_iter()
        .map(|cp| {
            json!({
                "size": cp.size,
                "root": hex::encode(cp.root),
                "cid": cp.cid,
                "status": cp.status.as_str(),
                // A chain-send error may name the RPC endpoint: scheme and host only.
                "error": cp.error.as_deref().map(jejak_core::redact::urls_in_text),
            })
        })
        .collect();
    Ok(Json(json!({
        "chain_id": st.chain_id,
        "contract": st.evidence.evidence_log.to_checksum(None),
        "log_size": size,
        "data": anchored,
        "next_cursor": next_cursor,
        "pending": pending,
    })))
}
