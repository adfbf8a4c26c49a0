//! Composition: opens the store, blockstore and evidence blob store, starts the indexer, the
//! document fetcher, the batcher, evidence anchorer and reputation epoch job (when an operator key
//! is configured), the webhook worker, the API's nullifier writer and the API, each as a named
//! task tied to one shutdown signal. Every background task runs under one supervision policy
//! ([`jejak_runtime::supervise`]): transient failures are retried with capped backoff, a fatal
//! one (or a panic) takes the node down with its error.
//!
//! An instance starts only the jobs of its roles (`[node] roles`); each singleton job among them
//! runs under its lease ([`crate::leader`]) with a store fenced by it, so instances sharing a
//! PostgreSQL database run each job once. On SQLite the node holds the database's lock file for
//! its lifetime: one process per file.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use jejak_anchor::epoch::EpochJob;
use jejak_anchor::{Batcher, BatcherConfig, EvidenceAnchorConfig, EvidenceAnchorer};
use jejak_chain::Sender;
use jejak_indexer::rpc::RpcClient;
use jejak_indexer::{DocumentConfig, DocumentFetcher, Indexer, IndexerStatus};
use jejak_ipfs::{Blockstore, Fetcher, Kubo, Source};
use jejak_store::Store;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Role};
use crate::keyfiles::secret_from_config_or_file;
use crate::leader::{HookError, Lease, LeaseKeeper, LeaseTiming, Leased};

/// How long the node's tasks have to finish once shutdown is requested: requests in flight
/// (bounded by `api.request_timeout_secs`, 30 s by default) and the steps of the background
/// tasks (each bounded by [`jejak_runtime::Policy::grace`]).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(40);

/// A running node.
#[derive(Debug)]
pub struct RunningNode {
    /// Where the API listens.
    pub api_addr: std::net::SocketAddr,
    /// The store the node uses.
    pub store: Store,
    /// The blockstore.
    pub blockstore: Blockstore,
    /// Live indexer figures.
    pub indexer_status: Arc<IndexerStatus>,
    /// The operator's transaction sender, shared by every job that sends (None without a key).
    pub sender: Option<Arc<Sender>>,
    /// This instance's id in the leases.
    pub instance_id: String,
    /// The leases of the singleton jobs this instance may run.
    pub leases: Vec<Arc<Lease>>,
    /// Whether a clean stop gives the leases up (so standbys take over at once).
    release_leases: bool,
    /// SQLite: this process's hold on the database file, for the node's lifetime.
    _process_lock: Option<jejak_store::leases::ProcessLock>,
    shutdown: CancellationToken,
    tasks: JoinSet<(&'static str, anyhow::Result<()>)>,
}

impl RunningNode {
    /// The token that stops the node.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// The lease of `job` as this instance sees it.
    pub fn lease(&self, job: &str) -> Option<&Arc<Lease>> {
        self.leases.iter().find(|l| l.job() == job)
    }

    /// Stops without giving the leases up, as a crashed instance would leave them: standbys
    /// take over only once they run out (tests of failover).
    pub fn keep_leases_at_stop(&mut self) {
        self.release_leases = false;
    }

