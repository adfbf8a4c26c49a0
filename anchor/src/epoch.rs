//! The reputation epoch job: scores every linked identity from finalized attestations, builds
//! the Poseidon tree of worker leaves, publishes the snapshot on IPFS and the root on chain.
//!
//! Epoch `e` is scored as of `genesis + e * length` and counts the attestations of batches
//! anchored in blocks up to the indexer's finalized block when the epoch is computed (recorded
//! as `as_of_block`, and published in the manifest, so a replay counts the same ones).
//!
//! Each step records its result before the next one starts, so a crash at any point resumes
//! where it stopped and never publishes two roots for one epoch:
//!
//! 1. **compute**: scores, per-worker salts and leaves, root; the epoch row and every worker row
//!    in one transaction (`computed`). A crash before the commit leaves nothing: it is redone.
//! 2. **store**: parameters document, snapshot pages and manifest into the blockstore (pinned to
//!    Kubo when configured), rebuilt from the stored leaves if needed; the manifest CID
//!    (`stored`).
//! 3. **publish**: if the chain already has this root for the epoch, done; if it has a later
//!    epoch or another root, `failed`. Otherwise `publishRoot` is signed, its hash recorded
//!    (`submitted`) and only then broadcast ([`jejak_chain::Sender`]).
//! 4. **settle**: the receipt moves the epoch to `published`; a transaction the chain never saw
//!    (a crash between recording and broadcasting) is sent again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256};
use alloy::sol_types::SolCall;
use jejak_chain::bindings::JejakReputationRoots;
use jejak_chain::{Sender, Sent};
use jejak_core::cid::{self, Cid};
use jejak_ipfs::{Blockstore, Kubo};
use jejak_scoring::snapshot::{self, Header, LeafInput, PlatformEntry};
use jejak_scoring::{Engine, Params, PlatformTotals, input};
use jejak_store::scores::{self, EpochRow, EpochStatus, WorkerScoreRow};
use jejak_store::{Store, chain, now_secs};
use jejak_zk_circuits::{Fr, fr_from_be_bytes, fr_to_be_bytes};
use rand::SeedableRng as _;
use rayon::prelude::*;
use tokio_util::sync::CancellationToken;

use crate::{Error, Result};

const TARGET: &str = "jejak::epoch";

/// How epochs are scheduled and published.
#[derive(Debug, Clone)]
pub struct EpochConfig {
    /// EVM chain id.
    pub chain_id: u64,
    /// The `JejakReputationRoots` contract.
    pub reputation_roots: Address,
    /// Epoch length, seconds.
    pub length_secs: u64,
    /// Unix time epoch 0 ends at; epoch `e` ends at `genesis + e * length`.
    pub genesis: i64,
    /// Poseidon tree depth.
    pub depth: usize,
    /// Wait between checks for a due epoch.
    pub interval: Duration,
    /// How long to wait for a receipt within one round.
    pub receipt_timeout: Duration,
    /// Attestations read per database round trip.
    pub page: i64,
}

impl EpochConfig {
    /// Daily epochs from the unix epoch, depth 20.
    pub fn new(chain_id: u64, reputation_roots: Address) -> Self {
        Self {
            chain_id,
            reputation_roots,
            length_secs: 86_400,
            genesis: 0,
            depth: snapshot::DEFAULT_DEPTH,
            interval: Duration::from_secs(60),
            receipt_timeout: Duration::from_secs(60),
            page: 20_000,
        }
    }

    /// The time epoch `e` is scored as of.
    pub fn as_of(&self, epoch: u64) -> i64 {
        self.genesis + (epoch as i64) * self.length_secs as i64
    }

    /// The latest epoch that has ended at `now`.
    pub fn due(&self, now: i64) -> u64 {
        if now < self.genesis || self.length_secs == 0 { 0 } else { ((now - self.genesis) as u64) / self.length_secs }
    }
}

