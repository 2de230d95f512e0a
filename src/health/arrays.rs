//! RAID and pool state for the storage health checks: md, ZFS and btrfs.
//!
//! A degraded array still serves every file, so nothing looks wrong from the mount; but it has
//! lost its margin, and a rebuild reads every disk at full speed. That is the wrong moment to let
//! a cleanup run, so any array that is not plainly healthy pauses deleting. The same rule cuts the
//! other way: a wrong "degraded" stops cleanup for nothing, so every state is read from the source
//! the kernel or the pool itself keeps, never guessed.
//!
//! - md: `/proc/mdstat` is the kernel's live view of every array, readable by any user and
//!   needing no `mdadm`. Its format has been stable for two decades, so it is parsed directly.
//! - ZFS: `zpool list -H -o name,health` is the scripting interface of the pool tools (tab
//!   separated, no headers) and needs no root on current OpenZFS. A pool whose disks hang can
//!   make `zpool` itself hang, so it runs in its own process group with a deadline and is killed
//!   when that passes.
//! - btrfs: `btrfs device stats` needs root in practice (btrfs-progs looks the devices up with
//!   privileged ioctls), and shelflife runs as an unprivileged service user. Since Linux 5.14 the
//!   same per-device error counters, and whether a device is missing, are in
//!   `/sys/fs/btrfs/<fsid>/devinfo/<devid>/`, readable by anyone, with no program to run.
//!
//! The parsers are pure functions of the text so recorded samples (in `samples/`) pin them down.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::{Category, Finding, Health};

/// Where array state is read from; configurable so tests can point at recorded samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArraySources {
    /// Default `/proc/mdstat`. A missing file means no md driver: no finding.
    pub mdstat: PathBuf,
    /// The `zpool` program (default `zpool`, looked up in PATH). Run as `zpool list -H -o name,health`.
    /// Not installed (spawn fails with NotFound): no ZFS here, no finding.
    pub zpool: PathBuf,
    /// Default `/sys/fs/btrfs`.
    pub btrfs_sysfs: PathBuf,
    /// Deadline for the zpool command; on expiry the child is killed and the finding is unhealthy.
    pub timeout: Duration,
}

impl Default for ArraySources {
    fn default() -> Self {
        ArraySources {
            mdstat: PathBuf::from("/proc/mdstat"),
            zpool: PathBuf::from("zpool"),
            btrfs_sysfs: PathBuf::from("/sys/fs/btrfs"),
            timeout: Duration::from_secs(10),
        }
    }
}

/// A mounted btrfs filesystem, from /proc/self/mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtrfsMount {
    pub mount_point: String,
    /// The mount source, e.g. `/dev/sdb1` or `/dev/mapper/data`.
    pub source: String,
    /// Mounted with `-o degraded` (seen in the super options).
    pub degraded_option: bool,
}

// ---------------------------------------------------------------------------------------------
// md

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

/// Echoed input is cut so one garbage line cannot flood the report.
fn short(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// ZFS

/// Pure: findings for the output of `zpool list -H -o name,health` (tab separated). check = "ZFS pool tank".
pub fn zpool_findings(text: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.trim() == "no pools available" {
            continue;
        }
        // Pool names may contain spaces; the health is the last field.
        let split = line
            .rsplit_once('\t')
            .or_else(|| line.trim().rsplit_once(char::is_whitespace));
        let Some((name, state)) = split.map(|(n, s)| (n.trim(), s.trim())) else {
            findings.push(Finding::new(
                Category::Array,
                "ZFS pools",
                Health::Degraded,
                format!("unexpected line from zpool list: {}", short(line)),
            ));
            continue;
        };
        let (health, detail) = zpool_state(name, state);
        findings.push(Finding::new(
            Category::Array,
            format!("ZFS pool {name}"),
            health,
            detail,
        ));
    }
    findings
}

fn zpool_state(name: &str, state: &str) -> (Health, String) {
    let see = format!("see zpool status {name}");
    match state.to_ascii_uppercase().as_str() {
        "ONLINE" => (Health::Ok, "online".to_string()),
        "DEGRADED" => (
            Health::Degraded,
            format!("degraded: a device is faulted, offline or missing, redundancy reduced; {see}"),
        ),
        "FAULTED" => (
            Health::Unhealthy,
            format!("faulted: the pool cannot serve its data; {see}"),
        ),
        "UNAVAIL" => (
            Health::Unhealthy,
            format!("unavailable: too many devices missing to open the pool; {see}"),
        ),
        "SUSPENDED" => (
            Health::Unhealthy,
            format!("suspended: I/O stopped after device failures; {see}"),
        ),
        "REMOVED" => (
            Health::Unhealthy,
            format!("removed: the pool's devices were taken away; {see}"),
        ),
        "OFFLINE" => (
            Health::Unhealthy,
            format!("offline: the pool was taken offline; {see}"),
        ),
        _ => (
            Health::Degraded,
            format!("unknown pool state {}; {see}", short(state)),
        ),
    }
}

