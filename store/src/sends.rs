//! Transactions signed by the node's sender, kept so that any instance can reconcile them by
//! hash and nonce before sending again (see `jejak_chain::Sender`).

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Conn, Error, Result, digest};

/// Where a signed transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStatus {
    /// It may still land (pending, dropped, or never broadcast).
    Open,
    /// It landed (successfully or not).
    Mined,
    /// It never can: its nonce went to another transaction, or its purpose was settled.
    Closed,
}

impl SendStatus {
    /// Column value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Mined => "mined",
            Self::Closed => "closed",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "open" => Self::Open,
            "mined" => Self::Mined,
            "closed" => Self::Closed,
            other => return Err(Error::Corrupt(format!("send status `{other}`"))),
        })
    }
}

/// One signed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRow {
    /// Its hash.
    pub tx_hash: [u8; 32],
    /// EVM chain id.
    pub chain_id: i64,
    /// The sending address.
    pub sender: Vec<u8>,
    /// Its nonce; every transaction of one purpose has the same.
    pub nonce: i64,
    /// What it is for (`batch:12`, `evidence:40`, `epoch:7`).
    pub purpose: String,
    /// The called contract.
    pub to_address: Vec<u8>,
    /// Call data.
    pub input: Vec<u8>,
    /// Gas limit.
    pub gas_limit: i64,
    /// EIP-1559 fee cap, wei per gas.
    pub max_fee_per_gas: i64,
    /// EIP-1559 tip, wei per gas.
    pub max_priority_fee_per_gas: i64,
    /// The signed transaction (EIP-2718 bytes), for a rebroadcast.
    pub raw: Vec<u8>,
    /// Where it stands.
    pub status: SendStatus,
    /// When it was signed.
    pub created_at: i64,
}

fn from_row(r: AnyRow) -> Result<SendRow> {
    Ok(SendRow {
        tx_hash: digest(r.try_get("tx_hash")?)?,
        chain_id: r.try_get("chain_id")?,
        sender: r.try_get("sender")?,
        nonce: r.try_get("nonce")?,
        purpose: r.try_get("purpose")?,
        to_address: r.try_get("to_address")?,
        input: r.try_get("input")?,
        gas_limit: r.try_get("gas_limit")?,
        max_fee_per_gas: r.try_get("max_fee_per_gas")?,
        max_priority_fee_per_gas: r.try_get("max_priority_fee_per_gas")?,
        raw: r.try_get("raw")?,
        status: SendStatus::parse(&r.try_get::<String, _>("status")?)?,
        created_at: r.try_get("created_at")?,
    })
}

const COLUMNS: &str = "tx_hash, chain_id, sender, nonce, purpose, to_address, input, gas_limit, max_fee_per_gas, \
                       max_priority_fee_per_gas, raw, status, created_at";

/// Records a signed transaction (before it is broadcast).
pub async fn insert(conn: &mut Conn, row: &SendRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO chain_sends (tx_hash, chain_id, sender, nonce, purpose, to_address, input, gas_limit, \
         max_fee_per_gas, max_priority_fee_per_gas, raw, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(row.tx_hash.to_vec())
    .bind(row.chain_id)
    .bind(row.sender.clone())
    .bind(row.nonce)
    .bind(row.purpose.as_str())
    .bind(row.to_address.clone())
    .bind(row.input.clone())
    .bind(row.gas_limit)
    .bind(row.max_fee_per_gas)
    .bind(row.max_priority_fee_per_gas)
    .bind(row.raw.clone())
    .bind(row.status.as_str())
    .bind(row.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The open transactions of a purpose, oldest first.
pub async fn open_for(conn: &mut Conn, chain_id: i64, sender: &[u8], purpose: &str) -> Result<Vec<SendRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM chain_sends WHERE chain_id = $1 AND sender = $2 AND purpose = $3 AND status = 'open' \
         ORDER BY created_at, max_fee_per_gas"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(chain_id)
        .bind(sender.to_vec())
        .bind(purpose)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

/// The purposes with open transactions from `sender`, in the order they were first signed.
pub async fn open_purposes(conn: &mut Conn, chain_id: i64, sender: &[u8]) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT purpose, MIN(created_at) AS first FROM chain_sends \
         WHERE chain_id = $1 AND sender = $2 AND status = 'open' GROUP BY purpose ORDER BY first, purpose",
    )
    .bind(chain_id)
    .bind(sender.to_vec())
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get::<String, _>(0)?)).collect()
}

/// Every transaction of a purpose, oldest first (tests and audits).
pub async fn all_for(conn: &mut Conn, chain_id: i64, purpose: &str) -> Result<Vec<SendRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM chain_sends WHERE chain_id = $1 AND purpose = $2 ORDER BY created_at, max_fee_per_gas"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(chain_id)
        .bind(purpose)
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

/// Marks one transaction mined and closes the others of its purpose (same nonce: none of them
/// can land any more).
pub async fn settle(
    conn: &mut Conn,
    chain_id: i64,
    sender: &[u8],
    purpose: &str,
    mined: &[u8; 32],
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE chain_sends SET status = CASE WHEN tx_hash = $4 THEN 'mined' ELSE 'closed' END, updated_at = $5 \
         WHERE chain_id = $1 AND sender = $2 AND purpose = $3 AND status = 'open'",
    )
    .bind(chain_id)
    .bind(sender.to_vec())
    .bind(purpose)
    .bind(mined.to_vec())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Closes every open transaction of a purpose (its nonce went to another transaction).
pub async fn close(conn: &mut Conn, chain_id: i64, sender: &[u8], purpose: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE chain_sends SET status = 'closed', updated_at = $4 \
         WHERE chain_id = $1 AND sender = $2 AND purpose = $3 AND status = 'open'",
    )
    .bind(chain_id)
    .bind(sender.to_vec())
    .bind(purpose)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
