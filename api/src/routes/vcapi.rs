//! The W3C VC-API (Verifiable Credential API for Lifecycle Management) issuer and verifier
//! endpoints, over the node's `eddsa-jcs-2022` credentials with `did:key`:
//!
//! - `POST /credentials/issue` `{"credential", "options"}` → 201 `{"verifiableCredential"}`:
//!   the credential must be a jejak reputation credential template naming a worker; the node
//!   fills every claim from its own records through the path of `POST /v1/credentials` (same
//!   roles: an admin, or the worker's own key), so a caller cannot make the node sign claims of
//!   its choosing.
//! - `POST /credentials/verify` `{"verifiableCredential", "options"}` → 200 `{"verified": true,
//!   "checks", "warnings", "errors"}`, or 400 with the same result (`verified: false`, each
//!   failure a problem details object in `errors`) and the node's `error` member.
//! - `POST /presentations/verify` `{"verifiablePresentation", "options"}` (or
//!   `{"presentation"}` unsigned): the presentation's proof (`authentication`, the holder's
//!   key, `challenge` and `domain` when the options give them) and every credential it holds.
//!
//! Request errors answer 400 with a problem details object (RFC 9457: `type`, `title`,
//! `detail`, `status`) that also carries the node's `{"error": {"code", "message"}}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use jejak_credential::credential::{REPUTATION_TYPE, VC_CONTEXT_V2, read_datetime, status_entry};
use jejak_credential::did::controller_of;
use jejak_credential::proof::{self, ASSERTION_METHOD, ProofError};
use jejak_credential::{StatusAnswer, credential::datetime};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::auth::{Principal, Role};
use crate::body::require;
use crate::openapi::ErrorBody;
use crate::{ApiError, ApiResult, AppState};

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/credentials/issue", post(issue_credential))
        .route("/credentials/verify", post(verify_credential))
        .route("/presentations/verify", post(verify_presentation))
}

/// Deepest nesting of a request body (objects and arrays).
pub(crate) const MAX_DEPTH: usize = 32;
/// Most credentials one presentation may hold.
pub(crate) const MAX_CREDENTIALS: usize = 16;
/// `proofPurpose` of a holder's presentation proof.
const AUTHENTICATION: &str = "authentication";
/// The checks `POST /credentials/verify` makes unless `options.checks` names fewer.
pub(crate) const CREDENTIAL_CHECKS: [&str; 5] = ["proof", "issuer", "validFrom", "validUntil", "credentialStatus"];

// Problem types: the VC Data Model 2.0 (7.2), VC Data Integrity (4.7), the Bitstring Status List
// (3.5) and VCALM's own, as those specifications name them.
const PARSING_ERROR: (&str, &str) = ("https://www.w3.org/TR/vc-data-model#PARSING_ERROR", "PARSING_ERROR");
const MALFORMED_VALUE_ERROR: (&str, &str) =
    ("https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR", "MALFORMED_VALUE_ERROR");
const RANGE_ERROR: (&str, &str) = ("https://www.w3.org/TR/vc-data-model#RANGE_ERROR", "RANGE_ERROR");
const CRYPTOGRAPHIC_SECURITY_ERROR: (&str, &str) =
    ("https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR", "CRYPTOGRAPHIC_SECURITY_ERROR");
const PROOF_VERIFICATION_ERROR: (&str, &str) =
    ("https://w3id.org/security#PROOF_VERIFICATION_ERROR", "PROOF_VERIFICATION_ERROR");
const INVALID_CHALLENGE_ERROR: (&str, &str) =
    ("https://w3id.org/security#INVALID_CHALLENGE_ERROR", "INVALID_CHALLENGE_ERROR");
const INVALID_DOMAIN_ERROR: (&str, &str) = ("https://w3id.org/security#INVALID_DOMAIN_ERROR", "INVALID_DOMAIN_ERROR");
const STATUS_RETRIEVAL_ERROR: (&str, &str) =
    ("https://www.w3.org/ns/credentials/status-list#STATUS_RETRIEVAL_ERROR", "STATUS_RETRIEVAL_ERROR");
/// No specification names a problem for a credential whose status bit says revoked: jejak's own.
const REVOKED: (&str, &str) = ("urn:jejak:problem:revoked", "CREDENTIAL_REVOKED");
const UNKNOWN_OPTION_PROVIDED: (&str, &str) =
    ("https://www.w3.org/TR/vcalm#UNKNOWN_OPTION_PROVIDED", "UNKNOWN_OPTION_PROVIDED");

/// One problem found (RFC 9457 problem details, with the node's stable `code`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub(crate) struct Problem {
    /// URL of the problem type, as the VC specifications name them.
    #[serde(rename = "type")]
    kind: String,
    /// The type's short name (`PROOF_VERIFICATION_ERROR`).
    title: String,
    /// What was found.
    detail: String,
    /// jejak's stable code: `malformed_credential`, `malformed_presentation`, `proof_missing`,
    /// `proof_invalid`, `issuer_mismatch`, `untrusted_issuer`, `not_yet_valid`, `expired`,
    /// `revoked`, `status_unavailable`, `holder_mismatch`, `challenge_mismatch`,
    /// `domain_mismatch`, `unsupported_credential`, `presentation_unsigned`.
    code: String,
}

