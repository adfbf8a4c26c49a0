//! Malformed and hostile files are refused with a reason code: never a panic, a hang or a huge
//! allocation.

use std::io::Read;
use std::time::{Duration, Instant};

use jejak_evidence::testkit::{encode_jpeg, flat_jpeg, flat_png, scene};
use jejak_evidence::{
    Error, EvidenceKind, MediaType, ParseLimits, ReasonCode, SizeLimits, analyze, digest_reader, perceptual_hash,
};

use crate::support::*;

fn refused(bytes: &[u8]) -> ReasonCode {
    analyze(bytes, &SizeLimits::default(), &ParseLimits::default()).expect_err("refused").reason()
}

#[test]
fn truncated_jpeg_is_refused() {
    let jpeg = honest_photo(1, 20).jpeg();
    assert_eq!(refused(&jpeg[..jpeg.len() * 6 / 10]), ReasonCode::EvidenceTruncated);
    assert_eq!(refused(&jpeg[..jpeg.len() - 2]), ReasonCode::EvidenceTruncated);
    // Cut inside the EXIF segment.
    assert_eq!(refused(&jpeg[..40]), ReasonCode::EvidenceTruncated);
}

#[test]
fn every_strict_prefix_of_every_format_is_refused() {
    let spec = honest_photo(1, 20);
    for (name, bytes, tail_ok) in [
        ("jpeg", spec.jpeg(), 0),
        ("png", spec.png(), 0),
        ("webp", spec.webp(), 0),
        ("heif", spec.heif(), 0),
        // The document is complete before its final newline.
        ("gpx", honest_track(), 1),
    ] {
        let n = bytes.len();
        let cuts: Vec<usize> = (1..64.min(n)).chain((64..n - tail_ok).step_by(((n - 64) / 200).max(1))).collect();
        for cut in cuts {
            let result = analyze(&bytes[..cut], &SizeLimits::default(), &ParseLimits::default());
            assert!(result.is_err(), "{name} cut at {cut} of {n} was accepted");
        }
    }
}

