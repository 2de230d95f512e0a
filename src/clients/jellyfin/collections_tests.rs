//! The collection calls against the simulated Jellyfin (what the server does with them) and
//! against a scripted server (what this client does with answers that go wrong).

use std::time::Duration;

use jiff::Timestamp;
use shelflife_sim::{MovieSpec, SeriesSpec, SimStack, World, JELLYFIN_KEY};

use super::listing::LISTING_READS;
use super::*;
use crate::clients::http::Cause;
use crate::clients::test_server::{start, Reply, Seen};

type Sim = shelflife_sim::Service;

fn settings() -> HttpSettings {
    HttpSettings {
        backoff_base: Duration::from_millis(10),
        ..HttpSettings::default()
    }
}

fn client(url: &str, key: &str) -> JellyfinClient {
    JellyfinClient::new(&Http::new().unwrap(), url, key, settings()).unwrap()
}

fn world() -> World {
    World::new(Timestamp::from_second(1_763_900_000).unwrap())
        .user("alice")
        .movie(MovieSpec::new("The Matrix", 1999))
        .movie(MovieSpec::new("Heat", 1995))
        .movie(MovieSpec::new("Alien", 1979))
        .series(SeriesSpec::new("Dark", true).season(1, 2))
}

/// The simulated stack and a client of its Jellyfin that reads pages of two.
async fn stack() -> (SimStack, JellyfinClient) {
    let stack = SimStack::start(world()).await.unwrap();
    let jellyfin = client(stack.jellyfin_url(), JELLYFIN_KEY).with_page_size(2);
    (stack, jellyfin)
}

