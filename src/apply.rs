//! Carry out a plan's deletions through Radarr and Sonarr.
//!
//! A dry run walks the same path and logs the same decisions, but sends no write request at all.
//! A live run deletes movies one by one (`DELETE /api/v3/movie/{id}?deleteFiles=true`) and episode
//! files per series: first every episode is unmonitored (so Sonarr does not fetch it again), then
//! the files go in one bulk call for that series only (Sonarr's bulk delete mis-handles mixed series).
//!
//! A delete is never sent twice on a guess. The servers carry out a request whose client gave up,
//! so a delete without a clear answer is followed by a look (is the movie there? do the episodes
//! still have their files?), and stays in doubt for the next pass when the look cannot tell. When
//! Sonarr refuses a call because an id went stale since the plan, each deletion of that series is
//! judged against the series as it is now, and only those still as planned are sent again.
//!
//! The pass stops at once when an *arr says its storage is missing (a 409, or a root folder that is
//! not accessible): what was done stays done, the rest waits for a later pass. It also stops when a
//! server refuses the key or stays unreachable, since every further call would fail the same way.

use std::collections::{BTreeMap, HashMap};

use crate::clients::http::{ApiError, Service};
use crate::clients::radarr::RadarrClient;
use crate::clients::sonarr::SonarrClient;
use crate::clients::Sources;
use crate::inventory::RootFolderState;
use crate::plan::{Decision, Plan, Target};

/// Whether writes are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    DryRun,
    Live,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::DryRun => "dry-run",
            Mode::Live => "live",
        }
    }
}

/// What happened to one planned deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Live run: the *arr accepted the delete.
    Deleted,
    /// Dry run: it would have been deleted.
    WouldDelete,
    /// The *arr no longer knows the target (404): someone deleted it first.
    AlreadyGone,
    /// The *arr refused or failed; the message says why.
    Failed(String),
    /// What it would delete changed since the plan (an episode file replaced by an upgrade, an
    /// episode removed): nothing of it was deleted, and the next pass decides again.
    Changed(String),
    /// The *arr gave no answer, and the target was still there after: the deletion may still
    /// be under way. It stays started in the journal; the next pass settles it.
    InDoubt(String),
    /// The pass stopped before reaching it.
    NotAttempted,
}

impl Outcome {
    /// An outcome that makes the pass count as failed: a deletion that did not happen as
    /// planned for a reason other than the plan going stale.
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Failed(_) | Outcome::InDoubt(_))
    }
}

/// Why a pass stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The *arr's storage is not there: a 409 on delete, or an inaccessible root folder.
    /// Nothing more is deleted; the pass counts as paused.
    StorageMissing { service: Service, detail: String },
    /// A server refused the key or could not be reached; the pass failed.
    ServerFailed { service: Service, detail: String },
    /// The state file could not record an action: no delete without a record, so the pass failed.
    JournalFailed { detail: String },
    /// The health gate found the storage unfit before a delete. The pass counts as paused.
    Unhealthy { reason: String },
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::StorageMissing { service, detail } => {
                write!(f, "{service} storage is not available: {detail}")
            }
            Stop::ServerFailed { service, detail } => write!(f, "{service} failed: {detail}"),
            Stop::Unhealthy { reason } => write!(f, "the storage is not healthy: {reason}"),
            Stop::JournalFailed { detail } => {
                write!(
                    f,
                    "cannot record the deletions, so none more are made: {detail}"
                )
            }
        }
    }
}

/// Where a live pass writes down its intent before each *arr call and the outcome after it, so
/// that a pass killed in between can be settled later. `decisions` are indexes into
/// `Plan::decisions`. An error stops the pass: nothing is deleted without a record.
pub trait Journal {
    fn started(&mut self, decisions: &[usize]) -> Result<(), String>;
    fn finished(&mut self, decisions: &[usize], outcome: &Outcome) -> Result<(), String>;
}

/// Asked before every delete of a live pass whether the storage is still fit; `Err` says why not,
/// and the pass then stops before that delete. `step` says what is about to go.
pub trait Gate {
    fn before_delete(
        &mut self,
        step: Step<'_>,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;
}

/// The delete a live pass is about to make: deletion `number` (from 1) of `total`. One Sonarr
/// call deletes several seasons or episodes of a series; then `title` names the first and `more`
/// counts the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step<'a> {
    pub number: usize,
    pub total: usize,
    pub title: &'a str,
    pub more: usize,
}

