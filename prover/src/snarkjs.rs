//! snarkjs' JSON formats: `verification_key.json`, `proof.json` and `public.json`, so that
//! `snarkjs groth16 verify` (and any circom tool) checks jejak proofs.
//!
//! Points are affine, coordinates as decimal strings: G1 `[x, y, "1"]` and G2 `[[x.c0, x.c1],
//! [y.c0, y.c1], ["1", "0"]]` (the point at infinity has z = 0). Parsing is strict: every
//! coordinate below the base field modulus, every point on the curve and in the subgroup, every
//! public signal below the scalar field modulus.

use std::path::{Path, PathBuf};

use ark_bn254::{Bn254, Fq, Fq2, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{PrimeField, Zero};
use ark_groth16::{Proof, VerifyingKey};
use jejak_zk_circuits::{NUM_PUBLIC_INPUTS, PublicInputs};
use num_bigint::BigUint;
use serde_json::{Value, json};

use crate::{Error, Result, verifier::check_points};

/// File names snarkjs uses.
pub const VERIFICATION_KEY_JSON: &str = "verification_key.json";
/// File name of the proof.
pub const PROOF_JSON: &str = "proof.json";
/// File name of the public signals.
pub const PUBLIC_JSON: &str = "public.json";

fn fq_to_decimal(x: &Fq) -> String {
    BigUint::from(x.into_bigint()).to_string()
}

fn fq_from_decimal(v: &Value, what: &str) -> Result<Fq> {
    let s = v.as_str().ok_or_else(|| Error::interop("snarkjs json", format!("{what}: not a string")))?;
    let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    let n = BigUint::parse_bytes(s.as_bytes(), 10)
        .filter(|_| canonical)
        .ok_or_else(|| Error::interop("snarkjs json", format!("{what}: not a decimal number")))?;
    let limbs: ark_ff::BigInt<4> = n
        .try_into()
        .map_err(|_| Error::interop("snarkjs json", format!("{what}: not below the base field modulus")))?;
    Fq::from_bigint(limbs)
        .ok_or_else(|| Error::interop("snarkjs json", format!("{what}: not below the base field modulus")))
}

/// A G1 point as snarkjs writes it.
pub fn g1_to_json(p: &G1Affine) -> Value {
    match p.xy() {
        Some((x, y)) => json!([fq_to_decimal(&x), fq_to_decimal(&y), "1"]),
        None => json!(["0", "1", "0"]),
    }
}

/// A G2 point as snarkjs writes it.
pub fn g2_to_json(p: &G2Affine) -> Value {
    match p.xy() {
        Some((x, y)) => json!([
            [fq_to_decimal(&x.c0), fq_to_decimal(&x.c1)],
            [fq_to_decimal(&y.c0), fq_to_decimal(&y.c1)],
            ["1", "0"]
        ]),
        None => json!([["0", "0"], ["1", "0"], ["0", "0"]]),
    }
}

fn array<'a>(v: &'a Value, len: usize, what: &str) -> Result<&'a [Value]> {
    v.as_array()
        .filter(|a| a.len() == len)
        .map(Vec::as_slice)
        .ok_or_else(|| Error::interop("snarkjs json", format!("{what}: expected an array of {len}")))
}

/// Parses a G1 point, checking it is on the curve (G1 has cofactor 1).
pub fn g1_from_json(v: &Value, what: &str) -> Result<G1Affine> {
    let c = array(v, 3, what)?;
    let z = fq_from_decimal(&c[2], what)?;
    if z.is_zero() {
        return Ok(G1Affine::zero());
    }
    if z != Fq::from(1u64) {
        return Err(Error::interop("snarkjs json", format!("{what}: not affine (z must be 1)")));
    }
    let p = G1Affine::new_unchecked(fq_from_decimal(&c[0], what)?, fq_from_decimal(&c[1], what)?);
    if !p.is_on_curve() || !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(Error::interop("snarkjs json", format!("{what}: not a point of G1")));
    }
    Ok(p)
}

/// Parses a G2 point, checking it is on the curve and in the subgroup.
pub fn g2_from_json(v: &Value, what: &str) -> Result<G2Affine> {
    let c = array(v, 3, what)?;
    let fq2 = |v: &Value| -> Result<Fq2> {
        let a = array(v, 2, what)?;
        Ok(Fq2::new(fq_from_decimal(&a[0], what)?, fq_from_decimal(&a[1], what)?))
    };
    let z = fq2(&c[2])?;
    if z.is_zero() {
        return Ok(G2Affine::zero());
    }
    if z != Fq2::new(Fq::from(1u64), Fq::zero()) {
        return Err(Error::interop("snarkjs json", format!("{what}: not affine (z must be 1)")));
    }
    let p = G2Affine::new_unchecked(fq2(&c[0])?, fq2(&c[1])?);
    if !p.is_on_curve() || !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(Error::interop("snarkjs json", format!("{what}: not a point of G2")));
    }
    Ok(p)
}

