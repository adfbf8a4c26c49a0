//! Prometheus metrics: HTTP requests by route, method and status with latency histograms, proof
//! verification times and batch sizes, proofs made for node-held identities and their proving
//! times, and at scrape time the indexer (head, finality, lag,
//! reorganisations and their depths), the database pool, the IPFS queue and the webhook backlog.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// Upper bounds of the latency buckets, seconds.
const LATENCY_BOUNDS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Upper bounds of the batch size buckets.
const BATCH_BOUNDS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// A histogram of fixed buckets, updated without locks.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    count: AtomicU64,
    /// Sum in millionths, so it fits an integer.
    sum_micro: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: (0..bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_micro: AtomicU64::new(0),
        }
    }

    /// Records one observation.
    pub fn observe(&self, v: f64) {
        if let Some(i) = self.bounds.iter().position(|b| v <= *b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micro.fetch_add((v * 1e6) as u64, Ordering::Relaxed);
    }

    /// The mean observation so far; None before the first.
    pub fn mean(&self) -> Option<f64> {
        let count = self.count.load(Ordering::Relaxed);
        (count > 0).then(|| self.sum_micro.load(Ordering::Relaxed) as f64 / 1e6 / count as f64)
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            cumulative += c.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let sum = self.sum_micro.load(Ordering::Relaxed) as f64 / 1e6;
        let braces = |s: &str| if s.is_empty() { String::new() } else { format!("{{{s}}}") };
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {count}", braces(labels));
    }
}

/// Per route: (method, status, histogram); few enough per route to scan.
type ByRoute = HashMap<String, Vec<(String, u16, Arc<Histogram>)>>;

/// The node's metrics registry.
#[derive(Debug)]
pub struct Metrics {
    requests: RwLock<ByRoute>,
    /// Time to verify one batch of proofs, seconds.
    pub proof_batch_seconds: Histogram,
    /// Proofs per verified batch.
    pub proof_batch_size: Histogram,
    /// Proofs that verified.
    pub proofs_valid: AtomicU64,
    /// Proofs that did not verify.
    pub proofs_invalid: AtomicU64,
    /// Proofs made for node-held identities.
    pub proofs_made: AtomicU64,
    /// Time to make one proof, seconds.
    pub prove_seconds: Histogram,
    /// Webhook deliveries attempted (any outcome).
    pub webhook_attempts: AtomicU64,
    /// The background tasks' failure counts, kept by their supervisor.
    pub tasks: Arc<jejak_runtime::Health>,
    started: Instant,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: RwLock::new(HashMap::new()),
            proof_batch_seconds: Histogram::new(&LATENCY_BOUNDS),
            proof_batch_size: Histogram::new(&BATCH_BOUNDS),
            proofs_valid: AtomicU64::new(0),
            proofs_invalid: AtomicU64::new(0),
            proofs_made: AtomicU64::new(0),
            prove_seconds: Histogram::new(&LATENCY_BOUNDS),
            webhook_attempts: AtomicU64::new(0),
            tasks: Arc::default(),
            started: Instant::now(),
        }
    }
}

