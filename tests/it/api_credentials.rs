//! Credentials end to end: issued by the node, verified by the API and by `jejak credential
//! verify` offline; any altered field fails; revocation through the status list is honoured by
//! both.

use jejak_api::auth::Role;
use jejak_tests::reputation::commitment;
use jejak_tests::{TestChain, TestNode, init_logs, jejak_bin, on_both_databases};
use serde_json::{Value, json};

fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            m.iter().for_each(|(k, x)| leaves(x, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out))
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| leaves(x, format!("{at}/{i}"), out)),
        _ => out.push(at),
    }
}

fn offline(credential: &std::path::Path, status_list: &std::path::Path) -> (bool, String) {
    let out = std::process::Command::new(jejak_bin())
        .args(["credential", "verify"])
        .arg(credential)
        .arg("--status-list")
        .arg(status_list)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

on_both_databases! {
    async fn credentials_verify_until_altered_or_revoked(backend) {
        init_logs();
        let chain = TestChain::start(1).await;
        let p = chain.register_platform(chain.operator()).await;
        let node = TestNode::start(&chain, backend).await;
        node.wait_for_platform(p).await;
        let worker = commitment(11);
        node.publish_fake_epoch(3, &worker, p as i64, 742).await;
        let wkey = node.worker_key(&worker).await;
        let platform = node.key(Role::Platform, Some(p)).await;
        let admin = node.key(Role::Admin, None).await;

        let (s, b) = node.call("POST", "/v1/credentials", Some(&wkey), Some(&json!({"worker": worker}))).await;
        assert_eq!(s, 201, "{b}");
        let vc = b["credential"].clone();
        let (_, issuer) = node.call("GET", "/v1/credentials/issuer", None, None).await;
        assert_eq!(vc["issuer"], issuer["did"]);
        assert_eq!(vc["proof"]["cryptosuite"], "eddsa-jcs-2022");
        assert_eq!(vc["credentialSubject"]["reputationScore"], 742);
        assert_eq!(vc["credentialSubject"]["epoch"], 3);

        let verify = |v: Value| {
            let (node, platform) = (&node, platform.clone());
            async move {
                let (s, b) = node.call("POST", "/v1/verify/credential", Some(&platform), Some(&json!({"credential": v}))).await;
                assert_eq!(s, 200, "{b}");
                b
            }
        };
        let answer = verify(vc.clone()).await;
        assert_eq!(answer["valid"], true, "{answer}");
        let names: Vec<&str> = answer["checks"].as_array().unwrap().iter().map(|c| c["check"].as_str().unwrap()).collect();
        assert_eq!(names, ["format", "proof", "issuer", "valid_from", "valid_until", "status"]);

        // Any field altered, the proof's own fields included: not valid.
        let mut paths = Vec::new();
        leaves(&vc, String::new(), &mut paths);
        assert!(paths.len() >= 30, "{paths:?}");
        for path in &paths {
            let mut altered = vc.clone();
            let leaf = altered.pointer_mut(path).unwrap();
            *leaf = match leaf.clone() {
                Value::String(s) => Value::String(format!("{s}0")),
                Value::Number(n) => json!(n.as_i64().unwrap() + 1),
                other => json!([other]),
            };
            let a = verify(altered).await;
            assert_eq!(a["valid"], false, "altering {path} went unnoticed: {a}");
        }
        // An added claim, too.
        let mut added = vc.clone();
        added["credentialSubject"]["creditTier"] = json!("A");
        added["credentialSubject"]["bonus"] = json!(true);
        assert_eq!(verify(added).await["valid"], false);

        // Offline, with the status list saved beside it.
        let dir = tempfile::tempdir().unwrap();
        let list_url = vc["credentialStatus"]["statusListCredential"].as_str().unwrap();
        let list_path = list_url.strip_prefix(&node.api).expect("the list is served by this node");
        let save = |name: &str, v: &Value| {
            let p = dir.path().join(name);
            std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
            p
        };
        let cred_file = save("credential.json", &vc);
        let (_, list) = node.call("GET", list_path, None, None).await;
        let list_file = save("status.json", &list);
        let (ok, out) = offline(&cred_file, &list_file);
        assert!(ok, "{out}");
        let mut altered = vc.clone();
        altered["validUntil"] = json!("2099-01-01T00:00:00Z");
        let (ok, out) = offline(&save("altered.json", &altered), &list_file);
        assert!(!ok && out.contains("FAIL"), "{out}");

        // Revoked: the API says so at once, and so does the status list.
        let id = b["id"].as_str().unwrap();
        let (s, r) = node.call("POST", &format!("/v1/credentials/{id}/revoke"), Some(&admin), Some(&json!({"reason": "test"}))).await;
        assert_eq!(s, 200, "{r}");
        let answer = verify(vc.clone()).await;
        assert_eq!(answer["valid"], false);
        let status = answer["checks"].as_array().unwrap().iter().find(|c| c["check"] == "status").unwrap();
        assert_eq!(status["outcome"], "fail", "{status}");
        let (_, list) = node.call("GET", list_path, None, None).await;
        let (ok, out) = offline(&cred_file, &save("status2.json", &list));
        assert!(!ok && out.contains("revoked"), "{out}");
        // A forged status list (someone else's key, or altered) does not clear it.
        let mut forged = list.clone();
        forged["credentialSubject"]["encodedList"] = json!(jejak_credential::StatusList::new().encode());
        let (ok, out) = offline(&cred_file, &save("forged.json", &forged));
        assert!(!ok && out.contains("not checked"), "{out}");
        node.node.stop().await.unwrap();
    }
}
