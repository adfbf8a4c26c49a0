//! Cursor pagination for every list: `?limit=` (1 to 100, default 50) and `?cursor=` (opaque,
//! from the previous page's `next_cursor`). Answers are `{"data": [...], "next_cursor"}`, the
//! cursor null on the last page.

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::{ApiError, ApiResult};

/// Largest page.
pub const MAX_LIMIT: u32 = 100;
/// Page size when none is asked for.
pub const DEFAULT_LIMIT: u32 = 50;

/// `?limit=&cursor=`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A validated page request: the position after which to list, and how many.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// Decoded cursor (empty on the first page).
    pub after: String,
    /// Rows to fetch: one more than the page, to know whether another follows.
    pub fetch: i64,
    limit: usize,
}

impl PageRequest {
    /// Validates the query.
    pub fn from_query(q: Result<Query<PageQuery>, QueryRejection>) -> ApiResult<Self> {
        let Query(q) = q.map_err(|e| ApiError::unprocessable("invalid_request", e.body_text()))?;
        let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::unprocessable("invalid_request", format!("limit: 1 to {MAX_LIMIT}")));
        }
        let after = match q.cursor.as_deref() {
            None | Some("") => String::new(),
            Some(c) => URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ApiError::unprocessable("invalid_request", "cursor: not a cursor this API gave"))?,
        };
        Ok(Self { after, fetch: i64::from(limit) + 1, limit: limit as usize })
    }

    /// The cursor as a sequence number (0 on the first page).
    pub fn after_seq(&self) -> ApiResult<i64> {
        if self.after.is_empty() {
            return Ok(0);
        }
        self.after.parse().map_err(|_| ApiError::unprocessable("invalid_request", "cursor: not a cursor this API gave"))
    }

    /// Cuts the fetched rows to the page and makes the next cursor from the last row's key.
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
        let more = rows.len() > self.limit;
        rows.truncate(self.limit);
        let next = if more { rows.last().map(|r| URL_SAFE_NO_PAD.encode(key(r))) } else { None };
        (rows, next)
    }
}
