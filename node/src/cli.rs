//! The `jejak` command line.

use std::path::PathBuf;

use alloy::primitives::Address;
use anyhow::Context as _;
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use jejak_api::auth::{self, Role};
use jejak_store::{Store, keys, now_secs};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::output::line;

/// jejak: a portable, provable, auditable track record for gig workers.
#[derive(Debug, Parser)]
#[command(name = "jejak", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything locally: anvil, contracts, a demo platform, the node and a demo workload.
    Dev(crate::dev::DevArgs),
    /// Run the node against a configured chain.
    Node(NodeArgs),
    /// Deploy the jejak contracts with the operator key.
    Deploy(DeployArgs),
    /// Manage platforms in the registry.
    #[command(subcommand)]
    Platform(PlatformCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Inspect the indexer.
    #[command(subcommand)]
    Index(IndexCommand),
    /// Print the resolved configuration (preset, file, environment), secrets redacted; or, with
    /// `reference`, every key with its default and meaning.
    Config(ConfigArgs),
    /// Zero-knowledge reputation proofs: keys, proving, verification, snarkjs and circom interop.
    #[command(subcommand)]
    Zk(crate::zk::ZkCommand),
    /// Check evidence receipts and the evidence log against the chain.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Verify W3C credentials issued by a jejak node, offline.
    #[command(subcommand)]
    Credential(crate::credential::CredentialCommand),
    /// Replay published reputation roots from the chain and IPFS.
    #[command(subcommand)]
    Audit(crate::audit::AuditCommand),
    /// Export or verify a worker's portable bundle.
    #[command(subcommand)]
    Bundle(crate::bundle::BundleCommand),
    /// Print shell completions (e.g. `jejak completions bash > /etc/bash_completion.d/jejak`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff; `jejak man | man -l -`), or write one per command.
    Man {
        /// Write `jejak.1` and a page per subcommand (`jejak-node.1`, ...) into this directory.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

impl Cli {
    /// The command line, with `--version` naming the contracts and circuit this build speaks.
    pub fn command_with_versions() -> clap::Command {
        static LONG: std::sync::LazyLock<String> = std::sync::LazyLock::new(crate::version::long_version);
        Self::command().long_version(LONG.as_str())
    }

    /// Parses the process's arguments (exits with usage on an error, as `Parser::parse` does).
    pub fn parse_args() -> Self {
        let matches = Self::command_with_versions().get_matches();
        Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }

    /// The configuration file the command names, if any (its `[log]` section sets up logs).
    pub fn config_file(&self) -> Option<&std::path::Path> {
        let arg = match &self.command {
            Command::Node(NodeArgs { config: a, .. }) | Command::Index(IndexCommand::Status(a)) => a,
            Command::Config(ConfigArgs { file, what: None }) => file,
            Command::Deploy(d) => &d.config,
            Command::Platform(PlatformCommand::Register { config, .. }) => config,
            Command::Keys(KeysCommand::Create { config, .. } | KeysCommand::Revoke { config, .. })
            | Command::Keys(KeysCommand::List(config)) => config,
            _ => return None,
        };
        arg.config.as_deref()
    }
}

/// `--config FILE`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArg {
    /// Configuration file (TOML); `JEJAK_*` environment variables override it.
    #[arg(long, short, env = "JEJAK_CONFIG")]
    pub config: Option<PathBuf>,
}

/// `jejak node`.
#[derive(Debug, Clone, clap::Args)]
pub struct NodeArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Start with INSECURE development keys on a chain other than anvil's: anyone can then forge
    /// proofs the node accepts (`[proofs] allow_insecure_dev_keys`).
    #[arg(long)]
    allow_insecure_dev_keys: bool,
    /// The roles this instance runs, comma-separated (default: `[node] roles`, else all):
    /// api, indexer, anchor, epoch, evidence, webhooks.
    #[arg(long, value_delimiter = ',')]
    roles: Option<Vec<crate::config::Role>>,
}

/// `jejak config [reference]`.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ConfigArgs {
    #[command(flatten)]
    file: ConfigArg,
    #[command(subcommand)]
    what: Option<ConfigCommand>,
}

/// `jejak config ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum ConfigCommand {
    /// Print every configuration key: type, default under each preset, environment variable and
    /// meaning (Markdown, as in docs/configuration.md).
    Reference,
}

