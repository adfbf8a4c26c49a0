//! The W3C VC-API endpoints through `router(..).oneshot(..)`, each test on SQLite and on
//! PostgreSQL: shapes, status codes and content types of `POST /credentials/issue`,
//! `POST /credentials/verify` and `POST /presentations/verify`; credentials made by independent
//! implementations (the W3C vc-di-eddsa signed vector, a credential and a presentation made by
//! Digital Bazaar's JavaScript libraries, both in `testdata/`) verified, and refused once altered;
//! hostile bodies answering stable codes.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use jejak_store::scores::{self, EpochRow, EpochStatus, WorkerScoreRow};
use jejak_store::test_utils::TestDb;
use serde_json::{Value, json};

use super::{TestApi, app};
use crate::auth::Role;

const WORKER: &str = "4242424242";

fn testdata(name: &str) -> Value {
    let path = format!("{}/../testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))).unwrap()
}

async fn post(api: &TestApi, path: &str, token: Option<&str>, body: impl Into<Body>) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    api.send(req.body(body.into()).unwrap()).await
}

async fn post_json(api: &TestApi, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
    let (s, h, b) = post(api, path, Some(token), body.to_string()).await;
    assert_eq!(h.get(header::CONTENT_TYPE).unwrap(), "application/json", "{path}: {b}");
    (s, b)
}

/// The stable codes of an answer's errors.
fn codes(v: &Value) -> Vec<&str> {
    v["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {v}"))
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect()
}

/// A VC-API request error: problem details with the node's code.
fn assert_problem(s: StatusCode, b: &Value, status: u16, code: &str, kind: &str) {
    assert_eq!(s.as_u16(), status, "{b}");
    assert_eq!(b["error"]["code"], code, "{b}");
    assert_eq!(b["status"], status, "{b}");
    assert_eq!(b["type"], kind, "{b}");
    assert!(b["title"].is_string() && b["detail"].is_string(), "{b}");
}

/// A published epoch holding `WORKER` with reputation 742.
async fn publish(api: &TestApi) {
    let row = EpochRow {
        chain_id: 31337,
        epoch: 3,
        status: EpochStatus::Published,
        as_of: 1_790_000_000,
        as_of_block: 1,
        params_version: 1,
        params_cid: "bafkreiparams".into(),
        depth: 4,
        worker_count: 1,
        root: [7; 32],
        platforms: "[]".into(),
        snapshot_cid: Some("bafkreisnapshot".into()),
        tx_hash: Some([3; 32]),
        error: None,
        created_at: 1,
        updated_at: 1,
    };
    let commitment = jejak_core::event::parse_field_element(WORKER).unwrap().to_be_bytes::<32>();
    let worker = WorkerScoreRow {
        epoch: 3,
        commitment,
        leaf_index: 0,
        reputation: 742,
        credit: 701,
        tier: "B".into(),
        gigs: 57,
        salt: [1; 32],
        leaf: [2; 32],
        card: "{}".into(),
    };
    let mut tx = api.st.store.begin().await.unwrap();
    scores::insert_epoch(&mut tx, &row, &[worker]).await.unwrap();
    jejak_store::commit(tx).await.unwrap();
}

fn template(worker: &str) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "JejakReputationCredential"],
        "credentialSubject": {"id": format!("urn:jejak:worker:{worker}")},
    })
}

fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            m.iter().for_each(|(k, x)| leaves(x, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out))
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| leaves(x, format!("{at}/{i}"), out)),
        _ => out.push(at),
    }
}

fn altered(v: &Value, path: &str) -> Value {
    let mut out = v.clone();
    let leaf = out.pointer_mut(path).unwrap();
    *leaf = match leaf.clone() {
        Value::String(s) => Value::String(format!("{s}0")),
        Value::Number(n) => json!(n.as_i64().unwrap() + 1),
        other => json!([other]),
    };
    out
}

