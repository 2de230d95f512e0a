//! What the simulated Seerr knows: its users, its media records and the requests for them.
//!
//! The shapes follow Seerr's entities (seerr-team/seerr `server/entity/User.ts`, `Media.ts`,
//! `Season.ts`, `MediaRequest.ts`, `SeasonRequest.ts`) and the codes `server/constants/media.ts`.
//! A media record has an id of Seerr's own, drawn from 1001 up here so that it never equals a
//! TMDB id of the simulated world: a client that sends one where the other belongs is caught.
//!
//! This module holds the records; `build` the builders tests use
//! ([`World::seerr_user`](super::World::seerr_user),
//! [`World::seerr_movie_request`](super::World::seerr_movie_request),
//! [`World::seerr_tv_request`](super::World::seerr_tv_request)).
//!
//! `updatedAt` stays what it was at creation: Seerr declares it with TypeORM's
//! `onUpdate: 'CURRENT_TIMESTAMP'`, which only MySQL carries out, and Seerr runs on SQLite or
//! PostgreSQL. A test may set it to say otherwise.

mod build;

use std::collections::BTreeMap;

use jiff::Timestamp;

/// Seerr's owner (the first user, an admin). A request with the API key acts as this user
/// unless its `X-API-User` header names another (server/middleware/auth.ts `checkUser`).
pub const SEERR_OWNER: i32 = 1;

/// The first id of a simulated media record (Seerr's own ids, not TMDB's).
pub const SEERR_FIRST_MEDIA_ID: i32 = 1001;

/// `MediaStatus` (server/constants/media.ts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeerrMediaStatus {
    Unknown = 1,
    Pending = 2,
    Processing = 3,
    PartiallyAvailable = 4,
    Available = 5,
    Blocklisted = 6,
    Deleted = 7,
}

/// `MediaRequestStatus` (server/constants/media.ts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeerrRequestStatus {
    Pending = 1,
    Approved = 2,
    Declined = 3,
    Failed = 4,
    Completed = 5,
}

impl SeerrMediaStatus {
    pub fn code(self) -> i32 {
        self as i32
    }
}

impl SeerrRequestStatus {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// `MediaType`: Seerr writes `movie` or `tv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeerrMediaType {
    Movie,
    Tv,
}

impl SeerrMediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            SeerrMediaType::Movie => "movie",
            SeerrMediaType::Tv => "tv",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<SeerrMediaType> {
        match s {
            "movie" => Some(SeerrMediaType::Movie),
            "tv" => Some(SeerrMediaType::Tv),
            _ => None,
        }
    }
}

/// A Seerr user (server/entity/User.ts), as Seerr imports one from Jellyfin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeerrUser {
    pub id: i32,
    /// Seerr lowercases it; a Jellyfin import without an address uses the Jellyfin name.
    pub email: String,
    /// A local name; Jellyfin users have none, and their `displayName` is `jellyfinUsername`.
    pub username: Option<String>,
    pub jellyfin_username: Option<String>,
    /// Jellyfin's user id, 32 lowercase hex digits as Jellyfin writes it.
    pub jellyfin_user_id: Option<String>,
    /// Permission bits (server/lib/permissions.ts); see the constants below.
    pub permissions: u32,
    pub created_at: Timestamp,
}

impl SeerrUser {
    pub const ADMIN: u32 = 2;
    pub const MANAGE_USERS: u32 = 8;
    pub const MANAGE_REQUESTS: u32 = 16;
    /// What Seerr gives a new user by default (`settings.main.defaultPermissions`).
    pub const REQUEST: u32 = 32;
    pub const AUTO_APPROVE: u32 = 128;
    pub const AUTO_APPROVE_MOVIE: u32 = 256;
    pub const AUTO_APPROVE_TV: u32 = 512;
    pub const REQUEST_4K: u32 = 1024;
    pub const REQUEST_4K_MOVIE: u32 = 2048;
    pub const REQUEST_4K_TV: u32 = 4096;
    pub const REQUEST_ADVANCED: u32 = 8192;
    pub const REQUEST_VIEW: u32 = 16384;
    pub const AUTO_APPROVE_4K: u32 = 32768;
    pub const AUTO_APPROVE_4K_MOVIE: u32 = 65536;
    pub const AUTO_APPROVE_4K_TV: u32 = 131072;
    pub const REQUEST_MOVIE: u32 = 262144;
    pub const REQUEST_TV: u32 = 524288;

    /// `User.hasPermission`: ADMIN has every permission; a list needs all of them (`and`, the
    /// default) or one (`or`).
    pub fn has(&self, permissions: &[u32], any: bool) -> bool {
        if self.permissions & Self::ADMIN != 0 {
            return true;
        }
        let held = |p: &u32| self.permissions & p != 0;
        if any {
            permissions.iter().any(held)
        } else {
            permissions.iter().all(held)
        }
    }

