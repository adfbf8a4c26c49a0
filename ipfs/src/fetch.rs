//! Fetching blocks by CID from untrusted sources.

use std::time::Duration;

use jejak_core::cid::{self, Cid};

use crate::{Blockstore, Error, Result};

/// Where blocks can come from, tried in the configured order.
#[derive(Debug, Clone)]
pub enum Source {
    /// The node's own blockstore.
    Blockstore(Blockstore),
    /// An IPFS trustless gateway (base URL, e.g. `https://ipfs.io`).
    Gateway(String),
    /// A Kubo RPC endpoint (base URL, e.g. `http://127.0.0.1:5001`).
    Kubo(String),
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::Blockstore(_) => "blockstore".to_string(),
            Source::Gateway(url) => format!("gateway {url}"),
            Source::Kubo(url) => format!("kubo {url}"),
        }
    }
}

/// Fetches blocks from [`Source`]s, checking every byte against the CID.
#[derive(Debug, Clone)]
pub struct Fetcher {
    sources: Vec<Source>,
    http: reqwest::Client,
    max_size: u64,
}

impl Fetcher {
    /// A fetcher over `sources` refusing blocks above `max_size` bytes, with HTTP requests
    /// bounded by `timeout`.
    pub fn new(sources: Vec<Source>, max_size: u64, timeout: Duration) -> Self {
        Self { sources, http: http_client(timeout), max_size }
    }

    /// The size cap.
    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// Gets the block named `cid`. Sources are tried in order; a source that answers with
    /// content that does not match is reported (never trusted) and the next one is tried. When
    /// no source has it, the error says the most telling reason: bad content over a size
    /// violation over a source failure over not found.
    pub async fn fetch(&self, cid: &Cid) -> Result<Vec<u8>> {
        if cid.hash().code() != cid::SHA2_256 {
            return Err(jejak_core::Error::InvalidCid(format!("{cid}: unsupported multihash")).into());
        }
        let mut worst: Option<Error> = None;
        for source in &self.sources {
            let got = match source {
                Source::Blockstore(bs) => bs.get(cid).await,
                Source::Gateway(base) => self.gateway_get(base, cid).await,
                Source::Kubo(base) => self.kubo_get(base, cid).await,
            };
            match got {
                Ok(Some(bytes)) => {
                    if bytes.len() as u64 > self.max_size {
                        worst = Some(rank(worst, Error::TooLarge { cid: cid.to_string(), limit: self.max_size }));
                        continue;
                    }
                    if cid::verify(cid, &bytes).is_err() {
                        tracing::warn!(target: "jejak::ipfs", %cid, source = %source.name(), "content does not match its CID");
                        worst = Some(rank(worst, Error::Mismatch { cid: cid.to_string(), source_name: source.name() }));
                        continue;
                    }
                    return Ok(bytes);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(target: "jejak::ipfs", %cid, source = %source.name(), error = %e, "source failed");
                    worst = Some(rank(worst, e));
                }
            }
        }
        Err(worst.unwrap_or_else(|| Error::NotFound(cid.to_string())))
    }

    async fn gateway_get(&self, base: &str, cid: &Cid) -> Result<Option<Vec<u8>>> {
        let url = format!("{}/ipfs/{cid}?format=raw", base.trim_end_matches('/'));
        let req = self.http.get(&url).header("Accept", "application/vnd.ipld.raw");
        self.read_capped(req, cid, format!("gateway {base}")).await
    }

    async fn kubo_get(&self, base: &str, cid: &Cid) -> Result<Option<Vec<u8>>> {
        let url = format!("{}/api/v0/block/get?arg={cid}", base.trim_end_matches('/'));
        self.read_capped(self.http.post(&url), cid, format!("kubo {base}")).await
    }

