//! Tests of the state database against real files.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rusqlite::Connection;
use tempfile::TempDir;

use super::journal::{INTERRUPTED_REASON, NEVER_STARTED};
use super::migrations::{self, MIGRATIONS};
use super::*;
use crate::health::Health;

mod disk;

/// A fixed epoch plus `secs`, so tests never read the clock.
fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_795_000_000 + secs).unwrap()
}

fn fresh() -> (TempDir, PathBuf, State) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let state = State::open(&path).unwrap();
    (dir, path, state)
}

fn movie(id: i64, title: &str) -> NewAction {
    NewAction {
        target: TargetKey::radarr_movie(id),
        title: title.to_owned(),
        reason: "watched 9 days ago".to_owned(),
        bytes: 1_000 * id as u64,
        target_json: format!(r#"{{"service":"radarr","movie_id":{id}}}"#),
        lost: LostMedia::default(),
    }
}

fn episodes(series: i64, files: &[i64], title: &str) -> NewAction {
    NewAction {
        target: TargetKey::sonarr_episode(series, files),
        title: title.to_owned(),
        reason: "watched 6 days ago".to_owned(),
        bytes: 500,
        target_json: format!(
            r#"{{"service":"sonarr","series_id":{series},"episode_file_ids":{files:?}}}"#
        ),
        lost: LostMedia::default(),
    }
}

fn season(series: i64, files: &[i64], title: &str) -> NewAction {
    NewAction {
        target: TargetKey::sonarr_season(series, files),
        ..episodes(series, files, title)
    }
}

/// Every schema object with its SQL, for comparing a migrated file with a fresh one.
fn schema_of(path: &Path) -> Vec<(String, String, Option<String>)> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

fn pragma_i64(path: &Path, name: &str) -> i64 {
    let conn = Connection::open(path).unwrap();
    conn.pragma_query_value(None, name, |r| r.get(0)).unwrap()
}

/// A database at `version`, as an older shelflife left it.
fn make_at_version(path: &Path, version: i64) {
    let mut conn = Connection::open(path).unwrap();
    if version > 0 {
        let tx = conn.transaction().unwrap();
        migrations::apply(&tx, MIGRATIONS, 0, version).unwrap();
        tx.commit().unwrap();
    }
}

#[test]
fn a_missing_file_is_created_at_the_current_version_with_the_expected_settings() {
    let (_dir, path, state) = fresh();
    let conn = &state.conn;
    let get = |name: &str| -> String {
        conn.pragma_query_value(None, name, |r| r.get::<_, rusqlite::types::Value>(0))
            .map(|v| format!("{v:?}"))
            .unwrap()
    };
    assert_eq!(get("journal_mode"), r#"Text("wal")"#);
    assert_eq!(get("synchronous"), "Integer(2)", "synchronous=FULL");
    assert_eq!(get("foreign_keys"), "Integer(1)");
    assert_eq!(get("busy_timeout"), "Integer(5000)");
    drop(state);
    assert_eq!(pragma_i64(&path, "user_version"), SCHEMA_VERSION);
    assert_eq!(
        pragma_i64(&path, "application_id"),
        i64::from(APPLICATION_ID)
    );
}

#[test]
fn an_empty_file_is_initialised() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    std::fs::write(&path, b"").unwrap();
    let mut state = State::open(&path).unwrap();
    state.begin_run("r1", Mode::Live, at(0), 1).unwrap();
    assert_eq!(state.last_run().unwrap().unwrap().run_key, "r1");
}

#[test]
fn every_earlier_version_migrates_to_the_fresh_schema() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("fresh.db");
    drop(State::open(&reference).unwrap());
    let want = schema_of(&reference);
    for version in 0..SCHEMA_VERSION {
        let path = dir.path().join(format!("v{version}.db"));
        make_at_version(&path, version);
        drop(State::open(&path).unwrap());
        assert_eq!(schema_of(&path), want, "migrated from version {version}");
        assert_eq!(pragma_i64(&path, "user_version"), SCHEMA_VERSION);
        // Reopening a current file changes nothing.
        drop(State::open(&path).unwrap());
        assert_eq!(schema_of(&path), want);
    }
}

