//! The simulated Seerr answers as seerr-team/seerr's routes (server/routes/request.ts,
//! media.ts), entities and request validator do: checked over real HTTP with plain reqwest.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use jiff::Timestamp;
use reqwest::Method;
use serde_json::{json, Value};
use shelflife_sim::*;

const HEAT: i32 = 949;
const ALIEN: i32 = 348;
const DARK_TMDB: i32 = 70523;
const DARK_TVDB: i32 = 334824;

fn now() -> Timestamp {
    Timestamp::from_second(1_763_900_000).expect("valid timestamp")
}

fn world() -> World {
    World::new(now())
        .user("alice")
        .movie(MovieSpec::new("Heat", 1995).tmdb(HEAT))
        .movie(MovieSpec::new("Alien", 1979).tmdb(ALIEN))
        .series(
            SeriesSpec::new("Dark", true)
                .tvdb(DARK_TVDB)
                .season(1, 2)
                .season(2, 2),
        )
}

/// A Seerr user for the simulated Jellyfin user `alice`.
fn alice(w: &mut World) -> i32 {
    let jellyfin = w.users[0].id.clone();
    w.seerr_user("alice", Some(&jellyfin))
}

struct Call<'a> {
    method: Method,
    path: &'a str,
    body: Option<Value>,
    key: Option<&'a str>,
}

fn call(method: Method, path: &str) -> Call<'_> {
    Call {
        method,
        path,
        body: None,
        key: Some(SEERR_KEY),
    }
}

impl Call<'_> {
    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn key(mut self, key: Option<&'static str>) -> Self {
        self.key = key;
        self
    }

    /// Sends it to the stack's Seerr: status and body (JSON, `Null` when empty, a string when
    /// it is not JSON).
    async fn send(self, stack: &SimStack) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .request(self.method, format!("{}{}", stack.seerr_url(), self.path));
        if let Some(key) = self.key {
            request = request.header("X-Api-Key", key);
        }
        if let Some(body) = self.body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }
}

fn ids(page: &Value) -> Vec<i64> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect()
}

fn set_request_status(w: &mut World, id: i32, status: SeerrRequestStatus) {
    w.seerr.request_mut(id).expect("request").status = status;
}

fn set_media_status(w: &mut World, id: i32, status: SeerrMediaStatus) {
    w.seerr.media_mut(id).expect("media").status = status;
}

#[tokio::test]
async fn status_is_public_and_the_key_is_checked_after_the_route() {
    let stack = SimStack::start(world()).await.expect("stack");

    let (status, body) = call(Method::GET, "/api/v1/status")
        .key(None)
        .send(&stack)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["version"], "3.1.0");
    assert_eq!(body["updateAvailable"], false);
    assert_eq!(body["commitsBehind"], 0);
    assert_eq!(body["restartRequired"], false);

    // No credentials: the validator's 401. A wrong key passes it, finds no user: a 403.
    let (status, body) = call(Method::GET, "/api/v1/request")
        .key(None)
        .send(&stack)
        .await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = call(Method::GET, "/api/v1/request")
        .key(Some("wrong"))
        .send(&stack)
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"status": 403, "error": "You do not have permission to access this endpoint"})
    );

    // Routing comes first: a path the spec lacks is a 404, a method it lacks a 405, even
    // without a key; then an undeclared query parameter is a 400.
    let (status, _) = call(Method::GET, "/api/v1/nothing")
        .key(None)
        .send(&stack)
        .await;
    assert_eq!(status, 404);
    let (status, body) = call(Method::GET, "/api/v1/media/1001").send(&stack).await;
    assert_eq!(status, 405, "{body}");
    let (status, body) = call(Method::GET, "/api/v1/request?page=2")
        .send(&stack)
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "Unknown query parameter 'page'");
    let (status, _) = call(Method::GET, "/api/v1/request?filter=gone")
        .send(&stack)
        .await;
    assert_eq!(status, 400);
    let (status, _) = call(Method::GET, "/api/v1/request?take=ten")
        .send(&stack)
        .await;
    assert_eq!(status, 400);

    // Recorded like the other servers' requests.
    let paths: Vec<String> = stack
        .requests(Service::Seerr)
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(paths.len(), 8);
    assert!(paths.iter().all(|p| p.starts_with("/api/v1/")));
    assert!(stack.writes().is_empty());
}

