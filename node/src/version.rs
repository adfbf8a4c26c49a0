//! What `jejak --version` says: the node's version, and the contracts and circuit it speaks, so
//! that an operator can tell whether a node, its deployment and its proving keys belong together.

use sha2::{Digest as _, Sha256};

/// The contracts' artifacts as one digest: SHA-256 over each name, length and file, in order.
pub fn contracts_sha256() -> [u8; 32] {
    let mut h = Sha256::new();
    for (name, bytes) in jejak_chain::bindings::ARTIFACTS {
        h.update(name.as_bytes());
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    }
    h.finalize().into()
}

/// The text of `jejak --version`.
pub fn long_version() -> String {
    let domain = jejak_chain::relay::domain(0, alloy::primitives::Address::ZERO);
    let names: Vec<&str> = jejak_chain::bindings::ARTIFACTS.iter().map(|(n, _)| *n).collect();
    let depth = jejak_zk_circuits::DEFAULT_DEPTH;
    format!(
        "{version}\n\
         contracts  {names}\n           \
         artifacts sha256 {contracts}; attestations signed under EIP-712 domain \"{domain_name}\" version {domain_version}\n\
         circuit    reputation, Groth16 on BN254, public inputs {inputs}\n           \
         depth {depth}: {constraints} constraints, R1CS sha256 {circuit}",
        version = env!("CARGO_PKG_VERSION"),
        names = names.join(", "),
        contracts = hex::encode(contracts_sha256()),
        domain_name = domain.name.as_deref().unwrap_or_default(),
        domain_version = domain.version.as_deref().unwrap_or_default(),
        inputs = jejak_zk_circuits::PUBLIC_INPUT_NAMES.join(", "),
        constraints = jejak_zk_circuits::constraint_count(depth),
        circuit = jejak_prover::DEFAULT_CIRCUIT_SHA256,
    )
}
