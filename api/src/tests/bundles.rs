//! `GET /v1/workers/{id}/bundle`: who may download, and the bounds on its cost (per key, and
//! builds at once). A bundle that is built is checked by `jejak dev`'s test (a published epoch).

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use super::{TestApi, app, code};
use crate::auth::Role;
use crate::limits::{BUNDLE_BURST, BUNDLES_AT_ONCE};

async fn get(t: &TestApi, key: &str, worker: &str) -> (StatusCode, Option<String>, String) {
    let req = Request::get(format!("/v1/workers/{worker}/bundle"))
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
    let (s, h, b) = t.send(req).await;
    (s, h.get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned()), code(&b).to_owned())
}

jejak_store::both_backends! {
    async fn bundle_downloads_are_the_workers_own_and_bounded(db: jejak_store::test_utils::TestDb) {
        let t = app(db, |_, _| {}).await;
        let platform = t.key(Role::Platform, Some(1), None).await;
        assert_eq!(get(&t, &platform, "123").await.2, "forbidden");
        let worker = t.key(Role::Worker, None, Some("123")).await;
        assert_eq!(get(&t, &worker, "not-a-number").await.0, StatusCode::UNPROCESSABLE_ENTITY);
        // Someone else's bundle answers like a missing one.
        assert_eq!(get(&t, &worker, "124").await.2, "worker_not_found");
        // The key's allowance: the burst, then 429 with Retry-After.
        for _ in 0..BUNDLE_BURST as usize {
            assert_eq!(get(&t, &worker, "123").await.2, "worker_not_found");
        }
        let (s, retry, c) = get(&t, &worker, "123").await;
        assert_eq!((s, c.as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
        assert!(retry.is_some_and(|r| r.parse::<u64>().unwrap() >= 1));
        // Builds at once on the instance: past them, 503 bundle_busy with Retry-After.
        let other = t.key(Role::Worker, None, Some("125")).await;
        let held = t.st.services.bundles.running.clone().try_acquire_many_owned(BUNDLES_AT_ONCE as u32).unwrap();
        let (s, retry, c) = get(&t, &other, "125").await;
        assert_eq!((s, c.as_str(), retry.as_deref()), (StatusCode::SERVICE_UNAVAILABLE, "bundle_busy", Some("5")));
        drop(held);
        assert_eq!(get(&t, &other, "125").await.2, "worker_not_found");
        let admin = t.admin.clone();
        assert_eq!(get(&t, &admin, "125").await.2, "worker_not_found");
    }
}
