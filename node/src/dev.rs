//! `jejak dev`: everything on this machine, with a demo workload.
//!
//! Starts anvil ([`crate::anvil::find_anvil`]: `JEJAK_ANVIL`, a checkout's pinned one, or `PATH`;
//! one block a second, `finalized` two blocks behind), deploys
//! the contracts, registers a demo platform whose signer is the node's key, starts the node
//! (SQLite, embedded blockstore, API), sends a small workload through the API like a platform
//! would, and prints where to look. Ctrl-C stops everything.

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
    std::fs::write(args.data_dir.join("jejak.toml"), toml::to_string_pretty(&redacted(&cfg))?)?;
    deployment.save(&args.data_dir.join("deployment.json"))?;

    let store = Store::connect(&cfg.database_url()).await?;
    let blockstore = jejak_ipfs::Blockstore::open(cfg.blockstore_dir())?;
    let profile = PlatformProfile::new("Ojek Demo", Some("https://ojek.example"), &["ride", "delivery"], 5);
    let profile_cid = blockstore.put(&profile.to_bytes()).await?;
    let signer = jejak_chain::signer_from_hex(key)?.address();
    let platform_id = ops::register_platform(&rpc, key, deployment.registry, signer, &profile_cid.to_string()).await?;

    let platform_key = auth::new_key(Role::Platform, Some(platform_id as i64), None, "demo platform", now_secs());
    let admin_key = auth::new_key(Role::Admin, None, None, "dev admin", now_secs());
    {
        let mut c = store.conn().await?;
        keys::insert(&mut c, &platform_key.row).await?;
        keys::insert(&mut c, &admin_key.row).await?;
    }

    let shutdown = CancellationToken::new();
    let node = crate::launch::launch(&cfg, Some(store), shutdown.clone()).await?;
    let api = format!("http://{}", node.api_addr);
    let ctrl_c = crate::signals::stop_on_signal(shutdown.clone());

    line("");
    line("jejak dev is running");
    line(format!("  explorer       {api}/   (the web app: platforms, batches, epochs, evidence, receipt checker)"));
    line(format!("  sign in        {api}/signin   (with a key below)"));
    line(format!("  API            {api}   (health: {api}/healthz)"));
    line(format!("  index status   {api}/v1/index/status"));
    line(format!("  chain          {rpc}   (anvil, chain id 31337, a block a second)"));
    line(format!("  registry       {}", deployment.registry));
    line(format!("  attestations   {}", deployment.attestations));
    line(format!(
        "  platform       #{platform_id} \"Ojek Demo\", profile ipfs://{profile_cid} ({api}/ipfs/{profile_cid})"
    ));
    line(format!("  platform key   {}", platform_key.token));
    line(format!("  admin key      {}", admin_key.token));
    line(format!("  data           {}", args.data_dir.display()));
    line("");

    let demo = if args.no_demo {
        None
    } else {
        let api = api.clone();
        let token = platform_key.token.clone();
        let stop = shutdown.clone();
        let exit_after = args.exit_after_demo;
        Some(tokio::spawn(async move {
            let result = demo_workload(&api, &token, platform_id, stop.clone()).await;
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

/// Sends a small workload like a platform would, then waits until a receipt is final and
/// prints it.
async fn demo_workload(api: &str, key: &str, platform_id: u64, stop: CancellationToken) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let now = time::OffsetDateTime::now_utc();
    let at = |days_ago: i64| {
        (now - time::Duration::days(days_ago)).format(&time::format_description::well_known::Rfc3339).expect("formats")
    };
    let mut events = Vec::new();
    for (w, worker) in ["driver-ayu", "driver-budi", "courier-citra"].iter().enumerate() {
        // Each demo worker's account is linked to an identity (demo secrets 1001, 1002, 1003), so
        // the epochs score them.
        // The worker consents with a link token signed by the identity's link key.
        let secret = jejak_zk_circuits::Fr::from(1001 + w as u64);
        let commitment = jejak_zk_circuits::fr_to_decimal(&jejak_zk_circuits::identity_commitment(secret));
        let token = jejak_api::services::links::issue(&secret, 31337, platform_id, worker, now_secs() as u64, 3600)
            .context("demo link token")?;
        events.push(json!({"type": "account_linked", "event_id": format!("link-{w}"), "worker": worker,
            "occurred_at": at(60), "data": {"identity_commitment": commitment, "link_token": token}}));
        for t in 0..4 {
            let task = format!("task-{w}-{t}");
            events.push(json!({"type": "task_completed", "event_id": format!("{task}-done"), "worker": worker,
                "occurred_at": at(30 - t * 7), "data": {"task_id": task, "category": "ride", "earnings_minor": 25000 + t * 1000, "currency": "IDR"}}));
            events.push(json!({"type": "review", "event_id": format!("{task}-review"), "worker": worker,
                "occurred_at": at(30 - t * 7), "data": {"task_id": task, "rating": 4.5 + 0.1 * (t as f64), "scale": 5}}));
        }
    }
    // The platform must be visible to the node (indexed) before it accepts events.
    let mut accepted: Option<Value> = None;
    for _ in 0..120 {
        if stop.is_cancelled() {
            return Ok(());
        }
        let resp = http
            .post(format!("{api}/v1/events"))
            .bearer_auth(key)
            .header("Idempotency-Key", "demo-workload-1")
            .json(&json!({ "events": events }))
            .send()
            .await?;
        if resp.status() == reqwest::StatusCode::ACCEPTED {
            accepted = Some(resp.json().await?);
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let accepted = accepted.context("the node did not accept the demo events within 60 s")?;
    let ids: Vec<String> = accepted["accepted"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["id"].as_str().map(String::from)).collect())
        .unwrap_or_default();
    line(format!("Demo: {} events accepted (202); batching, anchoring, waiting for finality...", ids.len()));
    let first = ids.first().context("no attestation ids in the answer")?;
    for _ in 0..240 {
        if stop.is_cancelled() {
            return Ok(());
        }
        let receipt: Value =
            http.get(format!("{api}/v1/attestations/{first}")).bearer_auth(key).send().await?.json().await?;
        if receipt["status"] == "final" {
            line("Demo: the first attestation is anchored and final:");
            line(format!("  curl -s {api}/v1/attestations/{first} -H 'Authorization: Bearer {key}'"));
            line(format!(
                "  batch {} (root {}, {} leaves, ipfs://{}) in tx {} at block {}",
                receipt["anchor"]["batch_id"],
                receipt["batch"]["root"].as_str().unwrap_or(""),
                receipt["batch"]["count"],
                receipt["batch"]["cid"].as_str().unwrap_or(""),
                receipt["anchor"]["transaction_hash"].as_str().unwrap_or(""),
                receipt["anchor"]["block_number"],
            ));
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    anyhow::bail!("the demo attestation did not become final within 120 s")
}
