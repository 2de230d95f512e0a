//! The I/O half of Seerr's cleanup: read what Seerr holds (two paged lists), then for each due
//! cleanup make its calls and record how it ended. Any failure leaves the cleanup for the next
//! pass, which reads Seerr afresh, so a call that went through before is not made again.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

use super::steps::{Cleanup, Holdings, MediaRecord, RequestRecord, Step};
use crate::clients::seerr::{Deleted, Media, MediaType, Request, SeasonsEdit, SeerrClient};
use crate::state::{CleanupEnd, DueCleanup, State, StateError};

/// How long a cleanup that keeps failing is tried: after a week Seerr's own sync has long had
/// its say, and the failure is left on record.
const TRY_FOR: SignedDuration = SignedDuration::from_hours(7 * 24);

/// What one [`clean`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Cleaned {
    pub cleaned: usize,
    pub not_found: usize,
    /// Given up on (or left as they are on purpose).
    pub failed: usize,
    /// Left for the next pass.
    pub retried: usize,
}

/// Cleans up in Seerr after every deletion whose cleanup is due. Only the state file's errors
/// are errors; Seerr's are recorded and retried.
pub async fn clean(
    client: &SeerrClient,
    state: &mut State,
    run_key: &str,
    now: Timestamp,
) -> Result<Cleaned, StateError> {
    let due = state.due_cleanups()?;
    let mut done = Cleaned::default();
    if due.is_empty() {
        return Ok(done);
    }
    let read = async {
        let requests = client.requests().await?;
        let media = client.media().await?;
        Ok::<_, crate::clients::ApiError>((requests, media))
    };
    let (requests, media) = match read.await {
        Ok(lists) => lists,
        Err(err) => {
            tracing::warn!(
                run_id = run_key,
                "cannot read Seerr, its cleanup waits for the next pass: {err}"
            );
            for job in &due {
                retry(state, job, &err.to_string(), now, &mut done)?;
            }
            return Ok(done);
        }
    };
    let mut holdings = holdings(&requests, &media);
    let by_id: HashMap<i64, &Request> = requests.iter().map(|r| (r.id, r)).collect();
    for job in &due {
        let steps = match holdings.plan(job) {
            Cleanup::Wait => continue,
            Cleanup::NotFound(why) => {
                end(
                    state,
                    job,
                    CleanupEnd::NotFound,
                    &why,
                    run_key,
                    now,
                    &mut done,
                )?;
                continue;
            }
            Cleanup::Steps(steps) => steps,
        };
        let mut said = Vec::new();
        let mut outcome = Ok(());
        for step in &steps {
            match call(client, step, &by_id).await {
                Ok(what) => {
                    holdings.took(step);
                    said.push(what);
                }
                Err(Stop::Retry(why)) => {
                    outcome = Err((None, why));
                    break;
                }
                Err(Stop::Leave(why)) => {
                    outcome = Err((Some(CleanupEnd::Failed), why));
                    break;
                }
            }
        }
        match outcome {
            Ok(()) => {
                let detail = said.join("; ");
                end(
                    state,
                    job,
                    CleanupEnd::Cleaned,
                    &detail,
                    run_key,
                    now,
                    &mut done,
                )?;
            }
            Err((Some(end_as), why)) => end(state, job, end_as, &why, run_key, now, &mut done)?,
            Err((None, why)) => {
                tracing::warn!(
                    run_id = run_key,
                    title = %job.title,
                    "Seerr's cleanup failed, the next pass tries again: {why}"
                );
                retry(state, job, &why, now, &mut done)?;
            }
        }
    }
    Ok(done)
}

/// Why a call did not go through.
enum Stop {
    /// Seerr failed; asking again later may work.
    Retry(String),
    /// Asking again would not help, or would do harm.
    Leave(String),
}

/// Makes one call; says what it did.
async fn call(
    client: &SeerrClient,
    step: &Step,
    requests: &HashMap<i64, &Request>,
) -> Result<String, Stop> {
    let failed = |e: crate::clients::ApiError| Stop::Retry(e.to_string());
    match step {
        Step::DeleteMedia { media } => match client.delete_media(*media).await.map_err(failed)? {
            Deleted::Done => Ok(format!("media {media} removed with its requests")),
            Deleted::NotFound => Ok(format!("media {media} was already gone")),
        },
        Step::DeleteRequest { request } => {
            match client.delete_request(*request).await.map_err(failed)? {
                Deleted::Done => Ok(format!("request {request} removed")),
                Deleted::NotFound => Ok(format!("request {request} was already gone")),
            }
        }
        Step::KeepSeasons { request, seasons } => {
            let Some(r) = requests.get(request) else {
                return Err(Stop::Retry(format!("request {request} is not in the list")));
            };
            // Saving an approved request of a title Seerr does not see as available sends the
            // series to Sonarr again, which would monitor and search what was just deleted.
            if r.edit_may_resend() {
                return Err(Stop::Leave(format!(
                    "request {request} left as it is: editing it would have Seerr send the \
                     series to Sonarr again"
                )));
            }
            match (client.set_request_seasons(r, seasons).await).map_err(failed)? {
                SeasonsEdit::Saved { seasons } => {
                    Ok(format!("request {request} keeps seasons {seasons:?}"))
                }
                SeasonsEdit::NotFound => Ok(format!("request {request} was already gone")),
                SeasonsEdit::Unchanged => Err(Stop::Leave(format!(
                    "Seerr kept request {request} as it was: another request holds its other \
                     seasons"
                ))),
            }
        }
    }
}

/// Seerr's lists, as the cleanup needs them.
fn holdings(requests: &[Request], media: &[Media]) -> Holdings {
    Holdings {
        media: (media.iter())
            .map(|m| MediaRecord {
                id: m.id,
                tv: m.media_type == MediaType::Tv,
                tmdb_id: Some(m.tmdb_id),
                tvdb_id: m.tvdb_id,
            })
            .collect(),
        requests: (requests.iter())
            .map(|r| RequestRecord {
                id: r.id,
                media: r.media.id,
                seasons: r.season_numbers().into_iter().collect(),
            })
            .collect(),
    }
}

fn end(
    state: &mut State,
    job: &DueCleanup,
    end: CleanupEnd,
    detail: &str,
    run_key: &str,
    now: Timestamp,
    done: &mut Cleaned,
) -> Result<(), StateError> {
    tracing::info!(
        run_id = run_key,
        action = "seerr",
        outcome = end.as_str(),
        title = %job.title,
        "seerr: {end}: {}: {detail}",
        job.title
    );
    match end {
        CleanupEnd::Cleaned => done.cleaned += 1,
        CleanupEnd::NotFound => done.not_found += 1,
        CleanupEnd::Failed => done.failed += 1,
    }
    state.end_cleanup(job.id, end, detail, now)
}

fn retry(
    state: &mut State,
    job: &DueCleanup,
    why: &str,
    now: Timestamp,
    done: &mut Cleaned,
) -> Result<(), StateError> {
    let expired = job.created_at.checked_add(TRY_FOR).is_ok_and(|t| t < now);
    if expired {
        done.failed += 1;
        return state.end_cleanup(job.id, CleanupEnd::Failed, why, now);
    }
    done.retried += 1;
    state.retry_cleanup(job.id, why, now)
}