/// `verification_key.json`.
pub fn vk_to_json(vk: &VerifyingKey<Bn254>) -> Value {
    json!({
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.gamma_abc_g1.len() - 1,
        "vk_alpha_1": g1_to_json(&vk.alpha_g1),
        "vk_beta_2": g2_to_json(&vk.beta_g2),
        "vk_gamma_2": g2_to_json(&vk.gamma_g2),
        "vk_delta_2": g2_to_json(&vk.delta_g2),
        "IC": vk.gamma_abc_g1.iter().map(g1_to_json).collect::<Vec<_>>(),
    })
}

fn check_protocol(v: &Value, format: &'static str) -> Result<()> {
    if v["protocol"] != "groth16" || v["curve"] != "bn128" {
        return Err(Error::interop(format, "not a groth16 / bn128 object"));
    }
    Ok(())
}

/// Parses `verification_key.json` (snarkjs' or ours).
pub fn vk_from_json(v: &Value) -> Result<VerifyingKey<Bn254>> {
    check_protocol(v, "verification_key.json")?;
    let ic = v["IC"]
        .as_array()
        .ok_or_else(|| Error::interop("verification_key.json", "no IC"))?
        .iter()
        .enumerate()
        .map(|(i, p)| g1_from_json(p, &format!("IC[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    if v["nPublic"].as_u64() != Some(ic.len() as u64 - 1) {
        return Err(Error::interop("verification_key.json", "nPublic does not match IC"));
    }
    Ok(VerifyingKey {
        alpha_g1: g1_from_json(&v["vk_alpha_1"], "vk_alpha_1")?,
        beta_g2: g2_from_json(&v["vk_beta_2"], "vk_beta_2")?,
        gamma_g2: g2_from_json(&v["vk_gamma_2"], "vk_gamma_2")?,
        delta_g2: g2_from_json(&v["vk_delta_2"], "vk_delta_2")?,
        gamma_abc_g1: ic,
    })
}

/// `proof.json`.
pub fn proof_to_json(p: &Proof<Bn254>) -> Value {
    json!({
        "pi_a": g1_to_json(&p.a),
        "pi_b": g2_to_json(&p.b),
        "pi_c": g1_to_json(&p.c),
        "protocol": "groth16",
        "curve": "bn128",
    })
}

/// Parses `proof.json`, validating every point.
pub fn proof_from_json(v: &Value) -> Result<Proof<Bn254>> {
    check_protocol(v, "proof.json")?;
    let proof = Proof {
        a: g1_from_json(&v["pi_a"], "pi_a")?,
        b: g2_from_json(&v["pi_b"], "pi_b")?,
        c: g1_from_json(&v["pi_c"], "pi_c")?,
    };
    check_points(&proof)?;
    Ok(proof)
}

/// `public.json`: the five public signals in circuit order, decimal.
pub fn public_to_json(p: &PublicInputs) -> Value {
    json!(p.to_decimal_strings())
}

/// Parses `public.json`, each signal strictly below the scalar field modulus.
pub fn public_from_json(v: &Value) -> Result<PublicInputs> {
    let signals = array(v, NUM_PUBLIC_INPUTS, "public.json")?
        .iter()
        .map(|s| s.as_str().ok_or_else(|| Error::interop("public.json", "signals are decimal strings")))
        .collect::<Result<Vec<_>>>()?;
    Ok(PublicInputs::from_decimal_strings(&signals)?)
}

/// Writes the three files into `dir` (created if missing) and returns their paths.
pub fn write_dir(
    dir: &Path,
    vk: &VerifyingKey<Bn254>,
    proof: &Proof<Bn254>,
    public: &PublicInputs,
) -> Result<[PathBuf; 3]> {
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let files = [
        (dir.join(VERIFICATION_KEY_JSON), vk_to_json(vk)),
        (dir.join(PROOF_JSON), proof_to_json(proof)),
        (dir.join(PUBLIC_JSON), public_to_json(public)),
    ];
    for (path, value) in &files {
        std::fs::write(path, serde_json::to_string_pretty(value)? + "\n").map_err(Error::io(path))?;
    }
    let [(vk_path, _), (proof_path, _), (public_path, _)] = files;
    Ok([vk_path, proof_path, public_path])
}
