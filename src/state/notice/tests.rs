//! The notice schedule, its events and the outbox, in a real state file.

use tempfile::TempDir;

use super::*;

/// A fixed epoch plus `days`, so tests never read the clock.
fn day(days: i64) -> Timestamp {
    Timestamp::from_second(1_795_000_000 + days * 86_400).unwrap()
}

fn fresh() -> (TempDir, State) {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    (dir, state)
}

/// `target` announced on day `on`, due three days later.
fn row(target: TargetKey, title: &str, on: i64) -> NoticeRow {
    NoticeRow {
        target,
        title: title.to_owned(),
        bytes: 1_000,
        jellyfin_id: Some(format!("{:032x}", title.len())),
        state: NoticeState::Scheduled,
        scheduled_at: day(on),
        due_at: day(on + 3),
        kept_reason: None,
    }
}

fn heat() -> NoticeRow {
    row(TargetKey::radarr_movie(1), "Heat", 0)
}

fn alien() -> NoticeRow {
    NoticeRow {
        bytes: 2_500,
        jellyfin_id: None,
        ..row(TargetKey::radarr_movie(2).on("4k"), "Alien", 1)
    }
}

fn season() -> NoticeRow {
    row(TargetKey::sonarr_season(7, &[71, 72]), "Dark S01", 2)
}

fn events(state: &State) -> Vec<NoticeEventRow> {
    state.notice_events(None, None, None).unwrap()
}

fn states(state: &State) -> Vec<(String, NoticeState, Option<String>)> {
    (state.notices().unwrap().into_iter())
        .map(|r| (r.title, r.state, r.kept_reason))
        .collect()
}

// The schedule.

#[test]
fn a_fresh_file_has_an_empty_schedule_events_and_outbox() {
    let (_dir, state) = fresh();
    assert_eq!(state.notices().unwrap(), vec![]);
    assert_eq!(events(&state), vec![]);
    assert_eq!(state.outbox().unwrap(), vec![]);
}

#[test]
fn scheduled_rows_read_back_as_scheduled_by_due_date() {
    let (_dir, mut state) = fresh();
    // Given out of order, and one claiming another state: `schedule` makes them scheduled.
    let mut kept = season();
    kept.state = NoticeState::Kept;
    kept.kept_reason = Some("by hand".into());
    state
        .schedule(&[kept, heat(), alien()], "run-1", day(0))
        .unwrap();
    let mut want_season = season();
    want_season.state = NoticeState::Scheduled;
    assert_eq!(state.notices().unwrap(), vec![heat(), alien(), want_season]);
    let got = state.notices().unwrap();
    assert_eq!(got[0].due_at, day(3));
    assert_eq!(got[1].target.to_string(), "radarr@4k:movie:2");
    assert_eq!(got[2].target, TargetKey::sonarr_season(7, &[72, 71]));
}

#[test]
fn scheduling_records_a_scheduled_event_with_the_due_date() {
    let (_dir, mut state) = fresh();
    state.schedule(&[heat()], "run-1", day(0)).unwrap();
    state.schedule(&[season()], "run-2", day(2)).unwrap();
    assert_eq!(
        events(&state),
        vec![
            NoticeEventRow {
                at: day(2),
                run_key: Some("run-2".into()),
                target: season().target,
                title: "Dark S01".into(),
                bytes: 1_000,
                event: NoticeEvent::Scheduled,
                detail: day(5).strftime("%Y-%m-%d").to_string(),
            },
            NoticeEventRow {
                at: day(0),
                run_key: Some("run-1".into()),
                target: heat().target,
                title: "Heat".into(),
                bytes: 1_000,
                event: NoticeEvent::Scheduled,
                detail: day(3).strftime("%Y-%m-%d").to_string(),
            },
        ]
    );
    assert_eq!(events(&state)[1].detail, "2026-11-21");
}

