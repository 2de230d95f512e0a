//! The Sonarr client against a scripted server.

use super::*;
use crate::clients::http::{Http, HttpSettings};
use crate::clients::test_server::{start, Reply};

fn client(url: &str) -> SonarrClient {
    SonarrClient::new(&Http::new().unwrap(), url, "k", HttpSettings::default()).unwrap()
}

const EPISODES_V3_APP: &str = r#"[
    {"id":1,"seriesId":5,"seasonNumber":1,"episodeNumber":1,"episodeFileId":0,"hasFile":false},
    {"id":2,"seriesId":5,"seasonNumber":1,"episodeNumber":2,"episodeFileId":50,"hasFile":true},
    {"id":3,"seriesId":5,"seasonNumber":1,"episodeNumber":3,"episodeFileId":50,"hasFile":true}]"#;

#[tokio::test]
async fn episodes_fall_back_to_episodefile_when_files_are_not_embedded() {
    let srv = start(|s, _| match s.path.as_str() {
        "/api/v3/episode" => Reply::json(EPISODES_V3_APP),
        "/api/v3/episodefile" => Reply::json(
            r#"[{"id":50,"seriesId":5,"seasonNumber":1,"path":"/tv/S/e2-e3.mkv","size":900,"language":{"id":1}}]"#,
        ),
        _ => Reply::status(404),
    })
    .await;
    let eps = client(&srv.url).episodes(5).await.unwrap().episodes;
    assert!(eps[0].episode_file.is_none());
    for e in &eps[1..] {
        let f = e.episode_file.as_ref().unwrap();
        assert_eq!(
            (f.id, f.path.as_deref(), f.size),
            (50, Some("/tv/S/e2-e3.mkv"), Some(900))
        );
    }
    let seen = srv.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].param("seriesId").as_deref(), Some("5"));
    assert_eq!(seen[0].param("includeEpisodeFile").as_deref(), Some("true"));
    assert_eq!(seen[1].path, "/api/v3/episodefile");
    assert_eq!(seen[1].param("seriesId").as_deref(), Some("5"));
}

#[tokio::test]
async fn an_episode_file_brings_its_quality_and_media_info_embedded_or_not() {
    // As in Sonarr's EpisodeFileResource (its Quality has no modifier).
    const FILE: &str = r#"{"id":50,"seriesId":5,"seasonNumber":1,"path":"/tv/S/e2.mkv","size":9,
        "quality":{"quality":{"id":4,"name":"HDTV-720p","source":"television","resolution":720},
        "revision":{"version":1,"real":0,"isRepack":false}},
        "mediaInfo":{"audioBitrate":384000,"audioChannels":5.1,"audioCodec":"AC3",
        "audioLanguages":"English","videoCodec":"x264","resolution":"1280x720"}}"#;
    let srv = start(|s, _| match s.path.as_str() {
        "/api/v3/episode" if s.param("seriesId").as_deref() == Some("5") => Reply::json(format!(
            r#"[{{"id":2,"seriesId":5,"seasonNumber":1,"episodeNumber":2,"episodeFileId":50,
                 "episodeFile":{FILE}}}]"#
        )),
        "/api/v3/episode" => Reply::json(
            r#"[{"id":3,"seriesId":6,"seasonNumber":1,"episodeNumber":1,"episodeFileId":60}]"#,
        ),
        "/api/v3/episodefile" => Reply::json(
            r#"[{"id":60,"seriesId":6,"seasonNumber":1,"path":"/tv/T/e1.mkv","size":1,
                 "quality":{"quality":{"name":"Bluray-2160p Remux","resolution":2160}},
                 "mediaInfo":{"audioChannels":7.1,"audioCodec":"DTS-HD MA"}}]"#,
        ),
        _ => Reply::status(404),
    })
    .await;
    let c = client(&srv.url);
    let embedded = c.episodes(5).await.unwrap().episodes;
    let f = embedded[0].episode_file.as_ref().unwrap();
    let q = f.quality.as_ref().and_then(|q| q.quality.as_ref()).unwrap();
    assert_eq!(
        (q.name.as_deref(), q.resolution),
        (Some("HDTV-720p"), Some(720))
    );
    let m = f.media_info.as_ref().unwrap();
    assert_eq!(
        (m.audio_codec.as_deref(), m.audio_channels),
        (Some("AC3"), Some(5.1))
    );
    let joined = c.episodes(6).await.unwrap().episodes;
    let f = joined[0].episode_file.as_ref().unwrap();
    let m = f.media_info.as_ref().unwrap();
    assert_eq!(
        (m.audio_codec.as_deref(), m.audio_channels),
        (Some("DTS-HD MA"), Some(7.1))
    );
}

#[tokio::test]
async fn embedded_files_need_no_second_request() {
    let srv = start(|_, _| {
        Reply::json(
            r#"[{"id":2,"seriesId":5,"seasonNumber":1,"episodeNumber":2,"episodeFileId":50,
                 "episodeFile":{"id":50,"path":"/tv/S/e2.mkv","size":9,"dateAdded":"2017-01-16T21:09:06.070997Z"}},
                {"id":1,"seriesId":5,"seasonNumber":1,"episodeNumber":1,"episodeFileId":0}]"#,
        )
    })
    .await;
    let eps = client(&srv.url).episodes(5).await.unwrap().episodes;
    assert_eq!(eps[0].episode_file.as_ref().unwrap().id, 50);
    assert_eq!(srv.count(), 1);
}

