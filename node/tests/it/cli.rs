use std::process::Command;

fn jejak(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_jejak"))
        .args(args)
        .current_dir(dir)
        .env_remove("JEJAK_CONFIG")
        .env_remove("JEJAK_PRESET")
        .output()
        .expect("jejak runs")
}

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    let commands: &[&[&str]] = &[
        &[],
        &["dev"],
        &["node"],
        &["deploy"],
        &["platform"],
        &["platform", "register"],
        &["keys"],
        &["keys", "create"],
        &["keys", "list"],
        &["keys", "revoke"],
        &["index"],
        &["index", "status"],
        &["config"],
        &["zk"],
        &["zk", "setup"],
        &["zk", "export-r1cs"],
        &["zk", "import-zkey"],
        &["zk", "prove"],
        &["zk", "export"],
        &["zk", "verify"],
        &["zk", "export-solidity"],
        &["config", "reference"],
        &["completions"],
        &["man"],
    ];
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.push("--help");
        let out = jejak(&args, dir.path());
        assert!(out.status.success(), "jejak {} --help failed: {}", cmd.join(" "), text(&out));
        assert!(text(&out).contains("Usage: jejak"), "{}", text(&out));
    }
}

#[test]
fn keys_are_created_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("jejak.toml"), "data_dir = \"data\"\n").unwrap();
    let cfg = ["--config", "jejak.toml"];
    let out = jejak(
        &[&["keys", "create", "--role", "platform", "--platform", "3", "--label", "ojek"][..], &cfg[..]].concat(),
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("jk_"), "{token}");
    let id = token.split('_').nth(1).unwrap().to_string();

    let list = jejak(&[&["keys", "list"][..], &cfg[..]].concat(), dir.path());
    let listed = text(&list);
    assert!(listed.contains(&id) && listed.contains("platform 3") && listed.contains("active"), "{listed}");
    assert!(!listed.contains(&token), "secrets are never listed");

    assert!(jejak(&[&["keys", "revoke", &id][..], &cfg[..]].concat(), dir.path()).status.success());
    assert!(text(&jejak(&[&["keys", "list"][..], &cfg[..]].concat(), dir.path())).contains("revoked"));
    let again = jejak(&[&["keys", "revoke", &id][..], &cfg[..]].concat(), dir.path());
    assert!(!again.status.success(), "revoking twice fails");

    let bad = jejak(&[&["keys", "create", "--role", "platform"][..], &cfg[..]].concat(), dir.path());
    assert!(!bad.status.success());
    assert!(text(&bad).contains("--platform"), "{}", text(&bad));
}

#[test]
fn bad_configuration_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.toml"), "[api]\nlisen = 1\n").unwrap();
    let out = jejak(&["config", "--config", "bad.toml"], dir.path());
    assert!(!out.status.success());
    assert!(text(&out).contains("lisen"), "{}", text(&out));
    let out = jejak(&["config", "--config", "missing.toml"], dir.path());
    assert!(!out.status.success());
    std::fs::write(dir.path().join("amoy.toml"), "preset = \"polygon-amoy\"\n[indexer]\nconfirmation_depth = 10\n")
        .unwrap();
    let out = jejak(&["config", "--config", "amoy.toml"], dir.path());
    assert!(!out.status.success());
    assert!(text(&out).contains("at least 200"), "{}", text(&out));
}

#[test]
fn config_shows_layers_and_hides_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("j.toml"), "preset = \"polygon\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_jejak"))
        .args(["config", "--config", "j.toml"])
        .current_dir(dir.path())
        .env("JEJAK_OPERATOR__PRIVATE_KEY", "0xdeadbeef")
        .env("JEJAK_API__LISTEN", "0.0.0.0:9999")
        .env(
            "JEJAK_DATABASE__URL",
            "postgres://jejak:p@ss@w0rd@db.internal:5432/jejak?sslmode=require&password=qs3cret",
        )
        .env("JEJAK_CHAIN__RPC_URLS", r#"["https://rpc-user:rpcpass@rpc.example/v2/path?apikey=K3Y"]"#)
        .env("JEJAK_IPFS__KUBO_RPC", "http://kubo:kubopass@127.0.0.1:5001")
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("chain_id = 137") && shown.contains("0.0.0.0:9999"), "{shown}");
    assert!(!shown.contains("deadbeef") && shown.contains("<redacted>"), "{shown}");
    // Every URL's userinfo and query are masked, a password holding `@` included.
    for secret in ["p@ss", "w0rd", "qs3cret", "sslmode", "rpcpass", "rpc-user", "K3Y", "kubopass"] {
        assert!(!shown.contains(secret), "`{secret}` shown: {shown}");
    }
    assert!(shown.contains("postgres://***@db.internal:5432/jejak?***"), "{shown}");
    assert!(shown.contains("https://***@rpc.example/v2/path?***"), "{shown}");
}

