//! Verification API benchmark with wrk (Debian's `wrk`), on SQLite, on this machine:
//! - `POST /v1/verify/credential` with a credential the node issued;
//! - `GET /v1/workers/{id}/reputation` with the worker's own key;
//! - `POST /v1/verify/proof` with distinct proofs (each consumes its nullifier), verified in
//!   batches.
//!
//! The node runs in this process (release build), rate limits off, webhooks off; wrk runs beside
//! it on the same two cores. `make bench-api` installs wrk if missing and runs this.
//! `JEJAK_BENCH_SECS` (default 10) sets each run's length, `JEJAK_BENCH_PROOFS` (default 12,000)
//! the proofs prepared (0 skips the proof run), `JEJAK_BENCH_CREDENTIAL_CACHE` (default 10,000)
//! the node's `credentials.verification_cache` (0: every request checks the signature).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::time::Instant;

use alloy::primitives::FixedBytes;
use jejak_api::auth::Role;
use jejak_chain::bindings::JejakReputationRoots;
use jejak_prover::bundle::ProofBundle;
use jejak_prover::keys::Reduction;
use jejak_store::Backend;
use jejak_store::test_utils::TestDb;
use jejak_tests::reputation::commitment;
use jejak_tests::{TestChain, TestNode};
use jejak_zk_circuits::{
    Fr, PoseidonTree, Requirement, WorkerRecord, build_statement, context_from_label, fr_to_be_bytes,
    platform_consumer, scope,
};
use rayon::prelude::*;
use serde_json::json;

const DEPTH: usize = 4;

struct Figures {
    requests: u64,
    rps: f64,
    p50: String,
    p99: String,
    non2xx: u64,
}

fn wrk(url: &str, script: &std::path::Path, secs: u64, connections: u32) -> (String, Figures) {
    let cmd = format!("wrk -t2 -c{connections} -d{secs}s --latency -s {} {url}", script.display());
    eprintln!("$ {cmd}");
    let out =
        std::process::Command::new("sh").arg("-c").arg(&cmd).output().expect("wrk runs (make bench-api installs it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{text}");
    let find = |prefix: &str| {
        text.lines().find_map(|l| l.trim().strip_prefix(prefix).map(|r| r.trim().to_owned())).unwrap_or_default()
    };
    // "  1234 requests in 5.00s, 1.05MB read"
    let requests = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in ").and_then(|(n, _)| n.trim().parse().ok()))
        .unwrap_or(0);
    let figures = Figures {
        requests,
        rps: find("Requests/sec:").parse().unwrap_or(0.0),
        p50: find("50%"),
        p99: find("99%"),
        non2xx: find("Non-2xx or 3xx responses:").parse().unwrap_or(0),
    };
    (cmd, figures)
}

fn lua_single(dir: &std::path::Path, name: &str, method: &str, token: &str, body: Option<&str>) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "wrk.method = \"{method}\"").unwrap();
    writeln!(f, "wrk.headers[\"Authorization\"] = \"Bearer {token}\"").unwrap();
    if let Some(b) = body {
        writeln!(f, "wrk.headers[\"Content-Type\"] = \"application/json\"").unwrap();
        writeln!(f, "wrk.body = [==[{b}]==]").unwrap();
    }
    path
}