#[test]
fn actions_of_a_version_3_file_learn_the_instance_of_their_service() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    make_at_version(&path, 3);
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "INSERT INTO runs (id, run_key, started_at, mode, pid) VALUES (1, 'old', 0, 'live', 1);
             INSERT INTO actions (run_id, service, target_id, kind, target_key, title, reason,
                                  bytes, target_json, state, planned_at, finished_at)
             VALUES (1, 'radarr', 7, 'movie', 'radarr:movie:7', 'Heat', 'watched', 1,
                     '{\"service\":\"radarr\",\"movie_id\":7}', 'done', 0, 10),
                    (1, 'sonarr', 3, 'season', 'sonarr:season:3:1,2', 'Dark S01', 'watched',
                     1, 'not json', 'done', 0, 20);",
        )
        .unwrap();
    }
    let state = State::open(&path).unwrap();
    let rows: Vec<(String, String)> = state
        .conn
        .prepare("SELECT instance, target_json FROM actions ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let target: serde_json::Value = serde_json::from_str(&rows[0].1).unwrap();
    assert_eq!(rows[0].0, "radarr");
    assert_eq!(target["instance"], "radarr");
    assert_eq!(target["movie_id"], 7);
    // A damaged target is left as it was, not made to fail the migration.
    assert_eq!(rows[1], ("sonarr".to_owned(), "not json".to_owned()));
    // And the old rows answer to their instance's name.
    let titles: Vec<String> = state
        .history(None, None, Some("sonarr"))
        .unwrap()
        .into_iter()
        .map(|r| r.title)
        .collect();
    assert_eq!(titles, ["Dark S01"]);
}

#[test]
fn concurrent_first_opens_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || State::open(&path).map(drop))
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    assert_eq!(pragma_i64(&path, "user_version"), SCHEMA_VERSION);
}

