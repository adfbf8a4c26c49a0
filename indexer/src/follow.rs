//! Following the chain: backfill of finalized ranges, then block-by-block tracking of the
//! unfinalized tip with reorganisation detection.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256};
use futures::StreamExt as _;
use jejak_store::chain::{self, BlockRow, Cursor, IndexedLog};
use jejak_store::{Store, ipfs as ipfs_queue, now_secs};
use tokio_util::sync::CancellationToken;

use crate::decode::{self, Contracts, Skip};
use crate::rpc::{BlockTag, Header, RpcClient, RpcFailure};
use crate::status::IndexerStatus;
use crate::{Error, Result};

/// How the indexer follows one chain.
#[derive(Debug, Clone)]
pub struct IndexerConfig {
    /// EVM chain id the RPC must serve.
    pub chain_id: u64,
    /// Contracts to follow.
    pub contracts: Contracts,
    /// First block to index.
    pub start_block: u64,
    /// Use the RPC's `finalized` tag (falls back to `confirmation_depth` where it is missing).
    pub use_finalized_tag: bool,
    /// Blocks behind the head treated as final when the tag is unavailable or disabled.
    pub confirmation_depth: u64,
    /// Raise the finality alarm when the tag lags the head by more than this.
    pub finality_lag_alarm: u64,
    /// Unfinalized blocks kept to detect reorganisations; a deeper one stops the indexer.
    pub reorg_window: u64,
    /// Wait between polls when caught up.
    pub poll_interval: Duration,
    /// First `eth_getLogs` range (blocks) during backfill; adapts within `1..=max_log_range`.
    pub initial_log_range: u64,
    /// Largest `eth_getLogs` range.
    pub max_log_range: u64,
    /// Aim for about this many logs per `eth_getLogs` answer.
    pub target_logs_per_request: usize,
    /// Concurrent `eth_getLogs` requests during backfill.
    pub fetch_concurrency: usize,
    /// Most unfinalized blocks handled per step.
    pub max_tip_blocks: u64,
    /// Raise the stall alarm when the head has not moved for this long.
    pub head_stall_alarm: Duration,
}

impl IndexerConfig {
    /// Defaults for a chain, with the contracts and start block to fill in.
    pub fn new(chain_id: u64, contracts: Contracts, start_block: u64) -> Self {
        Self {
            chain_id,
            contracts,
            start_block,
            use_finalized_tag: true,
            confirmation_depth: 64,
            finality_lag_alarm: 256,
            reorg_window: 256,
            poll_interval: Duration::from_secs(2),
            initial_log_range: 1000,
            max_log_range: 100_000,
            target_logs_per_request: 5000,
            fetch_concurrency: 4,
            max_tip_blocks: 256,
            head_stall_alarm: Duration::from_secs(120),
        }
    }
}

/// The chain follower.
#[derive(Debug)]
pub struct Indexer {
    cfg: IndexerConfig,
    store: Store,
    rpc: RpcClient,
    status: Arc<IndexerStatus>,
    addresses: Vec<Address>,
    range: u64,
    last_head: Option<(u64, Instant)>,
    /// Recorded blocks the reorganisation being undone orphaned (counted once it is committed).
    orphaned: u64,
    chain_checked: bool,
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Blocks were recorded up to this number.
    Advanced(u64),
    /// Nothing new.
    Idle,
}

/// The canonical view of the chain at the start of a step.
#[derive(Debug, Clone, Copy)]
struct Tip {
    head: u64,
    finalized: u64,
}

impl Indexer {
    /// An indexer writing to `store` through `rpc`.
    pub fn new(cfg: IndexerConfig, store: Store, rpc: RpcClient, status: Arc<IndexerStatus>) -> Self {
        let addresses = cfg.contracts.addresses();
        let range = cfg.initial_log_range.clamp(1, cfg.max_log_range.max(1));
        Self { cfg, store, rpc, status, addresses, range, last_head: None, orphaned: 0, chain_checked: false }
    }

    /// Shared status (for the API and metrics).
    pub fn status(&self) -> Arc<IndexerStatus> {
        self.status.clone()
    }

