//! Deleting for space, measured: before each deletion made for a `when_low` mount, the mount's
//! free space is read again. At the target the rest are left. When deletions stop giving space
//! back (snapshots, other hard links, a recycle bin on the same mount keep the blocks), the rest
//! on that mount are left too, and the pass says why. A measurement that fails stops the pass:
//! it is never taken for enough space, nor for too little.

use std::time::Duration;

use super::{Gate, Journal, Outcome, Stop};
use crate::plan::{Decision, Plan, Reason};
use crate::units::format_bytes;

/// How long a deletion's space may take to come back: Radarr removes a movie's files a moment
/// after it answers.
const SETTLE: Duration = Duration::from_secs(3);
const POLL: Duration = Duration::from_millis(100);

/// Deletions in a row that give back less than half their size before a mount is taken to
/// free nothing.
const DRY_IN_A_ROW: u32 = 2;

/// What a pass did for space on one mount, for the log, the metrics and `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceRun {
    pub mount: String,
    /// Free bytes at the last measurement.
    pub free_after: u64,
    /// Free bytes that came back, as measured.
    pub freed: u64,
    /// Why the pass left the rest of the mount's deletions, when it did.
    pub left: Option<String>,
    /// True when deletions stopped freeing space on it.
    pub frees_nothing: bool,
}

/// The state of the space deletions of one pass.
pub(super) struct SpaceWatch {
    mounts: Vec<Watched>,
}

struct Watched {
    mount: String,
    target: u64,
    /// Free bytes before the last deletion made here, and what it should have freed.
    last: Option<(u64, u64)>,
    /// Deletions in a row that gave back less than half their size, and what they gave back.
    dry: u32,
    dry_back: u64,
    run: SpaceRun,
}

/// Whether a deletion for space is to be made.
pub(super) enum Go {
    Delete { free_before: u64 },
    Leave(String),
}

impl SpaceWatch {
    pub(super) fn new(plan: &Plan) -> Self {
        SpaceWatch {
            mounts: plan
                .space
                .iter()
                .map(|b| Watched {
                    mount: b.mount.clone(),
                    target: b.target_bytes,
                    last: None,
                    dry: 0,
                    dry_back: 0,
                    run: SpaceRun {
                        mount: b.mount.clone(),
                        free_after: b.free_bytes,
                        freed: 0,
                        left: None,
                        frees_nothing: false,
                    },
                })
                .collect(),
        }
    }

    /// The mount (by index) a deletion for space was planned on; `None` for any other deletion.
    pub(super) fn mount_of(&self, d: &Decision) -> Option<usize> {
        let Reason::Space(space) = &d.reason else {
            return None;
        };
        self.mounts.iter().position(|m| m.mount == space.mount)
    }

    /// Before a deletion for space on mount `m`: measure again, judge the last deletion there,
    /// and say whether this one is still needed.
    pub(super) async fn before(
        &mut self,
        m: usize,
        gate: &mut (impl Gate + Send),
    ) -> Result<Go, Stop> {
        let Some(w) = self.mounts.get_mut(m) else {
            return Ok(Go::Leave("no such mount".into()));
        };
        if let Some(why) = &w.run.left {
            return Ok(Go::Leave(why.clone()));
        }
        let free = w.measure(gate).await?;
        if let Some((before, expected)) = w.last.take() {
            let back = free.saturating_sub(before);
            w.run.freed += back;
            if back < expected / 2 {
                w.dry += 1;
                w.dry_back += back;
            } else {
                (w.dry, w.dry_back) = (0, 0);
            }
            if w.dry >= DRY_IN_A_ROW {
                let why = format!(
                    "deleting frees nothing on {}: the last {DRY_IN_A_ROW} deletions there gave \
                     back {} (snapshots, other hard links to the files or a recycle bin on the \
                     same mount keep the blocks)",
                    w.mount,
                    format_bytes(w.dry_back)
                );
                tracing::warn!(mount = %w.mount, action = "skip", "{why}; no more is deleted there for space");
                w.run.frees_nothing = true;
                w.run.left = Some(why.clone());
                return Ok(Go::Leave(why));
            }
        }
        if free >= w.target {
            let why = format!(
                "{} is back at its target ({} free, target {})",
                w.mount,
                format_bytes(free),
                format_bytes(w.target)
            );
            w.run.left = Some(why.clone());
            return Ok(Go::Leave(why));
        }
        Ok(Go::Delete { free_before: free })
    }

    /// A deletion of `bytes` on mount `m` went through, with `free_before` bytes free before it.
    pub(super) fn deleted(&mut self, m: usize, free_before: u64, bytes: u64) {
        if let Some(w) = self.mounts.get_mut(m) {
            w.last = Some((free_before, bytes));
        }
    }

    /// Measures once more where the last deletion has not been measured, and says what was
    /// done on each mount.
    pub(super) async fn finish(mut self, gate: &mut (impl Gate + Send)) -> Vec<SpaceRun> {
        for w in &mut self.mounts {
            if let Some((before, _)) = w.last.take() {
                if let Ok(free) = w.measure(gate).await {
                    w.run.freed += free.saturating_sub(before);
                }
            }
        }
        self.mounts.into_iter().map(|w| w.run).collect()
    }
}

impl Watched {
    /// The mount's free bytes now; after a deletion, waits a moment for its space to come back.
    async fn measure(&mut self, gate: &mut (impl Gate + Send)) -> Result<u64, Stop> {
        let started = tokio::time::Instant::now();
        loop {
            let free = gate
                .free_space(&self.mount)
                .await
                .map_err(|why| Stop::Unhealthy {
                    reason: format!("the free space of {} cannot be measured: {why}", self.mount),
                })?;
            self.run.free_after = free;
            let settled = match self.last {
                None => true,
                Some((before, expected)) => free.saturating_sub(before) >= expected / 2,
            };
            if settled || started.elapsed() >= SETTLE {
                return Ok(free);
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Records in `journal` that the pass left `decisions` (deletions for space) for `why`, and
/// gives their outcome; a journal that cannot record it stops the pass.
pub(super) fn leave(
    journal: &mut (dyn Journal + Send),
    decisions: &[usize],
    why: String,
) -> Result<Outcome, Stop> {
    let outcome = Outcome::Unneeded(why);
    journal
        .finished(decisions, &outcome)
        .map_err(|detail| Stop::JournalFailed { detail })?;
    Ok(outcome)
}
