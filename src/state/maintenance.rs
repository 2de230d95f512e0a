//! `db backup` and `db prune`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::Connection;

use super::error::Cause;
use super::types::PruneCounts;
use super::{to_secs, State, StateError, BUSY_TIMEOUT};

/// Finished runs older than the cut-off, except any with an action still `started` (its outcome
/// is unknown until a pass settles it, and dropping it would lose the only trace of a DELETE).
const PRUNABLE_RUNS: &str = "SELECT r.id FROM runs r
     WHERE r.finished_at IS NOT NULL AND r.finished_at < ?1
       AND NOT EXISTS (SELECT 1 FROM actions a WHERE a.run_id = r.id AND a.state = 'started')";

impl State {
    /// Copies the database to `dest` with SQLite's online backup API, consistent even while
    /// another process writes. The copy is written next to `dest` and renamed over it, so `dest`
    /// is either the old file or a complete new copy; it is a single file (rollback journal mode).
    pub fn backup_to(&self, dest: &Path) -> Result<(), StateError> {
        if same_file(dest, &self.path) {
            return Err(StateError::Backup {
                path: dest.to_path_buf(),
                source: Cause::Io(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "that is the state database itself",
                )),
            });
        }
        let tmp = temp_path(dest);
        let result = self.copy_to(&tmp).and_then(|()| put_in_place(&tmp, dest));
        if result.is_err() {
            // Best effort: a leftover partial copy must not be mistaken for a backup.
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(|source| StateError::Backup {
            path: dest.to_path_buf(),
            source,
        })
    }

    fn copy_to(&self, tmp: &Path) -> Result<(), Cause> {
        match fs::remove_file(tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        let mut copy = Connection::open(tmp)?;
        copy_all_pages(&self.conn, &mut copy)?;
        let _: String =
            copy.pragma_update_and_check(None, "journal_mode", "delete", |r| r.get(0))?;
        copy.close().map_err(|(_, e)| e)?;
        File::open(tmp)?.sync_all()?;
        Ok(())
    }

    /// Drops finished runs that ended before `older_than`, with their actions, and the health
    /// records and Leaving Soon events from before it. A run that has not finished is never
    /// dropped (nor one with an unsettled `started` action); the schedule itself is never
    /// pruned: it is what is due.
    pub fn prune(&mut self, older_than: Timestamp) -> Result<PruneCounts, StateError> {
        self.write(|tx| {
            let cut = to_secs(older_than);
            let actions = tx.execute(
                &format!("DELETE FROM actions WHERE run_id IN ({PRUNABLE_RUNS})"),
                [cut],
            )?;
            let runs = tx.execute(
                &format!("DELETE FROM runs WHERE id IN ({PRUNABLE_RUNS})"),
                [cut],
            )?;
            let health_rows = State::prune_health(tx, older_than)?;
            let notice_events = tx.execute("DELETE FROM notice_events WHERE at < ?1", [cut])?;
            // Seerr's cleanups go with their actions; one still waiting has no action left to
            // wait for.
            tx.execute(
                "DELETE FROM seerr_cleanups WHERE action_id NOT IN (SELECT id FROM actions)",
                [],
            )?;
            Ok(PruneCounts {
                runs: runs as u64,
                actions: actions as u64,
                health_rows,
                notice_events: notice_events as u64,
            })
        })
    }
}

/// Replacing the live database by renaming over it would leave this connection writing to an
/// unlinked file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// All pages in one step: a step reads under one WAL snapshot, so the copy is consistent and never
/// restarts however busy the writer is, and in WAL mode it does not block the writer. A step can
/// still meet a lock (a checkpoint, a writer in rollback mode): retry those for the busy timeout.
fn copy_all_pages(from: &Connection, to: &mut Connection) -> rusqlite::Result<()> {
    let backup = Backup::new(from, to)?;
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            // Busy, Locked (and any future non-final result): wait and retry.
            _ if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                    None,
                ));
            }
        }
    }
}

fn temp_path(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state.db".to_owned());
    dest.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

fn put_in_place(tmp: &Path, dest: &Path) -> Result<(), Cause> {
    fs::rename(tmp, dest)?;
    // The rename is durable only once the directory is synced.
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}