impl std::fmt::Display for Step<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.more {
            0 => write!(f, "{}/{}: {}", self.number, self.total, self.title),
            more => write!(
                f,
                "{}-{}/{}: {} and {more} more",
                self.number,
                self.number + more,
                self.total,
                self.title
            ),
        }
    }
}

/// A journal that keeps nothing: for dry runs, which write nothing anywhere that matters.
pub struct NoJournal;

impl Journal for NoJournal {
    fn started(&mut self, _: &[usize]) -> Result<(), String> {
        Ok(())
    }
    fn finished(&mut self, _: &[usize], _: &Outcome) -> Result<(), String> {
        Ok(())
    }
}

/// The result of carrying out a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    pub mode: Mode,
    /// One outcome per deletion of the plan, in plan order (index into `Plan::decisions`).
    pub outcomes: Vec<(usize, Outcome)>,
    pub stopped: Option<Stop>,
    /// Jellyfin was asked to rescan its library.
    pub refreshed: bool,
}

impl ApplyReport {
    pub fn count(&self, pred: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|(_, o)| pred(o)).count()
    }
}

/// Carries out the deletions of `plan` through `sources` (a service that is not configured has
/// no deletions in the plan). `add_import_exclusion` is Radarr's `addImportExclusion` on movie
/// deletes.
///
/// `root_folders` is the *arrs' own view of their storage from the inventory: a service whose root
/// folder is not accessible gets no delete at all.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    plan: &Plan,
    sources: &Sources,
    add_import_exclusion: bool,
    root_folders: &[RootFolderState],
    mode: Mode,
    run_id: &str,
    journal: &mut (dyn Journal + Send),
    gate: &mut (impl Gate + Send),
) -> ApplyReport {
    let report = carry_out(
        plan,
        sources,
        add_import_exclusion,
        root_folders,
        mode,
        journal,
        gate,
    )
    .await;
    for (i, outcome) in &report.outcomes {
        log_outcome(run_id, mode, &plan.decisions[*i], outcome);
    }
    if let Some(stop) = &report.stopped {
        tracing::warn!(run_id, action = "pause", reason = %stop, "pass stopped: {stop}");
    }
    report
}

/// Logs a decision with the structured fields the journal is searched by (`ACTION=delete` …).
pub fn log_decision(run_id: &str, mode: Mode, decision: &Decision, action: &str, note: &str) {
    tracing::info!(
        run_id,
        mode = mode.as_str(),
        action,
        kind = decision.kind.as_str(),
        title = %decision.title,
        arr_id = decision.target.arr_id(),
        reason = %decision.reason,
        bytes = decision.bytes,
        "{note} {} {}: {}",
        decision.kind,
        decision.title,
        decision.reason
    );
}

fn log_outcome(run_id: &str, mode: Mode, decision: &Decision, outcome: &Outcome) {
    match outcome {
        Outcome::Deleted => log_decision(run_id, mode, decision, "delete", "deleted"),
        Outcome::WouldDelete => log_decision(run_id, mode, decision, "delete", "would delete"),
        Outcome::AlreadyGone => log_decision(run_id, mode, decision, "skip", "already gone:"),
        Outcome::NotAttempted => log_decision(run_id, mode, decision, "skip", "not attempted:"),
        Outcome::Changed(why) | Outcome::InDoubt(why) => {
            let what = match outcome {
                Outcome::Changed(_) => "not deleting",
                _ => "in doubt, the next pass settles the deletion of",
            };
            tracing::warn!(
                run_id,
                mode = mode.as_str(),
                action = "skip",
                kind = decision.kind.as_str(),
                title = %decision.title,
                arr_id = decision.target.arr_id(),
                reason = %why,
                bytes = decision.bytes,
                "{what} {} {}: {why}",
                decision.kind,
                decision.title
            );
        }
        Outcome::Failed(err) => {
            tracing::error!(
                run_id,
                mode = mode.as_str(),
                action = "skip",
                kind = decision.kind.as_str(),
                title = %decision.title,
                arr_id = decision.target.arr_id(),
                reason = %err,
                bytes = decision.bytes,
                "failed to delete {} {}: {err}",
                decision.kind,
                decision.title
            );
        }
    }
}

