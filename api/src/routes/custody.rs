//! Node-held (custodial) identities, for workers who have no device or wallet of their own:
//!
//! - `POST /v1/identities` (admins, platforms): makes an identity whose secret the node keeps,
//!   sealed ([`crate::services::identities`]); the answer names the commitment, which the platform then uses
//!   as the worker id in its events.
//! - `POST /v1/workers/{id}/proofs` (the worker's own key, or an admin): the node proves for the
//!   worker, against their leaf in the latest published epoch, bound to
//!   `scope(chain_id, JejakReputationRoots, platform_consumer(platform_id), keccak256(context))`,
//!   exactly what `POST /v1/verify/proof` checks when that platform verifies it.
//!   Anyone else gets the answer a missing worker gets.
//! - `POST /v1/workers/{id}/link-tokens` (the worker's own key only): the node signs, with the
//!   worker's link key, a link token that lets one platform link one account to the identity
//!   ([`crate::services::links`]); the worker hands it to the platform. Without it no platform
//!   can link the identity, so the node holding the secret does not let the operator's
//!   platforms link it on their own.
//!
//! Workers who hold their own secret prove with `jejak zk prove`; for them the node answers
//! `identity_not_held`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use jejak_prover::bundle::{ProofBundle, StatementJson};
use jejak_store::scores::{self, EpochRow, WorkerScoreRow};
use jejak_store::{identities as db, now_secs};
use jejak_zk_circuits::{
    Fr, PoseidonTree, Requirement, WorkerRecord, context_from_label, fr_from_be_bytes, fr_from_decimal, fr_to_be_bytes,
    fr_to_decimal, platform_consumer, scope,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::{Principal, Role};
use crate::body::{parse, require};
use crate::openapi::ErrorBody;
use crate::routes::tasks::rfc3339;
use crate::services::identities::{IdentitySecret, SealingKey};
use crate::services::links;
use crate::services::proving::{ProvingService, QueueError};
use crate::{ApiError, ApiResult, AppState};

pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/identities", post(create_identity))
        .route("/v1/workers/{id}/proofs", post(prove))
        .route("/v1/workers/{id}/link-tokens", post(link_token))
}

const MAX_LABEL: usize = 128;
const MAX_CONTEXT: usize = 256;

/// A node-held identity to make.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateIdentity {
    /// Free text for operators (up to 128 bytes), kept with the identity.
    #[serde(default)]
    label: Option<String>,
}

/// A node-held identity.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CreatedIdentity {
    /// The identity commitment (decimal): the worker id to use in events, keys and proofs.
    worker: String,
    /// `node`: the node holds the secret and proves for the worker.
    #[schema(example = "node")]
    custody: String,
    /// Creation time (RFC 3339).
    created_at: String,
}

fn identities_unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "identities_unavailable",
        "this node keeps no identities: it has no sealing key",
    )
}

/// Makes a node-held identity: a random identity secret, kept sealed by the node.
#[utoipa::path(post, path = "/v1/identities", tag = "identities", security(("api_key" = [])),
    request_body = CreateIdentity,
    responses(
        (status = 201, description = "Made; the node holds the secret", body = CreatedIdentity),
        (status = "4XX", body = ErrorBody)))]
