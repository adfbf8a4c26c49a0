//! `POST /v1/events`: platforms push work events.
//!
//! All or nothing: every event of a request is validated before any is stored. Accepted means
//! durable: the 202 is sent after the transaction that stored the events has committed. A
//! request repeated with the same `Idempotency-Key` gets the first answer back; an event repeated
//! with the same `event_id` is recognised as a duplicate rather than stored twice.
//!
//! An `account_linked` event carries the worker's link token (`services::links`): it must name
//! this chain, the sending platform, the event's account and commitment, be signed by the key
//! the commitment opens to and not have expired; each token links once, its use recorded in the
//! transaction that stores the event. Otherwise nothing of the request is stored.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jejak_core::attestation::{self, Salt};
use jejak_core::event::WorkEvent;
use jejak_store::attestations::{self, IdempotencyRow, NewAttestation};
use jejak_store::now_secs;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::auth::{Principal, Role};
use crate::services::links;
use crate::{ApiError, ApiResult, AppState};

/// Longest accepted `Idempotency-Key`.
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// Work events from a platform (up to 1,000, all or nothing, durable before 202).
#[utoipa::path(post, path = "/v1/events", tag = "events", security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeating a request with the same key returns the first answer")),
    request_body = crate::openapi::EventsRequest,
    responses((status = 202, description = "Stored durably", body = crate::openapi::EventsAccepted),
        (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn post_events(
    State(st): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let parsed: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("request body is not valid JSON: {e}")))?;
    let platform_id = platform_of(&who, &parsed)?;
    accept(&st, platform_id, &headers, parsed).await
}

/// Validates and stores the events of a request for `platform_id` (an API key's or a signed
/// webhook's).
pub(crate) async fn accept(st: &AppState, platform_id: i64, headers: &HeaderMap, parsed: Value) -> ApiResult<Response> {
    let st = st.clone();
    let key = idempotency_key(headers)?;
    let events = validate(&st, &parsed)?;
    check_platform(&st, platform_id).await?;
    let uses = check_links(&st, platform_id, &events).await?;
    let request_hash: [u8; 32] = Sha256::digest(jejak_core::jcs::to_vec(&parsed).map_err(ApiError::internal)?).into();

    // A concurrent duplicate (same key or event ids) surfaces as a unique violation; after it the
    // first request's answer is visible, so one more attempt returns it.
    for attempt in 0..2 {
        match store_events(&st, platform_id, key.as_deref(), request_hash, &events, &uses).await {
            Ok(resp) => return Ok(resp),
            Err(StoreFailure::Api(e)) => return Err(e),
            Err(StoreFailure::Store(e)) if e.is_unique_violation() && attempt == 0 => continue,
            Err(StoreFailure::Store(e)) if e.is_unique_violation() => {
                return Err(ApiError::conflict(
                    "request_in_progress",
                    "a request with the same events is being processed; retry",
                ));
            }
            Err(StoreFailure::Store(e)) => return Err(e.into()),
        }
    }
    unreachable!("the loop returns")
}

/// The platform the events are for: a platform key's own, or `platform_id` in the body for an
/// admin key.
pub(crate) fn platform_of(who: &Principal, body: &Value) -> ApiResult<i64> {
    let named = body
        .get("platform_id")
        .map(|v| {
            v.as_i64()
                .filter(|n| *n > 0)
                .ok_or_else(|| ApiError::unprocessable("invalid_request", "platform_id must be a positive integer"))
        })
        .transpose()?;
    match who.role {
        Role::Platform => {
            let own = who.platform_id.ok_or_else(|| ApiError::internal("platform key without platform"))?;
            match named {
                Some(n) if n != own => {
                    Err(ApiError::forbidden("wrong_platform", "this key may only send events for its own platform"))
                }
                _ => Ok(own),
            }
        }
        Role::Admin => {
            named.ok_or_else(|| ApiError::unprocessable("invalid_request", "an admin key must name platform_id"))
        }
        Role::Worker | Role::Auditor => {
            Err(ApiError::forbidden("forbidden", "only platform and admin keys may send events"))
        }
    }
}

pub(crate) fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let s = v
        .to_str()
        .ok()
        .filter(|s| !s.is_empty() && s.len() <= MAX_IDEMPOTENCY_KEY && s.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                format!("Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"),
            )
        })?;
    Ok(Some(s.to_string()))
}