async fn carry_out(
    plan: &Plan,
    sources: &Sources,
    add_import_exclusion: bool,
    root_folders: &[RootFolderState],
    mode: Mode,
    journal: &mut (dyn Journal + Send),
    gate: &mut (impl Gate + Send),
) -> ApplyReport {
    let mut report = ApplyReport {
        mode,
        outcomes: plan
            .decisions
            .iter()
            .enumerate()
            .filter(|(_, d)| d.verdict == crate::plan::Verdict::Delete)
            .map(|(i, _)| (i, Outcome::NotAttempted))
            .collect(),
        stopped: None,
        refreshed: false,
    };
    if report.outcomes.is_empty() {
        return report;
    }
    if let Some(stop) = storage_missing(plan, root_folders) {
        report.stopped = Some(stop);
        return report;
    }

    // Movies one by one, then episode files grouped per series (one bulk call each).
    let movie_slots: Vec<usize> = (0..report.outcomes.len())
        .filter(|&s| {
            matches!(
                plan.decisions[report.outcomes[s].0].target,
                Target::Radarr { .. }
            )
        })
        .collect();
    for s in movie_slots {
        let decision = &plan.decisions[report.outcomes[s].0];
        let Target::Radarr { movie_id } = decision.target else {
            continue;
        };
        let slot_decisions = [report.outcomes[s].0];
        let step = Step {
            number: s + 1,
            total: report.outcomes.len(),
            title: &decision.title,
            more: 0,
        };
        if let Err(stop) = gate_open(mode, gate, step).await {
            report.stopped = Some(stop);
            break;
        }
        let outcome = match (mode, &sources.radarr) {
            (Mode::DryRun, _) => Ok(Outcome::WouldDelete),
            (Mode::Live, None) => Ok(Outcome::Failed("Radarr is not configured".into())),
            (Mode::Live, Some(radarr)) => journaled(journal, &slot_decisions, async {
                delete_movie(radarr, movie_id, add_import_exclusion)
                    .await
                    .map(|o| vec![o])
            })
            .await
            .map(|mut o| o.pop().unwrap_or(Outcome::NotAttempted)),
        };
        match outcome {
            Ok(o) => report.outcomes[s].1 = o,
            Err(stop) => {
                report.stopped = Some(stop);
                break;
            }
        }
    }

    if report.stopped.is_none() {
        for (series_id, slots) in series_groups(plan, &report) {
            let step = Step {
                number: slots[0] + 1,
                total: report.outcomes.len(),
                title: &plan.decisions[report.outcomes[slots[0]].0].title,
                more: slots.len() - 1,
            };
            if let Err(stop) = gate_open(mode, gate, step).await {
                report.stopped = Some(stop);
                break;
            }
            let decisions: Vec<usize> = slots.iter().map(|&s| report.outcomes[s].0).collect();
            let outcomes = match (mode, &sources.sonarr) {
                (Mode::DryRun, _) => Ok(vec![Outcome::WouldDelete; slots.len()]),
                (Mode::Live, None) => Ok(vec![
                    Outcome::Failed("Sonarr is not configured".into());
                    slots.len()
                ]),
                (Mode::Live, Some(sonarr)) => {
                    let targets: Vec<&Target> = decisions
                        .iter()
                        .map(|&i| &plan.decisions[i].target)
                        .collect();
                    journaled(
                        journal,
                        &decisions,
                        delete_series_files(sonarr, &targets, series_id),
                    )
                    .await
                }
            };
            match outcomes {
                Ok(outcomes) => {
                    for (&s, o) in slots.iter().zip(outcomes) {
                        report.outcomes[s].1 = o;
                    }
                }
                Err(stop) => {
                    report.stopped = Some(stop);
                    break;
                }
            }
        }
    }

    if mode == Mode::Live && report.count(|o| *o == Outcome::Deleted) > 0 {
        // Jellyfin drops deleted items at its next scan; ask for one now so nobody picks a
        // title that is gone. A failure here deletes nothing and is only worth a warning.
        match sources.jellyfin.refresh_library().await {
            Ok(()) => report.refreshed = true,
            Err(err) => tracing::warn!("could not ask Jellyfin to rescan its library: {err}"),
        }
    }
    report
}

/// Asks the gate before a live delete; a dry run deletes nothing and asks nobody.
async fn gate_open(mode: Mode, gate: &mut (impl Gate + Send), step: Step<'_>) -> Result<(), Stop> {
    match mode {
        Mode::DryRun => Ok(()),
        Mode::Live => gate
            .before_delete(step)
            .await
            .map_err(|reason| Stop::Unhealthy { reason }),
    }
}