jejak_store::both_backends! {
    async fn issue_answers_201_for_the_worker_and_never_signs_a_callers_claims(db: TestDb) {
        let api = app(db, |_, _| {}).await;
        publish(&api).await;
        let worker = api.key(Role::Worker, None, Some(WORKER)).await;
        let other = api.key(Role::Worker, None, Some("777")).await;
        let platform = api.key(Role::Platform, Some(1), None).await;
        let body = json!({"credential": template(WORKER), "options": {}});

        let (s, b) = post_json(&api, "/credentials/issue", &worker, &body).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let vc = &b["verifiableCredential"];
        assert_eq!(b.as_object().unwrap().len(), 1, "{b}");
        assert_eq!(vc["issuer"], api.st.services.issuer.did());
        assert_eq!(vc["type"], json!(["VerifiableCredential", "JejakReputationCredential"]));
        assert_eq!(vc["credentialSubject"]["reputationScore"], 742);
        assert_eq!(vc["credentialSubject"]["id"], format!("urn:jejak:worker:{WORKER}"));
        assert_eq!(vc["proof"]["cryptosuite"], "eddsa-jcs-2022");
        // The issuer may be named, as its DID or an object with it.
        let mut named = template(WORKER);
        named["issuer"] = json!({"id": api.st.services.issuer.did()});
        let (s, b) = post_json(&api, "/credentials/issue", &api.admin, &json!({"credential": named})).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");

        // Who may issue: as POST /v1/credentials.
        let (s, _, b) = post(&api, "/credentials/issue", None, body.to_string()).await;
        assert_problem(s, &b, 401, "unauthorized", "about:blank");
        let (s, b) = post_json(&api, "/credentials/issue", &platform, &body).await;
        assert_problem(s, &b, 403, "forbidden", "about:blank");
        let (s, b) = post_json(&api, "/credentials/issue", &other, &body).await;
        assert_problem(s, &b, 404, "worker_not_found", "about:blank");
        let (s, b) = post_json(&api, "/credentials/issue", &api.admin, &json!({"credential": template("1")})).await;
        assert_problem(s, &b, 404, "worker_not_found", "about:blank");

        // A caller's claims, validity, id, other types or another issuer: refused, nothing signed.
        let malformed = "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR";
        for (path, value) in [
            ("/credentialSubject/reputationScore", json!(1000)),
            ("/validUntil", json!("2999-01-01T00:00:00Z")),
            ("/id", json!("urn:uuid:mine")),
            ("/type", json!(["VerifiableCredential", "UniversityDegreeCredential"])),
            ("/issuer", json!("did:key:z6MktULudTtAsAhRegYPiZ6631RV3viv12qd4GQF8z1xB22S")),
            ("/credentialSubject/id", json!("did:example:alice")),
        ] {
            let mut vc = template(WORKER);
            let (parent, key) = path.rsplit_once('/').unwrap();
            let target = if parent.is_empty() { &mut vc } else { vc.pointer_mut(parent).unwrap() };
            target[key] = value;
            let (s, b) = post_json(&api, "/credentials/issue", &worker, &json!({"credential": vc})).await;
            assert_problem(s, &b, 400, "credential_not_issuable", malformed);
            assert!(!b["error"]["details"]["problems"].as_array().unwrap().is_empty(), "{path}: {b}");
        }
        let (s, b) = post_json(&api, "/credentials/issue", &worker,
            &json!({"credential": template(WORKER), "options": {"credentialId": "urn:x"}})).await;
        assert_problem(s, &b, 400, "unknown_option", "https://www.w3.org/TR/vcalm#UNKNOWN_OPTION_PROVIDED");
        let (s, b) = post_json(&api, "/credentials/issue", &worker, &json!({"options": {}})).await;
        assert_problem(s, &b, 400, "vc_request_invalid", malformed);
        let mut c = api.st.store.conn().await.unwrap();
        assert_eq!(jejak_store::credentials::max_seq(&mut c).await.unwrap(), 2, "only the two issued are recorded");
    }
}

