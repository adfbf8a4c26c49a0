//! One small phase-2 ceremony shared by the tests, run with snarkjs from `node_modules` the way the
//! README tells an operator to: a powers-of-tau file made here (power 11: the depth-1 circuit's
//! QAP domain is 2,048), `snarkjs zkey new` on the exported `.r1cs`, one contribution, a random
//! beacon, and `snarkjs zkey verify` against the r1cs and the ptau. About a minute of CPU: the
//! first test process that needs it runs it under a file lock into
//! `target/ceremony-cache/<sha256 of the r1cs>/`, and the other test processes (nextest runs each
//! test in its own) read that directory. A changed circuit has another digest, hence its own
//! ceremony; a ceremony that failed half-way leaves nothing the next run would take.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Tree depth of the ceremony's circuit (1,501 constraints).
pub const DEPTH: usize = 1;
/// Power of the ceremony's powers of tau.
pub const POWER: u32 = 11;

/// The files of the ceremony, in one directory.
#[derive(Debug)]
pub struct Ceremony {
    dir: PathBuf,
}

impl Ceremony {
    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// `circuit.r1cs`: `jejak zk export-r1cs` at [`DEPTH`].
    pub fn r1cs(&self) -> PathBuf {
        self.dir().join("circuit.r1cs")
    }
    /// `pot_final.ptau`: the prepared powers of tau.
    pub fn ptau(&self) -> PathBuf {
        self.dir().join("pot_final.ptau")
    }
    /// `circuit_0000.zkey`: straight from `snarkjs zkey new`, no contribution (its toxic waste is
    /// public).
    pub fn uncontributed_zkey(&self) -> PathBuf {
        self.dir().join("circuit_0000.zkey")
    }
    /// `circuit_final.zkey`: after a contribution and the beacon, verified by snarkjs.
    pub fn zkey(&self) -> PathBuf {
        self.dir().join("circuit_final.zkey")
    }
    /// `verification_key.json`: snarkjs' export of the final zkey's key.
    pub fn snarkjs_vk(&self) -> PathBuf {
        self.dir().join("verification_key.json")
    }
}

/// The ceremony, run by the first test process that needs it (see the module's documentation).
pub fn ceremony() -> &'static Ceremony {
    static CEREMONY: OnceLock<Ceremony> = OnceLock::new();
    CEREMONY.get_or_init(|| {
        use sha2::Digest as _;
        let scratch = tempfile::tempdir().unwrap();
        let r1cs = scratch.path().join("circuit.r1cs");
        jejak_prover::cli::export_r1cs(&jejak_prover::cli::ExportR1csArgs { depth: DEPTH, out: r1cs.clone() }).unwrap();
        let digest = hex::encode(sha2::Sha256::digest(std::fs::read(&r1cs).unwrap()));
        let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/ceremony-cache");
        std::fs::create_dir_all(&cache).unwrap();
        let dir = cache.join(format!("{digest}-p{POWER}"));
        let lock = std::fs::File::create(cache.join(".lock")).unwrap();
        lock.lock().unwrap();
        if !dir.join("complete").exists() {
            let work = cache.join(format!("{digest}-p{POWER}.partial"));
            let _ = std::fs::remove_dir_all(&work);
            std::fs::create_dir_all(&work).unwrap();
            std::fs::copy(&r1cs, work.join("circuit.r1cs")).unwrap();
            run_ceremony(&work);
            std::fs::write(work.join("complete"), "").unwrap();
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::rename(&work, &dir).unwrap();
        }
        lock.unlock().unwrap();
        Ceremony { dir }
    })
}

/// The ceremony's snarkjs steps in `dir` (which holds `circuit.r1cs`).
fn run_ceremony(dir: &Path) {
    let power = POWER.to_string();
    let steps: [&[&str]; 8] = [
        &["powersoftau", "new", "bn128", power.as_str(), "pot_0000.ptau"],
        &["powersoftau", "contribute", "pot_0000.ptau", "pot_0001.ptau", "--name=tau", "-e=tau entropy"],
        &["powersoftau", "prepare", "phase2", "pot_0001.ptau", "pot_final.ptau"],
        &["zkey", "new", "circuit.r1cs", "pot_final.ptau", "circuit_0000.zkey"],
        &["zkey", "contribute", "circuit_0000.zkey", "circuit_0001.zkey", "--name=alice", "-e=alice entropy"],
        &[
            "zkey",
            "beacon",
            "circuit_0001.zkey",
            "circuit_final.zkey",
            "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            "10",
            "-n=Final Beacon",
        ],
        &["zkey", "verify", "circuit.r1cs", "pot_final.ptau", "circuit_final.zkey"],
        &["zkey", "export", "verificationkey", "circuit_final.zkey", "verification_key.json"],
    ];
    for args in steps {
        let (ok, out) = snarkjs(dir, args);
        assert!(ok, "snarkjs {args:?} failed:\n{out}");
        if args[..2] == ["zkey", "verify"] {
            assert!(out.contains("ZKey Ok!"), "snarkjs zkey verify:\n{out}");
        }
    }
}

/// The repository's `node_modules/.bin/NAME`; its absence fails the test (run `make deps`).
pub fn node_bin(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../node_modules/.bin").join(name);
    assert!(path.exists(), "{} is missing: run `make deps` at the repository root", path.display());
    path
}

/// Runs snarkjs with `args` in `dir`; returns (success, stdout + stderr).
pub fn snarkjs(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(node_bin("snarkjs"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running snarkjs {args:?} (is Node.js installed?): {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Builds `JejakProofVerifier` with `verifier_sol` as its `JejakGroth16Verifier.sol` (a copy of
/// the repository's contracts in `dir`, compiled with the repository's forge and solc); returns
/// the artifact `jejak deploy --proof-verifier-artifact` takes.
pub fn build_proof_verifier(dir: &Path, verifier_sol: &Path) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap();
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    for name in ["JejakRegistry.sol", "JejakReputationRoots.sol", "JejakProofVerifier.sol", "JejakLimits.sol"] {
        std::fs::copy(repo.join("contracts/src").join(name), src.join(name)).unwrap();
    }
    std::fs::copy(verifier_sol, src.join("JejakGroth16Verifier.sol")).unwrap();
    let toml = format!(
        "[profile.default]\nsrc = \"src\"\nout = \"out\"\nlibs = [\"{nm}\"]\n\
         remappings = [\"@openzeppelin/contracts/={nm}/@openzeppelin/contracts/\"]\n\
         solc = \"{solc}\"\noffline = true\noptimizer = true\noptimizer_runs = 10000\nevm_version = \"cancun\"\n\
         bytecode_hash = \"none\"\ncbor_metadata = false\n",
        nm = repo.join("node_modules").display(),
        solc = repo.join("scripts/solc").display(),
    );
    std::fs::write(dir.join("foundry.toml"), toml).unwrap();
    let out = Command::new(node_bin("forge")).args(["build", "--root"]).arg(dir).output().expect("running forge");
    assert!(
        out.status.success(),
        "forge build failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("out/JejakProofVerifier.sol/JejakProofVerifier.json")
}