pub(crate) async fn create_identity(
    State(st): State<AppState>,
    who: Principal,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<CreatedIdentity>)> {
    require(&who, &[Role::Admin, Role::Platform], "making node-held identities")?;
    let req: CreateIdentity =
        if body.iter().all(u8::is_ascii_whitespace) { CreateIdentity::default() } else { parse(&body)? };
    let label = req.label.unwrap_or_default();
    if label.len() > MAX_LABEL {
        return Err(ApiError::unprocessable("invalid_request", format!("label: at most {MAX_LABEL} bytes")));
    }
    let sealing = st.services.sealing_key.as_ref().ok_or_else(identities_unavailable)?;
    let created_by = match (who.role, who.platform_id) {
        (Role::Platform, Some(p)) => format!("platform:{p}"),
        _ => format!("{}:{}", who.role.as_str(), who.key_id),
    };
    let secret = IdentitySecret::generate();
    let commitment = secret.commitment();
    let commitment_bytes = fr_to_be_bytes(&commitment);
    let now = now_secs();
    let row = db::CustodialIdentityRow {
        commitment: commitment_bytes,
        sealed: sealing.seal(&commitment_bytes, &secret),
        created_by,
        label,
        created_at: now,
    };
    let mut c = st.store.conn().await?;
    db::insert(&mut c, &row).await.map_err(|e| {
        if e.is_unique_violation() {
            // Two random 254-bit secrets with one commitment: never, unless the generator is broken.
            ApiError::internal(format!("a new identity's commitment is already held: {e}"))
        } else {
            e.into()
        }
    })?;
    let worker = fr_to_decimal(&commitment);
    tracing::info!(target: "jejak::api", by = %row.created_by, key = %who.key_id, %worker, "node-held identity made");
    let created_at = rfc3339(now).as_str().unwrap_or_default().to_owned();
    Ok((StatusCode::CREATED, Json(CreatedIdentity { worker, custody: "node".into(), created_at })))
}

/// A proof to make for a node-held identity.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProveRequest {
    /// The verifier's context label (1 to 256 bytes); the proof is bound to
    /// `scope(chain_id, JejakReputationRoots, platform_consumer(platform_id), keccak256(context))`.
    context: String,
    /// The registry id of the platform that will verify the proof through `POST /v1/verify/proof`
    /// (only that platform's keys can); absent: the node operator's admin keys.
    #[serde(default)]
    platform_id: Option<u64>,
    /// The verifier's challenge (decimal field element); default 0.
    #[serde(default)]
    challenge: Option<String>,
    /// The score the proof establishes as a minimum.
    min_score: u64,
    /// The completed gigs the proof establishes as a minimum.
    min_gigs: u64,
    /// The credit tier (E = 1 ... A = 5) the proof establishes as a minimum.
    min_tier: u64,
}

/// A proof made by the node.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ProofAnswer {
    /// The proof bundle, as `jejak zk prove` writes it (format `jejak-zk-proof/v1`); give it to
    /// the verifier (`POST /v1/verify/proof`).
    #[schema(value_type = Object)]
    proof: ProofBundle,
    /// What the proof states.
    #[schema(value_type = Object)]
    statement: StatementJson,
    /// The epoch proven against.
    epoch: i64,
}

/// Makes a zero-knowledge reputation proof for a worker whose identity the node holds.
#[utoipa::path(post, path = "/v1/workers/{id}/proofs", tag = "identities", security(("api_key" = [])),
    params(("id" = String, Path, description = "Identity commitment (decimal)")),
    request_body = ProveRequest,
    responses(
        (status = 200, description = "The proof; it verifies through `POST /v1/verify/proof`", body = ProofAnswer),
        (status = 404, description = "`worker_not_found`: no leaf in a published epoch (or not yours)", body = ErrorBody),
        (status = 409, description = "`identity_not_held`: the worker holds their own secret (`jejak zk prove`)", body = ErrorBody),
        (status = 422, description = "`requirement_not_met`: the leaf does not meet a bound (`details` says which)", body = ErrorBody),
        (status = 503, description = "`proving_unavailable` (no proving key) or `prover_busy` (with `Retry-After`)", body = ErrorBody),
        (status = "4XX", body = ErrorBody)))]
