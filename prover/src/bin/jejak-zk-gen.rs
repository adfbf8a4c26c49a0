//! Regenerates (or, with `--check`, verifies) the committed zero-knowledge artefacts: the Solidity
//! Groth16 verifier, the development verifying key in snarkjs' form and the forge fixture proofs.
//!
//! Usage: `jejak-zk-gen [--check] [--repo DIR]` (the repository root defaults to the workspace).

use std::{io::Write, path::Path, process::ExitCode};

use jejak_prover::fixtures;

fn main() -> ExitCode {
    let mut check = false;
    let mut repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--repo" => match args.next() {
                Some(dir) => repo = dir.into(),
                None => return usage(),
            },
            _ => return usage(),
        }
    }
    let result = if check { fixtures::check(&repo) } else { fixtures::write(&repo) };
    let mut out = std::io::stdout().lock();
    match result {
        Ok(paths) => {
            for p in paths {
                let _ = writeln!(out, "{} {}", if check { "up to date:" } else { "wrote" }, p.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "jejak-zk-gen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> ExitCode {
    let _ = writeln!(std::io::stderr(), "usage: jejak-zk-gen [--check] [--repo DIR]");
    ExitCode::from(2)
}
