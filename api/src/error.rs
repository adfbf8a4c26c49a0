//! The one error type of the HTTP API: a status, a stable code, a message.
//!
//! Bad input answers with its own message; internal failures answer "internal error" and log
//! the real cause once, here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// An error answer: `{"error": {"code", "message", "details"?}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable, documented machine code.
    pub code: &'static str,
    /// Human explanation.
    pub message: String,
    /// Structured details (per-item errors...).
    pub details: Option<Value>,
    /// Seconds to wait before retrying, sent as `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a Value>,
}

impl ApiError {
    /// An error with status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: None, retry_after: None }
    }

    /// Adds structured details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// 400.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 404.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 409.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 429 with `Retry-After`.
    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests for this API key; retry after {retry_after} s"),
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// 500, logging the cause.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(target: "jejak::api", error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }

    /// 503, logging the cause.
    pub fn unavailable(code: &'static str, cause: impl std::fmt::Display) -> Self {
        tracing::warn!(target: "jejak::api", error = %cause, code, "service unavailable");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, cause.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body { error: Inner { code: self.code, message: &self.message, details: self.details.as_ref() } };
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

impl From<jejak_store::Error> for ApiError {
    fn from(e: jejak_store::Error) -> Self {
        Self::internal(e)
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// Every stable error code: (code, HTTP status, meaning). The OpenAPI document and the README list
/// them from here; a test checks each code the code base uses is listed.
pub const ERROR_CODES: &[(&str, u16, &str)] = &[
    ("malformed_json", 400, "the body is not valid JSON"),
    ("malformed_multipart", 400, "the multipart body could not be read"),
    ("invalid_idempotency_key", 400, "Idempotency-Key is not 1 to 255 visible ASCII characters"),
    ("invalid_cid", 400, "the path is not a CID"),
    ("bad_request", 400, "the request could not be read"),
    ("vc_request_invalid", 400, "a VC-API body does not have the shape the VC-API gives (members, types)"),
    (
        "vc_document_too_complex",
        400,
        "a VC-API body nests deeper than 32 levels, or a presentation holds more than 16 credentials",
    ),
    ("unknown_option", 400, "a VC-API request names an option this node does not know (UNKNOWN_OPTION_PROVIDED)"),
    (
        "credential_not_issuable",
        400,
        "the credential to issue is not a jejak reputation credential template (details.problems)",
    ),
    ("credential_not_verified", 400, "the credential did not verify (the answer's errors say why)"),
    (
        "presentation_not_verified",
        400,
        "the presentation or a credential it holds did not verify (the answer's errors say why)",
    ),
    ("unauthorized", 401, "missing, malformed, unknown or revoked API key"),
    ("invalid_signature", 401, "a signed webhook's signature or timestamp does not verify"),
    ("forbidden", 403, "the key's role may not do this"),
    ("wrong_platform", 403, "a platform key acting for another platform"),
    ("platform_not_registered", 403, "the platform is not registered on chain"),
    ("platform_suspended", 403, "the platform is suspended on chain"),
    ("not_found", 404, "no such route"),
    ("attestation_not_found", 404, "no such attestation (or not yours)"),
    ("worker_not_found", 404, "no reputation for this worker (or not yours)"),
    ("task_not_found", 404, "no such task (or not yours)"),
    ("evidence_not_found", 404, "no such evidence file (or not yours)"),
    ("block_not_found", 404, "this node does not hold the block"),
    ("key_not_found", 404, "no such API key"),
    ("credential_not_found", 404, "no such credential"),
    ("status_list_not_found", 404, "no such status list"),
    ("subscription_not_found", 404, "no such webhook subscription (or not yours)"),
    ("delivery_not_found", 404, "no such webhook delivery (or not yours)"),
    ("gig_not_found", 404, "no such marketplace gig (or not yours to see)"),
    ("platform_not_found", 404, "no such platform on this chain"),
    ("batch_not_found", 404, "no such anchored batch on this chain"),
    ("epoch_not_found", 404, "no root published for this epoch"),
    ("method_not_allowed", 405, "the route does not take this method"),
    ("request_timeout", 408, "the request took longer than the API's timeout"),
    ("event_id_conflict", 409, "an event_id was already used for a different event"),
    ("request_in_progress", 409, "the same request is being processed; retry"),
    ("task_id_conflict", 409, "a task_id was already used for a different task"),
    ("nonce_too_early", 409, "the capture nonce is not issued yet"),
    ("task_window_closed", 409, "the task window has closed"),
    ("nullifier_used", 409, "the proof's nullifier was already consumed in its scope (a replay)"),
    ("delivery_not_dead", 409, "only dead deliveries can be replayed"),
    (
        "link_token_used",
        409,
        "an account_linked event's link token was used before: each links once; nothing was stored",
    ),
    ("illegal_transition", 409, "the marketplace action is not allowed in the gig's state (details.state)"),
    ("identity_not_held", 409, "this node holds no secret for the worker; they prove with `jejak zk prove`"),
    ("payload_too_large", 413, "the body is larger than the API accepts"),
    ("evidence_too_large", 413, "an evidence file is over its limit"),
    ("unsupported_media_type", 415, "the body's Content-Type is not accepted"),
    ("invalid_request", 422, "the body or parameters do not have the documented shape"),
    ("invalid_search", 422, "the search is not a transaction hash, root, id or CID"),
    ("invalid_event", 422, "an event failed validation; nothing was stored"),
    (
        "link_token_invalid",
        422,
        "an account_linked event's link token is missing, malformed or forged, names another chain, platform, account or identity, or expires too far ahead; nothing was stored",
    ),
    ("link_token_expired", 422, "an account_linked event's link token has expired; nothing was stored"),
    ("unknown_event_type", 422, "an event has an unknown type; nothing was stored"),
    ("idempotency_key_reused", 422, "the Idempotency-Key was used with a different body"),
    ("evidence_refused", 422, "an evidence file was refused (details.reason)"),
    ("invalid_witness_statement", 422, "a witness statement is malformed"),
    ("requirement_not_met", 422, "the worker's leaf does not meet a requested bound (details.unmet says which)"),
    (
        "webhook_url_refused",
        422,
        "the webhook URL is not https, or names or resolves to a private, loopback, link-local or other internal address",
    ),
    ("too_many_subscriptions", 409, "the platform has as many live webhook subscriptions as it may"),
    (
        "rate_limited",
        429,
        "too many requests for this key, platform or client address (or too many failed authentications); see Retry-After",
    ),
    ("internal", 500, "internal error (logged by the node)"),
    ("identity_unreadable", 500, "a node-held identity secret does not open with the sealing key (logged)"),
    ("proving_key_mismatch", 500, "the proving key's tree depth is not the published epoch's (logged)"),
    ("proofs_unavailable", 503, "no verifying key is configured for proof verification"),
    ("proving_unavailable", 503, "no proving key is configured for proving"),
    ("prover_busy", 503, "the proving queue is full; see Retry-After"),
    ("bundle_busy", 503, "other portable bundles are being built on this instance; see Retry-After"),
    ("bundle_unavailable", 503, "the bundle cannot be built yet (e.g. the epoch's root is not indexed); retry"),
    ("identities_unavailable", 503, "no sealing key is configured for node-held identities"),
    ("service_unavailable", 503, "a dependency (database, chain) is unavailable"),
];
