//! Carry out a plan's deletions through Radarr and Sonarr.
//!
//! A dry run walks the same path and logs the same decisions, but sends no write request at all.
//! A live run deletes movies one by one (`DELETE /api/v3/movie/{id}?deleteFiles=true`) and episode
//! files per series: first every episode is unmonitored (so Sonarr does not fetch it again), then
//! the files go in one bulk call for that series only (Sonarr's bulk delete mis-handles mixed series).
//!
//! The pass stops at once when an *arr says its storage is missing (a 409, or a root folder that is
//! not accessible): what was done stays done, the rest waits for a later pass. It also stops when a
//! server refuses the key or stays unreachable, since every further call would fail the same way.

use std::collections::BTreeMap;

use crate::clients::http::{ApiError, Service};
use crate::clients::jellyfin::JellyfinClient;
use crate::clients::radarr::RadarrClient;
use crate::clients::sonarr::SonarrClient;
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

/// The servers `apply` talks to. A service that is not configured has no deletions in the plan.
pub struct Servers<'a> {
    pub jellyfin: &'a JellyfinClient,
    pub radarr: Option<&'a RadarrClient>,
    pub sonarr: Option<&'a SonarrClient>,
    /// Radarr `addImportExclusion` on movie deletes.
    pub add_import_exclusion: bool,
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
    /// The pass stopped before reaching it.
    NotAttempted,
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

/// Carries out the deletions of `plan`.
///
/// `root_folders` is the *arrs' own view of their storage from the inventory: a service whose root
/// folder is not accessible gets no delete at all.
pub async fn apply(
    plan: &Plan,
    servers: &Servers<'_>,
    root_folders: &[RootFolderState],
    mode: Mode,
    run_id: &str,
    journal: &mut (dyn Journal + Send),
    gate: &mut (impl Gate + Send),
) -> ApplyReport {
    let report = carry_out(plan, servers, root_folders, mode, journal, gate).await;
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
    servers: &Servers<'_>,
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
        let outcome = match (mode, servers.radarr) {
            (Mode::DryRun, _) => Ok(Outcome::WouldDelete),
            (Mode::Live, None) => Ok(Outcome::Failed("Radarr is not configured".into())),
            (Mode::Live, Some(radarr)) => {
                journaled(journal, &slot_decisions, async {
                    settle(
                        radarr
                            .delete_movie(movie_id, servers.add_import_exclusion)
                            .await,
                    )
                })
                .await
            }
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
            let outcome = match (mode, servers.sonarr) {
                (Mode::DryRun, _) => Ok(Outcome::WouldDelete),
                (Mode::Live, None) => Ok(Outcome::Failed("Sonarr is not configured".into())),
                (Mode::Live, Some(sonarr)) => {
                    let decisions: Vec<usize> =
                        slots.iter().map(|&s| report.outcomes[s].0).collect();
                    journaled(
                        journal,
                        &decisions,
                        delete_series_files(sonarr, plan, &report, &slots, series_id),
                    )
                    .await
                }
            };
            match outcome {
                Ok(o) => {
                    for &s in &slots {
                        report.outcomes[s].1 = o.clone();
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
        match servers.jellyfin.refresh_library().await {
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

/// Records the intent, runs the *arr call, records its outcome. When the intent cannot be
/// written the call is not made; when the outcome cannot be written the pass stops, and the
/// next pass settles the action by asking the *arr.
async fn journaled(
    journal: &mut (dyn Journal + Send),
    decisions: &[usize],
    call: impl std::future::Future<Output = Result<Outcome, Stop>>,
) -> Result<Outcome, Stop> {
    journal
        .started(decisions)
        .map_err(|detail| Stop::JournalFailed { detail })?;
    let result = call.await;
    let recorded = match &result {
        Ok(outcome) => outcome.clone(),
        // Refused for missing storage: the call did not take effect.
        Err(stop @ Stop::StorageMissing { .. }) => Outcome::Failed(stop.to_string()),
        // The server may have carried out the call before it went away: the action stays
        // `started`, and the next pass asks the *arr whether the target is gone.
        Err(_) => return result,
    };
    journal
        .finished(decisions, &recorded)
        .map_err(|detail| Stop::JournalFailed { detail })?;
    result
}

/// Unmonitors every episode of the group, then deletes its files in one bulk call.
/// If unmonitoring fails nothing is deleted: a deleted file of a monitored episode is fetched again.
async fn delete_series_files(
    sonarr: &SonarrClient,
    plan: &Plan,
    report: &ApplyReport,
    slots: &[usize],
    series_id: i32,
) -> Result<Outcome, Stop> {
    let mut episode_ids = Vec::new();
    let mut file_ids = Vec::new();
    for &s in slots {
        if let Target::Sonarr {
            episode_ids: e,
            episode_file_ids: f,
            ..
        } = &plan.decisions[report.outcomes[s].0].target
        {
            episode_ids.extend_from_slice(e);
            file_ids.extend_from_slice(f);
        }
    }
    episode_ids.sort_unstable();
    episode_ids.dedup();
    file_ids.sort_unstable();
    file_ids.dedup();
    tracing::debug!(
        series_id,
        episodes = episode_ids.len(),
        files = file_ids.len(),
        "unmonitoring, then deleting"
    );
    match settle(sonarr.set_episodes_monitored(&episode_ids, false).await)? {
        Outcome::Deleted => {}
        other => return Ok(other),
    }
    settle(sonarr.delete_episode_files(&file_ids).await)
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
    use super::Step;

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
