//! Verifiable credentials of jejak: a worker's reputation summary as a W3C Verifiable
//! Credential 2.0, secured with a Data Integrity proof of cryptosuite `eddsa-jcs-2022` (RFC 8785
//! canonical JSON, SHA-256, ed25519) by the node's key published as a `did:key`, and revocable
//! through a Bitstring Status List.
//!
//! - [`did`]: `did:key` identifiers and multibase encodings of ed25519 keys.
//! - [`proof`]: adding and verifying `eddsa-jcs-2022` proofs (checked against the W3C test
//!   vectors).
//! - [`status`]: [`StatusList`], the GZIP-compressed, base64url bitstring.
//! - [`credential`]: the reputation and status list credentials, and [`credential::verify`],
//!   which reports every check it made (format, proof, issuer, validity period, status).
//!
//! Pure: no I/O and no clock (time is passed in). No feature flags.

pub mod credential;
pub mod did;
mod error;
pub mod proof;
pub mod status;

pub use credential::{Check, Outcome, ReputationSummary, StatusAnswer, Verification};
pub use error::{Error, Result};
pub use status::StatusList;
