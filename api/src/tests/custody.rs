//! Node-held identities through `router(..).oneshot(..)`, each test on SQLite and on PostgreSQL:
//! an identity made through the API proves through the API, and the proof verifies once through
//! `POST /v1/verify/proof`; who may ask; bounds the leaf does not meet; workers holding their own
//! secret; no proving key; a full queue; sealed secrets altered or moved in the database; a
//! proving key for another depth; malformed requests.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use jejak_prover::keys::Reduction;
use jejak_prover::{Prover, ProvingKeyFile};
use jejak_store::chain::{self, ChainEvent, Cursor, IndexedLog, LogKey};
use jejak_store::identities as db;
use jejak_store::scores::{self, EpochRow, EpochStatus, WorkerScoreRow};
use jejak_store::test_utils::TestDb;
use jejak_zk_circuits::{
    Fr, PoseidonTree, Requirement, WorkerRecord, fr_from_decimal, fr_to_be_bytes, fr_to_decimal, worker_leaf,
};
use serde_json::{Value, json};

use crate::auth::{self, Role};
use crate::services::identities::{IdentitySecret, SealingKey};
use crate::{ApiSettings, AppState, Limits, Services};

const DEPTH: usize = 4;
const CHAIN: u64 = 31337;
const CONTEXT: &str = "acme-lending/loan-v1";
const SEALING_KEY: [u8; 32] = [9; 32];

/// One seeded development key for every test (setup is the slow part).
fn proving_key() -> ProvingKeyFile {
    static PK: OnceLock<ProvingKeyFile> = OnceLock::new();
    PK.get_or_init(|| jejak_prover::setup::dev_setup(DEPTH, "api-custody-test", Reduction::Libsnark).unwrap()).clone()
}

struct Fixture {
    st: AppState,
    admin: String,
    /// With [`Proving::Gated`]: each message lets the proving thread make one proof.
    gate: Option<std::sync::mpsc::Sender<()>>,
    _dir: tempfile::TempDir,
    _db: TestDb,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Proving {
    On,
    /// A proving thread that waits for the fixture's gate before each proof, queue of 1.
    Gated,
    Off,
}

async fn fixture(db: TestDb, proving: Proving) -> Fixture {
    let pk = proving_key();
    let settings = ApiSettings { reputation_roots: alloy_primitives::Address::repeat_byte(0x42), ..Default::default() };
    let services = Services::new(
        settings,
        ed25519_dalek::SigningKey::from_bytes(&[5; 32]),
        Duration::from_secs(60),
        Some(&pk.verifying_key()),
    )
    .unwrap()
    .with_sealing_key(SEALING_KEY);
    let (services, gate) = match proving {
        Proving::On => (services.with_prover(Prover::new(pk).unwrap(), 4).unwrap(), None),
        Proving::Gated => {
            let (prover, gate) = crate::services::proving::ProvingService::start_gated(
                Prover::new(pk).unwrap(),
                1,
                services.metrics.clone(),
            )
            .unwrap();
            (Services { prover: Some(prover), ..services }, Some(gate))
        }
        Proving::Off => (services, None),
    };
    let api = super::app_with(db, Limits::default(), services).await;
    Fixture { st: api.st, admin: api.admin, gate, _dir: api.dir, _db: api.db }
}

impl Fixture {
    async fn key(&self, role: Role, platform: Option<i64>, worker: Option<&str>) -> String {
        let k = auth::new_key(role, platform, worker.map(str::to_owned), "t", 0);
        jejak_store::keys::insert(&mut self.st.store.conn().await.unwrap(), &k.row).await.unwrap();
        k.token
    }

    async fn call(&self, path: &str, token: &str, body: impl Into<Body>) -> (StatusCode, HeaderMap, Value) {
        let req = Request::post(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.into())
            .unwrap();
        super::send(&self.st, req).await
    }

    /// `POST /v1/identities` as `token`; the new worker id.
    async fn new_identity(&self, token: &str) -> String {
        let (s, _, b) = self.call("/v1/identities", token, "{}").await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b["worker"].as_str().unwrap().to_owned()
    }

    async fn prove(&self, worker: &str, token: &str, body: Value) -> (StatusCode, HeaderMap, Value) {
        self.call(&format!("/v1/workers/{worker}/proofs"), token, body.to_string()).await
    }

