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
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .expect("HTTP client builds");
        Self { sources, http, max_size }
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
        if !status.is_success() {
            // Kubo answers 500 with "block was not found locally" for a missing block.
            let body = resp.text().await.unwrap_or_default();
            if body.contains("not found") {
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
        let http = reqwest::Client::builder().timeout(timeout).build().expect("HTTP client builds");
        Self { base: base.into(), http }
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
        let resp = self
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
        let put: Put = resp
            .json()
            .await
            .map_err(|e| Error::Source { source_name: name.clone(), message: format!("bad answer: {e}") })?;
        let got = cid::parse(&put.key)?;
        if got != expected {
            return Err(Error::Mismatch { cid: expected.to_string(), source_name: name });
        }
        Ok(expected)
    }
}