/// Records the intent, runs the *arr call, records its outcome (one per decision). When the
/// intent cannot be written the call is not made; when the outcome cannot be written the pass
/// stops, and the next pass settles the action by asking the *arr. A deletion in doubt stays
/// started (with a note of why): the next pass settles it the same way.
async fn journaled(
    journal: &mut (dyn Journal + Send),
    decisions: &[usize],
    call: impl std::future::Future<Output = Result<Vec<Outcome>, Stop>>,
) -> Result<Vec<Outcome>, Stop> {
    journal
        .started(decisions)
        .map_err(|detail| Stop::JournalFailed { detail })?;
    let outcomes = match call.await {
        Ok(outcomes) => outcomes,
        // Refused for missing storage: the call did not take effect.
        Err(stop @ Stop::StorageMissing { .. }) => {
            let failed = Outcome::Failed(stop.to_string());
            for &i in decisions {
                journal
                    .finished(&[i], &failed)
                    .map_err(|detail| Stop::JournalFailed { detail })?;
            }
            return Err(stop);
        }
        // The server may have carried out the call before it went away: the actions stay
        // `started`, and the next pass asks the *arr whether the targets are gone.
        Err(stop) => return Err(stop),
    };
    for (&i, outcome) in decisions.iter().zip(&outcomes) {
        journal
            .finished(&[i], outcome)
            .map_err(|detail| Stop::JournalFailed { detail })?;
    }
    Ok(outcomes)
}

/// Deletes a movie with its files. A DELETE is never sent twice: when no clear answer came, the
/// movie is looked up, and a movie that is gone was deleted (Radarr drops the record at once and
/// the files a moment later).
async fn delete_movie(
    radarr: &RadarrClient,
    movie_id: i32,
    add_import_exclusion: bool,
) -> Result<Outcome, Stop> {
    let err = match radarr.delete_movie(movie_id, add_import_exclusion).await {
        Ok(()) => return Ok(Outcome::Deleted),
        Err(err) if !err.outcome_unknown() => return settle(Err(err)),
        Err(err) => err,
    };
    match radarr.movie(movie_id).await {
        Ok(None) => Ok(Outcome::Deleted),
        // The server answered (a 5xx): the request is over, and did not delete the movie.
        Ok(Some(_)) if err.status().is_some() => Ok(Outcome::Failed(err.to_string())),
        Ok(Some(_)) => Ok(Outcome::InDoubt(format!(
            "{err}; the movie was still there right after, and the deletion may still land"
        ))),
        Err(lookup) => Ok(Outcome::InDoubt(format!(
            "{err}; whether it went through cannot be told now: {lookup}"
        ))),
    }
}

/// Which write of a series' group failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Unmonitor,
    Delete,
}

