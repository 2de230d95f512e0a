//! One retention pass, end to end: build the clients from the config, fetch and join the
//! inventory, plan, refuse an oversized plan, carry it out (dry or live), sum it up.
//!
//! The CLI's `plan`, `run` and `demo` all go through here; only printing differs.

use std::collections::BTreeMap;
use std::fmt::Write;

use jiff::Timestamp;

use crate::apply::{self, ApplyReport, Journal, Mode, NoJournal, Outcome, Servers, Stop};
use crate::clients::http::{BuildError, Http, HttpSettings};
use crate::clients::jellyfin::JellyfinClient;
use crate::clients::radarr::RadarrClient;
use crate::clients::sonarr::SonarrClient;
use crate::config::Config;
use crate::exit::Exit;
use crate::health::{gate, PassGate};
use crate::inventory::{self, Inventory, InventoryError, InventoryOptions, Sources};
use crate::logging::message_id;
use crate::metrics::{self, PassMetrics, Requests};
use crate::output::kept_by_reason;
use crate::plan::Plan;
use crate::policy;
use crate::record::{self, PassJournal, RecordError};
use crate::state::{self, RunCounts, State, StateError};
use crate::systemd;
use crate::units::format_bytes;

#[derive(Debug, thiserror::Error)]
pub enum PassError {
    /// The config names a server the client cannot be built for (bad URL or key).
    #[error(transparent)]
    Setup(#[from] BuildError),
    /// Fetching or joining failed; nothing was planned, nothing deleted.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// The state file could not record the pass: nothing (more) was deleted.
    #[error("{0}; no deletion is made without a record")]
    State(#[from] StateError),
    /// The run lock or the state file kept an interrupted pass from being settled.
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// The servers of one config, ready to be asked.
pub struct Pass<'c> {
    config: &'c Config,
    sources: Sources,
}

/// A plan and what it was made from.
pub struct Planned {
    pub plan: Plan,
    pub inventory: Inventory,
}

/// A plan that exceeds `max_deletions_per_run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub files: usize,
    pub limit: u32,
}

/// How a `run` ended.
pub struct RunOutcome {
    pub run_id: String,
    pub mode: Mode,
    pub plan: Plan,
    /// `None` when the plan was refused or the pass paused before anything was attempted.
    pub report: Option<ApplyReport>,
    pub refused: Option<Refusal>,
    /// The health gate paused the pass before planning; the plan is empty.
    pub paused: Option<String>,
}

impl<'c> Pass<'c> {
    pub fn new(config: &'c Config) -> Result<Self, PassError> {
        let http = Http::new()?;
        let jellyfin = JellyfinClient::new(
            &http,
            &config.jellyfin.url,
            config.jellyfin.api_key.expose(),
            config.jellyfin.http.clone(),
        )?;
        let radarr = match &config.radarr {
            Some(c) => Some(RadarrClient::new(
                &http,
                &c.url,
                c.api_key.expose(),
                c.http.clone(),
            )?),
            None => None,
        };
        let sonarr = match &config.sonarr {
            Some(c) => Some(SonarrClient::new(
                &http,
                &c.url,
                c.api_key.expose(),
                c.http.clone(),
            )?),
            None => None,
        };
        Ok(Pass {
            config,
            sources: Sources {
                jellyfin,
                radarr,
                sonarr,
            },
        })
    }

    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// Fetches, joins and plans. Changes nothing anywhere.
    pub async fn plan(&self, now: Timestamp) -> Result<Planned, PassError> {
        let options = InventoryOptions {
            users: self.config.jellyfin.users.clone(),
            path_map: self
                .config
                .path_map
                .iter()
                .map(|m| (m.jellyfin.clone(), m.arr.clone()))
                .collect(),
            ..InventoryOptions::default()
        };
        let inventory = inventory::collect(&self.sources, &options).await?;
        let plan = policy::plan(&inventory.library, &self.config.rules, now);
        Ok(Planned { plan, inventory })
    }

