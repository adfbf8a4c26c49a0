//! End-to-end tests: real anvil, real databases, real HTTP.

mod anchor_once;
mod api_crash;
mod api_credentials;
mod api_custody;
mod api_events;
mod api_fuzz;
mod api_proofs;
mod api_roles;
mod api_webhooks;
mod bad_input;
mod ceremony;
mod crash;
mod evidence;
mod faults;
mod first_flow;
mod ipfs;
mod market;
mod relay;
mod reorg;
mod reputation;
mod reputation_audit;
mod reputation_crash;
mod scale;
mod shutdown;
mod supervision;