pub(crate) async fn prove(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<ProofAnswer>> {
    let commitment = commitment_of(&id)?;
    let not_found = || ApiError::not_found("worker_not_found", format!("no published reputation for worker `{id}`"));
    let allowed = match who.role {
        Role::Admin => true,
        Role::Worker => who.worker_id.as_deref() == Some(id.as_str()),
        Role::Platform | Role::Auditor => false,
    };
    if !allowed {
        return Err(not_found());
    }
    let Some(prover) = st.services.prover.as_ref() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "proving_unavailable",
            "this node has no proving key configured ([proofs] proving_key)",
        ));
    };
    let req: ProveRequest = parse(&body)?;
    if req.context.is_empty() || req.context.len() > MAX_CONTEXT {
        return Err(ApiError::unprocessable("invalid_request", format!("context: 1 to {MAX_CONTEXT} bytes")));
    }
    let challenge = match req.challenge.as_deref() {
        Some(c) => fr_from_decimal(c).map_err(|e| {
            ApiError::unprocessable("invalid_request", format!("challenge: a decimal field element: {e}"))
        })?,
        None => Fr::from(0u64),
    };

    let chain_id = st.chain_id as i64;
    let (epoch, row, held) = {
        let mut c = st.store.conn().await?;
        let Some(epoch) = scores::latest_published(&mut c, chain_id).await? else {
            return Err(not_found());
        };
        let Some(row) = scores::worker_score(&mut c, chain_id, epoch.epoch, &commitment).await? else {
            return Err(not_found());
        };
        let held = db::get(&mut c, &commitment).await?;
        (epoch, row, held)
    };
    let Some(held) = held else {
        return Err(ApiError::conflict(
            "identity_not_held",
            "this node does not hold the worker's identity secret; the worker proves with `jejak zk prove`",
        ));
    };
    if epoch.depth != prover.depth as i64 {
        tracing::error!(target: "jejak::api", epoch = epoch.epoch, epoch_depth = epoch.depth, key_depth = prover.depth,
            "the proving key's tree depth is not the published epoch's; configure a proving key for this depth");
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "proving_key_mismatch",
            format!(
                "epoch {} has a tree of depth {}, this node's proving key proves depth {}",
                epoch.epoch, epoch.depth, prover.depth
            ),
        ));
    }
    let tier = jejak_scoring::Tier::from_letter(&row.tier)
        .map(jejak_scoring::Tier::leaf_value)
        .ok_or_else(|| ApiError::internal(format!("worker row of epoch {} has tier `{}`", row.epoch, row.tier)))?;
    let (score, gigs) = (u64::try_from(row.reputation).unwrap_or(0), u64::try_from(row.gigs).unwrap_or(0));
    let unmet: Vec<serde_json::Value> =
        [("min_score", req.min_score, score), ("min_gigs", req.min_gigs, gigs), ("min_tier", req.min_tier, tier)]
            .into_iter()
            .filter(|(_, required, value)| required > value)
            .map(|(bound, required, value)| json!({"bound": bound, "required": required, "value": value}))
            .collect();
    if !unmet.is_empty() {
        let said: Vec<String> = unmet
            .iter()
            .map(|u| {
                format!(
                    "{} {} is above the worker's {}",
                    u["bound"].as_str().unwrap_or_default(),
                    u["required"],
                    u["value"]
                )
            })
            .collect();
        return Err(ApiError::unprocessable(
            "requirement_not_met",
            format!("the worker's leaf in epoch {} does not meet the requirement: {}", epoch.epoch, said.join("; ")),
        )
        .with_details(json!({ "epoch": epoch.epoch, "unmet": unmet })));
    }
    let sealing = st.services.sealing_key.as_ref().ok_or_else(identities_unavailable)?;
    let secret = open(sealing, &held, &id)?;

    let tree = leaf_tree(&st, prover, &epoch).await?;
    let leaf = fr_from_be_bytes(&row.leaf).map_err(|e| ApiError::internal(format!("stored leaf: {e}")))?;
    if tree.leaf(row.leaf_index as u64) != Some(leaf) {
        return Err(ApiError::internal(format!(
            "the leaf of worker {id} is not at its index in epoch {}",
            epoch.epoch
        )));
    }
    let path = tree.path(row.leaf_index as u64).map_err(ApiError::internal)?;
    let record = record(&row, secret, score, gigs, tier)?;
    if record.leaf() != leaf {
        return Err(ApiError::internal(format!(
            "the held secret and stored row of worker {id} do not give its leaf in epoch {}",
            epoch.epoch
        )));
    }
    let reputation_roots: [u8; 20] = st.services.settings.reputation_roots.into();
    let requirement = Requirement {
        min_score: req.min_score,
        min_gigs: req.min_gigs,
        min_tier: req.min_tier,
        scope: scope(
            st.chain_id,
            reputation_roots,
            platform_consumer(req.platform_id),
            context_from_label(&req.context),
        ),
        challenge,
    };
    let pending = prover.submit(record, path, requirement).map_err(|e| match e {
        QueueError::Busy => {
            let mut e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "prover_busy",
                format!("{} proofs are already waiting; retry later", prover.queue),
            );
            e.retry_after = Some(prover.retry_after_secs());
            e
        }
        QueueError::Stopped => ApiError::internal("the proving thread stopped"),
    })?;
    let (statement, proof) = pending
        .await
        .map_err(|_| ApiError::internal("the proving thread stopped"))?
        .map_err(|e| ApiError::internal(format!("proving for worker {id}: {e}")))?;
    let bundle =
        ProofBundle::new(prover.depth, prover.key_sha256.clone(), &statement, &proof).map_err(ApiError::internal)?;
    tracing::info!(target: "jejak::api", key = %who.key_id, worker = %id, epoch = epoch.epoch,
        nullifier = %fr_to_decimal(&statement.nullifier), "proof made for a node-held identity");
    Ok(Json(ProofAnswer { statement: bundle.statement.clone(), proof: bundle, epoch: epoch.epoch }))
}

