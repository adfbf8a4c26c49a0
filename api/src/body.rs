//! JSON request bodies: malformed JSON answers 400 `malformed_json`, JSON of the wrong shape 422
//! `invalid_request`, both in the API's error format.

use serde::de::DeserializeOwned;

use crate::auth::{Principal, Role};
use crate::{ApiError, ApiResult};

/// Parses a JSON body into `T`.
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::unprocessable("invalid_request", e.to_string()),
        _ => ApiError::bad_request("malformed_json", format!("request body is not valid JSON: {e}")),
    })
}

/// Refuses callers whose role is not in `allowed`.
pub(crate) fn require(who: &Principal, allowed: &[Role], what: &str) -> ApiResult<()> {
    if allowed.contains(&who.role) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
    Err(ApiError::forbidden("forbidden", format!("{what} needs a key of role {}", names.join(" or "))))
}
