//! The Radarr client against a scripted server.

use super::*;
use crate::clients::http::{Http, HttpSettings};
use crate::clients::test_server::{start, Reply};

fn client(url: &str) -> RadarrClient {
    RadarrClient::new(&Http::new().unwrap(), url, "k", HttpSettings::default()).unwrap()
}

#[tokio::test]
async fn movies_with_and_without_file_and_unknown_fields() {
    let srv = start(|_, _| {
        Reply::json(
            r#"[{"id":1,"title":"The Matrix","year":1999,"tmdbId":603,"imdbId":"tt0133093",
                 "path":"/movies/The Matrix (1999)","tags":[2],"monitored":true,"added":"2020-01-01T00:00:00Z",
                 "movieFile":{"id":11,"path":"/movies/The Matrix (1999)/m.mkv","size":123,"quality":{}}},
                {"id":2,"title":"Nope","tmdbId":5}]"#,
        )
    })
    .await;
    let movies = client(&srv.url).movies().await.unwrap();
    assert_eq!(movies.len(), 2);
    let f = movies[0].movie_file.as_ref().unwrap();
    assert_eq!((f.id, f.size), (11, Some(123)));
    assert_eq!(movies[0].tags, vec![2]);
    assert!(movies[1].movie_file.is_none());
    assert!(movies[1].tags.is_empty());
    assert_eq!(srv.seen()[0].path, "/api/v3/movie");
}

#[tokio::test]
async fn movie_by_id_is_none_on_404() {
    let srv = start(|s, _| {
        if s.path == "/api/v3/movie/1" {
            Reply::json(r#"{"id":1}"#)
        } else {
            Reply::status(404).body(r#"{"message":"NotFound"}"#)
        }
    })
    .await;
    let c = client(&srv.url);
    assert_eq!(c.movie(1).await.unwrap().map(|m| m.id), Some(1));
    assert_eq!(c.movie(2).await.unwrap(), None);
    assert_eq!(srv.count(), 2, "404 is not retried");
}

#[tokio::test]
async fn delete_movie_sends_the_documented_query() {
    let srv = start(|_, _| Reply::status(200)).await;
    let c = client(&srv.url);
    c.delete_movie(7, false).await.unwrap();
    c.delete_movie(8, true).await.unwrap();
    let seen = srv.seen();
    assert_eq!(seen[0].method, reqwest::Method::DELETE);
    assert_eq!(seen[0].path, "/api/v3/movie/7");
    assert_eq!(seen[0].param("deleteFiles").as_deref(), Some("true"));
    assert_eq!(
        seen[0].param("addImportExclusion").as_deref(),
        Some("false")
    );
    assert_eq!(seen[1].param("addImportExclusion").as_deref(), Some("true"));
}

#[tokio::test]
async fn root_folders_and_tags() {
    let srv = start(|s, _| match s.path.as_str() {
        "/api/v3/rootfolder" => Reply::json(
            r#"[{"id":1,"path":"/movies","accessible":false,"freeSpace":1},{"id":2,"path":"/old"}]"#,
        ),
        _ => Reply::json(r#"[{"id":2,"label":"keep"},{"id":3}]"#),
    })
    .await;
    let c = client(&srv.url);
    let roots = c.root_folders().await.unwrap();
    assert!(!roots[0].accessible);
    assert!(roots[1].accessible, "an older Radarr without the field");
    let tags = c.tags().await.unwrap();
    assert_eq!(tags[0].label.as_deref(), Some("keep"));
    assert_eq!(tags[1].label, None);
}

#[tokio::test]
async fn a_movie_file_brings_its_quality_and_media_info() {
    // The shape of Radarr's MovieFileResource (QualityModel, MediaInfoResource); the second
    // movie's parts have other JSON types than the spec's and read as absent.
    let srv = start(|_, _| {
        Reply::json(
            r#"[{"id":1,"title":"Dune","movieFile":{"id":11,"path":"/movies/Dune/d.mkv","size":64,
                 "quality":{"quality":{"id":31,"name":"Remux-2160p","source":"bluray","resolution":2160,
                 "modifier":"remux"},"revision":{"version":1,"real":0,"isRepack":false}},
                 "mediaInfo":{"audioBitrate":0,"audioChannels":7.1,"audioCodec":"TrueHD Atmos",
                 "audioLanguages":"eng","audioStreamCount":2,"videoCodec":"HEVC",
                 "resolution":"3840x2160","runTime":"2:35:12","subtitles":"eng"}}},
                {"id":2,"title":"Odd","movieFile":{"id":12,"path":"/movies/Odd/o.mkv","size":1,
                 "quality":"Bluray-1080p","mediaInfo":{"audioChannels":"5.1","audioCodec":6}}}]"#,
        )
    })
    .await;
    let movies = client(&srv.url).movies().await.unwrap();
    assert_eq!(
        movies.len(),
        2,
        "an odd quality does not make a movie unreadable"
    );
    let f = movies[0].movie_file.as_ref().unwrap();
    let q = f.quality.as_ref().and_then(|q| q.quality.as_ref()).unwrap();
    assert_eq!(
        (q.name.as_deref(), q.resolution),
        (Some("Remux-2160p"), Some(2160))
    );
    let m = f.media_info.as_ref().unwrap();
    assert_eq!(m.audio_codec.as_deref(), Some("TrueHD Atmos"));
    assert_eq!(m.audio_channels, Some(7.1));
    assert_eq!(m.resolution.as_deref(), Some("3840x2160"));
    let odd = movies[1].movie_file.as_ref().unwrap();
    assert_eq!(odd.quality, None);
    let m = odd.media_info.clone().unwrap_or_default();
    assert_eq!((m.audio_codec, m.audio_channels), (None, None));
}
