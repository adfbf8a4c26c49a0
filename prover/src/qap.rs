//! The R1CS-to-QAP reduction of circom/snarkjs, for proving keys imported from a snarkjs `.zkey`.
//!
//! arkworks' default ([`ark_groth16::r1cs_to_qap::LibsnarkReduction`]) evaluates the quotient
//! polynomial on a multiplicative coset and expects an H query in powers of τ; snarkjs evaluates
//! `A·B - C` at the odd powers of the 2n-th root of unity (where `X^n - 1 = -2`) and its zkey holds
//! the matching Lagrange points. A proof made with the wrong reduction for a key does not verify.
//! Both reductions share the instance map (the A/B/C query scalars), so keys made here with
//! [`CircomReduction`] have the same layout as snarkjs' and prove with the same witness map.

use ark_ff::{FftField, PrimeField};
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP, evaluate_constraint};
use ark_poly::EvaluationDomain;
use ark_relations::gr1cs::{ConstraintSystemRef, Matrix, SynthesisError};
use rayon::prelude::*;

/// circom/snarkjs' reduction (as in `ark-circom`'s `CircomReduction`, with an H query for setup).
#[derive(Clone, Copy, Debug)]
pub struct CircomReduction;

impl R1CSToQAP for CircomReduction {
    #[allow(clippy::type_complexity)]
    fn instance_map_with_evaluation<F: PrimeField, D: EvaluationDomain<F>>(
        cs: ConstraintSystemRef<F>,
        t: &F,
    ) -> Result<(Vec<F>, Vec<F>, Vec<F>, F, usize, usize), SynthesisError> {
        LibsnarkReduction::instance_map_with_evaluation::<F, D>(cs, t)
    }

    fn witness_map_from_matrices<F: PrimeField, D: EvaluationDomain<F>>(
        matrices: &[Matrix<F>],
        num_inputs: usize,
        num_constraints: usize,
        full_assignment: &[F],
    ) -> Result<Vec<F>, SynthesisError> {
        let domain = D::new(num_constraints + num_inputs).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        let n = domain.size();
        let mut a = vec![F::zero(); n];
        let mut b = vec![F::zero(); n];
        a[..num_constraints]
            .par_iter_mut()
            .zip(&mut b[..num_constraints])
            .zip(&matrices[0])
            .zip(&matrices[1])
            .for_each(|(((a, b), at), bt)| {
                *a = evaluate_constraint(at, full_assignment);
                *b = evaluate_constraint(bt, full_assignment);
            });
        // The input rows `x_i * 0 = 0` that bind the public inputs.
        a[num_constraints..num_constraints + num_inputs].clone_from_slice(&full_assignment[..num_inputs]);
        let mut c = vec![F::zero(); n];
        c[..num_constraints].par_iter_mut().zip(&a).zip(&b).for_each(|((c, a), b)| *c = *a * b);

        let shift = odd_root::<F, D>(n)?;
        for v in [&mut a, &mut b, &mut c] {
            domain.ifft_in_place(v);
            D::distribute_powers_and_mul_by_const(v, shift, F::one());
            domain.fft_in_place(v);
        }
        a.par_iter_mut().zip(&b).zip(&c).for_each(|((a, b), c)| {
            *a *= b;
            *a -= c;
        });
        Ok(a)
    }

    /// `s_i = L_i(τ)·Z(τ) / (δ·Z(x_i))` for the coset points `x_i = g·ω^i` (`g` a primitive
    /// 2n-th root, so `Z(x_i) = -2`): `Σ s_i·(A·B - C)(x_i) = H(τ)·Z(τ)/δ`.
    fn h_query_scalars<F: PrimeField, D: EvaluationDomain<F>>(
        max_power: usize,
        t: F,
        zt: F,
        delta_inverse: F,
    ) -> Result<Vec<F>, SynthesisError> {
        let n = max_power + 1;
        let domain = D::new(n).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        if domain.size() != n {
            return Err(SynthesisError::PolynomialDegreeTooLarge);
        }
        let g = odd_root::<F, D>(n)?;
        let points: Vec<F> = domain.elements().map(|w| g * w).collect();
        let mut denominators: Vec<F> = points.iter().map(|x| t - x).collect();
        ark_ff::batch_inversion(&mut denominators);
        // L_i(τ) = (τ^n + 1)·x_i / (-n·(τ - x_i)); divide by Z(x_i) = -2.
        let n_inv = F::from(n as u64).inverse().ok_or(SynthesisError::DivisionByZero)?;
        let two_inv = F::from(2u64).inverse().ok_or(SynthesisError::DivisionByZero)?;
        let common = (t.pow([n as u64]) + F::one()) * n_inv * two_inv * zt * delta_inverse;
        Ok(points.iter().zip(&denominators).map(|(x, d)| common * x * d).collect())
    }
}

/// A primitive 2n-th root of unity, the shift of snarkjs' odd coset.
fn odd_root<F: FftField, D: EvaluationDomain<F>>(n: usize) -> Result<F, SynthesisError> {
    let double = D::new(2 * n).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
    Ok(double.element(1))
}
