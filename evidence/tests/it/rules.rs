//! An honest submission passes; each way of cheating fails with its own reason code and nothing
//! else.

use std::collections::BTreeSet;

use jejak_evidence::testkit::{gpx, insert_jpeg_exif, reencode_jpeg};
use jejak_evidence::{
    OTHER_PLATFORM_TASK, Outcome, PriorPhoto, ReasonCode, RuleConfig, RuleConfigs, Verdict, evaluate, public_key,
};

use crate::support::*;

fn problems(v: &Verdict) -> BTreeSet<(ReasonCode, Outcome)> {
    v.problems()
}

fn only(code: ReasonCode) -> BTreeSet<(ReasonCode, Outcome)> {
    [(code, Outcome::Fail)].into()
}

struct Honest {
    photo1: jejak_evidence::Analyzed,
    photo2: jejak_evidence::Analyzed,
    track: jejak_evidence::Analyzed,
}

fn honest() -> Honest {
    Honest {
        photo1: analyze_ok(&honest_photo(1, 20).jpeg()),
        photo2: analyze_ok(&honest_photo(2, 25).jpeg()),
        track: analyze_ok(&honest_track()),
    }
}

fn judge(files: &[&jejak_evidence::Analyzed]) -> Verdict {
    evaluate(&RuleConfig::default(), &submission(files), &history())
}

#[test]
fn honest_submission_passes_every_rule() {
    let h = honest();
    let v = judge(&[&h.photo1, &h.photo2, &h.track]);
    assert_eq!(v.outcome, Outcome::Pass, "{:#?}", v.problems());
    let codes: BTreeSet<ReasonCode> = v.results.iter().map(|r| r.code).collect();
    // Every rule was actually evaluated.
    for code in [
        ReasonCode::PorCaptureOutsideWindow,
        ReasonCode::PorExifGpsTimeSkew,
        ReasonCode::PorLocationTooFar,
        ReasonCode::PorTrackTeleport,
        ReasonCode::PorDwellTooShort,
        ReasonCode::PorDuplicateFile,
        ReasonCode::PorPerceptualDuplicate,
        ReasonCode::PorEditingSoftware,
        ReasonCode::PorNonceMismatch,
        ReasonCode::PorWitnessBadSignature,
        ReasonCode::PorWitnessQuorum,
    ] {
        assert!(codes.contains(&code), "{code} not evaluated");
    }
    // Two photos and one track each get the per-file rules.
    let per_file = v.results.iter().filter(|r| r.code == ReasonCode::PorDuplicateFile).count();
    assert_eq!(per_file, 3);
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["outcome"], "pass");
    assert_eq!(json["results"][0]["code"], "POR_NO_EVIDENCE");
}

#[test]
fn shifted_gps_fails_on_distance() {
    let h = honest();
    let mut spec = honest_photo(3, 22);
    spec.gps.as_mut().unwrap().at = north(2_000.0);
    let shifted = analyze_ok(&spec.jpeg());
    let v = judge(&[&h.photo1, &shifted, &h.track]);
    assert_eq!(problems(&v), only(ReasonCode::PorLocationTooFar));
    assert_eq!(v.outcome, Outcome::Fail);
}

#[test]
fn distance_within_accuracy_only_warns() {
    let h = honest();
    let mut spec = honest_photo(3, 22);
    let gps = spec.gps.as_mut().unwrap();
    gps.at = north(115.0);
    gps.accuracy_m = Some(25.0);
    let v = judge(&[&h.photo1, &analyze_ok(&spec.jpeg()), &h.track]);
    assert_eq!(problems(&v), [(ReasonCode::PorLocationTooFar, Outcome::Warn)].into());
    assert_eq!(v.outcome, Outcome::Warn);
}

#[test]
fn capture_outside_the_window_fails() {
    let h = honest();
    let late = analyze_ok(&honest_photo(4, 150).jpeg());
    let v = judge(&[&h.photo1, &late, &h.track]);
    assert_eq!(problems(&v), only(ReasonCode::PorCaptureOutsideWindow));
}

#[test]
fn teleporting_track_fails() {
    let h = honest();
    let mut points = honest_track_points();
    // Forty kilometres away for one ten-second sample, then back.
    points[40].0 = north(40_000.0);
    let track = analyze_ok(&gpx(&points, Some(NONCE), "Jejak Courier 2.3"));
    let v = judge(&[&h.photo1, &h.photo2, &track]);
    assert_eq!(problems(&v), only(ReasonCode::PorTrackTeleport));
}

