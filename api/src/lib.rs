//! The jejak HTTP API (axum). The only crate that knows HTTP and JSON wire formats.
//!
//! - [`router`] builds the routes over an [`AppState`]; [`serve`] runs them on a listener until
//!   a shutdown signal. Tests call `router(state).oneshot(request)` or bind `127.0.0.1:0`.
//! - Errors answer in one format, `{"error": {"code", "message", "details"?}}`, with stable
//!   codes ([`ApiError`]).
//! - Callers authenticate with API keys carrying a [`auth::Role`] (cached, [`auth::KeyCache`]),
//!   each key under a rate limit ([`limits`]); bare errors of the stack are rewritten into the
//!   JSON format; CORS is configurable.
//! - The OpenAPI 3.1 document is generated from the code ([`openapi`]), served at
//!   `/openapi.json` and committed as `api/openapi.json`.
//! - [`services`]: what runs behind the handlers and knows nothing of HTTP: batched Groth16
//!   verification, the nullifier writer, proving for node-held identities behind a bounded queue,
//!   the sealing of their secrets, the credential issuer, the evidence blob store and evaluation,
//!   signed webhooks in and out with a durable delivery queue. [`metrics`]: Prometheus metrics.
//!
//! Routes: `POST /v1/events` (platform work events, idempotent), `GET /v1/attestations/{id}`
//! (receipt with inclusion proof and anchor), `GET /v1/index/status`, `GET /ipfs/{cid}` (IPFS
//! trustless gateway for the blocks this node holds), `GET /healthz`; proof of reality
//! ([`services::evidence`]): `POST /v1/witnesses`, `POST /v1/tasks`, `GET /v1/tasks/{id}`,
//! `POST /v1/tasks/{id}/nonce`, `POST /v1/tasks/{id}/evidence` (streaming multipart),
//! `POST /v1/tasks/{id}/witnesses`, `GET /v1/evidence/{sha256}/receipt`,
//! `GET /v1/evidence/consistency`, `GET /v1/evidence/checkpoints`; reputation:
//! `GET /v1/workers/{id}/reputation` (score, credit, tier, limit, reasons, per-platform breakdown,
//! history per epoch); node-held identities: `POST /v1/identities` (a new identity whose secret
//! the node keeps, sealed), `POST /v1/workers/{id}/proofs` (the node proves for one of them).
//! Verification: `POST /v1/verify/proof`, `POST /v1/verify/credential`,
//! `POST /v1/verify/receipt`; credentials: `POST /v1/credentials`, `GET /v1/credentials`,
//! `POST /v1/credentials/{id}/revoke`, `GET /v1/credentials/status/{list}`,
//! `GET /v1/credentials/issuer`; the W3C VC-API: `POST /credentials/issue`,
//! `POST /credentials/verify`, `POST /presentations/verify`; keys: `POST|GET /v1/keys`, `POST /v1/keys/{id}/revoke`;
//! webhooks: `POST /v1/webhooks/events` (signed), `POST /v1/platforms/{id}/webhook-secret`,
//! `POST|GET /v1/webhooks/subscriptions`, `DELETE /v1/webhooks/subscriptions/{id}`,
//! `GET /v1/webhooks/deliveries`, `POST /v1/webhooks/deliveries/{id}/replay`; history:
//! `GET /v1/attestations`; marketplace ([`services::market`]): `POST|GET /v1/market/gigs`,
//! `GET /v1/market/gigs/{id}`, `GET /v1/market/gigs/{id}/history`, `POST /v1/market/gigs/{id}/actions`; operations: `GET /readyz`, `GET /metrics`, `GET /openapi.json`.

pub mod auth;
mod body;
pub mod cache;
mod error;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod pagination;
mod routes;
pub mod services;
#[cfg(test)]
mod tests;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use alloy_primitives::Address;
use axum::Router;
use axum::routing::{get, post};
use jejak_indexer::IndexerStatus;
use jejak_ipfs::Blockstore;
use jejak_store::Store;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use error::{ApiError, ApiResult, ERROR_CODES};
pub use services::evidence::{BlobStore, EvidenceSettings};
use services::{credentials, identities, nullifiers, proofs, proving, secrets, webhooks};

