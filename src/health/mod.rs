//! Health of the host and the servers: is it safe to delete right now?
//!
//! Every check returns [`Finding`]s, each ok / degraded / unhealthy with a line a person can act on.
//! Nothing here deletes; [`gate`] turns a [`Report`] into proceed or pause.
//!
//! A probe that touches a mount runs in a short-lived child process with a deadline ([`probe`]),
//! because a hard NFS mount whose server is gone blocks any thread that stats it, and a thread
//! stuck in the kernel would keep the process alive.

pub mod arrays;

use serde::Serialize;

use crate::exit::Exit;

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
        problems.sort_by(|a, b| b.health.cmp(&a.health));
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
