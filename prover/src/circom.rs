//! circom's binary formats: the circuit as `.r1cs` (for a phase-2 ceremony with snarkjs), a
//! witness as `.wtns` (so snarkjs can prove with our witness), and snarkjs' Groth16 `.zkey`
//! (imported as a proving key that uses [`Reduction::Circom`]).
//!
//! Wire numbering is arkworks' variable order, which is circom's: wire 0 is the constant 1, wires
//! 1..=6 the public inputs, then the private inputs (secret, score, gigs, tier, salt, the path's
//! siblings and direction bits) and the internal signals.

use ark_bn254::{Bn254, Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, pairing::Pairing};
use ark_ff::{BigInteger, Field, PrimeField, Zero};
use ark_groth16::{ProvingKey, VerifyingKey};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use jejak_zk_circuits::{CONSTRAINTS_BASE, CONSTRAINTS_PER_LEVEL, NUM_PUBLIC_INPUTS};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::{
    Error, Result,
    keys::{KeyInfo, KeyOrigin, ProvingKeyFile, Reduction},
    shape::CircuitShape,
};

fn fr_le(x: &Fr) -> Vec<u8> {
    x.into_bigint().to_bytes_le()
}

fn modulus_le<F: PrimeField>() -> Vec<u8> {
    F::MODULUS.to_bytes_le()
}

fn section(out: &mut Vec<u8>, id: u32, body: &[u8]) {
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
}

/// Private inputs in wire order: secret, score, gigs, tier, salt, siblings, direction bits.
pub fn num_private_inputs(depth: usize) -> usize {
    5 + 2 * depth
}

/// The circuit in circom's `.r1cs` format (version 1: header, constraints, wire-to-label map).
pub fn r1cs_bytes(shape: &CircuitShape) -> Vec<u8> {
    let mut header = Vec::new();
    header.extend_from_slice(&32u32.to_le_bytes());
    header.extend_from_slice(&modulus_le::<Fr>());
    header.extend_from_slice(&(shape.num_variables() as u32).to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes()); // public outputs
    header.extend_from_slice(&(shape.num_public() as u32).to_le_bytes());
    header.extend_from_slice(&(num_private_inputs(shape.depth) as u32).to_le_bytes());
    header.extend_from_slice(&(shape.num_variables() as u64).to_le_bytes()); // labels
    header.extend_from_slice(&(shape.num_constraints as u32).to_le_bytes());

    let mut constraints = Vec::new();
    for i in 0..shape.num_constraints {
        for m in &shape.matrices {
            let mut row = m[i].clone();
            row.sort_by_key(|(_, wire)| *wire);
            constraints.extend_from_slice(&(row.len() as u32).to_le_bytes());
            for (coeff, wire) in row {
                constraints.extend_from_slice(&(wire as u32).to_le_bytes());
                constraints.extend_from_slice(&fr_le(&coeff));
            }
        }
    }
    let labels: Vec<u8> = (0..shape.num_variables() as u64).flat_map(u64::to_le_bytes).collect();

    let mut out = b"r1cs".to_vec();
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&3u32.to_le_bytes());
    section(&mut out, 1, &header);
    section(&mut out, 2, &constraints);
    section(&mut out, 3, &labels);
    out
}

/// A full assignment (`[1, public..., private...]`) in snarkjs' `.wtns` format (version 2).
pub fn wtns_bytes(assignment: &[Fr]) -> Vec<u8> {
    let mut header = Vec::new();
    header.extend_from_slice(&32u32.to_le_bytes());
    header.extend_from_slice(&modulus_le::<Fr>());
    header.extend_from_slice(&(assignment.len() as u32).to_le_bytes());
    let values: Vec<u8> = assignment.iter().flat_map(fr_le).collect();
    let mut out = b"wtns".to_vec();
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&2u32.to_le_bytes());
    section(&mut out, 1, &header);
    section(&mut out, 2, &values);
    out
}