#[tokio::test]
async fn request_list_pages_filters_and_sorts_as_request_ts() {
    let mut w = world();
    let alice = alice(&mut w);
    // 12 movie requests, ids 1..=12, one per title, the first by alice.
    let mut made = Vec::new();
    for n in 0..12 {
        let by = if n == 0 { alice } else { SEERR_OWNER };
        made.push(w.seerr_movie_request(20_000 + n, by, 30.0 - f64::from(n)));
    }
    set_request_status(&mut w, made[1].request, SeerrRequestStatus::Pending);
    set_request_status(&mut w, made[2].request, SeerrRequestStatus::Completed);
    set_request_status(&mut w, made[3].request, SeerrRequestStatus::Declined);
    set_media_status(&mut w, made[4].media, SeerrMediaStatus::Blocklisted);
    let tv = w.seerr_tv_request(DARK_TMDB, Some(DARK_TVDB), &[1, 2], alice, 3.0);
    let stack = SimStack::start(w).await.expect("stack");

    // Default: take 10, newest id first, BLOCKLISTED media left out (13 requests, 12 count).
    let (status, page) = call(Method::GET, "/api/v1/request").send(&stack).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["pageInfo"],
        json!({"page": 1, "pages": 2, "results": 12, "pageSize": 10})
    );
    let first = ids(&page);
    assert_eq!(first.len(), 10);
    assert_eq!(first[0], i64::from(tv.request));
    assert!(first.windows(2).all(|w| w[0] > w[1]), "{first:?}");
    assert!(!first.contains(&i64::from(made[4].request)));
    assert_eq!(page["serviceErrors"], json!({"radarr": [], "sonarr": []}));

    // A result: Seerr's own media id, the TMDB id beside it; users and seasons in full; the
    // list's query builder brings no `media.seasons`.
    let dark = &page["results"][0];
    assert_eq!(dark["type"], "tv");
    assert_eq!(dark["status"], 2);
    assert_eq!(dark["is4k"], false);
    assert_eq!(dark["media"]["id"], tv.media);
    assert_eq!(dark["media"]["tmdbId"], DARK_TMDB);
    assert_eq!(dark["media"]["tvdbId"], DARK_TVDB);
    assert_eq!(dark["media"]["mediaType"], "tv");
    assert_eq!(dark["media"]["status"], 5);
    assert_eq!(dark["media"]["status4k"], 1);
    assert!(dark["media"].get("seasons").is_none(), "{dark}");
    let numbers: Vec<i64> = dark["seasons"]
        .as_array()
        .expect("seasons")
        .iter()
        .map(|s| s["seasonNumber"].as_i64().expect("number"))
        .collect();
    assert_eq!(numbers, [1, 2]);
    assert_eq!(dark["requestedBy"]["id"], alice);
    assert_eq!(dark["requestedBy"]["displayName"], "alice");
    assert_eq!(dark["requestedBy"]["jellyfinUsername"], "alice");
    let jellyfin_alice = stack.with_world(|w| w.users[0].id.clone());
    assert_eq!(
        dark["requestedBy"]["jellyfinUserId"],
        jellyfin_alice.as_str()
    );
    assert_eq!(dark["requestedBy"]["email"], "alice");
    assert_eq!(dark["modifiedBy"]["id"], SEERR_OWNER);
    assert_eq!(dark["createdAt"], "2025-11-20T12:13:20.000Z");
    assert_eq!(dark["updatedAt"], dark["createdAt"]);
    assert!(dark["serverId"].is_null() && dark["tags"].is_null());
    assert_eq!(dark["canRemove"], true);
    assert_ne!(dark["media"]["id"], dark["media"]["tmdbId"]);

    // skip: page = ceil(skip / take) + 1.
    let (_, page) = call(Method::GET, "/api/v1/request?skip=10")
        .send(&stack)
        .await;
    assert_eq!(ids(&page).len(), 2);
    assert_eq!(page["pageInfo"]["page"], 2);
    let (_, page) = call(Method::GET, "/api/v1/request?take=5&skip=3")
        .send(&stack)
        .await;
    assert_eq!(
        page["pageInfo"],
        json!({"page": 2, "pages": 3, "results": 12, "pageSize": 5})
    );

    let s = &stack;
    let query = |q: &'static str| async move {
        let (status, page) = call(Method::GET, q).send(s).await;
        assert_eq!(status, 200, "{q}: {page}");
        ids(&page)
    };
    let request = |i: usize| i64::from(made[i].request);
    assert_eq!(query("/api/v1/request?filter=pending").await, [request(1)]);
    // `available` is COMPLETED requests of AVAILABLE media.
    assert_eq!(
        query("/api/v1/request?filter=available").await,
        [request(2)]
    );
    assert_eq!(
        query("/api/v1/request?mediaType=tv").await,
        [i64::from(tv.request)]
    );
    assert_eq!(
        query("/api/v1/request?requestedBy=2&sortDirection=asc").await,
        [request(0), i64::from(tv.request)]
    );
    let all = query("/api/v1/request?filter=all&take=50").await;
    assert_eq!(all.len(), 12, "BLOCKLISTED media stay out of `all` too");
    let unavailable = query("/api/v1/request?filter=unavailable&take=50").await;
    assert!(
        unavailable.is_empty(),
        "every media is AVAILABLE: {unavailable:?}"
    );
}

