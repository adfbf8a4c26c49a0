//! Harness for jejak's end-to-end tests: a real anvil with the contracts deployed and a platform
//! registered, and a node launched on a fresh SQLite or PostgreSQL database with its API on
//! `127.0.0.1:0`. Nothing is mocked but what cannot run here (an IPFS daemon).

use std::time::Duration;

use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider, ext::AnvilApi as _};
use jejak_api::auth::{self, Role};
use jejak_chain::Deployment;
use jejak_node::anvil::{Anvil, AnvilOptions, DEV_KEYS};
use jejak_node::config::{Config, Preset};
use jejak_store::test_utils::TestDb;
use jejak_store::{keys, now_secs};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use jejak_store::Backend;

pub mod api;
pub mod ceremony;
pub mod reputation;

pub mod fault_proxy;
pub mod gateway;
pub mod private_pg;

/// Logs for a failing test (`RUST_LOG=jejak=debug`).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_test_writer()
        .try_init();
}

/// anvil with the jejak contracts deployed.
#[derive(Debug)]
pub struct TestChain {
    /// The anvil process.
    pub anvil: Anvil,
    /// Where the contracts are.
    pub deployment: Deployment,
    /// A provider signing with the deployer/operator key.
    pub provider: DynProvider,
}

impl TestChain {
    /// Starts anvil (mining on demand, `finalized` `2 * slots` blocks behind the head) and
    /// deploys the contracts with dev key 0 as admin and operator.
    pub async fn start(slots_in_an_epoch: u64) -> Self {
        let anvil = Anvil::spawn(AnvilOptions { slots_in_an_epoch: Some(slots_in_an_epoch), ..Default::default() })
            .await
            .expect("anvil starts");
        let deployment = jejak_node::ops::deploy(
            &anvil.endpoint(),
            DEV_KEYS[0],
            &jejak_node::ops::DeployOptions { root_window_secs: 3600, ..Default::default() },
        )
        .await
        .expect("deploy");
        let provider =
            jejak_chain::connect_signing(&anvil.endpoint(), jejak_chain::signer_from_hex(DEV_KEYS[0]).unwrap())
                .unwrap();
        Self { anvil, deployment, provider }
    }

    /// The operator (dev key 0) address.
    pub fn operator(&self) -> Address {
        jejak_chain::signer_from_hex(DEV_KEYS[0]).unwrap().address()
    }

    /// Registers a platform signed by `signer`; returns its id.
    pub async fn register_platform(&self, signer: Address) -> u64 {
        jejak_node::ops::register_platform(&self.anvil.endpoint(), DEV_KEYS[0], self.deployment.registry, signer, "")
            .await
            .expect("register platform")
    }

    /// Mines `n` empty blocks.
    pub async fn mine(&self, n: u64) {
        self.provider.anvil_mine(Some(n), None).await.expect("anvil_mine");
    }

    /// The head block number.
    pub async fn head(&self) -> u64 {
        self.provider.get_block_number().await.unwrap()
    }
}

/// A node on a test database.
#[derive(Debug)]
pub struct TestNode {
    /// The running node.
    pub node: jejak_node::RunningNode,
    /// The database (dropped with the node).
    pub db: TestDb,
    /// API base URL.
    pub api: String,
    /// HTTP client.
    pub http: reqwest::Client,
    /// The configuration it runs with.
    pub config: Config,
    _dir: tempfile::TempDir,
}

impl TestNode {
    /// A node for `chain` on a fresh database of `backend`, anchoring with dev key 0.
    pub async fn start(chain: &TestChain, backend: Backend) -> Self {
        Self::start_with(chain, TestDb::new(backend).await, |_| {}).await
    }