/// A script that sends each line of `bodies` once, the two threads taking alternate lines, and
/// stops when they are sent (a few requests past the end resend the last line and answer 409).
fn lua_cycle(dir: &std::path::Path, token: &str, bodies: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("proofs.lua");
    let text = format!(
        r#"local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  bodies = {{}}
  for line in io.lines("{bodies}") do bodies[#bodies + 1] = line end
  i = id + 1
end
function request()
  local b = bodies[i]
  i = i + 2
  -- Every proof is sent once: past the end, resend the last and stop at its answer.
  if b == nil then done = true; b = bodies[#bodies] end
  return wrk.format("POST", "/v1/verify/proof", {{["Authorization"] = "Bearer {token}", ["Content-Type"] = "application/json"}}, b)
end
function response(status, headers, body)
  if done then wrk.thread:stop() end
end
"#,
        bodies = bodies.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let secs: u64 = std::env::var("JEJAK_BENCH_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let n_proofs: usize = std::env::var("JEJAK_BENCH_PROOFS").ok().and_then(|v| v.parse().ok()).unwrap_or(12_000);
    let cache: usize =
        std::env::var("JEJAK_BENCH_CREDENTIAL_CACHE").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();

    let chain = TestChain::start(1).await;
    let p = chain.register_platform(chain.operator()).await;
    let pk = jejak_prover::setup::dev_setup(DEPTH, "api-bench", Reduction::Libsnark).unwrap();
    let vk = pk.verifying_key();
    let vk_path = dir.path().join("verifying.key");
    vk.write(&vk_path).unwrap();
    let db = TestDb::new(Backend::Sqlite).await;
    let node = TestNode::start_with(&chain, db, |c| {
        c.api.rate_limit_per_sec = 0.0;
        c.webhooks.enabled = false;
        c.proofs.verifying_key = Some(vk_path.clone());
        c.credentials.verification_cache = cache;
    })
    .await;
    node.wait_for_platform(p).await;
    let platform = node.key(Role::Platform, Some(p)).await;

    // Reputation and a credential.
    let worker = commitment(3);
    node.publish_fake_epoch(1, &worker, p as i64, 742).await;
    let wkey = node.worker_key(&worker).await;
    let (s, b) = node.call("POST", "/v1/credentials", Some(&wkey), Some(&json!({"worker": worker}))).await;
    assert_eq!(s, 201, "{b}");
    let verify_body = json!({"credential": b["credential"]}).to_string();

    // Proofs: sixteen workers in a published, final root; distinct contexts give distinct
    // nullifiers, so every request consumes one.
    let records: Vec<WorkerRecord> = (0..16)
        .map(|i| WorkerRecord {
            secret: Fr::from(500 + i),
            score: 700,
            gigs: 60,
            tier: 2,
            epoch: 5,
            salt: Fr::from(9 + i),
        })
        .collect();
    let tree = PoseidonTree::from_leaves(DEPTH, records.iter().map(|r| r.leaf()).collect()).unwrap();
    JejakReputationRoots::new(chain.deployment.reputation_roots, &chain.provider)
        .publishRoot(5, FixedBytes(fr_to_be_bytes(&tree.root())), "bafkreibench".into(), 1)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    node.wait_root_indexed(&chain, 5).await;
    chain.mine(6).await;
    let prover = jejak_prover::Prover::with_tables(pk).unwrap();
    let roots: [u8; 20] = chain.deployment.reputation_roots.into();
    let vk_hash = vk.key_hash().unwrap();
    let started = Instant::now();
    // Proofs are slow to make and the same every run (seeded key, same deployment addresses, same
    // records): keep them beside the bench binary.
    let exe = std::env::current_exe().unwrap();
    let cached = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join(format!("api-bench-proofs-consumer-{n_proofs}-{vk_hash}.ndjson"));
    let lines: Vec<String> = match std::fs::read_to_string(&cached) {
        Ok(text) => text.lines().map(str::to_owned).collect(),
        Err(_) => {
            // Proving recurses deeper than rayon's default 2 MiB stacks allow.
            let pool = rayon::ThreadPoolBuilder::new().stack_size(64 << 20).build().unwrap();
            let lines: Vec<String> = pool.install(|| {
                (0..n_proofs)
                    .into_par_iter()
                    .map(|k| {
                        let i = k % 16;
                        let context = format!("bench/{}", k / 16);
                        let req = Requirement {
                            min_score: 600,
                            min_gigs: 50,
                            min_tier: 1,
                            scope: scope(31337, roots, platform_consumer(Some(p as u64)), context_from_label(&context)),
                            challenge: Fr::from(1u64),
                        };
                        let (statement, witness) =
                            build_statement(&records[i], &tree.path(i as u64).unwrap(), &req).unwrap();
                        let proof = prover
                            .prove(&statement.public_inputs().unwrap(), &witness, &mut rand::rngs::OsRng)
                            .unwrap();
                        let bundle = ProofBundle::new(DEPTH, vk_hash.clone(), &statement, &proof).unwrap();
                        json!({"proof": bundle, "context": context}).to_string()
                    })
                    .collect()
            });
            eprintln!("{n_proofs} proofs made in {:.1?}", started.elapsed());
            if n_proofs > 0 {
                std::fs::write(&cached, lines.join("\n") + "\n").unwrap();
            }
            lines
        }
    };
    let bodies = dir.path().join("proofs.ndjson");
    std::fs::write(&bodies, lines.join("\n") + "\n").unwrap();
    // The root is final before measuring.
    for _ in 0..if lines.is_empty() { 0 } else { 60 } {
        let (_, b) = node
            .call(
                "POST",
                "/v1/verify/proof",
                Some(&platform),
                Some(
                    &serde_json::from_str::<serde_json::Value>(&lines[0])
                        .unwrap()
                        .as_object()
                        .map(|o| {
                            let mut o = o.clone();
                            o.insert("consume".into(), json!(false));
                            serde_json::Value::Object(o)
                        })
                        .unwrap(),
                ),
            )
            .await;
        if b["valid"] == true {
            break;
        }
        chain.mine(1).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    let base = node.api.clone();
    let credential = lua_single(dir.path(), "credential.lua", "POST", &platform, Some(&verify_body));
    let reputation = lua_single(dir.path(), "reputation.lua", "GET", &wkey, None);
    let proofs = lua_cycle(dir.path(), &platform, &bodies);
    // Short enough that the proofs last the whole run: wrk divides by the run's length even when
    // the script has stopped early, so a run that ran out of proofs would understate the rate.
    let proof_secs = (n_proofs as u64 / 4_000).clamp(1, secs.max(1));

    let mut runs = vec![
        ("POST /v1/verify/credential", format!("{base}/v1/verify/credential"), credential, secs, 64),
        ("GET /v1/workers/{id}/reputation", format!("{base}/v1/workers/{worker}/reputation"), reputation, secs, 64),
    ];
    if n_proofs > 0 {
        runs.push(("POST /v1/verify/proof", format!("{base}/v1/verify/proof"), proofs, proof_secs, 128));
    }
    eprintln!("credential verification cache: {cache} entries");
    let mut table = Vec::new();
    for (name, url, script, secs, conns) in runs {
        let url = url.clone();
        let (cmd, f) = tokio::task::spawn_blocking(move || wrk(&url, &script, secs, conns)).await.unwrap();
        table.push((name, cmd, f));
    }
    let metrics = node.http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    let batch_count =
        metrics.lines().find(|l| l.starts_with("jejak_proof_batch_size_count")).unwrap_or_default().to_owned();
    let batch_sum =
        metrics.lines().find(|l| l.starts_with("jejak_proof_batch_size_sum")).unwrap_or_default().to_owned();
    println!("| endpoint | requests/s | p50 | p99 | non-2xx |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, _, f) in &table {
        println!("| `{name}` | {:.0} | {} | {} | {} |", f.rps, f.p50, f.p99, f.non2xx);
        if name.contains("verify/proof") && f.requests + 2 * 128 >= n_proofs as u64 {
            println!(
                "  (ran out of proofs: {} requests for {n_proofs} proofs, so {:.0}/s is only a lower bound; \
                 raise JEJAK_BENCH_PROOFS)",
                f.requests, f.rps
            );
        }
    }
    println!("proof batches: {batch_count}, {batch_sum}");
    for (_, cmd, _) in &table {
        println!("    {cmd}");
    }
    node.node.stop().await.unwrap();
}
