//! Node configuration: a preset (`local`, `polygon-amoy`, `polygon`), overlaid by a TOML file,
//! overlaid by `JEJAK_*` environment variables (`__` separates sections:
//! `JEJAK_CHAIN__RPC_URLS='["https://a", "https://b"]'`, `JEJAK_OPERATOR__PRIVATE_KEY=0x...`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::primitives::Address;
use figment::Figment;
use figment::providers::{Env, Format as _, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// A chain preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// anvil on 127.0.0.1:8545 (chain 31337).
    Local,
    /// Polygon PoS testnet Amoy (chain 80002).
    PolygonAmoy,
    /// Polygon PoS mainnet (chain 137).
    Polygon,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The preset the defaults came from.
    pub preset: Preset,
    /// Where the node keeps its SQLite file, blockstore and files (made the owner's alone, 0700).
    pub data_dir: PathBuf,
    /// Where the node keeps its key files (issuer, identity sealing, webhook secrets), apart
    /// from the database; default `keys/` in the data directory. 0700, files 0600: the node
    /// refuses key files its group or others may read.
    pub keys_dir: Option<PathBuf>,
    /// The chain.
    pub chain: ChainConfig,
    /// The deployed contracts; required for `jejak node`.
    pub contracts: Option<ContractsConfig>,
    /// The database.
    pub database: DatabaseConfig,
    /// The HTTP API.
    pub api: ApiConfig,
    /// IPFS sources and limits.
    pub ipfs: IpfsConfig,
    /// Chain following.
    pub indexer: IndexerSection,
    /// Attestation batching.
    pub batcher: BatcherSection,
    /// The key the node sends transactions with.
    pub operator: OperatorConfig,
    /// Logging.
    pub log: LogConfig,
    /// Proof-of-reality evidence: files, limits, rules, anchoring of the evidence log.
    pub evidence: EvidenceSection,
    /// Reputation epochs: when scores are computed and their roots published.
    pub epochs: EpochsSection,
    /// Verifiable credentials the node issues.
    pub credentials: CredentialsSection,
    /// Zero-knowledge proofs through the API: verification, and proving for node-held identities.
    pub proofs: ProofsSection,
    /// Node-held (custodial) identities.
    pub identities: IdentitiesSection,
    /// Outgoing webhooks.
    pub webhooks: WebhooksSection,
    /// The marketplace.
    pub market: MarketSection,
    /// This instance: its roles and its id among the instances sharing the database.
    #[serde(default)]
    pub node: NodeSection,
    /// Leases of the singleton jobs (several instances on one PostgreSQL database).
    #[serde(default)]
    pub leases: LeasesSection,
}

/// What an instance does. Every instance may run any role; the singleton jobs among them
/// (indexer, anchor, evidence, epoch, and the webhook worker and market timers) run on one
/// instance at a time, the holder of the job's lease.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The HTTP API (behind the load balancer) with its nullifier writer.
    Api,
    /// Following the chain and fetching the IPFS documents it names.
    Indexer,
    /// Batching attestations and sending every transaction (the one owner of the key's nonces).
    Anchor,
    /// Reputation epochs (sends through the anchor role's sender: give both to an instance).
    Epoch,
    /// Anchoring the evidence log (sends through the anchor role's sender: give both).
    Evidence,
    /// Outgoing webhook deliveries and the marketplace's timers.
    Webhooks,
}

impl Role {
    /// Every role, in order.
    pub const ALL: [Role; 6] = [Role::Api, Role::Indexer, Role::Anchor, Role::Epoch, Role::Evidence, Role::Webhooks];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Api => "api",
            Role::Indexer => "indexer",
            Role::Anchor => "anchor",
            Role::Epoch => "epoch",
            Role::Evidence => "evidence",
            Role::Webhooks => "webhooks",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim()).ok_or_else(|| {
            format!("unknown role `{}`: one of api, indexer, anchor, epoch, evidence, webhooks", s.trim())
        })
    }
}

/// A set of roles, written as a list (`["api", "indexer"]`) or a comma-separated string
/// (`"api,indexer"`, as `--roles` and `JEJAK_NODE_ROLES` give it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Roles(pub std::collections::BTreeSet<Role>);

impl Roles {
    /// Every role.
    pub fn all() -> Self {
        Self(Role::ALL.into_iter().collect())
    }

    /// Whether `role` is among them.
    pub fn has(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    /// Their names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|r| r.as_str()).collect()
    }
}

impl Default for Roles {
    fn default() -> Self {
        Self::all()
    }
}

impl std::str::FromStr for Roles {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let set = s.split(',').filter(|p| !p.trim().is_empty()).map(str::parse).collect::<Result<_, _>>()?;
        Ok(Self(set))
    }
}

impl<'de> Deserialize<'de> for Roles {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Text(String),
            List(Vec<String>),
        }
        let parsed = match Form::deserialize(d)? {
            Form::Text(t) => t.parse(),
            Form::List(l) => l.iter().map(|r| r.parse()).collect::<Result<_, _>>().map(Roles),
        };
        parsed.map_err(serde::de::Error::custom)
    }
}

