//! The walk over a plan: the storage checked first, then the movies one by one and the episode
//! files a series at a time, each delete behind the gate and written down in the journal.

use std::collections::BTreeMap;

use super::movies::delete_movie;
use super::series::delete_series_files;
use super::space::{self, Go, SpaceWatch};
use super::{ApplyReport, Gate, Journal, Mode, Outcome, Step, Stop};
use crate::clients::http::{Server, Service};
use crate::clients::Sources;
use crate::inventory::RootFolderState;
use crate::plan::{Decision, Plan, Target};

/// What [`apply`](super::apply) does before it logs: every deletion of `plan` carried out (or
/// walked, in a dry run), in plan order, until the pass stops.
pub(super) async fn carry_out(
    plan: &Plan,
    sources: &Sources,
    add_import_exclusion: &[&str],
    root_folders: &[RootFolderState],
    mode: Mode,
    journal: &mut (dyn Journal + Send),
    gate: &mut (impl Gate + Send),
) -> ApplyReport {
    let mut report = ApplyReport {
        mode,
        outcomes: plan
            .decisions
            .iter()
            .enumerate()
            .filter(|(_, d)| d.verdict == crate::plan::Verdict::Delete)
            .map(|(i, _)| (i, Outcome::NotAttempted))
            .collect(),
        stopped: None,
        refreshed: false,
        space: Vec::new(),
    };
    let mut watch = SpaceWatch::new(plan);
    if report.outcomes.is_empty() {
        return report;
    }
    if let Some(stop) = storage_missing(plan, root_folders) {
        report.stopped = Some(stop);
        return report;
    }

    // Movies one by one, then episode files grouped per series (one bulk call each).
    let movie_slots: Vec<usize> = (0..report.outcomes.len())
        .filter(|&s| {
            matches!(
                plan.decisions[report.outcomes[s].0].target,
                Target::Radarr { .. }
            )
        })
        .collect();
    for s in movie_slots {
        let decision = &plan.decisions[report.outcomes[s].0];
        let Target::Radarr {
            ref instance,
            movie_id,
        } = decision.target
        else {
            continue;
        };
        let slot_decisions = [report.outcomes[s].0];
        let step = Step {
            number: s + 1,
            total: report.outcomes.len(),
            title: &decision.title,
            more: 0,
        };
        if let Err(stop) = gate_open(mode, gate, step).await {
            report.stopped = Some(stop);
            break;
        }
        let space = match (mode, watch.mount_of(decision)) {
            (Mode::Live, Some(m)) => match watch.before(m, gate).await {
                Ok(Go::Delete { free_before }) => Some((m, free_before)),
                Ok(Go::Leave(why)) => match space::leave(journal, &slot_decisions, why) {
                    Ok(outcome) => {
                        report.outcomes[s].1 = outcome;
                        continue;
                    }
                    Err(stop) => {
                        report.stopped = Some(stop);
                        break;
                    }
                },
                Err(stop) => {
                    report.stopped = Some(stop);
                    break;
                }
            },
            _ => None,
        };
        let exclusion = add_import_exclusion.contains(&&**instance);
        let outcome = match (mode, sources.radarr_named(instance)) {
            (Mode::DryRun, _) => Ok(Outcome::WouldDelete),
            // Only the instance that holds the file is ever asked to delete it.
            (Mode::Live, None) => Ok(Outcome::Failed(format!(
                "no Radarr called {instance} is configured"
            ))),
            (Mode::Live, Some(radarr)) => journaled(journal, &slot_decisions, async {
                delete_movie(radarr, movie_id, exclusion)
                    .await
                    .map(|o| vec![o])
            })
            .await
            .map(|mut o| o.pop().unwrap_or(Outcome::NotAttempted)),
        };
        match outcome {
            Ok(o) => {
                if let (Outcome::Deleted, Some((m, free_before))) = (&o, space) {
                    watch.deleted(m, free_before, decision.bytes);
                }
                report.outcomes[s].1 = o;
            }
            Err(stop) => {
                report.stopped = Some(stop);
                break;
            }
        }
    }

    if report.stopped.is_none() {
        for ((instance, series_id), slots) in series_groups(plan, &report) {
            let step = Step {
                number: slots[0] + 1,
                total: report.outcomes.len(),
                title: &plan.decisions[report.outcomes[slots[0]].0].title,
                more: slots.len() - 1,
            };
            if let Err(stop) = gate_open(mode, gate, step).await {
                report.stopped = Some(stop);
                break;
            }
            // The series' deletions for space go only while their mount needs them.
            let mut slots = slots;
            let mut space = None;
            if let Some(m) = (mode == Mode::Live)
                .then(|| {
                    slots
                        .iter()
                        .find_map(|&s| watch.mount_of(&plan.decisions[report.outcomes[s].0]))
                })
                .flatten()
            {
                match watch.before(m, gate).await {
                    Ok(Go::Delete { free_before }) => space = Some((m, free_before)),
                    Ok(Go::Leave(why)) => {
                        let (left, kept): (Vec<usize>, Vec<usize>) =
                            slots.iter().partition(|&&s| {
                                watch.mount_of(&plan.decisions[report.outcomes[s].0]) == Some(m)
                            });
                        let left_decisions: Vec<usize> =
                            left.iter().map(|&s| report.outcomes[s].0).collect();
                        let outcome = match space::leave(journal, &left_decisions, why) {
                            Ok(outcome) => outcome,
                            Err(stop) => {
                                report.stopped = Some(stop);
                                break;
                            }
                        };
                        for &s in &left {
                            report.outcomes[s].1 = outcome.clone();
                        }
                        slots = kept;
                        if slots.is_empty() {
                            continue;
                        }
                    }
                    Err(stop) => {
                        report.stopped = Some(stop);
                        break;
                    }
                }
            }
            let decisions: Vec<usize> = slots.iter().map(|&s| report.outcomes[s].0).collect();
            let outcomes = match (mode, sources.sonarr_named(instance)) {
                (Mode::DryRun, _) => Ok(vec![Outcome::WouldDelete; slots.len()]),
                (Mode::Live, None) => Ok(vec![
                    Outcome::Failed(format!(
                        "no Sonarr called {instance} is configured"
                    ));
                    slots.len()
                ]),
                (Mode::Live, Some(sonarr)) => {
                    let targets: Vec<&Target> = decisions
                        .iter()
                        .map(|&i| &plan.decisions[i].target)
                        .collect();
                    journaled(
                        journal,
                        &decisions,
                        delete_series_files(sonarr, &targets, series_id),
                    )
                    .await
                }
            };
            match outcomes {
                Ok(outcomes) => {
                    if let Some((m, free_before)) = space {
                        let freed: u64 = slots
                            .iter()
                            .zip(&outcomes)
                            .filter(|(_, o)| **o == Outcome::Deleted)
                            .map(|(&s, _)| plan.decisions[report.outcomes[s].0].bytes)
                            .sum();
                        if freed > 0 {
                            watch.deleted(m, free_before, freed);
                        }
                    }
                    for (&s, o) in slots.iter().zip(outcomes) {
                        report.outcomes[s].1 = o;
                    }
                }
                Err(stop) => {
                    report.stopped = Some(stop);
                    break;
                }
            }
        }
    }

    if mode == Mode::Live {
        report.space = watch.finish(gate).await;
    }
    if mode == Mode::Live && report.count(|o| *o == Outcome::Deleted) > 0 {
        // Jellyfin drops deleted items at its next scan; ask for one now so nobody picks a
        // title that is gone. A failure here deletes nothing and is only worth a warning.
        match sources.jellyfin.refresh_library().await {
            Ok(()) => report.refreshed = true,
            Err(err) => tracing::warn!("could not ask Jellyfin to rescan its library: {err}"),
        }
    }
    report
}