    /// `User.setDisplayName`: `username || plexUsername || jellyfinUsername || email`.
    pub fn display_name(&self) -> &str {
        self.username
            .as_deref()
            .or(self.jellyfin_username.as_deref())
            .unwrap_or(&self.email)
    }
}

/// A season of a series as Seerr's scanners record it (server/entity/Season.ts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeerrSeason {
    pub id: i32,
    pub season_number: i32,
    pub status: SeerrMediaStatus,
    pub status4k: SeerrMediaStatus,
    pub created_at: Timestamp,
}

/// A media record (server/entity/Media.ts): one per `(tmdbId, mediaType)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeerrMedia {
    /// Seerr's own id: the `{mediaId}` of `DELETE /api/v1/media/{mediaId}`.
    pub id: i32,
    pub media_type: SeerrMediaType,
    pub tmdb_id: i32,
    /// Nullable, and unique among the media records.
    pub tvdb_id: Option<i32>,
    pub imdb_id: Option<String>,
    pub status: SeerrMediaStatus,
    pub status4k: SeerrMediaStatus,
    /// Only for TV; Seerr writes `[]` for a movie.
    pub seasons: Vec<SeerrSeason>,
    /// The id of the Radarr/Sonarr server in Seerr's settings (the first one is 0).
    pub service_id: Option<i32>,
    /// The movie's or series' id in that Radarr/Sonarr.
    pub external_service_id: Option<i32>,
    pub external_service_slug: Option<String>,
    /// The Jellyfin item id.
    pub jellyfin_media_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub media_added_at: Option<Timestamp>,
}

impl SeerrMedia {
    /// `Media.resetServiceData` (what `DELETE /media/{id}` does to a BLOCKLISTED record).
    pub(crate) fn reset_service_data(&mut self) {
        self.service_id = None;
        self.external_service_id = None;
        self.external_service_slug = None;
        self.jellyfin_media_id = None;
    }

    /// The status a request of this quality looks at.
    pub(crate) fn status_for(&self, is4k: bool) -> SeerrMediaStatus {
        if is4k {
            self.status4k
        } else {
            self.status
        }
    }

    pub(crate) fn set_status_for(&mut self, is4k: bool, status: SeerrMediaStatus) {
        if is4k {
            self.status4k = status;
        } else {
            self.status = status;
        }
    }
}

/// One season of a TV request (server/entity/SeasonRequest.ts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeerrSeasonRequest {
    pub id: i32,
    pub season_number: i32,
    pub status: SeerrRequestStatus,
    pub created_at: Timestamp,
}

/// A request (server/entity/MediaRequest.ts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeerrRequest {
    pub id: i32,
    pub status: SeerrRequestStatus,
    /// The [`SeerrMedia::id`] it belongs to (deleting the media deletes the request).
    pub media_id: i32,
    /// Its `type`.
    pub media_type: SeerrMediaType,
    pub is4k: bool,
    pub requested_by: i32,
    pub modified_by: Option<i32>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// TV only, in the order of their ids (`MediaRequest.sortSeasons`).
    pub seasons: Vec<SeerrSeasonRequest>,
    pub server_id: Option<i32>,
    pub profile_id: Option<i32>,
    pub root_folder: Option<String>,
    pub language_profile_id: Option<i32>,
    pub tags: Option<Vec<i32>>,
    pub is_auto_request: bool,
}

/// The ids a request builder made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeerrIds {
    pub media: i32,
    pub request: i32,
}

/// Everything the simulated Seerr knows.
#[derive(Debug, Clone)]
pub struct SeerrWorld {
    /// Always holds the owner, [`SEERR_OWNER`].
    pub users: Vec<SeerrUser>,
    pub media: Vec<SeerrMedia>,
    /// In the order of their ids.
    pub requests: Vec<SeerrRequest>,
    /// Calls a client of shelflife's must never make, in the order they came: each
    /// `DELETE /api/v1/media/{id}/file` (Seerr deletes the title through Radarr or Sonarr).
    pub violations: Vec<String>,
    /// What Seerr sent to Radarr/Sonarr after saving an approved request of a title that is
    /// not AVAILABLE (a new request, or an edit that changed the request's row), in order: e.g.
    /// `sonarr: series tvdb 334824 seasons [2] monitored (request 3)`.
    pub sent_to_arr: Vec<String>,
    /// The TVDB ids TMDB gives series, by TMDB id (the simulator's stand-in for TMDB's
    /// `external_ids`); [`World::seerr_tv_request`](super::World::seerr_tv_request) fills it.
    /// Seerr prefers it to a media record's own `tvdbId`, and removes a TV request it finds
    /// neither for.
    pub tmdb_tvdb: BTreeMap<i32, i32>,
    /// Treat every saved `PUT /request/{id}` as an update of the request's row (and so send
    /// it to the *arr again), not only one that changes a column of it: what Seerr does when
    /// TypeORM counts a change of the request's seasons as one. Off unless set.
    pub resend_on_every_edit: bool,
    next_user: i32,
    next_media: i32,
    next_season: i32,
    next_request: i32,
    next_season_request: i32,
}