fn zfs_error(detail: String) -> Finding {
    Finding::new(Category::Array, "ZFS pools", Health::Degraded, detail)
}

/// A spawn that fails because the program file is still open for writing (a package upgrade
/// replacing it, or a concurrent fork holding a freshly written file) succeeds a moment later.
async fn spawn_retrying(cmd: &mut tokio::process::Command) -> io::Result<tokio::process::Child> {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.kind() == io::ErrorKind::ExecutableFileBusy && tries < 5 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => return other,
        }
    }
}

async fn read_all(pipe: Option<impl AsyncRead + Unpin>) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(mut pipe) = pipe {
        // A read error leaves what arrived; the exit status still says what happened.
        let _ = pipe.read_to_end(&mut out).await;
    }
    out
}

fn first_line(bytes: &[u8]) -> Option<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(short)
}

fn human(d: Duration) -> String {
    if d.subsec_nanos() == 0 && d.as_secs() > 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

async fn zpool_check(program: &Path, timeout: Duration) -> Vec<Finding> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(["list", "-H", "-o", "name,health"])
        // "no pools available" is translated otherwise.
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // Its own group, so a deadline kills anything it started as well, not just the parent.
        .process_group(0);
    let mut child = match spawn_retrying(&mut cmd).await {
        Ok(child) => child,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            return vec![zfs_error(format!(
                "cannot read ZFS pool state: cannot run {}: {e}",
                program.display()
            ))]
        }
    };
    let pid = child.id();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let run = async {
        let (out, err, status) = tokio::join!(read_all(stdout), read_all(stderr), child.wait());
        (out, err, status)
    };
    let (out, err, status) = match tokio::time::timeout(timeout, run).await {
        Ok(done) => done,
        Err(_) => {
            if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
                // The group id is the child's pid: it was made leader above.
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = child.start_kill();
            // Dropping the child leaves the reaping to tokio; waiting here could hang on a
            // process stuck in the kernel.
            return vec![Finding::new(
                Category::Array,
                "ZFS pools",
                Health::Unhealthy,
                format!("zpool did not answer within {}", human(timeout)),
            )];
        }
    };
    let status = match status {
        Ok(status) => status,
        Err(e) => {
            return vec![zfs_error(format!(
                "cannot read ZFS pool state: waiting for zpool: {e}"
            ))]
        }
    };
    let stdout_text = String::from_utf8_lossy(&out);
    if status.success() {
        return zpool_findings(&stdout_text);
    }
    let stderr_text = String::from_utf8_lossy(&err);
    let said = |needle: &str| stdout_text.contains(needle) || stderr_text.contains(needle);
    // No pool imported means no ZFS storage to protect. Without the kernel module loaded nothing
    // can be imported either; a pool that should be there is then missing from the mount checks.
    if said("no pools available") || said("modules are not loaded") {
        return Vec::new();
    }
    let why = first_line(&err)
        .or_else(|| first_line(&out))
        .unwrap_or_else(|| match status.code() {
            Some(code) => format!("zpool exited with status {code}"),
            None => "zpool was killed by a signal".to_string(),
        });
    // Pools it did list are still worth reporting beside the error.
    let mut findings = zpool_findings(&stdout_text);
    findings.push(zfs_error(format!("cannot read ZFS pool state: {why}")));
    findings
}

// ---------------------------------------------------------------------------------------------
// btrfs

/// Findings for btrfs mounts from sysfs (no root needed). check = "btrfs /srv/media".
pub fn btrfs_findings(sysfs: &Path, mounts: &[BtrfsMount]) -> Vec<Finding> {
    mounts.iter().map(|m| btrfs_finding(sysfs, m)).collect()
}

/// The name the kernel gives the device, which is what sysfs lists: `/dev/mapper/data` is a
/// symlink to `/dev/dm-0`, and `/dev/disk/by-uuid/…` to `/dev/sdb1`.
fn kernel_name(source: &str) -> String {
    let resolved = std::fs::canonicalize(source).ok();
    let path = resolved.as_deref().unwrap_or_else(|| Path::new(source));
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| source.to_string())
}

