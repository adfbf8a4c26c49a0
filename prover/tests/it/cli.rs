//! The `jejak zk` command functions, chained as a user would run them.

use jejak_prover::{
    Error,
    bundle::{PathJson, ProveInput, RequirementJson, Snapshot},
    cli::{
        ExportR1csArgs, ExportSnarkjsArgs, ExportSolidityArgs, ProveArgs, SetupArgs, VerifyArgs, export_r1cs,
        export_snarkjs, export_solidity, prove, setup, verify,
    },
};
use jejak_zk_circuits::{Error as CircuitError, fr_to_decimal};

use crate::common::{CHAIN_ID, DEPTH, Epoch, run_snarkjs};

fn input(epoch: &Epoch, worker: usize, with_path: bool, min_score: u64) -> ProveInput {
    let r = &epoch.records[worker];
    ProveInput {
        secret: fr_to_decimal(&r.secret),
        score: r.score,
        gigs: r.gigs,
        tier: r.tier,
        epoch: r.epoch,
        salt: fr_to_decimal(&r.salt),
        path: with_path.then(|| PathJson::from_path(&epoch.path(worker))),
        requirement: RequirementJson {
            min_score,
            min_gigs: 50,
            min_tier: 2,
            chain_id: CHAIN_ID,
            verifier: format!("0x{}", "11".repeat(20)),
            consumer: format!("0x{}", "55".repeat(20)),
            context: None,
            context_label: Some("acme-lending/loan-v1".into()),
            challenge: "123456789".into(),
        },
    }
}

fn write(path: &std::path::Path, value: &impl serde::Serialize) {
    std::fs::write(path, serde_json::to_string(value).unwrap()).unwrap();
}

#[test]
fn setup_prove_export_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let keys = setup(&SetupArgs { depth: DEPTH, seed: Some("cli-test".into()), out_dir: d.join("keys") }).unwrap();
    assert!(keys.insecure && keys.warning.as_deref().unwrap_or_default().contains("INSECURE"));
    assert!(keys.to_string().starts_with("WARNING: INSECURE"));

    let epoch = Epoch::new(7);
    let snapshot = Snapshot { depth: DEPTH, epoch: 7, leaves: epoch.tree.leaves().iter().map(fr_to_decimal).collect() };
    write(&d.join("snapshot.json"), &snapshot);
    write(&d.join("from-snapshot.json"), &input(&epoch, 6, false, 700));
    write(&d.join("from-path.json"), &input(&epoch, 7, true, 700));

    for (name, snap) in [("from-snapshot", Some(d.join("snapshot.json"))), ("from-path", None)] {
        let bundle = d.join(format!("{name}.proof.json"));
        let proved = prove(&ProveArgs {
            proving_key: keys.proving_key.clone(),
            input: d.join(format!("{name}.json")),
            snapshot: snap,
            out: bundle.clone(),
            wtns: Some(d.join(format!("{name}.wtns"))),
        })
        .unwrap();
        assert!(proved.insecure_key);
        assert_eq!(proved.statement.root, fr_to_decimal(&epoch.tree.root()));

        let verified =
            verify(&VerifyArgs { verifying_key: keys.verifying_key.clone(), proof: bundle.clone(), public: None })
                .unwrap();
        assert!(verified.valid, "{verified}");

        let sj = d.join(format!("{name}-snarkjs"));
        export_snarkjs(&ExportSnarkjsArgs {
            verifying_key: keys.verifying_key.clone(),
            proof: bundle,
            dir: sj.clone(),
        })
        .unwrap();
        let (ok, out) = run_snarkjs(&sj, &["groth16", "verify", "verification_key.json", "public.json", "proof.json"]);
        assert!(ok && out.contains("OK!"), "{out}");
        // jejak zk verify also takes snarkjs' files.
        let from_files = verify(&VerifyArgs {
            verifying_key: sj.join("verification_key.json"),
            proof: sj.join("proof.json"),
            public: Some(sj.join("public.json")),
        })
        .unwrap();
        assert!(from_files.valid);
    }

    // A tampered bundle does not verify.
    let bundle_path = d.join("from-path.proof.json");
    let mut bundle: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&bundle_path).unwrap()).unwrap();
    bundle["statement"]["min_score"] = 720.into();
    write(&bundle_path, &bundle);
    assert!(
        verify(&VerifyArgs { verifying_key: keys.verifying_key.clone(), proof: bundle_path, public: None }).is_err()
    );

    // An unmet requirement fails before proving, naming the condition.
    write(&d.join("too-high.json"), &input(&epoch, 6, true, 800));
    let err = prove(&ProveArgs {
        proving_key: keys.proving_key.clone(),
        input: d.join("too-high.json"),
        snapshot: None,
        out: d.join("never.json"),
        wtns: None,
    })
    .unwrap_err();
    assert!(matches!(&err, Error::Circuit(CircuitError::Unsatisfied(m)) if m.contains("score")), "{err}");
    assert!(!d.join("never.json").exists());

    let sol = export_solidity(&ExportSolidityArgs { verifying_key: keys.verifying_key, out: d.join("V.sol") }).unwrap();
    let source = std::fs::read_to_string(sol).unwrap();
    assert!(source.contains("contract JejakGroth16Verifier") && source.contains("INSECURE"));
}

#[test]
fn export_r1cs_writes_what_it_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.r1cs");
    let summary = export_r1cs(&ExportR1csArgs { depth: DEPTH, out: out.clone() }).unwrap();
    assert_eq!(summary.constraints, jejak_zk_circuits::constraint_count(DEPTH));
    assert_eq!(summary.public_inputs, 5);
    let bytes = std::fs::read(out).unwrap();
    assert_eq!(&bytes[..4], b"r1cs");
    assert_eq!(summary.sha256, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)));
}
