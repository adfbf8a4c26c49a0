//! `jejak dev`: everything on this machine, with a demo workload.
//!
//! Starts anvil ([`crate::anvil::find_anvil`]: `JEJAK_ANVIL`, a checkout's pinned one, or `PATH`;
//! one block a second, `finalized` two blocks behind), deploys the contracts (with the committed
//! `JejakProofVerifier`, whose key is the INSECURE development key), makes that development
//! proving key (seed [`jejak_prover::setup::DEFAULT_DEV_SEED`], the real tree depth: a few seconds),
//! registers two demo platforms whose signer is the node's key, starts the node (SQLite, embedded
//! blockstore, API, one-minute epochs, the `demo_photo` evidence task type), makes a node-held
//! demo worker with a worker key, and prints the wallet, explorer and console URLs with keys to
//! sign in. The demo workload then goes through the API like the platforms would: demo workers
//! linked on both platforms, their tasks and reviews, until an epoch is published and a proof
//! made for the held worker verifies (`POST /v1/verify/proof`). Ctrl-C stops everything.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use jejak_api::auth::{self, Role};
use jejak_store::{Store, keys, now_secs};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::anvil::{Anvil, AnvilOptions, DEV_KEYS};
use crate::config::{Config, Preset};
use crate::ops::{self, PlatformProfile};
use crate::output::line;

/// Options of `jejak dev`.
#[derive(Debug, Clone, clap::Args)]
pub struct DevArgs {
    /// Data directory; emptied at start (the local chain starts empty too).
    #[arg(long, default_value = ".jejak/dev")]
    pub data_dir: PathBuf,
    /// API listen address.
    #[arg(long, default_value = "127.0.0.1:7420")]
    pub listen: SocketAddr,
    /// anvil port.
    #[arg(long, default_value_t = 8545)]
    pub anvil_port: u16,
    /// Seconds between blocks.
    #[arg(long, default_value_t = 1)]
    pub block_time: u64,
    /// Do not send the demo workload.
    #[arg(long)]
    pub no_demo: bool,
    /// Stop after the demo workload is anchored and final (for scripts and CI).
    #[arg(long)]
    pub exit_after_demo: bool,
}

/// Marks a directory `jejak dev` created, so it never empties anything else.
const MARKER: &str = ".jejak-dev";

/// The evidence task type whose rules a new user's honest phone photo can pass: no witness, no
/// capture nonce and no GPS track needed; the photo's time and position must still fit the task.
pub const DEMO_TASK_TYPE: &str = "demo_photo";

/// The rules of [`DEMO_TASK_TYPE`].
pub fn demo_task_rules() -> jejak_evidence::RuleConfig {
    use jejak_evidence::Outcome;
    jejak_evidence::RuleConfig {
        witness_quorum: 0,
        min_dwell_s: 0,
        missing_track: Outcome::Pass,
        nonce_not_issued: Outcome::Pass,
        missing_nonce: Outcome::Pass,
        missing_gps_time: Outcome::Pass,
        radius_m: 500.0,
        ..Default::default()
    }
}

/// The context label of the demo's proof.
const DEMO_CONTEXT: &str = "dev-demo/loan-v1";

