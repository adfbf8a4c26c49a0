//! Native Groth16 verification: one proof, or a batch folded into one pairing check by a random
//! linear combination.
//!
//! A batch of n proofs under one key checks `Π e(ρ_i·A_i, B_i) · e(Σ ρ_i·X_i, -γ) · e(Σ ρ_i·C_i,
//! -δ) · e(-(Σ ρ_i)·α, β) = 1` with fresh random 128-bit `ρ_i`: n + 3 Miller loops and one final
//! exponentiation instead of n of each. If any proof is invalid the product is 1 with probability
//! about 2^-128; a false batch says only that some proof is bad, so callers that need to know which
//! fall back to [`Verifier::verify`].

use std::collections::HashSet;

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::{
    AffineRepr, CurveGroup, VariableBaseMSM,
    pairing::{MillerLoopOutput, Pairing},
};
use ark_ff::{One, PrimeField, Zero};
use ark_groth16::{PreparedVerifyingKey, Proof, VerifyingKey, prepare_verifying_key};
use ark_std::rand::{CryptoRng, Rng};
use jejak_zk_circuits::{NUM_PUBLIC_INPUTS, PublicInputs, Statement, fr_to_decimal};
use rayon::prelude::*;

use crate::{Error, Result};

type G2Prepared = <Bn254 as Pairing>::G2Prepared;

/// A verifying key prepared for repeated use.
#[derive(Clone, Debug)]
pub struct Verifier {
    pvk: PreparedVerifyingKey<Bn254>,
    beta_prepared: G2Prepared,
}

impl Verifier {
    /// Prepares `vk` (one pairing and the G2 line coefficients, done once).
    pub fn new(vk: &VerifyingKey<Bn254>) -> Result<Self> {
        if vk.gamma_abc_g1.len() != NUM_PUBLIC_INPUTS + 1 {
            return Err(Error::CircuitMismatch(format!(
                "verifying key has {} IC points, the circuit needs {}",
                vk.gamma_abc_g1.len(),
                NUM_PUBLIC_INPUTS + 1
            )));
        }
        Ok(Self { pvk: prepare_verifying_key(vk), beta_prepared: vk.beta_g2.into() })
    }

    /// The verifying key.
    pub fn key(&self) -> &VerifyingKey<Bn254> {
        &self.pvk.vk
    }

    /// Whether `proof` proves the statement with these public inputs. Errors only for a proof
    /// whose points are not valid curve points (which no prover makes).
    ///
    /// `e(A, B) · e(X, -γ) · e(C, -δ) = e(α, β)` as arkworks checks it, on both cores: the
    /// proof's G2 point (its subgroup check, its line coefficients and its Miller loop) on one,
    /// the public inputs' sum and the other two Miller loops on the other; the final
    /// exponentiation after both.
    pub fn verify(&self, proof: &Proof<Bn254>, public: &PublicInputs) -> Result<bool> {
        let (ab, rest) = rayon::join(
            || -> Result<_> {
                check_g2(&proof.b)?;
                Ok(Bn254::multi_miller_loop([proof.a], [proof.b]))
            },
            || -> Result<_> {
                check_g1(&proof.a)?;
                check_g1(&proof.c)?;
                let x = G1Projective::msm(&self.pvk.vk.gamma_abc_g1[1..], &public.to_array()).expect("lengths match")
                    + self.pvk.vk.gamma_abc_g1[0];
                Ok(Bn254::multi_miller_loop(
                    [x.into_affine(), proof.c],
                    [self.pvk.gamma_g2_neg_pc.clone(), self.pvk.delta_g2_neg_pc.clone()],
                ))
            },
        );
        let ml = MillerLoopOutput(ab?.0 * rest?.0);
        Ok(Bn254::final_exponentiation(ml).is_some_and(|gt| gt.0 == self.pvk.alpha_g1_beta_g2))
    }

