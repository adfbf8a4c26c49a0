//! The jejak reputation credential (W3C Verifiable Credentials 2.0) and the status list
//! credential that revokes it, and their verification with a report of every check.

use ed25519_dalek::SigningKey;
use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::did::{controller_of, did_key, verification_method};
use crate::proof::{self, ASSERTION_METHOD, ProofOptions};
use crate::status::StatusList;
use crate::{Error, Result};

/// The VC 2.0 base context; its `@vocab` covers jejak's issuer-dependent terms.
pub const VC_CONTEXT_V2: &str = "https://www.w3.org/ns/credentials/v2";
/// `type` of a reputation credential, besides `VerifiableCredential`.
pub const REPUTATION_TYPE: &str = "JejakReputationCredential";
/// `type` of a status list credential, besides `VerifiableCredential`.
pub const STATUS_LIST_TYPE: &str = "BitstringStatusListCredential";

/// What a reputation credential says about a worker, as of one published epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReputationSummary {
    /// The worker's identity commitment (decimal field element).
    pub worker: String,
    /// EVM chain the epoch root is published on.
    pub chain_id: u64,
    /// Epoch.
    pub epoch: i64,
    /// Scoring time, unix seconds.
    pub as_of: i64,
    /// Scoring parameters version.
    pub params_version: i64,
    /// Reputation, 0-1000.
    pub reputation: i64,
    /// Completed gigs.
    pub gigs: i64,
    /// Credit score, 300-850.
    pub credit: i64,
    /// Credit tier, A-E.
    pub tier: String,
    /// Root of the epoch's snapshot, `0x` + 64 hex digits.
    pub root: String,
}

/// Where a credential's revocation bit is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRef {
    /// URL of the status list credential.
    pub list_url: String,
    /// Position in the list.
    pub index: u64,
}

/// Identity and validity of a credential being issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuance {
    /// `id`, e.g. `urn:uuid:...`.
    pub id: String,
    /// `validFrom`.
    pub valid_from: OffsetDateTime,
    /// `validUntil`.
    pub valid_until: OffsetDateTime,
    /// The revocation entry.
    pub status: StatusRef,
}

/// An XML Schema dateTime in UTC to the second, as VC 2.0 writes them.
pub fn datetime(t: OffsetDateTime) -> String {
    let t = in_utc(t.replace_nanosecond(0).unwrap_or(t));
    t.format(&Rfc3339).unwrap_or_default()
}

/// `t` in UTC. A time whose UTC date falls outside years 1-9999 (`9999-12-31T23:30:00-01:00`)
/// is clamped to the first or last representable second, which compares the same way against
/// any clock reading.
fn in_utc(t: OffsetDateTime) -> OffsetDateTime {
    t.checked_to_offset(time::UtcOffset::UTC).unwrap_or_else(|| {
        if t.offset().is_negative() {
            time::PrimitiveDateTime::MAX.replace_nanosecond(0).unwrap_or(time::PrimitiveDateTime::MAX).assume_utc()
        } else {
            time::PrimitiveDateTime::MIN.assume_utc()
        }
    })
}

fn sign(document: Value, key: &SigningKey, created: OffsetDateTime) -> Result<Value> {
    let options = ProofOptions {
        verification_method: verification_method(&key.verifying_key()),
        created: datetime(created),
        proof_purpose: ASSERTION_METHOD.into(),
    };
    proof::sign(&document, &options, key)
}

/// Issues a reputation credential signed by `key` (its `did:key` is the issuer).
pub fn reputation_credential(summary: &ReputationSummary, issuance: &Issuance, key: &SigningKey) -> Result<Value> {
    let s = summary;
    let as_of = OffsetDateTime::from_unix_timestamp(s.as_of).map_err(|e| Error::Malformed(e.to_string()))?;
    let doc = json!({
        "@context": [VC_CONTEXT_V2],
        "id": issuance.id,
        "type": ["VerifiableCredential", REPUTATION_TYPE],
        "issuer": did_key(&key.verifying_key()),
        "validFrom": datetime(issuance.valid_from),
        "validUntil": datetime(issuance.valid_until),
        "credentialSubject": {
            "id": format!("urn:jejak:worker:{}", s.worker),
            "type": "JejakReputationSummary",
            "chainId": s.chain_id,
            "epoch": s.epoch,
            "asOf": datetime(as_of),
            "paramsVersion": s.params_version,
            "reputationScore": s.reputation,
            "completedGigs": s.gigs,
            "creditScore": s.credit,
            "creditTier": s.tier,
            "snapshotRoot": s.root,
        },
        "credentialStatus": {
            "id": format!("{}#{}", issuance.status.list_url, issuance.status.index),
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": issuance.status.index.to_string(),
            "statusListCredential": issuance.status.list_url,
        },
    });
    sign(doc, key, issuance.valid_from)
}

