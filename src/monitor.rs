//! `shelflife monitor`: the health checks on a loop, for a `Type=notify` service with a watchdog.
//!
//! Each round runs every check, records a sample (and each check whose health changed) in the
//! state file, and tells systemd a one-line status. `READY=1` follows the first round, so a unit
//! ordered after the monitor starts once health is known. The loop beats a [`Heartbeat`] as a
//! round starts, as it ends, and while it waits; the watchdog pinger stops when the beats stop.
//! A round has its own deadline well inside the watchdog interval: a hung mount is a finding,
//! not a wedge.

use std::future::Future;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::clients::Sources;
use crate::config::Config;
use crate::health::{self, gate, Category, Finding, Health, Report};
use crate::state::health::{transitions, SampleRow};
use crate::state::State;
use crate::systemd::{self, Heartbeat, NotifyState};

/// How often the loop beats while it waits for the next round.
const BEAT_EVERY: Duration = Duration::from_secs(1);
/// Without a watchdog to fit inside, a round may take the slowest request and this much more.
const ROUND_SLACK: Duration = Duration::from_secs(30);

/// What one round found, for the caller and the tests.
#[derive(Debug)]
pub struct Round {
    pub report: Report,
    pub blocking: bool,
}

/// Runs rounds every `config.health.interval` until `shutdown` resolves. `watchdog` is systemd's
/// interval, when it expects pings: a round is cut off at half of it.
pub async fn run(
    config: &Config,
    sources: &Sources,
    state: &mut State,
    heartbeat: &Heartbeat,
    watchdog: Option<Duration>,
    shutdown: impl Future<Output = ()>,
) {
    let slowest = config.longest_request();
    let deadline = watchdog.map_or(slowest + ROUND_SLACK, |w| w / 2);
    if slowest > deadline {
        tracing::warn!(
            "a round is cut off after {} (half of WatchdogSec=), but one request may take {} \
             with its retries: a slow server will show as checks that did not finish; \
             raise WatchdogSec= above {}",
            humantime::format_duration(deadline),
            humantime::format_duration(slowest),
            humantime::format_duration(slowest * 2)
        );
    }
    let mut last = state.last_check_health().unwrap_or_else(|err| {
        tracing::warn!("cannot read the last health of each check: {err}");
        Default::default()
    });
    let mut first = true;
    tokio::pin!(shutdown);
    loop {
        heartbeat.beat(Instant::now());
        let round = tokio::select! {
            round = one_round(config, sources, deadline) => round,
            () = &mut shutdown => break,
        };
        heartbeat.beat(Instant::now());
        record(state, &round, &mut last);
        let pass = crate::metrics::stored_pass(state);
        crate::metrics::write_configured(
            config,
            pass.as_ref(),
            Some(&round.report),
            Timestamp::now(),
        );
        let status = format!(
            "{}{}",
            round.report.summary(),
            if round.blocking {
                " (a pass would pause)"
            } else {
                ""
            }
        );
        if first {
            systemd::notify(&[NotifyState::Ready, NotifyState::Status(&status)]);
            first = false;
        } else {
            systemd::status(&status);
        }
        let next = tokio::time::Instant::now() + config.health.interval;
        loop {
            heartbeat.beat(Instant::now());
            let nap = next
                .saturating_duration_since(tokio::time::Instant::now())
                .min(BEAT_EVERY);
            if nap.is_zero() {
                break;
            }
            tokio::select! {
                () = tokio::time::sleep(nap) => {}
                () = &mut shutdown => {
                    systemd::notify(&[NotifyState::Stopping]);
                    return;
                }
            }
        }
    }
    systemd::notify(&[NotifyState::Stopping]);
}

/// Every check, cut off at `deadline`.
pub async fn one_round(config: &Config, sources: &Sources, deadline: Duration) -> Round {
    let checks = health::check_all(&config.health, &config.state.path, sources);
    let report = match tokio::time::timeout(deadline, checks).await {
        Ok(report) => report,
        Err(_) => Report {
            findings: vec![Finding::new(
                Category::State,
                "health checks",
                Health::Unhealthy,
                format!(
                    "the checks did not finish within {}",
                    humantime::format_duration(deadline)
                ),
            )],
        },
    };
    let blocking = gate::decide(&report, &config.health.policy).is_pause();
    Round { report, blocking }
}

/// Logs what changed and stores the sample. A state file that cannot take it is logged and the
/// loop goes on: the checks matter more than their record, and a pass that requires the record
/// (`require_healthy_for`) will see the gap and pause.
fn record(state: &mut State, round: &Round, last: &mut std::collections::HashMap<String, Health>) {
    let changes = transitions(last, &round.report.findings);
    for change in &changes {
        let line = format!(
            "{}: {} → {}: {}",
            change.check,
            change.before.map_or("new", Health::as_str),
            change.after.as_str(),
            change.detail
        );
        let (check, health) = (&change.check, change.after.as_str());
        if change.after > change.before.unwrap_or(Health::Ok) {
            tracing::warn!(check, health, "{line}");
        } else {
            tracing::info!(check, health, "{line}");
        }
    }
    let sample = SampleRow {
        at: Timestamp::now(),
        overall: round.report.overall(),
        blocking: round.blocking,
        summary: round.report.summary(),
    };
    match state.record_health(&sample, &changes) {
        Ok(()) => {
            for change in changes {
                last.insert(change.check, change.after);
            }
        }
        Err(err) => tracing::error!("cannot record the health sample: {err}"),
    }
}
