//! The `jejak zk ...` commands as plain functions: each takes paths, does the work, and returns a
//! summary (`Serialize` for `--json`, `Display` for people). The `jejak` binary parses arguments
//! and prints; nothing here prints.
//!
//! | command | function |
//! | ------- | -------- |
//! | `jejak zk setup --depth D [--seed S] --out DIR` | [`setup`] |
//! | `jejak zk export-r1cs --depth D --out FILE` | [`export_r1cs`] |
//! | `jejak zk import-zkey ZKEY --out DIR` | [`import_zkey`] |
//! | `jejak zk prove --key PK --input JSON [--snapshot JSON] --out BUNDLE [--wtns FILE]` | [`prove`] |
//! | `jejak zk export --snarkjs DIR --key VK --proof BUNDLE` | [`export_snarkjs`] |
//! | `jejak zk verify --key VK --proof BUNDLE` (or `--proof proof.json --public public.json`) | [`verify`] |
//! | `jejak zk export-solidity --key VK --out FILE` | [`export_solidity`] |
//!
//! Key directories hold `proving.key`, `verifying.key` and snarkjs' `verification_key.json`.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use jejak_zk_circuits::Statement;
use rand::rngs::OsRng;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{
    Error, Prover, Result, Verifier,
    bundle::{ProofBundle, ProveInput, Snapshot, StatementJson},
    circom,
    keys::{ProvingKeyFile, Reduction, VerifyingKeyFile},
    setup::{DEFAULT_DEV_SEED, dev_setup},
    shape::CircuitShape,
    snarkjs, solidity,
};

/// File name of the proving key in a key directory.
pub const PROVING_KEY_FILE: &str = "proving.key";
/// File name of the verifying key in a key directory.
pub const VERIFYING_KEY_FILE: &str = "verifying.key";

/// The warning every command that makes or uses a development key repeats.
pub const INSECURE_WARNING: &str = "INSECURE development keys: their toxic waste comes from a public seed, so anyone can forge proofs. \
     Use keys from a phase-2 ceremony (jejak zk import-zkey) outside development.";

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
    Ok(serde_json::from_str(&text)?)
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    }
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n").map_err(Error::io(path))
}

/// Keys written to a directory.
#[derive(Clone, Debug, Serialize)]
pub struct KeysSummary {
    /// Tree depth of the circuit.
    pub depth: usize,
    /// Constraints of the circuit.
    pub constraints: usize,
    /// QAP reduction the proving key expects.
    pub reduction: String,
    /// Proving key file.
    pub proving_key: PathBuf,
    /// SHA-256 of the proving key payload (in its header).
    pub proving_key_sha256: String,
    /// Verifying key file.
    pub verifying_key: PathBuf,
    /// SHA-256 of the verifying key payload (in its header; proof bundles name it).
    pub verifying_key_sha256: String,
    /// snarkjs' `verification_key.json`.
    pub verification_key_json: PathBuf,
    /// Where the keys came from.
    pub origin: String,
    /// Whether the keys are the insecure development ones.
    pub insecure: bool,
    /// [`INSECURE_WARNING`] for development keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl fmt::Display for KeysSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(w) = &self.warning {
            writeln!(f, "WARNING: {w}")?;
        }
        writeln!(f, "circuit: depth {}, {} constraints, {} reduction", self.depth, self.constraints, self.reduction)?;
        writeln!(f, "origin: {}", self.origin)?;
        writeln!(f, "proving key: {} (sha256 {})", self.proving_key.display(), self.proving_key_sha256)?;
        writeln!(f, "verifying key: {} (sha256 {})", self.verifying_key.display(), self.verifying_key_sha256)?;
        write!(f, "snarkjs verification key: {}", self.verification_key_json.display())
    }
}

fn write_keys(pk: &ProvingKeyFile, out_dir: &Path) -> Result<KeysSummary> {
    let proving_key = out_dir.join(PROVING_KEY_FILE);
    let verifying_key = out_dir.join(VERIFYING_KEY_FILE);
    let verification_key_json = out_dir.join(snarkjs::VERIFICATION_KEY_JSON);
    let proving_key_sha256 = pk.write(&proving_key)?;
    let vk = pk.verifying_key();
    let verifying_key_sha256 = vk.write(&verifying_key)?;
    write_json(&verification_key_json, &snarkjs::vk_to_json(&vk.key))?;
    let insecure = pk.info.origin.is_insecure();
    Ok(KeysSummary {
        depth: pk.info.depth,
        constraints: pk.info.constraints,
        reduction: pk.info.reduction.to_string(),
        proving_key,
        proving_key_sha256,
        verifying_key,
        verifying_key_sha256,
        verification_key_json,
        origin: pk.info.origin.to_string(),
        insecure,
        warning: insecure.then(|| INSECURE_WARNING.to_owned()),
    })
}

