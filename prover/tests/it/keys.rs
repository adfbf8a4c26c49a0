//! Key files: round trips, hashes, labels, and keys for the wrong circuit.

use jejak_prover::{
    Error, KeyOrigin, Prover, ProvingKeyFile, Reduction, VerifyingKeyFile,
    setup::{DEFAULT_DEV_SEED, dev_setup},
};

use crate::common::{DEPTH, prover};

#[test]
fn key_files_round_trip_and_carry_their_hash() {
    let p = prover(Reduction::Libsnark);
    let bytes = p.key_file().to_bytes().unwrap();
    let header = String::from_utf8_lossy(&bytes[..bytes.windows(2).position(|w| w == b"\n\n").unwrap()]).to_string();
    assert!(header.starts_with("jejak-zk-key/v2\nkind: proving-key\n"), "{header}");
    assert!(header.contains("origin: INSECURE development setup"), "the key file must say it is insecure");
    assert!(header.contains("payload-sha256: "));
    assert!(header.contains(&format!("depth: {DEPTH}\n")));

    let back = ProvingKeyFile::from_bytes(&bytes).unwrap();
    assert_eq!(back.info, p.key_file().info);
    assert_eq!(back.key, p.key_file().key);

    let vk = p.verifying_key();
    let vk_bytes = vk.to_bytes().unwrap();
    let vk_back = VerifyingKeyFile::from_bytes(&vk_bytes).unwrap();
    assert_eq!(vk_back.key, vk.key);
    assert_eq!(vk_back.key_hash().unwrap(), vk.key_hash().unwrap());
}

#[test]
fn a_flipped_payload_byte_is_caught_by_the_hash() {
    let bytes = prover(Reduction::Libsnark).key_file().to_bytes().unwrap();
    let mut tampered = bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(matches!(ProvingKeyFile::from_bytes(&tampered), Err(Error::KeyHashMismatch { .. })));
    assert!(matches!(ProvingKeyFile::from_bytes(&bytes[..bytes.len() - 1]), Err(Error::InvalidKeyFile(_))));
    // A verifying key is not a proving key.
    let vk = prover(Reduction::Libsnark).verifying_key().to_bytes().unwrap();
    assert!(matches!(ProvingKeyFile::from_bytes(&vk), Err(Error::InvalidKeyFile(_))));
    assert!(matches!(VerifyingKeyFile::from_bytes(b"not a key"), Err(Error::InvalidKeyFile(_))));
}

#[test]
fn an_edited_origin_is_caught_by_the_file_hash() {
    let p = prover(Reduction::Libsnark);
    for (bytes, verifying) in [(p.key_file().to_bytes().unwrap(), false), (p.verifying_key().to_bytes().unwrap(), true)]
    {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let origin_line = text.lines().find(|l| l.starts_with("origin: ")).unwrap().to_owned();
        let zkey_origin = format!("origin: snarkjs zkey sha256:{}", "ab".repeat(32));
        // The INSECURE label swapped for a ceremony origin, or dropped, with nothing else changed.
        for replacement in [zkey_origin.as_str(), "origin: INSECURE"] {
            let edited = replace_once(&bytes, origin_line.as_bytes(), replacement.as_bytes());
            let result = if verifying {
                VerifyingKeyFile::from_bytes(&edited).map(|_| ())
            } else {
                ProvingKeyFile::from_bytes(&edited).map(|_| ())
            };
            assert!(matches!(result, Err(Error::KeyHashMismatch { .. })), "{replacement}: {result:?}");
        }
    }
    // A version 1 file (no hash over its origin) is refused with a clear message.
    let v1 = replace_once(&p.key_file().to_bytes().unwrap(), b"jejak-zk-key/v2", b"jejak-zk-key/v1");
    let err = ProvingKeyFile::from_bytes(&v1).unwrap_err();
    assert!(err.to_string().contains("version 1"), "{err}");
}

fn replace_once(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

#[test]
fn keys_for_another_circuit_are_refused() {
    let mut other = dev_setup(DEPTH + 1, DEFAULT_DEV_SEED, Reduction::Libsnark).unwrap();
    assert!(Prover::new(other.clone()).is_ok());
    // Relabelled as a key for this depth: the header and the matrices disagree.
    other.info.depth = DEPTH;
    assert!(matches!(Prover::new(other), Err(Error::CircuitMismatch(_))));
}

#[test]
fn the_dev_setup_is_deterministic_and_seed_dependent() {
    let a = dev_setup(DEPTH, "seed-a", Reduction::Libsnark).unwrap();
    let b = dev_setup(DEPTH, "seed-a", Reduction::Libsnark).unwrap();
    let c = dev_setup(DEPTH, "seed-b", Reduction::Libsnark).unwrap();
    assert_eq!(a.key.vk, b.key.vk);
    assert_ne!(a.key.vk, c.key.vk);
    assert_eq!(a.info.origin, KeyOrigin::InsecureDevSetup { seed: "seed-a".into() });
    assert!(a.info.origin.is_insecure());
}
