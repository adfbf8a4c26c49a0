//! Groth16 proving with cached constraint matrices.
//!
//! A [`Prover`] holds the proving key and the circuit's matrices ([`CircuitShape`], synthesised
//! once per depth). Each proof only generates the witness (a synthesis that builds no matrices),
//! then runs the QAP witness map and the multi-scalar multiplications, all parallel over rayon's
//! pool (both cores).

use std::{path::Path, sync::Arc};

use ark_bn254::{Bn254, Fr};
use ark_groth16::{Groth16, Proof, r1cs_to_qap::LibsnarkReduction};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_std::{
    UniformRand,
    rand::{CryptoRng, Rng},
};
use jejak_zk_circuits::{MerklePath, PublicInputs, Requirement, Statement, Witness, WorkerRecord, build_statement};

use crate::{
    Error, Result,
    keys::{KeyInfo, ProvingKeyFile, Reduction, VerifyingKeyFile},
    qap::CircomReduction,
    shape::CircuitShape,
};

/// A proving key ready to prove, with its circuit's matrices.
#[derive(Debug)]
pub struct Prover {
    file: ProvingKeyFile,
    shape: Arc<CircuitShape>,
}

impl Prover {
    /// Checks that `file` is a key for the circuit at its depth and caches the matrices.
    pub fn new(file: ProvingKeyFile) -> Result<Self> {
        let shape = CircuitShape::get(file.info.depth)?;
        file.info.check_shape(&shape)?;
        let pk = &file.key;
        let domain = GeneralEvaluationDomain::<Fr>::new(shape.num_constraints + shape.num_instance)
            .ok_or_else(|| Error::CircuitMismatch("domain too large".into()))?;
        let sizes_ok = pk.a_query.len() == shape.num_variables()
            && pk.b_g1_query.len() == shape.num_variables()
            && pk.b_g2_query.len() == shape.num_variables()
            && pk.l_query.len() == shape.num_witness
            && pk.vk.gamma_abc_g1.len() == shape.num_instance
            && pk.h_query.len() + 1 >= domain.size();
        if !sizes_ok {
            return Err(Error::CircuitMismatch("proving key sizes do not match the circuit".into()));
        }
        if file.info.origin.is_insecure() {
            tracing::warn!(target: "jejak::zk", depth = shape.depth, "proving with an INSECURE development key");
        }
        Ok(Self { file, shape })
    }

    /// Reads a proving key file and prepares it.
    pub fn load(path: &Path) -> Result<Self> {
        Self::new(ProvingKeyFile::read(path)?)
    }

    /// The key's header.
    pub fn info(&self) -> &KeyInfo {
        &self.file.info
    }

    /// The tree depth this prover's circuit takes.
    pub fn depth(&self) -> usize {
        self.shape.depth
    }

    /// The circuit's matrices.
    pub fn shape(&self) -> &CircuitShape {
        &self.shape
    }

    /// The proving key file.
    pub fn key_file(&self) -> &ProvingKeyFile {
        &self.file
    }

    /// The matching verifying key.
    pub fn verifying_key(&self) -> VerifyingKeyFile {
        self.file.verifying_key()
    }

    /// The full circuit assignment for a statement (what a `.wtns` file holds).
    pub fn assignment(&self, public: &PublicInputs, witness: &Witness) -> Result<Vec<Fr>> {
        jejak_zk_circuits::check(public, witness)?;
        self.shape.assignment(public, witness)
    }

    /// Proves the statement with these public inputs. Fails, before any curve arithmetic, with
    /// [`jejak_zk_circuits::Error::Unsatisfied`] naming the broken condition if it does not hold.
    /// `rng` supplies the zero-knowledge randomness and must be secret (use `rand::rngs::OsRng`).
    pub fn prove<R: Rng + CryptoRng>(
        &self,
        public: &PublicInputs,
        witness: &Witness,
        rng: &mut R,
    ) -> Result<Proof<Bn254>> {
        let z = self.assignment(public, witness)?;
        debug_assert!(self.shape.is_satisfied(&z), "the native check and the circuit disagree");
        let (r, s) = (Fr::rand(rng), Fr::rand(rng));
        let (m, n_inputs, n_constraints) =
            (&self.shape.matrices[..], self.shape.num_instance, self.shape.num_constraints);
        let pk = &self.file.key;
        let proof = match self.file.info.reduction {
            Reduction::Libsnark => Groth16::<Bn254, LibsnarkReduction>::create_proof_with_reduction_and_matrices(
                pk,
                r,
                s,
                m,
                n_inputs,
                n_constraints,
                &z,
            )?,
            Reduction::Circom => Groth16::<Bn254, CircomReduction>::create_proof_with_reduction_and_matrices(
                pk,
                r,
                s,
                m,
                n_inputs,
                n_constraints,
                &z,
            )?,
        };
        Ok(proof)
    }

    /// Builds the statement for `record` at `path` meeting `requirement` and proves it.
    pub fn prove_record<R: Rng + CryptoRng>(
        &self,
        record: &WorkerRecord,
        path: &MerklePath,
        requirement: &Requirement,
        rng: &mut R,
    ) -> Result<(Statement, Proof<Bn254>)> {
        let (statement, witness) = build_statement(record, path, requirement)?;
        let proof = self.prove(&statement.public_inputs()?, &witness, rng)?;
        Ok((statement, proof))
    }
}
