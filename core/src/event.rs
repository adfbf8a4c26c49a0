//! Work events: what a platform tells jejak about a worker's track record.
//!
//! An event arrives as a JSON object `{type, worker, occurred_at, event_id?, data}`. It is parsed
//! in two steps so that each way of being wrong has its own error: first the envelope (unknown
//! fields refused), then `data` against the schema of its `type`. The attestation leaf commits to
//! the RFC 8785 form of the object exactly as accepted, so a platform can recompute it.

use alloy_primitives::U256;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Error, Result, jcs};

/// The BN254 scalar field modulus: identity commitments are field elements below it.
pub const BN254_MODULUS: U256 =
    U256::from_limbs([0x43e1f593f0000001, 0x2833e84879b97091, 0xb85045b68181585d, 0x30644e72e131a029]);

/// How far in the future an event's `occurred_at` may lie (clock skew allowance), in seconds.
pub const MAX_FUTURE_SKEW_SECS: i64 = 300;

/// Longest accepted identifier (worker reference, task id, event id...).
pub const MAX_ID_LEN: usize = 128;

/// The type of a work event, with its wire name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// A task (ride, delivery, gig, contribution) was completed.
    TaskCompleted,
    /// A task was cancelled.
    TaskCancelled,
    /// A customer rated a completed task.
    Review,
    /// Another worker vouched for this one.
    VouchSubmitted,
    /// Proof-of-reality evidence was recorded for a task.
    PorEvidence,
    /// A dispute about a task was resolved.
    DisputeResolved,
    /// The platform account was linked to a jejak identity commitment.
    AccountLinked,
    /// A savings contribution was made.
    SavingsContribution,
    /// A loan instalment or loan was repaid.
    LoanRepaid,
    /// A loan was defaulted on.
    LoanDefaulted,
}

impl EventType {
    /// Every event type, in a stable order.
    pub const ALL: [EventType; 10] = [
        Self::TaskCompleted,
        Self::TaskCancelled,
        Self::Review,
        Self::VouchSubmitted,
        Self::PorEvidence,
        Self::DisputeResolved,
        Self::AccountLinked,
        Self::SavingsContribution,
        Self::LoanRepaid,
        Self::LoanDefaulted,
    ];

    /// The wire name, e.g. `task_completed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TaskCompleted => "task_completed",
            Self::TaskCancelled => "task_cancelled",
            Self::Review => "review",
            Self::VouchSubmitted => "vouch_submitted",
            Self::PorEvidence => "por_evidence",
            Self::DisputeResolved => "dispute_resolved",
            Self::AccountLinked => "account_linked",
            Self::SavingsContribution => "savings_contribution",
            Self::LoanRepaid => "loan_repaid",
            Self::LoanDefaulted => "loan_defaulted",
        }
    }

    /// Parses a wire name; `contribution_created` is accepted as an alias of `task_completed`.
    pub fn parse(s: &str) -> Option<Self> {
        if s == "contribution_created" {
            return Some(Self::TaskCompleted);
        }
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The envelope every event shares, as sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    /// Event type wire name.
    #[serde(rename = "type")]
    pub kind: String,
    /// The platform's own id for the event, unique per platform when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// The worker's account reference on the platform (pseudonymous).
    pub worker: String,
    /// When it happened, RFC 3339.
    pub occurred_at: String,
    /// Type-specific payload.
    #[serde(default)]
    pub data: serde_json::Value,
}

/// Who cancelled a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The worker.
    Worker,
    /// The customer.
    Customer,
    /// The platform.
    Platform,
}

/// How a dispute ended for the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeOutcome {
    /// Resolved in the worker's favour.
    WorkerWon,
    /// Resolved against the worker.
    WorkerLost,
    /// Settled or withdrawn.
    Settled,
}

/// A verdict on proof-of-reality evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// All rules passed.
    Pass,
    /// Some rules warned.
    Warn,
    /// A rule failed.
    Fail,
}

