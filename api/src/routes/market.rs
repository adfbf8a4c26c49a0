//! `/v1/market/...`: the marketplace (see [`crate::services::market`]).
//!
//! Roles map onto keys: a worker key acts for its worker (as a worker, or as a client posting
//! gigs); a platform key is a client (`platform-N`); an admin key is the operator (escrow states,
//! disputes) and may post as `admin-KEYID`; keys listed in `market.arbiter_keys` resolve disputes.
//! Every transition is `POST /v1/market/gigs/{id}/actions` with one action; an illegal one answers
//! 409 `illegal_transition` with the gig's current state in `details.state`. Writes honour
//! `Idempotency-Key` (per key's account: the same key and request get the first answer).
//!
//! What a caller sees of a gig: everyone the posting; the client every proposal, a worker its own;
//! the parties (and the operator and arbiters) the contract; a review only its author until both
//! are published (double blind). Accounts are shown to the parties only.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jejak_market::geo::{BoundingBox, distance_m};
use jejak_market::{Action, Gig, GigSpec, Tier};
use jejak_store::market::Search;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::auth::{Principal, Role};
use crate::services::market::{Answer, Caller, Idempotency, Market, MarketError};
use crate::{ApiError, ApiResult, AppState};

/// Most words of a text search.
const MAX_WORDS: usize = 8;
/// Longest word of a text search, in characters.
const MAX_WORD_CHARS: usize = 64;
/// Largest search radius, in kilometres.
const MAX_RADIUS_KM: f64 = 500.0;
/// Most gigs a search page holds.
const MAX_PAGE: i64 = 100;

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/market/gigs", post(post_gig).get(search_gigs))
        .route("/v1/market/gigs/{id}", get(get_gig))
        .route("/v1/market/gigs/{id}/history", get(get_history))
        .route("/v1/market/gigs/{id}/actions", post(act))
}

fn market(st: &AppState) -> Market {
    Market::new(st.store.clone(), st.services.clock.clone(), st.services.settings.market.clone())
}

fn caller(st: &AppState, who: &Principal) -> ApiResult<Caller> {
    let arbiter = st.services.settings.market.arbiter_keys.contains(&who.key_id);
    let (account, worker, client, admin) = match who.role {
        Role::Worker => {
            let w = who.worker_id.clone().ok_or_else(|| ApiError::internal("worker key without worker"))?;
            (w, true, true, false)
        }
        Role::Platform => {
            let p = who.platform_id.ok_or_else(|| ApiError::internal("platform key without platform"))?;
            (format!("platform-{p}"), false, true, false)
        }
        Role::Admin => (format!("admin-{}", who.key_id), false, true, true),
        Role::Auditor => (format!("auditor-{}", who.key_id), false, false, false),
    };
    Ok(Caller { account, worker, client, admin, arbiter })
}

impl From<MarketError> for ApiError {
    fn from(e: MarketError) -> Self {
        match e {
            MarketError::Model(jejak_market::Error::Invalid { field, message }) => {
                ApiError::unprocessable("invalid_request", format!("{field}: {message}"))
                    .with_details(json!({"field": field}))
            }
            MarketError::Model(jejak_market::Error::Forbidden(m)) => ApiError::forbidden("forbidden", m),
            MarketError::Model(e @ jejak_market::Error::Illegal { .. }) => {
                ApiError::conflict("illegal_transition", e.to_string())
            }
            MarketError::Model(e @ jejak_market::Error::Replay { .. }) => ApiError::internal(e),
            MarketError::Illegal { error, gig } => {
                // The state shown is what any caller may see of the posting and its status.
                ApiError::conflict("illegal_transition", error.to_string())
                    .with_details(json!({"state": public_view(&gig)}))
            }
            MarketError::NotFound => ApiError::not_found("gig_not_found", "no such gig"),
            MarketError::KeyReused => ApiError::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request",
            ),
            MarketError::Busy => ApiError::conflict("request_in_progress", "the gig is changing; retry"),
            MarketError::Store(e) => e.into(),
            MarketError::Corrupt(m) => ApiError::internal(m),
        }
    }
}

