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