fn movie(stack: &SimStack, title: &str) -> String {
    stack.with_world(|w| w.find_movie(title).unwrap().jellyfin_id.clone())
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// The query pairs of a request the simulated Jellyfin logged.
fn pairs(query: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{query}"))
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param(query: &str, name: &str) -> Option<String> {
    pairs(query)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

#[tokio::test]
async fn find_create_add_read_and_remove() {
    let (stack, jf) = stack().await;
    let (matrix, heat, alien) = (
        movie(&stack, "The Matrix"),
        movie(&stack, "Heat"),
        movie(&stack, "Alien"),
    );

    assert_eq!(jf.find_collection("Leaving Soon").await.unwrap(), None);
    // The search found nothing, so every collection was listed before saying so.
    let asked = stack.requests(Sim::Jellyfin);
    assert_eq!(asked.len(), 2);
    assert_eq!(
        param(&asked[0].query, "searchTerm").as_deref(),
        Some("Leaving Soon")
    );
    assert_eq!(param(&asked[1].query, "searchTerm"), None);
    for q in asked.iter().map(|r| r.query.as_str()) {
        assert_eq!(param(q, "includeItemTypes").as_deref(), Some("BoxSet"));
        assert_eq!(param(q, "recursive").as_deref(), Some("true"));
        assert_eq!(param(q, "enableUserData").as_deref(), Some("false"));
        assert_eq!(param(q, "enableImages").as_deref(), Some("false"));
        assert_eq!(param(q, "userId"), None);
        assert_eq!(
            param(q, "fields"),
            None,
            "only Id and Name, which always come"
        );
    }

    let id = jf.create_collection("Leaving Soon").await.unwrap();
    assert_eq!(
        stack.with_world(|w| w.find_collection("Leaving Soon").map(|c| c.id.clone())),
        Some(id.clone())
    );
    stack.clear_log();
    assert_eq!(
        jf.find_collection("Leaving Soon").await.unwrap(),
        Some(id.clone())
    );
    assert_eq!(stack.count(Sim::Jellyfin), 1, "found by the search alone");
    assert_eq!(
        jf.find_collection("leaving SOON").await.unwrap(),
        Some(id.clone()),
        "a name that differs only in case"
    );
    assert_eq!(
        jf.collection_items(&id).await.unwrap(),
        Vec::<String>::new()
    );

    // Ids with dashes and in upper case, one twice.
    let dashed = format!(
        "{}-{}-{}-{}-{}",
        &heat[..8],
        &heat[8..12],
        &heat[12..16],
        &heat[16..20],
        &heat[20..]
    );
    let batch = vec![matrix.to_uppercase(), dashed, matrix.clone(), alien.clone()];
    stack.clear_log();
    jf.add_to_collection(&id, &batch).await.unwrap();
    let writes = stack.writes();
    assert_eq!(writes.len(), 1, "one request");
    assert_eq!(writes[0].1.path, format!("/Collections/{id}/Items"));
    assert_eq!(
        param(&writes[0].1.query, "ids"),
        Some(format!("{matrix},{heat},{alien}")),
        "normalized, each once"
    );

    stack.clear_log();
    let items = jf.collection_items(&id).await.unwrap();
    assert_eq!(
        sorted(items),
        sorted(vec![matrix.clone(), heat.clone(), alien.clone()])
    );
    let pages = stack.requests(Sim::Jellyfin);
    assert_eq!(pages.len(), 2, "three items in pages of two");
    let q = &pages[1].query;
    assert_eq!(param(q, "parentId"), Some(id.clone()));
    assert_eq!(param(q, "recursive").as_deref(), Some("true"));
    assert_eq!(param(q, "startIndex").as_deref(), Some("2"));
    assert_eq!(param(q, "limit").as_deref(), Some("2"));
    assert_eq!(param(q, "userId"), None);
    assert_eq!(param(q, "enableUserData").as_deref(), Some("false"));

    jf.remove_from_collection(&id, std::slice::from_ref(&heat))
        .await
        .unwrap();
    // Not in it (any more): Jellyfin skips it.
    jf.remove_from_collection(&id, std::slice::from_ref(&heat))
        .await
        .unwrap();
    assert_eq!(
        sorted(jf.collection_items(&id).await.unwrap()),
        sorted(vec![matrix, alien])
    );
}

#[tokio::test]
async fn an_exact_name_wins_over_an_older_one_that_differs_in_case() {
    let (_stack, jf) = stack().await;
    let lower = jf.create_collection("leaving soon").await.unwrap();
    let exact = jf.create_collection("Leaving Soon").await.unwrap();
    assert_ne!(lower, exact);
    assert_eq!(
        jf.find_collection("Leaving Soon").await.unwrap(),
        Some(exact)
    );
    assert_eq!(
        jf.find_collection("LEAVING SOON").await.unwrap(),
        Some(lower),
        "the first of those that differ in case"
    );
    assert_eq!(jf.find_collection("Leaving").await.unwrap(), None);
}

#[tokio::test]
async fn an_item_jellyfin_forgot_is_not_read_cannot_be_added_and_is_removed_quietly() {
    let (stack, jf) = stack().await;
    let (matrix, heat) = (movie(&stack, "The Matrix"), movie(&stack, "Heat"));
    let id = jf.create_collection("Leaving Soon").await.unwrap();
    jf.add_to_collection(&id, &[matrix.clone(), heat.clone()])
        .await
        .unwrap();
    stack.with_world(|w| {
        let path = w.find_movie("Heat").unwrap().file.clone().unwrap().path;
        w.files.remove(&path);
    });
    jf.refresh_library().await.unwrap();

    assert_eq!(
        jf.collection_items(&id).await.unwrap(),
        std::slice::from_ref(&matrix)
    );
    let err = jf
        .add_to_collection(&id, &[heat.clone(), movie(&stack, "Alien")])
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Rejected { status, .. } if status == 400),
        "{err:?}"
    );
    assert_eq!(
        jf.collection_items(&id).await.unwrap(),
        [matrix],
        "nothing of the batch was added"
    );
    jf.remove_from_collection(&id, &[heat]).await.unwrap();
}

#[tokio::test]
async fn a_collection_that_is_gone_is_rejected_not_read_as_the_library() {
    let (stack, jf) = stack().await;
    let gone = "ab".repeat(16);
    let matrix = movie(&stack, "The Matrix");
    for err in [
        jf.collection_items(&gone).await.unwrap_err(),
        jf.add_to_collection(&gone, std::slice::from_ref(&matrix))
            .await
            .unwrap_err(),
        jf.remove_from_collection(&gone, std::slice::from_ref(&matrix))
            .await
            .unwrap_err(),
    ] {
        assert!(
            matches!(err, ApiError::Rejected { status, .. } if status == 400),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn batches_the_server_would_mishandle_are_not_sent() {
    let (stack, jf) = stack().await;
    let id = jf.create_collection("Leaving Soon").await.unwrap();
    stack.clear_log();
    let many: Vec<String> = (0..=COLLECTION_BATCH)
        .map(|i| format!("{i:032x}"))
        .collect();
    let refused = [
        jf.add_to_collection(&id, &many).await.unwrap_err(),
        jf.remove_from_collection(&id, &many).await.unwrap_err(),
        jf.add_to_collection(&id, &["tt0133093".to_owned()])
            .await
            .unwrap_err(),
        jf.add_to_collection("Leaving Soon", &[format!("{:032x}", 1)])
            .await
            .unwrap_err(),
        jf.collection_items("Leaving Soon").await.unwrap_err(),
        jf.create_collection("  ").await.unwrap_err(),
    ];
    for err in refused {
        assert!(matches!(err, ApiError::NotSent { .. }), "{err:?}");
    }
    // Exactly a batch is fine; none at all needs no request.
    jf.add_to_collection(&id, &[]).await.unwrap();
    jf.remove_from_collection(&id, &many[..COLLECTION_BATCH])
        .await
        .unwrap();
    assert_eq!(stack.count(Sim::Jellyfin), 1);
}

#[tokio::test]
async fn server_failures_of_the_simulated_jellyfin() {
    let (stack, jf) = stack().await;
    // A 503 comes before the server acted: the POST is sent again and succeeds.
    stack.fail_next(Sim::Jellyfin, 503, 1);
    let id = jf.create_collection("Leaving Soon").await.unwrap();
    assert_eq!(stack.with_world(|w| w.collections.len()), 1);
    // A 500 may hide a change: not sent again, and the caller is told it may have happened.
    stack.clear_log();
    stack.fail_next(Sim::Jellyfin, 500, 1);
    let err = jf
        .add_to_collection(&id, &[movie(&stack, "Heat")])
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            ApiError::Unavailable {
                cause: Cause::Status(s),
                attempts: 1,
                ..
            } if s.as_u16() == 500
        ),
        "{err:?}"
    );
    assert!(err.outcome_unknown());
    assert_eq!(stack.count(Sim::Jellyfin), 1);
    // A read is retried.
    stack.fail_next(Sim::Jellyfin, 500, 1);
    assert!(jf.collection_items(&id).await.unwrap().is_empty());

    let wrong = client(stack.jellyfin_url(), "not-the-key");
    let err = wrong.find_collection("Leaving Soon").await.unwrap_err();
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
    let err = wrong.create_collection("Leaving Soon").await.unwrap_err();
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");

    stack.garbage(Sim::Jellyfin, true);
    let err = jf.collection_items(&id).await.unwrap_err();
    assert!(matches!(err, ApiError::Protocol { .. }), "{err:?}");
}

#[tokio::test]
async fn answers_that_are_not_what_jellyfin_sends() {
    let srv = start(|s: &Seen, _| match (s.method.as_str(), s.path.as_str()) {
        ("POST", "/Collections") if s.param("name").as_deref() == Some("bad id") => {
            Reply::json(r#"{"Id":"nope"}"#)
        }
        ("POST", "/Collections") => Reply::json("<html>"),
        ("GET", "/Items") => {
            Reply::json(r#"{"Items":[{"Id":"x1","Name":"Soon"}],"TotalRecordCount":1}"#)
        }
        _ => Reply::status(404),
    })
    .await;
    let jf = client(&srv.url, "k");
    for err in [
        jf.create_collection("Soon").await.unwrap_err(),
        jf.create_collection("bad id").await.unwrap_err(),
        jf.find_collection("Soon").await.unwrap_err(),
        jf.collection_items(&"a".repeat(32)).await.unwrap_err(),
    ] {
        assert!(matches!(err, ApiError::Protocol { .. }), "{err:?}");
    }

    let srv = start(|_, _| Reply::status(401)).await;
    let err = client(&srv.url, "k")
        .add_to_collection(&"a".repeat(32), &["b".repeat(32)])
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
}

/// Offset pages of `ids` (as they are at each request), with the total Jellyfin counts.
fn page_of(s: &Seen, ids: &[String]) -> Reply {
    let start: usize = s.param("startIndex").unwrap().parse().unwrap();
    let limit: usize = s.param("limit").unwrap().parse().unwrap();
    let items: Vec<String> = ids
        .iter()
        .skip(start)
        .take(limit)
        .map(|id| format!(r#"{{"Id":"{id}","Type":"Movie"}}"#))
        .collect();
    Reply::json(format!(
        r#"{{"Items":[{}],"TotalRecordCount":{}}}"#,
        items.join(","),
        ids.len()
    ))
}

#[tokio::test]
async fn a_collection_that_changes_while_it_is_read_is_read_again() {
    // The first item leaves after the first page: the total moves, the reading starts over.
    let srv = start(|s, n| {
        let mut ids: Vec<String> = (0..5).map(|i| format!("{i:032X}")).collect();
        if n >= 1 {
            ids.remove(0);
        }
        page_of(s, &ids)
    })
    .await;
    let jf = client(&srv.url, "k").with_page_size(2);
    let items = jf.collection_items(&"c".repeat(32)).await.unwrap();
    let want: Vec<String> = (1..5).map(|i| format!("{i:032x}")).collect();
    assert_eq!(items, want, "read again whole, ids in lower case");
    assert_eq!(srv.count(), 2 + 2);

    // One that never holds still: every id seen is kept.
    let srv = start(|s, n| {
        let ids: Vec<String> = (0..(3 + n)).map(|i| format!("{i:032x}")).collect();
        page_of(s, &ids)
    })
    .await;
    let jf = client(&srv.url, "k").with_page_size(2);
    let items = jf.collection_items(&"c".repeat(32)).await.unwrap();
    // Each reading broke off at its second page, after the same first two.
    assert_eq!(items, [format!("{:032x}", 0), format!("{:032x}", 1)]);
    assert_eq!(srv.count(), 2 * LISTING_READS);
}
