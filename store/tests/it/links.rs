use jejak_store::links::{self, LinkTokenUse};
use jejak_store::test_utils::TestDb;

fn token(n: u8, expires_at: i64) -> LinkTokenUse {
    LinkTokenUse { link_key: [n; 32], nonce: [n; 16], platform_id: 1, expires_at, used_at: 1_700_000_000 }
}

jejak_store::both_backends! {
    async fn a_link_token_is_used_once(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        assert!(!links::used(&mut c, &[1; 32], &[1; 16]).await.unwrap());
        links::record_use(&mut c, &token(1, 1_800_000_000)).await.unwrap();
        assert!(links::used(&mut c, &[1; 32], &[1; 16]).await.unwrap());
        assert!(!links::used(&mut c, &[1; 32], &[2; 16]).await.unwrap(), "another nonce of the same key");
        let e = links::record_use(&mut c, &token(1, 1_800_000_000)).await.unwrap_err();
        assert!(e.is_unique_violation(), "{e}");
    }
}

jejak_store::both_backends! {
    async fn expired_uses_are_pruned(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        links::record_use(&mut c, &token(1, 100)).await.unwrap();
        links::record_use(&mut c, &token(2, 300)).await.unwrap();
        assert_eq!(links::prune_expired(&mut c, 200).await.unwrap(), 1);
        assert!(!links::used(&mut c, &[1; 32], &[1; 16]).await.unwrap());
        assert!(links::used(&mut c, &[2; 32], &[2; 16]).await.unwrap());
    }
}
