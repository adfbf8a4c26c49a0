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
    /// A file could not be read or written.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
