//! Seerr (and Jellyseerr, its predecessor, which answers the same `/api/v1`): its requests and
//! media records, and the three writes that make a deleted title requestable again: deleting a
//! media record, deleting a request, and keeping only some seasons of a TV request.
//!
//! There is deliberately no call of `DELETE /api/v1/media/{id}/file`: with it Seerr deletes the
//! title from Radarr or Sonarr itself, behind shelflife's health gate and journal. Files go
//! through the *arr clients only.
//!
//! What Seerr does with these requests, read in its source (seerr-team/seerr `f74306ed`, v3.1.0:
//! server/routes/request.ts, media.ts, index.ts, middleware/auth.ts, entity/*.ts,
//! subscriber/MediaRequestSubscriber.ts):
//!
//! - The key goes in `X-Api-Key`; Seerr then acts as user 1, the owner (`checkUser`). A wrong
//!   key is no user, and every route but `/status` answers 403 ([`ApiError::Unauthorized`]).
//!   `/status` is public, so it proves the server answers, not the key: [`SeerrClient::me`]
//!   does.
//! - Every request is checked against Seerr's OpenAPI document (`express-openapi-validator`):
//!   an unknown query parameter, or `null` where the document says number or string, is a 400.
//!   So only documented parameters are sent, and a field the request does not have is left
//!   out, never sent as `null`.
//! - `GET /request` and `GET /media` page with `take`/`skip` and answer `pageInfo.results`, the
//!   total; both are read whole by `paging`. `/request` without a `filter` lists requests of
//!   every status, but never those whose media is BLOCKLISTED (its default media filter leaves
//!   them out). Each page of `/request` makes Seerr ask every Radarr and Sonarr for its quality
//!   profiles first, so pages are slow and read as lists
//!   ([`Class::List`](crate::clients::http::Class::List)).
//! - Both deletes answer 204, or 404 for *any* failure: the route catches the lookup and the
//!   removal alike and answers "not found". A [`Deleted::NotFound`] is therefore "not there, or
//!   not removed"; the next reading of the lists tells which.
//! - `DELETE /media/{id}` removes the record and, by cascade, its requests, so the title can
//!   be requested again; a BLOCKLISTED record is kept and only forgets its links to the *arrs
//!   and Jellyfin. `DELETE /request/{id}` leaves the record, which keeps saying AVAILABLE.
//! - Writes are resent only when they surely did not arrive
//!   ([`Class::Write`](crate::clients::http::Class::Write)).
//!
//! The module: [`SeerrClient`] with its calls here, the records in `types`, the paged reading in
//! `paging`.

mod paging;
mod types;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::http::{
    ApiError, BuildError, Endpoint, Http, HttpSettings, RequestStats, Server, Service,
    ServiceClient,
};

pub use types::{
    Deleted, Media, MediaSeason, MediaStatus, MediaType, Request, RequestStatus, SeasonRequest,
    SeasonsEdit, SeerrStatus, SeerrUser,
};

/// Records per page of `/request` and `/media`. Seerr's default is 10 (20 for media) and it
/// sets no maximum; a page of 100 requests is some 200 KB of JSON.
pub const PAGE_SIZE: usize = 100;

/// Typed Seerr client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SeerrClient {
    api: ServiceClient,
    page_size: usize,
}

impl SeerrClient {
    /// A client for the Seerr at `url` (its address without `/api/v1`; a path prefix and a
    /// trailing `/` are fine), sending the key as `X-Api-Key`. Nothing is sent until the first
    /// call.
    pub fn new(
        http: &Http,
        url: &str,
        api_key: &str,
        settings: HttpSettings,
    ) -> Result<Self, BuildError> {
        Ok(SeerrClient {
            api: ServiceClient::new(http, Service::Seerr.into(), url, api_key, settings)?,
            page_size: PAGE_SIZE,
        })
    }

    /// The same client with another page size (tests, or a Seerr that struggles with big pages).
    pub fn with_page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    pub fn stats(&self) -> RequestStats {
        self.api.stats()
    }

