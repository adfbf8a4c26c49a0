//! Webhook routes.
//!
//! - `POST /v1/webhooks/events`: the body of `POST /v1/events`, signed with the platform's
//!   webhook secret instead of an API key (`Jejak-Platform`, `Jejak-Signature`; see
//!   [`crate::services::webhooks`]). Same validation, idempotency and durability; without an
//!   `Idempotency-Key` the verified timestamp and body digest serve as one, so a request
//!   replayed inside the window, its header rewritten or not, gets the first answer and stores
//!   nothing. The header is bounded and the platform rate limited before any MAC is computed.
//! - `POST /v1/platforms/{id}/webhook-secret`: creates or rotates that secret (shown once).
//! - `POST|GET /v1/webhooks/subscriptions`, `DELETE /v1/webhooks/subscriptions/{id}`: outgoing
//!   subscriptions to `batch.finalized`, `evidence.verdict`, `score.changed`, to public https
//!   receivers only ([`crate::services::egress`]), a bounded number per platform.
//! - `GET /v1/webhooks/deliveries?status=dead`: the dead-letter list (or pending, delivered);
//!   `POST /v1/webhooks/deliveries/{id}/replay` queues a dead delivery again.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{delete, get, post};
use jejak_store::now_secs;
use jejak_store::webhooks::{self as db, DeliveryRow, DeliveryStatus, SubscriptionRow};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::{Principal, Role};
use crate::body::{parse, require};
use crate::limits::ClientAddr;
use crate::openapi::ErrorBody;
use crate::pagination::{PageQuery, PageRequest};
use crate::routes::events::{accept, check_platform};
use crate::routes::tasks::rfc3339;
use crate::services::webhooks::{
    EVENT_TYPES, PLATFORM_HEADER, SIGNATURE_HEADER, SignatureError, SignatureHeader, verify_off_runtime,
};
use crate::{ApiError, ApiResult, AppState};

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/platforms/{id}/webhook-secret", post(rotate_secret))
        .route("/v1/webhooks/subscriptions", post(subscribe).get(list_subscriptions))
        .route("/v1/webhooks/subscriptions/{id}", delete(unsubscribe))
        .route("/v1/webhooks/deliveries", get(list_deliveries))
        .route("/v1/webhooks/deliveries/{id}/replay", post(replay))
}

fn t(secs: i64) -> String {
    rfc3339(secs).as_str().unwrap_or_default().to_owned()
}

fn new_secret() -> String {
    let mut b = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!("whsec_{}", hex::encode(b))
}

/// The platform a platform or admin key acts for: a platform key's own, or the one an admin
/// names.
fn acting_platform(who: &Principal, named: Option<i64>) -> ApiResult<i64> {
    match who.role {
        Role::Platform => {
            let own = who.platform_id.ok_or_else(|| ApiError::internal("platform key without platform"))?;
            match named {
                Some(n) if n != own => {
                    Err(ApiError::forbidden("wrong_platform", "this key acts for its own platform only"))
                }
                _ => Ok(own),
            }
        }
        Role::Admin => {
            named.ok_or_else(|| ApiError::unprocessable("invalid_request", "an admin key must name platform_id"))
        }
        _ => Err(ApiError::forbidden("forbidden", "webhooks are managed with platform or admin keys")),
    }
}

/// Events sent as a signed webhook.
#[utoipa::path(post, path = "/v1/webhooks/events", tag = "events",
    params(
        ("Jejak-Platform" = i64, Header, description = "The sending platform's id"),
        ("Jejak-Signature" = String, Header, description = "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeating a request with the same key returns the first answer")),
    request_body = crate::openapi::EventsRequest,
    responses((status = 202, description = "Stored durably", body = crate::openapi::EventsAccepted),
        (status = "4XX", body = ErrorBody)))]
