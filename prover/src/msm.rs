//! Multi-scalar multiplication over fixed bases with batch-affine bucket accumulation.
//!
//! Pippenger's bucket method with signed digits, where the bucket sums are kept in affine
//! coordinates and many independent additions share one field inversion (Montgomery's trick):
//! about 6 multiplications per addition against 10 for arkworks' mixed XYZZ additions, which is
//! most of a proof's cost. The bases are the proving key's, laid out once (points at infinity
//! dropped), in one of two ways:
//!
//! - [`Bases::new`]: the bases alone; windows are summed in groups (rayon) and combined by
//!   doublings. Cheap to lay out: for a key used once.
//! - [`Bases::with_tables`]: each base also with its multiples `2^(c·t)·P` for every window `t`,
//!   so that every digit of every window lands in one table of `2^(c-1)` buckets: one bucket
//!   reduction instead of one per window, no doublings, and wider windows (fewer additions per
//!   base). It costs `⌈254/c⌉` points per base in memory and some seconds to lay out: for a
//!   prover that stays resident (the node's).
//!
//! Results equal arkworks' MSM exactly (tested); only the speed differs.

use ark_ec::{
    AffineRepr, CurveGroup,
    short_weierstrass::{Affine, Projective, SWCurveConfig},
};
use ark_ff::{AdditiveGroup, BigInteger, Field, PrimeField, Zero};
use rayon::prelude::*;

/// Additions gathered before one batched inversion, as a fraction of the buckets (few enough that
/// two additions rarely want the same bucket, many enough to amortise the inversion).
const BATCH_DIVISOR: usize = 8;
/// Largest batch.
const MAX_BATCH: usize = 1024;

/// Fixed bases in a layout for [`Bases::msm`]: affine coordinates of the finite points (with
/// their window multiples when tabled) and, for each, its index in the original vector.
#[derive(Clone)]
pub struct Bases<P: SWCurveConfig> {
    /// `points[k * tables + t] = 2^(table_bits · t) · base_k`.
    points: Vec<(P::BaseField, P::BaseField)>,
    index: Vec<u32>,
    /// Multiples kept per base: 1 without tables.
    tables: usize,
    /// Bits per window of the tables (0 without tables).
    table_bits: usize,
}

impl<P: SWCurveConfig> std::fmt::Debug for Bases<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bases")
            .field("bases", &self.index.len())
            .field("tables", &self.tables)
            .field("table_bits", &self.table_bits)
            .finish()
    }
}

type Terms<P> = Vec<(u32, <<P as ark_ec::CurveConfig>::ScalarField as PrimeField>::BigInt)>;

impl<P: SWCurveConfig> Bases<P> {
    /// Lays out `bases`, dropping points at infinity.
    pub fn new(bases: &[Affine<P>]) -> Self {
        let (index, points) =
            bases.iter().enumerate().filter_map(|(i, p)| p.xy().map(|(x, y)| (i as u32, (x, y)))).unzip();
        Self { points, index, tables: 1, table_bits: 0 }
    }

    /// Lays out `bases` with the multiples of each for every window, the window width chosen for
    /// their number (about 13 bits for a few thousand bases).
    pub fn with_tables(bases: &[Affine<P>]) -> Self {
        let finite: Vec<(u32, Affine<P>)> =
            bases.iter().enumerate().filter(|(_, p)| !p.is_zero()).map(|(i, p)| (i as u32, *p)).collect();
        let c = table_bits(finite.len(), rayon::current_num_threads());
        let tables = table_windows(P::ScalarField::MODULUS_BIT_SIZE as usize, c);
        let multiples: Vec<Projective<P>> = finite
            .par_iter()
            .flat_map_iter(|(_, p)| {
                let mut q = p.into_group();
                (0..tables).map(move |_| {
                    let here = q;
                    for _ in 0..c {
                        q.double_in_place();
                    }
                    here
                })
            })
            .collect();
        let affine = Projective::normalize_batch(&multiples);
        let points = affine.iter().map(|p| p.xy().expect("a multiple of a finite point of prime order")).collect();
        Self { points, index: finite.iter().map(|(i, _)| *i).collect(), tables, table_bits: c }
    }

