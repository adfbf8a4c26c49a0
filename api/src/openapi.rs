//! The OpenAPI 3.1 document of the API, generated from the handlers' annotations and the schema
//! types below. `GET /openapi.json` serves it; `jejak-openapi --write` (`make gen`) commits it as
//! `api/openapi.json` and `jejak-openapi --check` (`make check-gen`) fails when the committed
//! file differs from what the code generates.
//!
//! The schema types mirror JSON the handlers build; the schemathesis run in CI checks every
//! answer against them.

use std::sync::OnceLock;

use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::ERROR_CODES;
use crate::routes::{
    attestations, credentials, custody, events, evidence, explorer, gateway, keys, market, status, tasks, vcapi,
    verify, webhooks, workers,
};

/// A gig as posted. Amounts are integers in minor units of `currency`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GigSpecSchema {
    /// 1 to 200 characters.
    pub title: String,
    /// Up to 10,000 characters.
    pub description: Option<String>,
    /// a-z, 0-9 and -, 1 to 64 characters.
    pub category: String,
    /// `{"kind": "remote"}` or `{"kind": "on_site", "lat", "lon", "radius_m"}` (physical work:
    /// delivered with an evidence task).
    #[schema(value_type = Object)]
    pub location: serde_json::Value,
    /// `{"kind": "fixed", "budget_minor"}` or `{"kind": "hourly", "rate_minor", "max_hours"}`.
    #[schema(value_type = Object)]
    pub pay: serde_json::Value,
    /// ISO 4217 code with minor units (`IDR`).
    pub currency: String,
    /// Unix seconds: proposals close (ahead, by at most two years).
    pub deadline: i64,
    /// `{"min_score", "min_gigs", "min_tier"}`, each optional.
    #[schema(value_type = Option<Object>)]
    pub requirement: Option<serde_json::Value>,
}

/// One transition of a gig, by `type`: `propose` (`terms`, `message`, `expires_at`), `counter`
/// (`proposal`, `terms`, `expires_at`), `withdraw`, `decline`, `accept` (`proposal`), `take`,
/// `cancel_gig`, `fund`, `release`, `refund` (`milestone`; the operator), `deliver` (`milestone`,
/// `note`, `evidence_task`), `request_changes` (`milestone`, `reason`), `accept_delivery`
/// (`milestone`), `dispute` (`milestone`, `reason`), `resolve` (`milestone`, `outcome`:
/// `worker_won`, `worker_lost`, `settled`; an arbiter or the operator), `cancel_contract`
/// (`reason`), `review` (`rating` 1 to 5, `comment`). `terms` is `{"milestones": [{"title",
/// "amount_minor"}]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarketActionSchema {
    /// The action (its fields beside it).
    #[serde(rename = "type")]
    pub kind: String,
}

/// A gig as the caller may see it: the posting and status for everyone; proposals, contract,
/// accounts and reviews as the caller's part allows.
#[derive(Debug, Serialize, ToSchema)]
pub struct GigView {
    /// `gig_...`.
    pub id: String,
    /// `open`, `contracted`, `completed`, `cancelled`, `expired`.
    pub status: String,
    /// Title.
    pub title: String,
    /// Entries applied so far.
    pub version: i64,
}

/// A page of open gigs.
#[derive(Debug, Serialize, ToSchema)]
pub struct GigPage {
    /// The gigs, newest first.
    pub data: Vec<GigView>,
    /// The next page's cursor; null on the last.
    pub next_cursor: Option<String>,
}

/// A gig's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct GigHistory {
    /// The gig.
    pub gig: String,
    /// `{seq, at, actor: {role, id}, action}` in order.
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<serde_json::Value>,
}

/// The error answer: `{"error": {"code", "message", "details"?}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorInner,
}

/// An error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorInner {
    /// Stable machine code (see the table in the description).
    pub code: String,
    /// Human explanation.
    pub message: String,
    /// Structured details (per-item errors, refused file, checks...).
    #[schema(value_type = Object)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

/// One check of a verification.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckSchema {
    /// Stable name of the check.
    pub check: String,
    /// What came out.
    pub outcome: OutcomeSchema,
    /// Why.
    pub detail: String,
}

/// Outcome of a check.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeSchema {
    /// Checked and satisfied.
    Pass,
    /// Checked and not satisfied.
    Fail,
    /// Could not be checked (the detail says why).
    NotChecked,
}

