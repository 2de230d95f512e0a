//! Seerr (Jellyseerr) after a deletion: what Seerr holds of a deleted title is removed, so that
//! it can be requested again. A movie, or a series whose every season went, loses its media
//! record (with its requests, by cascade); a season is taken out of the requests that hold it,
//! and a request that held nothing else is deleted; the series' record stays while other
//! seasons remain. Seerr is never asked to delete files (`/media/{id}/file` would have it
//! delete through Radarr or Sonarr itself).
//!
//! A live pass keeps a cleanup with each action before anything is deleted ([`Titles`]); after
//! its deletions, [`clean`] (in `clean`; the pure decisions are in `steps`) asks Seerr about every cleanup whose action is done, this pass's
//! and those left by earlier passes. What fails is retried at the next pass for a week; it
//! never undoes or holds up a deletion. Seerr is read afresh each time, in a few paged lists,
//! never once per title.
//!
//! With `request_protection_days`, [`protect`] (in `protect`) keeps what was requested lately,
//! naming the requester, from one paged read of the requests while the pass plans; with
//! `keep_until_requester_watched`, [`keep_until_watched`] (in `requester`) keeps, from the same
//! read, what a requester has not watched yet.

mod clean;
mod protect;
mod requester;
mod steps;

use std::collections::{BTreeSet, HashMap};

use crate::clients::seerr::SeerrUser;
use crate::library::{Instance, Library};
use crate::plan::{Decision, Kind, Plan, Reason, Target, Verdict};
use crate::state::{ActionId, CleanupKind, NewCleanup};

pub use clean::{clean, Cleaned};
pub use protect::protect;
pub use requester::{asked, identify, judge, keep_until_watched, Asked, Say, Who};
pub use steps::{Cleanup, Holdings, MediaRecord, RequestRecord, Step};

/// The ids Seerr knows the deleted titles by, taken from the library before it is dropped.
#[derive(Debug, Default)]
pub struct Titles {
    /// TMDB id by (instance, Radarr id).
    movies: HashMap<(Instance, i32), i32>,
    series: HashMap<(Instance, i32), SeriesIds>,
}

#[derive(Debug)]
struct SeriesIds {
    tvdb_id: Option<i32>,
    /// The seasons that still have a file, specials included: the series is gone from the
    /// disk when this pass deletes all of them.
    with_files: BTreeSet<i32>,
}

impl Titles {
    /// The TMDB id of a Radarr movie the plan deletes.
    pub fn tmdb(&self, instance: &Instance, movie_id: i32) -> Option<i32> {
        self.movies.get(&(instance.clone(), movie_id)).copied()
    }

    /// The TVDB id of a Sonarr series the plan deletes from.
    pub fn tvdb(&self, instance: &Instance, series_id: i32) -> Option<i32> {
        (self.series.get(&(instance.clone(), series_id))).and_then(|s| s.tvdb_id)
    }