/// `task_completed` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskCompleted {
    /// The platform's task id.
    pub task_id: String,
    /// Kind of work (ride, delivery, cleaning...).
    #[serde(default)]
    pub category: Option<String>,
    /// Earnings for the task in minor currency units.
    #[serde(default)]
    pub earnings_minor: Option<i64>,
    /// ISO 4217 currency of the earnings.
    #[serde(default)]
    pub currency: Option<String>,
    /// Duration of the task in seconds.
    #[serde(default)]
    pub duration_s: Option<u32>,
    /// Whether the task was done on time.
    #[serde(default)]
    pub on_time: Option<bool>,
}

/// `task_cancelled` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskCancelled {
    /// The platform's task id.
    pub task_id: String,
    /// Who cancelled.
    pub cancelled_by: Party,
}

/// `review` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// The reviewed task.
    pub task_id: String,
    /// The rating, between 0 and `scale`.
    pub rating: f64,
    /// The top of the platform's rating scale (5 for five stars).
    #[serde(default = "default_scale")]
    pub scale: u32,
}

fn default_scale() -> u32 {
    5
}

impl Review {
    /// The rating in basis points of the scale (0..=10,000), the integer form scoring uses.
    pub fn rating_bp(&self) -> u32 {
        ((self.rating * 10_000.0) / f64::from(self.scale)).round() as u32
    }
}

/// `vouch_submitted` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VouchSubmitted {
    /// The vouching worker's account reference on the same platform.
    pub voucher: String,
}

/// `por_evidence` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PorEvidence {
    /// The task the evidence is for.
    pub task_id: String,
    /// SHA-256 of the evidence file, hex.
    pub sha256: String,
    /// The verdict of the evidence rules, when known.
    #[serde(default)]
    pub verdict: Option<Verdict>,
}

/// `dispute_resolved` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisputeResolved {
    /// The disputed task.
    #[serde(default)]
    pub task_id: Option<String>,
    /// How it ended for the worker.
    pub outcome: DisputeOutcome,
}

/// `account_linked` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountLinked {
    /// Poseidon commitment of the worker's identity, decimal, below the BN254 modulus.
    pub identity_commitment: String,
    /// The worker's consent to this link: a token only the holder of the identity's secret can
    /// sign. Checked here for its form; its signature, platform, account, chain, expiry and
    /// single use are checked by the node that accepts the event.
    pub link_token: LinkToken,
}

/// Largest integer a link token carries (2^53 - 1): RFC 8785 writes numbers as IEEE doubles,
/// so anything larger would not survive canonicalisation intact.
pub const MAX_TOKEN_INTEGER: u64 = (1 << 53) - 1;

/// A link token as it travels in JSON: what the worker signed and the opening of their
/// commitment to the signing key. The signed bytes are a fixed binary layout of the claims
/// (`jejak_zk_circuits::link::LinkClaims::signing_bytes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkToken {
    /// Format version, 1.
    pub v: u8,
    /// Chain id of the registry the platform is registered in.
    pub chain_id: u64,
    /// The platform allowed to link.
    pub platform_id: u64,
    /// The platform account (the event's `worker`).
    pub account: String,
    /// The identity commitment, decimal.
    pub commitment: String,
    /// Unix seconds after which the token is refused.
    pub expires_at: u64,
    /// 16 random bytes, 32 lowercase hex digits: each token links once.
    pub nonce: String,
    /// `Poseidon(secret)`, decimal: the inner half of the commitment.
    pub inner: String,
    /// The Ed25519 link key, 64 lowercase hex digits.
    pub link_key: String,
    /// Ed25519 signature of the claims, 128 lowercase hex digits.
    pub signature: String,
}

