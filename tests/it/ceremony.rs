//! Keys from a phase-2 ceremony, end to end, on one small ceremony shared by these tests
//! (`jejak_tests::ceremony`): snarkjs makes and verifies the zkey, `jejak zk import-zkey` takes
//! it (and refuses the uncontributed one and one for another circuit), snarkjs and the node agree
//! both ways on proofs from it, `jejak zk export-solidity` gives the verifier that `jejak deploy`
//! deploys on anvil, and a proof made by the node is consumed on chain by its consumer while a
//! front-runner's copy reverts. `jejak deploy` refuses development keys off anvil's chain.

use alloy::primitives::{Address, FixedBytes, U256};
use alloy::providers::Provider as _;
use jejak_api::auth::Role;
use jejak_chain::bindings::{JejakProofVerifier, JejakReputationRoots};
use jejak_node::anvil::{Anvil, AnvilOptions, DEV_KEYS};
use jejak_node::ops::{self, DeployOptions};
use jejak_prover::bundle::ProofBundle;
use jejak_prover::circom::{parse_zkey, wtns_bytes};
use jejak_prover::cli::{self, ExportSolidityArgs, ImportZkeyArgs};
use jejak_prover::snarkjs::{proof_from_json, public_from_json, vk_from_json, write_dir};
use jejak_prover::{Error, KeyOrigin, Prover, Reduction, Verifier};
use jejak_store::test_utils::TestDb;
use jejak_tests::ceremony::{DEPTH, build_proof_verifier, ceremony, snarkjs};
use jejak_tests::{TestChain, TestNode};
use jejak_zk_circuits::{
    Fr, PoseidonTree, Requirement, WorkerRecord, context_from_label, fr_to_be_bytes, fr_to_decimal, platform_consumer,
    scope,
};
use serde_json::json;
use sha2::{Digest, Sha256};

fn record(i: u64) -> WorkerRecord {
    WorkerRecord {
        secret: Fr::from(0xce7e_u64 + i),
        score: 720 + i,
        gigs: 55,
        tier: 3,
        epoch: 1,
        salt: Fr::from(9 + i),
    }
}

fn requirement(verifier: [u8; 20], consumer: [u8; 20]) -> Requirement {
    Requirement {
        min_score: 700,
        min_gigs: 50,
        min_tier: 2,
        scope: scope(jejak_chain::LOCAL_CHAIN_ID, verifier, consumer, context_from_label("acme-lending/loan-v1")),
        challenge: Fr::from(42u64),
    }
}

fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn u256(x: &Fr) -> U256 {
    U256::from_be_bytes(fr_to_be_bytes(x))
}