/// A little-endian cursor over a section.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| zkey_err("truncated"))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }

    fn bigint(&mut self) -> Result<ark_ff::BigInt<4>> {
        let b = self.take(32)?;
        let mut limbs = [0u64; 4];
        for (l, chunk) in limbs.iter_mut().zip(b.chunks(8)) {
            *l = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        }
        Ok(ark_ff::BigInt(limbs))
    }

    /// A base field element in Montgomery form (how snarkjs stores points).
    fn fq_montgomery(&mut self) -> Result<Fq> {
        let b = self.bigint()?;
        if b >= Fq::MODULUS {
            return Err(zkey_err("coordinate not below the base field modulus"));
        }
        Ok(Fq::new_unchecked(b))
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn done(&self, what: &str) -> Result<()> {
        if self.pos != self.bytes.len() {
            return Err(zkey_err(format!("{what}: {} bytes left over", self.bytes.len() - self.pos)));
        }
        Ok(())
    }

    fn g1(&mut self) -> Result<G1Affine> {
        let (x, y) = (self.fq_montgomery()?, self.fq_montgomery()?);
        if x.is_zero() && y.is_zero() {
            return Ok(G1Affine::zero());
        }
        let p = G1Affine::new_unchecked(x, y);
        if !p.is_on_curve() {
            return Err(zkey_err("G1 point not on the curve"));
        }
        Ok(p)
    }

    fn g2(&mut self) -> Result<G2Affine> {
        let x = Fq2::new(self.fq_montgomery()?, self.fq_montgomery()?);
        let y = Fq2::new(self.fq_montgomery()?, self.fq_montgomery()?);
        if x.is_zero() && y.is_zero() {
            return Ok(G2Affine::zero());
        }
        let p = G2Affine::new_unchecked(x, y);
        if !p.is_on_curve() || !p.is_in_correct_subgroup_assuming_on_curve() {
            return Err(zkey_err("G2 point not on the curve or not in the subgroup"));
        }
        Ok(p)
    }
}

fn zkey_err(reason: impl Into<String>) -> Error {
    Error::interop("zkey", reason)
}

/// The parts of a snarkjs Groth16 zkey that matter here.
#[derive(Debug)]
pub struct Zkey {
    /// Variables, the constant included.
    pub n_vars: usize,
    /// Public inputs.
    pub n_public: usize,
    /// QAP domain size.
    pub domain_size: usize,
    /// The proving key (and in it the verifying key).
    pub key: ProvingKey<Bn254>,
    /// The A and B matrices as the zkey records them, `(coefficient, signal)` per constraint
    /// row, without the public-input rows.
    pub matrices: [Vec<Vec<(Fr, usize)>>; 2],
    /// Number of R1CS constraints.
    pub num_constraints: usize,
    /// The phase-2 contributions the zkey records (section 10), oldest first.
    pub contributions: Vec<Contribution>,
}

/// One phase-2 contribution as the zkey records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contribution {
    /// The contributor's name, if given.
    pub name: Option<String>,
    /// Whether it is a random beacon (`snarkjs zkey beacon`) rather than a contributor's secret.
    pub beacon: bool,
    /// Delta in G1 after this contribution.
    pub delta_after: G1Affine,
}

