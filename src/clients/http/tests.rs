//! The HTTP layer against a scripted server: retries, deadlines, body limits, errors and auth.

use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};

use super::errors::{snippet, SNIPPET_CHARS};
use super::retry::{backoff, parse_retry_after};
use super::settings::MAX_DELAY;
use super::*;
use crate::clients::test_server::{start, Reply};

fn fast() -> HttpSettings {
    HttpSettings {
        timeout: Duration::from_secs(5),
        list_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
        max_body_bytes: 1024,
        retries: 3,
        backoff_base: Duration::from_millis(10),
    }
}

fn client(service: Service, url: &str, settings: HttpSettings) -> ServiceClient {
    ServiceClient::new(&Http::new().unwrap(), service.into(), url, "k", settings).unwrap()
}

#[tokio::test]
async fn server_error_then_success_takes_two_requests() {
    let srv = start(|_, n| {
        if n == 0 {
            Reply::status(500)
        } else {
            Reply::json("[1,2]")
        }
    })
    .await;
    let c = client(Service::Radarr, &srv.url, fast());
    let v: Vec<i32> = c.get_json("/api/v3/tag", &[]).await.unwrap();
    assert_eq!(v, vec![1, 2]);
    assert_eq!(srv.count(), 2);
    assert_eq!(
        c.stats(),
        RequestStats {
            requests: 2,
            errors: 1
        }
    );
}

#[tokio::test]
async fn too_many_requests_is_retried() {
    let srv = start(|_, n| {
        if n == 0 {
            Reply::status(429).header("retry-after", "0")
        } else {
            Reply::json("[]")
        }
    })
    .await;
    let c = client(Service::Sonarr, &srv.url, fast());
    let v: Vec<i32> = c.get_json("/api/v3/tag", &[]).await.unwrap();
    assert!(v.is_empty());
    assert_eq!(srv.count(), 2);
}

#[tokio::test]
async fn a_filtered_list_keeps_only_what_is_asked_for() {
    let srv = start(|_, _| Reply::json(r#"[{"id":1},{"id":2},{"id":3},{"id":4}]"#)).await;
    let c = client(Service::Sonarr, &srv.url, fast());
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Id {
        id: i32,
    }
    let even: Vec<Id> = c
        .get_filtered("/api/v3/calendar", &[], |i: &Id| i.id % 2 == 0)
        .await
        .unwrap();
    assert_eq!(even, [Id { id: 2 }, Id { id: 4 }]);
}

#[tokio::test]
async fn a_grouped_list_sorts_elements_into_groups_in_their_order_and_drops_the_rest() {
    let srv = start(|_, _| {
        Reply::json(
            r#"[{"s":1,"e":1},{"s":2,"e":1},{"s":1,"e":2},{"s":3,"e":1},{"s":2,"e":2},{"s":1,"e":3}]"#,
        )
    })
    .await;
    let c = client(Service::Sonarr, &srv.url, fast());
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Ep {
        s: i32,
        e: i32,
    }
    let groups = c
        .get_grouped("/api/v3/calendar", &[], |x: Ep| {
            (x.s != 3).then_some((x.s, x.e))
        })
        .await
        .unwrap();
    assert!(groups.malformed.is_empty());
    let groups = groups.groups;
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[&1], [1, 2, 3]);
    assert_eq!(groups[&2], [1, 2]);
}

#[tokio::test]
async fn a_filtered_list_retried_after_a_500_keeps_each_element_once() {
    let srv = start(|_, n| {
        if n == 0 {
            Reply::status(500)
        } else {
            Reply::json("[1, 2, 3]")
        }
    })
    .await;
    let c = client(Service::Sonarr, &srv.url, fast());
    let all: Vec<i32> = c
        .get_filtered("/api/v3/calendar", &[], |_| true)
        .await
        .unwrap();
    assert_eq!(all, [1, 2, 3]);
    assert_eq!(srv.count(), 2);
}

#[tokio::test]
async fn a_filtered_list_that_is_not_an_array_is_a_protocol_error() {
    for (body, why) in [
        ("<html>nginx</html>", "expected a JSON array"),
        ("[1, 2", "cut short"),
        (r#"[{"id": "x"}]"#, "invalid type"),
    ] {
        let srv = start(move |_, _| Reply::json(body)).await;
        let c = client(Service::Sonarr, &srv.url, fast());
        let err = c
            .get_filtered::<i32>("/api/v3/calendar", &[], |_| true)
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::Protocol { .. }), "{err:?}");
        let chain = format!("{err} {:?}", std::error::Error::source(&err));
        assert!(chain.contains(why), "{why}: {chain}");
        assert_eq!(
            srv.count(),
            1,
            "a body that is wrong is not asked for again"
        );
    }
}