#[test]
fn zk_setup_writes_labelled_insecure_keys_and_the_r1cs() {
    let dir = tempfile::tempdir().unwrap();
    let out = jejak(&["zk", "setup", "--depth", "2", "--out-dir", "keys"], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["insecure"], true);
    assert!(summary["warning"].as_str().unwrap().to_lowercase().contains("insecure"));
    for key in ["proving_key", "verifying_key", "verification_key_json"] {
        let p = dir.path().join(summary[key].as_str().unwrap());
        assert!(p.exists() || std::path::Path::new(summary[key].as_str().unwrap()).exists(), "{key} missing");
    }
    let out = jejak(&["zk", "export-r1cs", "--depth", "2", "--out", "c.r1cs"], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    let r1cs = std::fs::read(dir.path().join("c.r1cs")).unwrap();
    assert_eq!(&r1cs[..4], b"r1cs", "circom's magic number");
    let bogus = dir.path().join("proof.json");
    std::fs::write(&bogus, "{}").unwrap();
    let vk = summary["verifying_key"].as_str().unwrap();
    let out = jejak(&["zk", "verify", "--verifying-key", vk, "--proof", "proof.json"], dir.path());
    assert!(!out.status.success(), "a malformed proof is an error");
}

#[test]
fn version_names_the_contracts_and_circuit_it_speaks() {
    let dir = tempfile::tempdir().unwrap();
    let out = jejak(&["--version"], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    let v = String::from_utf8(out.stdout).unwrap();
    assert!(v.starts_with(&format!("jejak {}\n", env!("CARGO_PKG_VERSION"))), "{v}");
    let contracts = format!("artifacts sha256 {}", hex::encode(jejak_node::version::contracts_sha256()));
    let constraints = format!("depth 20: {} constraints", jejak_zk_circuits::constraint_count(20));
    let circuit = format!("R1CS sha256 {}", jejak_prover::DEFAULT_CIRCUIT_SHA256);
    let parts: [&str; 6] = [
        "JejakRegistry, JejakAttestations, JejakReputationRoots, JejakEvidenceLog, JejakProofVerifier",
        &contracts,
        "EIP-712 domain \"JejakAttestations\" version 1",
        "public inputs root, epoch_bounds, scope, challenge, nullifier",
        &constraints,
        &circuit,
    ];
    for part in parts {
        assert!(v.contains(part), "`{part}` missing from\n{v}");
    }
    let short = jejak(&["-V"], dir.path());
    assert_eq!(String::from_utf8(short.stdout).unwrap(), format!("jejak {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn completions_and_manual_pages_come_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let bash = jejak(&["completions", "bash"], dir.path());
    assert!(bash.status.success(), "{}", text(&bash));
    let bash = String::from_utf8(bash.stdout).unwrap();
    assert!(bash.contains("complete -F _jejak") && bash.contains("reference") && bash.contains("--config"), "{bash}");
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = jejak(&["completions", shell], dir.path());
        assert!(out.status.success() && out.stdout.len() > 1000, "{shell}: {}", text(&out));
    }
    assert!(!jejak(&["completions", "tcsh"], dir.path()).status.success(), "an unknown shell is refused");

    let man = jejak(&["man"], dir.path());
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(page.contains(".TH jejak 1") && page.contains("jejak\\-node(1)"), "{page}");
    let out = jejak(&["man", "--dir", "pages"], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    for name in ["jejak.1", "jejak-node.1", "jejak-config-reference.1", "jejak-keys-create.1"] {
        let p = dir.path().join("pages").join(name);
        assert!(std::fs::read_to_string(&p).is_ok_and(|t| t.contains(".TH")), "{} missing", p.display());
    }
}

#[test]
fn the_file_s_log_filter_takes_effect_in_a_log_file_without_colour() {
    let dir = tempfile::tempdir().unwrap();
    let run = |filter: &str| {
        std::fs::write(
            dir.path().join("jejak.toml"),
            format!("data_dir = \"data\"\n[log]\nformat = \"text\"\nfilter = \"{filter}\"\n"),
        )
        .unwrap();
        let log = dir.path().join("jejak.log");
        let file = std::fs::File::create(&log).unwrap();
        let status = Command::new(env!("CARGO_BIN_EXE_jejak"))
            .args(["keys", "list", "--config", "jejak.toml"])
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .env_remove("NO_COLOR")
            .env_remove("JEJAK_LOG__FILTER")
            .env_remove("JEJAK_LOG__FORMAT")
            .stderr(file)
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::read_to_string(&log).unwrap()
    };
    let verbose = run("warn,jejak::store=debug");
    assert!(verbose.contains("store ready"), "the file's filter lets jejak::store debug lines through: {verbose}");
    assert!(!verbose.contains('\u{1b}'), "colour escapes in a log file: {verbose:?}");
    let quiet = run("warn");
    assert!(quiet.is_empty(), "the file's filter keeps debug lines out: {quiet}");
}

/// The anvil binary of the pinned Foundry package of this checkout.
fn pinned_anvil() -> std::path::PathBuf {
    let scope = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../node_modules/@foundry-rs");
    std::fs::read_dir(&scope)
        .unwrap_or_else(|e| panic!("{}: {e} (run `make deps`)", scope.display()))
        .flatten()
        .map(|e| e.path().join("bin/anvil"))
        .find(|p| p.exists())
        .expect("the pinned anvil")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// As after `cargo install`: `jejak dev` run from a directory outside any checkout, with anvil
/// only on `PATH`, finds it, starts its chain and node, and stops cleanly on SIGTERM.
#[test]
fn dev_outside_a_checkout_finds_anvil_on_path() {
    use std::io::BufRead as _;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(pinned_anvil(), bin.join("anvil")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_jejak"))
        .args(["dev", "--no-demo", "--data-dir", "dev"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", free_port()))
        .arg("--anvil-port")
        .arg(free_port().to_string())
        .current_dir(dir.path())
        .env("PATH", &bin)
        .env("RUST_LOG", "warn")
        .env_remove("JEJAK_ANVIL")
        .env_remove("JEJAK_CONFIG")
        .env_remove("JEJAK_PRESET")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("jejak dev is running")) {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(l) => seen.push(l),
            Err(_) => {
                let _ = child.kill();
                panic!("jejak dev did not start: {seen:?}\n{}", errors.join().unwrap());
            }
        }
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill").arg("-TERM").arg(&pid).status().unwrap().success());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "jejak dev did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "exit {status}: {}", errors.join().unwrap());
}

/// `jejak dev --exit-after-demo`: the demo's workload is anchored, a one-minute epoch that
/// scores it is published, and a proof the node makes for the demo worker verifies through
/// `POST /v1/verify/proof`; the printout names the wallet, explorer and console with keys.
#[test]
fn dev_demo_publishes_an_epoch_and_a_proof_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_jejak"))
        .args(["dev", "--exit-after-demo", "--data-dir", "dev"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", free_port()))
        .arg("--anvil-port")
        .arg(free_port().to_string())
        .current_dir(dir.path())
        .env("JEJAK_ANVIL", pinned_anvil())
        .env("RUST_LOG", "warn")
        .env_remove("JEJAK_CONFIG")
        .env_remove("JEJAK_PRESET")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exit {}: {stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    for expected in [
        "/wallet",
        "/console",
        "worker key     jk_",
        "platform key   jk_",
        "INSECURE development key",
        "demo_photo",
        "the first attestation is anchored and final",
        "is published; the node proved for demo worker",
        "the proof verified (POST /v1/verify/proof as Kurir Demo: valid, nullifier consumed: true)",
        "the worker's portable bundle holds",
    ] {
        assert!(stdout.contains(expected), "`{expected}` missing from:\n{stdout}");
    }
}
