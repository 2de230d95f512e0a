use crate::health::{Category, Finding, Health};

use super::short;

/// Pure: findings for the text of /proc/mdstat. One finding per md array, check = "md array md0".
pub fn mdstat_findings(text: &str) -> Vec<Finding> {
    md_blocks(text).iter().map(md_finding).collect()
}

/// One array: its header line split at the first colon, and the indented lines after it.
struct MdBlock<'a> {
    name: &'a str,
    header: &'a str,
    body: Vec<&'a str>,
}

fn md_blocks(text: &str) -> Vec<MdBlock<'_>> {
    let mut blocks: Vec<MdBlock<'_>> = Vec::new();
    // Indented lines belong to the array above only until a line starts at column 0 again, so the
    // "Personalities" and "unused devices" lines can never lend their brackets to an array.
    let mut open = false;
    for line in text.lines() {
        if line.starts_with(char::is_whitespace) {
            if open {
                if let Some(block) = blocks.last_mut() {
                    block.body.push(line);
                }
            }
            continue;
        }
        open = false;
        let Some((name, header)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        // The kernel names every array md<N> or md_<name>; anything else at column 0 is not one.
        if name.starts_with("md") && !name.contains(char::is_whitespace) {
            blocks.push(MdBlock {
                name,
                header: header.trim(),
                body: Vec::new(),
            });
            open = true;
        }
    }
    blocks
}

struct MdDevice<'a> {
    name: &'a str,
    failed: bool,
}

/// `sdb1[1](F)` → name `sdb1`, failed. Flags the kernel prints: W, J, F, S, R.
fn md_device(token: &str) -> Option<MdDevice<'_>> {
    let open = token.find('[')?;
    let name = &token[..open];
    let rest = &token[open..];
    let close = rest.find(']')?;
    let flags = &rest[close + 1..];
    if name.is_empty() {
        return None;
    }
    Some(MdDevice {
        name,
        failed: flags.contains("(F)"),
    })
}

/// The `[n/m] [UU_]` part of the status line: raid disks, working disks, and the map.
struct MdStatus<'a> {
    disks: u32,
    working: u32,
    map: Option<&'a str>,
}

fn md_status<'a>(body: &[&'a str]) -> Option<MdStatus<'a>> {
    let mut tokens = body.iter().flat_map(|line| line.split_whitespace());
    while let Some(token) = tokens.next() {
        let Some(inner) = token.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
            continue;
        };
        let Some((n, m)) = inner.split_once('/') else {
            continue;
        };
        let (Ok(disks), Ok(working)) = (n.parse::<u32>(), m.parse::<u32>()) else {
            continue;
        };
        let map = tokens.next().filter(|t| {
            t.len() > 2
                && t.starts_with('[')
                && t.ends_with(']')
                && t[1..t.len() - 1].chars().all(|c| c == 'U' || c == '_')
        });
        return Some(MdStatus {
            disks,
            working,
            map,
        });
    }
    None
}

/// A line such as `[=>...]  recovery =  8.4% (…) finish=84.9min speed=…` or `resync=DELAYED`.
struct MdSync<'a> {
    action: &'a str,
    /// `8.4` for a running operation, `DELAYED` / `PENDING` for a waiting one.
    progress: &'a str,
    running: bool,
    finish_min: Option<f64>,
}

fn md_sync<'a>(line: &'a str) -> Option<MdSync<'a>> {
    let mut rest = line.trim();
    if rest.starts_with('[') {
        rest = rest[rest.find(']')? + 1..].trim_start();
    }
    let word_end = rest.find(|c: char| c == '=' || c.is_whitespace())?;
    let action = &rest[..word_end];
    // Only a word followed by '=' is an operation; the blocks and bitmap lines have none.
    let after = rest[word_end..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    if action.is_empty() || !action.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let value_end = after
        .find(|c: char| c.is_whitespace() || c == '(')
        .unwrap_or(after.len());
    let value = &after[..value_end];
    let (progress, running) = match value.strip_suffix('%') {
        Some(percent) => (percent, true),
        None => (value, false),
    };
    let finish_min = after
        .split_whitespace()
        .find_map(|t| t.strip_prefix("finish="))
        .and_then(|t| t.strip_suffix("min"))
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|m| m.is_finite() && *m >= 0.0);
    Some(MdSync {
        action,
        progress,
        running,
        finish_min,
    })
}