/// The status list credential at `list_url`, signed by `key`.
pub fn status_list_credential(
    list_url: &str,
    list: &StatusList,
    now: OffsetDateTime,
    key: &SigningKey,
) -> Result<Value> {
    let doc = json!({
        "@context": [VC_CONTEXT_V2],
        "id": list_url,
        "type": ["VerifiableCredential", STATUS_LIST_TYPE],
        "issuer": did_key(&key.verifying_key()),
        "validFrom": datetime(now),
        "credentialSubject": {
            "id": format!("{list_url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": list.encode(),
        },
    });
    sign(doc, key, now)
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Checked and satisfied.
    Pass,
    /// Checked and not satisfied.
    Fail,
    /// Could not be checked with what the verifier has (said in the detail).
    NotChecked,
}

/// One check made on a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable name: `format`, `proof`, `issuer`, `valid_from`, `valid_until`, `status`.
    pub check: &'static str,
    /// What came out.
    pub outcome: Outcome,
    /// Why.
    pub detail: String,
}

impl Check {
    fn new(check: &'static str, outcome: Outcome, detail: impl Into<String>) -> Self {
        Self { check, outcome, detail: detail.into() }
    }
}

/// A credential's `credentialStatus` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// `statusListCredential`.
    pub list_url: String,
    /// `statusListIndex`.
    pub index: u64,
}

/// What a status lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusAnswer {
    /// The bit is clear.
    Active,
    /// The bit is set.
    Revoked,
    /// The verifier cannot tell (no list, a foreign list...).
    Unknown(String),
}

/// The checks made on a credential, and whether it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// True when no check failed and the proof and status were both checked.
    pub valid: bool,
    /// Every check, in order.
    pub checks: Vec<Check>,
}

/// The status entry of a credential, if it has a well-formed one.
pub fn status_entry(vc: &Value) -> Option<StatusEntry> {
    let s = vc.get("credentialStatus")?;
    if s.get("type")?.as_str()? != "BitstringStatusListEntry" || s.get("statusPurpose")?.as_str()? != "revocation" {
        return None;
    }
    Some(StatusEntry {
        list_url: s.get("statusListCredential")?.as_str()?.to_owned(),
        index: s.get("statusListIndex")?.as_str()?.parse().ok()?,
    })
}

fn parse_time(v: &Value) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(v.as_str()?, &Rfc3339).ok().map(in_utc)
}

/// A date-time member (`validFrom`, `validUntil`) as a time in UTC; None when it is not an
/// RFC 3339 date-time. Times past the calendar in UTC are clamped as [`datetime`] explains.
pub fn read_datetime(v: &Value) -> Option<OffsetDateTime> {
    parse_time(v)
}

/// The `credentialStatus` member as found.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StatusField {
    Absent,
    Malformed,
    Entry(StatusEntry),
}

/// What is checked of a credential once and for all (shape, proof, issuer), and what the checks
/// that depend on the time and on the status list need. A verifier may keep it for a credential
/// it sees again (keyed by the credential's bytes) and only [`Examined::conclude`] each time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Examined {
    checks: Vec<Check>,
    well_formed: bool,
    proof_ok: bool,
    /// None: absent; Some(None): not a date-time.
    valid_from: Option<Option<OffsetDateTime>>,
    valid_until: Option<Option<OffsetDateTime>>,
    status: StatusField,
}

fn time_member(vc: &Value, name: &str) -> Option<Option<OffsetDateTime>> {
    vc.get(name).map(parse_time)
}

