//! A delivery task in Jakarta, its worker, witness and honest evidence.

use jejak_evidence::testkit::{PhotoSpec, gpx, walk};
use jejak_evidence::{
    Analyzed, GeoPoint, MemoryHistory, ParseLimits, PriorPhoto, RegisteredWitness, SizeLimits, Submission, TaskContext,
    WitnessStatement, analyze, evidence_root, public_key, sign_witness,
};
use time::{Duration, OffsetDateTime, macros::datetime};

pub(crate) const TASK_ID: &str = "task-42";
pub(crate) const NONCE: &str = "n0nce-7f3a9c21b5e4";
pub(crate) const WORKER_SECRET: [u8; 32] = [1; 32];
pub(crate) const WITNESS_SECRET: [u8; 32] = [2; 32];
pub(crate) const SECOND_WITNESS_SECRET: [u8; 32] = [3; 32];

pub(crate) fn place() -> GeoPoint {
    GeoPoint { lat: -6.2001, lon: 106.8167 }
}

pub(crate) fn start() -> OffsetDateTime {
    datetime!(2026-03-01 03:00 UTC)
}

pub(crate) fn task() -> TaskContext {
    TaskContext {
        task_id: TASK_ID.into(),
        task_type: "delivery".into(),
        window_start: start(),
        window_end: start() + Duration::hours(1),
        location: place(),
        radius_m: None,
    }
}

pub(crate) fn minutes(m: i64) -> OffsetDateTime {
    start() + Duration::minutes(m)
}

/// `metres` north of the task location.
pub(crate) fn north(metres: f64) -> GeoPoint {
    GeoPoint { lat: place().lat + metres / 111_195.0, lon: place().lon }
}

pub(crate) fn analyze_ok(bytes: &[u8]) -> Analyzed {
    analyze(bytes, &SizeLimits::default(), &ParseLimits::default()).expect("analyzable evidence")
}

pub(crate) fn honest_photo(seed: u64, minute: i64) -> PhotoSpec {
    PhotoSpec::honest(seed, minutes(minute), north(10.0), Some(NONCE))
}

/// Walks 300 m north to the task at 1 m/s from 03:10, then stays five minutes.
pub(crate) fn honest_track_points() -> Vec<(GeoPoint, OffsetDateTime)> {
    let mut points = walk(north(-300.0), minutes(10), 30, 10, 10.0);
    points.extend(walk(place(), minutes(15), 31, 10, 0.0));
    points
}

pub(crate) fn honest_track() -> Vec<u8> {
    gpx(&honest_track_points(), Some(NONCE), "Jejak Courier 2.3")
}

pub(crate) fn witness(secret: &[u8; 32], files: &[&Analyzed], minute: i64) -> WitnessStatement {
    let root = evidence_root(&files.iter().map(|f| f.sha256).collect::<Vec<_>>());
    sign_witness(secret, TASK_ID, &root, NONCE, minutes(minute).unix_timestamp())
}

pub(crate) fn registry() -> Vec<RegisteredWitness> {
    [WITNESS_SECRET, SECOND_WITNESS_SECRET]
        .iter()
        .map(|s| RegisteredWitness { key: public_key(s), registered_at: datetime!(2026-02-01 00:00 UTC) })
        .collect()
}

/// A submission of `files`, witnessed once by the registered witness over exactly those files.
pub(crate) fn submission(files: &[&Analyzed]) -> Submission {
    Submission {
        task: task(),
        worker_key: public_key(&WORKER_SECRET),
        nonce: Some(NONCE.into()),
        items: files.iter().map(|f| f.item()).collect(),
        witnesses: vec![witness(&WITNESS_SECRET, files, 30)],
        registered_witnesses: registry(),
    }
}

/// What the node saw before: other workers' photos on other tasks.
pub(crate) fn history() -> MemoryHistory {
    let mut h = MemoryHistory::default();
    for seed in 100..120 {
        let a = analyze_ok(&PhotoSpec::honest(seed, minutes(-600), north(5.0), None).jpeg());
        h.files.push((a.sha256, format!("task-{seed}")));
        h.photos.push(PriorPhoto {
            task_id: format!("task-{seed}"),
            sha256: a.sha256,
            perceptual_hash: a.perceptual_hash.expect("JPEG is hashed"),
            other_platform: false,
        });
    }
    h
}

/// Runs `f` and returns its result with how far the process's peak resident memory rose above
/// the resident memory before it, in bytes (Linux: `clear_refs` resets the peak; nextest runs
/// each test in a process of its own).
pub(crate) fn peak_rss_during<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let status = |field: &str| -> u64 {
        let s = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        let line = s.lines().find(|l| l.starts_with(field)).expect("field in /proc/self/status");
        line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()).expect("a size in kB") * 1024
    };
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak resident size");
    let before = status("VmRSS:");
    let out = f();
    (out, status("VmHWM:").saturating_sub(before))
}