fn time_left(minutes: Option<f64>) -> String {
    match minutes {
        Some(m) if m < 119.5 => format!(", about {} min left", m.round()),
        Some(m) => format!(", about {:.1} h left", m / 60.0),
        None => String::new(),
    }
}

/// What the array is doing besides serving I/O, and whether that leaves redundancy intact.
fn md_sync_message(sync: &MdSync<'_>) -> (Health, String) {
    let left = time_left(sync.finish_min);
    match (sync.action, sync.running) {
        // A check reads and compares; every copy is still in place.
        ("check", true) => (
            Health::Ok,
            format!(
                "consistency check {}% (scrub), redundancy intact",
                sync.progress
            ),
        ),
        ("recovery", true) => (
            Health::Degraded,
            format!("rebuilding: recovery {}%{left}", sync.progress),
        ),
        ("resync", false) if sync.progress == "DELAYED" => (
            Health::Degraded,
            "resync delayed: waits for another array on the same disks".to_string(),
        ),
        ("resync", false) if sync.progress == "PENDING" => (
            Health::Degraded,
            "resync pending: copies not yet in sync, starts on the first write".to_string(),
        ),
        (action, true) => (
            Health::Degraded,
            format!("{action} {}% in progress{left}", sync.progress),
        ),
        (action, false) => (Health::Degraded, format!("{action} {}", sync.progress)),
    }
}

/// How many raid disks may be missing with every block still readable.
fn md_tolerance(level: &str, disks: u32) -> u32 {
    match level {
        // A mirror (and, at the least, a raid10) loses data only when no copy is left.
        "raid1" | "raid10" => disks.saturating_sub(1),
        "raid4" | "raid5" => 1,
        "raid6" => 2,
        _ => disks.saturating_sub(1),
    }
}

fn md_finding(block: &MdBlock<'_>) -> Finding {
    let check = format!("md array {}", block.name);
    let (health, detail) = md_assess(block);
    Finding::new(Category::Array, check, health, detail)
}

fn md_assess(block: &MdBlock<'_>) -> (Health, String) {
    let mut words = block.header.split_whitespace();
    let state = words.next().unwrap_or("");
    // "(read-only)" and "(auto-read-only)" sit between the state and the level.
    let rest: Vec<&str> = words.filter(|w| !w.starts_with('(')).collect();
    match state {
        "inactive" => return md_inactive(block, &rest),
        "active" => {}
        _ => {
            return (
                Health::Degraded,
                format!("unrecognised mdstat entry: {}", short(block.header)),
            )
        }
    }

    let (level, device_words) = match rest.split_first() {
        Some((first, devices)) if !first.contains('[') => (*first, devices),
        _ => ("", &rest[..]),
    };
    let failed: Vec<&str> = device_words
        .iter()
        .filter_map(|w| md_device(w))
        .filter(|d| d.failed)
        .map(|d| d.name)
        .collect();
    let sync = block.body.iter().find_map(|line| md_sync(line));
    let status = md_status(&block.body);
    let striped = matches!(level, "raid0" | "linear");

    let mut health = Health::Ok;
    let mut parts: Vec<String> = Vec::new();
    match &status {
        Some(s) if s.disks == 0 || s.working > s.disks => {
            health = Health::Degraded;
            parts.push(format!(
                "unrecognised device status [{}/{}]",
                s.disks, s.working
            ));
        }
        Some(s) => {
            let map = s.map.unwrap_or("");
            let holes = map.chars().filter(|c| *c == '_').count();
            let holes = u32::try_from(holes).unwrap_or(u32::MAX);
            // The count and the map agree in every kernel; if they ever do not, believe the worse.
            let missing = (s.disks - s.working).max(holes);
            let map = if map.is_empty() {
                String::new()
            } else {
                format!(" {map}")
            };
            if missing >= s.disks || missing > md_tolerance(level, s.disks) {
                health = Health::Unhealthy;
                parts.push(format!(
                    "failed: {missing} of {} devices missing{map}, more than {} can lose",
                    s.disks,
                    if level.is_empty() { "the array" } else { level }
                ));
            } else if missing > 0 {
                health = Health::Degraded;
                parts.push(format!("{missing} of {} devices missing{map}", s.disks));
            }
        }
        // raid0 and linear have no redundancy and so no [n/m]; the others always print it.
        None if striped => {}
        None => {
            health = Health::Degraded;
            parts.push("no device status line in mdstat".to_string());
        }
    }

    if let Some(sync) = &sync {
        let (sync_health, message) = md_sync_message(sync);
        health = health.max(sync_health);
        // The operation leads unless the array has already failed: it says when this will end.
        let at = usize::from(health == Health::Unhealthy && !parts.is_empty());
        parts.insert(at, message);
    }

    if !failed.is_empty() {
        // Without redundancy a failed member means lost data, not a reduced margin.
        health = health.max(if striped {
            Health::Unhealthy
        } else {
            Health::Degraded
        });
        let noun = if failed.len() == 1 {
            "failed device"
        } else {
            "failed devices"
        };
        parts.push(format!("{noun}: {}", failed.join(", ")));
    }

    if health == Health::Degraded && parts.first().is_some_and(|p| p.contains("devices missing")) {
        parts[0] = format!("degraded: {}", parts[0]);
    }

    if parts.is_empty() {
        let level = if level.is_empty() { "array" } else { level };
        let detail = match &status {
            Some(s) => format!(
                "active {level}, all {} devices up {}",
                s.disks,
                s.map.unwrap_or("")
            ),
            None => format!("active {level} (no redundancy)"),
        };
        return (Health::Ok, detail.trim_end().to_string());
    }
    (health, parts.join("; "))
}