    /// Waits until every task ends. The first task to fail cancels the others and its error is
    /// returned; a clean shutdown returns Ok. Once shutdown is requested, tasks get
    /// [`SHUTDOWN_GRACE`] to finish (requests in flight, the current commits); past it the rest
    /// are aborted and the node reports that it did not stop cleanly.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let mut first_error: Option<anyhow::Error> = None;
        let mut deadline: Option<tokio::time::Instant> = None;
        loop {
            if deadline.is_none() && self.shutdown.is_cancelled() {
                deadline = Some(tokio::time::Instant::now() + SHUTDOWN_GRACE);
            }
            let joined = match deadline {
                Some(at) => match tokio::time::timeout_at(at, self.tasks.join_next()).await {
                    Ok(joined) => joined,
                    Err(_) => {
                        tracing::error!(target: "jejak::node", tasks = self.tasks.len(), grace = ?SHUTDOWN_GRACE,
                            "tasks still running after the shutdown grace; aborting them");
                        self.tasks.abort_all();
                        while self.tasks.join_next().await.is_some() {}
                        first_error
                            .get_or_insert_with(|| anyhow::anyhow!("the node did not stop within {SHUTDOWN_GRACE:?}"));
                        break;
                    }
                },
                None => tokio::select! {
                    joined = self.tasks.join_next() => joined,
                    _ = self.shutdown.cancelled() => continue,
                },
            };
            let Some(joined) = joined else { break };
            let (name, result) = match joined {
                Ok(r) => r,
                Err(e) => ("task", Err(anyhow::anyhow!("task panicked: {e}"))),
            };
            match result {
                Ok(()) if !self.shutdown.is_cancelled() => {
                    tracing::error!(target: "jejak::node", task = name, "task ended unexpectedly; stopping the node");
                    first_error.get_or_insert_with(|| anyhow::anyhow!("task {name} ended unexpectedly"));
                    self.shutdown.cancel();
                }
                Ok(()) => tracing::debug!(target: "jejak::node", task = name, "task stopped"),
                Err(e) => {
                    tracing::error!(target: "jejak::node", task = name, error = %format!("{e:#}"), "task failed; stopping the node");
                    first_error.get_or_insert(e.context(format!("{name} failed")));
                    self.shutdown.cancel();
                }
            }
        }
        // Every task has ended: the leases go to the standbys at once, then the pool's
        // connections are closed (SQLite checkpoints its write-ahead log), nothing is left
        // half-written.
        if self.release_leases {
            crate::leader::release_all(&self.store, &self.leases).await;
        }
        self.store.close().await;
        match first_error {
            Some(e) => Err(e),
            None => {
                tracing::info!(target: "jejak::node", "stopped cleanly: every task finished and the database is closed");
                Ok(())
            }
        }
    }

    /// Stops the node and waits for it.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }
}

