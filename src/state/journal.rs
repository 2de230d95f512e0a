//! Writing the journal: runs and the life of their actions. Each call is one committed
//! transaction, so what it records is on disk when it returns.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension, Transaction};

use super::seerr::{insert_cleanups, NewCleanup};
use super::types::{ActionId, ActionState, Mode, NewAction, Outcome, RunCounts, RunId};
use super::{to_secs, Failure, State, StateError};

/// The reason stored on a run found unfinished by a later pass.
pub const INTERRUPTED_REASON: &str =
    "the pass stopped without recording its end (crash, kill or reboot)";

/// The note stored on planned actions of an interrupted run: they were never attempted.
pub const NEVER_STARTED: &str = "the pass was interrupted before this action started";

impl State {
    /// Records the start of a pass; `run_key` is the id shown in logs and must be unique.
    pub fn begin_run(
        &mut self,
        run_key: &str,
        mode: Mode,
        now: Timestamp,
        pid: u32,
    ) -> Result<RunId, StateError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO runs (run_key, started_at, mode, pid) VALUES (?1, ?2, ?3, ?4)",
                params![run_key, to_secs(now), mode, pid],
            )?;
            Ok(RunId(tx.last_insert_rowid()))
        })
    }

    /// Records the end of a pass. A run ends once.
    pub fn finish_run(
        &mut self,
        run: RunId,
        outcome: Outcome,
        reason: Option<&str>,
        counts: RunCounts,
        now: Timestamp,
    ) -> Result<(), StateError> {
        self.write(|tx| {
            require_unfinished(tx, run, &format!("become {outcome}"))?;
            tx.execute(
                "UPDATE runs SET finished_at = ?2, outcome = ?3, reason = ?4, planned = ?5,
                    deleted = ?6, failed = ?7, kept = ?8, bytes_deleted = ?9
                 WHERE id = ?1",
                params![
                    run.0,
                    to_secs(now),
                    outcome,
                    reason,
                    counts.planned,
                    counts.deleted,
                    counts.failed,
                    counts.kept,
                    counts.bytes_deleted
                ],
            )?;
            Ok(())
        })
    }

    /// Stores the metrics of a pass (as the caller serialized them) on its run.
    pub fn set_run_metrics(&mut self, run: RunId, metrics: &str) -> Result<(), StateError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE runs SET metrics = ?2 WHERE id = ?1",
                params![run.0, metrics],
            )?;
            Ok(())
        })
    }

    /// Closes a run that never recorded its end. Its counts are taken from its actions as they
    /// stand; its planned actions become skipped (they were never attempted), while its started
    /// ones stay started until the caller settles them with the *arr.
    pub fn mark_interrupted(&mut self, run: RunId, now: Timestamp) -> Result<(), StateError> {
        self.write(|tx| {
            require_unfinished(tx, run, "become interrupted")?;
            tx.execute(
                "UPDATE actions SET state = 'skipped', error = ?2, finished_at = ?3
                 WHERE run_id = ?1 AND state = 'planned'",
                params![run.0, NEVER_STARTED, to_secs(now)],
            )?;
            tx.execute(
                "UPDATE runs SET finished_at = ?2, outcome = 'interrupted', reason = ?3,
                    planned = (SELECT count(*) FROM actions WHERE run_id = ?1),
                    deleted = (SELECT count(*) FROM actions WHERE run_id = ?1 AND state = 'done'),
                    failed = (SELECT count(*) FROM actions WHERE run_id = ?1 AND state = 'failed'),
                    bytes_deleted = (SELECT coalesce(sum(bytes), 0) FROM actions
                                     WHERE run_id = ?1 AND state = 'done')
                 WHERE id = ?1",
                params![run.0, to_secs(now), INTERRUPTED_REASON],
            )?;
            Ok(())
        })
    }

    /// Records the plan of a pass, all or nothing; the ids come back in the order given.
    pub fn plan_actions(
        &mut self,
        run: RunId,
        actions: &[NewAction],
        now: Timestamp,
    ) -> Result<Vec<ActionId>, StateError> {
        self.plan_actions_with(run, actions, now, |_| Vec::new())
    }

    /// The same, with what Seerr must forget of them (`cleanups`, given the actions' ids) in
    /// the same transaction: no action is on record without its cleanup.
    pub fn plan_actions_with(
        &mut self,
        run: RunId,
        actions: &[NewAction],
        now: Timestamp,
        cleanups: impl FnOnce(&[ActionId]) -> Vec<NewCleanup>,
    ) -> Result<Vec<ActionId>, StateError> {
        self.write(|tx| {
            require_unfinished(tx, run, "take new actions")?;
            let mut insert = tx.prepare(
                "INSERT INTO actions (run_id, service, target_id, kind, target_key, title, reason,
                                      bytes, target_json, planned_at, instance, quality, resolution,
                                      video_resolution, audio_codec, audio_channels, lossless)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                         ?17)",
            )?;
            let mut ids = Vec::with_capacity(actions.len());
            for a in actions {
                let lost = &a.lost;
                insert.execute(params![
                    run.0,
                    a.target.service(),
                    a.target.target_id(),
                    a.target.kind(),
                    a.target,
                    a.title,
                    a.reason,
                    a.bytes,
                    a.target_json,
                    to_secs(now),
                    a.target.instance(),
                    lost.quality,
                    lost.resolution.filter(|&r| r > 0),
                    lost.video_resolution,
                    lost.audio_codec,
                    lost.audio_channels.filter(|&c| c > 0.0 && c.is_finite()),
                    lost.lossless
                ])?;
                ids.push(ActionId(tx.last_insert_rowid()));
            }
            insert_cleanups(tx, run, &cleanups(&ids), now)?;
            Ok(ids)
        })
    }

    /// Skips, in one transaction, every action of `run` still `planned`: a dry run, or a pass that
    /// stopped before reaching them. `reason` is stored in each action's `error` note.
    pub fn skip_planned(
        &mut self,
        run: RunId,
        reason: &str,
        now: Timestamp,
    ) -> Result<u64, StateError> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE actions SET state = 'skipped', error = ?2, finished_at = ?3
                 WHERE run_id = ?1 AND state = 'planned'",
                params![run.0, reason, to_secs(now)],
            )?;
            Ok(n as u64)
        })
    }

    /// The intent: committed before the *arr call is sent. Only an action of a running pass can
    /// start, so a stale plan of an interrupted pass is never carried out.
    pub fn mark_started(&mut self, action: ActionId, now: Timestamp) -> Result<(), StateError> {
        self.transition(action, ActionState::Started, None, now)
    }

    /// The *arr confirmed the deletion (or, when settling, the target is gone).
    pub fn mark_done(&mut self, action: ActionId, now: Timestamp) -> Result<(), StateError> {
        self.transition(action, ActionState::Done, None, now)
    }

    /// The *arr call failed; `error` says how.
    pub fn mark_failed(
        &mut self,
        action: ActionId,
        error: &str,
        now: Timestamp,
    ) -> Result<(), StateError> {
        self.transition(action, ActionState::Failed, Some(error), now)
    }

    /// The action will not be carried out (paused, dry run, superseded); `reason` is stored in
    /// the action's `error` note.
    pub fn mark_skipped(
        &mut self,
        action: ActionId,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StateError> {
        self.transition(action, ActionState::Skipped, Some(reason), now)
    }

    /// Notes on a `started` action why it stays started: its outcome is still in doubt, and a
    /// later pass asks again. Not a transition; an action in any other state is left alone.
    pub fn note_in_doubt(&mut self, action: ActionId, note: &str) -> Result<(), StateError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE actions SET error = ?2 WHERE id = ?1 AND state = 'started'",
                params![action.0, note],
            )?;
            Ok(())
        })
    }

    fn transition(
        &mut self,
        action: ActionId,
        to: ActionState,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StateError> {
        self.write(|tx| {
            let (from, run_finished): (ActionState, bool) = tx
                .query_row(
                    "SELECT a.state, r.finished_at IS NOT NULL
                     FROM actions a JOIN runs r ON r.id = a.run_id WHERE a.id = ?1",
                    [action.0],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or(Failure::Missing {
                    entity: "action",
                    id: action.0,
                })?;
            let invalid = |from: String| Failure::Invalid {
                entity: "action",
                id: action.0,
                from,
                change: format!("become {to}"),
            };
            if !from.can_become(to) {
                return Err(invalid(from.as_str().to_owned()));
            }
            if to == ActionState::Started && run_finished {
                return Err(invalid(format!("{from} in a finished run")));
            }
            let sql = if to == ActionState::Started {
                "UPDATE actions SET state = ?2, started_at = ?3 WHERE id = ?1"
            } else {
                "UPDATE actions SET state = ?2, finished_at = ?3, error = ?4 WHERE id = ?1"
            };
            let mut stmt = tx.prepare(sql)?;
            if to == ActionState::Started {
                stmt.execute(params![action.0, to, to_secs(now)])?;
            } else {
                stmt.execute(params![action.0, to, to_secs(now), note])?;
            }
            Ok(())
        })
    }
}

/// Fails unless `run` exists and has not ended; `change` names what would be refused.
fn require_unfinished(tx: &Transaction<'_>, run: RunId, change: &str) -> Result<(), Failure> {
    let outcome: Option<Option<Outcome>> = tx
        .query_row("SELECT outcome FROM runs WHERE id = ?1", [run.0], |r| {
            r.get(0)
        })
        .optional()?;
    match outcome {
        None => Err(Failure::Missing {
            entity: "run",
            id: run.0,
        }),
        Some(None) => Ok(()),
        Some(Some(done)) => Err(Failure::Invalid {
            entity: "run",
            id: run.0,
            from: format!("finished ({done})"),
            change: change.to_owned(),
        }),
    }
}