/// `[node]`: this instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct NodeSection {
    /// The roles this instance runs (default: all); `--roles` and `JEJAK_NODE_ROLES` override.
    pub roles: Roles,
    /// This instance's name in the leases it holds (default: host name, process id and a random
    /// suffix, new at every start). Must differ between instances sharing a database; set it so
    /// that a restarted instance takes its jobs back at once instead of after the lease time.
    pub instance_id: Option<String>,
}

/// `[leases]`: how the singleton jobs are elected among instances sharing a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LeasesSection {
    /// How long a lease lasts unless renewed: a standby takes a job over within this (plus one
    /// poll) after its holder died.
    pub ttl_secs: u64,
    /// How often the holder renews its leases and standbys look for a lapsed one.
    pub renew_secs: u64,
}

impl Default for LeasesSection {
    fn default() -> Self {
        Self { ttl_secs: 15, renew_secs: 5 }
    }
}

/// Verifiable credentials.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialsSection {
    /// The issuer's ed25519 seed, 64 hex digits (prefer `JEJAK_CREDENTIALS__SIGNING_KEY`); without
    /// it the node keeps one in `issuer.key` in the keys directory, made on first start.
    pub signing_key: Option<String>,
    /// How long an issued credential is valid, days.
    pub validity_days: u64,
    /// Credentials whose signature check `POST /v1/verify/credential` remembers, by request
    /// hash (validity period and revocation are checked on every request); 0 turns it off.
    pub verification_cache: usize,
}

impl std::fmt::Debug for CredentialsSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialsSection")
            .field("signing_key", &self.signing_key.as_ref().map(|_| "<redacted>"))
            .field("validity_days", &self.validity_days)
            .field("verification_cache", &self.verification_cache)
            .finish()
    }
}

/// Proof verification, and proving for node-held identities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProofsSection {
    /// The verifying key file (`jejak zk setup` output); without it (and without a proving key)
    /// `POST /v1/verify/proof` answers 503. With a proving key too, it must be that key's.
    pub verifying_key: Option<PathBuf>,
    /// Most proofs checked in one batch.
    pub batch_max: usize,
    /// The proving key file; with it the node proves for the identities it holds
    /// (`POST /v1/workers/{id}/proofs`), and verifies with its verifying key when
    /// `verifying_key` is not set. Without it that route answers 503.
    pub proving_key: Option<PathBuf>,
    /// Most proofs waiting to be made; past it `POST /v1/workers/{id}/proofs` answers 503
    /// `prover_busy` with `Retry-After`.
    pub prove_queue: usize,
    /// Start with INSECURE development keys on a chain other than anvil's (`jejak node
    /// --allow-insecure-dev-keys`): anyone can then forge proofs the node accepts. Off: the node
    /// refuses to start.
    #[serde(default)]
    pub allow_insecure_dev_keys: bool,
}

/// Node-held (custodial) identities: secrets the node keeps, sealed, for workers who have no
/// device or wallet of their own.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentitiesSection {
    /// The key identity secrets are sealed with, 64 hex digits (prefer
    /// `JEJAK_IDENTITIES__SEALING_KEY`); without it the node keeps one in `identity-seal.key` in
    /// the keys directory, made on first start. Keep it apart from database backups: with both,
    /// the secrets open.
    pub sealing_key: Option<String>,
}

impl std::fmt::Debug for IdentitiesSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentitiesSection")
            .field("sealing_key", &self.sealing_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The marketplace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MarketSection {
    /// Run the marketplace's timers (offers lapse, deliveries accepted, reviews published).
    pub enabled: bool,
    /// The marketplace's platform id on chain; its outcomes become that platform's work events
    /// (none: nothing is sent into the pipeline).
    pub platform_id: Option<i64>,
    /// Delivered work is accepted automatically after this many seconds without an answer.
    pub auto_accept_secs: i64,
    /// Reviews are published this many seconds after a contract ends, whether or not both sides wrote one.
    pub review_window_secs: i64,
    /// API key ids that may resolve disputes (the arbiter role).
    pub arbiter_keys: Vec<String>,
    /// How often the timer job looks for due timers, milliseconds.
    pub timer_interval_ms: u64,
}

impl Default for MarketSection {
    fn default() -> Self {
        let policy = jejak_market::Policy::default();
        Self {
            enabled: true,
            platform_id: None,
            auto_accept_secs: policy.auto_accept_secs,
            review_window_secs: policy.review_window_secs,
            arbiter_keys: Vec::new(),
            timer_interval_ms: 5_000,
        }
    }
}

/// Outgoing webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhooksSection {
    /// Produce and deliver webhooks.
    pub enabled: bool,
    /// Attempts before a delivery goes to the dead-letter list.
    pub max_attempts: u32,
    /// First retry delay, milliseconds (doubles per attempt).
    pub backoff_base_ms: u64,
    /// Longest retry delay, seconds.
    pub backoff_cap_secs: u64,
    /// Timeout of one delivery, seconds.
    pub timeout_secs: u64,
    /// Pause between rounds when idle, milliseconds.
    pub poll_interval_ms: u64,
    /// Accept `http://` subscription URLs (default: https only).
    pub allow_http: bool,
    /// Deliver to loopback addresses (`jejak dev`; never on a node facing the internet).
    pub allow_loopback: bool,
    /// Internal networks deliveries may go to although private (CIDR, e.g. `10.20.0.0/16`).
    pub allow_networks: Vec<String>,
    /// Deliveries of one platform attempted at once.
    pub per_platform_concurrency: usize,
    /// Live subscriptions one platform may have.
    pub max_subscriptions: usize,
    /// The key webhook secrets are sealed with at rest, 64 hex digits (prefer
    /// `JEJAK_WEBHOOKS__SECRETS_KEY`); without it the node keeps one in `webhook-secrets.key` in
    /// the keys directory, made on first start. Instances sharing a database share it.
    pub secrets_key: Option<SecretText>,
}

