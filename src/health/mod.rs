//! Health of the host and the servers: is it safe to delete right now?
//!
//! Every check returns [`Finding`]s, each ok / degraded / unhealthy with a line a person can act on.
//! Nothing here deletes; [`gate`] turns a [`Report`] into proceed or pause.
//!
//! A probe that touches a mount runs in a short-lived child process with a deadline ([`probe`]),
//! because a hard NFS mount whose server is gone blocks any thread that stats it, and a thread
//! stuck in the kernel would keep the process alive.

pub mod arrays;
pub mod gate;
pub mod mounts;
pub mod nfs;
pub mod probe;
pub mod servers;
mod settings;

pub use settings::{HealthConfig, MountConfig, SpaceTarget};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::clients::{RootFolders, Sources};
use crate::exit::Exit;

use mounts::MountEntry;

/// Below this much free space the state file cannot be trusted to take a pass's journal.
const STATE_MIN_FREE_BYTES: u64 = 256 * 1024;
/// Deadline of the state directory probe (it is normally on a local disk).
const STATE_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Every check: the host and all servers. For `check` and `monitor`.
pub async fn check_all(config: &HealthConfig, state_path: &Path, sources: &Sources) -> Report {
    let (mut report, servers) = tokio::join!(
        check_host(config, state_path),
        servers::check_servers(sources)
    );
    report.findings.extend(servers);
    report
}

/// What the gate needs: the host, and the *arrs' view of their storage (a server that cannot be
/// reached is the pass's own error to report, not a storage problem). With the *arrs' root
/// folders as they were read.
pub async fn check_for_gate(
    config: &HealthConfig,
    state_path: &Path,
    sources: &Sources,
) -> (Report, RootFolders) {
    let (mut report, (servers, folders)) = tokio::join!(
        check_host(config, state_path),
        servers::storage_findings(sources)
    );
    report.findings.extend(servers);
    (report, folders)
}

/// The host: the configured mounts (with space and NFS servers), arrays, the state directory.
pub async fn check_host(config: &HealthConfig, state_path: &Path) -> Report {
    let table = mounts::read_mount_table();
    let btrfs: Vec<arrays::BtrfsMount> = match &table {
        Ok(table) => config
            .mounts
            .iter()
            .filter_map(|m| mounts::mount_of(table, &m.path))
            .filter(|e| e.fstype == "btrfs")
            .map(|e| arrays::BtrfsMount {
                mount_point: e.mount_point.clone(),
                source: e.source.clone(),
                degraded_option: e.super_options.iter().any(|o| o == "degraded"),
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let (mounts, arrays, state) = tokio::join!(
        check_mounts_with(config, &table, true),
        arrays::check(&config.arrays, &btrfs),
        check_state_dir(state_path)
    );
    let mut findings = mounts;
    findings.extend(arrays);
    findings.push(state);
    Report { findings }
}

/// Only the configured mounts (mount table, probe, canary, space): cheap enough to repeat before
/// every delete.
pub async fn check_mounts(config: &HealthConfig) -> Report {
    let table = mounts::read_mount_table();
    Report {
        findings: check_mounts_with(config, &table, false).await,
    }
}

async fn check_mounts_with(
    config: &HealthConfig,
    table: &std::io::Result<Vec<MountEntry>>,
    nfs: bool,
) -> Vec<Finding> {
    let table = match table {
        Ok(table) => table,
        Err(err) => {
            return config
                .mounts
                .iter()
                .map(|m| {
                    Finding::new(
                        Category::Mount,
                        format!("mount {}", m.path.display()),
                        Health::Unhealthy,
                        format!("cannot read /proc/self/mountinfo: {err}"),
                    )
                })
                .collect()
        }
    };
    // Concurrently: a hung mount costs its own timeout once, not once per mount after it.
    let mut tasks = tokio::task::JoinSet::new();
    for (i, mount) in config.mounts.iter().enumerate() {
        let (mount, table) = (mount.clone(), table.clone());
        tasks.spawn(async move {
            let mut findings = mounts::check_mount(&mount, &table).await;
            if nfs {
                if let Some(entry) = mounts::mount_of(&table, &mount.path).filter(|e| e.is_nfs()) {
                    findings.push(nfs::check_server(entry, mount.timeout).await);
                }
            }
            for finding in &mut findings {
                finding.mount = Some(mount.path.clone());
            }
            (i, findings)
        });
    }
    let mut done = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(result) => done.push(result),
            Err(err) => tracing::error!("a mount check failed to run: {err}"),
        }
    }
    done.sort_by_key(|(i, _)| *i);
    let mut findings: Vec<Finding> = done.into_iter().flat_map(|(_, f)| f).collect();
    if findings.len() < config.mounts.len() {
        findings.push(Finding::new(
            Category::Mount,
            "mounts",
            Health::Unhealthy,
            "a mount check failed to run",
        ));
    }
    findings
}

/// The directory of the state file: writable, and room for the journal. It may not exist yet
/// (the first pass creates it); then its nearest existing parent is what counts.
async fn check_state_dir(state_path: &Path) -> Finding {
    let check = "state directory";
    let mut dir: PathBuf = state_path
        .parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
    loop {
        let probed = match probe::probe(&dir, None, STATE_PROBE_TIMEOUT).await {
            Ok(p) => p,
            Err(err) => {
                return Finding::new(
                    Category::State,
                    check,
                    Health::Unhealthy,
                    format!("{}: {err}", dir.display()),
                )
            }
        };
        let stats = match probed.stats {
            Err(nix::errno::Errno::ENOENT) => match dir.parent() {
                Some(parent) => {
                    dir = parent.to_path_buf();
                    continue;
                }
                None => {
                    return Finding::new(
                        Category::State,
                        check,
                        Health::Unhealthy,
                        "no root directory",
                    )
                }
            },
            Err(errno) => {
                return Finding::new(
                    Category::State,
                    check,
                    Health::Unhealthy,
                    format!("{}: {}", dir.display(), probe::describe_errno(errno)),
                )
            }
            Ok(stats) => stats,
        };
        let problem = if stats.read_only {
            Some("is on a read-only filesystem".to_owned())
        } else if let Err(errno) = probed.writable {
            Some(format!(
                "cannot be written by this user: {}",
                probe::describe_errno(errno)
            ))
        } else if stats.bytes_available() < STATE_MIN_FREE_BYTES {
            Some(format!(
                "has {} free, too little to record a pass",
                crate::units::format_bytes(stats.bytes_available())
            ))
        } else {
            None
        };
        return match problem {
            Some(p) => Finding::new(
                Category::State,
                check,
                Health::Unhealthy,
                format!("{} {p}", dir.display()),
            ),
            None => Finding::ok(
                Category::State,
                check,
                format!(
                    "{}: {} free",
                    dir.display(),
                    crate::units::format_bytes(stats.bytes_available())
                ),
            ),
        };
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Ok,
    Degraded,
    Unhealthy,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Degraded => "degraded",
            Health::Unhealthy => "unhealthy",
        }
    }

    pub fn parse(text: &str) -> Option<Health> {
        match text {
            "ok" => Some(Health::Ok),
            "degraded" => Some(Health::Degraded),
            "unhealthy" => Some(Health::Unhealthy),
            _ => None,
        }
    }
}

