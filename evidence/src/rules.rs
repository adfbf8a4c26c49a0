//! Proof-of-reality rules. Each rule yields one [`RuleResult`] per subject (a file, a witness, or
//! the whole submission) with a stable [`ReasonCode`] and an [`Outcome`]; the verdict's outcome
//! is the worst of them.
//!
//! A result's code names the condition the rule looks for; `pass` means it was checked and not
//! found. Where a rule cannot be checked (no capture time, no GPS, no track), the result carries
//! the code of what is missing, with the outcome the task type configures.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::geo::{GeoPoint, haversine_m};
use crate::witness::{WitnessStatement, evidence_root, verify_witness};
use crate::{Digest, Metadata, PerceptualHash, PhotoMetadata, ReasonCode, TrackMetadata};

/// How bad a result is; ordered `Pass < Warn < Fail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The rule holds.
    Pass,
    /// Suspicious or not checkable; a person should look.
    Warn,
    /// The rule is broken.
    Fail,
}

/// Thresholds of the rules for one task type. Every field has a default, so a configuration
/// file names only what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RuleConfig {
    /// Tolerance around the task window for capture times and track overlap, in seconds.
    pub capture_grace_s: u32,
    /// Outcome for a photo with neither a zoned EXIF time nor a GPS time.
    pub missing_capture_time: Outcome,
    /// EXIF vs GPS time difference above which the result warns, in seconds.
    pub gps_skew_warn_s: u32,
    /// EXIF vs GPS time difference above which the result fails, in seconds.
    pub gps_skew_fail_s: u32,
    /// Outcome when EXIF or GPS time is missing, so the skew cannot be checked.
    pub missing_gps_time: Outcome,
    /// Radius of the task area in metres (a task may override it).
    pub radius_m: f64,
    /// Accuracy assumed when a photo states none, in metres.
    pub default_accuracy_m: f64,
    /// Most accuracy credited to a photo, in metres, so a claimed poor fix excuses little.
    pub max_accuracy_m: f64,
    /// Outcome for a photo without a GPS position.
    pub missing_location: Outcome,
    /// Highest plausible speed between consecutive positions, in metres per second.
    pub max_speed_mps: f64,
    /// GPS noise subtracted from each hop before computing a speed, and added to the radius
    /// for dwell time, in metres.
    pub gps_noise_m: f64,
    /// Least time the track must spend in the task area inside the window, in seconds.
    pub min_dwell_s: u32,
    /// Outcome when no usable track is submitted and `min_dwell_s > 0`.
    pub missing_track: Outcome,
    /// Perceptual distance (bits of 64) at or below which a photo fails as a near-duplicate.
    pub phash_fail_distance: u32,
    /// Perceptual distance at or below which a photo warns as a near-duplicate.
    pub phash_warn_distance: u32,
    /// Outcome for a photo whose perceptual hash could not be computed.
    pub phash_unavailable: Outcome,
    /// Case-insensitive substrings of EXIF Software or GPX creator that name an editor.
    pub editing_software: Vec<String>,
    /// Outcome when the metadata names an editor.
    pub editing_software_outcome: Outcome,
    /// Outcome when the server issued no nonce for the task.
    pub nonce_not_issued: Outcome,
    /// Outcome for a file that carries no nonce.
    pub missing_nonce: Outcome,
    /// Distinct valid witnesses required.
    pub witness_quorum: u32,
    /// Tolerance around the task window for witness signing times, in seconds.
    pub witness_grace_s: u32,
}