#[test]
fn replayed_photo_fails_as_duplicate_file() {
    let h = honest();
    let mut seen = history();
    seen.files.push((h.photo1.sha256, "task-7".into()));
    let v = evaluate(&RuleConfig::default(), &submission(&[&h.photo1, &h.photo2, &h.track]), &seen);
    assert_eq!(problems(&v), only(ReasonCode::PorDuplicateFile));
    // The same file on the same task (a retried upload) is not a replay.
    let mut retried = history();
    retried.files.push((h.photo1.sha256, TASK_ID.into()));
    let v = evaluate(&RuleConfig::default(), &submission(&[&h.photo1, &h.photo2, &h.track]), &retried);
    assert_eq!(v.outcome, Outcome::Pass);
}

#[test]
fn reencoded_replayed_photo_fails_as_perceptual_duplicate() {
    let h = honest();
    // An old photo from task 7, recompressed, scaled to 80% and given fresh, plausible EXIF.
    let old = analyze_ok(&honest_photo(9, -600).jpeg());
    let spec = honest_photo(9, 22);
    let replay = insert_jpeg_exif(&reencode_jpeg(&honest_photo(9, -600).jpeg(), 60, 0.8), &spec.exif_tiff());
    let replay = analyze_ok(&replay);
    assert_ne!(replay.sha256, old.sha256);
    let d = replay.perceptual_hash.unwrap().distance(old.perceptual_hash.unwrap());
    assert!(d <= RuleConfig::default().phash_fail_distance, "distance {d}");

    let mut seen = history();
    seen.photos.push(PriorPhoto {
        task_id: "task-7".into(),
        sha256: old.sha256,
        perceptual_hash: old.perceptual_hash.unwrap(),
        other_platform: false,
    });
    let v = evaluate(&RuleConfig::default(), &submission(&[&h.photo1, &replay, &h.track]), &seen);
    assert_eq!(problems(&v), only(ReasonCode::PorPerceptualDuplicate));
}

#[test]
fn duplicates_on_another_platform_are_reported_without_naming_its_task_or_file() {
    let h = honest();
    let old = analyze_ok(&honest_photo(9, -600).jpeg());
    let replay = analyze_ok(&insert_jpeg_exif(
        &reencode_jpeg(&honest_photo(9, -600).jpeg(), 60, 0.8),
        &honest_photo(9, 22).exif_tiff(),
    ));
    let mut seen = history();
    // The same file as the first photo, on another platform's task and on one of this platform.
    seen.files.push((h.photo1.sha256, OTHER_PLATFORM_TASK.into()));
    seen.photos.push(PriorPhoto {
        task_id: "tsk_other_platform_secret".into(),
        sha256: old.sha256,
        perceptual_hash: old.perceptual_hash.unwrap(),
        other_platform: true,
    });
    let v = evaluate(&RuleConfig::default(), &submission(&[&h.photo1, &replay, &h.track]), &seen);
    assert_eq!(v.outcome_of(ReasonCode::PorDuplicateFile), Some(Outcome::Fail));
    assert_eq!(v.outcome_of(ReasonCode::PorPerceptualDuplicate), Some(Outcome::Fail));
    let said = serde_json::to_string(&v).unwrap();
    assert!(!said.contains("tsk_other_platform_secret"), "{said}");
    assert!(!said.contains(&hex::encode(old.sha256)), "{said}");
    assert!(said.contains(OTHER_PLATFORM_TASK), "{said}");
    // A duplicate on the platform's own task is still named.
    seen.files.push((h.photo1.sha256, "tsk_own".into()));
    let v = evaluate(&RuleConfig::default(), &submission(&[&h.photo1, &replay, &h.track]), &seen);
    let dup = v.results.iter().find(|r| r.code == ReasonCode::PorDuplicateFile && r.outcome == Outcome::Fail).unwrap();
    assert!(dup.message.contains("tsk_own") && dup.message.contains(OTHER_PLATFORM_TASK), "{}", dup.message);
}