/// What a finding is about; the gate's policy for degraded findings depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// A configured mount: present, right type, writable, answering, canary in place.
    Mount,
    /// Free space or free inodes.
    Space,
    /// A RAID or pool: md, ZFS, btrfs.
    Array,
    /// An NFS server's reachability.
    Network,
    /// Jellyfin, Radarr, Sonarr, and the *arrs' view of their root folders.
    Server,
    /// The directory of the state file.
    State,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What was checked: "mount /srv/media", "md127", "Radarr root folder /movies".
    pub check: String,
    pub category: Category,
    pub health: Health,
    /// What was found, for a person: "canary .shelflife-canary is missing".
    pub detail: String,
    /// The configured mount this is about (mount, space and NFS findings), for metrics by mount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount: Option<PathBuf>,
    /// Free and total bytes, on space findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space: Option<Space>,
}

/// What `statvfs` said about a mount's room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Space {
    pub bytes_available: u64,
    pub bytes_total: u64,
}

impl Space {
    /// Available over total, 0 when the filesystem reports no size.
    pub fn free_ratio(&self) -> f64 {
        if self.bytes_total == 0 {
            return 0.0;
        }
        self.bytes_available as f64 / self.bytes_total as f64
    }
}

impl Finding {
    pub fn new(
        category: Category,
        check: impl Into<String>,
        health: Health,
        detail: impl Into<String>,
    ) -> Self {
        Finding {
            check: check.into(),
            category,
            health,
            detail: detail.into(),
            mount: None,
            space: None,
        }
    }

    pub fn ok(category: Category, check: impl Into<String>, detail: impl Into<String>) -> Self {
        Finding::new(category, check, Health::Ok, detail)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    /// The worst health of all findings (ok when there are none).
    pub fn overall(&self) -> Health {
        self.findings
            .iter()
            .map(|f| f.health)
            .max()
            .unwrap_or(Health::Ok)
    }

    /// The exit code of `check`.
    pub fn exit(&self) -> Exit {
        match self.overall() {
            Health::Ok => Exit::Ok,
            Health::Degraded => Exit::CheckDegraded,
            Health::Unhealthy => Exit::CheckUnhealthy,
        }
    }

    /// Findings that are not ok, worst first.
    pub fn problems(&self) -> impl Iterator<Item = &Finding> {
        let mut problems: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.health != Health::Ok)
            .collect();
        problems.sort_by_key(|f| std::cmp::Reverse(f.health));
        problems.into_iter()
    }

