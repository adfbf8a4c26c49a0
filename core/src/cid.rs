//! CIDv1 identifiers for raw IPFS blocks (codec `raw` 0x55, multihash sha2-256, base32 lower).
//!
//! Every document jejak publishes is one raw block, so its CID is the SHA-256 of its bytes and
//! anyone can check content against its name without trusting where it came from.

use sha2::{Digest as _, Sha256};

use crate::{Error, Result};

pub use ::cid::Cid;

/// Multicodec code of raw binary blocks.
pub const RAW: u64 = 0x55;
/// Multicodec code of dag-pb (UnixFS) blocks, accepted when checking blocks fetched from others.
pub const DAG_PB: u64 = 0x70;
/// Multihash code of sha2-256.
pub const SHA2_256: u64 = 0x12;
/// Longest CID string the jejak contracts accept (`JejakLimits.MAX_CID_LENGTH`), in bytes; the
/// indexer refuses longer ones from any log.
pub const MAX_CID_LEN: usize = 128;

/// The CIDv1 (raw codec, sha2-256) of `bytes`.
pub fn raw_cid(bytes: &[u8]) -> Cid {
    let digest = Sha256::digest(bytes);
    let mh = multihash::Multihash::<64>::wrap(SHA2_256, &digest).expect("32-byte digest fits");
    Cid::new_v1(RAW, mh)
}

/// Parses a CID string and checks it names content jejak can verify (sha2-256).
pub fn parse(s: &str) -> Result<Cid> {
    let cid = Cid::try_from(s).map_err(|e| Error::InvalidCid(format!("{s}: {e}")))?;
    if cid.hash().code() != SHA2_256 || cid.hash().size() != 32 {
        return Err(Error::InvalidCid(format!("{s}: only sha2-256 multihashes are accepted")));
    }
    Ok(cid)
}

/// Checks that `bytes` are the block named by `cid`: the multihash is recomputed over every byte.
pub fn verify(cid: &Cid, bytes: &[u8]) -> Result<()> {
    if cid.hash().code() != SHA2_256 {
        return Err(Error::InvalidCid(format!("{cid}: unsupported multihash")));
    }
    if cid.hash().digest() != &Sha256::digest(bytes)[..] {
        return Err(Error::CidMismatch { cid: cid.to_string() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_vectors() {
        #[derive(serde::Deserialize)]
        struct File {
            vectors: Vec<Vector>,
        }
        #[derive(serde::Deserialize)]
        struct Vector {
            hex: String,
            cidv1_raw: String,
        }
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/cid.json");
        let file: File = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        assert!(!file.vectors.is_empty());
        for v in file.vectors {
            let bytes = hex::decode(&v.hex).unwrap();
            assert_eq!(raw_cid(&bytes).to_string(), v.cidv1_raw);
            let parsed = parse(&v.cidv1_raw).unwrap();
            verify(&parsed, &bytes).unwrap();
            assert!(matches!(verify(&parsed, b"tampered"), Err(Error::CidMismatch { .. })));
        }
    }

    #[test]
    fn rejects_garbage_and_foreign_hashes() {
        assert!(parse("not a cid").is_err());
        // An identity-multihash CID names no hashed content.
        let id = Cid::new_v1(RAW, multihash::Multihash::<64>::wrap(0x00, b"hi").unwrap());
        assert!(parse(&id.to_string()).is_err());
    }
}
