//! Hostile callers, each test on SQLite and on PostgreSQL: signed webhooks with oversized
//! headers, rate limited before their MAC, replayed with rewritten headers; subscriptions to
//! internal addresses and names that rebind to them; failed authentication per client address;
//! webhook secrets at rest; URLs in served errors; unbounded metrics labels; the reputation
//! cache's charge; a platform's backlog against the others'; `score.changed` in pages.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use jejak_store::chain::{self, ChainEvent, IndexedLog, LogKey, PlatformEventKind};
use jejak_store::scores::{self, EpochRow, EpochStatus, WorkerScoreRow};
use jejak_store::test_utils::TestDb;
use jejak_store::webhooks as db;
use serde_json::{Value, json};

use super::{TestApi, app, code};
use crate::auth::Role;
use crate::limits::RateLimit;
use crate::services::egress::{EgressPolicy, LookupHost};
use crate::services::webhooks::{self, sign};

const PLATFORM: i64 = 1;

/// Platform `id`, registered as the indexer would record it.
pub(super) async fn register(api: &TestApi, id: i64) {
    let mut tx = api.st.store.begin().await.unwrap();
    let key = LogKey {
        chain_id: api.st.chain_id as i64,
        block_number: id,
        block_hash: [id as u8; 32],
        log_index: 0,
        tx_hash: [id as u8; 32],
        contract: [1; 20],
    };
    let event = ChainEvent::Platform {
        platform_id: id,
        kind: PlatformEventKind::Registered,
        signer: Some([2; 20]),
        profile_cid: None,
        reason_code: None,
    };
    chain::insert_logs(&mut tx, &[IndexedLog { key, event }]).await.unwrap();
    jejak_store::commit(tx).await.unwrap();
}

pub(super) fn post_json(path: &str, token: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// A request as if from `addr`.
fn from(addr: &str, mut req: Request<Body>) -> Request<Body> {
    let ip: IpAddr = addr.parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip, 40000)));
    req
}

fn events(n: usize) -> Value {
    let list: Vec<Value> = (0..n)
        .map(|i| {
            json!({"type": "task_completed", "worker": format!("courier-{i}"), "occurred_at": "2026-01-01T00:00:00Z",
                "data": {"task_id": format!("t-{i}"), "earnings_minor": 1000, "currency": "IDR"}})
        })
        .collect();
    json!({ "events": list })
}

fn signed(platform: i64, signature: &str, body: &[u8]) -> Request<Body> {
    Request::post("/v1/webhooks/events")
        .header(header::CONTENT_TYPE, "application/json")
        .header("jejak-platform", platform.to_string())
        .header("jejak-signature", signature)
        .body(Body::from(body.to_vec()))
        .unwrap()
}

/// A new incoming-webhook secret for `PLATFORM`.
async fn webhook_secret(api: &TestApi) -> String {
    let req = Request::post(format!("/v1/platforms/{PLATFORM}/webhook-secret"))
        .header(header::AUTHORIZATION, format!("Bearer {}", api.admin))
        .body(Body::empty())
        .unwrap();
    let (s, _, b) = api.send(req).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b["secret"].as_str().unwrap().to_owned()
}

