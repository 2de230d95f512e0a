//! The Prometheus textfile: what node_exporter's textfile collector serves for shelflife.
//!
//! One file, written whole (temp file + rename, so a scrape never sees half of it) at the end of
//! every pass and after every monitor round. Each writer renders all of it: the last pass's
//! figures (stored with its run in the state file, so the monitor can carry them along) and the
//! health the writer just checked. No sample timestamps: node_exporter drops a file that has any.
//!
//! Everything is a gauge of the last pass or the last check; a pass is its own process, so a
//! counter would start from zero every time anyway.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::apply::{Mode, Outcome};
use crate::clients::http::RequestStats;
use crate::health::{Health, Report, Space};
use crate::outcome::RunOutcome;
use crate::output::kept_by_reason;
use crate::plan::Kind;

/// Items and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    pub items: u64,
    pub bytes: u64,
}

/// Requests one pass sent to one service, and how many of them failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requests {
    pub requests: u64,
    pub errors: u64,
}

impl From<RequestStats> for Requests {
    fn from(stats: RequestStats) -> Self {
        Requests {
            requests: stats.requests,
            errors: stats.errors,
        }
    }
}

/// The figures of one pass, as stored with its run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PassMetrics {
    /// Unix seconds.
    pub finished_at: f64,
    pub duration_seconds: f64,
    /// `completed`, `paused`, `failed` or `refused`, as in the state file.
    pub outcome: String,
    pub dry_run: bool,
    /// Why the pass paused, when it did.
    pub paused_reason: Option<String>,
    /// What the plan would delete, by kind (`movie`, `season`, `episode`).
    pub planned: BTreeMap<String, Amount>,
    /// What was deleted, by kind; nothing in a dry run.
    pub deleted: BTreeMap<String, Amount>,
    pub failed: u64,
    /// Kept items by reason code (`keep_tag`, `within_grace`, …).
    pub kept: BTreeMap<String, u64>,
    /// By server, as [`Server::key`](crate::clients::http::Server::key) spells it:
    /// `jellyfin`, `radarr`, `sonarr`, `radarr@4k`.
    pub api: BTreeMap<String, Requests>,
    /// The mounts kept at a free-space target (`space_mode = "when_low"`).
    #[serde(default)]
    pub space: Vec<SpaceMetrics>,
    /// Disagreements between the servers by kind code (`radarr_missing_file`, …), as the pass
    /// saw them; empty when it did not read the servers.
    #[serde(default)]
    pub drift: BTreeMap<String, u64>,
}

/// What one pass found and did on a mount kept at a free-space target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceMetrics {
    pub mount: String,
    pub free_before: u64,
    /// The last measurement of a live pass; the same as before for a dry run.
    pub free_after: u64,
    pub target: u64,
    /// Free space the pass's deletions for space gave back, as measured.
    pub freed: u64,
    /// Deleting stopped giving space back there.
    pub frees_nothing: bool,
    /// Why the rest of the mount's deletions were left, when they were.
    #[serde(default)]
    pub left: Option<String>,
}

/// The outcomes a pass can end with, for `shelflife_last_pass_outcome`.
const OUTCOMES: [&str; 4] = ["completed", "paused", "failed", "refused"];
const KINDS: [Kind; 3] = [Kind::Movie, Kind::Season, Kind::Episode];

impl PassMetrics {
    /// The figures of a pass that ended with `outcome` (whose journal outcome is `recorded`).
    pub fn of_run(
        run: &RunOutcome,
        recorded: &str,
        paused_reason: Option<String>,
        finished_at: Timestamp,
        duration: std::time::Duration,
        api: BTreeMap<String, Requests>,
    ) -> PassMetrics {
        let mut planned = BTreeMap::new();
        for d in run.plan.deletions() {
            add(&mut planned, d.kind, d.bytes);
        }
        let mut deleted = BTreeMap::new();
        let mut failed = 0;
        for (i, outcome) in run.report.iter().flat_map(|r| &r.outcomes) {
            match outcome {
                Outcome::Deleted => {
                    let d = &run.plan.decisions[*i];
                    add(&mut deleted, d.kind, d.bytes);
                }
                o if o.is_failure() => failed += 1,
                _ => {}
            }
        }
        PassMetrics {
            finished_at: unix_seconds(finished_at),
            duration_seconds: duration.as_secs_f64(),
            outcome: recorded.to_owned(),
            dry_run: run.mode == Mode::DryRun,
            paused_reason,
            planned,
            deleted,
            failed,
            kept: kept_by_reason(&run.plan)
                .into_iter()
                .map(|(reason, n)| (reason.to_owned(), n as u64))
                .collect(),
            api,
            space: space_metrics(run),
            drift: (run.drift.iter())
                .map(|(kind, n)| (kind.code().to_owned(), *n))
                .collect(),
        }
    }

