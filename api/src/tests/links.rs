//! Linking an account to a worker's identity needs the worker's consent, each test on SQLite and
//! on PostgreSQL: a platform that knows a commitment but not the secret cannot link it (no token,
//! a token of its own key, the worker's token for another platform or account); a token links
//! once; expired, far-future, foreign-chain and malformed tokens are refused with their codes
//! and nothing of the request is stored; a node-held identity's token comes from the worker's
//! key only.

use std::time::Duration;

use axum::http::StatusCode;
use jejak_store::test_utils::TestDb;
use jejak_zk_circuits::{Fr, fr_to_decimal, identity_commitment};
use serde_json::{Value, json};

use super::hardening::{attestation_count, post_json, register};
use super::{TestApi, app, app_with, code};
use crate::auth::Role;
use crate::services::links::{self, MAX_LIFETIME_SECS};
use crate::{Limits, Services};

const CHAIN: u64 = 31337;
const WORKER: u64 = 8_675_309;

fn now() -> u64 {
    jejak_store::now_secs() as u64
}

fn commitment(secret: u64) -> String {
    fr_to_decimal(&identity_commitment(Fr::from(secret)))
}

/// The worker's token for `account` of `platform`, valid for an hour from `from`.
fn token_at(secret: u64, platform: u64, account: &str, from: u64) -> Value {
    serde_json::to_value(links::issue(&Fr::from(secret), CHAIN, platform, account, from, 3600).unwrap()).unwrap()
}

fn token(secret: u64, platform: u64, account: &str) -> Value {
    token_at(secret, platform, account, now())
}

fn linked(account: &str, commitment: &str, token: Option<Value>) -> Value {
    let mut data = json!({"identity_commitment": commitment});
    if let Some(t) = token {
        data["link_token"] = t;
    }
    json!({"type": "account_linked", "worker": account, "occurred_at": "2026-01-01T00:00:00Z", "data": data})
}

/// Posts `events` as `key`; the status, the error code (empty on success) and the body.
async fn post(api: &TestApi, key: &str, events: Vec<Value>) -> (StatusCode, String, Value) {
    let (s, _, b) = api.send(post_json("/v1/events", key, &json!({ "events": events }))).await;
    (s, code(&b).to_owned(), b)
}

async fn two_platforms(db: TestDb) -> (TestApi, String, String) {
    let api = app(db, |_, _| {}).await;
    register(&api, 1).await;
    register(&api, 2).await;
    let k1 = api.key(Role::Platform, Some(1), None).await;
    let k2 = api.key(Role::Platform, Some(2), None).await;
    (api, k1, k2)
}

jejak_store::both_backends! {
    async fn a_platform_that_knows_only_the_commitment_cannot_link(db: TestDb) {
        let (api, k1, k2) = two_platforms(db).await;
        let victim = commitment(WORKER);
        // Platform 2 knows the commitment (a worker id is no secret) but not the secret.
        let mut own_key = token(777, 2, "mallory-2");
        own_key["commitment"] = json!(victim);
        let stolen = token(WORKER, 1, "ayu-1");
        let mut stolen_for_2 = stolen.clone();
        stolen_for_2["platform_id"] = json!(2);
        let attempts = [
            ("no token", None),
            ("a token signed with the platform's own key", Some(own_key)),
            ("the worker's token for platform 1", Some(stolen.clone())),
            ("the worker's token for platform 1, relabelled", Some(stolen_for_2)),
        ];
        for (what, t) in attempts {
            let account = match &t {
                Some(t) => t["account"].as_str().unwrap().to_owned(),
                None => "mallory-2".to_owned(),
            };
            let (s, c, b) = post(&api, &k2, vec![linked(&account, &victim, t)]).await;
            assert_eq!((s, c.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "link_token_invalid"), "{what}: {b}");
            assert_eq!(b["error"]["details"]["errors"][0]["index"], 0, "{what}: {b}");
        }
        assert_eq!(attestation_count(&api).await, 0, "nothing was stored");
        // A token for account `ayu-1` does not link account `ayu-2`, even for platform 1.
        let (s, c, b) = post(&api, &k1, vec![linked("ayu-2", &victim, Some(stolen.clone()))]).await;
        assert_eq!((s, c.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "link_token_invalid"), "{b}");
        // Nor one identity another.
        let (s, c, b) = post(&api, &k1, vec![linked("ayu-1", &commitment(WORKER + 1), Some(stolen.clone()))]).await;
        assert_eq!((s, c.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "link_token_invalid"), "{b}");
        assert_eq!(attestation_count(&api).await, 0);

        // The worker's consent, sent by the platform it names, for the account it names, links.
        let (s, _, b) = post(&api, &k1, vec![linked("ayu-1", &victim, Some(stolen))]).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        assert_eq!(attestation_count(&api).await, 1);
    }
}

