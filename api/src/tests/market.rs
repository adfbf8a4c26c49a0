//! The marketplace through the API on both databases: a whole gig, every bad input, the races
//! (two workers taking one gig, a client accepting two proposals), idempotent retries, the
//! timers with a clock the test moves, search, and the work events it sends into the pipeline.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use jejak_market::ManualClock;
use jejak_store::test_utils::TestDb;
use serde_json::{Value, json};

use super::{TestApi, app_with, code, send};
use crate::auth::{self, Role};
use crate::services::market::{Market, MarketSettings};
use crate::{ApiSettings, Limits, Services};

const T0: i64 = 1_900_000_000;
const DAY: i64 = 86_400;
const MARKET_PLATFORM: i64 = 7;
/// Identity commitments (field elements) of the test workers.
const W1: &str = "1111";
const W2: &str = "2222";

struct Mkt {
    api: TestApi,
    clock: Arc<ManualClock>,
    client: String,
    w1: String,
    w2: String,
    arbiter: String,
}

async fn mkt(db: TestDb) -> Mkt {
    let clock = Arc::new(ManualClock::new(T0));
    let arbiter = auth::new_key(Role::Auditor, None, None, "arbiter", 0);
    jejak_store::keys::insert(&mut db.store.conn().await.unwrap(), &arbiter.row).await.unwrap();
    let settings = ApiSettings {
        rate_limit: crate::limits::RateLimit { per_second: 1000.0, burst: 1000.0 },
        market: MarketSettings {
            platform_id: Some(MARKET_PLATFORM),
            arbiter_keys: vec![arbiter.row.id.clone()],
            ..MarketSettings::default()
        },
        ..ApiSettings::default()
    };
    let services =
        Services::new(settings, ed25519_dalek::SigningKey::from_bytes(&[5; 32]), Duration::from_secs(60), None)
            .unwrap()
            .with_clock(clock.clone());
    let api = app_with(db, Limits::default(), services).await;
    let client = api.key(Role::Platform, Some(3), None).await;
    let w1 = api.key(Role::Worker, None, Some(W1)).await;
    let w2 = api.key(Role::Worker, None, Some(W2)).await;
    Mkt { api, clock, client, w1, w2, arbiter: arbiter.token }
}

impl Mkt {
    fn market(&self) -> Market {
        Market::new(self.api.st.store.clone(), self.clock.clone(), self.api.st.services.settings.market.clone())
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let (s, _, v) = self.call_h(method, path, token, body.map(|b| b.to_string()), key).await;
        (s, v)
    }

    async fn call_h(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<String>,
        key: Option<&str>,
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        let mut r =
            Request::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(k) = key {
            r = r.header("idempotency-key", k);
        }
        let r = match body {
            Some(b) => r.header(header::CONTENT_TYPE, "application/json").body(Body::from(b)),
            None => r.body(Body::empty()),
        };
        send(&self.api.st, r.unwrap()).await
    }

    async fn post_gig(&self, spec: Value) -> String {
        let (s, v) = self.call("POST", "/v1/market/gigs", &self.client, Some(spec), None).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["id"].as_str().unwrap().to_string()
    }

    async fn act(&self, gig: &str, token: &str, action: Value) -> (StatusCode, Value) {
        self.call("POST", &format!("/v1/market/gigs/{gig}/actions"), token, Some(action), None).await
    }

    async fn ok(&self, gig: &str, token: &str, action: Value) -> Value {
        let (s, v) = self.act(gig, token, action.clone()).await;
        assert_eq!(s, StatusCode::OK, "{action} answered {v}");
        v
    }

    /// The work events stored for the marketplace's platform: (type, worker, data).
    async fn events(&self) -> Vec<(String, String, Value)> {
        let mut c = self.api.st.store.conn().await.unwrap();
        let rows = jejak_store::attestations::page(&mut c, Some(MARKET_PLATFORM), 0, 1000).await.unwrap();
        rows.into_iter()
            .map(|r| {
                let body: Value = serde_json::from_str(&r.attestation.body).unwrap();
                (r.attestation.event_type, r.attestation.worker_ref, body["data"].clone())
            })
            .collect()
    }
}

fn spec() -> Value {
    json!({
        "title": "Deliver documents to Bandung",
        "description": "Sealed envelope, same day.",
        "category": "courier",
        "location": {"kind": "on_site", "lat": -6.2088, "lon": 106.8456, "radius_m": 20000},
        "pay": {"kind": "fixed", "budget_minor": 25_000_000},
        "currency": "IDR",
        "deadline": T0 + 7 * DAY,
        "requirement": {"min_score": 500, "min_tier": "C"}
    })
}

