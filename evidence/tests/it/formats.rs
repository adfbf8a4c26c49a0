//! Metadata extraction from every supported format, and streaming hashes.

use jejak_evidence::{
    EvidenceKind, MediaType, Metadata, ParseLimits, SizeLimits, UploadDigest, extract_metadata, metadata_hash, sha256,
    sniff,
};

use crate::support::*;

fn photo_meta(bytes: &[u8]) -> jejak_evidence::PhotoMetadata {
    match analyze_ok(bytes).metadata {
        Metadata::Photo(p) => p,
        other => panic!("not a photo: {other:?}"),
    }
}

#[test]
fn jpeg_exif_fields_are_extracted() {
    let spec = honest_photo(1, 20);
    let p = photo_meta(&spec.jpeg());
    assert_eq!(p.media_type, MediaType::Jpeg);
    assert_eq!(p.dimensions, Some((320, 240)));
    let c = p.captured.expect("capture time");
    assert_eq!(c.local, "2026-03-01T10:20:00");
    assert_eq!(c.offset.as_deref(), Some("+07:00"));
    assert_eq!(c.instant, Some(minutes(20)));
    let g = p.gps.expect("gps");
    assert!((g.latitude - north(10.0).lat).abs() < 1e-6, "{}", g.latitude);
    assert!((g.longitude - place().lon).abs() < 1e-6);
    assert!(g.latitude < 0.0, "southern hemisphere");
    assert_eq!(g.altitude_m, Some(8.0));
    assert_eq!(g.h_accuracy_m, Some(5.0));
    assert_eq!(g.time, Some(minutes(20)));
    assert_eq!(p.make.as_deref(), Some("Google"));
    assert_eq!(p.model.as_deref(), Some("Pixel 8"));
    assert_eq!(p.software.as_deref(), Some("HDR+ 1.0.641377693zd"));
    assert_eq!(p.nonce.as_deref(), Some(NONCE));
}

#[test]
fn subseconds_and_missing_offset() {
    let mut spec = honest_photo(1, 20);
    let (at, off) = spec.captured.unwrap();
    spec.captured = Some((at + time::Duration::milliseconds(250), off));
    let c = photo_meta(&spec.jpeg()).captured.unwrap();
    assert_eq!(c.local, "2026-03-01T10:20:00.25");
    assert_eq!(c.instant, Some(minutes(20) + time::Duration::milliseconds(250)));

    spec.write_offset = false;
    let c = photo_meta(&spec.jpeg()).captured.unwrap();
    assert_eq!(c.offset, None);
    assert_eq!(c.instant, None, "a wall-clock time without offset is no instant");
}

#[test]
fn png_webp_and_heif_carry_the_same_exif_as_jpeg() {
    let spec = honest_photo(1, 20);
    let jpeg = photo_meta(&spec.jpeg());
    for (bytes, media) in [(spec.png(), MediaType::Png), (spec.webp(), MediaType::Webp), (spec.heif(), MediaType::Heif)]
    {
        assert_eq!(sniff(&bytes).unwrap(), media);
        let a = analyze_ok(&bytes);
        let Metadata::Photo(p) = &a.metadata else { panic!() };
        assert_eq!(p.captured, jpeg.captured, "{media:?}");
        assert_eq!(p.gps, jpeg.gps, "{media:?}");
        assert_eq!(p.nonce, jpeg.nonce, "{media:?}");
        assert_eq!(p.make, jpeg.make, "{media:?}");
        if media == MediaType::Heif {
            assert_eq!(a.perceptual_hash, None, "HEVC is not decoded");
        } else {
            assert_eq!(p.dimensions, Some((320, 240)));
            // Same pixels: lossless formats hash like the JPEG to within its compression.
            let d = a.perceptual_hash.unwrap().distance(analyze_ok(&spec.jpeg()).perceptual_hash.unwrap());
            assert!(d <= 4, "{media:?} distance {d}");
        }
    }
}

#[test]
fn photo_without_exif_has_empty_metadata() {
    let bare = jejak_evidence::testkit::encode_jpeg(&jejak_evidence::testkit::scene(1, 64, 48), 80);
    let p = photo_meta(&bare);
    assert_eq!((p.captured, p.gps, p.make, p.nonce), (None, None, None, None));
}

#[test]
fn gpx_points_are_extracted() {
    let a = analyze_ok(&honest_track());
    assert_eq!(a.media_type, MediaType::Gpx);
    assert_eq!(a.media_type.kind(), EvidenceKind::Track);
    assert_eq!(a.perceptual_hash, None);
    let Metadata::Track(t) = &a.metadata else { panic!() };
    assert_eq!(t.points.len(), honest_track_points().len());
    assert_eq!(t.nonce.as_deref(), Some(NONCE));
    assert_eq!(t.creator.as_deref(), Some("Jejak Courier 2.3"));
    assert_eq!(t.points[0].time, Some(minutes(10)));
    assert_eq!(t.points[0].ele, Some(9.0));
    assert!((t.points.last().unwrap().lat - place().lat).abs() < 1e-6);
}