/// Where per-worker salts come from.
#[derive(Debug, Clone)]
pub enum Salts {
    /// The operating system's generator (production).
    Random,
    /// A ChaCha stream from a seed and the epoch (reproducible tests and benchmarks).
    Seeded(u64),
}

impl Salts {
    fn generate(&self, epoch: u64, n: usize) -> Vec<Fr> {
        let mut out = Vec::with_capacity(n);
        let mut fill = |rng: &mut dyn rand::RngCore| {
            for _ in 0..n {
                let mut b = [0u8; 31];
                rng.fill_bytes(&mut b);
                out.push(snapshot::salt_from_bytes(b));
            }
        };
        match self {
            Salts::Random => fill(&mut rand::rngs::OsRng),
            Salts::Seeded(seed) => fill(&mut rand_chacha::ChaCha20Rng::seed_from_u64(seed ^ epoch.rotate_left(32))),
        }
        out
    }
}

/// A point where [`EpochJob`] can be told to stop as if the process had died there (a test hook
/// for the crash-recovery tests; never set in production).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// After the scores are committed, before the snapshot is stored.
    AfterCompute,
    /// After the snapshot is stored, before the transaction is signed.
    AfterStore,
    /// After the transaction hash is recorded, before it is broadcast.
    AfterRecord,
    /// After the broadcast, before the receipt is read.
    AfterBroadcast,
}

/// What [`EpochJob::run_epoch`] got to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochOutcome {
    /// Epoch number.
    pub epoch: u64,
    /// Where it is now (None: nobody linked yet, nothing recorded).
    pub status: Option<EpochStatus>,
    /// Leaves.
    pub workers: u64,
    /// Root, when computed.
    pub root: Option<[u8; 32]>,
    /// Manifest CID, when stored.
    pub snapshot_cid: Option<String>,
}

/// Which epoch to score, as of when, and from which attestations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochInputs {
    /// EVM chain id.
    pub chain_id: u64,
    /// Epoch number (a leaf input).
    pub epoch: u64,
    /// Scoring time, unix seconds.
    pub as_of: i64,
    /// Last block whose anchored batches count.
    pub as_of_block: i64,
    /// Tree depth.
    pub depth: usize,
    /// Attestations read per database round trip.
    pub page: i64,
}

/// What [`score_epoch`] computed.
#[derive(Debug)]
pub struct ScoredEpoch {
    /// The snapshot (tree, pages, manifest).
    pub built: snapshot::Built,
    /// One row per identity, in leaf order.
    pub rows: Vec<WorkerScoreRow>,
    /// Per-platform rating totals.
    pub totals: BTreeMap<u64, PlatformTotals>,
    /// Attestations read.
    pub attestations: u64,
    /// Of them, bodies that do not parse as v1 events (not scored).
    pub unreadable: u64,
}