/// Arguments of `jejak zk setup`.
#[derive(Clone, Debug)]
pub struct SetupArgs {
    /// Tree depth (20 by default in the CLI).
    pub depth: usize,
    /// Seed of the development setup ([`DEFAULT_DEV_SEED`] if `None`).
    pub seed: Option<String>,
    /// Directory for the keys.
    pub out_dir: PathBuf,
}

/// `jejak zk setup`: INSECURE seeded development keys for the circuit at `depth`.
pub fn setup(args: &SetupArgs) -> Result<KeysSummary> {
    let seed = args.seed.as_deref().unwrap_or(DEFAULT_DEV_SEED);
    let pk = dev_setup(args.depth, seed, Reduction::Libsnark)?;
    write_keys(&pk, &args.out_dir)
}

/// Arguments of `jejak zk export-r1cs`.
#[derive(Clone, Debug)]
pub struct ExportR1csArgs {
    /// Tree depth.
    pub depth: usize,
    /// Output `.r1cs` file.
    pub out: PathBuf,
}

/// What `jejak zk export-r1cs` wrote.
#[derive(Clone, Debug, Serialize)]
pub struct ExportR1csSummary {
    /// The file.
    pub path: PathBuf,
    /// Its SHA-256.
    pub sha256: String,
    /// Constraints.
    pub constraints: usize,
    /// Wires (variables, the constant 1 included).
    pub wires: usize,
    /// Public inputs.
    pub public_inputs: usize,
    /// Private inputs.
    pub private_inputs: usize,
}

impl fmt::Display for ExportR1csSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} constraints, {} wires, {} public and {} private inputs (sha256 {})",
            self.path.display(),
            self.constraints,
            self.wires,
            self.public_inputs,
            self.private_inputs,
            self.sha256
        )
    }
}

/// `jejak zk export-r1cs`: the circuit in circom's `.r1cs` format, for a phase-2 ceremony
/// (`snarkjs groth16 setup circuit.r1cs final.ptau circuit_0000.zkey`, contributions, then
/// `jejak zk import-zkey`).
pub fn export_r1cs(args: &ExportR1csArgs) -> Result<ExportR1csSummary> {
    let shape = CircuitShape::get(args.depth)?;
    let bytes = circom::r1cs_bytes(&shape);
    std::fs::write(&args.out, &bytes).map_err(Error::io(&args.out))?;
    Ok(ExportR1csSummary {
        path: args.out.clone(),
        sha256: hex::encode(Sha256::digest(&bytes)),
        constraints: shape.num_constraints,
        wires: shape.num_variables(),
        public_inputs: shape.num_public(),
        private_inputs: circom::num_private_inputs(shape.depth),
    })
}

/// Arguments of `jejak zk import-zkey`.
#[derive(Clone, Debug)]
pub struct ImportZkeyArgs {
    /// The final `.zkey` of the ceremony (verify it first with `snarkjs zkey verify`).
    pub zkey: PathBuf,
    /// Directory for the keys.
    pub out_dir: PathBuf,
}

/// `jejak zk import-zkey`: keys from a snarkjs phase-2 zkey. The depth is read off the zkey and
/// its matrices must be exactly this circuit's; proofs from these keys use snarkjs' reduction.
pub fn import_zkey(args: &ImportZkeyArgs) -> Result<KeysSummary> {
    let bytes = std::fs::read(&args.zkey).map_err(Error::io(&args.zkey))?;
    let pk = circom::import_zkey(&bytes)?;
    write_keys(&pk, &args.out_dir)
}

/// Arguments of `jejak zk prove`.
#[derive(Clone, Debug)]
pub struct ProveArgs {
    /// Proving key file.
    pub proving_key: PathBuf,
    /// [`ProveInput`] JSON: the worker's record and secret, path (optional) and requirement.
    pub input: PathBuf,
    /// [`Snapshot`] JSON of the epoch, when the input has no path.
    pub snapshot: Option<PathBuf>,
    /// Output [`ProofBundle`] JSON.
    pub out: PathBuf,
    /// Also write the circuit witness as a snarkjs `.wtns` file.
    pub wtns: Option<PathBuf>,
}

