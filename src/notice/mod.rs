//! The notice period (`[rules] notice_days`) and the "Leaving Soon" collection: what is about to
//! go is announced first, shown in Jellyfin, and deleted only once its notice has passed and it
//! is still eligible.
//!
//! A live pass goes through it twice: [`Notice::settle`] before the plan is judged (the
//! schedule, the collection and the plan are brought in line: new announcements, rescues,
//! items taken out by hand), and [`Notice::release`] right before the deletions (the due items
//! leave the collection first; one that cannot is not deleted). `plan` and dry runs call
//! [`Notice::preview`], which changes nothing. The decisions are pure (`reconcile`); the
//! outbox of notifications is in `outbox`.

mod outbox;
mod reconcile;

#[cfg(test)]
mod tests;

use std::collections::HashSet;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::clients::jellyfin::{JellyfinClient, COLLECTION_BATCH};
use crate::clients::ApiError;
use crate::library::JellyfinId;
use crate::plan::{Plan, Reason, Verdict};
use crate::record::target_key;
use crate::state::{NoticeRow, State, StateError, TargetKey};

pub use outbox::{deliver, enqueue};
pub use reconcile::{reconcile, Changes, Due, Members};

/// The notice period of a config, and the client of the Jellyfin that shows it.
pub struct Notice<'a> {
    /// Whole days between the announcement and the deletion; 0 turns all of this off.
    pub days: u32,
    /// The collection's name; `None` keeps no collection.
    pub collection: Option<&'a str>,
    pub jellyfin: &'a JellyfinClient,
    /// Where the dates people read are reckoned.
    pub tz: TimeZone,
}

/// What [`Notice::settle`] did, for [`Notice::release`] and the notifications.
#[derive(Debug, Default)]
pub struct Settled {
    /// Put on the schedule by this pass (Jellyfin confirmed them in the collection).
    pub announced: Vec<NoticeRow>,
    /// The due deletions, still to be taken out of the collection.
    due: Vec<Due>,
    collection_id: Option<String>,
}

const BY_HAND: &str = "taken out of Leaving Soon by hand";

