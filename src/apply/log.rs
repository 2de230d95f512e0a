//! The log lines of a pass's decisions and outcomes, with the structured fields the journal is
//! searched by.

use super::{Mode, Outcome};
use crate::plan::Decision;

/// Logs a decision with the structured fields the journal is searched by (`ACTION=delete` …).
pub fn log_decision(run_id: &str, mode: Mode, decision: &Decision, action: &str, note: &str) {
    tracing::info!(
        run_id,
        mode = mode.as_str(),
        action,
        kind = decision.kind.as_str(),
        title = %decision.title,
        arr = decision.target.instance(),
        arr_id = decision.target.arr_id(),
        reason = %decision.reason,
        bytes = decision.bytes,
        "{note} {} {}: {}",
        decision.kind,
        decision.title,
        decision.reason
    );
}

pub(super) fn log_outcome(run_id: &str, mode: Mode, decision: &Decision, outcome: &Outcome) {
    match outcome {
        Outcome::Deleted => log_decision(run_id, mode, decision, "delete", "deleted"),
        Outcome::WouldDelete => log_decision(run_id, mode, decision, "delete", "would delete"),
        Outcome::AlreadyGone => log_decision(run_id, mode, decision, "skip", "already gone:"),
        Outcome::NotAttempted => log_decision(run_id, mode, decision, "skip", "not attempted:"),
        Outcome::Unneeded(why) => tracing::info!(
            run_id,
            mode = mode.as_str(),
            action = "skip",
            kind = decision.kind.as_str(),
            title = %decision.title,
            arr = decision.target.instance(),
            arr_id = decision.target.arr_id(),
            reason = %why,
            bytes = decision.bytes,
            "not needed now: {} {}: {why}",
            decision.kind,
            decision.title
        ),
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
                arr = decision.target.instance(),
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
                arr = decision.target.instance(),
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