fn problem(t: (&str, &str), code: &str, detail: impl Into<String>) -> Problem {
    Problem { kind: t.0.to_owned(), title: t.1.to_owned(), detail: detail.into(), code: code.to_owned() }
}

/// The outcome of verifying one credential.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CredentialResult {
    /// True when no error was found.
    verified: bool,
    /// The checks made, in order (`proof`, `issuer`, `validFrom`, `validUntil`,
    /// `credentialStatus`).
    #[schema(value_type = Vec<String>)]
    checks: Vec<&'static str>,
    /// Problems that do not make the credential fail.
    warnings: Vec<Problem>,
    /// Problems that do (none when `verified`).
    errors: Vec<Problem>,
    /// The credential's issuer, when it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<String>,
    /// The credential as verified (`options.returnCredential`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    credential: Option<Value>,
    /// `errors` then `warnings` (`options.returnProblemDetails`).
    #[serde(skip_serializing_if = "Option::is_none")]
    problem_details: Option<Vec<Problem>>,
    /// Per-member results, each `{"verified", "input"}` (`options.returnResults`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    results: Option<Value>,
}

/// The outcome of verifying a presentation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PresentationResult {
    /// True when the presentation and every credential it holds verified.
    verified: bool,
    /// The checks made on the presentation itself (`proof`, `holder`, `challenge`, `domain`).
    #[schema(value_type = Vec<String>)]
    checks: Vec<&'static str>,
    /// Problems of the presentation that do not make it fail.
    warnings: Vec<Problem>,
    /// Problems of the presentation itself that do; a credential's are in its result.
    errors: Vec<Problem>,
    /// The presentation's holder, when it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    holder: Option<String>,
    /// One result per credential held, in order.
    credential_results: Vec<CredentialResult>,
    /// The presentation as verified (`options.returnPresentation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    verifiable_presentation: Option<Value>,
}

/// A VC-API request error: RFC 9457 problem details around the node's error.
pub(crate) struct VcError(ApiError);

impl From<ApiError> for VcError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl IntoResponse for VcError {
    fn into_response(self) -> Response {
        self.respond(|p| p)
    }
}

impl VcError {
    /// The problem details, in the answer `wrap` makes of them.
    fn respond<T: Serialize>(self, wrap: impl FnOnce(ProblemError) -> T) -> Response {
        let e = self.0;
        let (kind, title) = match e.code {
            "malformed_json" => PARSING_ERROR,
            "vc_request_invalid" | "vc_document_too_complex" | "credential_not_issuable" => MALFORMED_VALUE_ERROR,
            "unknown_option" => UNKNOWN_OPTION_PROVIDED,
            code => ("about:blank", code),
        };
        let body = wrap(ProblemError {
            kind: kind.to_owned(),
            title: title.to_owned(),
            detail: e.message.clone(),
            status: e.status.as_u16(),
            error: ErrorMember { code: e.code.to_owned(), message: e.message, details: e.details },
        });
        let mut resp = (e.status, Json(body)).into_response();
        if let Some(secs) = e.retry_after {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

pub(crate) type VcResult<T> = Result<T, VcError>;

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("vc_request_invalid", message)
}

fn too_complex(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("vc_document_too_complex", message)
}

/// How deep `v` nests, counting until `limit` is passed.
fn depth_over(v: &Value, limit: usize) -> bool {
    fn go(v: &Value, left: usize) -> bool {
        match v {
            Value::Array(a) => left == 0 || a.iter().any(|x| go(x, left - 1)),
            Value::Object(m) => left == 0 || m.values().any(|x| go(x, left - 1)),
            _ => false,
        }
    }
    go(v, limit)
}

/// The body as a JSON object within the depth bound, with only `allowed` members.
fn read_body(body: &[u8], allowed: &[&str]) -> ApiResult<Map<String, Value>> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        if e.to_string().contains("recursion limit") {
            too_complex(format!("the body nests deeper than {MAX_DEPTH} levels"))
        } else {
            ApiError::bad_request("malformed_json", format!("request body is not valid JSON: {e}"))
        }
    })?;
    if depth_over(&v, MAX_DEPTH) {
        return Err(too_complex(format!("the body nests deeper than {MAX_DEPTH} levels")));
    }
    let Value::Object(m) = v else {
        return Err(invalid("the body must be a JSON object"));
    };
    if let Some(k) = m.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(invalid(format!("unknown member `{k}`; the body takes {}", allowed.join(", "))));
    }
    Ok(m)
}

/// `options` as an object (absent: empty) whose members are all in `allowed`.
fn options_of(options: Option<Value>, allowed: &[&str]) -> ApiResult<Map<String, Value>> {
    let options = match options {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(invalid("options must be an object")),
    };
    if let Some(k) = options.keys().find(|k| !allowed.contains(&k.as_str())) {
        let known = if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") };
        return Err(ApiError::bad_request("unknown_option", format!("unknown option `{k}`; this node knows {known}")));
    }
    Ok(options)
}

fn bool_option(options: &Map<String, Value>, name: &str) -> ApiResult<bool> {
    match options.get(name) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(invalid(format!("options.{name} must be a boolean"))),
    }
}

