//! The Seerr client against a scripted server: paging that holds, lists that change, answers
//! that go wrong, and what the writes send.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::paging::LIST_READS;
use super::*;
use crate::clients::http::Cause;
use crate::clients::test_server::{start, Reply, Seen};

const KEY: &str = "seerr-secret-key-0123456789";

fn client(url: &str) -> SeerrClient {
    let settings = HttpSettings {
        backoff_base: Duration::from_millis(10),
        ..HttpSettings::default()
    };
    SeerrClient::new(&Http::new().unwrap(), url, KEY, settings).unwrap()
}

/// A request as Seerr writes it: every column, `null` for the empty ones, the embedded media
/// and user with fields this client does not read.
fn request_json(id: i64) -> String {
    format!(
        r#"{{"id":{id},"status":2,"createdAt":"2024-05-01T10:00:27.000Z",
            "updatedAt":"2024-05-02T10:00:27.000Z","type":"tv","is4k":false,
            "serverId":null,"profileId":null,"rootFolder":null,"languageProfileId":null,
            "tags":null,"isAutoRequest":false,"seasonCount":1,"profileName":null,"canRemove":true,
            "media":{{"id":{m},"mediaType":"tv","tmdbId":{t},"tvdbId":null,"imdbId":null,
                      "status":4,"status4k":1,"createdAt":"2024-05-01T10:00:27.000Z",
                      "updatedAt":"2024-05-01T10:00:27.000Z","lastSeasonChange":"2024-05-01T10:00:27.000Z",
                      "mediaAddedAt":null,"serviceId":0,"externalServiceId":7,
                      "jellyfinMediaId":"abc","downloadStatus":[],"mediaUrl":"http://x"}},
            "seasons":[{{"id":{s},"seasonNumber":1,"status":2,"createdAt":"2024-05-01T10:00:27.000Z",
                        "updatedAt":"2024-05-01T10:00:27.000Z"}}],
            "modifiedBy":null,
            "requestedBy":{{"id":3,"email":"a@b","plexUsername":null,"jellyfinUsername":"alice",
                            "username":null,"userType":3,"permissions":32,"avatar":"/a.png",
                            "jellyfinUserId":"0123456789abcdef0123456789abcdef","createdAt":"2024-01-01T00:00:00.000Z",
                            "updatedAt":"2024-01-01T00:00:00.000Z","requestCount":4,"displayName":"alice",
                            "warnings":[]}}}}"#,
        m = 1000 + id,
        t = 5000 + id,
        s = 9000 + id,
    )
}

fn media_json(id: i64) -> String {
    format!(
        r#"{{"id":{id},"mediaType":"movie","tmdbId":{t},"tvdbId":null,"imdbId":"tt1","status":5,
            "status4k":1,"createdAt":"2024-05-01T10:00:27.000Z","updatedAt":"2024-05-01T10:00:27.000Z",
            "seasons":[],"serviceId":0,"downloadStatus":[],"downloadStatus4k":[]}}"#,
        t = 5000 + id
    )
}

/// A page of Seerr's answer over `ids` as they are at this request, with Seerr's `pageInfo`.
fn page_of(s: &Seen, ids: &[i64], record: fn(i64) -> String) -> Reply {
    let take: usize = s.param("take").unwrap().parse().unwrap();
    let skip: usize = s.param("skip").unwrap().parse().unwrap();
    let results: Vec<String> = ids
        .iter()
        .skip(skip)
        .take(take)
        .map(|&i| record(i))
        .collect();
    Reply::json(format!(
        r#"{{"pageInfo":{{"pages":{},"pageSize":{take},"results":{},"page":{}}},
            "results":[{}],"serviceErrors":{{"radarr":[],"sonarr":[]}}}}"#,
        ids.len().div_ceil(take),
        ids.len(),
        skip.div_ceil(take) + 1,
        results.join(",")
    ))
}

