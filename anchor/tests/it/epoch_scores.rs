//! An epoch's scores from the database: the same on SQLite and PostgreSQL and on every run, and
//! only over anchored, unrevoked attestations up to the epoch's block.

use jejak_anchor::epoch::{EpochInputs, Salts, ScoredEpoch, score_epoch};
use jejak_core::{attestation, jcs};
use jejak_scoring::Params;
use jejak_store::attestations::{self, NewAttestation};
use jejak_store::batches;
use jejak_store::chain::{self, ChainEvent, Cursor, IndexedLog, LogKey};
use jejak_store::test_utils::TestDb;
use jejak_store::{Backend, Store};
use serde_json::{Value, json};

const CHAIN: u64 = 31337;
/// 2026-11-25T00:00:00Z.
const AS_OF: i64 = 1_795_564_800;

fn key(block: i64, log_index: i64) -> LogKey {
    LogKey {
        chain_id: CHAIN as i64,
        block_number: block,
        block_hash: [block as u8; 32],
        log_index,
        tx_hash: [0xee; 32],
        contract: [0xcc; 20],
    }
}

fn time(days_ago: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(AS_OF - days_ago * 86_400).unwrap();
    t.format(&time::format_description::well_known::Rfc3339).unwrap()
}

/// Six workers on two platforms (one with an account on each), a few dozen events each.
fn events() -> Vec<(i64, Value)> {
    let mut out = Vec::new();
    for w in 0..6u64 {
        let platform = 1 + (w % 2) as i64;
        let worker = format!("w{w}");
        let c = (1_000_003 * (w + 1)).to_string();
        out.push((platform, json!({"type": "account_linked", "worker": worker, "occurred_at": time(400), "data": {"identity_commitment": c}})));
        if w == 0 {
            out.push((2, json!({"type": "account_linked", "worker": "w0-alt", "occurred_at": time(300), "data": {"identity_commitment": c}})));
            out.push((2, json!({"type": "task_completed", "worker": "w0-alt", "occurred_at": time(3), "data": {"task_id": "x", "earnings_minor": 9000, "currency": "IDR"}})));
        }
        for k in 0..(8 + w as i64 * 3) {
            let at = time(k * 11 + w as i64);
            out.push((platform, json!({"type": "task_completed", "worker": worker, "occurred_at": at, "data": {"task_id": format!("t{k}"), "earnings_minor": 20000 + k * 100, "currency": "IDR"}})));
            let rating = ["4.6", "4.9", "5", "4.2", "3.8"][((w as i64 + k) % 5) as usize];
            let body = format!(
                r#"{{"type":"review","worker":"{worker}","occurred_at":"{at}","data":{{"task_id":"t{k}","rating":{rating}}}}}"#
            );
            out.push((platform, serde_json::from_str(&body).unwrap()));
        }
        out.push((platform, json!({"type": "task_cancelled", "worker": worker, "occurred_at": time(5), "data": {"task_id": "c", "cancelled_by": "worker"}})));
        out.push((platform, json!({"type": "loan_repaid", "worker": worker, "occurred_at": time(20), "data": {"loan_id": "l", "amount_minor": 5000, "currency": "IDR", "on_time": w % 3 != 0}})));
    }
    out
}