pub(crate) async fn post_signed_events(
    State(st): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let bad = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "invalid_signature", m.to_owned());
    // Cheap checks first: the headers, bounded; then the client's failures and the platform's
    // rate, before the database and the MAC.
    let platform_id: i64 = headers
        .get(PLATFORM_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .filter(|p| *p > 0)
        .ok_or_else(|| bad("Jejak-Platform must name the platform id"))?;
    let signature =
        headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).ok_or_else(|| bad("Jejak-Signature is missing"))?;
    let parsed = SignatureHeader::parse(signature).map_err(|e| bad(&e.to_string()))?;
    st.services.guard.check(client.0)?;
    st.services.limiter.check(&format!("platform-webhook:{platform_id}"))?;
    if !parsed.in_window(now_secs()) {
        return Err(bad(&SignatureError::OutsideWindow.to_string()));
    }
    let secret = {
        let mut c = st.store.conn().await?;
        db::platform_secret(&mut c, platform_id).await?
    };
    let secret = match secret {
        Some(s) => st.services.secrets.open_platform_secret(platform_id, &s)?,
        None => None,
    };
    // An unknown platform and a wrong signature answer alike.
    let Some(secret) = secret else {
        st.services.guard.failed(client.0);
        return Err(bad(&SignatureError::Mismatch.to_string()));
    };
    let verified = match verify_off_runtime(secret, parsed, body.clone(), now_secs()).await {
        Ok(v) => v,
        Err(e) => {
            st.services.guard.failed(client.0);
            return Err(bad(&e.to_string()));
        }
    };
    let parsed: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("request body is not valid JSON: {e}")))?;
    if let Some(named) = parsed.get("platform_id")
        && named.as_i64() != Some(platform_id)
    {
        return Err(ApiError::forbidden("wrong_platform", "platform_id differs from Jejak-Platform"));
    }
    // A captured request sent again inside the window must not store its events twice: without
    // an Idempotency-Key, what the signature vouches for (timestamp and body) is the key, so
    // rewriting the header (order, hex case, extra entries) makes no new request.
    let mut headers = headers;
    if !headers.contains_key("idempotency-key")
        && let Ok(key) = axum::http::HeaderValue::from_str(&verified.idempotency_key())
    {
        headers.insert("idempotency-key", key);
    }
    accept(&st, platform_id, &headers, parsed).await
}

/// A platform's incoming-webhook secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct WebhookSecret {
    /// The platform.
    platform_id: i64,
    /// The HMAC key (its UTF-8 bytes); shown once, it replaces any previous secret.
    secret: String,
}

/// Creates or rotates a platform's incoming-webhook secret.
#[utoipa::path(post, path = "/v1/platforms/{id}/webhook-secret", tag = "webhooks", security(("api_key" = [])),
    params(("id" = i64, Path, description = "Platform id", minimum = 1)),
    responses((status = 201, body = WebhookSecret), (status = "4XX", body = ErrorBody)))]
pub(crate) async fn rotate_secret(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<WebhookSecret>)> {
    let id: i64 = id
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| ApiError::unprocessable("invalid_request", "platform id: a positive integer"))?;
    let platform_id = acting_platform(&who, Some(id))?;
    check_platform(&st, platform_id).await?;
    let secret = new_secret();
    let mut c = st.store.conn().await?;
    let sealed = st.services.secrets.seal_platform_secret(platform_id, secret.as_bytes());
    db::set_platform_secret(&mut c, platform_id, &sealed, now_secs()).await?;
    tracing::info!(target: "jejak::webhooks", by = %who.key_id, platform_id, "incoming webhook secret rotated");
    Ok((StatusCode::CREATED, Json(WebhookSecret { platform_id, secret })))
}

/// A subscription to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubscribeRequest {
    /// The platform (admin keys only; a platform key subscribes its own).
    #[serde(default)]
    platform_id: Option<i64>,
    /// The `https://` URL deliveries are POSTed to (`http://` only where the node allows it); it
    /// must not name or resolve to a loopback, private, link-local or other internal address.
    url: String,
    /// Some of `batch.finalized`, `evidence.verdict`, `score.changed`.
    events: Vec<String>,
}

/// A subscription.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Subscription {
    /// `whs_...`.
    id: String,
    /// The platform.
    platform_id: i64,
    /// Where deliveries go.
    url: String,
    /// Event types.
    events: Vec<String>,
    /// Creation time (RFC 3339).
    created_at: String,
    /// The HMAC key deliveries are signed with: only in the answer that creates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

fn subscription(s: &SubscriptionRow, secret: Option<String>) -> Subscription {
    Subscription {
        id: s.id.clone(),
        platform_id: s.platform_id,
        url: s.url.clone(),
        events: s.events.split(',').map(str::to_owned).collect(),
        created_at: t(s.created_at),
        secret,
    }
}

/// Subscribes a platform to outgoing webhooks.
#[utoipa::path(post, path = "/v1/webhooks/subscriptions", tag = "webhooks", security(("api_key" = [])),
    request_body = SubscribeRequest,
    responses((status = 201, body = Subscription), (status = "4XX", body = ErrorBody)))]