/// `{"status": "ok"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// Readiness with each dependency's check.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: String,
    /// `database`, `chain`, `indexer`, each with `ok`.
    #[schema(value_type = Object)]
    pub checks: serde_json::Value,
    /// The verifying key of `POST /v1/verify/proof` (`sha256`, `origin`: `insecure-dev-setup` or
    /// `ceremony-zkey`, `zkey_sha256`, `insecure`); null when none is configured.
    #[schema(value_type = Object)]
    pub verifying_key: Option<serde_json::Value>,
    /// This instance: its id and roles.
    pub instance: InstanceInfo,
    /// Every singleton job's lease: who holds it and since when.
    pub leases: Vec<LeaseInfo>,
}

/// One instance among those sharing the database.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstanceInfo {
    /// The instance's id (`[node] instance_id`, else host, process and a random suffix).
    pub id: String,
    /// The roles it runs: `api`, `indexer`, `anchor`, `epoch`, `evidence`, `webhooks`.
    pub roles: Vec<String>,
}

/// A singleton job's lease.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeaseInfo {
    /// The job: `indexer`, `anchor`, `evidence`, `epoch`, `webhooks`, `market`.
    pub job: String,
    /// The instance holding it.
    pub holder: String,
    /// Whether that is this instance.
    pub held_here: bool,
    /// The fencing token of the current term (raised at every change of holder).
    pub token: i64,
    /// Milliseconds since the holder took it.
    pub age_ms: i64,
    /// Milliseconds since it was last renewed.
    pub renewed_ms_ago: i64,
    /// Whether it ran out (its holder stopped renewing; a standby takes it over).
    pub expired: bool,
}

/// Indexer status.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndexStatus {
    /// Chain id.
    pub chain_id: u64,
    /// Head block.
    pub head: u64,
    /// Finalized block.
    pub finalized: u64,
    /// Last block recorded.
    pub cursor: u64,
    /// Head minus cursor.
    pub lag: u64,
    /// Reorganisations handled.
    pub reorgs: u64,
    /// Events recorded since the node started.
    pub events_indexed_since_start: u64,
    /// Current `eth_getLogs` range.
    pub log_range: u64,
    /// Alarms.
    #[schema(value_type = Object)]
    pub alarms: serde_json::Value,
    /// Last error, if any.
    pub last_error: Option<String>,
    /// IPFS documents by status.
    #[schema(value_type = Object)]
    pub ipfs: serde_json::Value,
    /// This instance: its id and roles.
    pub instance: InstanceInfo,
    /// Every singleton job's lease: who holds it and since when.
    pub leases: Vec<LeaseInfo>,
}

/// A work event.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkEventSchema {
    /// `task_completed` (`contribution_created`), `task_cancelled`, `review`, `vouch_submitted`,
    /// `por_evidence`, `dispute_resolved`, `account_linked`, `savings_contribution`,
    /// `loan_repaid`, `loan_defaulted`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The worker's account on the platform.
    pub worker: String,
    /// RFC 3339 time.
    pub occurred_at: String,
    /// The platform's own id of the event (idempotency per event).
    pub event_id: Option<String>,
    /// Type-specific fields. `account_linked`: `identity_commitment` and `link_token`, the
    /// worker's signed consent (from `jejak zk link-token` or `POST /v1/workers/{id}/link-tokens`).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// Up to 1,000 events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsRequest {
    /// The platform (admin keys only).
    pub platform_id: Option<i64>,
    /// The events.
    pub events: Vec<WorkEventSchema>,
}

/// One accepted event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedEvent {
    /// `att_...`.
    pub id: String,
    /// The platform's event id.
    pub event_id: Option<String>,
    /// The leaf, hex.
    pub leaf: String,
    /// Already stored by an earlier request.
    pub duplicate: bool,
}

/// Events stored (durably: the transaction committed before this answer).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsAccepted {
    /// Platform.
    pub platform_id: i64,
    /// One entry per event, in request order.
    pub accepted: Vec<AcceptedEvent>,
}