/// Entries of a directory, sorted so findings come out the same on every run.
fn sorted_entries(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut entries: Vec<(String, PathBuf)> = read
        .filter_map(Result::ok)
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    entries.sort_by(|a, b| {
        // devids are numbers: device 10 comes after device 9.
        match (a.0.parse::<u64>(), b.0.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => a.0.cmp(&b.0),
        }
    });
    entries
}

fn btrfs_fs_dir(sysfs: &Path, kname: &str) -> Option<PathBuf> {
    if kname.is_empty() || kname.contains('/') || kname == "." || kname == ".." {
        return None;
    }
    sorted_entries(sysfs)
        .into_iter()
        .map(|(_, path)| path)
        // In real sysfs the entry is a symlink to the block device; only its name matters.
        .find(|fs| fs.join("devices").join(kname).symlink_metadata().is_ok())
}

/// What one `devinfo/<devid>` directory says; `None` fields were not there to read.
struct DevInfo {
    devid: String,
    missing: Option<bool>,
    errors: Option<Vec<(String, u64)>>,
    problems: Vec<String>,
}

fn read_devinfo(devid: String, dir: &Path) -> DevInfo {
    let mut info = DevInfo {
        devid,
        missing: None,
        errors: None,
        problems: Vec::new(),
    };
    match std::fs::read_to_string(dir.join("missing")) {
        Ok(text) => match text.trim() {
            "0" => info.missing = Some(false),
            "1" => info.missing = Some(true),
            other => info.problems.push(format!(
                "device {}: unreadable missing flag {:?}",
                info.devid,
                short(other)
            )),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => info.problems.push(format!(
            "device {}: cannot read missing flag: {e}",
            info.devid
        )),
    }
    match std::fs::read_to_string(dir.join("error_stats")) {
        Ok(text) => {
            let mut counters = Vec::new();
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                let parsed = line
                    .split_once(char::is_whitespace)
                    .and_then(|(name, value)| Some((name, value.trim().parse::<u64>().ok()?)));
                match parsed {
                    Some((name, value)) => counters.push((name.to_string(), value)),
                    None => info.problems.push(format!(
                        "device {}: unreadable error counter {:?}",
                        info.devid,
                        short(line)
                    )),
                }
            }
            info.errors = Some(counters);
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => info.problems.push(format!(
            "device {}: cannot read error counters: {e}",
            info.devid
        )),
    }
    info
}

fn btrfs_finding(sysfs: &Path, mount: &BtrfsMount) -> Finding {
    let check = format!("btrfs {}", mount.mount_point);
    let fs_dir = btrfs_fs_dir(sysfs, &kernel_name(&mount.source));
    let devices: Vec<DevInfo> = fs_dir
        .map(|dir| {
            sorted_entries(&dir.join("devinfo"))
                .into_iter()
                .filter(|(_, path)| path.is_dir())
                .map(|(devid, path)| read_devinfo(devid, &path))
                .collect()
        })
        .unwrap_or_default();

    let mut missing = Vec::new();
    let mut errors = Vec::new();
    let mut unreadable = Vec::new();
    let mut counted = 0usize;
    for dev in devices {
        unreadable.extend(dev.problems);
        if dev.missing == Some(true) {
            missing.push(format!("device {} missing", dev.devid));
        }
        if let Some(counters) = dev.errors {
            counted += 1;
            let nonzero: Vec<String> = counters
                .iter()
                .filter(|(_, value)| *value > 0)
                .map(|(name, value)| format!("{name} {value}"))
                .collect();
            if !nonzero.is_empty() {
                errors.push(format!("device {}: {}", dev.devid, nonzero.join(", ")));
            }
        }
    }
    if let Some(last) = errors.last_mut() {
        // The counters never fall by themselves: say how to clear them once the cause is fixed.
        last.push_str(&format!(
            " (counters stay until reset: btrfs device stats -z {})",
            mount.mount_point
        ));
    }

    let mut parts = missing;
    parts.append(&mut errors);
    if mount.degraded_option {
        parts.push("mounted with -o degraded".to_string());
    }
    parts.append(&mut unreadable);

    if parts.is_empty() {
        let detail = if counted == 0 {
            format!("no error counters in sysfs for {}", mount.source)
        } else {
            let noun = if counted == 1 { "device" } else { "devices" };
            format!("no errors on {counted} {noun}")
        };
        return Finding::ok(Category::Array, check, detail);
    }
    Finding::new(Category::Array, check, Health::Degraded, parts.join("; "))
}

// ---------------------------------------------------------------------------------------------

/// All of the above; reading files and the command never blocks the async runtime for long.
pub async fn check(sources: &ArraySources, btrfs: &[BtrfsMount]) -> Vec<Finding> {
    let mdstat = sources.mdstat.clone();
    let sysfs = sources.btrfs_sysfs.clone();
    let mounts = btrfs.to_vec();
    let files = tokio::task::spawn_blocking(move || {
        (read_mdstat(&mdstat), btrfs_findings(&sysfs, &mounts))
    });
    // proc and sysfs answer from memory, but a thread stuck there must not hold up the report.
    let files = tokio::time::timeout(sources.timeout, files);
    let (files, zfs) = tokio::join!(files, zpool_check(&sources.zpool, sources.timeout));

    let (mut findings, btrfs_findings) = match files {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => (
            vec![Finding::new(
                Category::Array,
                "md and btrfs arrays",
                Health::Degraded,
                format!("reading array state failed: {e}"),
            )],
            Vec::new(),
        ),
        Err(_) => (
            vec![Finding::new(
                Category::Array,
                "md and btrfs arrays",
                Health::Unhealthy,
                format!(
                    "reading {} and {} did not finish within {}",
                    sources.mdstat.display(),
                    sources.btrfs_sysfs.display(),
                    human(sources.timeout)
                ),
            )],
            Vec::new(),
        ),
    };
    findings.extend(zfs);
    findings.extend(btrfs_findings);
    findings
}

fn read_mdstat(path: &Path) -> Vec<Finding> {
    match std::fs::read(path) {
        Ok(bytes) => mdstat_findings(&String::from_utf8_lossy(&bytes)),
        // No md driver loaded: no md arrays to check.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => vec![Finding::new(
            Category::Array,
            "md arrays",
            Health::Degraded,
            format!("cannot read {}: {e}", path.display()),
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Instant;

    fn one(findings: Vec<Finding>) -> Finding {
        assert_eq!(findings.len(), 1, "expected one finding: {findings:#?}");
        findings.into_iter().next().expect("one finding")
    }

    fn md(text: &str) -> Finding {
        one(mdstat_findings(text))
    }

    fn assert_finding(f: &Finding, check: &str, health: Health, detail: &str) {
        assert_eq!(f.category, Category::Array, "{f:?}");
        assert_eq!(f.check, check, "{f:?}");
        assert_eq!(f.health, health, "{f:?}");
        assert_eq!(f.detail, detail, "{f:?}");
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

    // ---- md samples

    #[test]
    fn mdstat_healthy_raid1_is_ok() {
        let f = md(include_str!("samples/mdstat-healthy-raid1.txt"));
        assert_finding(
            &f,
            "md array md0",
            Health::Ok,
            "active raid1, all 2 devices up [UU]",
        );
    }

    #[test]
    fn mdstat_degraded_raid1_counts_missing_devices() {
        let f = md(include_str!("samples/mdstat-degraded-raid1.txt"));
        assert_finding(
            &f,
            "md array md0",
            Health::Degraded,
            "degraded: 1 of 2 devices missing [U_]",
        );
    }

    #[test]
    fn mdstat_recovering_raid5_reports_progress_and_time_left() {
        let f = md(include_str!("samples/mdstat-recovering-raid5.txt"));
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
        let f = md(include_str!("samples/mdstat-resync-raid1.txt"));
        assert_finding(
            &f,
            "md array md0",
            Health::Degraded,
            "resync 3.4% in progress, about 78 min left",
        );
    }

    #[test]
    fn mdstat_reshape_raid5_is_degraded() {
        let f = md(include_str!("samples/mdstat-reshape-raid5.txt"));
        assert_finding(
            &f,
            "md array md0",
            Health::Degraded,
            "reshape 1.9% in progress, about 17.7 h left",
        );
    }

    #[test]
    fn mdstat_check_raid6_is_ok_and_mentions_scrub() {
        let f = md(include_str!("samples/mdstat-check-raid6.txt"));
        assert_finding(
            &f,
            "md array md2",
            Health::Ok,
            "consistency check 40.0% (scrub), redundancy intact",
        );
    }

    #[test]
    fn mdstat_failed_device_is_degraded_and_named() {
        let f = md(include_str!("samples/mdstat-failed-device.txt"));
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
        let f = md(include_str!("samples/mdstat-inactive.txt"));
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
            mdstat_findings(include_str!("samples/mdstat-none.txt")),
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
        let found = mdstat_findings(include_str!("samples/mdstat-mixed.txt"));
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
        let found = mdstat_findings(include_str!("samples/mdstat-imsm.txt"));
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

    /// Cheap deterministic noise for the fuzz tests.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    fn mutations(sample: &str, seed: u64, rounds: usize) -> Vec<String> {
        const ALPHABET: &[char] = &[
            '[', ']', '/', '(', ')', '=', '%', '_', 'U', ':', ' ', '\t', '\n', '0', '9', 'F', 'é',
            '→',
        ];
        let mut rng = Lcg(seed);
        let chars: Vec<char> = sample.chars().collect();
        let mut out = Vec::new();
        for _ in 0..rounds {
            let mut c = chars.clone();
            for _ in 0..(1 + rng.next() % 6) {
                if c.is_empty() {
                    break;
                }
                let at = (rng.next() as usize) % c.len();
                match rng.next() % 3 {
                    0 => {
                        c.remove(at);
                    }
                    1 => c.insert(at, ALPHABET[(rng.next() as usize) % ALPHABET.len()]),
                    _ => c[at] = ALPHABET[(rng.next() as usize) % ALPHABET.len()],
                }
            }
            out.push(c.into_iter().collect());
        }
        out
    }

    #[test]
    fn mdstat_odd_input_never_panics() {
        let samples = [
            include_str!("samples/mdstat-healthy-raid1.txt"),
            include_str!("samples/mdstat-degraded-raid1.txt"),
            include_str!("samples/mdstat-recovering-raid5.txt"),
            include_str!("samples/mdstat-resync-raid1.txt"),
            include_str!("samples/mdstat-reshape-raid5.txt"),
            include_str!("samples/mdstat-check-raid6.txt"),
            include_str!("samples/mdstat-failed-device.txt"),
            include_str!("samples/mdstat-inactive.txt"),
            include_str!("samples/mdstat-imsm.txt"),
            include_str!("samples/mdstat-mixed.txt"),
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

    // ---- zpool

    #[test]
    fn zpool_healthy_sample_is_ok() {
        let found = zpool_findings(include_str!("samples/zpool-healthy.txt"));
        assert_eq!(found.len(), 2);
        assert_finding(&found[0], "ZFS pool tank", Health::Ok, "online");
        assert_finding(&found[1], "ZFS pool backup", Health::Ok, "online");
    }

    #[test]
    fn zpool_degraded_sample_is_degraded() {
        let found = zpool_findings(include_str!("samples/zpool-degraded.txt"));
        assert_eq!(found.len(), 2);
        assert_finding(
            &found[0],
            "ZFS pool tank",
            Health::Degraded,
            "degraded: a device is faulted, offline or missing, redundancy reduced; \
             see zpool status tank",
        );
        assert_eq!(found[1].health, Health::Ok);
    }

    #[test]
    fn zpool_faulted_sample_is_unhealthy() {
        let found = zpool_findings(include_str!("samples/zpool-faulted.txt"));
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].health, Health::Ok);
        assert_finding(
            &found[1],
            "ZFS pool media",
            Health::Unhealthy,
            "faulted: the pool cannot serve its data; see zpool status media",
        );
    }

    #[test]
    fn zpool_every_state_maps_to_its_health() {
        for (state, health, word) in [
            ("ONLINE", Health::Ok, "online"),
            ("DEGRADED", Health::Degraded, "degraded"),
            ("FAULTED", Health::Unhealthy, "faulted"),
            ("UNAVAIL", Health::Unhealthy, "unavailable"),
            ("SUSPENDED", Health::Unhealthy, "suspended"),
            ("REMOVED", Health::Unhealthy, "removed"),
            ("OFFLINE", Health::Unhealthy, "offline"),
            ("SPLIT", Health::Degraded, "unknown pool state SPLIT"),
            ("-", Health::Degraded, "unknown pool state -"),
        ] {
            let f = one(zpool_findings(&format!("tank\t{state}\n")));
            assert_eq!(f.check, "ZFS pool tank");
            assert_eq!(f.health, health, "{state}");
            assert!(f.detail.starts_with(word), "{state}: {f:?}");
        }
    }

    #[test]
    fn zpool_name_with_spaces_is_kept_whole() {
        let f = one(zpool_findings("media pool\tDEGRADED\n"));
        assert_eq!(f.check, "ZFS pool media pool");
        assert_eq!(f.health, Health::Degraded);
    }

    #[test]
    fn zpool_empty_output_has_no_findings_and_garbage_is_degraded() {
        assert_eq!(zpool_findings(""), vec![]);
        assert_eq!(zpool_findings("\n\n"), vec![]);
        assert_eq!(zpool_findings("no pools available\n"), vec![]);
        let f = one(zpool_findings("tank\n"));
        assert_finding(
            &f,
            "ZFS pools",
            Health::Degraded,
            "unexpected line from zpool list: tank",
        );
        for text in mutations(include_str!("samples/zpool-degraded.txt"), 7, 300) {
            let _ = zpool_findings(&text);
        }
        let _ = zpool_findings("\t\n\t\t\n é\t→\n");
    }

    // ---- btrfs

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/health/samples/btrfs")
    }

    fn mount(mount_point: &str, source: &str, degraded_option: bool) -> BtrfsMount {
        BtrfsMount {
            mount_point: mount_point.to_string(),
            source: source.to_string(),
            degraded_option,
        }
    }

    #[test]
    fn btrfs_clean_fs_is_ok() {
        // Either device of the filesystem finds it.
        for source in ["/dev/sdb1", "/dev/sdc1"] {
            let f = one(btrfs_findings(
                &fixtures(),
                &[mount("/srv/media", source, false)],
            ));
            assert_finding(&f, "btrfs /srv/media", Health::Ok, "no errors on 2 devices");
        }
    }

    #[test]
    fn btrfs_errors_and_missing_device_are_degraded() {
        let f = one(btrfs_findings(
            &fixtures(),
            &[mount("/srv/media", "/dev/sdd1", false)],
        ));
        assert_finding(
            &f,
            "btrfs /srv/media",
            Health::Degraded,
            "device 2 missing; device 1: read_errs 12, corruption_errs 3 \
             (counters stay until reset: btrfs device stats -z /srv/media)",
        );
    }

    #[test]
    fn btrfs_degraded_mount_option_is_degraded() {
        let f = one(btrfs_findings(
            &fixtures(),
            &[mount("/srv/media", "/dev/sdb1", true)],
        ));
        assert_finding(
            &f,
            "btrfs /srv/media",
            Health::Degraded,
            "mounted with -o degraded",
        );
        // Also when sysfs has nothing to say about the filesystem.
        let f = one(btrfs_findings(
            &fixtures(),
            &[mount("/srv/tv", "/dev/sdz9", true)],
        ));
        assert_eq!(f.health, Health::Degraded);
    }

    #[test]
    fn btrfs_without_devinfo_is_ok_with_no_counters() {
        let f = one(btrfs_findings(
            &fixtures(),
            &[mount("/srv/old", "/dev/sdf1", false)],
        ));
        assert_finding(
            &f,
            "btrfs /srv/old",
            Health::Ok,
            "no error counters in sysfs for /dev/sdf1",
        );
    }

    #[test]
    fn btrfs_unknown_source_or_sysfs_is_ok_with_no_counters() {
        let f = one(btrfs_findings(
            &fixtures(),
            &[mount(
                "/srv/x",
                "/dev/mapper/shelflife-test-nonexistent",
                false,
            )],
        ));
        assert_finding(
            &f,
            "btrfs /srv/x",
            Health::Ok,
            "no error counters in sysfs for /dev/mapper/shelflife-test-nonexistent",
        );
        let f = one(btrfs_findings(
            Path::new("/nonexistent/shelflife/sysfs"),
            &[mount("/srv/x", "/dev/sdd1", false)],
        ));
        assert_eq!(f.health, Health::Ok);
        // "features" has no devices/ and must never be taken for a filesystem.
        let f = one(btrfs_findings(
            &fixtures(),
            &[mount("/srv/x", "features", false)],
        ));
        assert_eq!(f.detail, "no error counters in sysfs for features");
        assert_eq!(btrfs_findings(&fixtures(), &[]), vec![]);
    }

    #[test]
    fn btrfs_one_finding_per_mount_in_order() {
        let found = btrfs_findings(
            &fixtures(),
            &[
                mount("/a", "/dev/sdd1", false),
                mount("/b", "/dev/sdc1", false),
            ],
        );
        let got: Vec<(&str, Health)> = found.iter().map(|f| (f.check.as_str(), f.health)).collect();
        assert_eq!(
            got,
            vec![("btrfs /a", Health::Degraded), ("btrfs /b", Health::Ok)]
        );
    }

    #[test]
    fn btrfs_source_symlink_is_resolved_to_kernel_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sysfs = dir.path().join("sysfs");
        let fs = sysfs.join("0b5e7c2a-9d41-4f3e-8a6b-1c2d3e4f5a6b");
        std::fs::create_dir_all(fs.join("devices")).expect("mkdir");
        std::fs::write(fs.join("devices/dm-7"), "").expect("device entry");
        std::fs::create_dir_all(fs.join("devinfo/1")).expect("mkdir");
        std::fs::write(
            fs.join("devinfo/1/error_stats"),
            "write_errs 2\nread_errs 0\nflush_errs 0\ncorruption_errs 0\ngeneration_errs 0\n",
        )
        .expect("error_stats");
        std::fs::write(fs.join("devinfo/1/missing"), "0\n").expect("missing");
        // Like /dev/mapper/data → ../dm-7.
        std::fs::create_dir_all(dir.path().join("dev/mapper")).expect("mkdir");
        std::fs::write(dir.path().join("dev/dm-7"), "").expect("device node");
        let link = dir.path().join("dev/mapper/data");
        std::os::unix::fs::symlink("../dm-7", &link).expect("symlink");

        let source = link.to_string_lossy().into_owned();
        let f = one(btrfs_findings(
            &sysfs,
            &[mount("/srv/media", &source, false)],
        ));
        assert_finding(
            &f,
            "btrfs /srv/media",
            Health::Degraded,
            "device 1: write_errs 2 (counters stay until reset: btrfs device stats -z /srv/media)",
        );
    }

    #[test]
    fn btrfs_odd_sysfs_never_panics_and_unreadable_counters_are_degraded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fs = dir.path().join("fsid");
        std::fs::create_dir_all(fs.join("devices/sdq1")).expect("mkdir");
        std::fs::create_dir_all(fs.join("devinfo/1")).expect("mkdir");
        std::fs::create_dir_all(fs.join("devinfo/10")).expect("mkdir");
        std::fs::create_dir_all(fs.join("devinfo/2")).expect("mkdir");
        std::fs::write(fs.join("devinfo/not-a-dir"), "x").expect("file");
        std::fs::write(
            fs.join("devinfo/1/error_stats"),
            "read_errs\nwrite_errs x\n\n",
        )
        .expect("w");
        std::fs::write(fs.join("devinfo/1/missing"), "maybe").expect("w");
        std::fs::write(fs.join("devinfo/2/error_stats"), "read_errs 0").expect("w");
        std::fs::write(fs.join("devinfo/10/error_stats"), "write_errs 1\n").expect("w");
        let f = one(btrfs_findings(
            dir.path(),
            &[mount("/m", "/dev/sdq1", false)],
        ));
        assert_finding(
            &f,
            "btrfs /m",
            Health::Degraded,
            "device 10: write_errs 1 (counters stay until reset: btrfs device stats -z /m); \
             device 1: unreadable missing flag \"maybe\"; \
             device 1: unreadable error counter \"read_errs\"; \
             device 1: unreadable error counter \"write_errs x\"",
        );
        for source in ["", "/", ".", "..", "/dev/..", "é", "/dev/sdq1/"] {
            let _ = btrfs_findings(dir.path(), &[mount("/m", source, true)]);
        }
    }

    // ---- check()

    /// A stand-in for zpool: a shell script in a temporary directory.
    fn script(dir: &Path, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("zpool");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    fn sources(zpool: PathBuf) -> ArraySources {
        ArraySources {
            mdstat: PathBuf::from("/nonexistent/shelflife/mdstat"),
            zpool,
            btrfs_sysfs: PathBuf::from("/nonexistent/shelflife/btrfs"),
            timeout: Duration::from_secs(10),
        }
    }

    fn samples_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/health/samples")
    }

    #[test]
    fn default_sources_are_the_system_ones() {
        let d = ArraySources::default();
        assert_eq!(d.mdstat, PathBuf::from("/proc/mdstat"));
        assert_eq!(d.zpool, PathBuf::from("zpool"));
        assert_eq!(d.btrfs_sysfs, PathBuf::from("/sys/fs/btrfs"));
        assert_eq!(d.timeout, Duration::from_secs(10));
    }

    #[tokio::test]
    async fn check_runs_zpool_and_parses_its_output() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sample = samples_dir().join("zpool-degraded.txt");
        // The arguments matter: anything but the scripted list is refused.
        let zpool = script(
            dir.path(),
            &format!(
                "[ \"$*\" = 'list -H -o name,health' ] || {{ echo \"bad args: $*\" >&2; exit 2; }}\n\
                 cat '{}'",
                sample.display()
            ),
        );
        let found = check(&sources(zpool), &[]).await;
        let got: Vec<(&str, Health)> = found.iter().map(|f| (f.check.as_str(), f.health)).collect();
        assert_eq!(
            got,
            vec![
                ("ZFS pool tank", Health::Degraded),
                ("ZFS pool backup", Health::Ok)
            ]
        );
    }

    #[tokio::test]
    async fn check_zpool_no_pools_available_is_no_finding() {
        let dir = tempfile::tempdir().expect("tempdir");
        let zpool = script(dir.path(), "echo 'no pools available' >&2\nexit 1");
        assert_eq!(check(&sources(zpool), &[]).await, vec![]);
        let zpool = script(dir.path(), "exit 0");
        assert_eq!(check(&sources(zpool), &[]).await, vec![]);
    }

    #[tokio::test]
    async fn check_zpool_without_kernel_module_is_no_finding() {
        let dir = tempfile::tempdir().expect("tempdir");
        let zpool = script(
            dir.path(),
            "echo 'The ZFS modules are not loaded.' >&2\n\
             echo \"Try running '/sbin/modprobe zfs' as root to load them.\" >&2\nexit 1",
        );
        assert_eq!(check(&sources(zpool), &[]).await, vec![]);
    }

    #[tokio::test]
    async fn check_zpool_other_failure_is_degraded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let zpool = script(
            dir.path(),
            "echo '' >&2\necho 'Permission denied the ZFS utilities must be run as root.' >&2\n\
             echo 'second line' >&2\nexit 1",
        );
        let f = one(check(&sources(zpool), &[]).await);
        assert_finding(
            &f,
            "ZFS pools",
            Health::Degraded,
            "cannot read ZFS pool state: Permission denied the ZFS utilities must be run as root.",
        );
        let zpool = script(dir.path(), "exit 3");
        let f = one(check(&sources(zpool), &[]).await);
        assert_eq!(
            f.detail,
            "cannot read ZFS pool state: zpool exited with status 3"
        );
    }

    #[tokio::test]
    async fn check_zpool_timeout_kills_child_and_is_unhealthy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pid_file = dir.path().join("sleep.pid");
        // The sleep is a grandchild: killing only the shell would leave it running.
        let zpool = script(
            dir.path(),
            &format!("sleep 30 &\necho $! > '{}'\nwait", pid_file.display()),
        );
        let mut sources = sources(zpool);
        sources.timeout = Duration::from_millis(300);
        let started = Instant::now();
        let f = one(check(&sources, &[]).await);
        let took = started.elapsed();
        assert_finding(
            &f,
            "ZFS pools",
            Health::Unhealthy,
            "zpool did not answer within 300ms",
        );
        assert!(took < Duration::from_secs(3), "took {took:?}");

        let pid = std::fs::read_to_string(&pid_file).expect("script wrote the sleep pid");
        let pid = pid.trim();
        let gone = || match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            // Killed but not yet reaped by whoever inherited it.
            Ok(stat) => stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        };
        let deadline = Instant::now() + Duration::from_secs(2);
        while !gone() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(gone(), "sleep {pid} still runs after the deadline");
    }

    #[tokio::test]
    async fn check_zpool_not_installed_is_no_finding() {
        assert_eq!(
            check(&sources(PathBuf::from("/nonexistent/shelflife/zpool")), &[]).await,
            vec![]
        );
        assert_eq!(
            check(&sources(PathBuf::from("shelflife-test-no-such-zpool")), &[]).await,
            vec![]
        );
    }

    #[tokio::test]
    async fn check_missing_mdstat_is_no_finding() {
        let s = sources(PathBuf::from("/nonexistent/shelflife/zpool"));
        assert!(!s.mdstat.exists());
        assert_eq!(check(&s, &[]).await, vec![]);
    }

    #[tokio::test]
    async fn check_reads_mdstat_and_btrfs_from_sources() {
        let mut s = sources(PathBuf::from("/nonexistent/shelflife/zpool"));
        s.mdstat = samples_dir().join("mdstat-degraded-raid1.txt");
        s.btrfs_sysfs = fixtures();
        let found = check(&s, &[mount("/srv/media", "/dev/sdd1", false)]).await;
        let got: Vec<(&str, Health)> = found.iter().map(|f| (f.check.as_str(), f.health)).collect();
        assert_eq!(
            got,
            vec![
                ("md array md0", Health::Degraded),
                ("btrfs /srv/media", Health::Degraded)
            ]
        );
    }

    #[tokio::test]
    async fn check_unreadable_mdstat_is_degraded() {
        // A directory cannot be read as a file: an error other than "not found".
        let mut s = sources(PathBuf::from("/nonexistent/shelflife/zpool"));
        s.mdstat = samples_dir();
        let f = one(check(&s, &[]).await);
        assert_eq!(f.check, "md arrays");
        assert_eq!(f.health, Health::Degraded);
        assert!(f.detail.starts_with("cannot read "), "{f:?}");
    }
}