fn remote_spec(title: &str, budget: i64) -> Value {
    json!({
        "title": title, "category": "design", "location": {"kind": "remote"},
        "pay": {"kind": "fixed", "budget_minor": budget}, "currency": "USD", "deadline": T0 + 7 * DAY
    })
}

jejak_store::both_backends! {
    async fn market_a_gig_from_posting_to_published_reviews_becomes_work_events(db: TestDb) {
        let m = mkt(db).await;
        let gig = m.post_gig(spec()).await;
        let terms = json!({"milestones": [{"title": "pick up", "amount_minor": 5_000_000}, {"title": "deliver", "amount_minor": 20_000_000}]});
        let v = m.ok(&gig, &m.w1, json!({"type": "propose", "terms": terms, "message": "I ride daily", "expires_at": T0 + DAY})).await;
        assert_eq!(v["yours"], Value::Null);
        assert_eq!(v["proposals"].as_array().unwrap().len(), 1, "a worker sees its own proposal");
        // Another worker sees no one else's proposal and no accounts.
        let (s, v) = m.call("GET", &format!("/v1/market/gigs/{gig}"), &m.w2, None, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["proposals"], 1);
        assert!(v.get("client").is_none());
        m.clock.advance(60);
        let v = m.ok(&gig, &m.client, json!({"type": "accept", "proposal": 0})).await;
        assert_eq!(v["status"], "contracted");
        assert_eq!(v["contract"]["worker"], W1);
        // The operator asserts escrow; nobody else may.
        let (s, v) = m.act(&gig, &m.client, json!({"type": "fund", "milestone": 0})).await;
        assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
        m.ok(&gig, &m.api.admin, json!({"type": "fund", "milestone": 0})).await;
        for ms in 0..2 {
            m.ok(&gig, &m.w1, json!({"type": "deliver", "milestone": ms, "evidence_task": "tsk_abc"})).await;
            m.ok(&gig, &m.client, json!({"type": "accept_delivery", "milestone": ms})).await;
        }
        m.ok(&gig, &m.w1, json!({"type": "review", "rating": 5, "comment": "clear instructions"})).await;
        // Double blind: the client does not see the worker's review yet, in the gig or its history.
        let (_, v) = m.call("GET", &format!("/v1/market/gigs/{gig}"), &m.client, None, None).await;
        assert_eq!(v["contract"]["reviews"]["of_client"], Value::Null, "{v}");
        let (s, h) = m.call("GET", &format!("/v1/market/gigs/{gig}/history"), &m.client, None, None).await;
        assert_eq!(s, StatusCode::OK);
        let last = h["entries"].as_array().unwrap().last().unwrap().clone();
        assert_eq!((last["action"]["type"].as_str(), last["action"]["rating"].as_i64()), (Some("review"), Some(0)));
        let (s, _) = m.call("GET", &format!("/v1/market/gigs/{gig}/history"), &m.w2, None, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "an outsider does not read the history");
        let v = m.ok(&gig, &m.client, json!({"type": "review", "rating": 4})).await;
        assert_eq!(v["contract"]["reviews"]["of_client"]["rating"], 5);
        assert_eq!(v["contract"]["reviews"]["of_worker"]["rating"], 4);

        // The history replays to the stored state.
        let market = m.market();
        let entries = market.history(&gig).await.unwrap();
        assert_eq!(entries.len(), 10);
        assert_eq!(jejak_market::Gig::replay(&gig, &entries).unwrap(), market.get(&gig).await.unwrap());

        let events = m.events().await;
        let kinds: Vec<_> = events.iter().map(|(k, w, _)| (k.as_str(), w.as_str())).collect();
        assert_eq!(kinds, [("task_completed", W1), ("review", W1)]);
        assert_eq!(events[0].2["earnings_minor"], 25_000_000);
        assert_eq!(events[0].2["currency"], "IDR");
        assert_eq!(events[1].2["rating"], 4);
    }
}