    /// A node with the configuration adjusted by `tune`.
    pub async fn start_with(chain: &TestChain, db: TestDb, tune: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::preset(Preset::Local);
        cfg.data_dir = dir.path().to_path_buf();
        cfg.chain.rpc_urls = vec![chain.anvil.endpoint()];
        cfg.contracts = Some(chain.deployment.into());
        cfg.api.listen = "127.0.0.1:0".parse().unwrap();
        cfg.operator.private_key = Some(DEV_KEYS[0].to_string());
        cfg.indexer.poll_interval_ms = 100;
        cfg.batcher.interval_secs = 1;
        cfg.ipfs.backoff_base_secs = 1;
        // Tests that want reputation epochs drive the job themselves or turn it on in `tune`.
        cfg.epochs.enabled = false;
        // The tests' webhook receivers listen on loopback, as under `jejak dev`.
        cfg.webhooks.allow_http = true;
        cfg.webhooks.allow_loopback = true;
        // A node a test crashes on PostgreSQL leaves its leases behind: its successor waits
        // seconds for them, not the production quarter minute.
        cfg.leases.ttl_secs = 3;
        cfg.leases.renew_secs = 1;
        tune(&mut cfg);
        let node =
            jejak_node::launch(&cfg, Some(db.store.clone()), CancellationToken::new()).await.expect("node starts");
        let api = format!("http://{}", node.api_addr);
        Self { node, db, api, http: reqwest::Client::new(), config: cfg, _dir: dir }
    }

    /// Stores a new API key and returns its token.
    pub async fn key(&self, role: Role, platform: Option<u64>) -> String {
        let k = auth::new_key(role, platform.map(|p| p as i64), None, "test", now_secs());
        keys::insert(&mut self.db.store.conn().await.unwrap(), &k.row).await.unwrap();
        k.token
    }

    /// Polls `f` every 100 ms until it returns Some, for at most `secs` seconds.
    pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(v) = f().await {
                return v;
            }
            assert!(tokio::time::Instant::now() < deadline, "timed out after {secs} s waiting for {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `POST /v1/events` with an optional Idempotency-Key; returns status and body.
    pub async fn post_events(&self, token: &str, body: &Value, idempotency_key: Option<&str>) -> (u16, Value) {
        let mut req = self.http.post(format!("{}/v1/events", self.api)).bearer_auth(token).json(body);
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// `GET` a path with a key; returns status and body.
    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let resp = self.http.get(format!("{}{path}", self.api)).bearer_auth(token).send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Waits until the indexer has seen the platform.
    pub async fn wait_for_platform(&self, platform: u64) {
        let store = self.db.store.clone();
        let chain_id = self.config.chain.chain_id as i64;
        Self::eventually(30, "the platform to be indexed", || {
            let store = store.clone();
            async move {
                let mut c = store.conn().await.ok()?;
                jejak_store::chain::platform(&mut c, chain_id, platform as i64).await.ok().flatten()
            }
        })
        .await;
    }
}

/// An indexer for `chain` writing to `store`, with the local preset's settings adjusted by
/// `tune`; driven step by step by the test.
pub fn indexer(
    chain: &TestChain,
    store: &jejak_store::Store,
    tune: impl FnOnce(&mut jejak_indexer::IndexerConfig),
) -> jejak_indexer::Indexer {
    let rpc = jejak_indexer::rpc::RpcConfig { urls: vec![chain.anvil.endpoint()], ..Default::default() };
    indexer_via(chain, store, rpc, tune)
}

/// An indexer talking to the chain through the given RPC settings (a fault proxy, several
/// endpoints...).
pub fn indexer_via(
    chain: &TestChain,
    store: &jejak_store::Store,
    rpc: jejak_indexer::rpc::RpcConfig,
    tune: impl FnOnce(&mut jejak_indexer::IndexerConfig),
) -> jejak_indexer::Indexer {
    let contracts: jejak_node::config::ContractsConfig = chain.deployment.into();
    let mut icfg = Config::preset(Preset::Local).indexer_config(&contracts);
    icfg.poll_interval = Duration::from_millis(50);
    tune(&mut icfg);
    let rpc = jejak_indexer::rpc::RpcClient::new(rpc).unwrap();
    jejak_indexer::Indexer::new(icfg, store.clone(), rpc, std::sync::Arc::new(jejak_indexer::IndexerStatus::default()))
}

/// What the canonical chain says: every jejak event from the deployment block to the head,
/// decoded the way the indexer decodes.
pub async fn canonical_logs(chain: &TestChain) -> Vec<jejak_store::chain::IndexedLog> {
    canonical_logs_for(chain, &contracts_of(&chain.deployment)).await
}

/// [`canonical_logs`] for contracts at other addresses (a benchmark emitter standing in).
pub async fn canonical_logs_for(
    chain: &TestChain,
    contracts: &jejak_indexer::Contracts,
) -> Vec<jejak_store::chain::IndexedLog> {
    let rpc = jejak_indexer::rpc::RpcClient::new(jejak_indexer::rpc::RpcConfig {
        urls: vec![chain.anvil.endpoint()],
        ..Default::default()
    })
    .unwrap();
    let d = chain.deployment;
    let head = rpc.block_number().await.unwrap();
    let mut out = Vec::new();
    let mut from = d.start_block;
    while from <= head {
        let to = head.min(from + 999);
        let logs = rpc.logs(&contracts.addresses(), from, to).await.unwrap();
        out.extend(logs.iter().filter_map(|l| jejak_indexer::decode::decode(d.chain_id, contracts, l).ok()));
        from = to + 1;
    }
    out.sort_by_key(|l| (l.key.block_number, l.key.log_index));
    out
}

/// Every event row the database holds for the chain, in chain order.
pub async fn stored_logs(store: &jejak_store::Store, chain_id: u64) -> Vec<jejak_store::chain::IndexedLog> {
    jejak_store::chain::all_logs(&mut store.conn().await.unwrap(), chain_id as i64).await.unwrap()
}

/// Runs a test body on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($backend: $crate::Backend) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::Backend::Postgres).await
            }
        }
    };
}