    /// `Σ scalars[i] · bases[i]` over the original indices (missing scalars count as zero).
    pub fn msm(&self, scalars: &[<P::ScalarField as PrimeField>::BigInt]) -> Projective<P> {
        let terms: Terms<P> = self
            .index
            .iter()
            .enumerate()
            .filter_map(|(k, &i)| scalars.get(i as usize).filter(|s| !s.is_zero()).map(|s| (k as u32, *s)))
            .collect();
        if terms.is_empty() {
            return Projective::zero();
        }
        if self.tables > 1 {
            return self.tabled_msm(&terms);
        }
        let c = window_bits(terms.len());
        let bits = P::ScalarField::MODULUS_BIT_SIZE as usize;
        let windows = bits.div_ceil(c) + 1;
        let digits = signed_digits::<P::ScalarField>(&terms, c, windows);
        // Windows are summed in groups: the buckets of a group's windows form one table, so a
        // batch rarely meets the same bucket twice and can be large enough to amortise its
        // inversion. Several groups per thread keep both cores busy to the end.
        let groups = (2 * rayon::current_num_threads()).clamp(1, windows);
        let per_group = windows.div_ceil(groups);
        let sums: Vec<Projective<P>> = (0..windows)
            .step_by(per_group)
            .collect::<Vec<_>>()
            .into_par_iter()
            .flat_map_iter(|first| {
                let ws = first..(first + per_group).min(windows);
                self.group_sums(&terms, &digits, ws, c)
            })
            .collect();
        sums.into_iter().rev().fold(Projective::zero(), |mut acc, s| {
            for _ in 0..c {
                acc.double_in_place();
            }
            acc + s
        })
    }

    /// With tables: every window's digits into one set of buckets, one set per thread.
    fn tabled_msm(&self, terms: &Terms<P>) -> Projective<P> {
        let (c, windows) = (self.table_bits, self.tables);
        let digits = signed_digits::<P::ScalarField>(terms, c, windows);
        let n = terms.len();
        let chunk = n.div_ceil(rayon::current_num_threads().max(1));
        let per_window = 1usize << (c - 1);
        (0..n)
            .step_by(chunk)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|first| {
                let mut buckets = Buckets::<P>::new(per_window);
                let mut todo: Vec<(u32, u32, bool)> = Vec::with_capacity(chunk * windows);
                for (j, (k, _)) in terms.iter().enumerate().skip(first).take(chunk) {
                    for w in 0..windows {
                        let d = digits[w * n + j];
                        if d != 0 {
                            todo.push((d.unsigned_abs() - 1, *k * windows as u32 + w as u32, d < 0));
                        }
                    }
                }
                while !todo.is_empty() {
                    todo = buckets.accumulate(&self.points, &todo);
                }
                buckets.sums(per_window).into_iter().sum::<Projective<P>>()
            })
            .sum()
    }

    /// `Σ_k k · bucket_k` for each window in `ws`.
    fn group_sums(
        &self,
        terms: &[(u32, <P::ScalarField as PrimeField>::BigInt)],
        digits: &[i32],
        ws: std::ops::Range<usize>,
        c: usize,
    ) -> Vec<Projective<P>> {
        let n = terms.len();
        let per_window = 1usize << (c - 1);
        let mut buckets = Buckets::<P>::new(per_window * ws.len());
        let mut todo: Vec<(u32, u32, bool)> = Vec::with_capacity(n * ws.len());
        for (j, (k, _)) in terms.iter().enumerate() {
            for (slot, w) in ws.clone().enumerate() {
                let d = digits[w * n + j];
                if d != 0 {
                    todo.push(((slot * per_window) as u32 + d.unsigned_abs() - 1, *k, d < 0));
                }
            }
        }
        while !todo.is_empty() {
            todo = buckets.accumulate(&self.points, &todo);
        }
        buckets.sums(per_window)
    }
}

/// Bits per window for `n` terms.
fn window_bits(n: usize) -> usize {
    match n {
        0..=32 => 4,
        33..=256 => 6,
        257..=2048 => 8,
        2049..=32768 => 10,
        _ => 13,
    }
}

/// Bits per window with tables for `n` bases summed in `chunks` parts: the width that minimises
/// bucket additions (`n` per window) plus bucket reductions (two per bucket, per part).
fn table_bits(n: usize, chunks: usize) -> usize {
    let cost = |c: usize| n * table_windows(254, c) + chunks.max(1) * (1 << c);
    (4..=16).min_by_key(|&c| cost(c)).unwrap_or(8)
}