impl LinkToken {
    /// Checks the token's form: version, integer ranges, lengths and encodings (not the
    /// signature, which needs Poseidon and Ed25519).
    pub fn check_form(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidLinkToken(m));
        if self.v != 1 {
            return bad(format!("v: version {} is not supported (1 is)", self.v));
        }
        for (name, n) in
            [("chain_id", self.chain_id), ("platform_id", self.platform_id), ("expires_at", self.expires_at)]
        {
            if n == 0 || n > MAX_TOKEN_INTEGER {
                return bad(format!("{name}: must be 1 to {MAX_TOKEN_INTEGER}"));
            }
        }
        if self.account.is_empty() || self.account.len() > MAX_ID_LEN {
            return bad(format!("account: must be 1 to {MAX_ID_LEN} bytes"));
        }
        for (name, value) in [("commitment", &self.commitment), ("inner", &self.inner)] {
            if let Err(e) = parse_field_element(value) {
                return bad(format!("{name}: {e}"));
            }
        }
        for (name, value, len) in
            [("nonce", &self.nonce, 16), ("link_key", &self.link_key, 32), ("signature", &self.signature, 64)]
        {
            if !is_lower_hex(value, len) {
                return bad(format!("{name}: must be {} lowercase hex digits", 2 * len));
            }
        }
        Ok(())
    }
}

fn is_lower_hex(s: &str, bytes: usize) -> bool {
    s.len() == 2 * bytes && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `savings_contribution` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavingsContribution {
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO 4217 currency.
    pub currency: String,
}

/// `loan_repaid` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoanRepaid {
    /// The lender's loan id.
    pub loan_id: String,
    /// Amount repaid in minor units.
    pub amount_minor: i64,
    /// ISO 4217 currency.
    pub currency: String,
    /// Whether the repayment was on schedule.
    pub on_time: bool,
}

/// `loan_defaulted` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoanDefaulted {
    /// The lender's loan id.
    pub loan_id: String,
    /// Amount outstanding in minor units.
    pub amount_minor: i64,
    /// ISO 4217 currency.
    pub currency: String,
}

/// The typed payload of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventData {
    /// See [`TaskCompleted`].
    TaskCompleted(TaskCompleted),
    /// See [`TaskCancelled`].
    TaskCancelled(TaskCancelled),
    /// See [`Review`].
    Review(Review),
    /// See [`VouchSubmitted`].
    VouchSubmitted(VouchSubmitted),
    /// See [`PorEvidence`].
    PorEvidence(PorEvidence),
    /// See [`DisputeResolved`].
    DisputeResolved(DisputeResolved),
    /// See [`AccountLinked`].
    AccountLinked(AccountLinked),
    /// See [`SavingsContribution`].
    SavingsContribution(SavingsContribution),
    /// See [`LoanRepaid`].
    LoanRepaid(LoanRepaid),
    /// See [`LoanDefaulted`].
    LoanDefaulted(LoanDefaulted),
}

/// A validated work event.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkEvent {
    /// The event as sent.
    pub raw: RawEvent,
    /// Its type.
    pub kind: EventType,
    /// Its typed payload.
    pub data: EventData,
    /// `occurred_at` as a timestamp.
    pub occurred_at: OffsetDateTime,
}

impl WorkEvent {
    /// Parses and validates one event object. `now` bounds how far in the future it may be.
    pub fn from_value(value: serde_json::Value, now: OffsetDateTime) -> Result<Self> {
        let raw: RawEvent = serde_json::from_value(value).map_err(|e| Error::InvalidEvent(format!("envelope: {e}")))?;
        Self::from_raw(raw, now)
    }

    /// Validates an already-parsed envelope.
    pub fn from_raw(raw: RawEvent, now: OffsetDateTime) -> Result<Self> {
        let kind = EventType::parse(&raw.kind).ok_or_else(|| Error::UnknownEventType(raw.kind.clone()))?;
        check_id("worker", &raw.worker)?;
        if let Some(id) = &raw.event_id {
            check_id("event_id", id)?;
        }
        let occurred_at = OffsetDateTime::parse(&raw.occurred_at, &time::format_description::well_known::Rfc3339)
            .map_err(|e| invalid(format!("occurred_at: not an RFC 3339 time ({e})")))?;
        if occurred_at.year() < 2000 {
            return Err(invalid("occurred_at: before the year 2000"));
        }
        if (occurred_at - now).whole_seconds() > MAX_FUTURE_SKEW_SECS {
            return Err(invalid("occurred_at: in the future"));
        }
        let data = parse_data(kind, raw.data.clone())?;
        Ok(Self { raw, kind, data, occurred_at })
    }