pub(super) async fn attestation_count(api: &TestApi) -> usize {
    let (s, _, b) = api
        .send(
            Request::get("/v1/attestations?limit=100")
                .header(header::AUTHORIZATION, format!("Bearer {}", api.admin))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    b["data"].as_array().unwrap().len()
}

jejak_store::both_backends! {
    async fn signature_headers_are_bounded_and_rate_limited_before_the_mac(db: TestDb) {
        let api = app(db, |_, s| s.rate_limit = RateLimit { per_second: 0.001, burst: 3.0 }).await;
        register(&api, PLATFORM).await;
        let secret = webhook_secret(&api).await;
        let body = serde_json::to_vec(&events(1)).unwrap();
        let now = jejak_store::now_secs();
        let good = sign(secret.as_bytes(), now, &body);
        let mac = good.split_once("v1=").unwrap().1.to_owned();

        // Five v1 entries (the fifth the right one): refused before any MAC, whatever matches.
        let five = format!("t={now},{}v1={mac}", "v1=00000000000000000000000000000000000000000000000000000000000000ff,".repeat(4));
        let (s, _, b) = api.send(signed(PLATFORM, &five, &body)).await;
        assert_eq!((s, code(&b)), (StatusCode::UNAUTHORIZED, "invalid_signature"), "{b}");
        // A header of more than 512 bytes, however it is made.
        let long = format!("{good},{}", "x=1,".repeat(200));
        let (s, _, b) = api.send(signed(PLATFORM, &long, &body)).await;
        assert_eq!((s, code(&b)), (StatusCode::UNAUTHORIZED, "invalid_signature"), "{b}");

        // Wrong MACs take from the platform's bucket before they are checked: the fourth
        // request in a row is answered 429 without its MAC being computed.
        let wrong = format!("t={now},v1={}", "ab".repeat(32));
        for _ in 0..3 {
            let (s, _, b) = api.send(signed(PLATFORM, &wrong, &body)).await;
            assert_eq!((s, code(&b)), (StatusCode::UNAUTHORIZED, "invalid_signature"), "{b}");
        }
        let (s, h, b) = api.send(signed(PLATFORM, &good, &body)).await;
        assert_eq!((s, code(&b)), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{b}");
        assert!(h.contains_key(header::RETRY_AFTER));
    }
}

jejak_store::both_backends! {
    async fn a_signed_request_replayed_with_a_rewritten_header_stores_nothing(db: TestDb) {
        let api = app(db, |_, _| {}).await;
        register(&api, PLATFORM).await;
        let secret = webhook_secret(&api).await;
        // No event_id: only the request's idempotency keeps a replay from storing them again.
        let body = serde_json::to_vec(&events(2)).unwrap();
        let now = jejak_store::now_secs();
        let header = sign(secret.as_bytes(), now, &body);
        let (s, _, b) = api.send(signed(PLATFORM, &header, &body)).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        assert_eq!(attestation_count(&api).await, 2);

        // The same signature, its hex in capitals and another entry in front.
        let mac = header.split_once("v1=").unwrap().1;
        for rewritten in [
            format!("t={now},v1={}", mac.to_uppercase()),
            format!("v1={},t={now},v1={mac}", "cd".repeat(32)),
            format!("t={now}, v1={mac}, v0=whatever"),
        ] {
            let (s, h, b) = api.send(signed(PLATFORM, &rewritten, &body)).await;
            assert_eq!(s, StatusCode::ACCEPTED, "{rewritten}: {b}");
            assert!(h.contains_key("idempotent-replayed"), "{rewritten}: the first answer again");
        }
        assert_eq!(attestation_count(&api).await, 2, "a replay stores nothing");
        // A new timestamp is a new request.
        let (s, h, _) = api.send(signed(PLATFORM, &sign(secret.as_bytes(), now - 1, &body), &body)).await;
        assert!(s == StatusCode::ACCEPTED && !h.contains_key("idempotent-replayed"));
    }
}

jejak_store::both_backends! {
    async fn subscriptions_to_internal_addresses_are_refused(db: TestDb) {
        let api = app(db, |_, s| s.webhooks.max_subscriptions = 2).await;
        register(&api, PLATFORM).await;
        let sub = |url: &str| post_json("/v1/webhooks/subscriptions", &api.admin, &json!({"platform_id": PLATFORM, "url": url, "events": ["batch.finalized"]}));
        for url in [
            "https://127.0.0.1:5001/api/v0/shutdown",
            "https://10.0.0.7/hook",
            "https://172.16.3.4/hook",
            "https://192.168.1.1/hook",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.64.0.1/hook",
            "https://224.0.0.1/hook",
            "https://0.0.0.0/hook",
            "https://2130706433/hook",
            "https://[::1]/hook",
            "https://[::]/hook",
            "https://[fc00::1]/hook",
            "https://[fe80::1]/hook",
            "https://[ff02::1]/hook",
            "https://[::ffff:127.0.0.1]/hook",
            "https://[::ffff:169.254.169.254]/hook",
            "https://localhost/hook",
            "http://hooks.example/plain",
            "https://user:pass@hooks.example/hook",
        ] {
            let (s, _, b) = api.send(sub(url)).await;
            assert_eq!((s, code(&b)), (StatusCode::UNPROCESSABLE_ENTITY, "webhook_url_refused"), "{url}: {b}");
        }
        // A public https URL is fine (nothing is sent to it here), up to the platform's cap.
        for _ in 0..2 {
            let (s, _, b) = api.send(sub("https://93.184.216.34/hook")).await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
        }
        let (s, _, b) = api.send(sub("https://93.184.216.34/hook")).await;
        assert_eq!((s, code(&b)), (StatusCode::CONFLICT, "too_many_subscriptions"), "{b}");
    }
}

/// Answers every lookup with one address, and counts the lookups.
#[derive(Debug)]
struct FixedLookup {
    answer: IpAddr,
    calls: AtomicUsize,
}

impl LookupHost for FixedLookup {
    fn lookup<'a>(
        &'a self,
        _host: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'a>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = vec![self.answer];
        Box::pin(async move { Ok(answer) })
    }
}

/// A receiver on loopback counting what it gets and answering 500 with a long body.
async fn receiver() -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let hits = counted.clone();
        async move {
            hits.fetch_add(1, Ordering::SeqCst);
            let body = format!("internal detail {} SECRET-TAIL", "x".repeat(100_000));
            (StatusCode::INTERNAL_SERVER_ERROR, body)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, hits)
}

