//! Link tokens: a worker's consent to a platform linking one of its accounts to the worker's
//! identity (`account_linked`). [`issue`] signs one with an identity secret (the CLI for
//! worker-held secrets, `POST /v1/workers/{id}/link-tokens` for node-held ones); [`check`] is
//! what the node does before it stores an `account_linked` event: the commitment opens to the
//! link key, the key signed the claims, the claims name this chain, the sending platform, the
//! event's account and commitment, and the token has not expired nor expires further ahead than
//! [`MAX_LIFETIME_SECS`]. Single use is recorded in the event's transaction
//! (`jejak_store::links`).

use jejak_core::event::LinkToken as WireToken;
use jejak_zk_circuits::link::{LinkClaims, LinkToken, NONCE_LEN};
use jejak_zk_circuits::{Fr, fr_from_decimal, fr_to_decimal};
use rand::RngCore as _;

/// Longest a link token may stay valid: 30 days from when the node sees it.
pub const MAX_LIFETIME_SECS: u64 = 30 * 24 * 3600;
/// Lifetime of the tokens the node and the CLI issue when none is asked for: one day.
pub const DEFAULT_LIFETIME_SECS: u64 = 24 * 3600;

/// Why a link token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Malformed, forged, for another chain, platform, account or identity, or too long-lived.
    #[error("{0}")]
    Invalid(String),
    /// Past its expiry.
    #[error("the link token expired at {expires_at} (now {now})")]
    Expired {
        /// The token's expiry.
        expires_at: u64,
        /// The node's time.
        now: u64,
    },
}

impl Refusal {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Invalid(_) => "link_token_invalid",
            Refusal::Expired { .. } => "link_token_expired",
        }
    }
}

/// What a token must name to link: the node's chain, the sending platform and the event's
/// account and commitment.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The node's chain id.
    pub chain_id: u64,
    /// The platform sending the event.
    pub platform_id: u64,
    /// The event's `worker`.
    pub account: &'a str,
    /// The event's `identity_commitment`, decimal.
    pub commitment: &'a str,
}

/// A token that passed [`check`]: what its single use is recorded under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// The identity's link key.
    pub link_key: [u8; 32],
    /// The token's nonce.
    pub nonce: [u8; NONCE_LEN],
    /// The token's expiry, unix seconds.
    pub expires_at: u64,
}

/// Checks `token` for a link of `expected` at `now` (unix seconds): everything but single use.
/// Cheap checks first; the Poseidon hash and the signature only for a token that names the
/// right link.
pub fn check(token: &WireToken, expected: &Expected<'_>, now: u64) -> Result<Checked, Refusal> {
    let invalid = |m: String| Refusal::Invalid(m);
    token.check_form().map_err(|e| invalid(e.to_string()))?;
    if token.chain_id != expected.chain_id {
        return Err(invalid(format!(
            "the token is for chain {}, this node is on {}",
            token.chain_id, expected.chain_id
        )));
    }
    if token.platform_id != expected.platform_id {
        return Err(invalid(format!(
            "the token is for platform {}, not platform {}",
            token.platform_id, expected.platform_id
        )));
    }
    if token.account != expected.account {
        return Err(invalid("the token is for another account than the event's `worker`".into()));
    }
    if token.commitment != expected.commitment {
        return Err(invalid("the token is for another identity than the event's `identity_commitment`".into()));
    }
    if token.expires_at <= now {
        return Err(Refusal::Expired { expires_at: token.expires_at, now });
    }
    if token.expires_at - now > MAX_LIFETIME_SECS {
        return Err(invalid(format!("the token expires more than {MAX_LIFETIME_SECS} seconds from now")));
    }
    let parsed = from_wire(token).map_err(invalid)?;
    parsed.verify().map_err(|e| invalid(e.to_string()))?;
    Ok(Checked { link_key: parsed.link_key, nonce: parsed.claims.nonce, expires_at: token.expires_at })
}

/// Signs a link token with the identity `secret` for `account` of `platform_id` on `chain_id`,
/// valid for `lifetime_secs` from `now`, with a fresh random nonce.
pub fn issue(
    secret: &Fr,
    chain_id: u64,
    platform_id: u64,
    account: &str,
    now: u64,
    lifetime_secs: u64,
) -> Result<WireToken, Refusal> {
    if lifetime_secs == 0 || lifetime_secs > MAX_LIFETIME_SECS {
        return Err(Refusal::Invalid(format!("a link token lives 1 to {MAX_LIFETIME_SECS} seconds")));
    }
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let claims = LinkClaims {
        chain_id,
        platform_id,
        account: account.to_owned(),
        commitment: jejak_zk_circuits::identity_commitment(*secret),
        expires_at: now.saturating_add(lifetime_secs),
        nonce,
    };
    let token = LinkToken::issue(secret, claims).map_err(|e| Refusal::Invalid(e.to_string()))?;
    let wire = to_wire(&token);
    wire.check_form().map_err(|e| Refusal::Invalid(e.to_string()))?;
    Ok(wire)
}