    /// What `movies` (by TMDB id) or `seasons` (by TVDB id and season number) hold for the
    /// title of `target`: a movie, or the season of a series it deletes from.
    pub fn requested<'m, T>(
        &self,
        target: &Target,
        movies: &'m HashMap<i64, T>,
        seasons: &'m HashMap<(i64, i32), T>,
    ) -> Option<&'m T> {
        match target {
            Target::Radarr { instance, movie_id } => {
                (self.tmdb(instance, *movie_id)).and_then(|t| movies.get(&i64::from(t)))
            }
            Target::Sonarr {
                instance,
                series_id,
                season,
                ..
            } => (self.tvdb(instance, *series_id))
                .and_then(|t| seasons.get(&(i64::from(t), *season))),
        }
    }

    /// The ids of the titles `plan` deletes (movies, and series it deletes seasons or
    /// episodes of).
    pub fn of(library: &Library, plan: &Plan) -> Titles {
        let mut titles = Titles::default();
        let deleting = || {
            plan.decisions
                .iter()
                .filter(|d| d.verdict == Verdict::Delete)
        };
        let movies: BTreeSet<(&str, i32)> = deleting()
            .filter_map(|d| match &d.target {
                Target::Radarr { instance, movie_id } => Some((&**instance, *movie_id)),
                Target::Sonarr { .. } => None,
            })
            .collect();
        let series: BTreeSet<(&str, i32)> = deleting()
            .filter_map(|d| match &d.target {
                Target::Sonarr {
                    instance,
                    series_id,
                    ..
                } => Some((&**instance, *series_id)),
                Target::Radarr { .. } => None,
            })
            .collect();
        for m in &library.movies {
            if let Some(tmdb) = m.tmdb_id {
                if movies.contains(&(&*m.instance, m.radarr_id)) {
                    titles
                        .movies
                        .insert((m.instance.clone(), m.radarr_id), tmdb);
                }
            }
        }
        for s in &library.series {
            if !series.contains(&(&*s.instance, s.sonarr_id)) {
                continue;
            }
            let with_files = (s.seasons.iter())
                .filter(|season| season.episodes.iter().any(|e| e.file.is_some()))
                .map(|season| season.number)
                .collect();
            titles.series.insert(
                (s.instance.clone(), s.sonarr_id),
                SeriesIds {
                    tvdb_id: s.tvdb_id,
                    with_files,
                },
            );
        }
        titles
    }

    /// The cleanups of the actions `ids`, planned for `plan.decisions[decisions[i]]`: one per
    /// movie and per whole season; a series whose every season with a file goes in this plan
    /// is a [`CleanupKind::Series`] for each of its seasons. Episodes (specials, or a season
    /// that goes episode by episode) leave Seerr alone: it requests by season.
    pub fn cleanups(&self, plan: &Plan, decisions: &[usize], ids: &[ActionId]) -> Vec<NewCleanup> {
        let planned: Vec<(&Decision, ActionId)> = (decisions.iter().zip(ids))
            .filter_map(|(i, id)| plan.decisions.get(*i).map(|d| (d, *id)))
            .collect();
        // The seasons each series loses in this plan.
        let mut going: HashMap<(&str, i32), BTreeSet<i32>> = HashMap::new();
        for (d, _) in &planned {
            if let (
                Kind::Season,
                Target::Sonarr {
                    instance,
                    series_id,
                    season,
                    ..
                },
            ) = (d.kind, &d.target)
            {
                going
                    .entry((&**instance, *series_id))
                    .or_default()
                    .insert(*season);
            }
        }
        let mut out = Vec::new();
        for (d, action) in planned {
            match (&d.target, d.kind) {
                (Target::Radarr { instance, movie_id }, _) => {
                    if let Some(tmdb) = self.movies.get(&(instance.clone(), *movie_id)) {
                        out.push(NewCleanup {
                            action,
                            kind: CleanupKind::Movie,
                            tmdb_id: Some(i64::from(*tmdb)),
                            tvdb_id: None,
                            season: None,
                            series_key: None,
                        });
                    }
                }
                (
                    Target::Sonarr {
                        instance,
                        series_id,
                        season,
                        ..
                    },
                    Kind::Season,
                ) => {
                    let Some(ids) = self.series.get(&(instance.clone(), *series_id)) else {
                        continue;
                    };
                    let whole = going
                        .get(&(&**instance, *series_id))
                        .is_some_and(|g| ids.with_files.is_subset(g));
                    out.push(NewCleanup {
                        action,
                        kind: if whole {
                            CleanupKind::Series
                        } else {
                            CleanupKind::Season
                        },
                        tmdb_id: None,
                        tvdb_id: ids.tvdb_id.map(i64::from),
                        season: Some(*season),
                        series_key: Some(format!("{instance}:{series_id}")),
                    });
                }
                (Target::Sonarr { .. }, _) => {}
            }
        }
        out
    }
}

/// The requester as people know them: the Jellyfin name Seerr has, else Seerr's own.
fn requester_name(u: &SeerrUser) -> String {
    (u.jellyfin_username.as_deref())
        .or(u.display_name.as_deref())
        .or(u.username.as_deref())
        .map_or_else(|| format!("Seerr user {}", u.id), str::to_owned)
}

/// Keeps every deletion of `plan`, because of `why` (what Seerr would have told is unknown).
fn keep_every_deletion(plan: &mut Plan, why: &str) {
    for d in (plan.decisions.iter_mut()).filter(|d| d.verdict == Verdict::Delete) {
        d.verdict = Verdict::Keep;
        d.reason = Reason::Incomplete { why: why.into() };
    }
}

#[cfg(test)]
mod tests;
