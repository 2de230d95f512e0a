//! Health samples of the monitor: one row per round, and one per change of a check's health.

use std::collections::HashMap;

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension, Row};

use crate::health::gate::Sample;
use crate::health::{Finding, Health};

use super::{timestamp, to_secs, Failure, State, StateError};

/// A round of the monitor as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRow {
    pub at: Timestamp,
    pub overall: Health,
    /// The gate would have paused a pass on this round.
    pub blocking: bool,
    pub summary: String,
}

/// One check whose health changed since the round before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub check: String,
    pub category: String,
    /// `None` the first time the check is seen.
    pub before: Option<Health>,
    pub after: Health,
    pub detail: String,
}

/// The checks of `findings` whose health differs from `last` (by check name), and all that are
/// new and not ok. Pure, so the monitor's bookkeeping is tested without a database.
pub fn transitions(last: &HashMap<String, Health>, findings: &[Finding]) -> Vec<Transition> {
    findings
        .iter()
        .filter_map(|f| {
            let before = last.get(&f.check).copied();
            let changed = match before {
                Some(b) => b != f.health,
                None => f.health != Health::Ok,
            };
            changed.then(|| Transition {
                check: f.check.clone(),
                category: serde_json::to_value(f.category)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                before,
                after: f.health,
                detail: f.detail.clone(),
            })
        })
        .collect()
}

impl State {
    /// Records one monitor round and the transitions it saw, together.
    pub fn record_health(
        &mut self,
        sample: &SampleRow,
        transitions: &[Transition],
    ) -> Result<(), StateError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO health_samples (at, overall, blocking, summary) VALUES (?1, ?2, ?3, ?4)",
                params![
                    to_secs(sample.at),
                    sample.overall.as_str(),
                    sample.blocking,
                    sample.summary
                ],
            )?;
            let mut insert = tx.prepare(
                "INSERT INTO health_transitions (at, check_name, category, before, after, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for t in transitions {
                insert.execute(params![
                    to_secs(sample.at),
                    t.check,
                    t.category,
                    t.before.map(Health::as_str),
                    t.after.as_str(),
                    t.detail
                ])?;
            }
            Ok(())
        })
    }

    /// The health each check had at its last recorded change.
    pub fn last_check_health(&self) -> Result<HashMap<String, Health>, StateError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT check_name, after FROM health_transitions
                 WHERE id IN (SELECT MAX(id) FROM health_transitions GROUP BY check_name)",
            )?;
            let rows = stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, health(row, 1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The samples `require_healthy_for` looks at: the last one at or before `start`, and every
    /// one after it, oldest first.
    pub fn samples_since(&self, start: Timestamp) -> Result<Vec<Sample>, StateError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT at, blocking FROM health_samples
                 WHERE at >= COALESCE((SELECT MAX(at) FROM health_samples WHERE at <= ?1), ?1)
                 ORDER BY at, id",
            )?;
            let rows = stmt.query_map([to_secs(start)], |row| {
                Ok(Sample {
                    at: timestamp(row, 0)?,
                    blocking: row.get(1)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The newest sample, for `status`.
    pub fn last_sample(&self) -> Result<Option<SampleRow>, StateError> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT at, overall, blocking, summary FROM health_samples ORDER BY at DESC, id DESC LIMIT 1",
                [],
                |row| {
                    Ok(SampleRow {
                        at: timestamp(row, 0)?,
                        overall: health(row, 1)?,
                        blocking: row.get(2)?,
                        summary: row.get(3)?,
                    })
                },
            )
            .optional()?)
        })
    }

    /// Drops samples and transitions from before `older_than`; the last transition of each check
    /// stays, so the monitor still knows where each check stood.
    pub(super) fn prune_health(
        tx: &rusqlite::Transaction<'_>,
        older_than: Timestamp,
    ) -> Result<u64, Failure> {
        let cut = to_secs(older_than);
        let samples = tx.execute("DELETE FROM health_samples WHERE at < ?1", [cut])?;
        let transitions = tx.execute(
            "DELETE FROM health_transitions WHERE at < ?1
               AND id NOT IN (SELECT MAX(id) FROM health_transitions GROUP BY check_name)",
            [cut],
        )?;
        Ok((samples + transitions) as u64)
    }
}

fn health(row: &Row<'_>, idx: usize) -> rusqlite::Result<Health> {
    let text: String = row.get(idx)?;
    Health::parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            format!("unknown health {text:?}").into(),
        )
    })
}
