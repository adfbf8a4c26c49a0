//! The seeded development setup. Its toxic waste comes from a public seed, so anyone can forge
//! proofs against its keys: every key it makes is labelled INSECURE, in the file and in the CLI's
//! output. Production keys come from a phase-2 ceremony through [`crate::circom::import_zkey`].

use ark_bn254::Bn254;
use ark_groth16::{Groth16, r1cs_to_qap::LibsnarkReduction};
use jejak_zk_circuits::ReputationCircuit;
use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};
use sha2::{Digest, Sha256};

use crate::{
    Result,
    keys::{KeyInfo, KeyOrigin, ProvingKeyFile, Reduction},
    qap::CircomReduction,
    shape::CircuitShape,
};

/// The seed `jejak zk setup` uses when none is given.
pub const DEFAULT_DEV_SEED: &str = "jejak-dev-setup/v1";

/// A deterministic, INSECURE key pair for the circuit at `depth`: the same seed always gives the
/// same keys. `reduction` picks the QAP layout (snarkjs-compatible with [`Reduction::Circom`]).
pub fn dev_setup(depth: usize, seed: &str, reduction: Reduction) -> Result<ProvingKeyFile> {
    let shape = CircuitShape::get(depth)?;
    let mut rng = ChaCha20Rng::from_seed(Sha256::digest(seed.as_bytes()).into());
    let circuit = ReputationCircuit::setup(depth)?;
    let key = match reduction {
        Reduction::Libsnark => {
            Groth16::<Bn254, LibsnarkReduction>::generate_random_parameters_with_reduction(circuit, &mut rng)?
        }
        Reduction::Circom => {
            Groth16::<Bn254, CircomReduction>::generate_random_parameters_with_reduction(circuit, &mut rng)?
        }
    };
    tracing::warn!(
        target: "jejak::zk",
        depth,
        seed,
        "generated an INSECURE development key: anyone who knows the seed can forge proofs"
    );
    let info = KeyInfo::for_shape(&shape, reduction, KeyOrigin::InsecureDevSetup { seed: seed.to_owned() });
    Ok(ProvingKeyFile { info, key })
}
