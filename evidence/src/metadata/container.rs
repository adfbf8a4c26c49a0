//! Structure walks over image containers: detect truncation and read the declared dimensions
//! before anything is decoded. Each walk is linear in the file size and allocates nothing.

use crate::{Error, MediaType, ReasonCode, Result};

/// What the container says about the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ContainerInfo {
    /// Declared pixel dimensions, where the container states them without decoding.
    pub(crate) dimensions: Option<(u32, u32)>,
}

pub(crate) fn inspect(media_type: MediaType, bytes: &[u8]) -> Result<ContainerInfo> {
    match media_type {
        MediaType::Jpeg => jpeg(bytes),
        MediaType::Png => png(bytes),
        MediaType::Webp => webp(bytes),
        MediaType::Heif => heif(bytes),
        MediaType::Gpx => Ok(ContainerInfo { dimensions: None }),
    }
}

fn truncated(what: &str) -> Error {
    Error::refused(ReasonCode::EvidenceTruncated, format!("{what} ends before its structure does"))
}

fn malformed(detail: impl Into<String>) -> Error {
    Error::refused(ReasonCode::EvidenceMalformed, detail)
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Walks the marker segments up to EOI, skipping entropy-coded data. A file cut anywhere before
/// its EOI marker is truncated; bytes after EOI (phone trailers, motion photos) are allowed.
fn jpeg(b: &[u8]) -> Result<ContainerInfo> {
    let mut dims = None;
    let mut i = 2;
    loop {
        if i >= b.len() {
            return Err(truncated("JPEG"));
        }
        if b[i] != 0xff {
            return Err(malformed(format!("JPEG: expected a marker at byte {i}")));
        }
        while i < b.len() && b[i] == 0xff {
            i += 1;
        }
        let Some(&marker) = b.get(i) else {
            return Err(truncated("JPEG"));
        };
        i += 1;
        match marker {
            0xd9 => {
                return match dims {
                    Some(_) => Ok(ContainerInfo { dimensions: dims }),
                    None => Err(malformed("JPEG: no frame header before EOI")),
                };
            }
            0xd8 => return Err(malformed("JPEG: second SOI")),
            0x01 | 0xd0..=0xd7 => continue,
            0x00 => return Err(malformed("JPEG: stray stuffed byte outside scan data")),
            _ => {}
        }
        if i + 2 > b.len() {
            return Err(truncated("JPEG"));
        }
        let len = be16(b, i) as usize;
        if len < 2 {
            return Err(malformed("JPEG: segment length below 2"));
        }
        let end = i + len;
        if end > b.len() {
            return Err(truncated("JPEG"));
        }
        let is_sof = matches!(marker, 0xc0..=0xcf) && !matches!(marker, 0xc4 | 0xc8 | 0xcc);
        if is_sof {
            if len < 8 {
                return Err(malformed("JPEG: short frame header"));
            }
            let (h, w) = (be16(b, i + 3) as u32, be16(b, i + 5) as u32);
            if w == 0 || h == 0 {
                return Err(malformed("JPEG: zero image dimension"));
            }
            dims.get_or_insert((w, h));
        }
        i = end;
        if marker == 0xda {
            i = skip_entropy_coded(b, i)?;
        }
    }
}

/// Returns the offset of the first marker after entropy-coded data, which escapes 0xFF as
/// 0xFF00 and interleaves RSTn markers.
fn skip_entropy_coded(b: &[u8], mut i: usize) -> Result<usize> {
    loop {
        let Some(off) = memchr::memchr(0xff, &b[i..]) else {
            return Err(truncated("JPEG"));
        };
        i += off;
        let Some(&next) = b.get(i + 1) else {
            return Err(truncated("JPEG"));
        };
        match next {
            0x00 | 0xd0..=0xd7 => i += 2,
            0xff => i += 1,
            _ => return Ok(i),
        }
    }
}

/// Walks the chunks to IEND; IHDR gives the dimensions.
fn png(b: &[u8]) -> Result<ContainerInfo> {
    let mut i = 8;
    let mut dims = None;
    loop {
        if i + 8 > b.len() {
            return Err(truncated("PNG"));
        }
        let len = be32(b, i) as usize;
        let kind = &b[i + 4..i + 8];
        let end = (i + 12).checked_add(len).ok_or_else(|| malformed("PNG: chunk length"))?;
        if end > b.len() {
            return Err(truncated("PNG"));
        }
        if dims.is_none() {
            if kind != b"IHDR" || len < 8 {
                return Err(malformed("PNG: first chunk is not IHDR"));
            }
            let (w, h) = (be32(b, i + 8), be32(b, i + 12));
            if w == 0 || h == 0 {
                return Err(malformed("PNG: zero image dimension"));
            }
            dims = Some((w, h));
        }
        if kind == b"IEND" {
            return Ok(ContainerInfo { dimensions: dims });
        }
        i = end;
    }
}

/// Checks the RIFF size against the file and walks the chunks inside it.
fn webp(b: &[u8]) -> Result<ContainerInfo> {
    let riff_end = (le32(b, 4) as usize).checked_add(8).ok_or_else(|| malformed("RIFF size"))?;
    if riff_end > b.len() {
        return Err(truncated("WebP"));
    }
    let mut i = 12;
    let mut dims = None;
    while i < riff_end {
        if i + 8 > riff_end {
            return Err(malformed("WebP: chunk header past the RIFF end"));
        }
        let len = le32(b, i + 4) as usize;
        let data = i + 8;
        let end = data.checked_add(len).ok_or_else(|| malformed("WebP: chunk size"))?;
        if end > riff_end {
            return Err(truncated("WebP"));
        }
        let chunk = &b[data..end];
        if dims.is_none() {
            dims = match (&b[i..i + 4], chunk.len()) {
                (b"VP8X", 10..) => Some((
                    1 + (u32::from_le_bytes([chunk[4], chunk[5], chunk[6], 0])),
                    1 + (u32::from_le_bytes([chunk[7], chunk[8], chunk[9], 0])),
                )),
                (b"VP8L", 5..) => {
                    let bits = u32::from_le_bytes([chunk[1], chunk[2], chunk[3], chunk[4]]);
                    Some((1 + (bits & 0x3fff), 1 + ((bits >> 14) & 0x3fff)))
                }
                (b"VP8 ", 10..) => Some((
                    u32::from(u16::from_le_bytes([chunk[6], chunk[7]]) & 0x3fff),
                    u32::from(u16::from_le_bytes([chunk[8], chunk[9]]) & 0x3fff),
                )),
                _ => None,
            };
        }
        i = end + (len & 1);
    }
    Ok(ContainerInfo { dimensions: dims })
}

/// Walks the top-level ISO-BMFF boxes; every box must fit in the file. Dimensions live deep in
/// item properties and are not read, since HEIF is never decoded here.
fn heif(b: &[u8]) -> Result<ContainerInfo> {
    let mut i = 0;
    let mut has_meta = false;
    while i < b.len() {
        if i + 8 > b.len() {
            return Err(truncated("HEIF"));
        }
        let (size, header) = match be32(b, i) {
            0 => ((b.len() - i) as u64, 8),
            1 => {
                if i + 16 > b.len() {
                    return Err(truncated("HEIF"));
                }
                let hi = u64::from(be32(b, i + 8));
                let lo = u64::from(be32(b, i + 12));
                ((hi << 32) | lo, 16)
            }
            n => (u64::from(n), 8),
        };
        if size < header {
            return Err(malformed("HEIF: box smaller than its header"));
        }
        if &b[i + 4..i + 8] == b"meta" {
            has_meta = true;
        }
        let end = (i as u64).saturating_add(size);
        if end > b.len() as u64 {
            return Err(truncated("HEIF"));
        }
        i = end as usize;
    }
    if !has_meta {
        return Err(malformed("HEIF: no meta box"));
    }
    Ok(ContainerInfo { dimensions: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_needs_eoi_and_a_frame() {
        let sof = [0xff, 0xc0, 0, 11, 8, 0, 16, 0, 32, 1, 1, 0x11, 0];
        let sos = [0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0];
        let mut f = vec![0xff, 0xd8];
        f.extend_from_slice(&sof);
        f.extend_from_slice(&sos);
        f.extend_from_slice(&[0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56]);
        f.extend_from_slice(&[0xff, 0xd9]);
        assert_eq!(jpeg(&f).unwrap().dimensions, Some((32, 16)));
        for cut in 2..f.len() - 1 {
            let err = jpeg(&f[..cut]).unwrap_err();
            assert_eq!(err.reason(), ReasonCode::EvidenceTruncated, "cut at {cut}");
        }
        // Trailing bytes after EOI are tolerated.
        f.extend_from_slice(b"trailer");
        assert!(jpeg(&f).is_ok());
    }

    #[test]
    fn heif_box_past_the_end_is_truncated() {
        let mut f = b"\0\0\0\x10ftypheic\0\0\0\0".to_vec();
        f.extend_from_slice(b"\0\0\0\x20meta");
        assert_eq!(heif(&f).unwrap_err().reason(), ReasonCode::EvidenceTruncated);
        f.extend_from_slice(&[0; 24]);
        assert!(heif(&f).is_ok());
    }
}
