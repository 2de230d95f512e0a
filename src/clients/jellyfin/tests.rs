//! The Jellyfin client against a scripted server: paging, listings that change, items that
//! cannot be read, paths asked for on their own.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::listing::{LISTING_READS, PAGES_AHEAD};
use super::*;
use crate::clients::test_server::{start, Reply};

#[test]
fn items_keep_only_the_provider_ids_and_the_path_matching_uses() {
    let item: Item = serde_json::from_str(
        r#"{"Id":"a","ProviderIds":{"TMDB":" 603 ","imdb":"","Tvdb":null,"Tvrage":"9"},
            "MediaSources":[{"Protocol":"File","MediaStreams":[{"Codec":"h264"}]},
                            {"Path":"/m/a.mkv","Size":7}]}"#,
    )
    .expect("parses");
    assert_eq!(item.provider_id("tmdb"), Some("603"));
    assert_eq!(item.provider_id("Imdb"), None, "an empty id is none");
    assert_eq!(item.provider_id("tvdb"), None);
    assert_eq!(item.provider_id("tvrage"), None, "not one matching uses");
    assert_eq!(item.file_path(), Some("/m/a.mkv"));
    let bare: Item = serde_json::from_str(r#"{"Id":"b","ProviderIds":null,"MediaSources":null}"#)
        .expect("nulls");
    assert_eq!(bare.provider_ids, ProviderIds::default());
    assert_eq!(bare.file_path(), None);
}

fn client(url: &str) -> JellyfinClient {
    let settings = HttpSettings {
        backoff_base: Duration::from_millis(10),
        ..HttpSettings::default()
    };
    // Pages of 1000, whatever the default is: the paging tests count in them.
    JellyfinClient::new(&Http::new().unwrap(), url, "k", settings)
        .unwrap()
        .with_page_size(1000)
}

/// A 32-hex-digit id, as Jellyfin writes them.
fn id(i: usize) -> String {
    format!("{i:032x}")
}

