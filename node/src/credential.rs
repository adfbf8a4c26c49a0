//! `jejak credential verify FILE`: checks a credential offline (proof, validity period, and
//! revocation against a status list credential saved beside it), with no node involved.

use std::path::PathBuf;

use anyhow::Context as _;
use jejak_credential::credential::{read_status_list, verify};
use jejak_credential::{Outcome, StatusAnswer};
use serde_json::Value;

use crate::output::line;

/// `jejak credential ...`.
#[derive(Debug, clap::Subcommand)]
pub enum CredentialCommand {
    /// Verify a credential offline; exits non-zero unless it is valid.
    Verify {
        /// The credential (JSON: the VC itself, or the answer of `POST /v1/credentials`).
        file: PathBuf,
        /// The status list credential its `credentialStatus` names (saved from
        /// `GET /v1/credentials/status/{list}`); without it revocation is not checked and the
        /// credential is not reported valid.
        #[arg(long)]
        status_list: Option<PathBuf>,
        /// The issuer DID to trust (`did:key:...`); without it any issuer whose proof holds is
        /// reported, not trusted.
        #[arg(long)]
        issuer: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn read_json(path: &PathBuf) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// Runs a credential command.
pub fn run(cmd: CredentialCommand) -> anyhow::Result<()> {
    let CredentialCommand::Verify { file, status_list, issuer, json } = cmd;
    let mut vc = read_json(&file)?;
    if let Some(inner) = vc.get("credential").filter(|c| c.is_object()) {
        vc = inner.clone();
    }
    let vc_issuer = vc.get("issuer").and_then(Value::as_str).unwrap_or_default().to_owned();
    let list = status_list.as_ref().map(read_json).transpose()?;
    let v = verify(&vc, time::OffsetDateTime::now_utc(), issuer.as_deref(), |entry| match &list {
        None => StatusAnswer::Unknown("no status list given (--status-list FILE)".into()),
        Some(l) if l.get("id").and_then(Value::as_str) != Some(entry.list_url.as_str()) => {
            StatusAnswer::Unknown(format!("the status list given is not {}", entry.list_url))
        }
        Some(l) => match read_status_list(l, &vc_issuer) {
            Err(e) => StatusAnswer::Unknown(format!("status list: {e}")),
            Ok(bits) => match bits.get(entry.index as usize) {
                Some(true) => StatusAnswer::Revoked,
                Some(false) => StatusAnswer::Active,
                None => StatusAnswer::Unknown(format!("index {} is outside the list", entry.index)),
            },
        },
    });
    if json {
        line(serde_json::to_string_pretty(&v)?);
    } else {
        for c in &v.checks {
            let mark = match c.outcome {
                Outcome::Pass => "pass",
                Outcome::Fail => "FAIL",
                Outcome::NotChecked => "not checked",
            };
            line(format!("{:<12} {mark:<12} {}", c.check, c.detail));
        }
        line(if v.valid { "credential valid" } else { "credential NOT valid" });
    }
    if v.valid { Ok(()) } else { anyhow::bail!("credential not valid") }
}
