//! What the tree commits to and what a proof binds: identity commitments, worker leaves,
//! nullifiers and verifier scopes, each native with its gadget beside it.
//!
//! - `identity_commitment = Poseidon(Poseidon(secret), k)`: what the node stores instead of the
//!   secret; `k` is the identity's link key ([`crate::link`]), so the commitment binds a key only
//!   the secret's holder can sign with.
//! - `leaf = Poseidon(commitment, score, gigs, tier, epoch, salt)`: one per worker and epoch.
//! - `nullifier = Poseidon(secret, scope)`: the same for every proof a worker makes to one scope,
//!   unlinkable across scopes.
//! - `scope = uint256(keccak256(abi.encode(uint256 chainId, address verifier, address consumer,
//!   bytes32 context))) mod r`: exactly what `JejakProofVerifier.scopeOf(consumer, context)` computes
//!   on chain, where the consumer is the caller of `verifyAndConsume`. A proof names who may consume
//!   it, so one lifted from the mempool is worthless to anyone else (as World ID binds its signal).

use ark_r1cs_std::fields::fp::FpVar;
use sha3::{Digest, Keccak256};

use crate::{
    Fr, Result,
    field::fr_from_be_bytes_mod_order,
    link::{commitment_from_parts, inner_commitment, link_key_of},
    poseidon::{hash, hash_gadget},
};

/// `Poseidon(Poseidon(secret), k)`, `k` the link key of `secret` ([`crate::link`]).
pub fn identity_commitment(secret: Fr) -> Fr {
    commitment_from_parts(inner_commitment(&secret), link_key_of(&secret))
}

/// `Poseidon(commitment, score, gigs, tier, epoch, salt)`, taking the identity commitment so a
/// node that holds only commitments can build the tree. `tier` is numeric with higher meaning
/// better (the scoring engine maps credit tiers A-E onto it), so "tier >= min" reads naturally.
pub fn worker_leaf(commitment: Fr, score: u64, gigs: u64, tier: u64, epoch: u64, salt: Fr) -> Fr {
    hash(&[commitment, Fr::from(score), Fr::from(gigs), Fr::from(tier), Fr::from(epoch), salt])
}

/// `Poseidon(secret, scope)`.
pub fn nullifier(secret: Fr, scope: Fr) -> Fr {
    hash(&[secret, scope])
}

/// `keccak256(abi.encode(uint256(chain_id), verifier_contract, consumer, context))` reduced mod r.
/// On chain `consumer` is the caller of `verifyAndConsume`; through a node's API it is the
/// verifying platform's [`platform_consumer`].
pub fn scope(chain_id: u64, verifier_contract: [u8; 20], consumer: [u8; 20], context: [u8; 32]) -> Fr {
    let mut encoded = [0u8; 128];
    encoded[24..32].copy_from_slice(&chain_id.to_be_bytes());
    encoded[44..64].copy_from_slice(&verifier_contract);
    encoded[76..96].copy_from_slice(&consumer);
    encoded[96..128].copy_from_slice(&context);
    fr_from_be_bytes_mod_order(&keccak256(&encoded))
}

/// The consumer a node's API binds off-chain proofs to for platform `platform_id` (the registry's
/// id): the last 20 bytes of `keccak256(abi.encode("jejak-api-platform", uint256(platform_id)))`.
/// Two platforms with the same context label get different scopes, so neither can replay the
/// other's proof, and no account anyone holds a key or code for is that consumer (that would take a keccak preimage).
/// `None` (an operator's admin key) is the zero address.
pub fn platform_consumer(platform_id: Option<u64>) -> [u8; 20] {
    let Some(id) = platform_id else { return [0; 20] };
    let tag = b"jejak-api-platform";
    let mut encoded = [0u8; 128];
    encoded[31] = 0x40; // offset of the string
    encoded[56..64].copy_from_slice(&id.to_be_bytes());
    encoded[95] = tag.len() as u8;
    encoded[96..96 + tag.len()].copy_from_slice(tag);
    let hash = keccak256(&encoded);
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[12..]);
    out
}

/// A 32-byte context from a human-readable label: `keccak256(label)` (Solidity:
/// `keccak256(bytes(label))`). Platforms name what a proof is for, e.g. `"acme-lending/loan-v1"`.
pub fn context_from_label(label: &str) -> [u8; 32] {
    keccak256(label.as_bytes())
}

/// Keccak-256 (Ethereum's, not SHA3-256).
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// Gadget of [`identity_commitment`], with `k` a private input beside the secret (the circuit
/// cannot derive an Ed25519 key; the commitment binds whatever `k` it was made with).
pub fn identity_commitment_gadget(secret: &FpVar<Fr>, link_key: &FpVar<Fr>) -> Result<FpVar<Fr>> {
    let inner = hash_gadget(std::slice::from_ref(secret))?;
    hash_gadget(&[inner, link_key.clone()])
}

/// Gadget of [`worker_leaf`]; the range of score, gigs and tier is the caller's business.
pub fn worker_leaf_gadget(
    commitment: &FpVar<Fr>,
    score: &FpVar<Fr>,
    gigs: &FpVar<Fr>,
    tier: &FpVar<Fr>,
    epoch: &FpVar<Fr>,
    salt: &FpVar<Fr>,
) -> Result<FpVar<Fr>> {
    hash_gadget(&[commitment.clone(), score.clone(), gigs.clone(), tier.clone(), epoch.clone(), salt.clone()])
}

/// Gadget of [`nullifier`].
pub fn nullifier_gadget(secret: &FpVar<Fr>, scope: &FpVar<Fr>) -> Result<FpVar<Fr>> {
    hash_gadget(&[secret.clone(), scope.clone()])
}
