//! Key files: a short text header (what the key is for, where it came from, the SHA-256 of the
//! payload) followed by the arkworks serialisation of the key. The last header line, `sha256`,
//! hashes every header line above it and the payload, so the origin is as tamper-evident as the
//! key: deleting the INSECURE label from a development key breaks the file.
//!
//! ```text
//! jejak-zk-key/v2
//! kind: proving-key
//! curve: bn254
//! circuit: jejak-reputation
//! depth: 20
//! public-inputs: 6
//! constraints: 6038
//! circuit-sha256: 3f6c...
//! reduction: libsnark
//! origin: INSECURE development setup (seed "jejak-dev-setup/v1"): anyone can forge proofs; never use outside development
//! payload-bytes: 3145920
//! payload-sha256: 9a1b...
//! sha256: 5c0e...
//!
//! <payload>
//! ```
//!
//! Reading checks the file's hash and the payload's length and hash before deserialising it;
//! verifying keys are also validated point by point (on the curve, in the subgroup). Files of
//! version 1, whose origin line no hash covered, are refused: make them again.

use std::{fmt, path::Path, str::FromStr};

use ark_bn254::Bn254;
use ark_groth16::{ProvingKey, VerifyingKey};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use sha2::{Digest, Sha256};

use crate::{Error, Result, shape::CircuitShape};

const MAGIC: &str = "jejak-zk-key/v2";

/// Which R1CS-to-QAP reduction a proving key expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// arkworks' default (keys from `jejak zk setup`).
    Libsnark,
    /// circom/snarkjs' (keys imported from a `.zkey`).
    Circom,
}

impl fmt::Display for Reduction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Libsnark => "libsnark",
            Self::Circom => "circom",
        })
    }
}

impl FromStr for Reduction {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "libsnark" => Ok(Self::Libsnark),
            "circom" => Ok(Self::Circom),
            other => Err(Error::InvalidKeyFile(format!("unknown reduction `{other}`"))),
        }
    }
}

/// Where a key came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `jejak zk setup`: toxic waste derived from a public seed. Anyone who knows the seed can
    /// forge proofs: for development and tests only.
    InsecureDevSetup {
        /// The seed.
        seed: String,
    },
    /// Imported from a snarkjs phase-2 `.zkey` (a multi-party ceremony).
    Zkey {
        /// SHA-256 of the `.zkey` file, hex.
        sha256: String,
    },
}

impl fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_header())
    }
}

impl KeyOrigin {
    /// Whether the key comes from the insecure development setup.
    pub fn is_insecure(&self) -> bool {
        matches!(self, Self::InsecureDevSetup { .. })
    }

    fn to_header(&self) -> String {
        match self {
            Self::InsecureDevSetup { seed } => format!(
                "INSECURE development setup (seed {}): anyone can forge proofs; never use outside development",
                serde_json::Value::from(seed.as_str())
            ),
            Self::Zkey { sha256 } => format!("snarkjs zkey sha256:{sha256}"),
        }
    }

    /// A short machine-readable name: `insecure-dev-setup` or `ceremony-zkey`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InsecureDevSetup { .. } => "insecure-dev-setup",
            Self::Zkey { .. } => "ceremony-zkey",
        }
    }

    fn from_header(s: &str) -> Result<Self> {
        if let Some(rest) = s.strip_prefix("INSECURE development setup (seed ") {
            let mut values = serde_json::Deserializer::from_str(rest).into_iter::<String>();
            let seed = values.next().ok_or_else(|| Error::InvalidKeyFile("origin has no seed".into()))??;
            if !rest[values.byte_offset()..].starts_with("):") {
                return Err(Error::InvalidKeyFile("malformed origin".into()));
            }
            Ok(Self::InsecureDevSetup { seed })
        } else if let Some(sha) = s.strip_prefix("snarkjs zkey sha256:") {
            if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::InvalidKeyFile("origin: a zkey hash is 64 hex digits".into()));
            }
            Ok(Self::Zkey { sha256: sha.to_owned() })
        } else {
            Err(Error::InvalidKeyFile(format!("unknown origin `{s}`")))
        }
    }
}

/// What a key is for: the header of a key file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    /// Tree depth of the circuit.
    pub depth: usize,
    /// Public inputs of the circuit.
    pub public_inputs: usize,
    /// Constraints of the circuit.
    pub constraints: usize,
    /// SHA-256 of the circuit's matrices ([`CircuitShape::digest`]), hex.
    pub circuit_sha256: String,
    /// The reduction proofs must use.
    pub reduction: Reduction,
    /// Where the key came from.
    pub origin: KeyOrigin,
}