fn answer(a: Answer) -> Response {
    let (status, body, replayed) = match a {
        Answer::Fresh { status, body } => (status, body, false),
        Answer::Replayed { status, body } => (status, body, true),
    };
    let mut resp = (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), Json(body)).into_response();
    if replayed {
        resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

fn idempotency(headers: &HeaderMap, method: &Method, path: &str, body: &[u8]) -> ApiResult<Option<Idempotency>> {
    let Some(key) = super::events::idempotency_key(headers)? else { return Ok(None) };
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    Ok(Some(Idempotency { key, request_hash: h.finalize().into() }))
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("request body is not valid JSON: {e}")))?;
    serde_json::from_value(v).map_err(|e| ApiError::unprocessable("invalid_request", e.to_string()))
}

/// What anyone with a key sees: the posting and its status, no accounts.
fn public_view(gig: &Gig) -> Value {
    json!({
        "id": gig.id,
        "status": gig.status,
        "title": gig.spec.title,
        "description": gig.spec.description,
        "category": gig.spec.category,
        "location": gig.spec.location,
        "pay": gig.spec.pay,
        "currency": {"code": gig.spec.currency.code(), "minor_units": gig.spec.currency.minor_units()},
        "deadline": gig.spec.deadline,
        "requirement": gig.spec.requirement,
        "posted_at": gig.posted_at,
        "updated_at": gig.updated_at,
        "version": gig.version,
        "proposals": gig.proposals.len(),
        "contract": gig.contract.as_ref().map(|c| json!({"status": c.status})),
    })
}

/// What `caller` sees of a gig.
fn view(gig: &Gig, caller: &Caller) -> Value {
    let mut v = public_view(gig);
    let is_client = caller.account == gig.client;
    let party = gig.contract.as_ref().map(|c| {
        if is_client {
            Some("client")
        } else if c.worker == caller.account {
            Some("worker")
        } else {
            None
        }
    });
    let party = party.flatten().or(is_client.then_some("client"));
    let overseer = caller.admin || caller.arbiter;
    if party.is_some() || overseer {
        v["client"] = json!(gig.client);
    }
    v["yours"] = json!(party);
    let proposals: Vec<_> =
        gig.proposals.iter().filter(|p| is_client || overseer || p.worker == caller.account).collect();
    if is_client || overseer || !proposals.is_empty() {
        v["proposals"] = json!(proposals);
    }
    if let Some(c) = &gig.contract
        && (party.is_some() || overseer)
    {
        let mut cv = json!(c);
        if c.reviews.published_at.is_none() {
            // Double blind: until both are published each side sees only its own review.
            if party != Some("client") {
                cv["reviews"]["of_worker"] = Value::Null;
            }
            if party != Some("worker") {
                cv["reviews"]["of_client"] = Value::Null;
            }
        }
        v["contract"] = cv;
    }
    v
}

