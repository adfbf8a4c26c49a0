//! Integration tests of jejak-evidence: generated photos and tracks through the whole pipeline.

mod formats;
mod hostile;
mod receipts;
mod rules;
mod support;
