//! What Seerr still holds of what was deleted (`seerr_cleanups`): one row per action that
//! deletes a movie or a whole season, written with the actions before anything is deleted, so
//! that a crash between the deletion and Seerr's cleanup loses nothing. A row waits until its
//! action is done; then each pass with Seerr configured tries it, until Seerr took the change
//! (`cleaned`), held nothing of it (`not_found`), or a week of failures has passed (`failed`).

use std::fmt;

use jiff::Timestamp;
use rusqlite::params;

use super::types::ActionId;
use super::{timestamp, to_secs, RunId, State, StateError};

/// What Seerr is asked to forget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CleanupKind {
    /// A movie: its media record, with its requests.
    Movie,
    /// A season: taken out of the requests that hold it.
    Season,
    /// A season of a series whose every season went in the same run: once all of them are
    /// done, the series' media record goes, as a movie's does.
    Series,
}

impl CleanupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CleanupKind::Movie => "movie",
            CleanupKind::Season => "season",
            CleanupKind::Series => "series",
        }
    }

    fn parse(s: &str) -> Option<CleanupKind> {
        match s {
            "movie" => Some(CleanupKind::Movie),
            "season" => Some(CleanupKind::Season),
            "series" => Some(CleanupKind::Series),
            _ => None,
        }
    }
}

/// How a cleanup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CleanupEnd {
    /// Seerr took the change: the title can be requested again.
    Cleaned,
    /// Seerr held nothing of it.
    NotFound,
    /// Given up on after failing for too long.
    Failed,
}

impl CleanupEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            CleanupEnd::Cleaned => "cleaned",
            CleanupEnd::NotFound => "not_found",
            CleanupEnd::Failed => "failed",
        }
    }
}

impl fmt::Display for CleanupEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CleanupEnd::Cleaned => "cleaned",
            CleanupEnd::NotFound => "not found",
            CleanupEnd::Failed => "failed",
        })
    }
}

/// A cleanup to keep with the action that deletes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCleanup {
    pub action: ActionId,
    pub kind: CleanupKind,
    pub tmdb_id: Option<i64>,
    pub tvdb_id: Option<i64>,
    /// The season (seasons and series).
    pub season: Option<i32>,
    /// The series it belongs to, among the run's rows (`<instance>:<sonarr id>`).
    pub series_key: Option<String>,
}

/// A cleanup whose action is done: Seerr may be asked now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueCleanup {
    pub id: i64,
    pub action: ActionId,
    pub kind: CleanupKind,
    pub tmdb_id: Option<i64>,
    pub tvdb_id: Option<i64>,
    pub season: Option<i32>,
    pub title: String,
    pub attempts: u32,
    pub created_at: Timestamp,
    /// For [`CleanupKind::Series`]: a season of the same series in the same run is still
    /// planned or in flight, so the series cannot be called gone yet.
    pub siblings_open: bool,
    /// For [`CleanupKind::Series`]: a season of the same series in the same run was not
    /// deleted after all, so only this season is gone.
    pub siblings_kept: bool,
}

/// Sibling rows: the other seasons of the same series in the same run.
const SIBLINGS: &str = "FROM seerr_cleanups s JOIN actions sa ON sa.id = s.action_id
     WHERE s.run_id = c.run_id AND s.series_key = c.series_key AND s.id != c.id";

/// Keeps `cleanups` for the actions of run `run`, in the transaction that plans them.
pub(super) fn insert_cleanups(
    tx: &rusqlite::Transaction<'_>,
    run: RunId,
    cleanups: &[NewCleanup],
    now: Timestamp,
) -> rusqlite::Result<()> {
    let mut insert = tx.prepare(
        "INSERT INTO seerr_cleanups (action_id, run_id, kind, tmdb_id, tvdb_id, season,
                                     series_key, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
    )?;
    for c in cleanups {
        insert.execute(params![
            c.action.0,
            run.0,
            c.kind.as_str(),
            c.tmdb_id,
            c.tvdb_id,
            c.season,
            c.series_key,
            to_secs(now)
        ])?;
    }
    Ok(())
}

impl State {
    /// The waiting cleanups whose action is done, oldest first.
    pub fn due_cleanups(&self) -> Result<Vec<DueCleanup>, StateError> {
        let sql = format!(
            "SELECT c.id, c.action_id, c.kind, c.tmdb_id, c.tvdb_id, c.season, a.title,
                    c.attempts, c.created_at,
                    EXISTS (SELECT 1 {SIBLINGS} AND sa.state IN ('planned', 'started')),
                    EXISTS (SELECT 1 {SIBLINGS} AND sa.state IN ('failed', 'skipped'))
             FROM seerr_cleanups c JOIN actions a ON a.id = c.action_id
             WHERE c.state = 'waiting' AND a.state = 'done'
             ORDER BY c.id"
        );
        self.read(|c| {
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map([], |r| {
                let kind: String = r.get(2)?;
                Ok(DueCleanup {
                    id: r.get(0)?,
                    action: ActionId(r.get(1)?),
                    // The CHECK constraint allows no other value.
                    kind: CleanupKind::parse(&kind).unwrap_or(CleanupKind::Season),
                    tmdb_id: r.get(3)?,
                    tvdb_id: r.get(4)?,
                    season: r.get(5)?,
                    title: r.get(6)?,
                    attempts: r.get(7)?,
                    created_at: timestamp(r, 8)?,
                    siblings_open: r.get(9)?,
                    siblings_kept: r.get(10)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Cleanup `id` ended as `end`, with `detail` for `history`.
    pub fn end_cleanup(
        &mut self,
        id: i64,
        end: CleanupEnd,
        detail: &str,
        now: Timestamp,
    ) -> Result<(), StateError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE seerr_cleanups SET state = ?2, detail = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, end.as_str(), detail, to_secs(now)],
            )?;
            Ok(())
        })
    }

    /// Cleanup `id` failed this time (`error`); it is tried again at the next pass.
    pub fn retry_cleanup(
        &mut self,
        id: i64,
        error: &str,
        now: Timestamp,
    ) -> Result<(), StateError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE seerr_cleanups SET attempts = attempts + 1, detail = ?2, updated_at = ?3
                 WHERE id = ?1",
                params![id, error, to_secs(now)],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests;