    /// A published, final epoch of a tree of `depth` holding `leaves`, as the epoch job and the
    /// indexer leave it.
    async fn publish(&self, epoch: i64, depth: usize, leaves: &[Leaf]) {
        let tree = PoseidonTree::from_leaves(depth, leaves.iter().map(|l| l.leaf(epoch as u64)).collect()).unwrap();
        let root = fr_to_be_bytes(&tree.root());
        let row = EpochRow {
            chain_id: CHAIN as i64,
            epoch,
            status: EpochStatus::Published,
            as_of: 1,
            as_of_block: 1,
            params_version: 1,
            params_cid: "bafkreiparams".into(),
            depth: depth as i64,
            worker_count: leaves.len() as i64,
            root,
            platforms: "[]".into(),
            snapshot_cid: Some("bafkreisnapshot".into()),
            tx_hash: Some([epoch as u8; 32]),
            error: None,
            created_at: 1,
            updated_at: 1,
        };
        let workers: Vec<WorkerScoreRow> = leaves
            .iter()
            .enumerate()
            .map(|(i, l)| WorkerScoreRow {
                epoch,
                commitment: fr_to_be_bytes(&l.commitment),
                leaf_index: i as i64,
                reputation: l.score as i64,
                credit: 700,
                tier: l.tier.into(),
                gigs: l.gigs as i64,
                salt: fr_to_be_bytes(&l.salt),
                leaf: fr_to_be_bytes(&l.leaf(epoch as u64)),
                card: "{}".into(),
            })
            .collect();
        let mut tx = self.st.store.begin().await.unwrap();
        scores::insert_epoch(&mut tx, &row, &workers).await.unwrap();
        let block = 10 + epoch;
        let key = LogKey {
            chain_id: CHAIN as i64,
            block_number: block,
            block_hash: [block as u8; 32],
            log_index: 0,
            tx_hash: [epoch as u8; 32],
            contract: [0x42; 20],
        };
        let event =
            ChainEvent::RootPublished { epoch, root, snapshot_cid: "bafkreisnapshot".into(), params_version: 1 };
        chain::insert_logs(&mut tx, &[IndexedLog { key, event }]).await.unwrap();
        let cursor = Cursor {
            chain_id: CHAIN as i64,
            block_number: 100,
            block_hash: [1; 32],
            head_number: 100,
            finalized_number: 90,
            reorgs: 0,
            updated_at: 1,
        };
        chain::save_cursor(&mut tx, &cursor).await.unwrap();
        jejak_store::commit(tx).await.unwrap();
    }
}

/// A worker's row in a seeded epoch.
#[derive(Clone, Copy)]
struct Leaf {
    commitment: Fr,
    score: u64,
    gigs: u64,
    tier: &'static str,
    salt: Fr,
}

impl Leaf {
    fn new(worker: &str, score: u64, gigs: u64, tier: &'static str) -> Self {
        let commitment = fr_from_decimal(worker).unwrap();
        Self { commitment, score, gigs, tier, salt: Fr::from(score * 31 + gigs) }
    }

    fn tier_value(&self) -> u64 {
        5 - u64::from(self.tier.as_bytes()[0] - b'A')
    }