jejak_store::both_backends! {
    async fn a_link_token_links_once(db: TestDb) {
        let (api, k1, _) = two_platforms(db).await;
        let c = commitment(WORKER);
        let t = token(WORKER, 1, "ayu-1");
        let (s, _, b) = post(&api, &k1, vec![linked("ayu-1", &c, Some(t.clone()))]).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        let (s, code, b) = post(&api, &k1, vec![linked("ayu-1", &c, Some(t.clone()))]).await;
        assert_eq!((s, code.as_str()), (StatusCode::CONFLICT, "link_token_used"), "{b}");
        // Twice in one request: the second use is refused and the whole request with it.
        let fresh = token(WORKER, 1, "ayu-1");
        let task = json!({"type": "task_completed", "worker": "ayu-1", "occurred_at": "2026-01-01T00:00:00Z",
            "data": {"task_id": "t-1"}});
        let twice = vec![task, linked("ayu-1", &c, Some(fresh.clone())), linked("ayu-1", &c, Some(fresh))];
        let (s, code, b) = post(&api, &k1, twice).await;
        assert_eq!((s, code.as_str()), (StatusCode::CONFLICT, "link_token_used"), "{b}");
        assert_eq!(attestation_count(&api).await, 1, "only the first link");

        // An event repeated under its event_id is a duplicate, not a second use.
        let mut once = linked("ayu-1", &c, Some(token(WORKER, 1, "ayu-1")));
        once["event_id"] = json!("link-1");
        let (s, _, b) = post(&api, &k1, vec![once.clone()]).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        let (s, _, b) = post(&api, &k1, vec![once]).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        assert_eq!(b["accepted"][0]["duplicate"], true, "{b}");
        assert_eq!(attestation_count(&api).await, 2);
    }
}

jejak_store::both_backends! {
    async fn expired_far_future_foreign_and_malformed_tokens_are_refused(db: TestDb) {
        let (api, k1, _) = two_platforms(db).await;
        let c = commitment(WORKER);
        let ok = token(WORKER, 1, "ayu-1");

        let expired = token_at(WORKER, 1, "ayu-1", now() - 7200);
        let (s, code, b) = post(&api, &k1, vec![linked("ayu-1", &c, Some(expired))]).await;
        assert_eq!((s, code.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "link_token_expired"), "{b}");

        // Signed, but valid for longer than the node accepts.
        let far = serde_json::to_value(
            links::issue(&Fr::from(WORKER), CHAIN, 1, "ayu-1", now() + 86_400, MAX_LIFETIME_SECS).unwrap(),
        )
        .unwrap();
        let foreign =
            serde_json::to_value(links::issue(&Fr::from(WORKER), 137, 1, "ayu-1", now(), 3600).unwrap()).unwrap();
        let mut forged = ok.clone();
        forged["signature"] = json!("00".repeat(64));
        let mut altered = ok.clone();
        altered["expires_at"] = json!(ok["expires_at"].as_u64().unwrap() + 1);
        let mut absurd = ok.clone();
        absurd["expires_at"] = json!(u64::MAX);
        let mut short_nonce = ok.clone();
        short_nonce["nonce"] = json!("abcd");
        let mut extra = ok.clone();
        extra["scope"] = json!("everything");
        let cases = [
            ("far future", far),
            ("another chain", foreign),
            ("forged signature", forged),
            ("altered expiry", altered),
            ("absurd expiry", absurd),
            ("short nonce", short_nonce),
            ("unknown field", extra),
            ("a string", json!("jlt1.not-a-token")),
            ("an array", json!([1, 2, 3])),
            ("a huge account", json!({"v": 1, "account": "x".repeat(100_000)})),
        ];
        for (what, t) in cases {
            let (s, code, b) = post(&api, &k1, vec![linked("ayu-1", &c, Some(t))]).await;
            assert_eq!((s, code.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "link_token_invalid"), "{what}: {b}");
        }
        // Among other events, the refused one is named by its index.
        let task = json!({"type": "task_completed", "worker": "ayu-1", "occurred_at": "2026-01-01T00:00:00Z",
            "data": {"task_id": "t-1"}});
        let (s, code, b) = post(&api, &k1, vec![task, linked("ayu-1", &c, None)]).await;
        assert_eq!((s, code.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "link_token_invalid"), "{b}");
        assert_eq!(b["error"]["details"]["errors"][0]["index"], 1, "{b}");
        assert_eq!(attestation_count(&api).await, 0, "nothing was stored");

        // The good token still links: refusals consumed nothing.
        let (s, _, b) = post(&api, &k1, vec![linked("ayu-1", &c, Some(ok))]).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    }
}