/// Offset pages over `ids` (as they are at the moment of each request), as Jellyfin
/// serves them.
fn page_of(s: &crate::clients::test_server::Seen, ids: &[String]) -> Reply {
    let start: usize = s.param("startIndex").unwrap().parse().unwrap();
    let limit: usize = s.param("limit").unwrap().parse().unwrap();
    let items: Vec<String> = ids
        .iter()
        .skip(start)
        .take(limit)
        .map(|id| format!(r#"{{"Id":"{id}","Type":"Episode","Path":"/tv/{id}.mkv"}}"#))
        .collect();
    Reply::json(format!(
        r#"{{"Items":[{}],"TotalRecordCount":{},"StartIndex":{start}}}"#,
        items.join(","),
        ids.len()
    ))
}

/// How many times the listing was read from its start.
fn readings(srv: &crate::clients::test_server::Server) -> usize {
    (srv.seen().iter())
        .filter(|s| s.param("startIndex").as_deref() == Some("0"))
        .count()
}

fn paged(total: usize) -> impl Fn(&crate::clients::test_server::Seen, usize) -> Reply {
    let ids: Vec<String> = (0..total).map(id).collect();
    move |s, _| page_of(s, &ids)
}

#[tokio::test]
async fn items_pages_in_a_stable_order_with_one_item_of_overlap() {
    let srv = start(paged(2500)).await;
    let (items, listing) = client(&srv.url)
        .items(Some("u1"), &["Movie", "Episode"], ItemFilter::Played)
        .await
        .unwrap();
    assert_eq!(items.len(), 2500);
    assert_eq!(&*items[2499].id, id(2499));
    assert_eq!(listing.items, 2500);
    assert_eq!(listing.inconsistent, None);
    let seen = srv.seen();
    assert_eq!(seen.len(), 3);
    let pages: Vec<(String, String)> = seen
        .iter()
        .map(|s| (s.param("startIndex").unwrap(), s.param("limit").unwrap()))
        .collect();
    // Each page after the first starts on the last item of the one before.
    assert_eq!(
        pages,
        [
            ("0".into(), "1000".into()),
            ("999".into(), "1001".into()),
            ("1999".into(), "1001".into())
        ]
    );
    let q = &seen[0];
    assert_eq!(q.path, "/Items");
    assert_eq!(q.param("userId").as_deref(), Some("u1"));
    assert_eq!(
        q.param("includeItemTypes").as_deref(),
        Some("Movie,Episode")
    );
    assert_eq!(q.param("recursive").as_deref(), Some("true"));
    assert_eq!(q.param("fields").as_deref(), Some("Path,ProviderIds"));
    assert_eq!(q.param("sortBy").as_deref(), Some("DateCreated,SortName"));
    assert_eq!(q.param("sortOrder").as_deref(), Some("Ascending"));
    assert_eq!(q.param("enableImages").as_deref(), Some("false"));
    assert_eq!(q.param("isPlayed").as_deref(), Some("true"));
    assert_eq!(q.param("isFavorite"), None);
}

/// Once the first page has given the total, the next pages are asked for together: the third
/// page is asked for while the second is still on its way, not after it arrived.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_after_the_first_are_asked_for_ahead() {
    let slow = Duration::from_millis(400);
    let arrived = Arc::new(Mutex::new(Vec::new()));
    let log = arrived.clone();
    let ids: Vec<String> = (0..3000).map(id).collect();
    let srv = start(move |s, _| {
        let start = s.param("startIndex").unwrap();
        log.lock()
            .unwrap()
            .push((start.clone(), std::time::Instant::now()));
        let reply = page_of(s, &ids);
        if start == "999" {
            reply.delay(slow)
        } else {
            reply
        }
    })
    .await;
    let (items, listing) = client(&srv.url)
        .items(Some("u"), &["Movie"], ItemFilter::Played)
        .await
        .unwrap();
    assert_eq!((items.len(), listing.inconsistent), (3000, None));
    let arrived = arrived.lock().unwrap().clone();
    let at = |start: &str| {
        (arrived.iter())
            .find(|(s, _)| s == start)
            .map(|(_, t)| *t)
            .unwrap_or_else(|| panic!("no page at {start}: {arrived:?}"))
    };
    assert_eq!(arrived.len(), 3, "{arrived:?}");
    // Asked for one after the other, the third page could only come after the second's delay.
    let gap = at("1999").saturating_duration_since(at("999"));
    assert!(
        gap < slow / 2,
        "the third page came {gap:?} after the second"
    );
}

/// A server that sends fewer items than asked for (a cap of its own) leaves the pages asked for
/// ahead out of line: the listing goes on from where it is and misses nothing.
#[tokio::test]
async fn short_pages_before_the_end_are_followed_where_they_end() {
    let ids: Vec<String> = (0..2500).map(id).collect();
    let srv = start(move |s, _| {
        let start: usize = s.param("startIndex").unwrap().parse().unwrap();
        let capped: Vec<String> = ids.iter().skip(start).take(600).cloned().collect();
        let items: Vec<String> = (capped.iter())
            .map(|id| format!(r#"{{"Id":"{id}","Type":"Episode","Path":"/tv/{id}.mkv"}}"#))
            .collect();
        Reply::json(format!(
            r#"{{"Items":[{}],"TotalRecordCount":2500}}"#,
            items.join(",")
        ))
    })
    .await;
    let (items, listing) = client(&srv.url)
        .items(Some("u"), &["Movie"], ItemFilter::Played)
        .await
        .unwrap();
    assert_eq!(listing.inconsistent, None);
    let got: HashSet<String> = items.iter().map(|i| i.id.to_string()).collect();
    assert_eq!((items.len(), got.len()), (2500, 2500));
}

#[tokio::test]
async fn items_with_a_small_page_size_and_favourite_filter() {
    let srv = start(paged(5)).await;
    let (items, _) = client(&srv.url)
        .with_page_size(2)
        .items(None, &["Series"], ItemFilter::Favorite)
        .await
        .unwrap();
    assert_eq!(items.len(), 5);
    let seen = srv.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].param("userId"), None);
    assert_eq!(seen[0].param("isFavorite").as_deref(), Some("true"));
}

/// The list changes once, after the first page: an item of the first page goes away.
#[tokio::test]
async fn an_item_removed_while_the_pages_are_read_makes_it_read_again_and_none_is_missed() {
    let srv = start(|s, n| {
        let mut ids: Vec<String> = (0..6).map(id).collect();
        if n >= 1 {
            ids.remove(0);
        }
        page_of(s, &ids)
    })
    .await;
    let (items, listing) = client(&srv.url)
        .with_page_size(2)
        .items(Some("u"), &["Movie"], ItemFilter::Favorite)
        .await
        .unwrap();
    assert_eq!(listing.inconsistent, None, "the second reading holds");
    let got: HashSet<String> = items.iter().map(|i| i.id.to_string()).collect();
    for i in 1..6 {
        assert!(got.contains(&id(i)), "item {i} was missed: {got:?}");
    }
    // Reading one broke off at its second page (the total changed), its third perhaps already
    // asked for ahead; reading two took 3.
    assert_eq!(readings(&srv), 2);
    assert!((2 + 3..=3 + 3).contains(&srv.count()), "{}", srv.count());
}

#[tokio::test]
async fn a_shift_the_total_does_not_show_is_caught_by_the_overlap() {
    // One item goes and another comes after the first page: the total stays 6.
    let srv = start(|s, n| {
        let mut ids: Vec<String> = (0..6).map(id).collect();
        if n == 1 {
            ids.remove(0);
            ids.push(id(99));
        }
        page_of(s, &ids)
    })
    .await;
    let (_, listing) = client(&srv.url)
        .with_page_size(3)
        .items(Some("u"), &["Movie"], ItemFilter::Favorite)
        .await
        .unwrap();
    assert_eq!(listing.inconsistent, None);
    let starts: Vec<String> = srv
        .seen()
        .iter()
        .map(|s| s.param("startIndex").unwrap())
        .collect();
    assert_eq!(starts, ["0", "2", "0", "2"], "read again after the shift");
}

#[tokio::test]
async fn a_listing_that_never_holds_still_is_reported_inconsistent() {
    let srv = start(|s, n| {
        let ids: Vec<String> = (0..(4 + n)).map(id).collect();
        page_of(s, &ids)
    })
    .await;
    let (_, listing) = client(&srv.url)
        .with_page_size(2)
        .items(Some("u"), &["Movie"], ItemFilter::Favorite)
        .await
        .unwrap();
    let why = listing.inconsistent.expect("inconsistent");
    assert!(why.contains("its total went from"), "{why}");
    // Each reading breaks off at its second page; the pages asked for ahead of it may or may
    // not have gone out by then.
    assert_eq!(readings(&srv), LISTING_READS);
    let most = LISTING_READS * (2 + PAGES_AHEAD);
    assert!(
        (2 * LISTING_READS..=most).contains(&srv.count()),
        "{}",
        srv.count()
    );
}

#[tokio::test]
async fn an_empty_page_below_the_total_is_inconsistent() {
    let srv = start(|_, _| Reply::json(r#"{"Items":[],"TotalRecordCount":50}"#)).await;
    let (items, listing) = client(&srv.url)
        .items(Some("u"), &["Movie"], ItemFilter::All)
        .await
        .unwrap();
    assert!(items.is_empty());
    assert!(listing.inconsistent.is_some());
    assert_eq!(srv.count(), LISTING_READS, "one page per reading");
}

#[tokio::test]
async fn without_a_total_paging_goes_on_while_pages_are_full() {
    let srv = start(|s, _| {
        let start: usize = s.param("startIndex").unwrap().parse().unwrap();
        let limit: usize = s.param("limit").unwrap().parse().unwrap();
        let items: Vec<String> = (start..(start + limit).min(5))
            .map(|i| format!(r#"{{"Id":"{}"}}"#, id(i)))
            .collect();
        Reply::json(format!(r#"{{"Items":[{}]}}"#, items.join(",")))
    })
    .await;
    let (items, listing) = client(&srv.url)
        .with_page_size(2)
        .items(Some("u"), &["Movie"], ItemFilter::All)
        .await
        .unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(listing.inconsistent, None);
    assert_eq!(srv.count(), 3);
}

fn item_with_date(date: &str) -> String {
    format!(
        r#"{{"Items":[{{"Id":"a","Name":"M","Type":"Movie","Path":"/m/a.mkv",
           "ProviderIds":{{"Tmdb":"603","IMDB":"tt0133093","Tvdb":null}},
           "UserData":{{"Played":true,"IsFavorite":false,"LastPlayedDate":"{date}"}},
           "SomethingNew":{{"x":1}}}}],"TotalRecordCount":1}}"#
    )
}

#[tokio::test]
async fn dates_with_seven_three_or_no_fraction_digits() {
    for (text, want) in [
        (
            "2024-03-01T12:00:00.1234567Z",
            "2024-03-01T12:00:00.1234567Z",
        ),
        ("2024-03-01T12:00:00.123Z", "2024-03-01T12:00:00.123Z"),
        ("2024-03-01T12:00:00Z", "2024-03-01T12:00:00Z"),
    ] {
        let body = item_with_date(text);
        let srv = start(move |_, _| Reply::json(body.clone())).await;
        let (items, _) = client(&srv.url)
            .items(Some("u"), &["Movie"], ItemFilter::Played)
            .await
            .unwrap();
        let ud = items[0].user_data.clone().unwrap();
        assert_eq!(ud.last_played_date, Some(want.parse().unwrap()), "{text}");
        assert!(ud.played);
        assert_eq!(items[0].provider_id("tmdb"), Some("603"));
        assert_eq!(items[0].provider_id("Imdb"), Some("tt0133093"));
        assert_eq!(items[0].provider_id("Tvdb"), None);
    }
}

#[tokio::test]
async fn missing_date_is_none() {
    let srv = start(|_, _| {
        Reply::json(r#"{"Items":[{"Id":"a","UserData":{"Played":false}}],"TotalRecordCount":1}"#)
    })
    .await;
    let (items, _) = client(&srv.url)
        .items(Some("u"), &["Movie"], ItemFilter::All)
        .await
        .unwrap();
    assert_eq!(items[0].user_data.as_ref().unwrap().last_played_date, None);
}

/// Twenty good items and one bad one, in one page.
fn with_one_bad(bad: &str) -> String {
    let mut items: Vec<String> = (0..20)
        .map(|i| {
            format!(
                r#"{{"Id":"{}","Type":"Movie","Path":"/m/{i}.mkv","UserData":{{"Played":true}}}}"#,
                id(i)
            )
        })
        .collect();
    items.insert(7, bad.to_owned());
    format!(r#"{{"Items":[{}],"TotalRecordCount":21}}"#, items.join(","))
}

#[tokio::test]
async fn an_item_with_a_bad_date_is_kept_out_of_the_played_and_still_a_favourite() {
    // A date without an offset: not a moment anyone can compare.
    let bad = format!(
        r#"{{"Id":"{}","Name":"Odd","Type":"Movie","Path":"/m/odd.mkv","UserData":{{"Played":true,"IsFavorite":true,"LastPlayedDate":"2024-03-01T12:00:00"}}}}"#,
        id(77)
    );
    let body = with_one_bad(&bad);
    let srv = start(move |_, _| Reply::json(body.clone())).await;
    let c = client(&srv.url);
    let (played, listing) = c
        .items(Some("u"), &["Movie"], ItemFilter::Played)
        .await
        .unwrap();
    assert_eq!(played.len(), 21);
    assert_eq!((listing.malformed, listing.unreadable), (1, 0));
    let odd = played.iter().find(|i| *i.id == id(77)).unwrap();
    assert_eq!(odd.user_data, None, "counts as not played");
    let (favs, _) = c
        .items(Some("u"), &["Movie"], ItemFilter::Favorite)
        .await
        .unwrap();
    let odd = favs.iter().find(|i| *i.id == id(77)).unwrap();
    assert!(odd
        .user_data
        .as_ref()
        .is_some_and(|u| u.is_favorite && !u.played));
}

#[tokio::test]
async fn an_item_whose_identity_cannot_be_read_is_counted_unreadable() {
    let body = with_one_bad(r#"{"Id":12,"Type":"Movie"}"#);
    let srv = start(move |_, _| Reply::json(body.clone())).await;
    let (items, listing) = client(&srv.url)
        .items(Some("u"), &["Movie"], ItemFilter::Favorite)
        .await
        .unwrap();
    assert_eq!(items.len(), 20);
    assert_eq!((listing.malformed, listing.unreadable), (1, 1));
    assert_eq!(listing.inconsistent, None);
}

#[tokio::test]
async fn many_bad_items_fail_the_listing() {
    let items: Vec<String> = (0..30)
        .map(|i| {
            format!(
                r#"{{"Id":"{}","Type":"Movie","Path":"/m/x.mkv","UserData":{{"LastPlayedDate":"yesterday"}}}}"#,
                id(i)
            )
        })
        .collect();
    let body = format!(r#"{{"Items":[{}],"TotalRecordCount":30}}"#, items.join(","));
    let srv = start(move |_, _| Reply::json(body.clone())).await;
    let err = client(&srv.url)
        .items(Some("u"), &["Movie"], ItemFilter::Played)
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Protocol { .. }), "{err:?}");
    assert!(err
        .to_string()
        .starts_with("Jellyfin sent a response to GET /Items"));
    let chain = format!("{:?}", std::error::Error::source(&err));
    assert!(chain.contains("30 of its items"), "{chain}");
}

#[tokio::test]
async fn an_item_without_a_path_gets_it_from_its_media_sources_asked_for_alone() {
    let srv = start(|s, _| {
        if s.param("ids").is_some() {
            return Reply::json(format!(
                r#"{{"Items":[{{"Id":"{}","MediaSources":[{{"Path":"/m/b.mkv","MediaStreams":[{{"Codec":"h264"}}]}}]}}],"TotalRecordCount":1}}"#,
                id(2)
            ));
        }
        Reply::json(format!(
            r#"{{"Items":[{{"Id":"{}","Type":"Movie","Path":"/m/a.mkv"}},{{"Id":"{}","Type":"Movie"}},{{"Id":"{}","Type":"Series"}}],"TotalRecordCount":3}}"#,
            id(1),
            id(2),
            id(3)
        ))
    })
    .await;
    let (items, _) = client(&srv.url)
        .items(Some("u"), &["Movie", "Series"], ItemFilter::Played)
        .await
        .unwrap();
    let paths: Vec<Option<&str>> = items.iter().map(|i| i.file_path()).collect();
    assert_eq!(paths, [Some("/m/a.mkv"), Some("/m/b.mkv"), None]);
    let seen = srv.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].param("ids"), Some(id(2)));
    assert_eq!(seen[1].param("fields").as_deref(), Some("MediaSources"));
    assert_eq!(seen[1].param("userId").as_deref(), Some("u"));
}

#[tokio::test]
async fn users_sessions_and_refresh() {
    let srv = start(|s, _| match s.path.as_str() {
        "/Users" => Reply::json(r#"[{"Id":"0f1e","Name":"Admin","Policy":{"IsAdministrator":true}}]"#),
        "/Sessions" => Reply::json(
            r#"[{"UserName":"admin"},{"NowPlayingItem":{"Id":"x","Path":"/tv/a.mkv","SeriesId":"s","ParentIndexNumber":1,"IndexNumber":2}}]"#,
        ),
        "/Library/Refresh" => Reply::status(204),
        _ => Reply::status(404),
    })
    .await;
    let c = client(&srv.url);
    let users = c.users().await.unwrap();
    assert_eq!(
        (users[0].id.as_str(), users[0].name.as_str()),
        ("0f1e", "Admin")
    );
    let sessions = c.sessions().await.unwrap();
    assert!(sessions[0].now_playing_item.is_none());
    let playing = sessions[1].now_playing_item.as_ref().unwrap();
    assert_eq!(playing.file_path(), Some("/tv/a.mkv"));
    assert_eq!(playing.index_number, Some(2));
    c.refresh_library().await.unwrap();
    let seen = srv.seen();
    assert_eq!(seen[2].method, reqwest::Method::POST);
    assert_eq!(seen[2].path, "/Library/Refresh");
    assert_eq!(c.stats().requests, 3);
}
