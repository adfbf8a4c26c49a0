use jejak_store::keys::{self, ApiKeyRow};
use jejak_store::test_utils::TestDb;

fn key(id: &str) -> ApiKeyRow {
    ApiKeyRow {
        id: id.into(),
        secret_hash: [9; 32],
        role: "platform".into(),
        platform_id: Some(3),
        worker_id: None,
        label: "ojek".into(),
        created_at: 100,
        revoked_at: None,
    }
}

jejak_store::both_backends! {
    async fn insert_get_list_revoke(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        keys::insert(&mut c, &key("k1")).await.unwrap();
        keys::insert(&mut c, &key("k2")).await.unwrap();
        assert_eq!(keys::get(&mut c, "k1").await.unwrap(), Some(key("k1")));
        assert_eq!(keys::get(&mut c, "nope").await.unwrap(), None);
        assert_eq!(keys::list(&mut c).await.unwrap().len(), 2);
        assert!(keys::revoke(&mut c, "k1", 200).await.unwrap());
        assert!(!keys::revoke(&mut c, "k1", 300).await.unwrap(), "a key is revoked once");
        assert_eq!(keys::get(&mut c, "k1").await.unwrap().unwrap().revoked_at, Some(200));
        let dup = keys::insert(&mut c, &key("k2")).await.unwrap_err();
        assert!(dup.is_unique_violation());
    }
}

jejak_store::both_backends! {
    async fn unknown_role_is_refused_by_the_schema(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        let mut k = key("k3");
        k.role = "root".into();
        assert!(keys::insert(&mut c, &k).await.is_err());
    }
}

jejak_store::both_backends! {
    async fn key_changes_are_announced_when_they_commit(db: TestDb) {
        let Some(mut changes) = keys::KeyChanges::listen(&db.store).await.unwrap() else {
            assert_eq!(db.store.backend(), jejak_store::Backend::Sqlite, "only SQLite has nothing to hear");
            return;
        };
        async fn next(
            changes: &mut keys::KeyChanges,
        ) -> Result<jejak_store::Result<keys::KeyChange>, tokio::time::error::Elapsed> {
            tokio::time::timeout(std::time::Duration::from_secs(2), changes.next()).await
        }
        let mut c = db.store.conn().await.unwrap();
        keys::insert(&mut c, &key("k1")).await.unwrap();
        assert_eq!(next(&mut changes).await.unwrap().unwrap(), keys::KeyChange::Key("k1".into()));
        assert!(keys::revoke(&mut c, "k1", 200).await.unwrap());
        assert_eq!(next(&mut changes).await.unwrap().unwrap(), keys::KeyChange::Key("k1".into()));
        assert!(!keys::revoke(&mut c, "k1", 300).await.unwrap(), "a key is revoked once");
        // A rolled-back revocation announces nothing; the next change is heard alone.
        keys::insert(&mut c, &key("k2")).await.unwrap();
        assert_eq!(next(&mut changes).await.unwrap().unwrap(), keys::KeyChange::Key("k2".into()));
        let mut tx = db.store.pool().begin().await.unwrap();
        assert!(keys::revoke(&mut tx, "k2", 400).await.unwrap());
        tx.rollback().await.unwrap();
        assert!(next(&mut changes).await.is_err(), "nothing announced for a revocation that did not commit");
        assert_eq!(keys::get(&mut c, "k2").await.unwrap().unwrap().revoked_at, None);
    }
}
