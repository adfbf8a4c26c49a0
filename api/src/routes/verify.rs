//! Verification for platforms: `POST /v1/verify/proof` (a zero-knowledge reputation proof),
//! `POST /v1/verify/credential` (a W3C credential this node issued), `POST /v1/verify/receipt`
//! (an attestation or evidence receipt). Every answer lists each check made with its outcome
//! (`pass`, `fail`, `not_checked`) and why; `valid` is true only when nothing failed and nothing
//! that matters went unchecked.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use jejak_credential::{Check, Outcome};
use jejak_prover::bundle::{ProofBundle, StatementJson};
use jejak_store::now_secs;
use jejak_store::proofs::{self, NullifierRow};
use jejak_zk_circuits::{context_from_label, fr_to_be_bytes, fr_to_decimal, platform_consumer, scope};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::sync::Arc;
use time::OffsetDateTime;

use crate::auth::{Principal, Role};
use crate::body::{parse, require};
use crate::openapi::ErrorBody;
use crate::{ApiError, ApiResult, AppState};

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/verify/proof", post(verify_proof))
        .route("/v1/verify/credential", post(verify_credential))
        .route("/v1/verify/receipt", post(verify_receipt))
        .route("/v1/proofs/consumed/{nullifier}", axum::routing::get(proof_consumed))
}

fn check(name: &'static str, outcome: Outcome, detail: impl Into<String>) -> Check {
    // Check's constructor is private to the credential crate; the fields are public.
    Check { check: name, outcome, detail: detail.into() }
}

fn pass_fail(name: &'static str, ok: bool, pass: impl Into<String>, fail: impl Into<String>) -> Check {
    if ok { check(name, Outcome::Pass, pass) } else { check(name, Outcome::Fail, fail) }
}

/// The bounds a verifier requires.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Requirement {
    /// The proven minimum score must be at least this.
    #[serde(default)]
    min_score: u64,
    /// The proven minimum of completed gigs must be at least this.
    #[serde(default)]
    min_gigs: u64,
    /// The proven minimum credit tier must be at least this.
    #[serde(default)]
    min_tier: u64,
}

/// A proof to verify.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyProofRequest {
    /// The proof bundle (`jejak zk prove` output, format `jejak-zk-proof/v1`).
    #[schema(value_type = Object)]
    proof: Value,
    /// The verifier's context label; the proof must be bound to
    /// `scope(chain_id, JejakReputationRoots, platform_consumer(platform), keccak256(context))`, the
    /// platform being the caller's (an admin key's: none), so two platforms that use one label
    /// get different scopes and nullifiers, and only the platform a proof was made for can use it.
    context: String,
    /// The challenge the verifier gave the worker (decimal field element), if any.
    #[serde(default)]
    challenge: Option<String>,
    /// Bounds the proof must at least establish.
    #[serde(default)]
    require: Option<Requirement>,
    /// Record the nullifier (default true); false checks without consuming, like the contract's
    /// view function.
    #[serde(default = "yes")]
    consume: bool,
}

fn yes() -> bool {
    true
}

/// The answer to a verification.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct VerifyProofAnswer {
    /// True when every check passed.
    valid: bool,
    /// Every check, in order.
    #[schema(value_type = Vec<crate::openapi::CheckSchema>)]
    checks: Vec<Check>,
    /// The statement the proof makes.
    #[schema(value_type = Object)]
    statement: Value,
    /// Whether this request recorded the nullifier.
    nullifier_consumed: bool,
    /// The key the proof was checked with: `sha256`, `origin` (`insecure-dev-setup` or
    /// `ceremony-zkey`), `zkey_sha256`, `insecure`.
    #[schema(value_type = Object)]
    verifying_key: Value,
}

/// Verifies a zero-knowledge reputation proof.
#[utoipa::path(post, path = "/v1/verify/proof", tag = "verify", security(("api_key" = [])),
    request_body = VerifyProofRequest,
    responses(
        (status = 200, description = "Checked; `valid` says the outcome", body = VerifyProofAnswer),
        (status = 409, description = "`nullifier_used`: a replay", body = ErrorBody),
        (status = 503, description = "`proofs_unavailable`: no verifying key configured", body = ErrorBody),
        (status = "4XX", body = ErrorBody)))]
