//! The builders of Seerr's users and requests, on [`World`] so that they can link a media
//! record to the simulated Radarr's, Sonarr's and Jellyfin's copy of the title.

use jiff::Timestamp;

use super::{
    SeerrIds, SeerrMediaStatus, SeerrMediaType, SeerrRequest, SeerrRequestStatus, SeerrSeason,
    SeerrUser, SEERR_OWNER,
};
use crate::world::World;

impl World {
    /// Names Seerr's owner (user 1) and links it to a Jellyfin user; returns its id.
    pub fn seerr_owner(&mut self, name: &str, jellyfin_user_id: Option<&str>) -> i32 {
        if let Some(owner) = self.seerr.users.iter_mut().find(|u| u.id == SEERR_OWNER) {
            owner.email = name.to_lowercase();
            owner.jellyfin_username = Some(name.to_string());
            owner.jellyfin_user_id = jellyfin_user_id.map(str::to_string);
        }
        SEERR_OWNER
    }

    /// A Seerr user imported from Jellyfin (`jellyfin_user_id` the Jellyfin user's id, e.g.
    /// `world.users[0].id`), with Seerr's default permission (REQUEST); returns its id.
    pub fn seerr_user(&mut self, name: &str, jellyfin_user_id: Option<&str>) -> i32 {
        let now = self.now;
        self.seerr.add_user(SeerrUser {
            id: 0,
            email: name.to_lowercase(),
            username: None,
            jellyfin_username: Some(name.to_string()),
            jellyfin_user_id: jellyfin_user_id.map(str::to_string),
            permissions: SeerrUser::REQUEST,
            created_at: now,
        })
    }

    /// An approved request of `requested_by` for the movie with `tmdb_id`, made `days_ago`
    /// days before `now`, for a title that has become available. The media record is made on
    /// the first request (linked to the simulated Radarr's and Jellyfin's movie with that TMDB
    /// id, when there is one) and shared by later ones.
    pub fn seerr_movie_request(
        &mut self,
        tmdb_id: i32,
        requested_by: i32,
        days_ago: f64,
    ) -> SeerrIds {
        let at = self.ago(days_ago);
        let linked = (self.movies.iter().find(|m| m.tmdb_id == tmdb_id))
            .map(|m| (m.radarr_id, m.jellyfin_id.clone(), m.imdb_id.clone()));
        let media = match self.seerr.media_by_tmdb(SeerrMediaType::Movie, tmdb_id) {
            Some(m) => m.id,
            None => {
                let id = self.seerr.add_media(
                    SeerrMediaType::Movie,
                    tmdb_id,
                    None,
                    SeerrMediaStatus::Available,
                    SeerrMediaStatus::Unknown,
                    at,
                );
                if let (Some(m), Some((radarr_id, jellyfin_id, imdb_id))) =
                    (self.seerr.media_mut(id), linked)
                {
                    m.service_id = Some(0);
                    m.external_service_id = Some(radarr_id);
                    m.jellyfin_media_id = Some(jellyfin_id);
                    m.imdb_id = imdb_id;
                    m.media_added_at = Some(at);
                }
                id
            }
        };
        let request =
            self.seerr
                .add_request(approved(media, SeerrMediaType::Movie, requested_by, at));
        SeerrIds { media, request }
    }

    /// An approved request of `requested_by` for `seasons` of the series with `tmdb_id`, made
    /// `days_ago` days before `now`; the seasons are available. The media record is made on
    /// the first request (linked to the simulated Sonarr's and Jellyfin's series with that
    /// TVDB id, when there is one) and shared by later ones, which add the seasons it lacks.
    pub fn seerr_tv_request(
        &mut self,
        tmdb_id: i32,
        tvdb_id: Option<i32>,
        seasons: &[i32],
        requested_by: i32,
        days_ago: f64,
    ) -> SeerrIds {
        let at = self.ago(days_ago);
        if let Some(tvdb) = tvdb_id {
            self.seerr.tmdb_tvdb.insert(tmdb_id, tvdb);
        }
        let linked = tvdb_id
            .and_then(|tvdb| self.series.iter().find(|s| s.tvdb_id == tvdb))
            .map(|s| (s.sonarr_id, s.jellyfin_id.clone()));
        let media = match self.seerr.media_by_tmdb(SeerrMediaType::Tv, tmdb_id) {
            Some(m) => m.id,
            None => {
                let id = self.seerr.add_media(
                    SeerrMediaType::Tv,
                    tmdb_id,
                    tvdb_id,
                    SeerrMediaStatus::Available,
                    SeerrMediaStatus::Unknown,
                    at,
                );
                if let (Some(m), Some((sonarr_id, jellyfin_id))) =
                    (self.seerr.media_mut(id), linked)
                {
                    m.service_id = Some(0);
                    m.external_service_id = Some(sonarr_id);
                    m.jellyfin_media_id = Some(jellyfin_id);
                    m.media_added_at = Some(at);
                }
                id
            }
        };
        for &number in seasons {
            let known = (self.seerr.media(media))
                .is_some_and(|m| m.seasons.iter().any(|s| s.season_number == number));
            if !known {
                let season = SeerrSeason {
                    id: self.seerr.season_id(),
                    season_number: number,
                    status: SeerrMediaStatus::Available,
                    status4k: SeerrMediaStatus::Unknown,
                    created_at: at,
                };
                if let Some(m) = self.seerr.media_mut(media) {
                    m.seasons.push(season);
                }
            }
        }
        let mut request = approved(media, SeerrMediaType::Tv, requested_by, at);
        request.seasons = (seasons.iter())
            .map(|&n| {
                self.seerr
                    .season_request(n, SeerrRequestStatus::Approved, at)
            })
            .collect();
        let request = self.seerr.add_request(request);
        SeerrIds { media, request }
    }
}

/// A request the owner approved (or made, and so approved at once), with no advanced options
/// (what Seerr's request dialog sends unless they are opened).
fn approved(
    media_id: i32,
    media_type: SeerrMediaType,
    requested_by: i32,
    at: Timestamp,
) -> SeerrRequest {
    SeerrRequest {
        id: 0,
        status: SeerrRequestStatus::Approved,
        media_id,
        media_type,
        is4k: false,
        requested_by,
        modified_by: Some(SEERR_OWNER),
        created_at: at,
        updated_at: at,
        seasons: Vec::new(),
        server_id: None,
        profile_id: None,
        root_folder: None,
        language_profile_id: None,
        tags: None,
        is_auto_request: false,
    }
}
