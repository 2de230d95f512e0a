//! Seerr's cleanups in a real state file: kept with their actions (one transaction), due once the action is done,
//! ended or retried, shown in `history`, and pruned with their actions.

use tempfile::TempDir;

use super::*;
use crate::state::{Mode, NewAction, Outcome, RunCounts, TargetKey};

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_795_000_000 + secs).unwrap()
}

fn fresh() -> (TempDir, State) {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    (dir, state)
}

fn action(target: TargetKey, title: &str) -> NewAction {
    NewAction {
        target,
        title: title.to_owned(),
        reason: "watched 9 days ago".to_owned(),
        bytes: 1_000,
        target_json: "{}".to_owned(),
        lost: Default::default(),
    }
}

fn cleanup(action: ActionId, kind: CleanupKind, season: Option<i32>) -> NewCleanup {
    NewCleanup {
        action,
        kind,
        tmdb_id: Some(603),
        tvdb_id: (kind != CleanupKind::Movie).then_some(81189),
        season,
        series_key: (kind != CleanupKind::Movie).then(|| "sonarr:7".to_owned()),
    }
}

fn done(state: &mut State, id: ActionId) {
    state.mark_started(id, at(1)).unwrap();
    state.mark_done(id, at(2)).unwrap();
}

#[test]
fn a_cleanup_is_due_once_its_action_is_done() {
    let (_dir, mut state) = fresh();
    let run = state.begin_run("r", Mode::Live, at(0), 1).unwrap();
    let ids = state
        .plan_actions_with(
            run,
            &[action(TargetKey::radarr_movie(1), "Heat (1995)")],
            at(0),
            |ids| vec![cleanup(ids[0], CleanupKind::Movie, None)],
        )
        .unwrap();
    assert!(state.due_cleanups().unwrap().is_empty(), "not deleted yet");

    done(&mut state, ids[0]);
    let due = state.due_cleanups().unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (
            due[0].kind,
            due[0].tmdb_id,
            due[0].title.as_str(),
            due[0].attempts
        ),
        (CleanupKind::Movie, Some(603), "Heat (1995)", 0)
    );

    state
        .retry_cleanup(due[0].id, "Seerr is unavailable", at(3))
        .unwrap();
    let again = state.due_cleanups().unwrap();
    assert_eq!(again[0].attempts, 1, "still due, one attempt more");

    state
        .end_cleanup(due[0].id, CleanupEnd::Cleaned, "media 1001 removed", at(4))
        .unwrap();
    assert!(state.due_cleanups().unwrap().is_empty(), "done for good");
    state
        .finish_run(run, Outcome::Completed, None, RunCounts::default(), at(5))
        .unwrap();
    let history = state.history(None, None, None).unwrap();
    assert_eq!(history[0].seerr.as_deref(), Some("cleaned"));
    assert_eq!(
        history[0].seerr_detail.as_deref(),
        Some("media 1001 removed")
    );

    // Pruned with its action.
    state.prune(at(100)).unwrap();
    let left: i64 = state
        .read(|c| Ok(c.query_row("SELECT count(*) FROM seerr_cleanups", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(left, 0);
}

#[test]
fn a_series_waits_for_its_seasons_and_notices_one_that_stayed() {
    let (_dir, mut state) = fresh();
    let run = state.begin_run("r", Mode::Live, at(0), 1).unwrap();
    let ids = state
        .plan_actions_with(
            run,
            &[
                action(TargetKey::sonarr_season(7, &[1, 2]), "Dark S01"),
                action(TargetKey::sonarr_season(7, &[3, 4]), "Dark S02"),
            ],
            at(0),
            |ids| {
                vec![
                    cleanup(ids[0], CleanupKind::Series, Some(1)),
                    cleanup(ids[1], CleanupKind::Series, Some(2)),
                ]
            },
        )
        .unwrap();
    done(&mut state, ids[0]);
    let due = state.due_cleanups().unwrap();
    assert_eq!(due.len(), 1);
    assert!(due[0].siblings_open && !due[0].siblings_kept, "{due:?}");

    state.mark_started(ids[1], at(1)).unwrap();
    state.mark_failed(ids[1], "Sonarr said 500", at(2)).unwrap();
    let due = state.due_cleanups().unwrap();
    assert!(!due[0].siblings_open && due[0].siblings_kept, "{due:?}");
}

#[test]
fn actions_and_their_cleanups_are_kept_all_or_nothing() {
    let (_dir, mut state) = fresh();
    let run = state.begin_run("r", Mode::Live, at(0), 1).unwrap();
    // A cleanup for an action id that does not exist twice over: the UNIQUE action_id fails the
    // transaction, and the actions go with it.
    let failed = state.plan_actions_with(
        run,
        &[action(TargetKey::radarr_movie(1), "Heat (1995)")],
        at(0),
        |ids| {
            vec![
                cleanup(ids[0], CleanupKind::Movie, None),
                cleanup(ids[0], CleanupKind::Movie, None),
            ]
        },
    );
    assert!(failed.is_err());
    assert!(
        state.run_actions(run).unwrap().is_empty(),
        "no action without its cleanup"
    );
}