pub(crate) async fn verify_proof(State(st): State<AppState>, who: Principal, body: Bytes) -> ApiResult<Response> {
    require(&who, &[Role::Admin, Role::Platform], "verifying proofs")?;
    let req: VerifyProofRequest = parse(&body)?;
    let Some(verifier) = st.services.proofs.as_ref() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "proofs_unavailable",
            "this node has no verifying key configured ([proofs] verifying_key)",
        ));
    };
    if req.context.is_empty() || req.context.len() > 256 {
        return Err(ApiError::unprocessable("invalid_request", "context: 1 to 256 bytes"));
    }
    let bundle: ProofBundle = serde_json::from_value(req.proof)
        .map_err(|e| ApiError::unprocessable("invalid_request", format!("proof: not a proof bundle: {e}")))?;
    let (statement, public, proof) =
        bundle.decode().map_err(|e| ApiError::unprocessable("invalid_request", format!("proof: {e}")))?;
    let challenge = req
        .challenge
        .as_deref()
        .map(jejak_zk_circuits::fr_from_decimal)
        .transpose()
        .map_err(|e| ApiError::unprocessable("invalid_request", format!("challenge: {e}")))?;

    let mut checks = vec![check("format", Outcome::Pass, "jejak-zk-proof/v1 bundle, points on the curve")];
    checks.push(pass_fail(
        "verifying_key",
        bundle.verifying_key_sha256 == verifier.key_sha256,
        if verifier.origin.is_insecure() {
            "made for this node's verifying key: an INSECURE development key, anyone can forge proofs for it".to_owned()
        } else {
            format!("made for this node's verifying key, from a ceremony ({})", verifier.origin)
        },
        format!("made for verifying key {}, this node verifies {}", bundle.verifying_key_sha256, verifier.key_sha256),
    ));
    let reputation_roots: [u8; 20] = st.services.settings.reputation_roots.into();
    let platform = match who.role {
        Role::Platform => who.platform_id.and_then(|id| u64::try_from(id).ok()),
        _ => None,
    };
    let consumer = platform_consumer(platform);
    let expected_scope = scope(st.chain_id, reputation_roots, consumer, context_from_label(&req.context));
    let verifier_name = platform.map_or_else(|| "the node operator".to_owned(), |id| format!("platform {id}"));
    let scope_ok = statement.scope == expected_scope;
    checks.push(pass_fail(
        "scope",
        scope_ok,
        format!("bound to context `{}` for {verifier_name}", req.context),
        format!(
            "bound to another scope than context `{}` for {verifier_name} (consumer 0x{}) on chain {}",
            req.context,
            hex::encode(consumer),
            st.chain_id
        ),
    ));

    let chain_id = st.chain_id as i64;
    let scope_bytes = fr_to_be_bytes(&statement.scope);
    let nullifier_bytes = fr_to_be_bytes(&statement.nullifier);
    let (root_state, finalized, consumed_at) = {
        let mut c = st.store.conn().await?;
        let state = proofs::root_state(&mut c, chain_id, statement.epoch as i64).await?;
        let finalized = jejak_store::chain::cursor(&mut c, chain_id).await?.map_or(-1, |cur| cur.finalized_number);
        // Whether a proof bound to someone else's scope was used is that verifier's business.
        let consumed = if scope_ok { proofs::consumed_at(&mut c, &scope_bytes, &nullifier_bytes).await? } else { None };
        (state, finalized, consumed)
    };
    let root_bytes = fr_to_be_bytes(&statement.root);
    let now = now_secs();
    match &root_state {
        Some(r) if r.root == root_bytes => {
            checks.push(check("root_anchored", Outcome::Pass, format!("root of epoch {} on chain", statement.epoch)));
            checks.push(pass_fail(
                "root_finalized",
                r.block_number <= finalized,
                format!("published in block {}, final", r.block_number),
                format!("published in block {}, not final yet (finalized: {finalized})", r.block_number),
            ));
            // `expiresAt` is the contract's uint64, compared as such (the clock is never negative).
            let now = u64::try_from(now).unwrap_or(0);
            checks.push(match r.expires_at {
                None => check("root_window", Outcome::Pass, "the current root"),
                Some(u64::MAX) => check("root_window", Outcome::Pass, "replaced; accepted for ever (saturated window)"),
                Some(t) if now < t => check("root_window", Outcome::Pass, format!("replaced; accepted until {t}")),
                Some(t) => check("root_window", Outcome::Fail, format!("replaced; expired at {t}")),
            });
        }
        Some(_) => {
            checks.push(check(
                "root_anchored",
                Outcome::Fail,
                format!("not the published root of epoch {}", statement.epoch),
            ));
        }
        None => {
            checks.push(check(
                "root_anchored",
                Outcome::Fail,
                format!("no root indexed for epoch {}", statement.epoch),
            ));
        }
    }
    if let Some(r) = &req.require {
        let ok =
            statement.min_score >= r.min_score && statement.min_gigs >= r.min_gigs && statement.min_tier >= r.min_tier;
        checks.push(pass_fail(
            "requirement",
            ok,
            format!(
                "proves score >= {}, gigs >= {}, tier >= {}",
                statement.min_score, statement.min_gigs, statement.min_tier
            ),
            format!(
                "proves score >= {}, gigs >= {}, tier >= {}; required {}, {}, {}",
                statement.min_score, statement.min_gigs, statement.min_tier, r.min_score, r.min_gigs, r.min_tier
            ),
        ));
    }
    if let Some(c) = challenge {
        checks.push(pass_fail(
            "challenge",
            statement.challenge == c,
            "answers the challenge",
            "answers another challenge",
        ));
    }
    let replayed = consumed_at.is_some();
    checks.push(if scope_ok {
        pass_fail(
            "nullifier_unused",
            !replayed,
            "nullifier not used in this scope",
            format!("nullifier already used in this scope at {}", consumed_at.unwrap_or_default()),
        )
    } else {
        check("nullifier_unused", Outcome::NotChecked, "not looked up: the proof is bound to another scope")
    });
    // The pairing is the expensive check: skip it when the answer is already no.
    let cheap_ok = checks.iter().all(|c| c.outcome == Outcome::Pass);
    let proof_ok = if cheap_ok || (replayed && checks.iter().filter(|c| c.outcome == Outcome::Fail).count() == 1) {
        let ok = verifier
            .verify(proof, public)
            .await
            .ok_or_else(|| ApiError::internal("the proof verification thread stopped"))?;
        checks.push(pass_fail(
            "groth16",
            ok,
            "the proof proves the statement",
            "the proof does not prove the statement",
        ));
        ok
    } else {
        checks.push(check("groth16", Outcome::NotChecked, "skipped: an earlier check failed"));
        false
    };
    let statement_json = serde_json::to_value(StatementJson::from_statement(&statement)).map_err(ApiError::internal)?;
    let mut valid = checks.iter().all(|c| c.outcome == Outcome::Pass);
    if replayed && req.consume && proof_ok {
        return Err(ApiError::conflict("nullifier_used", "this proof's nullifier was already used in its scope")
            .with_details(json!({ "checks": checks, "statement": statement_json })));
    }
    let mut consumed = false;
    if valid && req.consume {
        let row = NullifierRow {
            scope: scope_bytes,
            nullifier: nullifier_bytes,
            epoch: statement.epoch as i64,
            root: root_bytes,
            key_id: who.key_id.clone(),
            verified_at: now,
        };
        let writer = st
            .services
            .nullifiers
            .get_or_init(|| async {
                crate::services::nullifiers::NullifierWriter::start(
                    st.store.clone(),
                    st.services.settings.proof_batch_max,
                )
            })
            .await;
        consumed = writer.consume(row).await?;
        if !consumed {
            // Lost a race with a concurrent request carrying the same proof.
            valid = false;
            return Err(ApiError::conflict("nullifier_used", "this proof's nullifier was already used in its scope")
                .with_details(json!({ "valid": valid, "checks": checks, "statement": statement_json })));
        }
        tracing::info!(target: "jejak::api", key = %who.key_id, epoch = statement.epoch, nullifier = %fr_to_decimal(&statement.nullifier), "proof verified, nullifier consumed");
    }
    Ok(Json(VerifyProofAnswer {
        valid,
        checks,
        statement: statement_json,
        nullifier_consumed: consumed,
        verifying_key: verifier.key_json(),
    })
    .into_response())
}

