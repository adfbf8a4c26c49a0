//! The API's own tests, through `router(..).oneshot(..)`. One idiom runs every test that touches
//! the database on SQLite and on PostgreSQL: `jejak_store::both_backends!` around a body that
//! builds its API with [`app`] (or [`app_with`] for its own services) on the database it is given.
//!
//! - [`stack`]: the stack's own answers (body limits, timeouts, unknown routes and methods, rate
//!   limits, CORS, readiness, the reputation cache);
//! - [`bundles`]: portable bundle downloads: who, and the bounds on their cost;
//! - [`custody`]: node-held identities, proving and verifying;
//! - [`links`]: linking an account needs the worker's link token;
//! - [`hardening`]: hostile callers: signed webhooks (bounds, rate before MAC, replays),
//!   outgoing webhooks (internal addresses, DNS rebinding, answers kept short, fairness), failed
//!   authentication per address, secrets at rest, redaction, metrics labels, the fan-out;
//! - [`operations`]: the database pool in the metrics, and the alert rules and dashboard of
//!   `deploy/` naming only metrics the node exports;
//! - [`vcapi`]: the W3C VC-API endpoints, against credentials of independent implementations.

mod bundles;
mod custody;
mod explorer;
mod hardening;
mod links;
mod market;
mod operations;
mod stack;
mod vcapi;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt as _;
use jejak_store::test_utils::TestDb;
use serde_json::Value;
use tower::ServiceExt as _;

use crate::auth::{self, Role};
use crate::{ApiSettings, AppState, EvidenceSettings, Limits, Services};

/// An API over a test database, with an admin key.
pub(crate) struct TestApi {
    pub(crate) st: AppState,
    /// An admin key's token.
    pub(crate) admin: String,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) db: TestDb,
}

/// An API on `db` with default services, limits and settings adjusted by `tune`.
pub(crate) async fn app(db: TestDb, tune: impl FnOnce(&mut Limits, &mut ApiSettings)) -> TestApi {
    let mut limits = Limits::default();
    let mut settings = ApiSettings::default();
    tune(&mut limits, &mut settings);
    let services =
        Services::new(settings, ed25519_dalek::SigningKey::from_bytes(&[5; 32]), Duration::from_secs(60), None)
            .unwrap();
    app_with(db, limits, services).await
}

/// An API on `db` with these services.
pub(crate) async fn app_with(db: TestDb, limits: Limits, services: Services) -> TestApi {
    let dir = tempfile::tempdir().unwrap();
    let store = db.store.clone();
    let admin = auth::new_key(Role::Admin, None, None, "t", 0);
    jejak_store::keys::insert(&mut store.conn().await.unwrap(), &admin.row).await.unwrap();
    let st = AppState {
        store,
        blockstore: jejak_ipfs::Blockstore::open(dir.path().join("blocks")).unwrap(),
        chain_id: 31337,
        attestations_contract: alloy_primitives::Address::ZERO,
        indexer: Arc::new(jejak_indexer::IndexerStatus::default()),
        limits,
        evidence: Arc::new(EvidenceSettings::new(
            crate::BlobStore::open(dir.path().join("evidence")).unwrap(),
            alloy_primitives::Address::ZERO,
        )),
        services: Arc::new(services),
    };
    TestApi { st, admin: admin.token, dir, db }
}

impl TestApi {
    /// Sends a request; the answer's status, headers and JSON body (null when not JSON).
    pub(crate) async fn send(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Value) {
        send(&self.st, req).await
    }

    /// A new key with this role; its token.
    pub(crate) async fn key(&self, role: Role, platform: Option<i64>, worker: Option<&str>) -> String {
        let k = auth::new_key(role, platform, worker.map(str::to_owned), "t", 0);
        jejak_store::keys::insert(&mut self.st.store.conn().await.unwrap(), &k.row).await.unwrap();
        k.token
    }
}

/// Sends a request to the router of `st`.
pub(crate) async fn send(st: &AppState, req: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let resp = crate::router(st.clone()).oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// The error code of an error answer.
pub(crate) fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}
