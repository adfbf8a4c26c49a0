//! The explorer's public reads and the web app beside the API, on both databases: totals,
//! platforms, batches newest first by cursor, epochs with the score distribution, evidence
//! anchors, search by every kind of name, hostile input, and the app's files and headers.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use jejak_store::chain::{self, ChainEvent, Cursor, IndexedLog, LogKey, PlatformEventKind};
use jejak_store::scores::{self, EpochRow, EpochStatus, WorkerScoreRow};
use serde_json::Value;

use super::{TestApi, app, code};

const CHAIN: i64 = 31337;

fn key(block: i64, log: i64, tx: u8) -> LogKey {
    LogKey {
        chain_id: CHAIN,
        block_number: block,
        block_hash: [block as u8; 32],
        log_index: log,
        tx_hash: [tx; 32],
        contract: [0xcc; 20],
    }
}

fn cid(n: u8) -> String {
    jejak_core::cid::raw_cid(&[n]).to_string()
}

/// Two platforms, 25 batches (platform 1 in even blocks), epochs 7 and 8 (7 replaced, 8 scored
/// by this node), two evidence anchors; finalized at block 20.
async fn seed(t: &TestApi) {
    let mut logs = Vec::new();
    for p in [1, 2] {
        logs.push(IndexedLog {
            key: key(1, p, 1),
            event: ChainEvent::Platform {
                platform_id: p,
                kind: PlatformEventKind::Registered,
                signer: Some([p as u8; 20]),
                profile_cid: Some(cid(100 + p as u8)),
                reason_code: None,
            },
        });
    }
    for i in 0..25i64 {
        logs.push(IndexedLog {
            key: key(2 + i, 0, 10 + i as u8),
            event: ChainEvent::Batch {
                batch_id: i,
                platform_id: if i % 2 == 0 { 1 } else { 2 },
                root: [50 + i as u8; 32],
                count: i + 1,
                cid: cid(i as u8),
            },
        });
    }
    logs.push(IndexedLog {
        key: key(30, 0, 90),
        event: ChainEvent::Revocation { batch_id: 3, leaf: [1; 32], reason_code: 2 },
    });
    for (e, block) in [(7, 31), (8, 33)] {
        logs.push(IndexedLog {
            key: key(block, 0, 100 + e as u8),
            event: ChainEvent::RootPublished {
                epoch: e,
                root: [e as u8; 32],
                snapshot_cid: cid(200 + e as u8),
                params_version: 1,
            },
        });
    }
    logs.push(IndexedLog { key: key(34, 0, 120), event: ChainEvent::RootReplaced { epoch: 7, expires_at: 99 } });
    for (i, size) in [(0i64, 4i64), (1, 9)] {
        logs.push(IndexedLog {
            key: key(35 + i, 0, 130 + i as u8),
            event: ChainEvent::Evidence { checkpoint: i, root: [140 + i as u8; 32], size, cid: cid(150 + i as u8) },
        });
    }
    let mut c = t.st.store.conn().await.unwrap();
    chain::insert_logs(&mut c, &logs).await.unwrap();
    chain::save_cursor(
        &mut c,
        &Cursor {
            chain_id: CHAIN,
            block_number: 40,
            block_hash: [40; 32],
            head_number: 42,
            finalized_number: 20,
            reorgs: 0,
            updated_at: 0,
        },
    )
    .await
    .unwrap();
    let epoch = EpochRow {
        chain_id: CHAIN,
        epoch: 8,
        status: EpochStatus::Published,
        as_of: 8,
        as_of_block: 30,
        params_version: 1,
        params_cid: cid(1),
        depth: 20,
        worker_count: 5,
        root: [8; 32],
        platforms: "[]".into(),
        snapshot_cid: Some(cid(208)),
        tx_hash: Some([108; 32]),
        error: None,
        created_at: 0,
        updated_at: 0,
    };
    // Reputation 0, 150, 199, 999, 1000; credit 300, 300, 649, 849, 850.
    let workers: Vec<WorkerScoreRow> = [(0, 300), (150, 300), (199, 649), (999, 849), (1000, 850)]
        .into_iter()
        .enumerate()
        .map(|(i, (reputation, credit))| WorkerScoreRow {
            epoch: 8,
            commitment: [i as u8; 32],
            leaf_index: i as i64,
            reputation,
            credit,
            tier: "C".into(),
            gigs: 3,
            salt: [0; 32],
            leaf: [i as u8; 32],
            card: "{}".into(),
        })
        .collect();
    scores::insert_epoch(&mut c, &epoch, &workers).await.unwrap();
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

async fn json(t: &TestApi, path: &str) -> Value {
    let (s, _, v) = t.send(get(path)).await;
    assert_eq!(s, StatusCode::OK, "{path}: {v}");
    v
}

jejak_store::both_backends! {
    async fn summary_platforms_and_batches_without_a_key(db: jejak_store::test_utils::TestDb) {
        let t = app(db, |_, _| {}).await;
        let empty = json(&t, "/v1/explorer/summary").await;
        assert_eq!((empty["platforms"].as_i64(), empty["attestations_anchored"].as_i64()), (Some(0), Some(0)));
        seed(&t).await;
        let s = json(&t, "/v1/explorer/summary").await;
        assert_eq!(s["platforms"], 2);
        assert_eq!(s["batches"], 25);
        assert_eq!(s["attestations_anchored"], (1..=25).sum::<i64>());
        assert_eq!(s["epochs"], 2);
        assert_eq!(s["evidence_checkpoints_anchored"], 2);
        assert_eq!(s["indexer"], serde_json::json!({"head": 42, "finalized": 20, "cursor": 40, "lag": 2}));

        let p = json(&t, "/v1/explorer/platforms?limit=1").await;
        assert_eq!(p["data"][0]["platform_id"], 1);
        assert_eq!(p["data"][0]["batches"], 13);
        assert_eq!(p["data"][0]["attestations"], (0..25).step_by(2).map(|i| i + 1).sum::<i64>());
        let next = p["next_cursor"].as_str().unwrap();
        let p2 = json(&t, &format!("/v1/explorer/platforms?limit=1&cursor={next}")).await;
        assert_eq!(p2["data"][0]["platform_id"], 2);
        assert_eq!(p2["next_cursor"], Value::Null);
        assert_eq!(json(&t, "/v1/explorer/platforms/2").await["signer"], format!("0x{}", "02".repeat(20)));

        // Newest first, page after page, nothing twice, nothing missed.
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = json(&t, &format!("/v1/explorer/batches?limit=10&cursor={cursor}")).await;
            seen.extend(page["data"].as_array().unwrap().iter().map(|b| b["batch_id"].as_i64().unwrap()));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => break,
            }
        }
        assert_eq!(seen, (0..25i64).rev().collect::<Vec<_>>());
        let mine = json(&t, "/v1/explorer/batches?platform_id=2&limit=100").await;
        assert!(mine["data"].as_array().unwrap().iter().all(|b| b["platform_id"] == 2));
        assert_eq!(mine["data"].as_array().unwrap().len(), 12);

        let b = json(&t, "/v1/explorer/batches/3").await;
        assert_eq!(b["root"], hex::encode([53u8; 32]));
        assert_eq!(b["count"], 4);
        assert_eq!(b["cid"], cid(3));
        assert_eq!(b["transaction_hash"], format!("0x{}", hex::encode([13u8; 32])));
        assert_eq!(b["block_number"], 5);
        assert_eq!(b["finalized"], true);
        assert_eq!(b["revocations"], 1);
        assert_eq!(json(&t, "/v1/explorer/batches/24").await["finalized"], false, "block 26 is above finality");
    }
}