jejak_store::both_backends! {
    async fn market_bad_input_answers_stable_codes_and_changes_nothing(db: TestDb) {
        let m = mkt(db).await;
        let post = |body: &str| m.call_h("POST", "/v1/market/gigs", &m.client, Some(body.to_string()), None);
        let (s, _, v) = post("{not json").await;
        assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "malformed_json"));
        for (change, field) in [
            (json!({"pay": {"kind": "fixed", "budget_minor": -1}}), "pay.budget_minor"),
            (json!({"pay": {"kind": "fixed", "budget_minor": 9_000_000_000_000_000_000i64}}), "pay.budget_minor"),
            (json!({"title": "x".repeat(201)}), "title"),
            (json!({"deadline": T0 - 1}), "deadline"),
            (json!({"location": {"kind": "on_site", "lat": 95.0, "lon": 0.0, "radius_m": 10}}), "location.lat"),
            (json!({"requirement": {"min_score": 5000}}), "requirement.min_score"),
        ] {
            let mut body = spec();
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let (s, _, v) = post(&body.to_string()).await;
            assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"), "{field}: {v}");
            assert_eq!(v["error"]["details"]["field"], field, "{v}");
        }
        for body in [
            json!({"currency": "XAU"}), json!({"currency": "idr"}), json!({"surprise": 1}),
            json!({"pay": {"kind": "fixed", "budget_minor": 1.5}}), json!({"pay": {"kind": "barter"}}),
        ] {
            let mut b = spec();
            for (k, v) in body.as_object().unwrap() {
                b[k] = v.clone();
            }
            let (s, _, v) = post(&b.to_string()).await;
            assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"), "{body}: {v}");
        }
        // An auditor key is no client.
        let auditor = m.api.key(Role::Auditor, None, None).await;
        let (s, v) = m.call("POST", "/v1/market/gigs", &auditor, Some(spec()), None).await;
        assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
        let (s, v) = m.call("GET", "/v1/market/gigs/gig_nope", &m.w1, None, None).await;
        assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "gig_not_found"));
        let (s, v) = m.call("GET", "/v1/market/gigs/..%2f..", &m.w1, None, None).await;
        assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "gig_not_found"));

        let gig = m.post_gig(spec()).await;
        for (who, action, status, c) in [
            (&m.w1, json!({"type": "take", "extra": 1}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
            (&m.w1, json!({"type": "teleport"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
            (&m.w1, json!({"type": "expire_gig"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
            (&m.w1, json!({"type": "accept", "proposal": 4_294_967_295u32}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
            (&m.w1, json!({"type": "accept", "proposal": -1}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
            (&m.w1, json!({"type": "review", "rating": 3}), StatusCode::FORBIDDEN, "forbidden"),
            (&m.w1, json!({"type": "propose", "terms": {"milestones": []}, "expires_at": T0 + 1}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
            (&m.w1, json!({"type": "propose", "terms": {"milestones": [{"title": "a", "amount_minor": 1}]}, "expires_at": i64::MAX}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
            (&m.client, json!({"type": "deliver", "milestone": 0}), StatusCode::FORBIDDEN, "forbidden"),
            (&m.w1, json!({"type": "resolve", "milestone": 0, "outcome": "worker_won"}), StatusCode::FORBIDDEN, "forbidden"),
            // An arbiter may resolve, but there is no dispute.
            (&m.arbiter, json!({"type": "resolve", "milestone": 0, "outcome": "worker_won"}), StatusCode::CONFLICT, "illegal_transition"),
        ] {
            let (s, v) = m.act(&gig, who, action.clone()).await;
            assert_eq!((s, code(&v)), (status, c), "{action}: {v}");
        }
        // A 409 carries the gig's current state.
        let (_, v) = m.act(&gig, &m.client, json!({"type": "accept_delivery", "milestone": 0})).await;
        assert_eq!(v["error"]["details"]["state"]["status"], "open", "{v}");
        assert_eq!(m.market().history(&gig).await.unwrap().len(), 1, "nothing refused was written");

        for q in [
            "limit=0", "limit=101", "near=1,2", "radius_km=5", "near=91,0&radius_km=5", "near=0,0&radius_km=501",
            "near=a,b&radius_km=1", "min_pay=5", "min_pay=5&currency=XXX", "tier=Z", "score=1001", "cursor=!!",
            "q=a+b+c+d+e+f+g+h+i", "nope=1",
        ] {
            let (s, v) = m.call("GET", &format!("/v1/market/gigs?{q}"), &m.w1, None, None).await;
            assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"), "{q}: {v}");
        }
    }
}

jejak_store::both_backends! {
    async fn market_races_have_exactly_one_winner(db: TestDb) {
        let m = Arc::new(mkt(db).await);
        // Eight workers take one gig at once.
        let gig = m.post_gig(remote_spec("Logo", 10_000)).await;
        let mut workers = Vec::new();
        for n in 0..8 {
            workers.push(m.api.key(Role::Worker, None, Some(&format!("{}", 100 + n))).await);
        }
        let tasks: Vec<_> = workers
            .iter()
            .map(|w| {
                let (m, gig, w) = (m.clone(), gig.clone(), w.clone());
                tokio::spawn(async move { m.act(&gig, &w, json!({"type": "take"})).await })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            let (s, v) = t.await.unwrap();
            match s {
                StatusCode::OK => won += 1,
                StatusCode::CONFLICT => assert_eq!(code(&v), "illegal_transition", "{v}"),
                other => panic!("{other}: {v}"),
            }
        }
        assert_eq!(won, 1);
        assert_eq!(m.market().history(&gig).await.unwrap().len(), 2);

        // The client accepts two proposals of a one-worker gig at once, several times over.
        for round in 0..3 {
            let gig = m.post_gig(remote_spec(&format!("Banner {round}"), 10_000)).await;
            let terms = json!({"milestones": [{"title": "all", "amount_minor": 9_000}]});
            for w in [&m.w1, &m.w2] {
                m.ok(&gig, w, json!({"type": "propose", "terms": terms, "expires_at": T0 + DAY})).await;
            }
            let (a, b) = tokio::join!(
                m.act(&gig, &m.client, json!({"type": "accept", "proposal": 0})),
                m.act(&gig, &m.client, json!({"type": "accept", "proposal": 1})),
            );
            let mut statuses = [a.0, b.0];
            statuses.sort();
            assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} {}", a.1, b.1);
            let g = m.market().get(&gig).await.unwrap();
            assert_eq!(g.proposals.iter().filter(|p| p.status == jejak_market::ProposalStatus::Accepted).count(), 1);
        }
    }
}

jejak_store::both_backends! {
    async fn market_writes_are_idempotent_under_retries(db: TestDb) {
        let m = Arc::new(mkt(db).await);
        let body = remote_spec("Poster", 5_000).to_string();
        let (s1, _, a) = m.call_h("POST", "/v1/market/gigs", &m.client, Some(body.clone()), Some("post-1")).await;
        let (s2, h, b) = m.call_h("POST", "/v1/market/gigs", &m.client, Some(body.clone()), Some("post-1")).await;
        assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
        assert_eq!(a, b, "the retry gets the first answer");
        assert_eq!(h.get("idempotent-replayed").unwrap(), "true");
        let (s, _, v) = m.call_h("POST", "/v1/market/gigs", &m.client, Some(remote_spec("Other", 5).to_string()), Some("post-1")).await;
        assert_eq!((s, code(&v)), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
        let gig = a["id"].as_str().unwrap().to_string();

        // Concurrent retries of one take: one transition, the same answer for all.
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (m, gig) = (m.clone(), gig.clone());
                tokio::spawn(async move {
                    m.call_h("POST", &format!("/v1/market/gigs/{gig}/actions"), &m.w1, Some(r#"{"type":"take"}"#.into()), Some("take-1")).await
                })
            })
            .collect();
        let mut bodies = Vec::new();
        for t in tasks {
            let (s, _, v) = t.await.unwrap();
            assert_eq!(s, StatusCode::OK, "{v}");
            bodies.push(v);
        }
        assert!(bodies.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(m.market().history(&gig).await.unwrap().len(), 2);
        // The same key from another caller is that caller's own.
        let (s, v) = m.call("POST", &format!("/v1/market/gigs/{gig}/actions"), &m.w2, Some(json!({"type": "take"})), Some("take-1")).await;
        assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "illegal_transition"));
    }
}

jejak_store::both_backends! {
    async fn market_timers_run_on_the_clock_the_node_reads(db: TestDb) {
        let m = mkt(db).await;
        let market = m.market();
        let gig = m.post_gig(remote_spec("Copy edit", 40_000)).await;
        let terms = json!({"milestones": [{"title": "all", "amount_minor": 40_000}]});
        m.ok(&gig, &m.w1, json!({"type": "propose", "terms": terms, "expires_at": T0 + 3_600})).await;
        assert_eq!(market.run_timers(100).await.unwrap(), 0);
        m.clock.advance(3_600);
        assert_eq!(market.run_timers(100).await.unwrap(), 1);
        let (s, v) = m.act(&gig, &m.client, json!({"type": "accept", "proposal": 0})).await;
        assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "illegal_transition"), "a lapsed offer");
        m.ok(&gig, &m.w2, json!({"type": "take"})).await;
        m.ok(&gig, &m.w2, json!({"type": "deliver", "milestone": 0, "note": "done"})).await;
        let policy = MarketSettings::default().policy;
        m.clock.advance(policy.auto_accept_secs - 1);
        assert_eq!(market.run_timers(100).await.unwrap(), 0);
        m.clock.advance(1);
        assert_eq!(market.run_timers(100).await.unwrap(), 1, "the delivery is accepted");
        m.ok(&gig, &m.client, json!({"type": "review", "rating": 3})).await;
        m.clock.advance(policy.review_window_secs);
        assert_eq!(market.run_timers(100).await.unwrap(), 1, "the window closes");
        let g = market.get(&gig).await.unwrap();
        assert_eq!(g.status, jejak_market::GigStatus::Completed);
        assert!(g.contract.unwrap().reviews.published_at.is_some());
        let kinds: Vec<_> = m.events().await.into_iter().map(|(k, _, _)| k).collect();
        assert_eq!(kinds, ["task_completed", "review"], "the lapsed proposal sent nothing");
    }
}

jejak_store::both_backends! {
    async fn market_search_filters_and_pages_open_gigs(db: TestDb) {
        let m = mkt(db).await;
        let jakarta = m.post_gig(spec()).await;
        m.clock.advance(1);
        let mut bandung = spec();
        bandung["title"] = json!("Antar paket ke Jakarta");
        bandung["description"] = json!("Dokumen penting");
        bandung["location"] = json!({"kind": "on_site", "lat": -6.9175, "lon": 107.6191, "radius_m": 1000});
        bandung["requirement"] = json!({"min_tier": "A", "min_score": 900});
        let bandung = m.post_gig(bandung).await;
        let mut remote = Vec::new();
        for n in 0..5 {
            m.clock.advance(1);
            remote.push(m.post_gig(remote_spec(&format!("Design a logo number {n}"), 1_000 * (n + 1))).await);
        }
        let ids = |v: &Value| -> Vec<String> {
            v["data"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap().to_string()).collect()
        };
        let mr = &m;
        let search = |q: &str| {
            let path = format!("/v1/market/gigs?{q}");
            async move { mr.call("GET", &path, &mr.w1, None, None).await }
        };
        let (s, v) = search("").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(ids(&v).len(), 7);
        assert_eq!(ids(&v)[0], remote[4], "newest first");
        assert_eq!(ids(&search("q=logo+NUMBER").await.1).len(), 5);
        assert_eq!(ids(&search("q=paket").await.1), std::slice::from_ref(&bandung));
        assert_eq!(ids(&search("q=%22%29+OR+*").await.1), Vec::<String>::new(), "query syntax is only words");
        assert_eq!(ids(&search("category=courier").await.1), [bandung.clone(), jakarta.clone()]);
        assert_eq!(ids(&search("remote=true").await.1).len(), 5);
        // Jakarta to Bandung is about 120 km.
        let (_, v) = search("near=-6.2,106.85&radius_km=50").await;
        assert_eq!(ids(&v), std::slice::from_ref(&jakarta));
        assert!(v["data"][0]["distance_m"].as_i64().unwrap() < 2_000);
        assert_eq!(ids(&search("near=-6.2,106.85&radius_km=150").await.1), [bandung.clone(), jakarta.clone()]);
        assert_eq!(ids(&search("min_pay=4000&currency=USD").await.1), [remote[4].clone(), remote[3].clone()]);
        assert_eq!(ids(&search("tier=B&category=courier").await.1), std::slice::from_ref(&jakarta), "an A-only gig is not for tier B");
        assert_eq!(ids(&search("tier=A&score=600&category=courier").await.1), std::slice::from_ref(&jakarta));
        // Pages by cursor: every open gig once.
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let (_, v) = search(&format!("limit=3&cursor={cursor}")).await;
            seen.extend(ids(&v));
            match v["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => break,
            }
        }
        assert_eq!(seen.len(), 7);
        // A gig that is taken leaves the search.
        m.ok(&remote[0], &m.w1, json!({"type": "take"})).await;
        assert_eq!(ids(&search("q=logo").await.1).len(), 4);
    }
}