#[test]
fn a_missing_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope").join("state.db");
    let err = State::open(&path).unwrap_err();
    assert!(matches!(err, StateError::NoDirectory { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "the state directory {} does not exist (create it, or set [state] path)",
            dir.path().join("nope").display()
        )
    );
    assert!(!dir.path().join("nope").exists());
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() {
    let (_dir, path, state) = fresh();
    drop(state);
    let newer = SCHEMA_VERSION + 1;
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", newer)
        .unwrap();
    let err = State::open(&path).unwrap_err();
    let StateError::TooNew { found, known, .. } = &err else {
        panic!("expected TooNew, got {err:?}");
    };
    assert_eq!((*found, *known), (newer, SCHEMA_VERSION));
    assert_eq!(
        err.to_string(),
        format!(
            "{} has schema version {newer}, this shelflife knows up to {SCHEMA_VERSION}: upgrade shelflife or restore a backup",
            path.display()
        )
    );
    assert_eq!(pragma_i64(&path, "user_version"), newer);
}

#[test]
fn a_foreign_sqlite_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE movies (id INTEGER PRIMARY KEY); INSERT INTO movies VALUES (1);",
        )
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = State::open(&path).unwrap_err();
    assert!(matches!(err, StateError::NotShelflife { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "{} is a SQLite database of another program",
            path.display()
        )),
        "{msg}"
    );
    // Not switched to WAL, not migrated: byte for byte the same.
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_sqlite_file_of_another_application_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "application_id", 0x0f00_0001)
        .unwrap();
    let err = State::open(&path).unwrap_err();
    assert!(
        err.to_string().contains("application_id 0x0f000001"),
        "{err}"
    );
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let text = "dry_run = true\n".repeat(100);
    std::fs::write(&path, &text).unwrap();
    let err = State::open(&path).unwrap_err();
    assert!(matches!(err, StateError::Corrupt { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("file is not a database"), "{msg}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn a_damaged_database_is_refused() {
    let (_dir, path, mut state) = fresh();
    state.begin_run("r1", Mode::Live, at(0), 1).unwrap();
    drop(state);
    // Overwrite the catalogue on page 1 after the 100-byte header.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[100..4096].fill(0xa5);
    std::fs::write(&path, &bytes).unwrap();
    let err = State::open(&path).unwrap_err();
    assert!(matches!(err, StateError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()));
}

#[test]
fn a_run_and_its_actions_are_journaled_from_plan_to_finish() {
    let (_dir, _path, mut state) = fresh();
    let run = state
        .begin_run("2026-11-23T03:00:12Z-1", Mode::Live, at(0), 4242)
        .unwrap();
    let ids = state
        .plan_actions(
            run,
            &[
                movie(1, "Alien"),
                movie(2, "Heat"),
                episodes(7, &[70], "Dark S01E01"),
            ],
            at(1),
        )
        .unwrap();
    assert_eq!(ids.len(), 3);
    state.mark_started(ids[0], at(2)).unwrap();
    state.mark_done(ids[0], at(3)).unwrap();
    state.mark_started(ids[1], at(4)).unwrap();
    state.mark_failed(ids[1], "HTTP 500", at(5)).unwrap();
    state
        .mark_skipped(ids[2], "paused: /srv/media not mounted", at(6))
        .unwrap();
    let counts = RunCounts {
        planned: 3,
        deleted: 1,
        failed: 1,
        kept: 10,
        bytes_deleted: 1_000,
    };
    state
        .finish_run(
            run,
            Outcome::Paused,
            Some("/srv/media not mounted"),
            counts,
            at(7),
        )
        .unwrap();

    let row = state.last_run().unwrap().unwrap();
    assert_eq!(
        row,
        RunRow {
            id: run,
            run_key: "2026-11-23T03:00:12Z-1".to_owned(),
            started_at: at(0),
            finished_at: Some(at(7)),
            mode: Mode::Live,
            outcome: Some(Outcome::Paused),
            reason: Some("/srv/media not mounted".to_owned()),
            pid: 4242,
            counts,
        }
    );
    let actions = state.run_actions(run).unwrap();
    let summary: Vec<_> = actions
        .iter()
        .map(|a| (a.state, a.started_at, a.finished_at, a.error.as_deref()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (ActionState::Done, Some(at(2)), Some(at(3)), None),
            (
                ActionState::Failed,
                Some(at(4)),
                Some(at(5)),
                Some("HTTP 500")
            ),
            (
                ActionState::Skipped,
                None,
                Some(at(6)),
                Some("paused: /srv/media not mounted")
            ),
        ]
    );
    let first = &actions[0];
    assert_eq!(first.target, TargetKey::radarr_movie(1));
    assert_eq!(first.title, "Alien");
    assert_eq!(first.bytes, 1_000);
    assert_eq!(first.planned_at, at(1));
    assert_eq!(first.target_json, movie(1, "Alien").target_json);
    assert_eq!(actions[2].target, TargetKey::sonarr_episode(7, &[70]));
    assert!(state.unfinished_runs().unwrap().is_empty());
    assert!(state.pending_actions().unwrap().is_empty());
    assert!(state.started_actions().unwrap().is_empty());
}

#[test]
fn wrong_transitions_are_refused_and_change_nothing() {
    let (_dir, _path, mut state) = fresh();
    let run = state.begin_run("r1", Mode::Live, at(0), 1).unwrap();
    let ids = state
        .plan_actions(run, &[movie(1, "A"), movie(2, "B")], at(0))
        .unwrap();
    state.mark_started(ids[0], at(1)).unwrap();
    state.mark_done(ids[0], at(2)).unwrap();

    let err = state.mark_started(ids[0], at(3)).unwrap_err();
    assert!(
        matches!(err, StateError::InvalidTransition { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().ends_with(&format!(
            "action {} is done: cannot become started",
            ids[0].0
        )),
        "{err}"
    );
    assert!(matches!(
        state.mark_done(ids[1], at(3)),
        Err(StateError::InvalidTransition { .. })
    ));
    assert!(matches!(
        state.mark_failed(ids[0], "late", at(3)),
        Err(StateError::InvalidTransition { .. })
    ));
    assert!(matches!(
        state.mark_started(ActionId(999), at(3)),
        Err(StateError::NotFound {
            entity: "action",
            id: 999,
            ..
        })
    ));
    let rows = state.run_actions(run).unwrap();
    assert_eq!(rows[0].state, ActionState::Done);
    assert_eq!(rows[0].finished_at, Some(at(2)));
    assert_eq!(rows[1].state, ActionState::Planned);

    state
        .finish_run(run, Outcome::Completed, None, RunCounts::default(), at(4))
        .unwrap();
    let again = state.finish_run(run, Outcome::Failed, None, RunCounts::default(), at(5));
    assert!(again
        .unwrap_err()
        .to_string()
        .ends_with("run 1 is finished (completed): cannot become failed"));
    assert!(matches!(
        state.plan_actions(run, &[movie(3, "C")], at(5)),
        Err(StateError::InvalidTransition { .. })
    ));
    // A planned action of a finished pass is a stale plan: it never starts.
    let stale = state.mark_started(ids[1], at(5)).unwrap_err();
    assert!(
        stale.to_string().contains("is planned in a finished run"),
        "{stale}"
    );
    assert!(matches!(
        state.mark_interrupted(run, at(5)),
        Err(StateError::InvalidTransition { .. })
    ));
    assert_eq!(
        state.run(run).unwrap().unwrap().outcome,
        Some(Outcome::Completed)
    );
    assert!(state.run_actions(run).unwrap().len() == 2);
}

#[test]
fn a_duplicate_run_key_is_a_write_error() {
    let (_dir, _path, mut state) = fresh();
    state.begin_run("r1", Mode::Live, at(0), 1).unwrap();
    let err = state.begin_run("r1", Mode::Live, at(1), 1).unwrap_err();
    assert!(matches!(err, StateError::Write { .. }), "{err:?}");
}

#[test]
fn after_a_crash_the_next_pass_finds_what_to_settle() {
    let (_dir, path, mut state) = fresh();
    let run = state.begin_run("r1", Mode::Live, at(0), 1).unwrap();
    let ids = state
        .plan_actions(run, &[movie(1, "A"), movie(2, "B"), movie(3, "C")], at(0))
        .unwrap();
    state.mark_started(ids[0], at(1)).unwrap();
    state.mark_done(ids[0], at(2)).unwrap();
    state.mark_started(ids[1], at(3)).unwrap();
    drop(state); // the process dies here, DELETE of B in flight

    let mut state = State::open(&path).unwrap();
    let unfinished = state.unfinished_runs().unwrap();
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].id, run);
    let pending: Vec<_> = state
        .pending_actions()
        .unwrap()
        .iter()
        .map(|a| (a.id, a.state))
        .collect();
    assert_eq!(
        pending,
        vec![
            (ids[1], ActionState::Started),
            (ids[2], ActionState::Planned)
        ]
    );
    let started: Vec<_> = state
        .started_actions()
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(started, vec![ids[1]]);

    state.mark_interrupted(run, at(10)).unwrap();
    let row = state.run(run).unwrap().unwrap();
    assert_eq!(row.outcome, Some(Outcome::Interrupted));
    assert_eq!(row.finished_at, Some(at(10)));
    assert_eq!(row.reason.as_deref(), Some(INTERRUPTED_REASON));
    assert_eq!(
        (
            row.counts.planned,
            row.counts.deleted,
            row.counts.bytes_deleted
        ),
        (3, 1, 1_000)
    );
    let never = &state.run_actions(run).unwrap()[2];
    assert_eq!(
        (never.state, never.error.as_deref()),
        (ActionState::Skipped, Some(NEVER_STARTED))
    );
    assert!(state.unfinished_runs().unwrap().is_empty());
    // The started one survives the interruption, pending, until the caller asked the *arr.
    let started: Vec<_> = state
        .started_actions()
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(started, vec![ids[1]]);
    let pending: Vec<_> = state
        .pending_actions()
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(pending, vec![ids[1]]);
    state.mark_done(ids[1], at(11)).unwrap();
    assert!(state.started_actions().unwrap().is_empty());
    assert!(state.pending_actions().unwrap().is_empty());
    assert!(state.is_done(&TargetKey::radarr_movie(2)).unwrap());
    assert!(!state.is_done(&TargetKey::radarr_movie(3)).unwrap());
}

#[test]
fn done_targets_count_only_live_deletions_of_that_exact_target() {
    let (_dir, _path, mut state) = fresh();
    let live = state.begin_run("live", Mode::Live, at(0), 1).unwrap();
    let ids = state
        .plan_actions(
            live,
            &[
                movie(1, "A"),
                season(7, &[71, 72], "Dark S01"),
                movie(4, "D"),
            ],
            at(0),
        )
        .unwrap();
    for id in &ids {
        state.mark_started(*id, at(1)).unwrap();
    }
    state.mark_done(ids[0], at(2)).unwrap();
    state.mark_done(ids[1], at(2)).unwrap();
    state.mark_failed(ids[2], "HTTP 500", at(2)).unwrap();
    let dry = state.begin_run("dry", Mode::DryRun, at(3), 1).unwrap();
    let dry_ids = state.plan_actions(dry, &[movie(2, "B")], at(3)).unwrap();
    state.mark_started(dry_ids[0], at(3)).unwrap();
    state.mark_done(dry_ids[0], at(3)).unwrap();

    assert!(state.is_done(&TargetKey::radarr_movie(1)).unwrap());
    assert!(
        !state.is_done(&TargetKey::radarr_movie(2)).unwrap(),
        "dry run"
    );
    assert!(
        !state.is_done(&TargetKey::radarr_movie(4)).unwrap(),
        "failed"
    );
    assert!(state
        .is_done(&TargetKey::sonarr_season(7, &[72, 71]))
        .unwrap());
    assert!(!state
        .is_done(&TargetKey::sonarr_episode(7, &[71, 72]))
        .unwrap());
    assert!(!state
        .is_done(&TargetKey::sonarr_season(7, &[71, 73]))
        .unwrap());
    let done = state.done_targets().unwrap();
    assert_eq!(
        done,
        [
            TargetKey::radarr_movie(1),
            TargetKey::sonarr_season(7, &[71, 72])
        ]
        .into_iter()
        .collect()
    );
}

#[test]
fn history_lists_live_deletions_newest_first_with_filters() {
    let (_dir, _path, mut state) = fresh();
    let r1 = state.begin_run("r1", Mode::Live, at(0), 1).unwrap();
    let a = state
        .plan_actions(
            r1,
            &[
                movie(1, "Alien"),
                episodes(7, &[70], "Dark S01E01"),
                movie(2, "Heat"),
            ],
            at(0),
        )
        .unwrap();
    let done_at = [100, 300, 200];
    for (id, t) in a.iter().zip(done_at) {
        state.mark_started(*id, at(t - 1)).unwrap();
        state.mark_done(*id, at(t)).unwrap();
    }
    let r2 = state.begin_run("r2", Mode::Live, at(400), 1).unwrap();
    let b = state
        .plan_actions(
            r2,
            &[season(7, &[71, 72], "Dark S02"), movie(3, "Ran")],
            at(400),
        )
        .unwrap();
    state.mark_started(b[0], at(401)).unwrap();
    state.mark_done(b[0], at(500)).unwrap();
    state.mark_started(b[1], at(401)).unwrap();
    state.mark_failed(b[1], "HTTP 500", at(500)).unwrap();
    let dry = state.begin_run("dry", Mode::DryRun, at(600), 1).unwrap();
    let c = state
        .plan_actions(dry, &[movie(4, "Dry")], at(600))
        .unwrap();
    state.mark_started(c[0], at(600)).unwrap();
    state.mark_done(c[0], at(600)).unwrap();

    // A movie deleted through a second Radarr, whose movie ids overlap the first's.
    let r3 = state.begin_run("r3", Mode::Live, at(40), 1).unwrap();
    let in_4k = NewAction {
        target: TargetKey::radarr_movie(1).on("4k"),
        ..movie(1, "Dune")
    };
    let d = state.plan_actions(r3, &[in_4k], at(40)).unwrap();
    state.mark_started(d[0], at(49)).unwrap();
    state.mark_done(d[0], at(50)).unwrap();

    let titles = |rows: Vec<HistoryRow>| rows.into_iter().map(|r| r.title).collect::<Vec<_>>();
    assert_eq!(
        titles(state.history(None, None, Some("4k")).unwrap()),
        ["Dune"]
    );
    assert_eq!(
        titles(
            state
                .history(None, Some(ActionKind::Movie), Some("radarr"))
                .unwrap()
        ),
        ["Heat", "Alien"]
    );
    assert_eq!(
        state.history(None, None, Some("4k")).unwrap()[0].target,
        TargetKey::radarr_movie(1).on("4k")
    );
    assert_eq!(
        titles(state.history(None, None, None).unwrap()),
        ["Dark S02", "Dark S01E01", "Heat", "Alien", "Dune"]
    );
    assert_eq!(
        titles(state.history(Some(at(200)), None, None).unwrap()),
        ["Dark S02", "Dark S01E01", "Heat"]
    );
    assert_eq!(
        titles(state.history(None, Some(ActionKind::Movie), None).unwrap()),
        ["Heat", "Alien", "Dune"]
    );
    assert_eq!(
        titles(
            state
                .history(Some(at(250)), Some(ActionKind::Episode), None)
                .unwrap()
        ),
        ["Dark S01E01"]
    );
    let newest = &state.history(None, None, None).unwrap()[0];
    assert_eq!(newest.run_key, "r2");
    assert_eq!(newest.deleted_at, at(500));
    assert_eq!(newest.bytes, 500);
    assert_eq!(newest.reason, "watched 6 days ago");
    assert_eq!(newest.target, TargetKey::sonarr_season(7, &[71, 72]));
}

#[test]
fn history_says_what_each_deletion_took_away() {
    let (_dir, _path, mut state) = fresh();
    let run = state.begin_run("r1", Mode::Live, at(0), 1).unwrap();
    let dune = NewAction {
        lost: LostMedia::truehd_remux(),
        ..movie(1, "Dune")
    };
    let ids = state
        .plan_actions(run, &[dune, movie(2, "Heat")], at(0))
        .unwrap();
    for (n, id) in ids.iter().enumerate() {
        state.mark_started(*id, at(1)).unwrap();
        state.mark_done(*id, at(2 + n as i64)).unwrap();
    }
    let rows = state.history(None, None, None).unwrap();
    let lost: Vec<(&str, &LostMedia)> = rows.iter().map(|r| (&*r.title, &r.lost)).collect();
    assert_eq!(
        lost,
        [
            ("Heat", &LostMedia::default()),
            ("Dune", &LostMedia::truehd_remux())
        ]
    );
}

#[test]
fn actions_of_a_version_6_file_have_nothing_to_say_of_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v6.db");
    make_at_version(&path, 6);
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "INSERT INTO runs (id, run_key, started_at, mode, pid) VALUES (1, 'old', 0, 'live', 1);
             INSERT INTO actions (run_id, service, target_id, kind, target_key, title, reason,
                                  bytes, target_json, state, planned_at, finished_at, instance)
             VALUES (1, 'radarr', 7, 'movie', 'radarr:movie:7', 'Heat', 'watched', 1,
                     '{}', 'done', 0, 10, 'radarr');",
        )
        .unwrap();
    }
    let state = State::open(&path).unwrap();
    let rows = state.history(None, None, None).unwrap();
    assert_eq!(rows[0].title, "Heat");
    assert_eq!(rows[0].lost, LostMedia::default());
    // The columns refuse what no pass writes.
    for bad in [
        "UPDATE actions SET lossless = 2",
        "UPDATE actions SET resolution = 0",
        "UPDATE actions SET audio_channels = -1",
    ] {
        assert!(state.conn.execute(bad, []).is_err(), "{bad}");
    }
}

