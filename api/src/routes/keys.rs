//! API keys through the API (admin only): `POST /v1/keys` (the token is shown once),
//! `GET /v1/keys` (never secrets), `POST /v1/keys/{id}/revoke` (effective at once on this
//! instance; others drop their cached copy within the key cache TTL).

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::post;
use jejak_store::keys::{self, ApiKeyRow};
use jejak_store::now_secs;
use serde::{Deserialize, Serialize};

use crate::auth::{self, Principal, Role};
use crate::body::{parse, require};
use crate::pagination::{PageQuery, PageRequest};
use crate::routes::tasks::rfc3339;
use crate::{ApiError, ApiResult, AppState};

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/keys", post(create_key).get(list_keys))
        .route("/v1/keys/{id}/revoke", post(revoke_key))
}

/// A key to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateKey {
    /// `admin`, `platform`, `worker` or `auditor`.
    #[schema(value_type = String, example = "platform")]
    role: Role,
    /// The platform of a `platform` key.
    #[serde(default)]
    platform_id: Option<i64>,
    /// The worker (identity commitment) of a `worker` key.
    #[serde(default)]
    worker_id: Option<String>,
    /// Free text for operators.
    #[serde(default)]
    label: String,
}

/// A key as listed (never its secret).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct KeyInfo {
    /// Key id (the part after `jk_`).
    id: String,
    /// Role.
    role: String,
    /// Platform of a platform key.
    platform_id: Option<i64>,
    /// Worker of a worker key.
    worker_id: Option<String>,
    /// Label.
    label: String,
    /// Creation time (RFC 3339).
    created_at: String,
    /// Revocation time (RFC 3339), null while valid.
    revoked_at: Option<String>,
}

impl From<&ApiKeyRow> for KeyInfo {
    fn from(k: &ApiKeyRow) -> Self {
        Self {
            id: k.id.clone(),
            role: k.role.clone(),
            platform_id: k.platform_id,
            worker_id: k.worker_id.clone(),
            label: k.label.clone(),
            created_at: rfc3339(k.created_at).as_str().unwrap_or_default().to_owned(),
            revoked_at: k.revoked_at.map(|t| rfc3339(t).as_str().unwrap_or_default().to_owned()),
        }
    }
}

/// A new key with its token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CreatedKey {
    /// `jk_<id>_<secret>`: shown once, only its hash is stored.
    token: String,
    /// The key.
    key: KeyInfo,
}

/// A page of keys.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct KeyPage {
    /// Keys in id order.
    data: Vec<KeyInfo>,
    /// Cursor of the next page, null on the last.
    next_cursor: Option<String>,
}

const MAX_LABEL: usize = 128;

/// Creates an API key.
#[utoipa::path(post, path = "/v1/keys", tag = "keys", security(("api_key" = [])),
    request_body = CreateKey,
    responses((status = 201, body = CreatedKey), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn create_key(
    State(st): State<AppState>,
    who: Principal,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    require(&who, &[Role::Admin], "creating keys")?;
    let req: CreateKey = parse(&body)?;
    let invalid = |m: &str| ApiError::unprocessable("invalid_request", m.to_owned());
    match req.role {
        Role::Platform if req.platform_id.is_none_or(|p| p <= 0) || req.worker_id.is_some() => {
            return Err(invalid("a platform key names a positive platform_id and no worker_id"));
        }
        Role::Worker
            if req.platform_id.is_some()
                || req.worker_id.as_deref().is_none_or(|w| jejak_core::event::parse_field_element(w).is_err()) =>
        {
            return Err(invalid(
                "a worker key names worker_id, the worker's identity commitment (decimal), and no platform_id",
            ));
        }
        Role::Admin | Role::Auditor if req.platform_id.is_some() || req.worker_id.is_some() => {
            return Err(invalid("admin and auditor keys name no platform_id or worker_id"));
        }
        _ => {}
    }
    if req.label.len() > MAX_LABEL {
        return Err(invalid("label: at most 128 bytes"));
    }
    let k = auth::new_key(req.role, req.platform_id, req.worker_id, &req.label, now_secs());
    let mut c = st.store.conn().await?;
    keys::insert(&mut c, &k.row).await?;
    st.services.keys.invalidate(&k.row.id);
    tracing::info!(target: "jejak::api", by = %who.key_id, key = %k.row.id, role = %k.row.role, "API key created");
    Ok((StatusCode::CREATED, Json(CreatedKey { token: k.token, key: KeyInfo::from(&k.row) })))
}

/// Lists API keys, never their secrets: every key for admins, a platform's own keys for it.
#[utoipa::path(get, path = "/v1/keys", tag = "keys", security(("api_key" = [])), params(PageQuery),
    responses((status = 200, body = KeyPage), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn list_keys(
    State(st): State<AppState>,
    who: Principal,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Json<KeyPage>> {
    require(&who, &[Role::Admin, Role::Platform], "listing keys")?;
    let page = PageRequest::from_query(q)?;
    let mut c = st.store.conn().await?;
    let rows = match (who.role, who.platform_id) {
        (Role::Platform, Some(p)) => keys::page_for_platform(&mut c, p, &page.after, page.fetch).await?,
        (Role::Platform, None) => return Err(ApiError::internal("a platform key without a platform")),
        _ => keys::page(&mut c, &page.after, page.fetch).await?,
    };
    let (rows, next_cursor) = page.finish(rows, |k| k.id.clone());
    Ok(Json(KeyPage { data: rows.iter().map(KeyInfo::from).collect(), next_cursor }))
}

/// Revokes an API key.
#[utoipa::path(post, path = "/v1/keys/{id}/revoke", tag = "keys", security(("api_key" = [])),
    params(("id" = String, Path, description = "Key id")),
    responses((status = 200, body = KeyInfo), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn revoke_key(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<KeyInfo>> {
    require(&who, &[Role::Admin], "revoking keys")?;
    let mut c = st.store.conn().await?;
    keys::revoke(&mut c, &id, now_secs()).await?;
    st.services.keys.invalidate(&id);
    let row =
        keys::get(&mut c, &id).await?.ok_or_else(|| ApiError::not_found("key_not_found", format!("no key `{id}`")))?;
    tracing::info!(target: "jejak::api", by = %who.key_id, key = %id, "API key revoked");
    Ok(Json(KeyInfo::from(&row)))
}