fn string_option(options: &Map<String, Value>, name: &str) -> ApiResult<Option<String>> {
    match options.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 1024 => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("options.{name} must be a string of 1 to 1024 bytes"))),
    }
}

/// The `id` of an `issuer` or `holder` member: a string, or an object's string `id`.
fn id_of(v: Option<&Value>) -> Option<&str> {
    match v? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id")?.as_str(),
        _ => None,
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match v.get("type") {
        Some(Value::String(s)) => s == t,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(t)),
        _ => false,
    }
}

fn context_ok(v: &Value) -> bool {
    match v.get("@context") {
        Some(Value::Array(a)) => a.first().and_then(Value::as_str) == Some(VC_CONTEXT_V2),
        Some(Value::String(s)) => s == VC_CONTEXT_V2,
        _ => false,
    }
}

/// `doc`'s proof as given: the `input` of its entry in `results`.
fn proof_input(doc: &Value) -> Value {
    doc.get("proof").cloned().unwrap_or(Value::Null)
}

/// What `options` of `POST /credentials/verify` ask for.
#[derive(Debug, Clone)]
struct CredentialOptions {
    checks: Vec<&'static str>,
    return_credential: bool,
    return_problem_details: bool,
    return_results: bool,
}

impl Default for CredentialOptions {
    fn default() -> Self {
        Self {
            checks: CREDENTIAL_CHECKS.to_vec(),
            return_credential: false,
            return_problem_details: false,
            return_results: false,
        }
    }
}

fn credential_options(options: &Map<String, Value>) -> ApiResult<CredentialOptions> {
    let checks = match options.get("checks") {
        None => CREDENTIAL_CHECKS.to_vec(),
        Some(Value::Array(a)) if !a.is_empty() => {
            let mut out = Vec::new();
            for c in a {
                let Some(name) = c.as_str().and_then(|s| CREDENTIAL_CHECKS.iter().find(|k| **k == s)) else {
                    return Err(invalid(format!(
                        "options.checks: each one of {}, got {c}",
                        CREDENTIAL_CHECKS.join(", ")
                    )));
                };
                if !out.contains(name) {
                    out.push(*name);
                }
            }
            // Always in the order they are made.
            CREDENTIAL_CHECKS.iter().copied().filter(|c| out.contains(c)).collect()
        }
        Some(_) => return Err(invalid("options.checks must be a non-empty array of check names")),
    };
    Ok(CredentialOptions {
        checks,
        return_credential: bool_option(options, "returnCredential")?,
        return_problem_details: bool_option(options, "returnProblemDetails")?,
        return_results: bool_option(options, "returnResults")?,
    })
}

