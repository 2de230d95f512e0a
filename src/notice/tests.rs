#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::reconcile::{reconcile, Members};
use crate::library::JellyfinId;
use crate::plan::{Decision, Kind, Plan, Reason, Target, Verdict};
use crate::record::target_key;
use crate::state::{NoticeRow, NoticeState};

fn day(n: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap() + SignedDuration::from_hours(24 * n)
}

fn id(n: u8) -> JellyfinId {
    JellyfinId::parse(&format!("{n:032x}")).unwrap()
}

fn movie(n: u8, verdict: Verdict, reason: Reason) -> Decision {
    Decision {
        verdict,
        kind: Kind::Movie,
        title: format!("Movie {n}").into(),
        target: Target::Radarr {
            instance: "radarr".into(),
            movie_id: i32::from(n),
        },
        bytes: 1 << 30,
        reason,
        watched_at: crate::plan::LastPlay::NONE,
        jellyfin_id: Some(id(n)),
        quality: Default::default(),
    }
}

fn eligible(n: u8) -> Decision {
    movie(n, Verdict::Delete, Reason::Watched { days_ago: 9 })
}

fn plan(decisions: Vec<Decision>) -> Plan {
    Plan {
        decisions,
        ..Plan::default()
    }
}

fn scheduled(n: u8, at: Timestamp) -> NoticeRow {
    let d = eligible(n);
    NoticeRow {
        target: target_key(&d),
        title: d.title.to_string(),
        bytes: d.bytes,
        jellyfin_id: Some(id(n).to_string()),
        state: NoticeState::Scheduled,
        scheduled_at: at,
        due_at: at + SignedDuration::from_hours(72),
        kept_reason: None,
    }
}

fn holding(ids: &[u8]) -> Members {
    Members::Known(ids.iter().map(|&n| id(n)).collect::<HashSet<_>>())
}

fn utc() -> TimeZone {
    TimeZone::UTC
}

#[test]
fn a_newly_eligible_item_is_announced_and_kept_until_its_date() {
    let mut p = plan(vec![eligible(1)]);
    let changes = reconcile(&mut p, &[], &holding(&[]), day(0), 3, &utc());
    assert_eq!(p.decisions[0].verdict, Verdict::Keep);
    assert_eq!(
        p.decisions[0].reason.to_string(),
        "scheduled, goes on 2027-01-18"
    );
    assert_eq!(changes.add, vec![id(1)]);
    assert_eq!(changes.announce.len(), 1);
    assert_eq!(changes.announce[0].due_at, day(3));
    assert!(changes.due.is_empty());
}

#[test]
fn an_announced_item_goes_once_its_notice_has_passed_and_not_before() {
    let schedule = [scheduled(1, day(0))];
    let mut early = plan(vec![eligible(1)]);
    let changes = reconcile(&mut early, &schedule, &holding(&[1]), day(2), 3, &utc());
    assert_eq!(early.decisions[0].verdict, Verdict::Keep);
    assert!(changes.due.is_empty() && changes.add.is_empty() && changes.announce.is_empty());

    let mut due = plan(vec![eligible(1)]);
    let changes = reconcile(&mut due, &schedule, &holding(&[1]), day(3), 3, &utc());
    assert_eq!(due.decisions[0].verdict, Verdict::Delete);
    assert_eq!(changes.due.len(), 1);
    assert_eq!(changes.due[0].jellyfin_id, Some(id(1)));
    assert!(
        changes.remove.is_empty(),
        "due items leave just before they go"
    );
}

#[test]
fn an_item_kept_again_is_rescued_and_leaves_the_collection() {
    let schedule = [scheduled(1, day(0)), scheduled(2, day(0))];
    let favourite = Reason::Favorite {
        user: "alice".into(),
    };
    let mut p = plan(vec![eligible(1), movie(2, Verdict::Keep, favourite)]);
    let changes = reconcile(&mut p, &schedule, &holding(&[1, 2]), day(1), 3, &utc());
    assert_eq!(changes.rescue.len(), 1);
    assert_eq!(changes.rescue[0].1, "favourite of alice");
    assert_eq!(
        changes.remove,
        vec![(id(2), vec![schedule[1].target.clone()])]
    );
    assert_eq!(p.decisions[1].verdict, Verdict::Keep);
}

