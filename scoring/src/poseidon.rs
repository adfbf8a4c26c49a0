//! A faster native circomlib Poseidon for building snapshots, equal to
//! [`jejak_zk_circuits::poseidon::hash`] on every input (tests assert it).
//!
//! An epoch hashes a million six-input leaves and a million pairs. The textbook permutation
//! spends most of its time in the partial rounds, multiplying the whole state by the dense MDS
//! matrix although only one element went through the S-box. This is the standard optimisation
//! from the Poseidon paper (appendix B), the one circomlibjs' `poseidon_opt` uses, with the
//! precomputation done here at first use from the same constants (light-poseidon's, as
//! `jejak-zk-circuits` uses):
//!
//! - round constants of the partial rounds are carried forward through the linear layer, so each
//!   partial round adds one scalar to element 0 and the rest lands on the next full round;
//! - each partial round's MDS matrix `E` is factored as `sparse x diag(1, D)`, the block-diagonal
//!   factor commutes with the one-element S-box and is pushed back into the previous round, so a
//!   partial round costs `2t - 1` multiplications instead of `t^2`.
//!
//! Nothing changes in what is computed; only the order of the same linear operations.

use std::sync::OnceLock;

use ark_ff::{AdditiveGroup, Field};
use jejak_zk_circuits::Fr;

/// Largest number of inputs supported (the leaf has six).
pub const MAX_INPUTS: usize = 6;

#[derive(Debug)]
struct Optimised {
    t: usize,
    half_full: usize,
    partial: usize,
    /// Constants of the first half of the full rounds, round-major.
    first_constants: Vec<Fr>,
    /// The dense matrix of the last first-half round, with the first pushed factor folded in.
    first_last_mds: Vec<Fr>,
    /// One scalar per partial round, added to element 0.
    partial_constants: Vec<Fr>,
    /// Per partial round `[a, w_1..w_{t-1}, v_1..v_{t-1}]`: out0 = a s0 + sum w_j s_j,
    /// out_i = v_i s0 + s_i.
    sparse: Vec<Fr>,
    /// Constants of the second half of the full rounds (the first absorbs the carried ones).
    last_constants: Vec<Fr>,
    /// The MDS matrix, row-major.
    mds: Vec<Fr>,
}

type Mat = Vec<Vec<Fr>>;

fn mat_mul(a: &Mat, b: &Mat) -> Mat {
    let n = a.len();
    (0..n).map(|i| (0..n).map(|j| (0..n).map(|k| a[i][k] * b[k][j]).sum()).collect()).collect()
}

fn mat_vec(a: &Mat, v: &[Fr]) -> Vec<Fr> {
    a.iter().map(|row| row.iter().zip(v).map(|(m, x)| *m * x).sum()).collect()
}

/// Gauss-Jordan inverse; MDS submatrices are invertible by construction.
fn invert(m: &Mat) -> Mat {
    let n = m.len();
    let mut a: Mat = m.clone();
    let mut inv: Mat = (0..n).map(|i| (0..n).map(|j| if i == j { Fr::ONE } else { Fr::ZERO }).collect()).collect();
    for col in 0..n {
        let pivot = (col..n).find(|&r| a[r][col] != Fr::ZERO).expect("MDS submatrices are invertible");
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let p_inv = a[col][col].inverse().expect("non-zero pivot");
        for j in 0..n {
            a[col][j] *= p_inv;
            inv[col][j] *= p_inv;
        }
        for r in 0..n {
            if r != col && a[r][col] != Fr::ZERO {
                let f = a[r][col];
                for j in 0..n {
                    let (x, y) = (a[col][j], inv[col][j]);
                    a[r][j] -= f * x;
                    inv[r][j] -= f * y;
                }
            }
        }
    }
    inv
}