/// What the code does (its doc says so: "replacing what a target had"): the caller announces
/// only what is not on the schedule yet, so scheduling a target again restarts its notice.
#[test]
fn scheduling_a_target_again_keeps_one_row_and_replaces_its_dates() {
    let (_dir, mut state) = fresh();
    state.schedule(&[heat()], "run-1", day(0)).unwrap();
    let mut again = row(TargetKey::radarr_movie(1), "Heat (1995)", 5);
    again.bytes = 9;
    state.schedule(&[again.clone()], "run-2", day(5)).unwrap();
    let rows = state.notices().unwrap();
    assert_eq!(rows, vec![again]);
    assert_eq!(
        rows[0].due_at,
        day(8),
        "the later due date replaced the first"
    );
    let recorded: Vec<(NoticeEvent, String)> = (events(&state).into_iter())
        .map(|e| (e.event, e.run_key.unwrap()))
        .collect();
    assert_eq!(
        recorded,
        [
            (NoticeEvent::Scheduled, "run-2".to_owned()),
            (NoticeEvent::Scheduled, "run-1".to_owned())
        ]
    );
}

#[test]
fn scheduling_a_kept_target_again_makes_it_scheduled() {
    let (_dir, mut state) = fresh();
    state.schedule(&[heat()], "run-1", day(0)).unwrap();
    state
        .keep_by_hand(&heat().target, "taken out by hand", "run-2", day(1))
        .unwrap();
    state.schedule(&[heat()], "run-3", day(2)).unwrap();
    assert_eq!(
        states(&state),
        [("Heat".to_owned(), NoticeState::Scheduled, None)]
    );
}

#[test]
fn scheduling_nothing_changes_nothing() {
    let (_dir, mut state) = fresh();
    state.schedule(&[], "run-1", day(0)).unwrap();
    assert_eq!(state.notices().unwrap(), vec![]);
    assert_eq!(events(&state), vec![]);
}

// Rescues and keeps.

#[test]
fn a_rescue_takes_the_target_off_and_records_why() {
    let (_dir, mut state) = fresh();
    state.schedule(&[heat(), alien()], "run-1", day(0)).unwrap();
    state
        .rescue(&heat().target, "favourite of ann", "run-2", day(1))
        .unwrap();
    assert_eq!(state.notices().unwrap(), vec![alien()]);
    let got = events(&state);
    assert_eq!(got.len(), 3);
    assert_eq!(
        got[0],
        NoticeEventRow {
            at: day(1),
            run_key: Some("run-2".into()),
            target: heat().target,
            title: "Heat".into(),
            bytes: 1_000,
            event: NoticeEvent::Rescued,
            detail: "favourite of ann".into(),
        }
    );
    assert!(got[1..].iter().all(|e| e.event == NoticeEvent::Scheduled));
}

#[test]
fn rescuing_what_is_not_on_the_schedule_records_nothing() {
    let (_dir, mut state) = fresh();
    state.schedule(&[heat()], "run-1", day(0)).unwrap();
    state
        .rescue(&alien().target, "favourite", "run-2", day(1))
        .unwrap();
    assert_eq!(state.notices().unwrap(), vec![heat()]);
    assert_eq!(events(&state).len(), 1);
}

#[test]
fn a_target_kept_by_hand_is_rescued_once() {
    let (_dir, mut state) = fresh();
    state.schedule(&[heat(), alien()], "run-1", day(0)).unwrap();
    state
        .keep_by_hand(&heat().target, "taken out by hand", "run-2", day(1))
        .unwrap();
    assert_eq!(
        states(&state),
        [
            (
                "Heat".to_owned(),
                NoticeState::Kept,
                Some("taken out by hand".to_owned())
            ),
            ("Alien".to_owned(), NoticeState::Scheduled, None),
        ]
    );
    let rescued = |state: &State| -> Vec<(TargetKey, String)> {
        (events(state).into_iter())
            .filter(|e| e.event == NoticeEvent::Rescued)
            .map(|e| (e.target, e.detail))
            .collect()
    };
    assert_eq!(
        rescued(&state),
        [(heat().target, "taken out by hand".to_owned())]
    );

    // Kept again, and then dropped: neither is a second rescue.
    state
        .keep_by_hand(&heat().target, "again", "run-3", day(2))
        .unwrap();
    assert_eq!(
        states(&state)[0],
        (
            "Heat".to_owned(),
            NoticeState::Kept,
            Some("taken out by hand".to_owned())
        )
    );
    state
        .rescue(&heat().target, "no longer watched", "run-4", day(3))
        .unwrap();
    assert_eq!(state.notices().unwrap(), vec![alien()]);
    assert_eq!(rescued(&state).len(), 1);
}