/// Starts a node with `cfg` and, when given, an already-open store (tests share theirs).
pub async fn launch(cfg: &Config, store: Option<Store>, shutdown: CancellationToken) -> anyhow::Result<RunningNode> {
    cfg.validate().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    let contracts = cfg.contracts.context("configuration: [contracts] is required (deploy with `jejak deploy`)")?;
    // The data and keys directories are the owner's alone; key files others may read stop us.
    let keys_dir = crate::keyfiles::prepare(cfg)?;
    // Before anything starts: a wrong key stops the node at once.
    let (prover, verifying_key) = proof_keys(cfg).await?;
    check_proof_key_origins(cfg, prover.as_ref(), verifying_key.as_ref())?;
    // SQLite serves one process: a second node on the same file stops here, before opening it.
    let process_lock = match &store {
        Some(_) => None,
        None => jejak_store::leases::ProcessLock::for_url(&cfg.database_url())?,
    };
    let store = match store {
        Some(s) => s,
        None => Store::connect_with(&cfg.database_url(), cfg.pool_settings())
            .await
            .with_context(|| format!("opening {}", jejak_store::redact(&cfg.database_url())))?,
    };
    let roles = &cfg.node.roles;
    let instance_id = crate::leader::instance_id(cfg.node.instance_id.as_deref());
    let timing = LeaseTiming {
        ttl: Duration::from_secs(cfg.leases.ttl_secs),
        renew: Duration::from_secs(cfg.leases.renew_secs),
    };
    tracing::info!(target: "jejak::node", instance = %instance_id, roles = ?roles.names(), "instance starting");
    let mut leases: Vec<Arc<Lease>> = Vec::new();
    let mut lease_for = |job: &str| {
        let lease = Lease::new(job, &instance_id);
        leases.push(lease.clone());
        lease
    };
    let indexer_lease = roles.has(Role::Indexer).then(|| lease_for("indexer"));
    let sends = cfg.operator.private_key.is_some();
    let anchor_lease = (sends && roles.has(Role::Anchor)).then(|| lease_for("anchor"));
    let evidence_lease = (sends && roles.has(Role::Evidence)).then(|| lease_for("evidence"));
    let epoch_lease = (sends && cfg.epochs.enabled && roles.has(Role::Epoch)).then(|| lease_for("epoch"));
    let webhooks_lease = (cfg.webhooks.enabled && roles.has(Role::Webhooks)).then(|| lease_for("webhooks"));
    let market_lease = (cfg.market.enabled && roles.has(Role::Webhooks)).then(|| lease_for("market"));
    let blockstore = Blockstore::open(cfg.blockstore_dir())?;
    let evidence_dir = cfg.evidence_blob_dir();
    let blobs = jejak_api::BlobStore::open(&evidence_dir)
        .with_context(|| format!("opening the evidence blob store {}", evidence_dir.display()))?;
    // Files a crash left between an upload's commit and its move into place.
    blobs.recover(&store).await.map_err(|e| anyhow::anyhow!("settling staged evidence files: {}", e.message))?;
    let status = Arc::new(IndexerStatus::default());
    let rpc = RpcClient::new(cfg.rpc_config())?;

    let mut sources = vec![Source::Blockstore(blockstore.clone())];
    sources.extend(cfg.ipfs.gateways.iter().cloned().map(Source::Gateway));
    if let Some(k) = &cfg.ipfs.kubo_rpc {
        sources.push(Source::Kubo(k.clone()));
    }
    let fetcher = Fetcher::new(sources, cfg.ipfs.max_object_bytes, Duration::from_secs(cfg.ipfs.fetch_timeout_secs));
    let kubo =
        cfg.ipfs.kubo_rpc.as_ref().map(|k| Kubo::new(k.clone(), Duration::from_secs(cfg.ipfs.fetch_timeout_secs)));

    let listener =
        TcpListener::bind(cfg.api.listen).await.with_context(|| format!("binding the API to {}", cfg.api.listen))?;
    let api_addr = listener.local_addr()?;

    let indexer_cfg = cfg.indexer_config(&contracts);

    let mut doc_cfg = DocumentConfig::new(cfg.chain.chain_id);
    doc_cfg.max_attempts = cfg.ipfs.max_attempts;
    doc_cfg.backoff_base = Duration::from_secs(cfg.ipfs.backoff_base_secs);
    doc_cfg.backoff_cap = Duration::from_secs(cfg.ipfs.backoff_cap_secs);

    let mut operator_sender = None;
    let mut anchoring = None;
    match (&cfg.operator.private_key, &anchor_lease) {
        (Some(key), Some(anchor_lease)) => {
            let signer = jejak_chain::signer_from_hex(key)?;
            let provider = jejak_chain::connect(&cfg.chain.rpc_urls[0])?;
            // The anchor leader owns the key's nonces: every transaction is recorded through the
            // anchor lease's fence, whichever job asked for it.
            let sender = Arc::new(
                Sender::new(provider, signer, store.fenced(anchor_lease.fence.clone()), cfg.operator.sender_config())
                    .await
                    .context("connecting the operator key to the chain")?,
            );
            tracing::info!(target: "jejak::node", operator = %sender.address(), "anchoring enabled (while this instance holds the anchor lease)");
            operator_sender = Some(sender.clone());
            // Checked once here: a configuration that cannot work stops the node at start.
            if epoch_lease.is_some() {
                EpochJob::new(
                    cfg.epoch_config(&contracts),
                    store.clone(),
                    blockstore.clone(),
                    kubo.clone(),
                    sender.clone(),
                    jejak_scoring::Params::v1(),
                )?;
            }
            anchoring = Some(sender);
        }
        (Some(_), None) => {
            tracing::info!(target: "jejak::node", "the anchor role is not given to this instance: it sends no transactions")
        }
        (None, _) => tracing::info!(target: "jejak::node", "no operator key: indexing and serving only, not anchoring"),
    }

    let public_url = match &cfg.api.public_url {
        Some(u) => u.clone(),
        None => format!("http://{api_addr}"),
    };
    let mut services = jejak_api::Services::new(
        cfg.api_settings(&contracts, public_url),
        issuer_key(cfg, &keys_dir)?,
        Duration::from_secs(cfg.credentials.validity_days.max(1) * 86_400),
        verifying_key.as_ref(),
    )?
    .with_sealing_key(secret_from_config_or_file(
        cfg.identities.sealing_key.as_deref(),
        "identities.sealing_key",
        &keys_dir.join(crate::keyfiles::SEALING_KEY),
        "identity sealing key",
    )?)
    .with_secrets_key(secret_from_config_or_file(
        cfg.webhooks.secrets_key.as_ref().map(|k| k.0.as_str()),
        "webhooks.secrets_key",
        &keys_dir.join(crate::keyfiles::WEBHOOK_SECRETS_KEY),
        "webhook secrets key",
    )?);
    // Webhook secrets stored in the clear by an earlier version are sealed before anything
    // reads them.
    jejak_api::services::secrets::seal_stored_secrets(&store, &services.secrets)
        .await
        .context("sealing webhook secrets stored in the clear")?;
    if let Some(prover) = prover {
        services = services.with_prover(prover, cfg.proofs.prove_queue)?;
    }
    services = services.with_instance(jejak_api::Instance {
        id: instance_id.clone(),
        roles: roles.names(),
        leases: leases.iter().map(|l| l.fence.clone()).collect(),
    });
    let (nullifier_writer, nullifier_job) =
        jejak_api::services::nullifiers::NullifierWriter::new(store.clone(), services.settings.proof_batch_max);
    services.nullifiers.set(nullifier_writer).map_err(|_| anyhow::anyhow!("the nullifier writer was already set"))?;
    let services = Arc::new(services);

    let mut tasks = Tasks {
        set: JoinSet::new(),
        shutdown: shutdown.clone(),
        health: services.metrics.tasks.clone(),
        policy: jejak_runtime::Policy::default(),
    };
    // Standbys look at their lease's state in memory (the keeper reads the database).
    let poll = Duration::from_millis(100);
    if let Some(lease) = &indexer_lease {
        tasks.keeper("lease-indexer", LeaseKeeper::new(store.clone(), lease.clone(), timing));
        let (fenced, status, rpc) = (store.fenced(lease.fence.clone()), status.clone(), rpc);
        tasks.job(
            "indexer",
            Leased::new(lease.clone(), store.clone(), poll, move || {
                Ok(Indexer::new(indexer_cfg.clone(), fenced.clone(), rpc.clone(), status.clone()))
            }),
        );
        // The IPFS queue follows the indexer (a seam: a SKIP LOCKED claim would let every
        // instance fetch).
        let (fenced, blockstore) = (store.fenced(lease.fence.clone()), blockstore.clone());
        tasks.job(
            "documents",
            Leased::new(lease.clone(), store.clone(), poll, move || {
                Ok(DocumentFetcher::new(doc_cfg.clone(), fenced.clone(), fetcher.clone(), blockstore.clone()))
            }),
        );
    }
    if let (Some(sender), Some(anchor)) = (anchoring, &anchor_lease) {
        // A new anchor leader first settles every transaction an earlier one recorded.
        let reconciling = sender.clone();
        let on_term: crate::leader::TermStart = Box::new(move || {
            let sender = reconciling.clone();
            Box::pin(async move { sender.reconcile_open().await.map(|_| ()).map_err(HookError::from) })
        });
        tasks.keeper("lease-anchor", LeaseKeeper::new(store.clone(), anchor.clone(), timing).on_term(on_term));
        let mut bcfg = BatcherConfig::new(cfg.chain.chain_id, contracts.attestations);
        bcfg.interval = Duration::from_secs(cfg.batcher.interval_secs.max(1));
        bcfg.max_batch = cfg.batcher.max_batch;
        let (fenced, blockstore_b, kubo_b, sender_b) =
            (store.fenced(anchor.fence.clone()), blockstore.clone(), kubo.clone(), sender.clone());
        tasks.job(
            "batcher",
            Leased::new(anchor.clone(), store.clone(), poll, move || {
                Ok(Batcher::new(bcfg.clone(), fenced.clone(), blockstore_b.clone(), kubo_b.clone(), sender_b.clone()))
            }),
        );
        if let Some(lease) = &evidence_lease {
            tasks.keeper(
                "lease-evidence",
                LeaseKeeper::new(store.clone(), lease.clone(), timing).requires(anchor.clone()),
            );
            // The same sender, so the jobs' transactions take nonces in order.
            let mut ecfg = EvidenceAnchorConfig::new(cfg.chain.chain_id, contracts.evidence_log);
            ecfg.interval = Duration::from_secs(cfg.evidence.anchor_interval_secs.max(1));
            let (fenced, blockstore_e, kubo_e, sender_e) =
                (store.fenced(lease.fence.clone()), blockstore.clone(), kubo.clone(), sender.clone());
            tasks.job(
                "evidence-anchorer",
                Leased::new(lease.clone(), store.clone(), poll, move || {
                    Ok(EvidenceAnchorer::new(
                        ecfg.clone(),
                        fenced.clone(),
                        blockstore_e.clone(),
                        kubo_e.clone(),
                        sender_e.clone(),
                    ))
                }),
            );
        }
        if let Some(lease) = &epoch_lease {
            tasks
                .keeper("lease-epoch", LeaseKeeper::new(store.clone(), lease.clone(), timing).requires(anchor.clone()));
            let (fenced, blockstore_p, kubo_p, sender_p, epoch_cfg) = (
                store.fenced(lease.fence.clone()),
                blockstore.clone(),
                kubo.clone(),
                sender.clone(),
                cfg.epoch_config(&contracts),
            );
            tasks.job(
                "epochs",
                Leased::new(lease.clone(), store.clone(), poll, move || {
                    EpochJob::new(
                        epoch_cfg.clone(),
                        fenced.clone(),
                        blockstore_p.clone(),
                        kubo_p.clone(),
                        sender_p.clone(),
                        jejak_scoring::Params::v1(),
                    )
                }),
            );
        }
    }
    let state = jejak_api::AppState {
        store: store.clone(),
        blockstore: blockstore.clone(),
        chain_id: cfg.chain.chain_id,
        attestations_contract: contracts.attestations,
        indexer: status.clone(),
        limits: jejak_api::Limits {
            max_body_bytes: cfg.api.max_body_bytes,
            max_events_per_request: cfg.api.max_events_per_request,
            request_timeout: Duration::from_secs(cfg.api.request_timeout_secs),
        },
        evidence: Arc::new(jejak_api::EvidenceSettings {
            size_limits: cfg.evidence.size_limits,
            parse_limits: cfg.evidence.parse_limits,
            rules: cfg.evidence.rules.clone(),
            max_files_per_upload: cfg.evidence.max_files_per_upload,
            max_upload_bytes: cfg.evidence.max_upload_bytes,
            upload_timeout: Duration::from_secs(cfg.evidence.upload_timeout_secs),
            nonce_lead: Duration::from_secs(cfg.evidence.nonce_lead_secs),
            max_concurrent_uploads: cfg.evidence.max_concurrent_uploads,
            max_uploads_per_key: cfg.evidence.max_uploads_per_key,
            ..jejak_api::EvidenceSettings::new(blobs, contracts.evidence_log)
        }),
        services,
    };
    {
        // The near-duplicate index is built once at start, not by the first upload; uploads
        // catch it up to the log before each evaluation anyway.
        let (photos, store) = (state.evidence.photos.clone(), state.store.clone());
        tokio::spawn(async move {
            if let Err(e) = photos.catch_up(&store).await {
                tracing::warn!(target: "jejak::node", error = %e.message, "loading the perceptual-hash index failed; the first upload loads it");
            }
        });
    }
    // Leader-only, without fencing of their writes.
    if let Some(lease) = &market_lease {
        tasks.keeper("lease-market", LeaseKeeper::new(store.clone(), lease.clone(), timing));
        let (st, market_store) = (state.clone(), state.store.clone());
        tasks.job(
            "market-timers",
            Leased::new(lease.clone(), store.clone(), poll, move || {
                Ok(jejak_api::services::market::MarketTimers::new(jejak_api::services::market::Market::new(
                    market_store.clone(),
                    st.services.clock.clone(),
                    st.services.settings.market.clone(),
                )))
            }),
        );
    }
    if let Some(lease) = &webhooks_lease {
        // Every instance with the role delivers what it claims; the lease holder also produces.
        tasks.keeper("lease-webhooks", LeaseKeeper::new(store.clone(), lease.clone(), timing));
        tasks.job(
            "webhooks",
            jejak_api::services::webhooks::WebhookWorker::new(state.clone())?.producing_under(lease.fence.clone()),
        );
    }
    if roles.has(Role::Api) && store.backend() == jejak_store::Backend::Postgres {
        // Keys changed by any instance leave this one's cache at once; a lost listener is
        // retried quickly (the cache is cleared meanwhile, so nothing stale is trusted).
        let job = jejak_api::services::key_events::KeyEvents::new(store.clone(), state.services.clone());
        tasks.job_with("key-events", job, Duration::from_millis(200), Duration::from_secs(2));
    }
    // Ends with the API: it answers the proofs still draining at shutdown.
    tasks.job("nullifiers", nullifier_job);
    let token = shutdown.clone();
    let router = if roles.has(Role::Api) { jejak_api::router(state) } else { jejak_api::ops_router(state) };
    tasks.set.spawn(async move { ("api", jejak_api::serve_router(listener, router, token).await.map_err(Into::into)) });
    let tasks = tasks.set;

    Ok(RunningNode {
        api_addr,
        store,
        blockstore,
        indexer_status: status,
        sender: operator_sender,
        instance_id,
        leases,
        release_leases: true,
        _process_lock: process_lock,
        shutdown,
        tasks,
    })
}

