//! The API's services: what runs behind the handlers and knows nothing of HTTP. Handlers in
//! [`crate::routes`] parse requests, check roles and limits, and call these.
//!
//! - [`evidence`]: the blob store of evidence files and the evaluation of a task's evidence;
//! - [`webhooks`]: signing and checking `Jejak-Signature`, and the outgoing delivery worker;
//! - [`egress`]: where outgoing webhooks may go (no internal addresses, checked at connect time);
//! - [`secrets`]: webhook secrets sealed at rest;
//! - [`nullifiers`]: the writer that records the nullifiers of verified proofs in groups;
//! - [`proofs`]: batched Groth16 verification on a thread of its own;
//! - [`proving`]: proving for node-held identities behind a bounded queue;
//! - [`identities`]: sealing node-held identity secrets;
//! - [`links`]: link tokens, a worker's consent to an account link (issue and check);
//! - [`credentials`]: the node as a W3C credential issuer;
//! - [`market`]: the marketplace's transitions, their work events, and its timer job;
//! - [`key_events`]: drops keys from the cache when any instance changes them (PostgreSQL).

pub mod credentials;
pub mod egress;
pub mod evidence;
pub mod identities;
pub mod key_events;
pub mod links;
pub mod market;
pub mod nullifiers;
pub mod proofs;
pub mod proving;
pub mod secrets;
pub mod webhooks;