/// A subscription to `url` made through the API, and one delivery of it due now.
async fn subscribed_delivery(api: &TestApi, url: &str) -> db::DeliveryRow {
    let body = json!({"platform_id": PLATFORM, "url": url, "events": ["batch.finalized"]});
    let (s, _, b) = api.send(post_json("/v1/webhooks/subscriptions", &api.admin, &body)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let d = db::DeliveryRow {
        id: format!("whd_{}", uuid::Uuid::now_v7().simple()),
        subscription_id: b["id"].as_str().unwrap().to_owned(),
        platform_id: PLATFORM,
        event_id: "evt_test".into(),
        event_type: "batch.finalized".into(),
        payload: "{}".into(),
        status: db::DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: 0,
        last_status: None,
        last_error: None,
        created_at: 0,
        updated_at: 0,
    };
    db::insert_delivery(&mut api.st.store.conn().await.unwrap(), &d).await.unwrap();
    d
}

async fn deliver_once(api: &TestApi, d: db::DeliveryRow) -> db::DeliveryRow {
    let settings = &api.st.services.settings.webhooks;
    let http = crate::services::egress::client(&settings.egress, settings.lookup.clone()).unwrap();
    let id = d.id.clone();
    webhooks::deliver(&api.st, &http, d).await.unwrap();
    db::delivery(&mut api.st.store.conn().await.unwrap(), &id).await.unwrap().unwrap()
}

jejak_store::both_backends! {
    async fn a_name_that_rebinds_to_loopback_is_never_connected_to(db: TestDb) {
        let (addr, hits) = receiver().await;
        // A name accepted when subscribed (it is not checked against any address then) that
        // resolves to 127.0.0.1 when the delivery connects. The lookup never answers anything
        // but loopback: no test sends anything beyond this machine.
        let url = format!("http://hooks.rebind.test:{}/hook", addr.port());
        let lookup = || Arc::new(FixedLookup { answer: "127.0.0.1".parse().unwrap(), calls: AtomicUsize::new(0) });
        let rebinding = lookup();
        let api = app(db, |_, s| {
            s.webhooks.egress = EgressPolicy { allow_http: true, ..Default::default() };
            s.webhooks.lookup = rebinding.clone();
        })
        .await;
        register(&api, PLATFORM).await;
        let d = subscribed_delivery(&api, &url).await;
        let after = deliver_once(&api, d).await;
        assert_eq!(rebinding.calls.load(Ordering::SeqCst), 1, "the name was looked up to connect");
        assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing reached the loopback receiver");
        let error = after.last_error.unwrap_or_default();
        assert!(error.contains("resolves to no address deliveries may go to") && error.contains("loopback"), "{error}");
        assert!(!error.contains(&format!("{}/hook", addr.port())), "URLs in the error show scheme and host only: {error}");
        assert_eq!(after.last_status, None);

        // The same lookup where loopback is allowed (`jejak dev`) connects: the refusal above was
        // the policy's. What the receiver answered is kept as a short excerpt.
        let dev = lookup();
        let api = app(TestDb::sqlite().await, |_, s| {
            s.webhooks.egress = EgressPolicy { allow_http: true, allow_loopback: true, ..Default::default() };
            s.webhooks.lookup = dev.clone();
        })
        .await;
        register(&api, PLATFORM).await;
        let d = subscribed_delivery(&api, &url).await;
        let after = deliver_once(&api, d).await;
        assert_eq!((hits.load(Ordering::SeqCst), dev.calls.load(Ordering::SeqCst)), (1, 1));
        assert_eq!(after.last_status, Some(500));
        let error = after.last_error.unwrap();
        assert!(error.starts_with("receiver answered 500") && error.contains("internal detail"), "{error}");
        assert!(error.len() < 300 && !error.contains("SECRET-TAIL"), "only a short excerpt: {} bytes", error.len());
    }
}

jejak_store::both_backends! {
    async fn failed_authentication_and_keyless_requests_are_throttled_per_address(db: TestDb) {
        let api = app(db, |_, s| {
            s.failed_auth_limit = RateLimit { per_second: 0.001, burst: 3.0 };
            s.anonymous_rate_limit = RateLimit { per_second: 0.001, burst: 5.0 };
        })
        .await;
        let get = |token: &str| {
            Request::get("/v1/attestations").header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap()
        };
        let bad = "jk_0123456789abcdef_nope";
        for _ in 0..3 {
            let (s, _, b) = api.send(from("203.0.113.9", get(bad))).await;
            assert_eq!((s, code(&b)), (StatusCode::UNAUTHORIZED, "unauthorized"), "{b}");
        }
        // The address used up its failures: even a good key from it waits, another address not.
        let (s, h, b) = api.send(from("203.0.113.9", get(&api.admin))).await;
        assert_eq!((s, code(&b)), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{b}");
        assert!(h.contains_key(header::RETRY_AFTER));
        assert_eq!(api.send(from("198.51.100.4", get(&api.admin))).await.0, StatusCode::OK);
        // One IPv6 network counts as one client, however many addresses it uses.
        for i in 0..3 {
            api.send(from(&format!("2001:db8:1:2::{i}"), get(bad))).await;
        }
        assert_eq!(api.send(from("2001:db8:1:2::99", get(&api.admin))).await.0, StatusCode::TOO_MANY_REQUESTS);

        // Requests without a key: a bucket per address.
        let health = || Request::get("/healthz").body(Body::empty()).unwrap();
        for _ in 0..5 {
            assert_eq!(api.send(from("192.0.2.1", health())).await.0, StatusCode::OK);
        }
        let (s, _, b) = api.send(from("192.0.2.1", health())).await;
        assert_eq!((s, code(&b)), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
        assert_eq!(api.send(from("192.0.2.2", health())).await.0, StatusCode::OK);
    }
}

jejak_store::both_backends! {
    async fn webhook_secrets_are_sealed_at_rest_and_clear_ones_are_sealed_at_start(db: TestDb) {
        let api = app(db, |_, _| {}).await;
        register(&api, PLATFORM).await;
        let secret = webhook_secret(&api).await;
        let stored = db::platform_secret(&mut api.st.store.conn().await.unwrap(), PLATFORM).await.unwrap().unwrap();
        assert!(!stored.windows(secret.len()).any(|w| w == secret.as_bytes()), "the database never holds it in the clear");
        let body = serde_json::to_vec(&events(1)).unwrap();
        let (s, _, b) = api.send(signed(PLATFORM, &sign(secret.as_bytes(), jejak_store::now_secs(), &body), &body)).await;
        assert_eq!(s, StatusCode::ACCEPTED, "the sealed secret still verifies: {b}");

        let sub = json!({"platform_id": PLATFORM, "url": "https://93.184.216.34/hook", "events": ["batch.finalized"]});
        let (s, _, b) = api.send(post_json("/v1/webhooks/subscriptions", &api.admin, &sub)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let sub_secret = b["secret"].as_str().unwrap();
        let row = db::subscription(&mut api.st.store.conn().await.unwrap(), b["id"].as_str().unwrap()).await.unwrap().unwrap();
        assert!(!row.secret.windows(sub_secret.len()).any(|w| w == sub_secret.as_bytes()));

        // Rows an earlier version stored in the clear: sealed at start, and they still verify.
        let mut c = api.st.store.conn().await.unwrap();
        db::set_platform_secret(&mut c, PLATFORM, b"whsec_from_before", 1).await.unwrap();
        drop(c);
        let key = &api.st.services.secrets;
        assert_eq!(crate::services::secrets::seal_stored_secrets(&api.st.store, key).await.unwrap(), 1);
        assert_eq!(crate::services::secrets::seal_stored_secrets(&api.st.store, key).await.unwrap(), 0, "once");
        let stored = db::platform_secret(&mut api.st.store.conn().await.unwrap(), PLATFORM).await.unwrap().unwrap();
        assert!(!stored.windows(6).any(|w| w == b"whsec_"));
        let body = serde_json::to_vec(&events(3)).unwrap();
        let (s, _, b) = api.send(signed(PLATFORM, &sign(b"whsec_from_before", jejak_store::now_secs(), &body), &body)).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    }
}

jejak_store::both_backends! {
    async fn served_errors_show_no_credentials(db: TestDb) {
        let api = app(db, |_, _| {}).await;
        // A chain-send error kept with a pending evidence checkpoint, naming the RPC with its key.
        let mut c = api.st.store.conn().await.unwrap();
        jejak_store::evidence::insert_checkpoint(&mut c, 3, &[1; 32], 0, "bafkreicheckpoint", 1).await.unwrap();
        let why = "sending: error sending request for url (https://user:pw@rpc.example/v3/KEY-0123?apikey=Q1): timed out";
        jejak_store::evidence::set_checkpoint_status(&mut c, 3, jejak_store::evidence::CheckpointStatus::Failed, None, Some(why), 2)
            .await
            .unwrap();
        drop(c);
        let (s, _, b) = api.send(Request::get("/v1/evidence/checkpoints").body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let shown = b["pending"][0]["error"].as_str().unwrap();
        assert_eq!(shown, "sending: error sending request for url (https://rpc.example): timed out");

        // A database that does not answer: /readyz says so, without its error.
        api.st.store.close().await;
        let (s, _, b) = api.send(Request::get("/readyz").body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(b["checks"]["database"], json!({"ok": false, "error": "the database does not answer"}));
    }
}

jejak_store::both_backends! {
    async fn made_up_methods_and_paths_share_one_metrics_label(db: TestDb) {
        let api = app(db, |_, _| {}).await;
        for i in 0..30 {
            let method = axum::http::Method::from_bytes(format!("M{i}X").as_bytes()).unwrap();
            let req = Request::builder().method(method).uri(format!("/v1/made-up/{i}")).body(Body::empty()).unwrap();
            assert_eq!(api.send(req).await.0, StatusCode::NOT_FOUND);
            let method = axum::http::Method::from_bytes(format!("N{i}Y").as_bytes()).unwrap();
            let req = Request::builder().method(method).uri("/v1/events").body(Body::empty()).unwrap();
            assert_eq!(api.send(req).await.0, StatusCode::METHOD_NOT_ALLOWED);
        }
        let (_, _, _) = api.send(Request::get("/healthz").body(Body::empty()).unwrap()).await;
        let m = api.st.services.metrics.clone();
        let mut out = String::new();
        m.render_requests(&mut out);
        let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("jejak_http_requests_total{")).collect();
        assert!(lines.iter().all(|l| !l.contains("M1X") && !l.contains("/v1/made-up")), "{out}");
        assert!(lines.iter().any(|l| l.contains("route=\"unmatched\",method=\"other\",status=\"404\"} 30")), "{out}");
        assert!(lines.iter().any(|l| l.contains("route=\"/v1/events\",method=\"other\",status=\"405\"} 30")), "{out}");
        assert!(lines.len() <= 3, "{out}");
    }
}

/// Epoch `epoch` published with `n` workers whose reputation is `base + i`.
async fn publish_scores(api: &TestApi, epoch: i64, n: usize, base: i64) {
    let rows: Vec<WorkerScoreRow> = (0..n)
        .map(|i| {
            let mut commitment = [0u8; 32];
            commitment[31] = i as u8 + 1;
            WorkerScoreRow {
                epoch,
                commitment,
                leaf_index: i as i64,
                reputation: base + i as i64,
                credit: 600,
                tier: "C".into(),
                gigs: 10,
                salt: [2; 32],
                leaf: [3; 32],
                card: json!({"platforms": [{"platform_id": PLATFORM}]}).to_string(),
            }
        })
        .collect();
    let row = EpochRow {
        chain_id: api.st.chain_id as i64,
        epoch,
        status: EpochStatus::Published,
        as_of: epoch,
        as_of_block: epoch,
        params_version: 1,
        params_cid: "p".into(),
        depth: 20,
        worker_count: n as i64,
        root: [epoch as u8; 32],
        platforms: "[]".into(),
        snapshot_cid: None,
        tx_hash: None,
        error: None,
        created_at: 1,
        updated_at: 1,
    };
    let mut tx = api.st.store.begin().await.unwrap();
    scores::insert_epoch(&mut tx, &row, &rows).await.unwrap();
    jejak_store::commit(tx).await.unwrap();
}

async fn score_deliveries(api: &TestApi) -> Vec<Value> {
    let rows =
        db::deliveries_page(&mut api.st.store.conn().await.unwrap(), None, db::DeliveryStatus::Pending, "", 1000)
            .await
            .unwrap();
    rows.iter().filter(|d| d.event_type == "score.changed").map(|d| serde_json::from_str(&d.payload).unwrap()).collect()
}

jejak_store::both_backends! {
    async fn score_changes_fan_out_by_page_and_resume_where_they_stopped(db: TestDb) {
        let api = app(db, |_, s| s.webhooks.fanout_page = 2).await;
        register(&api, PLATFORM).await;
        publish_scores(&api, 1, 5, 500).await;
        webhooks::produce(&api.st).await.unwrap();
        // Nobody subscribed: epoch 2 is passed over without a delivery.
        publish_scores(&api, 2, 5, 600).await;
        webhooks::produce(&api.st).await.unwrap();
        assert!(score_deliveries(&api).await.is_empty());
        let mut c = api.st.store.conn().await.unwrap();
        assert_eq!(db::cursor(&mut c, "epoch").await.unwrap(), Some(2));
        drop(c);

        let sub = json!({"platform_id": PLATFORM, "url": "https://93.184.216.34/hook", "events": ["score.changed"]});
        assert_eq!(api.send(post_json("/v1/webhooks/subscriptions", &api.admin, &sub)).await.0, StatusCode::CREATED);
        // Epoch 3 changes every worker; a crash left the fan-out after its first two workers.
        publish_scores(&api, 3, 5, 700).await;
        let mut c = api.st.store.conn().await.unwrap();
        db::set_cursor(&mut c, "epoch_page", 2).await.unwrap();
        drop(c);
        webhooks::produce(&api.st).await.unwrap();
        let got = score_deliveries(&api).await;
        let mut reps: Vec<i64> = got.iter().map(|p| p["data"]["reputation"].as_i64().unwrap()).collect();
        reps.sort();
        assert_eq!(reps, vec![702, 703, 704], "resumed at the third worker, in pages of two");
        assert!(got.iter().all(|p| p["data"]["previous"]["reputation"].as_i64().unwrap() == p["data"]["reputation"].as_i64().unwrap() - 100));
        let mut c = api.st.store.conn().await.unwrap();
        assert_eq!(db::cursor(&mut c, "epoch").await.unwrap(), Some(3));
        assert_eq!(db::cursor(&mut c, "epoch_page").await.unwrap(), Some(0));
    }
}

jejak_store::both_backends! {
    async fn a_platform_no_worker_linked_to_hears_no_score_changes(db: TestDb) {
        // Only a consented link puts a platform on a worker's score card (a link token is checked
        // before anything is stored: `links.rs`); a platform that merely knows the commitments and
        // subscribes to `score.changed` hears nothing of those workers.
        const STRANGER: i64 = PLATFORM + 1;
        let api = app(db, |_, _| {}).await;
        register(&api, PLATFORM).await;
        register(&api, STRANGER).await;
        publish_scores(&api, 1, 3, 500).await;
        webhooks::produce(&api.st).await.unwrap();
        for platform in [PLATFORM, STRANGER] {
            let sub = json!({"platform_id": platform, "url": "https://93.184.216.34/hook", "events": ["score.changed"]});
            assert_eq!(api.send(post_json("/v1/webhooks/subscriptions", &api.admin, &sub)).await.0, StatusCode::CREATED);
        }
        publish_scores(&api, 2, 3, 600).await;
        webhooks::produce(&api.st).await.unwrap();
        let rows =
            db::deliveries_page(&mut api.st.store.conn().await.unwrap(), None, db::DeliveryStatus::Pending, "", 1000)
                .await
                .unwrap();
        let heard: Vec<i64> = rows.iter().filter(|d| d.event_type == "score.changed").map(|d| d.platform_id).collect();
        assert_eq!(heard, vec![PLATFORM; 3], "only the linked platform hears of its workers");
    }
}

jejak_store::both_backends! {
    async fn one_platforms_backlog_does_not_take_every_delivery_slot(db: TestDb) {
        let api = app(db, |_, _| {}).await;
        let mut c = api.st.store.conn().await.unwrap();
        let sub = |id: &str, platform| db::SubscriptionRow {
            id: id.into(),
            platform_id: platform,
            url: "https://93.184.216.34/hook".into(),
            events: "batch.finalized".into(),
            secret: b"s".to_vec(),
            created_at: 0,
            deleted_at: None,
        };
        db::insert_subscription(&mut c, &sub("whs_busy", 1)).await.unwrap();
        db::insert_subscription(&mut c, &sub("whs_quiet", 2)).await.unwrap();
        let delivery = |i: usize, platform: i64, at: i64| db::DeliveryRow {
            id: format!("whd_{platform}_{i:04}"),
            subscription_id: if platform == 1 { "whs_busy" } else { "whs_quiet" }.into(),
            platform_id: platform,
            event_id: format!("evt_{platform}_{i}"),
            event_type: "batch.finalized".into(),
            payload: "{}".into(),
            status: db::DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: at,
            last_status: None,
            last_error: None,
            created_at: 0,
            updated_at: 0,
        };
        // Platform 1's 200 deliveries are all older than platform 2's two.
        for i in 0..200 {
            db::insert_delivery(&mut c, &delivery(i, 1, i as i64)).await.unwrap();
        }
        for i in 0..2 {
            db::insert_delivery(&mut c, &delivery(i, 2, 1000 + i as i64)).await.unwrap();
        }
        let due = db::due_fair(&mut c, 10_000, 8, 64).await.unwrap();
        let of = |p: i64| due.iter().filter(|d| d.platform_id == p).count();
        assert_eq!((of(1), of(2)), (8, 2), "eight of the busy platform, and the quiet one's two");
    }
}

jejak_store::both_backends! {
    async fn the_reputation_cache_charges_once_and_keys_on_the_worker(db: TestDb) {
        let api = app(db, |_, s| {
            s.reputation_cache = Duration::from_secs(60);
            s.rate_limit = RateLimit { per_second: 0.001, burst: 4.0 };
        })
        .await;
        publish_scores(&api, 1, 1, 500).await;
        let worker = "1";
        let key = api.key(Role::Worker, None, Some(worker)).await;
        let get = |path: &str| Request::get(path).header(header::AUTHORIZATION, format!("Bearer {key}")).body(Body::empty()).unwrap();
        // Four requests, four tokens: the first (not cached yet) is not charged twice.
        let (s, _, first) = api.send(get("/v1/workers/1/reputation")).await;
        assert_eq!(s, StatusCode::OK, "{first}");
        for path in ["/v1/workers/%31/reputation", "/v1/workers/1/reputation", "/v1/workers/%31/reputation"] {
            let (s, _, b) = api.send(get(path)).await;
            assert_eq!((s, &b), (StatusCode::OK, &first), "{path}");
        }
        assert_eq!(api.st.services.reputation_cache.len(), 1, "one entry per worker, however the path spells it");
        assert_eq!(api.send(get("/v1/workers/1/reputation")).await.0, StatusCode::TOO_MANY_REQUESTS);
    }
}
