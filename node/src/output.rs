//! What commands print for people (logs go to stderr through tracing).

use std::io::Write as _;

/// Writes a line to stdout; a closed stdout (a pipe to `head`) is not an error worth a panic.
pub(crate) fn line(s: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", s.as_ref());
}