/// Checks shape, proof and issuer (when `trusted_issuer` is given).
pub fn examine(vc: &Value, trusted_issuer: Option<&str>) -> Examined {
    use Outcome::*;
    let mut checks = Vec::with_capacity(6);
    let context_ok = vc.get("@context").and_then(|c| c.get(0)).and_then(Value::as_str) == Some(VC_CONTEXT_V2);
    let type_ok = vc
        .get("type")
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|x| x.as_str() == Some("VerifiableCredential")));
    let issuer = vc.get("issuer").and_then(Value::as_str);
    let subject_ok = vc.get("credentialSubject").is_some_and(Value::is_object);
    let status = match (vc.get("credentialStatus"), status_entry(vc)) {
        (None, _) => StatusField::Absent,
        (Some(_), None) => StatusField::Malformed,
        (Some(_), Some(e)) => StatusField::Entry(e),
    };
    let mut out = Examined {
        checks: Vec::new(),
        well_formed: false,
        proof_ok: false,
        valid_from: time_member(vc, "validFrom"),
        valid_until: time_member(vc, "validUntil"),
        status,
    };
    let Some(issuer) = issuer.filter(|_| context_ok && type_ok && subject_ok) else {
        checks.push(Check::new(
            "format",
            Fail,
            "not a VC 2.0 credential: needs @context starting with the v2 context, type VerifiableCredential, \
             a string issuer and a credentialSubject object",
        ));
        out.checks = checks;
        return out;
    };
    checks.push(Check::new("format", Pass, "W3C Verifiable Credential 2.0"));
    out.well_formed = true;
    out.proof_ok = match proof::verify(vc) {
        Ok(p) if controller_of(&p.verification_method) != issuer => {
            checks.push(Check::new("proof", Fail, "the proof's key does not belong to the issuer"));
            false
        }
        Ok(p) if p.proof_purpose != ASSERTION_METHOD => {
            checks.push(Check::new("proof", Fail, "the proof's purpose is not assertionMethod"));
            false
        }
        Ok(p) => {
            checks.push(Check::new("proof", Pass, format!("eddsa-jcs-2022 signature by {}", p.verification_method)));
            true
        }
        Err(e) => {
            checks.push(Check::new("proof", Fail, e.to_string()));
            false
        }
    };
    match trusted_issuer {
        Some(t) if t == issuer => checks.push(Check::new("issuer", Pass, format!("issued by {t}"))),
        Some(t) => checks.push(Check::new("issuer", Fail, format!("issued by {issuer}, not by {t}"))),
        None => checks.push(Check::new("issuer", NotChecked, format!("issued by {issuer}; no trusted issuer given"))),
    }
    out.checks = checks;
    out
}

impl Examined {
    /// The status entry to look up: only for a credential whose proof holds, so a forged entry
    /// cannot make the verifier fetch anything.
    pub fn status_entry(&self) -> Option<&StatusEntry> {
        match &self.status {
            StatusField::Entry(e) if self.proof_ok => Some(e),
            _ => None,
        }
    }

    /// Adds the validity period at `now` and the revocation answer `status` gives.
    pub fn conclude(&self, now: OffsetDateTime, status: impl FnOnce(&StatusEntry) -> StatusAnswer) -> Verification {
        use Outcome::*;
        let mut checks = self.checks.clone();
        if !self.well_formed {
            return Verification { valid: false, checks };
        }
        match self.valid_from {
            None => checks.push(Check::new("valid_from", Pass, "no validFrom")),
            Some(Some(t)) if t <= now => {
                checks.push(Check::new("valid_from", Pass, format!("valid from {}", datetime(t))))
            }
            Some(Some(t)) => checks.push(Check::new("valid_from", Fail, format!("not valid before {}", datetime(t)))),
            Some(None) => checks.push(Check::new("valid_from", Fail, "validFrom is not a date-time")),
        }
        match self.valid_until {
            None => checks.push(Check::new("valid_until", Pass, "no validUntil")),
            Some(Some(t)) if now < t => {
                checks.push(Check::new("valid_until", Pass, format!("valid until {}", datetime(t))))
            }
            Some(Some(t)) => checks.push(Check::new("valid_until", Fail, format!("expired at {}", datetime(t)))),
            Some(None) => checks.push(Check::new("valid_until", Fail, "validUntil is not a date-time")),
        }
        let status_checked = match &self.status {
            StatusField::Absent => {
                checks.push(Check::new("status", Pass, "no credentialStatus: cannot be revoked"));
                true
            }
            StatusField::Malformed => {
                checks.push(Check::new(
                    "status",
                    Fail,
                    "credentialStatus is not a revocation BitstringStatusListEntry",
                ));
                true
            }
            StatusField::Entry(_) if !self.proof_ok => {
                checks.push(Check::new("status", NotChecked, "not looked up: the proof failed"));
                false
            }
            StatusField::Entry(entry) => match status(entry) {
                StatusAnswer::Active => {
                    checks.push(Check::new(
                        "status",
                        Pass,
                        format!("not revoked ({}#{})", entry.list_url, entry.index),
                    ));
                    true
                }
                StatusAnswer::Revoked => {
                    checks.push(Check::new("status", Fail, format!("revoked ({}#{})", entry.list_url, entry.index)));
                    true
                }
                StatusAnswer::Unknown(why) => {
                    checks.push(Check::new("status", NotChecked, why));
                    false
                }
            },
        };
        let valid = self.proof_ok && status_checked && checks.iter().all(|c| c.outcome != Fail);
        Verification { valid, checks }
    }
}

