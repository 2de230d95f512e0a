use std::io;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::health::{Category, Finding, Health};

use super::{human, short};

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

pub(super) async fn zpool_check(
    program: &Path,
    zfs_module: &Path,
    timeout: Duration,
) -> Vec<Finding> {
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
    if said("no pools available") {
        return Vec::new();
    }
    if said("modules are not loaded") {
        if zfs_module.exists() {
            return vec![Finding::new(
                Category::Array,
                "ZFS pools",
                Health::Unhealthy,
                "ZFS is loaded, but zpool cannot open /dev/zfs, so the pools cannot be checked \
                 (under systemd, PrivateDevices= hides it: see the README, \"ZFS\")",
            )];
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::arrays::tests::{assert_finding, mutations, one};

    #[test]
    fn zpool_healthy_sample_is_ok() {
        let found = zpool_findings(include_str!("../samples/zpool-healthy.txt"));
        assert_eq!(found.len(), 2);
        assert_finding(&found[0], "ZFS pool tank", Health::Ok, "online");
        assert_finding(&found[1], "ZFS pool backup", Health::Ok, "online");
    }

    #[test]
    fn zpool_degraded_sample_is_degraded() {
        let found = zpool_findings(include_str!("../samples/zpool-degraded.txt"));
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
        let found = zpool_findings(include_str!("../samples/zpool-faulted.txt"));
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
        for text in mutations(include_str!("../samples/zpool-degraded.txt"), 7, 300) {
            let _ = zpool_findings(&text);
        }
        let _ = zpool_findings("\t\n\t\t\n é\t→\n");
    }
}
