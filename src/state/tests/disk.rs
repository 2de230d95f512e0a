//! The state disk full or read-only, on real size-limited tmpfs mounts. Where mounting is not
//! permitted they say `SKIPPED:`, and fail under `SHELFLIFE_REQUIRE_TOOLS=1` (see the testkit).

use std::fs;

use shelflife_testkit::Tmpfs;

use super::*;

fn assert_write_error(err: &StateError, path: &Path, cause: &str) {
    assert!(matches!(err, StateError::Write { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "cannot write the state database {}: ",
            path.display()
        )),
        "{msg}"
    );
    assert!(msg.contains(cause), "{msg}");
    assert!(
        msg.ends_with("nothing will be deleted without a record"),
        "{msg}"
    );
}

#[test]
fn a_full_state_disk_refuses_the_write_and_records_nothing() {
    let Some(fs) = Tmpfs::mount("256k") else {
        return;
    };
    let path = fs.path().join("state.db");
    let mut state = State::open(&path).unwrap();
    let run = state.begin_run("r1", Mode::Live, at(0), 1).unwrap();
    let filler = fs.fill();
    let big = NewAction {
        title: "x".repeat(64 * 1024),
        ..movie(1, "A")
    };
    let err = state
        .plan_actions(run, &[big, movie(2, "B")], at(1))
        .unwrap_err();
    assert_write_error(&err, &path, "database or disk is full");

    fs::remove_file(filler).unwrap();
    assert!(
        state.run_actions(run).unwrap().is_empty(),
        "a partial plan was recorded"
    );
    state.plan_actions(run, &[movie(1, "A")], at(2)).unwrap();
    drop(state);
}

#[test]
fn a_state_directory_on_a_full_disk_cannot_be_opened_for_writing() {
    let Some(fs) = Tmpfs::mount("256k") else {
        return;
    };
    // A state file fits on an empty disk of this size, so what refuses it below is the filler.
    let roomy = Tmpfs::mount("256k").expect("the first tmpfs was mounted");
    drop(State::open(&roomy.path().join("fits.db")).expect("a state file fits"));
    let path = fs.path().join("state.db");
    fs.fill();
    let err = State::open(&path).unwrap_err();
    assert_write_error(&err, &path, "database or disk is full");
}

#[test]
fn a_read_only_state_disk_refuses_writes() {
    let Some(fs) = Tmpfs::mount("1m") else {
        return;
    };
    let path = fs.path().join("state.db");
    let mut state = State::open(&path).unwrap();
    state.begin_run("r1", Mode::Live, at(0), 1).unwrap();
    drop(state);
    fs.remount_read_only();
    let result = State::open(&path).and_then(|mut s| s.begin_run("r2", Mode::Live, at(1), 1));
    assert_write_error(&result.unwrap_err(), &path, "Read-only file system");
}
