//! The systemd units in `systemd/`: they carry the one hardening list, say what the program
//! expects (oneshot pass that may exit 75, notify monitor with a watchdog long enough for a
//! round), pass `systemd-analyze verify` without a word on stderr, and score at most 1.5 on
//! `systemd-analyze security`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use shelflife::clients::http::HttpSettings;
use shelflife_testkit::tool;

const SERVICES: [&str; 2] = ["shelflife.service", "shelflife-monitor.service"];
const UNITS: [&str; 3] = [
    "shelflife.service",
    "shelflife-monitor.service",
    "shelflife.timer",
];

fn unit_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(unit_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `(section, key, value)` of every assignment, comments and blank lines skipped.
fn assignments(text: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("not an assignment: {line:?}"));
        out.push((section.clone(), key.to_owned(), value.to_owned()));
    }
    out
}

/// The values of `key` in `[section]`, in order.
fn values(text: &str, section: &str, key: &str) -> Vec<String> {
    assignments(text)
        .into_iter()
        .filter(|(s, k, _)| s == section && k == key)
        .map(|(_, _, v)| v)
        .collect()
}

fn hardening() -> Vec<(String, String)> {
    assignments(&read("hardening.conf"))
        .into_iter()
        .map(|(section, k, v)| {
            assert_eq!(section, "", "hardening.conf is a plain list, no sections");
            (k, v)
        })
        .collect()
}

#[test]
fn every_service_carries_exactly_the_hardening_list() {
    let list = hardening();
    assert!(list.len() > 20, "the list is read: {list:?}");
    for service in SERVICES {
        let text = read(service);
        let mut keys: Vec<&str> = list.iter().map(|(k, _)| k.as_str()).collect();
        keys.dedup();
        for key in keys {
            let want: Vec<&String> = list
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v)
                .collect();
            let have = values(&text, "Service", key);
            assert_eq!(
                have.iter().collect::<Vec<_>>(),
                want,
                "{service}: {key}= differs from systemd/hardening.conf"
            );
        }
    }
}

#[test]
fn the_pass_is_a_oneshot_that_may_pause_and_reports_progress() {
    let text = read("shelflife.service");
    assert_eq!(values(&text, "Service", "Type"), ["oneshot"]);
    assert_eq!(values(&text, "Service", "NotifyAccess"), ["main"]);
    assert_eq!(
        values(&text, "Service", "ExecStart"),
        ["/usr/bin/shelflife run"]
    );
    assert!(
        values(&text, "Service", "SuccessExitStatus")
            .iter()
            .any(|v| v.split_whitespace().any(|code| code == "75")),
        "a pause (exit 75) is not a failure"
    );
    // EXTEND_TIMEOUT_USEC only means something with a finite start timeout.
    assert_eq!(values(&text, "Service", "TimeoutStartSec").len(), 1);

    let timer = read("shelflife.timer");
    assert_eq!(values(&timer, "Timer", "OnCalendar"), ["*-*-* 03:00:00"]);
    assert_eq!(values(&timer, "Timer", "Persistent"), ["true"]);
    assert_eq!(values(&timer, "Timer", "RandomizedDelaySec").len(), 1);
    assert_eq!(values(&timer, "Install", "WantedBy"), ["timers.target"]);
}

#[test]
fn both_services_share_user_state_and_credentials() {
    let pass = read("shelflife.service");
    let monitor = read("shelflife-monitor.service");
    for key in [
        "User",
        "Group",
        "StateDirectory",
        "RuntimeDirectory",
        "RuntimeDirectoryPreserve",
        "LoadCredential",
    ] {
        let of_pass = values(&pass, "Service", key);
        assert!(!of_pass.is_empty(), "shelflife.service sets {key}=");
        assert_eq!(of_pass, values(&monitor, "Service", key), "{key}=");
    }
    // The program reads $CREDENTIALS_DIRECTORY/<service>.
    let ids: Vec<String> = values(&pass, "Service", "LoadCredential")
        .iter()
        .map(|v| v.split(':').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids, ["jellyfin", "radarr", "sonarr", "seerr"]);
}

#[test]
fn the_monitor_watchdog_leaves_room_for_the_slowest_round() {
    let text = read("shelflife-monitor.service");
    assert_eq!(values(&text, "Service", "Type"), ["notify"]);
    assert_eq!(values(&text, "Service", "Restart"), ["on-failure"]);
    let watchdog = values(&text, "Service", "WatchdogSec");
    let watchdog = humantime::parse_duration(&watchdog[0]).expect("WatchdogSec= is a duration");
    // A round is cut off at half the watchdog; one request with its retries must fit in it.
    let slowest = HttpSettings::default().longest_request();
    assert!(
        watchdog / 2 > slowest,
        "WatchdogSec={watchdog:?}: a round gets {:?}, a request may take {slowest:?}",
        watchdog / 2
    );
    assert!(watchdog > Duration::ZERO);
}

/// A directory laid out like an installed system: the host's units (for the targets the units
/// order against), ours, and the binary at the ExecStart= path.
fn installed_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("tempdir");
    let units = root.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&units).expect("unit dir");
    let host = Path::new("/usr/lib/systemd/system");
    for entry in std::fs::read_dir(host)
        .expect("the host has systemd units")
        .flatten()
    {
        let path = entry.path();
        if path.is_file() {
            let _ = std::fs::copy(&path, units.join(entry.file_name()));
        }
    }
    for unit in UNITS {
        std::fs::copy(unit_dir().join(unit), units.join(unit)).expect("copy unit");
    }
    let bin = root.path().join("usr/bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    std::fs::copy(env!("CARGO_BIN_EXE_shelflife"), bin.join("shelflife")).expect("copy binary");
    root
}

#[test]
fn systemd_analyze_verify_has_nothing_to_say() {
    let Some(analyze) = tool("systemd-analyze") else {
        return;
    };
    let root = installed_root();
    let out = Command::new(analyze)
        .arg("verify")
        .arg("--man=no")
        .arg(format!("--root={}", root.path().display()))
        .args(UNITS)
        .output()
        .expect("systemd-analyze runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // verify exits 0 on unknown keys and bad values; it only says so on stderr.
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify: {:?}\n{stderr}",
        out.status
    );
}

#[test]
fn both_services_are_exposed_at_most_1_5() {
    let Some(analyze) = tool("systemd-analyze") else {
        return;
    };
    let root = installed_root();
    for service in SERVICES {
        let out = Command::new(&analyze)
            .args(["security", "--offline=true", "--threshold=15", "--no-pager"])
            .arg(format!("--root={}", root.path().display()))
            .arg(service)
            .output()
            .expect("systemd-analyze runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let level = text
            .lines()
            .find_map(|l| {
                l.split_once("Overall exposure level for ")?
                    .1
                    .split_once(": ")
            })
            .and_then(|(_, rest)| rest.split_whitespace().next()?.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{service}: no exposure level in:\n{text}"));
        assert!(
            out.status.success() && level <= 1.5,
            "{service}: exposure {level} (threshold 1.5), {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
