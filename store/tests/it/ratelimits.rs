use jejak_store::ratelimits;
use jejak_store::test_utils::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_bucket_admits_its_burst_then_refuses_and_refills() {
    let db = TestDb::postgres().await;
    let mut c = db.store.conn().await.unwrap();
    for i in 0..3 {
        let got = ratelimits::charge(&mut c, "k", 0.001, 3.0).await.unwrap();
        assert!(got.admitted, "request {i} is within the burst");
    }
    let refused = ratelimits::charge(&mut c, "k", 0.001, 3.0).await.unwrap();
    assert!(!refused.admitted, "the fourth is over the burst");
    assert!(refused.tokens < 1.0 && refused.tokens >= 0.0, "{refused:?}");
    assert!(ratelimits::charge(&mut c, "other", 0.001, 3.0).await.unwrap().admitted, "keys have their own buckets");
    // A fast refill: 50 tokens a second give one back within 100 ms.
    for _ in 0..3 {
        ratelimits::charge(&mut c, "fast", 50.0, 3.0).await.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(ratelimits::charge(&mut c, "fast", 50.0, 3.0).await.unwrap().admitted, "the bucket refills");
}
