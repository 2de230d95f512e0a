//! `request_protection_days`: what someone asked for in Seerr lately is not deleted yet. Pure:
//! the plan, the ids of the titles it deletes ([`Titles`]), Seerr's requests (or why they could not be read) and
//! the time in; the plan's deletions that a recent request covers become keeps that name the
//! requester. Requests that could not be read keep every deletion: any of them could be
//! covered.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};

use super::{keep_every_deletion, requester_name, Titles};
use crate::clients::seerr::{MediaType, Request, RequestStatus};
use crate::plan::{Plan, Reason, Verdict};

/// The newest request of a title (a movie by TMDB id, a season by TVDB id and number).
#[derive(Debug, Clone)]
struct Recent {
    by: String,
    at: Timestamp,
}

/// Keeps the deletions of `plan` that a request made fewer than `days` days before `now`
/// covers. A declined request protects nothing.
pub fn protect(
    plan: &mut Plan,
    titles: &Titles,
    requests: Result<&[Request], String>,
    now: Timestamp,
    days: u32,
) {
    if days == 0 {
        return;
    }
    let requests = match requests {
        Ok(requests) => requests,
        Err(why) => {
            keep_every_deletion(
                plan,
                &format!("Seerr's requests could not be read, and one may protect it: {why}"),
            );
            return;
        }
    };
    let since = now
        .checked_sub(SignedDuration::from_hours(24 * i64::from(days)))
        .unwrap_or(Timestamp::MIN);
    let mut movies: HashMap<i64, Recent> = HashMap::new();
    let mut seasons: HashMap<(i64, i32), Recent> = HashMap::new();
    for r in requests {
        if r.created_at < since || r.status == RequestStatus::Declined {
            continue;
        }
        let recent = Recent {
            by: requester_name(&r.requested_by),
            at: r.created_at,
        };
        let newer = |old: &Recent| old.at < recent.at;
        match (r.media.media_type, r.media.tvdb_id) {
            (MediaType::Movie, _) => {
                let slot = movies
                    .entry(r.media.tmdb_id)
                    .or_insert_with(|| recent.clone());
                if newer(slot) {
                    *slot = recent.clone();
                }
            }
            (MediaType::Tv, Some(tvdb)) => {
                for s in &r.seasons {
                    let slot =
                        (seasons.entry((tvdb, s.season_number))).or_insert_with(|| recent.clone());
                    if newer(slot) {
                        *slot = recent.clone();
                    }
                }
            }
            // Without a TVDB id, Sonarr's series cannot be told; Seerr fills it for nearly all.
            (MediaType::Tv, None) => {}
        }
    }
    if movies.is_empty() && seasons.is_empty() {
        return;
    }
    for d in plan
        .decisions
        .iter_mut()
        .filter(|d| d.verdict == Verdict::Delete)
    {
        if let Some(recent) = titles.requested(&d.target, &movies, &seasons) {
            d.verdict = Verdict::Keep;
            d.reason = Reason::Requested {
                by: recent.by.as_str().into(),
                days_ago: i32::try_from(now.duration_since(recent.at).as_hours().max(0) / 24)
                    .unwrap_or(i32::MAX),
            };
        }
    }
}
