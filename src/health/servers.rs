//! The servers: can they be reached with the configured keys, and do the *arrs see their storage?
//!
//! Radarr and Sonarr know when their root folder is gone (`GET /api/v3/rootfolder` says
//! `accessible: false`; `GET /api/v3/health` carries a `RootFolderCheck` or `MountCheck`
//! problem). Either makes that service unhealthy: it would answer a delete with a 409 at best.

use crate::clients::http::{ApiError, Server, Service};
use crate::clients::{HealthItem, RootFolder, RootFolders, SeerrClient, Sources};

use super::{Category, Finding, Health};

/// The *arr health checks that are about storage.
const STORAGE_SOURCES: &[&str] = &["RootFolderCheck", "MountCheck"];

/// Every server: reachable, and for the *arrs their storage view. For `check` and `monitor`.
pub async fn check_servers(sources: &Sources) -> Vec<Finding> {
    let mut findings = Vec::new();
    match sources.jellyfin.users().await {
        Ok(users) => findings.push(Finding::ok(
            Category::Server,
            "Jellyfin",
            format!("reachable, {} users", users.len()),
        )),
        Err(err) => findings.push(failed(Service::Jellyfin.into(), &err)),
    }
    findings.extend(arr_storage(sources, true).await.0);
    findings
}

/// Only the *arrs' view of their storage, for the gate: a server that cannot be reached is the
/// pass's own failure to report, not a storage problem. With the root folders as read.
pub async fn storage_findings(sources: &Sources) -> (Vec<Finding>, RootFolders) {
    arr_storage(sources, false).await
}

