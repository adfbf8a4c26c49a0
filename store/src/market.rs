//! The marketplace: gigs (their state as JSON plus the columns search and the timer job read),
//! the append-only history each state replays from, full-text search of open gigs, and the first
//! answers to writes sent with an `Idempotency-Key`.
//!
//! Writers serialise per gig: [`lock_gig`] takes the row's lock (`FOR UPDATE` on PostgreSQL;
//! SQLite transactions start `IMMEDIATE`), and [`update_gig`] only writes over the version it
//! read, so of two concurrent transitions exactly one applies to a given state. Queries put
//! together at run time (`AssertSqlSafe`) join only constant text and `$n` placeholders: every
//! value is bound.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Backend, Conn, Result, digest};

/// A gig as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct GigRow {
    /// `gig_...`.
    pub id: String,
    /// The client's account.
    pub client: String,
    /// The contract's worker, once there is one.
    pub worker: Option<String>,
    /// `open`, `contracted`, `completed`, `cancelled`, `expired`.
    pub status: String,
    /// The last history entry's position.
    pub version: i64,
    /// The aggregate, JSON.
    pub state: String,
    /// Category slug.
    pub category: String,
    /// Latitude of an on-site gig.
    pub lat: Option<f64>,
    /// Longitude of an on-site gig.
    pub lon: Option<f64>,
    /// ISO 4217 code.
    pub currency: String,
    /// The most the gig pays, minor units.
    pub pay_max_minor: i64,
    /// 1 (A) to 5 (E or none): the worst credit tier accepted.
    pub req_tier_rank: i64,
    /// The lowest score accepted.
    pub req_min_score: i64,
    /// When it stops taking proposals.
    pub deadline: i64,
    /// When it was posted.
    pub posted_at: i64,
    /// When it last changed.
    pub updated_at: i64,
    /// When its earliest timer is due.
    pub next_timer_at: Option<i64>,
}

/// One history entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// The gig.
    pub gig_id: String,
    /// Its position, from 1.
    pub seq: i64,
    /// When.
    pub at: i64,
    /// The actor's role.
    pub actor_role: String,
    /// The actor's account.
    pub actor_id: String,
    /// The action, JSON.
    pub action: String,
}

const GIG_COLUMNS: &str = "id, client, worker, status, version, state, category, lat, lon, currency, pay_max_minor, \
     req_tier_rank, req_min_score, deadline, posted_at, updated_at, next_timer_at";

fn gig_from_row(r: &AnyRow) -> Result<GigRow> {
    Ok(GigRow {
        id: r.try_get("id")?,
        client: r.try_get("client")?,
        worker: r.try_get("worker")?,
        status: r.try_get("status")?,
        version: r.try_get("version")?,
        state: r.try_get("state")?,
        category: r.try_get("category")?,
        lat: r.try_get("lat")?,
        lon: r.try_get("lon")?,
        currency: r.try_get("currency")?,
        pay_max_minor: r.try_get("pay_max_minor")?,
        req_tier_rank: r.try_get("req_tier_rank")?,
        req_min_score: r.try_get("req_min_score")?,
        deadline: r.try_get("deadline")?,
        posted_at: r.try_get("posted_at")?,
        updated_at: r.try_get("updated_at")?,
        next_timer_at: r.try_get("next_timer_at")?,
    })
}

/// Stores a new gig, its first history entry and (while open) its searchable text.
pub async fn insert_gig(
    conn: &mut Conn,
    backend: Backend,
    gig: &GigRow,
    first: &HistoryRow,
    title: &str,
    description: &str,
) -> Result<()> {
    let search = match backend {
        Backend::Postgres => "to_tsvector('simple', $18 || ' ' || $19)",
        Backend::Sqlite => "NULL",
    };
    let sql = format!(
        "INSERT INTO market_gigs ({GIG_COLUMNS}{}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
         $14, $15, $16, $17{})",
        if backend == Backend::Postgres { ", search" } else { "" },
        if backend == Backend::Postgres { format!(", {search}") } else { String::new() },
    );
    let mut q = bind_gig(sqlx::query(sqlx::AssertSqlSafe(sql)), gig);
    if backend == Backend::Postgres {
        q = q.bind(title).bind(description);
    }
    q.execute(&mut *conn).await?;
    if backend == Backend::Sqlite {
        sqlx::query("INSERT INTO market_gigs_fts (gig_id, title, description) VALUES ($1, $2, $3)")
            .bind(&gig.id)
            .bind(title)
            .bind(description)
            .execute(&mut *conn)
            .await?;
    }
    append_history(conn, first).await
}