    /// One pass, journaled in `state` (opened under the run lock): settle what an interrupted
    /// pass left in flight, plan afresh, refuse an oversized plan, carry it out in `mode`.
    /// Tells systemd how far it got, logs its start and end with their `MESSAGE_ID`s, and leaves
    /// its figures in the state file and the metrics file.
    pub async fn run(
        &self,
        mode: Mode,
        now: Timestamp,
        state: &mut State,
    ) -> Result<RunOutcome, PassError> {
        let clock = std::time::Instant::now();
        let run_id = new_run_id();
        let begun = async {
            systemd::progress("settling earlier passes");
            let settled = record::settle_interrupted(state, &self.sources, now).await?;
            let previous = state.last_run()?;
            let run = state.begin_run(&run_id, journal_mode(mode), now, std::process::id())?;
            Ok::<_, PassError>((previous, run, settled.held))
        };
        let (previous, run, held) = match begun.await {
            Ok(begun) => begun,
            Err(err) => {
                log_not_started(&err.to_string());
                return Err(err);
            }
        };
        tracing::info!(
            message_id = message_id::PASS_STARTED,
            run_id,
            mode = mode.as_str(),
            "pass started"
        );
        let mut health_gate =
            PassGate::new(&self.config.health, &self.config.state.path, &self.sources);
        let result = self
            .run_recorded(
                mode,
                now,
                state,
                run,
                run_id.clone(),
                &mut health_gate,
                previous,
                &held,
            )
            .await;
        let finished = Timestamp::now();
        let (metrics, result) = match result {
            Ok(outcome) => {
                let (recorded, reason) = outcome.journal_outcome();
                let recorded_ok =
                    state.finish_run(run, recorded, reason.as_deref(), outcome.counts(), finished);
                log_end(
                    &outcome.run_id,
                    recorded,
                    reason.as_deref(),
                    &outcome.summary_line(),
                );
                let paused = (recorded == state::Outcome::Paused)
                    .then(|| reason.clone())
                    .flatten();
                let metrics = PassMetrics::of_run(
                    &outcome,
                    recorded.as_str(),
                    paused,
                    finished,
                    clock.elapsed(),
                    self.request_stats(),
                );
                (
                    metrics,
                    recorded_ok.map(|()| outcome).map_err(PassError::from),
                )
            }
            Err(err) => {
                let reason = err.to_string();
                log_end(&run_id, state::Outcome::Failed, Some(&reason), "");
                // Best effort: when the journal itself failed, this fails too, and the next pass
                // marks the run interrupted instead.
                if let Err(e) = state.finish_run(
                    run,
                    state::Outcome::Failed,
                    Some(&reason),
                    RunCounts::default(),
                    finished,
                ) {
                    tracing::warn!("cannot record the end of the pass: {e}");
                }
                let metrics =
                    PassMetrics::failed(mode, finished, clock.elapsed(), self.request_stats());
                (metrics, Err(err))
            }
        };
        self.leave_metrics(state, run, &metrics, health_gate.last_report(), finished);
        result
    }

    /// Requests each configured server was sent by this pass, retries included.
    fn request_stats(&self) -> BTreeMap<String, Requests> {
        let mut stats = BTreeMap::new();
        stats.insert("jellyfin".to_owned(), self.sources.jellyfin.stats().into());
        if let Some(radarr) = &self.sources.radarr {
            stats.insert("radarr".to_owned(), radarr.stats().into());
        }
        if let Some(sonarr) = &self.sources.sonarr {
            stats.insert("sonarr".to_owned(), sonarr.stats().into());
        }
        stats
    }