/// Verifies a credential at `now`: shape, proof, issuer (when `trusted_issuer` is given),
/// validity period, and revocation through `status` (which sees the entry only if the proof
/// holds). [`examine`] then [`Examined::conclude`].
pub fn verify(
    vc: &Value,
    now: OffsetDateTime,
    trusted_issuer: Option<&str>,
    status: impl FnOnce(&StatusEntry) -> StatusAnswer,
) -> Verification {
    examine(vc, trusted_issuer).conclude(now, status)
}

/// Reads a status list credential: its proof must hold and its issuer be `issuer`.
pub fn read_status_list(list_vc: &Value, issuer: &str) -> Result<StatusList> {
    proof::verify(list_vc).map_err(|e| Error::InvalidStatusList(format!("proof: {e}")))?;
    if list_vc.get("issuer").and_then(Value::as_str) != Some(issuer) {
        return Err(Error::InvalidStatusList("issued by someone else than the credential".into()));
    }
    let is_list = list_vc
        .get("type")
        .and_then(Value::as_array)
        .is_some_and(|t| t.iter().any(|x| x.as_str() == Some(STATUS_LIST_TYPE)));
    let encoded = list_vc.pointer("/credentialSubject/encodedList").and_then(Value::as_str);
    match (is_list, encoded) {
        (true, Some(e)) => StatusList::decode(e),
        _ => Err(Error::InvalidStatusList("not a BitstringStatusListCredential with an encodedList".into())),
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[42; 32])
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn issue() -> Value {
        let summary = ReputationSummary {
            worker: "12345".into(),
            chain_id: 31337,
            epoch: 7,
            as_of: 1_799_990_000,
            params_version: 1,
            reputation: 742,
            gigs: 57,
            credit: 701,
            tier: "B".into(),
            root: format!("0x{}", "ab".repeat(32)),
        };
        let issuance = Issuance {
            id: "urn:uuid:0190d5b2-0000-7000-8000-000000000001".into(),
            valid_from: now(),
            valid_until: now() + Duration::days(30),
            status: StatusRef { list_url: "http://node.example/v1/credentials/status/1".into(), index: 5 },
        };
        reputation_credential(&summary, &issuance, &key()).unwrap()
    }

    fn outcome(v: &Verification, name: &str) -> Outcome {
        v.checks.iter().find(|c| c.check == name).unwrap().outcome
    }

    #[test]
    fn issued_credential_verifies_until_it_expires_or_is_revoked() {
        let vc = issue();
        let did = did_key(&key().verifying_key());
        let at = now() + Duration::days(1);
        let v = verify(&vc, at, Some(&did), |e| {
            assert_eq!(e.index, 5);
            StatusAnswer::Active
        });
        assert!(v.valid, "{v:?}");
        assert!(!verify(&vc, at, Some(&did), |_| StatusAnswer::Revoked).valid);
        let late = verify(&vc, now() + Duration::days(31), Some(&did), |_| StatusAnswer::Active);
        assert_eq!(outcome(&late, "valid_until"), Outcome::Fail);
        let early = verify(&vc, now() - Duration::days(1), Some(&did), |_| StatusAnswer::Active);
        assert_eq!(outcome(&early, "valid_from"), Outcome::Fail);
        let foreign = verify(&vc, at, Some("did:key:z6MkOther"), |_| StatusAnswer::Active);
        assert_eq!(outcome(&foreign, "issuer"), Outcome::Fail);
        let unknown = verify(&vc, at, None, |_| StatusAnswer::Unknown("offline".into()));
        assert!(!unknown.valid, "an unchecked status is not a valid credential");
    }

    /// Every leaf value of the credential, changed, breaks it.
    #[test]
    fn altering_any_field_fails() {
        let vc = issue();
        let did = did_key(&key().verifying_key());
        let at = now() + Duration::days(1);
        let mut paths = Vec::new();
        collect_leaves(&vc, String::new(), &mut paths);
        assert!(paths.len() > 25, "{paths:?}");
        for path in paths {
            let mut altered = vc.clone();
            let leaf = altered.pointer_mut(&path).unwrap();
            *leaf = match leaf.clone() {
                Value::String(s) => Value::String(format!("{s}x")),
                Value::Number(n) => json!(n.as_i64().unwrap_or(0) + 1),
                other => json!([other]),
            };
            let v = verify(&altered, at, Some(&did), |_| StatusAnswer::Active);
            assert!(!v.valid, "altering {path} went unnoticed");
        }
    }

    fn collect_leaves(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    collect_leaves(x, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    collect_leaves(x, format!("{at}/{i}"), out);
                }
            }
            _ => out.push(at),
        }
    }

    /// Times past year 9999 once moved to UTC, read from a credential: a verdict, not a panic.
    #[test]
    fn validity_times_beyond_the_calendar_are_judged_not_a_panic() {
        let did = did_key(&key().verifying_key());
        let at = now() + Duration::days(1);
        for (member, text, expected) in [
            ("validUntil", "9999-12-31T23:59:59-01:00", Outcome::Pass),
            ("validUntil", "9999-12-31T23:59:59-23:59", Outcome::Pass),
            ("validUntil", "0000-01-01T00:00:00+23:59", Outcome::Fail),
            ("validFrom", "9999-12-31T23:59:59-01:00", Outcome::Fail),
            ("validFrom", "0000-01-01T00:00:00+01:00", Outcome::Pass),
        ] {
            let mut vc = issue();
            vc[member] = json!(text);
            let v = verify(&vc, at, Some(&did), |_| StatusAnswer::Active);
            let check = if member == "validUntil" { "valid_until" } else { "valid_from" };
            assert_eq!(outcome(&v, check), expected, "{member} = {text}: {v:?}");
            assert!(!v.valid, "the proof no longer holds once {member} changed");
        }
        assert_eq!(
            datetime(OffsetDateTime::parse("9999-12-31T23:59:59-01:00", &Rfc3339).unwrap()),
            "9999-12-31T23:59:59Z"
        );
    }

    proptest::proptest! {
        /// Any RFC 3339 time, any offset, as validFrom or validUntil: verification answers.
        #[test]
        fn any_validity_time_verifies_without_panicking(
            year in 0i32..=9999, month in 1u8..=12, day in 1u8..=28, h in 0u8..24, m in 0u8..60, s in 0u8..60,
            off_h in 0u8..24, off_m in 0u8..60, negative in proptest::bool::ANY, until in proptest::bool::ANY,
        ) {
            let sign = if negative { '-' } else { '+' };
            let text = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}{sign}{off_h:02}:{off_m:02}");
            let mut vc = issue();
            vc[if until { "validUntil" } else { "validFrom" }] = json!(text);
            let v = verify(&vc, now(), None, |_| StatusAnswer::Active);
            proptest::prop_assert!(!v.valid, "the proof no longer holds");
            let check = if until { "valid_until" } else { "valid_from" };
            proptest::prop_assert!(v.checks.iter().any(|c| c.check == check), "{check} was judged");
        }
    }

    #[test]
    fn status_list_credential_round_trips_and_is_bound_to_its_issuer() {
        let mut list = StatusList::new();
        list.set(5, true);
        let url = "http://node.example/v1/credentials/status/1";
        let vc = status_list_credential(url, &list, now(), &key()).unwrap();
        let did = did_key(&key().verifying_key());
        assert_eq!(read_status_list(&vc, &did).unwrap().get(5), Some(true));
        assert!(read_status_list(&vc, "did:key:z6MkOther").is_err());
        let mut forged = vc;
        forged["credentialSubject"]["encodedList"] = json!(StatusList::new().encode());
        assert!(read_status_list(&forged, &did).is_err());
    }
}
