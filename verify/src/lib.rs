//! Verification that needs no node: what a worker, a platform or an auditor checks against the
//! chain and IPFS alone, shared by the command line (`jejak bundle|audit|evidence`), the API and
//! any other program.
//!
//! - [`bundle`]: a worker's portable bundle (`jejak.worker-bundle` v1): [`bundle::export`] from a
//!   node's database, [`bundle::check_offline`] (the bytes alone) and [`bundle::verify`] (chain
//!   and IPFS).
//! - [`audit`]: [`audit::replay`] recomputes every published reputation root from the chain's
//!   logs, the IPFS documents and the attestations at hand, and names the first leaf that differs.
//! - [`evidence`]: [`evidence::verify`] checks an evidence file against its receipt and the chain;
//!   [`evidence::audit`] checks that a node's evidence log was never rewritten since anchoring.
//!
//! Every failure is an [`Error`] with a stable code ([`Error::code`]). Nothing here trusts the
//! node that served a document: bytes from IPFS are re-hashed against their CID, and every
//! anchor is read from the chain.

pub mod audit;
pub mod bundle;
mod error;
pub mod evidence;

use std::path::PathBuf;
use std::time::Duration;

use alloy::providers::DynProvider;
use jejak_ipfs::Fetcher;

pub use error::{Error, Result};

/// Trustless gateways of the public IPFS network, used when no IPFS source is named.
pub const PUBLIC_GATEWAYS: [&str; 2] = ["https://trustless-gateway.link", "https://ipfs.io"];

/// Largest IPFS document a verifier fetches.
const MAX_DOCUMENT_BYTES: u64 = 4 << 20;

/// Read-only access to the chain that is checked against.
#[derive(Debug, Clone)]
pub struct ChainView {
    pub(crate) provider: DynProvider,
}

impl ChainView {
    /// A read-only view over an RPC URL.
    pub fn new(rpc: &str) -> Result<Self> {
        Ok(Self { provider: jejak_chain::connect(rpc).map_err(Error::rpc)? })
    }
}

/// A fetcher over local block directories, trustless gateways and Kubo, in that order,
/// re-hashing every block against its CID.
pub fn ipfs_fetcher(gateways: &[String], blockstores: &[PathBuf], kubo: Option<&str>) -> Result<Fetcher> {
    let mut sources = Vec::new();
    for dir in blockstores {
        let store = jejak_ipfs::Blockstore::open(dir).map_err(|e| Error::Ipfs(format!("{}: {e}", dir.display())))?;
        sources.push(jejak_ipfs::Source::Blockstore(store));
    }
    sources.extend(gateways.iter().cloned().map(jejak_ipfs::Source::Gateway));
    if let Some(k) = kubo {
        sources.push(jejak_ipfs::Source::Kubo(k.to_string()));
    }
    Ok(Fetcher::new(sources, MAX_DOCUMENT_BYTES, Duration::from_secs(30)))
}
