//! What a live pass tells the `[[notify]]` targets: the items it announced (one digest), what
//! it deleted (one summary), a pause (once per outage: not when the pass before was paused
//! too) and a failure. Messages go through the outbox in the state file, after the deletions.

use jiff::Timestamp;

use crate::apply::Outcome;
use crate::config::Config;
use crate::notice;
use crate::notify::{Item, Message};
use crate::outcome::RunOutcome;
use crate::state::State;

use super::PassError;

/// The messages of one pass that ended with `result`.
pub(super) fn messages(
    result: &Result<RunOutcome, PassError>,
    was_paused: bool,
    run_id: &str,
    now: Timestamp,
    tz: &jiff::tz::TimeZone,
) -> Vec<Message> {
    let host = host();
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(err) => {
            return vec![Message::failed(
                host,
                run_id.to_owned(),
                now,
                err.to_string(),
            )]
        }
    };
    let mut out = Vec::new();
    if let Some(reason) = &outcome.paused {
        if !was_paused {
            out.push(Message::paused(
                host.clone(),
                run_id.to_owned(),
                now,
                reason.clone(),
            ));
        }
        return out;
    }
    if !outcome.announced.is_empty() {
        let items = (outcome.announced.iter())
            .map(|row| Item {
                title: row.title.clone(),
                kind: row.target.kind().as_str().to_owned(),
                bytes: row.bytes,
                due: Some(row.due_at.to_zoned(tz.clone()).date()),
                reason: None,
            })
            .collect();
        out.push(Message::scheduled(
            host.clone(),
            run_id.to_owned(),
            now,
            items,
        ));
    }
    let Some(report) = &outcome.report else {
        if let Some(refusal) = &outcome.refused {
            let why = format!("plan refused: {refusal}; nothing deleted");
            out.push(Message::failed(host, run_id.to_owned(), now, why));
        }
        return out;
    };
    let deleted: Vec<Item> = (report.outcomes.iter())
        .filter(|(_, o)| matches!(o, Outcome::Deleted))
        .filter_map(|(i, _)| outcome.plan.decisions.get(*i))
        .map(|d| Item {
            title: d.title.clone(),
            kind: d.kind.as_str().to_owned(),
            bytes: d.bytes,
            due: None,
            reason: Some(d.reason.to_string()),
        })
        .collect();
    if !deleted.is_empty() {
        out.push(Message::deleted(
            host.clone(),
            run_id.to_owned(),
            now,
            deleted,
        ));
    }
    let failed = report.count(Outcome::is_failure);
    if failed > 0 || report.stopped.is_some() {
        let mut why = format!("{failed} deletions failed or are in doubt");
        if let Some(stop) = &report.stopped {
            why = format!("{why}; the pass stopped: {stop}");
        }
        out.push(Message::failed(host, run_id.to_owned(), now, why));
    }
    out
}

/// Keeps `messages` for the targets that want them and delivers what is waiting. Whatever
/// fails is logged: notifications never fail a pass.
pub(super) async fn send(config: &Config, state: &mut State, messages: &[Message], now: Timestamp) {
    if config.notify.is_empty() {
        return;
    }
    for message in messages {
        if let Err(err) = notice::enqueue(state, &config.notify, message, now) {
            tracing::warn!(
                "cannot keep the {} notification: {err}",
                message.event.as_str()
            );
        }
    }
    let client = match reqwest::Client::builder().build() {
        Ok(client) => client,
        Err(err) => {
            tracing::warn!("cannot send notifications: {err}");
            return;
        }
    };
    if let Err(err) = notice::deliver(state, &config.notify, &client, now).await {
        tracing::warn!("cannot go through the notifications waiting: {err}");
    }
}

/// This machine's name, for the messages.
fn host() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "shelflife".to_owned())
}
