//! The jejak HTTP API (axum). The only crate that knows HTTP and JSON wire formats.
//!
//! - [`router`] builds the routes over an [`AppState`]; [`serve`] runs them on a listener until
//!   a shutdown signal. Tests call `router(state).oneshot(request)` or bind `127.0.0.1:0`.
//! - Errors answer in one format, `{"error": {"code", "message", "details"?}}`, with stable
//!   codes ([`ApiError`]).
//! - Callers authenticate with API keys carrying a [`auth::Role`].
//!
//! Routes: `POST /v1/events` (platform work events, idempotent), `GET /v1/attestations/{id}`
//! (receipt with inclusion proof and anchor), `GET /v1/index/status`, `GET /ipfs/{cid}` (IPFS
//! trustless gateway for the blocks this node holds), `GET /healthz`; proof of reality
//! ([`evidence`]): `POST /v1/witnesses`, `POST /v1/tasks`, `GET /v1/tasks/{id}`,
//! `POST /v1/tasks/{id}/nonce`, `POST /v1/tasks/{id}/evidence` (streaming multipart),
//! `POST /v1/tasks/{id}/witnesses`, `GET /v1/evidence/{sha256}/receipt`,
//! `GET /v1/evidence/consistency`, `GET /v1/evidence/checkpoints`; reputation:
//! `GET /v1/workers/{id}/reputation` (score, credit, tier, limit, reasons, per-platform breakdown,
//! history per epoch).

pub mod auth;
mod error;
pub mod evidence;
mod routes;

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

pub use error::{ApiError, ApiResult};
pub use evidence::{BlobStore, EvidenceSettings};

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
}

/// All routes.
pub fn router(state: AppState) -> Router {
    let limits = state.limits.clone();
    Router::new()
        .route("/healthz", get(routes::status::healthz))
        .route("/v1/events", post(routes::events::post_events))
        .route("/v1/attestations/{id}", get(routes::attestations::get_attestation))
        .route("/v1/index/status", get(routes::status::index_status))
        .route("/v1/workers/{id}/reputation", get(routes::workers::get_reputation))
        .route("/ipfs/{cid}", get(routes::gateway::get_block).head(routes::gateway::head_block))
        .merge(routes::tasks::routes())
        .merge(routes::evidence::routes())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        // Evidence uploads stream past the JSON body limit and timeout, under their own.
        .merge(routes::evidence::upload_routes(state.evidence.upload_timeout))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` fires, then drains in-flight requests.
pub async fn serve(listener: TcpListener, state: AppState, shutdown: CancellationToken) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(target: "jejak::api", %addr, "API listening");
    axum::serve(listener, router(state)).with_graceful_shutdown(async move { shutdown.cancelled().await }).await
}
