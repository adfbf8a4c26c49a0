//! The jejak indexer: follows the contracts' events and fetches the IPFS documents they name.
//!
//! - [`Indexer`] ([`follow`]): backfills finalized ranges with adaptive, concurrent
//!   `eth_getLogs`, then follows the unfinalized tip block by block, keeping a window of
//!   (number, hash, parent hash) to detect reorganisations by parent-hash mismatch (also one
//!   that happened while the node was stopped). Orphaned rows are deleted in the same transaction
//!   that records the new blocks and the cursor. A reorganisation deeper than the window stops
//!   the indexer with [`Error::ReorgTooDeep`].
//! - [`rpc::RpcClient`]: JSON-RPC over HTTP with endpoint fallback, timeouts, capped exponential
//!   backoff with jitter, `Retry-After`, range-limit recognition for the major providers, batch
//!   requests matched by id.
//! - [`DocumentFetcher`] ([`documents`]): the IPFS fetch queue, apart from chain following.
//! - [`IndexerStatus`]: live figures (head, finalized, cursor, lag, reorgs, alarms).

pub mod decode;
pub mod documents;
mod error;
pub mod follow;
pub mod rpc;
mod status;

pub use decode::Contracts;
pub use documents::{DocumentConfig, DocumentFetcher};
pub use error::{Error, Result};
pub use follow::{Indexer, IndexerConfig, Step};
pub use status::{IndexerStatus, REORG_DEPTH_BOUNDS, ReorgDepths, StatusSnapshot};
