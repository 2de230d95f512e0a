//! The SQLite state file: a journal of passes (`runs`) and of what each pass did (`actions`), and
//! the run lock that keeps two passes from overlapping.
//!
//! Why it exists: a pass can die at any moment (timeout, reboot, `kill -9`, power cut). The journal
//! lets the next pass know what was in flight and never delete anything twice:
//!
//! - `begin_run` → `plan_actions` → per action `mark_started` (the intent, committed *before* the
//!   *arr call) → `mark_done` / `mark_failed` / `mark_skipped` (after it) → `finish_run`.
//! - At the start of a pass, `unfinished_runs` finds a pass that died, `mark_interrupted` closes it,
//!   `started_actions` lists the actions whose outcome is unknown (the caller asks the *arr), and
//!   `is_done` / `done_targets` stop a new plan from repeating what already happened.
//! - `last_run`, `pending_actions` and `history` feed `status` and `history`; `backup_to` and
//!   `prune` serve `db backup` and `db prune`.
//!
//! Every write is its own committed transaction and fails with [`StateError::Write`] when the disk
//! is full or read-only: the caller must then delete nothing. Time is always passed in (`now`);
//! nothing here reads the clock. Timestamps are stored as unix seconds.
//!
//! The schema lives in [`migrations`]; the plain values in [`types`]; the lock in [`lock`].

mod error;
pub mod health;
mod journal;
pub mod lock;
mod maintenance;
pub mod migrations;
mod notice;
mod query;
mod seerr;
pub mod types;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use nix::errno::Errno;
use rusqlite::types::Type;
use rusqlite::{Connection, OpenFlags, Row, Transaction, TransactionBehavior};

pub use error::{Cause, StateError};
pub use lock::{LockError, RunLock};
pub use migrations::{APPLICATION_ID, SCHEMA_VERSION};
pub use notice::{NoticeEvent, NoticeEventRow, NoticeRow, NoticeState, OutboxRow};
pub use seerr::{CleanupEnd, CleanupKind, DueCleanup, NewCleanup};
pub use types::{
    ActionId, ActionKind, ActionRow, ActionState, HistoryRow, LostMedia, Mode, NewAction, Outcome,
    PruneCounts, RunCounts, RunId, RunRow, Service, TargetKey, UnknownValue,
};

use error::{classify, Access};
use migrations::{judge, read_marks, Verdict, MIGRATIONS};

/// How long a statement waits for another connection (a `status` next to a pass, a backup) before
/// failing with [`StateError::Busy`].
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An open state database. One connection; not shared between threads.
#[derive(Debug)]
pub struct State {
    conn: Connection,
    path: PathBuf,
}

impl State {
    /// Opens (creating the file if missing, but never its directory) and migrates the database.
    ///
    /// Switching a new file to WAL needs the file to itself, and SQLite answers "busy" at once,
    /// without its busy handler, when another connection is opening it at the same moment; the
    /// open is idempotent, so it is simply tried again for up to `BUSY_TIMEOUT` (five seconds).
    pub fn open(path: &Path) -> Result<State, StateError> {
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match State::open_once(path) {
                Err(StateError::Busy { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path) -> Result<State, StateError> {
        check_directory(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        probe_writable(path)?;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| open_failure(path, e))?;
        let mut state = State {
            conn,
            path: path.to_path_buf(),
        };
        state
            .conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| open_failure(path, e))?;
        // Judge the file before changing anything in it: a foreign database must not be switched
        // to WAL, let alone migrated.
        let marks = read_marks(&state.conn).map_err(|e| open_failure(path, e))?;
        state.refuse_unless_ours(judge(marks, SCHEMA_VERSION))?;
        state.configure()?;
        let current =
            marks.application_id == APPLICATION_ID && marks.user_version == SCHEMA_VERSION;
        if !current {
            state.migrate()?;
        }
        Ok(state)
    }

    /// The file this state lives in (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn refuse_unless_ours(&self, verdict: Verdict) -> Result<i64, StateError> {
        refuse_unless_ours(&self.path, verdict)
    }

    fn configure(&self) -> Result<(), StateError> {
        let path = &self.path;
        // WAL lets `status`, `history` and `db backup` read while a pass writes.
        let mode: String = self
            .conn
            .pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))
            .map_err(|e| classify(path, Access::Write, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(
                path = %path.display(),
                journal_mode = %mode,
                "the state database could not switch to WAL; readers will wait for a pass"
            );
        }
        // FULL makes every commit durable before it returns: the "started" record of an action
        // must be on disk before the DELETE is sent, or a power cut could leave a deletion with no
        // trace. NORMAL in WAL mode may lose the last commits on power loss. The cost (one fsync per
        // transition) is nothing next to an HTTP call.
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(|e| open_failure(path, e))?;
        self.conn
            .pragma_update(None, "foreign_keys", true)
            .map_err(|e| open_failure(path, e))?;
        Ok(())
    }

