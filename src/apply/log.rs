//! The log lines of a pass's decisions and outcomes, with the structured fields the journal is
//! searched by.

use super::{Mode, Outcome};
use crate::library::Channels;
use crate::plan::{Decision, Plan};

/// Logs a decision of `plan` with the structured fields the journal is searched by
/// (`ACTION=delete` …), and what its file is (`QUALITY`, `RESOLUTION`, `AUDIO_CODEC`,
/// `AUDIO_CHANNELS`, `LOSSLESS`) where the *arr told it.
pub fn log_decision(
    run_id: &str,
    mode: Mode,
    plan: &Plan,
    decision: &Decision,
    action: &str,
    note: &str,
) {
    let quality = decision.quality(plan);
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
        quality = quality.name.as_deref(),
        resolution = quality.resolution,
        audio_codec = quality.audio_codec.as_deref(),
        audio_channels = quality.audio_channels.map(Channels::as_f64),
        lossless = quality.lossless(),
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

pub(super) fn log_outcome(run_id: &str, mode: Mode, plan: &Plan, i: usize, outcome: &Outcome) {
    use tracing::Level;
    let Some(decision) = plan.decisions.get(i) else {
        return;
    };
    let (kind, title) = (decision.kind, &decision.title);
    let logged = |action, note| log_decision(run_id, mode, plan, decision, action, note);
    match outcome {
        Outcome::Deleted => logged("delete", "deleted"),
        Outcome::WouldDelete => logged("delete", "would delete"),
        Outcome::AlreadyGone => logged("skip", "already gone:"),
        Outcome::NotAttempted => logged("skip", "not attempted:"),
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