    /// The figures of a pass that failed before it had a plan.
    pub fn failed(
        mode: Mode,
        finished_at: Timestamp,
        duration: std::time::Duration,
        api: BTreeMap<String, Requests>,
    ) -> PassMetrics {
        PassMetrics {
            finished_at: unix_seconds(finished_at),
            duration_seconds: duration.as_secs_f64(),
            outcome: "failed".to_owned(),
            dry_run: mode == Mode::DryRun,
            api,
            ..PassMetrics::default()
        }
    }
}

fn add(totals: &mut BTreeMap<String, Amount>, kind: Kind, bytes: u64) {
    let amount = totals.entry(kind.as_str().to_owned()).or_default();
    amount.items += 1;
    amount.bytes += bytes;
}

fn unix_seconds(at: Timestamp) -> f64 {
    at.as_millisecond() as f64 / 1000.0
}

/// The health a writer just checked.
pub struct HealthMetrics<'a> {
    pub report: &'a Report,
    pub checked_at: Timestamp,
    /// The configured mounts, so a mount with no finding at all still shows up (as unhealthy).
    pub mounts: &'a [PathBuf],
}

/// The whole file.
pub fn render(pass: Option<&PassMetrics>, health: Option<&HealthMetrics<'_>>) -> String {
    let mut out = Out::default();
    if let Some(p) = pass {
        render_pass(&mut out, p);
        render_space(&mut out, p);
    }
    if let Some(h) = health {
        render_health(&mut out, h);
    }
    out.text
}

fn render_pass(out: &mut Out, p: &PassMetrics) {
    out.family(
        "shelflife_last_pass_timestamp_seconds",
        "When the last pass finished, in Unix seconds.",
    );
    out.sample("shelflife_last_pass_timestamp_seconds", &[], p.finished_at);
    out.family(
        "shelflife_last_pass_duration_seconds",
        "How long the last pass took.",
    );
    out.sample(
        "shelflife_last_pass_duration_seconds",
        &[],
        p.duration_seconds,
    );
    out.family(
        "shelflife_last_pass_outcome",
        "How the last pass ended: 1 for its outcome, 0 for the others.",
    );
    for outcome in OUTCOMES {
        let value = f64::from(u8::from(p.outcome == outcome));
        out.sample(
            "shelflife_last_pass_outcome",
            &[("outcome", outcome)],
            value,
        );
    }
    out.family(
        "shelflife_last_pass_dry_run",
        "1 when the last pass was a dry run (it deleted nothing).",
    );
    out.sample(
        "shelflife_last_pass_dry_run",
        &[],
        f64::from(u8::from(p.dry_run)),
    );
    out.family(
        "shelflife_paused",
        "1 when the last pass paused because the storage was not healthy; the reason says why.",
    );
    let reason = p.paused_reason.as_deref().unwrap_or("");
    let paused = f64::from(u8::from(p.paused_reason.is_some()));
    out.sample("shelflife_paused", &[("reason", reason)], paused);

    for (name, help, totals) in [
        (
            "shelflife_last_pass_planned",
            "the last pass's plan would delete",
            &p.planned,
        ),
        (
            "shelflife_last_pass_deleted",
            "the last pass deleted",
            &p.deleted,
        ),
    ] {
        let items = format!("{name}_items");
        let bytes = format!("{name}_bytes");
        out.family(&items, &format!("Items {help}, by kind."));
        for kind in KINDS {
            let amount = totals.get(kind.as_str()).copied().unwrap_or_default();
            out.sample(&items, &[("kind", kind.as_str())], amount.items as f64);
        }
        out.family(&bytes, &format!("Bytes {help}, by kind."));
        for kind in KINDS {
            let amount = totals.get(kind.as_str()).copied().unwrap_or_default();
            out.sample(&bytes, &[("kind", kind.as_str())], amount.bytes as f64);
        }
    }
    out.family(
        "shelflife_last_pass_failed_items",
        "Deletions the servers refused or failed in the last pass.",
    );
    out.sample("shelflife_last_pass_failed_items", &[], p.failed as f64);
    out.family(
        "shelflife_last_pass_kept_items",
        "Watched items the last pass kept, by reason.",
    );
    for (reason, n) in &p.kept {
        out.sample(
            "shelflife_last_pass_kept_items",
            &[("reason", reason)],
            *n as f64,
        );
    }
    out.family(
        "shelflife_last_pass_api_requests",
        "HTTP requests the last pass sent, retries included, by service and configured name.",
    );
    for (server, r) in &p.api {
        let (service, name) = server_labels(server);
        out.sample(
            "shelflife_last_pass_api_requests",
            &[("service", service), ("server", name)],
            r.requests as f64,
        );
    }
    out.family(
        "shelflife_last_pass_api_errors",
        "HTTP requests of the last pass that failed (an error status or no answer), by service \
         and configured name.",
    );
    for (server, r) in &p.api {
        let (service, name) = server_labels(server);
        out.sample(
            "shelflife_last_pass_api_errors",
            &[("service", service), ("server", name)],
            r.errors as f64,
        );
    }
    if !p.drift.is_empty() {
        out.family(
            "shelflife_drift_items",
            "Where Jellyfin, Radarr and Sonarr disagree, by kind, as the last pass saw it: \
             files the *arrs will download again, and the counted users' watched or favourite \
             items no *arr entry matches. `shelflife drift` reports every kind in full.",
        );
        for (kind, n) in &p.drift {
            out.sample("shelflife_drift_items", &[("kind", kind)], *n as f64);
        }
    }
}

