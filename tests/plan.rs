//! `plan` shows what `run` would do: the journal applied as `run` applies it (what a live pass
//! deleted is left out, what an unsettled deletion covers is kept) and the same refusal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{now, small_library, Harness};
use shelflife::state::{Mode, NewAction, State, TargetKey};

fn movie_id(h: &Harness, title: &str) -> i32 {
    h.stack.with_world(|w| {
        w.movies
            .iter()
            .find(|m| m.title == title)
            .map(|m| m.radarr_id)
            .expect("the movie is in the world")
    })
}

fn action(id: i32, title: &str) -> NewAction {
    NewAction {
        target: TargetKey::radarr_movie(i64::from(id)),
        title: title.to_owned(),
        reason: "watched".to_owned(),
        bytes: 1,
        target_json: format!(r#"{{"service":"radarr","movie_id":{id}}}"#),
        lost: Default::default(),
    }
}

/// The plan table's `delete` rows, by title.
fn deletions(table: &str) -> Vec<&str> {
    let mut titles: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("delete"))
        .filter_map(|l| {
            ["Alien", "Heat", "Dark"]
                .into_iter()
                .find(|t| l.contains(t))
        })
        .collect();
    titles.sort_unstable();
    titles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_leaves_out_what_a_live_pass_deleted_and_keeps_what_is_unsettled() {
    let h = Harness::start(small_library(), "").await;
    let fresh = h.run(&["plan"]).await;
    assert_eq!(fresh.code, 0, "{fresh:?}");
    // The precondition: without a journal, both movies would go.
    assert_eq!(
        deletions(&fresh.stdout),
        ["Alien", "Dark", "Heat"],
        "{fresh:?}"
    );

    // A live pass deleted Alien (Radarr still lists it: its DELETE answers before the files
    // go), and a pass died after sending Heat's DELETE.
    let alien = movie_id(&h, "Alien");
    let heat = movie_id(&h, "Heat");
    {
        let mut state = State::open(&h.dir.path().join("state.db")).expect("state");
        let done = state.begin_run("done", Mode::Live, now(), 1).expect("run");
        let ids = state
            .plan_actions(done, &[action(alien, "Alien (1979)")], now())
            .expect("plan");
        state.mark_started(ids[0], now()).expect("start");
        state.mark_done(ids[0], now()).expect("done");
        let died = state.begin_run("died", Mode::Live, now(), 2).expect("run");
        let ids = state
            .plan_actions(died, &[action(heat, "Heat (1995)")], now())
            .expect("plan");
        state.mark_started(ids[0], now()).expect("start");
    }

    let plan = h.run(&["plan"]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    assert_eq!(deletions(&plan.stdout), ["Dark"], "{plan:?}");
    assert!(
        plan.stdout
            .contains("left out: 1 deletion already made by an earlier pass"),
        "{plan:?}"
    );
    let heat_row = plan
        .stdout
        .lines()
        .find(|l| l.contains("Heat"))
        .expect("Heat is listed");
    assert!(
        heat_row.starts_with("keep") && heat_row.contains("not settled yet"),
        "{heat_row}"
    );
    assert!(
        h.stack.writes().is_empty(),
        "plan wrote: {:?}",
        h.stack.writes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_run_refuse_the_same_plan() {
    let h = Harness::start(small_library(), "[rules]\nmax_deletions_per_run = 2\n").await;
    let plan = h.run(&["plan"]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout.contains(
            "note: `run` would refuse this plan: the plan would delete 5 files, more than \
             max_deletions_per_run = 2"
        ),
        "{plan:?}"
    );
    let run = h.run(&["run"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(
            "refused: the plan would delete 5 files, more than max_deletions_per_run = 2"
        ),
        "{run:?}"
    );
}