/// A proof consumed on chain, as the indexer recorded `JejakProofVerifier.ProofConsumed`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ConsumedOnChain {
    /// The verifier contract.
    verifier: String,
    /// Who consumed it (the caller of `verifyAndConsume`).
    consumer: String,
    /// The context, `0x` + 64 hex digits.
    context: String,
    /// Epoch of the root.
    epoch: i64,
    /// The root proven against, `0x` + 64 hex digits.
    root: String,
    /// Score proven as a minimum.
    min_score: u64,
    /// Completed gigs proven as a minimum.
    min_gigs: u64,
    /// Credit tier proven as a minimum.
    min_tier: u64,
    /// The challenge answered, decimal.
    challenge: String,
    /// Block of the consuming transaction.
    block_number: i64,
    /// The consuming transaction.
    transaction_hash: String,
    /// Whether that block is final.
    finalized: bool,
}

/// Where a nullifier was consumed on chain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ConsumedAnswer {
    /// The nullifier, decimal.
    nullifier: String,
    /// Its consumptions (at most one per verifier contract), oldest first; empty when none is indexed.
    consumed: Vec<ConsumedOnChain>,
}

/// Whether (and by whom, for what) a proof's nullifier was consumed on chain by a
/// `JejakProofVerifier` the node follows (`[contracts] proof_verifier`).
#[utoipa::path(get, path = "/v1/proofs/consumed/{nullifier}", tag = "verify", security(("api_key" = [])),
    params(("nullifier" = String, Path, description = "The nullifier (decimal field element, as in proof bundles)")),
    responses((status = 200, description = "The consumptions indexed", body = ConsumedAnswer),
        (status = "4XX", body = ErrorBody)))]