jejak_tests::on_both_databases! {
async fn a_ceremony_key_is_imported_exported_deployed_and_verifies_on_chain(backend) {
    jejak_tests::init_logs();
    let c = ceremony();
    let keys = tempfile::tempdir().unwrap();

    // The zkey straight from `snarkjs zkey new` has a public toxic waste: refused.
    let refused = cli::import_zkey(&ImportZkeyArgs { zkey: c.uncontributed_zkey(), out_dir: keys.path().join("no") });
    assert!(matches!(refused, Err(Error::UncontributedZkey(_))), "{refused:?}");

    // The verified final zkey: imported, its origin (the zkey's hash) in the key files.
    let summary = cli::import_zkey(&ImportZkeyArgs { zkey: c.zkey(), out_dir: keys.path().to_owned() }).unwrap();
    let zkey_sha256 = hex::encode(Sha256::digest(std::fs::read(c.zkey()).unwrap()));
    assert!(!summary.insecure && summary.warning.is_none(), "{summary:?}");
    assert_eq!(summary.origin, format!("snarkjs zkey sha256:{zkey_sha256}"));
    let contributions = parse_zkey(&std::fs::read(c.zkey()).unwrap()).unwrap().contributions;
    assert_eq!(contributions.len(), 2, "a contribution and the beacon");
    assert_eq!(contributions[0].name.as_deref(), Some("alice"));
    assert!(contributions[1].beacon && !contributions[0].beacon);
    let prover = Prover::load(&summary.proving_key).unwrap();
    assert_eq!(prover.info().origin, KeyOrigin::Zkey { sha256: zkey_sha256.clone() });
    assert_eq!(prover.info().reduction, Reduction::Circom);

    // The verifier for it, built as an operator would after `jejak zk export-solidity`.
    let sol = keys.path().join("JejakGroth16Verifier.sol");
    cli::export_solidity(&ExportSolidityArgs { verifying_key: summary.verifying_key.clone(), out: sol.clone() })
        .unwrap();
    let source = std::fs::read_to_string(&sol).unwrap();
    assert!(source.contains("snarkjs phase-2 ceremony") && !source.contains("INSECURE"), "{source}");
    let build = tempfile::tempdir().unwrap();
    let artifact = build_proof_verifier(build.path(), &sol);

    let anvil = Anvil::spawn(AnvilOptions { slots_in_an_epoch: Some(1), ..Default::default() }).await.unwrap();
    let rpc = anvil.endpoint();
    // An artifact that does not embed the key it is deployed for is refused before any transaction.
    let dev = jejak_prover::setup::dev_setup(DEPTH, "not-the-ceremony", Reduction::Libsnark).unwrap();
    let dev_vk = keys.path().join("dev.vk");
    dev.verifying_key().write(&dev_vk).unwrap();
    let wrong = DeployOptions {
        root_window_secs: 3600,
        proof_verifier: Some((artifact.clone(), dev_vk)),
        ..Default::default()
    };
    let e = ops::deploy(&rpc, DEV_KEYS[0], &wrong).await.unwrap_err().to_string();
    assert!(e.contains("does not embed the verifying key"), "{e}");
    let opts = DeployOptions {
        root_window_secs: 3600,
        proof_verifier: Some((artifact, summary.verifying_key.clone())),
        ..Default::default()
    };
    let d = ops::deploy(&rpc, DEV_KEYS[0], &opts).await.unwrap();

    // Epoch 1: two workers (depth 1), the root published by the operator.
    let operator = jejak_chain::connect_signing(&rpc, jejak_chain::signer_from_hex(DEV_KEYS[0]).unwrap()).unwrap();
    let records = [record(0), record(1)];
    let tree = PoseidonTree::from_leaves(DEPTH, records.iter().map(WorkerRecord::leaf).collect()).unwrap();
    JejakReputationRoots::new(d.reputation_roots, &operator)
        .publishRoot(1, FixedBytes(fr_to_be_bytes(&tree.root())), "bafkreiceremony".into(), 1)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();

    // The node proves for worker 1, bound to an integrator's account as the consumer.
    let consumer_signer = jejak_chain::signer_from_hex(DEV_KEYS[1]).unwrap();
    let consumer: [u8; 20] = consumer_signer.address().into();
    let req = requirement(d.proof_verifier.into(), consumer);
    let (statement, proof) = prover.prove_record(&records[1], &tree.path(1).unwrap(), &req, &mut rand::rngs::OsRng).unwrap();
    let bundle = ProofBundle::new(DEPTH, prover.verifying_key().key_hash().unwrap(), &statement, &proof).unwrap();
    let words: [U256; 8] = bundle.solidity_proof.each_ref().map(|w| w.parse().unwrap());
    let claim = JejakProofVerifier::Claim {
        epoch: statement.epoch,
        root: FixedBytes(fr_to_be_bytes(&statement.root)),
        minScore: statement.min_score,
        minGigs: statement.min_gigs,
        minTier: statement.min_tier,
        context: FixedBytes(context_from_label("acme-lending/loan-v1")),
        challenge: u256(&statement.challenge),
        nullifier: u256(&statement.nullifier),
    };

    // A front-runner submitting the worker's proof first reverts and burns nothing.
    let front_runner =
        jejak_chain::connect_signing(&rpc, jejak_chain::signer_from_hex(DEV_KEYS[2]).unwrap()).unwrap();
    let stolen = JejakProofVerifier::new(d.proof_verifier, &front_runner).verifyAndConsume(words, claim.clone()).send().await;
    assert!(stolen.is_err(), "the front-runner's call must revert");
    let view = JejakProofVerifier::new(d.proof_verifier, &operator);
    assert!(!view.nullifierUsed(claim.nullifier).call().await.unwrap());
    assert!(view.isValid(words, claim.clone(), Address::from(consumer)).call().await.unwrap());

    // The consumer's call consumes it, and the event carries the root and the minimums.
    let integrator = jejak_chain::connect_signing(&rpc, consumer_signer).unwrap();
    let receipt = JejakProofVerifier::new(d.proof_verifier, &integrator)
        .verifyAndConsume(words, claim.clone())
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    let event = receipt.decoded_log::<JejakProofVerifier::ProofConsumed>().unwrap().data;
    assert_eq!((event.consumer, event.root, event.minScore, event.epoch), (Address::from(consumer), claim.root, 700, 1));
    assert!(view.nullifierUsed(claim.nullifier).call().await.unwrap());

    // A node on this deployment with the ceremony's keys: it names their origin, and indexes the
    // consumption (with its root and minimums) once final.
    let chain = TestChain { anvil, deployment: d, provider: operator };
    let node = TestNode::start_with(&chain, TestDb::new(backend).await, |c| {
        c.proofs.proving_key = Some(summary.proving_key.clone());
        c.epochs.depth = DEPTH;
    })
    .await;
    let (_, ready) = node.call("GET", "/readyz", None, None).await;
    assert_eq!(ready["verifying_key"]["origin"], "ceremony-zkey", "{ready}");
    assert_eq!(ready["verifying_key"]["insecure"], false, "{ready}");
    assert_eq!(ready["verifying_key"]["zkey_sha256"], json!(zkey_sha256), "{ready}");
    let key = node.key(Role::Admin, None).await;
    let path = format!("/v1/proofs/consumed/{}", fr_to_decimal(&statement.nullifier));
    let consumed = TestNode::eventually(60, "the consumption to be indexed as final", || {
        let (node, key, path, chain) = (&node, &key, &path, &chain);
        async move {
            let (s, b) = node.call("GET", path, Some(key), None).await;
            assert_eq!(s, 200, "{b}");
            let first = b["consumed"].as_array()?.first()?.clone();
            if first["finalized"] == true {
                return Some(first);
            }
            chain.mine(1).await;
            None
        }
    })
    .await;
    assert_eq!(consumed["consumer"], json!(format!("{:#x}", Address::from(consumer))), "{consumed}");
    assert_eq!(consumed["verifier"], json!(format!("{:#x}", chain.deployment.proof_verifier)), "{consumed}");
    assert_eq!((&consumed["epoch"], &consumed["min_score"], &consumed["min_gigs"]), (&json!(1), &json!(700), &json!(50)));
    assert_eq!(consumed["root"], json!(format!("0x{}", hex::encode(fr_to_be_bytes(&statement.root)))));
    let (_, none) = node.call("GET", "/v1/proofs/consumed/12345", Some(&key), None).await;
    assert_eq!(none["consumed"], json!([]), "{none}");
    let (s, bad) = node.call("GET", "/v1/proofs/consumed/not-a-number", Some(&key), None).await;
    assert_eq!((s, bad["error"]["code"].as_str()), (422, Some("invalid_request")), "{bad}");
    node.node.stop().await.unwrap();
}
}