/// Scores an epoch from the counted attestations in `store` (writing nothing): every linked
/// identity's score card, salt and leaf, the tree and the snapshot documents. None when no
/// identity is linked yet.
pub async fn score_epoch(
    store: &Store,
    what: &EpochInputs,
    params: &Params,
    salts: &Salts,
) -> Result<Option<ScoredEpoch>> {
    let (chain_id, epoch, as_of, as_of_block) = (what.chain_id as i64, what.epoch, what.as_of, what.as_of_block);

    let mut engine = Engine::new(params.clone(), as_of);
    let (mut after, mut read, mut unreadable) = (0i64, 0u64, 0u64);
    loop {
        let page = {
            let mut c = store.conn().await?;
            scores::scoring_inputs(&mut c, chain_id, as_of_block, after, what.page).await?
        };
        let Some(last) = page.last() else { break };
        after = last.seq;
        read += page.len() as u64;
        let (e, bad) = tokio::task::spawn_blocking(move || {
            let refs: Vec<(u64, &str)> = page.iter().map(|i| (i.platform_id as u64, i.body.as_str())).collect();
            let mut parsed = Vec::with_capacity(refs.len());
            let mut bad = 0u64;
            for (r, item) in input::parse_all(&refs).into_iter().zip(&page) {
                match r {
                    Ok(a) => parsed.push(a),
                    Err(err) => {
                        bad += 1;
                        tracing::warn!(target: TARGET, attestation = %item.id, error = %err, "attestation not scored");
                    }
                }
            }
            engine.add_batch(&parsed);
            (engine, bad)
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?;
        engine = e;
        unreadable += bad;
    }

    let depth = what.depth;
    let (params_version, params_cid) = (params.version, jejak_core::cid::raw_cid(&params.to_bytes()).to_string());
    let salts = salts.clone();
    let chain = what.chain_id;
    let built = tokio::task::spawn_blocking(move || -> Result<Option<ComputedRows>> {
        let (scores, totals) = engine.finish();
        if scores.is_empty() {
            return Ok(None);
        }
        let salts = salts.generate(epoch, scores.len());
        let inputs: Vec<LeafInput> = scores
            .iter()
            .zip(&salts)
            .map(|(s, salt)| LeafInput {
                commitment: s.commitment,
                score: u64::from(s.card.reputation),
                gigs: s.card.gigs,
                tier: s.card.tier.leaf_value(),
                salt: *salt,
            })
            .collect();
        let leaves = snapshot::leaves(epoch, &inputs);
        let rows = scores
            .par_iter()
            .zip(&inputs)
            .zip(&leaves)
            .enumerate()
            .map(|(i, ((s, input), leaf))| WorkerScoreRow {
                epoch: epoch as i64,
                commitment: s.commitment.0,
                leaf_index: i as i64,
                reputation: i64::from(s.card.reputation),
                credit: i64::from(s.card.credit),
                tier: s.card.tier.as_str().to_string(),
                gigs: s.card.gigs as i64,
                salt: fr_to_be_bytes(&input.salt),
                leaf: fr_to_be_bytes(leaf),
                card: serde_json::to_string(&s.card).expect("a score card serialises"),
            })
            .collect();
        let header = Header {
            chain_id: chain,
            epoch,
            as_of,
            as_of_block: as_of_block as u64,
            params_version,
            params_cid,
            depth,
            platforms: totals.clone(),
        };
        Ok(Some((snapshot::build(header, leaves)?, rows, totals)))
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))??;
    Ok(built.map(|(built, rows, totals)| ScoredEpoch { built, rows, totals, attestations: read, unreadable }))
}

/// The epoch job.
#[derive(Debug, Clone)]
pub struct EpochJob {
    cfg: EpochConfig,
    store: Store,
    blockstore: Blockstore,
    kubo: Option<Kubo>,
    sender: Arc<Sender>,
    params: Params,
    params_bytes: Vec<u8>,
    params_cid: Cid,
    salts: Salts,
    crash_at: Option<CrashPoint>,
}

/// A built snapshot, its worker rows and platform totals.
type ComputedRows = (snapshot::Built, Vec<WorkerScoreRow>, BTreeMap<u64, PlatformTotals>);

/// An error text fit for a TEXT column on both engines: RPC errors can carry raw revert bytes,
/// and PostgreSQL refuses NUL in text. Control characters become `?`; long texts are cut.
fn printable(text: &str) -> String {
    text.chars().take(1000).map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// How the compute step ended.
enum Computation {
    /// Recorded; the snapshot is handed on so the store step need not rebuild it.
    Done(Box<Computed>),
    /// Another instance recorded the epoch first.
    Raced,
    /// Nothing to record yet (no indexer progress or no linked identity).
    Nothing,
}

/// What the compute step hands the store step when both run in one go.
struct Computed {
    built: snapshot::Built,
}

impl EpochJob {
    /// A job publishing with `sender`'s key (the registry's operator) and `params`.
    pub fn new(
        cfg: EpochConfig,
        store: Store,
        blockstore: Blockstore,
        kubo: Option<Kubo>,
        sender: Arc<Sender>,
        params: Params,
    ) -> Result<Self> {
        params.validate()?;
        let params_bytes = params.to_bytes();
        let params_cid = cid::raw_cid(&params_bytes);
        Ok(Self {
            cfg,
            store,
            blockstore,
            kubo,
            sender,
            params,
            params_bytes,
            params_cid,
            salts: Salts::Random,
            crash_at: None,
        })
    }

    /// Uses `salts` for new epochs.
    pub fn with_salts(mut self, salts: Salts) -> Self {
        self.salts = salts;
        self
    }

    /// Test hook: stop at `point` as a crash would.
    pub fn crash_at(mut self, point: Option<CrashPoint>) -> Self {
        self.crash_at = point;
        self
    }

    /// The parameters' CID.
    pub fn params_cid(&self) -> &Cid {
        &self.params_cid
    }

    fn crash(&self, point: CrashPoint) -> Result<()> {
        if self.crash_at == Some(point) {
            tracing::warn!(target: TARGET, ?point, "injected crash");
            return Err(Error::Injected(point));
        }
        Ok(())
    }

    /// Checks for due or unfinished epochs every interval until shutdown, under the node's
    /// supervision policy.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        jejak_runtime::supervise(
            "epochs",
            self,
            jejak_runtime::Policy::default(),
            &jejak_runtime::Health::default(),
            shutdown,
        )
        .await
    }

    /// One round at time `now`: finishes epochs left unfinished, then computes the latest due
    /// epoch if it is newer than every epoch recorded.
    pub async fn tick(&self, now: i64) -> Result<Vec<EpochOutcome>> {
        let chain_id = self.cfg.chain_id as i64;
        let mut out = Vec::new();
        let recorded = scores::epochs(&mut *self.store.conn().await?, chain_id).await?;
        for e in recorded.iter().filter(|e| !matches!(e.status, EpochStatus::Published | EpochStatus::Failed)) {
            out.push(self.run_epoch(e.epoch as u64).await?);
        }
        let due = self.cfg.due(now);
        let newest = recorded.last().map_or(0, |e| e.epoch as u64);
        if due >= 1 && due > newest {
            out.push(self.run_epoch(due).await?);
        }
        Ok(out)
    }

    /// Takes epoch `epoch` as far as it goes: computes it if it is not recorded, then stores,
    /// publishes and settles it. Idempotent: a published epoch is left as it is.
    pub async fn run_epoch(&self, epoch: u64) -> Result<EpochOutcome> {
        let chain_id = self.cfg.chain_id as i64;
        let mut carried: Option<Computed> = None;
        loop {
            let row = scores::epoch(&mut *self.store.conn().await?, chain_id, epoch as i64).await?;
            let Some(row) = row else {
                match self.compute(epoch).await? {
                    Computation::Done(c) => {
                        carried = Some(*c);
                        self.crash(CrashPoint::AfterCompute)?;
                    }
                    // Another instance recorded it first: carry on from its row.
                    Computation::Raced => {}
                    Computation::Nothing => {
                        return Ok(EpochOutcome { epoch, status: None, workers: 0, root: None, snapshot_cid: None });
                    }
                }
                continue;
            };
            let outcome = EpochOutcome {
                epoch,
                status: Some(row.status),
                workers: row.worker_count as u64,
                root: Some(row.root),
                snapshot_cid: row.snapshot_cid.clone(),
            };
            match row.status {
                EpochStatus::Computed => {
                    self.store_snapshot(&row, carried.take()).await?;
                    self.crash(CrashPoint::AfterStore)?;
                }
                EpochStatus::Stored => {
                    if !self.publish(&row).await? {
                        return Ok(outcome);
                    }
                }
                EpochStatus::Submitted => {
                    if !self.settle(&row).await? {
                        return Ok(outcome);
                    }
                }
                EpochStatus::Published | EpochStatus::Failed => return Ok(outcome),
            }
        }
    }

    /// Step 1.
    async fn compute(&self, epoch: u64) -> Result<Computation> {
        let chain_id = self.cfg.chain_id as i64;
        let cursor = chain::cursor(&mut *self.store.conn().await?, chain_id).await?;
        let Some(cursor) = cursor else {
            tracing::info!(target: TARGET, epoch, "indexer has not started; epoch waits");
            return Ok(Computation::Nothing);
        };
        let as_of_block = cursor.finalized_number.min(cursor.block_number);
        let as_of = self.cfg.as_of(epoch);
        let started = std::time::Instant::now();
        let what = EpochInputs {
            chain_id: self.cfg.chain_id,
            epoch,
            as_of,
            as_of_block,
            depth: self.cfg.depth,
            page: self.cfg.page,
        };
        let scored = score_epoch(&self.store, &what, &self.params, &self.salts).await?;
        let Some(ScoredEpoch { built, rows, totals, attestations: read, unreadable }) = scored else {
            tracing::info!(target: TARGET, epoch, "no linked identity yet; epoch waits");
            return Ok(Computation::Nothing);
        };
        let platforms: Vec<PlatformEntry> =
            totals.into_iter().map(|(platform_id, totals)| PlatformEntry { platform_id, totals }).collect();
        let now = now_secs();
        let row = EpochRow {
            chain_id,
            epoch: epoch as i64,
            status: EpochStatus::Computed,
            as_of,
            as_of_block,
            params_version: i64::from(self.params.version),
            params_cid: self.params_cid.to_string(),
            depth: self.cfg.depth as i64,
            worker_count: rows.len() as i64,
            root: fr_to_be_bytes(&built.tree.root()),
            platforms: serde_json::to_string(&platforms).expect("platform totals serialise"),
            snapshot_cid: None,
            tx_hash: None,
            error: None,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store.begin().await?;
        if let Err(e) = scores::insert_epoch(&mut tx, &row, &rows).await {
            jejak_store::rollback(tx).await?;
            if e.is_unique_violation() {
                return Ok(Computation::Raced);
            }
            return Err(e.into());
        }
        jejak_store::commit(tx).await?;
        tracing::info!(
            target: TARGET,
            epoch,
            workers = rows.len(),
            attestations = read,
            unreadable,
            as_of_block,
            root = %hex::encode(row.root),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "epoch computed"
        );
        Ok(Computation::Done(Box::new(Computed { built })))
    }

    /// Step 2: the parameters, pages and manifest into the blockstore.
    async fn store_snapshot(&self, row: &EpochRow, carried: Option<Computed>) -> Result<()> {
        let built = match carried {
            Some(c) => c.built,
            None => self.rebuild(row).await?,
        };
        if fr_to_be_bytes(&built.tree.root()) != row.root {
            return Err(Error::Inconsistent(format!(
                "epoch {}: stored leaves do not hash to the stored root",
                row.epoch
            )));
        }
        self.put(&self.params_bytes).await?;
        for (_, bytes) in &built.pages {
            self.put(bytes).await?;
        }
        let cid = self.put(&built.manifest_bytes).await?;
        scores::set_stored(&mut *self.store.conn().await?, row.chain_id, row.epoch, &cid.to_string(), now_secs())
            .await?;
        tracing::info!(target: TARGET, epoch = row.epoch, snapshot = %cid, pages = built.pages.len(), "snapshot stored");
        Ok(())
    }

    /// The snapshot of a computed epoch, from its stored leaves.
    async fn rebuild(&self, row: &EpochRow) -> Result<snapshot::Built> {
        let leaves = scores::leaves(&mut *self.store.conn().await?, row.chain_id, row.epoch).await?;
        let platforms: Vec<PlatformEntry> = serde_json::from_str(&row.platforms)
            .map_err(|e| Error::Inconsistent(format!("epoch {} platform totals: {e}", row.epoch)))?;
        let header = Header {
            chain_id: row.chain_id as u64,
            epoch: row.epoch as u64,
            as_of: row.as_of,
            as_of_block: row.as_of_block as u64,
            params_version: row.params_version as u32,
            params_cid: row.params_cid.clone(),
            depth: row.depth as usize,
            platforms: platforms.into_iter().map(|p| (p.platform_id, p.totals)).collect(),
        };
        if row.params_cid != self.params_cid.to_string() {
            return Err(Error::Inconsistent(format!(
                "epoch {} was computed with parameters {}, this node has {}",
                row.epoch, row.params_cid, self.params_cid
            )));
        }
        tokio::task::spawn_blocking(move || {
            let leaves = leaves.iter().map(fr_from_be_bytes).collect::<Result<Vec<Fr>, _>>()?;
            Ok(snapshot::build(header, leaves)?)
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?
    }

    async fn put(&self, bytes: &[u8]) -> Result<Cid> {
        let cid = self.blockstore.put(bytes).await?;
        if let Some(kubo) = &self.kubo
            && let Err(e) = kubo.put_and_pin(bytes).await
        {
            tracing::warn!(target: TARGET, %cid, error = %e, "pinning to Kubo failed; the block stays in the blockstore");
        }
        Ok(cid)
    }

    /// What the chain holds for an epoch: (its root, the latest epoch), both read at one block, so
    /// that a root another instance publishes between the two reads cannot show as "the chain
    /// moved past this epoch without its root".
    async fn on_chain(&self, epoch: u64) -> Result<([u8; 32], u64)> {
        use alloy::providers::Provider as _;
        let provider = self.sender.provider();
        let block = provider.get_block_number().await.map_err(jejak_chain::Error::from)?;
        let c = JejakReputationRoots::new(self.cfg.reputation_roots, provider);
        let info = c.rootOf(epoch).block(block.into()).call().await.map_err(jejak_chain::Error::from)?;
        let latest = c.latestEpoch().block(block.into()).call().await.map_err(jejak_chain::Error::from)?;
        Ok((info.root.0, latest))
    }

    /// Step 3. Returns whether the epoch moved on (false: try again next round).
    async fn publish(&self, row: &EpochRow) -> Result<bool> {
        let epoch = row.epoch as u64;
        let (root, latest) = self.on_chain(epoch).await?;
        let mut c = self.store.conn().await?;
        if root == row.root {
            scores::set_status(&mut c, row.chain_id, row.epoch, EpochStatus::Published, None, None, now_secs()).await?;
            return Ok(true);
        }
        if latest >= epoch {
            let why = format!("the chain is at epoch {latest} (this epoch's root there: 0x{})", hex::encode(root));
            tracing::error!(target: TARGET, epoch, reason = %why, "epoch can no longer be published");
            scores::set_status(&mut c, row.chain_id, row.epoch, EpochStatus::Failed, None, Some(&why), now_secs())
                .await?;
            return Ok(false);
        }
        drop(c);
        let snapshot_cid =
            row.snapshot_cid.clone().ok_or_else(|| Error::Inconsistent("stored epoch without CID".into()))?;
        let call = JejakReputationRoots::publishRootCall {
            epoch,
            root: B256::from(row.root),
            snapshotCid: snapshot_cid,
            paramsVersion: row.params_version as u32,
        };
        let (store, chain_id, e) = (self.store.clone(), row.chain_id, row.epoch);
        let crash_after_record = self.crash_at == Some(CrashPoint::AfterRecord);
        let sent = self
            .sender
            .send(&purpose(row), self.cfg.reputation_roots, call.abi_encode().into(), |hash| async move {
                let mut c = store.conn().await?;
                scores::set_status(&mut c, chain_id, e, EpochStatus::Submitted, Some(&hash.0), None, now_secs())
                    .await?;
                if crash_after_record {
                    return Err(Error::Injected(CrashPoint::AfterRecord));
                }
                Ok::<(), Error>(())
            })
            .await;
        let hash = match sent {
            Ok(Sent::Pending(h)) => h,
            Ok(Sent::Mined(r)) => return self.mined(row, &r).await,
            Ok(Sent::Nothing) => return Ok(false),
            Err(e) if crash_after_record => {
                tracing::warn!(target: TARGET, epoch, error = %e, "injected crash after recording");
                return Err(Error::Injected(CrashPoint::AfterRecord));
            }
            Err(e) if jejak_runtime::Classify::is_fatal(&e) => return Err(e.into()),
            Err(e) => {
                tracing::warn!(target: TARGET, epoch, error = %e, "could not send publishRoot");
                let mut c = self.store.conn().await?;
                scores::set_status(
                    &mut c,
                    row.chain_id,
                    row.epoch,
                    EpochStatus::Stored,
                    None,
                    Some(&printable(&e.to_string())),
                    now_secs(),
                )
                .await?;
                return Ok(false);
            }
        };
        let mut c = self.store.conn().await?;
        scores::set_status(&mut c, row.chain_id, row.epoch, EpochStatus::Submitted, Some(&hash.0), None, now_secs())
            .await?;
        tracing::info!(target: TARGET, epoch, tx = %hash, "publishRoot sent");
        self.crash(CrashPoint::AfterBroadcast)?;
        Ok(true)
    }

    /// Records the outcome of the epoch's mined `publishRoot`. Returns true (the epoch moved on).
    async fn mined(&self, row: &EpochRow, r: &alloy::rpc::types::TransactionReceipt) -> Result<bool> {
        let mut c = self.store.conn().await?;
        let now = now_secs();
        let hash = r.transaction_hash;
        if r.status() {
            scores::set_status(&mut c, row.chain_id, row.epoch, EpochStatus::Published, Some(&hash.0), None, now)
                .await?;
            tracing::info!(target: TARGET, epoch = row.epoch, tx = %hash, block = ?r.block_number, "root published");
        } else {
            tracing::warn!(target: TARGET, epoch = row.epoch, tx = %hash, "publishRoot reverted; checking the chain");
            let why = "transaction reverted";
            scores::set_status(&mut c, row.chain_id, row.epoch, EpochStatus::Stored, None, Some(why), now).await?;
        }
        Ok(true)
    }

    /// Step 4: reconciles the epoch's `publishRoot` by hash and nonce. Returns whether the epoch
    /// moved on.
    async fn settle(&self, row: &EpochRow) -> Result<bool> {
        let Some(recorded) = row.tx_hash.map(B256::from) else {
            return Err(Error::Inconsistent(format!("epoch {} submitted without a transaction", row.epoch)));
        };
        let hash = match self.sender.reconcile(&purpose(row)).await? {
            Sent::Mined(r) => return self.mined(row, &r).await,
            Sent::Pending(h) => h,
            // Sent by an earlier version that kept no record, or its nonce went elsewhere.
            Sent::Nothing => {
                if let Some(r) = self.sender.receipt(recorded).await? {
                    return self.mined(row, &r).await;
                }
                if self.sender.known(recorded).await? {
                    return Ok(false);
                }
                let mut c = self.store.conn().await?;
                let why = "no transaction in flight; sending again";
                scores::set_status(&mut c, row.chain_id, row.epoch, EpochStatus::Stored, None, Some(why), now_secs())
                    .await?;
                return Ok(true);
            }
        };
        if hash != recorded {
            let mut c = self.store.conn().await?;
            scores::set_status(
                &mut c,
                row.chain_id,
                row.epoch,
                EpochStatus::Submitted,
                Some(&hash.0),
                None,
                now_secs(),
            )
            .await?;
        }
        match self.sender.wait(hash, Duration::from_millis(200), self.cfg.receipt_timeout).await? {
            Some(r) => {
                self.sender.confirm(&purpose(row), hash).await?;
                self.mined(row, &r).await
            }
            None => Ok(false),
        }
    }
}

/// What an epoch's `publishRoot` transactions are recorded under by the sender.
fn purpose(row: &EpochRow) -> String {
    format!("epoch:{}", row.epoch)
}

impl jejak_runtime::Job for EpochJob {
    type Error = Error;

    /// One [`EpochJob::tick`] at the current time, then a wait of the configured interval.
    async fn step(&mut self) -> Result<jejak_runtime::Pace> {
        self.tick(now_secs()).await?;
        Ok(jejak_runtime::Pace::Idle(self.cfg.interval))
    }
}