pub(crate) async fn proof_consumed(
    State(st): State<AppState>,
    _who: Principal,
    axum::extract::Path(nullifier): axum::extract::Path<String>,
) -> ApiResult<Json<ConsumedAnswer>> {
    let n = jejak_zk_circuits::fr_from_decimal(&nullifier)
        .map_err(|e| ApiError::unprocessable("invalid_request", format!("nullifier: {e}")))?;
    let chain_id = st.chain_id as i64;
    let mut c = st.store.conn().await?;
    let rows = jejak_store::chain::proofs_consumed_by_nullifier(&mut c, chain_id, &fr_to_be_bytes(&n)).await?;
    let finalized = jejak_store::chain::cursor(&mut c, chain_id).await?.map_or(-1, |cur| cur.finalized_number);
    let consumed = rows
        .into_iter()
        .map(|r| ConsumedOnChain {
            verifier: format!("0x{}", hex::encode(r.key.contract)),
            consumer: format!("0x{}", hex::encode(r.proof.consumer)),
            context: format!("0x{}", hex::encode(r.proof.context)),
            epoch: r.proof.epoch,
            root: format!("0x{}", hex::encode(r.proof.root)),
            min_score: r.proof.min_score,
            min_gigs: r.proof.min_gigs,
            min_tier: r.proof.min_tier,
            challenge: jejak_zk_circuits::fr_from_be_bytes(&r.proof.challenge)
                .map_or_else(|_| format!("0x{}", hex::encode(r.proof.challenge)), |f| fr_to_decimal(&f)),
            block_number: r.key.block_number,
            transaction_hash: format!("0x{}", hex::encode(r.key.tx_hash)),
            finalized: r.key.block_number <= finalized,
        })
        .collect();
    Ok(Json(ConsumedAnswer { nullifier: fr_to_decimal(&n), consumed }))
}

/// A credential to verify.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyCredentialRequest {
    /// The credential (W3C VC 2.0 JSON with its `proof`).
    #[schema(value_type = Object)]
    credential: Value,
}

/// The answer to a credential verification.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct VerifyCredentialAnswer {
    /// True when every check passed.
    valid: bool,
    /// Every check, in order.
    #[schema(value_type = Vec<crate::openapi::CheckSchema>)]
    checks: Vec<Check>,
    /// The issuer named by the credential, if any.
    issuer: Option<String>,
}

/// Verifies a credential this node issued: proof, issuer, validity period, revocation.
#[utoipa::path(post, path = "/v1/verify/credential", tag = "verify", security(("api_key" = [])),
    request_body = VerifyCredentialRequest,
    responses((status = 200, description = "Checked; `valid` says the outcome", body = VerifyCredentialAnswer),
        (status = "4XX", body = ErrorBody)))]