/// Every instance of each *arr, asked at once: one slow instance does not hold up the others
/// (each request is bounded by its own limits). Findings come in the order of the config.
async fn arr_storage(sources: &Sources, reachability: bool) -> (Vec<Finding>, RootFolders) {
    let mut asked = tokio::task::JoinSet::new();
    for (i, c) in sources.radarr.iter().cloned().enumerate() {
        asked.spawn(async move { (i, c.server(), tokio::join!(c.root_folders(), c.health())) });
    }
    let first = sources.radarr.len();
    for (i, c) in sources.sonarr.iter().cloned().enumerate() {
        asked.spawn(async move {
            let answers = tokio::join!(c.root_folders(), c.health());
            (first + i, c.server(), answers)
        });
    }
    let mut answers = Vec::with_capacity(asked.len());
    while let Some(joined) = asked.join_next().await {
        match joined {
            Ok(answer) => answers.push(answer),
            // A check only ends abnormally by panicking; carry the panic on.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    answers.sort_by_key(|(i, ..)| *i);
    let mut findings = Vec::new();
    let mut read = RootFolders::default();
    for (i, server, (folders, health)) in answers {
        let into = if i < first {
            &mut read.radarr
        } else {
            &mut read.sonarr
        };
        into.push(folders.as_ref().ok().cloned());
        findings.extend(arr_findings(server, folders, health, reachability));
    }
    (findings, read)
}

fn arr_findings(
    service: Server,
    folders: Result<Vec<RootFolder>, ApiError>,
    health: Result<Vec<HealthItem>, ApiError>,
    reachability: bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let folders = match folders {
        Ok(folders) => folders,
        Err(err) => {
            if reachability {
                findings.push(failed(service, &err));
            }
            return findings;
        }
    };
    if reachability {
        findings.push(Finding::ok(
            Category::Server,
            service.to_string(),
            format!("reachable, {} root folders", folders.len()),
        ));
    }
    for folder in folders {
        let check = format!("{service} root folder {}", folder.path);
        findings.push(if folder.accessible {
            Finding::ok(Category::Server, check, "accessible")
        } else {
            Finding::new(
                Category::Server,
                check,
                Health::Unhealthy,
                format!("{service} cannot reach it: the storage is missing"),
            )
        });
    }
    // An older *arr without /health, or one that fails to answer it, still had its root folders
    // checked above.
    for item in health.unwrap_or_default() {
        let source = item.source.as_deref().unwrap_or("");
        let kind = item.kind.as_deref().unwrap_or("");
        if STORAGE_SOURCES.contains(&source) && matches!(kind, "warning" | "error") {
            findings.push(Finding::new(
                Category::Server,
                format!("{service} {source}"),
                Health::Unhealthy,
                item.message
                    .unwrap_or_else(|| format!("{source} reports a problem")),
            ));
        }
    }
    findings
}

/// Seerr, for `check`: reachable with its key, as a user that may delete requests. Its
/// `/status` is public, so the key is proved by asking who it is.
pub async fn check_seerr(client: &SeerrClient) -> Finding {
    match client.me().await {
        Ok(user) if user.manages_requests() => Finding::ok(
            Category::Server,
            "Seerr",
            format!("reachable, the key acts as user {}", user.id),
        ),
        Ok(user) => Finding::new(
            Category::Server,
            "Seerr",
            Health::Degraded,
            format!(
                "the key acts as user {}, who may not manage requests: Seerr will refuse the \
                 cleanup after a deletion (give that user Manage Requests, or use the owner's key)",
                user.id
            ),
        ),
        Err(err) => failed(client.server(), &err),
    }
}

fn failed(service: Server, err: &ApiError) -> Finding {
    Finding::new(
        Category::Server,
        service.to_string(),
        Health::Unhealthy,
        err.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(path: &str, accessible: bool) -> RootFolder {
        RootFolder {
            id: 1,
            path: path.into(),
            accessible,
        }
    }

    fn item(source: &str, kind: &str) -> HealthItem {
        HealthItem {
            source: Some(source.into()),
            kind: Some(kind.into()),
            message: Some(format!("{source} says {kind}")),
        }
    }

    #[test]
    fn an_inaccessible_root_folder_is_unhealthy() {
        let findings = arr_findings(
            Service::Radarr.into(),
            Ok(vec![folder("/movies", true), folder("/archive", false)]),
            Ok(vec![]),
            true,
        );
        let unhealthy: Vec<&str> = findings
            .iter()
            .filter(|f| f.health == Health::Unhealthy)
            .map(|f| f.check.as_str())
            .collect();
        assert_eq!(unhealthy, ["Radarr root folder /archive"]);
    }

    #[test]
    fn only_storage_problems_of_the_health_endpoint_count() {
        let findings = arr_findings(
            Service::Sonarr.into(),
            Ok(vec![folder("/tv", true)]),
            Ok(vec![
                item("RootFolderCheck", "error"),
                item("MountCheck", "warning"),
                item("IndexerStatusCheck", "error"),
                item("UpdateCheck", "warning"),
                item("RootFolderCheck", "notice"),
            ]),
            false,
        );
        let unhealthy: Vec<&str> = findings
            .iter()
            .filter(|f| f.health == Health::Unhealthy)
            .map(|f| f.check.as_str())
            .collect();
        assert_eq!(unhealthy, ["Sonarr RootFolderCheck", "Sonarr MountCheck"]);
    }

    #[test]
    fn an_unreachable_server_is_the_gates_business_only_when_asked() {
        let err = || ApiError::Unavailable {
            service: Service::Radarr.into(),
            endpoint: crate::clients::http::Endpoint {
                method: reqwest::Method::GET,
                path: "/api/v3/rootfolder".into(),
            },
            attempts: 3,
            cause: crate::clients::http::Cause::Connect,
            source: None,
        };
        assert!(arr_findings(Service::Radarr.into(), Err(err()), Ok(vec![]), false).is_empty());
        let reported = arr_findings(Service::Radarr.into(), Err(err()), Ok(vec![]), true);
        assert_eq!(reported.len(), 1);
        assert_eq!(reported[0].health, Health::Unhealthy);
    }
}
