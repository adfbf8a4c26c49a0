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