/// A secret given in the configuration: `Debug` prints `<redacted>`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Chain access.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    /// EVM chain id the endpoints must serve.
    pub chain_id: u64,
    /// JSON-RPC endpoints in order of preference; later ones are fallbacks.
    pub rpc_urls: Vec<String>,
    /// Timeout of one RPC request, seconds.
    pub request_timeout_secs: u64,
}

/// Contract addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractsConfig {
    /// `JejakRegistry`.
    #[schemars(with = "String")]
    pub registry: Address,
    /// `JejakAttestations`.
    #[schemars(with = "String")]
    pub attestations: Address,
    /// `JejakReputationRoots`.
    #[schemars(with = "String")]
    pub reputation_roots: Address,
    /// `JejakEvidenceLog`.
    #[schemars(with = "String")]
    pub evidence_log: Address,
    /// `JejakProofVerifier`: scopes of reputation proofs are bound to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub proof_verifier: Option<Address>,
    /// Block the contracts were deployed in (indexing starts there).
    pub start_block: u64,
}

impl From<jejak_chain::Deployment> for ContractsConfig {
    fn from(d: jejak_chain::Deployment) -> Self {
        Self {
            registry: d.registry,
            attestations: d.attestations,
            reputation_roots: d.reputation_roots,
            evidence_log: d.evidence_log,
            proof_verifier: Some(d.proof_verifier),
            start_block: d.start_block,
        }
    }
}

/// Database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH?mode=rwc` or `postgres://...`; default: `jejak.db` in the data directory.
    pub url: Option<String>,
    /// Most pooled connections (default: 4 on SQLite, 16 on PostgreSQL).
    pub max_connections: Option<u32>,
    /// Seconds a task waits for a free connection before failing (and retrying with backoff).
    pub acquire_timeout_secs: u64,
}

/// HTTP API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Most events per request.
    pub max_events_per_request: usize,
    /// Request timeout, seconds.
    pub request_timeout_secs: u64,
    /// Base URL the API is reached at, for links in credentials (default: `http://<listen>`).
    pub public_url: Option<String>,
    /// How long an API key is trusted from memory, milliseconds (revocations through the API
    /// apply at once, and on PostgreSQL those from the CLI or another instance too; on SQLite
    /// the CLI's within this time).
    pub key_cache_ttl_ms: u64,
    /// Requests per second per API key (0: unlimited).
    pub rate_limit_per_sec: f64,
    /// Requests an idle key may send at once.
    pub rate_limit_burst: f64,
    /// On PostgreSQL, charge each key's requests also to one bucket shared by every instance
    /// (a row in the database), so the limit holds across replicas rather than per replica.
    /// Ignored on SQLite (one process).
    pub shared_rate_limits: bool,
    /// Origins allowed by CORS (`["*"]` for any); empty: no CORS headers.
    pub cors_origins: Vec<String>,
    /// `/readyz` fails when the indexer lags the head by more blocks than this.
    pub ready_max_lag_blocks: u64,
    /// How long a reputation answer is reused for the same key, milliseconds (scores change
    /// once per epoch); 0 turns it off.
    pub reputation_cache_ms: u64,
    /// Requests per second per client address without a valid API key (0: unlimited).
    pub anonymous_rate_limit_per_sec: f64,
    /// Such requests an idle address may send at once.
    pub anonymous_rate_limit_burst: f64,
    /// Failed authentications (bad keys, bad webhook signatures) a client address may make per
    /// second once its allowance is spent; past it the address is answered 429.
    pub failed_auth_per_sec: f64,
    /// The allowance of failed authentications of an idle address.
    pub failed_auth_burst: f64,
    /// Addresses of load balancers in front of the node: behind them the client address is
    /// read from `X-Forwarded-For`. Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// IPFS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IpfsConfig {
    /// Trustless gateways tried after the blockstore, in order.
    pub gateways: Vec<String>,
    /// Kubo RPC endpoint: tried after the gateways, and documents the node publishes are pinned
    /// to it.
    pub kubo_rpc: Option<String>,
    /// Largest document fetched, bytes.
    pub max_object_bytes: u64,
    /// Timeout of one fetch, seconds.
    pub fetch_timeout_secs: u64,
    /// Attempts before giving up on a CID.
    pub max_attempts: u32,
    /// First retry delay, seconds (doubles up to `backoff_cap_secs`).
    pub backoff_base_secs: u64,
    /// Longest retry delay, seconds.
    pub backoff_cap_secs: u64,
}

