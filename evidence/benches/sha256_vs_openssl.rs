//! SHA-256 single-core throughput of the `sha2` crate next to `openssl speed` in the same run.
//!
//! `cargo bench -p jejak-evidence --bench sha256_vs_openssl` hashes 16 KiB buffers for three
//! seconds, runs `openssl speed -seconds 3 -bytes 16384 sha256`, and prints both and the ratio.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

const BLOCK: usize = 16_384;

fn ours(seconds: u64) -> f64 {
    let data = vec![0x5au8; BLOCK];
    let deadline = Duration::from_secs(seconds);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < deadline {
        for _ in 0..64 {
            black_box(jejak_evidence::sha256(black_box(&data)));
        }
        n += 64;
    }
    (n as f64 * BLOCK as f64) / start.elapsed().as_secs_f64()
}

/// Parses the `sha256` row of `openssl speed`, whose last column is in thousands of bytes per
/// second (e.g. `sha256  ...  2012345.67k`).
fn openssl(seconds: u64) -> Option<f64> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", &seconds.to_string(), "-bytes", &BLOCK.to_string(), "sha256"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text.lines().rev().find(|l| l.starts_with("sha256"))?;
    let last = row.split_whitespace().last()?;
    Some(last.trim_end_matches('k').parse::<f64>().ok()? * 1000.0)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this briefly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let seconds = if quick { 1 } else { 3 };
    #[cfg(target_arch = "x86_64")]
    println!(
        "cpu: sha_ni {}, avx2 {}",
        std::arch::is_x86_feature_detected!("sha"),
        std::arch::is_x86_feature_detected!("avx2")
    );
    let mine = ours(seconds);
    println!("sha2 crate: {:.1} MB/s ({BLOCK}-byte buffers, {seconds} s, one core)", mine / 1e6);
    match openssl(seconds) {
        Some(theirs) => {
            println!("openssl speed: {:.1} MB/s", theirs / 1e6);
            println!("ratio sha2/openssl: {:.1}%", 100.0 * mine / theirs);
        }
        None => println!("openssl speed: not available"),
    }
}