/// A link token to issue for a node-held identity.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LinkTokenRequest {
    /// The platform allowed to link.
    platform_id: u64,
    /// The worker's account on that platform (the `worker` of its `account_linked` event).
    account: String,
    /// Seconds the token stays valid (default 86,400, at most 2,592,000).
    #[serde(default)]
    lifetime_secs: Option<u64>,
}

/// A link token for a platform.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LinkTokenAnswer {
    /// The token: the platform sends it as `data.link_token` of its `account_linked` event.
    #[schema(value_type = Object)]
    link_token: jejak_core::event::LinkToken,
}

/// Issues a link token for a worker whose identity the node holds: the worker's consent to one
/// platform linking one account.
#[utoipa::path(post, path = "/v1/workers/{id}/link-tokens", tag = "identities", security(("api_key" = [])),
    params(("id" = String, Path, description = "Identity commitment (decimal)")),
    request_body = LinkTokenRequest,
    responses(
        (status = 201, description = "The token; hand it to the platform", body = LinkTokenAnswer),
        (status = 404, description = "`worker_not_found`: not the worker's own key", body = ErrorBody),
        (status = 409, description = "`identity_not_held`: the worker holds their own secret (`jejak zk link-token`)", body = ErrorBody),
        (status = "4XX", body = ErrorBody)))]