pub(crate) async fn subscribe(
    State(st): State<AppState>,
    who: Principal,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Subscription>)> {
    require(&who, &[Role::Admin, Role::Platform], "subscribing to webhooks")?;
    let req: SubscribeRequest = parse(&body)?;
    let platform_id = acting_platform(&who, req.platform_id)?;
    let invalid = |m: String| ApiError::unprocessable("invalid_request", m);
    if req.events.is_empty() || req.events.iter().any(|e| !EVENT_TYPES.contains(&e.as_str())) {
        return Err(invalid(format!("events: one or more of {}", EVENT_TYPES.join(", "))));
    }
    let settings = &st.services.settings.webhooks;
    // Refused here already, with a stable code; checked again on every connection.
    settings
        .egress
        .check_url(&req.url)
        .map_err(|e| ApiError::unprocessable("webhook_url_refused", format!("url: {e}")))?;
    let mut events = req.events.clone();
    events.sort();
    events.dedup();
    check_platform(&st, platform_id).await?;
    let id = format!("whs_{}", uuid::Uuid::now_v7().simple());
    let secret = new_secret();
    let row = SubscriptionRow {
        secret: st.services.secrets.seal_subscription_secret(&id, secret.as_bytes()),
        id,
        platform_id,
        url: req.url,
        events: events.join(","),
        created_at: now_secs(),
        deleted_at: None,
    };
    let mut c = st.store.conn().await?;
    // One platform's subscriptions are bounded: each multiplies the deliveries of every event.
    let live = db::live_subscription_count(&mut c, platform_id).await?;
    if live >= settings.max_subscriptions as i64 {
        return Err(ApiError::conflict(
            "too_many_subscriptions",
            format!("platform {platform_id} has {live} live subscriptions, the most it may have; delete one first"),
        ));
    }
    db::insert_subscription(&mut c, &row).await?;
    tracing::info!(target: "jejak::webhooks", by = %who.key_id, subscription = %row.id, platform_id, "webhook subscription created");
    Ok((StatusCode::CREATED, Json(subscription(&row, Some(secret)))))
}

/// A page of subscriptions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SubscriptionPage {
    /// Subscriptions in id order.
    data: Vec<Subscription>,
    /// Cursor of the next page, null on the last.
    next_cursor: Option<String>,
}

/// Lists live subscriptions.
#[utoipa::path(get, path = "/v1/webhooks/subscriptions", tag = "webhooks", security(("api_key" = [])), params(PageQuery),
    responses((status = 200, body = SubscriptionPage), (status = "4XX", body = ErrorBody)))]
pub(crate) async fn list_subscriptions(
    State(st): State<AppState>,
    who: Principal,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Json<SubscriptionPage>> {
    require(&who, &[Role::Admin, Role::Platform], "listing webhook subscriptions")?;
    let page = PageRequest::from_query(q)?;
    let platform = if who.role == Role::Platform { who.platform_id } else { None };
    let mut c = st.store.conn().await?;
    let rows = db::subscriptions_page(&mut c, platform, &page.after, page.fetch).await?;
    let (rows, next_cursor) = page.finish(rows, |s| s.id.clone());
    Ok(Json(SubscriptionPage { data: rows.iter().map(|s| subscription(s, None)).collect(), next_cursor }))
}

async fn own_subscription(st: &AppState, who: &Principal, id: &str) -> ApiResult<SubscriptionRow> {
    require(who, &[Role::Admin, Role::Platform], "managing webhook subscriptions")?;
    let mut c = st.store.conn().await?;
    match db::subscription(&mut c, id).await? {
        Some(s) if s.deleted_at.is_none() && (who.role == Role::Admin || who.platform_id == Some(s.platform_id)) => {
            Ok(s)
        }
        _ => Err(ApiError::not_found("subscription_not_found", format!("no subscription `{id}`"))),
    }
}

/// Deletes a subscription; its pending deliveries are abandoned.
#[utoipa::path(delete, path = "/v1/webhooks/subscriptions/{id}", tag = "webhooks", security(("api_key" = [])),
    params(("id" = String, Path, description = "Subscription id")),
    responses((status = 200, body = Subscription), (status = "4XX", body = ErrorBody)))]