impl SeerrWorld {
    /// A Seerr with its owner ("admin", not linked to any simulated Jellyfin user) and nothing
    /// else.
    pub fn new(now: Timestamp) -> SeerrWorld {
        SeerrWorld {
            users: vec![SeerrUser {
                id: SEERR_OWNER,
                email: "admin".to_string(),
                username: None,
                jellyfin_username: Some("admin".to_string()),
                jellyfin_user_id: None,
                permissions: SeerrUser::ADMIN,
                created_at: now,
            }],
            media: Vec::new(),
            requests: Vec::new(),
            violations: Vec::new(),
            sent_to_arr: Vec::new(),
            tmdb_tvdb: BTreeMap::new(),
            resend_on_every_edit: false,
            next_user: SEERR_OWNER + 1,
            next_media: SEERR_FIRST_MEDIA_ID,
            next_season: 1,
            next_request: 1,
            next_season_request: 1,
        }
    }

    pub fn user(&self, id: i32) -> Option<&SeerrUser> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn media(&self, id: i32) -> Option<&SeerrMedia> {
        self.media.iter().find(|m| m.id == id)
    }

    pub fn media_mut(&mut self, id: i32) -> Option<&mut SeerrMedia> {
        self.media.iter_mut().find(|m| m.id == id)
    }

    /// The record Seerr keeps for a title (`(tmdbId, mediaType)` is how Seerr looks it up).
    pub fn media_by_tmdb(&self, media_type: SeerrMediaType, tmdb_id: i32) -> Option<&SeerrMedia> {
        self.media
            .iter()
            .find(|m| m.media_type == media_type && m.tmdb_id == tmdb_id)
    }

    pub fn request(&self, id: i32) -> Option<&SeerrRequest> {
        self.requests.iter().find(|r| r.id == id)
    }

    pub fn request_mut(&mut self, id: i32) -> Option<&mut SeerrRequest> {
        self.requests.iter_mut().find(|r| r.id == id)
    }

    /// The requests of the media record `media_id`, oldest first.
    pub fn requests_of(&self, media_id: i32) -> Vec<&SeerrRequest> {
        self.requests
            .iter()
            .filter(|r| r.media_id == media_id)
            .collect()
    }

    pub(crate) fn add_user(&mut self, user: SeerrUser) -> i32 {
        let id = self.next_user;
        self.next_user += 1;
        self.users.push(SeerrUser { id, ..user });
        id
    }

    /// A new media record with the next id, no seasons and no service data.
    pub(crate) fn add_media(
        &mut self,
        media_type: SeerrMediaType,
        tmdb_id: i32,
        tvdb_id: Option<i32>,
        status: SeerrMediaStatus,
        status4k: SeerrMediaStatus,
        at: Timestamp,
    ) -> i32 {
        let id = self.next_media;
        self.next_media += 1;
        self.media.push(SeerrMedia {
            id,
            media_type,
            tmdb_id,
            tvdb_id,
            imdb_id: None,
            status,
            status4k,
            seasons: Vec::new(),
            service_id: None,
            external_service_id: None,
            external_service_slug: None,
            jellyfin_media_id: None,
            created_at: at,
            updated_at: at,
            media_added_at: None,
        });
        id
    }

    pub(crate) fn season_id(&mut self) -> i32 {
        let id = self.next_season;
        self.next_season += 1;
        id
    }

    pub(crate) fn season_request(
        &mut self,
        season_number: i32,
        status: SeerrRequestStatus,
        at: Timestamp,
    ) -> SeerrSeasonRequest {
        let id = self.next_season_request;
        self.next_season_request += 1;
        SeerrSeasonRequest {
            id,
            season_number,
            status,
            created_at: at,
        }
    }

    /// Adds `request` under the next id (whatever its `id` says) and returns that id.
    pub(crate) fn add_request(&mut self, request: SeerrRequest) -> i32 {
        let id = self.next_request;
        self.next_request += 1;
        self.requests.push(SeerrRequest { id, ..request });
        id
    }
}