/// Chain following.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexerSection {
    /// First block to index; default: the deployment block.
    pub start_block: Option<u64>,
    /// Follow the RPC's `finalized` tag.
    pub use_finalized_tag: bool,
    /// Confirmation depth used when the tag is unavailable.
    pub confirmation_depth: u64,
    /// Alarm when the tag lags the head by more than this many blocks.
    pub finality_lag_alarm: u64,
    /// Unfinalized blocks kept to detect reorganisations.
    pub reorg_window: u64,
    /// Poll interval when caught up, milliseconds.
    pub poll_interval_ms: u64,
    /// First `eth_getLogs` range.
    pub initial_log_range: u64,
    /// Largest `eth_getLogs` range.
    pub max_log_range: u64,
    /// Concurrent `eth_getLogs` requests during backfill.
    pub fetch_concurrency: usize,
    /// Alarm when the head has not moved for this long, seconds.
    pub head_stall_alarm_secs: u64,
}

/// Attestation batching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatcherSection {
    /// Seconds between batching rounds.
    pub interval_secs: u64,
    /// Most events per batch (at most 10,000).
    pub max_batch: usize,
}

/// Reputation epochs. Epoch `e` is scored as of `genesis + e * length_secs` and published once
/// it has ended (with the operator key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EpochsSection {
    /// Compute and publish epochs (only with an operator key).
    pub enabled: bool,
    /// Epoch length, seconds (a day by default).
    pub length_secs: u64,
    /// Unix time epoch 0 ends at.
    pub genesis: i64,
    /// Depth of the Poseidon tree of worker leaves (2^depth workers at most).
    pub depth: usize,
    /// Seconds between checks for a due or unfinished epoch.
    pub interval_secs: u64,
}

impl Default for EpochsSection {
    fn default() -> Self {
        Self { enabled: true, length_secs: 86_400, genesis: 0, depth: 20, interval_secs: 60 }
    }
}

/// Proof-of-reality evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceSection {
    /// Where evidence files are kept; default: `evidence` in the data directory. They are never
    /// published (not on IPFS, not on chain) and never served.
    pub blob_dir: Option<PathBuf>,
    /// Largest photo and track accepted, bytes (`photo_bytes`, `track_bytes`).
    pub size_limits: jejak_evidence::SizeLimits,
    /// Bounds on parsing a file (pixels, decoder memory, XML depth, track points).
    pub parse_limits: jejak_evidence::ParseLimits,
    /// Rule thresholds: `[evidence.rules.default]` and `[evidence.rules.task_types.<type>]`.
    pub rules: jejak_evidence::RuleConfigs,
    /// Most files in one upload request.
    pub max_files_per_upload: usize,
    /// Largest upload request, bytes: refused when a `Content-Length` announces more or as soon
    /// as more has streamed in.
    pub max_upload_bytes: u64,
    /// Most uploads in progress at once on this instance (more answer 429).
    pub max_concurrent_uploads: usize,
    /// Most uploads in progress at once per API key (more answer 429).
    pub max_uploads_per_key: usize,
    /// Longest an upload request may take, seconds.
    pub upload_timeout_secs: u64,
    /// How long before a task's window opens its capture nonce may be issued, seconds.
    pub nonce_lead_secs: u64,
    /// Seconds between anchoring rounds of the evidence log (one checkpoint per round at most).
    pub anchor_interval_secs: u64,
}

impl Default for EvidenceSection {
    fn default() -> Self {
        Self {
            blob_dir: None,
            size_limits: jejak_evidence::SizeLimits::default(),
            parse_limits: jejak_evidence::ParseLimits::default(),
            rules: jejak_evidence::RuleConfigs::default(),
            max_files_per_upload: 16,
            max_upload_bytes: 256 << 20,
            max_concurrent_uploads: 64,
            max_uploads_per_key: 4,
            upload_timeout_secs: 600,
            nonce_lead_secs: 3600,
            anchor_interval_secs: 10,
        }
    }
}

/// The node's transaction key and how its transactions are priced.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    /// Hex private key; prefer the `JEJAK_OPERATOR__PRIVATE_KEY` environment variable. Without
    /// it the node indexes and serves but does not anchor.
    pub private_key: Option<String>,
    /// Highest fee cap an anchoring transaction (or its replacement) may offer, gwei per gas;
    /// unset: the node's estimate, uncapped.
    pub max_fee_per_gas_gwei: Option<u64>,
    /// Seconds a transaction may stay pending before it is replaced by one with the same nonce
    /// and a higher fee (at most one of them can land).
    pub replace_after_secs: u64,
}

impl Default for OperatorConfig {
    fn default() -> Self {
        Self { private_key: None, max_fee_per_gas_gwei: None, replace_after_secs: 120 }
    }
}

impl OperatorConfig {
    /// The sender's settings.
    pub fn sender_config(&self) -> jejak_chain::SenderConfig {
        jejak_chain::SenderConfig {
            max_fee_per_gas: self.max_fee_per_gas_gwei.map(|g| u128::from(g) * 1_000_000_000),
            replace_after: Duration::from_secs(self.replace_after_secs.max(1)),
        }
    }
}

impl std::fmt::Debug for OperatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorConfig")
            .field("private_key", &self.private_key.as_ref().map(|_| "<redacted>"))
            .field("max_fee_per_gas_gwei", &self.max_fee_per_gas_gwei)
            .field("replace_after_secs", &self.replace_after_secs)
            .finish()
    }
}

/// Logging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter such as `info,jejak::indexer=debug` (`RUST_LOG` wins when set).
    pub filter: String,
}