    /// The server it talks to.
    pub fn server(&self) -> Server {
        self.api.server()
    }

    /// The limits its requests are sent with.
    pub fn settings(&self) -> &HttpSettings {
        self.api.settings()
    }

    /// `GET /api/v1/status`: that Seerr answers, and its version. Public in Seerr: it does not
    /// prove the key (see [`SeerrClient::me`]). Seerr asks GitHub for its latest release before
    /// it answers, so on a box without internet it can be slow.
    pub async fn status(&self) -> Result<SeerrStatus, ApiError> {
        self.api.get_json("/api/v1/status", &[]).await
    }

    /// `GET /api/v1/auth/me`: the user the key acts as (user 1, the owner). A wrong key is
    /// [`ApiError::Unauthorized`]; [`SeerrUser::manages_requests`] says whether the deletes and
    /// edits are allowed.
    pub async fn me(&self) -> Result<SeerrUser, ApiError> {
        self.api.get_json("/api/v1/auth/me", &[]).await
    }

    /// Every request, of every status, 4K or not (but none of BLOCKLISTED media, which Seerr
    /// never lists), read whole (see `paging`).
    ///
    /// In order of id, oldest first (`sort=added&sortDirection=asc`: Seerr's `added` is
    /// `request.id`). Ids only grow, so requests made while the list is read go to its end
    /// instead of pushing the others onto the next page; Seerr's default, newest first, would
    /// shift every page each time someone asks for a title. `modified` is no order to page in:
    /// it changes as Seerr works through requests.
    ///
    /// A request that cannot be read fails the list ([`ApiError::Protocol`], naming the record)
    /// rather than being left out: a caller that did not see a request would conclude that no
    /// request holds a season and close its cleanup for good, where a failed list only has it
    /// wait for the next pass. Seerr writes every record from the same entity, so one that does
    /// not read means a Seerr this client does not know, not a stray record.
    pub async fn requests(&self) -> Result<Vec<Request>, ApiError> {
        let query = [
            ("sort", "added".to_owned()),
            ("sortDirection", "asc".to_owned()),
        ];
        self.read_all("/api/v1/request", &query).await
    }

    /// Every media record, of every status, read whole (see `paging`), with the same rule as
    /// [`SeerrClient::requests`] for one that cannot be read.
    ///
    /// `/media` has no sort direction: its orders (`added` = id, `modified`, `mediaAdded`) are
    /// all newest first. By id is the one stable order of them, so a record Seerr adds while the
    /// list is read (a request, a library scan) moves the rest down a place; the paging notices
    /// and reads the list again.
    pub async fn media(&self) -> Result<Vec<Media>, ApiError> {
        self.read_all("/api/v1/media", &[("sort", "added".to_owned())])
            .await
    }

    /// `DELETE /api/v1/media/{id}`: the media record (Seerr's id, [`Media::id`], not the TMDB
    /// id) and, by cascade, its requests. 404 is [`Deleted::NotFound`] (see the module's notes:
    /// also a removal that failed). Never touches Radarr or Sonarr.
    pub async fn delete_media(&self, media_id: i64) -> Result<Deleted, ApiError> {
        self.delete(&format!("/api/v1/media/{media_id}"), media_id)
            .await
    }

    /// `DELETE /api/v1/request/{id}`: one request; its media record stays. 404 is
    /// [`Deleted::NotFound`].
    pub async fn delete_request(&self, request_id: i64) -> Result<Deleted, ApiError> {
        self.delete(&format!("/api/v1/request/{request_id}"), request_id)
            .await
    }

    async fn delete(&self, path: &str, id: i64) -> Result<Deleted, ApiError> {
        if id <= 0 {
            // Seerr's ids start at 1; it would answer 404, which reads as "already gone".
            return Err(self.not_sent(Method::DELETE, path, "Seerr ids are positive"));
        }
        match self.api.send(Method::DELETE, path, &[], None::<&()>).await {
            Ok(_) => Ok(Deleted::Done),
            Err(ApiError::NotFound { .. }) => Ok(Deleted::NotFound),
            Err(e) => Err(e),
        }
    }