/// Runs `jejak dev` until Ctrl-C.
pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    prepare_data_dir(&args.data_dir)?;
    let anvil = Anvil::spawn(AnvilOptions {
        port: Some(args.anvil_port),
        block_time: Some(args.block_time.max(1)),
        slots_in_an_epoch: Some(1),
        chain_id: None,
    })
    .await
    .context("starting anvil (is port free? use --anvil-port)")?;
    let rpc = anvil.endpoint();
    tracing::info!(target: "jejak::dev", %rpc, "anvil started");

    let key = DEV_KEYS[0];
    let deployment =
        ops::deploy(&rpc, key, &ops::DeployOptions { root_window_secs: 7 * 24 * 3600, ..Default::default() }).await?;
    // The committed verifier's key: the seeded development setup at the node's tree depth, so
    // proofs the node makes verify on chain too.
    let started = std::time::Instant::now();
    let depth = jejak_zk_circuits::DEFAULT_DEPTH;
    let pk = tokio::task::spawn_blocking(move || {
        jejak_prover::setup::dev_setup(
            depth,
            jejak_prover::setup::DEFAULT_DEV_SEED,
            jejak_prover::keys::Reduction::Libsnark,
        )
    })
    .await
    .context("the development key setup")??;
    let setup_secs = started.elapsed().as_secs_f64();
    let pk_path = args.data_dir.join("dev-proving.key");
    let vk_path = args.data_dir.join("dev-verifying.key");
    pk.write(&pk_path)?;
    pk.verifying_key().write(&vk_path)?;
    drop(pk);
    let mut cfg = Config::preset(Preset::Local);
    cfg.data_dir = args.data_dir.clone();
    cfg.chain.rpc_urls = vec![rpc.clone()];
    cfg.contracts = Some(deployment.into());
    cfg.api.listen = args.listen;
    cfg.operator.private_key = Some(key.to_string());
    cfg.indexer.confirmation_depth = 2;
    cfg.batcher.interval_secs = 2;
    // One-minute epochs: the explorer shows a published epoch within a minute or two of start.
    cfg.epochs.length_secs = 60;
    cfg.epochs.interval_secs = 5;
    // A development node's webhook receivers run on this machine.
    cfg.webhooks.allow_http = true;
    cfg.webhooks.allow_loopback = true;
    // INSECURE development keys: anvil's chain (31337) allows them without
    // `[proofs] allow_insecure_dev_keys`.
    cfg.proofs.proving_key = Some(pk_path.clone());
    cfg.proofs.verifying_key = Some(vk_path.clone());
    cfg.epochs.depth = depth;
    cfg.evidence.rules.task_types.insert(DEMO_TASK_TYPE.into(), demo_task_rules());
    std::fs::write(args.data_dir.join("jejak.toml"), toml::to_string_pretty(&redacted(&cfg))?)?;
    deployment.save(&args.data_dir.join("deployment.json"))?;

    let store = Store::connect(&cfg.database_url()).await?;
    let blockstore = jejak_ipfs::Blockstore::open(cfg.blockstore_dir())?;
    let profile = PlatformProfile::new("Ojek Demo", Some("https://ojek.example"), &["ride", "delivery"], 5);
    let profile_cid = blockstore.put(&profile.to_bytes()).await?;
    let signer = jejak_chain::signer_from_hex(key)?.address();
    let platform_id = ops::register_platform(&rpc, key, deployment.registry, signer, &profile_cid.to_string()).await?;
    let profile2 = PlatformProfile::new("Kurir Demo", Some("https://kurir.example"), &["delivery"], 5);
    let profile2_cid = blockstore.put(&profile2.to_bytes()).await?;
    let platform2_id =
        ops::register_platform(&rpc, key, deployment.registry, signer, &profile2_cid.to_string()).await?;

    let platform_key = auth::new_key(Role::Platform, Some(platform_id as i64), None, "demo platform", now_secs());
    let platform2_key = auth::new_key(Role::Platform, Some(platform2_id as i64), None, "demo platform 2", now_secs());
    let admin_key = auth::new_key(Role::Admin, None, None, "dev admin", now_secs());
    {
        let mut c = store.conn().await?;
        keys::insert(&mut c, &platform_key.row).await?;
        keys::insert(&mut c, &platform2_key.row).await?;
        keys::insert(&mut c, &admin_key.row).await?;
    }

    let shutdown = CancellationToken::new();
    let node = crate::launch::launch(&cfg, Some(store), shutdown.clone()).await?;
    let api = format!("http://{}", node.api_addr);
    let ctrl_c = crate::signals::stop_on_signal(shutdown.clone());

    // A worker whose identity the node holds (so the wallet can make proofs), with a key to sign
    // in to the wallet.
    let http = reqwest::Client::new();
    let made: Value = http
        .post(format!("{api}/v1/identities"))
        .bearer_auth(&platform_key.token)
        .json(&json!({"label": "demo worker Dewi"}))
        .send()
        .await?
        .error_for_status()
        .context("making the demo worker's node-held identity")?
        .json()
        .await?;
    let held = made["worker"].as_str().context("no worker in the identity answer")?.to_owned();
    let worker_key = auth::new_key(Role::Worker, None, Some(held.clone()), "demo worker Dewi", now_secs());
    keys::insert(&mut *node.store.conn().await?, &worker_key.row).await?;

    line("");
    line("jejak dev is running");
    line(format!("  explorer       {api}/   (anyone: platforms, batches, epochs, evidence, receipt checker)"));
    line(format!("  wallet         {api}/wallet   (sign in with the worker key)"));
    line(format!("  console        {api}/console   (sign in with a platform key)"));
    line(format!("  sign in        {api}/signin"));
    line(format!("  API            {api}   (health: {api}/healthz)"));
    line(format!("  index status   {api}/v1/index/status"));
    line(format!("  chain          {rpc}   (anvil, chain id 31337, a block a second)"));
    line(format!("  registry       {}", deployment.registry));
    line(format!("  attestations   {}", deployment.attestations));
    line(format!(
        "  platform       #{platform_id} \"Ojek Demo\", profile ipfs://{profile_cid} ({api}/ipfs/{profile_cid})"
    ));
    line(format!(
        "  platform       #{platform2_id} \"Kurir Demo\", profile ipfs://{profile2_cid} ({api}/ipfs/{profile2_cid})"
    ));
    line(format!("  worker key     {}   (demo worker Dewi, identity held by the node)", worker_key.token));
    line(format!("  platform key   {}   (Ojek Demo, #{platform_id})", platform_key.token));
    line(format!("  platform key   {}   (Kurir Demo, #{platform2_id})", platform2_key.token));
    line(format!("  admin key      {}", admin_key.token));
    line(format!(
        "  proof verifier {}   (JejakProofVerifier, the committed development key)",
        deployment.proof_verifier
    ));
    line(format!(
        "  proving key    {}   (INSECURE development key: seed \"{}\", depth {depth}, made in {setup_secs:.1} s; anyone can forge proofs)",
        pk_path.display(),
        jejak_prover::setup::DEFAULT_DEV_SEED
    ));
    line(format!("  verifying key  {}   (INSECURE, the proving key's)", vk_path.display()));
    line("  epochs         one a minute (the first published about a minute after the demo's events are final)");
    line(format!(
        "  evidence       task type \"{DEMO_TASK_TYPE}\": no witness, nonce or track needed; the photo's time and GPS must fit the task (README, \"Evidence rules\")"
    ));
    line(format!("  data           {}", args.data_dir.display()));
    line("");

    let demo = if args.no_demo {
        None
    } else {
        let demo = Demo {
            api: api.clone(),
            platforms: [(platform_id, platform_key.token.clone()), (platform2_id, platform2_key.token.clone())],
            held: held.clone(),
            worker_key: worker_key.token.clone(),
        };
        let stop = shutdown.clone();
        let exit_after = args.exit_after_demo;
        Some(tokio::spawn(async move {
            let result = demo.run(stop.clone()).await;
            if let Err(e) = &result {
                tracing::error!(target: "jejak::dev", error = %format!("{e:#}"), "demo workload failed");
            }
            if exit_after {
                stop.cancel();
            }
            result
        }))
    };
    if demo.is_none() {
        line("Send events with:");
        line(format!(
            "  curl -s -X POST {api}/v1/events -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' \\",
            platform_key.token
        ));
        line(
            "    -d '{\"events\":[{\"type\":\"task_completed\",\"worker\":\"driver-1\",\"occurred_at\":\"2026-01-01T00:00:00Z\",\"data\":{\"task_id\":\"ride-1\"}}]}'",
        );
    }
    line("Ctrl-C (or SIGTERM) stops everything.");

    let result = node.wait().await;
    ctrl_c.abort();
    anvil.stop().await;
    if let Some(d) = demo {
        if args.exit_after_demo {
            d.await.context("demo task")??;
        } else {
            d.abort();
        }
    }
    result
}

