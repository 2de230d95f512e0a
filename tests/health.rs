//! Storage health on real mounts: the pass pauses (exit 75) and deletes nothing when a mount is
//! missing, of the wrong type, read-only, full, hung, or loses its canary mid-pass; `check`
//! reports it with its exit code. Needs root (tmpfs and FUSE mounts), as CI has.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{now, Harness, HungFuse, Run};
use shelflife_sim::{MovieSpec, Service, World};
use shelflife_testkit::Tmpfs;

const CANARY: &str = ".shelflife-canary";

fn movies(n: usize) -> World {
    (0..n).fold(World::new(now()).user("alice"), |w, i| {
        w.movie(MovieSpec::new(&format!("Movie {i}"), 2000 + i as i32).watched("alice", 20.0))
    })
}

/// A `[[health.mounts]]` table for `path`, with `extra` keys.
fn mount_toml(path: &std::path::Path, extra: &str) -> String {
    format!(
        "[[health.mounts]]\npath = {:?}\ncanary = \"{CANARY}\"\ntimeout = \"1s\"\n{extra}\n",
        path.display().to_string()
    )
}

/// A tmpfs with its canary in place; `None` where it cannot be mounted (the testkit said why).
fn media_mount(size: &str) -> Option<Tmpfs> {
    let disk = Tmpfs::mount(size)?;
    std::fs::write(disk.path().join(CANARY), b"").expect("canary");
    Some(disk)
}

fn deletes(h: &Harness) -> usize {
    h.stack
        .writes()
        .iter()
        .filter(|(_, r)| r.method == "DELETE")
        .count()
}

