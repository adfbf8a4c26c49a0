//! Contract bindings, `alloy::sol!` over the ABI and bytecode files in `chain/abi/`.
//!
//! Those files are generated from the Foundry artifacts by `make gen` and checked against a
//! fresh `forge build` by `make check-gen` (part of the test command).

#![allow(missing_docs, missing_debug_implementations, unreachable_pub, clippy::all)]

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    JejakRegistry,
    "abi/JejakRegistry.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    JejakAttestations,
    "abi/JejakAttestations.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    JejakReputationRoots,
    "abi/JejakReputationRoots.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    JejakEvidenceLog,
    "abi/JejakEvidenceLog.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    BatchEventEmitter,
    "abi/BatchEventEmitter.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    JejakProofVerifier,
    "abi/JejakProofVerifier.json"
);

/// The ABI and bytecode file of each contract the node speaks to, by name (the benchmark's event
/// emitter aside): what `jejak --version` names by digest.
pub const ARTIFACTS: [(&str, &[u8]); 6] = [
    ("JejakRegistry", include_bytes!("../abi/JejakRegistry.json")),
    ("JejakAttestations", include_bytes!("../abi/JejakAttestations.json")),
    ("JejakReputationRoots", include_bytes!("../abi/JejakReputationRoots.json")),
    ("JejakEvidenceLog", include_bytes!("../abi/JejakEvidenceLog.json")),
    ("JejakProofVerifier", include_bytes!("../abi/JejakProofVerifier.json")),
    ("JejakGroth16Verifier", include_bytes!("../abi/JejakGroth16Verifier.json")),
];
