//! Anchoring errors.

/// What can go wrong building or anchoring a batch.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] jejak_store::Error),
    /// The chain failed or refused a transaction.
    #[error(transparent)]
    Chain(#[from] jejak_chain::Error),
    /// The blockstore failed.
    #[error(transparent)]
    Ipfs(#[from] jejak_ipfs::Error),
    /// A batch could not be formed.
    #[error(transparent)]
    Domain(#[from] jejak_core::Error),
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
