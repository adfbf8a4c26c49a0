//! Content type sniffing from the file's first bytes, never from a declared header or name.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, ReasonCode, Result};

/// How many leading bytes [`sniff`] looks at.
pub const SNIFF_LEN: usize = 512;

/// The kind of evidence, which selects the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A still image.
    Photo,
    /// A GPS track.
    Track,
}

impl fmt::Display for EvidenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EvidenceKind::Photo => "photo",
            EvidenceKind::Track => "track",
        })
    }
}

/// A supported evidence file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    /// JPEG (JFIF/Exif).
    Jpeg,
    /// HEIF/HEIC (ISO base media file format images).
    Heif,
    /// PNG.
    Png,
    /// WebP (RIFF).
    Webp,
    /// GPX 1.0/1.1 track (XML).
    Gpx,
}

impl MediaType {
    /// The evidence kind of the format.
    pub fn kind(self) -> EvidenceKind {
        match self {
            MediaType::Gpx => EvidenceKind::Track,
            _ => EvidenceKind::Photo,
        }
    }

    /// The MIME type to store and serve the file under.
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Jpeg => "image/jpeg",
            MediaType::Heif => "image/heif",
            MediaType::Png => "image/png",
            MediaType::Webp => "image/webp",
            MediaType::Gpx => "application/gpx+xml",
        }
    }
}

/// ISO-BMFF brands of HEIF still images and sequences (ISO/IEC 23008-12).
const HEIF_BRANDS: &[&[u8; 4]] =
    &[b"mif1", b"msf1", b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"];

/// Magic numbers of archives and compressed streams: refused outright, so nothing is ever
/// unpacked (the zip-bomb defence).
const COMPRESSED: &[(&[u8], &str)] = &[
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"PK\x07\x08", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
];

/// Identifies the format from the first [`SNIFF_LEN`] bytes (fewer if the file is shorter).
pub fn sniff(bytes: &[u8]) -> Result<MediaType> {
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    if head.is_empty() {
        return Err(Error::refused(ReasonCode::EvidenceEmpty, "empty file"));
    }
    if head.starts_with(&[0xff, 0xd8, 0xff]) {
        return Ok(MediaType::Jpeg);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(MediaType::Png);
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Ok(MediaType::Webp);
    }
    if is_heif(head) {
        return Ok(MediaType::Heif);
    }
    if looks_like_xml(head) {
        return Ok(MediaType::Gpx);
    }
    if let Some((_, name)) = COMPRESSED.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Err(Error::refused(
            ReasonCode::EvidenceCompressedUnsupported,
            format!("{name} archives and compressed streams are not accepted"),
        ));
    }
    Err(Error::refused(ReasonCode::EvidenceTypeUnsupported, "not a JPEG, HEIF, PNG, WebP or GPX file"))
}

fn is_heif(head: &[u8]) -> bool {
    if head.len() < 16 || &head[4..8] != b"ftyp" {
        return false;
    }
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let end = size.clamp(16, head.len());
    // Major brand at 8..12, minor version at 12..16, compatible brands after.
    std::iter::once(&head[8..12])
        .chain(head[16..end].chunks_exact(4))
        .any(|brand| HEIF_BRANDS.iter().any(|b| &b[..] == brand))
}

fn looks_like_xml(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    let rest = &head[start..];
    rest.starts_with(b"<?xml") || rest.starts_with(b"<gpx")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(bytes: &[u8]) -> ReasonCode {
        sniff(bytes).unwrap_err().reason()
    }

    #[test]
    fn recognises_each_format_by_its_magic() {
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF").unwrap(), MediaType::Jpeg);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap(), MediaType::Png);
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 ").unwrap(), MediaType::Webp);
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic").unwrap(), MediaType::Heif);
        assert_eq!(sniff(b"\0\0\0\x14ftypXXXX\0\0\0\0mif1").unwrap(), MediaType::Heif);
        assert_eq!(sniff(b"\xef\xbb\xbf\n  <?xml version=\"1.0\"?><gpx>").unwrap(), MediaType::Gpx);
        assert_eq!(sniff(b"<gpx version=\"1.1\">").unwrap(), MediaType::Gpx);
    }

    #[test]
    fn refuses_everything_else_with_a_code() {
        assert_eq!(code(b""), ReasonCode::EvidenceEmpty);
        assert_eq!(code(b"PK\x03\x04\x14\0"), ReasonCode::EvidenceCompressedUnsupported);
        assert_eq!(code(b"\x1f\x8b\x08\0"), ReasonCode::EvidenceCompressedUnsupported);
        assert_eq!(code(b"GIF89a"), ReasonCode::EvidenceTypeUnsupported);
        assert_eq!(code(b"\0\0\0\x18ftypmp42\0\0\0\0isommp42"), ReasonCode::EvidenceTypeUnsupported);
        // A JPEG needs the third byte of its marker too.
        assert_eq!(code(b"\xff\xd8"), ReasonCode::EvidenceTypeUnsupported);
        assert_eq!(code(b"%PDF-1.7"), ReasonCode::EvidenceTypeUnsupported);
    }

    #[test]
    fn only_the_head_counts() {
        let mut late = vec![b' '; SNIFF_LEN];
        late.extend_from_slice(b"<?xml");
        assert_eq!(code(&late), ReasonCode::EvidenceTypeUnsupported);
    }
}
