//! The `jejak` binary's command line.

mod cli;