impl Default for RuleConfig {
    fn default() -> Self {
        Self {
            capture_grace_s: 300,
            missing_capture_time: Outcome::Fail,
            gps_skew_warn_s: 60,
            gps_skew_fail_s: 600,
            missing_gps_time: Outcome::Warn,
            radius_m: 100.0,
            default_accuracy_m: 30.0,
            max_accuracy_m: 100.0,
            missing_location: Outcome::Fail,
            max_speed_mps: 70.0,
            gps_noise_m: 20.0,
            min_dwell_s: 60,
            missing_track: Outcome::Warn,
            phash_fail_distance: 8,
            phash_warn_distance: 14,
            phash_unavailable: Outcome::Warn,
            editing_software: [
                "photoshop",
                "lightroom",
                "gimp",
                "snapseed",
                "picsart",
                "affinity",
                "pixelmator",
                "facetune",
                "canva",
                "paint.net",
                "photopea",
                "luminar",
                "darktable",
                "rawtherapee",
                "vsco",
                "meitu",
                "gpx.studio",
                "gpx editor",
                "fake gps",
                "gps joystick",
                "mock location",
            ]
            .map(String::from)
            .to_vec(),
            editing_software_outcome: Outcome::Fail,
            nonce_not_issued: Outcome::Warn,
            missing_nonce: Outcome::Fail,
            witness_quorum: 1,
            witness_grace_s: 3600,
        }
    }
}

/// Rule configurations per task type, with a default for types not listed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RuleConfigs {
    /// Used for task types without their own entry.
    pub default: RuleConfig,
    /// Per task type (e.g. `delivery`, `cleaning`).
    pub task_types: BTreeMap<String, RuleConfig>,
}

impl RuleConfigs {
    /// The configuration of `task_type`.
    pub fn for_task_type(&self, task_type: &str) -> &RuleConfig {
        self.task_types.get(task_type).unwrap_or(&self.default)
    }
}

/// The task the evidence is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskContext {
    /// Task id, as in witness messages.
    pub task_id: String,
    /// Task type, which selects the [`RuleConfig`].
    pub task_type: String,
    /// When the task window opens.
    #[serde(with = "time::serde::rfc3339")]
    pub window_start: OffsetDateTime,
    /// When it closes.
    #[serde(with = "time::serde::rfc3339")]
    pub window_end: OffsetDateTime,
    /// Where the task happens.
    pub location: GeoPoint,
    /// Radius of the task area in metres, overriding the task type's.
    pub radius_m: Option<f64>,
}

/// One analysed file of a submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceItem {
    /// SHA-256 of the file.
    #[serde(with = "crate::hexser::plain")]
    pub sha256: Digest,
    /// Its extracted metadata.
    pub metadata: Metadata,
    /// Its perceptual hash, for photos that could be decoded.
    pub perceptual_hash: Option<PerceptualHash>,
}

/// A witness key and when it was registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredWitness {
    /// The ed25519 public key.
    #[serde(with = "crate::hexser::plain")]
    pub key: [u8; 32],
    /// When it was registered.
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: OffsetDateTime,
}

/// Everything the rules judge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// The task.
    pub task: TaskContext,
    /// The worker's ed25519 public key.
    #[serde(with = "crate::hexser::plain")]
    pub worker_key: [u8; 32],
    /// The capture nonce the server issued for the task, if any.
    pub nonce: Option<String>,
    /// The files.
    pub items: Vec<EvidenceItem>,
    /// Witness statements.
    pub witnesses: Vec<WitnessStatement>,
    /// The registry entries of the witness keys the caller knows (at least those named by
    /// `witnesses`).
    pub registered_witnesses: Vec<RegisteredWitness>,
}

/// An earlier photo, from the caller's records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorPhoto {
    /// The task it was submitted on.
    pub task_id: String,
    /// Its SHA-256.
    #[serde(with = "crate::hexser::plain")]
    pub sha256: Digest,
    /// Its perceptual hash.
    pub perceptual_hash: PerceptualHash,
    /// Whether the task belongs to another platform than the judged one: the verdict then names
    /// neither that task nor the photo's hash.
    #[serde(default)]
    pub other_platform: bool,
}

/// Stands for a task of another platform among [`History::tasks_with_file`]: the verdict says
/// the file was submitted there without naming that platform's task.
pub const OTHER_PLATFORM_TASK: &str = "a task of another platform";

