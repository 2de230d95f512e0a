use std::io;
use std::path::{Path, PathBuf};

use crate::health::{Category, Finding, Health};

use super::{short, BtrfsMount};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::arrays::tests::{assert_finding, fixtures, mount, one};

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
}
