//! The configured mounts: present in the mount table with the right type, writable, answering in
//! time, canary in place, enough free space and inodes.
//!
//! The mount table comes from `/proc/self/mountinfo`, which never touches the mounts themselves;
//! everything that does goes through [`probe`] with the mount's deadline.

use std::path::Path;

use super::MountConfig;

use super::probe::{self, describe_errno, FsStats, ProbeError, Probed};
use super::{Category, Finding, Health};

/// One line of `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub mount_point: String,
    pub fstype: String,
    /// `server:/export` for NFS, `/dev/sdb1` for a disk.
    pub source: String,
    /// Per-mount options (`rw`, `ro`, `noatime`…).
    pub options: Vec<String>,
    /// Filesystem options (`vers=4.2`, `addr=…`, `degraded`…).
    pub super_options: Vec<String>,
}

impl MountEntry {
    /// The filesystem itself is read-only (`errors=remount-ro` struck, or it was mounted `ro`).
    /// Only the filesystem options count: a read-only *view* of it (a bind mount, or the sandbox
    /// of a systemd unit with `ProtectSystem=strict`) says nothing about whether the *arrs, which
    /// do the deleting, can write there.
    pub fn read_only(&self) -> bool {
        self.super_options.iter().any(|o| o == "ro")
    }

    /// `key=value` from the filesystem options.
    pub fn super_option(&self, key: &str) -> Option<&str> {
        self.super_options
            .iter()
            .find_map(|o| o.strip_prefix(key)?.strip_prefix('='))
    }

    pub fn is_nfs(&self) -> bool {
        self.fstype == "nfs" || self.fstype == "nfs4"
    }
}

/// Reads the mount table of this process.
pub fn read_mount_table() -> std::io::Result<Vec<MountEntry>> {
    Ok(parse_mountinfo(&std::fs::read_to_string(
        "/proc/self/mountinfo",
    )?))
}

/// Parses `/proc/self/mountinfo` (proc(5)); lines it cannot read are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<MountEntry> {
    // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
    let (left, right) = line.split_once(" - ")?;
    let mut left = left.split(' ');
    let mount_point = unescape(left.nth(4)?);
    let options = left.next()?.split(',').map(str::to_owned).collect();
    let mut right = right.split(' ');
    let fstype = unescape(right.next()?);
    let source = unescape(right.next()?);
    let super_options = right
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect();
    Some(MountEntry {
        mount_point,
        fstype,
        source,
        options,
        super_options,
    })
}

/// mountinfo writes space, tab, newline and backslash as `\040`-style octal escapes.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        if let Some(value) = octal.and_then(|d| {
            u8::try_from(d.iter().fold(0u32, |n, b| n * 8 + u32::from(b - b'0'))).ok()
        }) {
            out.push(value);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount that holds `path`: the longest mount point that is `path` or a parent of it; of
/// several mounts on one point, the last (the one on top).
pub fn mount_of<'t>(table: &'t [MountEntry], path: &Path) -> Option<&'t MountEntry> {
    table
        .iter()
        .filter(|m| path.starts_with(&m.mount_point))
        .fold(None, |best: Option<&MountEntry>, m| match best {
            Some(b) if b.mount_point.len() > m.mount_point.len() => Some(b),
            _ => Some(m),
        })
}

/// Checks one configured mount: the mount finding, then (when it answered) the space finding.
pub async fn check_mount(config: &MountConfig, table: &[MountEntry]) -> Vec<Finding> {
    let (entry, mut problems) = match table_problems(config, table) {
        Ok(entry) => (entry, Vec::new()),
        Err(problem) => return vec![mount_finding(config, None, vec![problem])],
    };
    let canary = config.canary.as_ref().map(|c| config.path.join(c));
    let probed = probe::probe(&config.path, canary.as_deref(), config.timeout).await;
    problems.extend(probe_problems(config, &probed));
    let mut findings = vec![mount_finding(config, Some(entry), problems)];
    if let Ok(Probed {
        stats: Ok(stats), ..
    }) = &probed
    {
        findings.push(space_finding(config, stats));
    }
    findings
}