/// Carries out the deletions of one series: unmonitors every episode of `targets`, then deletes
/// their files in one bulk call. One outcome per target.
///
/// If unmonitoring fails nothing is deleted: a deleted file of a monitored episode is fetched
/// again. When Sonarr refuses a call it may be because an id went stale since the plan (a file
/// replaced by an upgrade: its `Get(ids)` then fails the whole call), so the series is read
/// again and each target judged: gone, changed (left to the next pass, with a record), or
/// intact, and the intact ones are sent once more. A call that got no answer is not sent again
/// (the server may still be carrying it out): what the series shows then decides, or the
/// deletion stays in doubt for the next pass.
async fn delete_series_files(
    sonarr: &SonarrClient,
    targets: &[&Target],
    series_id: i32,
) -> Result<Vec<Outcome>, Stop> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; targets.len()];
    let mut live: Vec<usize> = (0..targets.len()).collect();
    for attempt in 0..2 {
        let (episode_ids, file_ids) = ids_of(targets, &live);
        tracing::debug!(
            series_id,
            episodes = episode_ids.len(),
            files = file_ids.len(),
            attempt,
            "unmonitoring, then deleting"
        );
        let (write, err) = match sonarr.set_episodes_monitored(&episode_ids, false).await {
            Err(err) => (Write::Unmonitor, err),
            Ok(()) => match sonarr.delete_episode_files(&file_ids).await {
                Ok(()) => {
                    for &i in &live {
                        outcomes[i] = Some(Outcome::Deleted);
                    }
                    break;
                }
                Err(err) => (Write::Delete, err),
            },
        };
        let answered = !matches!(err, ApiError::Unavailable { .. }) || err.status().is_some();
        let refused_by_id =
            matches!(err, ApiError::NotFound { .. }) || (err.outcome_unknown() && answered);
        if !refused_by_id && !err.outcome_unknown() {
            // A missing root folder, a wrong key, a server that is down, a 400: the same
            // call, or the next one, fares no better.
            let outcome = settle(Err(err))?;
            for &i in &live {
                outcomes[i] = Some(outcome.clone());
            }
            break;
        }
        // What settling a killed pass asks too: the file each episode has now.
        let files_now = match sonarr.file_of_each_episode(series_id).await {
            Ok(files) => files,
            Err(_) => {
                let why = format!("{err}; the series could not be read again to see why");
                let outcome = if answered {
                    Outcome::Failed(why)
                } else {
                    Outcome::InDoubt(why)
                };
                for &i in &live {
                    outcomes[i] = Some(outcome.clone());
                }
                break;
            }
        };
        let mut intact = Vec::new();
        for &i in &live {
            match judge(targets[i], &files_now) {
                Now::Gone => {
                    outcomes[i] = Some(match write {
                        Write::Delete => Outcome::Deleted,
                        Write::Unmonitor => Outcome::AlreadyGone,
                    })
                }
                Now::Changed(why) => outcomes[i] = Some(Outcome::Changed(why)),
                Now::Intact if !answered => {
                    outcomes[i] = Some(Outcome::InDoubt(format!(
                        "{err}; its files were still there right after, and the deletion may still land"
                    )))
                }
                Now::Intact if attempt == 1 => outcomes[i] = Some(Outcome::Failed(err.to_string())),
                Now::Intact => intact.push(i),
            }
        }
        if !intact.is_empty() {
            tracing::info!(
                series_id,
                "Sonarr refused the {} of series {series_id} ({err}); {} of its {} deletions are \
                 as planned and are sent again",
                match write {
                    Write::Unmonitor => "unmonitoring",
                    Write::Delete => "deletion",
                },
                intact.len(),
                live.len()
            );
        }
        live = intact;
        if live.is_empty() {
            break;
        }
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::NotAttempted))
        .collect())
}

/// The episode and file ids of `targets[live]`, sorted and deduplicated.
fn ids_of(targets: &[&Target], live: &[usize]) -> (Vec<i32>, Vec<i32>) {
    let mut episode_ids = Vec::new();
    let mut file_ids = Vec::new();
    for &i in live {
        if let Target::Sonarr {
            episode_ids: e,
            episode_file_ids: f,
            ..
        } = targets[i]
        {
            episode_ids.extend_from_slice(e);
            file_ids.extend_from_slice(f);
        }
    }
    episode_ids.sort_unstable();
    episode_ids.dedup();
    file_ids.sort_unstable();
    file_ids.dedup();
    (episode_ids, file_ids)
}

/// A Sonarr target as the series shows it now.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Now {
    /// None of its episodes has a file any more.
    Gone,
    /// Every episode still has the file the plan would delete, and nothing more.
    Intact,
    /// Something moved: an episode gone from Sonarr, a file replaced or removed.
    Changed(String),
}

/// Judges `target` against `files_now`, each episode's current file id (0 = none).
fn judge(target: &Target, files_now: &HashMap<i32, i32>) -> Now {
    let Target::Sonarr {
        episode_ids,
        episode_file_ids,
        ..
    } = target
    else {
        return Now::Changed("not a Sonarr target".into());
    };
    let mut with_file = 0;
    for e in episode_ids {
        match files_now.get(e).copied() {
            None | Some(0) => {}
            Some(f) if episode_file_ids.contains(&f) => with_file += 1,
            Some(f) => {
                return Now::Changed(format!(
                    "episode {e} has another file (id {f}) than the plan's: replaced since; \
                     the next pass decides again"
                ))
            }
        }
    }
    if with_file == 0 {
        return Now::Gone;
    }
    if with_file < episode_ids.len() {
        return Now::Changed(
            "some of its episodes lost their files since the plan; the next pass decides again"
                .into(),
        );
    }
    Now::Intact
}

