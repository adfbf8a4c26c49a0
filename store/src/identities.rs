//! Node-held (custodial) identities: the sealed identity secret of a worker the node proves for.
//! The store never sees a secret in the clear; sealing and opening are the API's business.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Conn, Result, digest};

/// A node-held identity.
#[derive(Clone, PartialEq, Eq)]
pub struct CustodialIdentityRow {
    /// Identity commitment, 32-byte big-endian field element.
    pub commitment: [u8; 32],
    /// The sealed secret: nonce || ciphertext || tag.
    pub sealed: Vec<u8>,
    /// Who made it: `platform:<id>` or `admin:<key id>`.
    pub created_by: String,
    /// Free text from the creator.
    pub label: String,
    /// Creation time, unix seconds.
    pub created_at: i64,
}

// The sealed bytes are ciphertext, but they have no business in logs either.
impl std::fmt::Debug for CustodialIdentityRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustodialIdentityRow")
            .field("commitment", &hex_string(&self.commitment))
            .field("sealed", &format_args!("<{} bytes>", self.sealed.len()))
            .field("created_by", &self.created_by)
            .field("label", &self.label)
            .field("created_at", &self.created_at)
            .finish()
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_row(r: AnyRow) -> Result<CustodialIdentityRow> {
    Ok(CustodialIdentityRow {
        commitment: digest(r.try_get("commitment")?)?,
        sealed: r.try_get("sealed")?,
        created_by: r.try_get("created_by")?,
        label: r.try_get("label")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Stores a new node-held identity. A commitment already held fails with a unique violation
/// ([`crate::Error::is_unique_violation`]).
pub async fn insert(conn: &mut Conn, row: &CustodialIdentityRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO custodial_identities (commitment, sealed, created_by, label, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(row.commitment.to_vec())
    .bind(row.sealed.clone())
    .bind(&row.created_by)
    .bind(&row.label)
    .bind(row.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The node-held identity with this commitment, if the node holds one.
pub async fn get(conn: &mut Conn, commitment: &[u8; 32]) -> Result<Option<CustodialIdentityRow>> {
    sqlx::query(
        "SELECT commitment, sealed, created_by, label, created_at FROM custodial_identities WHERE commitment = $1",
    )
    .bind(commitment.to_vec())
    .fetch_optional(conn)
    .await?
    .map(from_row)
    .transpose()
}