/// Verifies one credential at `now`: its shape, then the checks `opts` names.
async fn verify_one(
    st: &AppState,
    vc: &Value,
    opts: &CredentialOptions,
    now: OffsetDateTime,
) -> ApiResult<CredentialResult> {
    let mut r = CredentialResult {
        verified: false,
        checks: Vec::new(),
        warnings: Vec::new(),
        errors: Vec::new(),
        issuer: id_of(vc.get("issuer")).map(str::to_owned),
        credential: opts.return_credential.then(|| vc.clone()),
        problem_details: None,
        results: None,
    };
    let mut results = Map::new();
    let subject_ok = match vc.get("credentialSubject") {
        Some(Value::Object(_)) => true,
        Some(Value::Array(a)) => !a.is_empty() && a.iter().all(Value::is_object),
        _ => false,
    };
    if has_type(vc, "EnvelopedVerifiableCredential") {
        r.errors.push(problem(
            MALFORMED_VALUE_ERROR,
            "unsupported_credential",
            "enveloped credentials (JOSE, COSE, SD-JWT) are not verified here: only eddsa-jcs-2022 Data Integrity proofs",
        ));
    } else if !vc.is_object() || !context_ok(vc) || !has_type(vc, "VerifiableCredential") || !subject_ok {
        r.errors.push(problem(
            MALFORMED_VALUE_ERROR,
            "malformed_credential",
            "not a VC 2.0 credential: needs @context starting with https://www.w3.org/ns/credentials/v2, type \
             VerifiableCredential and a credentialSubject object",
        ));
    } else if r.issuer.is_none() {
        r.errors.push(problem(
            MALFORMED_VALUE_ERROR,
            "malformed_credential",
            "issuer must be a URL or an object with a URL id",
        ));
    }
    if !r.errors.is_empty() {
        return Ok(finish_credential(r, results, opts));
    }
    let issuer = r.issuer.clone().unwrap_or_default();

    // The proof: signature, key and purpose.
    let mut proof_ok = false;
    let mut controller = None;
    if opts.checks.contains(&"proof") {
        r.checks.push("proof");
        match proof::verify(vc) {
            Ok(p) if p.proof_purpose != ASSERTION_METHOD => r.errors.push(problem(
                PROOF_VERIFICATION_ERROR,
                "proof_invalid",
                format!("the proof's purpose is {}, a credential's is assertionMethod", p.proof_purpose),
            )),
            Ok(p) => {
                proof_ok = true;
                controller = Some(controller_of(&p.verification_method).to_owned());
            }
            Err(ProofError::Missing) => r.errors.push(problem(
                PROOF_VERIFICATION_ERROR,
                "proof_missing",
                "the credential has no single proof object",
            )),
            Err(e) => r.errors.push(problem(PROOF_VERIFICATION_ERROR, "proof_invalid", e.to_string())),
        }
        results.insert("proof".into(), json!([{"verified": proof_ok, "input": proof_input(vc)}]));
    }

    // The issuer: the proof's key is the issuer's, and jejak's own type is only this node's.
    if opts.checks.contains(&"issuer") && !opts.checks.contains(&"proof") {
        r.errors.push(problem(
            CRYPTOGRAPHIC_SECURITY_ERROR,
            "issuer_mismatch",
            "the issuer is bound to a key only behind a verified proof: add proof to options.checks",
        ));
    }
    if opts.checks.contains(&"issuer") && proof_ok {
        r.checks.push("issuer");
        if controller.as_deref() != Some(issuer.as_str()) {
            r.errors.push(problem(
                CRYPTOGRAPHIC_SECURITY_ERROR,
                "issuer_mismatch",
                format!(
                    "the proof's key belongs to {}, not to the issuer {issuer}",
                    controller.as_deref().unwrap_or_default()
                ),
            ));
        } else if has_type(vc, REPUTATION_TYPE) && issuer != st.services.issuer.did() {
            r.errors.push(problem(
                CRYPTOGRAPHIC_SECURITY_ERROR,
                "untrusted_issuer",
                format!(
                    "a {REPUTATION_TYPE} issued by {issuer}, not by this node ({}): verify it at the node that issued it",
                    st.services.issuer.did()
                ),
            ));
        }
    }

    for (check, member) in [("validFrom", "validFrom"), ("validUntil", "validUntil")] {
        if !opts.checks.contains(&check) {
            continue;
        }
        r.checks.push(check);
        let Some(input) = vc.get(member) else { continue };
        let ok = match read_datetime(input) {
            None => {
                r.errors.push(problem(
                    MALFORMED_VALUE_ERROR,
                    "malformed_credential",
                    format!("{member} is not an RFC 3339 date-time"),
                ));
                false
            }
            Some(t) if member == "validFrom" && t > now => {
                r.errors.push(problem(RANGE_ERROR, "not_yet_valid", format!("not valid before {}", datetime(t))));
                false
            }
            Some(t) if member == "validUntil" && t <= now => {
                r.errors.push(problem(RANGE_ERROR, "expired", format!("expired at {}", datetime(t))));
                false
            }
            Some(_) => true,
        };
        results.insert(member.into(), json!({"verified": ok, "input": input}));
    }

    // Revocation: looked up only behind a proof that holds, so a forged entry costs nothing.
    if opts.checks.contains(&"credentialStatus") && (proof_ok || vc.get("credentialStatus").is_none()) {
        r.checks.push("credentialStatus");
        if let Some(input) = vc.get("credentialStatus") {
            let ok = match status_entry(vc) {
                None => {
                    r.errors.push(problem(
                        STATUS_RETRIEVAL_ERROR,
                        "status_unavailable",
                        "credentialStatus is not one revocation BitstringStatusListEntry",
                    ));
                    false
                }
                Some(entry) => match st.services.issuer.status_of(&st.store, &entry).await? {
                    StatusAnswer::Active => true,
                    StatusAnswer::Revoked => {
                        r.errors.push(problem(
                            REVOKED,
                            "revoked",
                            format!("revoked ({}#{})", entry.list_url, entry.index),
                        ));
                        false
                    }
                    StatusAnswer::Unknown(why) => {
                        r.errors.push(problem(
                            STATUS_RETRIEVAL_ERROR,
                            "status_unavailable",
                            format!("{why}: this node reads only its own status lists"),
                        ));
                        false
                    }
                },
            };
            results.insert("credentialStatus".into(), json!([{"verified": ok, "input": input}]));
        }
    } else if opts.checks.contains(&"credentialStatus") {
        if opts.checks.contains(&"proof") {
            r.warnings.push(problem(
                STATUS_RETRIEVAL_ERROR,
                "status_unavailable",
                "credentialStatus not looked up: the proof did not verify",
            ));
        } else {
            r.errors.push(problem(
                STATUS_RETRIEVAL_ERROR,
                "status_unavailable",
                "credentialStatus is looked up only behind a verified proof: add proof to options.checks",
            ));
        }
    }
    Ok(finish_credential(r, results, opts))
}

fn finish_credential(
    mut r: CredentialResult,
    results: Map<String, Value>,
    opts: &CredentialOptions,
) -> CredentialResult {
    r.verified = r.errors.is_empty();
    if opts.return_problem_details {
        r.problem_details = Some(r.errors.iter().chain(&r.warnings).cloned().collect());
    }
    if opts.return_results {
        r.results = Some(Value::Object(results));
    }
    r
}

/// The credential and presentation Digital Bazaar's libraries made (`testdata/`), the examples
/// of the document.
fn independent_vector() -> Value {
    serde_json::from_str(include_str!("../../../testdata/vc-jcs-digitalbazaar.json")).unwrap_or(Value::Null)
}