fn validate(st: &AppState, body: &Value) -> ApiResult<Vec<WorkEvent>> {
    let obj = body
        .as_object()
        .ok_or_else(|| ApiError::unprocessable("invalid_request", "body must be an object with `events`"))?;
    if let Some(k) = obj.keys().find(|k| *k != "events" && *k != "platform_id") {
        return Err(ApiError::unprocessable("invalid_request", format!("unknown field `{k}`")));
    }
    let list = obj
        .get("events")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::unprocessable("invalid_request", "`events` must be an array"))?;
    let max = st.limits.max_events_per_request;
    if list.is_empty() || list.len() > max {
        return Err(ApiError::unprocessable(
            "invalid_request",
            format!("send 1 to {max} events per request, not {}", list.len()),
        ));
    }
    let now = time::OffsetDateTime::now_utc();
    let mut events = Vec::with_capacity(list.len());
    let mut errors = Vec::new();
    let mut unknown_type = false;
    let mut invalid_event = false;
    for (index, v) in list.iter().enumerate() {
        match WorkEvent::from_value(v.clone(), now) {
            Ok(e) => events.push(e),
            Err(e) => {
                let code = match e {
                    jejak_core::Error::UnknownEventType(_) => {
                        unknown_type = true;
                        "unknown_event_type"
                    }
                    jejak_core::Error::InvalidLinkToken(_) => "link_token_invalid",
                    _ => {
                        invalid_event = true;
                        "invalid_event"
                    }
                };
                errors.push(json!({"index": index, "code": code, "message": e.to_string()}));
            }
        }
    }
    if !errors.is_empty() {
        let (code, msg) = if unknown_type {
            ("unknown_event_type", "an event has a type jejak does not know; nothing was stored")
        } else if invalid_event {
            ("invalid_event", "an event failed validation; nothing was stored")
        } else {
            ("link_token_invalid", "an account_linked event has no valid link token; nothing was stored")
        };
        return Err(ApiError::unprocessable(code, msg).with_details(json!({ "errors": errors })));
    }
    Ok(events)
}

