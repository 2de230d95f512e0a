//! The pass's gate over time: the time is passed in, so nothing here waits for it.

use std::path::PathBuf;

use super::*;
use crate::clients::http::{Http, HttpSettings};
use crate::clients::jellyfin::JellyfinClient;
use arrays::ArraySources;

/// A `zpool` that reports one healthy pool and notes each run in `runs.log`: a full check runs
/// it, the mounts-only check before a delete does not.
fn counting_zpool(dir: &Path) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let log = dir.join("runs.log");
    let zpool = dir.join("zpool");
    let script = format!(
        "#!/bin/sh\necho run >> '{}'\nprintf 'tank\\tONLINE\\n'\n",
        log.display()
    );
    std::fs::write(&zpool, script).expect("write zpool");
    std::fs::set_permissions(&zpool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (zpool, log)
}

fn config(zpool: PathBuf) -> HealthConfig {
    HealthConfig {
        interval: Duration::from_secs(60),
        require_healthy_for: None,
        policy: gate::GatePolicy::default(),
        arrays: ArraySources {
            mdstat: PathBuf::from("/nonexistent/shelflife/mdstat"),
            zpool,
            btrfs_sysfs: PathBuf::from("/nonexistent/shelflife/btrfs"),
            zfs_module: PathBuf::from("/nonexistent/shelflife/zfs"),
            timeout: Duration::from_secs(10),
        },
        mounts: Vec::new(),
    }
}

/// No *arr to ask about its storage; the Jellyfin client is never used by the gate.
fn no_servers() -> Sources {
    let http = Http::new().expect("http");
    Sources {
        jellyfin: JellyfinClient::new(&http, "http://127.0.0.1:9", "k", HttpSettings::default())
            .expect("client"),
        radarr: Vec::new(),
        sonarr: Vec::new(),
    }
}

#[tokio::test]
async fn before_each_delete_the_full_checks_run_again_once_they_are_five_seconds_old() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (zpool, log) = counting_zpool(dir.path());
    let config = config(zpool);
    let sources = no_servers();
    let state = dir.path().join("state.db");
    let mut gate = PassGate::new(&config, &state, &sources);
    let full_checks = || {
        std::fs::read_to_string(&log)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let t0 = Instant::now();
    let at = |secs: f64| t0 + Duration::from_secs_f64(secs);

    assert_eq!(FULL_CHECK_EVERY, Duration::from_secs(5));
    // (when, full checks so far): the first delete has had none, so it gets one.
    let expected = [
        (0.0, 1),
        (1.0, 1),
        (4.999, 1),
        (5.0, 2),
        (9.0, 2),
        (10.0, 3),
        (30.0, 4),
    ];
    for (secs, want) in expected {
        assert_eq!(gate.before_delete(at(secs)).await, Ok(()), "at {secs} s");
        assert_eq!(full_checks(), want, "full checks by {secs} s");
    }
    assert!(gate.last_report().is_some());
}

#[tokio::test]
async fn the_full_check_before_planning_counts_for_the_first_deletes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (zpool, log) = counting_zpool(dir.path());
    let config = config(zpool);
    let sources = no_servers();
    let state = dir.path().join("state.db");
    let mut gate = PassGate::new(&config, &state, &sources);
    let t0 = Instant::now();

    let (_, verdict) = gate.full_check(t0).await;
    assert_eq!(verdict, gate::Verdict::Proceed { warnings: vec![] });
    assert_eq!(
        gate.before_delete(t0 + Duration::from_secs(2)).await,
        Ok(())
    );
    let runs = std::fs::read_to_string(&log).expect("zpool ran");
    assert_eq!(runs.lines().count(), 1, "one full check, before planning");
}
