//! Indexer errors.

use crate::rpc::RpcFailure;

/// What can stop the indexer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The RPC endpoints failed past all retries, or refused a request.
    #[error("rpc: {0:?}")]
    Rpc(RpcFailure),
    /// The chain reorganised deeper than the block window kept for detecting reorganisations.
    /// State cannot be repaired safely; the indexer stops rather than continue on it.
    #[error(
        "reorganisation deeper than the {window}-block window: block {cursor} is no longer canonical \
         and no common ancestor was found down to block {lowest_checked}; stop the node, raise \
         indexer.reorg_window or re-index from a finalized block"
    )]
    ReorgTooDeep {
        /// The indexed block found orphaned.
        cursor: u64,
        /// Lowest block compared.
        lowest_checked: u64,
        /// Configured window.
        window: u64,
    },
    /// A block the indexer had recorded as finalized was replaced: the chain broke finality.
    #[error("finalized block {number} was replaced on chain (finality violated); refusing to continue")]
    FinalityViolated {
        /// The block number.
        number: u64,
    },
    /// The RPC endpoint serves another chain than the one configured.
    #[error("RPC endpoint serves chain {actual}, configuration says {expected}")]
    WrongChain {
        /// Configured chain id.
        expected: u64,
        /// What the endpoint reported.
        actual: u64,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] jejak_store::Error),
    /// Bad configuration.
    #[error("configuration: {0}")]
    Config(String),
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