impl Optimised {
    fn new(n_inputs: usize) -> Self {
        let t = n_inputs + 1;
        let p = light_poseidon::parameters::bn254_x5::get_poseidon_parameters::<Fr>(t as u8)
            .expect("light-poseidon has parameters for widths 2..=13");
        let (half_full, partial) = (p.full_rounds / 2, p.partial_rounds);
        let m: Mat = p.mds.clone();
        let c = |round: usize| -> Vec<Fr> { p.ark[round * t..(round + 1) * t].to_vec() };

        // Constants: carry everything but element 0 of each partial round forward.
        let mut carry = vec![Fr::ZERO; t];
        let mut partial_constants = Vec::with_capacity(partial);
        for r in 0..partial {
            let mut cr: Vec<Fr> = c(half_full + r).iter().zip(&carry).map(|(a, b)| *a + b).collect();
            partial_constants.push(cr[0]);
            cr[0] = Fr::ZERO;
            carry = mat_vec(&m, &cr);
        }
        let mut last_constants = Vec::with_capacity(half_full * t);
        for r in 0..half_full {
            let round = half_full + partial + r;
            let cr = c(round);
            if r == 0 {
                last_constants.extend(cr.iter().zip(&carry).map(|(a, b)| *a + b));
            } else {
                last_constants.extend(cr);
            }
        }

        // Matrices: factor each partial round's effective matrix, from the last one back.
        let mut pushed: Option<Mat> = None;
        let mut sparse_rev: Vec<Vec<Fr>> = Vec::with_capacity(partial);
        for _ in 0..partial {
            let e = match &pushed {
                None => m.clone(),
                Some(pm) => mat_mul(pm, &m),
            };
            let d: Mat = (1..t).map(|i| e[i][1..].to_vec()).collect();
            let d_inv = invert(&d);
            let b: Vec<Fr> = e[0][1..].to_vec();
            // w^T = b^T D^-1
            let w: Vec<Fr> = (0..t - 1).map(|j| (0..t - 1).map(|k| b[k] * d_inv[k][j]).sum()).collect();
            let mut row = vec![e[0][0]];
            row.extend(w);
            row.extend((1..t).map(|i| e[i][0]));
            sparse_rev.push(row);
            let mut block: Mat = vec![vec![Fr::ZERO; t]; t];
            block[0][0] = Fr::ONE;
            for i in 1..t {
                for j in 1..t {
                    block[i][j] = d[i - 1][j - 1];
                }
            }
            pushed = Some(block);
        }
        let first_last = match &pushed {
            None => m.clone(),
            Some(pm) => mat_mul(pm, &m),
        };
        Self {
            t,
            half_full,
            partial,
            first_constants: p.ark[..half_full * t].to_vec(),
            first_last_mds: first_last.into_iter().flatten().collect(),
            partial_constants,
            sparse: sparse_rev.into_iter().rev().flatten().collect(),
            last_constants,
            mds: m.into_iter().flatten().collect(),
        }
    }

    #[inline(always)]
    fn full_round(&self, state: &mut [Fr; MAX_INPUTS + 1], constants: &[Fr], mds: &[Fr]) {
        let t = self.t;
        for (s, c) in state[..t].iter_mut().zip(constants) {
            *s += c;
            *s = sbox(*s);
        }
        let mut next = [Fr::ZERO; MAX_INPUTS + 1];
        for (i, out) in next[..t].iter_mut().enumerate() {
            *out = mds[i * t..(i + 1) * t].iter().zip(&state[..t]).map(|(m, s)| *m * s).sum();
        }
        state[..t].copy_from_slice(&next[..t]);
    }

    fn hash(&self, inputs: &[Fr]) -> Fr {
        let t = self.t;
        let mut state = [Fr::ZERO; MAX_INPUTS + 1];
        state[1..t].copy_from_slice(inputs);
        for r in 0..self.half_full {
            let mds = if r + 1 == self.half_full { &self.first_last_mds } else { &self.mds };
            self.full_round(&mut state, &self.first_constants[r * t..(r + 1) * t], mds);
        }
        let width = 2 * t - 1;
        for r in 0..self.partial {
            state[0] += self.partial_constants[r];
            state[0] = sbox(state[0]);
            let s = &self.sparse[r * width..(r + 1) * width];
            let s0 = state[0];
            let mut out0 = s[0] * s0;
            for j in 1..t {
                out0 += s[j] * state[j];
            }
            for i in 1..t {
                state[i] += s[t - 1 + i] * s0;
            }
            state[0] = out0;
        }
        for r in 0..self.half_full {
            self.full_round(&mut state, &self.last_constants[r * t..(r + 1) * t], &self.mds);
        }
        state[0]
    }
}

#[inline(always)]
fn sbox(x: Fr) -> Fr {
    let x2 = x.square();
    x2.square() * x
}

static TABLES: [OnceLock<Optimised>; MAX_INPUTS] = [const { OnceLock::new() }; MAX_INPUTS];

/// circomlib's `Poseidon(inputs.len())`, for 1 to [`MAX_INPUTS`] inputs.
///
/// # Panics
/// On 0 or more than [`MAX_INPUTS`] inputs (a programming error here: callers pass fixed arities).
pub fn hash(inputs: &[Fr]) -> Fr {
    assert!((1..=MAX_INPUTS).contains(&inputs.len()), "poseidon arity {}", inputs.len());
    TABLES[inputs.len() - 1].get_or_init(|| Optimised::new(inputs.len())).hash(inputs)
}

/// `Poseidon(left, right)`, the tree's node hash.
#[inline]
pub fn hash_pair(left: Fr, right: Fr) -> Fr {
    hash(&[left, right])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_the_circuit_crates_poseidon() {
        let mut x = Fr::from(7u64);
        for n in 1..=MAX_INPUTS {
            for round in 0..20u64 {
                let inputs: Vec<Fr> = (0..n as u64).map(|i| x + Fr::from(i * 1000 + round)).collect();
                let want = jejak_zk_circuits::poseidon::hash(&inputs);
                assert_eq!(hash(&inputs), want, "{n} inputs, round {round}");
                x = want;
            }
        }
        // circomlib's published vector.
        let v = hash(&[Fr::from(1u64), Fr::from(2u64)]);
        assert_eq!(
            jejak_zk_circuits::fr_to_decimal(&v),
            "7853200120776062878684798364095072458815029376092732009249414926327459813530"
        );
    }
}