impl Config {
    /// The defaults of a preset.
    pub fn preset(preset: Preset) -> Self {
        let (chain_id, rpc, depth, lag_alarm, window, poll_ms) = match preset {
            Preset::Local => (31337, "http://127.0.0.1:8545", 12, 256, 256, 500),
            Preset::PolygonAmoy => (80002, "https://rpc-amoy.polygon.technology", 256, 512, 1024, 2000),
            Preset::Polygon => (137, "https://polygon-rpc.com", 256, 512, 1024, 2000),
        };
        Self {
            preset,
            data_dir: PathBuf::from(".jejak"),
            keys_dir: None,
            chain: ChainConfig { chain_id, rpc_urls: vec![rpc.to_string()], request_timeout_secs: 20 },
            contracts: None,
            database: DatabaseConfig { url: None, max_connections: None, acquire_timeout_secs: 30 },
            api: ApiConfig {
                listen: "127.0.0.1:7420".parse().expect("static address"),
                max_body_bytes: 4 * 1024 * 1024,
                max_events_per_request: 1000,
                request_timeout_secs: 30,
                public_url: None,
                key_cache_ttl_ms: 2000,
                rate_limit_per_sec: 100.0,
                rate_limit_burst: 200.0,
                shared_rate_limits: true,
                cors_origins: Vec::new(),
                ready_max_lag_blocks: if preset == Preset::Local { 64 } else { 512 },
                reputation_cache_ms: 1000,
                anonymous_rate_limit_per_sec: 100.0,
                anonymous_rate_limit_burst: 200.0,
                failed_auth_per_sec: 1.0,
                failed_auth_burst: 50.0,
                trusted_proxies: Vec::new(),
            },
            ipfs: IpfsConfig {
                gateways: Vec::new(),
                kubo_rpc: None,
                max_object_bytes: 4 * 1024 * 1024,
                fetch_timeout_secs: 30,
                max_attempts: 12,
                backoff_base_secs: 2,
                backoff_cap_secs: 3600,
            },
            indexer: IndexerSection {
                start_block: None,
                use_finalized_tag: true,
                confirmation_depth: depth,
                finality_lag_alarm: lag_alarm,
                reorg_window: window,
                poll_interval_ms: poll_ms,
                initial_log_range: 1000,
                max_log_range: if preset == Preset::Local { 100_000 } else { 2000 },
                fetch_concurrency: 4,
                head_stall_alarm_secs: if preset == Preset::Local { 600 } else { 120 },
            },
            // Each round anchors one batch per platform with events waiting (82,902 gas each on
            // chain, whatever its size): on a public chain five minutes keep 1,000,000 steady
            // events a day from ten platforms near 240 gas per attestation (docs/deploy.md).
            batcher: BatcherSection { interval_secs: if preset == Preset::Local { 5 } else { 300 }, max_batch: 10_000 },
            operator: OperatorConfig::default(),
            log: LogConfig { format: "text".into(), filter: "info".into() },
            evidence: EvidenceSection::default(),
            epochs: EpochsSection::default(),
            credentials: CredentialsSection { signing_key: None, validity_days: 30, verification_cache: 10_000 },
            proofs: ProofsSection {
                verifying_key: None,
                batch_max: 256,
                proving_key: None,
                prove_queue: 4,
                allow_insecure_dev_keys: false,
            },
            identities: IdentitiesSection::default(),
            webhooks: WebhooksSection {
                enabled: true,
                max_attempts: 12,
                backoff_base_ms: 1000,
                backoff_cap_secs: 3600,
                timeout_secs: 10,
                poll_interval_ms: 500,
                allow_http: false,
                allow_loopback: false,
                allow_networks: Vec::new(),
                per_platform_concurrency: 8,
                max_subscriptions: 16,
                secrets_key: None,
            },
            market: MarketSection::default(),
            node: NodeSection::default(),
            leases: LeasesSection::default(),
        }
    }

    /// Loads the configuration: the preset named in the file or `JEJAK_PRESET` (default
    /// `local`), then the file, then `JEJAK_*` variables.
    pub fn load(path: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let file = || match path {
            Some(p) => Toml::file_exact(p),
            None => Toml::string(""),
        };
        let preset: Preset = Figment::new()
            .merge(file())
            .merge(Env::prefixed("JEJAK_").only(&["preset"]))
            .extract_inner("preset")
            .unwrap_or(Preset::Local);
        Figment::from(Serialized::defaults(Self::preset(preset)))
            .merge(file())
            // JEJAK_CONFIG names the file (a command-line option) and JEJAK_ANVIL the anvil
            // binary: they are not configuration keys.
            .merge(Env::prefixed("JEJAK_").ignore(&["config", "anvil", "node_roles"]).split("__"))
            // `JEJAK_NODE_ROLES=api,indexer`, the documented spelling of `JEJAK_NODE__ROLES`.
            .merge(Env::prefixed("JEJAK_NODE_").only(&["roles"]).map(|_| "node.roles".into()))
            .extract()
            .map_err(Box::new)
    }

