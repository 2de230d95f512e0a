//! One retention pass, end to end: build the clients from the config, fetch and join the
//! inventory, plan, refuse an oversized plan, carry it out (dry or live), sum it up.
//!
//! The CLI's `plan`, `run` and `demo` all go through here; only printing differs, and `plan`
//! shows what `run` would do: the same journal applied, the same refusal.

mod log;
mod notify;
mod space;

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::apply::{self, Journal, Mode, NoJournal};
use crate::clients::arr::{Arr, ArrClient};
use crate::clients::http::{BuildError, Http};
use crate::clients::jellyfin::JellyfinClient;
use crate::clients::SeerrClient;
use crate::clients::{RootFolders, Sources};
use crate::config::{ArrConfig, Config, MountConfig};
use crate::health::{self, gate, PassGate};
use crate::inventory::{self, Inventory, InventoryError, InventoryOptions};
use crate::metrics::{self, PassMetrics, Requests};
use crate::notice::{Notice, Settled};
use crate::outcome::{Preview, Refusal, RunOutcome};
use crate::output;
use crate::plan::Plan;
use crate::policy::{self, MountPressure, SpacePressure};
use crate::record::{self, Held, PassJournal, RecordError};
use crate::seerr;
use crate::state::{self, RunCounts, State, StateError};
use crate::systemd;

pub use log::not_started as log_not_started;

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

/// A config and the clients of its servers, ready to be asked.
pub struct Pass {
    config: Config,
    sources: Sources,
    /// Seerr, when `[seerr]` is configured: cleaned up after the deletions.
    seerr: Option<SeerrClient>,
}

/// A plan and what it was made from.
pub struct Planned {
    pub plan: Plan,
    pub inventory: Inventory,
    /// The ids Seerr knows the plan's titles by, when `[seerr]` is configured.
    pub titles: Option<seerr::Titles>,
}

