//! Seerr's JSON: its entities as `res.json` writes them (camelCase, nulls present, dates as
//! `Date.toISOString` does, with milliseconds).
//!
//! What an answer carries depends on how the route loaded it: a `find*` (GET /media, a single
//! request) brings the eager relations (a media record's `seasons`), a query builder
//! (GET /request) only what it joins, so a listed request's media has no `seasons`. Neither
//! brings a media record's `requests`. `mediaUrl` (a link into Jellyfin's web app) is left out.

use jiff::Timestamp;
use serde_json::{json, Value};

use crate::world::{SeerrMedia, SeerrRequest, SeerrUser, SeerrWorld};

pub(super) fn date(t: Timestamp) -> String {
    format!(
        "{}.{:03}Z",
        t.strftime("%Y-%m-%dT%H:%M:%S"),
        t.subsec_millisecond()
    )
}

/// A user (server/entity/User.ts; `select: false` columns and the lazy relations absent).
pub(super) fn user(u: &SeerrUser) -> Value {
    let avatar = u
        .jellyfin_user_id
        .as_ref()
        .map(|id| format!("/avatarproxy/{id}?v=null"))
        .unwrap_or_default();
    json!({
        "permissions": u.permissions, "warnings": [], "id": u.id, "email": u.email,
        "plexUsername": null, "jellyfinUsername": u.jellyfin_username, "username": u.username,
        "recoveryLinkExpirationDate": null, "userType": 3, "plexId": null,
        "jellyfinUserId": u.jellyfin_user_id, "avatar": avatar, "avatarETag": null,
        "avatarVersion": null, "movieQuotaLimit": null, "movieQuotaDays": null,
        "tvQuotaLimit": null, "tvQuotaDays": null, "createdAt": date(u.created_at),
        "updatedAt": date(u.created_at), "displayName": u.display_name(),
    })
}

/// A media record (server/entity/Media.ts), with its seasons when `seasons` (a `find*`).
pub(super) fn media(m: &SeerrMedia, seasons: bool) -> Value {
    let mut v = json!({
        "downloadStatus": [], "downloadStatus4k": [], "id": m.id,
        "mediaType": m.media_type.as_str(), "tmdbId": m.tmdb_id, "tvdbId": m.tvdb_id,
        "imdbId": m.imdb_id, "status": m.status.code(), "status4k": m.status4k.code(),
        "createdAt": date(m.created_at), "updatedAt": date(m.updated_at),
        "lastSeasonChange": date(m.created_at), "mediaAddedAt": m.media_added_at.map(date),
        "serviceId": m.service_id, "serviceId4k": null,
        "externalServiceId": m.external_service_id, "externalServiceId4k": null,
        "externalServiceSlug": m.external_service_slug, "externalServiceSlug4k": null,
        "ratingKey": null, "ratingKey4k": null, "jellyfinMediaId": m.jellyfin_media_id,
        "jellyfinMediaId4k": null,
    });
    if seasons {
        v["seasons"] = m
            .seasons
            .iter()
            .map(|s| {
                json!({"id": s.id, "seasonNumber": s.season_number, "status": s.status.code(),
                    "status4k": s.status4k.code(), "createdAt": date(s.created_at),
                    "updatedAt": date(s.created_at)})
            })
            .collect();
    }
    v
}

/// A request (server/entity/MediaRequest.ts) with its media, users and seasons; the media's
/// seasons when `media_seasons` (a `find*`).
pub(super) fn request(world: &SeerrWorld, r: &SeerrRequest, media_seasons: bool) -> Value {
    let user_of = |id: Option<i32>| {
        id.and_then(|id| world.user(id))
            .map(user)
            .unwrap_or(Value::Null)
    };
    let seasons: Vec<Value> = r
        .seasons
        .iter()
        .map(|s| {
            json!({"id": s.id, "seasonNumber": s.season_number, "status": s.status.code(),
                "createdAt": date(s.created_at), "updatedAt": date(s.created_at)})
        })
        .collect();
    json!({
        "id": r.id, "status": r.status.code(),
        "media": world.media(r.media_id).map(|m| media(m, media_seasons)),
        "requestedBy": user_of(Some(r.requested_by)), "modifiedBy": user_of(r.modified_by),
        "createdAt": date(r.created_at), "updatedAt": date(r.updated_at),
        "type": r.media_type.as_str(), "seasons": seasons, "is4k": r.is4k,
        "serverId": r.server_id, "profileId": r.profile_id, "rootFolder": r.root_folder,
        "languageProfileId": r.language_profile_id, "tags": r.tags,
        "isAutoRequest": r.is_auto_request,
    })
}

/// `{pageInfo, results}` as both list routes compute it: `page` is `ceil(skip / pageSize) + 1`.
pub(super) fn page(results: Vec<Value>, count: usize, skip: usize, page_size: usize) -> Value {
    let size = page_size as f64;
    json!({
        "pageInfo": {
            "pages": (count as f64 / size).ceil() as u64,
            "pageSize": page_size,
            "results": count,
            "page": (skip as f64 / size).ceil() as u64 + 1,
        },
        "results": results,
    })
}