fn ascending(n: i64) -> Vec<i64> {
    (1..=n).collect()
}

#[tokio::test]
async fn requests_are_read_whole_in_pages_that_overlap_by_one() {
    let srv = start(|s, _| page_of(s, &ascending(250), request_json)).await;
    let requests = client(&srv.url).requests().await.unwrap();
    let ids: Vec<i64> = requests.iter().map(|r| r.id).collect();
    assert_eq!(ids, ascending(250), "each once, in order");

    let seen = srv.seen();
    let pages: Vec<(String, String)> = seen
        .iter()
        .map(|s| (s.param("skip").unwrap(), s.param("take").unwrap()))
        .collect();
    assert_eq!(
        pages,
        [
            ("0".into(), "100".into()),
            ("99".into(), "101".into()),
            ("199".into(), "101".into())
        ],
        "each page after the first starts on the last record of the one before"
    );
    for s in &seen {
        assert_eq!(s.method, reqwest::Method::GET);
        assert_eq!(s.path, "/api/v1/request");
        assert_eq!(s.param("sort").as_deref(), Some("added"));
        assert_eq!(s.param("sortDirection").as_deref(), Some("asc"));
        assert_eq!(s.param("filter"), None, "every status");
        assert_eq!(s.headers.get("x-api-key").unwrap(), KEY);
    }
}

#[test]
fn a_request_reads_as_seerr_writes_it() {
    let r: Request = serde_json::from_str(&request_json(7)).unwrap();
    assert_eq!(r.status, RequestStatus::Approved);
    assert_eq!(
        (r.media.id, r.media.tmdb_id, r.media.tvdb_id),
        (1007, 5007, None)
    );
    assert_eq!(r.media.media_type, MediaType::Tv);
    assert_eq!(r.media.status, MediaStatus::PartiallyAvailable);
    assert_eq!(r.media.status4k, MediaStatus::Unknown);
    assert_eq!(r.season_numbers(), [1]);
    assert_eq!(r.seasons[0].id, 9007);
    assert_eq!(r.seasons[0].status, RequestStatus::Approved);
    assert_eq!(r.requested_by.id, 3);
    assert_eq!(r.requested_by.username, None);
    assert_eq!(r.requested_by.display_name.as_deref(), Some("alice"));
    assert_eq!(r.requested_by.jellyfin_username.as_deref(), Some("alice"));
    assert_eq!(
        r.requested_by.jellyfin_user_id.as_deref(),
        Some("0123456789abcdef0123456789abcdef")
    );
    assert_eq!(r.created_at.to_string(), "2024-05-01T10:00:27Z");
    assert!(!r.is4k);
    assert_eq!(
        (r.server_id, r.profile_id, r.language_profile_id),
        (None, None, None)
    );
    assert_eq!((r.root_folder, r.tags), (None, None));

    // The fewest fields a request can come with; a status code this client does not know.
    let bare: Request = serde_json::from_str(
        r#"{"id":1,"status":9,"createdAt":"2024-05-01T10:00:27Z","seasons":null,
            "media":{"id":2,"tmdbId":3,"mediaType":"movie","status":8},"requestedBy":{"id":1}}"#,
    )
    .unwrap();
    assert_eq!(bare.status, RequestStatus::Other(9));
    assert_eq!(bare.media.status, MediaStatus::Other(8));
    assert_eq!(bare.media.status4k, MediaStatus::Unknown);
    assert!(bare.seasons.is_empty());
    assert!(!bare.is4k);
}

#[test]
fn an_edit_may_resend_an_approved_series_that_is_not_available() {
    let mut r: Request = serde_json::from_str(&request_json(1)).unwrap();
    assert!(r.edit_may_resend(), "approved, partially available");
    r.media.status = MediaStatus::Available;
    assert!(!r.edit_may_resend(), "Seerr skips what is available");
    r.is4k = true;
    assert!(r.edit_may_resend(), "a 4K request goes by status4k");
    r.is4k = false;
    r.media.status = MediaStatus::Deleted;
    r.status = RequestStatus::Completed;
    assert!(!r.edit_may_resend(), "only an approved request is sent");
}