impl Pass {
    pub fn new(config: Config) -> Result<Self, PassError> {
        let http = Http::new()?;
        let jellyfin = JellyfinClient::new(
            &http,
            &config.jellyfin.url,
            config.jellyfin.api_key.expose(),
            config.jellyfin.http.clone(),
        )?;
        let radarr = arr_clients(&http, &config.radarr)?;
        let sonarr = arr_clients(&http, &config.sonarr)?;
        let seerr = match &config.seerr {
            Some(s) => Some(SeerrClient::new(
                &http,
                &s.url,
                s.api_key.expose(),
                s.http.clone(),
            )?),
            None => None,
        };
        Ok(Pass {
            seerr,
            config,
            sources: Sources {
                jellyfin,
                radarr,
                sonarr,
            },
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// Seerr's client, when `[seerr]` is configured.
    pub fn seerr(&self) -> Option<&SeerrClient> {
        self.seerr.as_ref()
    }

    /// The notice period of the config, shown through this pass's Jellyfin.
    fn notice(&self) -> Notice<'_> {
        Notice {
            days: self.config.rules.notice_days,
            collection: self.config.leaving_soon.collection.as_deref(),
            jellyfin: &self.sources.jellyfin,
            tz: jiff::tz::TimeZone::system(),
        }
    }

    /// What `run` would do now, without changing anything: plans afresh and applies the
    /// journal in `state` (when there is one) as `run` does, leaving out what a live pass
    /// already deleted and keeping what an unsettled deletion covers, then judges the plan
    /// against `max_deletions_per_run`. It does not settle: `run` asks the servers about an
    /// unsettled deletion first, and may find it went through.
    pub async fn preview(
        &self,
        now: Timestamp,
        state: Option<&State>,
    ) -> Result<Preview, PassError> {
        let Planned { mut plan, .. } = self.plan(now).await?;
        let done_before = match state {
            None => Vec::new(),
            Some(state) => {
                let done = record::drop_done(&mut plan, &state.done_targets()?);
                record::hold(&mut plan, &record::unsettled(state)?);
                done
            }
        };
        let notice = self.notice();
        if notice.is_on() {
            let schedule = match state {
                Some(state) => state.notices()?,
                None => Vec::new(),
            };
            notice.preview(&mut plan, &schedule, now).await;
        }
        let refused = Refusal::of(&plan, self.config.rules.max_deletions_per_run);
        Ok(Preview {
            plan,
            done_before,
            refused,
        })
    }

    /// `[[path_map]]` as `(jellyfin prefix, arr prefix)` pairs.
    fn path_pairs(&self) -> Vec<(String, String)> {
        (self.config.path_map.iter())
            .map(|m| (m.jellyfin.clone(), m.arr.clone()))
            .collect()
    }

    /// The drift report: where the servers disagree. Reads every server once, changes nothing.
    pub async fn drift(
        &self,
        now: Timestamp,
    ) -> Result<crate::drift::Drift, crate::clients::ApiError> {
        crate::drift::collect(&self.sources, &self.path_pairs(), now).await
    }

    /// Fetches, joins and plans, without the journal. Changes nothing anywhere.
    pub async fn plan(&self, now: Timestamp) -> Result<Planned, PassError> {
        self.plan_with(now, RootFolders::default()).await
    }

    /// [`Pass::plan`], with the root folders the health gate has just read.
    async fn plan_with(
        &self,
        now: Timestamp,
        root_folders: RootFolders,
    ) -> Result<Planned, PassError> {
        let options = InventoryOptions {
            users: self.config.jellyfin.users.clone(),
            path_map: self.path_pairs(),
            now,
            root_folders,
            ..InventoryOptions::default()
        };
        let inventory = inventory::collect(&self.sources, &options).await?;
        release_freed_memory();
        let pressure = self.space_pressure().await;
        let mut plan = policy::plan_under(&inventory.library, &self.config.rules, &pressure, now);
        let timeout = (self.config.health.mounts.iter())
            .map(|m| m.timeout)
            .max()
            .unwrap_or_default();
        space::limit(&mut plan, &inventory.library, &pressure, timeout).await;
        let titles = (self.seerr.as_ref()).map(|_| seerr::Titles::of(&inventory.library, &plan));
        if let (Some(client), Some(settings), Some(titles)) =
            (&self.seerr, &self.config.seerr, &titles)
        {
            let days = settings.request_protection_days;
            let until_watched = settings.keep_until_requester_watched;
            if days > 0 || until_watched {
                // One paged read of the requests serves both.
                let requests = client.requests().await.map_err(|e| e.to_string());
                let requests = requests.as_deref().map_err(Clone::clone);
                seerr::protect(&mut plan, titles, requests.clone(), now, days);
                if until_watched {
                    let (library, jellyfin) = (&inventory.library, &self.sources.jellyfin);
                    seerr::keep_until_watched(
                        &mut plan,
                        library,
                        titles,
                        requests,
                        jellyfin,
                        &inventory.users,
                    )
                    .await;
                }
            }
        }
        Ok(Planned {
            plan,
            inventory,
            titles,
        })
    }

    /// How full each mount with grace tiers is now, measured as the mount checks measure (a
    /// probe with its deadline). None of those mounts: nothing is measured.
    async fn space_pressure(&self) -> SpacePressure {
        let managed: Vec<&MountConfig> = (self.config.health.mounts.iter())
            .filter(|m| !m.grace_tiers.is_empty() || m.target.is_some())
            .collect();
        if managed.is_empty() {
            return SpacePressure::default();
        }
        let report = health::check_mounts(&self.config.health).await;
        let free = |mount: &MountConfig| {
            report
                .findings
                .iter()
                .filter(|f| f.mount.as_deref() == Some(mount.path.as_path()))
                .find_map(|f| f.space)
                .filter(|space| space.bytes_total > 0)
                .map(|space| (space.bytes_available, space.bytes_total))
        };
        SpacePressure {
            mounts: managed
                .into_iter()
                .map(|m| {
                    let free = free(m);
                    MountPressure {
                        mount: m.path.display().to_string(),
                        root_folders: m.root_folders.clone(),
                        free,
                        tiers: m.grace_tiers.clone(),
                        // Unmeasured, nothing goes for space, whatever the target.
                        target_bytes: m.target.map(|t| t.bytes_of(free.map_or(0, |f| f.1))),
                    }
                })
                .collect(),
        }
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
        log::started(&run_id, mode);
        let before = previous.as_ref().and_then(|p| p.outcome);
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
                let (recorded, reason) = outcome.ending();
                let recorded_ok =
                    state.finish_run(run, recorded, reason.as_deref(), outcome.counts(), finished);
                log::ended(
                    &outcome.run_id,
                    recorded,
                    reason.as_deref(),
                    &output::run_summary_line(&outcome),
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
                log::ended(&run_id, state::Outcome::Failed, Some(&reason), "");
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
        // Dry runs rehearse: they announce nothing, so they tell nobody.
        if mode == Mode::Live {
            let tz = jiff::tz::TimeZone::system();
            let messages = notify::messages(&result, before, &run_id, now, &tz);
            notify::send(&self.config, state, &messages, finished).await;
        }
        result
    }

    /// Requests each configured server was sent by this pass, retries included.
    fn request_stats(&self) -> BTreeMap<String, Requests> {
        let seerr = (self.seerr.iter()).map(|s| (s.server(), s.stats()));
        (self.sources.each().into_iter())
            .map(|(service, _, stats)| (service, stats))
            .chain(seerr)
            .map(|(service, stats)| (service.key().to_owned(), stats.into()))
            .collect()
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
        metrics::write_configured(&self.config, Some(pass), health, checked_at);
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
        held: &[Held],
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
                announced: Vec::new(),
                drift: Vec::new(),
            });
        }
        if let Some(prev) = previous.filter(|p| p.outcome == Some(state::Outcome::Paused)) {
            log::resumed(&run_id, &prev);
        }
        systemd::progress("reading the library");
        let Planned {
            mut plan,
            inventory,
            titles,
        } = (self.plan_with(now, health_gate.root_folders().clone())).await?;
        let drift = crate::drift::of_pass(&inventory);
        // The plan holds all that is left to do; on a large library the library is most of a
        // pass's memory, and recording the plan needs about as much again.
        let Inventory {
            library,
            root_folders,
            ..
        } = inventory;
        // Only a live pass leaves Seerr something to clean up.
        let titles = titles.filter(|_| mode == Mode::Live);
        drop(library);
        for done in record::drop_done(&mut plan, &state.done_targets()?) {
            log::done_before(&run_id, &done);
        }
        // What an interrupted pass may still be deleting is not touched again.
        record::hold(&mut plan, held);
        // With a notice period, only what was announced long enough ago is left to delete.
        let notice = self.notice();
        let settled = match mode {
            Mode::Live if notice.is_on() => {
                // The collection changes as the storage allows deletions: a missing mount makes
                // Jellyfin drop items, which must not read as rescues.
                let allowed = health_gate.before_delete(std::time::Instant::now()).await;
                notice
                    .settle(&mut plan, state, &run_id, now, allowed)
                    .await?
            }
            _ => {
                if notice.is_on() {
                    notice.preview(&mut plan, &state.notices()?, now).await;
                }
                Settled::default()
            }
        };
        log::kept(&run_id, mode, &plan);

        systemd::progress(&format!("planning: {} to delete", plan.deletions().count()));
        if let Some(refusal) = Refusal::of(&plan, self.config.rules.max_deletions_per_run) {
            tracing::error!(
                run_id,
                files = refusal.files,
                limit = refusal.limit,
                "plan refused: {refusal}; nothing deleted"
            );
            return Ok(RunOutcome {
                run_id,
                mode,
                plan,
                report: None,
                refused: Some(refusal),
                paused: None,
                announced: settled.announced,
                drift,
            });
        }

        let add_import_exclusion: Vec<&str> = self
            .config
            .radarr
            .iter()
            .filter(|r| r.add_import_exclusion)
            .map(|r| r.name.as_str())
            .collect();
        if mode == Mode::Live {
            notice.release(&mut plan, &settled, state, &run_id).await?;
        }
        // A dry run leaves its counts with its run and its figures with its metrics, not a row
        // per would-be deletion: on a large library that would be tens of thousands every night.
        let (decisions, ids) = match mode {
            Mode::Live => {
                let (decisions, actions) = record::new_actions(&plan);
                // Seerr's cleanups go on record with their actions, in one transaction.
                let ids = state.plan_actions_with(run, &actions, Timestamp::now(), |ids| {
                    (titles.as_ref()).map_or_else(Vec::new, |t| t.cleanups(&plan, &decisions, ids))
                })?;
                (decisions, ids)
            }
            Mode::DryRun => (Vec::new(), Vec::new()),
        };
        let report = {
            let mut journal = PassJournal::new(state, &decisions, &ids);
            let journal: &mut (dyn Journal + Send) = match mode {
                Mode::Live => &mut journal,
                Mode::DryRun => &mut NoJournal,
            };
            // Dry runs delete nothing, so `apply` asks the gate only in live runs.
            apply::apply(
                &plan,
                &self.sources,
                &add_import_exclusion,
                &root_folders,
                mode,
                &run_id,
                journal,
                &mut Progress(health_gate),
            )
            .await
        };
        if mode == Mode::Live {
            let skipped = match &report.stopped {
                Some(stop) => format!("the pass stopped before reaching it: {stop}"),
                None => "not carried out".to_owned(),
            };
            state.skip_planned(run, &skipped, Timestamp::now())?;
        }
        // After the deletions, never before: Seerr's cleanup neither holds them up nor undoes
        // them, and what it cannot do now waits in the state file for the next pass.
        if let (Mode::Live, Some(client)) = (mode, &self.seerr) {
            systemd::progress("cleaning up in Seerr");
            seerr::clean(client, state, &run_id, now).await?;
        }
        Ok(RunOutcome {
            run_id,
            mode,
            plan,
            report: Some(report),
            refused: None,
            paused: None,
            announced: settled.announced,
            drift,
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
        match health_gate.full_check(std::time::Instant::now()).await.1 {
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
        self.0.before_delete(std::time::Instant::now()).await
    }

    async fn free_space(&mut self, mount: &str) -> Result<u64, String> {
        self.0.free_space(mount).await
    }
}

fn journal_mode(mode: Mode) -> state::Mode {
    match mode {
        Mode::DryRun => state::Mode::DryRun,
        Mode::Live => state::Mode::Live,
    }
}

/// The client of a configured *arr (Radarr or Sonarr, by the type asked for).
fn arr_clients<A: Arr>(
    http: &Http,
    configs: &[ArrConfig],
) -> Result<Vec<ArrClient<A>>, BuildError> {
    configs
        .iter()
        .map(|c| ArrClient::named(http, &c.name, &c.url, c.api_key.expose(), c.http.clone()))
        .collect()
}

/// A short random id that ties a pass's log lines together.
fn new_run_id() -> String {
    format!("{:016x}", fastrand::u64(..))
}

/// Hands the pages that the reading of the lists left free back to the system before the plan
/// is made. The many small records of the lists, freed between the library's own, leave the
/// heap full of holes that malloc keeps; on a large library about 1 MB of the pass's peak, which
/// the plan would otherwise come on top of.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of the allocator to the system; it touches no
    // memory in use and may be called from any thread at any time.
    unsafe {
        nix::libc::malloc_trim(0);
    }
}
