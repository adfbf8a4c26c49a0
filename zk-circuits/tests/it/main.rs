//! Integration tests of the circuit crate: natives against light-poseidon, circomlibjs and the
//! shared vectors; gadgets against natives; the circuit against every way of cheating.

mod circomlibjs;
mod circuit;
mod common;
mod merkle;
mod poseidon;
mod range;