/// What the mount table alone says: mounted at all, the expected type, writable.
fn table_problems<'t>(
    config: &MountConfig,
    table: &'t [MountEntry],
) -> Result<&'t MountEntry, (Health, String)> {
    let not_mounted = || {
        (
            Health::Unhealthy,
            "nothing is mounted there: the path lies on the root filesystem".to_owned(),
        )
    };
    let entry = mount_of(table, &config.path).ok_or_else(not_mounted)?;
    if entry.mount_point == "/" && config.path != Path::new("/") {
        return Err(not_mounted());
    }
    if let Some(expected) = &config.fstype {
        if &entry.fstype != expected {
            return Err((
                Health::Unhealthy,
                format!(
                    "{} is mounted there from {}, expected {expected}",
                    entry.fstype, entry.source
                ),
            ));
        }
    }
    if entry.read_only() && !config.allow_readonly {
        return Err((
            Health::Unhealthy,
            "mounted read-only (set allow_readonly = true if that is intended)".into(),
        ));
    }
    Ok(entry)
}

fn probe_problems(
    config: &MountConfig,
    probed: &Result<Probed, ProbeError>,
) -> Vec<(Health, String)> {
    let probed = match probed {
        Ok(p) => p,
        Err(e @ ProbeError::TimedOut(_)) => {
            return vec![(
                Health::Unhealthy,
                format!("{e} (a hung NFS or FUSE server?)"),
            )]
        }
        Err(e) => return vec![(Health::Unhealthy, e.to_string())],
    };
    let mut problems = Vec::new();
    // `ST_RDONLY` is not asked: it is also set for a read-only view (see
    // `MountEntry::read_only`), which is how shelflife sees every mount under systemd.
    if let Err(errno) = &probed.stats {
        problems.push((
            Health::Unhealthy,
            format!("statvfs failed: {}", describe_errno(*errno)),
        ));
    }
    if let (Some(name), Some(Err(errno))) = (&config.canary, &probed.canary) {
        let detail = match errno {
            nix::errno::Errno::ENOENT => {
                format!("canary {name} is missing: is the storage really mounted?")
            }
            other => format!("canary {name}: {}", describe_errno(*other)),
        };
        problems.push((Health::Unhealthy, detail));
    }
    problems
}

fn mount_finding(
    config: &MountConfig,
    entry: Option<&MountEntry>,
    problems: Vec<(Health, String)>,
) -> Finding {
    let check = format!("mount {}", config.path.display());
    let worst = problems.iter().map(|(h, _)| *h).max();
    match worst {
        None | Some(Health::Ok) => {
            let detail = match entry {
                Some(e) => format!("{} from {}", e.fstype, e.source),
                None => "mounted".into(),
            };
            Finding::ok(Category::Mount, check, detail)
        }
        Some(health) => {
            let details: Vec<String> = problems.into_iter().map(|(_, d)| d).collect();
            Finding::new(Category::Mount, check, health, details.join("; "))
        }
    }
}

