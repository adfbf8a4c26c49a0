//! Tasks that need proof of reality, and the witnesses who vouch for them.
//!
//! - `POST /v1/witnesses`, `GET /v1/witnesses`: a platform registers the ed25519 keys of its
//!   witnesses (shop owners, customers' apps...). The node's clock dates the registration, and
//!   only a key registered before a task's window opens counts for that task.
//! - `POST /v1/tasks`: a platform creates a task: its own id, type, worker and worker key,
//!   window, location. Retrying with the same body returns the same task.
//! - `POST /v1/tasks/{id}/nonce`: the worker's capture app (or the platform for it) gets the
//!   task's capture nonce, from `nonce_lead` before the window opens until it closes; the same
//!   nonce every time.
//! - `POST /v1/tasks/{id}/witnesses`: witness statements signed after the files were uploaded.
//! - `GET /v1/tasks/{id}`: the task, its files, witness statements and latest verdict.
//! - `GET /v1/tasks`: a page of the tasks the caller may read, newest first, each with its latest
//!   verdict: a platform's own, a worker's own, every task for admins and auditors.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jejak_evidence::WitnessStatement;
use jejak_store::evidence::{self as db, NewTask, StatementRow, TaskRow};
use jejak_store::now_secs;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::{Principal, Role};
use crate::pagination::{PageQuery, PageRequest};
use crate::routes::events::{check_platform, platform_of};
use crate::services::evidence::evaluate_task;
use crate::{ApiError, ApiResult, AppState};

/// Longest id, type or worker reference.
const MAX_ID_LEN: usize = 128;
/// Longest task window.
const MAX_WINDOW_SECS: i64 = 31 * 24 * 3600;
/// Largest task radius, metres.
const MAX_RADIUS_M: f64 = 100_000.0;
/// Most witness statements in one request.
pub(crate) const MAX_STATEMENTS: usize = 64;

/// The routes of this module (JSON bodies, under the API's usual limits).
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/witnesses", post(register_witness).get(list_witnesses))
        .route("/v1/tasks", post(create_task).get(list_tasks))
        .route("/v1/tasks/{id}", get(get_task))
        .route("/v1/tasks/{id}/nonce", post(issue_nonce))
        .route("/v1/tasks/{id}/witnesses", post(add_witnesses))
}

fn parse_json(body: &[u8]) -> ApiResult<Value> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("request body is not valid JSON: {e}")))
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::unprocessable("invalid_request", message)
}

fn check_id(field: &str, s: &str) -> ApiResult<()> {
    let ok = !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:@/-".contains(&b));
    if ok { Ok(()) } else { Err(invalid(format!("{field}: 1 to {MAX_ID_LEN} characters of A-Z a-z 0-9 . _ : @ / -"))) }
}

pub(crate) fn hex32(field: &str, s: &str) -> ApiResult<[u8; 32]> {
    let mut out = [0u8; 32];
    let ok = s.len() == 64 && hex::decode_to_slice(s, &mut out).is_ok();
    if ok { Ok(out) } else { Err(invalid(format!("{field}: expected 64 hex digits"))) }
}

pub(crate) fn rfc3339(secs: i64) -> Value {
    match OffsetDateTime::from_unix_timestamp(secs).ok().and_then(|t| t.format(&Rfc3339).ok()) {
        Some(s) => json!(s),
        None => json!(secs),
    }
}

/// Whether the caller may read the task: an admin or auditor, its platform, or its worker.
pub(crate) fn can_read(who: &Principal, t: &NewTask) -> bool {
    match who.role {
        Role::Admin | Role::Auditor => true,
        Role::Platform => who.platform_id == Some(t.platform_id),
        Role::Worker => who.worker_id.as_deref() == Some(t.worker_ref.as_str()),
    }
}

/// Whether the caller may add evidence to the task: an admin, its platform, or its worker.
pub(crate) fn can_submit(who: &Principal, t: &NewTask) -> bool {
    who.role != Role::Auditor && can_read(who, t)
}