#[tokio::test]
async fn empty_bulk_delete_makes_no_request() {
    let srv = start(|_, _| Reply::status(500)).await;
    let c = client(&srv.url);
    let err = c.delete_episode_files(&[]).await.unwrap_err();
    assert!(matches!(err, ApiError::NotSent { .. }), "{err:?}");
    assert!(err.to_string().contains("DELETE /api/v3/episodefile/bulk"));
    c.set_episodes_monitored(&[], false).await.unwrap();
    assert_eq!(srv.count(), 0);
}

#[tokio::test]
async fn unmonitor_then_bulk_delete_send_the_documented_bodies() {
    let srv = start(|s, _| match s.path.as_str() {
        "/api/v3/episode/monitor" => Reply::status(202).body("[]"),
        _ => Reply::json("{}"),
    })
    .await;
    let c = client(&srv.url);
    c.set_episodes_monitored(&[2, 3], false).await.unwrap();
    c.delete_episode_files(&[50, 51]).await.unwrap();
    c.delete_episode_file(52).await.unwrap();
    let seen = srv.seen();
    assert_eq!(seen[0].method, reqwest::Method::PUT);
    assert_eq!(
        seen[0].json(),
        serde_json::json!({"episodeIds":[2,3],"monitored":false})
    );
    assert_eq!(seen[0].headers["content-type"], "application/json");
    assert_eq!(seen[1].method, reqwest::Method::DELETE);
    assert_eq!(seen[1].path, "/api/v3/episodefile/bulk");
    assert_eq!(
        seen[1].json(),
        serde_json::json!({"episodeFileIds":[50,51]})
    );
    assert_eq!(seen[2].path, "/api/v3/episodefile/52");
}

#[tokio::test]
async fn what_exists_is_asked_per_file_or_per_series_never_by_a_list_of_ids() {
    let srv = start(|s, _| match (s.path.as_str(), s.param("seriesId").as_deref()) {
        ("/api/v3/episodefile/7", _) => Reply::json(r#"{"id":7,"seriesId":5}"#),
        ("/api/v3/episodefile", Some("5")) => Reply::json(r#"[{"id":7,"seriesId":5}]"#),
        ("/api/v3/episode", Some("5")) => Reply::json(
            r#"[{"id":1,"seriesId":5,"episodeFileId":7},{"id":2,"seriesId":5,"episodeFileId":0}]"#,
        ),
        ("/api/v3/episode", Some(_)) => Reply::json("[]"),
        _ => Reply::status(404).body(r#"{"message":"NotFound"}"#),
    })
    .await;
    let c = client(&srv.url);
    assert_eq!(c.episode_file(7).await.unwrap().map(|f| f.id), Some(7));
    assert_eq!(c.episode_file(8).await.unwrap(), None);
    let files = c.episode_files_of_series(5).await.unwrap().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(c.episode_files_of_series(6).await.unwrap(), None);
    let now = c.file_of_each_episode(5).await.unwrap();
    assert_eq!(now, HashMap::from([(1, 7), (2, 0)]));
    assert!(c.file_of_each_episode(6).await.unwrap().is_empty());
    assert!(srv
        .seen()
        .iter()
        .all(|s| s.param("episodeFileIds").is_none()));
}

#[tokio::test]
async fn series_parse_with_omitted_fields() {
    let srv = start(|_, _| {
        Reply::json(
            r#"[{"id":1,"title":"BB","status":"continuing","tvdbId":81189,"path":"/tv/BB","tags":[1],
                 "seasons":[{"seasonNumber":0,"monitored":false},{"seasonNumber":1,"monitored":true,"statistics":{}}]},
                {"id":2}]"#,
        )
    })
    .await;
    let series = client(&srv.url).series().await.unwrap();
    assert_eq!(series[0].tvdb_id, Some(81189));
    assert_eq!(series[0].seasons.len(), 2);
    assert_eq!(series[1].status, None);
    assert!(series[1].seasons.is_empty());
}

#[test]
fn an_episode_wants_a_file_once_aired_while_monitored_and_without_one() {
    let now: jiff::Timestamp = "2026-12-01T12:00:00Z".parse().unwrap();
    let episode = |aired: Option<&str>, monitored: bool, file_id: i32| Episode {
        id: 1,
        series_id: 5,
        season_number: 1,
        episode_number: 1,
        episode_file_id: file_id,
        monitored,
        air_date_utc: aired.map(str::to_owned),
        episode_file: None,
    };
    let aired = Some("2026-11-30T20:00:00Z");
    assert!(wants_file(&episode(aired, true, 0), now));
    assert!(!wants_file(&episode(aired, false, 0), now), "unmonitored");
    assert!(!wants_file(&episode(aired, true, 7), now), "has a file");
    let later = Some("2026-12-01T20:00:00Z");
    assert!(!wants_file(&episode(later, true, 0), now), "not aired yet");
    assert!(!wants_file(&episode(None, true, 0), now), "no air date");
    assert!(
        !wants_file(&episode(Some("soon"), true, 0), now),
        "odd date"
    );
}
