//! The CLI contract seen from outside: `config check|show`, `plan --json`, `check`, and the
//! commands that later versions fill in.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{now, Harness};
use shelflife_sim::{MovieSpec, Service, World};

fn world() -> World {
    World::new(now())
        .user("alice")
        .movie(MovieSpec::new("Old", 2001).watched("alice", 20.0))
        .movie(
            MovieSpec::new("Kept", 2003)
                .watched("alice", 20.0)
                .tag("keep"),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_check_validates_without_network() {
    let h = Harness::start(world(), "").await;
    let run = h.run(&["config", "check"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains(": ok"), "{run:?}");
    for service in [Service::Jellyfin, Service::Radarr, Service::Sonarr] {
        assert_eq!(h.stack.count(service), 0, "config check sent a request");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_key_names_the_key_the_file_and_the_nearest_valid_key() {
    let h = Harness::start(world(), "[rules]\ngrace_dayz = 3\n").await;
    let run = h.run(&["config", "check"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("grace_dayz"), "{run:?}");
    assert!(run.stderr.contains("grace_days"), "{run:?}");
    assert!(
        run.stderr.contains(&h.config.display().to_string()),
        "{run:?}"
    );
    // The same refusal stops a pass before it talks to anyone.
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(h.stack.count(Service::Jellyfin), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_show_redacts_every_secret() {
    let h = Harness::start(world(), "").await;
    let run = h.run(&["config", "show"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("<redacted"), "{run:?}");
    for key in [
        shelflife_sim::JELLYFIN_KEY,
        shelflife_sim::RADARR_KEY,
        shelflife_sim::SONARR_KEY,
    ] {
        assert!(!run.stdout.contains(key), "{key} printed:\n{}", run.stdout);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_json_gives_each_decision_a_code_and_a_sentence() {
    let h = Harness::start(world(), "").await;
    let run = h.run(&["plan", "--json"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("plan is JSON");
    let decisions = plan["decisions"].as_array().expect("decisions");
    let by_title = |t: &str| {
        decisions
            .iter()
            .find(|d| d["title"] == t)
            .unwrap_or_else(|| panic!("{t} not in {plan}"))
    };
    let old = by_title("Old (2001)");
    assert_eq!(old["verdict"], "delete");
    assert_eq!(old["target"]["service"], "radarr");
    assert!(old["reason"]["text"]
        .as_str()
        .is_some_and(|t| t.contains("watched 20 days ago")));
    let kept = by_title("Kept (2003)");
    assert_eq!(kept["verdict"], "keep");
    assert_eq!(kept["reason"]["code"], "keep_tag");
    assert!(h.stack.writes().is_empty(), "plan never writes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_healthy_servers_and_a_broken_one() {
    let h = Harness::start(world(), "").await;
    let run = h.run(&["check"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("overall: ok"), "{run:?}");

    h.stack.fail_next(Service::Sonarr, 500, 100);
    let run = h.run(&["check", "--json"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("report is JSON");
    assert!(report.to_string().contains("Sonarr"), "{report}");

    let h = Harness::start(world().sonarr_root_inaccessible(), "").await;
    let run = h.run(&["check"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("/tv"), "{run:?}");
}