fn issue_example() -> Value {
    json!({"credential": {
        "@context": [VC_CONTEXT_V2],
        "type": ["VerifiableCredential", REPUTATION_TYPE],
        "credentialSubject": {"id": "urn:jejak:worker:12345"},
    }})
}

fn verify_credential_example() -> Value {
    json!({"verifiableCredential": independent_vector()["credential"], "options": {"returnResults": true}})
}

fn verify_presentation_example() -> Value {
    let v = independent_vector();
    json!({"verifiablePresentation": v["presentation"], "options": {"challenge": v["challenge"], "domain": v["domain"]}})
}

/// A credential to issue (VC-API `IssueCredentialRequest`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct IssueCredentialRequest {
    /// A jejak reputation credential template: `@context`
    /// `["https://www.w3.org/ns/credentials/v2"]`, `type` `["VerifiableCredential",
    /// "JejakReputationCredential"]`, `credentialSubject.id` `urn:jejak:worker:<commitment>`,
    /// optionally `issuer` (this node's DID) and `credentialSubject.type`
    /// (`JejakReputationSummary`). The node fills every claim, `id`, validity and status.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub credential: Value,
    /// No option is known: any answers `unknown_option`.
    #[schema(value_type = Option<Object>)]
    pub options: Option<Value>,
}

/// An issued credential (VC-API `IssueCredentialResponse`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IssueCredentialResponse {
    /// The credential with its `eddsa-jcs-2022` proof.
    #[schema(value_type = Object)]
    verifiable_credential: Value,
}

/// A VC-API error: RFC 9457 problem details carrying the node's error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ProblemError {
    /// Problem type URL (`https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR`,
    /// `#PARSING_ERROR`, `https://www.w3.org/TR/vcalm#UNKNOWN_OPTION_PROVIDED`; else
    /// `about:blank`).
    #[serde(rename = "type")]
    kind: String,
    /// Its short name (`about:blank`: the error code).
    title: String,
    /// The message.
    detail: String,
    /// HTTP status.
    status: u16,
    /// The node's error, as in every error answer.
    error: ErrorMember,
}

/// `{"code", "message", "details"?}`: the node's error member.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorMember {
    /// Stable code (`ERROR_CODES`).
    code: String,
    /// What went wrong.
    message: String,
    /// Structured details.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    details: Option<Value>,
}

/// A 400 of `POST /credentials/verify`: a credential that did not verify, or a request error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum CredentialFailure {
    /// The credential's result (`verified: false`) with `error.code` `credential_not_verified`.
    NotVerified(FailedCredential),
    /// A request error.
    Request(ProblemError),
}

/// A 400 of `POST /presentations/verify`: a presentation that did not verify, or a request error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum PresentationFailure {
    /// The presentation's result with `error.code` `presentation_not_verified`.
    NotVerified(FailedPresentation),
    /// A request error.
    Request(ProblemError),
}

/// A credential that did not verify: its result and the node's error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct FailedCredential {
    #[serde(flatten)]
    result: CredentialResult,
    /// `credential_not_verified`.
    error: ErrorMember,
}

/// A presentation that did not verify: its result and the node's error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct FailedPresentation {
    #[serde(flatten)]
    result: PresentationResult,
    /// `presentation_not_verified`.
    error: ErrorMember,
}

fn not_verified(code: &str, what: &str) -> ErrorMember {
    ErrorMember { code: code.to_owned(), message: format!("the {what} did not verify: see errors"), details: None }
}

/// The worker a credential template names, if it is one this node issues; else every reason
/// it is not.
fn issuable(vc: &Value, node_did: &str) -> Result<String, Vec<String>> {
    let mut why = Vec::new();
    let Value::Object(m) = vc else {
        return Err(vec!["credential must be an object".into()]);
    };
    for k in m.keys() {
        if !["@context", "type", "issuer", "credentialSubject"].contains(&k.as_str()) {
            why.push(format!(
                "`{k}`: the node sets the id, validity, status and proof, and every claim of a credential it issues"
            ));
        }
    }
    let context_only_v2 = match m.get("@context") {
        Some(Value::Array(a)) => a.len() == 1 && a[0] == VC_CONTEXT_V2,
        Some(Value::String(s)) => s == VC_CONTEXT_V2,
        _ => false,
    };
    if !context_only_v2 {
        why.push(format!("@context must be [\"{VC_CONTEXT_V2}\"]"));
    }
    let types: Option<Vec<&str>> =
        m.get("type").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect());
    let type_ok = types.as_ref().is_some_and(|t| {
        let n = m.get("type").and_then(Value::as_array).map_or(0, Vec::len);
        n == 2 && t.len() == 2 && t.contains(&"VerifiableCredential") && t.contains(&REPUTATION_TYPE)
    });
    if !type_ok {
        why.push(format!(
            "type must be [\"VerifiableCredential\", \"{REPUTATION_TYPE}\"]: the one credential this node issues"
        ));
    }
    if let Some(i) = m.get("issuer")
        && id_of(Some(i)) != Some(node_did)
    {
        why.push(format!("issuer: this node issues as {node_did} only"));
    }
    let mut worker = None;
    match m.get("credentialSubject") {
        Some(Value::Object(s)) => {
            for k in s.keys() {
                if !["id", "type"].contains(&k.as_str()) {
                    why.push(format!("credentialSubject.{k}: the node fills every claim from its records"));
                }
            }
            if let Some(t) = s.get("type")
                && t.as_str() != Some("JejakReputationSummary")
            {
                why.push("credentialSubject.type must be JejakReputationSummary".into());
            }
            match s.get("id").and_then(Value::as_str).and_then(|id| id.strip_prefix("urn:jejak:worker:")) {
                Some(w) if jejak_core::event::parse_field_element(w).is_ok() => worker = Some(w.to_owned()),
                _ => why.push(
                    "credentialSubject.id must be urn:jejak:worker: followed by the worker's identity commitment (decimal)"
                        .into(),
                ),
            }
        }
        _ => why.push("credentialSubject must be an object with the worker's id".into()),
    }
    match worker {
        Some(w) if why.is_empty() => Ok(w),
        _ => Err(why),
    }
}