/// What the node has seen before, so the crate stays pure: the caller answers from its store
/// (prefetched, since the rules are synchronous). Results for the task being judged are
/// ignored, so an implementation need not filter them out.
pub trait History {
    /// Tasks on which a file with this SHA-256 was submitted ([`OTHER_PLATFORM_TASK`] for those
    /// of another platform).
    fn tasks_with_file(&self, sha256: &Digest) -> Vec<String>;
    /// Earlier photos whose perceptual hash is within `max_distance` bits of `hash`.
    fn similar_photos(&self, hash: PerceptualHash, max_distance: u32) -> Vec<PriorPhoto>;
}

/// A node that has seen nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHistory;

impl History for NoHistory {
    fn tasks_with_file(&self, _: &Digest) -> Vec<String> {
        Vec::new()
    }
    fn similar_photos(&self, _: PerceptualHash, _: u32) -> Vec<PriorPhoto> {
        Vec::new()
    }
}

/// An in-memory [`History`], filled by the caller from its store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryHistory {
    /// Earlier files as `(sha256, task id)`.
    pub files: Vec<(Digest, String)>,
    /// Earlier photos.
    pub photos: Vec<PriorPhoto>,
}

impl History for MemoryHistory {
    fn tasks_with_file(&self, sha256: &Digest) -> Vec<String> {
        self.files.iter().filter(|(h, _)| h == sha256).map(|(_, t)| t.clone()).collect()
    }
    fn similar_photos(&self, hash: PerceptualHash, max_distance: u32) -> Vec<PriorPhoto> {
        self.photos.iter().filter(|p| p.perceptual_hash.distance(hash) <= max_distance).cloned().collect()
    }
}

/// The outcome of one rule for one subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleResult {
    /// What the rule looks for.
    pub code: ReasonCode,
    /// Whether it was found.
    pub outcome: Outcome,
    /// What was seen, for a person.
    pub message: String,
    /// `file:<sha256 hex>`, `witness:<key hex>`, `photos`, or absent for the whole submission.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject: Option<String>,
}

/// Every rule's result and the worst outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The worst outcome of `results`.
    pub outcome: Outcome,
    /// Every result, in evaluation order.
    pub results: Vec<RuleResult>,
}

impl Verdict {
    /// The worst outcome among the results with `code`, if any has it.
    pub fn outcome_of(&self, code: ReasonCode) -> Option<Outcome> {
        self.results.iter().filter(|r| r.code == code).map(|r| r.outcome).max()
    }

    /// Codes of the results that did not pass, without repeats.
    pub fn problems(&self) -> BTreeSet<(ReasonCode, Outcome)> {
        self.results.iter().filter(|r| r.outcome != Outcome::Pass).map(|r| (r.code, r.outcome)).collect()
    }
}

/// Judges a submission.
pub fn evaluate(config: &RuleConfig, submission: &Submission, history: &dyn History) -> Verdict {
    let mut e = Eval { cfg: config, sub: submission, results: Vec::new() };
    e.run(history);
    let outcome = e.results.iter().map(|r| r.outcome).max().unwrap_or(Outcome::Pass);
    Verdict { outcome, results: e.results }
}

struct Eval<'a> {
    cfg: &'a RuleConfig,
    sub: &'a Submission,
    results: Vec<RuleResult>,
}

fn file_subject(sha: &Digest) -> Option<String> {
    Some(format!("file:{}", hex::encode(sha)))
}

fn fmt_time(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.to_string())
}