/// Parses a snarkjs Groth16 `.zkey`, validating every point.
pub fn parse_zkey(bytes: &[u8]) -> Result<Zkey> {
    let mut r = Reader::new(bytes);
    if r.take(4)? != b"zkey" {
        return Err(zkey_err("not a zkey file"));
    }
    let _version = r.u32()?;
    let n_sections = r.u32()?;
    let mut sections: [Option<&[u8]>; 11] = [None; 11];
    for _ in 0..n_sections {
        let id = r.u32()? as usize;
        let len = usize::try_from(r.u64()?).map_err(|_| zkey_err("section too large"))?;
        let body = r.take(len)?;
        if let Some(slot) = sections.get_mut(id) {
            *slot = Some(body);
        }
    }
    let get = |id: usize| sections[id].map(Reader::new).ok_or_else(|| zkey_err(format!("missing section {id}")));

    if get(1)?.u32()? != 1 {
        return Err(zkey_err("not a Groth16 zkey"));
    }
    let mut h = get(2)?;
    let n8q = h.u32()?;
    let q = h.bigint()?;
    let n8r = h.u32()?;
    let r_mod = h.bigint()?;
    if n8q != 32 || n8r != 32 || q != Fq::MODULUS || r_mod != Fr::MODULUS {
        return Err(zkey_err("not a BN254 zkey"));
    }
    let n_vars = h.u32()? as usize;
    let n_public = h.u32()? as usize;
    let domain_size = h.u32()? as usize;
    let alpha_g1 = h.g1()?;
    let beta_g1 = h.g1()?;
    let beta_g2 = h.g2()?;
    let gamma_g2 = h.g2()?;
    let delta_g1 = h.g1()?;
    let delta_g2 = h.g2()?;
    if n_public >= n_vars {
        return Err(zkey_err("more public inputs than variables"));
    }

    h.done("header")?;
    // snarkjs sets gamma to the generator and never changes it; delta starts there and every
    // contribution multiplies it by the contributor's secret.
    if gamma_g2 != G2Affine::generator() {
        return Err(zkey_err("gamma is not the generator of G2: not a snarkjs Groth16 zkey"));
    }
    if [alpha_g1, beta_g1, delta_g1].iter().any(|p| p.is_zero()) || [beta_g2, delta_g2].iter().any(|p| p.is_zero()) {
        return Err(zkey_err("alpha, beta or delta at infinity"));
    }
    let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
    if Bn254::pairing(delta_g1, g2) != Bn254::pairing(g1, delta_g2)
        || Bn254::pairing(beta_g1, g2) != Bn254::pairing(g1, beta_g2)
    {
        return Err(zkey_err("delta (or beta) in G1 and in G2 are not the same scalar"));
    }
    let contributions = parse_contributions(get(10)?)?;

    // Every point section holds exactly its points, nothing after them.
    let n_query = |id: usize, n: usize| -> Result<usize> {
        n.checked_mul(if id == 7 { 128 } else { 64 }).ok_or_else(|| zkey_err("section size overflows"))
    };
    let g1s = |id: usize, n: usize| -> Result<Vec<G1Affine>> {
        let mut s = get(id)?;
        let raw = s.take(n_query(id, n)?).map_err(|_| zkey_err(format!("section {id} too short")))?;
        s.done(&format!("section {id}"))?;
        raw.par_chunks(64).map(|c| Reader::new(c).g1()).collect()
    };
    let gamma_abc_g1 = g1s(3, n_public + 1)?;
    let a_query = g1s(5, n_vars)?;
    let b_g1_query = g1s(6, n_vars)?;
    let b_g2_query = {
        let mut s = get(7)?;
        let raw = s.take(n_query(7, n_vars)?).map_err(|_| zkey_err("section 7 too short"))?;
        s.done("section 7")?;
        raw.par_chunks(128).map(|c| Reader::new(c).g2()).collect::<Result<Vec<_>>>()?
    };
    let l_query = g1s(8, n_vars - n_public - 1)?;
    let h_query = g1s(9, domain_size)?;

    // Coefficients are stored as value·R² (R = 2^256 mod r): multiply by R^-2.
    let r_inv2 = Fr::from(2u64).pow([256u64]).inverse().expect("R is invertible").square();
    let mut c = get(4)?;
    let n_coeffs = c.u32()? as usize;
    let mut entries = Vec::with_capacity(n_coeffs);
    for _ in 0..n_coeffs {
        let (matrix, constraint, signal) = (c.u32()?, c.u32()? as usize, c.u32()? as usize);
        let raw = c.bigint()?;
        if raw >= Fr::MODULUS || matrix > 1 || signal >= n_vars {
            return Err(zkey_err("malformed coefficient"));
        }
        entries.push((matrix as usize, constraint, signal, Fr::from_bigint(raw).expect("checked") * r_inv2));
    }
    c.done("section 4")?;
    let rows = entries.iter().map(|e| e.1 + 1).max().unwrap_or(0);
    let num_constraints = rows.checked_sub(n_public + 1).ok_or_else(|| zkey_err("no public-input rows"))?;
    let mut matrices = [vec![Vec::new(); rows], vec![Vec::new(); rows]];
    for (matrix, constraint, signal, value) in entries {
        matrices[matrix][constraint].push((value, signal));
    }
    // The last n_public + 1 rows of A bind the inputs: `x_s * 0 = 0` with coefficient 1.
    for s in 0..=n_public {
        let row = &matrices[0][num_constraints + s];
        if row.as_slice() != [(Fr::from(1u64), s)] || !matrices[1][num_constraints + s].is_empty() {
            return Err(zkey_err("unexpected public-input rows"));
        }
    }
    for m in &mut matrices {
        m.truncate(num_constraints);
    }

    let vk = VerifyingKey { alpha_g1, beta_g2, gamma_g2, delta_g2, gamma_abc_g1 };
    let key = ProvingKey { vk, beta_g1, delta_g1, a_query, b_g1_query, b_g2_query, h_query, l_query };
    Ok(Zkey { n_vars, n_public, domain_size, key, matrices, num_constraints, contributions })
}

