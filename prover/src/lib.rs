//! Key management, proving, verification and interop files (snarkjs, circom r1cs/zkey) for jejak's zero-knowledge reputation proofs.
