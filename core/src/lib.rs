//! Pure domain types of jejak. No I/O: nothing here knows of HTTP, SQL, RPC or files.
//!
//! - [`event`]: the work events platforms send (completed tasks, reviews, disputes, savings...),
//!   their validation and their canonical form.
//! - [`attestation`]: salted attestation leaves, so that a public batch reveals nothing about the
//!   events it commits to.
//! - [`merkle`]: RFC 6962 (Certificate Transparency) SHA-256 Merkle trees with inclusion and
//!   consistency proofs.
//! - [`cid`]: CIDv1 raw-block identifiers (sha2-256), as IPFS names the documents jejak publishes.
//! - [`batch`]: the public batch document a platform's attestation root points to.
//! - [`jcs`]: RFC 8785 JSON canonicalisation, the byte form everything is hashed in.
//! - [`redact`]: URLs reduced to what may be shown (no credentials, keys or queries).

pub mod attestation;
pub mod batch;
pub mod cid;
pub mod error;
pub mod event;
pub mod jcs;
pub mod merkle;
pub mod redact;

pub use error::{Error, Result};
