//! A local anvil chain: the pinned Foundry package in a checkout's `node_modules`, `anvil` on
//! `PATH`, or `$JEJAK_ANVIL`.

use std::ffi::OsString;
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

/// Finds the anvil binary: `$JEJAK_ANVIL`; else, inside a jejak checkout, the platform binary
/// the pinned `@foundry-rs/anvil` npm package ships (`node_modules/@foundry-rs/anvil-<platform>/
/// bin/anvil` in the current directory or one of its parents, installed by `npm ci`); else
/// `anvil` on `PATH` (Foundry's `foundryup` puts it there). The pinned binary is started
/// directly, not through npm's `.bin/anvil` launcher: killing the launcher would leave anvil
/// running.
pub fn find_anvil() -> anyhow::Result<PathBuf> {
    locate_anvil(std::env::var_os("JEJAK_ANVIL"), &std::env::current_dir()?, std::env::var_os("PATH"))
}

/// [`find_anvil`] with its inputs given: `JEJAK_ANVIL`, the directory to start from and `PATH`.
pub fn locate_anvil(explicit: Option<OsString>, start: &Path, path: Option<OsString>) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit.filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        anyhow::ensure!(is_executable(&p), "JEJAK_ANVIL={}: not an executable file", p.display());
        return Ok(p);
    }
    let mut dir: Option<&Path> = Some(start);
    while let Some(d) = dir {
        let scope = d.join("node_modules/@foundry-rs");
        if let Ok(entries) = std::fs::read_dir(&scope) {
            for e in entries.flatten() {
                let name = e.file_name();
                let candidate = e.path().join("bin/anvil");
                if name.to_string_lossy().starts_with("anvil-") && is_executable(&candidate) {
                    return Ok(candidate);
                }
            }
        }
        dir = d.parent();
    }
    if let Some(found) = path.iter().flat_map(std::env::split_paths).map(|d| d.join("anvil")).find(|c| is_executable(c))
    {
        return Ok(found);
    }
    anyhow::bail!(
        "anvil not found: install Foundry (https://getfoundry.sh) so that `anvil` is on PATH, set JEJAK_ANVIL to \
         its path, or run `npm ci` in a jejak checkout (it installs the pinned Foundry)"
    )
}

/// A regular file (or a link to one) someone may execute.
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    /// An executable file named `anvil` (or as given) under `dir`.
    fn fake(dir: &Path, rel: &str, mode: u32) -> PathBuf {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn outside_a_checkout_anvil_is_found_on_path() {
        let t = tempfile::tempdir().unwrap();
        let elsewhere = t.path().join("home/me");
        std::fs::create_dir_all(&elsewhere).unwrap();
        // A file named anvil that may not run is passed over for the next PATH entry.
        fake(t.path(), "a/anvil", 0o644);
        let good = fake(t.path(), "b/anvil", 0o755);
        let path = std::env::join_paths([t.path().join("missing"), t.path().join("a"), t.path().join("b")]).unwrap();
        assert_eq!(locate_anvil(None, &elsewhere, Some(path)).unwrap(), good);
    }

    #[test]
    fn inside_a_checkout_the_pinned_anvil_wins_over_path() {
        let t = tempfile::tempdir().unwrap();
        let pinned = fake(t.path(), "checkout/node_modules/@foundry-rs/anvil-linux-x64/bin/anvil", 0o755);
        fake(t.path(), "bin/anvil", 0o755);
        let sub = t.path().join("checkout/node/src");
        std::fs::create_dir_all(&sub).unwrap();
        let path = std::env::join_paths([t.path().join("bin")]).unwrap();
        assert_eq!(locate_anvil(None, &sub, Some(path)).unwrap(), pinned);
    }

    #[test]
    fn jejak_anvil_wins_and_must_be_executable() {
        let t = tempfile::tempdir().unwrap();
        let chosen = fake(t.path(), "mine/anvil", 0o755);
        let path = Some(std::env::join_paths([t.path().join("bin")]).unwrap());
        fake(t.path(), "bin/anvil", 0o755);
        assert_eq!(locate_anvil(Some(chosen.clone().into()), t.path(), path.clone()).unwrap(), chosen);
        let missing = t.path().join("nope");
        let err = locate_anvil(Some(missing.into()), t.path(), path).unwrap_err().to_string();
        assert!(err.contains("JEJAK_ANVIL") && err.contains("not an executable"), "{err}");
    }

    #[test]
    fn nowhere_says_how_to_get_anvil() {
        let t = tempfile::tempdir().unwrap();
        let err = locate_anvil(None, t.path(), None).unwrap_err().to_string();
        assert!(err.contains("PATH") && err.contains("JEJAK_ANVIL"), "{err}");
    }
}