    /// Follows the chain until `shutdown` fires, under the node's supervision policy
    /// ([`jejak_runtime::supervise`]) with the poll interval as the first retry delay. Returns an
    /// error (and stops) on a reorganisation deeper than the window, a finality violation, a
    /// wrong chain or a fatal store error; transient failures are retried with backoff.
    pub async fn run(self, shutdown: CancellationToken) -> Result<()> {
        let policy = jejak_runtime::Policy {
            backoff_base: self.cfg.poll_interval.max(Duration::from_millis(10)),
            ..jejak_runtime::Policy::default()
        };
        jejak_runtime::supervise("indexer", self, policy, &jejak_runtime::Health::default(), shutdown).await
    }

    /// Checks once that the endpoint serves the configured chain.
    async fn check_chain(&mut self) -> Result<()> {
        let actual = self.rpc.chain_id().await?;
        if actual != self.cfg.chain_id {
            return Err(Error::WrongChain { expected: self.cfg.chain_id, actual });
        }
        tracing::info!(target: "jejak::indexer", chain_id = actual, start_block = self.cfg.start_block, "indexer started");
        self.chain_checked = true;
        Ok(())
    }

    /// Runs until the cursor reaches the current head (tests and tools).
    pub async fn sync_to_head(&mut self) -> Result<u64> {
        loop {
            match self.step().await? {
                Step::Advanced(_) => {}
                Step::Idle => {
                    let mut c = self.store.conn().await?;
                    return Ok(chain::cursor(&mut c, self.cfg.chain_id as i64)
                        .await?
                        .map_or(0, |c| c.block_number as u64));
                }
            }
        }
    }

    /// One step: observe the tip, undo a reorganisation if there was one, record what is new.
    pub async fn step(&mut self) -> Result<Step> {
        let tip = self.tip().await?;
        let cursor = self.cursor().await?;
        let (cursor, rollback) = self.check_reorg(cursor, tip).await?;
        let from = cursor.block_number as u64 + 1;
        if from > tip.head {
            if let Some(ancestor) = rollback {
                // The chain got shorter: undo the orphaned blocks now, nothing to add.
                self.commit(
                    &cursor,
                    Some(ancestor),
                    Vec::new(),
                    Vec::new(),
                    tip,
                    cursor.block_number as u64,
                    cursor.block_hash,
                )
                .await?;
                return Ok(Step::Advanced(ancestor));
            }
            self.record_tip(&cursor, tip).await?;
            return Ok(Step::Idle);
        }
        if from <= tip.finalized {
            self.backfill(&cursor, rollback, from, tip).await
        } else {
            self.follow_tip(&cursor, rollback, from, tip).await
        }
    }

    async fn tip(&mut self) -> Result<Tip> {
        let head = self.rpc.block_number().await?;
        let tagged = if self.cfg.use_finalized_tag { self.rpc.header(BlockTag::Finalized).await? } else { None };
        let fallback = head.saturating_sub(self.cfg.confirmation_depth);
        let finalized = match tagged {
            Some(h) => {
                let lag = head.saturating_sub(h.num());
                let lagging = lag > self.cfg.finality_lag_alarm;
                if lagging && !self.status.finality_lagging() {
                    tracing::warn!(target: "jejak::indexer", head, finalized = h.num(), lag, "finalized tag lags the head");
                }
                self.status.set_finality_lagging(lagging);
                h.num().min(head)
            }
            None => fallback,
        };
        // The watchdog: a head that stops moving is a silent outage (a stuck provider).
        let now = Instant::now();
        match self.last_head {
            Some((h, since)) if head <= h => {
                let stalled = now.duration_since(since) > self.cfg.head_stall_alarm;
                if stalled && !self.status.head_stalled() {
                    tracing::warn!(target: "jejak::indexer", head, stalled_for = ?now.duration_since(since), "chain head is not moving");
                }
                self.status.set_head_stalled(stalled);
            }
            _ => {
                self.last_head = Some((head, now));
                self.status.set_head_stalled(false);
            }
        }
        self.status.set_tip(head, finalized);
        Ok(Tip { head, finalized })
    }