/// The contracts the indexer follows, as the indexer names them.
pub fn contracts_of(d: &Deployment) -> jejak_indexer::Contracts {
    jejak_indexer::Contracts {
        registry: d.registry,
        attestations: d.attestations,
        reputation_roots: d.reputation_roots,
        evidence_log: d.evidence_log,
        proof_verifier: Some(d.proof_verifier),
    }
}

/// The `jejak` binary next to the test executable (`make test` builds it first).
/// A configuration file for the `jejak` binary against `chain`, written under `dir`: index only
/// (no operator key), the API on `listen`, `attestations` as the attestation contract, and
/// `indexer` as extra lines of the `[indexer]` table.
pub fn write_node_config(
    dir: &std::path::Path,
    chain: &TestChain,
    db_url: &str,
    listen: &str,
    attestations: Address,
    indexer: &str,
) -> std::path::PathBuf {
    let d = chain.deployment;
    let text = format!(
        r#"preset = "local"
data_dir = "{data}"

[chain]
chain_id = 31337
rpc_urls = ["{rpc}"]

[database]
url = "{db_url}"

[api]
listen = "{listen}"

[contracts]
registry = "{registry}"
attestations = "{attestations}"
reputation_roots = "{roots}"
evidence_log = "{evidence}"
start_block = {start}

[node]
instance_id = "test-node"

[leases]
ttl_secs = 2
renew_secs = 1

[indexer]
poll_interval_ms = 50
{indexer}
"#,
        data = dir.display(),
        rpc = chain.anvil.endpoint(),
        registry = d.registry,
        roots = d.reputation_roots,
        evidence = d.evidence_log,
        start = d.start_block,
    );
    let path = dir.join("jejak.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `jejak node --config CONFIG` without the environment's operator key, logging at `rust_log` to
/// `stderr`; killed when dropped.
pub fn spawn_node(config: &std::path::Path, rust_log: &str, stderr: std::process::Stdio) -> tokio::process::Child {
    tokio::process::Command::new(jejak_bin())
        .arg("node")
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", rust_log)
        .env_remove("JEJAK_OPERATOR__PRIVATE_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .expect("jejak starts")
}

pub fn jejak_bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap();
    let bin = dir.join("jejak");
    assert!(bin.exists(), "{} is missing: build it with `cargo build -p jejak-node --bin jejak`", bin.display());
    bin
}
