//! Sending transactions so that one purpose is anchored at most once.
//!
//! Every transaction is signed locally and recorded in the database (`chain_sends`: purpose,
//! nonce, fees, signed bytes) *before* it is broadcast. Before anything is sent for a purpose
//! (`batch:12`, `evidence:40`, `epoch:7`), its recorded transactions are reconciled:
//!
//! - one of them has a receipt: the purpose is done ([`Sent::Mined`]), nothing is sent;
//! - their nonce is still open on chain: they may land, so nothing new is signed with another
//!   nonce. An unknown one (dropped, or never broadcast after a crash) is broadcast again as it
//!   was; one pending longer than [`SenderConfig::replace_after`] is replaced by the same call
//!   with the same nonce and a higher fee, under [`SenderConfig::max_fee_per_gas`]. Sharing the
//!   nonce, at most one of them can land;
//! - their nonce went to another transaction (the key used elsewhere) and none of them landed:
//!   they never can, so the purpose is sent afresh with a new nonce.
//!
//! A broadcast whose answer is lost (a timeout after the RPC accepted it) is therefore never a
//! reason to send a second transaction: the next reconciliation finds the first by its hash.
//! The state lives in the database, not in memory, so a restarted node or a successor instance
//! reconciles the same way.

use std::time::Duration;

use alloy::eips::BlockNumberOrTag;
use alloy::eips::eip2718::Encodable2718 as _;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder as _, TransactionBuilder as _};
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use jejak_store::Store;
use jejak_store::sends::{self, SendRow, SendStatus};

use crate::{Error, Result};

const TARGET: &str = "jejak::chain";

/// How the sender prices and replaces transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderConfig {
    /// Highest fee cap a transaction or a replacement may offer, wei per gas (None: the node's
    /// estimate, uncapped).
    pub max_fee_per_gas: Option<u128>,
    /// How long a transaction may stay pending before it is replaced with a higher fee.
    pub replace_after: Duration,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self { max_fee_per_gas: None, replace_after: Duration::from_secs(120) }
    }
}

/// Where a purpose's transaction stands.
#[derive(Debug, Clone)]
pub enum Sent {
    /// A transaction for it was mined; its receipt says whether it succeeded. A reverted one
    /// settles the purpose too: sending again starts afresh.
    Mined(Box<TransactionReceipt>),
    /// One is in flight (pending, rebroadcast, replaced, or its broadcast's answer lost): look
    /// again later.
    Pending(B256),
    /// Nothing is in flight for it (never sent, or its nonce went to another transaction).
    Nothing,
}

/// Signs, records and broadcasts transactions from one key, reconciling before any re-send.
#[derive(Debug)]
pub struct Sender {
    provider: DynProvider,
    wallet: EthereumWallet,
    from: Address,
    chain_id: u64,
    store: Store,
    cfg: SenderConfig,
    /// One reconciliation or send at a time, so nonces are taken in order.
    lock: tokio::sync::Mutex<()>,
}