/// Limits the API enforces.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Most events per `POST /v1/events`.
    pub max_events_per_request: usize,
    /// Longest a request may take.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_body_bytes: 4 * 1024 * 1024, max_events_per_request: 1000, request_timeout: Duration::from_secs(30) }
    }
}

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Public IPFS blocks held by this node.
    pub blockstore: Blockstore,
    /// EVM chain id.
    pub chain_id: u64,
    /// The `JejakAttestations` contract receipts point to.
    pub attestations_contract: Address,
    /// Live indexer figures.
    pub indexer: Arc<IndexerStatus>,
    /// Limits.
    pub limits: Limits,
    /// Proof-of-reality evidence: blob store, limits, rules, the evidence log contract.
    pub evidence: Arc<EvidenceSettings>,
    /// Keys, limits, metrics, credentials, proofs, webhooks.
    pub services: Arc<Services>,
}

/// Settings of the verification API.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Base URL the API is reached at (status list URLs in credentials use it).
    pub public_url: String,
    /// `JejakReputationRoots`: proofs verified through the API are bound to
    /// `scope(chain_id, this contract, platform_consumer(platform), keccak256(context))`.
    pub reputation_roots: Address,
    /// How long an API key row is trusted from memory.
    pub key_cache_ttl: Duration,
    /// Per-key rate limit.
    pub rate_limit: limits::RateLimit,
    /// On PostgreSQL, also charge each key to a bucket every replica shares ([`limits::charge_key`]).
    pub shared_rate_limits: bool,
    /// Per client address rate of requests without a valid key.
    pub anonymous_rate_limit: limits::RateLimit,
    /// Per client address allowance of failed authentications (bad keys, bad signatures).
    pub failed_auth_limit: limits::RateLimit,
    /// Load balancers whose `X-Forwarded-For` names the client (else the peer is the client).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Origins allowed by CORS (`*` for any); empty: no CORS headers.
    pub cors_origins: Vec<String>,
    /// `/readyz` fails when the indexer is further behind the head than this.
    pub ready_max_lag_blocks: u64,
    /// Most proofs verified in one batch.
    pub proof_batch_max: usize,
    /// Outgoing webhooks.
    pub webhooks: webhooks::WebhookSettings,
    /// Credential verifications whose signature check is remembered (0: none).
    pub credential_cache_entries: usize,
    /// How long a reputation answer is reused for the same key (zero: not at all).
    pub reputation_cache: Duration,
    /// The marketplace.
    pub market: services::market::MarketSettings,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:7420".into(),
            reputation_roots: Address::ZERO,
            key_cache_ttl: Duration::from_secs(2),
            rate_limit: limits::RateLimit::default(),
            shared_rate_limits: true,
            anonymous_rate_limit: limits::RateLimit::default(),
            failed_auth_limit: limits::RateLimit { per_second: 1.0, burst: 50.0 },
            trusted_proxies: Vec::new(),
            cors_origins: Vec::new(),
            ready_max_lag_blocks: 64,
            proof_batch_max: 256,
            webhooks: webhooks::WebhookSettings::default(),
            credential_cache_entries: 10_000,
            reputation_cache: Duration::from_secs(1),
            market: services::market::MarketSettings::default(),
        }
    }
}

