//! The pass's side of the state file: take the run lock and open the journal, settle what a
//! killed pass left in flight, keep a new plan from repeating a deletion already done, and write
//! each deletion's intent before the *arr call and its outcome after it.
//!
//! The rule throughout: the *arrs are the truth about what exists. An action left `started` is
//! settled by asking whether its target is still there, never by sending the DELETE again, and
//! only once the request that may still be running could no longer be; a target still there is
//! left alone for a pass (the delete may still land) and then planned anew.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;

use crate::apply::{Journal, Outcome};
use crate::clients::http::Class;
use crate::clients::Sources;
use crate::library::{Channels, Quality};
use crate::plan::{Decision, Kind, Plan, Reason, Target, Verdict};
use crate::state::{
    ActionId, ActionRow, LockError, LostMedia, NewAction, RunLock, State, StateError, TargetKey,
};

/// Why the journal could not be opened or kept.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    State(#[from] StateError),
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
    /// Started actions whose target was still there a second time: closed; the new plan
    /// decides again.
    pub present: usize,
    /// What this pass must leave alone: a deletion of it is in doubt or could not be settled.
    pub held: Vec<Held>,
}

/// A target a pass leaves alone, and why (see [`hold`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The *arr instance that holds it.
    pub instance: String,
    pub what: Holding,
    pub why: String,
}

/// What a [`Held`] keeps from being deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holding {
    /// A Radarr movie, by id.
    Movie(i32),
    /// Every file of a Sonarr series, by id: one bulk call may cover several of its seasons.
    Series(i32),
}

/// The note on an action whose target was still there when a pass settled it: a deletion
/// slower than its client's deadline may still land. The next pass asks again; if the target
/// is still there then, the deletion did not take effect.
const IN_DOUBT: &str = "in doubt: still present after the pass was interrupted";

