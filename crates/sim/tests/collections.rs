//! The simulated Jellyfin's collections (BoxSets) answer as Jellyfin's CollectionController and
//! ItemsController do: checked over real HTTP with plain reqwest.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use jiff::Timestamp;
use reqwest::Method;
use serde_json::Value;
use shelflife_sim::*;

fn world() -> World {
    let now = Timestamp::from_second(1_763_900_000).expect("valid timestamp");
    World::new(now)
        .user("alice")
        .movie(MovieSpec::new("The Matrix", 1999).watched("alice", 12.0))
        .movie(MovieSpec::new("Heat", 1995))
        .movie(MovieSpec::new("Alien", 1979))
        .series(SeriesSpec::new("Dark", true).season(1, 2).season(2, 1))
}

/// `method path?query` to the simulated Jellyfin with its key: status and body.
async fn send(stack: &SimStack, method: Method, path_and_query: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .request(method, format!("{}{path_and_query}", stack.jellyfin_url()))
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

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The `Id`s of a page of `/Items`, and its `TotalRecordCount`.
fn ids_of(body: &str) -> (Vec<String>, u64) {
    let page = json(body);
    let ids = page["Items"]
        .as_array()
        .expect("Items")
        .iter()
        .map(|i| i["Id"].as_str().expect("Id").to_string())
        .collect();
    (ids, page["TotalRecordCount"].as_u64().expect("total"))
}

fn movie_id(stack: &SimStack, title: &str) -> String {
    stack.with_world(|w| w.find_movie(title).expect("movie").jellyfin_id.clone())
}

/// The GUID `id` (32 digits) with the dashes of its `D` form.
fn dashed(id: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &id[..8],
        &id[8..12],
        &id[12..16],
        &id[16..20],
        &id[20..]
    )
}