#[test]
fn prune_drops_old_finished_runs_only() {
    let (_dir, _path, mut state) = fresh();
    let finish = |state: &mut State, run, t| {
        state
            .finish_run(run, Outcome::Completed, None, RunCounts::default(), at(t))
            .unwrap()
    };
    let old = state.begin_run("old", Mode::Live, at(0), 1).unwrap();
    let old_ids = state
        .plan_actions(old, &[movie(1, "A"), movie(2, "B")], at(0))
        .unwrap();
    state.mark_started(old_ids[0], at(1)).unwrap();
    state.mark_done(old_ids[0], at(2)).unwrap();
    finish(&mut state, old, 10);
    let unsettled = state.begin_run("unsettled", Mode::Live, at(0), 1).unwrap();
    let u = state
        .plan_actions(unsettled, &[movie(5, "E")], at(0))
        .unwrap();
    state.mark_started(u[0], at(1)).unwrap();
    state.mark_interrupted(unsettled, at(10)).unwrap();
    let running = state.begin_run("running", Mode::Live, at(0), 1).unwrap();
    state
        .plan_actions(running, &[movie(3, "C")], at(0))
        .unwrap();
    let recent = state.begin_run("recent", Mode::Live, at(500), 1).unwrap();
    state
        .plan_actions(recent, &[movie(4, "D")], at(500))
        .unwrap();
    finish(&mut state, recent, 510);

    let counts = state.prune(at(100)).unwrap();
    assert_eq!(
        counts,
        PruneCounts {
            runs: 1,
            actions: 2,
            health_rows: 0,
            notice_events: 0
        }
    );
    assert!(state.run(old).unwrap().is_none());
    assert!(state.run_actions(old).unwrap().is_empty());
    for kept in [unsettled, running, recent] {
        assert!(state.run(kept).unwrap().is_some(), "{kept} was pruned");
    }
    assert_eq!(state.prune(at(100)).unwrap(), PruneCounts::default());
}