/// Windows of `c` bits for scalars of `bits` bits in signed digits: the top window must absorb
/// the last carry.
fn table_windows(bits: usize, c: usize) -> usize {
    if bits.is_multiple_of(c) { bits / c + 1 } else { bits.div_ceil(c) }
}

/// Signed base-2^c digits in `[-2^(c-1), 2^(c-1)]`, window-major: `digits[w * n + j]`.
fn signed_digits<F: PrimeField>(terms: &[(u32, F::BigInt)], c: usize, windows: usize) -> Vec<i32> {
    let n = terms.len();
    let mut digits = vec![0i32; windows * n];
    let half = 1i64 << (c - 1);
    let mask = (1u64 << c) - 1;
    for (j, (_, s)) in terms.iter().enumerate() {
        let limbs = s.as_ref();
        let mut carry = 0i64;
        for w in 0..windows {
            let bit = w * c;
            let (limb, shift) = (bit / 64, bit % 64);
            let mut raw = limbs.get(limb).map_or(0, |l| l >> shift);
            if shift + c > 64 {
                raw |= limbs.get(limb + 1).map_or(0, |l| l << (64 - shift));
            }
            let mut d = (raw & mask) as i64 + carry;
            carry = 0;
            if d > half {
                d -= 1 << c;
                carry = 1;
            }
            digits[w * n + j] = d as i32;
        }
        debug_assert_eq!(carry, 0, "the top window absorbs the carry");
    }
    digits
}

/// Affine buckets with batched additions.
struct Buckets<P: SWCurveConfig> {
    x: Vec<P::BaseField>,
    y: Vec<P::BaseField>,
    /// Whether a bucket holds a point (false: the identity).
    full: Vec<bool>,
    /// Whether a bucket has an addition pending in the current batch.
    busy: Vec<bool>,
    /// Sums that hit a doubling or an inverse (rare), kept projective.
    extra: Vec<(usize, Projective<P>)>,
    /// Pending additions `(bucket, x, y)` and their denominators, reused across batches.
    batch: Vec<(usize, P::BaseField, P::BaseField)>,
    denominators: Vec<P::BaseField>,
    batch_size: usize,
}

impl<P: SWCurveConfig> Buckets<P> {
    fn new(n: usize) -> Self {
        Self {
            x: vec![P::BaseField::ZERO; n],
            y: vec![P::BaseField::ZERO; n],
            full: vec![false; n],
            busy: vec![false; n],
            extra: Vec::new(),
            batch: Vec::new(),
            denominators: Vec::new(),
            batch_size: (n / BATCH_DIVISOR).clamp(1, MAX_BATCH),
        }
    }

    /// Adds each `(bucket, point, negate)`; returns those deferred because their bucket already
    /// had an addition in the same batch.
    fn accumulate(
        &mut self,
        points: &[(P::BaseField, P::BaseField)],
        todo: &[(u32, u32, bool)],
    ) -> Vec<(u32, u32, bool)> {
        let mut deferred = Vec::new();
        for &(b, k, neg) in todo {
            let b = b as usize;
            let (px, py) = points[k as usize];
            let py = if neg { -py } else { py };
            if self.busy[b] {
                deferred.push((b as u32, k, neg));
                continue;
            }
            if !self.full[b] {
                self.x[b] = px;
                self.y[b] = py;
                self.full[b] = true;
                continue;
            }
            if self.x[b] == px {
                // Doubling or cancellation: leave it to projective arithmetic.
                let p = Affine::<P>::new_unchecked(px, py);
                self.extra.push((b, p.into_group()));
                continue;
            }
            self.busy[b] = true;
            self.batch.push((b, px, py));
            if self.batch.len() == self.batch_size {
                self.flush();
            }
        }
        self.flush();
        deferred
    }

