//! Store tests, each run on SQLite and on PostgreSQL.

mod attestations;
mod chain;
mod ipfs;
mod keys;
