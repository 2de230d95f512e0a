//! Seerr's records as they are read: requests, media, users and their status codes, reduced to
//! what the cleanup needs. Seerr writes camelCase JSON straight from its TypeORM entities
//! (server/entity/MediaRequest.ts, Media.ts, SeasonRequest.ts, Season.ts, User.ts), with `null`
//! for an empty column; a field the cleanup can do without is an `Option` or has a default, so
//! that an older or newer Seerr that leaves it out still reads.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer};

/// Permission bits of a Seerr user (server/lib/permissions.ts).
const ADMIN: u64 = 2;
const MANAGE_REQUESTS: u64 = 16;

/// `GET /status`: the server answers, and which version it is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeerrStatus {
    pub version: String,
}

/// A request's `media.mediaType`, and a media record's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    Movie,
    Tv,
}

/// `MediaStatus` (server/constants/media.ts), of a media record or one of its seasons. Seerr
/// has added codes over time (`DELETED` is Seerr's, not Jellyseerr's), so a code this client
/// does not know is kept as it came rather than failing the record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum MediaStatus {
    /// Also the column's default in Seerr.
    #[default]
    Unknown,
    Pending,
    Processing,
    PartiallyAvailable,
    Available,
    /// Seerr's `BLOCKLISTED`, Jellyseerr's `BLACKLISTED`: `DELETE /media/{id}` keeps such a
    /// record and only forgets its links to Radarr, Sonarr and Jellyfin.
    Blocklisted,
    Deleted,
    Other(i64),
}

impl MediaStatus {
    fn from_code(code: i64) -> Self {
        match code {
            1 => MediaStatus::Unknown,
            2 => MediaStatus::Pending,
            3 => MediaStatus::Processing,
            4 => MediaStatus::PartiallyAvailable,
            5 => MediaStatus::Available,
            6 => MediaStatus::Blocklisted,
            7 => MediaStatus::Deleted,
            n => MediaStatus::Other(n),
        }
    }
}

impl<'de> Deserialize<'de> for MediaStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        i64::deserialize(d).map(MediaStatus::from_code)
    }
}

/// `MediaRequestStatus` (server/constants/media.ts), of a request or one of its seasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    Pending,
    Approved,
    Declined,
    Failed,
    /// Seerr only: the request was fulfilled.
    Completed,
    Other(i64),
}

impl<'de> Deserialize<'de> for RequestStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match i64::deserialize(d)? {
            1 => RequestStatus::Pending,
            2 => RequestStatus::Approved,
            3 => RequestStatus::Declined,
            4 => RequestStatus::Failed,
            5 => RequestStatus::Completed,
            n => RequestStatus::Other(n),
        })
    }
}

/// One season of a TV request (`SeasonRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeasonRequest {
    pub id: i64,
    pub season_number: i32,
    pub status: RequestStatus,
}

/// The user a request is by (`User`, as Seerr filters it), or the one the API key acts as.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeerrUser {
    pub id: i64,
    #[serde(default)]
    pub username: Option<String>,
    /// Seerr fills it in from the username, the Jellyfin or Plex name or the email.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The Jellyfin user's id, for users who sign in with Jellyfin.
    #[serde(default)]
    pub jellyfin_user_id: Option<String>,
    #[serde(default)]
    pub jellyfin_username: Option<String>,
    /// Seerr's permission bits.
    #[serde(default)]
    pub permissions: Option<u64>,
}

impl SeerrUser {
    /// Whether Seerr lets this user delete media records and edit or delete anyone's requests
    /// (`MANAGE_REQUESTS`, which `ADMIN` implies).
    pub fn manages_requests(&self) -> bool {
        self.permissions
            .is_some_and(|p| p & (ADMIN | MANAGE_REQUESTS) != 0)
    }
}

