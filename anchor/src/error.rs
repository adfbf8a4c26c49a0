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
    /// Scores or a snapshot could not be computed.
    #[error(transparent)]
    Scoring(#[from] jejak_scoring::Error),
    /// A field element read back from the database is not canonical.
    #[error(transparent)]
    Field(#[from] jejak_zk_circuits::Error),
    /// Stored epoch data contradicts itself (leaves and root, parameters, missing CID).
    #[error("inconsistent epoch state: {0}")]
    Inconsistent(String),
    /// A blocking computation panicked or was cancelled.
    #[error("background computation: {0}")]
    Task(String),
    /// A crash injected by a test at this point of the epoch job.
    #[error("injected crash at {0:?}")]
    Injected(crate::epoch::CrashPoint),
    /// An evidence checkpoint could not be formed.
    #[error(transparent)]
    Evidence(#[from] jejak_evidence::Error),
    /// The stored evidence log no longer extends its last anchored head: it was edited behind
    /// the node's back, and is not anchored again.
    #[error("evidence log rewritten: {0}")]
    LogRewritten(String),
    /// The evidence log contract holds a head this node's log cannot extend.
    #[error("evidence log and chain diverged: {0}")]
    ChainDiverged(String),
}

impl jejak_runtime::Classify for Error {
    /// The database and the chain say for themselves; IPFS failures are transient. Stored data
    /// that contradicts itself (an epoch, a batch, a checkpoint that cannot be formed again, an
    /// evidence log rewritten behind the node's back) and a chain this node's log can no longer
    /// extend are fatal: going on would publish or serve what is wrong.
    fn severity(&self) -> jejak_runtime::Severity {
        use jejak_runtime::Severity::*;
        match self {
            Error::Store(e) => e.severity(),
            Error::Chain(e) => e.severity(),
            Error::Ipfs(e) => e.severity(),
            Error::Domain(_)
            | Error::Scoring(_)
            | Error::Field(_)
            | Error::Inconsistent(_)
            | Error::Task(_)
            | Error::Injected(_)
            | Error::Evidence(_)
            | Error::LogRewritten(_)
            | Error::ChainDiverged(_) => Fatal,
        }
    }
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