    async fn cursor(&mut self) -> Result<Cursor> {
        let mut c = self.store.conn().await?;
        if let Some(cur) = chain::cursor(&mut c, self.cfg.chain_id as i64).await? {
            self.status.set_cursor(cur.block_number as u64, cur.reorgs as u64);
            return Ok(cur);
        }
        // Start just below the first block, remembering its hash so the first block links to it.
        let below = self.cfg.start_block.saturating_sub(1);
        let hash = if self.cfg.start_block == 0 {
            [0u8; 32]
        } else {
            self.rpc
                .header(BlockTag::Number(below))
                .await?
                .ok_or_else(|| Error::Config(format!("start block {} is beyond the chain head", self.cfg.start_block)))?
                .hash
                .0
        };
        Ok(Cursor {
            chain_id: self.cfg.chain_id as i64,
            block_number: below as i64 - i64::from(self.cfg.start_block == 0),
            block_hash: hash,
            head_number: 0,
            finalized_number: 0,
            reorgs: 0,
            updated_at: now_secs(),
        })
    }

    /// Checks the cursor block is still canonical; if not, finds the common ancestor in the
    /// window and returns a cursor moved back to it, with the ancestor to roll back to.
    async fn check_reorg(&mut self, cursor: Cursor, tip: Tip) -> Result<(Cursor, Option<u64>)> {
        if cursor.block_number < 0 {
            return Ok((cursor, None));
        }
        let at = cursor.block_number as u64;
        if at > tip.head {
            // The head is below our cursor: a lagging endpoint, or a chain rewound. Either way the
            // blocks above the head cannot be judged yet; compare what can be.
            let window = self.window().await?;
            let Some(ours) = window.iter().find(|b| b.number as u64 == tip.head) else {
                return Ok((cursor, None));
            };
            let canon = self.rpc.header(BlockTag::Number(tip.head)).await?;
            if canon.map(|h| h.hash.0) == Some(ours.hash) {
                return Ok((cursor, None));
            }
        } else {
            let canon = self.rpc.header(BlockTag::Number(at)).await?;
            match canon {
                Some(h) if h.hash.0 == cursor.block_hash => return Ok((cursor, None)),
                Some(_) => {}
                // Known a moment ago, unknown now: let the next step look again.
                None => return Ok((cursor, None)),
            }
        }
        let ancestor = self.find_ancestor(at, tip).await?;
        tracing::warn!(
            target: "jejak::indexer",
            orphaned_from = ancestor.number + 1,
            cursor = at,
            depth = at - ancestor.number as u64,
            "reorganisation detected"
        );
        self.orphaned = at - ancestor.number as u64;
        let moved = Cursor { block_number: ancestor.number, block_hash: ancestor.hash, ..cursor };
        Ok((moved, Some(ancestor.number as u64)))
    }

    async fn window(&self) -> Result<Vec<BlockRow>> {
        let mut c = self.store.conn().await?;
        Ok(chain::window(&mut c, self.cfg.chain_id as i64, self.cfg.reorg_window as i64 + 1).await?)
    }

    /// Walks the window down from the cursor comparing hashes with the canonical chain.
    async fn find_ancestor(&mut self, cursor: u64, tip: Tip) -> Result<BlockRow> {
        let window = self.window().await?;
        let mut lowest = cursor;
        for chunk in window.chunks(64) {
            let top = chunk[0].number as u64;
            let bottom = chunk[chunk.len() - 1].number as u64;
            let canon = self.rpc.headers(bottom, top.min(tip.head.max(bottom))).await?;
            let by_number: BTreeMap<u64, Header> = canon.into_iter().flatten().map(|h| (h.num(), h)).collect();
            for ours in chunk {
                lowest = ours.number as u64;
                if by_number.get(&(ours.number as u64)).is_some_and(|h| h.hash.0 == ours.hash) {
                    let finalized_before = {
                        let mut c = self.store.conn().await?;
                        chain::cursor(&mut c, self.cfg.chain_id as i64).await?.map_or(0, |c| c.finalized_number)
                    };
                    if ours.number < finalized_before {
                        return Err(Error::FinalityViolated { number: ours.number as u64 + 1 });
                    }
                    return Ok(*ours);
                }
            }
        }
        Err(Error::ReorgTooDeep { cursor, lowest_checked: lowest, window: self.cfg.reorg_window })
    }

