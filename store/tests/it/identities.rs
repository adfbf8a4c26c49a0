use jejak_store::identities::{self, CustodialIdentityRow};
use jejak_store::test_utils::TestDb;

fn row(n: u8) -> CustodialIdentityRow {
    CustodialIdentityRow {
        commitment: [n; 32],
        sealed: vec![n; 72],
        created_by: format!("platform:{n}"),
        label: "ojek driver".into(),
        created_at: 1_700_000_000 + i64::from(n),
    }
}

jejak_store::both_backends! {
    async fn insert_then_get_by_commitment(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        identities::insert(&mut c, &row(1)).await.unwrap();
        identities::insert(&mut c, &row(2)).await.unwrap();
        assert_eq!(identities::get(&mut c, &[1; 32]).await.unwrap(), Some(row(1)));
        assert_eq!(identities::get(&mut c, &[2; 32]).await.unwrap(), Some(row(2)));
        assert_eq!(identities::get(&mut c, &[3; 32]).await.unwrap(), None, "not held");
    }
}

jejak_store::both_backends! {
    async fn a_commitment_is_held_once(db: TestDb) {
        let mut c = db.store.conn().await.unwrap();
        identities::insert(&mut c, &row(1)).await.unwrap();
        let mut again = row(1);
        again.sealed = vec![9; 72];
        let e = identities::insert(&mut c, &again).await.unwrap_err();
        assert!(e.is_unique_violation(), "{e}");
        assert_eq!(identities::get(&mut c, &[1; 32]).await.unwrap().unwrap().sealed, vec![1; 72], "the first stays");
    }
}

#[test]
fn debug_output_shows_no_sealed_bytes() {
    let text = format!("{:?}", row(0xab));
    assert!(text.contains("<72 bytes>"), "{text}");
    assert!(!text.contains("171, 171"), "{text}");
}