/// An attestation receipt.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttestationReceipt {
    /// `att_...`.
    pub id: String,
    /// Platform.
    pub platform_id: i64,
    /// Event type.
    pub event_type: String,
    /// The event as committed (RFC 8785).
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
    /// SHA-256 of the event, hex.
    pub event_digest: String,
    /// Salt, hex.
    pub salt: String,
    /// Leaf, hex.
    pub leaf: String,
    /// Unix seconds.
    pub received_at: i64,
    /// `accepted`, `batched`, `anchored`, `final`, `revoked`.
    pub status: String,
    /// Leaf index in the batch.
    pub leaf_index: Option<i64>,
    /// Audit path.
    pub inclusion_proof: Option<Vec<String>>,
    /// The batch.
    #[schema(value_type = Option<Object>)]
    pub batch: Option<serde_json::Value>,
    /// The on-chain anchor.
    #[schema(value_type = Option<Object>)]
    pub anchor: Option<serde_json::Value>,
    /// The on-chain revocation.
    #[schema(value_type = Option<Object>)]
    pub revocation: Option<serde_json::Value>,
}

/// A worker's reputation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reputation {
    /// Identity commitment.
    pub worker: String,
    /// Latest epoch.
    pub epoch: i64,
    /// Its status.
    pub status: String,
    /// Scoring time.
    pub as_of: i64,
    /// Parameters version.
    pub params_version: i64,
    /// Score, gigs, reasons.
    #[schema(value_type = Object)]
    pub reputation: serde_json::Value,
    /// Credit score, tier, limit, reasons.
    #[schema(value_type = Object)]
    pub credit: serde_json::Value,
    /// Per-platform breakdown (a platform key sees its own entry only).
    #[schema(value_type = Vec<Object>)]
    pub platforms: Vec<serde_json::Value>,
    /// Root, CID, leaf index, transaction.
    #[schema(value_type = Object)]
    pub snapshot: serde_json::Value,
    /// Earlier epochs.
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<serde_json::Value>,
}

/// A witness key.
#[derive(Debug, Serialize, ToSchema)]
pub struct Witness {
    /// Platform.
    pub platform_id: i64,
    /// ed25519 public key, hex.
    pub key: String,
    /// Label.
    pub label: String,
    /// Registration time (RFC 3339).
    pub registered_at: String,
}

/// A witness key to register.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterWitness {
    /// Platform (admin keys only).
    pub platform_id: Option<i64>,
    /// ed25519 public key, 64 hex digits.
    pub key: String,
    /// Label.
    pub label: Option<String>,
}

/// A page of witness keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct WitnessPage {
    /// Platform.
    pub platform_id: i64,
    /// Keys.
    pub data: Vec<Witness>,
    /// Cursor of the next page, null on the last.
    pub next_cursor: Option<String>,
}

/// A task to create.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreateTask {
    /// Platform (admin keys only).
    pub platform_id: Option<i64>,
    /// The platform's own id.
    pub task_id: String,
    /// Task type.
    #[serde(rename = "type")]
    pub task_type: String,
    /// Worker reference.
    pub worker: String,
    /// The worker app's ed25519 key, hex.
    pub worker_key: String,
    /// `{start, end}` RFC 3339.
    #[schema(value_type = Object)]
    pub window: serde_json::Value,
    /// `{lat, lon, radius_m?}`.
    #[schema(value_type = Object)]
    pub location: serde_json::Value,
}

/// A task with its evidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct Task {
    /// `tsk_...`.
    pub id: String,
    /// Platform.
    pub platform_id: i64,
    /// The platform's id.
    pub task_id: String,
    /// Type.
    #[serde(rename = "type")]
    pub task_type: String,
    /// Worker.
    pub worker: String,
    /// Worker key, hex.
    pub worker_key: String,
    /// Window.
    #[schema(value_type = Object)]
    pub window: serde_json::Value,
    /// Location.
    #[schema(value_type = Object)]
    pub location: serde_json::Value,
    /// Capture nonce once issued.
    #[schema(value_type = Object)]
    pub nonce: Option<serde_json::Value>,
    /// Creation time.
    pub created_at: String,
    /// Files.
    #[schema(value_type = Vec<Object>)]
    pub evidence: Vec<serde_json::Value>,
    /// Witness statements.
    #[schema(value_type = Vec<Object>)]
    pub witnesses: Vec<serde_json::Value>,
    /// Latest verdict.
    #[schema(value_type = Object)]
    pub verdict: Option<serde_json::Value>,
}

/// A page of tasks, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskPage {
    /// Tasks as `GET /v1/tasks/{id}` shows them, without `evidence` and `witnesses`.
    pub data: Vec<Task>,
    /// Cursor of the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// A capture nonce.
