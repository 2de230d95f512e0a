//! What a live pass tells the `[[notify]]` targets: the items it announced (one digest), what
//! it deleted (one summary), a pause and a failed pass (each once in a row: not when the pass
//! before ended the same way, so a NAS down for a week is one message, not seven), and
//! deletions that failed. Messages go through the outbox in the state file, after the
//! deletions.

use jiff::Timestamp;

use crate::apply::Outcome;
use crate::config::Config;
use crate::notice;
use crate::notify::{Item, Message};
use crate::outcome::RunOutcome;
use crate::state::{self, State};

use super::PassError;

/// The messages of one pass that ended with `result`, after a pass that ended as `before`.
pub(super) fn messages(
    result: &Result<RunOutcome, PassError>,
    before: Option<state::Outcome>,
    run_id: &str,
    now: Timestamp,
    tz: &jiff::tz::TimeZone,
) -> Vec<Message> {
    let host = host();
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(_) if before == Some(state::Outcome::Failed) => return Vec::new(),
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
        if before != Some(state::Outcome::Paused) {
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
            title: d.title.to_string(),
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::apply::Mode;
    use crate::notify::Event;
    use crate::plan::Plan;
    use crate::state::StateError;

    fn at() -> Timestamp {
        Timestamp::from_second(1_795_000_000).unwrap()
    }

    fn outcome(paused: Option<&str>) -> RunOutcome {
        RunOutcome {
            run_id: "r".to_owned(),
            mode: Mode::Live,
            plan: Plan::default(),
            report: None,
            refused: None,
            paused: paused.map(str::to_owned),
            announced: Vec::new(),
            drift: Vec::new(),
        }
    }

    fn failed() -> Result<RunOutcome, PassError> {
        Err(PassError::State(StateError::NoDirectory {
            path: PathBuf::from("/gone/state.db"),
            dir: PathBuf::from("/gone"),
        }))
    }

    fn events(
        result: &Result<RunOutcome, PassError>,
        before: Option<state::Outcome>,
    ) -> Vec<Event> {
        let tz = jiff::tz::TimeZone::UTC;
        (messages(result, before, "r", at(), &tz).iter())
            .map(|m| m.event)
            .collect()
    }

    #[test]
    fn a_pause_is_told_once_in_a_row() {
        let paused = Ok(outcome(Some("canary missing")));
        assert_eq!(events(&paused, None), [Event::Paused]);
        assert_eq!(
            events(&paused, Some(state::Outcome::Completed)),
            [Event::Paused]
        );
        assert_eq!(
            events(&paused, Some(state::Outcome::Failed)),
            [Event::Paused]
        );
        assert!(events(&paused, Some(state::Outcome::Paused)).is_empty());
    }

    #[test]
    fn a_failed_pass_is_told_once_in_a_row() {
        assert_eq!(
            events(&failed(), Some(state::Outcome::Completed)),
            [Event::Failed]
        );
        assert_eq!(
            events(&failed(), Some(state::Outcome::Paused)),
            [Event::Failed]
        );
        assert!(events(&failed(), Some(state::Outcome::Failed)).is_empty());
        let tz = jiff::tz::TimeZone::UTC;
        let told = messages(&failed(), None, "r", at(), &tz);
        assert!(told[0].text.contains("/gone"), "{:?}", told[0].text);
    }

    #[test]
    fn a_quiet_pass_tells_nothing() {
        assert!(events(&Ok(outcome(None)), Some(state::Outcome::Paused)).is_empty());
    }
}