fn bind_gig<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    g: &'q GigRow,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(&g.id)
        .bind(&g.client)
        .bind(&g.worker)
        .bind(&g.status)
        .bind(g.version)
        .bind(&g.state)
        .bind(&g.category)
        .bind(g.lat)
        .bind(g.lon)
        .bind(&g.currency)
        .bind(g.pay_max_minor)
        .bind(g.req_tier_rank)
        .bind(g.req_min_score)
        .bind(g.deadline)
        .bind(g.posted_at)
        .bind(g.updated_at)
        .bind(g.next_timer_at)
}

/// The gig, read for a transition: on PostgreSQL its row stays locked until the transaction ends.
pub async fn lock_gig(conn: &mut Conn, backend: Backend, id: &str) -> Result<Option<GigRow>> {
    let sql = format!(
        "SELECT {GIG_COLUMNS} FROM market_gigs WHERE id = $1{}",
        if backend == Backend::Postgres { " FOR UPDATE" } else { "" }
    );
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(conn).await?.as_ref().map(gig_from_row).transpose()
}

/// The gig.
pub async fn get_gig(conn: &mut Conn, id: &str) -> Result<Option<GigRow>> {
    let sql = format!("SELECT {GIG_COLUMNS} FROM market_gigs WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(conn).await?.as_ref().map(gig_from_row).transpose()
}

/// Writes a gig's new state over `read_version`; false when another writer moved it first.
/// A gig that stops being open leaves the SQLite text index.
pub async fn update_gig(conn: &mut Conn, backend: Backend, gig: &GigRow, read_version: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE market_gigs SET worker = $2, status = $3, version = $4, state = $5, updated_at = $6, \
         next_timer_at = $7 WHERE id = $1 AND version = $8",
    )
    .bind(&gig.id)
    .bind(&gig.worker)
    .bind(&gig.status)
    .bind(gig.version)
    .bind(&gig.state)
    .bind(gig.updated_at)
    .bind(gig.next_timer_at)
    .bind(read_version)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if done && backend == Backend::Sqlite && gig.status != "open" {
        sqlx::query("DELETE FROM market_gigs_fts WHERE gig_id = $1").bind(&gig.id).execute(&mut *conn).await?;
    }
    Ok(done)
}

/// Appends a history entry; a unique violation when the position is taken.
pub async fn append_history(conn: &mut Conn, h: &HistoryRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO market_history (gig_id, seq, at, actor_role, actor_id, action) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&h.gig_id)
    .bind(h.seq)
    .bind(h.at)
    .bind(&h.actor_role)
    .bind(&h.actor_id)
    .bind(&h.action)
    .execute(conn)
    .await?;
    Ok(())
}

/// A gig's history, in order.
pub async fn history(conn: &mut Conn, gig_id: &str) -> Result<Vec<HistoryRow>> {
    let rows = sqlx::query(
        "SELECT gig_id, seq, at, actor_role, actor_id, action FROM market_history WHERE gig_id = $1 ORDER BY seq",
    )
    .bind(gig_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HistoryRow {
                gig_id: r.try_get("gig_id")?,
                seq: r.try_get("seq")?,
                at: r.try_get("at")?,
                actor_role: r.try_get("actor_role")?,
                actor_id: r.try_get("actor_id")?,
                action: r.try_get("action")?,
            })
        })
        .collect()
}

/// Up to `limit` gigs whose earliest timer is due at `now`, earliest first.
pub async fn due(conn: &mut Conn, now: i64, limit: i64) -> Result<Vec<String>> {
    let ids = sqlx::query_scalar(
        "SELECT id FROM market_gigs WHERE next_timer_at IS NOT NULL AND next_timer_at <= $1 \
         ORDER BY next_timer_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(ids)
}

/// What open gigs to find. Every filter is optional; results come newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    /// Words that must all occur in the title or description (already split and bounded).
    pub words: Vec<String>,
    /// Category slug.
    pub category: Option<String>,
    /// Only remote gigs (true) or only on-site ones (false).
    pub remote: Option<bool>,
    /// Only on-site gigs inside this box (the caller filters by exact distance after).
    pub bbox: Option<(f64, f64, f64, f64)>,
    /// Only gigs paying at least this much in `currency`.
    pub min_pay: Option<(i64, String)>,
    /// Only gigs a worker of this tier rank (1 = A) may take.
    pub tier_rank: Option<i64>,
    /// Only gigs a worker of this score may take.
    pub score: Option<i64>,
    /// Continue after this gig (`posted_at`, `id`).
    pub after: Option<(i64, String)>,
    /// Most rows.
    pub limit: i64,
}