    /// A readable report: one line per finding, then the verdict.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            out.push_str(&format!(
                "{:<9}  {}: {}\n",
                f.health.as_str(),
                f.check,
                f.detail
            ));
        }
        out.push_str(&format!("overall: {}\n", self.overall().as_str()));
        out
    }

    /// One line for `STATUS=` and logs: "ok: 3 checks" or "unhealthy: mount /srv: canary missing".
    pub fn summary(&self) -> String {
        match self.problems().next() {
            None => format!("ok: {} checks", self.findings.len()),
            Some(worst) => {
                let more = self.problems().count() - 1;
                let more = if more > 0 {
                    format!(" (+{more} more)")
                } else {
                    String::new()
                };
                format!(
                    "{}: {}: {}{more}",
                    worst.health.as_str(),
                    worst.check,
                    worst.detail
                )
            }
        }
    }
}

/// How often a pass repeats the checks that are not cheap (arrays, NFS servers, the *arrs'
/// storage view, the state directory) between deletes; the mounts are checked before every one.
const FULL_CHECK_EVERY: Duration = Duration::from_secs(5);

/// The health gate of one pass: the full check before planning, then before every delete. The
/// callers pass the time in, so the cadence of the full checks is tested without waiting.
pub struct PassGate<'a> {
    config: &'a HealthConfig,
    state_path: &'a Path,
    sources: &'a Sources,
    last_full: Option<Instant>,
    /// The latest full report, for the pass's metrics.
    last_report: Option<Report>,
    /// The *arrs' root folders as the latest full check read them.
    root_folders: RootFolders,
}

impl<'a> PassGate<'a> {
    pub fn new(config: &'a HealthConfig, state_path: &'a Path, sources: &'a Sources) -> Self {
        PassGate {
            config,
            state_path,
            sources,
            last_full: None,
            last_report: None,
            root_folders: RootFolders::default(),
        }
    }

    /// The latest full report, once there has been a full check.
    pub fn last_report(&self) -> Option<&Report> {
        self.last_report.as_ref()
    }

    /// The *arrs' root folders as the latest full check read them: the inventory's, when it
    /// follows the check, so that a pass reads them once.
    pub fn root_folders(&self) -> &RootFolders {
        &self.root_folders
    }

    /// Every check the gate uses, and its verdict; `now` is when it starts.
    pub async fn full_check(&mut self, now: Instant) -> (Report, gate::Verdict) {
        self.last_full = Some(now);
        let (report, root_folders) =
            check_for_gate(self.config, self.state_path, self.sources).await;
        self.root_folders = root_folders;
        let verdict = gate::decide(&report, &self.config.policy);
        self.last_report = Some(report.clone());
        (report, verdict)
    }

    /// Whether the checks that are not cheap are due again at `now`.
    fn full_due(&self, now: Instant) -> bool {
        self.last_full
            .is_none_or(|t| now.saturating_duration_since(t) >= FULL_CHECK_EVERY)
    }
}

impl PassGate<'_> {
    /// The free bytes of the configured mount at `mount` now, probed as the mount checks
    /// probe it (a child process with the mount's deadline).
    pub async fn free_space(&self, mount: &str) -> Result<u64, String> {
        let config = (self.config.mounts.iter())
            .find(|m| m.path.display().to_string() == mount)
            .ok_or_else(|| format!("{mount} is not a configured mount"))?;
        match probe::probe(&config.path, None, config.timeout).await {
            Ok(probed) => probed
                .stats
                .map(|stats| stats.bytes_available())
                .map_err(probe::describe_errno),
            Err(err) => Err(err.to_string()),
        }
    }

    /// Asked before each delete, at `now`: the mounts every time, everything else when the last
    /// full check is `FULL_CHECK_EVERY` old. `Err` carries why the pass must stop.
    pub async fn before_delete(&mut self, now: Instant) -> Result<(), String> {
        let report = if self.full_due(now) {
            self.full_check(now).await.0
        } else {
            check_mounts(self.config).await
        };
        match gate::decide(&report, &self.config.policy) {
            gate::Verdict::Proceed { .. } => Ok(()),
            gate::Verdict::Pause { reason } => Err(reason),
        }
    }
}

#[cfg(test)]
mod tests;
