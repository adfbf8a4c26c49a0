//! The circuit's constraint matrices, computed once per depth and cached, and witness
//! assignments generated without rebuilding them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use ark_ff::{BigInteger, PrimeField};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, Matrix, OptimizationGoal, R1CS_PREDICATE_LABEL, SynthesisMode,
};
use jejak_zk_circuits::{Fr, PublicInputs, ReputationCircuit, Witness};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// [`CircuitShape::digest`] of the circuit at [`jejak_zk_circuits::DEFAULT_DEPTH`], hex: keys
/// made for another circuit say so (`jejak --version` names it; a test keeps it true).
pub const DEFAULT_CIRCUIT_SHA256: &str = "af90036f6c7486052af27980c9a852fc46c3471d6ceec7670fa5bf21029775b7";

/// The R1CS of the reputation circuit at one depth.
#[derive(Debug)]
pub struct CircuitShape {
    /// Tree depth.
    pub depth: usize,
    /// Instance variables, the constant 1 included (7).
    pub num_instance: usize,
    /// Witness variables.
    pub num_witness: usize,
    /// Constraints.
    pub num_constraints: usize,
    /// A, B and C, one row per constraint, `(coefficient, variable index)` with instance
    /// variables first (index 0 is the constant 1).
    pub matrices: [Matrix<Fr>; 3],
    /// SHA-256 of the matrices and sizes: what a key records as its circuit.
    pub digest: [u8; 32],
}

impl CircuitShape {
    /// Synthesises the circuit at `depth` in setup mode.
    pub fn compute(depth: usize) -> Result<Self> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        ReputationCircuit::setup(depth)?.generate_constraints(cs.clone())?;
        cs.finalize();
        let mut all = cs.to_matrices()?;
        let r1cs =
            all.remove(R1CS_PREDICATE_LABEL).ok_or_else(|| Error::CircuitMismatch("no R1CS predicate".into()))?;
        let [a, b, c]: [Matrix<Fr>; 3] =
            r1cs.try_into().map_err(|_| Error::CircuitMismatch("R1CS has three matrices".into()))?;
        let mut shape = Self {
            depth,
            num_instance: cs.num_instance_variables(),
            num_witness: cs.num_witness_variables(),
            num_constraints: cs.num_constraints(),
            matrices: [a, b, c],
            digest: [0; 32],
        };
        shape.digest = shape.compute_digest();
        Ok(shape)
    }

    /// The shape at `depth`, computed on first use and shared afterwards.
    pub fn get(depth: usize) -> Result<Arc<Self>> {
        static CACHE: OnceLock<Mutex<HashMap<usize, Arc<CircuitShape>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(shape) = cache.lock().expect("shape cache").get(&depth) {
            return Ok(shape.clone());
        }
        let shape = Arc::new(Self::compute(depth)?);
        cache.lock().expect("shape cache").insert(depth, shape.clone());
        Ok(shape)
    }

    /// All variables: instance (with the constant) and witness.
    pub fn num_variables(&self) -> usize {
        self.num_instance + self.num_witness
    }

    /// Public inputs (without the constant 1).
    pub fn num_public(&self) -> usize {
        self.num_instance - 1
    }

    /// Hex of [`Self::digest`].
    pub fn digest_hex(&self) -> String {
        hex::encode(self.digest)
    }

    fn compute_digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"jejak-reputation-r1cs/v1");
        for n in [self.depth, self.num_instance, self.num_witness, self.num_constraints] {
            h.update((n as u64).to_le_bytes());
        }
        for m in &self.matrices {
            for row in m {
                h.update((row.len() as u32).to_le_bytes());
                for (coeff, index) in row {
                    h.update((*index as u32).to_le_bytes());
                    h.update(coeff.into_bigint().to_bytes_le());
                }
            }
        }
        h.finalize().into()
    }

    /// The full assignment `[1, public inputs, witness variables]` for this statement, from a
    /// synthesis that builds no matrices.
    pub fn assignment(&self, public: &PublicInputs, witness: &Witness) -> Result<Vec<Fr>> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Prove { construct_matrices: false, generate_lc_assignments: false });
        ReputationCircuit::new(self.depth, *public, witness.clone())?.generate_constraints(cs.clone())?;
        let inner = cs.borrow().ok_or_else(|| Error::CircuitMismatch("constraint system vanished".into()))?;
        let instance = inner.instance_assignment()?;
        let witness = inner.witness_assignment()?;
        if instance.len() != self.num_instance || witness.len() != self.num_witness {
            return Err(Error::CircuitMismatch(format!(
                "assignment has {} + {} variables, the circuit {} + {}",
                instance.len(),
                witness.len(),
                self.num_instance,
                self.num_witness
            )));
        }
        Ok([instance, witness].concat())
    }

    /// Whether `z` satisfies every constraint `<A_i, z> * <B_i, z> = <C_i, z>`.
    pub fn is_satisfied(&self, z: &[Fr]) -> bool {
        let eval = |row: &[(Fr, usize)]| row.iter().map(|(c, i)| *c * z[*i]).sum::<Fr>();
        z.len() == self.num_variables()
            && (0..self.num_constraints)
                .into_par_iter()
                .all(|i| eval(&self.matrices[0][i]) * eval(&self.matrices[1][i]) == eval(&self.matrices[2][i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_digest_is_the_circuit_at_the_default_depth() {
        let shape = CircuitShape::compute(jejak_zk_circuits::DEFAULT_DEPTH).unwrap();
        assert_eq!(shape.digest_hex(), DEFAULT_CIRCUIT_SHA256, "the circuit changed: update the pinned digest");
    }
}