    fn leaf(&self, epoch: u64) -> Fr {
        worker_leaf(self.commitment, self.score, self.gigs, self.tier_value(), epoch, self.salt)
    }
}

fn code(b: &Value) -> &str {
    b["error"]["code"].as_str().unwrap_or_default()
}

fn ask(min_score: u64, min_gigs: u64, min_tier: u64) -> Value {
    json!({"context": CONTEXT, "platform_id": 7, "challenge": "42", "min_score": min_score, "min_gigs": min_gigs, "min_tier": min_tier})
}

/// Fillers so that the worker's leaf is not alone in the tree.
fn others() -> Vec<Leaf> {
    (0..3).map(|i| Leaf::new(&(1000 + i).to_string(), 500 + i, 10, "D")).collect()
}

jejak_store::both_backends! {
    async fn a_node_held_identity_proves_and_the_proof_verifies_once(db: TestDb) {
        let f = fixture(db, Proving::On).await;
        let (s, _, made) = f.call("/v1/identities", &f.admin, r#"{"label": "no phone"}"#).await;
        assert_eq!(s, StatusCode::CREATED, "{made}");
        assert_eq!(made["custody"], "node");
        let worker = made["worker"].as_str().unwrap().to_owned();
        let created_at = made["created_at"].as_str().unwrap();
        time::OffsetDateTime::parse(created_at, &time::format_description::well_known::Rfc3339).unwrap();
        // The commitment is Poseidon of the secret the node sealed.
        let commitment = fr_to_be_bytes(&fr_from_decimal(&worker).unwrap());
        let row = db::get(&mut f.st.store.conn().await.unwrap(), &commitment).await.unwrap().unwrap();
        let secret = SealingKey::new(SEALING_KEY).open(&commitment, &row.sealed).unwrap();
        assert_eq!(fr_to_decimal(&secret.commitment()), worker);
        assert!(row.created_by.starts_with("admin:"), "{}", row.created_by);
        assert_eq!(row.label, "no phone");
        // A platform makes them too, and is named as their maker.
        let platform = f.key(Role::Platform, Some(7), None).await;
        let by_platform = f.new_identity(&platform).await;
        let commitment2 = fr_to_be_bytes(&fr_from_decimal(&by_platform).unwrap());
        let row2 = db::get(&mut f.st.store.conn().await.unwrap(), &commitment2).await.unwrap().unwrap();
        assert_eq!((row2.created_by.as_str(), row2.label.as_str()), ("platform:7", ""));
        assert_ne!(by_platform, worker);

        let mut leaves = others();
        leaves.insert(1, Leaf::new(&worker, 712, 64, "C"));
        f.publish(1, DEPTH, &leaves).await;
        let own = f.key(Role::Worker, None, Some(&worker)).await;
        let (s, _, answer) = f.prove(&worker, &own, ask(700, 50, 3)).await;
        assert_eq!(s, StatusCode::OK, "{answer}");
        assert_eq!(answer["epoch"], 1);
        assert_eq!(answer["proof"]["format"], "jejak-zk-proof/v1");
        assert_eq!(answer["proof"]["statement"], answer["statement"]);
        let st = &answer["statement"];
        assert_eq!((&st["min_score"], &st["min_gigs"], &st["min_tier"], &st["epoch"]), (&json!(700), &json!(50), &json!(3), &json!(1)));
        assert_eq!(st["challenge"], "42");

        // A platform verifies it: valid once, then a replay.
        let verify = json!({"proof": answer["proof"], "context": CONTEXT, "challenge": "42",
                            "require": {"min_score": 700, "min_gigs": 50, "min_tier": 3}});
        let (s, _, b) = f.call("/v1/verify/proof", &platform, verify.to_string()).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["valid"], true, "{b}");
        assert_eq!(b["nullifier_consumed"], true);
        let (s, _, b) = f.call("/v1/verify/proof", &platform, verify.to_string()).await;
        assert_eq!((s, code(&b)), (StatusCode::CONFLICT, "nullifier_used"), "{b}");
        // Made for platform 7: the operator's admin key (another consumer) finds another scope.
        let (s, _, b) = f.call("/v1/verify/proof", &f.admin, verify.to_string()).await;
        assert_eq!((s, &b["valid"]), (StatusCode::OK, &json!(false)), "{b}");

        // An admin proves for the worker too; another context gives another nullifier.
        let mut other = ask(0, 0, 0);
        other["context"] = json!("another-verifier");
        other.as_object_mut().unwrap().remove("challenge");
        let (s, _, b) = f.prove(&worker, &f.admin, other).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["statement"]["challenge"], "0", "the default challenge");
        assert_ne!(b["statement"]["nullifier"], answer["statement"]["nullifier"]);
        let metrics = crate::metrics::render(&f.st).await;
        assert!(metrics.contains("jejak_proofs_made_total 2"), "{metrics}");
        assert!(metrics.contains("jejak_prove_seconds_count 2"), "{metrics}");
    }
}

