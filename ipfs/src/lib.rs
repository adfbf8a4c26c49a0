//! IPFS for jejak, without trusting anyone's bytes.
//!
//! - [`Blockstore`]: the embedded block store (one file per raw block under the data directory),
//!   where the node keeps the documents it publishes and the ones it fetched.
//! - [`Fetcher`]: gets a block by CID from configured [`Source`]s in order: the blockstore, IPFS
//!   trustless gateways (`GET /ipfs/{cid}` with `Accept: application/vnd.ipld.raw`) and Kubo RPC
//!   endpoints (`POST /api/v0/block/get`). Every byte is re-hashed against the CID, and a size cap
//!   is enforced while the body streams in.
//! - [`Kubo`]: pins documents the node publishes to a Kubo node, when one is configured.
//!
//! No IPFS daemon runs inside jejak: the node serves the trustless-gateway protocol for its own
//! blocks (in the API crate), so two jejak nodes fetch from each other like any gateway.

mod blockstore;
mod error;
mod fetch;

pub use blockstore::Blockstore;
pub use error::{Error, Result};
pub use fetch::{Fetcher, Kubo, Source};
pub use jejak_core::cid::Cid;