    /// Stores the pass's figures with its run and writes the metrics file, when one is configured.
    /// A failure here is worth a warning, never the pass.
    fn leave_metrics(
        &self,
        state: &mut State,
        run: state::RunId,
        pass: &PassMetrics,
        health: Option<&crate::health::Report>,
        checked_at: Timestamp,
    ) {
        match serde_json::to_string(pass) {
            Ok(json) => {
                if let Err(err) = state.set_run_metrics(run, &json) {
                    tracing::warn!("cannot store the pass's metrics: {err}");
                }
            }
            Err(err) => tracing::warn!("cannot serialize the pass's metrics: {err}"),
        }
        metrics::write_configured(self.config, Some(pass), health, checked_at);
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_recorded(
        &self,
        mode: Mode,
        now: Timestamp,
        state: &mut State,
        run: state::RunId,
        run_id: String,
        health_gate: &mut PassGate<'_>,
        previous: Option<state::RunRow>,
        held: &[record::Held],
    ) -> Result<RunOutcome, PassError> {
        systemd::progress("checking storage");
        if let Err(reason) = self.storage_fit(health_gate, now, state, &run_id).await? {
            tracing::warn!(
                run_id,
                action = "pause",
                reason = %reason,
                "pass paused before planning, nothing deleted: {reason}"
            );
            return Ok(RunOutcome {
                run_id,
                mode,
                plan: Plan::default(),
                report: None,
                refused: None,
                paused: Some(reason),
            });
        }
        if let Some(prev) = previous.filter(|p| p.outcome == Some(state::Outcome::Paused)) {
            let why = prev.reason.unwrap_or_default();
            tracing::info!(
                message_id = message_id::PASS_RESUMED,
                run_id,
                action = "resume",
                reason = %why,
                "the storage is fit again; resuming after pass {} paused: {why}",
                prev.run_key
            );
        }
        systemd::progress("reading the library");
        let Planned {
            mut plan,
            inventory,
        } = self.plan(now).await?;
        // The plan holds all that is left to do; on a large library the library is most of a
        // pass's memory, and recording the plan needs about as much again.
        let Inventory {
            library,
            root_folders,
        } = inventory;
        drop(library);
        for done in record::drop_done(&mut plan, &state.done_targets()?) {
            tracing::warn!(
                run_id,
                action = "skip",
                kind = done.kind.as_str(),
                title = %done.title,
                arr_id = done.target.arr_id(),
                reason = "deleted by an earlier pass",
                bytes = done.bytes,
                "{} {} was deleted by an earlier pass; not deleting it again",
                done.kind,
                done.title
            );
        }
        // What an interrupted pass may still be deleting is not touched again.
        record::hold(&mut plan, held);
        for decision in plan.kept() {
            apply::log_decision(&run_id, mode, decision, "keep", "keep");
        }
        for unmatched in &plan.unmatched {
            tracing::info!(
                run_id,
                action = "keep",
                kind = unmatched.kind.to_lowercase(),
                title = %unmatched.title,
                reason = %unmatched.why,
                "keep {} {}: unmatched, {}",
                unmatched.kind.to_lowercase(),
                unmatched.title,
                unmatched.why
            );
        }

        let limit = self.config.rules.max_deletions_per_run;
        let files = plan.files_to_delete();
        systemd::progress(&format!("planning: {} to delete", plan.deletions().count()));
        if files > limit as usize {
            tracing::error!(
                run_id,
                files,
                limit,
                "plan refused: it would delete {files} files, more than max_deletions_per_run = {limit}; nothing deleted"
            );
            return Ok(RunOutcome {
                run_id,
                mode,
                plan,
                report: None,
                refused: Some(Refusal { files, limit }),
                paused: None,
            });
        }

        let servers = Servers {
            jellyfin: &self.sources.jellyfin,
            radarr: self.sources.radarr.as_ref(),
            sonarr: self.sources.sonarr.as_ref(),
            add_import_exclusion: self
                .config
                .radarr
                .as_ref()
                .is_some_and(|r| r.add_import_exclusion),
        };
        let (decisions, actions) = record::new_actions(&plan);
        let ids = state.plan_actions(run, &actions, Timestamp::now())?;
        let report = {
            let mut journal = PassJournal::new(state, &decisions, &ids);
            let journal: &mut (dyn Journal + Send) = match mode {
                Mode::Live => &mut journal,
                Mode::DryRun => &mut NoJournal,
            };
            // Dry runs delete nothing, so `apply` asks the gate only in live runs.
            apply::apply(
                &plan,
                &servers,
                &root_folders,
                mode,
                &run_id,
                journal,
                &mut Progress(health_gate),
            )
            .await
        };
        let skipped = match (mode, &report.stopped) {
            (Mode::DryRun, _) => "dry run".to_owned(),
            (Mode::Live, Some(stop)) => format!("the pass stopped before reaching it: {stop}"),
            (Mode::Live, None) => "not carried out".to_owned(),
        };
        state.skip_planned(run, &skipped, Timestamp::now())?;
        Ok(RunOutcome {
            run_id,
            mode,
            plan,
            report: Some(report),
            refused: None,
            paused: None,
        })
    }

    /// The health gate before planning: every check, then `require_healthy_for` over the
    /// monitor's samples. `Ok(Err(reason))` means pause.
    async fn storage_fit(
        &self,
        health_gate: &mut PassGate<'_>,
        now: Timestamp,
        state: &State,
        run_id: &str,
    ) -> Result<Result<(), String>, PassError> {
        match health_gate.full_check().await.1 {
            gate::Verdict::Pause { reason } => return Ok(Err(reason)),
            gate::Verdict::Proceed { warnings } => {
                for warning in warnings {
                    tracing::warn!(run_id, "storage degraded, proceeding: {warning}");
                }
            }
        }
        let health = &self.config.health;
        let Some(window) = health.require_healthy_for else {
            return Ok(Ok(()));
        };
        let start = jiff::SignedDuration::try_from(window)
            .ok()
            .and_then(|w| now.checked_sub(w).ok())
            .unwrap_or(Timestamp::MIN);
        let samples = state.samples_since(start)?;
        // A sample per interval is expected; two missed rounds mean the monitor is not running.
        let max_age = health.interval * 2 + std::time::Duration::from_secs(10);
        Ok(gate::healthy_for(&samples, now, window, max_age))
    }
}

/// The health gate, telling systemd what is about to be deleted (and that the pass is alive)
/// before it asks. How the pass ends is reported by [`log_end`].
struct Progress<'g, 'a>(&'g mut PassGate<'a>);

impl apply::Gate for Progress<'_, '_> {
    async fn before_delete(&mut self, step: apply::Step<'_>) -> Result<(), String> {
        systemd::progress(&format!("deleting {step}"));
        self.0.before_delete().await
    }
}

/// Logs a pass that failed before it was recorded (the run lock is held, the state file is
/// unusable, an interrupted pass cannot be settled) as a failed pass.
pub fn log_not_started(reason: &str) {
    systemd::progress(&format!("failed: {reason}"));
    tracing::error!(
        message_id = message_id::PASS_FAILED,
        outcome = "failed",
        reason,
        "pass failed before it began: {reason}"
    );
}

/// Logs the end of a pass with the `MESSAGE_ID` of how it ended.
fn log_end(run_id: &str, outcome: state::Outcome, reason: Option<&str>, summary: &str) {
    let reason = reason.unwrap_or("");
    match outcome {
        state::Outcome::Completed => {
            systemd::progress(&format!("done: {summary}"));
            tracing::info!(
                message_id = message_id::PASS_FINISHED,
                run_id,
                outcome = outcome.as_str(),
                "pass finished: {summary}"
            );
        }
        state::Outcome::Paused => {
            systemd::progress(&format!("paused: {reason}"));
            tracing::warn!(
                message_id = message_id::PASS_PAUSED,
                run_id,
                outcome = outcome.as_str(),
                reason,
                "pass paused, nothing more deleted: {reason}"
            );
        }
        _ => {
            systemd::progress(&format!("failed: {reason}"));
            tracing::error!(
                message_id = message_id::PASS_FAILED,
                run_id,
                outcome = outcome.as_str(),
                reason,
                "pass failed: {reason}"
            );
        }
    }
}

/// The longest a single small request to any configured server can take, retries included:
/// what the monitor's checks send.
pub fn longest_request(config: &Config) -> std::time::Duration {
    let settings = [
        Some(&config.jellyfin.http),
        config.radarr.as_ref().map(|c| &c.http),
        config.sonarr.as_ref().map(|c| &c.http),
    ];
    settings
        .into_iter()
        .flatten()
        .map(HttpSettings::longest_request)
        .max()
        .unwrap_or_default()
}

fn journal_mode(mode: Mode) -> state::Mode {
    match mode {
        Mode::DryRun => state::Mode::DryRun,
        Mode::Live => state::Mode::Live,
    }
}

impl RunOutcome {
    /// How the journal records this outcome, with the reason when it did not complete.
    fn journal_outcome(&self) -> (state::Outcome, Option<String>) {
        if let Some(reason) = &self.paused {
            return (
                state::Outcome::Paused,
                Some(format!("the storage is not healthy: {reason}")),
            );
        }
        if let Some(r) = &self.refused {
            let reason = format!(
                "the plan would delete {} files, more than max_deletions_per_run = {}",
                r.files, r.limit
            );
            return (state::Outcome::Refused, Some(reason));
        }
        let Some(report) = &self.report else {
            return (state::Outcome::Failed, None);
        };
        match &report.stopped {
            Some(stop @ (Stop::StorageMissing { .. } | Stop::Unhealthy { .. })) => {
                (state::Outcome::Paused, Some(stop.to_string()))
            }
            Some(stop) => (state::Outcome::Failed, Some(stop.to_string())),
            None => match report.count(Outcome::is_failure) {
                0 => (state::Outcome::Completed, None),
                n => (
                    state::Outcome::Failed,
                    Some(format!("{n} deletions failed or could not be confirmed")),
                ),
            },
        }
    }