/// Closes every pass that died without recording its end, then settles every action left
/// `started` by asking its *arr whether the target still exists. Call it under the run lock,
/// before the new pass begins.
///
/// A server carries out a request whose client has died. So before asking, this waits until
/// the last request of a dead pass could no longer be running: its deadline (the longest a
/// write may take, retries included) counted from the pass's last journal write. Then:
///
/// - target gone: the deletion happened, and is recorded as done by the pass that sent it;
/// - target still there, first time: in doubt. The action stays started with a note, and its
///   target is held out of this pass (see [`Settled::held`]), so that no second DELETE can meet
///   a first one still executing;
/// - still there at the next pass: it did not take effect; closed, and planned afresh;
/// - the *arr cannot say (an error, an unreadable record): the action stays pending, its target
///   is held, and the pass goes on. Settling never fails a pass; a later one asks again.
pub async fn settle_interrupted(
    state: &mut State,
    sources: &Sources,
    now: Timestamp,
) -> Result<Settled, RecordError> {
    let mut settled = Settled::default();
    let mut last_writes = HashMap::new();
    let unfinished = state.unfinished_runs()?;
    // Read before marking them interrupted: that is a write too.
    for run in &unfinished {
        if let Some(at) = state.last_write(run.id)? {
            last_writes.insert(run.id, at);
        }
    }
    for run in unfinished {
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
    let started = state.started_actions()?;
    if started.is_empty() {
        return Ok(settled);
    }
    for action in &started {
        if let std::collections::hash_map::Entry::Vacant(slot) = last_writes.entry(action.run_id) {
            if let Some(at) = state.last_write(action.run_id)? {
                slot.insert(at);
            }
        }
    }
    wait_for_requests_in_flight(&started, &last_writes, sources, now).await;

    let mut episodes_now = EpisodesNow::new();
    for action in started {
        let existence = match serde_json::from_str::<Target>(&action.target_json) {
            Err(_) => Existence::Unknown("its record in the state file is unreadable".into()),
            Ok(target) => existence(&target, sources, &mut episodes_now).await,
        };
        let holding = holding_of(&action);
        match existence {
            Existence::Gone | Existence::Partly => {
                let partly = existence == Existence::Partly;
                tracing::info!(
                    run_id = action.run_key,
                    action = "delete",
                    title = %action.title,
                    "the interrupted deletion of {} had gone through{}; recorded as done",
                    action.title,
                    if partly { " (for some of its files)" } else { "" }
                );
                state.mark_done(action.id, Timestamp::now())?;
                settled.gone += 1;
            }
            Existence::Present if is_in_doubt(&action) => {
                tracing::info!(
                    run_id = action.run_key,
                    title = %action.title,
                    "the interrupted deletion of {} did not take effect; a new plan decides again",
                    action.title
                );
                state.mark_skipped(
                    action.id,
                    "still present after the pass was interrupted: the deletion did not take \
                     effect; a later plan decides again",
                    Timestamp::now(),
                )?;
                settled.present += 1;
            }
            Existence::Present => {
                let note = format!("{IN_DOUBT} (seen {now}); a later pass asks again");
                tracing::warn!(
                    run_id = action.run_key,
                    title = %action.title,
                    "{} is still there after the interrupted pass {} sent its deletion; that \
                     deletion may still land, so it is left alone this pass",
                    action.title,
                    action.run_key
                );
                state.note_in_doubt(action.id, &note)?;
                settled.held.extend(holding.map(|what| Held {
                    instance: action.target.instance().to_owned(),
                    what,
                    why: format!(
                        "a deletion sent by the interrupted pass {} may still land",
                        action.run_key
                    ),
                }));
            }
            Existence::Unknown(why) => {
                tracing::warn!(
                    run_id = action.run_key,
                    title = %action.title,
                    "cannot settle the interrupted deletion of {}: {why}; it stays pending and \
                     is left alone this pass",
                    action.title
                );
                state.note_in_doubt(
                    action.id,
                    &format!("not yet settled ({now}): {why}; a later pass asks again"),
                )?;
                settled.held.extend(holding.map(|what| Held {
                    instance: action.target.instance().to_owned(),
                    what,
                    why: format!("an interrupted deletion of it could not be settled: {why}"),
                }));
            }
        }
    }
    Ok(settled)
}

/// What `plan` holds without settling: the target of every deletion a pass started and no pass
/// settled yet. `run` asks the *arr first and may find it went through (then it is not planned
/// at all) or did not take effect twice (then it is planned anew); until then, it is kept.
pub fn unsettled(state: &State) -> Result<Vec<Held>, StateError> {
    Ok(state
        .started_actions()?
        .iter()
        .filter_map(|action| {
            Some(Held {
                instance: action.target.instance().to_owned(),
                what: holding_of(action)?,
                why: format!(
                    "a deletion of it started by pass {} is not settled yet; `run` asks its \
                     server first",
                    action.run_key
                ),
            })
        })
        .collect())
}

/// Sleeps until every request the started actions' passes may have left running is past its
/// deadline.
async fn wait_for_requests_in_flight(
    started: &[ActionRow],
    last_writes: &HashMap<crate::state::RunId, Timestamp>,
    sources: &Sources,
    now: Timestamp,
) {
    let deadline = started
        .iter()
        .filter_map(|action| {
            let instance = action.target.instance();
            let longest = match action.target.service() {
                crate::state::Service::Radarr => sources.radarr_named(instance)?.settings(),
                crate::state::Service::Sonarr => sources.sonarr_named(instance)?.settings(),
            }
            .longest(Class::Write);
            let since = last_writes
                .get(&action.run_id)
                .copied()
                .into_iter()
                .chain(action.started_at)
                .max()?;
            // The journal keeps whole seconds: one more covers the part it dropped.
            let span = jiff::SignedDuration::try_from(longest + Duration::from_secs(1)).ok()?;
            since.checked_add(span).ok()
        })
        .max();
    let Some(deadline) = deadline.filter(|d| *d > now) else {
        return;
    };
    let wait = now.duration_until(deadline).unsigned_abs();
    tracing::info!(
        wait_s = wait.as_secs(),
        "waiting {} for the last request of an interrupted pass to be over before settling it",
        humantime::format_duration(Duration::from_secs(wait.as_secs().max(1)))
    );
    tokio::time::sleep(wait).await;
}

/// Whether a target of a started action still exists.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Existence {
    Gone,
    /// Some of a Sonarr target's episodes lost their files, others kept them: the bulk delete
    /// ran and stopped midway (or someone deleted part). What went is on record; a new plan
    /// decides on the rest.
    Partly,
    Present,
    Unknown(String),
}

/// The file of each episode of a series as its Sonarr instance lists it now, by (instance,
/// series id); or why it could not be listed.
type EpisodesNow = HashMap<(String, i32), Result<HashMap<i32, i32>, String>>;