/// Issues a jejak reputation credential (W3C VC-API).
#[utoipa::path(post, path = "/credentials/issue", tag = "vc-api", security(("api_key" = [])),
    request_body(content = IssueCredentialRequest, example = issue_example),
    responses(
        (status = 201, description = "Issued", body = IssueCredentialResponse),
        (status = 400, description = "`credential_not_issuable` (details.problems), `unknown_option`, \
            `vc_request_invalid`, `vc_document_too_complex`, `malformed_json`", body = ProblemError),
        (status = 403, description = "`forbidden`: the key's role may not issue", body = ProblemError),
        (status = 404, description = "`worker_not_found`: no published reputation for the worker (or not yours)", body = ProblemError),
        (status = "4XX", description = "Problem details carrying `error` (401, 403, 404); the stack's own answers (413, 429) carry `error` alone", body = ErrorBody)))]
pub(crate) async fn issue_credential(
    State(st): State<AppState>,
    who: Result<Principal, ApiError>,
    body: Bytes,
) -> VcResult<(StatusCode, Json<IssueCredentialResponse>)> {
    let who = who?;
    require(&who, &[Role::Admin, Role::Worker], "issuing credentials")?;
    let m = read_body(&body, &["credential", "options"])?;
    let req: IssueCredentialRequest = serde_json::from_value(Value::Object(m)).map_err(|e| invalid(e.to_string()))?;
    options_of(req.options, &[])?;
    if req.credential.is_null() {
        return Err(invalid("credential is required").into());
    }
    let worker = issuable(&req.credential, st.services.issuer.did()).map_err(|problems| {
        ApiError::bad_request("credential_not_issuable", problems.join("; "))
            .with_details(json!({"problems": problems}))
    })?;
    let commitment = jejak_core::event::parse_field_element(&worker)
        .map_err(|e| ApiError::bad_request("credential_not_issuable", format!("credentialSubject.id: {e}")))?;
    let (_, vc) = crate::routes::credentials::issue_reputation(&st, &who, &worker, commitment).await?;
    Ok((StatusCode::CREATED, Json(IssueCredentialResponse { verifiable_credential: vc })))
}

/// A credential to verify (VC-API `VerifyCredentialRequest`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct VerifyCredentialRequest {
    /// A W3C VC 2.0 credential secured with an `eddsa-jcs-2022` Data Integrity proof by a
    /// `did:key`.
    #[serde(rename = "verifiableCredential", default)]
    #[schema(value_type = Object)]
    pub verifiable_credential: Value,
    /// `checks` (the checks to make, a subset of `proof`, `issuer`, `validFrom`, `validUntil`,
    /// `credentialStatus`; all by default), `returnCredential`, `returnProblemDetails`,
    /// `returnResults` (booleans). Any other option answers `unknown_option`.
    #[schema(value_type = Option<Object>)]
    pub options: Option<Value>,
}

/// Verifies a credential (W3C VC-API).
#[utoipa::path(post, path = "/credentials/verify", operation_id = "vc_verify_credential", tag = "vc-api", security(("api_key" = [])),
    request_body(content = VerifyCredentialRequest, example = verify_credential_example),
    responses(
        (status = 200, description = "Verified", body = CredentialResult),
        (status = 400, description = "Not verified: the result with `verified: false`, its `errors`, and \
            `error.code` `credential_not_verified`; or a request error (`vc_request_invalid`, `unknown_option`, \
            `vc_document_too_complex`, `malformed_json`) as problem details", body = CredentialFailure),
        (status = "4XX", description = "Problem details carrying `error` (401, 403, 404); the stack's own answers (413, 429) carry `error` alone", body = ErrorBody)))]
pub(crate) async fn verify_credential(
    State(st): State<AppState>,
    who: Result<Principal, ApiError>,
    body: Bytes,
) -> Response {
    verify_credential_answer(&st, who, &body).await.unwrap_or_else(|e| e.respond(CredentialFailure::Request))
}