    /// The RFC 8785 canonical bytes of the event as accepted: what its attestation commits to.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        jcs::to_vec(&self.raw).expect("a parsed event serialises")
    }
}

fn parse_data(kind: EventType, data: serde_json::Value) -> Result<EventData> {
    fn de<T: serde::de::DeserializeOwned>(kind: EventType, v: serde_json::Value) -> Result<T> {
        serde_json::from_value(v).map_err(|e| invalid(format!("data of {kind}: {e}")))
    }
    let data = match kind {
        EventType::TaskCompleted => {
            let d: TaskCompleted = de(kind, data)?;
            check_id("data.task_id", &d.task_id)?;
            if let Some(c) = &d.category {
                check_id("data.category", c)?;
            }
            if let Some(e) = d.earnings_minor {
                if e < 0 {
                    return Err(invalid("data.earnings_minor: negative"));
                }
                check_currency(
                    d.currency.as_deref().ok_or_else(|| invalid("data.currency: required with earnings_minor"))?,
                )?;
            }
            EventData::TaskCompleted(d)
        }
        EventType::TaskCancelled => {
            let d: TaskCancelled = de(kind, data)?;
            check_id("data.task_id", &d.task_id)?;
            EventData::TaskCancelled(d)
        }
        EventType::Review => {
            let d: Review = de(kind, data)?;
            check_id("data.task_id", &d.task_id)?;
            if !(1..=100).contains(&d.scale) {
                return Err(invalid("data.scale: must be 1..=100"));
            }
            if !d.rating.is_finite() || d.rating < 0.0 || d.rating > f64::from(d.scale) {
                return Err(invalid("data.rating: must be between 0 and scale"));
            }
            EventData::Review(d)
        }
        EventType::VouchSubmitted => {
            let d: VouchSubmitted = de(kind, data)?;
            check_id("data.voucher", &d.voucher)?;
            EventData::VouchSubmitted(d)
        }
        EventType::PorEvidence => {
            let d: PorEvidence = de(kind, data)?;
            check_id("data.task_id", &d.task_id)?;
            let ok = d.sha256.len() == 64 && d.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !ok {
                return Err(invalid("data.sha256: must be 64 lowercase hex digits"));
            }
            EventData::PorEvidence(d)
        }
        EventType::DisputeResolved => {
            let d: DisputeResolved = de(kind, data)?;
            if let Some(t) = &d.task_id {
                check_id("data.task_id", t)?;
            }
            EventData::DisputeResolved(d)
        }
        EventType::AccountLinked => {
            // The token is read apart, so that its absence or form has its own error.
            let mut data = data;
            let token = data.as_object_mut().and_then(|o| o.remove("link_token"));
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Commitment {
                identity_commitment: String,
            }
            let d: Commitment = de(kind, data)?;
            parse_field_element(&d.identity_commitment)
                .map_err(|e| invalid(format!("data.identity_commitment: {e}")))?;
            let token = token.ok_or_else(|| {
                Error::InvalidLinkToken("data.link_token: required (the worker's consent to this link)".into())
            })?;
            let link_token: LinkToken =
                serde_json::from_value(token).map_err(|e| Error::InvalidLinkToken(format!("data.link_token: {e}")))?;
            link_token.check_form()?;
            EventData::AccountLinked(AccountLinked { identity_commitment: d.identity_commitment, link_token })
        }
        EventType::SavingsContribution => {
            let d: SavingsContribution = de(kind, data)?;
            check_amount(d.amount_minor)?;
            check_currency(&d.currency)?;
            EventData::SavingsContribution(d)
        }
        EventType::LoanRepaid => {
            let d: LoanRepaid = de(kind, data)?;
            check_id("data.loan_id", &d.loan_id)?;
            check_amount(d.amount_minor)?;
            check_currency(&d.currency)?;
            EventData::LoanRepaid(d)
        }
        EventType::LoanDefaulted => {
            let d: LoanDefaulted = de(kind, data)?;
            check_id("data.loan_id", &d.loan_id)?;
            check_amount(d.amount_minor)?;
            check_currency(&d.currency)?;
            EventData::LoanDefaulted(d)
        }
    };
    Ok(data)
}

