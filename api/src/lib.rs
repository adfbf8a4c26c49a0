//! The jejak HTTP API (axum): platform events, receipts, verification; the only crate that knows HTTP and JSON.
