//! Store errors.

use jejak_runtime::Severity;

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database URL names an engine jejak does not support.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// The database answered with an error or could not be reached.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value does not have the shape the schema promises.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// A leased job wrote without holding its lease: its fencing token is no longer the lease's
    /// (another instance took the job over) or it never held one. The write did not happen.
    #[error("write refused by fencing: this instance does not hold the `{job}` lease (token {token})")]
    Fenced {
        /// The job whose lease the write needed.
        job: String,
        /// The token the write carried (0: none held).
        token: i64,
    },
    /// Another process already uses this SQLite database: SQLite serves one process.
    #[error(
        "the SQLite database {path} is in use by another jejak process (lock {lock} held); \
         SQLite serves one process: stop the other one, or use PostgreSQL to run several instances"
    )]
    InUse {
        /// The database file.
        path: String,
        /// The lock file beside it.
        lock: String,
    },
    /// The lock file beside a SQLite database could not be made or locked.
    #[error("locking the SQLite database {path}: {source}")]
    Lock {
        /// The lock file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl Error {
    /// Whether a write was refused because the job's lease is no longer held.
    pub fn is_fenced(&self) -> bool {
        matches!(self, Error::Fenced { .. })
    }

    /// Whether the error is a unique-constraint violation (a concurrent duplicate).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }
}

impl jejak_runtime::Classify for Error {
    /// Fatal: a store that is corrupt, has another schema than the code expects, or a
    /// configuration that cannot work (URL, credentials, permissions). Everything else (the
    /// server restarting, a connection lost, a pool exhausted, a lock, a full disk, a conflict
    /// between writers) is transient.
    fn severity(&self) -> Severity {
        match self {
            Error::UnsupportedUrl(_)
            | Error::Migrate(_)
            | Error::Corrupt(_)
            | Error::InUse { .. }
            | Error::Lock { .. } => Severity::Fatal,
            // Fatal for the term only: the job's lease supervisor sees the token superseded and
            // steps down (loudly); the node goes on as a standby.
            Error::Fenced { .. } => Severity::Transient,
            Error::Database(e) => sqlx_severity(e),
        }
    }
}

fn sqlx_severity(e: &sqlx::Error) -> Severity {
    use sqlx::Error as E;
    match e {
        E::Database(db) => match db.code() {
            Some(code) => database_code_severity(&code),
            None => Severity::Transient,
        },
        E::Io(_) | E::Tls(_) | E::Protocol(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed | E::BeginFailed => {
            Severity::Transient
        }
        E::Configuration(_)
        | E::InvalidArgument(_)
        | E::RowNotFound
        | E::TypeNotFound { .. }
        | E::ColumnIndexOutOfBounds { .. }
        | E::ColumnNotFound(_)
        | E::ColumnDecode { .. }
        | E::Encode(_)
        | E::Decode(_)
        | E::AnyDriverError(_)
        | E::Migrate(_)
        | E::InvalidSavePointStatement => Severity::Fatal,
        _ => Severity::Transient,
    }
}

/// A database error code: a PostgreSQL SQLSTATE (five characters) or a SQLite extended result
/// code (a number).
pub(crate) fn database_code_severity(code: &str) -> Severity {
    if let Ok(extended) = code.parse::<u32>() {
        // SQLite: the primary code is the low byte. SQLITE_ERROR (a statement the schema does
        // not support), READONLY, CORRUPT, NOTADB and MISMATCH do not heal by waiting; BUSY,
        // LOCKED, IOERR, FULL, NOMEM, CANTOPEN and the rest may.
        return match extended & 0xff {
            1 | 8 | 11 | 20 | 26 => Severity::Fatal,
            _ => Severity::Transient,
        };
    }
    // PostgreSQL, by SQLSTATE class: 42 (undefined table or column, no privilege: another
    // schema or role than expected), 28 (authentication), 3D (no such database), XX001/XX002
    // (data or index corrupted). Connection loss (08), shutdown (57), resources (53),
    // serialization and deadlocks (40), constraint races (23), bad values (22) are transient.
    match code {
        "XX001" | "XX002" => Severity::Fatal,
        _ if code.starts_with("42") || code.starts_with("28") || code.starts_with("3D") => Severity::Fatal,
        _ => Severity::Transient,
    }
}

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use jejak_runtime::{Classify as _, Severity};

    use super::*;

    #[test]
    fn database_codes_are_fatal_only_when_waiting_cannot_help() {
        for (code, severity) in [
            ("5", Severity::Transient),     // SQLITE_BUSY
            ("517", Severity::Transient),   // SQLITE_BUSY_SNAPSHOT
            ("6", Severity::Transient),     // SQLITE_LOCKED
            ("13", Severity::Transient),    // SQLITE_FULL
            ("2067", Severity::Transient),  // SQLITE_CONSTRAINT_UNIQUE
            ("11", Severity::Fatal),        // SQLITE_CORRUPT
            ("26", Severity::Fatal),        // SQLITE_NOTADB
            ("1", Severity::Fatal),         // SQLITE_ERROR: no such table
            ("57P01", Severity::Transient), // admin_shutdown
            ("08006", Severity::Transient), // connection_failure
            ("40001", Severity::Transient), // serialization_failure
            ("53300", Severity::Transient), // too_many_connections
            ("22021", Severity::Transient), // bad bytes in one value
            ("42P01", Severity::Fatal),     // undefined_table
            ("28P01", Severity::Fatal),     // invalid_password
            ("XX001", Severity::Fatal),     // data_corrupted
        ] {
            assert_eq!(database_code_severity(code), severity, "{code}");
        }
        assert_eq!(Error::Corrupt("x".into()).severity(), Severity::Fatal);
        assert_eq!(Error::Database(sqlx::Error::PoolTimedOut).severity(), Severity::Transient);
        assert_eq!(
            Error::Database(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into())).severity(),
            Severity::Transient
        );
        assert_eq!(Error::Database(sqlx::Error::RowNotFound).severity(), Severity::Fatal);
    }
}