fn md_inactive(block: &MdBlock<'_>, words: &[&str]) -> (Health, String) {
    // An Intel RST (imsm) or DDF container is always "inactive": it only holds the metadata, and
    // its volumes are separate md arrays with their own entries. Its volumes say
    // "super external:/md127/0"; the container itself names the format.
    let metadata = block
        .body
        .iter()
        .flat_map(|line| line.split_whitespace())
        .find_map(|w| w.strip_prefix("external:"));
    if let Some(format) = metadata {
        if format.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return (
                Health::Ok,
                format!(
                    "container for {format} metadata; its volumes are checked as their own arrays"
                ),
            );
        }
    }
    let members: Vec<&str> = words
        .iter()
        .filter_map(|w| md_device(w))
        .map(|d| d.name)
        .collect();
    let members = if members.is_empty() {
        String::new()
    } else {
        format!(" (members {})", members.join(", "))
    };
    (
        Health::Unhealthy,
        format!(
            "inactive: array is not running{members}; see mdadm --detail /dev/{}",
            block.name
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::arrays::tests::{assert_finding, mutations, one};

    fn md(text: &str) -> Finding {
        one(mdstat_findings(text))
    }

    /// An mdstat with one array whose header and body are given.
    fn mdstat_with(header: &str, body: &[&str]) -> String {
        let mut text = String::from("Personalities : [raid1] [raid6] [raid5] [raid4] [raid10] \n");
        text.push_str(header);
        text.push('\n');
        for line in body {
            text.push_str("      ");
            text.push_str(line);
            text.push('\n');
        }
        text.push_str("\nunused devices: <none>\n");
        text
    }

    #[test]
    fn mdstat_healthy_raid1_is_ok() {
        let f = md(include_str!("../samples/mdstat-healthy-raid1.txt"));
        assert_finding(
            &f,
            "md array md0",
            Health::Ok,
            "active raid1, all 2 devices up [UU]",
        );
    }

    #[test]
    fn mdstat_degraded_raid1_counts_missing_devices() {
        let f = md(include_str!("../samples/mdstat-degraded-raid1.txt"));
        assert_finding(
            &f,
            "md array md0",
            Health::Degraded,
            "degraded: 1 of 2 devices missing [U_]",
        );
    }

    #[test]
    fn mdstat_recovering_raid5_reports_progress_and_time_left() {
        let f = md(include_str!("../samples/mdstat-recovering-raid5.txt"));
        assert_finding(
            &f,
            "md array md127",
            Health::Degraded,
            "rebuilding: recovery 12.6%, about 2.5 h left; 1 of 4 devices missing [UUU_]",
        );
    }

    #[test]
    fn mdstat_recovery_time_left_is_in_minutes_when_short() {
        let text = mdstat_with(
            "md0 : active raid1 sdb1[2] sda1[0]",
            &[
                "976630464 blocks super 1.2 [2/1] [U_]",
                "[==================>..]  recovery = 91.2% (890686976/976630464) finish=15.3min speed=93622K/sec",
            ],
        );
        assert_eq!(
            md(&text).detail,
            "rebuilding: recovery 91.2%, about 15 min left; 1 of 2 devices missing [U_]"
        );
    }

    #[test]
    fn mdstat_resync_raid1_is_degraded() {
        let f = md(include_str!("../samples/mdstat-resync-raid1.txt"));
        assert_finding(
            &f,
            "md array md0",
            Health::Degraded,
            "resync 3.4% in progress, about 78 min left",
        );
    }

    #[test]
    fn mdstat_reshape_raid5_is_degraded() {
        let f = md(include_str!("../samples/mdstat-reshape-raid5.txt"));
        assert_finding(
            &f,
            "md array md0",
            Health::Degraded,
            "reshape 1.9% in progress, about 17.7 h left",
        );
    }

    #[test]
    fn mdstat_check_raid6_is_ok_and_mentions_scrub() {
        let f = md(include_str!("../samples/mdstat-check-raid6.txt"));
        assert_finding(
            &f,
            "md array md2",
            Health::Ok,
            "consistency check 40.0% (scrub), redundancy intact",
        );
    }

    #[test]
    fn mdstat_failed_device_is_degraded_and_named() {
        let f = md(include_str!("../samples/mdstat-failed-device.txt"));
        assert_finding(
            &f,
            "md array md1",
            Health::Degraded,
            "degraded: 1 of 4 devices missing [UUU_]; failed device: sdd1",
        );
    }

    #[test]
    fn mdstat_failed_flag_alone_is_degraded() {
        // The kernel updates the count with the flag, but the flag alone must be enough.
        let text = mdstat_with(
            "md0 : active raid1 sdb1[1](F) sda1[0]",
            &["976630464 blocks super 1.2 [2/2] [UU]"],
        );
        assert_finding(
            &md(&text),
            "md array md0",
            Health::Degraded,
            "failed device: sdb1",
        );
        let text = mdstat_with(
            "md0 : active raid1 sdc1[2](S) sdb1[1](W) sda1[0]",
            &["976630464 blocks super 1.2 [2/2] [UU]"],
        );
        assert_eq!(
            md(&text).health,
            Health::Ok,
            "spare and write-mostly are not failures"
        );
    }

    #[test]
    fn mdstat_inactive_array_is_unhealthy() {
        let f = md(include_str!("../samples/mdstat-inactive.txt"));
        assert_finding(
            &f,
            "md array md127",
            Health::Unhealthy,
            "inactive: array is not running (members sdc1, sdb1, sda1); see mdadm --detail /dev/md127",
        );
    }

    #[test]
    fn mdstat_none_has_no_findings() {
        assert_eq!(
            mdstat_findings(include_str!("../samples/mdstat-none.txt")),
            vec![]
        );
        assert_eq!(mdstat_findings(""), vec![]);
        assert_eq!(
            mdstat_findings("Personalities : \nunused devices: <none>\n"),
            vec![]
        );
    }

    #[test]
    fn mdstat_mixed_file_reports_each_array() {
        let found = mdstat_findings(include_str!("../samples/mdstat-mixed.txt"));
        let got: Vec<(&str, Health, &str)> = found
            .iter()
            .map(|f| (f.check.as_str(), f.health, f.detail.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "md array md5",
                    Health::Degraded,
                    "resync pending: copies not yet in sync, starts on the first write"
                ),
                (
                    "md array md4",
                    Health::Unhealthy,
                    "failed: 2 of 4 devices missing [U__U], more than raid5 can lose; \
                     failed devices: sdm1, sdl1"
                ),
                ("md array md3", Health::Ok, "active raid0 (no redundancy)"),
                (
                    "md array md2",
                    Health::Ok,
                    "active raid10, all 4 devices up [UUUU]"
                ),
                (
                    "md array md1",
                    Health::Degraded,
                    "resync delayed: waits for another array on the same disks; \
                     1 of 2 devices missing [_U]"
                ),
                (
                    "md array md0",
                    Health::Degraded,
                    "rebuilding: recovery 7.8%, about 62 min left; 1 of 2 devices missing [_U]"
                ),
            ]
        );
        assert!(found.iter().all(|f| f.category == Category::Array));
    }

    #[test]
    fn mdstat_imsm_container_is_ok_but_inactive_volume_is_not() {
        let found = mdstat_findings(include_str!("../samples/mdstat-imsm.txt"));
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_finding(
            &found[0],
            "md array md126",
            Health::Ok,
            "active raid1, all 2 devices up [UU]",
        );
        assert_finding(
            &found[1],
            "md array md127",
            Health::Ok,
            "container for imsm metadata; its volumes are checked as their own arrays",
        );
        // A volume of the container that did not start is a stopped array like any other.
        let text = mdstat_with(
            "md126 : inactive sda[1] sdb[0]",
            &["976759808 blocks super external:/md127/0"],
        );
        assert_eq!(md(&text).health, Health::Unhealthy);
    }

    #[test]
    fn mdstat_more_missing_than_level_tolerates_is_unhealthy() {
        let cases: &[(&str, &str, Health)] = &[
            ("raid1", "[2/0] [__]", Health::Unhealthy),
            ("raid1", "[3/1] [U__]", Health::Degraded),
            ("raid10", "[4/0] [____]", Health::Unhealthy),
            ("raid10", "[4/2] [U_U_]", Health::Degraded),
            ("raid4", "[3/1] [U__]", Health::Unhealthy),
            ("raid5", "[4/2] [UU__]", Health::Unhealthy),
            ("raid5", "[4/1] [U___]", Health::Unhealthy),
            ("raid5", "[4/3] [UU_U]", Health::Degraded),
            ("raid6", "[6/3] [UUU___]", Health::Unhealthy),
            ("raid6", "[6/4] [UUUU__]", Health::Degraded),
            ("raid6", "[6/5] [UUUUU_]", Health::Degraded),
        ];
        for (level, status, health) in cases {
            let text = mdstat_with(
                &format!("md9 : active {level} sda1[0]"),
                &[&format!("1000 blocks super 1.2 {status}")],
            );
            let f = md(&text);
            assert_eq!(f.health, *health, "{level} {status}: {f:?}");
            let expected_start = if *health == Health::Unhealthy {
                "failed: "
            } else {
                "degraded: "
            };
            assert!(f.detail.starts_with(expected_start), "{f:?}");
            assert!(
                f.detail.contains(status.split(' ').nth(1).unwrap_or("")),
                "{f:?}"
            );
        }
        let text = mdstat_with(
            "md9 : active raid6 sda1[0]",
            &["1000 blocks super 1.2 level 6, 512k chunk, algorithm 2 [6/3] [UUU___]"],
        );
        assert_eq!(
            md(&text).detail,
            "failed: 3 of 6 devices missing [UUU___], more than raid6 can lose"
        );
    }

    #[test]
    fn mdstat_raid0_and_linear_without_status_are_ok() {
        let text = mdstat_with(
            "md3 : active linear sdb1[1] sda1[0]",
            &["1953257472 blocks super 1.2 0k rounding"],
        );
        assert_finding(
            &md(&text),
            "md array md3",
            Health::Ok,
            "active linear (no redundancy)",
        );
        let text = mdstat_with(
            "md3 : active raid0 sdb1[1] sda1[0]",
            &["1953257472 blocks super 1.2 512k chunks"],
        );
        assert_eq!(md(&text).health, Health::Ok);
        // Without redundancy a failed member is lost data.
        let text = mdstat_with(
            "md3 : active raid0 sdb1[1](F) sda1[0]",
            &["1953257472 blocks super 1.2 512k chunks"],
        );
        assert_finding(
            &md(&text),
            "md array md3",
            Health::Unhealthy,
            "failed device: sdb1",
        );
    }

    #[test]
    fn mdstat_redundant_array_without_status_is_degraded() {
        // A truncated read must not pass for a healthy mirror.
        let f = md("md0 : active raid1 sdb1[1] sda1[0]\n");
        assert_finding(
            &f,
            "md array md0",
            Health::Degraded,
            "no device status line in mdstat",
        );
    }

    #[test]
    fn mdstat_resync_delayed_and_pending_are_degraded() {
        for (line, detail) in [
            (
                "\tresync=DELAYED",
                "resync delayed: waits for another array on the same disks",
            ),
            (
                "\tresync=PENDING",
                "resync pending: copies not yet in sync, starts on the first write",
            ),
            ("\tresync=REMOTE", "resync REMOTE"),
        ] {
            let text = mdstat_with(
                "md1 : active (auto-read-only) raid1 sdb2[1] sda2[0]",
                &["1047552 blocks super 1.2 [2/2] [UU]", line],
            );
            assert_finding(&md(&text), "md array md1", Health::Degraded, detail);
        }
    }

    #[test]
    fn mdstat_unknown_operation_and_state_are_degraded() {
        let text = mdstat_with(
            "md0 : active raid1 sdb1[1] sda1[0]",
            &[
                "976630464 blocks super 1.2 [2/2] [UU]",
                "[>....................]  frobnicate =  0.5% (1/2)",
            ],
        );
        assert_finding(
            &md(&text),
            "md array md0",
            Health::Degraded,
            "frobnicate 0.5% in progress",
        );
        let f = md("md0 : suspended raid1 sda1[0]\n");
        assert_eq!(f.health, Health::Degraded);
        assert!(f.detail.starts_with("unrecognised mdstat entry"), "{f:?}");
        // 100% leaves no space after '='.
        let text = mdstat_with(
            "md0 : active raid1 sdb1[1] sda1[0]",
            &["976630464 blocks super 1.2 [2/2] [UU]", "[====================>]  check =100.0% (976630464/976630464) finish=0.0min speed=1K/sec"],
        );
        assert_eq!(
            md(&text).detail,
            "consistency check 100.0% (scrub), redundancy intact"
        );
    }

    #[test]
    fn mdstat_odd_input_never_panics() {
        let samples = [
            include_str!("../samples/mdstat-healthy-raid1.txt"),
            include_str!("../samples/mdstat-degraded-raid1.txt"),
            include_str!("../samples/mdstat-recovering-raid5.txt"),
            include_str!("../samples/mdstat-resync-raid1.txt"),
            include_str!("../samples/mdstat-reshape-raid5.txt"),
            include_str!("../samples/mdstat-check-raid6.txt"),
            include_str!("../samples/mdstat-failed-device.txt"),
            include_str!("../samples/mdstat-inactive.txt"),
            include_str!("../samples/mdstat-imsm.txt"),
            include_str!("../samples/mdstat-mixed.txt"),
        ];
        for (i, sample) in samples.iter().enumerate() {
            for (at, _) in sample.char_indices() {
                for f in mdstat_findings(&sample[..at]) {
                    assert_eq!(f.category, Category::Array);
                }
            }
            for text in mutations(sample, i as u64 + 1, 400) {
                let _ = mdstat_findings(&text);
            }
        }
        for garbage in [
            "md",
            "md:",
            "md0 :",
            "md0 : active",
            "md0 : active raid5 [",
            "md0 : active raid5 sda[",
            "md0 : active raid5 sda[0](",
            "md0 : active raid5 [0]\n      [",
            "md0 : active raid5\n      [4/",
            "md0 : active raid5\n      [4/9] [UU]",
            "md0 : active raid5\n      [0/0] []",
            "md0 : active raid5\n      [99999999999999/1] [U]",
            "md0 : active raid1\n      [2/2] [UU]\n      [=>  recovery",
            "md0 : active raid1\n      [2/2] [UU]\n      ]=",
            "md0 : active raid1\n      [2/2] [UU]\n      =",
            "md0 : active raid1\n      [2/2] [UU]\n      recovery = % finish=min finish=-3min",
            "md0 : active raid1\n      [2/2] [UU]\n      recovery = 1e400% finish=NaNmin",
            "\u{0}\u{ffff}md0 : ",
            "mdé : activeé raidé\n      é[é/é]",
        ] {
            let _ = mdstat_findings(garbage);
        }
        let f = md("md0 : active raid5\n      [4/9] [UU]");
        assert_eq!(
            f.health,
            Health::Degraded,
            "impossible counts are not ok: {f:?}"
        );
        let f = md("md0 : active raid1\n      [2/2] [UU]\n      recovery = 5% finish=NaNmin");
        assert_eq!(f.detail, "rebuilding: recovery 5%");
    }
}
