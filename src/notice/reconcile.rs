//! The pure half of the notice period: a fresh plan, the schedule in the state file and what the
//! "Leaving Soon" collection holds now → what the plan may delete this pass, and the changes
//! that bring the schedule and the collection in line. No I/O; the time and the time zone of
//! the dates people read are arguments.

use std::collections::{HashMap, HashSet};

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::library::JellyfinId;
use crate::plan::{Decision, Plan, Reason, Verdict};
use crate::record::target_key;
use crate::state::{NoticeRow, NoticeState, TargetKey};

/// What the collection holds, as far as this pass knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Members {
    /// No collection is kept (`[leaving_soon] enabled = false`): an announcement is its
    /// notification alone, and nothing can be taken out by hand.
    NoCollection,
    /// The collection's items, just read (empty when it does not exist yet).
    Known(HashSet<JellyfinId>),
    /// It could not be read: nothing is scheduled, rescued by hand or deleted on notice.
    Unreadable(String),
}

impl Members {
    fn holds(&self, id: Option<JellyfinId>) -> bool {
        match (self, id) {
            (Members::Known(ids), Some(id)) => ids.contains(&id),
            // Without a collection (or an item to show), being announced is all there is.
            (Members::NoCollection, _) | (Members::Known(_), None) => true,
            (Members::Unreadable(_), _) => false,
        }
    }
}

/// What one pass changes in the schedule and the collection.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Changes {
    /// Newly eligible: shown in the collection, then put on the schedule once the collection
    /// is seen to hold them (at once, without a collection).
    pub announce: Vec<NoticeRow>,
    /// On the schedule and no longer eligible, with the reason that keeps them now: they
    /// leave the schedule and the collection.
    pub rescue: Vec<(TargetKey, String)>,
    /// On the schedule and missing from the collection: someone took them out by hand.
    pub by_hand: Vec<TargetKey>,
    /// On the schedule, and no longer in the plan at all (deleted, or gone from the library).
    pub forget: Vec<TargetKey>,
    /// Due now: indexes into `plan.decisions` of deletions that may go once their item is out
    /// of the collection, with their keys and items.
    pub due: Vec<Due>,
    /// Items to put into the collection (new announcements, and items to put back).
    pub add: Vec<JellyfinId>,
    /// Items to take out of it before anything is deleted (rescued and forgotten targets'),
    /// each with the targets that leave with it.
    pub remove: Vec<(JellyfinId, Vec<TargetKey>)>,
    /// The collection lost every item it held for the schedule at once (Jellyfin's own
    /// cleanup while the drives were missing, or a collection deleted by hand): they are put
    /// back, and nothing is taken for a rescue by hand or deleted on notice this pass.
    pub refill: bool,
}

/// A deletion that is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub decision: usize,
    pub target: TargetKey,
    pub jellyfin_id: Option<JellyfinId>,
}

