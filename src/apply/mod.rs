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
//!
//! Here are the words of a pass's outcome and the hooks it calls (the [`Journal`], the [`Gate`]);
//! the walk over the plan is in `carry_out`, deleting a movie in `movies`, deleting a series'
//! episode files in `series`, and the log lines in `log`.

mod carry_out;
mod log;
mod movies;
mod series;
mod space;

#[cfg(test)]
mod tests;

use crate::clients::http::{ApiError, Server};
use crate::clients::Sources;
use crate::inventory::RootFolderState;
use crate::plan::{Plan, Title};

pub use log::log_decision;
pub use space::SpaceRun;

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
    /// A deletion for space that its mount no longer needed (back at its target, or deleting
    /// there freed nothing); the next pass decides again.
    Unneeded(String),
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
    StorageMissing { service: Server, detail: String },
    /// A server refused the key or could not be reached; the pass failed.
    ServerFailed { service: Server, detail: String },
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

    /// The free bytes of the configured mount `mount` (its path) now; `Err` says why they
    /// cannot be read.
    fn free_space(
        &mut self,
        mount: &str,
    ) -> impl std::future::Future<Output = Result<u64, String>> + Send;
}

/// The delete a live pass is about to make: deletion `number` (from 1) of `total`. One Sonarr
/// call deletes several seasons or episodes of a series; then `title` names the first and `more`
/// counts the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step<'a> {
    pub number: usize,
    pub total: usize,
    pub title: &'a Title,
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
    /// What a live pass did for space on each `when_low` mount of the plan.
    pub space: Vec<SpaceRun>,
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
    add_import_exclusion: &[&str],
    root_folders: &[RootFolderState],
    mode: Mode,
    run_id: &str,
    journal: &mut (dyn Journal + Send),
    gate: &mut (impl Gate + Send),
) -> ApplyReport {
    let report = carry_out::carry_out(
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
        log::log_outcome(run_id, mode, plan, *i, outcome);
    }
    if let Some(stop) = &report.stopped {
        tracing::warn!(run_id, action = "pause", reason = %stop, "pass stopped: {stop}");
    }
    report
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