/// Posts a gig (worker, platform or admin key: the client).
#[utoipa::path(post, path = "/v1/market/gigs", tag = "market", security(("api_key" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeating a request with the same key returns the first answer")),
    request_body = crate::openapi::GigSpecSchema,
    responses((status = 201, description = "Posted", body = crate::openapi::GigView),
        (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn post_gig(
    State(st): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let caller = caller(&st, &who)?;
    let spec: GigSpec = parse_json(&body)?;
    let idem = idempotency(&headers, &Method::POST, "/v1/market/gigs", &body)?;
    let a = market(&st).post(&caller, spec, idem.as_ref(), |g| view(g, &caller)).await?;
    Ok(answer(a))
}

/// One gig, as the caller may see it.
#[utoipa::path(get, path = "/v1/market/gigs/{id}", tag = "market", security(("api_key" = [])),
    params(("id" = String, Path, description = "`gig_...`")),
    responses((status = 200, body = crate::openapi::GigView), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn get_gig(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let caller = caller(&st, &who)?;
    check_id(&id)?;
    let gig = market(&st).get(&id).await?;
    Ok(Json(view(&gig, &caller)))
}

/// A gig's history: every transition in order (its parties, arbiters, auditors and the operator).
#[utoipa::path(get, path = "/v1/market/gigs/{id}/history", tag = "market", security(("api_key" = [])),
    params(("id" = String, Path, description = "`gig_...`")),
    responses((status = 200, body = crate::openapi::GigHistory), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn get_history(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let caller = caller(&st, &who)?;
    check_id(&id)?;
    let m = market(&st);
    let gig = m.get(&id).await?;
    let party = caller.account == gig.client || gig.contract.as_ref().is_some_and(|c| c.worker == caller.account);
    if !(party || caller.admin || caller.arbiter || who.role == Role::Auditor) {
        return Err(MarketError::NotFound.into());
    }
    let mut entries = m.history(&id).await?;
    if gig.contract.as_ref().is_none_or(|c| c.reviews.published_at.is_none()) {
        // Reviews stay blind in the history too until they are published.
        for e in &mut entries {
            if let Action::Review { rating, comment } = &mut e.action
                && e.actor.id != caller.account
            {
                *rating = 0;
                comment.clear();
            }
        }
    }
    Ok(Json(json!({"gig": id, "entries": entries})))
}

/// One transition of a gig: the body is the action (`{"type": "accept", "proposal": 0}`).
#[utoipa::path(post, path = "/v1/market/gigs/{id}/actions", tag = "market", security(("api_key" = [])),
    params(("id" = String, Path, description = "`gig_...`"),
        ("Idempotency-Key" = Option<String>, Header, description = "Repeating a request with the same key returns the first answer")),
    request_body = crate::openapi::MarketActionSchema,
    responses((status = 200, description = "Applied: the gig as it now stands", body = crate::openapi::GigView),
        (status = 409, description = "Illegal in the gig's state (`illegal_transition`, `details.state`)", body = crate::openapi::ErrorBody),
        (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn act(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let caller = caller(&st, &who)?;
    check_id(&id)?;
    let raw: Value = parse_json(&body)?;
    let action: Action =
        serde_json::from_value(raw.clone()).map_err(|e| ApiError::unprocessable("invalid_request", e.to_string()))?;
    // serde does not refuse unknown fields beside a tag with no fields of its own (`take`): every
    // field sent must be one the action has.
    let known = serde_json::to_value(&action).map_err(ApiError::internal)?;
    if let (Some(sent), Some(known)) = (raw.as_object(), known.as_object())
        && let Some(k) = sent.keys().find(|k| !known.contains_key(*k))
    {
        return Err(ApiError::unprocessable("invalid_request", format!("unknown field `{k:.64}`")));
    }
    let idem = idempotency(&headers, &Method::POST, &format!("/v1/market/gigs/{id}/actions"), &body)?;
    let a = market(&st).act(&id, &caller, action, idem.as_ref(), |g| view(g, &caller)).await?;
    Ok(answer(a))
}

fn check_id(id: &str) -> ApiResult<()> {
    let ok =
        id.len() <= 64 && id.strip_prefix("gig_").is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_alphanumeric()));
    if ok { Ok(()) } else { Err(MarketError::NotFound.into()) }
}

/// Search parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchQuery {
    /// Words that must all occur in the title or description (at most 8).
    q: Option<String>,
    /// Category slug.
    category: Option<String>,
    /// `lat,lon`: only on-site gigs within `radius_km` of this point.
    near: Option<String>,
    /// With `near`: 0 to 500 km.
    radius_km: Option<f64>,
    /// `true`: remote gigs only; `false`: on-site only.
    remote: Option<bool>,
    /// Only gigs paying at least this much (minor units of `currency`, which it requires).
    min_pay: Option<i64>,
    /// ISO 4217 currency of `min_pay`.
    currency: Option<String>,
    /// A worker's credit tier (A to E): only gigs it may take.
    tier: Option<String>,
    /// A worker's score (0 to 1000): only gigs it may take.
    score: Option<u16>,
    /// 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
}

/// Open gigs by text, category, distance, pay and requirement, newest first, by cursor. With
/// `near`, a page may hold fewer than `limit` gigs while `next_cursor` is not null.
#[utoipa::path(get, path = "/v1/market/gigs", tag = "market", security(("api_key" = [])),
    params(SearchQuery),
    responses((status = 200, body = crate::openapi::GigPage), (status = "4XX", body = crate::openapi::ErrorBody)))]
pub(crate) async fn search_gigs(
    State(st): State<AppState>,
    who: Principal,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let caller = caller(&st, &who)?;
    let Query(q) = q.map_err(|e| ApiError::unprocessable("invalid_request", e.body_text()))?;
    let bad = |m: &str| ApiError::unprocessable("invalid_request", m.to_string());
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(bad("limit: 1 to 100"));
    }
    let mut s = Search { limit: limit + 1, remote: q.remote, score: q.score.map(i64::from), ..Search::default() };
    if let Some(text) = &q.q {
        if text.chars().count() > 200 {
            return Err(bad("q: at most 200 characters"));
        }
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| w.to_lowercase().chars().take(MAX_WORD_CHARS).collect())
            .collect();
        if words.len() > MAX_WORDS {
            return Err(bad("q: at most 8 words"));
        }
        s.words = words;
    }
    if let Some(c) = &q.category {
        if c.is_empty() || c.len() > 64 {
            return Err(bad("category: 1 to 64 characters"));
        }
        s.category = Some(c.clone());
    }
    let centre = match (&q.near, q.radius_km) {
        (Some(near), Some(r)) => {
            let (lat, lon) = near
                .split_once(',')
                .and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)))
                .ok_or_else(|| bad("near: `lat,lon` in degrees"))?;
            jejak_market::geo::check_point(lat, lon).map_err(|e| bad(&format!("near: {e}")))?;
            if !r.is_finite() || r <= 0.0 || r > MAX_RADIUS_KM {
                return Err(bad("radius_km: more than 0, at most 500"));
            }
            let bb = BoundingBox::around(lat, lon, r * 1000.0);
            s.bbox = Some((bb.min_lat, bb.max_lat, bb.min_lon, bb.max_lon));
            Some((lat, lon, r * 1000.0))
        }
        (None, None) => None,
        _ => return Err(bad("near and radius_km go together")),
    };
    match (q.min_pay, &q.currency) {
        (Some(p), Some(c)) => {
            let c = jejak_market::Currency::parse(c).map_err(|e| bad(&e.to_string()))?;
            if p < 0 {
                return Err(bad("min_pay: not negative"));
            }
            s.min_pay = Some((p, c.code().to_string()));
        }
        (None, None) => {}
        _ => return Err(bad("min_pay and currency go together")),
    }
    if q.score.is_some_and(|s| s > 1000) {
        return Err(bad("score: 0 to 1000"));
    }
    if let Some(t) = &q.tier {
        let tier: Tier = serde_json::from_value(json!(t)).map_err(|_| bad("tier: A to E"))?;
        s.tier_rank = Some(tier.rank());
    }
    if let Some(c) = q.cursor.as_deref().filter(|c| !c.is_empty()) {
        let after = URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                let (at, id) = s.split_once(':')?;
                Some((at.parse::<i64>().ok()?, id.to_string()))
            })
            .ok_or_else(|| bad("cursor: not a cursor this API gave"))?;
        s.after = Some(after);
    }
    let mut conn = st.store.conn().await?;
    let mut rows = jejak_store::market::search(&mut conn, st.store.backend(), &s).await?;
    drop(conn);
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next =
        if more { rows.last().map(|r| URL_SAFE_NO_PAD.encode(format!("{}:{}", r.posted_at, r.id))) } else { None };
    let mut data = Vec::with_capacity(rows.len());
    for r in rows {
        if let (Some((lat, lon, radius)), Some(glat), Some(glon)) = (centre, r.lat, r.lon)
            && distance_m(lat, lon, glat, glon) > radius
        {
            continue;
        }
        let gig: Gig = serde_json::from_str(&r.state).map_err(ApiError::internal)?;
        let mut v = view(&gig, &caller);
        if let (Some((lat, lon, _)), Some(glat), Some(glon)) = (centre, r.lat, r.lon) {
            v["distance_m"] = json!(distance_m(lat, lon, glat, glon).round() as i64);
        }
        data.push(v);
    }
    Ok(Json(json!({"data": data, "next_cursor": next})))
}