/// `jejak deploy`.
#[derive(Debug, Clone, clap::Args)]
pub struct DeployArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Admin of the registry (default: the operator).
    #[arg(long)]
    admin: Option<Address>,
    /// How long a replaced reputation root stays accepted, seconds.
    #[arg(long, default_value_t = 7 * 24 * 3600)]
    root_window_secs: u64,
    /// The ceremony's `JejakProofVerifier`: the `forge build` artifact
    /// (out/JejakProofVerifier.sol/JejakProofVerifier.json) built after `jejak zk export-solidity`
    /// wrote contracts/src/JejakGroth16Verifier.sol. Without it the committed verifier, whose key
    /// is the INSECURE development key, is deployed (on anvil's chain only).
    #[arg(long, requires = "verifying_key")]
    proof_verifier_artifact: Option<PathBuf>,
    /// The verifying key file the artifact was exported from (checked against its bytecode).
    #[arg(long, requires = "proof_verifier_artifact")]
    verifying_key: Option<PathBuf>,
    /// Deploy a verifier of the INSECURE development key on a chain other than anvil's: anyone
    /// can then forge proofs it accepts.
    #[arg(long)]
    allow_insecure_dev_keys: bool,
}

/// `jejak platform ...`.
#[derive(Debug, Subcommand)]
pub enum PlatformCommand {
    /// Register a platform (operator key); publishes its profile to the blockstore.
    Register {
        #[command(flatten)]
        config: ConfigArg,
        /// Display name.
        #[arg(long)]
        name: String,
        /// The address that signs the platform's batches (the node's key to let it anchor).
        #[arg(long)]
        signer: Option<Address>,
        /// Website.
        #[arg(long)]
        url: Option<String>,
        /// Top of the platform's rating scale.
        #[arg(long, default_value_t = 5)]
        rating_scale: u32,
    },
}

/// `jejak keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; the secret is printed once and only its hash stored.
    Create {
        #[command(flatten)]
        config: ConfigArg,
        /// Role.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Platform of a platform key.
        #[arg(long)]
        platform: Option<i64>,
        /// Worker of a worker key.
        #[arg(long)]
        worker: Option<String>,
        /// Label.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List keys (never their secrets).
    List(ConfigArg),
    /// Revoke a key by id.
    Revoke {
        #[command(flatten)]
        config: ConfigArg,
        /// Key id (the part after `jk_`).
        id: String,
    },
}

/// `jejak index ...`.
#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Head, finalized, cursor, lag, reorganisations and the IPFS queue.
    Status(ConfigArg),
}

/// `jejak evidence ...`.
#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Check a file against its receipt and the chain, with no node involved.
    Verify {
        /// The evidence file (photo or GPX track).
        file: PathBuf,
        /// The receipt: the JSON of `GET /v1/evidence/{sha256}/receipt`, or its `receipt` member.
        receipt: PathBuf,
        /// JSON-RPC endpoint of the chain the receipt names.
        #[arg(long, env = "JEJAK_RPC")]
        rpc: String,
    },
    /// Check that a node never rewrote its evidence log: a consistency proof between every
    /// consecutive pair of anchored sizes, against the roots on chain.
    Audit {
        /// JSON-RPC endpoint of the chain.
        #[arg(long, env = "JEJAK_RPC")]
        rpc: String,
        /// The node's API.
        #[arg(long, default_value = "http://127.0.0.1:7420")]
        node: String,
        /// The evidence log contract (default: the one the node names).
        #[arg(long)]
        contract: Option<Address>,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("`{s}`: one of admin, platform, worker, auditor"))
}

pub(crate) fn load(arg: &ConfigArg) -> anyhow::Result<Config> {
    let cfg = Config::load(arg.config.as_deref()).context("loading configuration")?;
    cfg.validate().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    Ok(cfg)
}

pub(crate) async fn open_store(cfg: &Config) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&cfg.data_dir)?;
    Store::connect(&cfg.database_url())
        .await
        .with_context(|| format!("opening {}", jejak_store::redact(&cfg.database_url())))
}

fn operator_key(cfg: &Config) -> anyhow::Result<&str> {
    cfg.operator.private_key.as_deref().context("an operator key is required: set JEJAK_OPERATOR__PRIVATE_KEY")
}

