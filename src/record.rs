//! The pass's side of the state file: take the run lock and open the journal, settle what a
//! killed pass left in flight, keep a new plan from repeating a deletion already done, and write
//! each deletion's intent before the *arr call and its outcome after it.
//!
//! The rule throughout: the *arrs are the truth about what exists. An action left `started` is
//! settled by asking whether its target is still there, never by sending the DELETE again; a
//! target still there is simply planned anew from the current inventory.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use jiff::Timestamp;

use crate::apply::{Journal, Outcome};
use crate::clients::http::ApiError;
use crate::inventory::Sources;
use crate::plan::{Decision, Kind, Plan, Target, Verdict};
use crate::state::{
    ActionId, ActionRow, LockError, NewAction, RunLock, State, StateError, TargetKey,
};

/// Why the journal could not be opened or kept.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    State(#[from] StateError),
    /// The *arr could not say whether an interrupted deletion happened.
    #[error("cannot settle the deletions an interrupted pass left in flight: {0}")]
    Settle(#[from] ApiError),
}

/// The run lock and the journal of one pass. The lock is released when this is dropped.
pub struct Opened {
    pub lock: RunLock,
    pub state: State,
}

/// Takes the run lock next to `path`, then opens (creating or migrating) the state file.
/// The lock comes first so that two passes never migrate or settle at once.
pub fn open_for_pass(path: &Path, now: Timestamp) -> Result<Opened, RecordError> {
    let lock = RunLock::acquire(&RunLock::path_for(path), now)?;
    let state = State::open(path)?;
    Ok(Opened { lock, state })
}

/// What [`settle_interrupted`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Settled {
    /// Passes that never recorded their end, now marked interrupted.
    pub interrupted: Vec<String>,
    /// Started actions whose target is gone: recorded as done.
    pub gone: usize,
    /// Started actions whose target is still there: closed; the new plan decides again.
    pub present: usize,
}

/// Closes every pass that died without recording its end, then settles every action left
/// `started` by asking its *arr whether the target still exists. Call it under the run lock,
/// before the new pass begins.
pub async fn settle_interrupted(
    state: &mut State,
    sources: &Sources,
    now: Timestamp,
) -> Result<Settled, RecordError> {
    let mut settled = Settled::default();
    for run in state.unfinished_runs()? {
        tracing::warn!(
            run_id = run.run_key,
            pid = run.pid,
            "pass {} (pid {}, started {}) never finished; marking it interrupted",
            run.run_key,
            run.pid,
            run.started_at
        );
        state.mark_interrupted(run.id, now)?;
        settled.interrupted.push(run.run_key);
    }
    for action in state.started_actions()? {
        match target_exists(&action, sources).await? {
            Some(false) => {
                tracing::info!(
                    run_id = action.run_key,
                    action = "delete",
                    title = %action.title,
                    "interrupted deletion of {} had gone through; recorded as done",
                    action.title
                );
                state.mark_done(action.id, Timestamp::now())?;
                settled.gone += 1;
            }
            Some(true) => {
                state.mark_skipped(
                    action.id,
                    "still present after the pass was interrupted; a later plan decides again",
                    Timestamp::now(),
                )?;
                settled.present += 1;
            }
            None => tracing::warn!(
                run_id = action.run_key,
                title = %action.title,
                "cannot settle the interrupted deletion of {}: its service is not configured \
                 or its record is unreadable; it stays pending",
                action.title
            ),
        }
    }
    Ok(settled)
}

/// Whether the target of a started action still exists; `None` when it cannot be told.
/// A Sonarr target counts as gone once any of its files is gone: its bulk delete ran.
async fn target_exists(action: &ActionRow, sources: &Sources) -> Result<Option<bool>, ApiError> {
    let Ok(target) = serde_json::from_str::<Target>(&action.target_json) else {
        return Ok(None);
    };
    match target {
        Target::Radarr { movie_id } => match &sources.radarr {
            Some(radarr) => Ok(Some(radarr.movie(movie_id).await?.is_some())),
            None => Ok(None),
        },
        Target::Sonarr {
            episode_file_ids, ..
        } => match &sources.sonarr {
            Some(sonarr) => {
                let found = sonarr.episode_files(&episode_file_ids).await?;
                let found: HashSet<i32> = found.iter().map(|f| f.id).collect();
                Ok(Some(episode_file_ids.iter().all(|id| found.contains(id))))
            }
            None => Ok(None),
        },
    }
}

/// The journal's key for a decision's target.
pub fn target_key(decision: &Decision) -> TargetKey {
    match &decision.target {
        Target::Radarr { movie_id } => TargetKey::radarr_movie(i64::from(*movie_id)),
        Target::Sonarr {
            series_id,
            episode_file_ids,
            ..
        } => {
            let files: Vec<i64> = episode_file_ids.iter().map(|&id| i64::from(id)).collect();
            match decision.kind {
                Kind::Season => TargetKey::sonarr_season(i64::from(*series_id), &files),
                Kind::Movie | Kind::Episode => {
                    TargetKey::sonarr_episode(i64::from(*series_id), &files)
                }
            }
        }
    }
}