#[test]
fn prune_drops_old_leaving_soon_events_and_keeps_the_schedule() {
    let (_dir, _path, mut state) = fresh();
    let row = |id: i64, on: i64| crate::state::NoticeRow {
        target: TargetKey::radarr_movie(id),
        title: format!("Movie {id}"),
        bytes: 1,
        jellyfin_id: None,
        state: crate::state::NoticeState::Scheduled,
        scheduled_at: at(on),
        due_at: at(on + 50),
        kept_reason: None,
    };
    state.schedule(&[row(1, 0)], "old", at(0)).unwrap();
    state.schedule(&[row(2, 500)], "new", at(500)).unwrap();

    let counts = state.prune(at(100)).unwrap();
    assert_eq!(counts.notice_events, 1);
    let left: Vec<String> = (state.notice_events(None, None, None).unwrap().into_iter())
        .map(|e| e.title)
        .collect();
    assert_eq!(left, ["Movie 2"]);
    assert_eq!(state.notices().unwrap().len(), 2, "what is due stays");
}

#[test]
fn backup_while_another_connection_writes_is_consistent() {
    use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
    let (dir, path, reader) = fresh();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    // Runs the writer has finished: each copy waits for one more than the last copy held.
    let finished = std::sync::Arc::new(AtomicI64::new(0));
    let writer = {
        let (path, stop, finished) = (path.clone(), stop.clone(), finished.clone());
        std::thread::spawn(move || {
            let mut state = State::open(&path).unwrap();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let run = state
                    .begin_run(&format!("r{n}"), Mode::Live, at(n), 1)
                    .unwrap();
                let actions: Vec<_> = (0..3).map(|i| movie(n * 10 + i, "M")).collect();
                state.plan_actions(run, &actions, at(n)).unwrap();
                let counts = RunCounts {
                    planned: 3,
                    ..RunCounts::default()
                };
                state
                    .finish_run(run, Outcome::Completed, None, counts, at(n))
                    .unwrap();
                finished.store(n, Ordering::SeqCst);
            }
            n
        })
    };
    let dest = dir.path().join("backup.db");
    let mut seen: Vec<i64> = Vec::new();
    for _ in 0..5 {
        let last = seen.last().copied().unwrap_or(0);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while finished.load(Ordering::SeqCst) <= last {
            assert!(std::time::Instant::now() < deadline, "the writer is stuck");
            std::thread::yield_now();
        }
        reader.backup_to(&dest).unwrap();
        let copy = State::open(&dest).unwrap();
        let check = |sql: &str| -> i64 { copy.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        // Each run's plan was one transaction: a copy holds all three actions of a run or none.
        let torn = check(
            "SELECT count(*) FROM runs r WHERE (SELECT count(*) FROM actions a WHERE a.run_id = r.id) NOT IN (0, 3)",
        );
        let finished_unplanned = check(
            "SELECT count(*) FROM runs r WHERE r.finished_at IS NOT NULL
             AND (SELECT count(*) FROM actions a WHERE a.run_id = r.id) != r.planned",
        );
        assert_eq!((torn, finished_unplanned), (0, 0));
        seen.push(check("SELECT count(*) FROM runs"));
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    // Every copy saw writes the one before it had not.
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert!(seen[0] > 0, "{seen:?}");
    assert!(
        !dest.with_extension("db-wal").exists(),
        "the copy is a single file"
    );
}

#[test]
fn backup_refuses_to_overwrite_the_live_database() {
    let (_dir, path, state) = fresh();
    let err = state.backup_to(&path).unwrap_err();
    assert!(matches!(err, StateError::Backup { .. }), "{err:?}");
    assert_eq!(pragma_i64(&path, "user_version"), SCHEMA_VERSION);
}

#[test]
fn a_write_blocked_past_the_busy_timeout_is_busy() {
    let (_dir, path, mut state) = fresh();
    state
        .conn
        .busy_timeout(std::time::Duration::from_millis(50))
        .unwrap();
    let other = Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = state.begin_run("r1", Mode::Live, at(0), 1).unwrap_err();
    assert!(matches!(err, StateError::Busy { .. }), "{err:?}");
    other.execute_batch("ROLLBACK").unwrap();
    state.begin_run("r1", Mode::Live, at(0), 1).unwrap();
}

#[test]
fn a_version_1_file_keeps_its_journal_when_health_samples_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    make_at_version(&path, 1);
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO runs (run_key, started_at, finished_at, mode, outcome, pid)
             VALUES ('old', 10, 20, 'live', 'completed', 7)",
            [],
        )
        .unwrap();
    }
    let mut state = State::open(&path).unwrap();
    assert_eq!(pragma_i64(&path, "user_version"), SCHEMA_VERSION);
    assert_eq!(state.last_run().unwrap().unwrap().run_key, "old");
    let sample = health::SampleRow {
        at: at(30),
        overall: Health::Ok,
        blocking: false,
        summary: "ok: 1 checks".into(),
    };
    state.record_health(&sample, &[]).unwrap();
    assert_eq!(state.last_sample().unwrap(), Some(sample));
}

