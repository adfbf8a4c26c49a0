//! Streaming SHA-256 with size counting, early type sniffing and per-kind size limits, fed while
//! an upload streams.

use std::io::Read;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{Digest, Error, EvidenceKind, MediaType, Result, sniff::SNIFF_LEN, sniff::sniff};

/// Size limits per evidence kind, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SizeLimits {
    /// Largest photo accepted (default 25 MiB).
    pub photo_bytes: u64,
    /// Largest GPS track accepted (default 50 MiB).
    pub track_bytes: u64,
}

impl Default for SizeLimits {
    fn default() -> Self {
        Self { photo_bytes: 25 << 20, track_bytes: 50 << 20 }
    }
}

impl SizeLimits {
    /// The limit of one kind.
    pub fn for_kind(&self, kind: EvidenceKind) -> u64 {
        match kind {
            EvidenceKind::Photo => self.photo_bytes,
            EvidenceKind::Track => self.track_bytes,
        }
    }

    /// The largest limit, and its kind: what applies before the type is known.
    fn largest(&self) -> (EvidenceKind, u64) {
        if self.photo_bytes >= self.track_bytes {
            (EvidenceKind::Photo, self.photo_bytes)
        } else {
            (EvidenceKind::Track, self.track_bytes)
        }
    }
}

/// What [`UploadDigest::finish`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digested {
    /// SHA-256 of the whole file.
    pub sha256: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// Its sniffed type.
    pub media_type: MediaType,
}

/// Hashes an upload chunk by chunk, sniffs its type from the first bytes and enforces the size
/// limit of that type as soon as it is crossed, so the caller can abort the upload early.
///
/// ```
/// use jejak_evidence::{SizeLimits, UploadDigest};
/// let mut d = UploadDigest::new(SizeLimits::default());
/// d.update(b"<?xml version=\"1.0\"?>")?;
/// d.update(b"<gpx></gpx>")?;
/// let done = d.finish()?;
/// assert_eq!(done.size, 32);
/// # Ok::<(), jejak_evidence::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct UploadDigest {
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    media_type: Option<MediaType>,
    limits: SizeLimits,
}

impl UploadDigest {
    /// Starts an empty digest.
    pub fn new(limits: SizeLimits) -> Self {
        Self { hasher: Sha256::new(), size: 0, head: Vec::with_capacity(SNIFF_LEN), media_type: None, limits }
    }

    /// Feeds the next chunk. Fails with [`Error::TooLarge`] as soon as the size limit of the
    /// sniffed kind (or the largest limit while the type is unknown) is crossed, and with a
    /// refusal as soon as the first bytes are known not to be a supported type.
    pub fn update(&mut self, chunk: &[u8]) -> Result<()> {
        self.size = self.size.saturating_add(chunk.len() as u64);
        self.hasher.update(chunk);
        if self.media_type.is_none() {
            let take = (SNIFF_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
            if self.head.len() == SNIFF_LEN {
                self.media_type = Some(sniff(&self.head)?);
            }
        }
        self.check_size()
    }

    /// Bytes fed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The type, once [`SNIFF_LEN`] bytes have been seen.
    pub fn media_type(&self) -> Option<MediaType> {
        self.media_type
    }

    /// Ends the stream: the hash, the size and the type.
    pub fn finish(mut self) -> Result<Digested> {
        let media_type = match self.media_type {
            Some(m) => m,
            None => sniff(&self.head)?,
        };
        self.media_type = Some(media_type);
        self.check_size()?;
        Ok(Digested { sha256: self.hasher.finalize().into(), size: self.size, media_type })
    }

    fn check_size(&self) -> Result<()> {
        let (kind, limit) = match self.media_type {
            Some(m) => (m.kind(), self.limits.for_kind(m.kind())),
            None => self.limits.largest(),
        };
        if self.size > limit {
            return Err(Error::TooLarge { kind, limit, size: self.size });
        }
        Ok(())
    }
}

/// Reads `reader` to its end through an [`UploadDigest`], stopping at the first refusal.
pub fn digest_reader<R: Read>(mut reader: R, limits: SizeLimits) -> std::io::Result<Result<Digested>> {
    let mut digest = UploadDigest::new(limits);
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Err(e) = digest.update(&buf[..n]) {
            return Ok(Err(e));
        }
    }
    Ok(digest.finish())
}

/// SHA-256 of a byte slice.
pub fn sha256(bytes: &[u8]) -> Digest {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReasonCode;

    fn jpeg_head() -> Vec<u8> {
        let mut v = vec![0xff, 0xd8, 0xff, 0xe0];
        v.resize(SNIFF_LEN, 0);
        v
    }

    #[test]
    fn chunked_hash_equals_one_shot_hash() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut full = jpeg_head();
        full.extend_from_slice(&data);
        for chunk in [1, 3, 511, 512, 513, 4096, full.len()] {
            let mut d = UploadDigest::new(SizeLimits::default());
            for c in full.chunks(chunk) {
                d.update(c).unwrap();
            }
            let out = d.finish().unwrap();
            assert_eq!(out.sha256, sha256(&full));
            assert_eq!(out.size, full.len() as u64);
            assert_eq!(out.media_type, MediaType::Jpeg);
        }
    }

    #[test]
    fn photo_limit_applies_once_sniffed() {
        let limits = SizeLimits { photo_bytes: 1000, track_bytes: 5000 };
        let mut d = UploadDigest::new(limits);
        d.update(&jpeg_head()).unwrap();
        d.update(&[0; 488]).unwrap();
        let err = d.update(&[0; 1]).unwrap_err();
        assert_eq!(err.reason(), ReasonCode::EvidenceTooLarge);
        assert!(matches!(err, Error::TooLarge { kind: EvidenceKind::Photo, limit: 1000, size: 1001 }));
    }

    #[test]
    fn largest_limit_applies_before_sniffing() {
        let limits = SizeLimits { photo_bytes: 100, track_bytes: 300 };
        let mut d = UploadDigest::new(limits);
        assert!(d.update(&[b' '; 300]).is_ok());
        let err = d.update(b"<").unwrap_err();
        assert!(matches!(err, Error::TooLarge { kind: EvidenceKind::Track, limit: 300, .. }));
    }

    #[test]
    fn unsupported_type_is_refused_as_soon_as_known() {
        let mut d = UploadDigest::new(SizeLimits::default());
        let err = d.update(&[b'x'; SNIFF_LEN]).unwrap_err();
        assert_eq!(err.reason(), ReasonCode::EvidenceTypeUnsupported);
        let d = UploadDigest::new(SizeLimits::default());
        assert_eq!(d.finish().unwrap_err().reason(), ReasonCode::EvidenceEmpty);
    }

    #[test]
    fn reader_helper_stops_at_the_limit() {
        let limits = SizeLimits { photo_bytes: 10_000, track_bytes: 10_000 };
        let big = std::io::repeat(0xff).take(1 << 30);
        let head = std::io::Cursor::new(jpeg_head());
        let out = digest_reader(head.chain(big), limits).unwrap();
        assert_eq!(out.unwrap_err().reason(), ReasonCode::EvidenceTooLarge);
    }
}
