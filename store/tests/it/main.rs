//! Store tests, each run on SQLite and on PostgreSQL.

mod attestations;
mod chain;
mod evidence;
mod ipfs;
mod keys;
mod scores;