#[test]
fn unrelated_scenes_are_far_apart_perceptually() {
    let hashes: Vec<_> = (0..12).map(|s| analyze_ok(&honest_photo(s, 20).jpeg()).perceptual_hash.unwrap()).collect();
    for (i, a) in hashes.iter().enumerate() {
        for b in &hashes[i + 1..] {
            assert!(a.distance(*b) > RuleConfig::default().phash_warn_distance, "{a} vs {b}");
        }
    }
}

#[test]
fn bad_witness_signature_fails() {
    let h = honest();
    let files = [&h.photo1, &h.photo2, &h.track];
    let mut sub = submission(&files);
    let mut forged = witness(&SECOND_WITNESS_SECRET, &files, 31);
    forged.signature[10] ^= 1;
    sub.witnesses.push(forged);
    let v = evaluate(&RuleConfig::default(), &sub, &history());
    assert_eq!(problems(&v), only(ReasonCode::PorWitnessBadSignature));

    // A valid signature over other files does not count either.
    let mut sub = submission(&files);
    sub.witnesses = vec![witness(&WITNESS_SECRET, &[&h.photo1], 30)];
    let v = evaluate(&RuleConfig::default(), &sub, &history());
    assert_eq!(
        problems(&v),
        [(ReasonCode::PorWitnessBadSignature, Outcome::Fail), (ReasonCode::PorWitnessQuorum, Outcome::Fail)].into()
    );
}

#[test]
fn worker_as_own_witness_fails() {
    let h = honest();
    let files = [&h.photo1, &h.photo2, &h.track];
    let mut sub = submission(&files);
    sub.witnesses.push(witness(&WORKER_SECRET, &files, 31));
    // Even if the worker registered their key as a witness.
    sub.registered_witnesses.push(jejak_evidence::RegisteredWitness {
        key: public_key(&WORKER_SECRET),
        registered_at: start() - time::Duration::days(30),
    });
    let v = evaluate(&RuleConfig::default(), &sub, &history());
    assert_eq!(problems(&v), only(ReasonCode::PorWitnessIsWorker));
}

#[test]
fn witness_registered_late_or_quorum_unmet_fails() {
    let h = honest();
    let files = [&h.photo1, &h.photo2, &h.track];
    let mut sub = submission(&files);
    sub.registered_witnesses[0].registered_at = start() + time::Duration::minutes(5);
    let v = evaluate(&RuleConfig::default(), &sub, &history());
    assert_eq!(
        problems(&v),
        [(ReasonCode::PorWitnessUnregistered, Outcome::Fail), (ReasonCode::PorWitnessQuorum, Outcome::Fail)].into()
    );

    let sub = submission(&files);
    let two = RuleConfig { witness_quorum: 2, ..RuleConfig::default() };
    assert_eq!(problems(&evaluate(&two, &sub, &history())), only(ReasonCode::PorWitnessQuorum));
    // The same witness twice is still one witness.
    let mut twice = sub.clone();
    twice.witnesses.push(witness(&WITNESS_SECRET, &files, 32));
    assert_eq!(problems(&evaluate(&two, &twice, &history())), only(ReasonCode::PorWitnessQuorum));
    let mut quorate = sub.clone();
    quorate.witnesses.push(witness(&SECOND_WITNESS_SECRET, &files, 32));
    assert_eq!(evaluate(&two, &quorate, &history()).outcome, Outcome::Pass);
}

#[test]
fn missing_nonce_fails() {
    let h = honest();
    let mut spec = honest_photo(5, 21);
    spec.nonce = None;
    let bare = analyze_ok(&spec.jpeg());
    let v = judge(&[&h.photo1, &bare, &h.track]);
    assert_eq!(problems(&v), only(ReasonCode::PorNonceMissing));
}

#[test]
fn foreign_nonce_fails_as_mismatch() {
    let h = honest();
    let track = analyze_ok(&gpx(&honest_track_points(), Some("other-task-nonce"), "Jejak Courier 2.3"));
    let v = judge(&[&h.photo1, &h.photo2, &track]);
    assert_eq!(problems(&v), only(ReasonCode::PorNonceMismatch));
}