    /// Records finalized blocks in large ranges, several requests in flight, committed in order.
    async fn backfill(&mut self, cursor: &Cursor, rollback: Option<u64>, from: u64, tip: Tip) -> Result<Step> {
        let concurrency = self.cfg.fetch_concurrency.max(1) as u64;
        let span = self.range.saturating_mul(concurrency);
        let to = tip.finalized.min(from.saturating_add(span) - 1);
        let mut ranges = Vec::new();
        let mut start = from;
        while start <= to {
            let end = to.min(start + self.range - 1);
            ranges.push((start, end));
            start = end + 1;
        }
        let rpc = self.rpc.clone();
        let addresses = self.addresses.clone();
        let results: Vec<Result<FetchedRange>> = futures::stream::iter(ranges.into_iter().map(|(a, b)| {
            let (rpc, addresses) = (rpc.clone(), addresses.clone());
            async move {
                let (logs, requests) = fetch_logs(&rpc, &addresses, a, b).await?;
                Ok((a, b, logs, requests))
            }
        }))
        .buffered(concurrency as usize)
        .collect()
        .await;
        let mut prev = *cursor;
        let mut rollback = rollback;
        let mut reached = None;
        for r in results {
            let (a, b, logs, requests) = r?;
            self.adapt(b - a + 1, logs.len(), requests);
            let end = self
                .rpc
                .header(BlockTag::Number(b))
                .await?
                .ok_or_else(|| Error::Rpc(RpcFailure::Transient(format!("finalized block {b} unknown"))))?;
            let decoded = self.decode_all(&logs, None)?;
            let block = BlockRow { number: b as i64, hash: end.hash.0, parent_hash: end.parent_hash.0 };
            self.commit(&prev, rollback.take(), decoded, vec![block], tip, b, end.hash.0).await?;
            prev = Cursor { block_number: b as i64, block_hash: end.hash.0, ..prev };
            reached = Some(b);
        }
        Ok(reached.map_or(Step::Idle, Step::Advanced))
    }

    /// Records unfinalized blocks one header at a time, checking each links to the one before.
    async fn follow_tip(&mut self, cursor: &Cursor, rollback: Option<u64>, from: u64, tip: Tip) -> Result<Step> {
        let to = tip.head.min(from + self.cfg.max_tip_blocks - 1);
        let headers = self.rpc.headers(from, to).await?;
        let mut linked: Vec<Header> = Vec::new();
        let mut parent = B256::from(cursor.block_hash);
        for h in headers {
            match h {
                Some(h) if h.parent_hash == parent => {
                    parent = h.hash;
                    linked.push(h);
                }
                // A gap in the chain of hashes: the chain moved under us; record the linked part.
                _ => break,
            }
        }
        let Some(last) = linked.last().copied() else {
            // Not even the first block links to the cursor: the cursor was orphaned after it was
            // checked. The next step's check finds the ancestor.
            tracing::debug!(target: "jejak::indexer", from, "first block does not link to the cursor");
            return Ok(Step::Idle);
        };
        let (logs, requests) = fetch_logs(&self.rpc, &self.addresses, from, last.num()).await?;
        self.adapt(last.num() - from + 1, logs.len(), requests);
        let hashes: BTreeMap<u64, B256> = linked.iter().map(|h| (h.num(), h.hash)).collect();
        let decoded = match self.decode_all(&logs, Some(&hashes)) {
            Ok(d) => d,
            Err(Error::Rpc(RpcFailure::Transient(m))) => {
                tracing::debug!(target: "jejak::indexer", reason = %m, "chain moved during the step; retrying");
                return Ok(Step::Idle);
            }
            Err(e) => return Err(e),
        };
        let blocks: Vec<BlockRow> = linked
            .iter()
            .map(|h| BlockRow { number: h.num() as i64, hash: h.hash.0, parent_hash: h.parent_hash.0 })
            .collect();
        self.commit(cursor, rollback, decoded, blocks, tip, last.num(), last.hash.0).await?;
        Ok(Step::Advanced(last.num()))
    }