#[tokio::test]
async fn a_request_removed_while_the_pages_are_read_makes_it_read_again() {
    // Request 1 goes after the first page: the total moves, and request 101 would be missed.
    let srv = start(|s, n| {
        let mut ids = ascending(250);
        if n >= 1 {
            ids.remove(0);
        }
        page_of(s, &ids, request_json)
    })
    .await;
    let ids: Vec<i64> = (client(&srv.url).requests().await.unwrap().iter())
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, (2..=250).collect::<Vec<_>>(), "none missed");
    assert_eq!(
        srv.count(),
        2 + 3,
        "reading one broke off at its second page"
    );
}

#[tokio::test]
async fn a_shift_the_total_does_not_show_is_caught_by_the_overlap() {
    // After the first page request 1 goes and request 251 comes: the total stays 250, but
    // every later record moves up a place and request 101 would never be seen.
    let srv = start(|s, n| {
        let ids: Vec<i64> = if n == 0 {
            ascending(250)
        } else {
            (2..=251).collect()
        };
        page_of(s, &ids, request_json)
    })
    .await;
    let ids: Vec<i64> = (client(&srv.url).requests().await.unwrap().iter())
        .map(|r| r.id)
        .collect();
    assert!(ids.contains(&101), "request 101 was missed");
    assert_eq!(ids, (2..=251).collect::<Vec<_>>());
    assert_eq!(srv.count(), 2 + 3);
}

#[tokio::test]
async fn a_list_that_never_holds_still_fails_after_three_readings() {
    // One more request at every page.
    let srv = start(|s, n| page_of(s, &ascending(150 + n as i64), request_json)).await;
    let err = client(&srv.url).requests().await.unwrap_err();
    assert!(
        matches!(&err, ApiError::Incomplete { readings, why, .. }
            if *readings == LIST_READS && why.contains("total")),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(err.service().service, Service::Seerr);
    assert_eq!(
        srv.count(),
        2 * LIST_READS,
        "each reading broke off at its second page"
    );
}

#[tokio::test]
async fn a_total_the_records_do_not_come_to_is_read_again() {
    // Seerr counts 5 but sends 4 (the same record twice): the distinct ids do not add up.
    let srv = start(|s, _| page_of(s, &[1, 2, 3, 3, 4], request_json)).await;
    let err = client(&srv.url)
        .with_page_size(10)
        .requests()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ApiError::Incomplete { why, .. } if why.contains("4 distinct records, not 5")),
        "{err:?}"
    );
    assert_eq!(srv.count(), LIST_READS);
}

#[tokio::test]
async fn media_are_read_newest_first_and_a_record_added_meanwhile_makes_it_read_again() {
    // Newest first, as Seerr's /media always is; record 31 comes after the first page and
    // pushes the rest down a place.
    let srv = start(|s, n| {
        let top = if n == 0 { 30 } else { 31 };
        let ids: Vec<i64> = (1..=top).rev().collect();
        page_of(s, &ids, media_json)
    })
    .await;
    let media = client(&srv.url).with_page_size(10).media().await.unwrap();
    let ids: Vec<i64> = media.iter().map(|m| m.id).collect();
    assert_eq!(ids, (1..=31).rev().collect::<Vec<_>>());
    assert_eq!(media[0].media_type, MediaType::Movie);
    assert_eq!(media[0].status, MediaStatus::Available);
    assert_eq!((media[0].tmdb_id, media[0].tvdb_id), (5031, None));
    let seen = srv.seen();
    assert_eq!(
        seen.len(),
        2 + 4,
        "reading one broke off at its second page"
    );
    for s in &seen {
        assert_eq!(s.path, "/api/v1/media");
        assert_eq!(s.param("sort").as_deref(), Some("added"));
        assert_eq!(s.param("sortDirection"), None, "not in /media's parameters");
        assert_eq!(s.param("filter"), None);
    }
}