    /// The counts stored on the run.
    fn counts(&self) -> RunCounts {
        let deleted: Vec<usize> = self
            .report
            .iter()
            .flat_map(|r| &r.outcomes)
            .filter(|(_, o)| *o == Outcome::Deleted)
            .map(|(i, _)| *i)
            .collect();
        RunCounts {
            planned: self.plan.deletions().count() as u64,
            deleted: deleted.len() as u64,
            failed: self
                .report
                .as_ref()
                .map_or(0, |r| r.count(Outcome::is_failure) as u64),
            kept: (self.plan.kept().count() + self.plan.unmatched.len()) as u64,
            bytes_deleted: deleted.iter().map(|&i| self.plan.decisions[i].bytes).sum(),
        }
    }

    /// The exit code of `run` for this outcome.
    pub fn exit(&self) -> Exit {
        if self.paused.is_some() {
            return Exit::Paused;
        }
        if self.refused.is_some() {
            return Exit::Failed;
        }
        let Some(report) = &self.report else {
            return Exit::Failed;
        };
        match &report.stopped {
            Some(Stop::StorageMissing { .. } | Stop::Unhealthy { .. }) => Exit::Paused,
            Some(Stop::ServerFailed { .. } | Stop::JournalFailed { .. }) => Exit::Failed,
            None if report.count(Outcome::is_failure) > 0 => Exit::Failed,
            None => Exit::Ok,
        }
    }