impl KeyInfo {
    /// The header for a key of `shape`.
    pub fn for_shape(shape: &CircuitShape, reduction: Reduction, origin: KeyOrigin) -> Self {
        Self {
            depth: shape.depth,
            public_inputs: shape.num_public(),
            constraints: shape.num_constraints,
            circuit_sha256: shape.digest_hex(),
            reduction,
            origin,
        }
    }

    /// Fails unless this key was made for `shape`.
    pub fn check_shape(&self, shape: &CircuitShape) -> Result<()> {
        if self.depth != shape.depth
            || self.public_inputs != shape.num_public()
            || self.constraints != shape.num_constraints
            || self.circuit_sha256 != shape.digest_hex()
        {
            return Err(Error::CircuitMismatch(format!(
                "key is for depth {} ({} constraints, circuit {}), this circuit is depth {} ({} constraints, circuit {})",
                self.depth,
                self.constraints,
                short(&self.circuit_sha256),
                shape.depth,
                shape.num_constraints,
                short(&shape.digest_hex())
            )));
        }
        Ok(())
    }
}

fn short(hex: &str) -> &str {
    &hex[..hex.len().min(12)]
}

/// The two kinds of key file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// A proving key (holds the verifying key too).
    Proving,
    /// A verifying key.
    Verifying,
}

impl KeyKind {
    fn name(self) -> &'static str {
        match self {
            Self::Proving => "proving-key",
            Self::Verifying => "verifying-key",
        }
    }
}

/// A proving key with its header.
#[derive(Clone, Debug)]
pub struct ProvingKeyFile {
    /// Header.
    pub info: KeyInfo,
    /// The key.
    pub key: ProvingKey<Bn254>,
}

/// A verifying key with its header.
#[derive(Clone, Debug)]
pub struct VerifyingKeyFile {
    /// Header.
    pub info: KeyInfo,
    /// The key.
    pub key: VerifyingKey<Bn254>,
}

impl ProvingKeyFile {
    /// The key file's bytes: header and uncompressed payload.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut payload = Vec::new();
        self.key.serialize_uncompressed(&mut payload)?;
        Ok(encode(KeyKind::Proving, &self.info, &payload))
    }

    /// Parses and checks a key file. Points are trusted once the payload matches its hash (a bad
    /// proving key can only make proofs that fail to verify, and full validation of a few
    /// thousand G2 points would dominate loading).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (info, payload) = decode(KeyKind::Proving, bytes)?;
        let key = ProvingKey::deserialize_with_mode(payload, Compress::No, Validate::No)?;
        Ok(Self { info, key })
    }

    /// Writes the key file.
    pub fn write(&self, path: &Path) -> Result<String> {
        write_file(path, &self.to_bytes()?)
    }

    /// Reads a key file.
    pub fn read(path: &Path) -> Result<Self> {
        Self::from_bytes(&std::fs::read(path).map_err(Error::io(path))?)
    }

    /// The verifying key file that goes with this proving key.
    pub fn verifying_key(&self) -> VerifyingKeyFile {
        VerifyingKeyFile { info: self.info.clone(), key: self.key.vk.clone() }
    }
}

impl VerifyingKeyFile {
    /// The key file's bytes: header and compressed payload.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut payload = Vec::new();
        self.key.serialize_compressed(&mut payload)?;
        Ok(encode(KeyKind::Verifying, &self.info, &payload))
    }

    /// Parses and checks a key file, validating every point.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (info, payload) = decode(KeyKind::Verifying, bytes)?;
        let key = VerifyingKey::deserialize_with_mode(payload, Compress::Yes, Validate::Yes)?;
        if key.gamma_abc_g1.len() != info.public_inputs + 1 {
            return Err(Error::InvalidKeyFile(format!(
                "{} IC points for {} public inputs",
                key.gamma_abc_g1.len(),
                info.public_inputs
            )));
        }
        Ok(Self { info, key })
    }

    /// Writes the key file.
    pub fn write(&self, path: &Path) -> Result<String> {
        write_file(path, &self.to_bytes()?)
    }

    /// Reads a key file.
    pub fn read(path: &Path) -> Result<Self> {
        Self::from_bytes(&std::fs::read(path).map_err(Error::io(path))?)
    }

    /// SHA-256 of the key payload, hex: the key's identity in proof bundles.
    pub fn key_hash(&self) -> Result<String> {
        let mut payload = Vec::new();
        self.key.serialize_compressed(&mut payload)?;
        Ok(hex::encode(Sha256::digest(&payload)))
    }
}

/// Writes `bytes` to `path` and returns the SHA-256 of the file's payload as recorded in it.
fn write_file(path: &Path, bytes: &[u8]) -> Result<String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    }
    std::fs::write(path, bytes).map_err(Error::io(path))?;
    let (_, header) = split_header(bytes)?;
    Ok(header_field(header, "payload-sha256")?.to_owned())
}

