//! End-to-end tests: real anvil, real databases, real HTTP.

mod bad_input;
mod crash;
mod evidence;
mod faults;
mod first_flow;
mod ipfs;
mod reputation;
mod reputation_audit;
mod reputation_crash;
mod reorg;
