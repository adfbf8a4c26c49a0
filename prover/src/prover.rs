//! Groth16 proving with cached constraint matrices.
//!
//! A [`Prover`] holds the proving key, its queries laid out for [`crate::msm`], and the circuit's
//! matrices ([`CircuitShape`], synthesised once per depth). Each proof only generates the witness
//! (a synthesis that builds no matrices), runs the QAP witness map, then the five multi-scalar
//! multiplications (the G2 one, batch-affine, beside the four G1 ones), all on both cores. A
//! prover that stays resident ([`Prover::with_tables`], the node's) keeps every base with its
//! window multiples and sums all five batch-affine, which makes each proof about a third faster for a second or two of set-up and
//! about 50 MB of memory at depth 20 (see [`crate::msm`]). The proof is exactly the one arkworks'
//! `create_proof_with_reduction_and_matrices` makes from the same randomness (tested).

use std::{path::Path, sync::Arc};

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Projective, g1, g2};
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::{PrimeField, Zero};
use ark_groth16::{
    Proof,
    r1cs_to_qap::{LibsnarkReduction, R1CSToQAP},
};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_std::{
    UniformRand,
    rand::{CryptoRng, Rng},
};
use jejak_zk_circuits::{MerklePath, PublicInputs, Requirement, Statement, Witness, WorkerRecord, build_statement};
use rayon::prelude::*;

use crate::{
    Error, Result,
    keys::{KeyInfo, ProvingKeyFile, Reduction, VerifyingKeyFile},
    msm::Bases,
    qap::CircomReduction,
    shape::CircuitShape,
};

/// A proving key ready to prove, with its circuit's matrices.
#[derive(Debug)]
pub struct Prover {
    file: ProvingKeyFile,
    shape: Arc<CircuitShape>,
    bases: KeyBases,
}

/// The proving key's queries laid out for the batch-affine MSM: the G2 query always, the G1
/// queries with window tables only (untabled, arkworks' MSM on the key itself is as fast at
/// depth 20 and faster at depth 32).
#[derive(Debug)]
struct KeyBases {
    g1: Option<G1Tables>,
    b_g2: Bases<g2::Config>,
}

#[derive(Debug)]
struct G1Tables {
    a: Bases<g1::Config>,
    b_g1: Bases<g1::Config>,
    l: Bases<g1::Config>,
    h: Bases<g1::Config>,
}

impl KeyBases {
    fn new(pk: &ark_groth16::ProvingKey<Bn254>, tables: bool) -> Self {
        if !tables {
            return Self { g1: None, b_g2: Bases::new(&pk.b_g2_query) };
        }
        let g1 = G1Tables {
            a: Bases::with_tables(&pk.a_query),
            b_g1: Bases::with_tables(&pk.b_g1_query),
            l: Bases::with_tables(&pk.l_query),
            h: Bases::with_tables(&pk.h_query),
        };
        Self { g1: Some(g1), b_g2: Bases::with_tables(&pk.b_g2_query) }
    }

    /// `Σ scalars[i]·query[i]` for one of the G1 queries (`pick` names it in both layouts).
    fn g1_msm(
        &self,
        pick: impl Fn(&G1Tables) -> &Bases<g1::Config>,
        query: &[G1Affine],
        scalars: &[<Fr as PrimeField>::BigInt],
    ) -> G1Projective {
        match &self.g1 {
            Some(tables) => pick(tables).msm(scalars),
            None => G1Projective::msm_bigint(query, scalars),
        }
    }
}

impl Prover {
    /// Checks that `file` is a key for the circuit at its depth and caches the matrices: for a
    /// key used for a proof or a few.
    pub fn new(file: ProvingKeyFile) -> Result<Self> {
        Self::prepare(file, false)
    }

    /// As [`Prover::new`], and lays out every base with its window multiples: for a prover that
    /// stays resident and proves many times (a few seconds of set-up, each proof faster).
    pub fn with_tables(file: ProvingKeyFile) -> Result<Self> {
        Self::prepare(file, true)
    }

    fn prepare(file: ProvingKeyFile, tables: bool) -> Result<Self> {
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
        let bases = KeyBases::new(pk, tables);
        Ok(Self { file, shape, bases })
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
        self.prove_assignment(&z, r, s)
    }

    /// The proof for a full assignment with zero-knowledge randomness `r` and `s` (Groth16's
    /// prover, as arkworks computes it).
    pub fn prove_assignment(&self, z: &[Fr], r: Fr, s: Fr) -> Result<Proof<Bn254>> {
        type D = GeneralEvaluationDomain<Fr>;
        let (m, n_inputs, n_constraints) =
            (&self.shape.matrices[..], self.shape.num_instance, self.shape.num_constraints);
        let quotient = || -> Result<Vec<_>> {
            let h = match self.file.info.reduction {
                Reduction::Libsnark => {
                    LibsnarkReduction::witness_map_from_matrices::<Fr, D>(m, n_inputs, n_constraints, z)?
                }
                Reduction::Circom => {
                    CircomReduction::witness_map_from_matrices::<Fr, D>(m, n_inputs, n_constraints, z)?
                }
            };
            Ok(h.par_iter().map(|x| x.into_bigint()).collect())
        };
        let z_big: Vec<_> = z.par_iter().map(|x| x.into_bigint()).collect();
        let aux = &z_big[n_inputs..];
        let pk = &self.file.key;
        let kb = &self.bases;
        // The quotient (FFTs, then the H query) runs beside the MSMs that need only the
        // assignment; the G2 one, the largest, beside the G1 ones; each also splits over the cores.
        let (h_acc, (b_g2, (a, b_g1, l))) = rayon::join(
            || quotient().map(|h_big| kb.g1_msm(|t| &t.h, &pk.h_query, &h_big)),
            || {
                rayon::join(
                    || kb.b_g2.msm(&z_big),
                    || {
                        let (a, b_g1) = rayon::join(
                            || kb.g1_msm(|t| &t.a, &pk.a_query, &z_big),
                            || {
                                if r.is_zero() {
                                    G1Projective::zero()
                                } else {
                                    kb.g1_msm(|t| &t.b_g1, &pk.b_g1_query, &z_big)
                                }
                            },
                        );
                        (a, b_g1, kb.g1_msm(|t| &t.l, &pk.l_query, aux))
                    },
                )
            },
        );
        let h_acc = h_acc?;
        let g_a = a + pk.vk.alpha_g1 + pk.delta_g1 * r;
        let g_b: G2Projective = b_g2 + pk.vk.beta_g2 + pk.vk.delta_g2 * s;
        let g1_b = if r.is_zero() { G1Projective::zero() } else { b_g1 + pk.beta_g1 + pk.delta_g1 * s };
        let g_c = g_a * s + g1_b * r - pk.delta_g1 * (r * s) + l + h_acc;
        Ok(Proof { a: g_a.into_affine(), b: g_b.into_affine(), c: g_c.into_affine() })
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