pub(crate) async fn link_token(
    State(st): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<LinkTokenAnswer>)> {
    let commitment = commitment_of(&id)?;
    // Consent is the worker's alone: not even an admin key issues one.
    if who.role != Role::Worker || who.worker_id.as_deref() != Some(id.as_str()) {
        return Err(ApiError::not_found("worker_not_found", format!("no worker `{id}` for this key")));
    }
    let req: LinkTokenRequest = parse(&body)?;
    let lifetime = req.lifetime_secs.unwrap_or(links::DEFAULT_LIFETIME_SECS);
    if lifetime == 0 || lifetime > links::MAX_LIFETIME_SECS {
        return Err(ApiError::unprocessable(
            "invalid_request",
            format!("lifetime_secs: 1 to {}", links::MAX_LIFETIME_SECS),
        ));
    }
    if req.platform_id == 0 || req.platform_id > jejak_core::event::MAX_TOKEN_INTEGER {
        return Err(ApiError::unprocessable("invalid_request", "platform_id: a registered platform's id"));
    }
    if req.account.is_empty() || req.account.len() > jejak_core::event::MAX_ID_LEN {
        return Err(ApiError::unprocessable(
            "invalid_request",
            format!("account: 1 to {} bytes", jejak_core::event::MAX_ID_LEN),
        ));
    }
    let held = {
        let mut c = st.store.conn().await?;
        db::get(&mut c, &commitment).await?
    };
    let Some(held) = held else {
        return Err(ApiError::conflict(
            "identity_not_held",
            "this node does not hold the worker's identity secret; the worker signs with `jejak zk link-token`",
        ));
    };
    let sealing = st.services.sealing_key.as_ref().ok_or_else(identities_unavailable)?;
    let secret = open(sealing, &held, &id)?;
    let now = u64::try_from(now_secs()).map_err(ApiError::internal)?;
    let token = links::issue(&secret.expose(), st.chain_id, req.platform_id, &req.account, now, lifetime)
        .map_err(|e| ApiError::unprocessable("invalid_request", e.to_string()))?;
    tracing::info!(target: "jejak::api", key = %who.key_id, worker = %id, platform = req.platform_id,
        expires_at = token.expires_at, "link token issued for a node-held identity");
    Ok((StatusCode::CREATED, Json(LinkTokenAnswer { link_token: token })))
}

/// Opens the worker's sealed secret; a failure is the operator's to fix (wrong sealing key,
/// altered row) and is logged, never shown in detail to the caller.
fn open(sealing: &SealingKey, held: &db::CustodialIdentityRow, id: &str) -> ApiResult<IdentitySecret> {
    sealing.open(&held.commitment, &held.sealed).map_err(|e| {
        tracing::error!(target: "jejak::api", worker = %id, error = %e, "a node-held identity secret does not open");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "identity_unreadable",
            "this node cannot open the worker's sealed identity secret; the operator has been told",
        )
    })
}

fn record(row: &WorkerScoreRow, secret: IdentitySecret, score: u64, gigs: u64, tier: u64) -> ApiResult<WorkerRecord> {
    Ok(WorkerRecord {
        secret: secret.expose(),
        score,
        gigs,
        tier,
        epoch: u64::try_from(row.epoch).map_err(ApiError::internal)?,
        salt: fr_from_be_bytes(&row.salt).map_err(|e| ApiError::internal(format!("stored salt: {e}")))?,
    })
}

/// The Poseidon tree of `epoch` from its stored leaves, checked against its root (cached).
async fn leaf_tree(st: &AppState, prover: &ProvingService, epoch: &EpochRow) -> ApiResult<Arc<PoseidonTree>> {
    let key = (epoch.chain_id, epoch.epoch);
    prover
        .tree(key, move || async move {
            let leaves = {
                let mut c = st.store.conn().await?;
                scores::leaves(&mut c, epoch.chain_id, epoch.epoch).await?
            };
            let leaves: Vec<Fr> = leaves
                .iter()
                .map(fr_from_be_bytes)
                .collect::<Result<_, _>>()
                .map_err(|e| ApiError::internal(format!("stored leaf of epoch {}: {e}", epoch.epoch)))?;
            let depth = epoch.depth as usize;
            let tree = tokio::task::spawn_blocking(move || PoseidonTree::from_leaves(depth, leaves))
                .await
                .map_err(ApiError::internal)?
                .map_err(ApiError::internal)?;
            if fr_to_be_bytes(&tree.root()) != epoch.root {
                return Err(ApiError::internal(format!(
                    "the stored leaves of epoch {} do not give its root",
                    epoch.epoch
                )));
            }
            Ok(tree)
        })
        .await
}

/// The worker id of a path: an identity commitment (decimal), as its 32 bytes.
fn commitment_of(id: &str) -> ApiResult<[u8; 32]> {
    let c = jejak_core::event::parse_field_element(id).map_err(|e| {
        ApiError::unprocessable("invalid_request", format!("worker id must be an identity commitment: {e}"))
    })?;
    Ok(c.to_be_bytes::<32>())
}