jejak_store::both_backends! {
    async fn a_node_held_identity_issues_link_tokens_on_the_worker_key_only(db: TestDb) {
        let services = Services::new(
            Default::default(),
            ed25519_dalek::SigningKey::from_bytes(&[5; 32]),
            Duration::from_secs(60),
            None,
        )
        .unwrap()
        .with_sealing_key([9; 32]);
        let api = app_with(db, Limits::default(), services).await;
        register(&api, 1).await;
        let platform = api.key(Role::Platform, Some(1), None).await;
        let (s, _, b) = api.send(post_json("/v1/identities", &platform, &json!({}))).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let worker = b["worker"].as_str().unwrap().to_owned();
        let own = api.key(Role::Worker, None, Some(&worker)).await;
        let path = format!("/v1/workers/{worker}/link-tokens");
        let ask = json!({"platform_id": 1, "account": "driver-7"});

        // The platform that made the identity, an admin and another worker cannot consent for it.
        let other = api.key(Role::Worker, None, Some(&commitment(5))).await;
        for key in [&platform, &api.admin, &other] {
            let (s, _, b) = api.send(post_json(&path, key, &ask)).await;
            assert_eq!((s, code(&b)), (StatusCode::NOT_FOUND, "worker_not_found"), "{b}");
        }
        let (s, _, b) = post(&api, &platform, vec![linked("driver-7", &worker, None)]).await;
        assert_eq!((s, code(&b)), (StatusCode::UNPROCESSABLE_ENTITY, "link_token_invalid"), "{b}");

        // The worker's own key gets a token, and the platform links with it.
        let (s, _, b) = api.send(post_json(&path, &own, &ask)).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let t = b["link_token"].clone();
        assert_eq!((t["platform_id"].as_u64(), t["account"].as_str()), (Some(1), Some("driver-7")));
        assert_eq!(t["commitment"], worker);
        let expires = t["expires_at"].as_u64().unwrap();
        assert!(expires > now() && expires <= now() + links::DEFAULT_LIFETIME_SECS, "{t}");
        let (s, _, b) = post(&api, &platform, vec![linked("driver-7", &worker, Some(t))]).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");

        for bad in [
            json!({"platform_id": 1, "account": "d", "lifetime_secs": 0}),
            json!({"platform_id": 1, "account": "d", "lifetime_secs": MAX_LIFETIME_SECS + 1}),
            json!({"platform_id": 0, "account": "d"}),
            json!({"platform_id": 1, "account": ""}),
            json!({"platform_id": 1, "account": "x".repeat(129)}),
            json!({"platform_id": 1}),
        ] {
            let (s, _, b) = api.send(post_json(&path, &own, &bad)).await;
            assert_eq!((s, code(&b)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"), "{bad}: {b}");
        }
    }
}
