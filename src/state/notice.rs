//! The notice period's records: the schedule (`notices`), what happened to it (`notice_events`)
//! and the notifications still to deliver (`outbox`). Each call is one committed transaction.
//!
//! A target is on the schedule from the moment Jellyfin confirmed it in the "Leaving Soon"
//! collection (or, without a collection, from the pass that announced it) until it is deleted,
//! rescued or gone. A target someone took out of the collection by hand stays as `kept`, so
//! that the next pass does not put it back.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension, Row};

use super::types::{ActionKind, TargetKey};
use super::{timestamp, to_secs, State, StateError};

/// Where a target on the schedule stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeState {
    /// Announced; goes at `due_at` if it is still eligible then.
    Scheduled,
    /// Due, and being taken out of the collection before it is deleted: its absence from the
    /// collection is shelflife's doing, not a rescue by hand.
    Leaving,
    /// Taken out of the collection by hand: kept for as long as it stays eligible.
    Kept,
}

/// One target of the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    pub target: TargetKey,
    pub title: String,
    pub bytes: u64,
    /// The Jellyfin item that shows it in the collection, as Jellyfin writes ids.
    pub jellyfin_id: Option<String>,
    pub state: NoticeState,
    pub scheduled_at: Timestamp,
    pub due_at: Timestamp,
    /// Why a `Kept` target is kept.
    pub kept_reason: Option<String>,
}

/// What happened to an announcement, for `history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeEvent {
    Scheduled,
    Rescued,
}

impl NoticeEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeEvent::Scheduled => "scheduled",
            NoticeEvent::Rescued => "rescued",
        }
    }
}

/// A recorded [`NoticeEvent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeEventRow {
    pub at: Timestamp,
    pub run_key: Option<String>,
    pub target: TargetKey,
    pub title: String,
    pub bytes: u64,
    pub event: NoticeEvent,
    /// The due date of a scheduled target; why a rescued one is kept.
    pub detail: String,
}

/// A notification waiting for its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    /// The `[[notify]]` target's name.
    pub target: String,
    pub event: String,
    /// The message, as JSON.
    pub body: String,
    pub created_at: Timestamp,
    pub attempts: u32,
    /// Why the last attempt failed (without secrets: see `notify::SendError`).
    pub last_error: Option<String>,
}

