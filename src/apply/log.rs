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

/// A deletion that did not happen as planned, at `$level`, with the fields of every decision
/// line and `$why` as its `REASON`.
macro_rules! skipped {
    ($level:expr, $run_id:expr, $mode:expr, $decision:expr, $why:expr, $($message:tt)+) => {
        tracing::event!(
            $level,
            run_id = $run_id,
            mode = $mode.as_str(),
            action = "skip",
            kind = $decision.kind.as_str(),
            title = %$decision.title,
            arr = $decision.target.instance(),
            arr_id = $decision.target.arr_id(),
            reason = %$why,
            bytes = $decision.bytes,
            $($message)+
        )
    };
}

pub(super) fn log_outcome(run_id: &str, mode: Mode, decision: &Decision, outcome: &Outcome) {
    use tracing::Level;
    let (kind, title) = (decision.kind, &decision.title);
    match outcome {
        Outcome::Deleted => log_decision(run_id, mode, decision, "delete", "deleted"),
        Outcome::WouldDelete => log_decision(run_id, mode, decision, "delete", "would delete"),
        Outcome::AlreadyGone => log_decision(run_id, mode, decision, "skip", "already gone:"),
        Outcome::NotAttempted => log_decision(run_id, mode, decision, "skip", "not attempted:"),
        Outcome::Unneeded(why) => {
            skipped!(
                Level::INFO,
                run_id,
                mode,
                decision,
                why,
                "not needed now: {kind} {title}: {why}"
            )
        }
        Outcome::Changed(why) => {
            skipped!(
                Level::WARN,
                run_id,
                mode,
                decision,
                why,
                "not deleting {kind} {title}: {why}"
            )
        }
        Outcome::InDoubt(why) => skipped!(
            Level::WARN,
            run_id,
            mode,
            decision,
            why,
            "in doubt, the next pass settles the deletion of {kind} {title}: {why}"
        ),
        Outcome::Failed(err) => skipped!(
            Level::ERROR,
            run_id,
            mode,
            decision,
            err,
            "failed to delete {kind} {title}: {err}"
        ),
    }
}