/// A request (`MediaRequest`): who asked for which title, which seasons of it, and the Radarr or
/// Sonarr settings it was sent with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub id: i64,
    pub status: RequestStatus,
    /// Its media record, as the listing embeds it: without its seasons (the route's query
    /// builder loads no eager relations), so `seasons` is empty here.
    pub media: Media,
    /// The seasons a TV request holds; empty for a movie.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub seasons: Vec<SeasonRequest>,
    pub requested_by: SeerrUser,
    pub created_at: Timestamp,
    #[serde(default)]
    pub is4k: bool,
    /// The Radarr or Sonarr server (Seerr's id of it) the request goes to, when not the default.
    /// This and the four after it are the request's own settings: an edit must send them back
    /// (see [`SeerrClient::set_request_seasons`](super::SeerrClient::set_request_seasons)).
    #[serde(default)]
    pub server_id: Option<i64>,
    #[serde(default)]
    pub profile_id: Option<i64>,
    #[serde(default)]
    pub root_folder: Option<String>,
    #[serde(default)]
    pub language_profile_id: Option<i64>,
    /// `None` (no tags set) and `Some([])` (set to none) are different to Seerr.
    #[serde(default)]
    pub tags: Option<Vec<i64>>,
}

impl Request {
    /// The season numbers it holds, in Seerr's order.
    pub fn season_numbers(&self) -> Vec<i32> {
        self.seasons.iter().map(|s| s.season_number).collect()
    }

    /// The status of its media record for this request's kind (4K or not).
    pub fn media_status(&self) -> MediaStatus {
        if self.is4k {
            self.media.status4k
        } else {
            self.media.status
        }
    }

    /// True when an edit of this request can make Seerr send the series to Sonarr again.
    ///
    /// Seerr's `afterUpdate` subscriber (server/subscriber/MediaRequestSubscriber.ts,
    /// `sendToSonarr`) runs for every saved change of an APPROVED TV request whose media is not
    /// AVAILABLE: it updates the existing Sonarr series (`SonarrAPI.addSeries`), monitors the
    /// request's seasons, monitors again every unmonitored episode in them, and starts a
    /// `MissingEpisodeSearch` unless searching is switched off. Episodes of a kept season that
    /// were deleted (and unmonitored) one by one would come back. Whether the edit saves the
    /// request row itself or only its season rows is up to TypeORM; a caller that must not risk
    /// it checks this first.
    pub fn edit_may_resend(&self) -> bool {
        self.status == RequestStatus::Approved
            && self.media.media_type == MediaType::Tv
            && self.media_status() != MediaStatus::Available
    }
}

/// One season of a TV media record (`Season`): whether Seerr sees it in the library.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaSeason {
    pub season_number: i32,
    #[serde(default)]
    pub status: MediaStatus,
    #[serde(default)]
    pub status4k: MediaStatus,
}

/// A media record (`Media`): Seerr's entry for one title, which its requests hang off; also a
/// request's `media`, as the request listing embeds it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    /// Seerr's own id, the one `DELETE /media/{id}` takes.
    pub id: i64,
    pub tmdb_id: i64,
    /// Absent on movies and on series TMDB knows no TVDB id for.
    #[serde(default)]
    pub tvdb_id: Option<i64>,
    pub media_type: MediaType,
    #[serde(default)]
    pub status: MediaStatus,
    #[serde(default)]
    pub status4k: MediaStatus,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub seasons: Vec<MediaSeason>,
}

/// What a delete came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// 204: Seerr removed it.
    Done,
    /// 404: Seerr does not have it (any more). Seerr answers 404 for any failure of these
    /// deletes, not only for an unknown id (see the module's notes).
    NotFound,
}

/// What an edit of a request's seasons came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeasonsEdit {
    /// 200: saved. The seasons the request holds now, as Seerr's answer says: those asked for,
    /// less any another active request of the same kind (4K or not) already holds.
    Saved { seasons: Vec<i32> },
    /// 202 "No seasons available to request": every season asked for is held by another active
    /// request, so Seerr changed nothing; the request still holds what it held.
    Unchanged,
    /// 404: Seerr has no such request (any more).
    NotFound,
}

/// A list that may come as `null` (an empty relation), read as empty.
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}
