//! The role matrix: every endpoint of the OpenAPI document, called with no key and with an admin,
//! platform, worker and auditor key, answers what the roles promise. A route added to the API
//! without a row here fails the test.

use std::collections::BTreeSet;

use jejak_api::auth::Role;
use jejak_tests::reputation::commitment;
use jejak_tests::{TestChain, TestNode, init_logs, on_both_databases};
use serde_json::{Value, json};

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Nobody,
    Admin,
    Platform,
    Worker,
    Auditor,
}

const WHO: [Who; 5] = [Who::Nobody, Who::Admin, Who::Platform, Who::Worker, Who::Auditor];

/// One endpoint: method, the path as the document names it, the concrete path and body, and
/// the status expected for [nobody, admin, platform, worker, auditor].
struct Row {
    method: &'static str,
    template: &'static str,
    path: String,
    body: Option<Value>,
    expect: [u16; 5],
}

fn row(
    method: &'static str,
    template: &'static str,
    path: impl Into<String>,
    body: Option<Value>,
    expect: [u16; 5],
) -> Row {
    Row { method, template, path: path.into(), body, expect }
}

on_both_databases! {
    async fn every_endpoint_answers_every_role_as_promised(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        let p1 = chain.register_platform(chain.operator()).await;
        let p2 = chain.register_platform(alloy::primitives::Address::repeat_byte(7)).await;
        let node = TestNode::start(&chain, backend).await;
        node.wait_for_platform(p2).await;
        let worker_id = commitment(7);
        let tokens = [
            None,
            Some(node.key(Role::Admin, None).await),
            Some(node.key(Role::Platform, Some(p1)).await),
            Some(node.worker_key(&worker_id).await),
            Some(node.key(Role::Auditor, None).await),
        ];
        let platform = tokens[2].clone().unwrap();
        let admin = tokens[1].clone().unwrap();

        // Fixtures: an attestation, a task, a published epoch, a credential, a block.
        let event = json!({"type": "task_completed", "worker": "courier-7", "occurred_at": "2026-01-01T00:00:00Z",
            "data": {"task_id": "t1", "earnings_minor": 1000, "currency": "IDR"}});
        let (s, b) = node.post_events(&platform, &json!({"events": [event.clone()]}), None).await;
        assert_eq!(s, 202, "{b}");
        let att = b["accepted"][0]["id"].as_str().unwrap().to_owned();
        let (_, receipt) = node.get(&admin, &format!("/v1/attestations/{att}")).await;
        let now = time::OffsetDateTime::now_utc();
        let gig_body = json!({"title": "Matrix", "category": "test", "location": {"kind": "remote"},
            "pay": {"kind": "fixed", "budget_minor": 100}, "currency": "IDR", "deadline": now.unix_timestamp() + 86_400});
        let (s, b) = node.call("POST", "/v1/market/gigs", Some(&platform), Some(&gig_body)).await;
        assert_eq!(s, 201, "{b}");
        let gig = b["id"].as_str().unwrap().to_owned();
        let rfc = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
        let task_body = json!({"platform_id": p1, "task_id": "matrix-1", "type": "delivery", "worker": worker_id,
            "worker_key": "11".repeat(32), "window": {"start": rfc(now - time::Duration::minutes(5)),
            "end": rfc(now + time::Duration::hours(1))}, "location": {"lat": -6.2, "lon": 106.8}});
        let (s, b) = node.call("POST", "/v1/tasks", Some(&platform), Some(&task_body)).await;
        assert_eq!(s, 201, "{b}");
        let task = b["id"].as_str().unwrap().to_owned();
        node.publish_fake_epoch(1, &worker_id, p1 as i64, 640).await;
        let (s, b) = node.call("POST", "/v1/credentials", Some(&admin), Some(&json!({"worker": worker_id}))).await;
        assert_eq!(s, 201, "{b}");
        let credential = b["id"].as_str().unwrap().to_owned();
        let vc = b["credential"].clone();
        let vc_template = json!({"@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential", "JejakReputationCredential"],
            "credentialSubject": {"id": format!("urn:jejak:worker:{worker_id}")}});
        let unsigned_vp = json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiablePresentation",
            "verifiableCredential": [vc.clone()]});
        let cid = node.node.blockstore.put(b"a public document").await.unwrap().to_string();
        let (s, b) = node.call("POST", "/v1/keys", Some(&admin), Some(&json!({"role": "auditor", "label": "doomed"}))).await;
        assert_eq!(s, 201, "{b}");
        let doomed = b["key"]["id"].as_str().unwrap().to_owned();
        let sub_body = json!({"platform_id": p1, "url": "http://127.0.0.1:9/hook", "events": ["batch.finalized"]});
        let mut subs = Vec::new();
        for _ in 0..2 {
            let (s, b) = node.call("POST", "/v1/webhooks/subscriptions", Some(&platform), Some(&sub_body)).await;
            assert_eq!(s, 201, "{b}");
            subs.push(b["id"].as_str().unwrap().to_owned());
        }

        let ok = 200;
        let rows = vec![
            // Public.
            row("GET", "/healthz", "/healthz", None, [ok; 5]),
            row("GET", "/readyz", "/readyz", None, [ok; 5]),
            row("GET", "/metrics", "/metrics", None, [ok; 5]),
            row("GET", "/openapi.json", "/openapi.json", None, [ok; 5]),
            row("GET", "/v1/index/status", "/v1/index/status", None, [ok; 5]),
            row("GET", "/ipfs/{cid}", format!("/ipfs/{cid}"), None, [ok; 5]),
            row("HEAD", "/ipfs/{cid}", format!("/ipfs/{cid}"), None, [ok; 5]),
            row("GET", "/v1/evidence/checkpoints", "/v1/evidence/checkpoints", None, [ok; 5]),
            row("GET", "/v1/evidence/consistency", "/v1/evidence/consistency?from=0&to=0", None, [422; 5]),
            row("GET", "/v1/credentials/issuer", "/v1/credentials/issuer", None, [ok; 5]),
            row("GET", "/v1/credentials/status/{list}", "/v1/credentials/status/1", None, [ok; 5]),
            // The explorer: public chain facts.
            row("GET", "/v1/explorer/summary", "/v1/explorer/summary", None, [ok; 5]),
            row("GET", "/v1/explorer/platforms", "/v1/explorer/platforms", None, [ok; 5]),
            row("GET", "/v1/explorer/platforms/{id}", format!("/v1/explorer/platforms/{p1}"), None, [ok; 5]),
            row("GET", "/v1/explorer/batches", "/v1/explorer/batches", None, [ok; 5]),
            row("GET", "/v1/explorer/batches/{id}", "/v1/explorer/batches/999", None, [404; 5]),
            row("GET", "/v1/explorer/epochs", "/v1/explorer/epochs", None, [ok; 5]),
            row("GET", "/v1/explorer/epochs/{epoch}", "/v1/explorer/epochs/999", None, [404; 5]),
            row("GET", "/v1/explorer/evidence", "/v1/explorer/evidence", None, [ok; 5]),
            row("GET", "/v1/explorer/search", "/v1/explorer/search?q=1", None, [ok; 5]),
            row("GET", "/v1/session", "/v1/session", None, [401, ok, ok, ok, ok]),
            // Signed, not keyed: a key is no signature.
            row("POST", "/v1/webhooks/events", "/v1/webhooks/events", Some(json!({"events": [event.clone()]})), [401; 5]),
            // Events and history.
            row("POST", "/v1/events", "/v1/events", Some(json!({"platform_id": p1, "events": [event.clone()]})), [401, 202, 202, 403, 403]),
            row("GET", "/v1/attestations", "/v1/attestations", None, [401, ok, ok, 403, ok]),
            row("GET", "/v1/attestations/{id}", format!("/v1/attestations/{att}"), None, [401, ok, ok, 404, ok]),
            row("GET", "/v1/workers/{id}/reputation", format!("/v1/workers/{worker_id}/reputation"), None, [401, ok, ok, ok, ok]),
            // Proof of reality.
            row("POST", "/v1/witnesses", "/v1/witnesses", Some(json!({"platform_id": p1, "key": "22".repeat(32)})), [401, 201, ok, 403, 403]),
            row("GET", "/v1/witnesses", "/v1/witnesses", None, [401, 403, ok, 403, 403]),
            row("POST", "/v1/tasks", "/v1/tasks", Some(task_body.clone()), [401, ok, ok, 403, 403]),
            row("GET", "/v1/tasks/{id}", format!("/v1/tasks/{task}"), None, [401, ok, ok, ok, ok]),
            row("GET", "/v1/tasks", "/v1/tasks", None, [401, ok, ok, ok, ok]),
            // Someone's bundle: a worker's own (or an admin's); this worker has no published score.
            row("GET", "/v1/workers/{id}/bundle", format!("/v1/workers/{}/bundle", commitment(9)), None, [401, 404, 403, 404, 403]),
            row("POST", "/v1/tasks/{id}/nonce", format!("/v1/tasks/{task}/nonce"), None, [401, 201, ok, ok, 403]),
            row("POST", "/v1/tasks/{id}/witnesses", format!("/v1/tasks/{task}/witnesses"), Some(json!({"witnesses": []})), [401, ok, ok, ok, 403]),
            row("POST", "/v1/tasks/{id}/evidence", format!("/v1/tasks/{task}/evidence"), Some(json!({})), [401, 400, 400, 400, 403]),
            row("GET", "/v1/evidence/{sha256}/receipt", format!("/v1/evidence/{}/receipt", "ab".repeat(32)), None, [401, 404, 404, 404, 404]),
            // Keys.
            row("POST", "/v1/keys", "/v1/keys", Some(json!({"role": "auditor"})), [401, 201, 403, 403, 403]),
            row("GET", "/v1/keys", "/v1/keys", None, [401, ok, ok, 403, 403]),
            row("POST", "/v1/keys/{id}/revoke", format!("/v1/keys/{doomed}/revoke"), None, [401, ok, 403, 403, 403]),
            // Verification.
            row("POST", "/v1/verify/proof", "/v1/verify/proof", Some(json!({"proof": {}, "context": "matrix"})), [401, 503, 503, 403, 403]),
            row("POST", "/v1/verify/credential", "/v1/verify/credential", Some(json!({"credential": {}})), [401, ok, ok, ok, ok]),
            row("POST", "/v1/verify/receipt", "/v1/verify/receipt", Some(json!({"receipt": receipt})), [401, ok, ok, ok, ok]),
            row("GET", "/v1/proofs/consumed/{nullifier}", "/v1/proofs/consumed/1", None, [401, ok, ok, ok, ok]),
            // The W3C VC-API: issuing as POST /v1/credentials, verifying for every key.
            row("POST", "/credentials/issue", "/credentials/issue", Some(json!({"credential": vc_template})), [401, 201, 403, 201, 403]),
            row("POST", "/credentials/verify", "/credentials/verify", Some(json!({"verifiableCredential": vc})), [401, ok, ok, ok, ok]),
            row("POST", "/presentations/verify", "/presentations/verify", Some(json!({"presentation": unsigned_vp})), [401, ok, ok, ok, ok]),
            // Node-held identities (this node has no proving key: the worker and admins get 503,
            // everyone else the answer a missing worker gets).
            row("POST", "/v1/identities", "/v1/identities", Some(json!({"label": "matrix"})), [401, 201, 201, 403, 403]),
            row("POST", "/v1/workers/{id}/proofs", format!("/v1/workers/{worker_id}/proofs"),
                Some(json!({"context": "matrix", "min_score": 0, "min_gigs": 0, "min_tier": 0})), [401, 503, 404, 503, 404]),
            // Link tokens: the worker's alone (this worker holds their own secret: 409).
            row("POST", "/v1/workers/{id}/link-tokens", format!("/v1/workers/{worker_id}/link-tokens"),
                Some(json!({"platform_id": p1, "account": "courier-7"})), [401, 404, 404, 409, 404]),
            // Credentials.
            row("POST", "/v1/credentials", "/v1/credentials", Some(json!({"worker": worker_id})), [401, 201, 403, 201, 403]),
            row("GET", "/v1/credentials", "/v1/credentials", None, [401, ok, 403, ok, ok]),
            row("POST", "/v1/credentials/{id}/revoke", format!("/v1/credentials/{credential}/revoke"), None, [401, ok, 403, 403, 403]),
            // Webhooks.
            row("POST", "/v1/platforms/{id}/webhook-secret", format!("/v1/platforms/{p1}/webhook-secret"), None, [401, 201, 201, 403, 403]),
            row("POST", "/v1/webhooks/subscriptions", "/v1/webhooks/subscriptions", Some(sub_body.clone()), [401, 201, 201, 403, 403]),
            row("GET", "/v1/webhooks/subscriptions", "/v1/webhooks/subscriptions", None, [401, ok, ok, 403, 403]),
            // The admin deletes the first subscription, the platform the same one again (gone).
            row("DELETE", "/v1/webhooks/subscriptions/{id}", format!("/v1/webhooks/subscriptions/{}", subs[0]), None, [401, ok, 404, 403, 403]),
            row("GET", "/v1/webhooks/deliveries", "/v1/webhooks/deliveries?status=dead", None, [401, ok, ok, 403, 403]),
            row("POST", "/v1/webhooks/deliveries/{id}/replay", "/v1/webhooks/deliveries/whd_none/replay", None, [401, 404, 404, 403, 403]),
            // The marketplace: the platform key is the gig's client; admin and worker are neither its client nor its worker.
            row("POST", "/v1/market/gigs", "/v1/market/gigs", Some(gig_body.clone()), [401, 201, 201, 201, 403]),
            row("GET", "/v1/market/gigs", "/v1/market/gigs?q=matrix", None, [401, ok, ok, ok, ok]),
            row("GET", "/v1/market/gigs/{id}", format!("/v1/market/gigs/{gig}"), None, [401, ok, ok, ok, ok]),
            row("GET", "/v1/market/gigs/{id}/history", format!("/v1/market/gigs/{gig}/history"), None, [401, ok, ok, 404, ok]),
            row("POST", "/v1/market/gigs/{id}/actions", format!("/v1/market/gigs/{gig}/actions"), Some(json!({"type": "cancel_gig"})), [401, 403, ok, 403, 403]),
        ];

        // The table covers exactly the document's operations.
        let doc: Value = serde_json::from_str(jejak_api::openapi::document_json()).unwrap();
        let documented: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(p, ops)| ops.as_object().unwrap().keys().map(move |m| (m.to_uppercase(), p.clone())))
            .collect();
        let tested: BTreeSet<(String, String)> = rows.iter().map(|r| (r.method.to_owned(), r.template.to_owned())).collect();
        assert_eq!(tested, documented, "the role matrix and the OpenAPI document list different endpoints");

        let mut failures = Vec::new();
        for r in &rows {
            for (i, who) in WHO.iter().enumerate() {
                let (status, body) = node.call(r.method, &r.path, tokens[i].as_deref(), r.body.as_ref()).await;
                if status != r.expect[i] {
                    failures.push(format!("{} {} as {who:?}: {status} (expected {}) {body}", r.method, r.path, r.expect[i]));
                }
                if status >= 400 && r.method != "HEAD" {
                    assert!(body["error"]["code"].is_string(), "{} {} as {who:?}: error not in the JSON format: {body}", r.method, r.path);
                }
            }
        }
        assert!(failures.is_empty(), "role matrix:\n{}", failures.join("\n"));

        // Across platforms and workers: someone else's data answers like missing data.
        let other = node.key(Role::Platform, Some(p2)).await;
        assert_eq!(node.get(&other, &format!("/v1/attestations/{att}")).await.0, 404);
        let (s, b) = node.post_events(&other, &json!({"platform_id": p1, "events": [event]}), None).await;
        assert_eq!((s, b["error"]["code"].as_str()), (403, Some("wrong_platform")));
        assert_eq!(node.get(&other, &format!("/v1/workers/{worker_id}/reputation")).await.0, 404);
        let stranger = node.worker_key(&commitment(8)).await;
        assert_eq!(node.get(&stranger, &format!("/v1/workers/{worker_id}/reputation")).await.0, 404);
        assert_eq!(node.get(&stranger, &format!("/v1/tasks/{task}")).await.0, 404);
        // Task lists: a platform's own, a worker's own, every task for an admin.
        let listed = |b: &Value| -> Vec<String> {
            b["data"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
        };
        for (key, sees) in [(&platform, true), (&other, false), (&stranger, false), (&admin, true)] {
            let (s, b) = node.get(key, "/v1/tasks").await;
            assert_eq!((s, listed(&b).contains(&task)), (200, sees), "{b}");
        }
        let (s, b) = node.get(tokens[3].as_ref().unwrap(), "/v1/tasks?limit=1").await;
        assert_eq!((s, listed(&b)), (200, vec![task.clone()]), "the task's worker sees it: {b}");
        let (_, one) = node.get(&admin, &format!("/v1/tasks/{task}")).await;
        assert_eq!(b["data"][0]["verdict"], one["verdict"], "the list shows the latest verdict: {b}");
        assert!(b["data"][0].get("evidence").is_none(), "{b}");
        assert_eq!(node.get(&platform, "/v1/tasks?cursor=*").await.0, 422);
        // Newest first, by cursor.
        let second = json!({"platform_id": p1, "task_id": "matrix-2", "type": "delivery", "worker": worker_id,
            "worker_key": "11".repeat(32), "window": task_body["window"].clone(), "location": {"lat": -6.2, "lon": 106.8}});
        let (s, b) = node.call("POST", "/v1/tasks", Some(&platform), Some(&second)).await;
        assert_eq!(s, 201, "{b}");
        let newest = b["id"].as_str().unwrap().to_owned();
        let (_, first_page) = node.get(&platform, "/v1/tasks?limit=1").await;
        assert_eq!(listed(&first_page), vec![newest], "{first_page}");
        let next = first_page["next_cursor"].as_str().unwrap();
        let (_, last_page) = node.get(&platform, &format!("/v1/tasks?limit=1&cursor={next}")).await;
        assert_eq!((listed(&last_page), &last_page["next_cursor"]), (vec![task.clone()], &Value::Null), "{last_page}");
        // Key lists: a platform's own keys, never a secret.
        let (s, b) = node.get(&other, "/v1/keys").await;
        assert_eq!(s, 200, "{b}");
        let keys = b["data"].as_array().unwrap();
        assert!(!keys.is_empty() && keys.iter().all(|k| k["platform_id"] == json!(p2)), "{b}");
        assert!(!b.to_string().contains("secret") && !b.to_string().contains("jk_"), "{b}");
        let (_, b) = node.get(&admin, "/v1/keys?limit=100").await;
        assert!(b["data"].as_array().unwrap().iter().any(|k| k["platform_id"] == json!(p1)), "{b}");
        let (s, b) = node.call("DELETE", &format!("/v1/webhooks/subscriptions/{}", subs[1]), Some(&other), None).await;
        assert_eq!(s, 404, "{b}");
        // A revoked key stops working at once.
        let (_, b) = node.call("POST", "/v1/keys", Some(&admin), Some(&json!({"role": "auditor"}))).await;
        let token = b["token"].as_str().unwrap().to_owned();
        assert_eq!(node.get(&token, "/v1/attestations").await.0, 200);
        let id = b["key"]["id"].as_str().unwrap();
        assert_eq!(node.call("POST", &format!("/v1/keys/{id}/revoke"), Some(&admin), None).await.0, 200);
        assert_eq!(node.get(&token, "/v1/attestations").await.0, 401);
        node.node.stop().await.unwrap();
    }
}