/// Brings `plan` under the notice period of `days` days: a deletion goes only when it was
/// announced at least `days` ago and is due now; everything else eligible is kept with its due
/// date. Returns what must change so that the schedule and the collection say the same.
pub fn reconcile(
    plan: &mut Plan,
    schedule: &[NoticeRow],
    members: &Members,
    now: Timestamp,
    days: u32,
    tz: &TimeZone,
) -> Changes {
    let mut changes = Changes::default();
    let notice = SignedDuration::from_hours(i64::from(days) * 24);
    let date = |t: Timestamp| t.to_zoned(tz.clone()).date();
    let by_key: HashMap<&TargetKey, &NoticeRow> = schedule.iter().map(|r| (&r.target, r)).collect();
    let id_of = |row: &NoticeRow| row.jellyfin_id.as_deref().and_then(JellyfinId::parse);

    // Every announced item gone from the collection at once is not a household's doing.
    let shown: Vec<Option<JellyfinId>> = schedule
        .iter()
        .filter(|r| r.state == NoticeState::Scheduled)
        .map(id_of)
        .filter(Option::is_some)
        .collect();
    changes.refill = matches!(members, Members::Known(_))
        && shown.len() >= 2
        && shown.iter().all(|id| !members.holds(*id));

    let mut seen: HashSet<&TargetKey> = HashSet::new();
    let mut keys: Vec<TargetKey> = Vec::with_capacity(plan.decisions.len());
    for d in &plan.decisions {
        keys.push(target_key(d));
    }
    for (i, (d, key)) in plan.decisions.iter_mut().zip(&keys).enumerate() {
        let Some(row) = by_key.get(key).copied() else {
            if d.verdict == Verdict::Delete {
                announce(d, key, now, notice, &date, members, &mut changes);
            }
            continue;
        };
        seen.insert(key);
        if d.verdict == Verdict::Keep {
            match (&d.reason, row.state) {
                // What the servers could not say for sure does not end an announcement.
                (Reason::InDoubt { .. } | Reason::Incomplete { .. }, _) => {}
                // Kept by hand, and now kept anyway: nothing is left to remember.
                (_, NoticeState::Kept) => changes.forget.push(key.clone()),
                (reason, _) => changes.rescue.push((key.clone(), reason.to_string())),
            }
            continue;
        }
        let id = id_of(row);
        if row.state == NoticeState::Kept {
            keep(d, Reason::KeptByHand);
            continue;
        }
        if changes.refill {
            changes.add.extend(id);
            let why = "the Leaving Soon collection lost its items; they are put back first";
            keep(d, Reason::Postponed { why: why.into() });
            continue;
        }
        if let Members::Unreadable(why) = members {
            let why = format!("the Leaving Soon collection could not be read: {why}");
            keep(d, Reason::Postponed { why: why.into() });
            continue;
        }
        if row.state == NoticeState::Scheduled && !members.holds(id) {
            changes.by_hand.push(key.clone());
            keep(d, Reason::KeptByHand);
            continue;
        }
        // The notice counts from the confirmation, whatever the setting was then.
        let due_at = row.scheduled_at.checked_add(notice).unwrap_or(row.due_at);
        if due_at <= now {
            changes.due.push(Due {
                decision: i,
                target: key.clone(),
                jellyfin_id: id,
            });
        } else {
            keep(d, Reason::Scheduled { due: date(due_at) });
        }
    }
    for row in schedule.iter().filter(|r| !seen.contains(&r.target)) {
        changes.forget.push(row.target.clone());
    }

    // Take out what leaves the schedule, unless a target that stays still shows the same item
    // (a season whose files changed is a new target with the same Season item).
    let staying: HashSet<JellyfinId> = schedule
        .iter()
        .filter(|r| {
            !changes.forget.contains(&r.target)
                && !changes.rescue.iter().any(|(k, _)| k == &r.target)
                && !changes.by_hand.contains(&r.target)
        })
        .filter_map(id_of)
        .chain(changes.add.iter().copied())
        .collect();
    let mut remove: HashMap<JellyfinId, Vec<TargetKey>> = HashMap::new();
    let leaving = changes
        .forget
        .iter()
        .chain(changes.rescue.iter().map(|(k, _)| k));
    for key in leaving {
        if let Some(id) = by_key.get(key).and_then(|r| id_of(r)) {
            if !staying.contains(&id) && members.holds(Some(id)) {
                remove.entry(id).or_default().push(key.clone());
            }
        }
    }
    changes.remove = remove.into_iter().collect();
    changes.remove.sort();
    if let Members::Known(held) = members {
        changes.add.retain(|id| !held.contains(id));
    }
    changes.add.sort();
    changes.add.dedup();
    changes
}

/// A newly eligible deletion: kept for its notice, and announced.
fn announce(
    d: &mut Decision,
    key: &TargetKey,
    now: Timestamp,
    notice: SignedDuration,
    date: &dyn Fn(Timestamp) -> jiff::civil::Date,
    members: &Members,
    changes: &mut Changes,
) {
    let due_at = now.checked_add(notice).unwrap_or(Timestamp::MAX);
    if let Members::Unreadable(why) = members {
        keep(
            d,
            Reason::Postponed {
                why: format!("the Leaving Soon collection could not be read: {why}").into(),
            },
        );
        return;
    }
    if matches!(members, Members::Known(_)) {
        changes.add.extend(d.jellyfin_id);
    }
    changes.announce.push(NoticeRow {
        target: key.clone(),
        title: d.title.to_string(),
        bytes: d.bytes,
        jellyfin_id: d.jellyfin_id.map(|id| id.to_string()),
        state: NoticeState::Scheduled,
        scheduled_at: now,
        due_at,
        kept_reason: None,
    });
    keep(d, Reason::Scheduled { due: date(due_at) });
}

fn keep(d: &mut Decision, reason: Reason) {
    d.verdict = Verdict::Keep;
    d.reason = reason;
}
