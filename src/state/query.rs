//! Reading the journal: what a new pass must settle or avoid, and what `status` and `history` show.

use std::collections::HashSet;

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension, Params, Row};

use super::types::{
    ActionId, ActionKind, ActionRow, HistoryRow, LostMedia, RunCounts, RunId, RunRow, TargetKey,
};
use super::{opt_timestamp, timestamp, to_secs, Failure, State, StateError};

const RUN_COLUMNS: &str = "r.id, r.run_key, r.started_at, r.finished_at, r.mode, r.outcome, \
     r.reason, r.pid, r.planned, r.deleted, r.failed, r.kept, r.bytes_deleted";

const ACTION_COLUMNS: &str = "a.id, a.run_id, r.run_key, a.target_key, a.title, a.reason, \
     a.bytes, a.target_json, a.state, a.error, a.planned_at, a.started_at, a.finished_at";

/// A `done` action counts only when the pass was live: a dry run deleted nothing.
const DONE_LIVE: &str = "a.state = 'done' AND r.mode = 'live'";

impl State {
    /// The run with this id, if it exists (it may have been pruned).
    pub fn run(&self, run: RunId) -> Result<Option<RunRow>, StateError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs r WHERE r.id = ?1");
        self.read(|c| Ok(c.query_row(&sql, [run.0], run_row).optional()?))
    }

    /// The pass that started last, finished or not.
    pub fn last_run(&self) -> Result<Option<RunRow>, StateError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs r ORDER BY r.started_at DESC, r.id DESC LIMIT 1"
        );
        self.read(|c| Ok(c.query_row(&sql, [], run_row).optional()?))
    }

    /// The metrics stored by the pass that finished last with any (see `set_run_metrics`).
    pub fn last_run_metrics(&self) -> Result<Option<String>, StateError> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT metrics FROM runs WHERE metrics IS NOT NULL
                 ORDER BY finished_at DESC, id DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()?)
        })
    }

    /// The figures `run` stored with its end (see `set_run_metrics`), if it did.
    pub fn run_metrics(&self, run: RunId) -> Result<Option<String>, StateError> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT metrics FROM runs WHERE id = ?1", [run.0], |row| {
                    row.get(0)
                })
                .optional()?
                .flatten(),
            )
        })
    }

    /// The dry runs that finished since `since`, newest first, each with the figures it stored:
    /// what `history` shows of them (a dry run records no actions).
    pub fn dry_runs(
        &self,
        since: Option<Timestamp>,
    ) -> Result<Vec<(RunRow, Option<String>)>, StateError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS}, r.metrics FROM runs r
             WHERE r.mode = 'dry-run' AND r.finished_at IS NOT NULL
               AND (?1 IS NULL OR r.finished_at >= ?1)
             ORDER BY r.finished_at DESC, r.id DESC"
        );
        self.rows(&sql, params![since.map(to_secs)], |r| {
            Ok((run_row(r)?, r.get(13)?))
        })
    }

    /// Passes that never recorded their end, oldest first: the ones to mark interrupted.
    pub fn unfinished_runs(&self) -> Result<Vec<RunRow>, StateError> {
        let sql =
            format!("SELECT {RUN_COLUMNS} FROM runs r WHERE r.finished_at IS NULL ORDER BY r.id");
        self.rows(&sql, [], run_row)
    }

    /// The last moment `run` wrote anything: its start, its end, or any of its actions' marks.
    /// A pass that died had its last request in flight at most that long before. `None` when
    /// the run does not exist.
    pub fn last_write(&self, run: RunId) -> Result<Option<Timestamp>, StateError> {
        let secs: Option<i64> = self.read(|c| {
            Ok(c.query_row(
                "SELECT max(r.started_at, coalesce(r.finished_at, 0),
                            coalesce((SELECT max(max(a.planned_at, coalesce(a.started_at, 0),
                                                 coalesce(a.finished_at, 0)))
                                      FROM actions a WHERE a.run_id = r.id), 0))
                 FROM runs r WHERE r.id = ?1",
                [run.0],
                |row| row.get(0),
            )
            .optional()?)
        })?;
        Ok(secs.and_then(|s| Timestamp::from_second(s).ok()))
    }

    /// Every action of a run, in plan order.
    pub fn run_actions(&self, run: RunId) -> Result<Vec<ActionRow>, StateError> {
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM actions a JOIN runs r ON r.id = a.run_id
             WHERE a.run_id = ?1 ORDER BY a.id"
        );
        self.rows(&sql, [run.0], action_row)
    }

    /// Actions left `started` by any run: the *arr may or may not have carried them out, so the
    /// caller asks it (target gone → `mark_done`, still present → `mark_skipped` and plan anew).
    pub fn started_actions(&self) -> Result<Vec<ActionRow>, StateError> {
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM actions a JOIN runs r ON r.id = a.run_id
             WHERE a.state = 'started' ORDER BY a.id"
        );
        self.rows(&sql, [], action_row)
    }

    /// For `status`: actions not yet carried out by passes still running (or that died
    /// unnoticed), and actions of any pass whose outcome is unknown until the next pass settles it.
    pub fn pending_actions(&self) -> Result<Vec<ActionRow>, StateError> {
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM actions a JOIN runs r ON r.id = a.run_id
             WHERE (a.state = 'planned' AND r.finished_at IS NULL) OR a.state = 'started'
             ORDER BY a.id"
        );
        self.rows(&sql, [], action_row)
    }

    /// Whether a live pass already carried out this exact target (see [`TargetKey`]).
    pub fn is_done(&self, target: &TargetKey) -> Result<bool, StateError> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM actions a JOIN runs r ON r.id = a.run_id
             WHERE a.service = ?1 AND a.target_key = ?2 AND {DONE_LIVE})"
        );
        self.read(|c| Ok(c.query_row(&sql, params![target.service(), target], |r| r.get(0))?))
    }

    /// Every target a live pass carried out, for filtering a whole plan at once.
    pub fn done_targets(&self) -> Result<HashSet<TargetKey>, StateError> {
        let sql = format!(
            "SELECT DISTINCT a.target_key FROM actions a JOIN runs r ON r.id = a.run_id
             WHERE {DONE_LIVE}"
        );
        self.read(|c| {
            let mut stmt = c.prepare(&sql)?;
            let keys = stmt.query_map([], |r| r.get(0))?;
            Ok(keys.collect::<rusqlite::Result<HashSet<TargetKey>>>()?)
        })
    }

    /// What live passes deleted, newest first; optionally only since a time, of one kind, and
    /// through one *arr instance (by name).
    pub fn history(
        &self,
        since: Option<Timestamp>,
        kind: Option<ActionKind>,
        instance: Option<&str>,
    ) -> Result<Vec<HistoryRow>, StateError> {
        let sql = format!(
            "SELECT a.id, r.run_key, a.finished_at, a.target_key, a.title, a.reason, a.bytes,
                    c.state, c.detail, a.quality, a.resolution, a.video_resolution, a.audio_codec,
                    a.audio_channels, a.lossless
             FROM actions a JOIN runs r ON r.id = a.run_id
             LEFT JOIN seerr_cleanups c ON c.action_id = a.id
             WHERE {DONE_LIVE}
               AND (?1 IS NULL OR a.finished_at >= ?1) AND (?2 IS NULL OR a.kind = ?2)
               AND (?3 IS NULL OR a.instance = ?3)
             ORDER BY a.finished_at DESC, a.id DESC"
        );
        self.rows(
            &sql,
            params![since.map(to_secs), kind, instance],
            history_row,
        )
    }

    fn rows<T>(
        &self,
        sql: &str,
        params: impl Params,
        map: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StateError> {
        self.read(|c| {
            let mut stmt = c.prepare(sql)?;
            let rows = stmt.query_map(params, map)?;
            rows.collect::<rusqlite::Result<Vec<T>>>()
                .map_err(Failure::from)
        })
    }
}

