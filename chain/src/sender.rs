//! Sending transactions so that a crash never anchors the same thing twice.
//!
//! A transaction is signed locally and its hash handed to the caller to record *before* it is
//! broadcast. After a crash the caller finds either a recorded hash the chain knows (wait for
//! it) or one it does not (the broadcast never happened: send again), never an unrecorded
//! transaction in flight.

use alloy::eips::BlockNumberOrTag;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder as _, TransactionBuilder as _};
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;

use crate::{Error, Result};

/// Signs and broadcasts transactions from one key, keeping nonces in order.
#[derive(Debug)]
pub struct Sender {
    provider: DynProvider,
    wallet: EthereumWallet,
    from: Address,
    chain_id: u64,
    nonce: tokio::sync::Mutex<Option<u64>>,
}

impl Sender {
    /// A sender over `provider` signing with `signer`.
    pub async fn new(provider: DynProvider, signer: PrivateKeySigner) -> Result<Self> {
        let chain_id = provider.get_chain_id().await?;
        let from = signer.address();
        Ok(Self {
            provider,
            wallet: EthereumWallet::from(signer),
            from,
            chain_id,
            nonce: tokio::sync::Mutex::new(None),
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

    /// Calls `to` with `input`: estimates gas and fees, signs, calls `record(hash)` and only
    /// then broadcasts. A call that would revert fails at estimation, before anything is
    /// recorded or sent.
    pub async fn send<F, Fut, E>(&self, to: Address, input: Bytes, record: F) -> Result<B256>
    where
        F: FnOnce(B256) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<(), E>>,
        E: std::fmt::Display,
    {
        let mut nonce_slot = self.nonce.lock().await;
        let nonce = match *nonce_slot {
            Some(n) => n,
            None => self.provider.get_transaction_count(self.from).block_id(BlockNumberOrTag::Pending.into()).await?,
        };
        let base = TransactionRequest::default().with_from(self.from).with_to(to).with_input(input);
        let gas = self.provider.estimate_gas(base.clone()).await?;
        let fees = self.provider.estimate_eip1559_fees().await?;
        let req = base
            .with_chain_id(self.chain_id)
            .with_nonce(nonce)
            .with_gas_limit(gas.saturating_mul(6) / 5)
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
        let envelope = req.build(&self.wallet).await.map_err(|e| Error::Config(format!("signing: {e}")))?;
        let hash = *envelope.tx_hash();
        record(hash).await.map_err(|e| Error::Config(format!("recording transaction {hash}: {e}")))?;
        match self.provider.send_tx_envelope(envelope).await {
            Ok(_) => {
                *nonce_slot = Some(nonce + 1);
                Ok(hash)
            }
            Err(e) => {
                // Whatever went wrong, ask the node for the nonce next time.
                *nonce_slot = None;
                Err(e.into())
            }
        }
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
    pub async fn wait(
        &self,
        hash: B256,
        every: std::time::Duration,
        timeout: std::time::Duration,
    ) -> Result<Option<TransactionReceipt>> {
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