jejak_store::both_backends! {
    async fn only_the_worker_or_an_admin_gets_a_proof(db: TestDb) {
        let f = fixture(db, Proving::On).await;
        let worker = f.new_identity(&f.admin).await;
        let mut leaves = others();
        leaves.push(Leaf::new(&worker, 712, 64, "C"));
        f.publish(1, DEPTH, &leaves).await;
        let reputation_404 = |b: &Value| code(b) == "worker_not_found";
        let someone = f.new_identity(&f.admin).await;
        for token in [
            f.key(Role::Worker, None, Some(&someone)).await,
            f.key(Role::Platform, Some(7), None).await,
            f.key(Role::Auditor, None, None).await,
        ] {
            let (s, _, b) = f.prove(&worker, &token, ask(0, 0, 0)).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
            assert!(reputation_404(&b), "{b}");
        }
        // The worker's own key does get it.
        let own = f.key(Role::Worker, None, Some(&worker)).await;
        assert_eq!(f.prove(&worker, &own, ask(0, 0, 0)).await.0, StatusCode::OK);
        // An identity with no leaf in a published epoch: nothing to prove against.
        let (s, _, b) = f.prove(&someone, &f.admin, ask(0, 0, 0)).await;
        assert_eq!((s, code(&b)), (StatusCode::NOT_FOUND, "worker_not_found"), "{b}");
        // Nor does anyone but admins and platforms make identities.
        for token in [own, f.key(Role::Auditor, None, None).await] {
            let (s, _, b) = f.call("/v1/identities", &token, "{}").await;
            assert_eq!((s, code(&b)), (StatusCode::FORBIDDEN, "forbidden"), "{b}");
        }
    }
}

jejak_store::both_backends! {
    async fn bounds_the_leaf_does_not_meet_answer_422_naming_them(db: TestDb) {
        let f = fixture(db, Proving::On).await;
        let worker = f.new_identity(&f.admin).await;
        f.publish(1, DEPTH, &[Leaf::new(&worker, 712, 64, "C")]).await;
        let (s, _, b) = f.prove(&worker, &f.admin, ask(713, 64, 3)).await;
        assert_eq!((s, code(&b)), (StatusCode::UNPROCESSABLE_ENTITY, "requirement_not_met"), "{b}");
        assert_eq!(b["error"]["details"]["unmet"], json!([{"bound": "min_score", "required": 713, "value": 712}]));
        let (s, _, b) = f.prove(&worker, &f.admin, ask(0, 65, 4)).await;
        assert_eq!((s, code(&b)), (StatusCode::UNPROCESSABLE_ENTITY, "requirement_not_met"), "{b}");
        let bounds: Vec<&str> =
            b["error"]["details"]["unmet"].as_array().unwrap().iter().map(|u| u["bound"].as_str().unwrap()).collect();
        assert_eq!(bounds, ["min_gigs", "min_tier"], "{b}");
        // Exactly the leaf's values are met.
        assert_eq!(f.prove(&worker, &f.admin, ask(712, 64, 3)).await.0, StatusCode::OK);
    }
}

jejak_store::both_backends! {
    async fn a_worker_holding_their_own_secret_gets_identity_not_held(db: TestDb) {
        let f = fixture(db, Proving::On).await;
        let record = WorkerRecord { secret: Fr::from(424242u64), score: 800, gigs: 90, tier: 4, epoch: 1, salt: Fr::from(5u64) };
        let worker = fr_to_decimal(&record.commitment());
        let leaf = Leaf { commitment: record.commitment(), score: 800, gigs: 90, tier: "B", salt: Fr::from(5u64) };
        assert_eq!(leaf.leaf(1), record.leaf(), "the seeded leaf is the worker's");
        f.publish(1, DEPTH, &[leaf]).await;
        let own = f.key(Role::Worker, None, Some(&worker)).await;
        let (s, _, b) = f.prove(&worker, &own, ask(0, 0, 0)).await;
        assert_eq!((s, code(&b)), (StatusCode::CONFLICT, "identity_not_held"), "{b}");
        assert!(b["error"]["message"].as_str().unwrap().contains("jejak zk prove"), "{b}");
    }
}

jejak_store::both_backends! {
    async fn without_a_proving_key_proofs_answer_503_and_identities_are_still_made(db: TestDb) {
        let f = fixture(db, Proving::Off).await;
        let worker = f.new_identity(&f.admin).await;
        f.publish(1, DEPTH, &[Leaf::new(&worker, 712, 64, "C")]).await;
        let (s, _, b) = f.prove(&worker, &f.admin, ask(0, 0, 0)).await;
        assert_eq!((s, code(&b)), (StatusCode::SERVICE_UNAVAILABLE, "proving_unavailable"), "{b}");
    }
}