/// Runs a command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Dev(args) => crate::dev::run(args).await,
        Command::Node(args) => {
            let mut cfg = load(&args.config)?;
            cfg.proofs.allow_insecure_dev_keys |= args.allow_insecure_dev_keys;
            if let Some(roles) = args.roles {
                cfg.node.roles = crate::config::Roles(roles.into_iter().collect());
            }
            let shutdown = CancellationToken::new();
            // Listening before the launch: a SIGTERM while keys load still stops cleanly.
            let signals = crate::signals::stop_on_signal(shutdown.clone());
            let node = crate::launch::launch(&cfg, None, shutdown).await?;
            let result = node.wait().await;
            signals.abort();
            result
        }
        Command::Deploy(args) => {
            let cfg = load(&args.config)?;
            let opts = crate::ops::DeployOptions {
                admin: args.admin,
                root_window_secs: args.root_window_secs,
                proof_verifier: args.proof_verifier_artifact.zip(args.verifying_key),
                allow_insecure_dev_keys: args.allow_insecure_dev_keys,
            };
            let d = crate::ops::deploy(&cfg.chain.rpc_urls[0], operator_key(&cfg)?, &opts).await?;
            #[derive(serde::Serialize)]
            struct Section {
                contracts: crate::config::ContractsConfig,
            }
            line("# add to your configuration file:");
            line(toml::to_string_pretty(&Section { contracts: d.into() })?);
            Ok(())
        }
        Command::Platform(PlatformCommand::Register { config, name, signer, url, rating_scale }) => {
            let cfg = load(&config)?;
            let contracts = cfg.contracts.context("[contracts] is required")?;
            let key = operator_key(&cfg)?;
            let signer = match signer {
                Some(s) => s,
                None => jejak_chain::signer_from_hex(key)?.address(),
            };
            let profile = crate::ops::PlatformProfile::new(&name, url.as_deref(), &[], rating_scale);
            let blockstore = jejak_ipfs::Blockstore::open(cfg.blockstore_dir())?;
            let cid = blockstore.put(&profile.to_bytes()).await?;
            let id = crate::ops::register_platform(
                &cfg.chain.rpc_urls[0],
                key,
                contracts.registry,
                signer,
                &cid.to_string(),
            )
            .await?;
            line(format!("platform {id} registered: signer {signer}, profile ipfs://{cid}"));
            Ok(())
        }
        Command::Keys(cmd) => keys_command(cmd).await,
        Command::Zk(cmd) => crate::zk::run(cmd),
        Command::Evidence(cmd) => evidence_command(cmd).await,
        Command::Credential(cmd) => crate::credential::run(cmd),
        Command::Audit(cmd) => crate::audit::command(cmd).await,
        Command::Bundle(cmd) => crate::bundle::command(cmd).await,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command_with_versions(), "jejak", &mut std::io::stdout());
            Ok(())
        }
        Command::Man { dir: None } => {
            clap_mangen::Man::new(Cli::command_with_versions()).render(&mut std::io::stdout())?;
            Ok(())
        }
        Command::Man { dir: Some(dir) } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            clap_mangen::generate_to(Cli::command_with_versions(), &dir)?;
            line(format!("manual pages written to {}", dir.display()));
            Ok(())
        }
        Command::Index(IndexCommand::Status(arg)) => {
            let cfg = load(&arg)?;
            let store = open_store(&cfg).await?;
            let mut c = store.conn().await?;
            let cursor = jejak_store::chain::cursor(&mut c, cfg.chain.chain_id as i64).await?;
            let queue = jejak_store::ipfs::counts(&mut c).await?;
            let rpc = jejak_indexer::rpc::RpcClient::new(cfg.rpc_config())?;
            let head = rpc.block_number().await.ok();
            line(format!("chain        {}", cfg.chain.chain_id));
            line(format!("head         {}", head.map_or("unreachable".to_string(), |h| h.to_string())));
            match cursor {
                Some(cur) => {
                    line(format!("cursor       {} (0x{})", cur.block_number, hex::encode(cur.block_hash)));
                    line(format!("finalized    {}", cur.finalized_number));
                    line(format!(
                        "lag          {}",
                        head.map_or("?".into(), |h| h.saturating_sub(cur.block_number as u64).to_string())
                    ));
                    line(format!("reorgs seen  {}", cur.reorgs));
                }
                None => line("cursor       not started"),
            }
            let q: Vec<String> = queue.iter().map(|(s, n)| format!("{} {n}", s.as_str())).collect();
            line(format!("ipfs queue   {}", q.join(", ")));
            Ok(())
        }
        Command::Config(ConfigArgs { what: Some(ConfigCommand::Reference), .. }) => {
            line(crate::reference::markdown().trim_end());
            Ok(())
        }
        Command::Config(ConfigArgs { file: arg, what: None }) => {
            let mut cfg = load(&arg)?;
            for secret in
                [&mut cfg.operator.private_key, &mut cfg.credentials.signing_key, &mut cfg.identities.sealing_key]
            {
                if secret.is_some() {
                    *secret = Some("<redacted>".into());
                }
            }
            if cfg.webhooks.secrets_key.is_some() {
                cfg.webhooks.secrets_key = Some(crate::config::SecretText("<redacted>".into()));
            }
            line(toml::to_string_pretty(&redact_urls(toml::Value::try_from(&cfg)?))?);
            Ok(())
        }
    }
}