    /// Sends the request and reads the body, stopping as soon as it exceeds the cap.
    async fn read_capped(&self, req: reqwest::RequestBuilder, cid: &Cid, name: String) -> Result<Option<Vec<u8>>> {
        let source_err = |message: String| Error::Source { source_name: name.clone(), message };
        let mut resp = req.send().await.map_err(|e| source_err(e.to_string()))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if status.is_redirection() {
            return Err(source_err(format!("HTTP {status}: redirects are not followed")));
        }
        if !status.is_success() {
            // Kubo answers 500 with "block was not found locally" for a missing block. Only the
            // start of an error body is read: a source cannot make the node read without end.
            let body = read_prefix(&mut resp, ERROR_BODY_LIMIT).await;
            if String::from_utf8_lossy(&body).contains("not found") {
                return Ok(None);
            }
            return Err(source_err(format!("HTTP {status}")));
        }
        if resp.content_length().is_some_and(|n| n > self.max_size) {
            return Err(Error::TooLarge { cid: cid.to_string(), limit: self.max_size });
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| source_err(e.to_string()))? {
            if (body.len() + chunk.len()) as u64 > self.max_size {
                return Err(Error::TooLarge { cid: cid.to_string(), limit: self.max_size });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some(body))
    }
}

/// Most bytes of an error answer (or of Kubo's small JSON answers) read from a source.
pub(crate) const ERROR_BODY_LIMIT: usize = 4096;

/// The HTTP client for gateways and Kubo: bounded in time, and never following a redirect (a
/// source answers for itself; it cannot send the node to an address of its choosing).
fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client builds")
}

/// At most `limit` bytes of a body; a failure part-way keeps what came.
async fn read_prefix(resp: &mut reqwest::Response, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < limit {
        match resp.chunk().await {
            Ok(Some(chunk)) => out.extend_from_slice(&chunk[..chunk.len().min(limit - out.len())]),
            Ok(None) | Err(_) => break,
        }
    }
    out
}

/// Keeps the more telling of two errors.
fn rank(current: Option<Error>, new: Error) -> Error {
    fn weight(e: &Error) -> u8 {
        match e {
            Error::Mismatch { .. } | Error::Cid(_) => 4,
            Error::TooLarge { .. } => 3,
            Error::Source { .. } | Error::Io(_) => 2,
            Error::NotFound(_) => 1,
        }
    }
    match current {
        Some(c) if weight(&c) >= weight(&new) => c,
        _ => new,
    }
}

/// A Kubo RPC endpoint the node pins its published documents to.
#[derive(Debug, Clone)]
pub struct Kubo {
    base: String,
    http: reqwest::Client,
}

impl Kubo {
    /// A client for the Kubo RPC API at `base` (e.g. `http://127.0.0.1:5001`).
    pub fn new(base: impl Into<String>, timeout: Duration) -> Self {
        Self { base: base.into(), http: http_client(timeout) }
    }