    /// The database URL, defaulting to a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        self.database
            .url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", self.data_dir.join("jejak.db").display()))
    }

    /// The keys directory.
    pub fn keys_dir(&self) -> PathBuf {
        self.keys_dir.clone().unwrap_or_else(|| self.data_dir.join("keys"))
    }

    /// The database pool settings.
    pub fn pool_settings(&self) -> jejak_store::PoolSettings {
        jejak_store::PoolSettings {
            max_connections: self.database.max_connections,
            acquire_timeout: Duration::from_secs(self.database.acquire_timeout_secs.max(1)),
        }
    }

    /// The blockstore directory.
    pub fn blockstore_dir(&self) -> PathBuf {
        self.data_dir.join("blocks")
    }

    /// The API's public base URL.
    pub fn public_url(&self) -> String {
        self.api.public_url.clone().unwrap_or_else(|| format!("http://{}", self.api.listen))
    }

    /// The API settings of the verification API.
    pub fn api_settings(&self, contracts: &ContractsConfig, public_url: String) -> jejak_api::ApiSettings {
        let w = &self.webhooks;
        jejak_api::ApiSettings {
            public_url,
            reputation_roots: contracts.reputation_roots,
            key_cache_ttl: Duration::from_millis(self.api.key_cache_ttl_ms),
            rate_limit: jejak_api::limits::RateLimit {
                per_second: self.api.rate_limit_per_sec,
                burst: self.api.rate_limit_burst.max(1.0),
            },
            shared_rate_limits: self.api.shared_rate_limits,
            anonymous_rate_limit: jejak_api::limits::RateLimit {
                per_second: self.api.anonymous_rate_limit_per_sec,
                burst: self.api.anonymous_rate_limit_burst.max(1.0),
            },
            failed_auth_limit: jejak_api::limits::RateLimit {
                per_second: self.api.failed_auth_per_sec,
                burst: self.api.failed_auth_burst.max(1.0),
            },
            trusted_proxies: self.api.trusted_proxies.clone(),
            cors_origins: self.api.cors_origins.clone(),
            ready_max_lag_blocks: self.api.ready_max_lag_blocks,
            credential_cache_entries: self.credentials.verification_cache,
            reputation_cache: Duration::from_millis(self.api.reputation_cache_ms),
            proof_batch_max: self.proofs.batch_max.max(1),
            webhooks: jejak_api::services::webhooks::WebhookSettings {
                max_attempts: w.max_attempts.max(1),
                backoff_base: Duration::from_millis(w.backoff_base_ms),
                backoff_cap: Duration::from_secs(w.backoff_cap_secs),
                timeout: Duration::from_secs(w.timeout_secs.max(1)),
                poll_interval: Duration::from_millis(w.poll_interval_ms.max(10)),
                egress: jejak_api::services::egress::EgressPolicy {
                    allow_http: w.allow_http,
                    allow_loopback: w.allow_loopback,
                    // Checked by `validate`.
                    allow: w.allow_networks.iter().filter_map(|n| n.parse().ok()).collect(),
                },
                per_platform_concurrency: w.per_platform_concurrency.max(1),
                max_subscriptions: w.max_subscriptions,
                ..Default::default()
            },
            market: jejak_api::services::market::MarketSettings {
                policy: jejak_market::Policy {
                    auto_accept_secs: self.market.auto_accept_secs,
                    review_window_secs: self.market.review_window_secs,
                },
                platform_id: self.market.platform_id,
                arbiter_keys: self.market.arbiter_keys.clone(),
                timer_interval: Duration::from_millis(self.market.timer_interval_ms.max(10)),
            },
        }
    }

    /// Where evidence files are kept (apart from the public blockstore).
    pub fn evidence_blob_dir(&self) -> PathBuf {
        self.evidence.blob_dir.clone().unwrap_or_else(|| self.data_dir.join("evidence"))
    }

    /// Checks values that would otherwise fail later and obscurely.
    pub fn validate(&self) -> Result<(), String> {
        if self.leases.renew_secs == 0 || self.leases.ttl_secs <= self.leases.renew_secs {
            return Err("leases: renew_secs must be at least 1 and below ttl_secs".into());
        }
        if self.node.roles.0.is_empty() {
            return Err("node.roles: at least one role".into());
        }
        let r = &self.node.roles;
        if (r.has(Role::Evidence) || r.has(Role::Epoch)) && !r.has(Role::Anchor) && self.operator.private_key.is_some()
        {
            return Err("node.roles: evidence and epoch send through the anchor role's transaction sender \
                        (one owner of the key's nonces): give anchor to the same instance"
                .into());
        }
        if let Some(id) = &self.node.instance_id
            && (id.is_empty() || id.len() > 128 || id.chars().any(|c| c.is_control()))
        {
            return Err("node.instance_id: 1 to 128 printable characters".into());
        }
        jejak_market::Policy {
            auto_accept_secs: self.market.auto_accept_secs,
            review_window_secs: self.market.review_window_secs,
        }
        .validate()
        .map_err(|e| format!("market.{e}"))?;
        if self.market.platform_id.is_some_and(|p| p <= 0) {
            return Err("market.platform_id: a positive platform id".into());
        }
        if self.chain.rpc_urls.is_empty() {
            return Err("chain.rpc_urls: at least one endpoint is required".into());
        }
        if matches!(self.preset, Preset::Polygon | Preset::PolygonAmoy) && self.indexer.confirmation_depth < 200 {
            return Err("indexer.confirmation_depth: Polygon PoS needs at least 200 blocks".into());
        }
        if let Some(bad) = self.webhooks.allow_networks.iter().find(|n| n.parse::<ipnet::IpNet>().is_err()) {
            return Err(format!("webhooks.allow_networks: `{bad}` is not a network (CIDR, e.g. 10.20.0.0/16)"));
        }
        if self.indexer.reorg_window < 2 {
            return Err("indexer.reorg_window: at least 2 blocks".into());
        }
        if self.epochs.length_secs == 0 || !(1..=32).contains(&self.epochs.depth) {
            return Err("epochs: length_secs must be positive and depth 1 to 32".into());
        }
        if self.batcher.max_batch == 0 || self.batcher.max_batch > jejak_core::batch::MAX_BATCH_LEAVES {
            return Err(format!("batcher.max_batch: 1 to {}", jejak_core::batch::MAX_BATCH_LEAVES));
        }
        let e = &self.evidence;
        if e.size_limits.photo_bytes == 0 || e.size_limits.track_bytes == 0 {
            return Err("evidence.size_limits: photo_bytes and track_bytes must be positive".into());
        }
        if e.max_files_per_upload == 0 || e.max_upload_bytes == 0 || e.upload_timeout_secs == 0 {
            return Err(
                "evidence: max_files_per_upload, max_upload_bytes and upload_timeout_secs must be positive".into()
            );
        }
        if e.blob_dir.as_ref().is_some_and(|d| d.starts_with(self.blockstore_dir())) {
            return Err("evidence.blob_dir: must not be inside the public blockstore".into());
        }
        Ok(())
    }

    /// The indexer settings for the deployed contracts.
    pub fn indexer_config(&self, contracts: &ContractsConfig) -> jejak_indexer::IndexerConfig {
        let i = &self.indexer;
        let mut cfg = jejak_indexer::IndexerConfig::new(
            self.chain.chain_id,
            jejak_indexer::Contracts {
                registry: contracts.registry,
                attestations: contracts.attestations,
                reputation_roots: contracts.reputation_roots,
                evidence_log: contracts.evidence_log,
                proof_verifier: contracts.proof_verifier,
            },
            i.start_block.unwrap_or(contracts.start_block),
        );
        cfg.use_finalized_tag = i.use_finalized_tag;
        cfg.confirmation_depth = i.confirmation_depth;
        cfg.finality_lag_alarm = i.finality_lag_alarm;
        cfg.reorg_window = i.reorg_window;
        cfg.poll_interval = Duration::from_millis(i.poll_interval_ms);
        cfg.initial_log_range = i.initial_log_range;
        cfg.max_log_range = i.max_log_range;
        cfg.fetch_concurrency = i.fetch_concurrency;
        cfg.head_stall_alarm = Duration::from_secs(i.head_stall_alarm_secs);
        cfg
    }

    /// The epoch job's settings for the deployed contracts.
    pub fn epoch_config(&self, contracts: &ContractsConfig) -> jejak_anchor::epoch::EpochConfig {
        let mut e = jejak_anchor::epoch::EpochConfig::new(self.chain.chain_id, contracts.reputation_roots);
        e.length_secs = self.epochs.length_secs;
        e.genesis = self.epochs.genesis;
        e.depth = self.epochs.depth;
        e.interval = Duration::from_secs(self.epochs.interval_secs.max(1));
        e
    }

    /// The RPC client settings.
    pub fn rpc_config(&self) -> jejak_indexer::rpc::RpcConfig {
        jejak_indexer::rpc::RpcConfig {
            urls: self.chain.rpc_urls.clone(),
            request_timeout: Duration::from_secs(self.chain.request_timeout_secs),
            ..Default::default()
        }
    }
}