#[test]
fn zip_bomb_is_never_unpacked() {
    // A zip local file header announcing a 4 GiB deflated member.
    let mut zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00".to_vec();
    zip.extend_from_slice(&[0; 8]);
    zip.extend_from_slice(&1000u32.to_le_bytes());
    zip.extend_from_slice(&u32::MAX.to_le_bytes());
    zip.extend_from_slice(&[9, 0, 0, 0]);
    zip.extend_from_slice(b"photo.jpg");
    zip.extend_from_slice(&[0x78; 1000]);
    assert_eq!(refused(&zip), ReasonCode::EvidenceCompressedUnsupported);
    assert_eq!(refused(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"), ReasonCode::EvidenceCompressedUnsupported);
}

fn png_chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let mut crc = !0u32;
    for &b in kind.iter().chain(data) {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    [&(data.len() as u32).to_be_bytes()[..], kind, data, &(!crc).to_be_bytes()].concat()
}

#[test]
fn decompression_bomb_png_is_refused_by_its_declared_size() {
    // 100,000 x 100,000 RGB would inflate to 30 GB.
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(b"IDAT", &[0x78, 0xda, 0xed, 0xc1, 0x01, 0x0d, 0x00, 0x00]));
    png.extend(png_chunk(b"IEND", &[]));
    let start = Instant::now();
    assert_eq!(refused(&png), ReasonCode::EvidenceImageTooLarge);
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn enormous_jpeg_dimensions_are_refused_before_decoding() {
    let mut jpeg = honest_photo(1, 20).jpeg();
    let sof = jpeg.windows(2).position(|w| w == [0xff, 0xc0]).expect("baseline frame header");
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    assert_eq!(refused(&jpeg), ReasonCode::EvidenceImageTooLarge);
}

#[test]
fn decompression_bombs_hash_in_bounded_memory() {
    // 120 megapixels each, the most a photo may have: 360 MB of RGB and 480 MB of RGBA decoded.
    let jpeg = flat_jpeg(10_000, 12_000);
    let png = flat_png(10_000, 12_000);
    assert!(jpeg.len() < 1 << 20 && png.len() < 1 << 20, "{} and {} bytes", jpeg.len(), png.len());
    for (name, bytes) in [("JPEG", &jpeg), ("PNG", &png)] {
        let (analyzed, peak) = peak_rss_during(|| analyze(bytes, &SizeLimits::default(), &ParseLimits::default()));
        let analyzed = analyzed.unwrap_or_else(|e| panic!("{name}: {e}"));
        // A flat image: every cell equal, no bit set.
        assert_eq!(analyzed.perceptual_hash.map(|h| h.0), Some(0), "{name}");
        assert!(peak < 48 << 20, "{name}: decoding raised the peak resident memory by {} MiB", peak >> 20);
    }
    // Over the per-side or pixel limits they are refused before anything is decoded.
    let tight = ParseLimits { max_pixels: 50_000_000, ..ParseLimits::default() };
    for bytes in [&jpeg, &png] {
        let e = analyze(bytes, &SizeLimits::default(), &tight).unwrap_err();
        assert_eq!(e.reason(), ReasonCode::EvidenceImageTooLarge);
    }
}

#[test]
fn progressive_jpeg_coefficients_over_the_cap_are_refused() {
    let img = scene(3, 640, 480);
    let mut progressive = Vec::new();
    // The image crate writes baseline JPEGs only: mark the frame progressive, which is enough
    // for the decoder-memory check that runs before any decoding.
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut progressive, 90).encode_image(&img).unwrap();
    let sof = progressive.windows(2).position(|w| w == [0xff, 0xc0]).unwrap();
    progressive[sof + 1] = 0xc2;
    // 640x480 keeps at least 640x480x1.5 coefficients (4:2:0) of 2 bytes: 921,600 bytes.
    let tight = ParseLimits { max_decode_alloc: 900_000, ..ParseLimits::default() };
    let e = perceptual_hash(MediaType::Jpeg, &progressive, &tight).unwrap_err();
    assert_eq!(e.reason(), ReasonCode::EvidenceImageTooLarge, "{e}");
}

#[test]
fn decoder_allocation_is_capped() {
    let jpeg = honest_photo(1, 20).jpeg();
    let tight = ParseLimits { max_decode_alloc: 64 << 10, ..ParseLimits::default() };
    let err = perceptual_hash(MediaType::Jpeg, &jpeg, &tight).unwrap_err();
    assert_eq!(err.reason(), ReasonCode::EvidenceImageTooLarge);
}

#[test]
fn file_claiming_to_be_a_jpeg_is_refused() {
    // A name or Content-Type of image/jpeg changes nothing: only bytes count.
    assert_eq!(refused(b"<html><body>definitely a photo.jpg</body></html>"), ReasonCode::EvidenceTypeUnsupported);
    assert_eq!(refused(b"GIF89a\x01\x00\x01\x00"), ReasonCode::EvidenceTypeUnsupported);
    // JPEG magic, then garbage.
    let mut fake = vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10];
    fake.extend_from_slice(b"JFIF\0 not really a jpeg at all, just text");
    let code = refused(&fake);
    assert!(matches!(code, ReasonCode::EvidenceMalformed | ReasonCode::EvidenceTruncated), "{code}");
    // A structurally valid JPEG whose scan data is garbage decodes to nothing useful.
    let mut jpeg = encode_jpeg(&scene(1, 64, 64), 90);
    let sos = jpeg.windows(2).position(|w| w == [0xff, 0xda]).unwrap();
    let end = jpeg.len() - 2;
    for b in &mut jpeg[sos + 14..end] {
        *b = 0xff;
    }
    let result = analyze(&jpeg, &SizeLimits::default(), &ParseLimits::default());
    if let Err(e) = result {
        assert!(matches!(
            e.reason(),
            ReasonCode::EvidenceImageUndecodable | ReasonCode::EvidenceTruncated | ReasonCode::EvidenceMalformed
        ));
    }
}