    /// One line: watched / eligible / kept / deleted / failed / reclaimed.
    pub fn summary_line(&self) -> String {
        let watched = self.plan.decisions.len() + self.plan.unmatched.len();
        let eligible = self.plan.deletions().count();
        let kept = self.plan.kept().count() + self.plan.unmatched.len();
        let (done, failed, reclaimed) = match &self.report {
            Some(r) => {
                let done_bytes: u64 = r
                    .outcomes
                    .iter()
                    .filter(|(_, o)| matches!(o, Outcome::Deleted | Outcome::WouldDelete))
                    .map(|(i, _)| self.plan.decisions[*i].bytes)
                    .sum();
                (
                    r.count(|o| matches!(o, Outcome::Deleted | Outcome::WouldDelete)),
                    r.count(Outcome::is_failure),
                    done_bytes,
                )
            }
            None => (0, 0, 0),
        };
        let (deleted_word, reclaimed_word) = match self.mode {
            Mode::DryRun => ("would delete", "would reclaim"),
            Mode::Live => ("deleted", "reclaimed"),
        };
        format!(
            "watched {watched}, eligible {eligible}, kept {kept}, {deleted_word} {done}, failed {failed}, {reclaimed_word} {}",
            format_bytes(reclaimed)
        )
    }

    /// The end-of-pass report people read: the summary, kept by reason, and why it stopped.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        if let Some(reason) = &self.paused {
            let _ = writeln!(
                out,
                "{} pass {}: paused before planning; nothing was deleted\npaused: the storage is not healthy: {reason}",
                match self.mode {
                    Mode::DryRun => "Dry-run",
                    Mode::Live => "Live",
                },
                self.run_id
            );
            return out;
        }
        let _ = writeln!(
            out,
            "{} pass {}: {}",
            match self.mode {
                Mode::DryRun => "Dry-run",
                Mode::Live => "Live",
            },
            self.run_id,
            self.summary_line()
        );
        let by_reason = kept_by_reason(&self.plan);
        if !by_reason.is_empty() {
            let parts: Vec<String> = by_reason.iter().map(|(r, n)| format!("{r} {n}")).collect();
            let _ = writeln!(out, "kept by reason: {}", parts.join(", "));
        }
        if let Some(refusal) = &self.refused {
            let _ = writeln!(
                out,
                "refused: the plan would delete {} files, more than max_deletions_per_run = {}; nothing was deleted",
                refusal.files, refusal.limit
            );
        }
        if let Some(report) = &self.report {
            for (i, outcome) in &report.outcomes {
                let d = &self.plan.decisions[*i];
                match outcome {
                    Outcome::Failed(err) => {
                        let _ = writeln!(out, "failed: {} {}: {err}", d.kind, d.title);
                    }
                    Outcome::InDoubt(why) => {
                        let _ = writeln!(out, "in doubt: {} {}: {why}", d.kind, d.title);
                    }
                    Outcome::Changed(why) => {
                        let _ =
                            writeln!(out, "left for the next pass: {} {}: {why}", d.kind, d.title);
                    }
                    _ => {}
                }
            }
            if let Some(stop) = &report.stopped {
                let _ = writeln!(out, "stopped: {stop}");
                let left = report.count(|o| *o == Outcome::NotAttempted);
                if left > 0 {
                    let _ = writeln!(out, "{left} deletions left for a later pass");
                }
            }
        }
        out
    }
}

/// A short random id that ties a pass's log lines together.
fn new_run_id() -> String {
    format!("{:016x}", fastrand::u64(..))
}
