//! The stack's own answers through `router(..).oneshot(..)`: bodies over the limit, timeouts,
//! unknown routes and methods all answer in the JSON error format; rate limits answer 429 with
//! `Retry-After`; CORS answers preflights when configured; `/readyz` says what is not ready.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use jejak_store::test_utils::TestDb;

use super::{app, code, send};
use crate::auth::{self, Role};
use crate::limits::RateLimit;

jejak_store::both_backends! {
    async fn stack_errors_answer_in_the_json_format(db: TestDb) {
        let api = app(db, |l, _| {
            l.max_body_bytes = 1024;
            l.request_timeout = Duration::from_millis(200);
        })
        .await;
        let (st, token) = (&api.st, api.admin.clone());
        let post = |body: Body| {
            Request::post("/v1/events")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(body)
                .unwrap()
        };
        let (s, _, b) = send(st, post(Body::from(vec![b' '; 4096]))).await;
        assert_eq!((s, code(&b)), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"), "{b}");
        // A body that never finishes: the timeout answers, in JSON.
        let (s, _, b) =
            send(st, post(Body::from_stream(futures::stream::pending::<Result<bytes::Bytes, std::io::Error>>()))).await;
        assert_eq!((s, code(&b)), (StatusCode::REQUEST_TIMEOUT, "request_timeout"), "{b}");
        let (s, _, b) = send(st, Request::get("/v1/nowhere").body(Body::empty()).unwrap()).await;
        assert_eq!((s, code(&b)), (StatusCode::NOT_FOUND, "not_found"));
        let (s, h, b) = send(st, Request::delete("/v1/events").body(Body::empty()).unwrap()).await;
        assert_eq!((s, code(&b)), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
        assert!(h.contains_key(header::ALLOW));
        let (s, _, b) = send(st, post(Body::from("{not json"))).await;
        assert_eq!((s, code(&b)), (StatusCode::BAD_REQUEST, "malformed_json"));
        let (s, _, b) = send(st, Request::get("/v1/attestations").body(Body::empty()).unwrap()).await;
        assert_eq!((s, code(&b)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    }
}

jejak_store::both_backends! {
    async fn rate_limits_answer_429_with_retry_after_per_key(db: TestDb) {
        let api = app(db, |_, s| s.rate_limit = RateLimit { per_second: 0.5, burst: 3.0 }).await;
        let (st, token) = (&api.st, api.admin.clone());
        let get = |t: &str| {
            Request::get("/v1/attestations")
                .header(header::AUTHORIZATION, format!("Bearer {t}"))
                .body(Body::empty())
                .unwrap()
        };
        for _ in 0..3 {
            assert_eq!(send(st, get(&token)).await.0, StatusCode::OK);
        }
        let (s, h, b) = send(st, get(&token)).await;
        assert_eq!((s, code(&b)), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
        assert_eq!(h.get(header::RETRY_AFTER).unwrap(), "2");
        // Another key has its own bucket.
        let other = auth::new_key(Role::Auditor, None, None, "t", 0);
        jejak_store::keys::insert(&mut st.store.conn().await.unwrap(), &other.row).await.unwrap();
        assert_eq!(send(st, get(&other.token)).await.0, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_limit_refuses_what_another_replica_spent() {
    let db = TestDb::postgres().await;
    let api = app(db, |_, s| s.rate_limit = RateLimit { per_second: 0.001, burst: 2.0 }).await;
    let (st, token) = (&api.st, api.admin.clone());
    // Another replica spent the key's shared bucket: this instance's own bucket is full, yet it refuses.
    let key_id = &token[3..19];
    let mut c = st.store.conn().await.unwrap();
    for _ in 0..2 {
        assert!(jejak_store::ratelimits::charge(&mut c, key_id, 0.001, 2.0).await.unwrap().admitted);
    }
    let get = Request::get("/v1/attestations")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let (s, h, b) = send(st, get).await;
    assert_eq!((s, code(&b)), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"), "{b}");
    assert!(h.contains_key(header::RETRY_AFTER));
}

jejak_store::both_backends! {
    async fn cors_is_configurable_and_readyz_says_what_is_missing(db: TestDb) {
        let api = app(db, |_, s| s.cors_origins = vec!["https://dash.example".into()]).await;
        let st = &api.st;
        let preflight = Request::builder()
            .method("OPTIONS")
            .uri("/v1/verify/credential")
            .header(header::ORIGIN, "https://dash.example")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization,content-type")
            .body(Body::empty())
            .unwrap();
        let (s, h, _) = send(st, preflight).await;
        assert!(s.is_success(), "{s}");
        assert_eq!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(), "https://dash.example");
        let other = Request::get("/healthz").header(header::ORIGIN, "https://evil.example").body(Body::empty()).unwrap();
        assert!(send(st, other).await.1.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        let plain = app(TestDb::sqlite().await, |_, _| {}).await;
        let plain = &plain.st;
        let get = Request::get("/healthz").header(header::ORIGIN, "https://dash.example").body(Body::empty()).unwrap();
        assert!(send(plain, get).await.1.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(), "no CORS unless configured");

        // No chain seen yet: the database is fine, the chain and indexer are not.
        let (s, _, b) = send(st, Request::get("/readyz").body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(b["checks"]["database"]["ok"], true);
        assert_eq!(b["checks"]["chain"]["ok"], false);
        assert_eq!(b["status"], "not_ready");
        let (s, h, _) = send(st, Request::get("/metrics").body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::OK);
        assert!(h.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/plain"));
    }
}

jejak_store::both_backends! {
    async fn cached_reputation_answers_still_check_the_key(db: TestDb) {
        let api = app(db, |_, s| s.reputation_cache = Duration::from_secs(60)).await;
        let (st, admin) = (&api.st, api.admin.clone());
        let worker = "12345";
        let epoch = jejak_store::scores::EpochRow {
            chain_id: 31337,
            epoch: 1,
            status: jejak_store::scores::EpochStatus::Published,
            as_of: 1,
            as_of_block: 1,
            params_version: 1,
            params_cid: "p".into(),
            depth: 20,
            worker_count: 1,
            root: [1; 32],
            platforms: "[]".into(),
            snapshot_cid: None,
            tx_hash: None,
            error: None,
            created_at: 1,
            updated_at: 1,
        };
        let mut commitment = [0u8; 32];
        commitment[30..].copy_from_slice(&12345u16.to_be_bytes());
        let row = jejak_store::scores::WorkerScoreRow {
            epoch: 1,
            commitment,
            leaf_index: 0,
            reputation: 700,
            credit: 650,
            tier: "B".into(),
            gigs: 10,
            salt: [2; 32],
            leaf: [3; 32],
            card: r#"{"platforms": []}"#.into(),
        };
        let mut tx = st.store.begin().await.unwrap();
        jejak_store::scores::insert_epoch(&mut tx, &epoch, &[row]).await.unwrap();
        jejak_store::commit(tx).await.unwrap();
        let key = auth::new_key(Role::Worker, None, Some(worker.into()), "w", 0);
        jejak_store::keys::insert(&mut st.store.conn().await.unwrap(), &key.row).await.unwrap();
        let get = |t: &str| {
            Request::get(format!("/v1/workers/{worker}/reputation"))
                .header(header::AUTHORIZATION, format!("Bearer {t}"))
                .body(Body::empty())
                .unwrap()
        };
        let (s, _, first) = send(st, get(&key.token)).await;
        assert_eq!(s, StatusCode::OK, "{first}");
        let (s, _, again) = send(st, get(&key.token)).await;
        assert_eq!((s, &again), (StatusCode::OK, &first));
        // Another worker's key never gets this worker's (cached) answer.
        let other = auth::new_key(Role::Worker, None, Some("999".into()), "w", 0);
        jejak_store::keys::insert(&mut st.store.conn().await.unwrap(), &other.row).await.unwrap();
        assert_eq!(send(st, get(&other.token)).await.0, StatusCode::NOT_FOUND);
        // Revoked: no cached answer any more.
        let revoke = Request::post(format!("/v1/keys/{}/revoke", key.row.id))
            .header(header::AUTHORIZATION, format!("Bearer {admin}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(st, revoke).await.0, StatusCode::OK);
        let (s, _, b) = send(st, get(&key.token)).await;
        assert_eq!((s, code(&b)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    }
}
