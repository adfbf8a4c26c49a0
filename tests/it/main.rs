//! End-to-end tests: real anvil, real databases, real HTTP.

mod bad_input;
mod evidence;
mod first_flow;