    /// Adds `bytes` as a raw sha2-256 block and pins it (`POST /api/v0/block/put`), checking Kubo
    /// names it with the CID jejak computed.
    pub async fn put_and_pin(&self, bytes: &[u8]) -> Result<Cid> {
        let expected = cid::raw_cid(bytes);
        let url = format!(
            "{}/api/v0/block/put?cid-codec=raw&mhtype=sha2-256&mhlen=32&pin=true",
            self.base.trim_end_matches('/')
        );
        let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("block");
        let form = reqwest::multipart::Form::new().part("file", part);
        let name = format!("kubo {}", self.base);
        let mut resp = self
            .http
            .post(&url)
            .multipart(form)
            .send()
            .await
            .map_err(|e| Error::Source { source_name: name.clone(), message: e.to_string() })?;
        if !resp.status().is_success() {
            return Err(Error::Source { source_name: name, message: format!("HTTP {}", resp.status()) });
        }
        #[derive(serde::Deserialize)]
        struct Put {
            #[serde(rename = "Key")]
            key: String,
        }
        // The answer is a few dozen bytes; more is not Kubo speaking.
        let answer = read_prefix(&mut resp, ERROR_BODY_LIMIT).await;
        let put: Put = serde_json::from_slice(&answer)
            .map_err(|e| Error::Source { source_name: name.clone(), message: format!("bad answer: {e}") })?;
        let got = cid::parse(&put.key)?;
        if got != expected {
            return Err(Error::Mismatch { cid: expected.to_string(), source_name: name });
        }
        Ok(expected)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use axum::Router;
    use axum::body::Body;
    use axum::http::{StatusCode, header};
    use axum::response::{IntoResponse, Response};

    use super::*;

    /// Serves `app` on a local port; returns its base URL.
    async fn serve(app: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    /// An error answer whose body never ends, counting the bytes the server managed to hand
    /// over.
    fn endless_error(status: StatusCode, sent: Arc<AtomicU64>) -> Response {
        let chunk = bytes::Bytes::from(vec![b'x'; 64 << 10]);
        let stream = futures::stream::unfold((), move |()| {
            let (chunk, sent) = (chunk.clone(), sent.clone());
            async move {
                sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                Some((Ok::<_, std::io::Error>(chunk), ()))
            }
        });
        (status, Body::from_stream(stream)).into_response()
    }

    #[tokio::test]
    async fn an_endless_error_body_is_read_only_in_part() {
        for (route, status) in
            [("/ipfs/{cid}", StatusCode::BAD_GATEWAY), ("/api/v0/block/get", StatusCode::INTERNAL_SERVER_ERROR)]
        {
            let sent = Arc::new(AtomicU64::new(0));
            let s = sent.clone();
            let handler = move || {
                let s = s.clone();
                async move { endless_error(status, s) }
            };
            let app = Router::new().route(route, axum::routing::get(handler.clone()).post(handler));
            let url = serve(app).await;
            let source = if route.starts_with("/ipfs") { Source::Gateway(url) } else { Source::Kubo(url) };
            let fetcher = Fetcher::new(vec![source], 1 << 20, Duration::from_secs(60));
            let cid = jejak_core::cid::raw_cid(b"wanted");
            let err = fetcher.fetch(&cid).await.unwrap_err();
            assert!(matches!(err, Error::Source { .. }), "{route}: {err}");
            assert!(err.to_string().contains(&format!("HTTP {status}")), "{route}: {err}");
            // What the server got out before the client hung up: the first chunk and what the
            // socket buffers took, far from the unending body (or the 1 MiB object cap).
            tokio::time::sleep(Duration::from_millis(200)).await;
            let n = sent.load(Ordering::Relaxed);
            assert!(n < 16 << 20, "{route}: the fetcher read {n} bytes of an error body");
        }
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let block = b"the block the redirect points to".to_vec();
        let cid = jejak_core::cid::raw_cid(&block);
        let hits = Arc::new(AtomicU64::new(0));
        let h = hits.clone();
        let elsewhere = serve(Router::new().fallback(move || {
            let (h, block) = (h.clone(), block.clone());
            async move {
                h.fetch_add(1, Ordering::Relaxed);
                block
            }
        }))
        .await;
        let target = format!("{elsewhere}/ipfs/{cid}?format=raw");
        let redirecting = serve(Router::new().fallback(move || {
            let target = target.clone();
            async move { (StatusCode::FOUND, [(header::LOCATION, target)]).into_response() }
        }))
        .await;
        for source in [Source::Gateway(redirecting.clone()), Source::Kubo(redirecting.clone())] {
            let fetcher = Fetcher::new(vec![source], 1 << 20, Duration::from_secs(10));
            let err = fetcher.fetch(&cid).await.unwrap_err();
            assert!(err.to_string().contains("redirects are not followed"), "{err}");
        }
        let kubo = Kubo::new(redirecting, Duration::from_secs(10));
        assert!(kubo.put_and_pin(b"x").await.is_err());
        assert_eq!(hits.load(Ordering::Relaxed), 0, "the redirect target was never asked");
    }
}
