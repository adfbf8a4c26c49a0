use jejak_store::ipfs::{self, FetchStatus};
use jejak_store::test_utils::TestDb;

jejak_store::both_backends! {
    async fn queue_lifecycle(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        ipfs::enqueue(&mut c, "cid-a", "batch", 10).await.unwrap();
        ipfs::enqueue(&mut c, "cid-b", "batch", 10).await.unwrap();
        ipfs::enqueue(&mut c, "cid-a", "batch", 50).await.unwrap();
        assert_eq!(ipfs::due(&mut c, 9, 10).await.unwrap().len(), 0);
        assert_eq!(ipfs::due(&mut c, 10, 10).await.unwrap().len(), 2);
        ipfs::record_attempt(&mut c, "cid-a", FetchStatus::Pending, 40, None, Some("timeout"), 11).await.unwrap();
        ipfs::record_attempt(&mut c, "cid-b", FetchStatus::Fetched, 11, Some(123), None, 11).await.unwrap();
        let due = ipfs::due(&mut c, 39, 10).await.unwrap();
        assert!(due.is_empty());
        let due = ipfs::due(&mut c, 40, 10).await.unwrap();
        assert_eq!((due[0].cid.as_str(), due[0].attempts, due[0].error.as_deref()), ("cid-a", 1, Some("timeout")));
        let counts = ipfs::counts(&mut c).await.unwrap();
        assert!(counts.contains(&(FetchStatus::Pending, 1)) && counts.contains(&(FetchStatus::Fetched, 1)));
        assert_eq!(ipfs::get(&mut c, "cid-b").await.unwrap().unwrap().size, Some(123));
    }
}