/// The node's tasks as they are spawned, each under the supervision policy.
struct Tasks {
    set: JoinSet<(&'static str, anyhow::Result<()>)>,
    shutdown: CancellationToken,
    health: Arc<jejak_runtime::Health>,
    policy: jejak_runtime::Policy,
}

impl Tasks {
    /// Spawns a lease keeper as task `name`: its retries stay within the lease's renewal pace.
    fn keeper(&mut self, name: &'static str, keeper: LeaseKeeper) {
        let policy = jejak_runtime::Policy {
            backoff_base: Duration::from_millis(200),
            backoff_cap: Duration::from_secs(1),
            ..self.policy
        };
        let (health, token) = (self.health.clone(), self.shutdown.clone());
        self.set.spawn(async move {
            (name, jejak_runtime::supervise(name, keeper, policy, &health, token).await.map_err(anyhow::Error::from))
        });
    }

    /// Spawns `job` as task `name`; a fatal error ends it with that error.
    fn job<J>(&mut self, name: &'static str, job: J)
    where
        J: jejak_runtime::Job + 'static,
        J::Error: std::error::Error + Send + Sync + 'static,
    {
        let policy = self.policy;
        self.spawn(name, job, policy);
    }

    /// [`Tasks::job`] with retries between `base` and `cap`.
    fn job_with<J>(&mut self, name: &'static str, job: J, base: Duration, cap: Duration)
    where
        J: jejak_runtime::Job + 'static,
        J::Error: std::error::Error + Send + Sync + 'static,
    {
        let policy = jejak_runtime::Policy { backoff_base: base, backoff_cap: cap, ..self.policy };
        self.spawn(name, job, policy);
    }

    fn spawn<J>(&mut self, name: &'static str, job: J, policy: jejak_runtime::Policy)
    where
        J: jejak_runtime::Job + 'static,
        J::Error: std::error::Error + Send + Sync + 'static,
    {
        let (health, token) = (self.health.clone(), self.shutdown.clone());
        self.set.spawn(async move {
            (name, jejak_runtime::supervise(name, job, policy, &health, token).await.map_err(anyhow::Error::from))
        });
    }
}

/// The proving key (loaded on a blocking thread: it takes a moment) and the verifying key API
/// proofs are checked with: the configured one, which must then be the proving key's, or else the
/// proving key's own.
async fn proof_keys(
    cfg: &Config,
) -> anyhow::Result<(Option<jejak_prover::Prover>, Option<jejak_prover::VerifyingKeyFile>)> {
    let prover = match cfg.proofs.proving_key.clone() {
        Some(path) => {
            let shown = path.display().to_string();
            // Resident: every base with its window multiples (a second or two here, each proof
            // about a third faster).
            let prover = tokio::task::spawn_blocking(move || {
                jejak_prover::Prover::with_tables(jejak_prover::ProvingKeyFile::read(&path)?)
            })
            .await
            .context("loading the proving key")?
            .with_context(|| format!("reading the proving key {shown}"))?;
            if prover.depth() != cfg.epochs.depth {
                tracing::warn!(target: "jejak::node", key_depth = prover.depth(), epochs_depth = cfg.epochs.depth,
                    "the proving key's tree depth is not [epochs] depth: proofs for node-held identities will fail");
            }
            tracing::info!(target: "jejak::node", path = %shown, depth = prover.depth(), "proving for node-held identities enabled");
            Some(prover)
        }
        None => None,
    };
    let verifying_key = match (&cfg.proofs.verifying_key, &prover) {
        (Some(p), _) => {
            let vk = jejak_prover::VerifyingKeyFile::read(p)
                .with_context(|| format!("reading the verifying key {}", p.display()))?;
            if let Some(prover) = &prover {
                let (configured, proving) = (vk.key_hash()?, prover.verifying_key().key_hash()?);
                anyhow::ensure!(
                    configured == proving,
                    "[proofs] verifying_key {} (key hash {configured}) is not the proving key's (key hash {proving}): \
                     the node would make proofs it refuses",
                    p.display()
                );
            }
            Some(vk)
        }
        (None, Some(prover)) => Some(prover.verifying_key()),
        (None, None) => None,
    };
    Ok((prover, verifying_key))
}

/// Development keys serve anvil's chain only, unless `[proofs] allow_insecure_dev_keys`.
fn check_proof_key_origins(
    cfg: &Config,
    prover: Option<&jejak_prover::Prover>,
    verifying_key: Option<&jejak_prover::VerifyingKeyFile>,
) -> anyhow::Result<()> {
    let allowed = cfg.proofs.allow_insecure_dev_keys;
    if let Some(p) = prover {
        crate::ops::check_key_origin(cfg.chain.chain_id, &p.info().origin, allowed, "[proofs] proving_key")?;
    }
    if let Some(vk) = verifying_key {
        crate::ops::check_key_origin(cfg.chain.chain_id, &vk.info.origin, allowed, "[proofs] verifying_key")?;
    }
    Ok(())
}

/// The credential issuer's key: configured, or kept in `issuer.key` in the keys directory (made
/// on first start, readable by the owner only).
fn issuer_key(cfg: &Config, keys_dir: &std::path::Path) -> anyhow::Result<ed25519_dalek::SigningKey> {
    let seed = secret_from_config_or_file(
        cfg.credentials.signing_key.as_deref(),
        "credentials.signing_key",
        &keys_dir.join(crate::keyfiles::ISSUER_KEY),
        "credential issuer key",
    )?;
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_verifying_key_defaults_to_the_proving_keys_and_must_match_it() {
        use jejak_prover::keys::Reduction;
        let dir = tempfile::tempdir().unwrap();
        let pk = jejak_prover::setup::dev_setup(4, "launch-a", Reduction::Libsnark).unwrap();
        let other = jejak_prover::setup::dev_setup(4, "launch-b", Reduction::Libsnark).unwrap();
        let own_hash = pk.verifying_key().key_hash().unwrap();
        pk.write(&dir.path().join("proving.key")).unwrap();
        pk.verifying_key().write(&dir.path().join("own.vk")).unwrap();
        other.verifying_key().write(&dir.path().join("other.vk")).unwrap();
        let mut cfg = Config::preset(crate::config::Preset::Local);
        cfg.epochs.depth = 4;
        assert!(matches!(proof_keys(&cfg).await.unwrap(), (None, None)), "nothing configured");
        cfg.proofs.proving_key = Some(dir.path().join("proving.key"));
        let (prover, vk) = proof_keys(&cfg).await.unwrap();
        assert_eq!(prover.unwrap().depth(), 4);
        assert_eq!(vk.unwrap().key_hash().unwrap(), own_hash, "the proving key's own");
        cfg.proofs.verifying_key = Some(dir.path().join("own.vk"));
        assert_eq!(proof_keys(&cfg).await.unwrap().1.unwrap().key_hash().unwrap(), own_hash);
        cfg.proofs.verifying_key = Some(dir.path().join("other.vk"));
        let e = proof_keys(&cfg).await.unwrap_err().to_string();
        assert!(e.contains("is not the proving key's"), "{e}");
        cfg.proofs.proving_key = Some(dir.path().join("missing.key"));
        assert!(proof_keys(&cfg).await.is_err());
    }

    #[tokio::test]
    async fn a_second_node_on_the_same_sqlite_file_refuses_to_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::preset(crate::config::Preset::Local);
        cfg.data_dir = dir.path().join("data");
        cfg.api.listen = "127.0.0.1:0".parse().unwrap();
        // Nothing listens there: the indexer retries in the background, which is all it needs.
        cfg.chain.rpc_urls = vec!["http://127.0.0.1:9".into()];
        cfg.contracts = Some(
            jejak_chain::Deployment {
                chain_id: jejak_chain::LOCAL_CHAIN_ID,
                registry: [1; 20].into(),
                attestations: [2; 20].into(),
                reputation_roots: [3; 20].into(),
                evidence_log: [4; 20].into(),
                proof_verifier: [5; 20].into(),
                start_block: 1,
            }
            .into(),
        );
        let first = launch(&cfg, None, CancellationToken::new()).await.expect("the first node starts");
        let e = match launch(&cfg, None, CancellationToken::new()).await {
            Ok(_) => panic!("a second node started on the same SQLite file"),
            Err(e) => format!("{e:#}"),
        };
        assert!(e.contains("in use by another jejak process") && e.contains("jejak.db.lock"), "{e}");
        assert!(e.contains("PostgreSQL"), "the error says how to run several: {e}");
        first.stop().await.unwrap();
        let again = launch(&cfg, None, CancellationToken::new()).await.expect("starts once the first is gone");
        again.stop().await.unwrap();
    }

    #[tokio::test]
    async fn the_node_refuses_development_keys_on_a_public_chain() {
        use jejak_prover::keys::Reduction;
        let dir = tempfile::tempdir().unwrap();
        let pk = jejak_prover::setup::dev_setup(4, "launch-dev", Reduction::Libsnark).unwrap();
        pk.verifying_key().write(&dir.path().join("dev.vk")).unwrap();
        pk.write(&dir.path().join("dev.key")).unwrap();
        let deployment = jejak_chain::Deployment {
            chain_id: 137,
            registry: [1; 20].into(),
            attestations: [2; 20].into(),
            reputation_roots: [3; 20].into(),
            evidence_log: [4; 20].into(),
            proof_verifier: [5; 20].into(),
            start_block: 1,
        };
        for only_verifying in [true, false] {
            let mut cfg = Config::preset(crate::config::Preset::Polygon);
            cfg.epochs.depth = 4;
            cfg.data_dir = dir.path().join("data");
            cfg.contracts = Some(deployment.into());
            // Nothing listens there: the refusal comes before any connection.
            cfg.chain.rpc_urls = vec!["http://127.0.0.1:9".into()];
            if only_verifying {
                cfg.proofs.verifying_key = Some(dir.path().join("dev.vk"));
            } else {
                cfg.proofs.proving_key = Some(dir.path().join("dev.key"));
            }
            let e = match launch(&cfg, None, CancellationToken::new()).await {
                Ok(_) => panic!("the node started on chain 137 with a development key"),
                Err(e) => format!("{e:#}"),
            };
            assert!(e.contains("INSECURE development key") && e.contains("--allow-insecure-dev-keys"), "{e}");
            // Allowed explicitly: the key check passes (and says so loudly in the log).
            cfg.proofs.allow_insecure_dev_keys = true;
            let (prover, vk) = proof_keys(&cfg).await.unwrap();
            check_proof_key_origins(&cfg, prover.as_ref(), vk.as_ref()).unwrap();
            // On anvil's chain development keys are what they are for.
            cfg.proofs.allow_insecure_dev_keys = false;
            cfg.chain.chain_id = jejak_chain::LOCAL_CHAIN_ID;
            check_proof_key_origins(&cfg, prover.as_ref(), vk.as_ref()).unwrap();
        }
    }
}