    /// Applies the missing migrations in one transaction. The marks are read again under the
    /// write lock because another process may have migrated meanwhile.
    fn migrate(&mut self) -> Result<(), StateError> {
        let path = self.path.clone();
        let write_err = |e| classify(&path, Access::Write, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(write_err)?;
        let marks = read_marks(&tx).map_err(|e| open_failure(&path, e))?;
        let from = refuse_unless_ours(&path, judge(marks, SCHEMA_VERSION))?;
        migrations::apply(&tx, MIGRATIONS, from, SCHEMA_VERSION).map_err(write_err)?;
        tx.commit().map_err(write_err)
    }

    /// Runs `f` in an IMMEDIATE transaction and commits it. IMMEDIATE takes the write lock up front,
    /// so two writers queue on the busy timeout instead of failing on a lock upgrade.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, Failure>,
    ) -> Result<T, StateError> {
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })();
        result.map_err(|e| self.failure(Access::Write, e))
    }

    /// Runs a read.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Failure>) -> Result<T, StateError> {
        f(&self.conn).map_err(|e| self.failure(Access::Read, e))
    }

    fn failure(&self, access: Access, failure: Failure) -> StateError {
        let path = self.path.clone();
        match failure {
            Failure::Sql(source) => classify(&path, access, source),
            Failure::Invalid {
                entity,
                id,
                from,
                change,
            } => StateError::InvalidTransition {
                path,
                entity,
                id,
                from,
                change,
            },
            Failure::Missing { entity, id } => StateError::NotFound { path, entity, id },
        }
    }
}

/// Why a transaction failed, before the path is attached.
enum Failure {
    Sql(rusqlite::Error),
    Invalid {
        entity: &'static str,
        id: i64,
        from: String,
        change: String,
    },
    Missing {
        entity: &'static str,
        id: i64,
    },
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Sql(e)
    }
}

fn refuse_unless_ours(path: &Path, verdict: Verdict) -> Result<i64, StateError> {
    let path = path.to_path_buf();
    match verdict {
        Verdict::Migrate { from } => Ok(from),
        Verdict::TooNew { found } => Err(StateError::TooNew {
            path,
            found,
            known: SCHEMA_VERSION,
        }),
        Verdict::Foreign { why } => Err(StateError::NotShelflife { path, why }),
    }
}

/// SQLite would report a missing directory as "unable to open database file"; say which one.
fn check_directory(path: &Path) -> Result<(), StateError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => return Ok(()),
    };
    if dir.is_dir() {
        Ok(())
    } else {
        Err(StateError::NoDirectory {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
        })
    }
}

/// Opens (creating) the file for writing without changing it. On a read-only filesystem SQLite
/// would fall back to read-only and then fail to open a WAL database with "unable to open
/// database file"; this names the real cause. Root ignores file modes, but not `ro` mounts.
fn probe_writable(path: &Path) -> Result<(), StateError> {
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path);
    let Err(e) = opened else {
        return Ok(());
    };
    let path = path.to_path_buf();
    // By errno: the matching `ErrorKind`s are newer than the crate's minimum Rust.
    let cannot_write = matches!(
        e.raw_os_error().map(Errno::from_raw),
        Some(Errno::EROFS | Errno::ENOSPC | Errno::EDQUOT)
    );
    let source = Cause::Io(e);
    Err(if cannot_write {
        StateError::Write { path, source }
    } else {
        StateError::Open { path, source }
    })
}

/// While opening, a failure that is neither damage nor a lock means the file cannot be used.
fn open_failure(path: &Path, e: rusqlite::Error) -> StateError {
    match classify(path, Access::Read, e) {
        StateError::Read { path, source } => StateError::Open {
            path,
            source: source.into(),
        },
        other => other,
    }
}

fn to_secs(t: Timestamp) -> i64 {
    t.as_second()
}

fn timestamp(row: &Row<'_>, idx: usize) -> rusqlite::Result<Timestamp> {
    let secs: i64 = row.get(idx)?;
    Timestamp::from_second(secs)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Integer, Box::new(e)))
}

fn opt_timestamp(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Timestamp>> {
    match row.get::<_, Option<i64>>(idx)? {
        None => Ok(None),
        Some(_) => timestamp(row, idx).map(Some),
    }
}
