//! Integration tests of the formula and snapshots.

mod common;
mod fairness;
mod formula;
mod properties;
mod snapshot;