#[test]
fn exif_and_gps_time_skew_warns_then_fails() {
    let h = honest();
    let skewed = |secs: i64| {
        let mut spec = honest_photo(6, 20);
        spec.gps.as_mut().unwrap().time = Some(minutes(20) + time::Duration::seconds(secs));
        analyze_ok(&spec.jpeg())
    };
    let v = judge(&[&h.photo1, &skewed(300), &h.track]);
    assert_eq!(problems(&v), [(ReasonCode::PorExifGpsTimeSkew, Outcome::Warn)].into());
    let v = judge(&[&h.photo1, &skewed(3_000), &h.track]);
    assert_eq!(problems(&v), only(ReasonCode::PorExifGpsTimeSkew));
}

#[test]
fn editing_software_fails() {
    let h = honest();
    let mut spec = honest_photo(7, 21);
    spec.software = Some("Adobe Photoshop 25.1 (Windows)".into());
    let v = judge(&[&h.photo1, &analyze_ok(&spec.jpeg()), &h.track]);
    assert_eq!(problems(&v), only(ReasonCode::PorEditingSoftware));
}

#[test]
fn short_dwell_fails_and_missing_track_warns() {
    let h = honest();
    // Rides past the task at 10 m/s without stopping.
    let passing = jejak_evidence::testkit::walk(north(-3_000.0), minutes(10), 60, 10, 100.0);
    let track = analyze_ok(&gpx(&passing, Some(NONCE), "Jejak Courier 2.3"));
    let v = judge(&[&h.photo1, &h.photo2, &track]);
    assert_eq!(problems(&v), only(ReasonCode::PorDwellTooShort));

    let v = judge(&[&h.photo1, &h.photo2]);
    assert_eq!(problems(&v), [(ReasonCode::PorTrackMissing, Outcome::Warn)].into());
}

#[test]
fn photos_far_apart_in_minutes_teleport() {
    let h = honest();
    let mut spec = honest_photo(8, 21);
    // One minute after photo 1, 60 km away: GPS says so, and so would any distance rule
    // with a generous radius.
    spec.gps.as_mut().unwrap().at = north(60_000.0);
    let far = analyze_ok(&spec.jpeg());
    let generous = RuleConfig { radius_m: 100_000.0, ..RuleConfig::default() };
    let v = evaluate(&generous, &submission(&[&h.photo1, &far, &h.track]), &history());
    assert_eq!(problems(&v), only(ReasonCode::PorTrackTeleport));
}

#[test]
fn no_evidence_and_no_nonce_issued() {
    let mut sub = submission(&[]);
    sub.nonce = None;
    sub.witnesses.clear();
    let cfg = RuleConfig { witness_quorum: 0, ..RuleConfig::default() };
    let v = evaluate(&cfg, &sub, &history());
    assert!(v.problems().contains(&(ReasonCode::PorNoEvidence, Outcome::Fail)));
    assert!(v.problems().contains(&(ReasonCode::PorNonceNotIssued, Outcome::Warn)));
}

#[test]
fn configuration_per_task_type_from_toml_like_json() {
    let cfgs: RuleConfigs = serde_json::from_value(serde_json::json!({
        "task_types": {
            "cleaning": { "min_dwell_s": 1800, "witness_quorum": 0 }
        }
    }))
    .unwrap();
    assert_eq!(cfgs.for_task_type("delivery"), &RuleConfig::default());
    let cleaning = cfgs.for_task_type("cleaning");
    assert_eq!(cleaning.min_dwell_s, 1800);
    assert_eq!(cleaning.radius_m, RuleConfig::default().radius_m);
    let h = honest();
    let v = evaluate(cleaning, &submission(&[&h.photo1, &h.photo2, &h.track]), &history());
    assert_eq!(problems(&v), only(ReasonCode::PorDwellTooShort));
    assert!(serde_json::from_value::<RuleConfigs>(serde_json::json!({"default": {"radius": 1}})).is_err());
}

/// A task window at the very end of the calendar (a platform's choice): judged, not a panic.
#[test]
fn a_window_at_the_end_of_the_calendar_is_judged_without_overflow() {
    let h = honest();
    let mut sub = submission(&[&h.photo1, &h.track]);
    let end = time::macros::datetime!(9999-12-31 23:59:59 UTC);
    sub.task.window_start = end - time::Duration::hours(1);
    sub.task.window_end = end;
    let v = evaluate(&RuleConfig::default(), &sub, &history());
    assert!(v.problems().contains(&(ReasonCode::PorCaptureOutsideWindow, Outcome::Fail)), "{:#?}", v.problems());
}