/// Section 10: the hash of the circuit's initial parameters, then each contribution (delta after
/// it, its proof of knowledge, transcript, type and sorted parameters), as snarkjs writes them.
fn parse_contributions(mut r: Reader<'_>) -> Result<Vec<Contribution>> {
    let _cs_hash = r.take(64)?;
    let n = r.u32()?;
    // Each contribution takes at least 64 * 3 + 128 + 64 + 8 bytes: a count past that is a lie.
    if n as usize > r.bytes.len() / 392 {
        return Err(zkey_err("more contributions than section 10 can hold"));
    }
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let delta_after = r.g1()?;
        let _g1_s = r.g1()?;
        let _g1_sx = r.g1()?;
        let _g2_spx = r.g2()?;
        let _transcript = r.take(64)?;
        let kind = r.u32()?;
        if kind > 1 {
            return Err(zkey_err(format!("unknown contribution type {kind}")));
        }
        let params_len = r.u32()? as usize;
        let mut p = Reader::new(r.take(params_len)?);
        let (mut name, mut last) = (None, 0u8);
        while p.pos < p.bytes.len() {
            let id = p.u8()?;
            if id <= last {
                return Err(zkey_err("contribution parameters out of order"));
            }
            last = id;
            match id {
                1 => {
                    let len = p.u8()? as usize;
                    name = Some(String::from_utf8_lossy(p.take(len)?).into_owned());
                }
                2 => {
                    p.u8()?;
                }
                3 => {
                    let len = p.u8()? as usize;
                    p.take(len)?;
                }
                other => return Err(zkey_err(format!("unknown contribution parameter {other}"))),
            }
        }
        out.push(Contribution { name, beacon: kind == 1, delta_after });
    }
    r.done("section 10")?;
    Ok(out)
}

/// Imports a snarkjs phase-2 zkey for this circuit: the depth is read off its size, and its
/// constraint matrices must equal the circuit's exactly (a zkey for anything else is refused).
///
/// Beyond the A and B matrices it checks what the zkey alone can show: every point on the curve
/// and in its subgroup, every section exactly its size, gamma the generator, delta and beta the
/// same scalar in G1 and G2, at least one contribution recorded with the last one's delta the
/// key's, and delta moved off gamma and off the generator (a zkey straight from `snarkjs groth16
/// setup`, whose toxic waste is public, is refused). That the query points follow from the
/// powers of tau and the circuit (the C matrix is in no zkey section) is what `snarkjs zkey
/// verify circuit.r1cs final.ptau final.zkey` checks; run it first.
pub fn import_zkey(bytes: &[u8]) -> Result<ProvingKeyFile> {
    let zkey = parse_zkey(bytes)?;
    let vk = &zkey.key.vk;
    if vk.delta_g2 == vk.gamma_g2 || vk.delta_g2 == G2Affine::generator() || zkey.key.delta_g1 == G1Affine::generator()
    {
        return Err(Error::UncontributedZkey(
            "delta is still the generator: no phase-2 contribution was applied (snarkjs zkey contribute, then zkey beacon)"
                .into(),
        ));
    }
    match zkey.contributions.last() {
        None => return Err(Error::UncontributedZkey("the zkey records no phase-2 contribution".into())),
        Some(last) if last.delta_after != zkey.key.delta_g1 => {
            return Err(zkey_err("the last recorded contribution's delta is not the key's delta"));
        }
        Some(_) => {}
    }
    let extra = zkey.num_constraints.checked_sub(CONSTRAINTS_BASE).filter(|e| e % CONSTRAINTS_PER_LEVEL == 0);
    let depth = extra.map(|e| e / CONSTRAINTS_PER_LEVEL).filter(|d| *d > 0).ok_or_else(|| {
        Error::CircuitMismatch(format!("{} constraints is no depth of this circuit", zkey.num_constraints))
    })?;
    let shape = CircuitShape::get(depth)?;
    let domain = GeneralEvaluationDomain::<Fr>::new(shape.num_constraints + shape.num_instance)
        .ok_or_else(|| Error::CircuitMismatch("domain too large".into()))?;
    if zkey.n_public != NUM_PUBLIC_INPUTS || zkey.n_vars != shape.num_variables() || zkey.domain_size != domain.size() {
        return Err(Error::CircuitMismatch(format!(
            "zkey has {} public inputs, {} variables, domain {}; the depth-{depth} circuit {}, {}, {}",
            zkey.n_public,
            zkey.n_vars,
            zkey.domain_size,
            NUM_PUBLIC_INPUTS,
            shape.num_variables(),
            domain.size()
        )));
    }
    let sorted = |row: &[(Fr, usize)]| {
        let mut r = row.to_vec();
        r.sort_by_key(|(_, i)| *i);
        r
    };
    for (m, name) in [(0, "A"), (1, "B")] {
        let same = (0..shape.num_constraints)
            .into_par_iter()
            .all(|i| sorted(&zkey.matrices[m][i]) == sorted(&shape.matrices[m][i]));
        if !same {
            return Err(Error::CircuitMismatch(format!("the zkey's {name} matrix is not this circuit's")));
        }
    }
    let sha256 = hex::encode(Sha256::digest(bytes));
    let info = KeyInfo::for_shape(&shape, Reduction::Circom, KeyOrigin::Zkey { sha256 });
    Ok(ProvingKeyFile { info, key: zkey.key })
}