impl State {
    /// Every target on the schedule, by due date.
    pub fn notices(&self) -> Result<Vec<NoticeRow>, StateError> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {NOTICE_COLUMNS} FROM notices ORDER BY due_at, title"
            ))?;
            let rows = stmt.query_map([], notice_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Puts `rows` on the schedule as scheduled, whatever their `state` says (replacing what a
    /// target had), and records each as scheduled
    /// by the pass `run_key`, with its due date as the detail.
    pub fn schedule(
        &mut self,
        rows: &[NoticeRow],
        run_key: &str,
        now: Timestamp,
    ) -> Result<(), StateError> {
        self.write(|tx| {
            for row in rows {
                tx.execute(
                    "INSERT OR REPLACE INTO notices (target_key, instance, kind, title, bytes,
                        jellyfin_id, state, scheduled_at, due_at, kept_reason)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'scheduled', ?7, ?8, NULL)",
                    params![
                        row.target,
                        row.target.instance(),
                        row.target.kind(),
                        row.title,
                        row.bytes,
                        row.jellyfin_id,
                        to_secs(row.scheduled_at),
                        to_secs(row.due_at)
                    ],
                )?;
                let due = row.due_at.strftime("%Y-%m-%d").to_string();
                insert_event(tx, now, run_key, row, NoticeEvent::Scheduled, &due)?;
            }
            Ok(())
        })
    }

    /// Takes `target` off the schedule because it is no longer eligible (`why`), and records it
    /// as rescued. A target kept by hand is only dropped: it was recorded as rescued when it
    /// was taken out of the collection.
    pub fn rescue(
        &mut self,
        target: &TargetKey,
        why: &str,
        run_key: &str,
        now: Timestamp,
    ) -> Result<(), StateError> {
        self.write(|tx| {
            if let Some(row) = notice_of(tx, target)?.filter(|r| r.state != NoticeState::Kept) {
                insert_event(tx, now, run_key, &row, NoticeEvent::Rescued, why)?;
            }
            tx.execute("DELETE FROM notices WHERE target_key = ?1", [target])?;
            Ok(())
        })
    }

    /// Marks `target` as kept by hand (`why`) and records it as rescued.
    pub fn keep_by_hand(
        &mut self,
        target: &TargetKey,
        why: &str,
        run_key: &str,
        now: Timestamp,
    ) -> Result<(), StateError> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE notices SET state = 'kept', kept_reason = ?2
                 WHERE target_key = ?1 AND state = 'scheduled'",
                params![target, why],
            )?;
            if let Some(row) = notice_of(tx, target)?.filter(|_| changed > 0) {
                insert_event(tx, now, run_key, &row, NoticeEvent::Rescued, why)?;
            }
            Ok(())
        })
    }

    /// Marks `targets` as leaving: they are due and about to be taken out of the collection.
    pub fn mark_leaving(&mut self, targets: &[TargetKey]) -> Result<(), StateError> {
        self.write(|tx| {
            for target in targets {
                tx.execute(
                    "UPDATE notices SET state = 'leaving' WHERE target_key = ?1 AND state <> 'kept'",
                    [target],
                )?;
            }
            Ok(())
        })
    }

    /// Forgets `targets` (deleted, or gone from the library) without an event.
    pub fn forget_notices(&mut self, targets: &[TargetKey]) -> Result<(), StateError> {
        self.write(|tx| {
            for target in targets {
                tx.execute("DELETE FROM notices WHERE target_key = ?1", [target])?;
            }
            Ok(())
        })
    }

    /// What happened to announcements, newest first; optionally only since a time, of one
    /// kind and through one instance.
    pub fn notice_events(
        &self,
        since: Option<Timestamp>,
        kind: Option<ActionKind>,
        instance: Option<&str>,
    ) -> Result<Vec<NoticeEventRow>, StateError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT at, run_key, target_key, title, bytes, event, detail FROM notice_events
                 WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR kind = ?2)
                   AND (?3 IS NULL OR instance = ?3)
                 ORDER BY at DESC, id DESC",
            )?;
            let rows = stmt.query_map(params![since.map(to_secs), kind, instance], |r| {
                let event: String = r.get(5)?;
                Ok(NoticeEventRow {
                    at: timestamp(r, 0)?,
                    run_key: r.get(1)?,
                    target: r.get(2)?,
                    title: r.get(3)?,
                    bytes: r.get(4)?,
                    event: if event == "rescued" {
                        NoticeEvent::Rescued
                    } else {
                        NoticeEvent::Scheduled
                    },
                    detail: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Keeps `body` (a message as JSON) for the notification target `target`.
    pub fn enqueue(
        &mut self,
        target: &str,
        event: &str,
        body: &str,
        now: Timestamp,
    ) -> Result<(), StateError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO outbox (target, event, body, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![target, event, body, to_secs(now)],
            )?;
            Ok(())
        })
    }

    /// The notifications still to deliver, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxRow>, StateError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, target, event, body, created_at, attempts, last_error FROM outbox
                 ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(OutboxRow {
                    id: r.get(0)?,
                    target: r.get(1)?,
                    event: r.get(2)?,
                    body: r.get(3)?,
                    created_at: timestamp(r, 4)?,
                    attempts: r.get(5)?,
                    last_error: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// A notification was delivered: it leaves the outbox.
    pub fn delivered(&mut self, id: i64) -> Result<(), StateError> {
        self.write(|tx| {
            tx.execute("DELETE FROM outbox WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    /// A notification could not be delivered (`error`); it stays for the next pass.
    pub fn undelivered(&mut self, id: i64, error: &str) -> Result<(), StateError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                params![id, error],
            )?;
            Ok(())
        })
    }
}

/// The columns [`notice_row`] reads, in its order.
const NOTICE_COLUMNS: &str =
    "target_key, title, bytes, jellyfin_id, state, scheduled_at, due_at, kept_reason";

/// The schedule's row of `target`, if it has one.
fn notice_of(
    tx: &rusqlite::Transaction<'_>,
    target: &TargetKey,
) -> rusqlite::Result<Option<NoticeRow>> {
    tx.query_row(
        &format!("SELECT {NOTICE_COLUMNS} FROM notices WHERE target_key = ?1"),
        [target],
        notice_row,
    )
    .optional()
}

fn notice_row(r: &Row<'_>) -> rusqlite::Result<NoticeRow> {
    let state: String = r.get(4)?;
    Ok(NoticeRow {
        target: r.get(0)?,
        title: r.get(1)?,
        bytes: r.get(2)?,
        jellyfin_id: r.get(3)?,
        state: match state.as_str() {
            "kept" => NoticeState::Kept,
            "leaving" => NoticeState::Leaving,
            _ => NoticeState::Scheduled,
        },
        scheduled_at: timestamp(r, 5)?,
        due_at: timestamp(r, 6)?,
        kept_reason: r.get(7)?,
    })
}

fn insert_event(
    tx: &rusqlite::Transaction<'_>,
    now: Timestamp,
    run_key: &str,
    row: &NoticeRow,
    event: NoticeEvent,
    detail: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO notice_events (at, run_key, target_key, instance, kind, title, bytes, event,
            detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            to_secs(now),
            run_key,
            row.target,
            row.target.instance(),
            row.target.kind(),
            row.title,
            row.bytes,
            event.as_str(),
            detail
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests;
