//! A local anvil chain, started from the pinned Foundry package in `node_modules`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use tokio::process::{Child, Command};

/// The well-known private keys of anvil's default accounts (never use them on a real chain).
pub const DEV_KEYS: [&str; 3] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
];

/// How to start anvil.
#[derive(Debug, Clone, Default)]
pub struct AnvilOptions {
    /// Port; a free one when None.
    pub port: Option<u16>,
    /// Mine a block every this many seconds (instead of one per transaction).
    pub block_time: Option<u64>,
    /// Slots per epoch: the `finalized` tag is two epochs behind the head.
    pub slots_in_an_epoch: Option<u64>,
    /// Chain id (anvil's 31337 when None).
    pub chain_id: Option<u64>,
}

/// A running anvil, killed when dropped.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    port: u16,
}

impl Anvil {
    /// Starts anvil and waits until it answers JSON-RPC.
    pub async fn spawn(opts: AnvilOptions) -> anyhow::Result<Self> {
        let bin = find_anvil()?;
        let port = match opts.port {
            Some(p) => p,
            None => free_port()?,
        };
        let mut cmd = Command::new(&bin);
        cmd.arg("--port").arg(port.to_string()).arg("--host").arg("127.0.0.1").arg("--silent");
        if let Some(t) = opts.block_time {
            cmd.arg("--block-time").arg(t.to_string());
        }
        if let Some(s) = opts.slots_in_an_epoch {
            cmd.arg("--slots-in-an-epoch").arg(s.to_string());
        }
        if let Some(id) = opts.chain_id {
            cmd.arg("--chain-id").arg(id.to_string());
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).kill_on_drop(true);
        let child = cmd.spawn().with_context(|| format!("starting {}", bin.display()))?;
        let anvil = Self { child, port };
        anvil.wait_ready().await?;
        Ok(anvil)
    }

    /// The JSON-RPC endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    async fn wait_ready(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []});
        for _ in 0..200 {
            if let Ok(r) = client.post(self.endpoint()).json(&body).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("anvil did not answer on port {} within 10 s", self.port)
    }

    /// Stops anvil and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Finds the anvil binary: `$JEJAK_ANVIL`, or the platform binary the pinned `@foundry-rs/anvil`
/// npm package ships (`node_modules/@foundry-rs/anvil-<platform>/bin/anvil`) in the current
/// directory or one of its parents (install it with `npm ci`). The binary is started directly,
/// not through npm's `.bin/anvil` launcher: killing the launcher would leave anvil running.
pub fn find_anvil() -> anyhow::Result<PathBuf> {
    if let Ok(p) = std::env::var("JEJAK_ANVIL") {
        return Ok(PathBuf::from(p));
    }
    let start = std::env::current_dir()?;
    let mut dir: Option<&Path> = Some(&start);
    while let Some(d) = dir {
        let scope = d.join("node_modules/@foundry-rs");
        if let Ok(entries) = std::fs::read_dir(&scope) {
            for e in entries.flatten() {
                let name = e.file_name();
                let candidate = e.path().join("bin/anvil");
                if name.to_string_lossy().starts_with("anvil-") && candidate.exists() {
                    return Ok(candidate);
                }
            }
        }
        dir = d.parent();
    }
    anyhow::bail!(
        "anvil not found: run `npm ci` in the jejak checkout (it installs the pinned Foundry), or set JEJAK_ANVIL"
    )
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}
