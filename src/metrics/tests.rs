use std::path::PathBuf;

use super::*;
use crate::health::{Category, Finding, Space};

fn pass() -> PassMetrics {
    PassMetrics {
        finished_at: 1_795_430_000.5,
        duration_seconds: 2.25,
        outcome: "paused".into(),
        dry_run: false,
        paused_reason: Some("mount /srv/\"media\": canary\nmissing \\ gone".into()),
        planned: [(
            "movie".to_owned(),
            Amount {
                items: 3,
                bytes: 3000,
            },
        )]
        .into(),
        deleted: [(
            "movie".to_owned(),
            Amount {
                items: 1,
                bytes: 1000,
            },
        )]
        .into(),
        failed: 0,
        kept: [("keep_tag".to_owned(), 2), ("within_grace".to_owned(), 5)].into(),
        api: [
            (
                "radarr".to_owned(),
                Requests {
                    requests: 7,
                    errors: 1,
                },
            ),
            (
                "radarr@4k".to_owned(),
                Requests {
                    requests: 5,
                    errors: 0,
                },
            ),
        ]
        .into(),
        space: vec![SpaceMetrics {
            mount: "/srv/media".into(),
            free_before: 100,
            free_after: 400,
            target: 300,
            freed: 300,
            frees_nothing: true,
            left: Some("deleting frees nothing".into()),
        }],
        drift: [
            ("radarr_missing_file".to_owned(), 2),
            ("jellyfin_unmatched".to_owned(), 0),
        ]
        .into(),
    }
}

fn report() -> Report {
    let mount = PathBuf::from("/srv/media");
    Report {
        findings: vec![
            Finding {
                mount: Some(mount.clone()),
                ..Finding::ok(Category::Mount, "mount /srv/media", "nfs4")
            },
            Finding {
                mount: Some(mount),
                space: Some(Space {
                    bytes_available: 250,
                    bytes_total: 1000,
                }),
                ..Finding::new(Category::Space, "space /srv/media", Health::Degraded, "low")
            },
            Finding::ok(Category::State, "state directory", "fine"),
        ],
    }
}

/// The value of the sample `series` (name with labels, exactly as written).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn rendered() -> String {
    let report = report();
    let mounts = [PathBuf::from("/srv/media"), PathBuf::from("/srv/gone")];
    render(
        Some(&pass()),
        Some(&HealthMetrics {
            report: &report,
            checked_at: Timestamp::from_second(1_795_430_100).expect("time"),
            mounts: &mounts,
        }),
    )
}

#[test]
fn the_last_pass_is_rendered_as_gauges() {
    let text = rendered();
    let v = |s: &str| value(&text, s).unwrap_or_else(|| panic!("no {s} in\n{text}"));
    assert_eq!(v("shelflife_last_pass_timestamp_seconds"), 1_795_430_000.5);
    assert_eq!(v("shelflife_last_pass_duration_seconds"), 2.25);
    assert_eq!(v("shelflife_last_pass_outcome{outcome=\"paused\"}"), 1.0);
    assert_eq!(v("shelflife_last_pass_outcome{outcome=\"completed\"}"), 0.0);
    assert_eq!(v("shelflife_last_pass_dry_run"), 0.0);
    assert_eq!(v("shelflife_last_pass_planned_items{kind=\"movie\"}"), 3.0);
    assert_eq!(
        v("shelflife_last_pass_deleted_bytes{kind=\"movie\"}"),
        1000.0
    );
    // Every kind is there, zero or not, so a query never finds a gap.
    assert_eq!(
        v("shelflife_last_pass_deleted_items{kind=\"episode\"}"),
        0.0
    );
    assert_eq!(
        v("shelflife_last_pass_kept_items{reason=\"within_grace\"}"),
        5.0
    );
    assert_eq!(
        v("shelflife_last_pass_api_requests{service=\"radarr\",server=\"radarr\"}"),
        7.0
    );
    assert_eq!(
        v("shelflife_last_pass_api_errors{service=\"radarr\",server=\"radarr\"}"),
        1.0
    );
    assert_eq!(
        v("shelflife_space_free_bytes{mount=\"/srv/media\",when=\"before\"}"),
        100.0
    );
    assert_eq!(
        v("shelflife_space_free_bytes{mount=\"/srv/media\",when=\"after\"}"),
        400.0
    );
    assert_eq!(
        v("shelflife_space_target_bytes{mount=\"/srv/media\"}"),
        300.0
    );
    assert_eq!(
        v("shelflife_space_freed_bytes{mount=\"/srv/media\"}"),
        300.0
    );
    assert_eq!(
        v("shelflife_space_frees_nothing{mount=\"/srv/media\"}"),
        1.0
    );
    // A second Radarr is its own series, labelled by its name.
    assert_eq!(
        v("shelflife_last_pass_api_requests{service=\"radarr\",server=\"4k\"}"),
        5.0
    );
    assert_eq!(
        v("shelflife_drift_items{kind=\"radarr_missing_file\"}"),
        2.0
    );
    assert_eq!(v("shelflife_drift_items{kind=\"jellyfin_unmatched\"}"), 0.0);
}

