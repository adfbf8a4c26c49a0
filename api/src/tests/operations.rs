//! What operators build on `/metrics`: the database pool's figures, and the operations kit in
//! `deploy/` (alert rules, dashboard) naming only metrics the node exports.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use jejak_store::test_utils::TestDb;
use tower::ServiceExt as _;

use super::{TestApi, app};

/// The text of `GET /metrics`.
async fn scrape(api: &TestApi) -> String {
    let resp =
        crate::router(api.st.clone()).oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

/// The value of the sample `series` (name and labels as exposed).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no `{series}` in\n{text}"))
        .parse()
        .unwrap()
}

/// Every series name the exposition declares (a histogram's `_bucket`, `_sum` and `_count`).
fn exported(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for l in text.lines() {
        let Some(rest) = l.strip_prefix("# TYPE ") else { continue };
        let (name, kind) = rest.split_once(' ').unwrap();
        names.insert(name.to_owned());
        if kind == "histogram" {
            for suffix in ["_bucket", "_sum", "_count"] {
                names.insert(format!("{name}{suffix}"));
            }
        }
    }
    names
}

/// The `jejak_*` metric names in a PromQL expression (or any text).
fn named_metrics(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("jejak_") {
        let tail = &rest[at..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        out.push(tail[..end].to_owned());
        rest = &tail[end..];
    }
    out
}

fn deploy_file(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Every `expr` in a Grafana dashboard, panels nested in rows included.
fn dashboard_exprs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("expr", serde_json::Value::String(s)) => out.push(s.clone()),
                    _ => dashboard_exprs(v, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| dashboard_exprs(v, out)),
        _ => {}
    }
}

jejak_store::both_backends! {
    async fn metrics_show_the_database_pool_in_use_against_its_bound(db: TestDb) {
        let api = app(db, |_, _| {}).await;
        let max = api.st.store.pool_status().max;
        let before = scrape(&api).await;
        assert_eq!(sample(&before, "jejak_db_pool_max_connections"), f64::from(max));
        let held = [api.st.store.conn().await.unwrap(), api.st.store.conn().await.unwrap()];
        let during = scrape(&api).await;
        let in_use = sample(&during, "jejak_db_pool_connections{state=\"in_use\"}");
        assert!((2.0..=f64::from(max)).contains(&in_use), "two held, the scrape's own not counted: {in_use}");
        drop(held);
        // A dropped connection goes back to the pool from a task of its own.
        for _ in 0..100 {
            if api.st.store.pool_status().in_use < 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let after = scrape(&api).await;
        assert!(sample(&after, "jejak_db_pool_connections{state=\"in_use\"}") < in_use, "{after}");
        assert!(sample(&after, "jejak_db_pool_connections{state=\"idle\"}") >= 2.0, "{after}");
    }
}

jejak_store::both_backends! {
    async fn alert_rules_and_dashboard_name_only_metrics_the_node_exports(db: TestDb) {
        let api = app(db, |_, _| {}).await;
        let text = scrape(&api).await;
        let ours = exported(&text);
        assert!(ours.contains("jejak_indexer_reorg_depth_blocks_bucket"), "{text}");

        let rules = deploy_file("prometheus/jejak-alerts.yml");
        let in_rules = named_metrics(&rules);
        assert!(in_rules.len() >= 8, "the rules name the node's metrics");
        for m in &in_rules {
            assert!(ours.contains(m), "the alert rules name `{m}`, which the node does not export");
        }

        let dashboard: serde_json::Value = serde_json::from_str(&deploy_file("grafana/jejak-dashboard.json")).unwrap();
        let mut exprs = Vec::new();
        dashboard_exprs(&dashboard["panels"], &mut exprs);
        assert!(exprs.len() >= 10, "{} queries", exprs.len());
        for e in &exprs {
            let names = named_metrics(e);
            assert!(!names.is_empty() || e.contains("up{"), "a panel queries no metric of the node: {e}");
            for m in names {
                assert!(ours.contains(&m), "the dashboard queries `{m}`, which the node does not export: {e}");
            }
        }
        // Importable anywhere: the data source is chosen on import, never a fixed one.
        let sources = dashboard.to_string();
        assert!(!sources.contains("\"uid\":\"prometheus\""), "a fixed data source uid");
        assert!(dashboard["templating"]["list"].as_array().unwrap().iter().any(|v| v["type"] == "datasource"));

        // Every alert has its runbook paragraph.
        let readme = deploy_file("README.md");
        let alerts: Vec<&str> =
            rules.lines().filter_map(|l| l.trim().strip_prefix("- alert: ")).map(str::trim).collect();
        assert!(alerts.len() >= 8, "{alerts:?}");
        for a in alerts {
            assert!(readme.contains(&format!("### {a}\n")), "no runbook paragraph `### {a}` in deploy/README.md");
            let anchor = format!("deploy/README.md#{}", a.to_ascii_lowercase());
            assert!(rules.contains(&anchor), "alert {a} does not link its runbook ({anchor})");
        }
    }
}
