//! Verifiable credentials issued by this node.
//!
//! - `POST /v1/credentials` `{"worker"}`: a W3C VC 2.0 of the worker's reputation summary in its
//!   latest published epoch, signed `eddsa-jcs-2022` by the node's `did:key` (the worker's own
//!   key, or an admin).
//! - `GET /v1/credentials`: issued credentials (admins and auditors: all; a worker: its own).
//! - `POST /v1/credentials/{id}/revoke`: sets its bit in the status list (admins).
//! - `GET /v1/credentials/status/{list}`: the signed Bitstring Status List credential (public:
//!   verifiers fetch it).
//! - `GET /v1/credentials/issuer`: the node's DID and verification method (public).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use jejak_credential::credential::{
    Issuance, ReputationSummary, StatusRef, reputation_credential, status_list_credential,
};
use jejak_store::credentials::{self as db, CredentialRow};
use jejak_store::{now_secs, scores};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::auth::{Principal, Role};
use crate::body::{parse, require};
use crate::openapi::ErrorBody;
use crate::pagination::{PageQuery, PageRequest};
use crate::routes::tasks::rfc3339;
use crate::services::credentials::Issuer;
use crate::{ApiError, ApiResult, AppState};

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/credentials", post(issue).get(list))
        .route("/v1/credentials/{id}/revoke", post(revoke))
        .route("/v1/credentials/status/{list}", get(status_list))
        .route("/v1/credentials/issuer", get(issuer))
}

/// A credential to issue.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssueRequest {
    /// The worker's identity commitment (decimal).
    worker: String,
}

/// An issued credential.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct IssuedCredential {
    /// `urn:uuid:...`.
    id: String,
    /// The credential (W3C VC 2.0 with its Data Integrity proof).
    #[schema(value_type = Object)]
    credential: Value,
}

/// Issues a reputation credential.
#[utoipa::path(post, path = "/v1/credentials", tag = "credentials", security(("api_key" = [])),
    request_body = IssueRequest,
    responses((status = 201, body = IssuedCredential), (status = "4XX", body = ErrorBody)))]
pub(crate) async fn issue(
    State(st): State<AppState>,
    who: Principal,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<IssuedCredential>)> {
    require(&who, &[Role::Admin, Role::Worker], "issuing credentials")?;
    let req: IssueRequest = parse(&body)?;
    let commitment = jejak_core::event::parse_field_element(&req.worker)
        .map_err(|e| ApiError::unprocessable("invalid_request", format!("worker: an identity commitment: {e}")))?;
    let (id, credential) = issue_reputation(&st, &who, &req.worker, commitment).await?;
    Ok((StatusCode::CREATED, Json(IssuedCredential { id, credential })))
}

/// Issues the reputation credential of `worker` (its identity commitment, parsed) in its latest
/// published epoch, for a caller already allowed to issue: an admin, or the worker's own key
/// (another worker's answers `worker_not_found`, as a worker without a published epoch does).
/// The one issuing path of `POST /v1/credentials` and `POST /credentials/issue`.
pub(crate) async fn issue_reputation(
    st: &AppState,
    who: &Principal,
    worker: &str,
    commitment: alloy_primitives::U256,
) -> ApiResult<(String, Value)> {
    let not_found =
        || ApiError::not_found("worker_not_found", format!("no published reputation for worker `{worker}`"));
    if who.role == Role::Worker && who.worker_id.as_deref() != Some(worker) {
        return Err(not_found());
    }
    let chain_id = st.chain_id as i64;
    let mut c = st.store.conn().await?;
    let history = scores::worker_history(&mut c, chain_id, &commitment.to_be_bytes::<32>(), 16).await?;
    let (row, _) = history.into_iter().find(|(_, s)| *s == scores::EpochStatus::Published).ok_or_else(not_found)?;
    let epoch = scores::epoch(&mut c, chain_id, row.epoch)
        .await?
        .ok_or_else(|| ApiError::internal(format!("epoch {} of a worker row is missing", row.epoch)))?;
    let issuer = &st.services.issuer;
    let now = OffsetDateTime::now_utc();
    let valid_until = now + issuer.validity;
    let id = format!("urn:uuid:{}", uuid::Uuid::now_v7().hyphenated());
    let seq = db::insert(&mut c, &id, worker, row.epoch, now.unix_timestamp(), valid_until.unix_timestamp()).await?;
    let (list, index) = Issuer::position(seq);
    let summary = ReputationSummary {
        worker: worker.to_owned(),
        chain_id: st.chain_id,
        epoch: row.epoch,
        as_of: epoch.as_of,
        params_version: epoch.params_version,
        reputation: row.reputation,
        gigs: row.gigs,
        credit: row.credit,
        tier: row.tier.clone(),
        root: format!("0x{}", hex::encode(epoch.root)),
    };
    let issuance = Issuance {
        id: id.clone(),
        valid_from: now,
        valid_until,
        status: StatusRef { list_url: issuer.list_url(list), index },
    };
    let credential = reputation_credential(&summary, &issuance, issuer.key()).map_err(ApiError::internal)?;
    tracing::info!(target: "jejak::api", by = %who.key_id, credential = %id, epoch = row.epoch, "credential issued");
    Ok((id, credential))
}