/// The `service` and `server` labels of a server key: `radarr@4k` → (`radarr`, `4k`);
/// `radarr` → (`radarr`, `radarr`).
fn server_labels(key: &str) -> (&str, &str) {
    key.split_once('@').unwrap_or((key, key))
}

fn render_space(out: &mut Out, p: &PassMetrics) {
    if p.space.is_empty() {
        return;
    }
    out.family(
        "shelflife_space_free_bytes",
        "Free bytes of each mount kept at a free-space target, when the last pass began and \
         at its last measurement.",
    );
    for m in &p.space {
        let mount = m.mount.as_str();
        out.sample(
            "shelflife_space_free_bytes",
            &[("mount", mount), ("when", "before")],
            m.free_before as f64,
        );
        out.sample(
            "shelflife_space_free_bytes",
            &[("mount", mount), ("when", "after")],
            m.free_after as f64,
        );
    }
    // One gauge a mount, labelled by it.
    let by_mount = |out: &mut Out, name: &str, help: &str, value: fn(&SpaceMetrics) -> f64| {
        out.family(name, help);
        for m in &p.space {
            out.sample(name, &[("mount", &m.mount)], value(m));
        }
    };
    by_mount(
        out,
        "shelflife_space_target_bytes",
        "The free bytes each such mount is kept at.",
        |m| m.target as f64,
    );
    by_mount(
        out,
        "shelflife_space_freed_bytes",
        "Free space the last pass's deletions for space gave back, as measured.",
        |m| m.freed as f64,
    );
    by_mount(
        out,
        "shelflife_space_frees_nothing",
        "1 when deleting stopped giving space back on the mount (snapshots, other hard links, \
         a recycle bin on it).",
        |m| f64::from(u8::from(m.frees_nothing)),
    );
}

/// The space figures of a pass: what its plan measured, and what a live pass did.
fn space_metrics(run: &RunOutcome) -> Vec<SpaceMetrics> {
    run.plan
        .space
        .iter()
        .map(|budget| {
            let done = run
                .report
                .iter()
                .flat_map(|r| &r.space)
                .find(|s| s.mount == budget.mount);
            SpaceMetrics {
                mount: budget.mount.clone(),
                free_before: budget.free_bytes,
                free_after: done.map_or(budget.free_bytes, |d| d.free_after),
                target: budget.target_bytes,
                freed: done.map_or(0, |d| d.freed),
                frees_nothing: done.is_some_and(|d| d.frees_nothing),
                left: done.and_then(|d| d.left.clone()),
            }
        })
        .collect()
}

fn render_health(out: &mut Out, h: &HealthMetrics<'_>) {
    out.family(
        "shelflife_health_checked_timestamp_seconds",
        "When the health checks below ran, in Unix seconds.",
    );
    out.sample(
        "shelflife_health_checked_timestamp_seconds",
        &[],
        unix_seconds(h.checked_at),
    );
    out.family(
        "shelflife_health",
        "The worst of all health checks: 0 ok, 1 degraded, 2 unhealthy.",
    );
    out.sample("shelflife_health", &[], level(h.report.overall()));
    out.family(
        "shelflife_check_health",
        "Each health check: 0 ok, 1 degraded, 2 unhealthy.",
    );
    for f in &h.report.findings {
        let category = serde_json::to_value(f.category)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        out.sample(
            "shelflife_check_health",
            &[("check", &f.check), ("category", &category)],
            level(f.health),
        );
    }
    out.family(
        "shelflife_mount_health",
        "Each configured mount, its space and its NFS server: 0 ok, 1 degraded, 2 unhealthy.",
    );
    for mount in h.mounts {
        let about: Vec<_> = h
            .report
            .findings
            .iter()
            .filter(|f| f.mount.as_deref() == Some(mount.as_path()))
            .collect();
        // A mount nothing was found about was not checked: that is not "ok".
        let worst = about
            .iter()
            .map(|f| f.health)
            .max()
            .unwrap_or(Health::Unhealthy);
        let path = mount.display().to_string();
        out.sample("shelflife_mount_health", &[("path", &path)], level(worst));
    }
    let spaces: Vec<(String, Space)> = h
        .report
        .findings
        .iter()
        .filter_map(|f| Some((f.mount.as_ref()?.display().to_string(), f.space?)))
        .collect();
    type Measure = fn(&Space) -> f64;
    let room: [(&str, &str, Measure); 2] = [
        (
            "shelflife_mount_free_ratio",
            "Available over total bytes of each configured mount, as the checks last saw it.",
            Space::free_ratio,
        ),
        (
            "shelflife_mount_free_bytes",
            "Bytes available to unprivileged users on each configured mount.",
            |space| space.bytes_available as f64,
        ),
    ];
    for (name, help, measure) in room {
        out.family(name, help);
        for (path, space) in &spaces {
            out.sample(name, &[("path", path)], measure(space));
        }
    }
}