#[cfg(test)]
// figment's Jail closures return its large error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn presets_differ_where_chains_differ() {
        let amoy = Config::preset(Preset::PolygonAmoy);
        assert_eq!(amoy.chain.chain_id, 80002);
        assert!(amoy.indexer.confirmation_depth >= 200);
        assert_eq!(Config::preset(Preset::Polygon).chain.chain_id, 137);
        assert_eq!(Config::preset(Preset::Local).chain.chain_id, 31337);
        for p in [Preset::Local, Preset::PolygonAmoy, Preset::Polygon] {
            Config::preset(p).validate().unwrap();
        }
    }

    #[test]
    fn file_then_environment_override_the_preset() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "jejak.toml",
                r#"
                preset = "polygon-amoy"
                [api]
                listen = "0.0.0.0:9000"
                [chain]
                rpc_urls = ["https://one.example", "https://two.example"]
                "#,
            )?;
            jail.set_env("JEJAK_INDEXER__REORG_WINDOW", "4096");
            jail.set_env("JEJAK_OPERATOR__PRIVATE_KEY", "0xabc");
            // Variables that are not configuration keys do not disturb it.
            jail.set_env("JEJAK_CONFIG", "jejak.toml");
            jail.set_env("JEJAK_ANVIL", "/usr/bin/anvil");
            let cfg = Config::load(Some(Path::new("jejak.toml"))).expect("loads");
            assert_eq!(cfg.preset, Preset::PolygonAmoy);
            assert_eq!(cfg.chain.chain_id, 80002, "from the preset");
            assert_eq!(cfg.chain.rpc_urls.len(), 2, "from the file");
            assert_eq!(cfg.api.listen.port(), 9000);
            assert_eq!(cfg.indexer.reorg_window, 4096, "from the environment");
            assert_eq!(cfg.operator.private_key.as_deref(), Some("0xabc"));
            assert!(!format!("{cfg:?}").contains("0xabc"), "the key is redacted in debug output");
            Ok(())
        });
    }

    #[test]
    fn roles_and_leases_from_the_file_and_the_environment() {
        figment::Jail::expect_with(|jail| {
            assert_eq!(Config::load(None).expect("loads").node.roles, Roles::all(), "all roles by default");
            jail.create_file(
                "jejak.toml",
                r#"
                [node]
                roles = ["api", "indexer"]
                instance_id = "api-1"
                [leases]
                ttl_secs = 6
                renew_secs = 2
                "#,
            )?;
            let cfg = Config::load(Some(Path::new("jejak.toml"))).expect("loads");
            assert_eq!(cfg.node.roles.names(), ["api", "indexer"]);
            assert_eq!(cfg.node.instance_id.as_deref(), Some("api-1"));
            assert_eq!((cfg.leases.ttl_secs, cfg.leases.renew_secs), (6, 2));
            cfg.validate().expect("valid");
            jail.set_env("JEJAK_NODE_ROLES", "anchor, epoch,evidence");
            let cfg = Config::load(Some(Path::new("jejak.toml"))).expect("loads");
            assert_eq!(cfg.node.roles.names(), ["anchor", "epoch", "evidence"], "the environment wins");
            jail.set_env("JEJAK_NODE_ROLES", "api,miner");
            let e = Config::load(Some(Path::new("jejak.toml"))).unwrap_err().to_string();
            assert!(e.contains("unknown role `miner`"), "{e}");
            Ok(())
        });
        let mut cfg = Config::preset(Preset::Local);
        cfg.leases = LeasesSection { ttl_secs: 5, renew_secs: 5 };
        assert!(cfg.validate().unwrap_err().contains("leases"));
        cfg.leases = LeasesSection::default();
        cfg.node.roles = Roles(Default::default());
        assert!(cfg.validate().unwrap_err().contains("node.roles"));
    }

    #[test]
    fn evidence_limits_and_rules_per_task_type_from_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "jejak.toml",
                r#"
                [evidence]
                size_limits = { photo_bytes = 1000, track_bytes = 2000 }
                anchor_interval_secs = 60
                [evidence.rules.task_types.cleaning]
                min_dwell_s = 1800
                witness_quorum = 0
                "#,
            )?;
            jail.set_env("JEJAK_EVIDENCE__RULES__DEFAULT__RADIUS_M", "250");
            let cfg = Config::load(Some(Path::new("jejak.toml"))).expect("loads");
            cfg.validate().unwrap();
            let e = &cfg.evidence;
            assert_eq!(
                (e.size_limits.photo_bytes, e.size_limits.track_bytes, e.anchor_interval_secs),
                (1000, 2000, 60)
            );
            let cleaning = e.rules.for_task_type("cleaning");
            assert_eq!((cleaning.min_dwell_s, cleaning.witness_quorum), (1800, 0));
            assert_eq!(cleaning.max_speed_mps, jejak_evidence::RuleConfig::default().max_speed_mps, "unnamed: default");
            assert_eq!(e.rules.for_task_type("delivery").radius_m, 250.0, "from the environment");
            assert_eq!(cfg.evidence_blob_dir(), cfg.data_dir.join("evidence"));
            Ok(())
        });
        let mut cfg = Config::preset(Preset::Local);
        cfg.evidence.blob_dir = Some(cfg.blockstore_dir().join("x"));
        assert!(cfg.validate().is_err(), "evidence files must not go into the public blockstore");
    }

    #[test]
    fn proving_and_sealing_keys_from_the_file_and_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "jejak.toml",
                r#"
                [proofs]
                proving_key = "keys/proving.key"
                prove_queue = 2
                "#,
            )?;
            let cfg = Config::load(Some(Path::new("jejak.toml"))).expect("loads");
            assert_eq!(cfg.proofs.proving_key.as_deref(), Some(Path::new("keys/proving.key")));
            assert_eq!((cfg.proofs.prove_queue, cfg.proofs.verifying_key.as_ref()), (2, None));
            assert_eq!(cfg.identities.sealing_key, None, "default: a file in the data directory");
            jail.set_env("JEJAK_IDENTITIES__SEALING_KEY", "ab".repeat(32));
            let cfg = Config::load(Some(Path::new("jejak.toml"))).expect("loads");
            assert_eq!(cfg.identities.sealing_key, Some("ab".repeat(32)));
            assert!(!format!("{cfg:?}").contains(&"ab".repeat(32)), "the sealing key is redacted in debug output");
            Ok(())
        });
        assert_eq!(Config::preset(Preset::Local).proofs.prove_queue, 4);
    }

    #[test]
    fn unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("jejak.toml", "[api]\nlisten = \"127.0.0.1:1\"\nlisen = 3\n")?;
            assert!(Config::load(Some(Path::new("jejak.toml"))).is_err());
            Ok(())
        });
    }
}