/// Free space and free inodes against the mount's minimums: degraded below either.
pub fn space_finding(config: &MountConfig, stats: &FsStats) -> Finding {
    let check = format!("space {}", config.path.display());
    let total = stats.bytes_total();
    let free = stats.bytes_available();
    let percent = |part: u64, whole: u64| part as f64 * 100.0 / whole as f64;
    let mut problems = Vec::new();
    if total > 0 {
        let free_percent = percent(free, total);
        if free_percent < config.min_free_percent {
            problems.push(format!(
                "{} free ({free_percent:.1}%), below min_free_percent = {}",
                crate::units::format_bytes(free),
                config.min_free_percent
            ));
        }
    }
    if free < config.min_free_bytes {
        problems.push(format!(
            "{} free, below min_free_bytes = {}",
            crate::units::format_bytes(free),
            crate::units::format_bytes(config.min_free_bytes)
        ));
    }
    if stats.files > 0 {
        let inodes_percent = percent(stats.files_available, stats.files);
        if inodes_percent < config.min_free_percent {
            problems.push(format!(
                "{} inodes free ({inodes_percent:.1}%), below min_free_percent = {}",
                stats.files_available, config.min_free_percent
            ));
        }
    }
    let space = Some(super::Space {
        bytes_available: free,
        bytes_total: total,
    });
    let finding = if problems.is_empty() {
        let detail = if total > 0 {
            format!(
                "{} free of {} ({:.1}%)",
                crate::units::format_bytes(free),
                crate::units::format_bytes(total),
                percent(free, total)
            )
        } else {
            "the filesystem reports no size".into()
        };
        Finding::ok(Category::Space, check, detail)
    } else {
        Finding::new(
            Category::Space,
            check,
            Health::Degraded,
            problems.join("; "),
        )
    };
    Finding { space, ..finding }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::Duration;

    const SAMPLE: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
40 22 0:38 / /srv/media rw,relatime shared:20 - nfs4 nas.lan:/export/media rw,vers=4.2,rsize=1048576,hard,proto=tcp,timeo=600,addr=192.168.1.10
41 22 0:39 / /mnt/with\\040space ro,nosuid - tmpfs tmpfs ro,size=1024k
42 40 0:40 / /srv/media/archive rw - btrfs /dev/sdb1 rw,degraded,space_cache=v2
43 22 0:41 / /srv/media rw - tmpfs tmpfs rw
44 22 0:42 / /srv/sandboxed ro,nosuid - ext4 /dev/sdc1 rw
garbage line
";

    fn config(path: &str) -> MountConfig {
        MountConfig {
            path: PathBuf::from(path),
            fstype: None,
            canary: None,
            timeout: Duration::from_secs(5),
            allow_readonly: false,
            min_free_percent: 5.0,
            min_free_bytes: 0,
            root_folders: Vec::new(),
            grace_tiers: Vec::new(),
            target: None,
        }
    }

    #[test]
    fn parses_mountinfo_fields_and_escapes() {
        let table = parse_mountinfo(SAMPLE);
        assert_eq!(table.len(), 6, "the garbage line is skipped");
        let nfs = &table[1];
        assert_eq!(nfs.mount_point, "/srv/media");
        assert_eq!(nfs.fstype, "nfs4");
        assert_eq!(nfs.source, "nas.lan:/export/media");
        assert_eq!(nfs.super_option("addr"), Some("192.168.1.10"));
        assert_eq!(nfs.super_option("port"), None);
        assert!(nfs.is_nfs() && !nfs.read_only());
        assert_eq!(table[2].mount_point, "/mnt/with space");
        assert!(table[2].read_only());
        assert!(
            !table[5].read_only(),
            "a read-only view of a writable filesystem (a sandbox) is not a read-only filesystem"
        );
        assert!(table[3].super_options.iter().any(|o| o == "degraded"));
    }

    #[test]
    fn the_holding_mount_is_the_longest_prefix_and_the_top_one() {
        let table = parse_mountinfo(SAMPLE);
        let at = |p: &str| {
            mount_of(&table, Path::new(p)).map(|m| (m.fstype.as_str(), m.mount_point.as_str()))
        };
        // Two mounts on /srv/media: the later one (tmpfs) is on top.
        assert_eq!(at("/srv/media"), Some(("tmpfs", "/srv/media")));
        assert_eq!(at("/srv/media/movies"), Some(("tmpfs", "/srv/media")));
        assert_eq!(
            at("/srv/media/archive/x"),
            Some(("btrfs", "/srv/media/archive"))
        );
        // A sibling with a common string prefix is not inside.
        assert_eq!(at("/srv/mediaX"), Some(("ext4", "/")));
    }

    #[test]
    fn table_problems_name_what_is_wrong() {
        let table = parse_mountinfo(SAMPLE);
        let err = |c: MountConfig| table_problems(&c, &table).err();

        let (h, d) = err(config("/srv/missing")).expect("not mounted");
        assert_eq!(h, Health::Unhealthy);
        assert!(d.contains("nothing is mounted"), "{d}");

        let mut wrong_type = config("/srv/media");
        wrong_type.fstype = Some("nfs4".into());
        let (_, d) = err(wrong_type).expect("tmpfs is on top, not nfs4");
        assert!(d.contains("tmpfs") && d.contains("expected nfs4"), "{d}");

        let (_, d) = err(config("/mnt/with space")).expect("read-only");
        assert!(d.contains("read-only"), "{d}");
        let mut allowed = config("/mnt/with space");
        allowed.allow_readonly = true;
        assert!(err(allowed).is_none());
    }

    fn stats(total_blocks: u64, free_blocks: u64, files: u64, free_files: u64) -> FsStats {
        FsStats {
            block_size: 4096,
            blocks: total_blocks,
            blocks_available: free_blocks,
            files,
            files_available: free_files,
            read_only: false,
        }
    }

    #[test]
    fn space_below_the_minimums_is_degraded() {
        let c = config("/srv");
        assert_eq!(
            space_finding(&c, &stats(1000, 100, 1000, 500)).health,
            Health::Ok
        );
        let low = space_finding(&c, &stats(1000, 40, 1000, 500));
        assert_eq!(low.health, Health::Degraded);
        assert!(low.detail.contains("4.0%"), "{}", low.detail);
        let inodes = space_finding(&c, &stats(1000, 500, 1000, 10));
        assert_eq!(inodes.health, Health::Degraded);
        assert!(inodes.detail.contains("inodes"), "{}", inodes.detail);
        // A filesystem that does not count inodes is not short of them.
        assert_eq!(
            space_finding(&c, &stats(1000, 500, 0, 0)).health,
            Health::Ok
        );

        let mut bytes = config("/srv");
        bytes.min_free_bytes = 1 << 30;
        let short = space_finding(&bytes, &stats(1 << 20, 1 << 17, 0, 0));
        assert_eq!(short.health, Health::Degraded);
        assert!(short.detail.contains("min_free_bytes"), "{}", short.detail);
    }

    fn probed(
        stats: Result<FsStats, nix::errno::Errno>,
        canary: Option<Result<(), nix::errno::Errno>>,
    ) -> Result<Probed, ProbeError> {
        Ok(Probed {
            stats,
            writable: Ok(()),
            canary,
            took: Duration::from_millis(1),
        })
    }

    #[test]
    fn probe_answers_become_problems() {
        use nix::errno::Errno;
        let mut c = config("/srv");
        c.canary = Some(".canary".into());
        let fine = stats(1000, 500, 0, 0);
        assert!(probe_problems(&c, &probed(Ok(fine), Some(Ok(())))).is_empty());

        let one = |p: Result<Probed, ProbeError>| {
            let problems = probe_problems(&c, &p);
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].0, Health::Unhealthy);
            problems[0].1.clone()
        };
        assert!(one(Err(ProbeError::TimedOut(Duration::from_secs(5))))
            .contains("did not answer within 5s"));
        assert!(one(probed(Err(Errno::ESTALE), Some(Ok(())))).contains("stale file handle"));
        assert!(
            one(probed(Ok(fine), Some(Err(Errno::ENOENT)))).contains("canary .canary is missing")
        );
        assert!(one(probed(Ok(fine), Some(Err(Errno::EIO)))).contains("input/output error"));
        // The sandbox of a systemd unit shows every mount read-only; the mount table decides.
        let read_only_view = FsStats {
            read_only: true,
            ..fine
        };
        assert!(probe_problems(&c, &probed(Ok(read_only_view), Some(Ok(())))).is_empty());
    }
}
