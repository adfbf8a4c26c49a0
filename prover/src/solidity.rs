//! The Solidity Groth16 verifier, generated from a verifying key.
//!
//! The contract hard-codes the key as constants and checks a proof with the EIP-196/197
//! precompiles: one `ecMul` + `ecAdd` per public input (five) and one four-pair `ecPairing`. It
//! rejects public inputs at or above the scalar field modulus (else `x` and `x + r` would both
//! verify, since `ecMul` reduces its scalar) and proof coordinates at or above the base field
//! modulus. Proofs are passed as `[A.x, A.y, B.x1, B.x0, B.y1, B.y0, C.x, C.y]`, G2 coordinates in
//! the precompile's order (imaginary part first).

use std::fmt::Write;

use ark_bn254::{Bn254, Fq, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField};
use ark_groth16::{Proof, VerifyingKey};
use jejak_zk_circuits::{NUM_PUBLIC_INPUTS, PUBLIC_INPUT_NAMES};
use num_bigint::BigUint;

use crate::{Error, KeyInfo, Result, fixtures::GEN_COMMAND};

fn dec(x: &Fq) -> String {
    BigUint::from(x.into_bigint()).to_string()
}

fn g1_words(p: &G1Affine) -> [String; 2] {
    p.xy().map_or_else(|| ["0".into(), "0".into()], |(x, y)| [dec(&x), dec(&y)])
}

fn g2_words(p: &G2Affine) -> [String; 4] {
    p.xy().map_or_else(
        || ["0".into(), "0".into(), "0".into(), "0".into()],
        |(x, y)| [dec(&x.c1), dec(&x.c0), dec(&y.c1), dec(&y.c0)],
    )
}

/// `    <ty> internal constant <name> = <value>;`, wrapped as `forge fmt` wraps it (110 columns).
pub(crate) fn sol_constant(ty: &str, name: &str, value: &str) -> String {
    let line = format!("    {ty} internal constant {name} = {value};");
    if line.len() <= 110 { line + "\n" } else { format!("    {ty} internal constant {name} =\n        {value};\n") }
}

/// A proof as the verifier takes it: `[A.x, A.y, B.x1, B.x0, B.y1, B.y0, C.x, C.y]`, decimal.
pub fn proof_words(proof: &Proof<Bn254>) -> [String; 8] {
    let [ax, ay] = g1_words(&proof.a);
    let [bx1, bx0, by1, by0] = g2_words(&proof.b);
    let [cx, cy] = g1_words(&proof.c);
    [ax, ay, bx1, bx0, by1, by0, cx, cy]
}

/// Whether contract bytecode embeds every coordinate of `vk` (as the generated verifier's
/// constants do: big-endian `PUSHn` operands). `jejak deploy` refuses a verifier
/// artifact that does not carry the key it is told it carries.
pub fn embeds_key(bytecode: &[u8], vk: &VerifyingKey<Bn254>) -> bool {
    let mut words: Vec<Fq> = Vec::new();
    let mut g1 = |p: &G1Affine| words.extend(p.xy().map(|(x, y)| [x, y]).into_iter().flatten());
    g1(&vk.alpha_g1);
    vk.gamma_abc_g1.iter().for_each(&mut g1);
    for p in [&vk.beta_g2, &vk.gamma_g2, &vk.delta_g2] {
        words.extend(p.xy().map(|(x, y)| [x.c0, x.c1, y.c0, y.c1]).into_iter().flatten());
    }
    words.iter().all(|w| {
        // solc pushes a constant with the fewest bytes: PUSHn (0x5f + n) and n big-endian bytes.
        let be = w.into_bigint().to_bytes_be();
        let digits = &be[be.iter().take_while(|b| **b == 0).count()..];
        let needle = [&[0x5f + digits.len() as u8][..], digits].concat();
        !digits.is_empty() && bytecode.windows(needle.len()).any(|win| win == needle.as_slice())
    })
}