#[test]
fn label_values_are_escaped() {
    let text = rendered();
    assert!(
        text.contains(
            "shelflife_paused{reason=\"mount /srv/\\\"media\\\": canary\\nmissing \\\\ gone\"} 1\n"
        ),
        "{text}"
    );
}

#[test]
fn health_is_rendered_per_check_and_per_mount() {
    let text = rendered();
    let v = |s: &str| value(&text, s).unwrap_or_else(|| panic!("no {s} in\n{text}"));
    assert_eq!(v("shelflife_health"), 1.0);
    assert_eq!(
        v("shelflife_check_health{check=\"space /srv/media\",category=\"space\"}"),
        1.0
    );
    assert_eq!(v("shelflife_mount_health{path=\"/srv/media\"}"), 1.0);
    // A configured mount with no finding was not checked; it does not pass for healthy.
    assert_eq!(v("shelflife_mount_health{path=\"/srv/gone\"}"), 2.0);
    assert_eq!(v("shelflife_mount_free_ratio{path=\"/srv/media\"}"), 0.25);
    assert_eq!(v("shelflife_mount_free_bytes{path=\"/srv/media\"}"), 250.0);
    assert_eq!(
        v("shelflife_health_checked_timestamp_seconds"),
        1_795_430_100.0
    );
}

#[test]
fn every_family_is_declared_once_and_no_sample_has_a_timestamp() {
    let text = rendered();
    let mut declared = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().expect("name");
            assert!(declared.insert(name.to_owned()), "{name} declared twice");
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        // After the labels: the value and nothing else.
        let after_labels = line.rsplit_once('}').map_or(line, |(_, rest)| rest);
        let tokens: Vec<&str> = after_labels.split_whitespace().collect();
        let expected = if line.contains('}') { 1 } else { 2 };
        assert_eq!(tokens.len(), expected, "a timestamp or junk in {line:?}");
        let name = line.split(['{', ' ']).next().expect("name");
        assert!(declared.contains(name), "{name} has no TYPE before it");
    }
}

#[test]
fn either_half_may_be_missing() {
    let only_pass = render(Some(&pass()), None);
    assert!(only_pass.contains("shelflife_last_pass_outcome"));
    assert!(!only_pass.contains("shelflife_health"));
    assert_eq!(render(None, None), "");
}

#[test]
fn the_file_is_replaced_whole_and_readable_by_all() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shelflife.prom");
    write_atomically(&path, "a 1\n").expect("first write");
    write_atomically(&path, "b 2\n").expect("second write");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "b 2\n");
    let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o644);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["shelflife.prom"], "no temp file is left behind");

    let missing = dir.path().join("no/such/dir/shelflife.prom");
    let err = write_atomically(&missing, "x").expect_err("no directory");
    assert!(err.to_string().contains("no/such/dir"), "{err}");
}

#[test]
fn passes_serialize_for_the_state_file_and_back() {
    let json = serde_json::to_string(&pass()).expect("json");
    let back: PassMetrics = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, pass());
}

#[test]
fn drift_is_left_out_when_the_pass_did_not_read_the_servers() {
    let mut failed = pass();
    failed.drift.clear();
    let text = render(Some(&failed), None);
    assert!(!text.contains("shelflife_drift_items"), "{text}");
}
