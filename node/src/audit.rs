//! `jejak audit replay`: the command line of [`jejak_verify::audit`].

use jejak_verify::ChainView;
use jejak_verify::audit::{self, AuditSources};

/// `jejak audit ...`.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Replay every published reputation root from the chain and IPFS and recompute it from the
    /// attestations at hand; exits non-zero on any mismatch.
    Replay {
        #[command(flatten)]
        config: crate::cli::ConfigArg,
        /// A disclosed worker bundle to check as well (repeatable).
        #[arg(long = "bundle")]
        bundles: Vec<std::path::PathBuf>,
        /// Leave the node's database out: check the snapshots against chain and IPFS, and the
        /// bundles.
        #[arg(long)]
        no_db: bool,
    },
}

/// Runs `jejak audit ...`.
pub async fn command(cmd: AuditCommand) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let AuditCommand::Replay { config, bundles, no_db } = cmd;
    let cfg = crate::cli::load(&config)?;
    let contracts = cfg.contracts.context("[contracts] is required")?;
    let store = if no_db { None } else { Some(crate::cli::open_store(&cfg).await?) };
    let fetcher =
        jejak_verify::ipfs_fetcher(&cfg.ipfs.gateways, &[cfg.blockstore_dir()], cfg.ipfs.kubo_rpc.as_deref())?;
    let chain = ChainView::new(&cfg.chain.rpc_urls[0])?;
    let mut disclosed = Vec::new();
    for path in bundles {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        disclosed.push((path.display().to_string(), bytes));
    }
    let report = audit::replay(AuditSources {
        chain: &chain,
        chain_id: cfg.chain.chain_id,
        attestations: contracts.attestations,
        reputation_roots: contracts.reputation_roots,
        start_block: cfg.indexer.start_block.unwrap_or(contracts.start_block),
        max_log_range: cfg.indexer.max_log_range,
        fetcher: &fetcher,
        store: store.as_ref(),
        bundles: disclosed,
    })
    .await?;
    for l in report.lines() {
        crate::output::line(l);
    }
    anyhow::ensure!(report.ok(), "the audit found mismatches");
    Ok(())
}
