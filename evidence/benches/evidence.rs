//! Proof-of-reality benchmarks: SHA-256 throughput, the evidence log's Merkle build and
//! inclusion checks at a million leaves, and metadata extraction per photo.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use jejak_core::merkle::{MerkleTree, leaf_hash, verify_inclusion};
use jejak_evidence::testkit::{PhotoSpec, encode_jpeg, insert_jpeg_exif, scene};
use jejak_evidence::{GeoPoint, MediaType, ParseLimits, extract_metadata, perceptual_hash, sha256};
use time::macros::datetime;

fn hashing(c: &mut Criterion) {
    let mut g = c.benchmark_group("sha256");
    for size in [16 << 10, 16 << 20] {
        let data = vec![0x5au8; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_function(format!("{} KiB", size >> 10), |b| b.iter(|| sha256(black_box(&data))));
    }
    g.finish();
}

fn merkle(c: &mut Criterion) {
    let leaves: Vec<_> = (0..1_000_000u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let mut g = c.benchmark_group("merkle");
    g.sample_size(10);
    g.bench_function("build 1,000,000 leaves", |b| {
        b.iter_batched(|| leaves.clone(), MerkleTree::from_leaf_hashes, BatchSize::LargeInput)
    });
    let tree = MerkleTree::from_leaf_hashes(leaves);
    let root = tree.root();
    let index = 777_777;
    let proof = tree.inclusion_proof(index).unwrap();
    let leaf = tree.leaves()[index as usize];
    g.sample_size(100);
    g.bench_function("verify inclusion at 1,000,000 leaves", |b| {
        b.iter(|| assert!(verify_inclusion(black_box(index), tree.size(), &leaf, &proof, &root)))
    });
    g.finish();
}

fn photo(width: u32, height: u32) -> Vec<u8> {
    let spec = PhotoSpec {
        width,
        height,
        ..PhotoSpec::honest(
            7,
            datetime!(2026-03-01 03:20 UTC),
            GeoPoint { lat: -6.2, lon: 106.8 },
            Some("n0nce-7f3a9c21b5e4"),
        )
    };
    insert_jpeg_exif(&encode_jpeg(&scene(7, width, height), 90), &spec.exif_tiff())
}

/// Sensor-like noise, so the 12 MP JPEG is as large as a phone's (several MB) and the entropy-
/// coded scan the structure check walks is realistic.
fn noisy_photo(width: u32, height: u32) -> Vec<u8> {
    let mut img = scene(7, width, height);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for p in img.pixels_mut() {
        for c in &mut p.0 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *c = c.saturating_add((state % 24) as u8);
        }
    }
    let spec = PhotoSpec::honest(7, datetime!(2026-03-01 03:20 UTC), GeoPoint { lat: -6.2, lon: 106.8 }, None);
    insert_jpeg_exif(&encode_jpeg(&img, 90), &spec.exif_tiff())
}

fn metadata(c: &mut Criterion) {
    let limits = ParseLimits::default();
    let mut g = c.benchmark_group("photo");
    for (name, jpeg) in
        [("12 MP noisy", noisy_photo(4000, 3000)), ("12 MP", photo(4000, 3000)), ("0.08 MP", photo(320, 240))]
    {
        g.throughput(Throughput::Bytes(jpeg.len() as u64));
        g.bench_function(format!("extract metadata {name} JPEG"), |b| {
            b.iter(|| extract_metadata(MediaType::Jpeg, black_box(&jpeg), &limits).unwrap())
        });
        g.sample_size(10);
        g.bench_function(format!("perceptual hash {name} JPEG"), |b| {
            b.iter(|| perceptual_hash(MediaType::Jpeg, black_box(&jpeg), &limits).unwrap())
        });
        g.sample_size(100);
    }
    g.finish();
}

criterion_group!(benches, hashing, merkle, metadata);
criterion_main!(benches);