#[test]
fn keeping_by_hand_what_is_leaving_or_absent_does_nothing() {
    let (_dir, mut state) = fresh();
    state.schedule(&[heat()], "run-1", day(0)).unwrap();
    state.mark_leaving(&[heat().target]).unwrap();
    state
        .keep_by_hand(&heat().target, "by hand", "run-2", day(3))
        .unwrap();
    state
        .keep_by_hand(&alien().target, "by hand", "run-2", day(3))
        .unwrap();
    assert_eq!(
        states(&state),
        [("Heat".to_owned(), NoticeState::Leaving, None)]
    );
    assert_eq!(events(&state).len(), 1);
}

#[test]
fn due_targets_are_marked_leaving_but_kept_ones_stay_kept() {
    let (_dir, mut state) = fresh();
    state
        .schedule(&[heat(), alien(), season()], "run-1", day(0))
        .unwrap();
    state
        .keep_by_hand(&season().target, "by hand", "run-2", day(1))
        .unwrap();
    state
        .mark_leaving(&[heat().target, season().target, TargetKey::radarr_movie(99)])
        .unwrap();
    assert_eq!(
        states(&state),
        [
            ("Heat".to_owned(), NoticeState::Leaving, None),
            ("Alien".to_owned(), NoticeState::Scheduled, None),
            (
                "Dark S01".to_owned(),
                NoticeState::Kept,
                Some("by hand".to_owned())
            ),
        ]
    );
    // Leaving is not an event of its own (three scheduled, one kept by hand), and the row keeps
    // its dates.
    assert_eq!(events(&state).len(), 4);
    assert_eq!(state.notices().unwrap()[0].due_at, heat().due_at);
}

#[test]
fn forgotten_targets_leave_without_an_event() {
    let (_dir, mut state) = fresh();
    state
        .schedule(&[heat(), alien(), season()], "run-1", day(0))
        .unwrap();
    state
        .keep_by_hand(&season().target, "by hand", "run-2", day(1))
        .unwrap();
    state.mark_leaving(&[alien().target]).unwrap();
    let before = events(&state);
    state
        .forget_notices(&[alien().target, season().target, TargetKey::radarr_movie(99)])
        .unwrap();
    assert_eq!(state.notices().unwrap(), vec![heat()]);
    assert_eq!(events(&state), before);
    state.forget_notices(&[]).unwrap();
    assert_eq!(state.notices().unwrap(), vec![heat()]);
}

// The events, filtered.

#[test]
fn events_are_filtered_by_time_kind_and_instance() {
    let (_dir, mut state) = fresh();
    state.schedule(&[heat()], "run-1", day(0)).unwrap();
    state.schedule(&[alien()], "run-2", day(1)).unwrap();
    state.schedule(&[season()], "run-3", day(2)).unwrap();
    state
        .rescue(&heat().target, "favourite", "run-4", day(3))
        .unwrap();
    let titles = |since: Option<Timestamp>, kind: Option<ActionKind>, instance: Option<&str>| {
        let got = state.notice_events(since, kind, instance).unwrap();
        (got.into_iter())
            .map(|e| format!("{} {}", e.event.as_str(), e.title))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        titles(None, None, None),
        [
            "rescued Heat",
            "scheduled Dark S01",
            "scheduled Alien",
            "scheduled Heat"
        ]
    );
    // `since` includes its own second.
    assert_eq!(
        titles(Some(day(2)), None, None),
        ["rescued Heat", "scheduled Dark S01"]
    );
    assert_eq!(
        titles(None, Some(ActionKind::Movie), None),
        ["rescued Heat", "scheduled Alien", "scheduled Heat"]
    );
    assert_eq!(
        titles(None, Some(ActionKind::Season), None),
        ["scheduled Dark S01"]
    );
    assert_eq!(titles(None, None, Some("4k")), ["scheduled Alien"]);
    assert_eq!(
        titles(None, None, Some("radarr")),
        ["rescued Heat", "scheduled Heat"]
    );
    assert_eq!(
        titles(Some(day(1)), Some(ActionKind::Movie), Some("radarr")),
        ["rescued Heat"]
    );
    assert_eq!(
        titles(None, Some(ActionKind::Episode), None),
        Vec::<String>::new()
    );
}