/// Drops from `plan` every deletion a live pass already carried out, and returns them. The *arr
/// should no longer list such a target; if it still does, deleting twice is not the answer.
pub fn drop_done(plan: &mut Plan, done: &HashSet<TargetKey>) -> Vec<Decision> {
    if done.is_empty() {
        return Vec::new();
    }
    let (dropped, kept): (Vec<Decision>, Vec<Decision>) = std::mem::take(&mut plan.decisions)
        .into_iter()
        .partition(|d| d.verdict == Verdict::Delete && done.contains(&target_key(d)));
    plan.decisions = kept;
    dropped
}

/// The plan's deletions as journal records, with their indexes in `plan.decisions`.
pub fn new_actions(plan: &Plan) -> (Vec<usize>, Vec<NewAction>) {
    plan.decisions
        .iter()
        .enumerate()
        .filter(|(_, d)| d.verdict == Verdict::Delete)
        .map(|(i, d)| {
            let action = NewAction {
                target: target_key(d),
                title: d.title.clone(),
                reason: d.reason.to_string(),
                bytes: d.bytes,
                // Serializing a plain enum of integers cannot fail.
                target_json: serde_json::to_string(&d.target).unwrap_or_default(),
            };
            (i, action)
        })
        .unzip()
}

/// Writes each deletion's life into the journal as [`crate::apply`] carries it out.
pub struct PassJournal<'s> {
    state: &'s mut State,
    /// Decision index → its action record.
    actions: HashMap<usize, ActionId>,
}

impl<'s> PassJournal<'s> {
    pub fn new(state: &'s mut State, decisions: &[usize], ids: &[ActionId]) -> Self {
        PassJournal {
            state,
            actions: decisions.iter().copied().zip(ids.iter().copied()).collect(),
        }
    }

    fn each(
        &mut self,
        decisions: &[usize],
        mut write: impl FnMut(&mut State, ActionId) -> Result<(), StateError>,
    ) -> Result<(), String> {
        for i in decisions {
            let Some(&id) = self.actions.get(i) else {
                return Err(format!("decision {i} has no action record"));
            };
            write(self.state, id).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

impl Journal for PassJournal<'_> {
    fn started(&mut self, decisions: &[usize]) -> Result<(), String> {
        self.each(decisions, |s, id| s.mark_started(id, Timestamp::now()))
    }

    fn finished(&mut self, decisions: &[usize], outcome: &Outcome) -> Result<(), String> {
        self.each(decisions, |s, id| {
            let now = Timestamp::now();
            match outcome {
                Outcome::Deleted => s.mark_done(id, now),
                Outcome::AlreadyGone => {
                    s.mark_skipped(id, "already gone: the *arr no longer knew it", now)
                }
                Outcome::Failed(err) => s.mark_failed(id, err, now),
                Outcome::WouldDelete | Outcome::NotAttempted => {
                    s.mark_skipped(id, "not carried out", now)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Reason;

    fn decision(verdict: Verdict, kind: Kind, target: Target) -> Decision {
        Decision {
            verdict,
            kind,
            title: "t".into(),
            target,
            bytes: 1,
            reason: Reason::Playing,
        }
    }

    fn season(files: Vec<i32>) -> Target {
        Target::Sonarr {
            series_id: 3,
            season: 1,
            episode_ids: vec![1, 2],
            episode_file_ids: files,
        }
    }

    #[test]
    fn done_deletions_leave_the_plan_and_nothing_else_does() {
        let mut plan = Plan {
            decisions: vec![
                decision(Verdict::Delete, Kind::Movie, Target::Radarr { movie_id: 1 }),
                decision(Verdict::Delete, Kind::Movie, Target::Radarr { movie_id: 2 }),
                decision(Verdict::Delete, Kind::Season, season(vec![20, 10])),
                // A re-downloaded season has new file ids: a new target.
                decision(Verdict::Delete, Kind::Season, season(vec![30, 10])),
                // A kept item is never dropped, whatever the journal says.
                decision(Verdict::Keep, Kind::Movie, Target::Radarr { movie_id: 9 }),
            ],
            ..Plan::default()
        };
        let done: HashSet<TargetKey> = [
            TargetKey::radarr_movie(1),
            TargetKey::radarr_movie(9),
            TargetKey::sonarr_season(3, &[10, 20]),
            // Same files as an episode target: a different key.
            TargetKey::sonarr_episode(3, &[10, 30]),
        ]
        .into_iter()
        .collect();
        let dropped = drop_done(&mut plan, &done);
        assert_eq!(dropped.len(), 2);
        let left: Vec<&Target> = plan.decisions.iter().map(|d| &d.target).collect();
        assert_eq!(
            left,
            vec![
                &Target::Radarr { movie_id: 2 },
                &season(vec![30, 10]),
                &Target::Radarr { movie_id: 9 },
            ]
        );
    }

    #[test]
    fn actions_are_recorded_for_deletions_only_with_a_readable_target() {
        let plan = Plan {
            decisions: vec![
                decision(Verdict::Keep, Kind::Movie, Target::Radarr { movie_id: 9 }),
                decision(Verdict::Delete, Kind::Season, season(vec![20, 10])),
            ],
            ..Plan::default()
        };
        let (indexes, actions) = new_actions(&plan);
        assert_eq!(indexes, vec![1]);
        assert_eq!(actions[0].target, TargetKey::sonarr_season(3, &[10, 20]));
        assert_eq!(actions[0].reason, "playing right now");
        let back: Target = serde_json::from_str(&actions[0].target_json).expect("round trip");
        assert_eq!(back, season(vec![20, 10]));
    }
}
