//! Chain errors.

/// What can go wrong talking to the chain.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The RPC endpoint failed or refused a request.
    #[error("rpc: {0}")]
    Rpc(#[from] alloy::transports::TransportError),
    /// A contract call or transaction failed.
    #[error("contract: {0}")]
    Contract(#[from] alloy::contract::Error),
    /// A transaction was sent but its receipt could not be obtained.
    #[error("pending transaction: {0}")]
    Pending(#[from] alloy::providers::PendingTransactionError),
    /// Bad configuration (URL, key, deployment file).
    #[error("configuration: {0}")]
    Config(String),
    /// The caller could not record a transaction before its broadcast (nothing was sent).
    #[error("recording transaction {hash}: {message}")]
    Record {
        /// The transaction.
        hash: alloy::primitives::B256,
        /// Why.
        message: String,
        /// How the caller's error classified itself.
        severity: jejak_runtime::Severity,
    },
    /// The sender's record of its transactions could not be read or written.
    #[error(transparent)]
    Store(#[from] jejak_store::Error),
    /// A file could not be read or written.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
}

impl jejak_runtime::Classify for Error {
    /// Transient: the endpoint, a contract call that reverts today (a platform suspended, a
    /// signer changed), a receipt not yet obtained. Fatal: a configuration or file that cannot
    /// work (an unreadable key, a bad URL).
    fn severity(&self) -> jejak_runtime::Severity {
        use jejak_runtime::Severity::*;
        match self {
            Error::Rpc(_) | Error::Contract(_) | Error::Pending(_) => Transient,
            Error::Config(_) | Error::Io(..) => Fatal,
            Error::Record { severity, .. } => *severity,
            Error::Store(e) => e.severity(),
        }
    }
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