#[test]
fn metadata_hash_is_of_the_canonical_json_and_survives_a_round_trip() {
    let a = analyze_ok(&honest_photo(1, 20).jpeg());
    let canonical = jejak_core::jcs::to_vec(&a.metadata).unwrap();
    assert_eq!(a.metadata_hash, sha256(&canonical));
    // Stored as JSON by the node and read back, it hashes the same.
    let stored = serde_json::to_string_pretty(&a.metadata).unwrap();
    let back: Metadata = serde_json::from_str(&stored).unwrap();
    assert_eq!(metadata_hash(&back).unwrap(), a.metadata_hash);
    let t = analyze_ok(&honest_track());
    let back: Metadata = serde_json::from_str(&serde_json::to_string(&t.metadata).unwrap()).unwrap();
    assert_eq!(metadata_hash(&back).unwrap(), t.metadata_hash);
    assert_ne!(t.metadata_hash, a.metadata_hash);
}

#[test]
fn streaming_digest_matches_analyze() {
    let bytes = honest_photo(1, 20).jpeg();
    let mut d = UploadDigest::new(SizeLimits::default());
    for chunk in bytes.chunks(1000) {
        d.update(chunk).unwrap();
    }
    assert_eq!(d.media_type(), Some(MediaType::Jpeg));
    let done = d.finish().unwrap();
    assert_eq!(done.sha256, analyze_ok(&bytes).sha256);
    assert_eq!(done.size, bytes.len() as u64);
}

#[test]
fn extraction_is_deterministic() {
    let bytes = honest_photo(1, 20).png();
    let a = extract_metadata(MediaType::Png, &bytes, &ParseLimits::default()).unwrap();
    let b = extract_metadata(MediaType::Png, &bytes, &ParseLimits::default()).unwrap();
    assert_eq!(metadata_hash(&a).unwrap(), metadata_hash(&b).unwrap());
}

/// The hash of the whole image decoded by the image crate: how every photo was hashed before
/// decoding became bounded.
fn whole_decode_hash(bytes: &[u8]) -> u64 {
    jejak_evidence::dhash(&image::load_from_memory(bytes).unwrap()).0
}

#[test]
fn bounded_decoding_keeps_the_hashes_of_honest_photos() {
    use image::ImageEncoder as _;
    use jejak_evidence::testkit::{encode_jpeg, scene};
    // PNG (row by row) and WebP (whole) hash bit for bit as before, in every PNG pixel layout.
    for seed in 0..6 {
        let spec = honest_photo(seed, 20);
        for bytes in [spec.png(), spec.webp()] {
            assert_eq!(analyze_ok(&bytes).perceptual_hash.unwrap().0, whole_decode_hash(&bytes), "seed {seed}");
        }
        let rgb = scene(seed, 333, 250);
        let layouts: [(image::DynamicImage, image::ExtendedColorType); 4] = [
            (
                image::DynamicImage::ImageRgba8(image::DynamicImage::ImageRgb8(rgb.clone()).to_rgba8()),
                image::ExtendedColorType::Rgba8,
            ),
            (
                image::DynamicImage::ImageLuma8(image::DynamicImage::ImageRgb8(rgb.clone()).to_luma8()),
                image::ExtendedColorType::L8,
            ),
            (
                image::DynamicImage::ImageRgb16(image::DynamicImage::ImageRgb8(rgb.clone()).to_rgb16()),
                image::ExtendedColorType::Rgb16,
            ),
            (
                image::DynamicImage::ImageLumaA16(image::DynamicImage::ImageRgb8(rgb.clone()).to_luma_alpha16()),
                image::ExtendedColorType::La16,
            ),
        ];
        for (img, color) in layouts {
            let mut png = Vec::new();
            image::codecs::png::PngEncoder::new(&mut png)
                .write_image(img.as_bytes(), img.width(), img.height(), color)
                .unwrap();
            let ours = jejak_evidence::perceptual_hash(MediaType::Png, &png, &ParseLimits::default()).unwrap().unwrap();
            assert_eq!(ours.0, whole_decode_hash(&png), "seed {seed}, {color:?}");
        }
    }
    // JPEG is decoded by the inverse DCT at 1/8, 1/4 or 1/2 of its size: honest photos of phone
    // sizes hash within a bit or two of the whole decode (re-baselined; the near-duplicate
    // thresholds are 8 and 14 bits).
    let mut worst = 0;
    let sizes = [(320, 240), (1600, 1200), (4000, 3000)];
    for seed in 0..8 {
        // Three 12-megapixel photos are enough to cover the 1/8 decode; more cost seconds.
        for &(w, h) in sizes.iter().filter(|(w, _)| seed < 3 || *w < 4000) {
            let jpeg = encode_jpeg(&scene(seed, w, h), 90);
            let ours =
                jejak_evidence::perceptual_hash(MediaType::Jpeg, &jpeg, &ParseLimits::default()).unwrap().unwrap();
            worst = worst.max((ours.0 ^ whole_decode_hash(&jpeg)).count_ones());
        }
    }
    assert!(worst <= 2, "a JPEG hash moved by {worst} bits");
}