jejak_store::both_backends! {
    async fn the_nodes_credential_verifies_until_altered_or_revoked(db: TestDb) {
        let api = app(db, |_, _| {}).await;
        publish(&api).await;
        let platform = api.key(Role::Platform, Some(1), None).await;
        let (s, b) = post_json(&api, "/credentials/issue", &api.admin, &json!({"credential": template(WORKER)})).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let vc = b["verifiableCredential"].clone();

        let (s, b) = post_json(&api, "/credentials/verify", &platform, &json!({"verifiableCredential": vc})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["verified"], true);
        assert_eq!(b["checks"], json!(["proof", "issuer", "validFrom", "validUntil", "credentialStatus"]));
        assert_eq!(b["errors"], json!([]));
        assert_eq!(b["warnings"], json!([]));
        assert!(b.get("error").is_none(), "{b}");

        // Options ask for the credential, the problem details and per-member results.
        let (s, b) = post_json(&api, "/credentials/verify", &platform, &json!({"verifiableCredential": vc,
            "options": {"returnCredential": true, "returnProblemDetails": true, "returnResults": true}})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["credential"], vc);
        assert_eq!(b["problemDetails"], json!([]));
        assert_eq!(b["results"]["proof"][0]["verified"], true);
        assert_eq!(b["results"]["credentialStatus"][0]["verified"], true);
        assert_eq!(b["results"]["validUntil"]["input"], vc["validUntil"]);

        // Every field altered, the proof's own included: 400, the proof named.
        let mut paths = Vec::new();
        leaves(&vc, String::new(), &mut paths);
        assert!(paths.len() >= 25, "{paths:?}");
        for path in &paths {
            let (s, b) = post_json(&api, "/credentials/verify", &platform,
                &json!({"verifiableCredential": altered(&vc, path)})).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "altering {path} went unnoticed: {b}");
            assert_eq!(b["verified"], false, "{b}");
            assert_eq!(b["error"]["code"], "credential_not_verified", "{b}");
            assert!(!codes(&b).is_empty(), "{b}");
        }
        let (s, b) = post_json(&api, "/credentials/verify", &platform,
            &json!({"verifiableCredential": altered(&vc, "/credentialSubject/reputationScore")})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(codes(&b), ["proof_invalid"]);
        assert_eq!(b["errors"][0]["type"], "https://w3id.org/security#PROOF_VERIFICATION_ERROR");
        assert_eq!(b["errors"][0]["title"], "PROOF_VERIFICATION_ERROR");

        // An unsigned presentation of it: its credential is verified, the holder is not.
        let vp = json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
            "verifiableCredential": [vc]});
        let (s, b) = post_json(&api, "/presentations/verify", &platform, &json!({"presentation": vp})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["credentialResults"][0]["verified"], true, "{b}");
        assert_eq!(b["warnings"][0]["code"], "presentation_unsigned", "{b}");
        // ... but not as a verifiable presentation, which needs a proof.
        let (s, b) = post_json(&api, "/presentations/verify", &platform, &json!({"verifiablePresentation": vp})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(codes(&b), ["proof_missing"]);
        assert_eq!(b["error"]["code"], "presentation_not_verified");

        // Revoked: refused.
        let id = vc["id"].as_str().unwrap();
        let (s, _, b) = api.send(Request::post(format!("/v1/credentials/{id}/revoke"))
            .header(header::AUTHORIZATION, format!("Bearer {}", api.admin)).body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, b) = post_json(&api, "/credentials/verify", &platform, &json!({"verifiableCredential": vc})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(codes(&b), ["revoked"]);
        assert_eq!(b["errors"][0]["type"], "urn:jejak:problem:revoked");
        let (s, b) = post_json(&api, "/presentations/verify", &platform, &json!({"presentation": vp})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(codes(&b["credentialResults"][0]), ["revoked"]);
    }
}

jejak_store::both_backends! {
    async fn credentials_of_independent_implementations_verify_and_fail_once_altered(db: TestDb) {
        let api = app(db, |_, _| {}).await;
        let platform = api.key(Role::Platform, Some(1), None).await;
        let verify = |vc: Value, options: Value| {
            let (api, platform) = (&api, platform.clone());
            async move {
                post_json(api, "/credentials/verify", &platform, &json!({"verifiableCredential": vc, "options": options})).await
            }
        };

        // The W3C vc-di-eddsa vector: its signature verifies; its issuer is an https URL whose
        // key the did:key in the proof cannot be shown to be, so the full checks refuse it.
        let w3c = testdata("vc-di-eddsa-jcs-2022-signed.json");
        let (s, b) = verify(w3c.clone(), json!({"checks": ["proof"]})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["checks"], json!(["proof"]));
        let (s, b) = verify(w3c.clone(), json!({})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(codes(&b), ["issuer_mismatch"]);
        // Checks that need the proof are not skipped silently when the proof is not asked for.
        for only in ["issuer", "credentialStatus"] {
            let vc = if only == "issuer" { w3c.clone() } else { testdata("vc-jcs-digitalbazaar.json")["credential"].clone() };
            let mut vc = vc;
            if only == "credentialStatus" {
                vc["credentialStatus"] = json!({"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                    "statusListIndex": "1", "statusListCredential": "https://elsewhere.example/status/1"});
            }
            let (s, b) = verify(vc, json!({"checks": [only]})).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{only}: {b}");
        }
        let mut paths = Vec::new();
        leaves(&w3c, String::new(), &mut paths);
        for path in &paths {
            let (s, b) = verify(altered(&w3c, path), json!({"checks": ["proof"]})).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "altering {path} of the W3C vector went unnoticed: {b}");
        }

        // Digital Bazaar's credential, issued by a did:key: every check passes.
        let db = testdata("vc-jcs-digitalbazaar.json");
        let vc = db["credential"].clone();
        let (s, b) = verify(vc.clone(), json!({})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["verified"], true);
        assert_eq!(b["issuer"], db["issuer"]);
        assert_eq!(b["checks"], json!(["proof", "issuer", "validFrom", "validUntil", "credentialStatus"]));
        let mut paths = Vec::new();
        leaves(&vc, String::new(), &mut paths);
        for path in &paths {
            let (s, b) = verify(altered(&vc, path), json!({})).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "altering {path} went unnoticed: {b}");
        }

        // Its presentation: holder's proof, challenge and domain, and the credential inside.
        let vp = db["presentation"].clone();
        let (challenge, domain) = (db["challenge"].clone(), db["domain"].clone());
        let present = |vp: Value, options: Value| {
            let (api, platform) = (&api, platform.clone());
            async move {
                post_json(api, "/presentations/verify", &platform, &json!({"verifiablePresentation": vp, "options": options})).await
            }
        };
        let (s, b) = present(vp.clone(), json!({"challenge": challenge, "domain": domain, "returnPresentation": true})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["verified"], true);
        assert_eq!(b["checks"], json!(["proof", "holder", "challenge", "domain"]));
        assert_eq!(b["holder"], db["holder"]);
        assert_eq!(b["credentialResults"][0]["verified"], true);
        assert_eq!(b["verifiablePresentation"], vp);
        let (s, b) = present(vp.clone(), json!({"challenge": "another", "domain": domain})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(codes(&b), ["challenge_mismatch"]);
        assert_eq!(b["errors"][0]["type"], "https://w3id.org/security#INVALID_CHALLENGE_ERROR");
        let (s, b) = present(vp.clone(), json!({"domain": "elsewhere.example"})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(codes(&b), ["domain_mismatch"]);
        // The holder named is not the key that signed.
        let mut other_holder = vp.clone();
        other_holder["holder"] = db["issuer"].clone();
        let (s, b) = present(other_holder, json!({})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(codes(&b), ["proof_invalid"], "the proof covers the holder");
        // The credential inside altered: refused, and its result says why.
        let inner = altered(&vp, "/verifiableCredential/0/credentialSubject/completedGigs");
        let (s, b) = present(inner, json!({})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(b["credentialResults"][0]["verified"], false);
        assert_eq!(codes(&b["credentialResults"][0]), ["proof_invalid"]);
        let mut paths = Vec::new();
        leaves(&vp, String::new(), &mut paths);
        for path in &paths {
            let (s, b) = present(altered(&vp, path), json!({"challenge": challenge, "domain": domain})).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "altering {path} of the presentation went unnoticed: {b}");
        }

        // A credential claiming jejak's own type, issued by another key: not this node's word.
        let key = ed25519_dalek::SigningKey::from_bytes(&[0x33; 32]);
        let did = jejak_credential::did::did_key(&key.verifying_key());
        let forged = json!({"@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential", "JejakReputationCredential"], "issuer": did,
            "credentialSubject": {"id": format!("urn:jejak:worker:{WORKER}"), "reputationScore": 1000}});
        let options = jejak_credential::proof::ProofOptions {
            verification_method: jejak_credential::did::verification_method(&key.verifying_key()),
            created: "2026-01-01T00:00:00Z".into(),
            proof_purpose: "assertionMethod".into(),
        };
        let forged = jejak_credential::proof::sign(&forged, &options, &key).unwrap();
        let (s, b) = verify(forged, json!({})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(codes(&b), ["untrusted_issuer"]);
    }
}

jejak_store::both_backends! {
    async fn hostile_bodies_answer_stable_codes(db: TestDb) {
        let api = app(db, |limits, _| limits.max_body_bytes = 64 * 1024).await;
        let platform = api.key(Role::Platform, Some(1), None).await;
        let malformed = "https://www.w3.org/TR/vc-data-model#MALFORMED_VALUE_ERROR";
        let vc = testdata("vc-jcs-digitalbazaar.json")["credential"].clone();
        for path in ["/credentials/issue", "/credentials/verify", "/presentations/verify"] {
            let (s, h, b) = post(&api, path, Some(&api.admin), "{not json").await;
            assert_problem(s, &b, 400, "malformed_json", "https://www.w3.org/TR/vc-data-model#PARSING_ERROR");
            assert_eq!(h.get(header::CONTENT_TYPE).unwrap(), "application/json");
            for body in [json!([1, 2]), json!("text"), json!({"unexpected": 1})] {
                let (s, b) = post_json(&api, path, &api.admin, &body).await;
                assert_problem(s, &b, 400, "vc_request_invalid", malformed);
            }
            // Nesting: past the API's bound, and past the JSON parser's own.
            for depth in [40, 300] {
                let deep = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
                let body = format!("{{\"options\": {{}}, \"verifiableCredential\": {deep}, \"credential\": {deep}}}");
                let (s, _, b) = post(&api, path, Some(&api.admin), body).await;
                assert_problem(s, &b, 400, "vc_document_too_complex", malformed);
            }
            let huge = json!({"verifiableCredential": {"x": "a".repeat(100 * 1024)}}).to_string();
            let (s, _, b) = post(&api, path, Some(&api.admin), huge).await;
            assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{b}");
            assert_eq!(b["error"]["code"], "payload_too_large");
            let (s, b) = post_json(&api, path, &api.admin, &json!({"options": {"nonsense": true}})).await;
            assert_problem(s, &b, 400, "unknown_option", "https://www.w3.org/TR/vcalm#UNKNOWN_OPTION_PROVIDED");
            let (s, b) = post_json(&api, path, &api.admin, &json!({"options": "all"})).await;
            assert_problem(s, &b, 400, "vc_request_invalid", malformed);
        }
        for body in [
            json!({"verifiableCredential": "a string"}),
            json!({"options": {}}),
            json!({"verifiableCredential": vc, "options": {"checks": ["everything"]}}),
            json!({"verifiableCredential": vc, "options": {"checks": []}}),
            json!({"verifiableCredential": vc, "options": {"returnResults": "yes"}}),
        ] {
            let (s, b) = post_json(&api, "/credentials/verify", &platform, &body).await;
            assert_problem(s, &b, 400, "vc_request_invalid", malformed);
        }
        // Not a credential at all: verified false, with the reason.
        let (s, b) = post_json(&api, "/credentials/verify", &platform, &json!({"verifiableCredential": {"a": 1}})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(codes(&b), ["malformed_credential"]);
        assert_eq!(b["checks"], json!([]));
        let vp = |n: usize| json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiablePresentation",
            "verifiableCredential": vec![vc.clone(); n]});
        for body in [
            json!({"verifiablePresentation": vp(1), "presentation": vp(1)}),
            json!({"verifiablePresentation": 5}),
            json!({"presentation": {"verifiableCredential": 5}}),
            json!({"presentation": vp(1), "options": {"challenge": 7}}),
        ] {
            let (s, b) = post_json(&api, "/presentations/verify", &platform, &body).await;
            assert_problem(s, &b, 400, "vc_request_invalid", malformed);
        }
        let (s, b) = post_json(&api, "/presentations/verify", &platform, &json!({"presentation": vp(17)})).await;
        assert_problem(s, &b, 400, "vc_document_too_complex", malformed);
        let (s, b) = post_json(&api, "/presentations/verify", &platform, &json!({"presentation": vp(16)})).await;
        assert_eq!(s, StatusCode::OK, "sixteen credentials are within bounds: {b}");
        // An unsigned presentation cannot answer a challenge.
        let (s, b) = post_json(&api, "/presentations/verify", &platform,
            &json!({"presentation": vp(1), "options": {"challenge": "c"}})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert_eq!(codes(&b), ["challenge_mismatch"]);
    }
}
