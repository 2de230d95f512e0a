//! Errors of the state database, named by what the caller does next, always naming the file.

use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

/// Why the state database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The directory meant to hold the database is missing: create it or configure another path.
    #[error(
        "the state directory {} does not exist (create it, or set [state] path)",
        dir.display()
    )]
    NoDirectory { path: PathBuf, dir: PathBuf },

    /// The file could not be opened at all (permissions, not a regular file ...).
    #[error("cannot open the state database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: Cause,
    },

    /// Written by a newer shelflife: never downgrade it.
    #[error(
        "{} has schema version {found}, this shelflife knows up to {known}: upgrade shelflife or restore a backup",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },

    /// A SQLite database that belongs to something else: point `[state] path` elsewhere.
    #[error(
        "{} is a SQLite database of another program ({why}); refusing to use it as shelflife's state (set [state] path to another file)",
        path.display()
    )]
    NotShelflife { path: PathBuf, why: String },

    /// Damaged, or not a database at all: restore a backup or move the file aside.
    #[error(
        "the state database {} is damaged or not a database ({detail}): restore a backup or move it aside",
        path.display()
    )]
    Corrupt {
        path: PathBuf,
        detail: String,
        #[source]
        source: Option<rusqlite::Error>,
    },

    /// A write did not reach the file (disk full, read-only, I/O error): delete nothing.
    #[error(
        "cannot write the state database {}: {source}; nothing will be deleted without a record",
        path.display()
    )]
    Write {
        path: PathBuf,
        #[source]
        source: Cause,
    },

    /// A read failed for another reason than damage (I/O error, ...).
    #[error("cannot read the state database {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// Another connection held the database longer than the busy timeout: retry later.
    #[error("the state database {} stayed locked by another process: {source}", path.display())]
    Busy {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// The caller asked for a change the journal does not allow (a bug in the caller): do not retry.
    #[error("{}: {entity} {id} is {from}: cannot {change}", path.display())]
    InvalidTransition {
        path: PathBuf,
        entity: &'static str,
        id: i64,
        /// The state it is in.
        from: String,
        /// The refused change ("become started", "take new actions").
        change: String,
    },

    /// No run or action with that id (a bug in the caller, or it was pruned).
    #[error("{}: there is no {entity} {id}", path.display())]
    NotFound {
        path: PathBuf,
        entity: &'static str,
        id: i64,
    },

    /// The backup destination could not be written or put in place.
    #[error("cannot write the backup {}: {source}", path.display())]
    Backup {
        path: PathBuf,
        #[source]
        source: Cause,
    },
}

/// The underlying failure: SQLite's, or the operating system's when a file is handled directly.
#[derive(Debug, thiserror::Error)]
pub enum Cause {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Whether a failed statement was meant to change the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// Sorts a SQLite error into the variant that tells the caller what to do.
pub(crate) fn classify(path: &Path, access: Access, source: rusqlite::Error) -> StateError {
    let path = path.to_path_buf();
    if matches!(
        source,
        rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::InvalidColumnType(..)
    ) {
        // A row the schema's constraints should have made impossible.
        return StateError::Corrupt {
            path,
            detail: source.to_string(),
            source: Some(source),
        };
    }
    match source.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StateError::Busy { path, source }
        }
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StateError::Corrupt {
            path,
            detail: source.to_string(),
            source: Some(source),
        },
        // Even a read or an open needs to write (the WAL index, a checkpoint): a full or
        // read-only disk is a write failure whatever the caller was doing.
        Some(ErrorCode::DiskFull | ErrorCode::ReadOnly) => StateError::Write {
            path,
            source: source.into(),
        },
        _ if is_write_io_error(&source) => StateError::Write {
            path,
            source: source.into(),
        },
        _ => match access {
            Access::Read => StateError::Read { path, source },
            Access::Write => StateError::Write {
                path,
                source: source.into(),
            },
        },
    }
}

/// An I/O error that SQLite met while writing or growing a file (a full disk shows up as one of
/// these when the WAL index cannot grow).
fn is_write_io_error(e: &rusqlite::Error) -> bool {
    use rusqlite::ffi;
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _) if matches!(
            f.extended_code,
            ffi::SQLITE_IOERR_WRITE
                | ffi::SQLITE_IOERR_FSYNC
                | ffi::SQLITE_IOERR_TRUNCATE
                | ffi::SQLITE_IOERR_SHMSIZE
                | ffi::SQLITE_IOERR_SHMMAP
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error as SQLite reports it (`sqlite3_errstr` gives "database or disk is full" for
    /// SQLITE_FULL; the others' messages do not matter here).
    fn sqlite_error(code: i32) -> rusqlite::Error {
        let msg =
            (code == rusqlite::ffi::SQLITE_FULL).then(|| "database or disk is full".to_owned());
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), msg)
    }

    #[test]
    fn errors_are_sorted_by_what_the_caller_does_next() {
        let p = Path::new("/var/lib/shelflife/state.db");
        let full = classify(p, Access::Write, sqlite_error(rusqlite::ffi::SQLITE_FULL));
        assert_eq!(
            full.to_string(),
            "cannot write the state database /var/lib/shelflife/state.db: database or disk is full; \
             nothing will be deleted without a record"
        );
        assert!(matches!(
            classify(p, Access::Read, sqlite_error(rusqlite::ffi::SQLITE_BUSY)),
            StateError::Busy { .. }
        ));
        assert!(matches!(
            classify(p, Access::Read, sqlite_error(rusqlite::ffi::SQLITE_NOTADB)),
            StateError::Corrupt { .. }
        ));
        assert!(matches!(
            classify(p, Access::Read, sqlite_error(rusqlite::ffi::SQLITE_IOERR)),
            StateError::Read { .. }
        ));
        // The WAL index could not grow: the disk is full, even though the caller only opened.
        assert!(matches!(
            classify(
                p,
                Access::Read,
                sqlite_error(rusqlite::ffi::SQLITE_IOERR_SHMSIZE)
            ),
            StateError::Write { .. }
        ));
    }

    #[test]
    fn too_new_names_both_versions() {
        let e = StateError::TooNew {
            path: "state.db".into(),
            found: 7,
            known: 1,
        };
        assert_eq!(
            e.to_string(),
            "state.db has schema version 7, this shelflife knows up to 1: upgrade shelflife or restore a backup"
        );
    }
}
