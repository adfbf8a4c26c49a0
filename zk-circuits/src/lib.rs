//! Zero-knowledge reputation circuits of jejak (arkworks Groth16 over BN254, circomlib Poseidon).
