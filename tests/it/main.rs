//! End-to-end tests: real anvil, real databases, real HTTP.

mod bad_input;
mod crash;
mod evidence;
mod faults;
mod first_flow;
mod ipfs;
mod reorg;
