//! `jejak zk ...`: keys, proofs and interop files for the zero-knowledge reputation proofs,
//! and the worker's own identity: `jejak zk identity new` makes a secret, `jejak zk link-token`
//! signs a platform's permission to link an account to it. The proof work is done by
//! [`jejak_prover::cli`], tokens by [`jejak_api::services::links`]; this module maps the command
//! line onto them and prints their summaries as JSON.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use jejak_prover::cli;
use jejak_zk_circuits::link::{inner_commitment, link_signing_key};
use jejak_zk_circuits::{Fr, fr_from_decimal, fr_to_decimal, identity_commitment};
use serde::{Deserialize, Serialize};

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
    /// A worker's identity held by the worker.
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Sign the worker's consent for a platform to link one account to the identity: the
    /// platform sends the printed token as `data.link_token` of its `account_linked` event.
    LinkToken {
        /// Identity file (`jejak zk identity new`).
        #[arg(long, default_value = "identity.json")]
        identity: PathBuf,
        /// The platform's id in the registry.
        #[arg(long)]
        platform: u64,
        /// The worker's account on the platform (the event's `worker`).
        #[arg(long)]
        account: String,
        /// Chain id of the registry (31337 anvil, 80002 Polygon Amoy, 137 Polygon).
        #[arg(long)]
        chain_id: u64,
        /// Seconds the token stays valid (at most 30 days).
        #[arg(long, default_value_t = jejak_api::services::links::DEFAULT_LIFETIME_SECS)]
        lifetime_secs: u64,
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

/// `jejak zk identity` subcommands.
#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Make an identity secret (owner-only file) and print its commitment and link key.
    New {
        /// Where to write the secret; an existing file is never overwritten.
        #[arg(long, default_value = "identity.json")]
        out: PathBuf,
    },
    /// Print the commitment and link key of an identity file.
    Show {
        /// Identity file.
        #[arg(long, default_value = "identity.json")]
        identity: PathBuf,
    },
}

/// An identity file: the secret, and what follows from it for reading by eye.
#[derive(Serialize, Deserialize)]
struct IdentityFile {
    /// Identity secret, decimal. Whoever has it can prove and link as the worker.
    secret: String,
    /// The identity commitment, decimal.
    commitment: String,
}

/// What `identity new` and `identity show` print (never the secret).
#[derive(Serialize)]
struct IdentitySummary {
    /// The identity commitment: the worker id platforms and the node know.
    commitment: String,
    /// `Poseidon(secret)`, the commitment's inner half.
    inner: String,
    /// The Ed25519 link key the commitment binds, hex.
    link_key: String,
    /// The file holding the secret.
    file: PathBuf,
}

fn summary(secret: &Fr, file: &Path) -> IdentitySummary {
    IdentitySummary {
        commitment: fr_to_decimal(&identity_commitment(*secret)),
        inner: fr_to_decimal(&inner_commitment(secret)),
        link_key: hex::encode(link_signing_key(secret).verifying_key().as_bytes()),
        file: file.to_owned(),
    }
}

fn new_identity(out: &Path) -> anyhow::Result<IdentitySummary> {
    use std::io::Write as _;
    let secret = jejak_api::services::identities::IdentitySecret::generate().expose();
    let file = IdentityFile { secret: fr_to_decimal(&secret), commitment: fr_to_decimal(&identity_commitment(secret)) };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(out).with_context(|| format!("creating {} (an existing file is kept)", out.display()))?;
    f.write_all(format!("{}\n", serde_json::to_string_pretty(&file)?).as_bytes())?;
    f.sync_all()?;
    Ok(summary(&secret, out))
}

fn read_identity(path: &Path) -> anyhow::Result<Fr> {
    crate::keyfiles::check_private(path)?;
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: IdentityFile =
        serde_json::from_str(&text).with_context(|| format!("{} is not an identity file", path.display()))?;
    let secret = fr_from_decimal(&file.secret).with_context(|| format!("the secret in {}", path.display()))?;
    anyhow::ensure!(
        fr_to_decimal(&identity_commitment(secret)) == file.commitment,
        "{}: the commitment is not the secret's",
        path.display()
    );
    Ok(secret)
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
        ZkCommand::Identity(IdentityCommand::New { out }) => print(&new_identity(&out)?),
        ZkCommand::Identity(IdentityCommand::Show { identity }) => {
            print(&summary(&read_identity(&identity)?, &identity))
        }
        ZkCommand::LinkToken { identity, platform, account, chain_id, lifetime_secs } => {
            let secret = read_identity(&identity)?;
            let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).context("the clock")?;
            let token = jejak_api::services::links::issue(&secret, chain_id, platform, &account, now, lifetime_secs)?;
            print(&token)
        }
        ZkCommand::ExportSolidity { verifying_key, out } => {
            let path = cli::export_solidity(&cli::ExportSolidityArgs { verifying_key, out })?;
            line(format!("wrote {}", path.display()));
            Ok(())
        }
    }
}