fn sample(secs: i64, blocking: bool) -> health::SampleRow {
    health::SampleRow {
        at: at(secs),
        overall: if blocking {
            Health::Unhealthy
        } else {
            Health::Ok
        },
        blocking,
        summary: String::new(),
    }
}

#[test]
fn samples_since_start_from_the_last_one_before_the_window() {
    let (_dir, _path, mut state) = fresh();
    assert!(state.samples_since(at(100)).unwrap().is_empty());
    for (secs, blocking) in [
        (10, true),
        (50, false),
        (90, false),
        (120, false),
        (150, true),
    ] {
        state.record_health(&sample(secs, blocking), &[]).unwrap();
    }
    let got: Vec<(i64, bool)> = state
        .samples_since(at(100))
        .unwrap()
        .iter()
        .map(|s| (s.at.as_second() - at(0).as_second(), s.blocking))
        .collect();
    assert_eq!(got, [(90, false), (120, false), (150, true)]);
    // A window reaching before the first sample gets every sample.
    assert_eq!(state.samples_since(at(0)).unwrap().len(), 5);
}

#[test]
fn transitions_are_recorded_and_remembered_per_check() {
    use crate::health::{Category, Finding};
    let (_dir, _path, mut state) = fresh();
    let round = |health: Health| {
        vec![
            Finding::new(Category::Mount, "mount /srv", health, "x"),
            Finding::ok(Category::State, "state directory", "fine"),
        ]
    };
    let last = state.last_check_health().unwrap();
    let first = health::transitions(&last, &round(Health::Unhealthy));
    // New and not ok: recorded; new and ok: not worth a row.
    assert_eq!(first.len(), 1);
    assert_eq!((first[0].before, first[0].after), (None, Health::Unhealthy));
    state.record_health(&sample(10, true), &first).unwrap();

    let last = state.last_check_health().unwrap();
    assert_eq!(last.get("mount /srv"), Some(&Health::Unhealthy));
    assert!(health::transitions(&last, &round(Health::Unhealthy)).is_empty());
    let recovered = health::transitions(&last, &round(Health::Ok));
    assert_eq!(
        (recovered[0].before, recovered[0].after),
        (Some(Health::Unhealthy), Health::Ok)
    );
    state.record_health(&sample(20, false), &recovered).unwrap();
    assert_eq!(
        state.last_check_health().unwrap().get("mount /srv"),
        Some(&Health::Ok)
    );

    // Pruning drops old samples and transitions but keeps where each check stands.
    let pruned = state.prune(at(100)).unwrap();
    assert_eq!(pruned.health_rows, 3, "2 samples and the older transition");
    assert_eq!(state.last_sample().unwrap(), None);
    assert_eq!(
        state.last_check_health().unwrap().get("mount /srv"),
        Some(&Health::Ok)
    );
}

#[test]
fn the_last_finished_pass_with_metrics_is_found() {
    let (_dir, _path, mut state) = fresh();
    assert_eq!(state.last_run_metrics().unwrap(), None);
    let first = state.begin_run("a", Mode::Live, at(1), 1).unwrap();
    state
        .finish_run(first, Outcome::Completed, None, RunCounts::default(), at(2))
        .unwrap();
    state.set_run_metrics(first, "{\"n\":1}").unwrap();
    // A later pass without metrics (killed before it wrote them) does not hide the last ones.
    let second = state.begin_run("b", Mode::Live, at(3), 1).unwrap();
    state
        .finish_run(second, Outcome::Failed, None, RunCounts::default(), at(4))
        .unwrap();
    assert_eq!(
        state.last_run_metrics().unwrap().as_deref(),
        Some("{\"n\":1}")
    );
    let third = state.begin_run("c", Mode::DryRun, at(5), 1).unwrap();
    state
        .finish_run(third, Outcome::Paused, None, RunCounts::default(), at(6))
        .unwrap();
    state.set_run_metrics(third, "{\"n\":3}").unwrap();
    assert_eq!(
        state.last_run_metrics().unwrap().as_deref(),
        Some("{\"n\":3}")
    );
}
