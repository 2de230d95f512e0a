//! Deleting a series' episode files through Sonarr: unmonitored first, then deleted in one bulk
//! call, and judged against the series as it is now when Sonarr refuses or does not answer.

use std::collections::HashMap;

use super::{settle, Outcome, Stop};
use crate::clients::http::ApiError;
use crate::clients::sonarr::SonarrClient;
use crate::plan::Target;

/// Which write of a series' group failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Unmonitor,
    Delete,
}

/// Carries out the deletions of one series: unmonitors every episode of `targets`, then deletes
/// their files in one bulk call. One outcome per target.
///
/// If unmonitoring fails nothing is deleted: a deleted file of a monitored episode is fetched
/// again. When Sonarr refuses a call it may be because an id went stale since the plan (a file
/// replaced by an upgrade: its `Get(ids)` then fails the whole call), so the series is read
/// again and each target judged: gone, changed (left to the next pass, with a record), or
/// intact, and the intact ones are sent once more. A call that got no answer is not sent again
/// (the server may still be carrying it out): what the series shows then decides, or the
/// deletion stays in doubt for the next pass.
pub(super) async fn delete_series_files(
    sonarr: &SonarrClient,
    targets: &[&Target],
    series_id: i32,
) -> Result<Vec<Outcome>, Stop> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; targets.len()];
    let mut live: Vec<usize> = (0..targets.len()).collect();
    for attempt in 0..2 {
        let (episode_ids, file_ids) = ids_of(targets, &live);
        tracing::debug!(
            series_id,
            episodes = episode_ids.len(),
            files = file_ids.len(),
            attempt,
            "unmonitoring, then deleting"
        );
        let (write, err) = match sonarr.set_episodes_monitored(&episode_ids, false).await {
            Err(err) => (Write::Unmonitor, err),
            Ok(()) => match sonarr.delete_episode_files(&file_ids).await {
                Ok(()) => {
                    for &i in &live {
                        outcomes[i] = Some(Outcome::Deleted);
                    }
                    break;
                }
                Err(err) => (Write::Delete, err),
            },
        };
        let answered = !matches!(err, ApiError::Unavailable { .. }) || err.status().is_some();
        let refused_by_id =
            matches!(err, ApiError::NotFound { .. }) || (err.outcome_unknown() && answered);
        if !refused_by_id && !err.outcome_unknown() {
            // A missing root folder, a wrong key, a server that is down, a 400: the same
            // call, or the next one, fares no better.
            let outcome = settle(Err(err))?;
            for &i in &live {
                outcomes[i] = Some(outcome.clone());
            }
            break;
        }
        // What settling a killed pass asks too: the file each episode has now.
        let files_now = match sonarr.file_of_each_episode(series_id).await {
            Ok(files) => files,
            Err(_) => {
                let why = format!("{err}; the series could not be read again to see why");
                let outcome = if answered {
                    Outcome::Failed(why)
                } else {
                    Outcome::InDoubt(why)
                };
                for &i in &live {
                    outcomes[i] = Some(outcome.clone());
                }
                break;
            }
        };
        let mut intact = Vec::new();
        for &i in &live {
            match judge(targets[i], &files_now) {
                Now::Gone => {
                    outcomes[i] = Some(match write {
                        Write::Delete => Outcome::Deleted,
                        Write::Unmonitor => Outcome::AlreadyGone,
                    })
                }
                Now::Changed(why) => outcomes[i] = Some(Outcome::Changed(why)),
                Now::Intact if !answered => {
                    outcomes[i] = Some(Outcome::InDoubt(format!(
                        "{err}; its files were still there right after, and the deletion may still land"
                    )))
                }
                Now::Intact if attempt == 1 => outcomes[i] = Some(Outcome::Failed(err.to_string())),
                Now::Intact => intact.push(i),
            }
        }
        if !intact.is_empty() {
            tracing::info!(
                series_id,
                "Sonarr refused the {} of series {series_id} ({err}); {} of its {} deletions are \
                 as planned and are sent again",
                match write {
                    Write::Unmonitor => "unmonitoring",
                    Write::Delete => "deletion",
                },
                intact.len(),
                live.len()
            );
        }
        live = intact;
        if live.is_empty() {
            break;
        }
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::NotAttempted))
        .collect())
}

/// The episode and file ids of `targets[live]`, sorted and deduplicated.
pub(super) fn ids_of(targets: &[&Target], live: &[usize]) -> (Vec<i32>, Vec<i32>) {
    let mut episode_ids = Vec::new();
    let mut file_ids = Vec::new();
    for &i in live {
        if let Target::Sonarr {
            episode_ids: e,
            episode_file_ids: f,
            ..
        } = targets[i]
        {
            episode_ids.extend_from_slice(e);
            file_ids.extend_from_slice(f);
        }
    }
    episode_ids.sort_unstable();
    episode_ids.dedup();
    file_ids.sort_unstable();
    file_ids.dedup();
    (episode_ids, file_ids)
}

/// A Sonarr target as the series shows it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Now {
    /// None of its episodes has a file any more.
    Gone,
    /// Every episode still has the file the plan would delete, and nothing more.
    Intact,
    /// Something moved: an episode gone from Sonarr, a file replaced or removed.
    Changed(String),
}

/// Judges `target` against `files_now`, each episode's current file id (0 = none).
pub(super) fn judge(target: &Target, files_now: &HashMap<i32, i32>) -> Now {
    let Target::Sonarr {
        episode_ids,
        episode_file_ids,
        ..
    } = target
    else {
        return Now::Changed("not a Sonarr target".into());
    };
    let mut with_file = 0;
    for e in episode_ids {
        match files_now.get(e).copied() {
            None | Some(0) => {}
            Some(f) if episode_file_ids.contains(&f) => with_file += 1,
            Some(f) => {
                return Now::Changed(format!(
                    "episode {e} has another file (id {f}) than the plan's: replaced since; \
                     the next pass decides again"
                ))
            }
        }
    }
    if with_file == 0 {
        return Now::Gone;
    }
    if with_file < episode_ids.len() {
        return Now::Changed(
            "some of its episodes lost their files since the plan; the next pass decides again"
                .into(),
        );
    }
    Now::Intact
}