async fn verify_credential_answer(st: &AppState, who: Result<Principal, ApiError>, body: &[u8]) -> VcResult<Response> {
    who?;
    let m = read_body(body, &["verifiableCredential", "options"])?;
    let req: VerifyCredentialRequest = serde_json::from_value(Value::Object(m)).map_err(|e| invalid(e.to_string()))?;
    let options = options_of(req.options, &["checks", "returnCredential", "returnProblemDetails", "returnResults"])?;
    let opts = credential_options(&options)?;
    let vc = req.verifiable_credential;
    if !vc.is_object() {
        return Err(invalid("verifiableCredential is required, an object").into());
    }
    let r = verify_one(st, &vc, &opts, OffsetDateTime::now_utc()).await?;
    if r.verified {
        return Ok((StatusCode::OK, Json(r)).into_response());
    }
    let failed = FailedCredential { result: r, error: not_verified("credential_not_verified", "credential") };
    Ok((StatusCode::BAD_REQUEST, Json(CredentialFailure::NotVerified(failed))).into_response())
}

/// A presentation to verify (VC-API `VerifyPresentationRequest`, or
/// `ProoflessVerifyPresentationRequest` with `presentation`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct VerifyPresentationRequest {
    /// A W3C VC 2.0 presentation secured with an `eddsa-jcs-2022` proof of purpose
    /// `authentication` by the holder's `did:key`, holding at most 16 credentials.
    #[serde(rename = "verifiablePresentation")]
    #[schema(value_type = Option<Object>)]
    pub verifiable_presentation: Option<Value>,
    /// An unsigned presentation (instead of `verifiablePresentation`): its credentials are
    /// verified, the holder is not authenticated (a warning says so).
    #[schema(value_type = Option<Object>)]
    pub presentation: Option<Value>,
    /// `challenge` and `domain` (strings: the proof must carry them), `returnPresentation`
    /// (boolean). Any other option answers `unknown_option`.
    #[schema(value_type = Option<Object>)]
    pub options: Option<Value>,
}

/// Verifies a presentation and every credential it holds (W3C VC-API).
#[utoipa::path(post, path = "/presentations/verify", tag = "vc-api", security(("api_key" = [])),
    request_body(content = VerifyPresentationRequest, example = verify_presentation_example),
    responses(
        (status = 200, description = "The presentation and every credential it holds verified", body = PresentationResult),
        (status = 400, description = "Not verified: the result with `verified: false` and \
            `error.code` `presentation_not_verified`; or a request error (`vc_request_invalid`, `unknown_option`, \
            `vc_document_too_complex`, `malformed_json`) as problem details", body = PresentationFailure),
        (status = "4XX", description = "Problem details carrying `error` (401, 403, 404); the stack's own answers (413, 429) carry `error` alone", body = ErrorBody)))]
pub(crate) async fn verify_presentation(
    State(st): State<AppState>,
    who: Result<Principal, ApiError>,
    body: Bytes,
) -> Response {
    verify_presentation_answer(&st, who, &body).await.unwrap_or_else(|e| e.respond(PresentationFailure::Request))
}

async fn verify_presentation_answer(
    st: &AppState,
    who: Result<Principal, ApiError>,
    body: &[u8],
) -> VcResult<Response> {
    who?;
    let m = read_body(body, &["verifiablePresentation", "presentation", "options"])?;
    let req: VerifyPresentationRequest =
        serde_json::from_value(Value::Object(m)).map_err(|e| invalid(e.to_string()))?;
    let options = options_of(req.options, &["challenge", "domain", "returnPresentation"])?;
    let challenge = string_option(&options, "challenge")?;
    let domain = string_option(&options, "domain")?;
    let return_presentation = bool_option(&options, "returnPresentation")?;
    let (vp, signed) = match (req.verifiable_presentation, req.presentation) {
        (Some(vp), None) => (vp, true),
        (None, Some(p)) => (p, false),
        _ => return Err(invalid("give one of verifiablePresentation and presentation").into()),
    };
    if !vp.is_object() {
        return Err(invalid("the presentation must be an object").into());
    }
    let held: Vec<Value> = match vp.get("verifiableCredential") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        Some(_) => return Err(invalid("verifiableCredential must be an object or an array of objects").into()),
    };
    if held.len() > MAX_CREDENTIALS {
        return Err(too_complex(format!("a presentation holds at most {MAX_CREDENTIALS} credentials")).into());
    }

    let mut r = PresentationResult {
        verified: false,
        checks: Vec::new(),
        warnings: Vec::new(),
        errors: Vec::new(),
        holder: id_of(vp.get("holder")).map(str::to_owned),
        credential_results: Vec::new(),
        verifiable_presentation: return_presentation.then(|| vp.clone()),
    };
    if !context_ok(&vp) || !has_type(&vp, "VerifiablePresentation") {
        r.errors.push(problem(
            MALFORMED_VALUE_ERROR,
            "malformed_presentation",
            "not a VC 2.0 presentation: needs @context starting with https://www.w3.org/ns/credentials/v2 and type \
             VerifiablePresentation",
        ));
    } else if vp.get("holder").is_some() && r.holder.is_none() {
        r.errors.push(problem(
            MALFORMED_VALUE_ERROR,
            "malformed_presentation",
            "holder must be a URL or an object with a URL id",
        ));
    } else if signed {
        presentation_proof(&vp, &mut r, challenge.as_deref(), domain.as_deref());
    } else {
        r.warnings.push(problem(
            PROOF_VERIFICATION_ERROR,
            "presentation_unsigned",
            "an unsigned presentation: its credentials are verified, its holder is not authenticated",
        ));
        for (name, given, t) in
            [("challenge", &challenge, INVALID_CHALLENGE_ERROR), ("domain", &domain, INVALID_DOMAIN_ERROR)]
        {
            if given.is_some() {
                let code = if name == "challenge" { "challenge_mismatch" } else { "domain_mismatch" };
                r.errors.push(problem(
                    t,
                    code,
                    format!("options.{name} given, but an unsigned presentation carries none"),
                ));
            }
        }
    }
    let now = OffsetDateTime::now_utc();
    let opts = CredentialOptions::default();
    for vc in &held {
        r.credential_results.push(verify_one(st, vc, &opts, now).await?);
    }
    r.verified = r.errors.is_empty() && r.credential_results.iter().all(|c| c.verified);
    if r.verified {
        return Ok((StatusCode::OK, Json(r)).into_response());
    }
    let failed = FailedPresentation { result: r, error: not_verified("presentation_not_verified", "presentation") };
    Ok((StatusCode::BAD_REQUEST, Json(PresentationFailure::NotVerified(failed))).into_response())
}

