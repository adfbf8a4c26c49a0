//! A PostgreSQL server of the test's own (initdb in a temporary directory, its own port, run as
//! the `postgres` user), for tests that stop and restart the server: the shared server at
//! `DATABASE_URL` serves other tests and is never restarted.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A private PostgreSQL cluster; stopped and removed when dropped.
#[derive(Debug)]
pub struct PrivatePostgres {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub url: String,
    bin: PathBuf,
    data: PathBuf,
    options: String,
    _dir: tempfile::TempDir,
}

/// The directory of the server binaries (`initdb`, `pg_ctl`): from `pg_config --bindir`, else
/// the newest under `/usr/lib/postgresql`.
fn bindir() -> PathBuf {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries (initdb, pg_ctl) are required for this test")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("initdb under /usr/lib/postgresql/*/bin")
}

/// Runs a server binary as the `postgres` user when the test runs as root (the server refuses
/// root), as the current user otherwise.
fn as_postgres(bin: &Path, args: &[&str]) -> std::process::Output {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let out = if root {
        Command::new("runuser").arg("-u").arg("postgres").arg("--").arg(bin).args(args).output()
    } else {
        Command::new(bin).args(args).output()
    }
    .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}{}",
        bin.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl PrivatePostgres {
    /// initdb and start a server on a free port.
    pub fn start() -> Self {
        let bin = bindir();
        let dir = tempfile::Builder::new().prefix("jejak-pg-").tempdir().unwrap();
        let data = dir.path().join("data");
        // The server runs as `postgres`: it must own its directory.
        let _ = Command::new("chown").arg("-R").arg("postgres:postgres").arg(dir.path()).status();
        let _ = Command::new("chmod").arg("0755").arg(dir.path()).status();
        as_postgres(
            &bin.join("initdb"),
            &["-D", data.to_str().unwrap(), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        );
        let port = crate::api::free_port();
        let options = format!("-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", data.display());
        let pg = Self { url: format!("postgres://postgres@127.0.0.1:{port}/postgres"), bin, data, options, _dir: dir };
        pg.start_again();
        pg
    }

    fn ctl(&self, args: &[&str]) {
        let mut all = vec!["-D", self.data.to_str().unwrap()];
        all.extend_from_slice(args);
        as_postgres(&self.bin.join("pg_ctl"), &all);
    }

    /// Stops the server at once (every connection dropped, as in a crash).
    pub fn stop(&self) {
        self.ctl(&["stop", "-m", "immediate", "-w"]);
    }

    /// Starts it again after [`PrivatePostgres::stop`].
    pub fn start_again(&self) {
        let log = self.data.join("server.log");
        self.ctl(&["start", "-w", "-t", "60", "-o", &self.options, "-l", log.to_str().unwrap()]);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data.to_str().unwrap_or_default().to_owned();
        let ctl = self.bin.join("pg_ctl");
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&ctl)
            .args(["-D", &data, "stop", "-m", "immediate", "-w"])
            .output()
            .or_else(|_| Command::new(&ctl).args(["-D", &data, "stop", "-m", "immediate", "-w"]).output());
    }
}