pub(crate) async fn verify_credential(
    State(st): State<AppState>,
    _who: Principal,
    body: Bytes,
) -> ApiResult<Json<VerifyCredentialAnswer>> {
    let issuer = &st.services.issuer;
    let key: [u8; 32] = Sha256::digest(&body).into();
    let examined = match issuer.examined(&key) {
        Some(e) => e,
        None => {
            let req: VerifyCredentialRequest = parse(&body)?;
            let vc = req.credential;
            let e = Arc::new(crate::services::credentials::Examined {
                checks: jejak_credential::credential::examine(&vc, Some(issuer.did())),
                issuer: vc.get("issuer").and_then(Value::as_str).map(str::to_owned),
            });
            issuer.remember(key, e.clone());
            e
        }
    };
    let answer = match examined.checks.status_entry() {
        Some(entry) => Some(issuer.status_of(&st.store, entry).await?),
        None => None,
    };
    let v = examined.checks.conclude(OffsetDateTime::now_utc(), |_| {
        answer.unwrap_or_else(|| jejak_credential::StatusAnswer::Unknown("no status entry".into()))
    });
    Ok(Json(VerifyCredentialAnswer { valid: v.valid, checks: v.checks, issuer: examined.issuer.clone() }))
}

/// A receipt to verify.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyReceiptRequest {
    /// An attestation receipt as `GET /v1/attestations/{id}` returns it, or an evidence receipt as
    /// `GET /v1/evidence/{sha256}/receipt` returns it (or its `receipt` member).
    #[schema(value_type = Object)]
    receipt: Value,
}

/// The answer to a receipt verification.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct VerifyReceiptAnswer {
    /// `attestation` or `evidence`.
    kind: String,
    /// True when every check passed.
    valid: bool,
    /// Every check, in order.
    #[schema(value_type = Vec<crate::openapi::CheckSchema>)]
    checks: Vec<Check>,
}

/// Verifies an attestation or evidence receipt: its hashes, its inclusion proof, and its anchor
/// against the chain as indexed (anchored, final, not revoked).
#[utoipa::path(post, path = "/v1/verify/receipt", tag = "verify", security(("api_key" = [])),
    request_body = VerifyReceiptRequest,
    responses((status = 200, description = "Checked; `valid` says the outcome", body = VerifyReceiptAnswer),
        (status = "4XX", body = ErrorBody)))]
pub(crate) async fn verify_receipt(
    State(st): State<AppState>,
    _who: Principal,
    body: Bytes,
) -> ApiResult<Json<VerifyReceiptAnswer>> {
    let req: VerifyReceiptRequest = parse(&body)?;
    let r = req.receipt;
    let (kind, checks) = if r.get("event").is_some() && r.get("salt").is_some() {
        ("attestation", attestation_checks(&st, &r).await?)
    } else {
        let inner = r.get("receipt").cloned().unwrap_or(r);
        let receipt: jejak_evidence::EvidenceReceipt = serde_json::from_value(inner).map_err(|e| {
            ApiError::unprocessable(
                "invalid_request",
                format!("receipt: neither an attestation nor an evidence receipt: {e}"),
            )
        })?;
        ("evidence", evidence_checks(&st, &receipt).await?)
    };
    let valid = checks.iter().all(|c| c.outcome == Outcome::Pass);
    Ok(Json(VerifyReceiptAnswer { kind: kind.into(), valid, checks }))
}