#[test]
fn events_of_the_same_second_come_newest_first() {
    let (_dir, mut state) = fresh();
    state.schedule(&[heat()], "run-1", day(0)).unwrap();
    state
        .rescue(&heat().target, "favourite", "run-1", day(0))
        .unwrap();
    let got: Vec<NoticeEvent> = events(&state).into_iter().map(|e| e.event).collect();
    assert_eq!(got, [NoticeEvent::Rescued, NoticeEvent::Scheduled]);
}

// The outbox.

#[test]
fn an_enqueued_message_waits_in_the_outbox_oldest_first() {
    let (_dir, mut state) = fresh();
    state
        .enqueue("ntfy", "scheduled", r#"{"version":1}"#, day(0))
        .unwrap();
    state
        .enqueue("hook", "deleted", r#"{"version":2}"#, day(1))
        .unwrap();
    let got = state.outbox().unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0],
        OutboxRow {
            id: got[0].id,
            target: "ntfy".into(),
            event: "scheduled".into(),
            body: r#"{"version":1}"#.into(),
            created_at: day(0),
            attempts: 0,
            last_error: None,
        }
    );
    assert_eq!(
        (
            got[1].target.as_str(),
            got[1].event.as_str(),
            got[1].created_at
        ),
        ("hook", "deleted", day(1))
    );
    assert!(got[0].id < got[1].id);
}

#[test]
fn an_undelivered_message_counts_its_attempts_and_keeps_the_last_error() {
    let (_dir, mut state) = fresh();
    state.enqueue("ntfy", "scheduled", "{}", day(0)).unwrap();
    state.enqueue("hook", "scheduled", "{}", day(0)).unwrap();
    let (first, second) = {
        let rows = state.outbox().unwrap();
        (rows[0].id, rows[1].id)
    };
    state.undelivered(first, "answered 500").unwrap();
    state.undelivered(first, "no answer within 10s").unwrap();
    let got = state.outbox().unwrap();
    let seen: Vec<(i64, u32, Option<&str>)> = (got.iter())
        .map(|r| (r.id, r.attempts, r.last_error.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [(first, 2, Some("no answer within 10s")), (second, 0, None)]
    );
}

#[test]
fn a_delivered_message_leaves_the_outbox() {
    let (_dir, mut state) = fresh();
    state.enqueue("ntfy", "scheduled", "{}", day(0)).unwrap();
    state.enqueue("hook", "deleted", "{}", day(0)).unwrap();
    let rows = state.outbox().unwrap();
    state.undelivered(rows[0].id, "answered 500").unwrap();
    state.delivered(rows[0].id).unwrap();
    let left = state.outbox().unwrap();
    assert_eq!(left, vec![rows[1].clone()]);
    // Twice, or an id that is not there, is not an error.
    state.delivered(rows[0].id).unwrap();
    state.delivered(12_345).unwrap();
    state.undelivered(12_345, "gone").unwrap();
    assert_eq!(state.outbox().unwrap(), left);
}

#[test]
fn the_schedule_and_the_outbox_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    {
        let mut state = State::open(&path).unwrap();
        state.schedule(&[heat()], "run-1", day(0)).unwrap();
        state.enqueue("ntfy", "scheduled", "{}", day(0)).unwrap();
    }
    let state = State::open(&path).unwrap();
    assert_eq!(state.notices().unwrap(), vec![heat()]);
    assert_eq!(events(&state).len(), 1);
    assert_eq!(state.outbox().unwrap().len(), 1);
}