jejak_store::both_backends! {
    async fn epochs_with_their_distribution_and_evidence_anchors(db: jejak_store::test_utils::TestDb) {
        let t = app(db, |_, _| {}).await;
        seed(&t).await;
        let list = json(&t, "/v1/explorer/epochs?limit=1").await;
        assert_eq!(list["data"][0]["epoch"], 8);
        let next = list["next_cursor"].as_str().unwrap();
        let older = json(&t, &format!("/v1/explorer/epochs?cursor={next}")).await;
        assert_eq!(older["data"][0]["epoch"], 7);
        assert_eq!(older["data"][0]["replaced"], true);
        assert_eq!(older["next_cursor"], Value::Null);

        let e = json(&t, "/v1/explorer/epochs/8").await;
        assert_eq!(e["root"], hex::encode([8u8; 32]));
        assert_eq!(e["snapshot_cid"], cid(208));
        assert_eq!(e["params_version"], 1);
        assert_eq!(e["replaced"], false);
        let d = &e["distribution"];
        assert_eq!(d["workers"], 5);
        let counts = |v: &Value| v.as_array().unwrap().iter().map(|b| b["count"].as_i64().unwrap()).collect::<Vec<_>>();
        assert_eq!(counts(&d["reputation"]), [1, 2, 0, 0, 0, 0, 0, 0, 0, 2], "1000 falls in the top range");
        assert_eq!(counts(&d["credit"]), [2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
        assert_eq!((d["credit"][10]["from"].as_i64(), d["credit"][10]["to"].as_i64()), (Some(800), Some(850)));
        let text = e.to_string();
        assert!(!text.contains(&hex::encode([1u8; 32])), "no worker's commitment or leaf");
        assert_eq!(json(&t, "/v1/explorer/epochs/7").await.get("distribution"), None, "not computed here");

        let ev = json(&t, "/v1/explorer/evidence?limit=1").await;
        assert_eq!((ev["data"][0]["index"].as_i64(), ev["data"][0]["size"].as_i64()), (Some(1), Some(9)));
        let next = ev["next_cursor"].as_str().unwrap();
        assert_eq!(json(&t, &format!("/v1/explorer/evidence?cursor={next}")).await["data"][0]["index"], 0);
    }
}

jejak_store::both_backends! {
    async fn search_by_transaction_root_id_and_cid(db: jejak_store::test_utils::TestDb) {
        let t = app(db, |_, _| {}).await;
        seed(&t).await;
        let kinds = |v: Value| {
            v["data"].as_array().unwrap().iter().map(|h| format!("{}:{}", h["kind"].as_str().unwrap(), h["id"])).collect::<Vec<_>>()
        };
        let q = |s: String| format!("/v1/explorer/search?q={s}");
        assert_eq!(kinds(json(&t, &q(format!("0x{}", hex::encode([13u8; 32])))).await), ["batch:3"]);
        assert_eq!(kinds(json(&t, &q(hex::encode([53u8; 32]).to_uppercase())).await), ["batch:3"]);
        assert_eq!(kinds(json(&t, &q(hex::encode([8u8; 32]))).await), ["epoch:8"]);
        assert_eq!(kinds(json(&t, &q(hex::encode([141u8; 32]))).await), ["evidence:1"]);
        assert_eq!(kinds(json(&t, &q(cid(3))).await), ["batch:3"]);
        assert_eq!(kinds(json(&t, &q(cid(207))).await), ["epoch:7"]);
        assert_eq!(kinds(json(&t, &q(cid(150))).await), ["evidence:0"]);
        assert_eq!(kinds(json(&t, &q("2".into())).await), ["batch:2", "platform:2"]);
        assert_eq!(kinds(json(&t, &q("8".into())).await), ["batch:8", "epoch:8"]);
        assert_eq!(kinds(json(&t, &q(hex::encode([99u8; 32]))).await), Vec::<String>::new());
        let hit = json(&t, &q(hex::encode([53u8; 32]))).await;
        assert_eq!((hit["data"][0]["size"].as_i64(), hit["data"][0]["finalized"].as_bool()), (Some(4), Some(true)));
    }
}

jejak_store::both_backends! {
    async fn hostile_explorer_input_gets_stable_codes(db: jejak_store::test_utils::TestDb) {
        let t = app(db, |_, _| {}).await;
        seed(&t).await;
        for (path, status, want) in [
            ("/v1/explorer/search?q=hello", 422, "invalid_search"),
            ("/v1/explorer/search?q=", 422, "invalid_search"),
            ("/v1/explorer/search", 422, "invalid_request"),
            ("/v1/explorer/search?q=0xzz", 422, "invalid_search"),
            ("/v1/explorer/search?q=99999999999999999999", 422, "invalid_search"),
            ("/v1/explorer/batches/-1", 404, "batch_not_found"),
            ("/v1/explorer/batches/99", 404, "batch_not_found"),
            ("/v1/explorer/batches/1e9", 404, "batch_not_found"),
            ("/v1/explorer/platforms/3", 404, "platform_not_found"),
            ("/v1/explorer/epochs/18446744073709551616", 404, "epoch_not_found"),
            ("/v1/explorer/batches?limit=0", 422, "invalid_request"),
            ("/v1/explorer/batches?limit=101", 422, "invalid_request"),
            ("/v1/explorer/batches?cursor=!!", 422, "invalid_request"),
            ("/v1/explorer/batches?cursor=MTI", 422, "invalid_request"),
            ("/v1/explorer/batches?platform_id=x", 422, "invalid_request"),
            ("/v1/explorer/epochs?cursor=eA", 422, "invalid_request"),
            ("/v1/session", 401, "unauthorized"),
        ] {
            let (s, _, v) = t.send(get(path)).await;
            assert_eq!((s.as_u16(), code(&v)), (status, want), "{path}: {v}");
        }
        let long = format!("/v1/explorer/search?q={}", "b".repeat(10_000));
        let (s, _, v) = t.send(get(&long)).await;
        assert_eq!((s.as_u16(), code(&v)), (422, "invalid_search"));
    }
}

jejak_store::both_backends! {
    async fn the_web_app_beside_the_api(db: jejak_store::test_utils::TestDb) {
        let t = app(db, |_, _| {}).await;
        for path in ["/", "/batches/3", "/platforms/1", "/epochs/8", "/evidence", "/check", "/search", "/signin", "/wallet/x", "/console/verify", "/prove?context=x&min=1"] {
            let (s, h, _) = t.send(get(path)).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8", "{path}");
            assert_eq!(h[header::CACHE_CONTROL], "no-cache");
            let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(csp.contains("script-src 'self';") && !csp.contains("unsafe"), "{csp}");
            assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        }
        let resp = tower::ServiceExt::oneshot(crate::router(t.st.clone()), get("/")).await.unwrap();
        let html = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
        let html = String::from_utf8(html.to_vec()).unwrap();
        assert!(!html.contains("<script>") && !html.contains("style="), "nothing inline");
        let script = html.split("src=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        assert!(script.starts_with("/assets/") && script.ends_with(".js"), "{script}");
        let (s, h, _) = t.send(get(&script)).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(h[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert!(h.get(header::CONTENT_ENCODING).is_none(), "not compressed unless asked");
        let plain_len: usize = h[header::CONTENT_LENGTH].to_str().unwrap().parse().unwrap();
        let req = Request::get(&script).header(header::ACCEPT_ENCODING, "gzip, br").body(Body::empty()).unwrap();
        let (s, h, _) = t.send(req).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h[header::CONTENT_ENCODING], "gzip");
        assert!(h[header::CONTENT_LENGTH].to_str().unwrap().parse::<usize>().unwrap() < plain_len / 2);
        let etag = h[header::ETAG].clone();
        let req = Request::get(&script).header(header::IF_NONE_MATCH, etag).body(Body::empty()).unwrap();
        assert_eq!(t.send(req).await.0, StatusCode::NOT_MODIFIED);

        // The API's routes are never the app's, and what is neither stays a JSON 404.
        for (path, status) in [("/healthz", 200), ("/openapi.json", 200), ("/v1/nothing", 404), ("/ipfs", 404)] {
            let (s, h, _) = t.send(get(path)).await;
            assert_eq!(s.as_u16(), status, "{path}");
            assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/json"), "{path}");
        }
        for path in ["/assets/missing.js", "/favicon.ico", "/index.html", "/assets/../index.html", "/.env"] {
            let (s, _, v) = t.send(get(path)).await;
            assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "not_found"), "{path}");
        }
        let post = Request::post("/").body(Body::empty()).unwrap();
        assert_eq!(t.send(post).await.0, StatusCode::NOT_FOUND);
    }
}

jejak_store::both_backends! {
    async fn session_names_the_signed_in_key(db: jejak_store::test_utils::TestDb) {
        let t = app(db, |_, _| {}).await;
        let token = t.key(crate::auth::Role::Platform, Some(4), None).await;
        let req = Request::get("/v1/session").header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
        let (s, _, v) = t.send(req).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!((v["role"].as_str(), v["platform_id"].as_i64()), (Some("platform"), Some(4)));
        assert!(v.get("token").is_none() && !v.to_string().contains(&token), "the secret is not echoed");
    }
}