#[derive(Debug, Serialize, ToSchema)]
pub struct Nonce {
    /// Task.
    pub task: String,
    /// Nonce.
    pub nonce: String,
    /// Issue time.
    pub issued_at: String,
    /// What to embed in captures.
    pub embed: String,
}

/// Witness statements signed after the upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddWitnesses {
    /// `{witness_key, signed_at, signature}` (hex).
    #[schema(value_type = Vec<Object>)]
    pub witnesses: Vec<serde_json::Value>,
}

/// An accepted upload.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadAnswer {
    /// Task.
    pub task: String,
    /// Files.
    #[schema(value_type = Vec<Object>)]
    pub accepted: Vec<serde_json::Value>,
    /// The new verdict.
    #[schema(value_type = Object)]
    pub verdict: serde_json::Value,
}

/// Multipart upload: `file` parts and an optional `witnesses` part.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadForm {
    /// Photos and GPX tracks.
    #[schema(value_type = Vec<String>, format = Binary)]
    pub file: Vec<String>,
    /// JSON list of witness statements.
    pub witnesses: Option<String>,
}

/// An evidence receipt.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceReceiptAnswer {
    /// `logged`, `anchored`, `final`.
    pub status: String,
    /// The receipt (verifiable offline).
    #[schema(value_type = Object)]
    pub receipt: serde_json::Value,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: i64,
    /// Extracted metadata.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// The anchored checkpoint.
    #[schema(value_type = Object)]
    pub checkpoint: Option<serde_json::Value>,
}

/// A consistency proof.
#[derive(Debug, Serialize, ToSchema)]
pub struct Consistency {
    /// Older size.
    pub from: u64,
    /// Newer size.
    pub to: u64,
    /// Root at `from`, hex.
    pub from_root: String,
    /// Root at `to`, hex.
    pub to_root: String,
    /// The proof, hex.
    pub proof: Vec<String>,
}

/// The evidence log's heads.
#[derive(Debug, Serialize, ToSchema)]
pub struct Checkpoints {
    /// Chain.
    pub chain_id: u64,
    /// The evidence log contract.
    pub contract: String,
    /// Log size.
    pub log_size: u64,
    /// A page of the anchored heads, newest first (`index`, `size`, `root`, `cid`,
    /// `transaction_hash`, `block_number`, `finalized`).
    #[schema(value_type = Vec<Object>)]
    pub data: Vec<serde_json::Value>,
    /// Cursor of the next (older) page; null on the last.
    pub next_cursor: Option<String>,
    /// Heads not anchored yet (at most 100).
    #[schema(value_type = Vec<Object>)]
    pub pending: Vec<serde_json::Value>,
}

/// `?from=&to=`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// Older size.
    pub from: u64,
    /// Newer size.
    pub to: u64,
}

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("jk_<id>_<secret>")
                    .description(Some("An API key made with `jejak keys create` or `POST /v1/keys`."))
                    .build(),
            ),
        );
        let mut table = String::from(
            "Platforms push work events, verify proofs, credentials and receipts, and subscribe to \
             webhooks; workers read their reputation and get credentials (and proofs, when the node holds \
             their identity); auditors read history.\n\n\
             Every error answers `{\"error\": {\"code\", \"message\", \"details\"?}}` with one of these \
             stable codes:\n\n| code | status | meaning |\n| --- | --- | --- |\n",
        );
        for (code, status, meaning) in ERROR_CODES {
            table.push_str(&format!("| `{code}` | {status} | {meaning} |\n"));
        }
        table.push_str(
            "\nLists are paginated by cursor: `?limit=` (1 to 100) and `?cursor=` (the previous page's \
             `next_cursor`); answers are `{\"data\": [...], \"next_cursor\"}`. Each API key is rate \
             limited (429 with `Retry-After`).",
        );
        api.info.description = Some(table);
    }
}