    /// `PUT /api/v1/request/{id}`: the TV `request` keeps only `seasons`, each of which it must
    /// already hold.
    ///
    /// Seerr's PUT route sets `serverId`, `profileId`, `rootFolder`, `languageProfileId` and
    /// `tags` from the body, so the body carries the request's own values back; a value the
    /// request does not have is left out (TypeORM leaves a property that is `undefined` alone,
    /// and Seerr's OpenAPI check refuses `null` for the first four). `userId` is never sent: it
    /// would give the request to that user. `mediaType` is `tv`.
    ///
    /// Refused without a request ([`ApiError::NotSent`]): no seasons (Seerr answers 500 and
    /// says to delete the request instead), a request that is not a TV request, and a season the
    /// request does not hold (Seerr would add it as a new PENDING season, to be sent to Sonarr).
    ///
    /// Before editing an APPROVED request, see [`Request::edit_may_resend`]: Seerr may send the
    /// series to Sonarr again, re-monitoring and searching the kept seasons.
    pub async fn set_request_seasons(
        &self,
        request: &Request,
        seasons: &[i32],
    ) -> Result<SeasonsEdit, ApiError> {
        let path = format!("/api/v1/request/{}", request.id);
        if request.id <= 0 {
            return Err(self.not_sent(Method::PUT, &path, "Seerr ids are positive"));
        }
        if request.media.media_type != MediaType::Tv {
            return Err(self.not_sent(Method::PUT, &path, "only a TV request holds seasons"));
        }
        if seasons.is_empty() {
            return Err(self.not_sent(
                Method::PUT,
                &path,
                "a request must keep a season; one that keeps none is deleted instead",
            ));
        }
        let held: BTreeSet<i32> = request.seasons.iter().map(|s| s.season_number).collect();
        if !seasons.iter().all(|s| held.contains(s)) {
            return Err(self.not_sent(
                Method::PUT,
                &path,
                "a season the request does not hold would be requested anew",
            ));
        }
        let kept: BTreeSet<i32> = seasons.iter().copied().collect();
        let body = SeasonsBody {
            media_type: "tv",
            seasons: kept.into_iter().collect(),
            server_id: request.server_id,
            profile_id: request.profile_id,
            root_folder: request.root_folder.as_deref(),
            language_profile_id: request.language_profile_id,
            tags: request.tags.as_deref(),
        };
        let answer = match self.api.send(Method::PUT, &path, &[], Some(&body)).await {
            Ok(answer) => answer,
            Err(ApiError::NotFound { .. }) => return Ok(SeasonsEdit::NotFound),
            Err(e) => return Err(e),
        };
        if answer.status == StatusCode::ACCEPTED {
            return Ok(SeasonsEdit::Unchanged);
        }
        let saved: Saved = self.api.decode(&Method::PUT, &path, answer)?;
        Ok(SeasonsEdit::Saved {
            seasons: (saved.seasons.unwrap_or_default().iter())
                .map(|s| s.season_number)
                .collect(),
        })
    }

    /// The [`ApiError::NotSent`] of a request this client refuses to make.
    fn not_sent(&self, method: Method, path: &str, reason: &'static str) -> ApiError {
        ApiError::NotSent {
            service: self.api.server(),
            endpoint: Endpoint {
                method,
                path: path.to_owned(),
            },
            reason,
        }
    }
}

/// The body of `PUT /request/{id}` for a TV request. The `Option`s are the request's own
/// settings, left out when it has none.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SeasonsBody<'a> {
    media_type: &'static str,
    seasons: Vec<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    root_folder: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language_profile_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a [i64]>,
}

/// The request in the answer to a PUT, only as far as its seasons.
#[derive(Deserialize)]
struct Saved {
    #[serde(default)]
    seasons: Option<Vec<SavedSeason>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SavedSeason {
    season_number: i32,
}
