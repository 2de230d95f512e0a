//! The gate: given a health report, may a pass delete? Pure decisions; the checks are elsewhere.
//!
//! Unhealthy always pauses. Degraded depends on what is degraded: a degraded array pauses by
//! default (a rebuild should not be stressed, and a second failure loses data), low space proceeds
//! with a warning by default (deleting is how space comes back). Anything else degraded pauses:
//! when in doubt, keep.

use std::time::Duration;

use jiff::Timestamp;

use super::{Category, Finding, Health, Report};

/// What to do about a degraded finding of one category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDegraded {
    Pause,
    Proceed,
}

impl OnDegraded {
    pub fn as_str(self) -> &'static str {
        match self {
            OnDegraded::Pause => "pause",
            OnDegraded::Proceed => "proceed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatePolicy {
    pub on_degraded_array: OnDegraded,
    pub on_low_space: OnDegraded,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Go on; the warnings are degraded findings the policy lets through.
    Proceed { warnings: Vec<String> },
    /// Stop; the reason names every finding that stops it.
    Pause { reason: String },
}

impl Verdict {
    pub fn is_pause(&self) -> bool {
        matches!(self, Verdict::Pause { .. })
    }
}

fn line(f: &Finding) -> String {
    format!("{}: {}", f.check, f.detail)
}

/// Proceed or pause on `report` under `policy`.
pub fn decide(report: &Report, policy: &GatePolicy) -> Verdict {
    let mut stops = Vec::new();
    let mut warnings = Vec::new();
    for finding in report.problems() {
        let pause = match (finding.health, finding.category) {
            (Health::Ok, _) => false,
            (Health::Unhealthy, _) => true,
            (Health::Degraded, Category::Array) => policy.on_degraded_array == OnDegraded::Pause,
            (Health::Degraded, Category::Space) => policy.on_low_space == OnDegraded::Pause,
            (Health::Degraded, _) => true,
        };
        if pause {
            stops.push(line(finding));
        } else {
            warnings.push(line(finding));
        }
    }
    if stops.is_empty() {
        Verdict::Proceed { warnings }
    } else {
        Verdict::Pause {
            reason: stops.join("; "),
        }
    }
}

/// A monitor sample as the hysteresis needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub at: Timestamp,
    /// The gate paused on this sample.
    pub blocking: bool,
}

/// `require_healthy_for`: do the monitor's samples show the storage fit to delete from for the
/// whole of the last `window`? `samples` are every sample from the last one at or before
/// `now - window` on, oldest first. The newest must be at most `max_age` old, so a dead monitor
/// does not vouch for the present. `Err` says why not.
pub fn healthy_for(
    samples: &[Sample],
    now: Timestamp,
    window: Duration,
    max_age: Duration,
) -> Result<(), String> {
    let window_text = humantime::format_duration(window);
    let start = jiff::SignedDuration::try_from(window)
        .ok()
        .and_then(|w| now.checked_sub(w).ok())
        .unwrap_or(Timestamp::MIN);
    let Some(first) = samples.first() else {
        return Err(format!(
            "require_healthy_for = {window_text}, and the monitor has recorded no health samples \
             (is `shelflife monitor` running?)"
        ));
    };
    if first.at > start {
        return Err(format!(
            "require_healthy_for = {window_text}, and the monitor's samples only reach back to {}",
            first.at
        ));
    }
    if let Some(blocking) = samples.iter().rev().find(|s| s.blocking) {
        return Err(format!(
            "require_healthy_for = {window_text}, and the storage was unfit to delete from at {}",
            blocking.at
        ));
    }
    let newest = samples.last().map_or(first.at, |s| s.at);
    let age = now.duration_since(newest);
    if age > jiff::SignedDuration::try_from(max_age).unwrap_or(jiff::SignedDuration::MAX) {
        return Err(format!(
            "require_healthy_for = {window_text}, and the newest health sample is from {newest}: \
             is `shelflife monitor` running?"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(findings: &[(Category, Health)]) -> Report {
        Report {
            findings: findings
                .iter()
                .map(|(c, h)| Finding::new(*c, format!("{c:?}"), *h, h.as_str()))
                .collect(),
        }
    }

    #[test]
    fn unhealthy_always_pauses() {
        let policy = GatePolicy {
            on_degraded_array: OnDegraded::Proceed,
            on_low_space: OnDegraded::Proceed,
        };
        for category in [
            Category::Mount,
            Category::Space,
            Category::Array,
            Category::Server,
        ] {
            let verdict = decide(&report(&[(category, Health::Unhealthy)]), &policy);
            assert!(verdict.is_pause(), "{category:?}");
        }
    }

    #[test]
    fn degraded_follows_the_policy_per_category() {
        let default = GatePolicy::default();
        let array = report(&[(Category::Array, Health::Degraded)]);
        let space = report(&[(Category::Space, Health::Degraded)]);
        assert!(decide(&array, &default).is_pause());
        match decide(&space, &default) {
            Verdict::Proceed { warnings } => assert_eq!(warnings, ["Space: degraded"]),
            other => panic!("{other:?}"),
        }
        let flipped = GatePolicy {
            on_degraded_array: OnDegraded::Proceed,
            on_low_space: OnDegraded::Pause,
        };
        assert!(!decide(&array, &flipped).is_pause());
        assert!(decide(&space, &flipped).is_pause());
        // Degraded in a category without a policy: keep.
        assert!(decide(&report(&[(Category::Network, Health::Degraded)]), &flipped).is_pause());
    }

    #[test]
    fn the_pause_reason_names_every_stopping_finding() {
        let verdict = decide(
            &report(&[
                (Category::Mount, Health::Unhealthy),
                (Category::Space, Health::Degraded),
                (Category::Array, Health::Degraded),
                (Category::State, Health::Ok),
            ]),
            &GatePolicy::default(),
        );
        assert_eq!(
            verdict,
            Verdict::Pause {
                reason: "Mount: unhealthy; Array: degraded".into()
            }
        );
    }

    fn at(minutes_ago: i64, now: Timestamp, blocking: bool) -> Sample {
        Sample {
            at: now - jiff::SignedDuration::from_mins(minutes_ago),
            blocking,
        }
    }

    #[test]
    fn hysteresis_needs_a_clean_covered_window() {
        let now: Timestamp = "2026-11-23T03:00:00Z".parse().expect("timestamp");
        let window = Duration::from_secs(600);
        let max_age = Duration::from_secs(120);
        let check = |s: &[Sample]| healthy_for(s, now, window, max_age);

        let clean: Vec<Sample> = (0..=11).rev().map(|m| at(m, now, false)).collect();
        assert_eq!(check(&clean), Ok(()));

        let err = check(&[]).expect_err("no samples");
        assert!(err.contains("no health samples"), "{err}");

        let late_start: Vec<Sample> = (0..=5).rev().map(|m| at(m, now, false)).collect();
        let err = check(&late_start).expect_err("window not covered");
        assert!(err.contains("only reach back"), "{err}");

        let mut blip = clean.clone();
        blip[6].blocking = true;
        let err = check(&blip).expect_err("unfit inside the window");
        assert!(err.contains("unfit"), "{err}");

        let stale: Vec<Sample> = (5..=15).rev().map(|m| at(m, now, false)).collect();
        let err = check(&stale).expect_err("monitor stopped 5 minutes ago");
        assert!(err.contains("newest health sample"), "{err}");
    }
}