/// Shared services of the API.
#[derive(Debug)]
pub struct Services {
    /// Settings.
    pub settings: ApiSettings,
    /// API keys read recently.
    pub keys: auth::KeyCache,
    /// Per-key rate limits.
    pub limiter: limits::RateLimiter,
    /// Per client address limits: requests without a key, failed authentications.
    pub guard: limits::AddressGuard,
    /// The key webhook secrets are sealed with at rest.
    pub secrets: secrets::SecretsKey,
    /// Metrics.
    pub metrics: Arc<metrics::Metrics>,
    /// The credential issuer.
    pub issuer: credentials::Issuer,
    /// Batched proof verification; None without a verifying key.
    pub proofs: Option<proofs::ProofVerifier>,
    /// Recent reputation answers per key.
    pub reputation_cache: cache::ResponseCache,
    /// Proving for node-held identities; None without a proving key.
    pub prover: Option<proving::ProvingService>,
    /// The key node-held identity secrets are sealed with; None: no node-held identities.
    pub sealing_key: Option<identities::SealingKey>,
    /// Nullifiers of verified proofs, recorded in groups (the writer starts on first use).
    pub nullifiers: tokio::sync::OnceCell<nullifiers::NullifierWriter>,
    /// Where the marketplace reads the time (the wall clock; tests move their own).
    pub clock: Arc<dyn jejak_market::Clock>,
    /// This instance among those sharing the database: roles and the leases it may hold.
    pub instance: Arc<Instance>,
    /// Bounds on portable bundle downloads: per key, and at once on this instance.
    pub bundles: limits::BundleGate,
}

/// This instance, as readiness and status report it.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Its id in the leases.
    pub id: String,
    /// The roles it runs.
    pub roles: Vec<&'static str>,
    /// The leases of the jobs it may run (held or not).
    pub leases: Vec<Arc<jejak_store::leases::Fence>>,
}

impl Default for Instance {
    /// A single instance with every role and no leases (tests, tools).
    fn default() -> Self {
        Self {
            id: "single".into(),
            roles: vec!["api", "indexer", "anchor", "epoch", "evidence", "webhooks"],
            leases: Vec::new(),
        }
    }
}

impl Instance {
    /// Whether this instance runs `job` now: it holds the job's lease, or runs without leases.
    pub fn runs(&self, job: &str) -> bool {
        match self.leases.iter().find(|f| f.job() == job) {
            Some(f) => f.held(),
            None => self.leases.is_empty(),
        }
    }
}

impl Services {
    /// Services with these settings, the issuer's key, credential validity and, when proof
    /// verification is wanted, the verifying key file.
    pub fn new(
        settings: ApiSettings,
        issuer_key: ed25519_dalek::SigningKey,
        credential_validity: Duration,
        verifying_key: Option<&jejak_prover::VerifyingKeyFile>,
    ) -> Result<Self, jejak_prover::Error> {
        let metrics = Arc::new(metrics::Metrics::default());
        let proofs = match verifying_key {
            Some(vk) => Some(proofs::ProofVerifier::start(
                jejak_prover::Verifier::new(&vk.key)?,
                vk.key_hash()?,
                vk.info.origin.clone(),
                settings.proof_batch_max,
                metrics.clone(),
            )),
            None => None,
        };
        Ok(Self {
            keys: auth::KeyCache::new(settings.key_cache_ttl),
            limiter: limits::RateLimiter::new(settings.rate_limit),
            guard: limits::AddressGuard::new(settings.anonymous_rate_limit, settings.failed_auth_limit),
            secrets: secrets::SecretsKey::ephemeral(),
            issuer: {
                let mut issuer = credentials::Issuer::new(issuer_key, &settings.public_url, credential_validity);
                issuer.cache_entries = settings.credential_cache_entries;
                issuer
            },
            metrics,
            proofs,
            reputation_cache: cache::ResponseCache::new(settings.reputation_cache),
            prover: None,
            sealing_key: None,
            nullifiers: tokio::sync::OnceCell::new(),
            clock: Arc::new(services::market::SystemClock),
            instance: Arc::new(Instance::default()),
            bundles: limits::BundleGate::default(),
            settings,
        })
    }

    /// Enables proving for node-held identities with `prover`, at most `queue` proofs waiting.
    /// Proofs made here verify through `POST /v1/verify/proof` only if the verifying key given to
    /// [`Services::new`] is the prover's.
    pub fn with_prover(mut self, prover: jejak_prover::Prover, queue: usize) -> Result<Self, jejak_prover::Error> {
        self.prover = Some(proving::ProvingService::start(prover, queue, self.metrics.clone())?);
        Ok(self)
    }