impl Sender {
    /// A sender over `provider` signing with `signer`, keeping its transactions in `store`.
    pub async fn new(provider: DynProvider, signer: PrivateKeySigner, store: Store, cfg: SenderConfig) -> Result<Self> {
        let chain_id = provider.get_chain_id().await?;
        let from = signer.address();
        Ok(Self {
            provider,
            wallet: EthereumWallet::from(signer),
            from,
            chain_id,
            store,
            cfg,
            lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The sending address.
    pub fn address(&self) -> Address {
        self.from
    }

    /// The provider.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// Reconciles `purpose` (see the module documentation) and, when nothing of it is in flight
    /// or mined, calls `to` with `input`: estimates gas and fees, signs with the next nonce,
    /// records the transaction, calls `record(hash)` and only then broadcasts. A call that would
    /// revert fails at estimation, before anything is recorded or sent; `record` failing stops
    /// before the broadcast (a later reconciliation broadcasts what was recorded).
    pub async fn send<F, Fut, E>(&self, purpose: &str, to: Address, input: Bytes, record: F) -> Result<Sent>
    where
        F: FnOnce(B256) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<(), E>>,
        E: std::fmt::Display + jejak_runtime::Classify,
    {
        let _one_at_a_time = self.lock.lock().await;
        match self.reconcile_locked(purpose).await? {
            Sent::Nothing => {}
            found => return Ok(found),
        }
        // The node's next nonce. If it dropped a transaction of ours, its nonce is taken again:
        // at most one of the two lands, and the purpose that loses sees its nonce spent at its
        // next reconciliation and is sent afresh (never a gap that would hold every later one).
        let nonce = self.provider.get_transaction_count(self.from).block_id(BlockNumberOrTag::Pending.into()).await?;
        let base = TransactionRequest::default().with_from(self.from).with_to(to).with_input(input.clone());
        let gas = self.provider.estimate_gas(base).await?;
        let fees = self.provider.estimate_eip1559_fees().await?;
        let (max_fee, tip) = self.capped(fees.max_fee_per_gas, fees.max_priority_fee_per_gas);
        let row = self.sign(purpose, nonce, to, input, gas.saturating_mul(6) / 5, max_fee, tip).await?;
        let hash = B256::from(row.tx_hash);
        record(hash).await.map_err(|e| Error::Record { hash, message: e.to_string(), severity: e.severity() })?;
        self.broadcast(&row).await?;
        tracing::info!(target: TARGET, purpose, nonce, tx = %hash, "transaction sent");
        Ok(Sent::Pending(hash))
    }

    /// Reconciles every purpose with recorded, unconfirmed transactions from this key (what a
    /// new anchor leader does before it sends anything): each is found mined, left pending
    /// (rebroadcast or replaced under its nonce) or closed when its nonce went elsewhere.
    /// Returns how many purposes are still pending.
    pub async fn reconcile_open(&self) -> Result<usize> {
        let _one_at_a_time = self.lock.lock().await;
        let purposes = {
            let mut c = self.store.conn().await?;
            sends::open_purposes(&mut c, self.chain_id as i64, self.from.as_slice()).await?
        };
        let mut pending = 0;
        for purpose in &purposes {
            if let Sent::Pending(hash) = self.reconcile_locked(purpose).await? {
                tracing::info!(target: TARGET, purpose, tx = %hash, "taken over: still pending");
                pending += 1;
            }
        }
        if !purposes.is_empty() {
            tracing::info!(target: TARGET, reconciled = purposes.len(), pending, "transactions recorded before this term reconciled");
        }
        Ok(pending)
    }

    /// Where `purpose` stands, after looking its transactions up by hash and nonce: rebroadcasts
    /// one the node lost and replaces one stuck past [`SenderConfig::replace_after`].
    pub async fn reconcile(&self, purpose: &str) -> Result<Sent> {
        let _one_at_a_time = self.lock.lock().await;
        self.reconcile_locked(purpose).await
    }

    async fn reconcile_locked(&self, purpose: &str) -> Result<Sent> {
        let (chain_id, from) = (self.chain_id as i64, self.from.as_slice());
        let open = {
            let mut c = self.store.conn().await?;
            sends::open_for(&mut c, chain_id, from, purpose).await?
        };
        let Some(newest) = open.last() else { return Ok(Sent::Nothing) };
        if let Some(found) = self.mined(purpose, &open).await? {
            return Ok(found);
        }
        let nonce = newest.nonce as u64;
        let used = self.provider.get_transaction_count(self.from).await?;
        if used > nonce {
            // The nonce is spent. If not by ours (looked up once more: it may have been mined
            // since), none of ours can land any more.
            if let Some(found) = self.mined(purpose, &open).await? {
                return Ok(found);
            }
            tracing::warn!(target: TARGET, purpose, nonce, "the nonce went to another transaction; the purpose will be sent again");
            let mut c = self.store.conn().await?;
            sends::close(&mut c, chain_id, from, purpose, jejak_store::now_secs()).await?;
            return Ok(Sent::Nothing);
        }
        let age = jejak_store::now_secs().saturating_sub(newest.created_at);
        if age >= self.cfg.replace_after.as_secs() as i64
            && let Some(replacement) = self.replace(newest).await?
        {
            return Ok(Sent::Pending(B256::from(replacement.tx_hash)));
        }
        let mut known = false;
        for a in &open {
            if self.known(B256::from(a.tx_hash)).await? {
                known = true;
                break;
            }
        }
        if !known {
            tracing::info!(target: TARGET, purpose, nonce, tx = %B256::from(newest.tx_hash), "transaction unknown to the node; broadcasting it again");
            self.broadcast(newest).await?;
        }
        Ok(Sent::Pending(B256::from(newest.tx_hash)))
    }

    /// The receipt of whichever of `attempts` was mined, recorded as such.
    async fn mined(&self, purpose: &str, attempts: &[SendRow]) -> Result<Option<Sent>> {
        for a in attempts {
            if let Some(r) = self.receipt(B256::from(a.tx_hash)).await? {
                let mut c = self.store.conn().await?;
                sends::settle(
                    &mut c,
                    self.chain_id as i64,
                    self.from.as_slice(),
                    purpose,
                    &a.tx_hash,
                    jejak_store::now_secs(),
                )
                .await?;
                return Ok(Some(Sent::Mined(Box::new(r))));
            }
        }
        Ok(None)
    }

    /// The same call with the same nonce and fees at least 12.5% higher (what nodes require of a
    /// replacement), within the cap; None when the cap leaves no room.
    async fn replace(&self, stuck: &SendRow) -> Result<Option<SendRow>> {
        let bump = |v: i64| (v.max(0) as u128).saturating_mul(9) / 8 + 1;
        let (min_fee, min_tip) = (bump(stuck.max_fee_per_gas), bump(stuck.max_priority_fee_per_gas));
        let now = self.provider.estimate_eip1559_fees().await?;
        let (max_fee, tip) = self.capped(min_fee.max(now.max_fee_per_gas), min_tip.max(now.max_priority_fee_per_gas));
        if max_fee < min_fee || tip < min_tip {
            tracing::warn!(target: TARGET, purpose = %stuck.purpose, nonce = stuck.nonce, max_fee, cap = ?self.cfg.max_fee_per_gas,
                "transaction pending and the fee cap leaves no room for a replacement; waiting");
            return Ok(None);
        }
        let to = Address::try_from(stuck.to_address.as_slice()).map_err(|_| {
            Error::Config(format!("recorded transaction {} has no valid recipient", B256::from(stuck.tx_hash)))
        })?;
        let row = self
            .sign(
                &stuck.purpose,
                stuck.nonce as u64,
                to,
                stuck.input.clone().into(),
                stuck.gas_limit as u64,
                max_fee,
                tip,
            )
            .await?;
        tracing::info!(target: TARGET, purpose = %stuck.purpose, nonce = stuck.nonce, replaced = %B256::from(stuck.tx_hash),
            tx = %B256::from(row.tx_hash), max_fee, "stuck transaction replaced with a higher fee");
        self.broadcast(&row).await?;
        Ok(Some(row))
    }

    /// Fees within the configured cap.
    fn capped(&self, max_fee: u128, tip: u128) -> (u128, u128) {
        let max_fee = self.cfg.max_fee_per_gas.map_or(max_fee, |cap| max_fee.min(cap));
        (max_fee, tip.min(max_fee))
    }

    /// Signs a transaction and records it (open) before anyone can broadcast it.
    #[allow(clippy::too_many_arguments)]
    async fn sign(
        &self,
        purpose: &str,
        nonce: u64,
        to: Address,
        input: Bytes,
        gas_limit: u64,
        max_fee: u128,
        tip: u128,
    ) -> Result<SendRow> {
        let req = TransactionRequest::default()
            .with_from(self.from)
            .with_to(to)
            .with_input(input.clone())
            .with_chain_id(self.chain_id)
            .with_nonce(nonce)
            .with_gas_limit(gas_limit)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(tip);
        let envelope = req.build(&self.wallet).await.map_err(|e| Error::Config(format!("signing: {e}")))?;
        let as_i64 = |v: u128| i64::try_from(v).unwrap_or(i64::MAX);
        let row = SendRow {
            tx_hash: envelope.tx_hash().0,
            chain_id: self.chain_id as i64,
            sender: self.from.to_vec(),
            nonce: nonce as i64,
            purpose: purpose.to_owned(),
            to_address: to.to_vec(),
            input: input.to_vec(),
            gas_limit: gas_limit as i64,
            max_fee_per_gas: as_i64(max_fee),
            max_priority_fee_per_gas: as_i64(tip),
            raw: envelope.encoded_2718(),
            status: SendStatus::Open,
            created_at: jejak_store::now_secs(),
        };
        // In a transaction of its own: on the anchor leader's fenced store it is refused once
        // another instance took the key's nonces over, so nothing it signs can be broadcast.
        let mut tx = self.store.begin().await?;
        sends::insert(&mut tx, &row).await?;
        jejak_store::commit(tx).await?;
        Ok(row)
    }

    /// Broadcasts a recorded transaction. An answer that says the node has it, or that its
    /// nonce is taken, is left to reconciliation; so is a lost answer (a timeout, a connection
    /// dropped after the node may have accepted it). Any other refusal is an error.
    async fn broadcast(&self, row: &SendRow) -> Result<()> {
        let hash = B256::from(row.tx_hash);
        match self.provider.send_raw_transaction(&row.raw).await {
            Ok(_) => Ok(()),
            Err(e) => match e.as_error_resp() {
                Some(resp) => {
                    let m = resp.message.to_ascii_lowercase();
                    if m.contains("already known")
                        || m.contains("known transaction")
                        || m.contains("nonce too low")
                        || m.contains("underpriced")
                    {
                        tracing::debug!(target: TARGET, tx = %hash, answer = %resp.message, "broadcast answered; reconciliation decides");
                        Ok(())
                    } else {
                        Err(e.into())
                    }
                }
                None => {
                    tracing::warn!(target: TARGET, tx = %hash, purpose = %row.purpose, error = %e,
                        "broadcast answer lost; the transaction is looked up by hash before anything is sent again");
                    Ok(())
                }
            },
        }
    }

    /// Records that `hash`, a transaction of `purpose`, was mined (found by [`Sender::wait`]):
    /// its other transactions can no longer land.
    pub async fn confirm(&self, purpose: &str, hash: B256) -> Result<()> {
        let mut c = self.store.conn().await?;
        sends::settle(&mut c, self.chain_id as i64, self.from.as_slice(), purpose, &hash.0, jejak_store::now_secs())
            .await?;
        Ok(())
    }

    /// The receipt of a transaction, None while it is pending.
    pub async fn receipt(&self, hash: B256) -> Result<Option<TransactionReceipt>> {
        Ok(self.provider.get_transaction_receipt(hash).await?)
    }

    /// Whether the node knows the transaction at all (pending or mined).
    pub async fn known(&self, hash: B256) -> Result<bool> {
        Ok(self.provider.get_transaction_by_hash(hash).await?.is_some())
    }

    /// Waits for the receipt, polling every `every`, at most `timeout`.
    pub async fn wait(&self, hash: B256, every: Duration, timeout: Duration) -> Result<Option<TransactionReceipt>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(r) = self.receipt(hash).await? {
                return Ok(Some(r));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(every).await;
        }
    }
}