fn run_row(r: &Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        id: RunId(r.get(0)?),
        run_key: r.get(1)?,
        started_at: timestamp(r, 2)?,
        finished_at: opt_timestamp(r, 3)?,
        mode: r.get(4)?,
        outcome: r.get(5)?,
        reason: r.get(6)?,
        pid: r.get(7)?,
        counts: RunCounts {
            planned: r.get(8)?,
            deleted: r.get(9)?,
            failed: r.get(10)?,
            kept: r.get(11)?,
            bytes_deleted: r.get(12)?,
        },
    })
}

fn action_row(r: &Row<'_>) -> rusqlite::Result<ActionRow> {
    Ok(ActionRow {
        id: ActionId(r.get(0)?),
        run_id: RunId(r.get(1)?),
        run_key: r.get(2)?,
        target: r.get(3)?,
        title: r.get(4)?,
        reason: r.get(5)?,
        bytes: r.get(6)?,
        target_json: r.get(7)?,
        state: r.get(8)?,
        error: r.get(9)?,
        planned_at: timestamp(r, 10)?,
        started_at: opt_timestamp(r, 11)?,
        finished_at: opt_timestamp(r, 12)?,
    })
}

fn history_row(r: &Row<'_>) -> rusqlite::Result<HistoryRow> {
    Ok(HistoryRow {
        action_id: ActionId(r.get(0)?),
        run_key: r.get(1)?,
        deleted_at: timestamp(r, 2)?,
        target: r.get(3)?,
        title: r.get(4)?,
        reason: r.get(5)?,
        bytes: r.get(6)?,
        seerr: r.get(7)?,
        seerr_detail: r.get(8)?,
        lost: LostMedia {
            quality: r.get(9)?,
            resolution: r.get(10)?,
            video_resolution: r.get(11)?,
            audio_codec: r.get(12)?,
            audio_channels: r.get(13)?,
            lossless: r.get(14)?,
        },
    })
}