#[test]
fn a_series_record_keeps_its_seasons() {
    let m: Media = serde_json::from_str(
        r#"{"id":4,"mediaType":"tv","tmdbId":1399,"tvdbId":121361,"status":4,"status4k":1,
            "seasons":[{"id":1,"seasonNumber":1,"status":5,"status4k":1},
                       {"id":2,"seasonNumber":2,"status":1,"status4k":1}]}"#,
    )
    .unwrap();
    assert_eq!(m.tvdb_id, Some(121361));
    assert_eq!(m.seasons.len(), 2);
    assert_eq!(m.seasons[0].status, MediaStatus::Available);
    assert_eq!(m.seasons[1].season_number, 2);
}

#[tokio::test]
async fn a_record_that_cannot_be_read_fails_the_list_and_is_named() {
    let srv = start(|s, _| {
        let mut reply = page_of(s, &ascending(3), request_json);
        // Request 2 without its date.
        let two = request_json(2);
        let broken = two.replacen(r#""createdAt":"2024-05-01T10:00:27.000Z","#, "", 1);
        reply.body = reply.body.replace(&two, &broken);
        reply
    })
    .await;
    let err = client(&srv.url).requests().await.unwrap_err();
    let ApiError::Protocol {
        snippet, source, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert!(snippet.starts_with(r#"{"id":2,"#), "{snippet}");
    assert!(source.to_string().contains("createdAt"), "{source}");
    assert_eq!(
        srv.count(),
        1,
        "not read again: it would not read the next time"
    );
}

#[tokio::test]
async fn failed_answers_are_named_by_what_to_do_next() {
    for (status, body) in [(401, ""), (403, r#"{"status":403,"error":"no"}"#)] {
        let srv = start(move |_, _| Reply::status(status).body(body)).await;
        let err = client(&srv.url).requests().await.unwrap_err();
        assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
        assert_eq!(srv.count(), 1, "not retried");
    }

    let srv = start(|_, _| Reply::status(500).body(r#"{"message":"boom"}"#)).await;
    let err = client(&srv.url).media().await.unwrap_err();
    assert!(
        matches!(&err, ApiError::Unavailable { cause: Cause::Status(s), attempts: 2, .. } if *s == 500),
        "a list is retried once: {err:?}"
    );

    for garbage in ["<html>login</html>", r#"{"results":[]}"#, "[]"] {
        let srv = start(move |_, _| Reply::json(garbage)).await;
        let err = client(&srv.url).requests().await.unwrap_err();
        assert!(
            matches!(err, ApiError::Protocol { .. }),
            "{garbage}: {err:?}"
        );
    }
}

#[tokio::test]
async fn status_and_the_user_the_key_acts_as() {
    let srv = start(|s, _| match s.path.as_str() {
        "/api/v1/status" => Reply::json(
            r#"{"version":"3.1.0","commitTag":"abc","updateAvailable":false,"commitsBehind":0,"restartRequired":false}"#,
        ),
        "/api/v1/auth/me" => Reply::json(r#"{"id":1,"username":"owner","permissions":2,"displayName":"owner"}"#),
        _ => Reply::status(404),
    })
    .await;
    let c = client(&srv.url);
    assert_eq!(c.status().await.unwrap().version, "3.1.0");
    let me = c.me().await.unwrap();
    assert_eq!(me.id, 1);
    assert!(me.manages_requests(), "the owner is an admin");
    let seen = srv.seen();
    assert_eq!(seen[1].headers.get("x-api-key").unwrap(), KEY);

    let user = |p: Option<u64>| SeerrUser {
        id: 2,
        username: None,
        display_name: None,
        jellyfin_user_id: None,
        jellyfin_username: None,
        permissions: p,
    };
    assert!(user(Some(16 | 32)).manages_requests());
    assert!(!user(Some(32)).manages_requests());
    assert!(!user(None).manages_requests());
}

#[tokio::test]
async fn the_key_is_sent_but_never_shown() {
    let srv = start(|_, _| Reply::status(403)).await;
    let c = client(&srv.url);
    let errors = [
        c.me().await.unwrap_err(),
        c.requests().await.unwrap_err(),
        c.delete_media(3).await.unwrap_err(),
    ];
    for err in errors {
        assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
        for shown in [err.to_string(), format!("{err:#}"), format!("{err:?}")] {
            assert!(!shown.contains(KEY), "{shown}");
            assert!(shown.contains("Seerr"), "{shown}");
        }
    }
    assert!(!format!("{c:?}").contains(KEY));
    assert!(srv
        .seen()
        .iter()
        .all(|s| s.headers.get("x-api-key").unwrap() == KEY));
}

#[tokio::test]
async fn delete_media_done_gone_and_failed() {
    let srv = start(|s, _| match s.path.as_str() {
        "/api/v1/media/1" => Reply::status(204),
        "/api/v1/media/2" => Reply::status(404).body(r#"{"message":"Media not found"}"#),
        _ => Reply::status(500).body(r#"{"message":"SQLITE_BUSY"}"#),
    })
    .await;
    let c = client(&srv.url);
    assert_eq!(c.delete_media(1).await.unwrap(), Deleted::Done);
    assert_eq!(c.delete_media(2).await.unwrap(), Deleted::NotFound);
    let err = c.delete_media(3).await.unwrap_err();
    assert!(
        matches!(&err, ApiError::Unavailable { cause: Cause::Status(s), attempts: 1, .. } if *s == 500),
        "a 500 may hide a removal: not resent: {err:?}"
    );
    assert!(err.outcome_unknown());
    let seen = srv.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|s| s.method == reqwest::Method::DELETE));
    assert!(
        seen.iter().all(|s| !s.path.ends_with("/file")),
        "never the call that deletes files"
    );

    // A 503 is refused before any work: resent.
    let tries = Arc::new(AtomicUsize::new(0));
    let t = tries.clone();
    let srv = start(move |_, _| {
        if t.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::status(503)
        } else {
            Reply::status(204)
        }
    })
    .await;
    assert_eq!(
        client(&srv.url).delete_media(5).await.unwrap(),
        Deleted::Done
    );
    assert_eq!(tries.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn delete_request_done_and_gone() {
    let srv = start(|s, _| {
        if s.path == "/api/v1/request/7" {
            Reply::status(204)
        } else {
            Reply::status(404).body(r#"{"message":"Request not found."}"#)
        }
    })
    .await;
    let c = client(&srv.url);
    assert_eq!(c.delete_request(7).await.unwrap(), Deleted::Done);
    assert_eq!(c.delete_request(8).await.unwrap(), Deleted::NotFound);
    let err = c.delete_request(0).await.unwrap_err();
    assert!(matches!(err, ApiError::NotSent { .. }), "{err:?}");
    assert_eq!(srv.count(), 2);
}

/// A TV request holding seasons 1-3, with settings of its own.
fn tv_request() -> Request {
    let mut r: Request = serde_json::from_str(&request_json(42)).unwrap();
    r.seasons = (1..=3)
        .map(|n| SeasonRequest {
            id: 100 + i64::from(n),
            season_number: n,
            status: RequestStatus::Approved,
        })
        .collect();
    r.server_id = Some(2);
    r.profile_id = Some(6);
    r.root_folder = Some("/tv/anime".to_owned());
    r.language_profile_id = Some(1);
    r.tags = Some(vec![4, 9]);
    r
}

#[tokio::test]
async fn keeping_seasons_sends_the_requests_own_settings_back() {
    let srv = start(|_, _| {
        Reply::json(r#"{"id":42,"status":2,"seasons":[{"id":103,"seasonNumber":3,"status":2},{"id":101,"seasonNumber":1,"status":2}]}"#)
    })
    .await;
    let edit = client(&srv.url)
        .set_request_seasons(&tv_request(), &[3, 1, 3])
        .await
        .unwrap();
    assert_eq!(
        edit,
        SeasonsEdit::Saved {
            seasons: vec![3, 1]
        }
    );
    let seen = srv.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, reqwest::Method::PUT);
    assert_eq!(seen[0].path, "/api/v1/request/42");
    assert_eq!(
        seen[0].headers.get("content-type").unwrap(),
        "application/json"
    );
    assert_eq!(
        seen[0].json(),
        serde_json::json!({
            "mediaType": "tv",
            "seasons": [1, 3],
            "serverId": 2,
            "profileId": 6,
            "rootFolder": "/tv/anime",
            "languageProfileId": 1,
            "tags": [4, 9],
        }),
        "each season once, in order; no userId"
    );
}

#[tokio::test]
async fn settings_the_request_does_not_have_are_left_out_not_null() {
    let srv = start(|_, _| Reply::json(r#"{"id":42,"seasons":[{"seasonNumber":2}]}"#)).await;
    let mut r = tv_request();
    r.server_id = None;
    r.profile_id = None;
    r.root_folder = None;
    r.language_profile_id = None;
    r.tags = Some(Vec::new());
    client(&srv.url)
        .set_request_seasons(&r, &[2])
        .await
        .unwrap();
    let body = srv.seen()[0].json();
    assert_eq!(
        body,
        serde_json::json!({"mediaType": "tv", "seasons": [2], "tags": []}),
        "Seerr's OpenAPI check refuses null; tags set to none stay none"
    );
    r.tags = None;
    client(&srv.url)
        .set_request_seasons(&r, &[2])
        .await
        .unwrap();
    let body = srv.seen()[1].json();
    assert!(body.get("tags").is_none(), "{body}");
    assert!(body.get("userId").is_none(), "{body}");
}

#[tokio::test]
async fn no_seasons_available_is_told_apart_from_saved_and_gone() {
    let srv = start(|s, _| {
        if s.path == "/api/v1/request/42" {
            Reply::status(202).body(r#"{"message":"No seasons available to request"}"#)
        } else {
            Reply::status(404).body(r#"{"message":"Request not found."}"#)
        }
    })
    .await;
    let c = client(&srv.url);
    let r = tv_request();
    assert_eq!(
        c.set_request_seasons(&r, &[2]).await.unwrap(),
        SeasonsEdit::Unchanged
    );
    let mut other = r.clone();
    other.id = 43;
    assert_eq!(
        c.set_request_seasons(&other, &[2]).await.unwrap(),
        SeasonsEdit::NotFound
    );

    let srv = start(|_, _| Reply::status(500).body(r#"{"message":"boom"}"#)).await;
    let err = client(&srv.url)
        .set_request_seasons(&r, &[2])
        .await
        .unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");
    assert_eq!(srv.count(), 1, "a PUT that may have happened is not resent");
}

#[tokio::test]
async fn edits_seerr_would_mishandle_are_not_sent() {
    let srv = start(|_, _| Reply::json("{}")).await;
    let c = client(&srv.url);
    let r = tv_request();
    let mut movie = r.clone();
    movie.media.media_type = MediaType::Movie;
    let refused = [
        c.set_request_seasons(&r, &[]).await.unwrap_err(),
        c.set_request_seasons(&r, &[2, 4]).await.unwrap_err(),
        c.set_request_seasons(&r, &[-1]).await.unwrap_err(),
        c.set_request_seasons(&movie, &[1]).await.unwrap_err(),
    ];
    for err in refused {
        assert!(
            matches!(&err, ApiError::NotSent { endpoint, .. } if endpoint.path == "/api/v1/request/42"),
            "{err:?}"
        );
    }
    assert_eq!(srv.count(), 0);
}
