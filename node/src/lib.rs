//! The jejak node: configuration, command line and composition.
//!
//! `main.rs` only parses the command line and calls [`cli::run`]. Composition lives in
//! [`launch`]: store, blockstore, indexer, document fetcher, batcher and API as named tasks tied
//! to one shutdown signal. [`config`] resolves presets, the config file and `JEJAK_*`
//! variables; [`dev`] runs the whole system locally on anvil with a demo workload; [`anvil`]
//! starts anvil (`JEJAK_ANVIL`, the checkout's pinned one, or `PATH`; also used by the tests).
//! [`audit`] and [`bundle`] are the command lines of `jejak audit replay` and `jejak bundle
//! export|verify`, and `jejak evidence verify|audit` lives in [`cli`]: the checks themselves are
//! in `jejak-verify`, shared with the API. [`credential`] verifies W3C credentials offline (`jejak credential verify`).
//! [`signals`] stops the node on SIGTERM as on Ctrl-C; [`logging`] sets up logs from the
//! configuration; [`keyfiles`] keeps key files in their own directory, owner-only. [`version`]
//! is what `jejak --version` says: the contracts and circuit this build speaks; [`reference`]
//! the configuration reference (`jejak config reference`, `docs/configuration.md`).

pub mod anvil;
pub mod audit;
pub mod bundle;
pub mod cli;
pub mod config;
pub mod credential;
pub mod dev;
pub mod keyfiles;
pub mod launch;
pub mod leader;
pub mod logging;
pub mod ops;
mod output;
pub mod reference;
pub mod signals;
pub mod version;
pub mod zk;

pub use launch::{RunningNode, launch};
