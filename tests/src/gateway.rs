//! A stand-in IPFS peer for tests: the trustless-gateway protocol (`GET /ipfs/{cid}` with
//! `Accept: application/vnd.ipld.raw`) and the two Kubo RPC calls jejak uses
//! (`POST /api/v0/block/get?arg=CID`, `POST /api/v0/block/put` multipart, answering `{"Key", "Size"}`),
//! implemented from their documentation because no IPFS daemon can be installed here. It can be
//! told to lie (serve other bytes than asked for).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

#[derive(Debug, Default)]
struct Shared {
    blocks: Mutex<HashMap<String, Vec<u8>>>,
    corrupt: AtomicBool,
    lies_about: Mutex<Vec<String>>,
    requests: AtomicU64,
}

/// A running fake peer.
#[derive(Debug)]
pub struct TestGateway {
    /// Base URL (gateway and Kubo RPC alike).
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestGateway {
    /// Starts an empty peer.
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/ipfs/{cid}", axum::routing::get(gateway_get))
            .route("/api/v0/block/get", axum::routing::post(kubo_get))
            .route("/api/v0/block/put", axum::routing::post(kubo_put))
            .with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, shared, task }
    }

    /// Makes `bytes` available under their CID.
    pub fn add(&self, bytes: &[u8]) -> String {
        let cid = jejak_core::cid::raw_cid(bytes).to_string();
        self.shared.blocks.lock().unwrap().insert(cid.clone(), bytes.to_vec());
        cid
    }

    /// The block stored under `cid`, if any (what was pinned to it).
    pub fn get(&self, cid: &str) -> Option<Vec<u8>> {
        self.shared.blocks.lock().unwrap().get(cid).cloned()
    }

    /// From now on, answer every request with other bytes than the block asked for.
    pub fn lie(&self) {
        self.shared.corrupt.store(true, Ordering::Relaxed);
    }

    /// Answer requests for `cid` with other bytes (and keep answering others honestly).
    pub fn lie_about(&self, cid: &str) {
        self.shared.lies_about.lock().unwrap().push(cid.to_string());
    }

    /// Requests served so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }
}

fn serve(shared: &Shared, cid: &str) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    if shared.corrupt.load(Ordering::Relaxed) || shared.lies_about.lock().unwrap().iter().any(|c| c == cid) {
        return (StatusCode::OK, b"{\"not\": \"what you asked for\"}".to_vec()).into_response();
    }
    match shared.blocks.lock().unwrap().get(cid) {
        Some(b) => (StatusCode::OK, [("content-type", "application/vnd.ipld.raw")], b.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn gateway_get(State(s): State<Arc<Shared>>, Path(cid): Path<String>) -> Response {
    serve(&s, &cid)
}

async fn kubo_get(State(s): State<Arc<Shared>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let cid = q.get("arg").cloned().unwrap_or_default();
    let resp = serve(&s, &cid);
    if resp.status() == StatusCode::NOT_FOUND {
        // Kubo's answer for a block it does not have.
        return (StatusCode::INTERNAL_SERVER_ERROR, "{\"Message\":\"block was not found locally (offline)\"}")
            .into_response();
    }
    resp
}

async fn kubo_put(State(s): State<Arc<Shared>>, mut form: Multipart) -> Response {
    let mut data: Option<Bytes> = None;
    while let Ok(Some(field)) = form.next_field().await {
        data = field.bytes().await.ok();
    }
    let Some(data) = data else { return (StatusCode::BAD_REQUEST, "no file").into_response() };
    let cid = jejak_core::cid::raw_cid(&data).to_string();
    s.blocks.lock().unwrap().insert(cid.clone(), data.to_vec());
    axum::Json(serde_json::json!({"Key": cid, "Size": data.len()})).into_response()
}