/// The task, if the caller may read it; someone else's task answers exactly like a missing one.
pub(crate) async fn readable_task(st: &AppState, who: &Principal, id: &str) -> ApiResult<TaskRow> {
    let mut c = st.store.conn().await?;
    match db::task(&mut c, id).await? {
        Some(t) if can_read(who, &t.task) => Ok(t),
        _ => Err(ApiError::not_found("task_not_found", format!("no task `{id}`"))),
    }
}

/// The task, if the caller may add evidence to it.
pub(crate) async fn writable_task(st: &AppState, who: &Principal, id: &str) -> ApiResult<TaskRow> {
    let t = readable_task(st, who, id).await?;
    if !can_submit(who, &t.task) {
        return Err(ApiError::forbidden("forbidden", "auditor keys are read-only"));
    }
    Ok(t)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterWitness {
    #[serde(default)]
    #[allow(dead_code)] // read through `platform_of`
    platform_id: Option<i64>,
    key: String,
    #[serde(default)]
    label: String,
}

/// Registers a witness key of the platform.
#[utoipa::path(post, path = "/v1/witnesses", tag = "evidence", security(("api_key" = [])),
    request_body = crate::openapi::RegisterWitness,
    responses((status = 201, body = crate::openapi::Witness), (status = 200, description = "Already registered", body = crate::openapi::Witness),
        (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn register_witness(State(st): State<AppState>, who: Principal, body: Bytes) -> ApiResult<Response> {
    let v = parse_json(&body)?;
    let platform_id = platform_of(&who, &v)?;
    let req: RegisterWitness = serde_json::from_value(v).map_err(|e| invalid(e.to_string()))?;
    let key = hex32("key", &req.key)?;
    if req.label.len() > MAX_ID_LEN {
        return Err(invalid(format!("label: at most {MAX_ID_LEN} bytes")));
    }
    check_platform(&st, platform_id).await?;
    let now = now_secs();
    let mut c = st.store.conn().await?;
    let (row, created) = db::register_witness(&mut c, platform_id, &key, &req.label, now).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(witness_json(&row))).into_response())
}

fn witness_json(w: &db::WitnessKeyRow) -> Value {
    json!({
        "platform_id": w.platform_id,
        "key": hex::encode(w.key),
        "label": w.label,
        "registered_at": rfc3339(w.registered_at),
    })
}

/// The platform's witness keys, by cursor.
#[utoipa::path(get, path = "/v1/witnesses", tag = "evidence", security(("api_key" = [])),
    params(crate::pagination::PageQuery),
    responses((status = 200, body = crate::openapi::WitnessPage), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn list_witnesses(
    State(st): State<AppState>,
    who: Principal,
    q: Result<axum::extract::Query<crate::pagination::PageQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let platform_id = match who.role {
        Role::Platform => who.platform_id.ok_or_else(|| ApiError::internal("platform key without platform"))?,
        _ => return Err(ApiError::forbidden("forbidden", "witness keys are listed with a platform key")),
    };
    let page = crate::pagination::PageRequest::from_query(q)?;
    let mut c = st.store.conn().await?;
    let mut keys = db::witness_keys(&mut c, platform_id).await?;
    // A platform has few witnesses: page over the sorted list.
    keys.sort_by_key(|k| k.key);
    let after = page.after.clone();
    let rest: Vec<_> = keys.into_iter().filter(|k| hex::encode(k.key) > after).take(page.fetch as usize).collect();
    let (rows, next_cursor) = page.finish(rest, |k| hex::encode(k.key));
    Ok(Json(json!({
        "platform_id": platform_id,
        "data": rows.iter().map(witness_json).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateTask {
    #[serde(default)]
    #[allow(dead_code)] // read through `platform_of`
    platform_id: Option<i64>,
    task_id: String,
    #[serde(rename = "type")]
    task_type: String,
    worker: String,
    worker_key: String,
    window: Window,
    location: Location,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Window {
    #[serde(with = "time::serde::rfc3339")]
    start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    end: OffsetDateTime,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Location {
    lat: f64,
    lon: f64,
    #[serde(default)]
    radius_m: Option<f64>,
}

/// Creates a task that needs proof of reality (retry-safe).
#[utoipa::path(post, path = "/v1/tasks", tag = "evidence", security(("api_key" = [])),
    request_body = crate::openapi::CreateTask,
    responses((status = 201, body = crate::openapi::Task), (status = 200, description = "The same task again", body = crate::openapi::Task),
        (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn create_task(State(st): State<AppState>, who: Principal, body: Bytes) -> ApiResult<Response> {
    let v = parse_json(&body)?;
    let platform_id = platform_of(&who, &v)?;
    let request_hash: [u8; 32] = Sha256::digest(jejak_core::jcs::to_vec(&v).map_err(ApiError::internal)?).into();
    let req: CreateTask = serde_json::from_value(v).map_err(|e| invalid(e.to_string()))?;
    check_id("task_id", &req.task_id)?;
    check_id("type", &req.task_type)?;
    check_id("worker", &req.worker)?;
    let worker_key = hex32("worker_key", &req.worker_key)?;
    let (start, end) = (req.window.start.unix_timestamp(), req.window.end.unix_timestamp());
    if end <= start || end - start > MAX_WINDOW_SECS {
        return Err(invalid(format!("window: end must follow start, by at most {} days", MAX_WINDOW_SECS / 86_400)));
    }
    let l = &req.location;
    if !(l.lat.is_finite() && (-90.0..=90.0).contains(&l.lat) && l.lon.is_finite() && (-180.0..=180.0).contains(&l.lon))
    {
        return Err(invalid("location: lat in [-90, 90] and lon in [-180, 180]"));
    }
    if l.radius_m.is_some_and(|r| !(r.is_finite() && r > 0.0 && r <= MAX_RADIUS_M)) {
        return Err(invalid(format!("location.radius_m: more than 0 and at most {MAX_RADIUS_M} metres")));
    }
    check_platform(&st, platform_id).await?;

    let task = NewTask {
        id: format!("tsk_{}", uuid::Uuid::now_v7().simple()),
        platform_id,
        external_id: req.task_id.clone(),
        task_type: req.task_type,
        worker_ref: req.worker,
        worker_key,
        window_start: start,
        window_end: end,
        latitude: l.lat,
        longitude: l.lon,
        radius_m: l.radius_m,
        request_hash,
        created_at: now_secs(),
    };
    let mut c = st.store.conn().await?;
    // A retry (or a concurrent duplicate, seen as a unique violation) gets the stored task back.
    for _ in 0..2 {
        if let Some(existing) = db::task_by_external_id(&mut c, platform_id, &req.task_id).await? {
            if existing.task.request_hash != request_hash {
                return Err(ApiError::conflict(
                    "task_id_conflict",
                    format!("task_id `{}` was already used for a different task", req.task_id),
                ));
            }
            return Ok((StatusCode::OK, Json(task_json(&existing, None, &[], &[]))).into_response());
        }
        match db::insert_task(&mut c, &task).await {
            Ok(()) => {
                tracing::info!(target: "jejak::evidence", task = %task.id, platform_id, external_id = %task.external_id, "task created");
                let row = TaskRow { task, nonce: None, nonce_issued_at: None };
                return Ok((StatusCode::CREATED, Json(task_json(&row, None, &[], &[]))).into_response());
            }
            Err(e) if e.is_unique_violation() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict("request_in_progress", "the same task is being created; retry"))
}

/// The wire form of a task with what it holds.
pub(crate) fn task_json(
    row: &TaskRow,
    verdict: Option<&db::VerdictRow>,
    files: &[db::SubmissionRow],
    statements: &[StatementRow],
) -> Value {
    let t = &row.task;
    let verdict = verdict.map(|v| {
        let mut body: Value = serde_json::from_str(&v.verdict).unwrap_or(Value::Null);
        body["evaluated_at"] = rfc3339(v.evaluated_at);
        body
    });
    json!({
        "id": t.id,
        "platform_id": t.platform_id,
        "task_id": t.external_id,
        "type": t.task_type,
        "worker": t.worker_ref,
        "worker_key": hex::encode(t.worker_key),
        "window": {"start": rfc3339(t.window_start), "end": rfc3339(t.window_end)},
        "location": {"lat": t.latitude, "lon": t.longitude, "radius_m": t.radius_m},
        "nonce": row.nonce.as_ref().map(|n| json!({
            "value": n,
            "issued_at": row.nonce_issued_at.map(rfc3339),
        })),
        "created_at": rfc3339(t.created_at),
        "evidence": files.iter().map(file_json).collect::<Vec<_>>(),
        "witnesses": statements.iter().map(|s| json!({
            "witness_key": hex::encode(s.witness_key),
            "signed_at": s.signed_at,
            "signature": hex::encode(s.signature),
        })).collect::<Vec<_>>(),
        "verdict": verdict,
    })
}

pub(crate) fn file_json(s: &db::SubmissionRow) -> Value {
    let f = &s.file.file;
    json!({
        "sha256": hex::encode(f.sha256),
        "media_type": f.media_type,
        "size": f.size,
        "leaf_index": s.file.leaf_index,
        "submitted_at": rfc3339(s.submitted_at),
        "metadata": serde_json::from_str::<Value>(&f.metadata).unwrap_or(Value::Null),
        "perceptual_hash": f.phash.map(|p| format!("{p:016x}")),
    })
}

/// The full wire form of a stored task.
pub(crate) async fn full_task_json(st: &AppState, id: &str) -> ApiResult<Value> {
    let mut c = st.store.conn().await?;
    let row =
        db::task(&mut c, id).await?.ok_or_else(|| ApiError::not_found("task_not_found", format!("no task `{id}`")))?;
    let files = db::task_files(&mut c, id).await?;
    let statements = db::statements(&mut c, id).await?;
    let verdict = db::latest_verdict(&mut c, id).await?;
    Ok(task_json(&row, verdict.as_ref(), &files, &statements))
}

/// A task with its files, witness statements and latest verdict.
#[utoipa::path(get, path = "/v1/tasks/{id}", tag = "evidence", security(("api_key" = [])),
    params(("id" = String, Path, description = "Task id (tsk_...)")),
    responses((status = 200, body = crate::openapi::Task), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn get_task(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    readable_task(&st, &who, &id).await?;
    Ok(Json(full_task_json(&st, &id).await?))
}

/// A page of tasks.
#[derive(Debug, serde::Serialize)]
pub(crate) struct TaskPage {
    /// Newest first; each without its files and witness statements (`GET /v1/tasks/{id}`).
    data: Vec<Value>,
    /// Cursor of the next page; null on the last.
    next_cursor: Option<String>,
}

/// The tasks the caller may read, newest first, each with its latest verdict.
#[utoipa::path(get, path = "/v1/tasks", tag = "evidence", security(("api_key" = [])), params(PageQuery),
    responses((status = 200, body = crate::openapi::TaskPage), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn list_tasks(
    State(st): State<AppState>,
    who: Principal,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Json<TaskPage>> {
    let page = PageRequest::from_query(q)?;
    let owner = match who.role {
        Role::Admin | Role::Auditor => db::TaskOwner::Any,
        Role::Platform => db::TaskOwner::Platform(
            who.platform_id.ok_or_else(|| ApiError::internal("a platform key without a platform"))?,
        ),
        Role::Worker => db::TaskOwner::Worker(
            who.worker_id.as_deref().ok_or_else(|| ApiError::internal("a worker key without a worker"))?,
        ),
    };
    let mut c = st.store.conn().await?;
    let rows = db::tasks_page(&mut c, owner, &page.after, page.fetch).await?;
    let (rows, next_cursor) = page.finish(rows, |t| t.task.id.clone());
    let mut data = Vec::with_capacity(rows.len());
    for row in &rows {
        let verdict = db::latest_verdict(&mut c, &row.task.id).await?;
        let mut v = task_json(row, verdict.as_ref(), &[], &[]);
        if let Some(o) = v.as_object_mut() {
            o.remove("evidence");
            o.remove("witnesses");
        }
        data.push(v);
    }
    Ok(Json(TaskPage { data, next_cursor }))
}

/// The task's capture nonce (the same every time).
#[utoipa::path(post, path = "/v1/tasks/{id}/nonce", tag = "evidence", security(("api_key" = [])),
    params(("id" = String, Path, description = "Task id (tsk_...)")),
    responses((status = 201, body = crate::openapi::Nonce), (status = 200, description = "Issued before", body = crate::openapi::Nonce),
        (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn issue_nonce(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let task = writable_task(&st, &who, &id).await?;
    let now = now_secs();
    if task.nonce.is_none() {
        let opens = task.task.window_start - st.evidence.nonce_lead.as_secs() as i64;
        if now < opens {
            return Err(ApiError::conflict(
                "nonce_too_early",
                format!("the capture nonce is issued from {} on", rfc3339(opens).as_str().unwrap_or_default()),
            ));
        }
        if now > task.task.window_end {
            return Err(ApiError::conflict("task_window_closed", "the task window has closed"));
        }
    }
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let mut c = st.store.conn().await?;
    let (nonce, issued_at) = db::issue_nonce(&mut c, &id, &nonce, now)
        .await?
        .ok_or_else(|| ApiError::not_found("task_not_found", format!("no task `{id}`")))?;
    let status = if task.nonce.is_none() && issued_at == now { StatusCode::CREATED } else { StatusCode::OK };
    let body = json!({
        "task": id,
        "nonce": nonce,
        "issued_at": rfc3339(issued_at),
        "embed": format!("{}{nonce}", jejak_evidence::NONCE_PREFIX),
    });
    Ok((status, Json(body)).into_response())
}

/// Parses witness statements: a JSON array of `{witness_key, signed_at, signature}`.
pub(crate) fn parse_statements(v: Value) -> ApiResult<Vec<WitnessStatement>> {
    let list: Vec<WitnessStatement> = serde_json::from_value(v).map_err(|e| {
        ApiError::unprocessable(
            "invalid_witness_statement",
            format!("witnesses: a list of {{witness_key, signed_at, signature}} in lowercase hex: {e}"),
        )
    })?;
    if list.len() > MAX_STATEMENTS {
        return Err(invalid(format!("at most {MAX_STATEMENTS} witness statements per request")));
    }
    Ok(list)
}

/// Witness statements signed after the upload.
#[utoipa::path(post, path = "/v1/tasks/{id}/witnesses", tag = "evidence", security(("api_key" = [])),
    params(("id" = String, Path, description = "Task id (tsk_...)")),
    request_body = crate::openapi::AddWitnesses,
    responses((status = 200, body = crate::openapi::Task), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn add_witnesses(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    writable_task(&st, &who, &id).await?;
    let list = match parse_json(&body)? {
        Value::Object(mut o) if o.len() == 1 && o.contains_key("witnesses") => {
            parse_statements(o.remove("witnesses").unwrap_or_default())?
        }
        _ => return Err(invalid("body must be {\"witnesses\": [...]}")),
    };
    let now = now_secs();
    st.evidence.photos.catch_up(&st.store).await?;
    let mut tx = st.store.begin().await?;
    let task = db::task(&mut tx, &id).await?.ok_or_else(|| ApiError::internal(format!("task {id} vanished")))?;
    for w in &list {
        let row = StatementRow {
            witness_key: w.witness_key,
            signed_at: w.signed_at,
            signature: w.signature,
            received_at: now,
        };
        db::add_statement(&mut tx, &id, &row).await?;
    }
    evaluate_task(&mut tx, &st.evidence, &task, now).await?;
    jejak_store::commit(tx).await?;
    Ok(Json(full_task_json(&st, &id).await?))
}
