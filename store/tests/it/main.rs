//! Store tests, each run on SQLite and on PostgreSQL.

mod attestations;
mod chain;
mod evidence;
mod identities;
mod ipfs;
mod keys;
mod leases;
mod links;
mod ratelimits;
mod scores;
mod webhooks;
