//! The node's directories and key files: the data directory and the keys directory are the
//! owner's alone (0700), key files are 0600, and, as ssh does, the node refuses to start on a
//! key file that its group or others may read.
//!
//! Keys live in their own directory (`keys_dir`, default `keys/` in the data directory), apart
//! from the database that holds what they seal, so that copying the database (a backup, a
//! replica) does not copy the keys. Key files an earlier version kept in the data directory are
//! moved there on start.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::config::Config;

/// Key files kept in the keys directory, by their name there.
pub const KEY_FILES: [&str; 3] = [ISSUER_KEY, SEALING_KEY, WEBHOOK_SECRETS_KEY];
/// The credential issuer's ed25519 seed.
pub const ISSUER_KEY: &str = "issuer.key";
/// The key node-held identity secrets are sealed with.
pub const SEALING_KEY: &str = "identity-seal.key";
/// The key webhook secrets are sealed with at rest.
pub const WEBHOOK_SECRETS_KEY: &str = "webhook-secrets.key";

/// Makes the data and keys directories owner-only, moves key files an earlier version kept in the
/// data directory into the keys directory, and refuses key files others may read. Returns the
/// keys directory.
pub fn prepare(cfg: &Config) -> anyhow::Result<PathBuf> {
    owner_only_dir(&cfg.data_dir, false)?;
    let keys = cfg.keys_dir();
    owner_only_dir(&keys, true)?;
    for name in KEY_FILES {
        let old = cfg.data_dir.join(name);
        let new = keys.join(name);
        if old != new && old.exists() && !new.exists() {
            check_private(&old)?;
            std::fs::rename(&old, &new).with_context(|| format!("moving {} to {}", old.display(), new.display()))?;
            tracing::info!(target: "jejak::node", from = %old.display(), to = %new.display(), "key file moved to the keys directory");
        }
        if new.exists() {
            check_private(&new)?;
        }
    }
    Ok(keys)
}

/// Creates `dir` (0700) or, when it exists, takes group and other permissions away; for the keys
/// directory (`strict`), an existing directory others may enter is refused instead.
fn owner_only_dir(dir: &Path, strict: bool) -> anyhow::Result<()> {
    if !dir.exists() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir).with_context(|| format!("reading {}", dir.display()))?.permissions().mode();
        if mode & 0o077 != 0 {
            anyhow::ensure!(
                !strict,
                "{} may be entered by its group or others (mode {:o}); the keys directory must be the owner's \
                 alone: chmod 700 {}",
                dir.display(),
                mode & 0o777,
                dir.display()
            );
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("making {} the owner's alone (chmod 700)", dir.display()))?;
            tracing::warn!(target: "jejak::node", dir = %dir.display(), was = format!("{:o}", mode & 0o777), "data directory made the owner's alone (0700)");
        }
    }
    Ok(())
}

/// Refuses a key file its group or others may read or write, as ssh does.
pub fn check_private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.permissions().mode();
        anyhow::ensure!(
            mode & 0o077 == 0,
            "the key file {} is accessible by its group or others (mode {:o}); refusing to use it: chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    Ok(())
}

/// A 32-byte secret (`what`): from the configuration key `config_key` (64 hex digits) when set,
/// else from `path`, which must be the owner's alone, made on first start from the operating
/// system's generator (0600).
pub fn secret_from_config_or_file(
    configured: Option<&str>,
    config_key: &str,
    path: &Path,
    what: &str,
) -> anyhow::Result<[u8; 32]> {
    let parse = |text: &str, from: &str| -> anyhow::Result<[u8; 32]> {
        let mut secret = [0u8; 32];
        hex::decode_to_slice(text.trim().trim_start_matches("0x"), &mut secret)
            .map_err(|_| anyhow::anyhow!("{from}: the {what} is 64 hex digits"))?;
        Ok(secret)
    };
    if let Some(k) = configured {
        return parse(k, config_key);
    }
    match std::fs::read_to_string(path) {
        Ok(text) => {
            check_private(path)?;
            parse(&text, &path.display().to_string())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(path).with_context(|| format!("creating {}", path.display()))?;
            std::io::Write::write_all(&mut f, hex::encode(secret).as_bytes())?;
            f.sync_all()?;
            tracing::info!(target: "jejak::node", path = %path.display(), "made a new {what}");
            Ok(secret)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_file_is_made_once_owner_only_and_config_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("identity-seal.key");
        let first = secret_from_config_or_file(None, "identities.sealing_key", &path, "identity sealing key").unwrap();
        let again = secret_from_config_or_file(None, "identities.sealing_key", &path, "identity sealing key").unwrap();
        assert_eq!(first, again, "read back, not made anew");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), hex::encode(first));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let configured =
            secret_from_config_or_file(Some(&format!("0x{}", "ab".repeat(32))), "k", &path, "key").unwrap();
        assert_eq!(configured, [0xab; 32]);
        let e = secret_from_config_or_file(Some("abcd"), "identities.sealing_key", &path, "identity sealing key");
        assert_eq!(e.unwrap_err().to_string(), "identities.sealing_key: the identity sealing key is 64 hex digits");
    }

    #[cfg(unix)]
    #[test]
    fn keys_move_to_their_own_directory_and_readable_key_files_are_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        // A key file where an earlier version kept it.
        std::fs::write(data.join(ISSUER_KEY), "ab".repeat(32)).unwrap();
        std::fs::set_permissions(data.join(ISSUER_KEY), std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut cfg = Config::preset(crate::config::Preset::Local);
        cfg.data_dir = data.clone();
        let keys = prepare(&cfg).unwrap();
        assert_eq!(keys, data.join("keys"));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700, "the data directory is the owner's alone");
        assert_eq!(mode(&keys), 0o700);
        assert!(!data.join(ISSUER_KEY).exists() && keys.join(ISSUER_KEY).exists(), "moved to keys/");

        // A key file its group or others may read stops the node, as ssh does.
        std::fs::set_permissions(keys.join(ISSUER_KEY), std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = prepare(&cfg).unwrap_err().to_string();
        assert!(e.contains("accessible by its group or others") && e.contains("chmod 600"), "{e}");
        let e = secret_from_config_or_file(None, "k", &keys.join(ISSUER_KEY), "key").unwrap_err().to_string();
        assert!(e.contains("refusing to use it"), "{e}");
        std::fs::set_permissions(keys.join(ISSUER_KEY), std::fs::Permissions::from_mode(0o604)).unwrap();
        assert!(prepare(&cfg).is_err(), "world-readable too");
        std::fs::set_permissions(keys.join(ISSUER_KEY), std::fs::Permissions::from_mode(0o600)).unwrap();
        prepare(&cfg).unwrap();

        // A keys directory others may enter is refused, not silently changed.
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o750)).unwrap();
        let e = prepare(&cfg).unwrap_err().to_string();
        assert!(e.contains("chmod 700"), "{e}");
    }
}