/// Counts what the refusing side actually read.
struct Counting<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

#[test]
fn one_gigabyte_upload_is_cut_off_at_the_limit() {
    let head = honest_photo(1, 20).jpeg();
    let body = std::io::repeat(0x55).take(1 << 30);
    let mut reader = Counting { inner: std::io::Cursor::new(head).chain(body), read: 0 };
    let result = digest_reader(&mut reader, SizeLimits::default()).unwrap();
    let err = result.unwrap_err();
    assert_eq!(err.reason(), ReasonCode::EvidenceTooLarge);
    assert!(matches!(err, Error::TooLarge { kind: EvidenceKind::Photo, limit, .. } if limit == 25 << 20));
    assert!(reader.read <= (25 << 20) + (64 << 10), "read {} bytes", reader.read);
    // A complete file over the limit is refused by analyze too.
    let small = SizeLimits { photo_bytes: 1000, track_bytes: 1000 };
    let e = analyze(&honest_photo(1, 20).jpeg(), &small, &ParseLimits::default()).unwrap_err();
    assert_eq!(e.reason(), ReasonCode::EvidenceTooLarge);
}

#[test]
fn hostile_gpx_is_refused() {
    let laughs = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<gpx><metadata><desc>&lol9;</desc></metadata></gpx>"#;
    assert_eq!(refused(laughs), ReasonCode::EvidenceXmlDoctype);
    let xxe = br#"<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><gpx>&xxe;</gpx>"#;
    assert_eq!(refused(xxe), ReasonCode::EvidenceXmlDoctype);
    let deep = format!("<?xml version=\"1.0\"?><gpx>{}</gpx>", "<extensions>".repeat(100_000));
    let start = Instant::now();
    assert_eq!(refused(deep.as_bytes()), ReasonCode::EvidenceXmlTooDeep);
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(refused(b"<?xml version=\"1.0\"?><kml></kml>"), ReasonCode::EvidenceNotGpx);
    assert_eq!(refused(b"<?xml version=\"1.0\"?>\xff\xfe<gpx/>"), ReasonCode::EvidenceXmlMalformed);
}

/// xorshift64*, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_mutations_never_panic_or_hang() {
    let spec = honest_photo(1, 20);
    let mut rng = Rng(0x6a65_6a61_6b21);
    let mut refusals = std::collections::BTreeMap::<&str, usize>::new();
    for bytes in [spec.jpeg(), spec.png(), spec.webp(), spec.heif(), honest_track()] {
        for round in 0..150 {
            let mut m = bytes.clone();
            match round % 3 {
                0 => {
                    for _ in 0..1 + rng.below(8) {
                        let i = rng.below(m.len());
                        m[i] = rng.next() as u8;
                    }
                }
                1 => {
                    // Overwrite a run with 0xff or 0x00, the values that most confuse lengths.
                    let i = rng.below(m.len());
                    let len = (1 + rng.below(16)).min(m.len() - i);
                    let v = if rng.next() & 1 == 0 { 0xff } else { 0x00 };
                    m[i..i + len].fill(v);
                }
                _ => {
                    // Keep the magic, replace the rest with noise.
                    let keep = 12.min(m.len());
                    for b in &mut m[keep..] {
                        *b = rng.next() as u8;
                    }
                }
            }
            let start = Instant::now();
            let result = analyze(&m, &SizeLimits::default(), &ParseLimits::default());
            assert!(start.elapsed() < Duration::from_secs(3), "round {round} took {:?}", start.elapsed());
            if let Err(e) = result {
                *refusals.entry(e.reason().as_str()).or_default() += 1;
            }
        }
    }
    // The mutations did reach the refusal paths, not only harmless bytes.
    let total: usize = refusals.values().sum();
    assert!(total > 200, "{refusals:?}");
    assert!(refusals.len() >= 4, "{refusals:?}");
}
