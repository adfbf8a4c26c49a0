//! `jejak zk ...`: keys, proofs and interop files for the zero-knowledge reputation proofs.
//! The work is done by [`jejak_prover::cli`]; this module only maps the command line onto it and
//! prints its summaries as JSON.

use std::path::PathBuf;

use clap::Subcommand;
use jejak_prover::cli;

use crate::output::line;

/// `jejak zk` subcommands.
#[derive(Debug, Subcommand)]
pub enum ZkCommand {
    /// Make proving and verifying keys with a seeded, INSECURE development setup.
    Setup {
        /// Merkle tree depth of the circuit.
        #[arg(long, default_value_t = 20)]
        depth: usize,
        /// Seed of the development setup.
        #[arg(long)]
        seed: Option<String>,
        /// Directory for the keys.
        #[arg(long, default_value = "zk-keys")]
        out_dir: PathBuf,
    },
    /// Write the circuit in circom's .r1cs format (for a snarkjs phase-2 ceremony).
    ExportR1cs {
        /// Merkle tree depth of the circuit.
        #[arg(long, default_value_t = 20)]
        depth: usize,
        /// Output file.
        #[arg(long, default_value = "jejak.r1cs")]
        out: PathBuf,
    },
    /// Import a snarkjs phase-2 .zkey as this node's keys (after checking it is this circuit).
    ImportZkey {
        /// The .zkey file.
        zkey: PathBuf,
        /// Directory for the keys.
        #[arg(long, default_value = "zk-keys")]
        out_dir: PathBuf,
    },
    /// Prove a statement from a prover input (a worker's secret and leaf data) and a snapshot.
    Prove {
        /// Proving key file.
        #[arg(long)]
        proving_key: PathBuf,
        /// Prover input JSON (secret, score, gigs, tier, salt, epoch, bounds, scope, challenge).
        #[arg(long)]
        input: PathBuf,
        /// Snapshot leaves file, to compute the Merkle path.
        #[arg(long)]
        snapshot: Option<PathBuf>,
        /// Output proof bundle.
        #[arg(long, default_value = "proof.json")]
        out: PathBuf,
        /// Also write the witness in snarkjs' .wtns format.
        #[arg(long)]
        wtns: Option<PathBuf>,
    },
    /// Write verification_key.json, proof.json and public.json for snarkjs.
    Export {
        /// Verifying key file.
        #[arg(long)]
        verifying_key: PathBuf,
        /// Proof bundle.
        #[arg(long)]
        proof: PathBuf,
        /// Output directory.
        #[arg(long = "snarkjs")]
        dir: PathBuf,
    },
    /// Verify a proof natively.
    Verify {
        /// Verifying key file.
        #[arg(long)]
        verifying_key: PathBuf,
        /// Proof bundle (or snarkjs proof.json with --public).
        #[arg(long)]
        proof: PathBuf,
        /// snarkjs public.json, when the proof is a snarkjs proof.json.
        #[arg(long)]
        public: Option<PathBuf>,
    },
    /// Generate the Solidity Groth16 verifier from a verifying key.
    ExportSolidity {
        /// Verifying key file.
        #[arg(long)]
        verifying_key: PathBuf,
        /// Output .sol file.
        #[arg(long)]
        out: PathBuf,
    },
}

fn print(v: &impl serde::Serialize) -> anyhow::Result<()> {
    line(serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Runs a `jejak zk` command. A proof that does not verify is an error (non-zero exit).
pub fn run(cmd: ZkCommand) -> anyhow::Result<()> {
    match cmd {
        ZkCommand::Setup { depth, seed, out_dir } => print(&cli::setup(&cli::SetupArgs { depth, seed, out_dir })?),
        ZkCommand::ExportR1cs { depth, out } => print(&cli::export_r1cs(&cli::ExportR1csArgs { depth, out })?),
        ZkCommand::ImportZkey { zkey, out_dir } => print(&cli::import_zkey(&cli::ImportZkeyArgs { zkey, out_dir })?),
        ZkCommand::Prove { proving_key, input, snapshot, out, wtns } => {
            print(&cli::prove(&cli::ProveArgs { proving_key, input, snapshot, out, wtns })?)
        }
        ZkCommand::Export { verifying_key, proof, dir } => {
            print(&cli::export_snarkjs(&cli::ExportSnarkjsArgs { verifying_key, proof, dir })?)
        }
        ZkCommand::Verify { verifying_key, proof, public } => {
            let summary = cli::verify(&cli::VerifyArgs { verifying_key, proof, public })?;
            print(&summary)?;
            anyhow::ensure!(summary.valid, "the proof does not verify");
            Ok(())
        }
        ZkCommand::ExportSolidity { verifying_key, out } => {
            let path = cli::export_solidity(&cli::ExportSolidityArgs { verifying_key, out })?;
            line(format!("wrote {}", path.display()));
            Ok(())
        }
    }
}