pub(crate) async fn unsubscribe(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Subscription>> {
    let s = own_subscription(&st, &who, &id).await?;
    let mut c = st.store.conn().await?;
    db::delete_subscription(&mut c, &id, now_secs()).await?;
    Ok(Json(subscription(&s, None)))
}

/// `?status=` of the delivery list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveryQuery {
    /// `dead` (the dead-letter list, default), `pending` or `delivered`.
    #[serde(default)]
    status: Option<String>,
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Delivery {
    /// `whd_...`.
    id: String,
    /// The subscription.
    subscription_id: String,
    /// The event id (the receiver's idempotency key).
    event_id: String,
    /// Event type.
    event_type: String,
    /// `pending`, `delivered` or `dead`.
    status: String,
    /// Attempts made.
    attempts: i64,
    /// HTTP status of the last attempt.
    last_status: Option<i64>,
    /// Error of the last attempt.
    last_error: Option<String>,
    /// Creation time (RFC 3339).
    created_at: String,
    /// The body sent.
    #[schema(value_type = Object)]
    payload: Value,
}

fn delivery(d: &DeliveryRow) -> Delivery {
    Delivery {
        id: d.id.clone(),
        subscription_id: d.subscription_id.clone(),
        event_id: d.event_id.clone(),
        event_type: d.event_type.clone(),
        status: d.status.as_str().to_owned(),
        attempts: d.attempts,
        last_status: d.last_status,
        last_error: d.last_error.clone(),
        created_at: t(d.created_at),
        payload: serde_json::from_str(&d.payload).unwrap_or(Value::Null),
    }
}

/// A page of deliveries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DeliveryPage {
    /// Deliveries in id order.
    data: Vec<Delivery>,
    /// Cursor of the next page, null on the last.
    next_cursor: Option<String>,
}

/// Lists deliveries: the dead-letter list by default.
#[utoipa::path(get, path = "/v1/webhooks/deliveries", tag = "webhooks", security(("api_key" = [])), params(DeliveryQuery),
    responses((status = 200, body = DeliveryPage), (status = "4XX", body = ErrorBody)))]
pub(crate) async fn list_deliveries(
    State(st): State<AppState>,
    who: Principal,
    q: Result<Query<DeliveryQuery>, QueryRejection>,
) -> ApiResult<Json<DeliveryPage>> {
    require(&who, &[Role::Admin, Role::Platform], "listing webhook deliveries")?;
    let Query(q) = q.map_err(|e| ApiError::unprocessable("invalid_request", e.body_text()))?;
    let status = match q.status.as_deref() {
        None => DeliveryStatus::Dead,
        Some(s) => DeliveryStatus::parse(s)
            .ok_or_else(|| ApiError::unprocessable("invalid_request", "status: dead, pending or delivered"))?,
    };
    let page = PageRequest::from_query(Ok(Query(PageQuery { limit: q.limit, cursor: q.cursor })))?;
    let platform = if who.role == Role::Platform { who.platform_id } else { None };
    let mut c = st.store.conn().await?;
    let rows = db::deliveries_page(&mut c, platform, status, &page.after, page.fetch).await?;
    let (rows, next_cursor) = page.finish(rows, |d| d.id.clone());
    Ok(Json(DeliveryPage { data: rows.iter().map(delivery).collect(), next_cursor }))
}

/// Queues a dead delivery again with fresh attempts (same event id).
#[utoipa::path(post, path = "/v1/webhooks/deliveries/{id}/replay", tag = "webhooks", security(("api_key" = [])),
    params(("id" = String, Path, description = "Delivery id")),
    responses((status = 200, body = Delivery), (status = 409, description = "`delivery_not_dead`", body = ErrorBody),
        (status = "4XX", body = ErrorBody)))]
pub(crate) async fn replay(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Delivery>> {
    require(&who, &[Role::Admin, Role::Platform], "replaying webhook deliveries")?;
    let mut c = st.store.conn().await?;
    let not_found = || ApiError::not_found("delivery_not_found", format!("no delivery `{id}`"));
    let d = db::delivery(&mut c, &id).await?.ok_or_else(not_found)?;
    if who.role == Role::Platform && who.platform_id != Some(d.platform_id) {
        return Err(not_found());
    }
    let now_ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    if !db::replay(&mut c, &id, now_secs(), now_ms).await? {
        return Err(ApiError::conflict(
            "delivery_not_dead",
            format!("delivery `{id}` is {}, not dead", d.status.as_str()),
        ));
    }
    let d = db::delivery(&mut c, &id).await?.ok_or_else(not_found)?;
    tracing::info!(target: "jejak::webhooks", by = %who.key_id, delivery = %id, "dead delivery replayed");
    Ok(Json(delivery(&d)))
}