/// What `jejak zk prove` made.
#[derive(Clone, Debug, Serialize)]
pub struct ProveSummary {
    /// The proof bundle written.
    pub bundle: PathBuf,
    /// What it proves.
    pub statement: StatementJson,
    /// Whether the key is an insecure development key.
    pub insecure_key: bool,
}

impl fmt::Display for ProveSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.insecure_key {
            writeln!(f, "WARNING: proved with {INSECURE_WARNING}")?;
        }
        let s = &self.statement;
        write!(
            f,
            "{}: score >= {}, gigs >= {}, tier >= {} in epoch {} (root {}), nullifier {}",
            self.bundle.display(),
            s.min_score,
            s.min_gigs,
            s.min_tier,
            s.epoch,
            s.root_bytes32,
            s.nullifier
        )
    }
}

/// `jejak zk prove`: proves the input's requirement from the worker's record and writes a proof
/// bundle. Fails with the unmet condition (e.g. "score below the minimum 700") before proving.
pub fn prove(args: &ProveArgs) -> Result<ProveSummary> {
    let prover = Prover::load(&args.proving_key)?;
    let input: ProveInput = read_json(&args.input)?;
    let snapshot: Option<Snapshot> = args.snapshot.as_deref().map(read_json).transpose()?;
    let record = input.record()?;
    let path = input.resolve_path(snapshot.as_ref())?;
    let requirement = input.requirement.to_requirement()?;
    let (statement, witness) = jejak_zk_circuits::build_statement(&record, &path, &requirement)?;
    let public = statement.public_inputs()?;
    let proof = prover.prove(&public, &witness, &mut OsRng)?;
    if let Some(wtns) = &args.wtns {
        let z = prover.assignment(&public, &witness)?;
        std::fs::write(wtns, circom::wtns_bytes(&z)).map_err(Error::io(wtns))?;
    }
    let bundle = ProofBundle::new(prover.depth(), prover.verifying_key().key_hash()?, &statement, &proof)?;
    write_json(&args.out, &bundle)?;
    Ok(ProveSummary {
        bundle: args.out.clone(),
        statement: bundle.statement,
        insecure_key: prover.info().origin.is_insecure(),
    })
}

/// Arguments of `jejak zk export --snarkjs DIR`.
#[derive(Clone, Debug)]
pub struct ExportSnarkjsArgs {
    /// Verifying key ([`VerifyingKeyFile`]).
    pub verifying_key: PathBuf,
    /// Proof bundle.
    pub proof: PathBuf,
    /// Output directory.
    pub dir: PathBuf,
}

/// What `jejak zk export --snarkjs` wrote.
#[derive(Clone, Debug, Serialize)]
pub struct ExportSnarkjsSummary {
    /// `verification_key.json`, `proof.json`, `public.json`.
    pub files: [PathBuf; 3],
}

impl fmt::Display for ExportSnarkjsSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [vk, proof, public] = &self.files;
        write!(
            f,
            "wrote {}, {}, {}; check with: snarkjs groth16 verify {} {} {}",
            vk.display(),
            proof.display(),
            public.display(),
            vk.display(),
            public.display(),
            proof.display()
        )
    }
}

/// `jejak zk export --snarkjs DIR`: the verifying key, proof and public signals in snarkjs'
/// formats, for `snarkjs groth16 verify verification_key.json public.json proof.json`.
pub fn export_snarkjs(args: &ExportSnarkjsArgs) -> Result<ExportSnarkjsSummary> {
    let vk = VerifyingKeyFile::read(&args.verifying_key)?;
    let bundle: ProofBundle = read_json(&args.proof)?;
    let (_, public, proof) = bundle.decode()?;
    check_bundle_key(&bundle, &vk)?;
    Ok(ExportSnarkjsSummary { files: snarkjs::write_dir(&args.dir, &vk.key, &proof, &public)? })
}

fn check_bundle_key(bundle: &ProofBundle, vk: &VerifyingKeyFile) -> Result<()> {
    let hash = vk.key_hash()?;
    if bundle.verifying_key_sha256 != hash {
        return Err(Error::CircuitMismatch(format!(
            "the proof was made for verifying key {}, not {hash}",
            bundle.verifying_key_sha256
        )));
    }
    Ok(())
}