#[tokio::test]
async fn a_user_without_manage_requests_sees_only_their_own() {
    let mut w = world();
    let alice = alice(&mut w);
    let mine = w.seerr_movie_request(HEAT, alice, 5.0);
    w.seerr_movie_request(ALIEN, SEERR_OWNER, 5.0);
    let stack = SimStack::start(w).await.expect("stack");
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/request", stack.seerr_url()))
        .header("X-Api-Key", SEERR_KEY)
        .header("X-API-User", alice.to_string())
        .send()
        .await
        .expect("request");
    let page: Value = serde_json::from_str(&response.text().await.expect("body")).expect("json");
    assert_eq!(ids(&page), [i64::from(mine.request)]);
    assert!(page["results"][0].get("canRemove").is_none());
}

#[tokio::test]
async fn media_list_has_seasons_and_filters_on_status() {
    let mut w = world();
    let heat = w.seerr_movie_request(HEAT, SEERR_OWNER, 10.0);
    let alien = w.seerr_movie_request(ALIEN, SEERR_OWNER, 9.0);
    let dark = w.seerr_tv_request(DARK_TMDB, Some(DARK_TVDB), &[1, 2], SEERR_OWNER, 8.0);
    set_media_status(&mut w, alien.media, SeerrMediaStatus::Processing);
    let stack = SimStack::start(w).await.expect("stack");

    let (status, page) = call(Method::GET, "/api/v1/media").send(&stack).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["pageInfo"],
        json!({"page": 1, "pages": 1, "results": 3, "pageSize": 20})
    );
    assert_eq!(
        ids(&page),
        [dark.media, alien.media, heat.media].map(i64::from)
    );
    let series = &page["results"][0];
    assert_eq!(series["seasons"].as_array().expect("seasons").len(), 2);
    assert_eq!(series["seasons"][0]["status"], 5);
    assert!(series.get("requests").is_none());
    // The media record knows where the title lives in Radarr and Jellyfin.
    let movie = &page["results"][2];
    let (radarr_id, jellyfin_id) = stack.with_world(|w| {
        let m = w.find_movie("Heat").expect("Heat");
        (m.radarr_id, m.jellyfin_id.clone())
    });
    assert_eq!(movie["externalServiceId"], radarr_id);
    assert_eq!(movie["jellyfinMediaId"], jellyfin_id.as_str());
    assert_eq!(movie["seasons"], json!([]));

    let (_, page) = call(Method::GET, "/api/v1/media?filter=available")
        .send(&stack)
        .await;
    assert_eq!(ids(&page), [dark.media, heat.media].map(i64::from));
    let (_, page) = call(Method::GET, "/api/v1/media?filter=processing&take=1")
        .send(&stack)
        .await;
    assert_eq!(ids(&page), [i64::from(alien.media)]);
}

