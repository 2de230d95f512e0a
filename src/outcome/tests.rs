use super::*;
use crate::clients::http::Service;
use crate::plan::{Decision, Kind, Reason, Target, Verdict};

fn movie(id: i32, bytes: u64) -> Decision {
    Decision {
        verdict: Verdict::Delete,
        kind: Kind::Movie,
        title: format!("Movie {id}").into(),
        target: Target::Radarr {
            instance: "radarr".into(),
            movie_id: id,
        },
        bytes,
        reason: Reason::Watched { days_ago: 30 },
        watched_at: crate::plan::LastPlay::NONE,
        jellyfin_id: None,
        quality: Default::default(),
    }
}

fn outcome(outcomes: Vec<Outcome>, stopped: Option<Stop>) -> RunOutcome {
    let plan = Plan {
        decisions: (0..outcomes.len())
            .map(|i| movie(i as i32 + 1, 100))
            .collect(),
        ..Plan::default()
    };
    RunOutcome {
        run_id: "r".into(),
        mode: Mode::Live,
        plan,
        report: Some(ApplyReport {
            mode: Mode::Live,
            outcomes: outcomes.into_iter().enumerate().collect(),
            stopped,
            refreshed: false,
            space: Vec::new(),
        }),
        refused: None,
        paused: None,
        announced: Vec::new(),
        drift: Vec::new(),
    }
}

#[test]
fn a_plan_is_refused_only_above_the_limit() {
    let plan = Plan {
        decisions: vec![movie(1, 1), movie(2, 1), movie(3, 1)],
        ..Plan::default()
    };
    assert_eq!(Refusal::of(&plan, 3), None);
    assert_eq!(Refusal::of(&plan, 2), Some(Refusal { files: 3, limit: 2 }));
    assert_eq!(
        Refusal { files: 3, limit: 2 }.to_string(),
        "the plan would delete 3 files, more than max_deletions_per_run = 2"
    );
}

#[test]
fn the_exit_code_follows_the_recorded_ending() {
    let cases = [
        (
            outcome(vec![Outcome::Deleted], None),
            state::Outcome::Completed,
            Exit::Ok,
        ),
        (
            outcome(vec![Outcome::Deleted, Outcome::Failed("500".into())], None),
            state::Outcome::Failed,
            Exit::Failed,
        ),
        (
            outcome(
                vec![Outcome::NotAttempted],
                Some(Stop::Unhealthy {
                    reason: "md0 degraded".into(),
                }),
            ),
            state::Outcome::Paused,
            Exit::Paused,
        ),
        (
            outcome(
                vec![Outcome::NotAttempted],
                Some(Stop::ServerFailed {
                    service: Service::Radarr.into(),
                    detail: "401".into(),
                }),
            ),
            state::Outcome::Failed,
            Exit::Failed,
        ),
        (
            RunOutcome {
                refused: Some(Refusal { files: 9, limit: 1 }),
                report: None,
                ..outcome(vec![], None)
            },
            state::Outcome::Refused,
            Exit::Failed,
        ),
        (
            RunOutcome {
                paused: Some("md0 degraded".into()),
                report: None,
                ..outcome(vec![], None)
            },
            state::Outcome::Paused,
            Exit::Paused,
        ),
    ];
    for (run, recorded, exit) in cases {
        assert_eq!(run.ending().0, recorded, "{:?}", run.ending());
        assert_eq!(run.exit(), exit, "{:?}", run.ending());
    }
}

#[test]
fn counts_sum_only_what_was_deleted() {
    let run = outcome(
        vec![
            Outcome::Deleted,
            Outcome::Failed("500".into()),
            Outcome::AlreadyGone,
        ],
        None,
    );
    let counts = run.counts();
    assert_eq!(
        (
            counts.planned,
            counts.deleted,
            counts.failed,
            counts.bytes_deleted
        ),
        (3, 1, 1, 100)
    );
}
