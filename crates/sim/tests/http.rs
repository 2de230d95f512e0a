//! The fakes answer like the API documents say: checked over real HTTP with plain reqwest.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;
use shelflife_sim::*;

fn now() -> Timestamp {
    Timestamp::from_second(1_763_900_000).expect("valid timestamp")
}

fn world() -> World {
    World::new(now())
        .user("alice")
        .user("bob")
        .movie(MovieSpec::new("The Matrix", 1999).watched("alice", 12.0))
        .movie(MovieSpec::new("Heat", 1995).tag("keep"))
        .series(
            SeriesSpec::new("Dark", true)
                .season(1, 3)
                .season(2, 2)
                .watched("alice", 1, 1..=3, 9.0),
        )
        .series(SeriesSpec::new("Lost", true).season(1, 2))
}

struct Client {
    http: reqwest::Client,
}

impl Client {
    fn new() -> Self {
        Client {
            http: reqwest::Client::new(),
        }
    }

    async fn jellyfin(&self, stack: &SimStack, path_and_query: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path_and_query}", stack.jellyfin_url()))
            .header(
                "Authorization",
                format!("MediaBrowser Token=\"{JELLYFIN_KEY}\""),
            )
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    async fn arr(
        &self,
        stack: &SimStack,
        service: Service,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&str>,
    ) -> (u16, String) {
        let key = if service == Service::Radarr {
            RADARR_KEY
        } else {
            SONARR_KEY
        };
        let mut request = self
            .http
            .request(method, format!("{}{path_and_query}", stack.url(service)))
            .header("X-Api-Key", key);
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test]
async fn jellyfin_auth_accepts_current_forms_and_refuses_legacy_by_default() {
    let stack = SimStack::start(world()).await.expect("start");
    let http = reqwest::Client::new();
    let users = format!("{}/Users", stack.jellyfin_url());
    let status = |r: reqwest::Response| r.status().as_u16();

    let ok = http
        .get(&users)
        .header(
            "Authorization",
            format!("MediaBrowser Client=\"x\", Token=\"{JELLYFIN_KEY}\""),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(status(ok), 200);
    let query_key = http
        .get(format!("{users}?ApiKey={JELLYFIN_KEY}"))
        .send()
        .await
        .expect("send");
    assert_eq!(status(query_key), 200);
    let wrong = http
        .get(&users)
        .header("Authorization", "MediaBrowser Token=\"nope\"")
        .send()
        .await
        .expect("send");
    assert_eq!(status(wrong), 401);
    let legacy = http
        .get(&users)
        .header("X-Emby-Token", JELLYFIN_KEY)
        .send()
        .await
        .expect("send");
    assert_eq!(status(legacy), 401, "legacy auth is off, as in Jellyfin 12");
    stack.allow_legacy_auth(true);
    let legacy = http
        .get(&users)
        .header("X-Emby-Token", JELLYFIN_KEY)
        .send()
        .await
        .expect("send");
    assert_eq!(status(legacy), 200);
    let public = http
        .get(format!("{}/System/Info/Public", stack.jellyfin_url()))
        .send()
        .await
        .expect("send");
    assert_eq!(status(public), 200, "public info needs no key");
}

#[tokio::test]
async fn jellyfin_items_gate_user_data_and_fields_and_page() {
    let stack = SimStack::start(world()).await.expect("start");
    let c = Client::new();
    let alice = stack.with_world(|w| w.users[0].id.clone());
    assert_eq!(alice.len(), 32, "ids are dashless GUIDs");

    let (_, body) = c
        .jellyfin(&stack, "/Items?includeItemTypes=Movie&recursive=true")
        .await;
    let page = json(&body);
    assert_eq!(page["TotalRecordCount"], 2);
    let first = &page["Items"][0];
    assert!(first.get("UserData").is_none(), "no userId, no UserData");
    assert!(first.get("Path").is_none() && first.get("ProviderIds").is_none());

    let (_, body) = c
        .jellyfin(
            &stack,
            &format!("/Items?userId={alice}&includeItemTypes=Movie&fields=Path,ProviderIds,MediaSources&isPlayed=true"),
        )
        .await;
    let page = json(&body);
    assert_eq!(page["TotalRecordCount"], 1);
    let matrix = &page["Items"][0];
    assert_eq!(matrix["Name"], "The Matrix");
    assert_eq!(matrix["UserData"]["Played"], true);
    let date = matrix["UserData"]["LastPlayedDate"].as_str().expect("date");
    assert!(
        date.ends_with(".0000000Z"),
        "Jellyfin writes 7 digits: {date}"
    );
    assert!(
        matrix["ProviderIds"]["Tmdb"].is_string(),
        "provider ids are strings"
    );
    assert!(matrix["Path"]
        .as_str()
        .is_some_and(|p| p.starts_with("/movies/")));
    assert!(matrix["MediaSources"][0]["Size"].as_u64().is_some());

    // Episodes: 5 with files; pages of 2 → 3 pages.
    let mut seen = 0;
    for start in [0, 2, 4] {
        let (_, body) = c
            .jellyfin(
                &stack,
                &format!("/Items?userId={alice}&includeItemTypes=Episode&startIndex={start}&limit=2&fields=ProviderIds"),
            )
            .await;
        let page = json(&body);
        assert_eq!(page["TotalRecordCount"], 7);
        assert_eq!(page["StartIndex"], start);
        seen += page["Items"].as_array().map(Vec::len).unwrap_or(0);
        let e = &page["Items"][0];
        assert!(e["SeriesId"].is_string() && e["ParentIndexNumber"].is_number());
    }
    assert_eq!(
        seen, 6,
        "pages of 2 from 0, 2, 4 cover six of the seven episodes"
    );
}

#[tokio::test]
async fn sonarr_episode_file_embedding_and_required_params() {
    let stack = SimStack::start(world()).await.expect("start");
    let c = Client::new();
    let dark = stack.with_world(|w| w.series[0].sonarr_id);
    let (status, _) = c
        .arr(
            &stack,
            Service::Sonarr,
            reqwest::Method::GET,
            "/api/v3/episode",
            None,
        )
        .await;
    assert_eq!(status, 400);
    let (_, body) = c
        .arr(
            &stack,
            Service::Sonarr,
            reqwest::Method::GET,
            &format!("/api/v3/episode?seriesId={dark}"),
            None,
        )
        .await;
    let eps = json(&body);
    assert!(
        eps[0].get("episodeFile").is_none(),
        "no file embedded unless asked"
    );
    assert!(eps[0]["episodeFileId"].as_i64().is_some_and(|id| id > 0));
    let (_, body) = c
        .arr(
            &stack,
            Service::Sonarr,
            reqwest::Method::GET,
            &format!("/api/v3/episode?seriesId={dark}&includeEpisodeFile=true"),
            None,
        )
        .await;
    let eps = json(&body);
    assert!(eps[0]["episodeFile"]["path"]
        .as_str()
        .is_some_and(|p| p.starts_with("/tv/Dark/")));
    let (_, body) = c
        .arr(
            &stack,
            Service::Sonarr,
            reqwest::Method::GET,
            "/api/v3/series",
            None,
        )
        .await;
    let series = json(&body);
    assert_eq!(series[0]["status"], "ended");
    assert_eq!(series[0]["seasons"][0]["statistics"]["episodeFileCount"], 3);
    let added = series[0]["added"].as_str().expect("date");
    assert!(!added.contains('.'), "*arr dates have no fraction: {added}");
}

#[tokio::test]
async fn sonarr_bulk_delete_and_monitor_behave_like_sonarr() {
    let stack = SimStack::start(world()).await.expect("start");
    let c = Client::new();
    let (dark_files, lost_files, dark_eps) = stack.with_world(|w| {
        (
            w.series[0].files.iter().map(|f| f.id).collect::<Vec<_>>(),
            w.series[1].files.iter().map(|f| f.id).collect::<Vec<_>>(),
            w.series[0]
                .episodes
                .iter()
                .map(|e| e.sonarr_id)
                .collect::<Vec<_>>(),
        )
    });

    let (status, _) = c
        .arr(
            &stack,
            Service::Sonarr,
            reqwest::Method::DELETE,
            "/api/v3/episodefile/bulk",
            Some(r#"{"episodeFileIds":[]}"#),
        )
        .await;
    assert_eq!(status, 500, "Sonarr throws on an empty list");

    let body = format!(r#"{{"episodeIds":[{}],"monitored":false}}"#, dark_eps[0]);
    let (status, reply) = c
        .arr(
            &stack,
            Service::Sonarr,
            reqwest::Method::PUT,
            "/api/v3/episode/monitor",
            Some(&body),
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(json(&reply)[0]["monitored"], false);
    assert_eq!(
        stack.with_world(|w| w.episode_monitored("Dark", 1, 1)),
        Some(false)
    );

    // Mixed series: Dark's file is deleted, Lost's is forgotten but left on disk.
    let body = format!(
        r#"{{"episodeFileIds":[{},{}]}}"#,
        dark_files[0], lost_files[0]
    );
    let (status, _) = c
        .arr(
            &stack,
            Service::Sonarr,
            reqwest::Method::DELETE,
            "/api/v3/episodefile/bulk",
            Some(&body),
        )
        .await;
    assert_eq!(status, 200);
    stack.with_world(|w| {
        assert!(!w.episode_file_exists("Dark", 1, 1));
        assert_eq!(w.left_on_disk.len(), 1);
        assert!(
            w.files.contains(&w.left_on_disk[0]),
            "the other series' file stays on disk"
        );
        assert_eq!(
            w.episode_monitored("Dark", 1, 2),
            Some(true),
            "deleting does not unmonitor"
        );
    });

    stack.with_world(|w| w.sonarr_root_folders[0].accessible = false);
    let body = format!(r#"{{"episodeFileIds":[{}]}}"#, dark_files[1]);
    let (status, _) = c
        .arr(
            &stack,
            Service::Sonarr,
            reqwest::Method::DELETE,
            "/api/v3/episodefile/bulk",
            Some(&body),
        )
        .await;
    assert_eq!(status, 409, "root folder missing");
    let (status, _) = c
        .arr(
            &stack,
            Service::Sonarr,
            reqwest::Method::DELETE,
            "/api/v3/episodefile/99999",
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn radarr_delete_removes_the_folder_and_refresh_forgets_it_in_jellyfin() {
    let stack = SimStack::start(world()).await.expect("start");
    let c = Client::new();
    let (id, path) = stack.with_world(|w| {
        let m = w.find_movie("The Matrix").expect("movie");
        (m.radarr_id, m.file.clone().expect("file").path)
    });
    let (status, body) = c
        .arr(
            &stack,
            Service::Radarr,
            reqwest::Method::GET,
            "/api/v3/movie",
            None,
        )
        .await;
    assert_eq!(status, 200);
    let movies = json(&body);
    assert!(movies[0]["movieFile"]["size"].as_u64().is_some());
    let (status, _) = c
        .arr(
            &stack,
            Service::Radarr,
            reqwest::Method::DELETE,
            &format!("/api/v3/movie/{id}?deleteFiles=true&addImportExclusion=false"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = c
        .arr(
            &stack,
            Service::Radarr,
            reqwest::Method::GET,
            &format!("/api/v3/movie/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    stack.idle().await;
    assert!(!stack.with_world(|w| w.files.contains(&path)));

    let (_, body) = c.jellyfin(&stack, "/Items?includeItemTypes=Movie").await;
    assert_eq!(
        json(&body)["TotalRecordCount"],
        2,
        "Jellyfin still lists it until a scan"
    );
    let refresh = reqwest::Client::new()
        .post(format!("{}/Library/Refresh", stack.jellyfin_url()))
        .header(
            "Authorization",
            format!("MediaBrowser Token=\"{JELLYFIN_KEY}\""),
        )
        .send()
        .await
        .expect("send");
    assert_eq!(refresh.status().as_u16(), 204);
    let (_, body) = c.jellyfin(&stack, "/Items?includeItemTypes=Movie").await;
    assert_eq!(json(&body)["TotalRecordCount"], 1);
}

#[tokio::test]
async fn faults_and_request_log() {
    let stack = SimStack::start(world()).await.expect("start");
    let c = Client::new();
    stack.fail_next(Service::Radarr, 503, 2);
    for expected in [503, 503, 200] {
        let (status, _) = c
            .arr(
                &stack,
                Service::Radarr,
                reqwest::Method::GET,
                "/api/v3/tag",
                None,
            )
            .await;
        assert_eq!(status, expected);
    }
    stack.garbage(Service::Radarr, true);
    let (status, body) = c
        .arr(
            &stack,
            Service::Radarr,
            reqwest::Method::GET,
            "/api/v3/tag",
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<Value>(&body).is_err());
    assert_eq!(stack.count(Service::Radarr), 4);
    assert!(stack.writes().is_empty());
    let (status, _) = c
        .arr(
            &stack,
            Service::Radarr,
            reqwest::Method::DELETE,
            "/api/v3/movie/424242",
            None,
        )
        .await;
    assert_eq!(status, 404);
    let writes = stack.writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].1.path, "/api/v3/movie/424242");
}

#[test]
fn synthetic_library_has_the_asked_sizes() {
    let w = World::synthetic(
        now(),
        SyntheticSpec {
            movies: 100,
            episodes: 1234,
            users: 2,
            watched_share: 0.4,
            seed: 7,
        },
    );
    assert_eq!(w.movies.len(), 100);
    assert_eq!(
        w.series.iter().map(|s| s.episodes.len()).sum::<usize>(),
        1234
    );
    let watched = w.movies.iter().filter(|m| !m.watch.is_empty()).count();
    assert!(
        (20..=60).contains(&watched),
        "about 40% watched, got {watched}"
    );
}

#[tokio::test]
async fn a_delete_whose_client_gave_up_still_happens() {
    let stack = SimStack::start(world()).await.expect("start");
    let (id, path) = stack.with_world(|w| {
        let m = w.find_movie("The Matrix").expect("movie");
        (m.radarr_id, m.file.clone().expect("file").path)
    });
    stack.delay_deletes(Duration::from_millis(400));
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(50))
        .build()
        .expect("client");
    let sent = impatient
        .delete(format!(
            "{}/api/v3/movie/{id}?deleteFiles=true",
            stack.radarr_url()
        ))
        .header("X-Api-Key", RADARR_KEY)
        .send()
        .await;
    assert!(
        sent.as_ref().is_err_and(reqwest::Error::is_timeout),
        "the client gives up first: {sent:?}"
    );
    assert!(
        stack.with_world(|w| w.find_movie("The Matrix").is_some_and(|m| m.in_radarr)),
        "not yet: the delete waits 400 ms"
    );
    stack.idle().await;
    stack.with_world(|w| {
        assert!(!w.find_movie("The Matrix").is_some_and(|m| m.in_radarr));
        assert!(!w.files.contains(&path), "its files went too");
    });
    let log = stack.requests(Service::Radarr);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].method, "DELETE");
}

/// The ids of Dark's files, Lost's files and Dark's episodes in [`world`].
fn sonarr_ids(stack: &SimStack) -> (Vec<i32>, Vec<i32>, Vec<i32>) {
    stack.with_world(|w| {
        let files = |i: usize| w.series[i].files.iter().map(|f| f.id).collect::<Vec<_>>();
        let episodes = w.series[0].episodes.iter().map(|e| e.sonarr_id).collect();
        (files(0), files(1), episodes)
    })
}

async fn sonarr(
    c: &Client,
    stack: &SimStack,
    method: reqwest::Method,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let (status, text) = c.arr(stack, Service::Sonarr, method, path, body).await;
    let value = if text.is_empty() {
        Value::Null
    } else {
        json(&text)
    };
    (status, value)
}

#[tokio::test]
async fn sonarr_reads_id_lists_through_get_ids() {
    let stack = SimStack::start(world()).await.expect("start");
    let c = Client::new();
    let (dark, lost, episodes) = sonarr_ids(&stack);
    let dark_id = stack.with_world(|w| w.series[0].sonarr_id);
    let get = reqwest::Method::GET;

    let path = format!(
        "/api/v3/episodefile?episodeFileIds={}&episodeFileIds={}",
        dark[0], lost[0]
    );
    let (status, files) = sonarr(&c, &stack, get.clone(), &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(files.as_array().map(Vec::len), Some(2));

    let path = format!(
        "/api/v3/episodefile?episodeFileIds={}&episodeFileIds=99999",
        dark[0]
    );
    let (status, body) = sonarr(&c, &stack, get.clone(), &path, None).await;
    assert_eq!(status, 500, "one unknown id: {body}");
    assert_eq!(
        body["message"],
        "Expected query to return 2 rows but returned 1"
    );
    let path = format!(
        "/api/v3/episodefile?episodeFileIds={}&episodeFileIds={}",
        dark[0], dark[0]
    );
    let (status, body) = sonarr(&c, &stack, get.clone(), &path, None).await;
    assert_eq!(status, 500, "a repeated id counts twice: {body}");
    assert_eq!(
        body["message"],
        "Expected query to return 2 rows but returned 1"
    );

    let path = format!("/api/v3/episodefile?seriesId={dark_id}&episodeFileIds=99999");
    let (status, files) = sonarr(&c, &stack, get.clone(), &path, None).await;
    assert_eq!(status, 200, "seriesId wins over the ids");
    assert_eq!(files.as_array().map(Vec::len), Some(dark.len()));
    let (status, body) = sonarr(
        &c,
        &stack,
        get.clone(),
        "/api/v3/episodefile?seriesId=99999",
        None,
    )
    .await;
    assert_eq!(status, 404, "GetSeries throws for an unknown series");
    assert_eq!(body["message"], "Series with ID 99999 does not exist");

    let path = format!("/api/v3/episodefile/{}", dark[1]);
    let (status, file) = sonarr(&c, &stack, get.clone(), &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(file["id"], dark[1]);
    assert_eq!(file["seriesId"], dark_id);
    assert!(file["path"]
        .as_str()
        .is_some_and(|p| p.starts_with("/tv/Dark/")));
    let (status, _) = sonarr(&c, &stack, get.clone(), "/api/v3/episodefile/99999", None).await;
    assert_eq!(status, 404);

    let path = format!("/api/v3/episode?episodeIds={},99999", episodes[0]);
    let (status, body) = sonarr(&c, &stack, get.clone(), &path, None).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(
        body["message"],
        "Expected query to return 2 rows but returned 1"
    );
    let path = format!("/api/v3/episode?episodeIds={}", episodes[1]);
    let (status, eps) = sonarr(&c, &stack, get.clone(), &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(eps[0]["id"], episodes[1]);
    let (status, eps) = sonarr(&c, &stack, get, "/api/v3/episode?seriesId=99999", None).await;
    assert_eq!((status, eps), (200, Value::Array(Vec::new())));
}

#[tokio::test]
async fn sonarr_bulk_delete_with_a_stale_id_deletes_nothing() {
    let stack = SimStack::start(world()).await.expect("start");
    let c = Client::new();
    let (dark, lost, _) = sonarr_ids(&stack);
    let files_before = stack.with_world(|w| w.files.clone());
    let delete = reqwest::Method::DELETE;
    for ids in [
        format!("{},99999", dark[0]),
        format!("99999,{}", dark[0]),
        format!("{},{}", dark[0], dark[0]),
    ] {
        let body = format!(r#"{{"episodeFileIds":[{ids}]}}"#);
        let (status, reply) = sonarr(
            &c,
            &stack,
            delete.clone(),
            "/api/v3/episodefile/bulk",
            Some(&body),
        )
        .await;
        assert_eq!(status, 500, "[{ids}]: {reply}");
        assert_eq!(
            reply["message"],
            "Expected query to return 2 rows but returned 1"
        );
    }
    stack.with_world(|w| {
        assert_eq!(w.files, files_before, "nothing deleted");
        assert_eq!(w.series[0].files.len(), dark.len(), "no row dropped");
        assert!(w.left_on_disk.is_empty());
    });

    // The series of the first row (the lowest id, as SQLite returns `Id IN (…)`) is used for
    // every file, whatever the order of the body.
    let body = format!(r#"{{"episodeFileIds":[{},{}]}}"#, lost[0], dark[0]);
    let (status, _) = sonarr(
        &c,
        &stack,
        delete.clone(),
        "/api/v3/episodefile/bulk",
        Some(&body),
    )
    .await;
    assert_eq!(status, 200);
    stack.with_world(|w| {
        assert!(!w.episode_file_exists("Dark", 1, 1), "Dark's file deleted");
        assert_eq!(w.left_on_disk.len(), 1, "Lost's row dropped, its file kept");
        assert!(w.files.contains(&w.left_on_disk[0]));
        assert!(w.series[1].files.iter().all(|f| f.id != lost[0]));
    });

    stack.with_world(|w| w.sonarr_root_folders[0].accessible = false);
    let body = format!(r#"{{"episodeFileIds":[{},{}]}}"#, dark[1], dark[2]);
    let (status, reply) = sonarr(&c, &stack, delete, "/api/v3/episodefile/bulk", Some(&body)).await;
    assert_eq!(status, 409, "{reply}");
    assert!(stack.with_world(|w| w.episode_file_exists("Dark", 1, 2)));
}

#[tokio::test]
async fn sonarr_monitor_one_unknown_id_is_404_several_update_then_500() {
    let stack = SimStack::start(world()).await.expect("start");
    let c = Client::new();
    let (_, _, episodes) = sonarr_ids(&stack);
    let put = reqwest::Method::PUT;
    let path = "/api/v3/episode/monitor";

    let (status, reply) = sonarr(
        &c,
        &stack,
        put.clone(),
        path,
        Some(r#"{"episodeIds":[99999],"monitored":false}"#),
    )
    .await;
    assert_eq!(status, 404, "{reply}");
    assert_eq!(reply["message"], "Episode with ID 99999 does not exist");

    let body = format!(
        r#"{{"episodeIds":[{},{},99999],"monitored":false}}"#,
        episodes[0], episodes[1]
    );
    let (status, reply) = sonarr(&c, &stack, put.clone(), path, Some(&body)).await;
    assert_eq!(status, 500, "{reply}");
    assert_eq!(
        reply["message"],
        "Expected query to return 3 rows but returned 2"
    );
    stack.with_world(|w| {
        assert_eq!(
            w.episode_monitored("Dark", 1, 1),
            Some(false),
            "updated first"
        );
        assert_eq!(w.episode_monitored("Dark", 1, 2), Some(false));
        assert_eq!(w.episode_monitored("Dark", 1, 3), Some(true));
    });

    let body = format!(
        r#"{{"episodeIds":[{},{}],"monitored":false}}"#,
        episodes[2], episodes[3]
    );
    let (status, reply) = sonarr(&c, &stack, put, path, Some(&body)).await;
    assert_eq!(status, 202);
    assert_eq!(reply.as_array().map(Vec::len), Some(2));
    assert!(reply[0]["monitored"] == false && reply[1]["monitored"] == false);
}

#[tokio::test]
async fn radarr_drops_the_movie_at_once_and_its_files_a_moment_later() {
    let stack = SimStack::start(world()).await.expect("start");
    let c = Client::new();
    let (id, path) = stack.with_world(|w| {
        let m = w.find_movie("The Matrix").expect("movie");
        (m.radarr_id, m.file.clone().expect("file").path)
    });
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = events.clone();
    stack.on_delete(move |event, world| {
        // Emitted when the record goes: the files are still on disk.
        let on_disk = event.removed.iter().all(|f| world.files.contains(f));
        if let Ok(mut seen) = seen.lock() {
            seen.push((event.clone(), on_disk));
        }
    });
    stack.movie_file_lag(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let (status, _) = c
        .arr(
            &stack,
            Service::Radarr,
            reqwest::Method::DELETE,
            &format!("/api/v3/movie/{id}?deleteFiles=true"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = c
        .arr(
            &stack,
            Service::Radarr,
            reqwest::Method::GET,
            &format!("/api/v3/movie/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 404, "the record is gone at once");
    assert!(
        stack.with_world(|w| w.files.contains(&path)),
        "the file is still there right after the answer"
    );
    {
        let events = events.lock().expect("events");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].0.removed, vec![path.clone()]);
        assert!(events[0].1, "the hook runs before the files go");
    }
    stack.idle().await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(
        !stack.with_world(|w| w.files.contains(&path)),
        "gone after the lag"
    );

    // With no lag the files go before the answer.
    stack.movie_file_lag(Duration::ZERO);
    let (id, path) = stack.with_world(|w| {
        let m = w.find_movie("Heat").expect("movie");
        (m.radarr_id, m.file.clone().expect("file").path)
    });
    let (status, _) = c
        .arr(
            &stack,
            Service::Radarr,
            reqwest::Method::DELETE,
            &format!("/api/v3/movie/{id}?deleteFiles=true"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(!stack.with_world(|w| w.files.contains(&path)));
}

/// Sends a GET with `timeout`; the time to the answer's headers, or `None` when it timed out.
async fn time_to_headers(
    stack: &SimStack,
    service: Service,
    path: &str,
    timeout: Duration,
) -> Option<Duration> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("client");
    let mut request = client.get(format!("{}{path}", stack.url(service)));
    request = match service {
        Service::Jellyfin => request.header(
            "Authorization",
            format!("MediaBrowser Token=\"{JELLYFIN_KEY}\""),
        ),
        Service::Radarr => request.header("X-Api-Key", RADARR_KEY),
        Service::Sonarr => request.header("X-Api-Key", SONARR_KEY),
        Service::Seerr => request.header("X-Api-Key", SEERR_KEY),
    };
    let started = std::time::Instant::now();
    match request.send().await {
        Ok(response) => {
            assert_eq!(response.status().as_u16(), 200, "{path}");
            Some(started.elapsed())
        }
        Err(err) if err.is_timeout() => None,
        Err(err) => panic!("{path}: {err}"),
    }
}

#[tokio::test]
async fn slow_paths_hold_back_the_first_byte() {
    let stack = SimStack::start(world()).await.expect("start");
    let calendar = "/api/v3/calendar?start=2020-01-01&end=2030-01-01";
    let short = Duration::from_millis(400);
    let long = Duration::from_secs(5);
    let delay = Duration::from_millis(1000);
    assert!(time_to_headers(&stack, Service::Sonarr, calendar, short)
        .await
        .is_some());

    stack.slow_path(Service::Sonarr, "/api/v3/calendar", delay);
    stack.slow_path(Service::Jellyfin, "/Items", delay);
    assert_eq!(
        time_to_headers(&stack, Service::Sonarr, calendar, short).await,
        None,
        "no status line before the delay"
    );
    let took = time_to_headers(&stack, Service::Sonarr, calendar, long)
        .await
        .expect("answer");
    assert!(took >= delay, "{took:?}");
    // Jellyfin's routes ignore case, and so does its slow path.
    let took = time_to_headers(&stack, Service::Jellyfin, "/items?recursive=true", long)
        .await
        .expect("answer");
    assert!(took >= delay, "{took:?}");

    // Other paths are quick, even while a slow answer is being held back: the wait holds no lock.
    let slow = tokio::spawn({
        let url = format!("{}{calendar}", stack.sonarr_url());
        async move {
            reqwest::Client::new()
                .get(url)
                .header("X-Api-Key", SONARR_KEY)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        time_to_headers(&stack, Service::Sonarr, "/api/v3/series", short)
            .await
            .is_some()
    );
    assert!(time_to_headers(&stack, Service::Jellyfin, "/Users", short)
        .await
        .is_some());
    assert_eq!(slow.await.expect("join").expect("slow answer"), 200);

    stack.slow_path(Service::Sonarr, "/api/v3/calendar", Duration::ZERO);
    assert!(time_to_headers(&stack, Service::Sonarr, calendar, short)
        .await
        .is_some());
    assert!(
        time_to_headers(&stack, Service::Jellyfin, "/Items", short)
            .await
            .is_none(),
        "still slow"
    );
}

#[tokio::test]
async fn rewrite_changes_the_body_that_is_sent_and_counted() {
    let stack = SimStack::start(world()).await.expect("start");
    let c = Client::new();
    let alice = stack.with_world(|w| w.users[0].id.clone());
    stack.rewrite(Service::Jellyfin, |recorded, body| {
        if !recorded.path.eq_ignore_ascii_case("/Items") {
            return body;
        }
        // A LastPlayedDate without an offset, as some servers' databases hold them.
        let Some(at) = body.find("\"LastPlayedDate\":\"") else {
            return body;
        };
        let value = at + "\"LastPlayedDate\":\"".len();
        let end = body[value..].find('"').map_or(body.len(), |e| value + e);
        format!("{}2025-11-01T10:00:00{}", &body[..value], &body[end..])
    });
    let path = format!("/Items?userId={alice}&includeItemTypes=Movie&isPlayed=true");
    let (status, body) = c.jellyfin(&stack, &path).await;
    assert_eq!(status, 200);
    let page = json(&body);
    assert_eq!(
        page["Items"][0]["UserData"]["LastPlayedDate"],
        "2025-11-01T10:00:00"
    );
    let log = stack.requests(Service::Jellyfin);
    assert_eq!(log.last().map(|r| r.response_bytes), Some(body.len()));

    // Other services are left alone.
    let (status, body) = c
        .arr(
            &stack,
            Service::Radarr,
            reqwest::Method::GET,
            "/api/v3/tag",
            None,
        )
        .await;
    assert_eq!(
        (status, json(&body)[0]["label"].as_str()),
        (200, Some("keep"))
    );
}

#[tokio::test]
async fn on_request_changes_the_world_after_each_answer() {
    let stack = SimStack::start(world()).await.expect("start");
    let c = Client::new();
    stack.on_request(|recorded, world| {
        // After the first page, Jellyfin forgets The Matrix.
        if recorded.path == "/Items" && recorded.query.contains("startIndex=0") {
            assert!(
                recorded.response_bytes > 0,
                "called once the answer is built"
            );
            for m in &mut world.movies {
                if m.title == "The Matrix" {
                    m.in_jellyfin = false;
                }
            }
        }
    });
    let (_, body) = c
        .jellyfin(&stack, "/Items?includeItemTypes=Movie&startIndex=0&limit=1")
        .await;
    assert_eq!(
        json(&body)["TotalRecordCount"],
        2,
        "answered before the hook"
    );
    let (_, body) = c
        .jellyfin(&stack, "/Items?includeItemTypes=Movie&startIndex=1&limit=1")
        .await;
    let page = json(&body);
    assert_eq!(
        page["TotalRecordCount"], 1,
        "the next request sees the change"
    );
    assert_eq!(page["Items"].as_array().map(Vec::len), Some(0));
}

fn movies_world() -> World {
    let mut w = World::new(now()).user("alice");
    for (title, year) in [
        ("The Matrix", 1999),
        ("Heat", 1995),
        ("Alien", 1979),
        ("Ted", 2012),
        ("Arrival", 2016),
        ("Amélie", 2001),
    ] {
        w = w.movie(MovieSpec::new(title, year).favorite("alice"));
    }
    w.series(SeriesSpec::new("Dark", true).season(1, 3).season(2, 2))
        .series(SeriesSpec::new("Lost", true).season(1, 2))
}

async fn names(c: &Client, stack: &SimStack, query: &str) -> Vec<String> {
    let (status, body) = c.jellyfin(stack, &format!("/Items?{query}")).await;
    assert_eq!(status, 200, "{query}: {body}");
    json(&body)["Items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            let name = i["Name"].as_str().unwrap_or("");
            match i["SeriesName"].as_str() {
                Some(series) => format!("{series} {}x{}", i["ParentIndexNumber"], i["IndexNumber"]),
                None => name.to_string(),
            }
        })
        .collect()
}

#[tokio::test]
async fn jellyfin_items_are_sorted_like_apply_order() {
    let stack = SimStack::start(movies_world()).await.expect("start");
    let c = Client::new();
    let movies = "includeItemTypes=Movie&recursive=true";
    let by_sort_name = ["Alien", "Amélie", "Arrival", "Heat", "The Matrix", "Ted"];
    assert_eq!(
        names(&c, &stack, movies).await,
        by_sort_name,
        "no sortBy: SortName (articles dropped, diacritics folded)"
    );
    assert_eq!(
        names(&c, &stack, &format!("{movies}&sortBy=Nonsense")).await,
        by_sort_name,
        "an unknown sort is dropped"
    );
    assert_eq!(
        names(
            &c,
            &stack,
            &format!("{movies}&sortBy=SortName&sortOrder=Descending")
        )
        .await,
        by_sort_name.iter().rev().copied().collect::<Vec<_>>()
    );
    assert_eq!(
        names(&c, &stack, &format!("{movies}&sortBy=Name")).await,
        ["Alien", "Amélie", "Arrival", "Heat", "Ted", "The Matrix"],
        "Name sorts by the clean name, articles kept"
    );
    assert_eq!(
        names(
            &c,
            &stack,
            &format!("{movies}&sortBy=ProductionYear,SortName")
        )
        .await,
        ["Alien", "Heat", "The Matrix", "Amélie", "Ted", "Arrival"]
    );
    let created = ["The Matrix", "Heat", "Alien", "Ted", "Arrival", "Amélie"];
    assert_eq!(
        names(&c, &stack, &format!("{movies}&sortBy=DateCreated")).await,
        created
    );
    assert_eq!(
        names(
            &c,
            &stack,
            &format!("{movies}&sortBy=DateCreated&sortOrder=Descending")
        )
        .await,
        created.iter().rev().copied().collect::<Vec<_>>()
    );
    assert_eq!(
        names(&c, &stack, &format!("{movies}&sortBy=Random")).await,
        by_sort_name,
        "a sort the simulator ignores leaves SortName as the tie-breaker"
    );

    // An episode's SortName is "season - episode - name": series interleave.
    assert_eq!(
        names(&c, &stack, "includeItemTypes=Episode&recursive=true").await,
        ["Dark 1x1", "Lost 1x1", "Dark 1x2", "Lost 1x2", "Dark 1x3", "Dark 2x1", "Dark 2x2"]
    );

    let (status, _) = c
        .jellyfin(
            &stack,
            &format!("/Items?{movies}&sortBy=Name&sortOrder=Ascending,Descending"),
        )
        .await;
    assert_eq!(status, 500, "GetOrderBy indexes past the sorts");

    // The order follows the world as it is now: a renamed movie moves, one added later comes
    // last by DateCreated.
    stack.with_world(|w| {
        if let Some(m) = w.movies.iter_mut().find(|m| m.title == "Heat") {
            m.title = "Zulu".to_string();
        }
        *w = w.clone().movie(MovieSpec::new("Blade Runner", 1982));
    });
    assert_eq!(
        names(&c, &stack, movies).await,
        [
            "Alien",
            "Amélie",
            "Arrival",
            "Blade Runner",
            "The Matrix",
            "Ted",
            "Zulu"
        ]
    );
    let by_date = names(&c, &stack, &format!("{movies}&sortBy=DateCreated")).await;
    assert_eq!(by_date.last().map(String::as_str), Some("Blade Runner"));
}

#[tokio::test]
async fn jellyfin_offset_paging_shifts_when_an_earlier_item_leaves() {
    let stack = SimStack::start(movies_world()).await.expect("start");
    let c = Client::new();
    let alice = stack.with_world(|w| w.users[0].id.clone());
    // After the first page, alice un-favourites the first movie of it.
    stack.on_request(|recorded, world| {
        if recorded.path == "/Items" && recorded.query.contains("startIndex=0&") {
            for m in &mut world.movies {
                if m.title == "Alien" {
                    m.watch.entry("alice".to_string()).or_default().favorite = false;
                }
            }
        }
    });
    let page = |start: usize| {
        format!(
            "/Items?userId={alice}&includeItemTypes=Movie&isFavorite=true&sortBy=SortName\
             &startIndex={start}&limit=2"
        )
    };
    let mut seen = Vec::new();
    let mut totals = Vec::new();
    for start in [0, 2, 4] {
        let (status, body) = c.jellyfin(&stack, &page(start)).await;
        assert_eq!(status, 200);
        let body = json(&body);
        totals.push(body["TotalRecordCount"].as_u64().unwrap_or(0));
        for item in body["Items"].as_array().into_iter().flatten() {
            seen.push(item["Name"].as_str().unwrap_or("").to_string());
        }
    }
    assert_eq!(totals, [6, 5, 5], "the total is counted at each request");
    assert_eq!(
        seen,
        ["Alien", "Amélie", "Heat", "The Matrix", "Ted"],
        "Arrival moved up onto the first page, which was already read: it is skipped"
    );
}

#[tokio::test]
async fn jellyfin_media_sources_carry_media_streams_and_weigh_kilobytes() {
    let stack = SimStack::start(world()).await.expect("start");
    let c = Client::new();
    let matrix = stack.with_world(|w| {
        w.find_movie("The Matrix")
            .map(|m| m.jellyfin_id.clone())
            .unwrap_or_default()
    });
    let (_, body) = c
        .jellyfin(
            &stack,
            &format!("/Items?ids={matrix}&fields=Path,ProviderIds"),
        )
        .await;
    let page = json(&body);
    let item = &page["Items"][0];
    assert!(item.get("MediaSources").is_none(), "not asked for");
    let small = item.to_string().len();
    assert!(small < 1000, "{small} bytes: {item}");

    let (_, body) = c
        .jellyfin(
            &stack,
            &format!("/Items?ids={matrix}&fields=Path,ProviderIds,MediaSources"),
        )
        .await;
    let page = json(&body);
    let item = &page["Items"][0];
    let big = item.to_string().len();
    assert!(big > 4000, "several kB an item, as on a real server: {big}");
    let source = &item["MediaSources"][0];
    for key in [
        "Protocol",
        "Id",
        "Path",
        "Type",
        "Container",
        "Size",
        "Name",
        "ETag",
        "RunTimeTicks",
        "SupportsDirectPlay",
        "SupportsDirectStream",
        "SupportsTranscoding",
        "VideoType",
        "MediaAttachments",
        "Formats",
        "Bitrate",
        "RequiredHttpHeaders",
        "DefaultAudioStreamIndex",
    ] {
        assert!(source.get(key).is_some(), "MediaSourceInfo.{key}");
    }
    assert_eq!(source["Size"], 8_000_000_000_u64);
    let streams = source["MediaStreams"].as_array().expect("MediaStreams");
    let kinds: Vec<&str> = streams.iter().filter_map(|s| s["Type"].as_str()).collect();
    assert_eq!(
        kinds,
        ["Video", "Audio", "Audio", "Subtitle", "Subtitle", "Subtitle"]
    );
    let indices: Vec<u64> = streams.iter().filter_map(|s| s["Index"].as_u64()).collect();
    assert_eq!(indices, [0, 1, 2, 3, 4, 5]);
    let video = &streams[0];
    for key in [
        "Codec",
        "DisplayTitle",
        "BitRate",
        "Width",
        "Height",
        "AverageFrameRate",
        "Profile",
        "Level",
        "PixelFormat",
        "ColorSpace",
        "VideoRange",
        "IsDefault",
        "IsForced",
        "IsExternal",
        "IsTextSubtitleStream",
        "SupportsExternalStream",
    ] {
        assert!(video.get(key).is_some(), "video {key}");
    }
    assert!(video.get("Language").is_none(), "nulls are left out");
    for audio in &streams[1..3] {
        for key in [
            "Language",
            "Title",
            "Channels",
            "ChannelLayout",
            "SampleRate",
            "BitRate",
        ] {
            assert!(audio.get(key).is_some(), "audio {key}");
        }
        assert!(audio.get("Width").is_none());
    }
    for subtitle in &streams[3..] {
        assert_eq!(subtitle["IsTextSubtitleStream"], true);
        assert!(subtitle["Language"].is_string() && subtitle["DisplayTitle"].is_string());
    }
    assert_eq!(streams.iter().filter(|s| s["IsForced"] == true).count(), 1);
}

#[tokio::test]
async fn jellyfin_items_can_have_their_path_only_in_media_sources() {
    let world = World::new(now())
        .user("alice")
        .movie(MovieSpec::new("Heat", 1995).path_only_in_media_sources())
        .movie(MovieSpec::new("Alien", 1979))
        .series(
            SeriesSpec::new("Dark", true)
                .season(1, 3)
                .path_only_in_media_sources(1, 2),
        );
    let stack = SimStack::start(world).await.expect("start");
    let c = Client::new();
    let (heat, heat_path, episode, episode_path, alien) = stack.with_world(|w| {
        let heat = w.find_movie("Heat").expect("heat");
        let dark = w.find_series("Dark").expect("dark");
        let e = &dark.episodes[1];
        let file = dark.files.iter().find(|f| f.id == e.file_id).expect("file");
        (
            heat.jellyfin_id.clone(),
            heat.file.clone().expect("file").path,
            e.jellyfin_id.clone(),
            file.path.clone(),
            w.find_movie("Alien").expect("alien").jellyfin_id.clone(),
        )
    });
    // One id as a dashed GUID, as clients often send them.
    let dashed = format!(
        "{}-{}-{}-{}-{}",
        &episode[..8],
        &episode[8..12],
        &episode[12..16],
        &episode[16..20],
        &episode[20..]
    );
    let (status, body) = c
        .jellyfin(
            &stack,
            &format!("/Items?ids={heat},{dashed},{alien}&fields=Path,MediaSources"),
        )
        .await;
    assert_eq!(status, 200);
    let page = json(&body);
    assert_eq!(page["TotalRecordCount"], 3);
    let items = page["Items"].as_array().expect("items");
    let by_id = |id: &str| {
        items
            .iter()
            .find(|i| i["Id"] == id)
            .unwrap_or_else(|| panic!("{id} served: {body}"))
    };
    for (id, path) in [(&heat, &heat_path), (&episode, &episode_path)] {
        let item = by_id(id);
        assert!(item.get("Path").is_none(), "no Path on the item: {item}");
        assert_eq!(item["MediaSources"][0]["Path"], path.as_str());
    }
    assert!(by_id(&alien)["Path"].is_string(), "others keep their Path");
}

#[tokio::test]
async fn shutdown_answers_what_came_in_then_closes_the_ports() {
    let mut stack = SimStack::start(world()).await.expect("start");
    let c = Client::new();
    // An idle keep-alive connection does not hold the shutdown up.
    let (status, _) = c.jellyfin(&stack, "/Users").await;
    assert_eq!(status, 200);
    stack.slow_path(Service::Sonarr, "/api/v3/tag", Duration::from_millis(300));
    let sonarr = stack.sonarr_url().to_string();
    let started = std::time::Instant::now();
    let slow = tokio::spawn(async move {
        reqwest::Client::new()
            .get(format!("{sonarr}/api/v3/tag"))
            .header("X-Api-Key", SONARR_KEY)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    while stack.count(Service::Sonarr) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let addrs: Vec<String> = [Service::Jellyfin, Service::Radarr, Service::Sonarr]
        .into_iter()
        .map(|s| stack.url(s).trim_start_matches("http://").to_string())
        .collect();
    tokio::time::timeout(Duration::from_secs(10), stack.shutdown())
        .await
        .expect("the servers stop");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the shutdown waited for the slow answer"
    );
    assert_eq!(slow.await.expect("task").expect("answered"), 200);
    for addr in &addrs {
        let connect = tokio::net::TcpStream::connect(addr.as_str()).await;
        assert!(connect.is_err(), "{addr} still accepts connections");
    }
    stack.shutdown().await;
    assert_eq!(stack.with_world(|w| w.movies.len()), 2, "the world stays");
}

#[tokio::test]
async fn files_on_disk_are_written_whole_and_deleted_with_their_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut world = World::new(now())
        .user("alice")
        .movie(MovieSpec::new("Heat", 1995).size_gb(0.002))
        .series(
            SeriesSpec::new("Dark", true)
                .season(1, 2)
                .episode_size_mb(1),
        );
    world.on_disk(dir.path()).expect("files written");
    let movie = world.find_movie("Heat").expect("movie").clone();
    let movie_file = world
        .disk_path(&movie.file.as_ref().expect("file").path)
        .expect("on disk");
    assert_eq!(
        std::fs::metadata(&movie_file).expect("written").len(),
        2_000_000
    );
    let dark = world.find_series("Dark").expect("series").clone();
    let episode_files: Vec<_> = dark
        .files
        .iter()
        .map(|f| world.disk_path(&f.path).expect("on disk"))
        .collect();
    assert!(episode_files.iter().all(|f| f.exists()));

    let stack = SimStack::start(world).await.expect("stack");
    stack.movie_file_lag(Duration::ZERO);
    let c = Client::new();
    let (status, _) = c
        .arr(
            &stack,
            Service::Radarr,
            reqwest::Method::DELETE,
            &format!("/api/v3/movie/{}?deleteFiles=true", movie.radarr_id),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(!movie_file.exists(), "the movie's file left the disk");
    let ids: Vec<i32> = dark.files.iter().map(|f| f.id).collect();
    let body = serde_json::json!({ "episodeFileIds": ids }).to_string();
    let (status, _) = c
        .arr(
            &stack,
            Service::Sonarr,
            reqwest::Method::DELETE,
            "/api/v3/episodefile/bulk",
            Some(&body),
        )
        .await;
    assert_eq!(status, 200);
    assert!(episode_files.iter().all(|f| !f.exists()));
}

#[tokio::test]
async fn file_records_carry_quality_and_media_info_like_the_arrs() {
    let world = World::new(now())
        .movie(
            MovieSpec::new("Dune", 2021)
                .media(FileMedia::new("Remux-2160p", 2160).audio("TrueHD Atmos", 7.1)),
        )
        .movie(MovieSpec::new("Heat", 1995).no_media())
        .series(
            SeriesSpec::new("Dark", true)
                .season(1, 1)
                .media(FileMedia::new("Bluray-2160p Remux", 2160).audio("DTS-HD MA", 5.1)),
        )
        .series(SeriesSpec::new("Lost", true).season(1, 1));
    let stack = SimStack::start(world).await.expect("start");
    let c = Client::new();
    let get = |service, path: String| {
        let (c, stack) = (&c, &stack);
        async move {
            let (status, body) = c
                .arr(stack, service, reqwest::Method::GET, &path, None)
                .await;
            assert_eq!(status, 200, "{path}: {body}");
            json(&body)
        }
    };
    let movies = get(Service::Radarr, "/api/v3/movie".into()).await;
    let dune = &movies[0]["movieFile"];
    assert_eq!(
        dune["quality"],
        serde_json::json!({"quality": {"id": 21, "name": "Remux-2160p", "source": "bluray",
            "resolution": 2160, "modifier": "remux"},
            "revision": {"version": 1, "real": 0, "isRepack": false}})
    );
    assert_eq!(dune["mediaInfo"]["audioCodec"], "TrueHD Atmos");
    assert_eq!(dune["mediaInfo"]["audioChannels"], 7.1);
    assert_eq!(dune["mediaInfo"]["resolution"], "3840x2160");
    let heat = &movies[1]["movieFile"];
    assert!(heat.get("quality").is_none() && heat.get("mediaInfo").is_none());

    let (dark, lost) = stack.with_world(|w| (w.series[0].sonarr_id, w.series[1].sonarr_id));
    let files = get(
        Service::Sonarr,
        format!("/api/v3/episodefile?seriesId={dark}"),
    )
    .await;
    assert_eq!(
        files[0]["quality"]["quality"],
        serde_json::json!({"id": 21, "name": "Bluray-2160p Remux", "source": "blurayRaw",
            "resolution": 2160}),
        "Sonarr's quality has no modifier"
    );
    assert_eq!(files[0]["mediaInfo"]["audioCodec"], "DTS-HD MA");
    let episodes = get(
        Service::Sonarr,
        format!("/api/v3/episode?seriesId={lost}&includeEpisodeFile=true"),
    )
    .await;
    let file = &episodes[0]["episodeFile"];
    assert_eq!(file["quality"]["quality"]["name"], "WEBDL-1080p");
    assert_eq!(file["mediaInfo"]["audioCodec"], "EAC3");
    assert_eq!(file["mediaInfo"]["audioChannels"], 5.1);
    // Every field of MediaInfoResource but its id.
    let keys: Vec<&str> = file["mediaInfo"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 15, "{keys:?}");
}