    /// Seals webhook secrets with `key` (without it, with a key that lives as long as the
    /// process: secrets made then do not open after a restart).
    /// Reports `instance` in readiness and status.
    pub fn with_instance(mut self, instance: Instance) -> Self {
        self.instance = Arc::new(instance);
        self
    }

    /// The marketplace reads the time from this clock.
    pub fn with_clock(mut self, clock: Arc<dyn jejak_market::Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_secrets_key(mut self, key: [u8; 32]) -> Self {
        self.secrets = secrets::SecretsKey::new(key);
        self
    }

    /// Enables node-held identities, their secrets sealed with `key`.
    pub fn with_sealing_key(mut self, key: [u8; 32]) -> Self {
        self.sealing_key = Some(identities::SealingKey::new(key));
        self
    }
}

/// All routes.
pub fn router(state: AppState) -> Router {
    let limits = state.limits.clone();
    let cors = limits::cors(&state.services.settings.cors_origins);
    let router = Router::new()
        .route("/healthz", get(routes::status::healthz))
        .route("/readyz", get(routes::status::readyz))
        .route("/metrics", get(routes::status::metrics))
        .route("/openapi.json", get(routes::status::openapi_json))
        .route("/v1/events", post(routes::events::post_events))
        .route("/v1/webhooks/events", post(routes::webhooks::post_signed_events))
        .route("/v1/attestations", get(routes::attestations::list_attestations))
        .route("/v1/attestations/{id}", get(routes::attestations::get_attestation))
        .route("/v1/index/status", get(routes::status::index_status))
        .route(
            "/v1/workers/{id}/reputation",
            get(routes::workers::get_reputation)
                .layer(axum::middleware::from_fn_with_state(state.clone(), cache::reputation)),
        )
        .route("/v1/workers/{id}/bundle", get(routes::workers::get_bundle))
        .route("/ipfs/{cid}", get(routes::gateway::get_block).head(routes::gateway::head_block))
        .merge(routes::tasks::routes())
        .merge(routes::evidence::routes())
        .merge(routes::keys::routes())
        .merge(routes::verify::routes())
        .merge(routes::credentials::routes())
        .merge(routes::vcapi::routes())
        .merge(routes::webhooks::routes())
        .merge(routes::custody::routes())
        .merge(routes::market::routes())
        .merge(routes::explorer::routes())
        .fallback(web::serve)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        // Evidence uploads stream past the JSON body limit and timeout, under their own.
        .merge(routes::evidence::upload_routes(&state.evidence))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::admission))
        .layer(axum::middleware::from_fn(limits::json_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track));
    let router = match cors {
        Some(c) => router.layer(c),
        None => router,
    };
    router.with_state(state)
}

/// The operations routes alone (`/healthz`, `/readyz`, `/metrics`, `/v1/index/status`): what an
/// instance without the `api` role serves, for its probes and scrapers.
pub fn ops_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(routes::status::healthz))
        .route("/readyz", get(routes::status::readyz))
        .route("/metrics", get(routes::status::metrics))
        .route("/v1/index/status", get(routes::status::index_status))
        .fallback(routes::status::not_found)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            state.limits.request_timeout,
        ))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` fires, then drains in-flight requests.
pub async fn serve(listener: TcpListener, state: AppState, shutdown: CancellationToken) -> std::io::Result<()> {
    serve_router(listener, router(state), shutdown).await
}

/// Serves `router` (the whole API or [`ops_router`]) on `listener` until `shutdown` fires.
pub async fn serve_router(listener: TcpListener, router: Router, shutdown: CancellationToken) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(target: "jejak::api", %addr, "API listening");
    // The peer address reaches the handlers: limits per client address need it.
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown.cancelled().await;
            tracing::info!(target: "jejak::api", "no longer accepting connections; draining requests in flight");
        })
        .await?;
    tracing::info!(target: "jejak::api", "API stopped: every request in flight was answered");
    Ok(())
}