fn assert_paused_with_nothing_deleted(h: &Harness, run: &Run, why: &str) {
    assert_eq!(run.code, 75, "{run:?}");
    assert!(run.stdout.contains("paused"), "{run:?}");
    assert!(run.stdout.contains(why), "expected {why:?} in {run:?}");
    assert!(h.stack.writes().is_empty(), "{:?}", h.stack.writes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_mount_lets_the_pass_delete() {
    let Some(disk) = media_mount("4m") else {
        return;
    };
    let h = Harness::start(movies(2), &mount_toml(disk.path(), "")).await;
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(deletes(&h), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_canary_pauses_the_pass() {
    let Some(disk) = Tmpfs::mount("4m") else {
        return;
    };
    let h = Harness::start(movies(2), &mount_toml(disk.path(), "")).await;
    let run = h.run(&["run", "--apply"]).await;
    assert_paused_with_nothing_deleted(&h, &run, "canary .shelflife-canary is missing");
    let status = h.run(&["status"]).await;
    assert!(
        status.stdout.contains("paused") && status.stdout.contains("canary"),
        "the pause and its reason are on record: {status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_directory_where_a_mount_should_be_pauses_the_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(CANARY), b"").expect("canary");
    let h = Harness::start(movies(1), &mount_toml(dir.path(), "")).await;
    let run = h.run(&["run", "--apply"]).await;
    // tempdirs live on the root filesystem here; a separate /tmp mount would hold it instead.
    if run.code == 0 {
        eprintln!("skipped: the temporary directory is on its own mount on this machine");
        return;
    }
    assert_paused_with_nothing_deleted(&h, &run, "nothing is mounted there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrong_filesystem_type_pauses_the_pass() {
    let Some(disk) = media_mount("4m") else {
        return;
    };
    let h = Harness::start(movies(1), &mount_toml(disk.path(), "fstype = \"nfs4\"")).await;
    let run = h.run(&["run", "--apply"]).await;
    assert_paused_with_nothing_deleted(&h, &run, "tmpfs is mounted there");
    assert!(run.stdout.contains("expected nfs4"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_mount_pauses_unless_allowed() {
    let Some(disk) = media_mount("4m") else {
        return;
    };
    disk.remount_read_only();
    let h = Harness::start(movies(1), &mount_toml(disk.path(), "")).await;
    let run = h.run(&["run", "--apply"]).await;
    assert_paused_with_nothing_deleted(&h, &run, "read-only");

    let allowed =
        Harness::start(movies(1), &mount_toml(disk.path(), "allow_readonly = true")).await;
    let run = allowed.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(deletes(&allowed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nearly_full_mount_warns_by_default_and_pauses_when_configured() {
    let Some(disk) = media_mount("1m") else {
        return;
    };
    disk.fill();
    let h = Harness::start(movies(1), &mount_toml(disk.path(), "")).await;
    let check = h.run(&["check"]).await;
    assert_eq!(check.code, 1, "low space is degraded: {check:?}");
    assert!(check.stdout.contains("below min_free_percent"), "{check:?}");
    // Deleting is how space comes back: by default the pass goes on, with a warning.
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("storage degraded, proceeding"),
        "{run:?}"
    );
    assert_eq!(deletes(&h), 1);

    let strict = Harness::start(
        movies(1),
        &format!(
            "[health]\non_low_space = \"pause\"\n\n{}",
            mount_toml(disk.path(), "")
        ),
    )
    .await;
    let run = strict.run(&["run", "--apply"]).await;
    assert_paused_with_nothing_deleted(&strict, &run, "below min_free_percent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_mount_pauses_the_pass_within_its_timeout() {
    let Some(hung) = HungFuse::mount() else {
        return;
    };
    let h = Harness::start(movies(2), &mount_toml(&hung.path(), "")).await;
    let started = Instant::now();
    let run = h.run(&["run", "--apply"]).await;
    let took = started.elapsed();
    assert_paused_with_nothing_deleted(&h, &run, "did not answer within 1s");
    // The probe's deadline is 1 s; the process must not wait on the stuck call.
    assert!(took < Duration::from_secs(15), "took {took:?}");

    let check = h.run(&["check", "--json"]).await;
    assert_eq!(check.code, 2, "{check:?}");
    let report: serde_json::Value = serde_json::from_str(&check.stdout).expect("JSON");
    assert_eq!(report["overall"], "unhealthy");
    let mount = report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["category"] == "mount"))
        .expect("a mount finding");
    assert_eq!(mount["health"], "unhealthy");
    drop(hung);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mount_lost_mid_pass_stops_before_the_next_delete_and_resumes_later() {
    let Some(disk) = media_mount("4m") else {
        return;
    };
    let canary = disk.path().join(CANARY);
    let h = Harness::start(movies(3), &mount_toml(disk.path(), "")).await;
    // The storage goes away right after the first delete.
    let gone = canary.clone();
    h.stack.on_delete(move |_, _| {
        let _ = std::fs::remove_file(&gone);
    });
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 75, "{run:?}");
    assert!(
        run.stdout.contains("stopped: the storage is not healthy")
            && run.stdout.contains("canary .shelflife-canary is missing"),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("2 deletions left for a later pass"),
        "{run:?}"
    );
    assert_eq!(deletes(&h), 1, "the pass stops before the second delete");

    // The storage returns; the next pass deletes the other two, and nothing twice.
    h.stack.on_delete(|_, _| {});
    std::fs::write(&canary, b"").expect("canary back");
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let mut paths: Vec<String> = h
        .stack
        .writes()
        .into_iter()
        .filter(|(s, r)| *s == Service::Radarr && r.method == "DELETE")
        .map(|(_, r)| r.path)
        .collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 3, "a movie was deleted twice");
    assert!(h
        .stack
        .with_world(|w| w.movies.iter().all(|m| !m.in_radarr)));
}

fn sample(name: &str) -> String {
    format!("{}/src/health/samples/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_degraded_array_pauses_by_default_and_proceeds_when_configured() {
    let degraded = format!(
        "[health]\nmdstat = {:?}\n",
        sample("mdstat-degraded-raid1.txt")
    );
    let h = Harness::start(movies(1), &degraded).await;
    let check = h.run(&["check"]).await;
    assert_eq!(check.code, 1, "{check:?}");
    assert!(check.stdout.contains("md array"), "{check:?}");
    let run = h.run(&["run", "--apply"]).await;
    assert_paused_with_nothing_deleted(&h, &run, "md array");

    let lenient = Harness::start(
        movies(1),
        &format!("{degraded}on_degraded_array = \"proceed\"\n"),
    )
    .await;
    let run = lenient.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(deletes(&lenient), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faulted_zfs_pool_pauses_the_pass() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zpool = dir.path().join("zpool");
    let sample_text = std::fs::read_to_string(sample("zpool-faulted.txt")).expect("sample");
    std::fs::write(
        &zpool,
        format!("#!/bin/sh\ncat <<'EOF'\n{sample_text}EOF\n"),
    )
    .expect("script");
    std::fs::set_permissions(&zpool, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let h = Harness::start(
        movies(1),
        &format!("[health]\nzpool = {:?}\n", zpool.display().to_string()),
    )
    .await;
    let run = h.run(&["run", "--apply"]).await;
    assert_paused_with_nothing_deleted(&h, &run, "ZFS pool");
    let check = h.run(&["check"]).await;
    assert_eq!(check.code, 2, "{check:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_exit_codes_cover_healthy_degraded_unhealthy_and_config_errors() {
    let Some(disk) = media_mount("4m") else {
        return;
    };
    let h = Harness::start(movies(1), &mount_toml(disk.path(), "")).await;
    let healthy = h.run(&["check", "--json"]).await;
    assert_eq!(healthy.code, 0, "{healthy:?}");
    let report: serde_json::Value = serde_json::from_str(&healthy.stdout).expect("JSON");
    assert_eq!(report["overall"], "ok");
    assert_eq!(report["exit_code"], 0);
    let categories: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["category"].as_str())
        .collect();
    for wanted in ["mount", "space", "state", "server"] {
        assert!(categories.contains(&wanted), "{wanted} in {categories:?}");
    }

    std::fs::remove_file(disk.path().join(CANARY)).expect("remove canary");
    let unhealthy = h.run(&["check"]).await;
    assert_eq!(unhealthy.code, 2, "{unhealthy:?}");
    assert!(
        unhealthy.stdout.contains("overall: unhealthy"),
        "{unhealthy:?}"
    );

    let text = std::fs::read_to_string(&h.config).expect("config");
    h.write_config(&text.replace("timeout = \"1s\"", "timeout = \"soon\""));
    let config_error = h.run(&["check"]).await;
    assert_eq!(config_error.code, 3, "{config_error:?}");
    assert!(config_error.stderr.contains("timeout"), "{config_error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_healthy_for_waits_for_the_monitors_samples() {
    use shelflife::health::Health;
    use shelflife::state::{health::SampleRow, State};

    let h = Harness::start(movies(2), "[health]\nrequire_healthy_for = \"10m\"\n").await;
    let run = h.run(&["run", "--apply"]).await;
    assert_paused_with_nothing_deleted(&h, &run, "no health samples");

    // The monitor's record: a sample a minute for the last 12 minutes, all fit.
    let db = h.dir.path().join("state.db");
    let record = |minutes_ago: i64, blocking: bool| {
        let mut state = State::open(&db).expect("state");
        let sample = SampleRow {
            at: jiff::Timestamp::now() - jiff::SignedDuration::from_mins(minutes_ago),
            overall: if blocking {
                Health::Unhealthy
            } else {
                Health::Ok
            },
            blocking,
            summary: String::new(),
        };
        state.record_health(&sample, &[]).expect("record");
    };
    for minutes_ago in (0..=12).rev() {
        record(minutes_ago, minutes_ago == 3);
    }
    // One unfit round inside the window is enough to wait.
    let run = h.run(&["run", "--apply"]).await;
    assert_paused_with_nothing_deleted(&h, &run, "unfit to delete from");

    // Without it, the storage has been fit for the whole window: the pass goes ahead.
    rusqlite::Connection::open(&db)
        .and_then(|c| c.execute("DELETE FROM health_samples WHERE blocking = 1", []))
        .expect("drop the unfit sample");
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(deletes(&h), 2);
}