/// Stores the events in four batches: three anchored (blocks 10, 20, 30) and one never anchored;
/// the first event of the second batch is revoked at block 25. Returns the stored leaves in order.
async fn seed(store: &Store) -> Vec<[u8; 32]> {
    let mut c = store.conn().await.unwrap();
    let evs = events();
    let quarter = evs.len().div_ceil(4);
    let mut leaves = Vec::new();
    let mut logs = Vec::new();
    for (b, chunk) in evs.chunks(quarter).enumerate() {
        let mut batch_leaves = Vec::new();
        for (i, (platform, v)) in chunk.iter().enumerate() {
            let body = jcs::to_vec(v).unwrap();
            let digest = attestation::event_digest(&body);
            let salt = attestation::Salt([(b * 64 + i) as u8; 32]);
            let leaf = attestation::leaf_hash(&salt, &digest);
            let a = NewAttestation {
                id: format!("att_{b}_{i}"),
                platform_id: *platform,
                event_type: v["type"].as_str().unwrap().into(),
                event_id: None,
                worker_ref: v["worker"].as_str().unwrap().into(),
                occurred_at: AS_OF,
                received_at: AS_OF,
                body: String::from_utf8(body).unwrap(),
                event_digest: digest,
                salt: salt.0,
                leaf,
            };
            attestations::insert(&mut c, &a).await.unwrap();
            batch_leaves.push((*platform, leaf));
            leaves.push(leaf);
        }
        // A batch per platform within this chunk, as the batcher makes them.
        for platform in [1i64, 2] {
            let ls: Vec<[u8; 32]> = batch_leaves.iter().filter(|(p, _)| *p == platform).map(|(_, l)| *l).collect();
            if ls.is_empty() {
                continue;
            }
            let root = jejak_core::merkle::root(&ls);
            let id = batches::insert(&mut c, platform, &root, ls.len() as i64, "bafk", 0).await.unwrap();
            let last_seq: i64 = sqlx_last_seq(&mut c).await;
            attestations::assign_batch(&mut c, id, platform, last_seq).await.unwrap();
            if b < 3 {
                let onchain_id = (b * 2) as i64 + platform;
                logs.push(IndexedLog {
                    key: key(10 * (b as i64 + 1), platform),
                    event: ChainEvent::Batch {
                        batch_id: onchain_id,
                        platform_id: platform,
                        root,
                        count: ls.len() as i64,
                        cid: "bafk".into(),
                    },
                });
                if b == 1 && platform == 1 {
                    logs.push(IndexedLog {
                        key: key(25, 0),
                        event: ChainEvent::Revocation { batch_id: onchain_id, leaf: ls[0], reason_code: 3 },
                    });
                }
            }
        }
    }
    chain::insert_logs(&mut c, &logs).await.unwrap();
    chain::save_cursor(
        &mut c,
        &Cursor {
            chain_id: CHAIN as i64,
            block_number: 40,
            block_hash: [40; 32],
            head_number: 40,
            finalized_number: 35,
            reorgs: 0,
            updated_at: 0,
        },
    )
    .await
    .unwrap();
    leaves
}

async fn sqlx_last_seq(c: &mut jejak_store::Conn) -> i64 {
    // The newest attestation: everything unbatched up to it goes into the batch.
    let rows = jejak_store::scores::audit_inputs(c, 0, i64::MAX).await.unwrap();
    rows.last().unwrap().seq
}

async fn score(store: &Store, as_of_block: i64) -> ScoredEpoch {
    let what = EpochInputs { chain_id: CHAIN, epoch: 20_417, as_of: AS_OF, as_of_block, depth: 20, page: 7 };
    score_epoch(store, &what, &Params::v1(), &Salts::Seeded(42)).await.unwrap().expect("identities are linked")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_on_sqlite_and_postgresql_and_across_runs() {
    let (lite, pg) = (TestDb::new(Backend::Sqlite).await, TestDb::new(Backend::Postgres).await);
    seed(&lite.store).await;
    seed(&pg.store).await;
    let a = score(&lite.store, 35).await;
    let b = score(&pg.store, 35).await;
    let again = score(&lite.store, 35).await;
    assert!(a.rows.len() >= 5, "{} identities", a.rows.len());
    assert_eq!(a.rows, b.rows, "every worker row (scores, cards, salts, leaves) is the same on both engines");
    assert_eq!(a.rows, again.rows, "and on a second run");
    assert_eq!(a.totals, b.totals);
    assert_eq!(a.built.manifest_bytes, b.built.manifest_bytes);
    assert_eq!(a.built.tree.root(), b.built.tree.root());
    assert_eq!(a.attestations, b.attestations);
}

jejak_store::both_backends! {
    async fn only_anchored_unrevoked_attestations_up_to_the_block_count(db: TestDb) {
        seed(&db.store).await;
        let total = events().len() as u64;
        let at_20 = score(&db.store, 20).await;
        let at_35 = score(&db.store, 35).await;
        // Blocks 10 and 20 hold half the events; the revocation at 25 takes one away; the fourth
        // batch never reached the chain.
        assert!(at_35.attestations < total, "the unanchored batch is not counted");
        let quarter = (total as usize).div_ceil(4) as u64;
        assert_eq!(at_20.attestations, 2 * quarter);
        assert_eq!(at_35.attestations, 3 * quarter - 1);
        assert_ne!(at_20.built.tree.root(), at_35.built.tree.root());
        let nothing = score_epoch(
            &db.store,
            &EpochInputs { chain_id: CHAIN, epoch: 1, as_of: AS_OF, as_of_block: 5, depth: 20, page: 100 },
            &Params::v1(),
            &Salts::Random,
        )
        .await
        .unwrap();
        assert!(nothing.is_none(), "before any anchor nobody is linked");
    }
}