#[tokio::test]
async fn deleting_the_media_record_takes_its_requests_and_frees_the_title() {
    let mut w = world();
    let first = w.seerr_movie_request(HEAT, SEERR_OWNER, 10.0);
    let stack = SimStack::start(w).await.expect("stack");
    assert!(first.media >= SEERR_FIRST_MEDIA_ID && first.media != HEAT);
    let ask = json!({"mediaType": "movie", "mediaId": HEAT, "is4k": false});

    let (status, body) = call(Method::POST, "/api/v1/request")
        .body(ask.clone())
        .send(&stack)
        .await;
    assert_eq!(status, 409, "an approved request is there: {body}");
    assert_eq!(body["message"], "Request for this media already exists.");

    // The TMDB id is not the media id.
    let (status, body) = call(Method::DELETE, &format!("/api/v1/media/{HEAT}"))
        .send(&stack)
        .await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"message": "Media not found"}));

    let (status, body) = call(Method::DELETE, &format!("/api/v1/media/{}", first.media))
        .send(&stack)
        .await;
    assert_eq!(status, 204, "{body}");
    stack.with_world(|w| {
        assert!(w.seerr.media(first.media).is_none());
        assert!(w.seerr.requests.is_empty());
    });
    let (status, _) = call(Method::GET, &format!("/api/v1/request/{}", first.request))
        .send(&stack)
        .await;
    assert_eq!(status, 404);

    let (status, body) = call(Method::POST, "/api/v1/request")
        .body(ask)
        .send(&stack)
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], 2, "the owner's request is approved at once");
    assert_eq!(body["media"]["tmdbId"], HEAT);
    assert_ne!(body["media"]["id"], first.media, "a new record");
    let media = stack.with_world(|w| {
        w.seerr
            .media_by_tmdb(SeerrMediaType::Movie, HEAT)
            .expect("record")
            .clone()
    });
    assert_eq!(media.status, SeerrMediaStatus::Processing);
    assert_eq!(stack.seerr_violations(), Vec::<String>::new());
    let writes: Vec<(Service, String)> = stack
        .writes()
        .into_iter()
        .map(|(s, r)| (s, format!("{} {}", r.method, r.path)))
        .collect();
    assert_eq!(writes.len(), 4);
    assert!(writes.iter().all(|(s, _)| *s == Service::Seerr));
}

#[tokio::test]
async fn only_the_oldest_request_decides_a_duplicate_and_an_absent_is4k_none() {
    let mut w = world();
    let old = w.seerr_movie_request(HEAT, SEERR_OWNER, 10.0);
    set_request_status(&mut w, old.request, SeerrRequestStatus::Completed);
    let stack = SimStack::start(w).await.expect("stack");
    // The oldest request is COMPLETED: a second one is made though the movie is AVAILABLE.
    let ask = json!({"mediaType": "movie", "mediaId": HEAT, "is4k": false});
    let (status, _) = call(Method::POST, "/api/v1/request")
        .body(ask.clone())
        .send(&stack)
        .await;
    assert_eq!(status, 201);
    let (status, _) = call(Method::POST, "/api/v1/request")
        .body(ask)
        .send(&stack)
        .await;
    assert_eq!(status, 201, "still the oldest one decides");
    // Without is4k, `request.is4k = NULL` matches no request: never a duplicate.
    let mut w = world();
    w.seerr_movie_request(ALIEN, SEERR_OWNER, 10.0);
    let stack = SimStack::start(w).await.expect("stack");
    let (status, _) = call(Method::POST, "/api/v1/request")
        .body(json!({"mediaType": "movie", "mediaId": ALIEN}))
        .send(&stack)
        .await;
    assert_eq!(status, 201);
    // Bodies are not coerced; a blocklisted title is refused.
    let (status, _) = call(Method::POST, "/api/v1/request")
        .body(json!({"mediaType": "movie", "mediaId": "348"}))
        .send(&stack)
        .await;
    assert_eq!(status, 400);
    stack.with_world(|w| {
        let id = w.seerr.media[0].id;
        set_media_status(w, id, SeerrMediaStatus::Blocklisted);
    });
    let (status, body) = call(Method::POST, "/api/v1/request")
        .body(json!({"mediaType": "movie", "mediaId": ALIEN, "is4k": false}))
        .send(&stack)
        .await;
    assert_eq!(status, 403);
    assert_eq!(body["message"], "This media is blocklisted.");
}