/// Open gigs matching `s`, newest first (`posted_at`, then `id`, descending).
pub async fn search(conn: &mut Conn, backend: Backend, s: &Search) -> Result<Vec<GigRow>> {
    let cols = GIG_COLUMNS.split(", ").map(|c| format!("g.{c}")).collect::<Vec<_>>().join(", ");
    let mut sql = format!("SELECT {cols} FROM market_gigs g");
    let mut conds = vec!["g.status = 'open'".to_string()];
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    let mut text = None;
    if !s.words.is_empty() {
        match backend {
            Backend::Sqlite => {
                // Each word as an FTS5 string: quotes doubled, so no word is query syntax.
                let q = s.words.iter().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" ");
                sql.push_str(" JOIN market_gigs_fts f ON f.gig_id = g.id");
                conds.push(format!("market_gigs_fts MATCH {}", next()));
                text = Some(q);
            }
            Backend::Postgres => {
                conds.push(format!("g.search @@ plainto_tsquery('simple', {})", next()));
                text = Some(s.words.join(" "));
            }
        }
    }
    if s.category.is_some() {
        conds.push(format!("g.category = {}", next()));
    }
    match s.remote {
        Some(true) => conds.push("g.lat IS NULL".into()),
        Some(false) => conds.push("g.lat IS NOT NULL".into()),
        None => {}
    }
    if s.bbox.is_some() {
        let (a, b, c, d) = (next(), next(), next(), next());
        conds.push(format!("g.lat IS NOT NULL AND g.lat BETWEEN {a} AND {b} AND g.lon BETWEEN {c} AND {d}"));
    }
    if s.min_pay.is_some() {
        let (a, b) = (next(), next());
        conds.push(format!("g.pay_max_minor >= {a} AND g.currency = {b}"));
    }
    if s.tier_rank.is_some() {
        conds.push(format!("g.req_tier_rank >= {}", next()));
    }
    if s.score.is_some() {
        conds.push(format!("g.req_min_score <= {}", next()));
    }
    if s.after.is_some() {
        let (a, b) = (next(), next());
        conds.push(format!("(g.posted_at < {a} OR (g.posted_at = {a} AND g.id < {b}))"));
    }
    let limit = next();
    sql.push_str(&format!(" WHERE {} ORDER BY g.posted_at DESC, g.id DESC LIMIT {limit}", conds.join(" AND ")));

    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    if let Some(t) = &text {
        q = q.bind(t);
    }
    if let Some(c) = &s.category {
        q = q.bind(c);
    }
    if let Some((a, b, c, d)) = s.bbox {
        q = q.bind(a).bind(b).bind(c).bind(d);
    }
    if let Some((p, cur)) = &s.min_pay {
        q = q.bind(*p).bind(cur);
    }
    if let Some(t) = s.tier_rank {
        q = q.bind(t);
    }
    if let Some(sc) = s.score {
        q = q.bind(sc);
    }
    if let Some((at, id)) = &s.after {
        q = q.bind(*at).bind(id);
    }
    q = q.bind(s.limit);
    q.fetch_all(conn).await?.iter().map(gig_from_row).collect()
}

/// Gigs an account takes part in (as client or as the contract's worker), newest first.
pub async fn of_account(
    conn: &mut Conn,
    account: &str,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<GigRow>> {
    let (at, id) = after.unwrap_or((i64::MAX, String::new()));
    let sql = format!(
        "SELECT {GIG_COLUMNS} FROM market_gigs WHERE (client = $1 OR worker = $1) \
         AND (posted_at < $2 OR (posted_at = $2 AND (id < $3 OR $3 = ''))) ORDER BY posted_at DESC, id DESC LIMIT $4"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account)
        .bind(at)
        .bind(id)
        .bind(limit)
        .fetch_all(conn)
        .await?
        .iter()
        .map(gig_from_row)
        .collect()
}

/// A recorded answer to a marketplace write sent with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRow {
    /// The caller (its key's account).
    pub principal: String,
    /// The key.
    pub key: String,
    /// SHA-256 of the method, path and body, to tell a retry from another request.
    pub request_hash: [u8; 32],
    /// HTTP status answered.
    pub status: i64,
    /// Response body answered.
    pub response: String,
    /// When.
    pub created_at: i64,
}

/// The answer recorded for this caller and key, if any.
pub async fn idempotency_get(conn: &mut Conn, principal: &str, key: &str) -> Result<Option<IdempotencyRow>> {
    let row = sqlx::query(
        "SELECT principal, key, request_hash, status, response, created_at FROM market_idempotency \
         WHERE principal = $1 AND key = $2",
    )
    .bind(principal)
    .bind(key)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(IdempotencyRow {
            principal: r.try_get("principal")?,
            key: r.try_get("key")?,
            request_hash: digest(r.try_get("request_hash")?)?,
            status: r.try_get("status")?,
            response: r.try_get("response")?,
            created_at: r.try_get("created_at")?,
        })
    })
    .transpose()
}

/// Records the answer for a key; a unique violation when a concurrent request got there first.
pub async fn idempotency_put(conn: &mut Conn, row: &IdempotencyRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO market_idempotency (principal, key, request_hash, status, response, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&row.principal)
    .bind(&row.key)
    .bind(row.request_hash.to_vec())
    .bind(row.status)
    .bind(&row.response)
    .bind(row.created_at)
    .execute(conn)
    .await?;
    Ok(())
}
