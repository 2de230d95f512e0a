//! The pure half of Seerr's cleanup: one due cleanup and what Seerr holds now → the calls that
//! make the title requestable again. No I/O. [`Holdings`] is updated as calls succeed, so that
//! two seasons of one request deleted in the same pass are taken out one after the other, and
//! a media record removed for one cleanup is not removed again for the next.

use std::collections::BTreeSet;

use crate::state::{CleanupKind, DueCleanup};

/// A media record, as far as the cleanup needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRecord {
    /// Seerr's own id: the one `DELETE /media/{id}` takes (not the TMDB id).
    pub id: i64,
    pub tv: bool,
    pub tmdb_id: Option<i64>,
    pub tvdb_id: Option<i64>,
}

/// A request, as far as the cleanup needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub id: i64,
    /// The media record it is for (Seerr's id).
    pub media: i64,
    /// The seasons it holds (TV).
    pub seasons: BTreeSet<i32>,
}

/// What Seerr holds now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    pub media: Vec<MediaRecord>,
    pub requests: Vec<RequestRecord>,
}

/// One call to Seerr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `DELETE /media/{id}`: the record and, by cascade, its requests.
    DeleteMedia { media: i64 },
    /// `DELETE /request/{id}`: a request that held nothing but the deleted season.
    DeleteRequest { request: i64 },
    /// `PUT /request/{id}` keeping only `seasons`.
    KeepSeasons { request: i64, seasons: Vec<i32> },
}

/// What to do for one cleanup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleanup {
    /// These calls, in order.
    Steps(Vec<Step>),
    /// Seerr holds nothing of it; the detail says what was looked for.
    NotFound(String),
    /// Not yet: a season of the same series is still being deleted.
    Wait,
}

impl Holdings {
    fn media_of(&self, job: &DueCleanup, tv: bool) -> Option<&MediaRecord> {
        self.media.iter().find(|m| {
            m.tv == tv
                && if tv {
                    // Sonarr knows a series by its TVDB id; Seerr has it on most records.
                    job.tvdb_id.is_some() && m.tvdb_id == job.tvdb_id
                } else {
                    job.tmdb_id.is_some() && m.tmdb_id == job.tmdb_id
                }
        })
    }

    /// The calls for `job`.
    pub fn plan(&self, job: &DueCleanup) -> Cleanup {
        let whole = match job.kind {
            CleanupKind::Movie => true,
            CleanupKind::Series if job.siblings_open => return Cleanup::Wait,
            // A season of it stayed after all: only this one is gone.
            CleanupKind::Series => !job.siblings_kept,
            CleanupKind::Season => false,
        };
        let tv = job.kind != CleanupKind::Movie;
        let Some(media) = self.media_of(job, tv) else {
            return Cleanup::NotFound(match (tv, job.tmdb_id, job.tvdb_id) {
                (false, Some(tmdb), _) => format!("no media record for TMDB id {tmdb}"),
                (true, _, Some(tvdb)) => format!("no media record for TVDB id {tvdb}"),
                _ => "no id to look it up by".to_owned(),
            });
        };
        if whole {
            return Cleanup::Steps(vec![Step::DeleteMedia { media: media.id }]);
        }
        let Some(season) = job.season else {
            return Cleanup::NotFound("no season to take out".to_owned());
        };
        let steps: Vec<Step> = (self.requests.iter())
            .filter(|r| r.media == media.id && r.seasons.contains(&season))
            .map(|r| {
                let rest: Vec<i32> = r.seasons.iter().copied().filter(|s| *s != season).collect();
                if rest.is_empty() {
                    Step::DeleteRequest { request: r.id }
                } else {
                    Step::KeepSeasons {
                        request: r.id,
                        seasons: rest,
                    }
                }
            })
            .collect();
        if steps.is_empty() {
            return Cleanup::NotFound(format!("no request holds season {season}"));
        }
        Cleanup::Steps(steps)
    }