/// Checks the link token of every `account_linked` event (on a blocking thread: up to 1,000
/// Poseidon hashes and signatures), answering with the first refusal's code and every refusal
/// in `details.errors`. Returns, per event, what a link token's single use is recorded under.
async fn check_links(st: &AppState, platform_id: i64, events: &[WorkEvent]) -> ApiResult<Vec<Option<links::Checked>>> {
    use jejak_core::event::EventData;
    if !events.iter().any(|e| matches!(e.data, EventData::AccountLinked(_))) {
        return Ok(vec![None; events.len()]);
    }
    let chain_id = st.chain_id;
    let now = u64::try_from(now_secs()).unwrap_or(0);
    let claimed: Vec<Option<(jejak_core::event::LinkToken, String, String)>> = events
        .iter()
        .map(|e| match &e.data {
            EventData::AccountLinked(d) => {
                Some((d.link_token.clone(), e.raw.worker.clone(), d.identity_commitment.clone()))
            }
            _ => None,
        })
        .collect();
    let platform = u64::try_from(platform_id).map_err(ApiError::internal)?;
    let results = tokio::task::spawn_blocking(move || {
        claimed
            .iter()
            .map(|l| {
                l.as_ref()
                    .map(|(token, account, commitment)| {
                        let expected = links::Expected { chain_id, platform_id: platform, account, commitment };
                        links::check(token, &expected, now)
                    })
                    .transpose()
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(ApiError::internal)?;
    let mut checked = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    let mut first = None;
    for (index, r) in results.into_iter().enumerate() {
        match r {
            Ok(c) => checked.push(c),
            Err(refusal) => {
                first.get_or_insert(refusal.code());
                errors.push(json!({"index": index, "code": refusal.code(), "message": refusal.to_string()}));
            }
        }
    }
    match first {
        None => Ok(checked),
        Some(code) => {
            Err(ApiError::unprocessable(code, "an account_linked event's link token was refused; nothing was stored")
                .with_details(json!({ "errors": errors })))
        }
    }
}

pub(crate) async fn check_platform(st: &AppState, platform_id: i64) -> ApiResult<()> {
    let mut c = st.store.conn().await?;
    match jejak_store::chain::platform(&mut c, st.chain_id as i64, platform_id).await? {
        None => Err(ApiError::forbidden(
            "platform_not_registered",
            format!("platform {platform_id} is not registered on chain"),
        )),
        Some(p) if !p.active => {
            Err(ApiError::forbidden("platform_suspended", format!("platform {platform_id} is suspended")))
        }
        Some(_) => Ok(()),
    }
}

enum StoreFailure {
    Api(ApiError),
    Store(jejak_store::Error),
}

impl From<jejak_store::Error> for StoreFailure {
    fn from(e: jejak_store::Error) -> Self {
        StoreFailure::Store(e)
    }
}

async fn store_events(
    st: &AppState,
    platform_id: i64,
    key: Option<&str>,
    request_hash: [u8; 32],
    events: &[WorkEvent],
    uses: &[Option<links::Checked>],
) -> Result<Response, StoreFailure> {
    let mut tx = st.store.begin().await?;
    if let Some(key) = key
        && let Some(prev) = attestations::idempotency_get(&mut tx, platform_id, key).await?
    {
        if prev.request_hash != request_hash {
            return Err(StoreFailure::Api(ApiError::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request body",
            )));
        }
        let body: Value = serde_json::from_str(&prev.response).map_err(|e| StoreFailure::Api(ApiError::internal(e)))?;
        let status = StatusCode::from_u16(prev.status as u16).unwrap_or(StatusCode::ACCEPTED);
        let mut resp = (status, Json(body)).into_response();
        resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
        return Ok(resp);
    }
    let now = now_secs();
    if uses.iter().any(Option::is_some) {
        // Spent tokens past their expiry are refused for it before this table is read.
        jejak_store::links::prune_expired(&mut tx, now).await?;
    }
    let mut accepted = Vec::with_capacity(events.len());
    for (e, link) in events.iter().zip(uses) {
        let canonical = e.canonical_bytes();
        let digest = attestation::event_digest(&canonical);
        if let Some(event_id) = &e.raw.event_id
            && let Some(existing) = attestations::by_event_id(&mut tx, platform_id, event_id).await?
        {
            if existing.attestation.event_digest != digest {
                return Err(StoreFailure::Api(ApiError::conflict(
                    "event_id_conflict",
                    format!("event_id `{event_id}` was already used for a different event"),
                )));
            }
            accepted.push(json!({
                "id": existing.attestation.id,
                "event_id": event_id,
                "leaf": hex::encode(existing.attestation.leaf),
                "duplicate": true,
            }));
            continue;
        }
        if let Some(link) = link {
            if jejak_store::links::used(&mut tx, &link.link_key, &link.nonce).await? {
                return Err(StoreFailure::Api(ApiError::conflict(
                    "link_token_used",
                    "this link token was used before: ask the worker for a new one; nothing was stored",
                )));
            }
            // A concurrent use of the same token meets the primary key and is answered above
            // on the retry.
            jejak_store::links::record_use(
                &mut tx,
                &jejak_store::links::LinkTokenUse {
                    link_key: link.link_key,
                    nonce: link.nonce,
                    platform_id,
                    expires_at: i64::try_from(link.expires_at).unwrap_or(i64::MAX),
                    used_at: now,
                },
            )
            .await?;
        }
        let salt = Salt::random();
        let leaf = attestation::leaf_hash(&salt, &digest);
        let id = format!("att_{}", uuid::Uuid::now_v7().simple());
        attestations::insert(
            &mut tx,
            &NewAttestation {
                id: id.clone(),
                platform_id,
                event_type: e.kind.as_str().to_string(),
                event_id: e.raw.event_id.clone(),
                worker_ref: e.raw.worker.clone(),
                occurred_at: e.occurred_at.unix_timestamp(),
                received_at: now,
                body: String::from_utf8(canonical).expect("canonical JSON is UTF-8"),
                event_digest: digest,
                salt: salt.0,
                leaf,
            },
        )
        .await?;
        accepted.push(json!({"id": id, "event_id": e.raw.event_id, "leaf": hex::encode(leaf), "duplicate": false}));
    }
    let body = json!({ "platform_id": platform_id, "accepted": accepted });
    if let Some(key) = key {
        attestations::idempotency_put(
            &mut tx,
            &IdempotencyRow {
                platform_id,
                key: key.to_string(),
                request_hash,
                status: 202,
                response: body.to_string(),
                created_at: now,
            },
        )
        .await?;
    }
    jejak_store::commit(tx).await?;
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}
