//! Composition: opens the store, blockstore and evidence blob store, starts the indexer, the
//! document fetcher, the batcher, evidence anchorer and reputation epoch job (when an operator key
//! is configured), the webhook worker, the API's nullifier writer and the API, each as a named
//! task tied to one shutdown signal. Every background task runs under one supervision policy
//! ([`jejak_runtime::supervise`]): transient failures are retried with capped backoff, a fatal
//! one (or a panic) takes the node down with its error.

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

use crate::config::Config;
use crate::keyfiles::secret_from_config_or_file;

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
    shutdown: CancellationToken,
    tasks: JoinSet<(&'static str, anyhow::Result<()>)>,
}

impl RunningNode {
    /// The token that stops the node.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
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
        // Every task has ended: the pool's connections are closed (SQLite checkpoints its
        // write-ahead log), nothing is left half-written.
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
    let store = match store {
        Some(s) => s,
        None => Store::connect_with(&cfg.database_url(), cfg.pool_settings())
            .await
            .with_context(|| format!("opening {}", jejak_store::redact(&cfg.database_url())))?,
    };
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

    let indexer = Indexer::new(cfg.indexer_config(&contracts), store.clone(), rpc, status.clone());

    let mut doc_cfg = DocumentConfig::new(cfg.chain.chain_id);
    doc_cfg.max_attempts = cfg.ipfs.max_attempts;
    doc_cfg.backoff_base = Duration::from_secs(cfg.ipfs.backoff_base_secs);
    doc_cfg.backoff_cap = Duration::from_secs(cfg.ipfs.backoff_cap_secs);
    let documents = DocumentFetcher::new(doc_cfg, store.clone(), fetcher, blockstore.clone());

    let mut operator_sender = None;
    let mut anchoring = None;
    if let Some(key) = &cfg.operator.private_key {
        let signer = jejak_chain::signer_from_hex(key)?;
        let provider = jejak_chain::connect(&cfg.chain.rpc_urls[0])?;
        let sender = Arc::new(
            Sender::new(provider, signer, store.clone(), cfg.operator.sender_config())
                .await
                .context("connecting the operator key to the chain")?,
        );
        tracing::info!(target: "jejak::node", operator = %sender.address(), "anchoring enabled");
        operator_sender = Some(sender.clone());
        let mut bcfg = BatcherConfig::new(cfg.chain.chain_id, contracts.attestations);
        bcfg.interval = Duration::from_secs(cfg.batcher.interval_secs.max(1));
        bcfg.max_batch = cfg.batcher.max_batch;
        let batcher = Batcher::new(bcfg, store.clone(), blockstore.clone(), kubo.clone(), sender.clone());

        // The same sender, so the jobs' transactions take nonces in order.
        let mut ecfg = EvidenceAnchorConfig::new(cfg.chain.chain_id, contracts.evidence_log);
        ecfg.interval = Duration::from_secs(cfg.evidence.anchor_interval_secs.max(1));
        let anchorer = EvidenceAnchorer::new(ecfg, store.clone(), blockstore.clone(), kubo.clone(), sender.clone());

        let epochs = if cfg.epochs.enabled {
            Some(EpochJob::new(
                cfg.epoch_config(&contracts),
                store.clone(),
                blockstore.clone(),
                kubo,
                sender,
                jejak_scoring::Params::v1(),
            )?)
        } else {
            None
        };
        anchoring = Some((batcher, anchorer, epochs));
    } else {
        tracing::info!(target: "jejak::node", "no operator key: indexing and serving only, not anchoring");
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
    tasks.job("indexer", indexer);
    tasks.job("documents", documents);
    if let Some((batcher, anchorer, epochs)) = anchoring {
        tasks.job("batcher", batcher);
        tasks.job("evidence-anchorer", anchorer);
        if let Some(epochs) = epochs {
            tasks.job("epochs", epochs);
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
    if cfg.market.enabled {
        let market = jejak_api::services::market::Market::new(
            state.store.clone(),
            state.services.clock.clone(),
            state.services.settings.market.clone(),
        );
        tasks.job("market-timers", jejak_api::services::market::MarketTimers::new(market));
    }
    if cfg.webhooks.enabled {
        tasks.job("webhooks", jejak_api::services::webhooks::WebhookWorker::new(state.clone())?);
    }
    // Ends with the API: it answers the proofs still draining at shutdown.
    tasks.job("nullifiers", nullifier_job);
    let token = shutdown.clone();
    tasks.set.spawn(async move { ("api", jejak_api::serve(listener, state, token).await.map_err(Into::into)) });
    let tasks = tasks.set;

    Ok(RunningNode { api_addr, store, blockstore, indexer_status: status, sender: operator_sender, shutdown, tasks })
}

/// The node's tasks as they are spawned, each under the supervision policy.
struct Tasks {
    set: JoinSet<(&'static str, anyhow::Result<()>)>,
    shutdown: CancellationToken,
    health: Arc<jejak_runtime::Health>,
    policy: jejak_runtime::Policy,
}

impl Tasks {
    /// Spawns `job` as task `name`; a fatal error ends it with that error.
    fn job<J>(&mut self, name: &'static str, job: J)
    where
        J: jejak_runtime::Job + 'static,
        J::Error: std::error::Error + Send + Sync + 'static,
    {
        let (health, policy, token) = (self.health.clone(), self.policy, self.shutdown.clone());
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