    /// Records that `step` went through.
    pub fn took(&mut self, step: &Step) {
        match step {
            Step::DeleteMedia { media } => {
                self.media.retain(|m| m.id != *media);
                self.requests.retain(|r| r.media != *media);
            }
            Step::DeleteRequest { request } => self.requests.retain(|r| r.id != *request),
            Step::KeepSeasons { request, seasons } => {
                if let Some(r) = self.requests.iter_mut().find(|r| r.id == *request) {
                    r.seasons = seasons.iter().copied().collect();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::state::ActionId;

    fn job(kind: CleanupKind, season: Option<i32>) -> DueCleanup {
        DueCleanup {
            id: 1,
            action: ActionId(1),
            kind,
            tmdb_id: Some(603),
            tvdb_id: (kind != CleanupKind::Movie).then_some(81189),
            season,
            title: "t".to_owned(),
            attempts: 0,
            created_at: Timestamp::UNIX_EPOCH,
            siblings_open: false,
            siblings_kept: false,
        }
    }

    fn request(id: i64, media: i64, seasons: &[i32]) -> RequestRecord {
        RequestRecord {
            id,
            media,
            seasons: seasons.iter().copied().collect(),
        }
    }

    fn holdings() -> Holdings {
        Holdings {
            media: vec![
                // A movie and a show that share the TMDB id 603: the kind tells them apart.
                MediaRecord {
                    id: 1001,
                    tv: false,
                    tmdb_id: Some(603),
                    tvdb_id: None,
                },
                MediaRecord {
                    id: 1002,
                    tv: true,
                    tmdb_id: Some(603),
                    tvdb_id: Some(81189),
                },
            ],
            requests: vec![
                request(1, 1001, &[]),
                request(2, 1002, &[1, 2]),
                request(3, 1002, &[3]),
            ],
        }
    }

    #[test]
    fn a_movie_goes_by_its_media_id_not_its_tmdb_id() {
        assert_eq!(
            holdings().plan(&job(CleanupKind::Movie, None)),
            Cleanup::Steps(vec![Step::DeleteMedia { media: 1001 }])
        );
        let mut other = job(CleanupKind::Movie, None);
        other.tmdb_id = Some(604);
        assert!(matches!(holdings().plan(&other), Cleanup::NotFound(why) if why.contains("604")));
    }

    #[test]
    fn a_season_leaves_its_requests_and_the_media_stays() {
        let h = holdings();
        assert_eq!(
            h.plan(&job(CleanupKind::Season, Some(1))),
            Cleanup::Steps(vec![Step::KeepSeasons {
                request: 2,
                seasons: vec![2]
            }])
        );
        assert_eq!(
            h.plan(&job(CleanupKind::Season, Some(3))),
            Cleanup::Steps(vec![Step::DeleteRequest { request: 3 }])
        );
        assert!(matches!(
            h.plan(&job(CleanupKind::Season, Some(4))),
            Cleanup::NotFound(_)
        ));
    }

    #[test]
    fn two_seasons_of_one_request_go_one_after_the_other() {
        let mut h = holdings();
        let Cleanup::Steps(first) = h.plan(&job(CleanupKind::Season, Some(1))) else {
            panic!("steps");
        };
        h.took(&first[0]);
        assert_eq!(
            h.plan(&job(CleanupKind::Season, Some(2))),
            Cleanup::Steps(vec![Step::DeleteRequest { request: 2 }]),
            "season 1 is already out of request 2"
        );
    }

    #[test]
    fn a_whole_series_goes_as_a_movie_once_every_season_is_done() {
        let mut h = holdings();
        let mut series = job(CleanupKind::Series, Some(1));
        series.siblings_open = true;
        assert_eq!(h.plan(&series), Cleanup::Wait);
        series.siblings_open = false;
        assert_eq!(
            h.plan(&series),
            Cleanup::Steps(vec![Step::DeleteMedia { media: 1002 }])
        );
        // A season that stayed: only this one's requests change.
        series.siblings_kept = true;
        assert!(
            matches!(h.plan(&series), Cleanup::Steps(s) if matches!(s[0], Step::KeepSeasons { .. }))
        );
        // Once the record is gone, the next season of the series finds nothing to do.
        series.siblings_kept = false;
        h.took(&Step::DeleteMedia { media: 1002 });
        assert!(matches!(h.plan(&series), Cleanup::NotFound(_)));
        assert!(
            h.requests.iter().all(|r| r.media != 1002),
            "its requests went with it"
        );
    }
}
