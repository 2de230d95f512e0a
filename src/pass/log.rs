//! The pass's own journald lines: how it began and ended (each with its `MESSAGE_ID`), and
//! what the plan kept or skipped before `apply` logs its deletions.

use crate::apply::{self, Mode};
use crate::library::Unmatched;
use crate::logging::message_id;
use crate::plan::{Decision, Plan};
use crate::state;
use crate::systemd;

/// Logs a pass that failed before it was recorded (the run lock is held, the state file is
/// unusable, an interrupted pass cannot be settled) as a failed pass.
pub fn not_started(reason: &str) {
    systemd::progress(&format!("failed: {reason}"));
    tracing::error!(
        message_id = message_id::PASS_FAILED,
        outcome = "failed",
        reason,
        "pass failed before it began: {reason}"
    );
}

/// Logs the end of a pass with the `MESSAGE_ID` of how it ended.
pub(super) fn ended(run_id: &str, outcome: state::Outcome, reason: Option<&str>, summary: &str) {
    let reason = reason.unwrap_or("");
    match outcome {
        state::Outcome::Completed => {
            systemd::progress(&format!("done: {summary}"));
            tracing::info!(
                message_id = message_id::PASS_FINISHED,
                run_id,
                outcome = outcome.as_str(),
                "pass finished: {summary}"
            );
        }
        state::Outcome::Paused => {
            systemd::progress(&format!("paused: {reason}"));
            tracing::warn!(
                message_id = message_id::PASS_PAUSED,
                run_id,
                outcome = outcome.as_str(),
                reason,
                "pass paused, nothing more deleted: {reason}"
            );
        }
        _ => {
            systemd::progress(&format!("failed: {reason}"));
            tracing::error!(
                message_id = message_id::PASS_FAILED,
                run_id,
                outcome = outcome.as_str(),
                reason,
                "pass failed: {reason}"
            );
        }
    }
}

/// Logs the start of a pass.
pub(super) fn started(run_id: &str, mode: Mode) {
    tracing::info!(
        message_id = message_id::PASS_STARTED,
        run_id,
        mode = mode.as_str(),
        "pass started"
    );
}

/// Logs a pass that goes on after `prev` paused.
pub(super) fn resumed(run_id: &str, prev: &state::RunRow) {
    let why = prev.reason.as_deref().unwrap_or_default();
    tracing::info!(
        message_id = message_id::PASS_RESUMED,
        run_id,
        action = "resume",
        reason = %why,
        "the storage is fit again; resuming after pass {} paused: {why}",
        prev.run_key
    );
}

/// Logs a deletion the plan dropped because a live pass already carried it out.
pub(super) fn done_before(run_id: &str, done: &Decision) {
    tracing::warn!(
        run_id,
        action = "skip",
        kind = done.kind.as_str(),
        title = %done.title,
        arr = done.target.instance(),
        arr_id = done.target.arr_id(),
        reason = "deleted by an earlier pass",
        bytes = done.bytes,
        "{} {} was deleted by an earlier pass; not deleting it again",
        done.kind,
        done.title
    );
}

/// Logs every keep of `plan`, matched or not.
pub(super) fn kept(run_id: &str, mode: Mode, plan: &Plan) {
    for decision in plan.kept() {
        apply::log_decision(run_id, mode, plan, decision, "keep", "keep");
    }
    for unmatched in &plan.unmatched {
        log_unmatched(run_id, unmatched);
    }
}

fn log_unmatched(run_id: &str, unmatched: &Unmatched) {
    let kind = unmatched.kind.to_lowercase();
    tracing::info!(
        run_id,
        action = "keep",
        kind,
        title = %unmatched.title,
        reason = %unmatched.why,
        "keep {kind} {}: unmatched, {}",
        unmatched.title,
        unmatched.why
    );
}