#[tokio::test]
async fn a_series_request_is_refused_for_seasons_held_or_available() {
    let mut w = world();
    let dark = w.seerr_tv_request(DARK_TMDB, Some(DARK_TVDB), &[1], SEERR_OWNER, 10.0);
    let stack = SimStack::start(w).await.expect("stack");
    let ask = |seasons: Value| json!({"mediaType": "tv", "mediaId": DARK_TMDB, "is4k": false, "seasons": seasons});
    let (status, body) = call(Method::POST, "/api/v1/request")
        .body(ask(json!([1])))
        .send(&stack)
        .await;
    assert_eq!(status, 202);
    assert_eq!(body, json!({"message": "No seasons available to request"}));
    // "all" is every season TMDB lists but specials; season 1 is taken, 2 is not.
    let (status, body) = call(Method::POST, "/api/v1/request")
        .body(ask(json!("all")))
        .send(&stack)
        .await;
    assert_eq!(status, 201, "{body}");
    let seasons: Vec<i64> = body["seasons"]
        .as_array()
        .expect("seasons")
        .iter()
        .map(|s| s["seasonNumber"].as_i64().expect("number"))
        .collect();
    assert_eq!(seasons, [2]);
    // After the media record goes, season 1 may be asked for again.
    let (status, _) = call(Method::DELETE, &format!("/api/v1/media/{}", dark.media))
        .send(&stack)
        .await;
    assert_eq!(status, 204);
    let (status, body) = call(Method::POST, "/api/v1/request")
        .body(ask(json!([1])))
        .send(&stack)
        .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn deleting_a_request_resets_the_media_status_unless_available() {
    let mut w = world();
    let heat = w.seerr_movie_request(HEAT, SEERR_OWNER, 10.0);
    let alien = w.seerr_movie_request(ALIEN, SEERR_OWNER, 10.0);
    set_media_status(&mut w, alien.media, SeerrMediaStatus::Processing);
    let stack = SimStack::start(w).await.expect("stack");

    for ids in [heat, alien] {
        let (status, body) = call(Method::DELETE, &format!("/api/v1/request/{}", ids.request))
            .send(&stack)
            .await;
        assert_eq!(status, 204, "{body}");
    }
    stack.with_world(|w| {
        let heat = w.seerr.media(heat.media).expect("Heat stays");
        assert_eq!(heat.status, SeerrMediaStatus::Available, "shows Available");
        let alien = w.seerr.media(alien.media).expect("Alien stays");
        assert_eq!(alien.status, SeerrMediaStatus::Unknown);
        assert!(w.seerr.requests.is_empty());
    });
    let (status, body) = call(Method::DELETE, "/api/v1/request/99")
        .send(&stack)
        .await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"message": "Request not found."}));
}

