//! The `jejak` binary's command line, and the leadership of singleton jobs.

mod cli;
mod leader;