#[test]
fn snarkjs_and_the_node_agree_on_proofs_from_the_ceremony_key() {
    let c = ceremony();
    let dir = tempfile::tempdir().unwrap();
    let imported = jejak_prover::circom::import_zkey(&std::fs::read(c.zkey()).unwrap()).unwrap();
    let p = Prover::new(imported).unwrap();
    let vk = p.verifying_key().key;
    // snarkjs' own export of the key is the one imported.
    assert_eq!(vk_from_json(&read_json(&c.snarkjs_vk())).unwrap(), vk);

    let records = [record(0), record(1)];
    let tree = PoseidonTree::from_leaves(DEPTH, records.iter().map(WorkerRecord::leaf).collect()).unwrap();
    let req = requirement([0x11; 20], platform_consumer(Some(7)));
    let (statement, witness) = jejak_zk_circuits::build_statement(&records[0], &tree.path(0).unwrap(), &req).unwrap();
    let public = statement.public_inputs().unwrap();

    // The node's proof: snarkjs accepts it.
    let proof = p.prove(&public, &witness, &mut rand::rngs::OsRng).unwrap();
    assert!(Verifier::new(&vk).unwrap().verify(&proof, &public).unwrap());
    write_dir(dir.path(), &vk, &proof, &public).unwrap();
    let (ok, out) = snarkjs(dir.path(), &["groth16", "verify", "verification_key.json", "public.json", "proof.json"]);
    assert!(ok && out.contains("OK!"), "snarkjs rejected the node's proof:\n{out}");

    // snarkjs' proof from the zkey and the node's witness: the node accepts it.
    let z = p.assignment(&public, &witness).unwrap();
    std::fs::write(dir.path().join("w.wtns"), wtns_bytes(&z)).unwrap();
    let zkey = c.zkey();
    let (ok, out) =
        snarkjs(dir.path(), &["groth16", "prove", zkey.to_str().unwrap(), "w.wtns", "sj_proof.json", "sj_public.json"]);
    assert!(ok, "{out}");
    let sj_proof = proof_from_json(&read_json(&dir.path().join("sj_proof.json"))).unwrap();
    let sj_public = public_from_json(&read_json(&dir.path().join("sj_public.json"))).unwrap();
    assert_eq!(sj_public, public);
    assert!(Verifier::new(&vk).unwrap().verify(&sj_proof, &sj_public).unwrap());
}