impl Notice<'_> {
    /// True when the rules ask for a notice period.
    pub fn is_on(&self) -> bool {
        self.days > 0
    }

    /// The collection's id and items. Reads only: a missing collection holds nothing.
    async fn read(&self) -> (Option<String>, Members) {
        let Some(name) = self.collection else {
            return (None, Members::NoCollection);
        };
        let id = match self.jellyfin.find_collection(name).await {
            Ok(Some(id)) => id,
            Ok(None) => return (None, Members::Known(HashSet::new())),
            Err(err) => return (None, Members::Unreadable(err.to_string())),
        };
        match self.items(&id).await {
            Ok(items) => (Some(id), Members::Known(items)),
            Err(why) => (Some(id), Members::Unreadable(why)),
        }
    }

    async fn items(&self, id: &str) -> Result<HashSet<JellyfinId>, String> {
        let items = (self.jellyfin.collection_items(id).await).map_err(|e| e.to_string())?;
        Ok(items.iter().filter_map(|i| JellyfinId::parse(i)).collect())
    }

    /// `plan` as the notice period leaves it now, changing nothing: for `plan` and dry runs.
    pub async fn preview(&self, plan: &mut Plan, schedule: &[NoticeRow], now: Timestamp) {
        if !self.is_on() {
            return;
        }
        let (_, members) = self.read().await;
        reconcile(plan, schedule, &members, now, self.days, &self.tz);
    }

    /// Brings the schedule, the collection and `plan` in line (see the module's doc). With
    /// `allowed` an `Err` (the storage gate said stop), nothing is announced and nothing due
    /// goes; the collection is left alone.
    pub async fn settle(
        &self,
        plan: &mut Plan,
        state: &mut State,
        run_key: &str,
        now: Timestamp,
        allowed: Result<(), String>,
    ) -> Result<Settled, StateError> {
        if !self.is_on() {
            return Ok(Settled::default());
        }
        let schedule = state.notices()?;
        let (mut collection_id, members) = self.read().await;
        if let Members::Unreadable(why) = &members {
            tracing::warn!(
                run_id = run_key,
                "the Leaving Soon collection cannot be read: {why}"
            );
        }
        let changes = reconcile(plan, &schedule, &members, now, self.days, &self.tz);
        if let Err(why) = allowed {
            let keys: Vec<TargetKey> = changes.announce.iter().map(|r| r.target.clone()).collect();
            postpone(plan, &keys, &format!("not announced while {why}"));
            let due: Vec<TargetKey> = changes.due.iter().map(|d| d.target.clone()).collect();
            postpone(plan, &due, &why);
            return Ok(Settled::default());
        }

        // What leaves the schedule leaves the collection first; what cannot stays for later.
        let mut stuck: HashSet<TargetKey> = HashSet::new();
        if let Some(id) = &collection_id {
            for batch in changes.remove.chunks(COLLECTION_BATCH) {
                let ids: Vec<String> = batch.iter().map(|(i, _)| i.to_string()).collect();
                if let Err(err) = self.jellyfin.remove_from_collection(id, &ids).await {
                    tracing::warn!(
                        run_id = run_key,
                        "cannot take {} items out of Leaving Soon, a later pass tries again: {err}",
                        ids.len()
                    );
                    stuck.extend(batch.iter().flat_map(|(_, keys)| keys.iter().cloned()));
                }
            }
        }
        for (key, why) in changes.rescue.iter().filter(|(k, _)| !stuck.contains(k)) {
            state.rescue(key, why, run_key, now)?;
        }
        let forget: Vec<TargetKey> = (changes.forget.iter())
            .filter(|k| !stuck.contains(*k))
            .cloned()
            .collect();
        state.forget_notices(&forget)?;
        for key in &changes.by_hand {
            state.keep_by_hand(key, BY_HAND, run_key, now)?;
        }

        // New items go in; their notice starts once Jellyfin shows them there.
        let mut confirmed = None;
        if !changes.add.is_empty() {
            if collection_id.is_none() {
                collection_id = self.create(run_key).await;
            }
            if let Some(id) = &collection_id {
                for batch in changes.add.chunks(COLLECTION_BATCH) {
                    self.add(id, batch, run_key).await;
                }
                match self.items(id).await {
                    Ok(items) => confirmed = Some(items),
                    Err(why) => tracing::warn!(
                        run_id = run_key,
                        "cannot read Leaving Soon back, nothing is announced: {why}"
                    ),
                }
            }
        }
        let mut announced = Vec::new();
        let mut unconfirmed = Vec::new();
        for row in changes.announce {
            let shown = match (
                &members,
                row.jellyfin_id.as_deref().and_then(JellyfinId::parse),
            ) {
                (Members::Known(_), Some(id)) => {
                    confirmed.as_ref().is_some_and(|c| c.contains(&id))
                }
                _ => true,
            };
            if shown {
                announced.push(row);
            } else {
                unconfirmed.push(row.target);
            }
        }
        postpone(
            plan,
            &unconfirmed,
            "Jellyfin did not show it in Leaving Soon; its notice starts once it does",
        );
        state.schedule(&announced, run_key, now)?;
        Ok(Settled {
            announced,
            due: changes.due,
            collection_id,
        })
    }

    /// Puts `batch` (at most [`COLLECTION_BATCH`]) into the collection. Jellyfin refuses a
    /// whole batch for one id it no longer knows (an item gone since this pass listed it), so a
    /// refused batch is tried again one id at a time, until two in a row are refused too (then
    /// the collection itself is likely gone; the next pass lists afresh). Failures are logged:
    /// what is not in the collection is not announced.
    async fn add(&self, collection: &str, batch: &[JellyfinId], run_key: &str) {
        let ids: Vec<String> = batch.iter().map(JellyfinId::to_string).collect();
        let err = match self.jellyfin.add_to_collection(collection, &ids).await {
            Ok(()) => return,
            Err(err) => err,
        };
        tracing::warn!(
            run_id = run_key,
            "cannot put {} items into Leaving Soon, a later pass tries again: {err}",
            ids.len()
        );
        if ids.len() < 2 || !matches!(err, ApiError::Rejected { .. }) {
            return;
        }
        let mut refused = 0;
        for id in &ids {
            match (self
                .jellyfin
                .add_to_collection(collection, std::slice::from_ref(id)))
            .await
            {
                Ok(()) => refused = 0,
                Err(err) => {
                    tracing::warn!(run_id = run_key, "Leaving Soon refused item {id}: {err}");
                    refused += 1;
                    if refused == 2 {
                        return;
                    }
                }
            }
        }
    }

    async fn create(&self, run_key: &str) -> Option<String> {
        let name = self.collection?;
        match self.jellyfin.create_collection(name).await {
            Ok(id) => {
                tracing::info!(run_id = run_key, "created the Jellyfin collection {name:?}");
                Some(id)
            }
            Err(err) => {
                tracing::warn!(
                    run_id = run_key,
                    "cannot create the collection {name:?}: {err}"
                );
                None
            }
        }
    }

    /// Takes the due items of `settled` out of the collection, right before they are deleted.
    /// A deletion whose item could not be taken out is postponed: a Leaving Soon that shows
    /// what is gone is what the household would be misled by.
    pub async fn release(
        &self,
        plan: &mut Plan,
        settled: &Settled,
        state: &mut State,
        run_key: &str,
    ) -> Result<(), StateError> {
        let due: Vec<&Due> = (settled.due.iter())
            .filter(|d| {
                plan.decisions
                    .get(d.decision)
                    .is_some_and(|x| x.verdict == Verdict::Delete)
            })
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        let keys: Vec<TargetKey> = due.iter().map(|d| d.target.clone()).collect();
        state.mark_leaving(&keys)?;
        let Some(collection) = &settled.collection_id else {
            return Ok(());
        };
        let shown: Vec<&Due> = due
            .iter()
            .copied()
            .filter(|d| d.jellyfin_id.is_some())
            .collect();
        for batch in shown.chunks(COLLECTION_BATCH) {
            let ids: Vec<String> = (batch.iter())
                .filter_map(|d| d.jellyfin_id.map(|i| i.to_string()))
                .collect();
            if let Err(err) = self.jellyfin.remove_from_collection(collection, &ids).await {
                tracing::warn!(
                    run_id = run_key,
                    "cannot take {} due items out of Leaving Soon; they wait: {err}",
                    ids.len()
                );
                let keys: Vec<TargetKey> = batch.iter().map(|d| d.target.clone()).collect();
                postpone(
                    plan,
                    &keys,
                    &format!("could not be taken out of Leaving Soon first: {err}"),
                );
            }
        }
        Ok(())
    }
}

/// Turns the deletions or announcements of `keys` into keeps that say `why`.
fn postpone(plan: &mut Plan, keys: &[TargetKey], why: &str) {
    if keys.is_empty() {
        return;
    }
    let keys: HashSet<&TargetKey> = keys.iter().collect();
    for d in plan.decisions.iter_mut() {
        let announced = matches!(d.reason, Reason::Scheduled { .. });
        if (d.verdict == Verdict::Delete || announced) && keys.contains(&target_key(d)) {
            d.verdict = Verdict::Keep;
            d.reason = Reason::Postponed { why: why.into() };
        }
    }
}
