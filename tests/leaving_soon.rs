//! The notice period and the Leaving Soon collection, over HTTP against the simulated stack,
//! day by day (see `common::days`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::days::{movies, reason_of, Days};
use shelflife::plan::{Reason, Verdict};
use shelflife::state::{NoticeEvent, NoticeState};
use shelflife_sim::Service;

const THREE_DAYS: &str = "[rules]\nnotice_days = 3\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_days_notice_announces_rescues_and_deletes_only_when_due() {
    let mut days = Days::start(movies(&["Alien", "Heat", "Arrival"]), THREE_DAYS).await;
    let tz = jiff::tz::TimeZone::system();
    let due = days.at(3).to_zoned(tz).date();

    // Day 0: all three are announced and shown, nothing is deleted.
    let day0 = days.live(0).await;
    assert_eq!(day0.announced.len(), 3, "{:?}", day0.announced);
    assert_eq!(days.radarr_deletes(), 0, "nothing goes on the first day");
    for title in ["Alien", "Heat", "Arrival"] {
        assert!(days.in_collection(title), "{title} is in Leaving Soon");
        assert_eq!(reason_of(&day0, title), Reason::Scheduled { due });
        assert!(days.movie_exists(title));
    }
    let plan = days.cli(&["plan"]);
    assert!(
        plan.contains(&format!("scheduled, goes on {due}")),
        "plan shows the date: {plan}"
    );
    let status = days.cli(&["status"]);
    assert!(
        status.contains("Leaving soon: 3 items") && status.contains(&due.to_string()),
        "status lists what is leaving: {status}"
    );

    // Day 1: nothing new, nothing goes; then Heat is made a favourite, and the machine reboots.
    let day1 = days.live(1).await;
    assert!(
        day1.announced.is_empty(),
        "announced once: {:?}",
        day1.announced
    );
    assert_eq!(days.radarr_deletes(), 0);
    days.favourite("Heat");
    days.restart();

    // Day 2: Heat is off the schedule and out of the collection; the others wait.
    let day2 = days.live(2).await;
    assert_eq!(days.scheduled(), ["Alien", "Arrival"]);
    assert!(!days.in_collection("Heat"), "{:?}", days.collection());
    assert!(days.in_collection("Alien") && days.in_collection("Arrival"));
    assert_eq!(days.radarr_deletes(), 0);
    assert_eq!(day2.plan.deletions().count(), 0);
    let rescued = (days
        .state
        .notice_events(None, None, None)
        .unwrap()
        .into_iter())
    .filter(|e| e.event == NoticeEvent::Rescued)
    .map(|e| e.title)
    .collect::<Vec<_>>();
    assert_eq!(rescued.len(), 1, "{rescued:?}");
    assert!(rescued[0].contains("Heat"), "{rescued:?}");

    // Day 3: the two due items leave the collection, and only then are they deleted.
    days.stack.clear_log();
    let day3 = days.live(3).await;
    assert_eq!(day3.plan.deletions().count(), 2);
    assert!(!days.movie_exists("Alien") && !days.movie_exists("Arrival"));
    assert!(days.movie_exists("Heat"), "the favourite is never deleted");
    assert!(days.collection().is_empty(), "{:?}", days.collection());
    let writes = days.stack.writes();
    let removal = writes
        .iter()
        .position(|(s, r)| *s == Service::Jellyfin && r.method == "DELETE")
        .expect("a removal from the collection");
    let first_delete = writes
        .iter()
        .position(|(s, r)| *s == Service::Radarr && r.method == "DELETE")
        .expect("a movie delete");
    assert!(
        removal < first_delete,
        "out of the collection first: {writes:?}"
    );

    // Day 4: Heat stays; nothing is left on the schedule.
    let day4 = days.live(4).await;
    assert_eq!(day4.plan.deletions().count(), 0);
    assert!(days.scheduled().is_empty(), "{:?}", days.scheduled());
    assert!(days.movie_exists("Heat"));

    let history = days.cli(&["history"]);
    for want in ["scheduled", "rescued", "Heat", "Alien", "Arrival"] {
        assert!(history.contains(want), "{want} in history: {history}");
    }
    let json: Vec<serde_json::Value> =
        serde_json::from_str(&days.cli(&["history", "--json"])).expect("history --json");
    let events = |event: &str| json.iter().filter(|v| v["event"] == event).count();
    assert_eq!(
        (events("scheduled"), events("rescued"), events("deleted")),
        (3, 1, 2),
        "{json:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_add_does_not_start_the_notice() {
    let mut days = Days::start(movies(&["Alien"]), THREE_DAYS).await;
    days.stack
        .fail_path(Service::Jellyfin, "POST", "/Collections/", 500, 1);

    let day0 = days.live(0).await;
    assert!(day0.announced.is_empty(), "{:?}", day0.announced);
    assert!(days.scheduled().is_empty(), "not on the schedule");
    assert!(
        matches!(reason_of(&day0, "Alien"), Reason::Postponed { .. }),
        "{:?}",
        reason_of(&day0, "Alien")
    );

    // Day 1 the add goes through: the notice starts now and ends three days later.
    let day1 = days.live(1).await;
    assert_eq!(day1.announced.len(), 1);
    assert!(days.in_collection("Alien"));
    let row = &days.state.notices().unwrap()[0];
    assert_eq!(row.scheduled_at.as_second(), days.at(1).as_second());
    days.live(3).await;
    assert!(
        days.movie_exists("Alien"),
        "day 3 is two days into its notice"
    );
    days.live(4).await;
    assert!(!days.movie_exists("Alien"), "its notice has passed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_removal_postpones_the_deletion() {
    let mut days = Days::start(movies(&["Alien"]), THREE_DAYS).await;
    days.live(0).await;
    assert!(days.in_collection("Alien"));

    days.stack
        .fail_path(Service::Jellyfin, "DELETE", "/Collections/", 500, 1);
    let day3 = days.live(3).await;
    assert!(
        matches!(reason_of(&day3, "Alien"), Reason::Postponed { .. }),
        "{:?}",
        reason_of(&day3, "Alien")
    );
    assert_eq!(
        days.radarr_deletes(),
        0,
        "not deleted while it is still shown"
    );
    assert!(days.movie_exists("Alien") && days.in_collection("Alien"));

    // The next pass takes it out, then deletes it.
    days.live(4).await;
    assert!(!days.in_collection("Alien"));
    assert!(!days.movie_exists("Alien"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_taken_out_by_hand_is_kept() {
    let mut days = Days::start(movies(&["Alien", "Heat"]), THREE_DAYS).await;
    days.live(0).await;
    days.take_out_by_hand("Heat");

    let day1 = days.live(1).await;
    assert_eq!(reason_of(&day1, "Heat"), Reason::KeptByHand);
    assert!(!days.in_collection("Heat"), "not put back");
    let kept = (days.state.notices().unwrap().into_iter())
        .find(|r| r.title.contains("Heat"))
        .expect("Heat is remembered");
    assert_eq!(kept.state, NoticeState::Kept);

    let day3 = days.live(3).await;
    assert_eq!(reason_of(&day3, "Heat"), Reason::KeptByHand);
    assert!(days.movie_exists("Heat"), "kept by hand");
    assert!(!days.movie_exists("Alien"), "the other one went");
    let status = days.cli(&["status"]);
    assert!(
        status.contains("Kept:") && status.contains("Heat"),
        "{status}"
    );
    let verdicts: Vec<Verdict> = day3.plan.decisions.iter().map(|d| d.verdict).collect();
    assert_eq!(
        verdicts.iter().filter(|v| **v == Verdict::Delete).count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_notice_period_nothing_is_scheduled() {
    let mut days = Days::start(movies(&["Alien"]), "").await;
    let day0 = days.live(0).await;
    assert!(day0.announced.is_empty());
    assert!(!days.movie_exists("Alien"), "deleted at once, as before");
    assert!(days.stack.with_world(|w| w.collections.is_empty()));
    assert!(days
        .writes(Service::Jellyfin)
        .iter()
        .all(|r| !r.path.to_lowercase().contains("collections")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_item_gone_from_jellyfin_does_not_keep_the_others_from_their_notice() {
    let mut days = Days::start(movies(&["Alien", "Heat", "Arrival"]), THREE_DAYS).await;
    // Heat leaves Jellyfin's library after the pass listed it, right as the collection is
    // created: Jellyfin then refuses any add that names it, with the others in it.
    days.stack.on_request(|r, w| {
        if r.method == "POST" && r.path == "/Collections" {
            if let Some(m) = w.movies.iter_mut().find(|m| m.title == "Heat") {
                m.in_jellyfin = false;
            }
        }
    });

    let day0 = days.live(0).await;
    assert_eq!(days.scheduled(), ["Alien", "Arrival"]);
    assert!(days.in_collection("Alien") && days.in_collection("Arrival"));
    assert!(
        matches!(reason_of(&day0, "Heat"), Reason::Postponed { .. }),
        "{:?}",
        reason_of(&day0, "Heat")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_emptied_behind_our_back_is_refilled_before_anything_goes() {
    let mut days = Days::start(movies(&["Alien", "Heat"]), THREE_DAYS).await;
    days.live(0).await;
    // Jellyfin's own cleanup, after the drives mounted late, empties the collection.
    days.stack.with_world(|w| {
        for c in &mut w.collections {
            c.items.clear();
        }
    });

    let day3 = days.live(3).await;
    assert_eq!(days.radarr_deletes(), 0, "no deletion while it is refilled");
    assert!(days.in_collection("Alien") && days.in_collection("Heat"));
    assert_eq!(
        days.scheduled(),
        ["Alien", "Heat"],
        "nothing read as a rescue"
    );
    assert!(matches!(
        reason_of(&day3, "Alien"),
        Reason::Postponed { .. }
    ));

    days.live(4).await;
    assert!(!days.movie_exists("Alien") && !days.movie_exists("Heat"));
}