impl Metrics {
    /// Records a request.
    pub fn record_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let found = {
            let map = self.requests.read().unwrap_or_else(|e| e.into_inner());
            map.get(route)
                .and_then(|v| v.iter().find(|(m, s, _)| *s == status && m == method))
                .map(|(_, _, h)| h.clone())
        };
        let h = match found {
            Some(h) => h,
            None => {
                let mut map = self.requests.write().unwrap_or_else(|e| e.into_inner());
                let v = map.entry(route.to_owned()).or_default();
                match v.iter().find(|(m, s, _)| *s == status && m == method) {
                    Some((_, _, h)) => h.clone(),
                    None => {
                        let h = Arc::new(Histogram::new(&LATENCY_BOUNDS));
                        v.push((method.to_owned(), status, h.clone()));
                        h
                    }
                }
            }
        };
        h.observe(elapsed.as_secs_f64());
    }

    pub(crate) fn render_requests(&self, out: &mut String) {
        let map = self.requests.read().unwrap_or_else(|e| e.into_inner());
        let mut rows: Vec<(&str, &str, u16, &Histogram)> =
            map.iter().flat_map(|(r, v)| v.iter().map(move |(m, s, h)| (r.as_str(), m.as_str(), *s, &**h))).collect();
        rows.sort_by_key(|(r, m, s, _)| (*r, *m, *s));
        out.push_str("# HELP jejak_http_requests_total HTTP requests by route, method and status.\n");
        out.push_str("# TYPE jejak_http_requests_total counter\n");
        for (r, m, s, h) in &rows {
            let _ = writeln!(
                out,
                "jejak_http_requests_total{{route=\"{r}\",method=\"{m}\",status=\"{s}\"}} {}",
                h.count.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP jejak_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE jejak_http_request_duration_seconds histogram\n");
        for (r, m, s, h) in rows {
            let labels = format!("route=\"{r}\",method=\"{m}\",status=\"{s}\"");
            h.render(out, "jejak_http_request_duration_seconds", &labels);
        }
    }
}

/// The method as a label: the standard methods by name, anything a caller made up as `other`,
/// so that callers cannot grow the label space (and the metrics' memory) without bound.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Records every request with its matched route template (a path no route matches is
/// `unmatched`: never the raw path) and its method label.
pub(crate) async fn track(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(req.method());
    let start = Instant::now();
    let resp = next.run(req).await;
    st.services.metrics.record_request(&route, method, resp.status().as_u16(), start.elapsed());
    resp
}

fn gauge(out: &mut String, name: &str, help: &str, kind: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
}

/// The Prometheus text exposition of everything.
pub(crate) async fn render(st: &AppState) -> String {
    let m = &st.services.metrics;
    let mut out = String::with_capacity(16 << 10);
    m.render_requests(&mut out);
    let i = st.indexer.snapshot();
    gauge(&mut out, "jejak_indexer_head_block", "Chain head seen last.", "gauge", i.head);
    gauge(&mut out, "jejak_indexer_finalized_block", "Finalized block seen last.", "gauge", i.finalized);
    gauge(&mut out, "jejak_indexer_cursor_block", "Last block recorded.", "gauge", i.cursor);
    gauge(&mut out, "jejak_indexer_lag_blocks", "Blocks between the head and the cursor.", "gauge", i.lag);
    gauge(&mut out, "jejak_indexer_reorgs_total", "Reorganisations handled.", "counter", i.reorgs);
    gauge(&mut out, "jejak_indexer_events_total", "Events recorded since start.", "counter", i.events_indexed);
    gauge(
        &mut out,
        "jejak_indexer_finality_lagging",
        "1 when finality lags the head.",
        "gauge",
        u8::from(i.finality_lagging),
    );
    gauge(&mut out, "jejak_indexer_head_stalled", "1 when the head has not moved.", "gauge", u8::from(i.head_stalled));
    render_reorg_depths(&st.indexer.reorg_depths(), &mut out);
    // Read before the scrape takes a connection of its own.
    render_pool(&st.store.pool_status(), &mut out);
    let leases = &st.services.instance.leases;
    if !leases.is_empty() {
        out.push_str(
            "# HELP jejak_lease_held 1 while this instance holds the job's lease.\n# TYPE jejak_lease_held gauge\n",
        );
        for f in leases {
            let _ = writeln!(out, "jejak_lease_held{{job=\"{}\"}} {}", f.job(), u8::from(f.held()));
        }
        out.push_str(
            "# HELP jejak_fenced_writes_total Writes of a job refused because its lease was no longer held here.\n\
             # TYPE jejak_fenced_writes_total counter\n",
        );
        for f in leases {
            let _ = writeln!(out, "jejak_fenced_writes_total{{job=\"{}\"}} {}", f.job(), f.refused());
        }
    }
    if let Ok(mut c) = st.store.conn().await {
        out.push_str("# HELP jejak_ipfs_queue IPFS documents by fetch status.\n# TYPE jejak_ipfs_queue gauge\n");
        for (s, n) in jejak_store::ipfs::counts(&mut c).await.unwrap_or_default() {
            let _ = writeln!(out, "jejak_ipfs_queue{{status=\"{}\"}} {n}", s.as_str());
        }
        out.push_str("# HELP jejak_webhook_deliveries Outgoing webhook deliveries by status (pending = backlog, dead = dead letters).\n# TYPE jejak_webhook_deliveries gauge\n");
        for (s, n) in jejak_store::webhooks::counts(&mut c).await.unwrap_or_default() {
            let _ = writeln!(out, "jejak_webhook_deliveries{{status=\"{}\"}} {n}", s.as_str());
        }
    }
    gauge(
        &mut out,
        "jejak_webhook_attempts_total",
        "Webhook delivery attempts.",
        "counter",
        m.webhook_attempts.load(Ordering::Relaxed),
    );
    out.push_str("# HELP jejak_proofs_verified_total Zero-knowledge proofs checked by the pairing, by result.\n# TYPE jejak_proofs_verified_total counter\n");
    let _ = writeln!(out, "jejak_proofs_verified_total{{result=\"valid\"}} {}", m.proofs_valid.load(Ordering::Relaxed));
    let _ =
        writeln!(out, "jejak_proofs_verified_total{{result=\"invalid\"}} {}", m.proofs_invalid.load(Ordering::Relaxed));
    out.push_str("# HELP jejak_proof_batch_seconds Time to verify one batch of proofs.\n# TYPE jejak_proof_batch_seconds histogram\n");
    m.proof_batch_seconds.render(&mut out, "jejak_proof_batch_seconds", "");
    out.push_str("# HELP jejak_proof_batch_size Proofs per verified batch.\n# TYPE jejak_proof_batch_size histogram\n");
    m.proof_batch_size.render(&mut out, "jejak_proof_batch_size", "");
    gauge(
        &mut out,
        "jejak_proofs_made_total",
        "Zero-knowledge proofs made for node-held identities.",
        "counter",
        m.proofs_made.load(Ordering::Relaxed),
    );
    out.push_str("# HELP jejak_prove_seconds Time to make one proof.\n# TYPE jejak_prove_seconds histogram\n");
    m.prove_seconds.render(&mut out, "jejak_prove_seconds", "");
    gauge(&mut out, "jejak_uptime_seconds", "Seconds since the API started.", "gauge", m.started.elapsed().as_secs());
    render_tasks(&m.tasks, &mut out);
    out
}

/// Reorganisations by depth: an alert on the deep ones needs each depth, not only the count.
fn render_reorg_depths(d: &jejak_indexer::ReorgDepths, out: &mut String) {
    let name = "jejak_indexer_reorg_depth_blocks";
    let _ = writeln!(out, "# HELP {name} Recorded blocks each reorganisation handled since start orphaned.");
    let _ = writeln!(out, "# TYPE {name} histogram");
    for (bound, n) in &d.buckets {
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}\n{name}_sum {}\n{name}_count {}", d.count, d.sum, d.count);
}

/// The database pool: connections in use against the most it may open.
fn render_pool(p: &jejak_store::PoolStatus, out: &mut String) {
    out.push_str("# HELP jejak_db_pool_connections Open database connections by state.\n# TYPE jejak_db_pool_connections gauge\n");
    let _ = writeln!(out, "jejak_db_pool_connections{{state=\"in_use\"}} {}", p.in_use);
    let _ = writeln!(out, "jejak_db_pool_connections{{state=\"idle\"}} {}", p.idle);
    gauge(out, "jejak_db_pool_max_connections", "Most connections the pool may open.", "gauge", p.max);
}

/// The supervised background tasks: transient failures (each retried with backoff) and whether
/// one is failing now.
fn render_tasks(tasks: &jejak_runtime::Health, out: &mut String) {
    let tasks = tasks.snapshot();
    out.push_str("# HELP jejak_task_failures_total Transient failures of a background task, each retried with backoff.\n# TYPE jejak_task_failures_total counter\n");
    for (name, h) in &tasks {
        let _ =
            writeln!(out, "jejak_task_failures_total{{task=\"{name}\"}} {}", h.failures_total.load(Ordering::Relaxed));
    }
    out.push_str("# HELP jejak_task_failing Failures in the current streak of a background task (0: healthy).\n# TYPE jejak_task_failing gauge\n");
    for (name, h) in &tasks {
        let _ = writeln!(out, "jejak_task_failing{{task=\"{name}\"}} {}", h.streak.load(Ordering::Relaxed));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_in_the_exposition() {
        let m = Metrics::default();
        m.record_request("/v1/events", "POST", 202, Duration::from_micros(300));
        m.record_request("/v1/events", "POST", 202, Duration::from_millis(20));
        let mut out = String::new();
        m.render_requests(&mut out);
        assert!(
            out.contains("jejak_http_requests_total{route=\"/v1/events\",method=\"POST\",status=\"202\"} 2"),
            "{out}"
        );
        assert!(out.contains("status=\"202\",le=\"0.0005\"} 1"), "{out}");
        assert!(out.contains("status=\"202\",le=\"0.025\"} 2"), "{out}");
        assert!(out.contains("status=\"202\",le=\"+Inf\"} 2"), "{out}");
    }
}