/// An issued credential as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CredentialInfo {
    /// `urn:uuid:...`.
    id: String,
    /// The worker.
    worker: String,
    /// Epoch of the summary.
    epoch: i64,
    /// Issue time (RFC 3339).
    issued_at: String,
    /// `validUntil` (RFC 3339).
    valid_until: String,
    /// Status list URL.
    status_list: String,
    /// Index in the status list.
    status_index: u64,
    /// Revocation time (RFC 3339), null while not revoked.
    revoked_at: Option<String>,
    /// Revocation reason.
    reason: Option<String>,
}

fn info(issuer: &Issuer, r: &CredentialRow) -> CredentialInfo {
    let (list, index) = Issuer::position(r.seq);
    let t = |s: i64| rfc3339(s).as_str().unwrap_or_default().to_owned();
    CredentialInfo {
        id: r.id.clone(),
        worker: r.worker.clone(),
        epoch: r.epoch,
        issued_at: t(r.issued_at),
        valid_until: t(r.valid_until),
        status_list: issuer.list_url(list),
        status_index: index,
        revoked_at: r.revoked_at.map(t),
        reason: r.reason.clone(),
    }
}

/// A page of credentials.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CredentialPage {
    /// Credentials in issue order.
    data: Vec<CredentialInfo>,
    /// Cursor of the next page, null on the last.
    next_cursor: Option<String>,
}

/// Lists issued credentials.
#[utoipa::path(get, path = "/v1/credentials", tag = "credentials", security(("api_key" = [])), params(PageQuery),
    responses((status = 200, body = CredentialPage), (status = "4XX", body = ErrorBody)))]
pub(crate) async fn list(
    State(st): State<AppState>,
    who: Principal,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Json<CredentialPage>> {
    require(&who, &[Role::Admin, Role::Auditor, Role::Worker], "listing credentials")?;
    let page = PageRequest::from_query(q)?;
    let worker = if who.role == Role::Worker { who.worker_id.as_deref().or(Some("")) } else { None };
    let mut c = st.store.conn().await?;
    let rows = db::page(&mut c, worker, page.after_seq()?, page.fetch).await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.seq.to_string());
    Ok(Json(CredentialPage { data: rows.iter().map(|r| info(&st.services.issuer, r)).collect(), next_cursor }))
}

/// Why a credential is revoked.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevokeRequest {
    /// Free text, at most 256 bytes.
    #[serde(default)]
    reason: String,
}

/// Revokes a credential.
#[utoipa::path(post, path = "/v1/credentials/{id}/revoke", tag = "credentials", security(("api_key" = [])),
    params(("id" = String, Path, description = "Credential id (urn:uuid:...)")),
    request_body(content = RevokeRequest, description = "Optional: an empty body revokes without a reason"),
    responses((status = 200, body = CredentialInfo), (status = "4XX", body = ErrorBody)))]
pub(crate) async fn revoke(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<CredentialInfo>> {
    require(&who, &[Role::Admin], "revoking credentials")?;
    let req: RevokeRequest = if body.is_empty() { RevokeRequest::default() } else { parse(&body)? };
    if req.reason.len() > 256 {
        return Err(ApiError::unprocessable("invalid_request", "reason: at most 256 bytes"));
    }
    let mut c = st.store.conn().await?;
    db::revoke(&mut c, &id, now_secs(), &req.reason).await?;
    let row = db::get(&mut c, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("credential_not_found", format!("no credential `{id}`")))?;
    st.services.issuer.note_revoked(row.seq);
    tracing::info!(target: "jejak::api", by = %who.key_id, credential = %id, "credential revoked");
    Ok(Json(info(&st.services.issuer, &row)))
}

/// The signed status list credential `list`.
#[utoipa::path(get, path = "/v1/credentials/status/{list}", tag = "credentials",
    params(("list" = i64, Path, description = "Status list number, from 1", minimum = 1)),
    responses((status = 200, description = "A BitstringStatusListCredential", body = Object), (status = "4XX", body = ErrorBody)))]
pub(crate) async fn status_list(State(st): State<AppState>, Path(list): Path<String>) -> ApiResult<Json<Value>> {
    let not_found = || ApiError::not_found("status_list_not_found", format!("no status list `{list}`"));
    let n: i64 = list.parse().ok().filter(|n| *n >= 1).ok_or_else(not_found)?;
    let issuer = &st.services.issuer;
    let max = {
        let mut c = st.store.conn().await?;
        db::max_seq(&mut c).await?
    };
    // The first list always exists, so verifiers can fetch it before anything was issued.
    if n > 1 && n > Issuer::position(max.max(1)).0 {
        return Err(not_found());
    }
    let bits = issuer.status_list(&st.store, n).await?;
    let vc = status_list_credential(&issuer.list_url(n), &bits, OffsetDateTime::now_utc(), issuer.key())
        .map_err(ApiError::internal)?;
    Ok(Json(vc))
}

/// The node as an issuer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct IssuerInfo {
    /// `did:key:z6Mk...`.
    did: String,
    /// The verification method proofs name.
    verification_method: String,
    /// The cryptosuite.
    cryptosuite: String,
}

/// The node's issuer identity.
#[utoipa::path(get, path = "/v1/credentials/issuer", tag = "credentials",
    responses((status = 200, body = IssuerInfo)))]
pub(crate) async fn issuer(State(st): State<AppState>) -> Json<IssuerInfo> {
    let i = &st.services.issuer;
    Json(IssuerInfo {
        did: i.did().to_owned(),
        verification_method: i.verification_method(),
        cryptosuite: jejak_credential::proof::CRYPTOSUITE.to_owned(),
    })
}