    /// Decodes logs, dropping duplicates and (when `hashes` is given) refusing logs from blocks
    /// other than the ones just checked.
    fn decode_all(
        &self,
        logs: &[alloy::rpc::types::Log],
        hashes: Option<&BTreeMap<u64, B256>>,
    ) -> Result<Vec<IndexedLog>> {
        let mut out: BTreeMap<(i64, i64), IndexedLog> = BTreeMap::new();
        for log in logs {
            if log.removed {
                continue;
            }
            if let (Some(hashes), Some(n), Some(h)) = (hashes, log.block_number, log.block_hash)
                && hashes.get(&n) != Some(&h)
            {
                return Err(Error::Rpc(RpcFailure::Transient(format!(
                    "log from block {n} has a hash not in the checked chain"
                ))));
            }
            match decode::decode(self.cfg.chain_id, &self.cfg.contracts, log) {
                Ok(d) => {
                    out.insert((d.key.block_number, d.key.log_index), d);
                }
                Err(Skip::NotIndexed) => {}
                Err(Skip::Pending) => {
                    return Err(Error::Rpc(RpcFailure::Transient("log without block position".into())));
                }
                Err(Skip::Malformed(m)) => {
                    // A log that does not decode as its declared event is not jejak's contract
                    // speaking; record nothing from it, loudly.
                    tracing::warn!(target: "jejak::indexer", block = ?log.block_number, error = %m, "undecodable log skipped");
                }
            }
        }
        Ok(out.into_values().collect())
    }

    /// Grows the range after easy answers, shrinks it when answers get large or needed splitting.
    fn adapt(&mut self, used: u64, logs: usize, requests: usize) {
        let target = self.cfg.target_logs_per_request.max(1);
        if requests > 1 {
            self.range = (used / requests as u64).max(1);
        } else if logs > target * 2 {
            self.range = (self.range / 2).max(1);
        } else if logs < target / 2 && used >= self.range {
            self.range = self.range.saturating_mul(2).min(self.cfg.max_log_range.max(1));
        }
        self.status.set_log_range(self.range);
    }

    /// Records a step atomically: the rollback (if any), the events, the window blocks, the IPFS
    /// documents to fetch and the cursor, in one transaction.
    #[allow(clippy::too_many_arguments)]
    async fn commit(
        &mut self,
        prev: &Cursor,
        rollback: Option<u64>,
        logs: Vec<IndexedLog>,
        blocks: Vec<BlockRow>,
        tip: Tip,
        number: u64,
        hash: [u8; 32],
    ) -> Result<()> {
        let chain_id = self.cfg.chain_id as i64;
        let now = now_secs();
        let mut tx = self.store.begin().await?;
        let mut reorgs = prev.reorgs;
        if let Some(ancestor) = rollback {
            let removed = chain::rollback_after(&mut tx, chain_id, ancestor as i64).await?;
            reorgs += 1;
            tracing::info!(target: "jejak::indexer", ancestor, removed, "rolled back orphaned blocks");
        }
        chain::insert_logs(&mut tx, &logs).await?;
        // Many events name the same document (a platform's profile, a benchmark emitter's
        // fixed CID): queue each once.
        let mut documents: Vec<(&str, &str)> = logs.iter().filter_map(|l| decode::named_documents(&l.event)).collect();
        documents.sort_unstable();
        documents.dedup_by(|a, b| a.0 == b.0);
        ipfs_queue::enqueue_many(&mut tx, &documents, now).await?;
        chain::insert_blocks(&mut tx, chain_id, &blocks).await?;
        let keep_from = number as i64 - self.cfg.reorg_window as i64;
        chain::prune_blocks(&mut tx, chain_id, keep_from).await?;
        let cursor = Cursor {
            chain_id,
            block_number: number as i64,
            block_hash: hash,
            head_number: tip.head as i64,
            finalized_number: tip.finalized.min(number) as i64,
            reorgs,
            updated_at: now,
        };
        chain::save_cursor(&mut tx, &cursor).await?;
        jejak_store::commit(tx).await?;
        self.status.set_cursor(number, reorgs as u64);
        if rollback.is_some() {
            // Counted once committed: a step that fails is retried and would count it again.
            self.status.record_reorg(self.orphaned);
        }
        self.status.add_events(logs.len() as u64);
        if !logs.is_empty() {
            tracing::debug!(target: "jejak::indexer", block = number, events = logs.len(), "recorded");
        }
        Ok(())
    }