jejak_store::both_backends! {
    async fn a_full_queue_answers_prover_busy_with_retry_after(db: TestDb) {
        let f = fixture(db, Proving::Gated).await;
        let worker = f.new_identity(&f.admin).await;
        f.publish(1, DEPTH, &[Leaf::new(&worker, 712, 64, "C")]).await;
        // The thread holds one proof at its gate and the queue one more: two accepted, the
        // queue is full until the gate opens (a refusal before the thread took the first is
        // retried).
        let prover = f.st.services.prover.as_ref().unwrap();
        let record = WorkerRecord { secret: Fr::from(1u64), score: 1, gigs: 1, tier: 1, epoch: 1, salt: Fr::from(1u64) };
        let tree = PoseidonTree::from_leaves(DEPTH, vec![record.leaf()]).unwrap();
        let requirement = Requirement { min_score: 0, min_gigs: 0, min_tier: 0, scope: Fr::from(1u64), challenge: Fr::from(0u64) };
        let submit = || prover.submit(record.clone(), tree.path(0).unwrap(), requirement);
        let mut pending = Vec::new();
        for _ in 0..1000 {
            match submit() {
                Ok(rx) => pending.push(rx),
                Err(crate::services::proving::QueueError::Busy) => tokio::time::sleep(Duration::from_millis(5)).await,
                Err(e) => panic!("{e}"),
            }
            if pending.len() == 2 {
                break;
            }
        }
        assert_eq!(pending.len(), 2);
        assert_eq!(submit().unwrap_err(), crate::services::proving::QueueError::Busy);
        let (s, h, b) = f.prove(&worker, &f.admin, ask(0, 0, 0)).await;
        assert_eq!((s, code(&b)), (StatusCode::SERVICE_UNAVAILABLE, "prover_busy"), "{b}");
        let retry: u64 = h.get(header::RETRY_AFTER).unwrap().to_str().unwrap().parse().unwrap();
        assert!(retry >= 1, "{retry}");
        // The gate open, the queue drains and proofs are made again.
        let gate = f.gate.as_ref().unwrap().clone();
        for _ in 0..pending.len() + 1 {
            gate.send(()).unwrap();
        }
        for rx in pending {
            rx.await.unwrap().unwrap();
        }
        let (s, _, b) = f.prove(&worker, &f.admin, ask(0, 0, 0)).await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
}

jejak_store::both_backends! {
    async fn altered_or_moved_sealed_secrets_answer_identity_unreadable(db: TestDb) {
        let f = fixture(db, Proving::On).await;
        let good = f.new_identity(&f.admin).await;
        let good_bytes = fr_to_be_bytes(&fr_from_decimal(&good).unwrap());
        let good_row = db::get(&mut f.st.store.conn().await.unwrap(), &good_bytes).await.unwrap().unwrap();
        let key = SealingKey::new(SEALING_KEY);
        let mut c = f.st.store.conn().await.unwrap();
        // Moved: another commitment's row carrying the good identity's sealed secret.
        let moved = IdentitySecret::generate();
        let moved_bytes = fr_to_be_bytes(&moved.commitment());
        let row = |commitment: [u8; 32], sealed: Vec<u8>| db::CustodialIdentityRow {
            commitment, sealed, created_by: "admin:test".into(), label: String::new(), created_at: 1,
        };
        db::insert(&mut c, &row(moved_bytes, good_row.sealed.clone())).await.unwrap();
        // Altered: one bit of the ciphertext flipped.
        let altered = IdentitySecret::generate();
        let altered_bytes = fr_to_be_bytes(&altered.commitment());
        let mut sealed = key.seal(&altered_bytes, &altered);
        sealed[30] ^= 0x01;
        db::insert(&mut c, &row(altered_bytes, sealed)).await.unwrap();
        // Sealed under another key (the sealing key lost or replaced).
        let rekeyed = IdentitySecret::generate();
        let rekeyed_bytes = fr_to_be_bytes(&rekeyed.commitment());
        db::insert(&mut c, &row(rekeyed_bytes, SealingKey::new([1; 32]).seal(&rekeyed_bytes, &rekeyed))).await.unwrap();
        drop(c);
        let ids: Vec<String> = [moved.commitment(), altered.commitment(), rekeyed.commitment()].iter().map(fr_to_decimal).collect();
        let mut leaves: Vec<Leaf> = ids.iter().map(|w| Leaf::new(w, 600, 20, "C")).collect();
        leaves.push(Leaf::new(&good, 600, 20, "C"));
        f.publish(1, DEPTH, &leaves).await;
        for id in &ids {
            let (s, _, b) = f.prove(id, &f.admin, ask(0, 0, 0)).await;
            assert_eq!((s, code(&b)), (StatusCode::INTERNAL_SERVER_ERROR, "identity_unreadable"), "{b}");
        }
        // Nothing broke: the intact identity still proves.
        let (s, _, b) = f.prove(&good, &f.admin, ask(0, 0, 0)).await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
}

jejak_store::both_backends! {
    async fn an_epoch_of_another_depth_answers_proving_key_mismatch(db: TestDb) {
        let f = fixture(db, Proving::On).await;
        let worker = f.new_identity(&f.admin).await;
        f.publish(1, DEPTH + 1, &[Leaf::new(&worker, 712, 64, "C")]).await;
        let (s, _, b) = f.prove(&worker, &f.admin, ask(0, 0, 0)).await;
        assert_eq!((s, code(&b)), (StatusCode::INTERNAL_SERVER_ERROR, "proving_key_mismatch"), "{b}");
    }
}

jejak_store::both_backends! {
    async fn malformed_requests_answer_in_the_error_format(db: TestDb) {
        let f = fixture(db, Proving::On).await;
        let worker = f.new_identity(&f.admin).await;
        f.publish(1, DEPTH, &[Leaf::new(&worker, 712, 64, "C")]).await;
        let path = format!("/v1/workers/{worker}/proofs");
        let (s, _, b) = f.call(&path, &f.admin, "{not json").await;
        assert_eq!((s, code(&b)), (StatusCode::BAD_REQUEST, "malformed_json"), "{b}");
        let long = "x".repeat(257);
        let modulus = jejak_zk_circuits::field::MODULUS_DECIMAL;
        for body in [
            json!({"context": CONTEXT, "min_score": 0, "min_gigs": 0, "min_tier": 0, "extra": 1}),
            json!({"context": CONTEXT, "min_gigs": 0, "min_tier": 0}),
            json!({"context": CONTEXT, "min_score": -1, "min_gigs": 0, "min_tier": 0}),
            json!({"context": "", "min_score": 0, "min_gigs": 0, "min_tier": 0}),
            json!({"context": long, "min_score": 0, "min_gigs": 0, "min_tier": 0}),
            json!({"context": CONTEXT, "challenge": "abc", "min_score": 0, "min_gigs": 0, "min_tier": 0}),
            json!({"context": CONTEXT, "challenge": modulus, "min_score": 0, "min_gigs": 0, "min_tier": 0}),
        ] {
            let (s, _, b) = f.prove(&worker, &f.admin, body.clone()).await;
            assert_eq!((s, code(&b)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"), "{body}: {b}");
        }
        let (s, _, b) = f.prove("not-a-number", &f.admin, ask(0, 0, 0)).await;
        assert_eq!((s, code(&b)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"), "{b}");
        for body in [r#"{"labels": "x"}"#.to_owned(), json!({"label": "x".repeat(129)}).to_string()] {
            let (s, _, b) = f.call("/v1/identities", &f.admin, body.clone()).await;
            assert_eq!((s, code(&b)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"), "{body}: {b}");
        }
        let (s, _, b) = f.call("/v1/identities", &f.admin, "{").await;
        assert_eq!((s, code(&b)), (StatusCode::BAD_REQUEST, "malformed_json"), "{b}");
        // An empty body is an empty object.
        assert_eq!(f.call("/v1/identities", &f.admin, "").await.0, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn the_tree_of_the_latest_epoch_is_built_once() {
    let metrics = Arc::new(crate::metrics::Metrics::default());
    let service =
        crate::services::proving::ProvingService::start(Prover::new(proving_key()).unwrap(), 1, metrics).unwrap();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    let builds = &counter;
    let build = move || async move {
        builds.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        PoseidonTree::from_leaves(DEPTH, vec![Fr::from(1u64)]).map_err(|e| e.to_string())
    };
    let a = service.tree((CHAIN as i64, 1), build).await.unwrap();
    let b = service.tree((CHAIN as i64, 1), build).await.unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(builds.load(std::sync::atomic::Ordering::SeqCst), 1, "the second is the cached tree");
    service.tree((CHAIN as i64, 2), build).await.unwrap();
    service.tree((CHAIN as i64 + 1, 2), build).await.unwrap();
    assert_eq!(builds.load(std::sync::atomic::Ordering::SeqCst), 3, "another epoch or chain is built");
}