/// The offset of section `id` of a zkey's body.
fn section(zkey: &[u8], id: u32) -> (usize, usize) {
    let mut pos = 12;
    loop {
        let sid = u32::from_le_bytes(zkey[pos..pos + 4].try_into().unwrap());
        let len = u64::from_le_bytes(zkey[pos + 4..pos + 12].try_into().unwrap()) as usize;
        if sid == id {
            return (pos + 12, len);
        }
        pos += 12 + len;
    }
}

#[test]
fn a_zkey_for_another_circuit_or_tampered_beyond_its_matrices_is_refused() {
    let good = std::fs::read(ceremony().zkey()).unwrap();
    // A coefficient of the A or B matrix changed: another circuit.
    let mut zkey = good.clone();
    let (start, _) = section(&zkey, 4);
    zkey[start + 4 + 12] ^= 1;
    assert!(matches!(jejak_prover::circom::import_zkey(&zkey), Err(Error::CircuitMismatch(_))));
    // Delta in G2 swapped for gamma (the generator): what an uncontributed zkey holds.
    let mut zkey = good.clone();
    let (header, _) = section(&zkey, 2);
    let at = header + 4 + 32 + 4 + 32 + 12; // past the moduli and the three counts
    let (gamma, delta2) = (at + 64 + 64 + 128, at + 64 + 64 + 128 + 128 + 64);
    let gamma_bytes = zkey[gamma..gamma + 128].to_vec();
    zkey[delta2..delta2 + 128].copy_from_slice(&gamma_bytes);
    assert!(jejak_prover::circom::import_zkey(&zkey).is_err());
    // The contributions section claims one contribution more than it holds: refused.
    let mut zkey = good.clone();
    let (start, _) = section(&zkey, 10);
    zkey[start + 64] += 1;
    let e = jejak_prover::circom::import_zkey(&zkey);
    assert!(e.is_err(), "a damaged contributions section was accepted");
    assert!(jejak_prover::circom::import_zkey(b"zkey but not really").is_err());
}

#[tokio::test]
async fn deploy_refuses_development_keys_off_anvils_chain() {
    let anvil = Anvil::spawn(AnvilOptions { chain_id: Some(80002), ..Default::default() }).await.unwrap();
    let rpc = anvil.endpoint();
    let opts = DeployOptions { root_window_secs: 3600, ..Default::default() };
    let e = ops::deploy(&rpc, DEV_KEYS[0], &opts).await.unwrap_err().to_string();
    assert!(e.contains("INSECURE development key") && e.contains("--allow-insecure-dev-keys"), "{e}");
    let provider = jejak_chain::connect(&rpc).unwrap();
    let deployer = jejak_chain::signer_from_hex(DEV_KEYS[0]).unwrap().address();
    assert_eq!(provider.get_transaction_count(deployer).await.unwrap(), 0, "nothing was sent");
    // A development key given with an artifact is refused the same way (before the artifact is read).
    let dir = tempfile::tempdir().unwrap();
    let vk = dir.path().join("dev.vk");
    jejak_prover::setup::dev_setup(DEPTH, "dev", Reduction::Libsnark).unwrap().verifying_key().write(&vk).unwrap();
    let with_key = DeployOptions { proof_verifier: Some((dir.path().join("missing.json"), vk)), ..opts.clone() };
    let e = ops::deploy(&rpc, DEV_KEYS[0], &with_key).await.unwrap_err().to_string();
    assert!(e.contains("--allow-insecure-dev-keys"), "{e}");
    // Named loudly, it goes through.
    let allowed = DeployOptions { allow_insecure_dev_keys: true, ..opts };
    let d = ops::deploy(&rpc, DEV_KEYS[0], &allowed).await.unwrap();
    assert_eq!(d.chain_id, 80002);
}