/// Every URL in the configuration with its userinfo and query masked (a database password, a
/// provider's key in a query), wherever it is: the RPC endpoints, the database, IPFS, ....
fn redact_urls(v: toml::Value) -> toml::Value {
    match v {
        toml::Value::String(s) if s.contains("://") => toml::Value::String(jejak_core::redact::credentials(&s)),
        toml::Value::Array(a) => toml::Value::Array(a.into_iter().map(redact_urls).collect()),
        toml::Value::Table(t) => toml::Value::Table(t.into_iter().map(|(k, v)| (k, redact_urls(v))).collect()),
        other => other,
    }
}

async fn evidence_command(cmd: EvidenceCommand) -> anyhow::Result<()> {
    match cmd {
        EvidenceCommand::Verify { file, receipt, rpc } => {
            let bytes = std::fs::read(&receipt).with_context(|| format!("reading {}", receipt.display()))?;
            let receipt = jejak_verify::evidence::parse_receipt(&bytes)?;
            let v = jejak_verify::evidence::verify(&file, &receipt, &rpc).await?;
            let a = &v.anchored;
            line(format!("file       {}  matches the receipt", hex::encode(v.file_sha256)));
            line(format!(
                "inclusion  leaf {} of {}: path leads to root {}",
                v.leaf_index,
                v.tree_size,
                hex::encode(v.root)
            ));
            line(format!(
                "anchored   chain {} contract 0x{} tx 0x{} block {}: root at size {} matches",
                a.chain_id,
                hex::encode(a.contract),
                hex::encode(a.tx_hash),
                a.block_number,
                a.size
            ));
            line("ok");
        }
        EvidenceCommand::Audit { rpc, node, contract } => {
            let r = jejak_verify::evidence::audit(&rpc, &node, contract).await?;
            line(format!("chain {} contract {}: {} anchored heads", r.chain_id, r.contract, r.heads.len()));
            for h in &r.heads {
                line(format!("  #{:<4} size {:<10} root {}", h.index, h.size, hex::encode(h.root)));
            }
            line(format!(
                "{} consecutive pairs consistent; the node's log ({} leaves) extends the last",
                r.pairs_checked, r.node_log_size
            ));
            line("ok");
        }
    }
    Ok(())
}

async fn keys_command(cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::Create { config, role, platform, worker, label } => {
            anyhow::ensure!(role != Role::Platform || platform.is_some(), "a platform key needs --platform ID");
            anyhow::ensure!(role != Role::Worker || worker.is_some(), "a worker key needs --worker ID");
            let cfg = load(&config)?;
            let store = open_store(&cfg).await?;
            let k = auth::new_key(role, platform, worker, &label, now_secs());
            keys::insert(&mut *store.conn().await?, &k.row).await?;
            line(k.token);
        }
        KeysCommand::List(config) => {
            let cfg = load(&config)?;
            let store = open_store(&cfg).await?;
            for k in keys::list(&mut *store.conn().await?).await? {
                let scope = match (k.platform_id, &k.worker_id) {
                    (Some(p), _) => format!("platform {p}"),
                    (_, Some(w)) => format!("worker {w}"),
                    _ => "-".into(),
                };
                let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                line(format!("{}  {:8}  {:14}  {:7}  {}", k.id, k.role, scope, state, k.label));
            }
        }
        KeysCommand::Revoke { config, id } => {
            let cfg = load(&config)?;
            let store = open_store(&cfg).await?;
            let done = keys::revoke(&mut *store.conn().await?, &id, now_secs()).await?;
            anyhow::ensure!(done, "no active key `{id}`");
            line(format!("key {id} revoked"));
        }
    }
    Ok(())
}
