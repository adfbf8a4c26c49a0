//! Leases: taken when free or run out, tokens that rise with each holder, fencing of writes made
//! with a superseded token, and the one-process lock of SQLite.

use jejak_store::leases::{Fence, ProcessLock, acquire, list, now_millis, release, renew};
use jejak_store::test_utils::TestDb;
use jejak_store::{Error, both_backends};

#[test]
fn a_second_open_of_a_sqlite_file_is_refused_until_the_first_goes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("jejak.db").display());
    let first = ProcessLock::for_url(&url).unwrap().expect("a SQLite file is locked");
    assert!(first.path().ends_with("jejak.db.lock"));
    let e = ProcessLock::for_url(&url).unwrap_err();
    assert!(matches!(e, Error::InUse { .. }), "{e}");
    assert!(e.to_string().contains("in use by another jejak process"), "{e}");
    assert!(e.to_string().contains("PostgreSQL"), "{e}");
    drop(first);
    ProcessLock::for_url(&url).unwrap().expect("free again once the first holder is gone");
    assert!(ProcessLock::for_url("postgres://u@h/db").unwrap().is_none());
    assert!(ProcessLock::for_url("sqlite::memory:").unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_held_lease_is_refused_and_an_expired_one_taken_with_a_higher_token() {
    let db = TestDb::postgres().await;
    let s = &db.store;
    let t1 = acquire(s, "indexer", "a", 1_000, 2_000).await.unwrap().expect("free: taken");
    assert_eq!(acquire(s, "indexer", "b", 2_000, 2_000).await.unwrap(), None, "held by a until 3000");
    assert!(renew(s, "indexer", "a", t1, 2_500, 2_000).await.unwrap(), "a renews to 4500");
    assert_eq!(acquire(s, "indexer", "b", 4_000, 2_000).await.unwrap(), None);
    let t2 = acquire(s, "indexer", "b", 4_500, 2_000).await.unwrap().expect("expired: b takes it");
    assert!(t2 > t1, "the token rises with the holder");
    assert!(!renew(s, "indexer", "a", t1, 4_600, 2_000).await.unwrap(), "a's term is over");
    // A lease given up is free at once.
    release(s, "indexer", "b", t2).await.unwrap();
    let t3 = acquire(s, "indexer", "a", 4_700, 2_000).await.unwrap().expect("released: taken at once");
    assert!(t3 > t2);
    // "a" restarted (same instance id): it takes its lease back at once, in a new term.
    let t4 = acquire(s, "indexer", "a", 4_800, 2_000).await.unwrap().expect("its own lease");
    assert!(t4 > t3);
    let t3 = t4;
    let rows = list(s).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].holder.as_str(), rows[0].token, rows[0].expires_at), ("a", t3, 6_800));
    // Leases of other jobs are apart.
    assert!(acquire(s, "anchor", "b", 4_700, 2_000).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_the_lease_is_always_granted() {
    let db = TestDb::sqlite().await;
    let s = &db.store;
    let t1 = acquire(s, "anchor", "a", 1_000, 60_000).await.unwrap().unwrap();
    // One process owns the file (the lock proves the earlier holder gone): no waiting.
    let t2 = acquire(s, "anchor", "b", 2_000, 60_000).await.unwrap().unwrap();
    assert!(t2 > t1);
}

both_backends! {
    async fn a_write_with_a_superseded_token_is_refused_in_its_transaction(db: TestDb) {
        let s = &db.store;
        let old = Fence::new("anchor", "a");
        let fenced = s.fenced(old.clone());
        assert!(matches!(fenced.begin().await.unwrap_err(), Error::Fenced { token: 0, .. }), "not held: refused");
        let now = now_millis();
        let t = acquire(s, "anchor", "a", now, 1).await.unwrap().unwrap();
        old.begin_term(t, now);
        let tx = fenced.begin().await.expect("the holder writes");
        jejak_store::commit(tx).await.unwrap();
        fenced.conn().await.expect("and reads");
        // The lease ran out while "a" was paused; "b" took it over.
        let t2 = acquire(s, "anchor", "b", now + 10, 60_000).await.unwrap().unwrap();
        assert!(t2 > t);
        let e = fenced.begin().await.unwrap_err();
        assert!(e.is_fenced(), "{e}");
        assert!(e.to_string().contains("write refused by fencing"), "{e}");
        assert!(fenced.conn().await.unwrap_err().is_fenced());
        assert_eq!(old.refused(), 3);
        // The unfenced store (the API, other jobs) is not concerned.
        jejak_store::commit(s.begin().await.unwrap()).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_takeover_waits_for_the_fenced_write_in_progress() {
    let db = TestDb::postgres().await;
    let s = db.store.clone();
    let fence = Fence::new("epoch", "a");
    let now = now_millis();
    let t = acquire(&s, "epoch", "a", now, 1).await.unwrap().unwrap();
    fence.begin_term(t, now);
    let tx = s.fenced(fence.clone()).begin().await.unwrap();
    let taker = {
        let s = s.clone();
        tokio::spawn(async move { acquire(&s, "epoch", "b", now + 10, 60_000).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!taker.is_finished(), "the takeover waits for the holder's transaction");
    jejak_store::commit(tx).await.unwrap();
    assert!(taker.await.unwrap().unwrap().is_some(), "then takes the lease");
    assert!(s.fenced(fence).begin().await.unwrap_err().is_fenced());
}