fn hex32(v: Option<&Value>) -> Option<[u8; 32]> {
    let s = v?.as_str()?;
    let s = s.strip_prefix("0x").unwrap_or(s);
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

async fn attestation_checks(st: &AppState, r: &Value) -> ApiResult<Vec<Check>> {
    let invalid = |m: &str| ApiError::unprocessable("invalid_request", format!("receipt: {m}"));
    let salt = hex32(r.get("salt")).ok_or_else(|| invalid("salt: 64 hex digits"))?;
    let leaf = hex32(r.get("leaf")).ok_or_else(|| invalid("leaf: 64 hex digits"))?;
    let platform_id = r.get("platform_id").and_then(Value::as_i64).ok_or_else(|| invalid("platform_id: an integer"))?;
    let canonical = jejak_core::jcs::to_vec(&r["event"]).map_err(|e| invalid(&e.to_string()))?;
    let digest = jejak_core::attestation::event_digest(&canonical);
    let mut checks = Vec::new();
    let claimed_digest = hex32(r.get("event_digest"));
    checks.push(pass_fail(
        "event_digest",
        claimed_digest.is_none_or(|d| d == digest),
        "SHA-256 of the RFC 8785 event",
        "event_digest is not the SHA-256 of the RFC 8785 event",
    ));
    let computed_leaf = jejak_core::attestation::leaf_hash(&jejak_core::attestation::Salt(salt), &digest);
    checks.push(pass_fail(
        "leaf",
        computed_leaf == leaf,
        "leaf = H(0x00 || salt || digest)",
        "leaf does not commit to the salt and event",
    ));
    let (Some(batch), Some(index), Some(path)) = (
        r.get("batch"),
        r.get("leaf_index").and_then(Value::as_u64),
        r.get("inclusion_proof").and_then(Value::as_array),
    ) else {
        checks.push(check("inclusion", Outcome::NotChecked, "not batched yet: no inclusion proof"));
        return Ok(checks);
    };
    let root = hex32(batch.get("root")).ok_or_else(|| invalid("batch.root: 64 hex digits"))?;
    let count = batch.get("count").and_then(Value::as_u64).ok_or_else(|| invalid("batch.count: an integer"))?;
    let path: Option<Vec<[u8; 32]>> = path.iter().map(|p| hex32(Some(p))).collect();
    let path = path.ok_or_else(|| invalid("inclusion_proof: hashes of 64 hex digits"))?;
    let included = jejak_core::merkle::verify_inclusion(index, count, &computed_leaf, &path, &root);
    checks.push(pass_fail(
        "inclusion",
        included,
        format!("leaf {index} of {count} under the batch root"),
        "the inclusion proof does not lead to the batch root",
    ));
    let chain_id = st.chain_id as i64;
    let mut c = st.store.conn().await?;
    match jejak_store::chain::batch_by_root(&mut c, chain_id, platform_id, &root).await? {
        None => checks.push(check("anchored", Outcome::Fail, "no anchoring of this root by this platform is indexed")),
        Some(a) => {
            let claimed_tx = r.pointer("/anchor/transaction_hash").and_then(|v| hex32(Some(v)));
            checks.push(pass_fail(
                "anchored",
                claimed_tx.is_none_or(|t| t == a.key.tx_hash),
                format!("anchored as batch {} in block {}", a.batch_id, a.key.block_number),
                "the receipt names another anchoring transaction than the chain",
            ));
            let finalized = jejak_store::chain::cursor(&mut c, chain_id).await?.map_or(-1, |cur| cur.finalized_number);
            checks.push(pass_fail(
                "finalized",
                a.key.block_number <= finalized,
                "the anchoring block is final",
                "the anchoring block is not final yet",
            ));
            let revoked = jejak_store::chain::revocation(&mut c, chain_id, a.batch_id, &leaf).await?;
            checks.push(match revoked {
                None => check("not_revoked", Outcome::Pass, "the leaf was not revoked"),
                Some(code) => check("not_revoked", Outcome::Fail, format!("revoked on chain, reason {code}")),
            });
        }
    }
    Ok(checks)
}

async fn evidence_checks(st: &AppState, r: &jejak_evidence::EvidenceReceipt) -> ApiResult<Vec<Check>> {
    let mut checks = Vec::new();
    let inclusion = jejak_evidence::verify_receipt_digest(&r.file_sha256, r);
    checks.push(match inclusion {
        Ok(()) => {
            check("inclusion", Outcome::Pass, format!("leaf {} of {} under the log root", r.leaf_index, r.tree_size))
        }
        Err(code) => check("inclusion", Outcome::Fail, format!("{code:?}")),
    });
    let Some(anchor) = &r.anchor else {
        checks.push(check("anchored", Outcome::NotChecked, "not anchored yet"));
        return Ok(checks);
    };
    let chain_id = st.chain_id as i64;
    let mut c = st.store.conn().await?;
    let indexed = jejak_store::evidence::anchor_at_size(&mut c, chain_id, &anchor.contract, r.tree_size as i64).await?;
    let ours = anchor.chain_id == st.chain_id;
    match indexed {
        Some(a) if ours && a.root == r.root && a.tx_hash == anchor.tx_hash => {
            checks.push(check(
                "anchored",
                Outcome::Pass,
                format!("root at size {} anchored in block {}", a.size, a.block_number),
            ));
            let finalized = jejak_store::chain::cursor(&mut c, chain_id).await?.map_or(-1, |cur| cur.finalized_number);
            checks.push(pass_fail(
                "finalized",
                a.block_number <= finalized,
                "the anchoring block is final",
                "the anchoring block is not final yet",
            ));
        }
        Some(_) => {
            checks.push(check("anchored", Outcome::Fail, "the chain anchors another root or transaction at this size"))
        }
        None if !ours => checks.push(check(
            "anchored",
            Outcome::NotChecked,
            format!("receipt is for chain {}, this node follows {}", anchor.chain_id, st.chain_id),
        )),
        None => checks.push(check("anchored", Outcome::Fail, "no anchoring of this size is indexed")),
    }
    Ok(checks)
}
