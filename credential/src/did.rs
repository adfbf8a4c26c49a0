//! `did:key` identifiers of ed25519 keys and the multibase forms they use.
//!
//! A `did:key` is `did:key:` + multibase base58btc (`z`) of the multicodec `ed25519-pub`
//! (0xed 0x01) followed by the 32-byte public key; its one verification method is
//! `<did>#<the same multibase value>`. Because the key is in the identifier, anyone resolves it
//! without a network.

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::{Error, Result};

/// Multicodec prefix of an ed25519 public key.
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
/// Multicodec prefix of an ed25519 private key (seed).
const ED25519_PRIV: [u8; 2] = [0x80, 0x26];

/// Multibase base58btc (`z` + base58 with Bitcoin's alphabet).
pub fn multibase_base58btc(bytes: &[u8]) -> String {
    format!("z{}", bs58::encode(bytes).into_string())
}

/// Decodes a multibase base58btc value.
pub fn decode_multibase_base58btc(s: &str) -> Result<Vec<u8>> {
    let rest = s.strip_prefix('z').ok_or_else(|| Error::InvalidKey(format!("`{s}` is not multibase base58btc")))?;
    bs58::decode(rest).into_vec().map_err(|e| Error::InvalidKey(format!("base58: {e}")))
}

/// The `publicKeyMultibase` of an ed25519 key: `z6Mk...`.
pub fn public_key_multibase(key: &VerifyingKey) -> String {
    let mut bytes = ED25519_PUB.to_vec();
    bytes.extend_from_slice(key.as_bytes());
    multibase_base58btc(&bytes)
}

/// Reads a `publicKeyMultibase` of an ed25519 key.
pub fn parse_public_key_multibase(s: &str) -> Result<VerifyingKey> {
    let bytes = decode_multibase_base58btc(s)?;
    let key: [u8; 32] = bytes
        .strip_prefix(&ED25519_PUB[..])
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| Error::InvalidKey("not a multicodec ed25519-pub key of 32 bytes".into()))?;
    VerifyingKey::from_bytes(&key).map_err(|e| Error::InvalidKey(e.to_string()))
}

/// Reads a `secretKeyMultibase` (multicodec `ed25519-priv` seed), as the W3C test vectors give.
pub fn parse_secret_key_multibase(s: &str) -> Result<SigningKey> {
    let bytes = decode_multibase_base58btc(s)?;
    let seed: [u8; 32] = bytes
        .strip_prefix(&ED25519_PRIV[..])
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| Error::InvalidKey("not a multicodec ed25519-priv seed of 32 bytes".into()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// `did:key:z6Mk...` of a key.
pub fn did_key(key: &VerifyingKey) -> String {
    format!("did:key:{}", public_key_multibase(key))
}

/// The verification method of a `did:key`: `did:key:z6Mk...#z6Mk...`.
pub fn verification_method(key: &VerifyingKey) -> String {
    let mb = public_key_multibase(key);
    format!("did:key:{mb}#{mb}")
}

/// The key a `did:key` verification method (or the bare DID) names.
pub fn resolve_verification_method(vm: &str) -> Result<VerifyingKey> {
    let rest = vm.strip_prefix("did:key:").ok_or_else(|| Error::InvalidKey(format!("`{vm}` is not a did:key")))?;
    let (did_part, fragment) = match rest.split_once('#') {
        Some((d, f)) => (d, Some(f)),
        None => (rest, None),
    };
    if fragment.is_some_and(|f| f != did_part) {
        return Err(Error::InvalidKey("a did:key verification method's fragment must repeat the key".into()));
    }
    parse_public_key_multibase(did_part)
}

/// The DID a verification method belongs to (the part before `#`).
pub fn controller_of(vm: &str) -> &str {
    vm.split_once('#').map_or(vm, |(d, _)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w3c_test_vector_keys_round_trip() {
        // vc-di-eddsa TestVectors/keyPair.json, in testdata/.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/vc-di-eddsa-jcs-2022.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        let vector: serde_json::Value = serde_json::from_str(&text).unwrap();
        let pair = &vector["key_pair"];
        let sk = parse_secret_key_multibase(pair["secret_key_multibase"].as_str().unwrap()).unwrap();
        assert_eq!(public_key_multibase(&sk.verifying_key()), pair["public_key_multibase"].as_str().unwrap());
        let vm = verification_method(&sk.verifying_key());
        assert_eq!(resolve_verification_method(&vm).unwrap(), sk.verifying_key());
        assert_eq!(controller_of(&vm), did_key(&sk.verifying_key()));
        assert!(resolve_verification_method("did:web:example.com").is_err());
        assert!(resolve_verification_method(&format!("{}#z6MkOther", did_key(&sk.verifying_key()))).is_err());
    }
}