    /// Updates head and finalized in the cursor when there is nothing to record.
    async fn record_tip(&mut self, cursor: &Cursor, tip: Tip) -> Result<()> {
        if cursor.block_number < 0 {
            return Ok(());
        }
        let finalized = tip.finalized.min(cursor.block_number as u64) as i64;
        if cursor.head_number == tip.head as i64 && cursor.finalized_number == finalized {
            return Ok(());
        }
        let updated =
            Cursor { head_number: tip.head as i64, finalized_number: finalized, updated_at: now_secs(), ..*cursor };
        // In a transaction: on a leased indexer's fenced store, a cursor from a term that ended
        // (the block and hash it remembers) never overwrites its successor's.
        let mut tx = self.store.begin().await?;
        chain::save_cursor(&mut tx, &updated).await?;
        jejak_store::commit(tx).await?;
        Ok(())
    }
}

/// The logs of one range: `(from, to, logs, requests it took)`.
type FetchedRange = (u64, u64, Vec<alloy::rpc::types::Log>, usize);

/// Fetches the logs of `from..=to`, splitting the range while the provider says it is too large
/// (to its suggestion when it makes one, in halves otherwise). Returns the logs sorted by
/// position and the number of requests it took.
async fn fetch_logs(
    rpc: &RpcClient,
    addresses: &[Address],
    from: u64,
    to: u64,
) -> Result<(Vec<alloy::rpc::types::Log>, usize)> {
    let mut out = Vec::new();
    let mut pending = vec![(from, to)];
    let mut requests = 0;
    while let Some((a, b)) = pending.pop() {
        requests += 1;
        match rpc.logs(addresses, a, b).await {
            Ok(logs) => out.extend(logs),
            Err(Error::Rpc(RpcFailure::RangeTooLarge(hint))) => {
                if a == b {
                    return Err(Error::Rpc(RpcFailure::Fatal(format!("provider refuses the logs of block {a} alone"))));
                }
                let mid = match hint {
                    Some((ha, hb)) if ha == a && hb >= a && hb < b => hb,
                    _ => a + (b - a) / 2,
                };
                // Pushed in reverse so the lower half is fetched first.
                pending.push((mid + 1, b));
                pending.push((a, mid));
            }
            Err(e) => return Err(e),
        }
    }
    out.sort_by_key(|l| (l.block_number, l.log_index));
    Ok((out, requests))
}

impl jejak_runtime::Job for Indexer {
    type Error = Error;

    /// Checks the chain first, then one [`Indexer::step`]; the outcome is shown in the status.
    async fn step(&mut self) -> Result<jejak_runtime::Pace> {
        let outcome = async {
            if !self.chain_checked {
                self.check_chain().await?;
            }
            Indexer::step(self).await
        }
        .await;
        match outcome {
            Ok(step) => {
                self.status.set_error(None);
                Ok(match step {
                    Step::Advanced(_) => jejak_runtime::Pace::Busy,
                    Step::Idle => jejak_runtime::Pace::Idle(self.cfg.poll_interval),
                })
            }
            Err(e) => {
                self.status.set_error(Some(e.to_string()));
                Err(e)
            }
        }
    }
}