/// The Solidity source of `JejakGroth16Verifier` for `vk`. `key_sha256` and `info` are recorded in
/// its header so the contract names the key it was made from.
pub fn verifier_source(vk: &VerifyingKey<Bn254>, info: &KeyInfo, key_sha256: &str) -> Result<String> {
    if vk.gamma_abc_g1.len() != NUM_PUBLIC_INPUTS + 1 || vk.gamma_abc_g1.iter().any(|p| p.is_zero()) {
        return Err(Error::CircuitMismatch("verifying key does not fit the circuit".into()));
    }
    let mut constants = String::new();
    let mut constant = |name: String, value: &str| constants.push_str(&sol_constant("uint256", &name, value));
    let [ax, ay] = g1_words(&vk.alpha_g1);
    constant("ALPHA_X".into(), &ax);
    constant("ALPHA_Y".into(), &ay);
    for (name, p) in [("BETA", &vk.beta_g2), ("GAMMA", &vk.gamma_g2), ("DELTA", &vk.delta_g2)] {
        let [x1, x0, y1, y0] = g2_words(p);
        constant(format!("{name}_X1"), &x1);
        constant(format!("{name}_X0"), &x0);
        constant(format!("{name}_Y1"), &y1);
        constant(format!("{name}_Y0"), &y0);
    }
    for (i, p) in vk.gamma_abc_g1.iter().enumerate() {
        let [x, y] = g1_words(p);
        constant(format!("IC{i}_X"), &x);
        constant(format!("IC{i}_Y"), &y);
    }

    let mut accumulate = String::new();
    for i in 1..=NUM_PUBLIC_INPUTS {
        write!(
            accumulate,
            "            // + {name} * IC{i}
            mstore(add(m, 0x40), IC{i}_X)
            mstore(add(m, 0x60), IC{i}_Y)
            mstore(add(m, 0x80), mload(add(input, {offset:#x})))
            ok := and(ok, staticcall(gas(), 0x07, add(m, 0x40), 0x60, add(m, 0x40), 0x40))
            ok := and(ok, staticcall(gas(), 0x06, m, 0x80, m, 0x40))
",
            name = PUBLIC_INPUT_NAMES[i - 1],
            offset = (i - 1) * 32,
        )
        .expect("string");
    }
    let inputs_doc = PUBLIC_INPUT_NAMES.join(", ");
    let origin = if info.origin.is_insecure() {
        "an INSECURE development setup: anyone can forge proofs for it; never deploy it outside development".to_owned()
    } else {
        format!("a snarkjs phase-2 ceremony ({})", info.origin)
    };
    let regenerate = if info.origin.is_insecure() {
        format!("`{GEN_COMMAND}`")
    } else {
        "`jejak zk export-solidity` from the ceremony's verifying key".to_owned()
    };
    let depth = info.depth;
    let constraints = info.constraints;
    let reduction = info.reduction;
    Ok(format!(
        r#"// SPDX-License-Identifier: Apache-2.0
// Generated from verifying key sha256:{key_sha256}.
// Do not edit: regenerate with {regenerate};
// CI checks that this file matches the key.
pragma solidity ^0.8.28;

/// @title JejakGroth16Verifier
/// @notice Groth16 verifier (BN254) for jejak's reputation circuit at tree depth {depth}
/// ({constraints} constraints, {reduction} reduction). Public inputs, in order: {inputs_doc}.
/// @dev Key from {origin}.
contract JejakGroth16Verifier {{
    /// @notice Scalar field modulus r of BN254: every public input must be below it.
    uint256 internal constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Base field modulus q of BN254: every proof coordinate must be below it.
    uint256 internal constant BASE_FIELD =
        21888242871839275222246405745257275088696311157297823662689037894645226208583;

{constants}
    /// @notice Whether `proof` is a valid proof for the public inputs `input`.
    /// @param proof `[A.x, A.y, B.x1, B.x0, B.y1, B.y0, C.x, C.y]` (G2 imaginary parts first).
    /// @param input {inputs_doc}.
    function verifyProof(uint256[8] calldata proof, uint256[{NUM_PUBLIC_INPUTS}] calldata input) external view returns (bool) {{
        return _verifyProof(proof, input);
    }}

    /// @dev Checks `e(-A, B) · e(alpha, beta) · e(vk_x, gamma) · e(C, delta) == 1` with
    /// `vk_x = IC0 + Σ input[i] · IC(i+1)`.
    function _verifyProof(uint256[8] calldata proof, uint256[{NUM_PUBLIC_INPUTS}] memory input)
        internal
        view
        returns (bool ok)
    {{
        for (uint256 i = 0; i < 8; ++i) {{
            if (proof[i] >= BASE_FIELD) return false;
        }}
        for (uint256 i = 0; i < {NUM_PUBLIC_INPUTS}; ++i) {{
            if (input[i] >= SNARK_SCALAR_FIELD) return false;
        }}
        assembly ("memory-safe") {{
            // Scratch space past the free memory pointer (never allocated, so never reused).
            let m := mload(0x40)
            ok := 1
            mstore(m, IC0_X)
            mstore(add(m, 0x20), IC0_Y)
{accumulate}
            let vkx := mload(m)
            let vky := mload(add(m, 0x20))
            // (-A, B)
            mstore(m, calldataload(proof))
            mstore(add(m, 0x20), mod(sub(BASE_FIELD, calldataload(add(proof, 0x20))), BASE_FIELD))
            calldatacopy(add(m, 0x40), add(proof, 0x40), 0x80)
            // (alpha, beta)
            mstore(add(m, 0xc0), ALPHA_X)
            mstore(add(m, 0xe0), ALPHA_Y)
            mstore(add(m, 0x100), BETA_X1)
            mstore(add(m, 0x120), BETA_X0)
            mstore(add(m, 0x140), BETA_Y1)
            mstore(add(m, 0x160), BETA_Y0)
            // (vk_x, gamma)
            mstore(add(m, 0x180), vkx)
            mstore(add(m, 0x1a0), vky)
            mstore(add(m, 0x1c0), GAMMA_X1)
            mstore(add(m, 0x1e0), GAMMA_X0)
            mstore(add(m, 0x200), GAMMA_Y1)
            mstore(add(m, 0x220), GAMMA_Y0)
            // (C, delta)
            calldatacopy(add(m, 0x240), add(proof, 0xc0), 0x40)
            mstore(add(m, 0x280), DELTA_X1)
            mstore(add(m, 0x2a0), DELTA_X0)
            mstore(add(m, 0x2c0), DELTA_Y1)
            mstore(add(m, 0x2e0), DELTA_Y0)
            ok := and(ok, staticcall(gas(), 0x08, m, 0x300, m, 0x20))
            ok := and(ok, mload(m))
        }}
    }}
}}
"#
    ))
}