/// Parses a decimal BN254 field element, refusing values at or above the modulus.
pub fn parse_field_element(s: &str) -> std::result::Result<U256, String> {
    if s.is_empty() || s.len() > 78 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be a decimal integer".into());
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err("must not have leading zeros".into());
    }
    let v = U256::from_str_radix(s, 10).map_err(|_| "out of range".to_string())?;
    if v >= BN254_MODULUS {
        return Err("must be below the BN254 scalar field modulus".into());
    }
    Ok(v)
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidEvent(msg.into())
}

fn check_id(field: &str, s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:@/-".contains(&b));
    if ok { Ok(()) } else { Err(invalid(format!("{field}: 1 to {MAX_ID_LEN} characters of A-Z a-z 0-9 . _ : @ / -"))) }
}

fn check_amount(amount: i64) -> Result<()> {
    if amount <= 0 {
        return Err(invalid("data.amount_minor: must be positive"));
    }
    Ok(())
}

fn check_currency(c: &str) -> Result<()> {
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(invalid("data.currency: must be an ISO 4217 code such as IDR"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

    fn completed() -> serde_json::Value {
        json!({
            "type": "task_completed",
            "worker": "driver-42",
            "occurred_at": "2026-11-25T10:00:00Z",
            "data": {"task_id": "ride-1", "earnings_minor": 25000, "currency": "IDR"}
        })
    }

    #[test]
    fn accepts_a_completed_task() {
        let e = WorkEvent::from_value(completed(), NOW).unwrap();
        assert_eq!(e.kind, EventType::TaskCompleted);
        assert!(matches!(e.data, EventData::TaskCompleted(ref d) if d.task_id == "ride-1"));
    }

    #[test]
    fn alias_contribution_created() {
        let mut v = completed();
        v["type"] = json!("contribution_created");
        assert_eq!(WorkEvent::from_value(v, NOW).unwrap().kind, EventType::TaskCompleted);
    }

    #[test]
    fn unknown_type_has_its_own_error() {
        let mut v = completed();
        v["type"] = json!("teleported");
        assert!(matches!(WorkEvent::from_value(v, NOW), Err(Error::UnknownEventType(t)) if t == "teleported"));
    }

    #[test]
    fn refuses_bad_fields() {
        let cases = [
            json!({"type": "task_completed", "worker": "", "occurred_at": "2026-11-25T10:00:00Z", "data": {"task_id": "t"}}),
            json!({"type": "task_completed", "worker": "w", "occurred_at": "yesterday", "data": {"task_id": "t"}}),
            json!({"type": "task_completed", "worker": "w", "occurred_at": "2027-11-25T10:00:00Z", "data": {"task_id": "t"}}),
            json!({"type": "task_completed", "worker": "w", "occurred_at": "2026-11-25T10:00:00Z", "data": {}}),
            json!({"type": "task_completed", "worker": "w", "occurred_at": "2026-11-25T10:00:00Z", "data": {"task_id": "t", "extra": 1}}),
            json!({"type": "task_completed", "worker": "w", "occurred_at": "2026-11-25T10:00:00Z", "data": {"task_id": "t"}, "surprise": true}),
            json!({"type": "review", "worker": "w", "occurred_at": "2026-11-25T10:00:00Z", "data": {"task_id": "t", "rating": 6}}),
            json!({"type": "account_linked", "worker": "w", "occurred_at": "2026-11-25T10:00:00Z",
                   "data": {"identity_commitment": "21888242871839275222246405745257275088548364400416034343698204186575808495617"}}),
            json!({"type": "savings_contribution", "worker": "w", "occurred_at": "2026-11-25T10:00:00Z", "data": {"amount_minor": -5, "currency": "IDR"}}),
        ];
        for v in cases {
            assert!(matches!(WorkEvent::from_value(v.clone(), NOW), Err(Error::InvalidEvent(_))), "{v}");
        }
    }

    fn token() -> serde_json::Value {
        json!({"v": 1, "chain_id": 31337, "platform_id": 1, "account": "w", "commitment": "7", "expires_at": 1_800_000_000u64,
               "nonce": "00".repeat(16), "inner": "5", "link_key": "ab".repeat(32), "signature": "cd".repeat(64)})
    }

    fn linked(token: Option<serde_json::Value>) -> serde_json::Value {
        let mut data = json!({"identity_commitment": "7"});
        if let Some(t) = token {
            data["link_token"] = t;
        }
        json!({"type": "account_linked", "worker": "w", "occurred_at": "2026-11-25T10:00:00Z", "data": data})
    }

    #[test]
    fn account_linked_needs_a_well_formed_link_token() {
        let e = WorkEvent::from_value(linked(Some(token())), NOW).unwrap();
        assert!(matches!(e.data, EventData::AccountLinked(ref d) if d.link_token.nonce == "00".repeat(16)));
        assert!(matches!(WorkEvent::from_value(linked(None), NOW), Err(Error::InvalidLinkToken(_))));
        let broken: [(&str, serde_json::Value); 12] = [
            ("v", json!(2)),
            ("chain_id", json!(0)),
            ("platform_id", json!(1u64 << 53)),
            ("expires_at", json!(u64::MAX)),
            ("expires_at", json!(-1)),
            ("account", json!("")),
            ("commitment", json!("21888242871839275222246405745257275088548364400416034343698204186575808495617")),
            ("inner", json!("01")),
            ("nonce", json!("00".repeat(15))),
            ("link_key", json!("AB".repeat(32))),
            ("signature", json!(12)),
            ("extra", json!(true)),
        ];
        for (field, value) in broken {
            let mut t = token();
            t[field] = value;
            assert!(matches!(WorkEvent::from_value(linked(Some(t)), NOW), Err(Error::InvalidLinkToken(_))), "{field}");
        }
        assert!(matches!(WorkEvent::from_value(linked(Some(json!("jlt1.abc"))), NOW), Err(Error::InvalidLinkToken(_))));
    }

    #[test]
    fn field_elements_stop_below_the_modulus() {
        let m = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
        assert_eq!(BN254_MODULUS.to_string(), m);
        assert!(parse_field_element(m).is_err());
        assert!(
            parse_field_element("21888242871839275222246405745257275088548364400416034343698204186575808495616")
                .is_ok()
        );
        assert!(parse_field_element("007").is_err());
        assert!(parse_field_element("0").is_ok());
    }

    #[test]
    fn rating_in_basis_points() {
        let r = Review { task_id: "t".into(), rating: 4.8, scale: 5 };
        assert_eq!(r.rating_bp(), 9600);
    }

    #[test]
    fn canonical_bytes_ignore_key_order_and_whitespace() {
        let a = WorkEvent::from_value(completed(), NOW).unwrap();
        let text = r#"{ "data": {"currency":"IDR","earnings_minor":25000,"task_id":"ride-1"},
            "occurred_at":"2026-11-25T10:00:00Z", "worker":"driver-42", "type":"task_completed" }"#;
        let b = WorkEvent::from_value(serde_json::from_str(text).unwrap(), NOW).unwrap();
        assert_eq!(a.canonical_bytes(), b.canonical_bytes());
    }
}