/// The presentation's own proof: signature, purpose, holder, challenge, domain.
fn presentation_proof(vp: &Value, r: &mut PresentationResult, challenge: Option<&str>, domain: Option<&str>) {
    r.checks.push("proof");
    let verified = match proof::verify(vp) {
        Ok(p) if p.proof_purpose != AUTHENTICATION => {
            r.errors.push(problem(
                PROOF_VERIFICATION_ERROR,
                "proof_invalid",
                format!("the proof's purpose is {}, a presentation's is authentication", p.proof_purpose),
            ));
            None
        }
        Ok(p) => Some(p),
        Err(ProofError::Missing) => {
            r.errors.push(problem(
                PROOF_VERIFICATION_ERROR,
                "proof_missing",
                "the presentation has no single proof object",
            ));
            None
        }
        Err(e) => {
            r.errors.push(problem(PROOF_VERIFICATION_ERROR, "proof_invalid", e.to_string()));
            None
        }
    };
    let Some(p) = verified else { return };
    if let Some(holder) = r.holder.clone() {
        r.checks.push("holder");
        let controller = controller_of(&p.verification_method);
        if controller != holder {
            r.errors.push(problem(
                CRYPTOGRAPHIC_SECURITY_ERROR,
                "holder_mismatch",
                format!("the proof's key belongs to {controller}, not to the holder {holder}"),
            ));
        }
    }
    let proof = vp.get("proof");
    if let Some(c) = challenge {
        r.checks.push("challenge");
        if proof.and_then(|p| p.get("challenge")).and_then(Value::as_str) != Some(c) {
            r.errors.push(problem(
                INVALID_CHALLENGE_ERROR,
                "challenge_mismatch",
                "the proof's challenge is not options.challenge",
            ));
        }
    }
    if let Some(d) = domain {
        r.checks.push("domain");
        let ok = match proof.and_then(|p| p.get("domain")) {
            Some(Value::String(s)) => s == d,
            Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(d)),
            _ => false,
        };
        if !ok {
            r.errors.push(problem(INVALID_DOMAIN_ERROR, "domain_mismatch", "the proof's domain is not options.domain"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_bounded_without_recursing_past_the_bound() {
        let mut v = json!(1);
        for _ in 0..MAX_DEPTH {
            v = json!([v]);
        }
        assert!(!depth_over(&v, MAX_DEPTH));
        assert!(depth_over(&json!([v]), MAX_DEPTH));
    }

    #[test]
    fn only_jejak_reputation_templates_are_issuable() {
        let did = "did:key:z6MkNode";
        let ok = json!({
            "@context": [VC_CONTEXT_V2],
            "type": ["VerifiableCredential", REPUTATION_TYPE],
            "issuer": {"id": did},
            "credentialSubject": {"id": "urn:jejak:worker:12345"},
        });
        assert_eq!(issuable(&ok, did).unwrap(), "12345");
        for (path, value) in [
            ("/credentialSubject/reputationScore", json!(1000)),
            ("/name", json!("Anything")),
            ("/validUntil", json!("2999-01-01T00:00:00Z")),
            ("/issuer", json!("did:key:z6MkOther")),
            ("/type", json!(["VerifiableCredential", "UniversityDegreeCredential"])),
            ("/type", json!(["VerifiableCredential", REPUTATION_TYPE, "Other"])),
            ("/@context", json!([VC_CONTEXT_V2, "https://example.org/ctx"])),
            ("/credentialSubject/id", json!("did:example:someone")),
            ("/credentialSubject/id", json!("urn:jejak:worker:0x12")),
            ("/credentialSubject/type", json!("Other")),
            ("/proof", json!({})),
        ] {
            let mut vc = ok.clone();
            let (parent, key) = path.rsplit_once('/').unwrap();
            let target = if parent.is_empty() { &mut vc } else { vc.pointer_mut(parent).unwrap() };
            target[key] = value;
            assert!(issuable(&vc, did).is_err(), "{path} accepted");
        }
    }
}
