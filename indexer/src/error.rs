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
    /// The blockstore could not keep a fetched document.
    #[error("blockstore: {0}")]
    Blockstore(#[from] jejak_ipfs::Error),
    /// Bad configuration.
    #[error("configuration: {0}")]
    Config(String),
}

impl jejak_runtime::Classify for Error {
    /// Fatal: a reorganisation deeper than the window or below finality, a wrong chain, a bad
    /// configuration, a fatal store error. RPC failures are transient, even a provider that
    /// refuses a request: another endpoint or a later attempt may serve it, and the status and
    /// metrics say it is failing.
    fn severity(&self) -> jejak_runtime::Severity {
        use jejak_runtime::Severity::*;
        match self {
            Error::Rpc(_) => Transient,
            Error::Store(e) => jejak_runtime::Classify::severity(e),
            Error::Blockstore(e) => jejak_runtime::Classify::severity(e),
            Error::ReorgTooDeep { .. }
            | Error::FinalityViolated { .. }
            | Error::WrongChain { .. }
            | Error::Config(_) => Fatal,
        }
    }
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