#[test]
fn an_item_someone_took_out_of_the_collection_is_kept() {
    let schedule = [scheduled(1, day(0)), scheduled(2, day(0))];
    let mut p = plan(vec![eligible(1), eligible(2)]);
    let changes = reconcile(&mut p, &schedule, &holding(&[1]), day(5), 3, &utc());
    assert_eq!(changes.by_hand, vec![schedule[1].target.clone()]);
    assert_eq!(p.decisions[1].reason, Reason::KeptByHand);
    assert_eq!(
        p.decisions[0].verdict,
        Verdict::Delete,
        "the other one is due"
    );
    assert!(changes.add.is_empty(), "it is not put back");

    // Kept by hand stays kept while eligible.
    let mut kept = schedule[1].clone();
    kept.state = NoticeState::Kept;
    let mut again = plan(vec![eligible(2)]);
    let changes = reconcile(&mut again, &[kept], &holding(&[]), day(9), 3, &utc());
    assert_eq!(again.decisions[0].reason, Reason::KeptByHand);
    assert!(changes.add.is_empty() && changes.by_hand.is_empty() && changes.due.is_empty());
}

#[test]
fn a_collection_emptied_at_once_is_refilled_and_deletes_nothing() {
    let schedule = [scheduled(1, day(0)), scheduled(2, day(0))];
    let mut p = plan(vec![eligible(1), eligible(2)]);
    let changes = reconcile(&mut p, &schedule, &holding(&[]), day(5), 3, &utc());
    assert!(changes.refill);
    assert!(changes.by_hand.is_empty() && changes.due.is_empty());
    assert_eq!(changes.add, vec![id(1), id(2)]);
    assert!(p.decisions.iter().all(|d| d.verdict == Verdict::Keep));
    assert!(matches!(p.decisions[0].reason, Reason::Postponed { .. }));
}

#[test]
fn an_unreadable_collection_announces_nothing_and_deletes_nothing() {
    let schedule = [scheduled(1, day(0))];
    let mut p = plan(vec![eligible(1), eligible(2)]);
    let members = Members::Unreadable("Jellyfin answered 500".into());
    let changes = reconcile(&mut p, &schedule, &members, day(5), 3, &utc());
    assert!(changes.announce.is_empty() && changes.due.is_empty() && changes.by_hand.is_empty());
    for d in &p.decisions {
        assert_eq!(d.verdict, Verdict::Keep);
        assert!(
            d.reason.to_string().contains("could not be read"),
            "{}",
            d.reason
        );
    }
}

#[test]
fn without_a_collection_the_schedule_alone_counts() {
    let schedule = [scheduled(1, day(0))];
    let mut p = plan(vec![eligible(1), eligible(2)]);
    let changes = reconcile(&mut p, &schedule, &Members::NoCollection, day(3), 3, &utc());
    assert_eq!(changes.due.len(), 1);
    assert_eq!(changes.announce.len(), 1);
    assert!(changes.add.is_empty() && changes.by_hand.is_empty());
}

#[test]
fn a_target_gone_from_the_plan_is_forgotten_and_its_item_taken_out() {
    let schedule = [scheduled(1, day(0))];
    let mut p = plan(vec![]);
    let changes = reconcile(&mut p, &schedule, &holding(&[1]), day(1), 3, &utc());
    assert_eq!(changes.forget, vec![schedule[0].target.clone()]);
    assert_eq!(changes.remove.len(), 1);
}

#[test]
fn doubt_does_not_end_an_announcement() {
    let schedule = [scheduled(1, day(0))];
    let doubt = Reason::InDoubt {
        why: "a delete may be under way".into(),
    };
    let mut p = plan(vec![movie(1, Verdict::Keep, doubt)]);
    let changes = reconcile(&mut p, &schedule, &holding(&[1]), day(1), 3, &utc());
    assert!(changes.rescue.is_empty() && changes.forget.is_empty() && changes.remove.is_empty());
}