/// Asks the *arr instance that holds `target` about it. A Sonarr series is listed once per
/// pass, whatever number of its actions are settled (`episodes_now` caches it).
async fn existence(
    target: &Target,
    sources: &Sources,
    episodes_now: &mut EpisodesNow,
) -> Existence {
    match target {
        Target::Radarr { instance, movie_id } => match sources.radarr_named(instance) {
            None => Existence::Unknown(format!("no Radarr called {instance} is configured")),
            Some(radarr) => match radarr.movie(*movie_id).await {
                Ok(None) => Existence::Gone,
                Ok(Some(_)) => Existence::Present,
                Err(err) => Existence::Unknown(err.to_string()),
            },
        },
        Target::Sonarr {
            instance,
            series_id,
            episode_ids,
            ..
        } => {
            let Some(sonarr) = sources.sonarr_named(instance) else {
                return Existence::Unknown(format!("no Sonarr called {instance} is configured"));
            };
            let key = (instance.to_string(), *series_id);
            if !episodes_now.contains_key(&key) {
                let listed = sonarr
                    .file_of_each_episode(*series_id)
                    .await
                    .map_err(|e| e.to_string());
                episodes_now.insert(key.clone(), listed);
            }
            match episodes_now.get(&key) {
                Some(Ok(files)) => sonarr_existence(episode_ids, files),
                Some(Err(why)) => Existence::Unknown(why.clone()),
                None => Existence::Unknown("its series could not be listed".into()),
            }
        }
    }
}

/// Judges a Sonarr target by the files its episodes have now: none of them has a file → gone;
/// each still has one (the same, or a newer one that replaced it) → present; some → partly.
fn sonarr_existence(episode_ids: &[i32], files_now: &HashMap<i32, i32>) -> Existence {
    if episode_ids.is_empty() {
        return Existence::Unknown("its record names no episodes".into());
    }
    let with_file = episode_ids
        .iter()
        .filter(|e| files_now.get(e).is_some_and(|&f| f != 0))
        .count();
    match with_file {
        0 => Existence::Gone,
        n if n == episode_ids.len() => Existence::Present,
        _ => Existence::Partly,
    }
}

fn is_in_doubt(action: &ActionRow) -> bool {
    action
        .error
        .as_deref()
        .is_some_and(|e| e.starts_with(IN_DOUBT))
}

fn holding_of(action: &ActionRow) -> Option<Holding> {
    let id = i32::try_from(action.target.target_id()).ok()?;
    Some(match action.target.service() {
        crate::state::Service::Radarr => Holding::Movie(id),
        crate::state::Service::Sonarr => Holding::Series(id),
    })
}

/// Turns every deletion of `plan` that a [`Held`] covers into a keep, with its reason.
pub fn hold(plan: &mut Plan, held: &[Held]) -> usize {
    let mut n = 0;
    for d in plan
        .decisions
        .iter_mut()
        .filter(|d| d.verdict == Verdict::Delete)
    {
        let covering = held.iter().find(|h| {
            h.instance == d.target.instance()
                && match (h.what, &d.target) {
                    (Holding::Movie(id), Target::Radarr { movie_id, .. }) => id == *movie_id,
                    (Holding::Series(id), Target::Sonarr { series_id, .. }) => id == *series_id,
                    _ => false,
                }
        });
        if let Some(h) = covering {
            d.verdict = Verdict::Keep;
            d.reason = Reason::InDoubt {
                why: h.why.as_str().into(),
            };
            n += 1;
        }
    }
    n
}

/// The journal's key for a decision's target.
pub fn target_key(decision: &Decision) -> TargetKey {
    let key = match &decision.target {
        Target::Radarr { movie_id, .. } => TargetKey::radarr_movie(i64::from(*movie_id)),
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
    };
    key.on(decision.target.instance())
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
                title: d.title.to_string(),
                reason: d.reason.to_string(),
                bytes: d.bytes,
                // Serializing a plain enum of integers cannot fail.
                target_json: serde_json::to_string(&d.target).unwrap_or_default(),
                lost: lost_media(d.quality(plan)),
            };
            (i, action)
        })
        .unzip()
}