fn encode(kind: KeyKind, info: &KeyInfo, payload: &[u8]) -> Vec<u8> {
    let covered = format!(
        "{MAGIC}\nkind: {}\ncurve: bn254\ncircuit: jejak-reputation\ndepth: {}\npublic-inputs: {}\nconstraints: {}\n\
         circuit-sha256: {}\nreduction: {}\norigin: {}\npayload-bytes: {}\npayload-sha256: {}\n",
        kind.name(),
        info.depth,
        info.public_inputs,
        info.constraints,
        info.circuit_sha256,
        info.reduction,
        info.origin.to_header(),
        payload.len(),
        hex::encode(Sha256::digest(payload)),
    );
    let file_hash = file_sha256(covered.as_bytes(), payload);
    [covered.as_bytes(), format!("sha256: {file_hash}\n\n").as_bytes(), payload].concat()
}

/// SHA-256 of the header lines above the `sha256` line and of the payload, hex.
fn file_sha256(covered: &[u8], payload: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(covered);
    h.update(payload);
    hex::encode(h.finalize())
}

fn split_header(bytes: &[u8]) -> Result<(&[u8], &str)> {
    let end = bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .filter(|&p| p < 4096)
        .ok_or_else(|| Error::InvalidKeyFile("no header".into()))?;
    let header = std::str::from_utf8(&bytes[..end]).map_err(|_| Error::InvalidKeyFile("header is not UTF-8".into()))?;
    match header.lines().next() {
        Some(MAGIC) => {}
        Some("jejak-zk-key/v1") => {
            return Err(Error::InvalidKeyFile(
                "a version 1 key file (its origin is not covered by its hash): make it again with this version".into(),
            ));
        }
        _ => return Err(Error::InvalidKeyFile(format!("not a {MAGIC} file"))),
    }
    Ok((&bytes[end + 2..], header))
}

/// Fails unless the header's last line is `sha256: H` with H the hash of the lines above it and
/// of the payload.
fn check_file_hash(header: &str, payload: &[u8]) -> Result<()> {
    let (covered, last) = header.rsplit_once('\n').ok_or_else(|| Error::InvalidKeyFile("header too short".into()))?;
    let expected =
        last.strip_prefix("sha256: ").ok_or_else(|| Error::InvalidKeyFile("header has no `sha256`".into()))?;
    let actual = file_sha256(format!("{covered}\n").as_bytes(), payload);
    if expected != actual {
        return Err(Error::KeyHashMismatch { expected: expected.to_owned(), actual });
    }
    Ok(())
}

fn header_field<'a>(header: &'a str, name: &str) -> Result<&'a str> {
    header
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
        .ok_or_else(|| Error::InvalidKeyFile(format!("header has no `{name}`")))
}

fn parse_number(header: &str, name: &str) -> Result<usize> {
    header_field(header, name)?.parse().map_err(|_| Error::InvalidKeyFile(format!("`{name}` is not a number")))
}

fn decode(kind: KeyKind, bytes: &[u8]) -> Result<(KeyInfo, &[u8])> {
    let (payload, header) = split_header(bytes)?;
    // A truncated file is reported as such before its hash is.
    if parse_number(header, "payload-bytes")? != payload.len() {
        return Err(Error::InvalidKeyFile(format!(
            "payload is {} bytes, header says {}",
            payload.len(),
            header_field(header, "payload-bytes")?
        )));
    }
    check_file_hash(header, payload)?;
    let found = header_field(header, "kind")?;
    if found != kind.name() {
        return Err(Error::InvalidKeyFile(format!("expected a {}, found a {found}", kind.name())));
    }
    if header_field(header, "curve")? != "bn254" || header_field(header, "circuit")? != "jejak-reputation" {
        return Err(Error::InvalidKeyFile("not a BN254 jejak-reputation key".into()));
    }
    let expected = header_field(header, "payload-sha256")?;
    let actual = hex::encode(Sha256::digest(payload));
    if expected != actual {
        return Err(Error::KeyHashMismatch { expected: expected.to_owned(), actual });
    }
    let info = KeyInfo {
        depth: parse_number(header, "depth")?,
        public_inputs: parse_number(header, "public-inputs")?,
        constraints: parse_number(header, "constraints")?,
        circuit_sha256: header_field(header, "circuit-sha256")?.to_owned(),
        reduction: header_field(header, "reduction")?.parse()?,
        origin: KeyOrigin::from_header(header_field(header, "origin")?)?,
    };
    Ok((info, payload))
}