fn prepare_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)?.next().is_none();
        anyhow::ensure!(
            empty || dir.join(MARKER).exists(),
            "{} exists and was not made by `jejak dev`; choose another --data-dir",
            dir.display()
        );
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(MARKER), "made by `jejak dev`; emptied at each start\n")?;
    Ok(())
}

fn redacted(cfg: &Config) -> Config {
    let mut c = cfg.clone();
    c.operator.private_key = None;
    c
}

/// What the demo workload needs: the API, both platforms with their keys, the node-held worker.
struct Demo {
    api: String,
    platforms: [(u64, String); 2],
    held: String,
    worker_key: String,
}

impl Demo {
    /// Sends a small workload like the platforms would, waits until a receipt is final, then
    /// until an epoch is published that scores the held worker, and makes and verifies a proof
    /// for them.
    async fn run(&self, stop: CancellationToken) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let api = &self.api;
        let now = time::OffsetDateTime::now_utc();
        let at = |days_ago: i64| {
            (now - time::Duration::days(days_ago))
                .format(&time::format_description::well_known::Rfc3339)
                .expect("formats")
        };
        let [(p1, k1), (p2, k2)] = &self.platforms;
        let (mut e1, mut e2) = (Vec::new(), Vec::new());
        let tasks = |events: &mut Vec<Value>, worker: &str, prefix: &str, category: &str, n: i64| {
            for t in 0..n {
                let task = format!("{prefix}-{t}");
                events.push(json!({"type": "task_completed", "event_id": format!("{task}-done"), "worker": worker,
                    "occurred_at": at(30 - t * 3), "data": {"task_id": task, "category": category, "earnings_minor": 25000 + t * 1000, "currency": "IDR"}}));
                events.push(json!({"type": "review", "event_id": format!("{task}-review"), "worker": worker,
                    "occurred_at": at(30 - t * 3), "data": {"task_id": task, "rating": 4.5 + 0.05 * (t as f64), "scale": 5}}));
            }
        };
        for (w, worker) in ["driver-ayu", "driver-budi", "courier-citra"].iter().enumerate() {
            // Each demo worker's account is linked to an identity (demo secrets 1001, 1002, 1003),
            // so the epochs score them; the worker consents with a link token signed by the
            // identity's link key. Ayu works on both platforms.
            let secret = jejak_zk_circuits::Fr::from(1001 + w as u64);
            let commitment = jejak_zk_circuits::fr_to_decimal(&jejak_zk_circuits::identity_commitment(secret));
            let link = |platform: u64, account: &str, id: String| -> anyhow::Result<Value> {
                let token =
                    jejak_api::services::links::issue(&secret, 31337, platform, account, now_secs() as u64, 3600)
                        .context("demo link token")?;
                Ok(json!({"type": "account_linked", "event_id": id, "worker": account,
                    "occurred_at": at(60), "data": {"identity_commitment": commitment, "link_token": token}}))
            };
            e1.push(link(*p1, worker, format!("link-{w}"))?);
            tasks(&mut e1, worker, &format!("task-{w}"), "ride", 4);
            if w == 0 {
                e2.push(link(*p2, "kurir-ayu", "link-ayu".into())?);
                tasks(&mut e2, "kurir-ayu", "parcel-ayu", "delivery", 3);
            }
        }
        // The held worker consents with link tokens the node signs for them (their worker key).
        for (platform, account, events, n) in [(*p1, "driver-dewi", &mut e1, 8), (*p2, "kurir-dewi", &mut e2, 5)] {
            let answer: Value = http
                .post(format!("{api}/v1/workers/{}/link-tokens", self.held))
                .bearer_auth(&self.worker_key)
                .json(&json!({"platform_id": platform, "account": account}))
                .send()
                .await?
                .error_for_status()
                .context("a link token for the demo worker")?
                .json()
                .await?;
            events.push(json!({"type": "account_linked", "event_id": format!("link-{account}"), "worker": account,
                "occurred_at": at(60), "data": {"identity_commitment": self.held, "link_token": answer["link_token"]}}));
            tasks(events, account, &format!("{account}-task"), if platform == *p1 { "ride" } else { "delivery" }, n);
        }
        let mut ids = Vec::new();
        for (key, events) in [(k1, e1), (k2, e2)] {
            let Some(accepted) = send_events(&http, api, key, &events, &stop).await? else { return Ok(()) };
            ids.extend(accepted);
        }
        line(format!(
            "Demo: {} events accepted (202) on two platforms; batching, anchoring, waiting for finality...",
            ids.len()
        ));
        let first = ids.first().context("no attestation ids in the answer")?;
        let mut final_receipt = None;
        for _ in 0..240 {
            if stop.is_cancelled() {
                return Ok(());
            }
            let receipt: Value =
                http.get(format!("{api}/v1/attestations/{first}")).bearer_auth(k1).send().await?.json().await?;
            if receipt["status"] == "final" {
                final_receipt = Some(receipt);
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let receipt = final_receipt.context("the demo attestation did not become final within 120 s")?;
        line("Demo: the first attestation is anchored and final:");
        line(format!("  curl -s {api}/v1/attestations/{first} -H 'Authorization: Bearer {k1}'"));
        line(format!(
            "  batch {} (root {}, {} leaves, ipfs://{}) in tx {} at block {}",
            receipt["anchor"]["batch_id"],
            receipt["batch"]["root"].as_str().unwrap_or(""),
            receipt["batch"]["count"],
            receipt["batch"]["cid"].as_str().unwrap_or(""),
            receipt["anchor"]["transaction_hash"].as_str().unwrap_or(""),
            receipt["anchor"]["block_number"],
        ));
        line("Demo: waiting for the next one-minute epoch to score the demo workers...");

        // The node proves for the held worker once a published epoch has their leaf.
        let request = json!({"context": DEMO_CONTEXT, "platform_id": p2, "challenge": "42",
            "min_score": 0, "min_gigs": 10, "min_tier": 0});
        let mut made = None;
        for _ in 0..300 {
            if stop.is_cancelled() {
                return Ok(());
            }
            let resp = http
                .post(format!("{api}/v1/workers/{}/proofs", self.held))
                .bearer_auth(&self.worker_key)
                .json(&request)
                .send()
                .await?;
            let status = resp.status();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            if status.is_success() {
                made = Some(body);
                break;
            }
            // No published epoch scores the worker yet (404 `worker_not_found`), or the first one
            // counted only part of the workload (422 `requirement_unmet`): wait for the next.
            anyhow::ensure!(matches!(status.as_u16(), 404 | 422), "the demo proof request failed: {status} {body}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let made = made.context("no epoch scored the demo worker within 150 s")?;
        line(format!(
            "Demo: epoch {} is published; the node proved for demo worker Dewi (at least 10 gigs)",
            made["epoch"]
        ));
        // The epoch's root is published before the indexer has seen it (`root_anchored`: no root
        // indexed) and a block or two before it is final (`root_finalized`); until then the
        // proof does not verify (and nothing is consumed), so ask again.
        let mut verified = Value::Null;
        for _ in 0..60 {
            verified = http
                .post(format!("{api}/v1/verify/proof"))
                .bearer_auth(k2)
                .json(&json!({"proof": made["proof"], "context": DEMO_CONTEXT, "challenge": "42",
                    "require": {"min_gigs": 10}}))
                .send()
                .await?
                .error_for_status()
                .context("verifying the demo proof")?
                .json()
                .await?;
            let not_final = verified["checks"].as_array().is_some_and(|c| {
                c.iter().any(|c| {
                    c["outcome"] == "fail"
                        && (c["check"] == "root_finalized"
                            || (c["check"] == "root_anchored"
                                && c["detail"].as_str().is_some_and(|d| d.starts_with("no root indexed"))))
                })
            });
            if !not_final || stop.is_cancelled() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        anyhow::ensure!(verified["valid"] == true, "the demo proof does not verify: {verified}");
        line(format!(
            "Demo: the proof verified (POST /v1/verify/proof as Kurir Demo: valid, nullifier consumed: {})",
            verified["nullifier_consumed"]
        ));
        // The wallet's download: the worker's portable bundle from the published epoch.
        let url = format!("{api}/v1/workers/{}/bundle", self.held);
        let bundle: Value = http
            .get(&url)
            .bearer_auth(&self.worker_key)
            .send()
            .await?
            .error_for_status()
            .context("downloading the demo worker's bundle")?
            .json()
            .await?;
        let attestations = bundle["attestations"].as_array().map_or(0, Vec::len);
        anyhow::ensure!(attestations > 0, "the demo worker's bundle holds no attestation: {bundle}");
        line(format!(
            "Demo: the worker's portable bundle holds {attestations} attestations (GET /v1/workers/{{id}}/bundle; check it with `jejak bundle verify`)"
        ));
        Ok(())
    }
}

/// Posts `events` once the platform is indexed (the node refuses a platform it has not seen);
/// `None` when stopped first.
async fn send_events(
    http: &reqwest::Client,
    api: &str,
    key: &str,
    events: &[Value],
    stop: &CancellationToken,
) -> anyhow::Result<Option<Vec<String>>> {
    for _ in 0..120 {
        if stop.is_cancelled() {
            return Ok(None);
        }
        let resp = http
            .post(format!("{api}/v1/events"))
            .bearer_auth(key)
            .header("Idempotency-Key", "demo-workload-1")
            .json(&json!({ "events": events }))
            .send()
            .await?;
        if resp.status() == reqwest::StatusCode::ACCEPTED {
            let accepted: Value = resp.json().await?;
            return Ok(Some(
                accepted["accepted"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|x| x["id"].as_str().map(String::from)).collect())
                    .unwrap_or_default(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    anyhow::bail!("the node did not accept the demo events within 60 s")
}

#[cfg(test)]
mod tests {
    use jejak_evidence::testkit::PhotoSpec;
    use jejak_evidence::{
        GeoPoint, NoHistory, Outcome, ParseLimits, SizeLimits, Submission, TaskContext, analyze, evaluate, public_key,
    };
    use time::macros::datetime;

    use super::*;

    /// An honest phone photo with no nonce, witness or track: the demo task type passes it, the
    /// default rules do not (they want a witness and the capture nonce).
    #[test]
    fn an_honest_phone_photo_passes_the_demo_task_type_only() {
        let place = GeoPoint { lat: -6.2001, lon: 106.8167 };
        let start = datetime!(2026-03-01 03:00 UTC);
        let photo = PhotoSpec::honest(7, start + time::Duration::minutes(20), place, None).jpeg();
        let analyzed = analyze(&photo, &SizeLimits::default(), &ParseLimits::default()).unwrap();
        let submission = Submission {
            task: TaskContext {
                task_id: "demo-1".into(),
                task_type: DEMO_TASK_TYPE.into(),
                window_start: start,
                window_end: start + time::Duration::hours(1),
                location: place,
                radius_m: None,
            },
            worker_key: public_key(&[1; 32]),
            nonce: None,
            items: vec![analyzed.item()],
            witnesses: vec![],
            registered_witnesses: vec![],
        };
        let demo = evaluate(&demo_task_rules(), &submission, &NoHistory);
        assert_eq!(demo.outcome, Outcome::Pass, "{:#?}", demo.results);
        let default = evaluate(&jejak_evidence::RuleConfig::default(), &submission, &NoHistory);
        assert_eq!(default.outcome, Outcome::Fail, "{:#?}", default.results);
    }
}