#[tokio::test]
async fn put_rewrites_a_series_request_as_request_ts_does() {
    let mut w = world();
    let dark = w.seerr_tv_request(DARK_TMDB, Some(DARK_TVDB), &[1, 2], SEERR_OWNER, 10.0);
    {
        let r = w.seerr.request_mut(dark.request).expect("request");
        r.server_id = Some(0);
        r.profile_id = Some(4);
        r.root_folder = Some("/tv".to_string());
    }
    let stack = SimStack::start(w).await.expect("stack");
    let path = format!("/api/v1/request/{}", dark.request);

    // No seasons: the route throws, a 500 with its message; nothing changes.
    let (status, body) = call(Method::PUT, &path)
        .body(json!({"mediaType": "tv", "profileId": 9}))
        .send(&stack)
        .await;
    assert_eq!(status, 500);
    assert_eq!(
        body["message"],
        "Missing seasons. If you want to cancel a series request, use the DELETE method."
    );
    let (status, _) = call(Method::PUT, &path)
        .body(json!({"mediaType": "tv", "seasons": []}))
        .send(&stack)
        .await;
    assert_eq!(status, 500);

    // One season of two out; profileId rewritten; serverId and rootFolder left out of the
    // body: absent from the answer, kept in the database (TypeORM skips undefined).
    let (status, body) = call(Method::PUT, &path)
        .body(json!({"mediaType": "tv", "seasons": [1], "profileId": 7}))
        .send(&stack)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["seasons"].as_array().expect("seasons").len(), 1);
    assert_eq!(body["seasons"][0]["seasonNumber"], 1);
    assert_eq!(body["profileId"], 7);
    assert!(body.get("serverId").is_none() && body.get("rootFolder").is_none());
    assert!(body["media"]["seasons"].is_array(), "a find brings them");
    stack.with_world(|w| {
        let r = w.seerr.request(dark.request).expect("request");
        assert_eq!(
            r.seasons
                .iter()
                .map(|s| s.season_number)
                .collect::<Vec<_>>(),
            [1]
        );
        assert_eq!(
            (r.server_id, r.profile_id, r.root_folder.as_deref()),
            (Some(0), Some(7), Some("/tv"))
        );
    });

    // A season asked again is added as PENDING.
    let (status, body) = call(Method::PUT, &path)
        .body(json!({"mediaType": "tv", "seasons": [1, 2]}))
        .send(&stack)
        .await;
    assert_eq!(status, 200, "{body}");
    let statuses: Vec<(i64, i64)> = body["seasons"]
        .as_array()
        .expect("seasons")
        .iter()
        .map(|s| {
            (
                s["seasonNumber"].as_i64().unwrap(),
                s["status"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses, [(1, 2), (2, 1)]);

    // Every asked season held by another active request: 202, nothing changes.
    let other = stack.with_world(|w| w.seerr_tv_request(DARK_TMDB, None, &[3], SEERR_OWNER, 1.0));
    let (status, body) = call(Method::PUT, &path)
        .body(json!({"mediaType": "tv", "seasons": [3]}))
        .send(&stack)
        .await;
    assert_eq!(status, 202);
    assert_eq!(body, json!({"message": "No seasons available to request"}));
    assert_eq!(other.media, dark.media, "one record per title");
    let (status, _) = call(Method::PUT, "/api/v1/request/99")
        .body(json!({"mediaType": "tv", "seasons": [1]}))
        .send(&stack)
        .await;
    assert_eq!(status, 404);
    let (status, _) = reqwest::Client::new()
        .put(format!("{}{path}", stack.seerr_url()))
        .header("X-Api-Key", SEERR_KEY)
        .body("mediaType=tv")
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .expect("request");
    assert_eq!(status, 415, "the body must be JSON");
}

#[tokio::test]
async fn deleting_the_file_through_seerr_is_recorded_as_a_violation() {
    let mut w = world();
    let heat = w.seerr_movie_request(HEAT, SEERR_OWNER, 10.0);
    let stack = SimStack::start(w).await.expect("stack");
    stack.movie_file_lag(std::time::Duration::ZERO);
    let path = format!("/api/v1/media/{}/file", heat.media);
    let (status, body) = call(Method::DELETE, &path).send(&stack).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(stack.seerr_violations(), [format!("DELETE {path}")]);
    stack.with_world(|w| {
        let movie = w.find_movie("Heat").expect("Heat");
        assert!(!movie.in_radarr, "Seerr deleted it through Radarr");
        assert!(movie
            .file
            .as_ref()
            .is_some_and(|f| !w.files.contains(&f.path)));
        assert!(w.seerr.media(heat.media).is_some(), "its own record stays");
    });
    // Even a refused one counts.
    let (status, _) = call(Method::DELETE, "/api/v1/media/5/file")
        .key(Some("wrong"))
        .send(&stack)
        .await;
    assert_eq!(status, 403);
    assert_eq!(stack.seerr_violations().len(), 2);
}

#[tokio::test]
async fn a_blocklisted_record_is_not_deleted_and_faults_apply_to_seerr() {
    let mut w = world();
    let heat = w.seerr_movie_request(HEAT, SEERR_OWNER, 10.0);
    set_media_status(&mut w, heat.media, SeerrMediaStatus::Blocklisted);
    let stack = SimStack::start(w).await.expect("stack");
    let path = format!("/api/v1/media/{}", heat.media);
    let (status, _) = call(Method::DELETE, &path).send(&stack).await;
    assert_eq!(status, 204);
    stack.with_world(|w| {
        let media = w.seerr.media(heat.media).expect("stays");
        assert_eq!(media.external_service_id, None, "service data reset");
        assert_eq!(media.jellyfin_media_id, None);
        assert_eq!(w.seerr.requests_of(heat.media).len(), 1, "requests stay");
    });

    stack.fail_next(Service::Seerr, 503, 1);
    let (status, _) = call(Method::GET, "/api/v1/status").send(&stack).await;
    assert_eq!(status, 503);
    stack.fail_path(Service::Seerr, "DELETE", "/api/v1/media/", 500, 1);
    let (status, _) = call(Method::DELETE, &path).send(&stack).await;
    assert_eq!(status, 500);
    let (status, _) = call(Method::GET, "/api/v1/status").send(&stack).await;
    assert_eq!(status, 200);
    assert_eq!(stack.count(Service::Seerr), 4);

    let toml = stack.seerr_toml();
    assert_eq!(
        toml,
        format!(
            "[seerr]\nurl = \"{}\"\napi_key = \"{SEERR_KEY}\"\n",
            stack.seerr_url()
        )
    );
    assert!(!stack.config_toml("").contains("[seerr]"));
}

#[tokio::test]
async fn an_edit_of_the_request_row_sends_the_series_to_sonarr_again() {
    let mut w = world();
    let dark = w.seerr_tv_request(DARK_TMDB, Some(DARK_TVDB), &[1, 2], SEERR_OWNER, 10.0);
    // Season 1's episodes were deleted and unmonitored; Seerr saw the title go partial.
    set_media_status(&mut w, dark.media, SeerrMediaStatus::PartiallyAvailable);
    for e in &mut w.series[0].episodes {
        e.monitored = e.season != 1;
    }
    let stack = SimStack::start(w).await.expect("stack");
    let path = format!("/api/v1/request/{}", dark.request);
    let monitored = |stack: &SimStack| {
        stack.with_world(|w| {
            (1..=2)
                .map(|e| w.episode_monitored("Dark", 1, e).expect("episode"))
                .collect::<Vec<_>>()
        })
    };

    // Seasons only: the request's row is not updated, no subscriber runs.
    let (status, _) = call(Method::PUT, &path)
        .body(json!({"mediaType": "tv", "seasons": [2]}))
        .send(&stack)
        .await;
    assert_eq!(status, 200);
    assert!(stack.with_world(|w| w.seerr.sent_to_arr.is_empty()));
    assert_eq!(monitored(&stack), [false, false]);

    // A changed column: `afterUpdate` sends the request to Sonarr, which monitors its
    // seasons' episodes again.
    let (status, body) = call(Method::PUT, &path)
        .body(json!({"mediaType": "tv", "seasons": [1, 2], "profileId": 3}))
        .send(&stack)
        .await;
    assert_eq!(status, 200, "{body}");
    let sent = stack.with_world(|w| w.seerr.sent_to_arr.clone());
    assert_eq!(
        sent,
        [format!(
            "sonarr: series tvdb {DARK_TVDB} seasons [2, 1] monitored (request {})",
            dark.request
        )]
    );
    assert_eq!(monitored(&stack), [true, true]);
    let statuses: Vec<i64> = body["seasons"]
        .as_array()
        .expect("seasons")
        .iter()
        .map(|s| s["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [2, 2], "the subscriber approves the seasons");

    // A series TMDB gives no TVDB id: Seerr takes the request, then removes it and the record.
    let (status, body) = call(Method::POST, "/api/v1/request")
        .body(json!({"mediaType": "tv", "mediaId": 1399, "is4k": false, "seasons": [1]}))
        .send(&stack)
        .await;
    assert_eq!(status, 201, "{body}");
    stack.with_world(|w| {
        assert!(w.seerr.media_by_tmdb(SeerrMediaType::Tv, 1399).is_none());
        assert_eq!(w.seerr.requests.len(), 1);
    });
}

#[tokio::test]
async fn permissions_follow_x_api_user() {
    let mut w = world();
    let alice = alice(&mut w);
    let owners = w.seerr_movie_request(HEAT, SEERR_OWNER, 5.0);
    let stack = SimStack::start(w).await.expect("stack");
    let send = |method: Method, path: String, user: &str| {
        reqwest::Client::new()
            .request(method, format!("{}{path}", stack.seerr_url()))
            .header("X-Api-Key", SEERR_KEY)
            .header("X-API-User", user)
            .send()
    };
    let as_alice = alice.to_string();
    let media = format!("/api/v1/media/{}", owners.media);
    let request = format!("/api/v1/request/{}", owners.request);
    let status = |r: reqwest::Response| r.status().as_u16();
    // DELETE /media needs MANAGE_REQUESTS; someone else's approved request is a 401.
    assert_eq!(
        status(
            send(Method::DELETE, media.clone(), &as_alice)
                .await
                .unwrap()
        ),
        403
    );
    assert_eq!(
        status(
            send(Method::DELETE, request.clone(), &as_alice)
                .await
                .unwrap()
        ),
        401
    );
    assert_eq!(
        status(send(Method::GET, request.clone(), &as_alice).await.unwrap()),
        403
    );
    // No such user: nobody.
    assert_eq!(
        status(send(Method::GET, request.clone(), "77").await.unwrap()),
        403
    );
    assert_eq!(status(send(Method::DELETE, media, "1").await.unwrap()), 204);
}