/// Asks the gate before a live delete; a dry run deletes nothing and asks nobody.
async fn gate_open(mode: Mode, gate: &mut (impl Gate + Send), step: Step<'_>) -> Result<(), Stop> {
    match mode {
        Mode::DryRun => Ok(()),
        Mode::Live => gate
            .before_delete(step)
            .await
            .map_err(|reason| Stop::Unhealthy { reason }),
    }
}

/// Records the intent, runs the *arr call, records its outcome (one per decision). When the
/// intent cannot be written the call is not made; when the outcome cannot be written the pass
/// stops, and the next pass settles the action by asking the *arr. A deletion in doubt stays
/// started (with a note of why): the next pass settles it the same way.
async fn journaled(
    journal: &mut (dyn Journal + Send),
    decisions: &[usize],
    call: impl std::future::Future<Output = Result<Vec<Outcome>, Stop>>,
) -> Result<Vec<Outcome>, Stop> {
    journal
        .started(decisions)
        .map_err(|detail| Stop::JournalFailed { detail })?;
    let outcomes = match call.await {
        Ok(outcomes) => outcomes,
        // Refused for missing storage: the call did not take effect.
        Err(stop @ Stop::StorageMissing { .. }) => {
            let failed = Outcome::Failed(stop.to_string());
            for &i in decisions {
                journal
                    .finished(&[i], &failed)
                    .map_err(|detail| Stop::JournalFailed { detail })?;
            }
            return Err(stop);
        }
        // The server may have carried out the call before it went away: the actions stay
        // `started`, and the next pass asks the *arr whether the targets are gone.
        Err(stop) => return Err(stop),
    };
    for (&i, outcome) in decisions.iter().zip(&outcomes) {
        journal
            .finished(&[i], outcome)
            .map_err(|detail| Stop::JournalFailed { detail })?;
    }
    Ok(outcomes)
}

/// Slots of the Sonarr deletions, grouped by series in plan order.
fn series_groups<'p>(plan: &'p Plan, report: &ApplyReport) -> Vec<((&'p str, i32), Vec<usize>)> {
    let mut order: Vec<(&str, i32)> = Vec::new();
    let mut groups: BTreeMap<(&str, i32), Vec<usize>> = BTreeMap::new();
    for (s, (i, _)) in report.outcomes.iter().enumerate() {
        if let Target::Sonarr {
            instance,
            series_id,
            ..
        } = &plan.decisions[*i].target
        {
            let key = (&**instance, *series_id);
            let group = groups.entry(key).or_default();
            if group.is_empty() {
                order.push(key);
            }
            group.push(s);
        }
    }
    order
        .into_iter()
        .map(|id| (id, groups.remove(&id).unwrap_or_default()))
        .collect()
}

/// A stop when an instance that has deletions reports a root folder it cannot reach.
fn storage_missing(plan: &Plan, root_folders: &[RootFolderState]) -> Option<Stop> {
    let needs = |server: Server| {
        plan.deletions().any(|d: &Decision| {
            let service = match d.target {
                Target::Radarr { .. } => Service::Radarr,
                Target::Sonarr { .. } => Service::Sonarr,
            };
            service == server.service && d.target.instance() == server.name
        })
    };
    root_folders
        .iter()
        .find(|r| !r.accessible && needs(r.server))
        .map(|r| Stop::StorageMissing {
            service: r.server,
            detail: format!("root folder {} is not accessible", r.path),
        })
}