/// The JSON form of a token.
pub fn to_wire(t: &LinkToken) -> WireToken {
    WireToken {
        v: 1,
        chain_id: t.claims.chain_id,
        platform_id: t.claims.platform_id,
        account: t.claims.account.clone(),
        commitment: fr_to_decimal(&t.claims.commitment),
        expires_at: t.claims.expires_at,
        nonce: hex::encode(t.claims.nonce),
        inner: fr_to_decimal(&t.inner),
        link_key: hex::encode(t.link_key),
        signature: hex::encode(t.signature),
    }
}

/// A token from its JSON form (whose form [`WireToken::check_form`] checked).
fn from_wire(w: &WireToken) -> Result<LinkToken, String> {
    fn bytes<const N: usize>(name: &str, s: &str) -> Result<[u8; N], String> {
        let v = hex::decode(s).map_err(|_| format!("{name}: not hex"))?;
        v.try_into().map_err(|_| format!("{name}: must be {N} bytes"))
    }
    let field = |name: &str, s: &str| fr_from_decimal(s).map_err(|e| format!("{name}: {e}"));
    Ok(LinkToken {
        claims: LinkClaims {
            chain_id: w.chain_id,
            platform_id: w.platform_id,
            account: w.account.clone(),
            commitment: field("commitment", &w.commitment)?,
            expires_at: w.expires_at,
            nonce: bytes("nonce", &w.nonce)?,
        },
        inner: field("inner", &w.inner)?,
        link_key: bytes("link_key", &w.link_key)?,
        signature: bytes("signature", &w.signature)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn secret() -> Fr {
        Fr::from(4242u64)
    }

    fn token() -> WireToken {
        issue(&secret(), 31337, 3, "rider-9", NOW, 3600).unwrap()
    }

    fn expected(t: &WireToken) -> Expected<'_> {
        Expected { chain_id: 31337, platform_id: 3, account: "rider-9", commitment: &t.commitment }
    }

    #[test]
    fn an_issued_token_checks_and_names_its_use() {
        let t = token();
        let c = check(&t, &expected(&t), NOW + 10).unwrap();
        assert_eq!(hex::encode(c.nonce), t.nonce);
        assert_eq!(c.expires_at, NOW + 3600);
        assert_ne!(token().nonce, t.nonce, "every token has its own nonce");
    }

    #[test]
    fn each_way_of_being_wrong_is_refused_with_its_code() {
        let t = token();
        let e = expected(&t);
        let other = fr_to_decimal(&jejak_zk_circuits::identity_commitment(Fr::from(1u64)));
        let invalid = [
            check(&t, &Expected { chain_id: 1, ..e }, NOW),
            check(&t, &Expected { platform_id: 4, ..e }, NOW),
            check(&t, &Expected { account: "rider-10", ..e }, NOW),
            check(&t, &Expected { commitment: &other, ..e }, NOW),
            check(&WireToken { signature: "00".repeat(64), ..t.clone() }, &e, NOW),
            check(&WireToken { expires_at: NOW + MAX_LIFETIME_SECS + 1, ..t.clone() }, &e, NOW),
            check(&WireToken { inner: "1".into(), ..t.clone() }, &e, NOW),
        ];
        for r in invalid {
            assert_eq!(r.unwrap_err().code(), "link_token_invalid");
        }
        assert_eq!(check(&t, &e, NOW + 3600).unwrap_err().code(), "link_token_expired");
        assert!(issue(&secret(), 31337, 3, "rider-9", NOW, MAX_LIFETIME_SECS + 1).is_err());
    }

    #[test]
    fn someone_who_knows_only_the_commitment_cannot_make_a_token() {
        // They sign with a key of their own and claim the victim's commitment.
        let victim = fr_to_decimal(&jejak_zk_circuits::identity_commitment(secret()));
        let mut forged = issue(&Fr::from(7u64), 31337, 3, "rider-9", NOW, 3600).unwrap();
        forged.commitment = victim.clone();
        let e = Expected { chain_id: 31337, platform_id: 3, account: "rider-9", commitment: &victim };
        assert_eq!(check(&forged, &e, NOW).unwrap_err().code(), "link_token_invalid");
    }
}