async fn children(stack: &SimStack, collection: &str, extra: &str) -> (Vec<String>, u64) {
    let (status, body) = send(
        stack,
        Method::GET,
        &format!("/Items?parentId={collection}&recursive=true{extra}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    ids_of(&body)
}

#[tokio::test]
async fn create_add_list_and_remove() {
    let stack = SimStack::start(world()).await.expect("start");
    let (matrix, heat, alien) = (
        movie_id(&stack, "The Matrix"),
        movie_id(&stack, "Heat"),
        movie_id(&stack, "Alien"),
    );

    let (status, body) = send(&stack, Method::POST, "/Collections?name=Leaving%20Soon").await;
    assert_eq!(status, 200, "{body}");
    let id = json(&body)["Id"].as_str().expect("Id").to_string();
    assert!(
        id.len() == 32
            && id
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_uppercase()),
        "{id}"
    );
    let made = stack.with_world(|w| w.find_collection("Leaving Soon").cloned());
    assert_eq!(made.map(|c| (c.id, c.items.len())), Some((id.clone(), 0)));

    // Listed as a BoxSet, found by part of its name whatever the case; parentId is ignored.
    let (status, body) = send(
        &stack,
        Method::GET,
        &format!(
            "/Items?includeItemTypes=BoxSet&recursive=true&searchTerm=leaving&parentId={matrix}"
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let page = json(&body);
    assert_eq!(page["TotalRecordCount"], 1);
    assert_eq!(page["Items"][0]["Type"], "BoxSet");
    assert_eq!(page["Items"][0]["Name"], "Leaving Soon");
    assert_eq!(page["Items"][0]["Id"], id.as_str());
    let (_, body) = send(
        &stack,
        Method::GET,
        "/Items?includeItemTypes=BoxSet&recursive=true&searchTerm=nothing",
    )
    .await;
    assert_eq!(ids_of(&body).1, 0);

    // Add two (one with dashes, one given twice), then one already there and a third.
    let (status, body) = send(
        &stack,
        Method::POST,
        &format!(
            "/Collections/{id}/Items?ids={matrix},{},{matrix}",
            dashed(&heat)
        ),
    )
    .await;
    assert_eq!((status, body.as_str()), (204, ""));
    let (status, _) = send(
        &stack,
        Method::POST,
        &format!("/Collections/{id}/Items?ids={heat},{alien}"),
    )
    .await;
    assert_eq!(status, 204);
    let items = stack.with_world(|w| w.find_collection("Leaving Soon").unwrap().items.clone());
    assert_eq!(items, [matrix.clone(), heat.clone(), alien.clone()]);

    let (mut listed, total) = children(&stack, &id, "").await;
    listed.sort();
    let mut want = vec![matrix.clone(), heat.clone(), alien.clone()];
    want.sort();
    assert_eq!((listed, total), (want.clone(), 3));
    // Paged like any /Items.
    let (first, total) = children(&stack, &id, "&startIndex=0&limit=2").await;
    let (second, _) = children(&stack, &id, "&startIndex=2&limit=2").await;
    assert_eq!((first.len(), second.len(), total), (2, 1, 3));
    let mut paged: Vec<String> = first.into_iter().chain(second).collect();
    paged.sort();
    assert_eq!(paged, want);
    // Without a user a BoxSet has no children of its own: only the recursive listing has them.
    let (_, body) = send(&stack, Method::GET, &format!("/Items?parentId={id}")).await;
    assert_eq!(ids_of(&body), (vec![], 0));

    // Remove one, and one that is not in it: both 204.
    let (status, _) = send(
        &stack,
        Method::DELETE,
        &format!(
            "/Collections/{id}/Items?ids={},{}",
            dashed(&heat),
            "0".repeat(32)
        ),
    )
    .await;
    assert_eq!(status, 204);
    let (mut listed, _) = children(&stack, &id, "").await;
    listed.sort();
    let mut want = vec![matrix.clone(), alien.clone()];
    want.sort();
    assert_eq!(listed, want);

    let writes: Vec<(String, String)> = stack
        .writes()
        .into_iter()
        .map(|(_, r)| (r.method, r.path))
        .collect();
    let items_path = format!("/Collections/{id}/Items");
    assert_eq!(
        writes,
        [
            ("POST".to_string(), "/Collections".to_string()),
            ("POST".to_string(), items_path.clone()),
            ("POST".to_string(), items_path.clone()),
            ("DELETE".to_string(), items_path),
        ]
    );
}

#[tokio::test]
async fn an_unknown_item_fails_the_whole_add_and_unknown_collections_are_400s() {
    let stack = SimStack::start(world()).await.expect("start");
    let matrix = movie_id(&stack, "The Matrix");
    let (_, body) = send(&stack, Method::POST, "/Collections?name=Soon").await;
    let id = json(&body)["Id"].as_str().unwrap().to_string();
    let stranger = "ab".repeat(16);

    let (status, body) = send(
        &stack,
        Method::POST,
        &format!("/Collections/{id}/Items?ids={matrix},{stranger}"),
    )
    .await;
    assert_eq!((status, body.as_str()), (400, "Error processing request."));
    let items = stack.with_world(|w| w.find_collection("Soon").unwrap().items.clone());
    assert!(items.is_empty(), "nothing added: {items:?}");

    // Ids that are not GUIDs are dropped before Jellyfin sees them; none left is a no-op.
    let (status, _) = send(
        &stack,
        Method::POST,
        &format!("/Collections/{id}/Items?ids=tt0133093"),
    )
    .await;
    assert_eq!(status, 204);
    assert!(stack.with_world(|w| w.find_collection("Soon").unwrap().items.is_empty()));

    for method in [Method::POST, Method::DELETE] {
        let (status, body) = send(
            &stack,
            method.clone(),
            &format!("/Collections/{stranger}/Items?ids={matrix}"),
        )
        .await;
        assert_eq!((status, body.as_str()), (400, "Error processing request."));
        // A movie is no collection either.
        let (status, _) = send(
            &stack,
            method.clone(),
            &format!("/Collections/{matrix}/Items?ids={matrix}"),
        )
        .await;
        assert_eq!(status, 400);
        let (status, body) = send(&stack, method, "/Collections/soon/Items?ids=x").await;
        assert_eq!(status, 400);
        assert!(json(&body)["errors"]["collectionId"].is_array(), "{body}");
    }
    // A parent that names nothing is a 400 too, not the whole library.
    let (status, _) = send(
        &stack,
        Method::GET,
        &format!("/Items?parentId={stranger}&recursive=true"),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = send(&stack, Method::GET, "/Collections").await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn create_with_ids_and_again_with_the_same_name() {
    let stack = SimStack::start(world()).await.expect("start");
    let (matrix, heat) = (movie_id(&stack, "The Matrix"), movie_id(&stack, "Heat"));
    let (status, body) = send(
        &stack,
        Method::POST,
        &format!("/Collections?name=Soon&ids={matrix},{}", dashed(&heat)),
    )
    .await;
    assert_eq!(status, 200);
    let id = json(&body)["Id"].as_str().unwrap().to_string();
    let items = || stack.with_world(|w| w.find_collection("Soon").unwrap().items.clone());
    assert_eq!(items(), [matrix.clone(), heat.clone()]);

    // The id follows from the name: the same name is the same collection.
    let (_, body) = send(&stack, Method::POST, "/Collections?name=Soon").await;
    assert_eq!(json(&body)["Id"], id.as_str());
    assert_eq!(items(), [matrix.clone(), heat.clone()], "kept without ids");
    let (_, body) = send(&stack, Method::POST, "/Collections?name=soon").await;
    assert_ne!(json(&body)["Id"], id.as_str(), "ids are case-sensitive");
    assert_eq!(stack.with_world(|w| w.collections.len()), 2);

    // An unknown id: the collection is made, empty, and the answer is a 400.
    let (status, _) = send(
        &stack,
        Method::POST,
        &format!("/Collections?name=Later&ids={}", "cd".repeat(16)),
    )
    .await;
    assert_eq!(status, 400);
    let later = stack.with_world(|w| w.find_collection("Later").cloned());
    assert!(later.is_some_and(|c| c.items.is_empty()));
    // No name: Jellyfin fails on it with a 500.
    let (status, _) = send(&stack, Method::POST, "/Collections").await;
    assert_eq!(status, 500);
}

#[tokio::test]
async fn an_item_jellyfin_forgot_is_not_listed_cannot_be_added_and_can_be_removed() {
    let stack = SimStack::start(world()).await.expect("start");
    let (matrix, heat) = (movie_id(&stack, "The Matrix"), movie_id(&stack, "Heat"));
    let (_, body) = send(
        &stack,
        Method::POST,
        &format!("/Collections?name=Soon&ids={matrix},{heat}"),
    )
    .await;
    let id = json(&body)["Id"].as_str().unwrap().to_string();

    // Heat's file goes; the next library scan forgets it.
    stack.with_world(|w| {
        let path = w.find_movie("Heat").unwrap().file.clone().unwrap().path;
        w.files.remove(&path);
    });
    let (status, _) = send(&stack, Method::POST, "/Library/Refresh").await;
    assert_eq!(status, 204);
    assert!(stack.with_world(|w| !w.find_movie("Heat").unwrap().in_jellyfin));

    assert_eq!(children(&stack, &id, "").await, (vec![matrix.clone()], 1));
    let kept = stack.with_world(|w| w.find_collection("Soon").unwrap().items.clone());
    assert_eq!(kept, [matrix.clone(), heat.clone()], "its link is kept");
    let (status, _) = send(
        &stack,
        Method::POST,
        &format!("/Collections/{id}/Items?ids={heat}"),
    )
    .await;
    assert_eq!(status, 400, "a forgotten item is no item");
    let (status, _) = send(
        &stack,
        Method::DELETE,
        &format!("/Collections/{id}/Items?ids={heat}"),
    )
    .await;
    assert_eq!(status, 204);
    let kept = stack.with_world(|w| w.find_collection("Soon").unwrap().items.clone());
    assert_eq!(kept, [matrix]);
}

#[tokio::test]
async fn with_a_user_a_series_brings_its_seasons_and_episodes() {
    let stack = SimStack::start(world()).await.expect("start");
    let (alice, dark) = stack.with_world(|w| {
        (
            w.users[0].id.clone(),
            w.find_series("Dark").unwrap().jellyfin_id.clone(),
        )
    });
    let (_, body) = send(
        &stack,
        Method::POST,
        &format!("/Collections?name=S&ids={dark}"),
    )
    .await;
    let id = json(&body)["Id"].as_str().unwrap().to_string();
    assert_eq!(children(&stack, &id, "").await, (vec![dark.clone()], 1));
    let (_, total) = children(&stack, &id, &format!("&userId={alice}")).await;
    assert_eq!(total, 1 + 2 + 3, "the series, its 2 seasons and 3 episodes");
    let (ids, total) = children(
        &stack,
        &id,
        &format!("&userId={alice}&includeItemTypes=Episode"),
    )
    .await;
    assert_eq!((ids.len(), total), (3, 3));
    let (_, body) = send(
        &stack,
        Method::GET,
        &format!("/Items?parentId={id}&userId={alice}"),
    )
    .await;
    assert_eq!(
        ids_of(&body),
        (vec![dark], 1),
        "not recursive: the series alone"
    );
}

#[tokio::test]
async fn injected_failures_reach_the_collection_paths() {
    let stack = SimStack::start(world()).await.expect("start");
    stack.fail_next(Service::Jellyfin, 500, 1);
    let (status, _) = send(&stack, Method::POST, "/Collections?name=Soon").await;
    assert_eq!(status, 500);
    assert!(
        stack.with_world(|w| w.collections.is_empty()),
        "not carried out"
    );
    let (_, body) = send(&stack, Method::POST, "/Collections?name=Soon").await;
    let id = json(&body)["Id"].as_str().unwrap().to_string();
    let matrix = movie_id(&stack, "The Matrix");
    stack.fail_next(Service::Jellyfin, 503, 2);
    let add = format!("/Collections/{id}/Items?ids={matrix}");
    assert_eq!(send(&stack, Method::POST, &add).await.0, 503);
    assert_eq!(send(&stack, Method::DELETE, &add).await.0, 503);
    assert!(stack.with_world(|w| w.collections[0].items.is_empty()));
    let logged = stack.requests(Service::Jellyfin);
    assert_eq!(logged.len(), 4, "refused requests are logged too");
    assert_eq!(logged[3].query, format!("ids={matrix}"));
}