/// What the journal keeps of a file's quality, for `history`.
pub fn lost_media(q: &Quality) -> LostMedia {
    let text = |s: &Option<Box<str>>| s.as_deref().map(str::to_owned);
    LostMedia {
        quality: text(&q.name),
        resolution: q.resolution.map(u32::from),
        video_resolution: text(&q.video_resolution),
        audio_codec: text(&q.audio_codec),
        audio_channels: q.audio_channels.map(Channels::as_f64),
        lossless: q.lossless(),
    }
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
                Outcome::Changed(why) | Outcome::Unneeded(why) => s.mark_skipped(id, why, now),
                // Stays started: the next pass settles it with the *arr.
                Outcome::InDoubt(why) => s.note_in_doubt(id, why),
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

    /// Movie `id` of the Radarr named `radarr`.
    fn movie(id: i32) -> Target {
        Target::Radarr {
            instance: "radarr".into(),
            movie_id: id,
        }
    }
    use crate::plan::Reason;

    fn decision(verdict: Verdict, kind: Kind, target: Target) -> Decision {
        Decision {
            verdict,
            kind,
            title: "t".into(),
            target,
            bytes: 1,
            reason: Reason::Playing,
            watched_at: crate::plan::LastPlay::NONE,
            jellyfin_id: None,
            quality: Default::default(),
        }
    }

    fn season(files: Vec<i32>) -> Target {
        Target::Sonarr {
            instance: "sonarr".into(),
            series_id: 3,
            season: 1,
            episode_ids: [1, 2].into_iter().collect(),
            episode_file_ids: files.into(),
        }
    }

    #[test]
    fn done_deletions_leave_the_plan_and_nothing_else_does() {
        let mut plan = Plan {
            decisions: vec![
                decision(Verdict::Delete, Kind::Movie, movie(1)),
                decision(Verdict::Delete, Kind::Movie, movie(2)),
                decision(Verdict::Delete, Kind::Season, season(vec![20, 10])),
                // A re-downloaded season has new file ids: a new target.
                decision(Verdict::Delete, Kind::Season, season(vec![30, 10])),
                // A kept item is never dropped, whatever the journal says.
                decision(Verdict::Keep, Kind::Movie, movie(9)),
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
                &Target::Radarr {
                    instance: "radarr".into(),
                    movie_id: 2
                },
                &season(vec![30, 10]),
                &Target::Radarr {
                    instance: "radarr".into(),
                    movie_id: 9
                },
            ]
        );
    }

    #[test]
    fn a_sonarr_target_is_judged_by_the_files_its_episodes_have_now() {
        let files = |pairs: &[(i32, i32)]| pairs.iter().copied().collect::<HashMap<i32, i32>>();
        // Both episodes lost their files (or left Sonarr): the deletion went through.
        assert_eq!(
            sonarr_existence(&[1, 2], &files(&[(1, 0)])),
            Existence::Gone
        );
        // Both still have one, the planned file or a newer one: nothing was deleted.
        assert_eq!(
            sonarr_existence(&[1, 2], &files(&[(1, 20), (2, 99)])),
            Existence::Present
        );
        assert_eq!(
            sonarr_existence(&[1, 2], &files(&[(1, 0), (2, 20)])),
            Existence::Partly
        );
        assert!(matches!(
            sonarr_existence(&[], &files(&[])),
            Existence::Unknown(_)
        ));
    }

    #[test]
    fn what_is_held_is_kept_with_its_reason_and_nothing_else_is() {
        let mut plan = Plan {
            decisions: vec![
                decision(Verdict::Delete, Kind::Movie, movie(1)),
                decision(Verdict::Delete, Kind::Movie, movie(2)),
                decision(Verdict::Delete, Kind::Season, season(vec![20, 10])),
            ],
            ..Plan::default()
        };
        let held = [
            Held {
                instance: "radarr".into(),
                what: Holding::Movie(2),
                why: "a deletion may still land".into(),
            },
            // Series 3 is the season's: any of its files may be in a bulk call still running.
            Held {
                instance: "sonarr".into(),
                what: Holding::Series(3),
                why: "could not be settled".into(),
            },
            // A movie id that is a series id elsewhere holds nothing of the series.
            Held {
                instance: "radarr".into(),
                what: Holding::Movie(3),
                why: "unrelated".into(),
            },
            // The same movie id in another Radarr is another movie.
            Held {
                instance: "4k".into(),
                what: Holding::Movie(1),
                why: "another instance".into(),
            },
        ];
        assert_eq!(hold(&mut plan, &held), 2);
        let verdicts: Vec<Verdict> = plan.decisions.iter().map(|d| d.verdict).collect();
        assert_eq!(verdicts, [Verdict::Delete, Verdict::Keep, Verdict::Keep]);
        assert_eq!(plan.decisions[1].reason.code(), "in_doubt");
        assert_eq!(
            plan.decisions[2].reason.to_string(),
            "in doubt: could not be settled"
        );
    }

    #[test]
    fn actions_are_recorded_for_deletions_only_with_a_readable_target() {
        let plan = Plan {
            decisions: vec![
                decision(Verdict::Keep, Kind::Movie, movie(9)),
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
        assert_eq!(actions[0].lost, LostMedia::default(), "nothing known of it");
    }

    #[test]
    fn an_action_records_what_its_file_is() {
        let mut plan = Plan {
            decisions: vec![decision(Verdict::Delete, Kind::Movie, movie(1))],
            ..Plan::default()
        };
        plan.decisions[0].quality = plan.qualities.intern(Quality {
            name: Some("Remux-2160p".into()),
            resolution: Some(2160),
            video_resolution: Some("3840x2160".into()),
            audio_codec: Some("TrueHD Atmos".into()),
            audio_channels: Channels::from_f64(7.1),
        });
        let (_, actions) = new_actions(&plan);
        assert_eq!(actions[0].lost, LostMedia::truehd_remux());
    }
}