    /// Whether every proof in `batch` is valid, in one randomised pairing check. `rng` must be
    /// unpredictable to whoever made the proofs (use `rand::rngs::OsRng`).
    pub fn verify_batch<R: Rng + CryptoRng>(
        &self,
        batch: &[(Proof<Bn254>, PublicInputs)],
        rng: &mut R,
    ) -> Result<bool> {
        match batch {
            [] => return Ok(true),
            [(proof, public)] => return self.verify(proof, public),
            _ => {}
        }
        batch.par_iter().try_for_each(|(proof, _)| check_points(proof))?;
        let rho: Vec<Fr> = (0..batch.len()).map(|_| Fr::from(rng.r#gen::<u128>() | 1)).collect();
        let rho_sum: Fr = rho.iter().sum();

        // Σ ρ_i X_i = (Σ ρ_i) IC_0 + Σ_j (Σ_i ρ_i x_ij) IC_j.
        let mut ic_scalars = vec![Fr::zero(); NUM_PUBLIC_INPUTS + 1];
        ic_scalars[0] = rho_sum;
        for ((_, public), r) in batch.iter().zip(&rho) {
            for (s, x) in ic_scalars[1..].iter_mut().zip(public.to_array()) {
                *s += *r * x;
            }
        }
        let (x_sum, (c_sum, scaled_a)) = rayon::join(
            || G1Projective::msm(&self.pvk.vk.gamma_abc_g1, &ic_scalars).expect("lengths match"),
            || {
                rayon::join(
                    || {
                        let cs: Vec<G1Affine> = batch.iter().map(|(p, _)| p.c).collect();
                        G1Projective::msm(&cs, &rho).expect("lengths match")
                    },
                    || {
                        let a: Vec<G1Projective> =
                            batch.par_iter().zip(&rho).map(|((p, _), r)| p.a.mul_bigint(r.into_bigint())).collect();
                        G1Projective::normalize_batch(&a)
                    },
                )
            },
        );
        let alpha = (self.pvk.vk.alpha_g1 * -rho_sum).into_affine();
        let b_prepared: Vec<G2Prepared> = batch.par_iter().map(|(p, _)| p.b.into()).collect();

        let g1: Vec<<Bn254 as Pairing>::G1Prepared> =
            scaled_a.into_iter().chain([x_sum.into_affine(), c_sum.into_affine(), alpha]).map(Into::into).collect();
        let g2 = b_prepared.into_iter().chain([
            self.pvk.gamma_g2_neg_pc.clone(),
            self.pvk.delta_g2_neg_pc.clone(),
            self.beta_prepared.clone(),
        ]);
        let ml = Bn254::multi_miller_loop(g1, g2);
        Ok(Bn254::final_exponentiation(ml).is_some_and(|gt| gt.0.is_one()))
    }
}

/// Proof points must be on the curve and in the prime-order subgroup.
pub(crate) fn check_points(proof: &Proof<Bn254>) -> Result<()> {
    check_g1(&proof.a)?;
    check_g2(&proof.b)?;
    check_g1(&proof.c)
}

fn check_g1(p: &G1Affine) -> Result<()> {
    if p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve() { Ok(()) } else { Err(invalid_point()) }
}

fn check_g2(p: &G2Affine) -> Result<()> {
    if p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve() { Ok(()) } else { Err(invalid_point()) }
}

fn invalid_point() -> Error {
    Error::Serialization(ark_serialize::SerializationError::InvalidData)
}

/// Why a proof was refused: the native counterparts of `JejakProofVerifier`'s errors.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The root is not an accepted root of the epoch (unknown, or expired).
    #[error("root is not accepted for epoch {epoch}")]
    RootNotAccepted {
        /// The claimed epoch.
        epoch: u64,
    },
    /// The statement is for another verifier's (or context's) scope.
    #[error("the proof is for another scope")]
    WrongScope,
    /// The nullifier was consumed before.
    #[error("nullifier {nullifier} already used")]
    NullifierAlreadyUsed {
        /// The nullifier, decimal.
        nullifier: String,
    },
    /// The proof does not prove the statement (or is malformed, or its epoch cannot be packed).
    #[error("invalid proof")]
    InvalidProof,
}

/// One verifier's gate, natively: its scope, the roots it accepts (asked per proof) and the
/// nullifiers it consumed, the way `JejakProofVerifier` does on chain. Holds nullifiers in memory;
/// a service keeps them in its database and calls [`ProofGate::check`] with what it knows.
#[derive(Debug)]
pub struct ProofGate {
    verifier: Verifier,
    scope: Fr,
    used: HashSet<Fr>,
}

impl ProofGate {
    /// A gate for proofs bound to `scope` (see `jejak_zk_circuits::scope`).
    pub fn new(verifier: Verifier, scope: Fr) -> Self {
        Self { verifier, scope, used: HashSet::new() }
    }

    /// Checks without consuming; `root_accepted(epoch, root)` asks the chain (or a cache of it).
    pub fn check(
        &self,
        proof: &Proof<Bn254>,
        statement: &Statement,
        root_accepted: impl FnOnce(u64, Fr) -> bool,
    ) -> Result<(), Rejection> {
        if self.used.contains(&statement.nullifier) {
            return Err(Rejection::NullifierAlreadyUsed { nullifier: fr_to_decimal(&statement.nullifier) });
        }
        if !root_accepted(statement.epoch, statement.root) {
            return Err(Rejection::RootNotAccepted { epoch: statement.epoch });
        }
        if statement.scope != self.scope {
            return Err(Rejection::WrongScope);
        }
        let public = statement.public_inputs().map_err(|_| Rejection::InvalidProof)?;
        match self.verifier.verify(proof, &public) {
            Ok(true) => Ok(()),
            _ => Err(Rejection::InvalidProof),
        }
    }

    /// Checks and consumes the nullifier.
    pub fn consume(
        &mut self,
        proof: &Proof<Bn254>,
        statement: &Statement,
        root_accepted: impl FnOnce(u64, Fr) -> bool,
    ) -> Result<(), Rejection> {
        self.check(proof, statement, root_accepted)?;
        self.used.insert(statement.nullifier);
        Ok(())
    }

    /// Whether `nullifier` was consumed.
    pub fn is_used(&self, nullifier: &Fr) -> bool {
        self.used.contains(nullifier)
    }
}
