//! How a pass ended (or would end), judged once: the journal's outcome, the exit code and the end-of-pass log
//! all derive from [`RunOutcome::ending`], so they cannot disagree.

use crate::apply::{ApplyReport, Mode, Outcome, Stop};
use crate::exit::Exit;
use crate::plan::{Decision, Plan};
use crate::state::{self, RunCounts};

/// A plan that exceeds `max_deletions_per_run`: `run` deletes none of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub files: usize,
    pub limit: u32,
}

impl Refusal {
    /// The refusal of `plan` under `limit`, if it is refused. `plan` and `run` both ask this.
    pub fn of(plan: &Plan, limit: u32) -> Option<Refusal> {
        let files = plan.files_to_delete();
        (files > limit as usize).then_some(Refusal { files, limit })
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the plan would delete {} files, more than max_deletions_per_run = {}",
            self.files, self.limit
        )
    }
}

/// What `run` would do now (see `Pass::preview`): the plan after the journal is applied, and
/// whether it is refused.
pub struct Preview {
    pub plan: Plan,
    /// Deletions left out because a live pass already carried them out.
    pub done_before: Vec<Decision>,
    pub refused: Option<Refusal>,
}

/// How a `run` ended.
pub struct RunOutcome {
    pub run_id: String,
    pub mode: Mode,
    pub plan: Plan,
    /// `None` when the plan was refused or the pass paused before anything was attempted.
    pub report: Option<ApplyReport>,
    pub refused: Option<Refusal>,
    /// The health gate paused the pass before planning; the plan is empty.
    pub paused: Option<String>,
    /// What this pass put on the notice period's schedule (`notice_days`).
    pub announced: Vec<crate::state::NoticeRow>,
    /// The disagreements between the servers it saw ([`crate::drift::of_pass`]); none when it
    /// paused before reading them.
    pub drift: Vec<(crate::drift::Kind, u64)>,
}

impl RunOutcome {
    /// How the journal records this outcome, with the reason when it did not complete.
    pub fn ending(&self) -> (state::Outcome, Option<String>) {
        if let Some(reason) = &self.paused {
            return (
                state::Outcome::Paused,
                Some(format!("the storage is not healthy: {reason}")),
            );
        }
        if let Some(refusal) = &self.refused {
            return (state::Outcome::Refused, Some(refusal.to_string()));
        }
        let Some(report) = &self.report else {
            return (state::Outcome::Failed, None);
        };
        match &report.stopped {
            Some(stop @ (Stop::StorageMissing { .. } | Stop::Unhealthy { .. })) => {
                (state::Outcome::Paused, Some(stop.to_string()))
            }
            Some(stop) => (state::Outcome::Failed, Some(stop.to_string())),
            None => match report.count(Outcome::is_failure) {
                0 => (state::Outcome::Completed, None),
                n => (
                    state::Outcome::Failed,
                    Some(format!("{n} deletions failed or could not be confirmed")),
                ),
            },
        }
    }

    /// The exit code of `run` for this outcome (the README's table).
    pub fn exit(&self) -> Exit {
        match self.ending().0 {
            state::Outcome::Completed => Exit::Ok,
            state::Outcome::Paused => Exit::Paused,
            state::Outcome::Failed | state::Outcome::Refused | state::Outcome::Interrupted => {
                Exit::Failed
            }
        }
    }

    /// The counts stored on the run.
    pub fn counts(&self) -> RunCounts {
        let deleted: Vec<usize> = self
            .report
            .iter()
            .flat_map(|r| &r.outcomes)
            .filter(|(_, o)| *o == Outcome::Deleted)
            .map(|(i, _)| *i)
            .collect();
        RunCounts {
            planned: self.plan.deletions().count() as u64,
            deleted: deleted.len() as u64,
            failed: self
                .report
                .as_ref()
                .map_or(0, |r| r.count(Outcome::is_failure) as u64),
            kept: (self.plan.kept().count() + self.plan.unmatched.len()) as u64,
            bytes_deleted: deleted.iter().map(|&i| self.plan.decisions[i].bytes).sum(),
        }
    }
}

#[cfg(test)]
mod tests;