    /// Applies the pending additions with one inversion.
    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        let mut denominators = std::mem::take(&mut self.denominators);
        denominators.clear();
        denominators.extend(batch.iter().map(|&(b, px, _)| px - self.x[b]));
        ark_ff::batch_inversion(&mut denominators);
        for (&(b, px, py), inv) in batch.iter().zip(&denominators) {
            let (qx, qy) = (self.x[b], self.y[b]);
            let lambda = (py - qy) * inv;
            let x3 = lambda.square() - qx - px;
            self.y[b] = lambda * (qx - x3) - qy;
            self.x[b] = x3;
            self.busy[b] = false;
        }
        self.batch = batch;
        self.batch.clear();
        self.denominators = denominators;
    }

    /// For each window's run of `per_window` buckets, `Σ (k + 1) · bucket_k` by running sums
    /// (mixed additions of the affine buckets).
    fn sums(self, per_window: usize) -> Vec<Projective<P>> {
        let mut extra: Vec<Option<Projective<P>>> = vec![None; self.x.len()];
        for (b, p) in self.extra {
            *extra[b].get_or_insert_with(Projective::zero) += p;
        }
        (0..self.x.len())
            .step_by(per_window)
            .map(|first| {
                let mut running = Projective::<P>::zero();
                let mut total = Projective::<P>::zero();
                for b in (first..first + per_window).rev() {
                    if self.full[b] {
                        running += Affine::<P>::new_unchecked(self.x[b], self.y[b]);
                    }
                    if let Some(p) = extra[b] {
                        running += p;
                    }
                    total += running;
                }
                total
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
    use ark_ec::{CurveGroup, VariableBaseMSM};
    use ark_std::UniformRand;
    use rand_chacha::{ChaCha20Rng, rand_core::SeedableRng};

    use super::*;

    macro_rules! check {
        ($affine:ty, $projective:ty, $n:expr, $seed:expr) => {{
            let n: usize = $n;
            let mut rng = ChaCha20Rng::seed_from_u64($seed);
            let mut bases: Vec<$affine> = (0..n).map(|_| <$projective>::rand(&mut rng).into_affine()).collect();
            let mut scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            // Edge cases: zero, one, minus one, small, a base at infinity, repeated and opposite bases.
            if n > 8 {
                scalars[0] = Fr::from(0u64);
                scalars[1] = Fr::from(1u64);
                scalars[2] = -Fr::from(1u64);
                scalars[3] = Fr::from(3u64);
                bases[4] = <$affine>::zero();
                bases[5] = bases[6];
                bases[7] = -bases[8];
                scalars[7] = scalars[8];
            }
            let expected = <$projective>::msm(&bases, &scalars).unwrap();
            let bigints: Vec<_> = scalars.iter().map(|s| s.into_bigint()).collect();
            assert_eq!(Bases::new(&bases).msm(&bigints), expected, "n = {n}");
            assert_eq!(Bases::with_tables(&bases).msm(&bigints), expected, "n = {n}, with tables");
        }};
    }

    #[test]
    fn agrees_with_arkworks_on_g1() {
        for (n, seed) in [(1, 1), (9, 2), (300, 3), (3000, 4)] {
            check!(G1Affine, G1Projective, n, seed);
        }
    }

    #[test]
    fn agrees_with_arkworks_on_g2() {
        for (n, seed) in [(1, 5), (40, 6), (700, 7)] {
            check!(G2Affine, G2Projective, n, seed);
        }
    }

    #[test]
    fn many_equal_digits_take_the_doubling_path() {
        // Equal bases with equal scalars land in one bucket over and over.
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let p = G1Projective::rand(&mut rng).into_affine();
        let bases = vec![p; 50];
        let scalars = vec![Fr::from(5u64); 50];
        let bigints: Vec<_> = scalars.iter().map(|s| s.into_bigint()).collect();
        assert_eq!(Bases::new(&bases).msm(&bigints), G1Projective::msm(&bases, &scalars).unwrap());
        assert_eq!(Bases::with_tables(&bases).msm(&bigints), G1Projective::msm(&bases, &scalars).unwrap());
    }

    #[test]
    fn the_largest_scalar_fills_the_top_window() {
        // r - 1 sets the top bits; the carry out of every window must be absorbed.
        let mut rng = ChaCha20Rng::seed_from_u64(10);
        let bases: Vec<G1Affine> = (0..3000).map(|_| G1Projective::rand(&mut rng).into_affine()).collect();
        let scalars: Vec<Fr> = (0..3000u64).map(|i| -Fr::from(i + 1)).collect();
        let bigints: Vec<_> = scalars.iter().map(|s| s.into_bigint()).collect();
        assert_eq!(Bases::with_tables(&bases).msm(&bigints), G1Projective::msm(&bases, &scalars).unwrap());
    }

    #[test]
    fn window_widths() {
        assert_eq!(table_windows(254, 13), 20);
        assert_eq!(table_windows(254, 127), 3, "an exact fit needs a window for the carry");
        assert_eq!(table_bits(6124, 2), 13);
    }
}