/// The document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "jejak API", license(name = "Apache-2.0")),
    modifiers(&Security),
    paths(
        status::healthz, status::readyz, status::metrics, status::openapi_json, status::index_status,
        events::post_events, webhooks::post_signed_events,
        attestations::list_attestations, attestations::get_attestation,
        workers::get_reputation, workers::get_bundle,
        custody::create_identity, custody::prove, custody::link_token,
        gateway::get_block, gateway::head_block,
        tasks::register_witness, tasks::list_witnesses, tasks::create_task, tasks::list_tasks, tasks::get_task, tasks::issue_nonce,
        tasks::add_witnesses, evidence::upload, evidence::receipt, evidence::consistency, evidence::checkpoints,
        keys::create_key, keys::list_keys, keys::revoke_key,
        verify::proof_consumed, verify::verify_proof, verify::verify_credential, verify::verify_receipt,
        credentials::issue, credentials::list, credentials::revoke, credentials::status_list, credentials::issuer,
        vcapi::issue_credential, vcapi::verify_credential, vcapi::verify_presentation,
        webhooks::rotate_secret, webhooks::subscribe, webhooks::list_subscriptions, webhooks::unsubscribe,
        webhooks::list_deliveries, webhooks::replay,
        market::post_gig, market::search_gigs, market::get_gig, market::get_history, market::act,
        explorer::summary, explorer::platforms, explorer::platform, explorer::batches, explorer::batch,
        explorer::epochs, explorer::epoch, explorer::evidence, explorer::search, explorer::session,
    ),
    tags(
        (name = "events", description = "Work events from platforms"),
        (name = "attestations", description = "Receipts and history"),
        (name = "reputation", description = "Scores"),
        (name = "identities", description = "Node-held identities and proofs the node makes for them"),
        (name = "evidence", description = "Proof of reality"),
        (name = "verify", description = "Verification of proofs, credentials and receipts"),
        (name = "credentials", description = "W3C Verifiable Credentials issued by the node"),
        (name = "vc-api", description = "The W3C VC-API issuer and verifier endpoints (eddsa-jcs-2022, did:key)"),
        (name = "webhooks", description = "Incoming secrets and outgoing subscriptions"),
        (name = "market", description = "The marketplace: gigs, proposals, contracts, delivery, disputes, reviews"),
        (name = "keys", description = "API keys (admin)"),
        (name = "explorer", description = "Public chain facts for the explorer: platforms, batches, epochs, evidence anchors, search"),
        (name = "ipfs", description = "IPFS trustless gateway"),
        (name = "operations", description = "Health, readiness, metrics, the document itself"),
    )
)]
pub struct ApiDoc;

/// The document as pretty JSON with a final newline (the committed form).
pub fn document_json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut s = ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serialises");
        s.push('\n');
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every error code the code base answers with is documented.
    #[test]
    fn every_error_code_used_is_listed() {
        let src_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut used = std::collections::BTreeSet::new();
        let mut stack = vec![std::path::PathBuf::from(src_dir)];
        while let Some(p) = stack.pop() {
            for e in std::fs::read_dir(&p).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for pat in ["bad_request(\"", "unprocessable(\"", "forbidden(\"", "not_found(\"", "conflict(\"", ", \""]
                {
                    for (i, _) in text.match_indices(pat) {
                        let rest = &text[i + pat.len()..];
                        let code: String = rest.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                        if pat != ", \"" && !code.is_empty() {
                            used.insert(code);
                        }
                    }
                }
            }
        }
        let listed: std::collections::BTreeSet<String> = ERROR_CODES.iter().map(|c| c.0.to_owned()).collect();
        let missing: Vec<_> = used.difference(&listed).collect();
        assert!(missing.is_empty(), "error codes used but not in ERROR_CODES: {missing:?}");
    }

    #[test]
    fn document_is_openapi_3_1_with_every_route() {
        let doc: serde_json::Value = serde_json::from_str(document_json()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        for p in [
            "/v1/events",
            "/v1/identities",
            "/v1/workers/{id}/proofs",
            "/v1/verify/proof",
            "/v1/verify/credential",
            "/v1/verify/receipt",
            "/readyz",
            "/metrics",
        ] {
            assert!(doc["paths"].get(p).is_some(), "{p} missing");
        }
    }

    /// Generated clients name a method after each operation id (the TypeScript SDK's types do
    /// not compile with two of one name): every operation has one, unique in the document.
    #[test]
    fn operation_ids_are_unique() {
        let doc: serde_json::Value = serde_json::from_str(document_json()).unwrap();
        let mut seen = std::collections::BTreeMap::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let Some(id) = op.get("operationId") else { continue };
                let id = id.as_str().unwrap().to_owned();
                if let Some(first) = seen.insert(id.clone(), format!("{method} {path}")) {
                    panic!("operationId {id} names both {first} and {method} {path}");
                }
            }
        }
        assert!(seen.len() > 40, "{} operations", seen.len());
    }
}