impl Eval<'_> {
    fn push(&mut self, code: ReasonCode, outcome: Outcome, subject: Option<String>, message: String) {
        self.results.push(RuleResult { code, outcome, message, subject });
    }

    fn radius(&self) -> f64 {
        self.sub.task.radius_m.unwrap_or(self.cfg.radius_m)
    }

    fn window(&self, grace_s: u32) -> (OffsetDateTime, OffsetDateTime) {
        let g = Duration::seconds(i64::from(grace_s));
        // Saturating: a platform may set a window at the edge of the calendar (year 9999).
        (self.sub.task.window_start.saturating_sub(g), self.sub.task.window_end.saturating_add(g))
    }

    fn run(&mut self, history: &dyn History) {
        let n = self.sub.items.len();
        if n == 0 {
            self.push(ReasonCode::PorNoEvidence, Outcome::Fail, None, "no evidence file".into());
        } else {
            self.push(ReasonCode::PorNoEvidence, Outcome::Pass, None, format!("{n} evidence file(s)"));
        }
        if self.sub.nonce.is_none() {
            self.push(
                ReasonCode::PorNonceNotIssued,
                self.cfg.nonce_not_issued,
                None,
                "no capture nonce was issued for this task".into(),
            );
        }
        let mut best_dwell: Option<f64> = None;
        let mut photo_fixes = Vec::new();
        for item in &self.sub.items {
            let subject = file_subject(&item.sha256);
            self.duplicate_file(item, subject.clone(), history);
            self.editing_software(&item.metadata, subject.clone());
            self.nonce(&item.metadata, subject.clone());
            match &item.metadata {
                Metadata::Photo(p) => {
                    self.photo(p, item, subject.clone(), history);
                    if let (Some(t), Some(g)) = (photo_instant(p), &p.gps) {
                        photo_fixes.push((t, GeoPoint { lat: g.latitude, lon: g.longitude }));
                    }
                }
                Metadata::Track(t) => {
                    if let Some(d) = self.track(t, subject) {
                        best_dwell = Some(best_dwell.map_or(d, |b: f64| b.max(d)));
                    }
                }
            }
        }
        if photo_fixes.len() >= 2 {
            photo_fixes.sort_by_key(|(t, _)| *t);
            let fixes: Vec<(OffsetDateTime, GeoPoint)> = photo_fixes;
            self.speed(&fixes, Some("photos".into()));
        }
        self.dwell(best_dwell);
        self.witnesses();
    }

    fn duplicate_file(&mut self, item: &EvidenceItem, subject: Option<String>, history: &dyn History) {
        let mut others = history.tasks_with_file(&item.sha256);
        others.retain(|t| *t != self.sub.task.task_id);
        others.sort();
        others.dedup();
        let foreign = others.iter().any(|t| t == OTHER_PLATFORM_TASK);
        others.retain(|t| t != OTHER_PLATFORM_TASK);
        let msg = match (others.is_empty(), foreign) {
            (true, false) => {
                self.push(ReasonCode::PorDuplicateFile, Outcome::Pass, subject, "file not seen on another task".into());
                return;
            }
            (true, true) => format!("the same file was submitted on {OTHER_PLATFORM_TASK}"),
            (false, false) => format!("the same file was submitted on task(s) {}", others.join(", ")),
            (false, true) => {
                format!("the same file was submitted on task(s) {} and on {OTHER_PLATFORM_TASK}", others.join(", "))
            }
        };
        self.push(ReasonCode::PorDuplicateFile, Outcome::Fail, subject, msg);
    }

    fn editing_software(&mut self, meta: &Metadata, subject: Option<String>) {
        let hit = meta.software().and_then(|s| {
            let lower = s.to_lowercase();
            self.cfg
                .editing_software
                .iter()
                .find(|e| !e.is_empty() && lower.contains(&e.to_lowercase()))
                .map(|e| (s, e))
        });
        match hit {
            Some((s, e)) => {
                let msg = format!("metadata names editing software `{s}` (matches `{e}`)");
                self.push(ReasonCode::PorEditingSoftware, self.cfg.editing_software_outcome, subject, msg);
            }
            None => {
                let msg = match meta.software() {
                    Some(s) => format!("software `{s}` is not a known editor"),
                    None => "no software named".into(),
                };
                self.push(ReasonCode::PorEditingSoftware, Outcome::Pass, subject, msg);
            }
        }
    }

    fn nonce(&mut self, meta: &Metadata, subject: Option<String>) {
        let Some(expected) = self.sub.nonce.as_deref() else {
            return;
        };
        match meta.nonce() {
            None => self.push(
                ReasonCode::PorNonceMissing,
                self.cfg.missing_nonce,
                subject,
                "file carries no capture nonce".into(),
            ),
            Some(n) if n == expected => {
                self.push(ReasonCode::PorNonceMismatch, Outcome::Pass, subject, "file carries the issued nonce".into())
            }
            Some(n) => {
                let msg = format!("file carries nonce `{n}`, not the one issued for this task");
                self.push(ReasonCode::PorNonceMismatch, Outcome::Fail, subject, msg)
            }
        }
    }

    fn photo(&mut self, p: &PhotoMetadata, item: &EvidenceItem, subject: Option<String>, history: &dyn History) {
        // Capture window.
        match photo_instant(p) {
            None => self.push(
                ReasonCode::PorCaptureTimeMissing,
                self.cfg.missing_capture_time,
                subject.clone(),
                "no zoned EXIF capture time and no GPS time".into(),
            ),
            Some(t) => {
                let (from, to) = self.window(self.cfg.capture_grace_s);
                let inside = from <= t && t <= to;
                let msg = format!(
                    "captured {} ; window {} to {} (grace {} s)",
                    fmt_time(t),
                    fmt_time(self.sub.task.window_start),
                    fmt_time(self.sub.task.window_end),
                    self.cfg.capture_grace_s
                );
                let outcome = if inside { Outcome::Pass } else { Outcome::Fail };
                self.push(ReasonCode::PorCaptureOutsideWindow, outcome, subject.clone(), msg);
            }
        }
        // EXIF vs GPS time.
        let exif_t = p.captured.as_ref().and_then(|c| c.instant);
        let gps_t = p.gps.as_ref().and_then(|g| g.time);
        match (exif_t, gps_t) {
            (Some(a), Some(b)) => {
                let skew = (a - b).abs().as_seconds_f64();
                let outcome = if skew > f64::from(self.cfg.gps_skew_fail_s) {
                    Outcome::Fail
                } else if skew > f64::from(self.cfg.gps_skew_warn_s) {
                    Outcome::Warn
                } else {
                    Outcome::Pass
                };
                let msg = format!("EXIF and GPS times differ by {skew:.0} s");
                self.push(ReasonCode::PorExifGpsTimeSkew, outcome, subject.clone(), msg);
            }
            _ => self.push(
                ReasonCode::PorExifGpsTimeSkew,
                self.cfg.missing_gps_time,
                subject.clone(),
                "EXIF zoned time or GPS time missing: skew not checked".into(),
            ),
        }
        // Distance to the task.
        match &p.gps {
            None => self.push(
                ReasonCode::PorLocationMissing,
                self.cfg.missing_location,
                subject.clone(),
                "no GPS position".into(),
            ),
            Some(g) => {
                let d = haversine_m(GeoPoint { lat: g.latitude, lon: g.longitude }, self.sub.task.location);
                let acc = g.h_accuracy_m.unwrap_or(self.cfg.default_accuracy_m).clamp(0.0, self.cfg.max_accuracy_m);
                let r = self.radius();
                let outcome = if d <= r {
                    Outcome::Pass
                } else if d <= r + acc {
                    Outcome::Warn
                } else {
                    Outcome::Fail
                };
                let msg = format!("{d:.0} m from the task location (radius {r:.0} m, accuracy {acc:.0} m)");
                self.push(ReasonCode::PorLocationTooFar, outcome, subject.clone(), msg);
            }
        }
        // Perceptual near-duplicates.
        match item.perceptual_hash {
            None => self.push(
                ReasonCode::PorPerceptualHashUnavailable,
                self.cfg.phash_unavailable,
                subject,
                "no perceptual hash (format not decoded)".into(),
            ),
            Some(h) => {
                let max = self.cfg.phash_warn_distance.max(self.cfg.phash_fail_distance);
                let closest = history
                    .similar_photos(h, max)
                    .into_iter()
                    .filter(|prior| prior.task_id != self.sub.task.task_id)
                    .map(|prior| (prior.perceptual_hash.distance(h), prior))
                    .filter(|(d, _)| *d <= max)
                    .min_by_key(|(d, _)| *d);
                match closest {
                    None => self.push(
                        ReasonCode::PorPerceptualDuplicate,
                        Outcome::Pass,
                        subject,
                        format!("no earlier photo within {max} bits"),
                    ),
                    Some((d, prior)) => {
                        let outcome = if d <= self.cfg.phash_fail_distance { Outcome::Fail } else { Outcome::Warn };
                        let msg = if prior.other_platform {
                            format!("{d} of 64 bits from a photo of {OTHER_PLATFORM_TASK}")
                        } else {
                            format!("{d} of 64 bits from photo {} of task {}", hex::encode(prior.sha256), prior.task_id)
                        };
                        self.push(ReasonCode::PorPerceptualDuplicate, outcome, subject, msg);
                    }
                }
            }
        }
    }

    /// Checks one track; returns its dwell time in seconds when its times are usable.
    fn track(&mut self, t: &TrackMetadata, subject: Option<String>) -> Option<f64> {
        if t.points.is_empty() {
            self.push(ReasonCode::PorTrackMissing, Outcome::Fail, subject, "track has no points".into());
            return None;
        }
        let mut fixes = Vec::with_capacity(t.points.len());
        for (i, p) in t.points.iter().enumerate() {
            let Some(time) = p.time else {
                self.push(ReasonCode::PorTrackTimesInvalid, Outcome::Fail, subject, format!("point {i} has no time"));
                return None;
            };
            if let Some((prev, _)) = fixes.last()
                && time < *prev
            {
                let msg = format!("point {i} is earlier than point {}", i - 1);
                self.push(ReasonCode::PorTrackTimesInvalid, Outcome::Fail, subject, msg);
                return None;
            }
            fixes.push((time, GeoPoint { lat: p.lat, lon: p.lon }));
        }
        self.push(
            ReasonCode::PorTrackTimesInvalid,
            Outcome::Pass,
            subject.clone(),
            "every point has a time, in order".into(),
        );

        let (first, last) = (fixes[0].0, fixes[fixes.len() - 1].0);
        let (from, to) = self.window(self.cfg.capture_grace_s);
        let overlaps = first <= to && last >= from;
        let msg = format!("recorded {} to {}", fmt_time(first), fmt_time(last));
        self.push(
            ReasonCode::PorCaptureOutsideWindow,
            if overlaps { Outcome::Pass } else { Outcome::Fail },
            subject.clone(),
            msg,
        );
        self.speed(&fixes, subject);

        let area = self.radius() + self.cfg.gps_noise_m;
        let inside = |(t, p): &(OffsetDateTime, GeoPoint)| {
            from <= *t && *t <= to && haversine_m(*p, self.sub.task.location) <= area
        };
        let dwell = fixes
            .windows(2)
            .filter(|w| inside(&w[0]) && inside(&w[1]))
            .map(|w| (w[1].0 - w[0].0).as_seconds_f64())
            .sum();
        Some(dwell)
    }

    fn speed(&mut self, fixes: &[(OffsetDateTime, GeoPoint)], subject: Option<String>) {
        let mut worst: Option<(usize, f64, f64, f64)> = None;
        for (i, w) in fixes.windows(2).enumerate() {
            let d = haversine_m(w[0].1, w[1].1);
            let hop = (d - self.cfg.gps_noise_m).max(0.0);
            let dt = (w[1].0 - w[0].0).as_seconds_f64();
            let v = if hop == 0.0 {
                0.0
            } else if dt <= 0.0 {
                f64::INFINITY
            } else {
                hop / dt
            };
            if worst.is_none_or(|(_, wv, _, _)| v > wv) {
                worst = Some((i, v, d, dt));
            }
        }
        let Some((i, v, d, dt)) = worst else { return };
        if v > self.cfg.max_speed_mps {
            let msg = format!(
                "{d:.0} m in {dt:.0} s between positions {i} and {} ({} m/s; limit {} m/s)",
                i + 1,
                if v.is_finite() { format!("{v:.0}") } else { "unbounded".into() },
                self.cfg.max_speed_mps
            );
            self.push(ReasonCode::PorTrackTeleport, Outcome::Fail, subject, msg);
        } else {
            let msg = format!("top speed {v:.1} m/s (limit {} m/s)", self.cfg.max_speed_mps);
            self.push(ReasonCode::PorTrackTeleport, Outcome::Pass, subject, msg);
        }
    }

    fn dwell(&mut self, best: Option<f64>) {
        let need = f64::from(self.cfg.min_dwell_s);
        match best {
            _ if self.cfg.min_dwell_s == 0 => {}
            None => self.push(
                ReasonCode::PorTrackMissing,
                self.cfg.missing_track,
                None,
                "no usable GPS track: dwell time not checked".into(),
            ),
            Some(d) => {
                let outcome = if d >= need { Outcome::Pass } else { Outcome::Fail };
                let msg = format!("{d:.0} s in the task area inside the window (need {need:.0} s)");
                self.push(ReasonCode::PorDwellTooShort, outcome, None, msg);
            }
        }
    }

    fn witnesses(&mut self) {
        let hashes: Vec<Digest> = self.sub.items.iter().map(|i| i.sha256).collect();
        let root = evidence_root(&hashes);
        let nonce = self.sub.nonce.as_deref().unwrap_or("");
        let (from, to) = self.window(self.cfg.witness_grace_s);
        let mut valid = BTreeSet::new();
        for w in &self.sub.witnesses {
            let subject = Some(format!("witness:{}", hex::encode(w.witness_key)));
            let registered =
                self.sub.registered_witnesses.iter().filter(|r| r.key == w.witness_key).map(|r| r.registered_at).min();
            let signed_at = OffsetDateTime::from_unix_timestamp(w.signed_at).ok();
            let (code, outcome, msg) = if w.witness_key == self.sub.worker_key {
                (ReasonCode::PorWitnessIsWorker, Outcome::Fail, "the worker cannot witness their own task".to_string())
            } else if !verify_witness(w, &self.sub.task.task_id, &root, nonce) {
                (
                    ReasonCode::PorWitnessBadSignature,
                    Outcome::Fail,
                    "signature does not verify over the task, evidence root, nonce and time".into(),
                )
            } else if registered.is_none_or(|at| at >= self.sub.task.window_start) {
                (
                    ReasonCode::PorWitnessUnregistered,
                    Outcome::Fail,
                    "witness key not registered before the task window opened".into(),
                )
            } else if !signed_at.is_some_and(|t| from <= t && t <= to) {
                (ReasonCode::PorWitnessTimeOutsideWindow, Outcome::Fail, "signed outside the task window".into())
            } else {
                valid.insert(w.witness_key);
                (ReasonCode::PorWitnessBadSignature, Outcome::Pass, "valid witness signature".into())
            };
            self.push(code, outcome, subject, msg);
        }
        let (have, need) = (valid.len(), self.cfg.witness_quorum as usize);
        let outcome = if have >= need { Outcome::Pass } else { Outcome::Fail };
        self.push(
            ReasonCode::PorWitnessQuorum,
            outcome,
            None,
            format!("{have} valid distinct witness(es), quorum {need}"),
        );
    }
}

/// The capture instant of a photo: the zoned EXIF time, else the GPS time.
fn photo_instant(p: &PhotoMetadata) -> Option<OffsetDateTime> {
    p.captured.as_ref().and_then(|c| c.instant).or_else(|| p.gps.as_ref().and_then(|g| g.time))
}
