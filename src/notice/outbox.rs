//! Notifications on their way: a pass keeps each message in the state file for every target
//! that wants its event, then tries to deliver what is waiting. What cannot be delivered stays
//! for the next pass, so a receiver that is down loses nothing, and the pass never waits on it
//! longer than the targets' own timeouts, after its deletions are done.

use jiff::{SignedDuration, Timestamp};

use crate::notify::{self, Message, Target};
use crate::state::{State, StateError};

/// How long an undelivered message is tried: a target down for a week has missed the moment.
const KEEP_FOR: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Keeps `message` for each of `targets` that wants its event.
pub fn enqueue(
    state: &mut State,
    targets: &[Target],
    message: &Message,
    now: Timestamp,
) -> Result<usize, StateError> {
    let wanting: Vec<&Target> = targets.iter().filter(|t| t.wants(message.event)).collect();
    if wanting.is_empty() {
        return Ok(0);
    }
    let body = match serde_json::to_string(message) {
        Ok(body) => body,
        Err(err) => {
            tracing::warn!(
                "cannot write the {} notification: {err}",
                message.event.as_str()
            );
            return Ok(0);
        }
    };
    for target in &wanting {
        state.enqueue(&target.name, message.event.as_str(), &body, now)?;
    }
    Ok(wanting.len())
}

/// Sends every waiting message to its target, oldest first. Returns how many were delivered.
/// A failure is logged (without secrets: `notify`'s errors carry none) and left for later.
pub async fn deliver(
    state: &mut State,
    targets: &[Target],
    client: &reqwest::Client,
    now: Timestamp,
) -> Result<usize, StateError> {
    let mut delivered = 0;
    for row in state.outbox()? {
        let Some(target) = targets.iter().find(|t| t.name == row.target) else {
            // The target left the config: nobody is waiting for this any more.
            state.delivered(row.id)?;
            continue;
        };
        let stale = row.created_at.checked_add(KEEP_FOR).is_ok_and(|t| t < now);
        let message: Message = match serde_json::from_str(&row.body) {
            Ok(m) if !stale => m,
            Ok(_) => {
                tracing::warn!(
                    target_name = %target.name,
                    "a {} notification could not be delivered for a week; dropped",
                    row.event
                );
                state.delivered(row.id)?;
                continue;
            }
            Err(err) => {
                tracing::warn!("a stored notification cannot be read, dropped: {err}");
                state.delivered(row.id)?;
                continue;
            }
        };
        match notify::send(client, target, &message).await {
            Ok(()) => {
                state.delivered(row.id)?;
                delivered += 1;
            }
            Err(err) => {
                tracing::warn!(
                    target_name = %target.name,
                    attempts = row.attempts + 1,
                    "a {} notification could not be delivered, the next pass tries again: {err}",
                    row.event
                );
                state.undelivered(row.id, &err.to_string())?;
            }
        }
    }
    Ok(delivered)
}