/// Arguments of `jejak zk verify`.
#[derive(Clone, Debug)]
pub struct VerifyArgs {
    /// Verifying key: a [`VerifyingKeyFile`] or snarkjs' `verification_key.json`.
    pub verifying_key: PathBuf,
    /// A proof bundle, or snarkjs' `proof.json` when `public` is given.
    pub proof: PathBuf,
    /// snarkjs' `public.json`, to verify a snarkjs proof instead of a bundle.
    pub public: Option<PathBuf>,
}

/// The outcome of `jejak zk verify`.
#[derive(Clone, Debug, Serialize)]
pub struct VerifySummary {
    /// Whether the proof is valid for the statement and key.
    pub valid: bool,
    /// The statement checked.
    pub statement: StatementJson,
    /// Whether the key is an insecure development key (then `valid` proves nothing).
    pub insecure_key: bool,
}

impl fmt::Display for VerifySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.insecure_key {
            writeln!(f, "WARNING: verified against {INSECURE_WARNING}")?;
        }
        let s = &self.statement;
        write!(
            f,
            "{}: score >= {}, gigs >= {}, tier >= {} in epoch {} (root {}), scope {}, challenge {}, nullifier {}",
            if self.valid { "VALID" } else { "INVALID" },
            s.min_score,
            s.min_gigs,
            s.min_tier,
            s.epoch,
            s.root_bytes32,
            s.scope,
            s.challenge,
            s.nullifier
        )
    }
}

/// `jejak zk verify`: checks a proof natively. The root's publication on chain and the nullifier's
/// freshness are the caller's (or the verifier contract's) business.
pub fn verify(args: &VerifyArgs) -> Result<VerifySummary> {
    let bytes = std::fs::read(&args.verifying_key).map_err(Error::io(&args.verifying_key))?;
    let (vk, insecure) = if bytes.starts_with(b"jejak-zk-key/") {
        let file = VerifyingKeyFile::from_bytes(&bytes)?;
        let insecure = file.info.origin.is_insecure();
        (file, insecure)
    } else {
        let json: serde_json::Value = serde_json::from_slice(&bytes)?;
        let key = snarkjs::vk_from_json(&json)?;
        // A bare snarkjs key says nothing of its origin: assume a ceremony, as snarkjs does.
        let info = crate::KeyInfo {
            depth: 0,
            public_inputs: key.gamma_abc_g1.len() - 1,
            constraints: 0,
            circuit_sha256: String::new(),
            reduction: Reduction::Circom,
            origin: crate::KeyOrigin::Zkey { sha256: String::new() },
        };
        (VerifyingKeyFile { info, key }, false)
    };
    let (statement, public, proof) = match &args.public {
        None => {
            let bundle: ProofBundle = read_json(&args.proof)?;
            let decoded = bundle.decode()?;
            if vk.info.depth != 0 {
                check_bundle_key(&bundle, &vk)?;
            }
            decoded
        }
        Some(public_path) => {
            let proof = snarkjs::proof_from_json(&read_json(&args.proof)?)?;
            let public = snarkjs::public_from_json(&read_json(public_path)?)?;
            (Statement::from_public_inputs(&public)?, public, proof)
        }
    };
    let valid = Verifier::new(&vk.key)?.verify(&proof, &public)?;
    Ok(VerifySummary { valid, statement: StatementJson::from_statement(&statement), insecure_key: insecure })
}

/// Arguments of `jejak zk export-solidity`.
#[derive(Clone, Debug)]
pub struct ExportSolidityArgs {
    /// Verifying key file.
    pub verifying_key: PathBuf,
    /// Output `.sol` file.
    pub out: PathBuf,
}

/// `jejak zk export-solidity`: the Groth16 verifier contract for a verifying key (the committed
/// one is produced by `jejak-zk-gen`, see [`crate::fixtures`]).
pub fn export_solidity(args: &ExportSolidityArgs) -> Result<PathBuf> {
    let vk = VerifyingKeyFile::read(&args.verifying_key)?;
    let source = solidity::verifier_source(&vk.key, &vk.info, &vk.key_hash()?)?;
    std::fs::write(&args.out, source).map_err(Error::io(&args.out))?;
    Ok(args.out.clone())
}