/// Turns an *arr answer into an outcome, or a reason to stop the whole pass.
fn settle(result: Result<(), ApiError>) -> Result<Outcome, Stop> {
    match result {
        Ok(()) => Ok(Outcome::Deleted),
        Err(ApiError::NotFound { .. }) => Ok(Outcome::AlreadyGone),
        Err(err @ ApiError::Conflict { .. }) => Err(Stop::StorageMissing {
            service: err.service(),
            detail: err.to_string(),
        }),
        Err(err @ (ApiError::Unauthorized { .. } | ApiError::Unavailable { .. })) => {
            Err(Stop::ServerFailed {
                service: err.service(),
                detail: err.to_string(),
            })
        }
        Err(err) => Ok(Outcome::Failed(err.to_string())),
    }
}

/// Slots of the Sonarr deletions, grouped by series in plan order.
fn series_groups(plan: &Plan, report: &ApplyReport) -> Vec<(i32, Vec<usize>)> {
    let mut order: Vec<i32> = Vec::new();
    let mut groups: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    for (s, (i, _)) in report.outcomes.iter().enumerate() {
        if let Target::Sonarr { series_id, .. } = plan.decisions[*i].target {
            let group = groups.entry(series_id).or_default();
            if group.is_empty() {
                order.push(series_id);
            }
            group.push(s);
        }
    }
    order
        .into_iter()
        .map(|id| (id, groups.remove(&id).unwrap_or_default()))
        .collect()
}

/// A stop when a service that has deletions reports a root folder it cannot reach.
fn storage_missing(plan: &Plan, root_folders: &[RootFolderState]) -> Option<Stop> {
    let needs = |service: Service| {
        plan.deletions().any(|d: &Decision| match d.target {
            Target::Radarr { .. } => service == Service::Radarr,
            Target::Sonarr { .. } => service == Service::Sonarr,
        })
    };
    root_folders
        .iter()
        .find(|r| !r.accessible && needs(r.service))
        .map(|r| Stop::StorageMissing {
            service: r.service,
            detail: format!("root folder {} is not accessible", r.path),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn season(episodes: Vec<i32>, files: Vec<i32>) -> Target {
        Target::Sonarr {
            series_id: 3,
            season: 1,
            episode_ids: episodes,
            episode_file_ids: files,
        }
    }

    #[test]
    fn a_sonarr_target_is_intact_gone_or_changed() {
        let now = |pairs: &[(i32, i32)]| pairs.iter().copied().collect::<HashMap<i32, i32>>();
        let target = season(vec![1, 2], vec![10, 20]);
        assert_eq!(judge(&target, &now(&[(1, 10), (2, 20)])), Now::Intact);
        assert_eq!(judge(&target, &now(&[(1, 0), (2, 0)])), Now::Gone);
        // An episode gone from Sonarr, the other without its file: gone as well.
        assert_eq!(judge(&target, &now(&[(2, 0)])), Now::Gone);
        // Episode 2's file was replaced by an upgrade (a new id): not what was planned.
        let Now::Changed(why) = judge(&target, &now(&[(1, 10), (2, 21)])) else {
            panic!("not changed");
        };
        assert!(why.contains("episode 2 has another file (id 21)"), "{why}");
        // Half deleted by someone else: not the planned season any more.
        assert!(matches!(
            judge(&target, &now(&[(1, 10), (2, 0)])),
            Now::Changed(_)
        ));
        // Two episodes in one file.
        let double = season(vec![1, 2], vec![10]);
        assert_eq!(judge(&double, &now(&[(1, 10), (2, 10)])), Now::Intact);
    }

    #[test]
    fn ids_of_the_live_targets_sorted_and_once() {
        let a = season(vec![2, 1], vec![20, 10]);
        let b = season(vec![3, 2], vec![30, 20]);
        let targets = [&a, &b];
        assert_eq!(ids_of(&targets, &[0, 1]), (vec![1, 2, 3], vec![10, 20, 30]));
        assert_eq!(ids_of(&targets, &[1]), (vec![2, 3], vec![20, 30]));
    }

    #[test]
    fn a_step_names_its_place_and_what_goes() {
        let one = Step {
            number: 3,
            total: 12,
            title: "The Matrix (1999)",
            more: 0,
        };
        assert_eq!(one.to_string(), "3/12: The Matrix (1999)");
        let series = Step {
            number: 5,
            total: 12,
            title: "Dark S01",
            more: 2,
        };
        assert_eq!(series.to_string(), "5-7/12: Dark S01 and 2 more");
    }
}
