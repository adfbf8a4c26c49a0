//! `jejak bundle export|verify`: the command line of [`jejak_verify::bundle`].

use jejak_verify::{ChainView, bundle};

/// `jejak bundle ...`.
#[derive(Debug, clap::Subcommand)]
pub enum BundleCommand {
    /// Write a worker's portable bundle (attestations, salts, inclusion proofs, anchors and their
    /// leaf in the latest published snapshot), from this node's database.
    Export {
        #[command(flatten)]
        config: crate::cli::ConfigArg,
        /// The worker's identity commitment (decimal).
        #[arg(long)]
        worker: String,
        /// A published epoch other than the latest.
        #[arg(long)]
        epoch: Option<u64>,
        /// Output file (default: standard output).
        #[arg(long, short)]
        out: Option<std::path::PathBuf>,
    },
    /// Verify a bundle against the chain and IPFS only (no node database, no configuration).
    Verify {
        /// The bundle file.
        file: std::path::PathBuf,
        /// JSON-RPC endpoint of the chain.
        #[arg(long)]
        rpc: String,
        /// IPFS trustless gateway (repeatable), e.g. a jejak node's API; without any IPFS source,
        /// public gateways (`https://trustless-gateway.link`, `https://ipfs.io`).
        #[arg(long = "ipfs")]
        gateways: Vec<String>,
        /// A local directory of IPFS raw blocks named by CID (repeatable).
        #[arg(long)]
        blockstore: Vec<std::path::PathBuf>,
        /// Kubo RPC endpoint.
        #[arg(long)]
        kubo: Option<String>,
    },
}

/// Runs `jejak bundle ...`.
pub async fn command(cmd: BundleCommand) -> anyhow::Result<()> {
    use anyhow::Context as _;
    match cmd {
        BundleCommand::Export { config, worker, epoch, out } => {
            let cfg = crate::cli::load(&config)?;
            let contracts = cfg.contracts.context("[contracts] is required")?;
            let store = crate::cli::open_store(&cfg).await?;
            let d = bundle::Deployment {
                chain_id: cfg.chain.chain_id,
                attestations: contracts.attestations,
                reputation_roots: contracts.reputation_roots,
            };
            let bytes = bundle::export(&store, d, &worker, epoch).await?;
            match out {
                Some(path) => {
                    std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
                    crate::output::line(format!("bundle of worker {worker} written to {}", path.display()));
                }
                None => crate::output::line(String::from_utf8(bytes).expect("canonical JSON is UTF-8")),
            }
        }
        BundleCommand::Verify { file, rpc, mut gateways, blockstore, kubo } => {
            if gateways.is_empty() && blockstore.is_empty() && kubo.is_none() {
                gateways = jejak_verify::PUBLIC_GATEWAYS.iter().map(|g| g.to_string()).collect();
            }
            let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let fetcher = jejak_verify::ipfs_fetcher(&gateways, &blockstore, kubo.as_deref())?;
            let v = bundle::verify(&bytes, &ChainView::new(&rpc)?, &fetcher).await?;
            crate::output::line(format!(
                "worker {}: leaf {} of epoch {} is in the published root{}",
                v.worker,
                v.leaf_index,
                v.epoch,
                if v.root_accepted {
                    " (still accepted for proofs)"
                } else {
                    " (replaced; no longer accepted for proofs)"
                }
            ));
            crate::output::line(format!(
                "{} attestations anchored and final, {} counted; reputation {}, credit {}, tier {} follow from them",
                v.attestations,
                v.counted,
                v.reputation,
                v.credit,
                v.tier.as_str()
            ));
            crate::output::line("ok");
        }
    }
    Ok(())
}
