//! `shelflife check`: can the servers be reached with the configured keys, and do the *arrs see
//! their storage? (Host storage checks — mounts, arrays, free space — extend this report.)

use serde::Serialize;

use crate::clients::http::ApiError;
use crate::clients::RootFolder;
use crate::exit::Exit;
use crate::inventory::Sources;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What was checked: "Jellyfin", "Radarr root folder /movies".
    pub check: String,
    pub health: Health,
    pub detail: String,
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

    pub fn exit(&self) -> Exit {
        match self.overall() {
            Health::Ok => Exit::Ok,
            Health::Degraded => Exit::CheckDegraded,
            Health::Unhealthy => Exit::CheckUnhealthy,
        }
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
}

/// Asks each configured server one cheap, authenticated question.
pub async fn check_servers(sources: &Sources) -> Report {
    let mut report = Report::default();
    match sources.jellyfin.users().await {
        Ok(users) => report.findings.push(Finding {
            check: "Jellyfin".into(),
            health: Health::Ok,
            detail: format!("reachable, {} users", users.len()),
        }),
        Err(err) => report.findings.push(failed("Jellyfin", &err)),
    }
    if let Some(radarr) = &sources.radarr {
        let folders = radarr.root_folders().await;
        root_folder_findings(&mut report, "Radarr", folders);
    }
    if let Some(sonarr) = &sources.sonarr {
        let folders = sonarr.root_folders().await;
        root_folder_findings(&mut report, "Sonarr", folders);
    }
    report
}

fn root_folder_findings(
    report: &mut Report,
    service: &str,
    folders: Result<Vec<RootFolder>, ApiError>,
) {
    match folders {
        Ok(folders) => {
            report.findings.push(Finding {
                check: service.to_string(),
                health: Health::Ok,
                detail: format!("reachable, {} root folders", folders.len()),
            });
            for folder in folders {
                report.findings.push(Finding {
                    check: format!("{service} root folder {}", folder.path),
                    health: if folder.accessible {
                        Health::Ok
                    } else {
                        Health::Unhealthy
                    },
                    detail: if folder.accessible {
                        "accessible".into()
                    } else {
                        format!("{service} cannot reach it: the storage is missing")
                    },
                });
            }
        }
        Err(err) => report.findings.push(failed(service, &err)),
    }
}

fn failed(check: &str, err: &ApiError) -> Finding {
    Finding {
        check: check.to_string(),
        health: Health::Unhealthy,
        detail: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(health: Health) -> Finding {
        Finding {
            check: "x".into(),
            health,
            detail: String::new(),
        }
    }

    #[test]
    fn overall_is_the_worst_finding() {
        let mut report = Report::default();
        assert_eq!(report.overall(), Health::Ok);
        report.findings.push(finding(Health::Ok));
        report.findings.push(finding(Health::Degraded));
        assert_eq!(report.exit(), Exit::CheckDegraded);
        report.findings.push(finding(Health::Unhealthy));
        assert_eq!(report.overall(), Health::Unhealthy);
        assert_eq!(report.exit().code(), 2);
    }
}