#[test]
fn the_longest_request_allows_every_attempt_and_every_wait() {
    let settings = HttpSettings::default();
    assert_eq!(
        settings.longest_request(),
        Duration::from_secs(4 * 30 + 3 * 30)
    );
    let once = HttpSettings {
        retries: 0,
        ..settings
    };
    assert_eq!(once.longest_request(), Duration::from_secs(30));
}

#[test]
fn backoff_grows_honours_retry_after_and_is_capped() {
    let base = Duration::from_millis(100);
    for _ in 0..50 {
        let first = backoff(base, 1, None);
        assert!(first >= Duration::from_millis(50) && first < Duration::from_millis(150));
        let third = backoff(base, 3, None);
        assert!(third >= Duration::from_millis(200) && third < Duration::from_millis(600));
    }
    assert!(backoff(base, 1, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
    assert_eq!(backoff(base, 1, Some(Duration::from_secs(3600))), MAX_DELAY);
    assert_eq!(backoff(base, 40, None), MAX_DELAY);
    assert_eq!(
        parse_retry_after(Some(&HeaderValue::from_static(" 7 "))),
        Some(Duration::from_secs(7))
    );
    assert_eq!(
        parse_retry_after(Some(&HeaderValue::from_static(
            "Wed, 21 Oct 2015 07:28:00 GMT"
        ))),
        None
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let srv = start(|_, _| Reply::status(400).body("{\"message\":\"seriesId missing\"}")).await;
    let c = client(Service::Sonarr, &srv.url, fast());
    let err = c
        .get_json::<Vec<i32>>("/api/v3/episode", &[])
        .await
        .unwrap_err();
    assert_eq!(srv.count(), 1);
    assert!(matches!(err, ApiError::Rejected { .. }), "{err:?}");
    assert!(!err.is_transient());
    let msg = err.to_string();
    assert!(
        msg.contains("Sonarr rejected GET /api/v3/episode with 400 Bad Request")
            && msg.contains("seriesId missing"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_write_the_server_may_have_acted_on_is_sent_once() {
    for status in [500, 502, 504] {
        let srv = start(move |_, _| Reply::status(status)).await;
        let c = client(Service::Sonarr, &srv.url, fast());
        let err = c
            .send(Method::DELETE, "/api/v3/episodefile/bulk", &[], Some(&[1]))
            .await
            .unwrap_err();
        assert_eq!(srv.count(), 1, "{status}");
        assert!(
            matches!(err, ApiError::Unavailable { attempts: 1, .. }),
            "{err:?}"
        );
        assert!(err.outcome_unknown(), "{status}");
    }
    // No answer in time: the server may still be at it.
    let srv = start(|_, _| Reply::json("{}").delay(Duration::from_millis(500))).await;
    let settings = HttpSettings {
        timeout: Duration::from_millis(100),
        ..fast()
    };
    let c = client(Service::Radarr, &srv.url, settings);
    let err = c
        .send(Method::DELETE, "/api/v3/movie/3", &[], None::<&()>)
        .await
        .unwrap_err();
    assert_eq!(srv.count(), 1);
    assert!(err.outcome_unknown(), "{err:?}");
    // A POST too.
    let srv = start(|_, _| Reply::status(500)).await;
    let c = client(Service::Jellyfin, &srv.url, fast());
    c.send(Method::POST, "/Library/Refresh", &[], None::<&()>)
        .await
        .unwrap_err();
    assert_eq!(srv.count(), 1);
}

#[tokio::test]
async fn a_write_refused_before_any_work_is_sent_again() {
    for status in [503, 429] {
        let srv = start(move |_, n| {
            if n == 0 {
                Reply::status(status)
            } else {
                Reply::json("{}")
            }
        })
        .await;
        let c = client(Service::Radarr, &srv.url, fast());
        c.send(Method::DELETE, "/api/v3/movie/3", &[], None::<&()>)
            .await
            .unwrap();
        assert_eq!(srv.count(), 2, "{status}");
    }
    let refused = start(|_, _| Reply::status(503)).await;
    let c = client(Service::Radarr, &refused.url, fast());
    let err = c
        .send(Method::DELETE, "/api/v3/movie/3", &[], None::<&()>)
        .await
        .unwrap_err();
    assert!(!err.outcome_unknown(), "a 503 did nothing: {err:?}");
}

#[tokio::test]
async fn a_slow_list_waits_for_its_first_byte_and_is_retried_once() {
    // Slower than `timeout`, within `list_timeout`: the list comes.
    let srv = start(|_, _| Reply::json("[1]").delay(Duration::from_millis(400))).await;
    let settings = HttpSettings {
        timeout: Duration::from_millis(100),
        list_timeout: Duration::from_secs(5),
        ..fast()
    };
    let c = client(Service::Sonarr, &srv.url, settings.clone());
    let all: Vec<i32> = c.get_list("/api/v3/calendar", &[]).await.unwrap();
    assert_eq!(all, [1]);
    // A small read that slow times out.
    let err = c
        .get_json::<Vec<i32>>("/api/v3/tag", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Unavailable {
                cause: Cause::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
    // Slower than `list_timeout`: two attempts, not four.
    let srv = start(|_, _| Reply::json("[1]").delay(Duration::from_millis(400))).await;
    let c = client(
        Service::Sonarr,
        &srv.url,
        HttpSettings {
            list_timeout: Duration::from_millis(100),
            ..settings
        },
    );
    let err = c
        .get_list::<i32>("/api/v3/calendar", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Unavailable {
                cause: Cause::Timeout,
                attempts: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(srv.count(), 2);
}

/// A list's body that stops flowing for longer than `timeout` is given up on, however long
/// `list_timeout` is.
#[tokio::test]
async fn a_list_body_that_stalls_times_out() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n3\r\n[1,\r\n";
                let _ = sock.write_all(head.as_bytes()).await;
                tokio::time::sleep(Duration::from_millis(600)).await;
                let _ = sock.write_all(b"2\r\n2]\r\n0\r\n\r\n").await;
            });
        }
    });
    let settings = HttpSettings {
        timeout: Duration::from_millis(150),
        list_timeout: Duration::from_secs(5),
        ..fast()
    };
    let c = client(Service::Sonarr, &format!("http://{addr}"), settings);
    let err = c
        .get_list::<i32>("/api/v3/calendar", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Unavailable {
                cause: Cause::Timeout,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn the_longest_of_each_kind_of_request() {
    let s = HttpSettings::default();
    assert_eq!(
        s.longest(Class::Small),
        Duration::from_secs(4 * 30 + 3 * 30)
    );
    assert_eq!(
        s.longest(Class::Write),
        Duration::from_secs(4 * 30 + 3 * 30)
    );
    // Two attempts of up to twice the first-byte deadline, one wait between.
    assert_eq!(s.longest(Class::List), Duration::from_secs(2 * 360 + 30));
    assert!(
        s.list_timeout >= Duration::from_secs(120),
        "a Pi builds big lists slowly"
    );
    let once = HttpSettings { retries: 0, ..s };
    assert_eq!(once.longest(Class::Write), Duration::from_secs(30));
    assert_eq!(once.longest(Class::List), Duration::from_secs(360));
}

#[tokio::test]
async fn gives_up_after_the_retries_with_unavailable() {
    let srv = start(|_, _| Reply::status(503)).await;
    let settings = HttpSettings {
        retries: 2,
        ..fast()
    };
    let c = client(Service::Radarr, &srv.url, settings);
    let err = c
        .send(Method::DELETE, "/api/v3/movie/3", &[], None::<&()>)
        .await
        .unwrap_err();
    assert_eq!(srv.count(), 3);
    assert!(err.is_transient());
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(
        err.to_string(),
        "Radarr is unavailable for DELETE /api/v3/movie/3 after 3 attempt(s): it answered 503 Service Unavailable"
    );
    assert_eq!(c.stats().errors, 3);
}

#[tokio::test]
async fn unauthorized_names_service_status_and_key() {
    let srv = start(|_, _| Reply::status(401)).await;
    let c = ServiceClient::new(
        &Http::new().unwrap(),
        Service::Jellyfin.into(),
        &srv.url,
        "sekrit-key",
        fast(),
    )
    .unwrap();
    let err = c.get_json::<Vec<i32>>("/Users", &[]).await.unwrap_err();
    assert_eq!(srv.count(), 1, "401 is not retried");
    assert_eq!(
        err.to_string(),
        "Jellyfin answered 401 Unauthorized for GET /Users: check the API key"
    );
    assert!(!format!("{err:?}{c:?}").contains("sekrit"));
    let srv = start(|_, _| Reply::status(403)).await;
    let c = client(Service::Sonarr, &srv.url, fast());
    let err = c.get_json::<()>("/api/v3/series", &[]).await.unwrap_err();
    assert!(matches!(err, ApiError::Unauthorized { .. }));
}

#[tokio::test]
async fn not_found_and_conflict_are_told_apart() {
    let srv = start(|s, _| {
        if s.path.ends_with("/1") {
            Reply::status(404)
        } else {
            Reply::status(409).body("Root folder missing")
        }
    })
    .await;
    let c = client(Service::Sonarr, &srv.url, fast());
    let nf = c
        .send(Method::DELETE, "/api/v3/episodefile/1", &[], None::<&()>)
        .await
        .unwrap_err();
    assert!(matches!(nf, ApiError::NotFound { .. }), "{nf:?}");
    let conflict = c
        .send(Method::DELETE, "/api/v3/episodefile/2", &[], None::<&()>)
        .await
        .unwrap_err();
    assert!(
        matches!(conflict, ApiError::Conflict { .. }),
        "{conflict:?}"
    );
    let msg = conflict.to_string();
    assert!(
        msg.starts_with("Sonarr answered 409 Conflict for DELETE /api/v3/episodefile/2")
            && msg.contains("Root folder missing"),
        "{msg}"
    );
    assert_eq!(srv.count(), 2);
}

#[tokio::test]
async fn garbage_body_is_a_protocol_error_naming_service_and_endpoint() {
    let srv = start(|_, _| Reply::json("<html>login</html>")).await;
    let c = client(Service::Sonarr, &srv.url, fast());
    let err = c
        .get_json::<Vec<i32>>("/api/v3/series", &[])
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "Sonarr sent a response to GET /api/v3/series that is not the expected JSON: "
        ) && msg.ends_with("body starts: <html>login</html>"),
        "{msg}"
    );
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn body_over_the_limit_is_too_large() {
    let srv = start(|_, _| Reply::json(format!("[{}0]", "0,".repeat(1000)))).await;
    let c = client(Service::Radarr, &srv.url, fast());
    let err = c
        .get_json::<Vec<i32>>("/api/v3/movie", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::TooLarge { limit: 1024, .. }),
        "{err:?}"
    );
    assert_eq!(srv.count(), 1, "a too large body is not retried");
}

#[tokio::test]
async fn an_error_status_with_a_huge_body_is_still_judged_by_its_status() {
    let srv = start(|_, _| Reply::status(401).body("x".repeat(5000))).await;
    let c = client(Service::Radarr, &srv.url, fast());
    let err = c
        .get_json::<Vec<i32>>("/api/v3/movie", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
}

/// Content-Length absent (chunked): the limit must still hold while reading.
#[tokio::test]
async fn chunked_body_over_the_limit_is_too_large() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = sock.read(&mut buf).await;
        let mut out =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                .to_vec();
        for _ in 0..10 {
            let chunk = "x".repeat(500);
            out.extend_from_slice(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes());
        }
        out.extend_from_slice(b"0\r\n\r\n");
        let _ = sock.write_all(&out).await;
    });
    let c = client(Service::Radarr, &format!("http://{addr}"), fast());
    let err = c
        .get_json::<Vec<i32>>("/api/v3/movie", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::TooLarge { .. }), "{err:?}");
}

#[tokio::test]
async fn slow_server_times_out_as_unavailable() {
    let srv = start(|_, _| Reply::json("[]").delay(Duration::from_millis(800))).await;
    let settings = HttpSettings {
        timeout: Duration::from_millis(100),
        retries: 1,
        ..fast()
    };
    let c = client(Service::Jellyfin, &srv.url, settings);
    let err = c.get_json::<Vec<i32>>("/Sessions", &[]).await.unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Unavailable {
                cause: Cause::Timeout,
                attempts: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(srv.count(), 2);
}

#[tokio::test]
async fn connection_refused_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = client(Service::Radarr, &format!("http://{addr}"), fast());
    let err = c
        .get_json::<Vec<i32>>("/api/v3/movie", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Unavailable {
                cause: Cause::Connect,
                attempts: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

#[tokio::test]
async fn auth_headers_per_service() {
    let srv = start(|_, _| Reply::json("[]")).await;
    client(Service::Jellyfin, &srv.url, fast())
        .get_json::<Vec<i32>>("/Users", &[])
        .await
        .unwrap();
    client(Service::Radarr, &srv.url, fast())
        .get_json::<Vec<i32>>("/api/v3/tag", &[])
        .await
        .unwrap();
    let seen = srv.seen();
    let jf = &seen[0].headers;
    assert_eq!(jf["authorization"], "MediaBrowser Token=\"k\"");
    for legacy in [
        "x-emby-token",
        "x-mediabrowser-token",
        "x-emby-authorization",
        "x-api-key",
    ] {
        assert!(
            !jf.contains_key(legacy),
            "Jellyfin request carries {legacy}"
        );
    }
    assert_eq!(seen[0].query, "", "no key in the query");
    let arr = &seen[1].headers;
    assert_eq!(arr["x-api-key"], "k");
    assert!(!arr.contains_key("authorization"));
    assert_eq!(seen[1].query, "");
}

#[tokio::test]
async fn base_url_path_prefix_and_trailing_slash() {
    let srv = start(|_, _| Reply::json("[]")).await;
    let c = client(Service::Jellyfin, &format!("{}/jellyfin/", srv.url), fast());
    c.get_json::<Vec<i32>>("/Items", &[("limit", "5".into())])
        .await
        .unwrap();
    let seen = srv.seen();
    assert_eq!(seen[0].path, "/jellyfin/Items");
    assert_eq!(seen[0].param("limit").as_deref(), Some("5"));
}

#[test]
fn bad_base_urls_and_keys_are_refused_without_leaking() {
    let http = Http::new().unwrap();
    let s = HttpSettings::default;
    for url in ["ftp://host", "not a url", "http://host/?x=1"] {
        let err = ServiceClient::new(&http, Service::Sonarr.into(), url, "k", s()).unwrap_err();
        assert!(matches!(err, BuildError::BadUrl { .. }), "{url}: {err:?}");
    }
    let err =
        ServiceClient::new(&http, Service::Radarr.into(), "ftp://u:pw@h", "k", s()).unwrap_err();
    assert!(!err.to_string().contains("pw"), "{err}");
    for key in ["", "  ", "a\"b", "a\nb"] {
        let err =
            ServiceClient::new(&http, Service::Jellyfin.into(), "http://h", key, s()).unwrap_err();
        assert!(matches!(err, BuildError::BadKey { .. }), "{key:?}");
    }
}

#[test]
fn snippets_are_bounded() {
    let long = "é".repeat(500);
    let s = snippet(long.as_bytes());
    assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
    assert!(s.ends_with('…'));
    assert_eq!(snippet(b"short"), "short");
    assert_eq!(snippet(b""), "(empty)");
}