fn level(health: Health) -> f64 {
    match health {
        Health::Ok => 0.0,
        Health::Degraded => 1.0,
        Health::Unhealthy => 2.0,
    }
}

#[derive(Default)]
struct Out {
    text: String,
}

impl Out {
    fn family(&mut self, name: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} gauge");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            let pairs: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            let _ = write!(self.text, "{{{}}}", pairs.join(","));
        }
        let _ = writeln!(self.text, " {}", number(value));
    }
}

/// Prometheus' text format: `+Inf`, `-Inf`, `NaN`, or a plain float.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{value}")
    }
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Writes the metrics file of `config`, when it names one: the last pass's figures and the health
/// just checked. A failure is logged, never fatal: metrics must not stop a pass or the monitor.
pub fn write_configured(
    config: &crate::config::Config,
    pass: Option<&PassMetrics>,
    report: Option<&Report>,
    checked_at: Timestamp,
) {
    let Some(path) = &config.metrics.textfile else {
        return;
    };
    let mounts: Vec<PathBuf> = config
        .health
        .mounts
        .iter()
        .map(|m| m.path.clone())
        .collect();
    let health = report.map(|report| HealthMetrics {
        report,
        checked_at,
        mounts: &mounts,
    });
    if let Err(err) = write_atomically(path, &render(pass, health.as_ref())) {
        tracing::warn!("{err}");
    }
}

/// What the dry run `run` found, from the figures it stored with it (`metrics`): with `kind`,
/// only that kind's deletions; `None` when it found none of them.
pub fn dry_run(
    run: &crate::state::RunRow,
    metrics: Option<&str>,
    kind: Option<crate::state::ActionKind>,
) -> Option<crate::output::DryRun> {
    let pass: Option<PassMetrics> = metrics.and_then(|json| serde_json::from_str(json).ok());
    let (items, bytes) = match (&pass, kind) {
        (Some(p), Some(kind)) => {
            let amount = p.planned.get(kind.as_str()).copied().unwrap_or_default();
            (amount.items, Some(amount.bytes))
        }
        (Some(p), None) => {
            let items = p.planned.values().map(|a| a.items).sum();
            (items, Some(p.planned.values().map(|a| a.bytes).sum()))
        }
        // Without its figures only its count is known, and not by kind.
        (None, Some(_)) => return None,
        (None, None) => (run.counts.planned, None),
    };
    (items > 0).then(|| crate::output::DryRun {
        at: run.finished_at.unwrap_or(run.started_at),
        run_key: run.run_key.clone(),
        items,
        bytes,
    })
}

/// The figures the last pass stored with its run, if any can be read.
pub fn stored_pass(state: &crate::state::State) -> Option<PassMetrics> {
    let json = match state.last_run_metrics() {
        Ok(json) => json?,
        Err(err) => {
            tracing::warn!("cannot read the last pass's metrics: {err}");
            return None;
        }
    };
    match serde_json::from_str(&json) {
        Ok(pass) => Some(pass),
        Err(err) => {
            tracing::warn!("the last pass's stored metrics are unreadable: {err}");
            None
        }
    }
}

/// Why the file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the metrics file {}: {source}", path.display())]
pub struct WriteError {
    path: PathBuf,
    source: std::io::Error,
}

/// Writes `text` to `path` atomically: a temp file in the same directory, synced, then renamed
/// over `path`. Readable by all (node_exporter runs as its own user).
pub fn write_atomically(path: &Path, text: &str) -> Result<(), WriteError> {
    let error = |source| WriteError {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // Not ending in .prom, so the collector never reads a temp file.
    let mut temp = tempfile::Builder::new()
        .prefix(".shelflife-metrics-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(error)?;
    temp.write_all(text.as_bytes()).map_err(error)?;
    temp.as_file().sync_all().map_err(error)?;
    use std::os::unix::fs::PermissionsExt;
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(error)?;
    temp.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests;
