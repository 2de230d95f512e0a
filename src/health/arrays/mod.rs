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
//! The parsers are pure functions of the text so recorded samples (in `src/health/samples/`) pin them down.

mod btrfs;
mod md;
mod zfs;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Category, Finding, Health};
use zfs::zpool_check;

pub use btrfs::btrfs_findings;
pub use md::mdstat_findings;
pub use zfs::zpool_findings;

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
    /// Default `/sys/module/zfs`: present when the ZFS kernel module is loaded. When it is, a
    /// `zpool` that says the modules are not loaded cannot reach `/dev/zfs` (a sandbox hides it),
    /// and the pools go unchecked: that is a finding, not silence.
    pub zfs_module: PathBuf,
    /// Deadline for the zpool command; on expiry the child is killed and the finding is unhealthy.
    pub timeout: Duration,
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

/// md, ZFS and btrfs findings together; reading files and running `zpool` never block the async
/// runtime for long.
pub async fn check(sources: &ArraySources, btrfs: &[BtrfsMount]) -> Vec<Finding> {
    let mdstat = sources.mdstat.clone();
    let sysfs = sources.btrfs_sysfs.clone();
    let mounts = btrfs.to_vec();
    let files = tokio::task::spawn_blocking(move || {
        (read_mdstat(&mdstat), btrfs_findings(&sysfs, &mounts))
    });
    // proc and sysfs answer from memory, but a thread stuck there must not hold up the report.
    let files = tokio::time::timeout(sources.timeout, files);
    let (files, zfs) = tokio::join!(
        files,
        zpool_check(&sources.zpool, &sources.zfs_module, sources.timeout)
    );

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

/// Echoed input is cut so one garbage line cannot flood the report.
fn short(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn human(d: Duration) -> String {
    if d.subsec_nanos() == 0 && d.as_secs() > 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Instant;

    pub(super) fn one(findings: Vec<Finding>) -> Finding {
        assert_eq!(findings.len(), 1, "expected one finding: {findings:#?}");
        findings.into_iter().next().expect("one finding")
    }

    pub(super) fn assert_finding(f: &Finding, check: &str, health: Health, detail: &str) {
        assert_eq!(f.category, Category::Array, "{f:?}");
        assert_eq!(f.check, check, "{f:?}");
        assert_eq!(f.health, health, "{f:?}");
        assert_eq!(f.detail, detail, "{f:?}");
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

    pub(super) fn mutations(sample: &str, seed: u64, rounds: usize) -> Vec<String> {
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

    pub(super) fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/health/samples/btrfs")
    }

    pub(super) fn mount(mount_point: &str, source: &str, degraded_option: bool) -> BtrfsMount {
        BtrfsMount {
            mount_point: mount_point.to_string(),
            source: source.to_string(),
            degraded_option,
        }
    }

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
            zfs_module: PathBuf::from("/nonexistent/shelflife/zfs"),
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
    async fn check_zpool_hidden_device_with_module_loaded_is_unhealthy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let zpool = script(
            dir.path(),
            "echo 'The ZFS modules are not loaded.' >&2\nexit 1",
        );
        let loaded = dir.path().join("module-zfs");
        std::fs::create_dir(&loaded).expect("module dir");
        let sources = ArraySources {
            zfs_module: loaded,
            ..sources(zpool)
        };
        let f = one(check(&sources, &[]).await);
        assert_eq!(f.health, Health::Unhealthy);
        assert!(f.detail.contains("cannot open /dev/zfs"), "{}", f.detail);
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
