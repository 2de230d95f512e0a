//! What people read: the plan table, the pass summary, byte sizes.
//!
//! Pure formatting; the CLI prints the strings.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write;

use crate::apply::{Mode, Outcome};
use crate::library::{audio_label, quality_label, Channels};
use crate::outcome::{Preview, RunOutcome};
use crate::plan::{Decision, Plan, SpaceBudget, Verdict};
use crate::state::{
    ActionRow, HistoryRow, LostMedia, NoticeEventRow, NoticeRow, NoticeState, RunRow, TargetKey,
};
use crate::units::format_bytes;

/// `title` as text output shows it: with the *arr instance in brackets (`Dune (2021) [4k]`)
/// unless the instance is named after its service, as a single `[radarr]` table's is.
fn titled<'a>(title: &'a str, default_instance: bool, instance: &str) -> Cow<'a, str> {
    if default_instance {
        Cow::Borrowed(title)
    } else {
        Cow::Owned(format!("{title} [{instance}]"))
    }
}

fn decision_title(d: &Decision) -> String {
    let title = d.title.to_string();
    titled(&title, d.target.has_default_instance(), d.target.instance()).into_owned()
}

fn key_title<'a>(title: &'a str, key: &TargetKey) -> Cow<'a, str> {
    titled(
        title,
        key.instance() == key.service().as_str(),
        key.instance(),
    )
}

/// The plan as a table: one line per decision (deletions first), then unmatched items, then totals.
pub fn plan_table(plan: &Plan) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_plan_table(&mut out, plan);
    out
}

/// [`plan_table`], written line by line to `out`: a plan of tens of thousands of decisions is
/// printed without being held as text.
pub fn write_plan_table(out: &mut impl Write, plan: &Plan) -> std::fmt::Result {
    let title_width = plan
        .decisions
        .iter()
        .map(|d| decision_title(d).chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 60);
    writeln!(
        out,
        "{:<6}  {:<7}  {:>8}  {:<title_width$}  REASON",
        "ACTION", "KIND", "SIZE", "TITLE"
    )?;
    for d in &plan.decisions {
        let size = if d.bytes > 0 {
            format_bytes(d.bytes)
        } else {
            "-".to_string()
        };
        writeln!(
            out,
            "{:<6}  {:<7}  {:>8}  {:<title_width$}  {}",
            d.verdict.as_str(),
            d.kind.as_str(),
            size,
            truncate(&decision_title(d), title_width),
            d.reason
        )?;
    }
    for u in &plan.unmatched {
        writeln!(
            out,
            "{:<6}  {:<7}  {:>8}  {:<title_width$}  unmatched: {}",
            "keep",
            u.kind.to_lowercase(),
            "-",
            truncate(&u.title, title_width),
            u.why
        )?;
    }
    writeln!(out)?;
    for low in &plan.low_space {
        writeln!(out, "low space: {low}")?;
    }
    for budget in &plan.space {
        writeln!(out, "{}", space_line(budget))?;
    }
    if plan.space_elsewhere > 0 {
        writeln!(
            out,
            "space: {} on no mount kept at a target, deleted as always",
            count(plan.space_elsewhere, "deletion")
        )?;
    }
    writeln!(out, "{}", plan_totals(plan))
}

/// What a plan takes from a mount kept at a free-space target.
fn space_line(b: &SpaceBudget) -> String {
    let mut line = format!(
        "space: {} at {:.1} % free ({} of {}), target {:.1} % ({})",
        b.mount,
        b.free_percent(),
        format_bytes(b.free_bytes),
        format_bytes(b.total_bytes),
        b.target_percent(),
        format_bytes(b.target_bytes)
    );
    if b.needed_bytes == 0 {
        line.push_str(": above it, nothing goes for space");
    } else {
        let _ = write!(
            line,
            ": {} free {} of the {} needed",
            count(b.planned, "deletion"),
            format_bytes(b.planned_bytes),
            format_bytes(b.needed_bytes)
        );
    }
    if b.spared > 0 {
        let _ = write!(line, "; {} not needed", b.spared);
    }
    if b.frees_nothing > 0 {
        let _ = write!(
            line,
            "; {} would free nothing (other hard links)",
            b.frees_nothing
        );
    }
    line
}

/// What the last pass did on one mount kept at a free-space target, as `status` shows it.
pub struct SpaceLine<'a> {
    pub mount: &'a str,
    pub free_after: u64,
    pub target: u64,
    pub freed: u64,
    /// Why nothing more is deleted there, when deleting stopped freeing space.
    pub frees_nothing: Option<&'a str>,
}

/// `status`'s lines about the mounts kept at a free-space target.
pub fn space_status<'a>(lines: impl IntoIterator<Item = SpaceLine<'a>>) -> String {
    let mut out = String::new();
    for m in lines {
        let _ = write!(
            out,
            "Space {}: {} free after the last pass (target {}), {} given back",
            m.mount,
            format_bytes(m.free_after),
            format_bytes(m.target),
            format_bytes(m.freed)
        );
        match m.frees_nothing {
            Some(why) => {
                let _ = writeln!(out, "; nothing more is deleted there for space: {why}");
            }
            None => out.push('\n'),
        }
    }
    out
}

/// `plan`'s text: the table, then what `run` would do differently from a fresh plan.
pub fn preview_text(preview: &Preview) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_preview(&mut out, preview);
    out
}

/// [`preview_text`], written line by line to `out`.
pub fn write_preview(out: &mut impl Write, preview: &Preview) -> std::fmt::Result {
    write_plan_table(out, &preview.plan)?;
    if !preview.done_before.is_empty() {
        writeln!(
            out,
            "left out: {} already made by an earlier pass",
            count(preview.done_before.len(), "deletion")
        )?;
    }
    if let Some(refusal) = &preview.refused {
        writeln!(out, "note: `run` would refuse this plan: {refusal}")?;
    }
    Ok(())
}

/// An [`std::io::Write`] as a [`std::fmt::Write`], keeping the I/O error that a `fmt::Error`
/// cannot carry.
pub struct IoText<W: std::io::Write> {
    inner: W,
    error: Option<std::io::Error>,
}

impl<W: std::io::Write> IoText<W> {
    pub fn new(inner: W) -> Self {
        IoText { inner, error: None }
    }

    /// Flushes, and says what went wrong, if anything did.
    pub fn finish(mut self, written: std::fmt::Result) -> std::io::Result<()> {
        if let Some(err) = self.error.take() {
            return Err(err);
        }
        written.map_err(|_| std::io::Error::other("formatting failed"))?;
        self.inner.flush()
    }
}

impl<W: std::io::Write> Write for IoText<W> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.inner.write_all(s.as_bytes()).map_err(|err| {
            self.error = Some(err);
            std::fmt::Error
        })
    }
}

/// One line of totals: `3 to delete (12 GB in 21 files), 5 kept, 1 unmatched, 140 not watched`.
pub fn plan_totals(plan: &Plan) -> String {
    let deletions = plan.deletions().count();
    let kept = plan.kept().count();
    format!(
        "{deletions} to delete ({} in {}), {kept} kept, {} unmatched, not watched: {}, {}",
        format_bytes(plan.bytes_to_delete()),
        count(plan.files_to_delete(), "file"),
        plan.unmatched.len(),
        count(plan.unwatched.movies, "movie"),
        count(plan.unwatched.episodes, "episode"),
    )
}

/// Kept decisions counted by reason code, e.g. `{"keep_tag": 2, "within_grace": 5}`.
pub fn kept_by_reason(plan: &Plan) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for d in plan.decisions.iter().filter(|d| d.verdict == Verdict::Keep) {
        *counts.entry(d.reason.code()).or_insert(0) += 1;
    }
    if !plan.unmatched.is_empty() {
        counts.insert("unmatched", plan.unmatched.len());
    }
    counts
}

/// `1 file`, `3 files`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// What a dry run found: it records no actions, only its counts and figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DryRun {
    pub at: jiff::Timestamp,
    pub run_key: String,
    /// Deletions its plan held.
    pub items: u64,
    /// Their bytes, when the run's figures could be read.
    pub bytes: Option<u64>,
}

impl DryRun {
    fn would(&self) -> String {
        match self.bytes {
            Some(b) => format!("would delete {} items, {}", self.items, format_bytes(b)),
            None => format!("would delete {} items", self.items),
        }
    }
}

/// `status` of a last pass that was a dry run: what it would have deleted.
pub fn dry_run_status(dry: &DryRun) -> String {
    format!("  {} (a dry run deletes nothing)\n", dry.would())
}

/// `status`: the last pass and what is still pending.
pub fn status_text(
    last: Option<&RunRow>,
    pending: &[ActionRow],
    health: Option<&crate::state::health::SampleRow>,
) -> String {
    let mut out = String::new();
    if let Some(sample) = health {
        let _ = writeln!(
            out,
            "Storage (monitor, {}): {}{}",
            short_time(sample.at),
            sample.summary,
            if sample.blocking {
                "; a pass would pause"
            } else {
                ""
            }
        );
    }
    let Some(run) = last else {
        out.push_str("No pass recorded yet.\n");
        return out;
    };
    let outcome = match run.outcome {
        Some(outcome) => outcome.as_str(),
        None => "not finished (running now, or interrupted: the next pass settles it)",
    };
    let _ = writeln!(out, "Last pass {} ({}): {outcome}", run.run_key, run.mode);
    let _ = write!(out, "  started  {}", short_time(run.started_at));
    if let Some(finished) = run.finished_at {
        let took = finished.as_second() - run.started_at.as_second();
        let _ = write!(out, ", finished {} ({took} s)", short_time(finished));
    }
    out.push('\n');
    if let Some(reason) = &run.reason {
        let _ = writeln!(out, "  reason   {reason}");
    }
    let c = run.counts;
    let _ = writeln!(
        out,
        "  planned {}, deleted {}, failed {}, kept {}, reclaimed {}",
        c.planned,
        c.deleted,
        c.failed,
        c.kept,
        format_bytes(c.bytes_deleted)
    );
    if pending.is_empty() {
        out.push_str("No actions pending.\n");
    } else {
        let _ = writeln!(out, "{} actions pending:", pending.len());
        for a in pending {
            // A started action's note says why it is still open (in doubt, not yet settled).
            let note = a
                .error
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<8} {:<8} {} (pass {}){note}",
                a.state,
                a.target.kind(),
                key_title(&a.title, &a.target),
                a.run_key
            );
        }
    }
    out
}

/// `status` with a notice period: what is leaving and when (dates in `tz`), soonest first,
/// and what was taken out of Leaving Soon by hand.
pub fn leaving_soon_status(rows: &[NoticeRow], tz: &jiff::tz::TimeZone) -> String {
    let mut out = String::new();
    let leaving: Vec<&NoticeRow> = rows
        .iter()
        .filter(|r| r.state != NoticeState::Kept)
        .collect();
    if !leaving.is_empty() {
        let total: u64 = leaving.iter().map(|r| r.bytes).sum();
        let _ = writeln!(
            out,
            "Leaving soon: {} items, {}",
            leaving.len(),
            format_bytes(total)
        );
        for r in leaving {
            let _ = writeln!(
                out,
                "  {}  {:<7}  {:>7}  {}",
                r.due_at.to_zoned(tz.clone()).date(),
                r.target.kind(),
                format_bytes(r.bytes),
                key_title(&r.title, &r.target)
            );
        }
    }
    for r in rows.iter().filter(|r| r.state == NoticeState::Kept) {
        let _ = writeln!(
            out,
            "Kept: {} ({})",
            key_title(&r.title, &r.target),
            r.kept_reason.as_deref().unwrap_or("kept")
        );
    }
    out
}

/// `history` with the notice period's events: the deletions, and below them what was
/// scheduled and rescued, each newest first.
pub fn history_with_notices(
    rows: &[HistoryRow],
    events: &[NoticeEventRow],
    dry_runs: &[DryRun],
) -> String {
    let mut out = history_table(rows);
    if !dry_runs.is_empty() {
        let _ = writeln!(out, "\nDry runs (nothing deleted):");
        for d in dry_runs {
            let _ = writeln!(
                out,
                "{}  {}  (pass {})",
                short_time(d.at),
                d.would(),
                d.run_key
            );
        }
    }
    if events.is_empty() {
        return out;
    }
    let width = (events.iter())
        .map(|e| key_title(&e.title, &e.target).chars().count())
        .max()
        .unwrap_or(0);
    let _ = writeln!(out, "\nLeaving Soon:");
    for e in events {
        let _ = writeln!(
            out,
            "{}  {:<9}  {:<7}  {:>7}  {:<width$}  {}",
            short_time(e.at),
            e.event.as_str(),
            e.target.kind(),
            format_bytes(e.bytes),
            key_title(&e.title, &e.target),
            match e.event {
                crate::state::NoticeEvent::Scheduled => format!("goes on {}", e.detail),
                crate::state::NoticeEvent::Rescued => e.detail.clone(),
            }
        );
    }
    out
}

/// `history --json` with the notice period's events: the deletions (`"event": "deleted"`),
/// the dry runs (`"dry_run"`: what each would have deleted), then what was scheduled (`detail`:
/// the due date) and rescued (`detail`: why), each newest first.
pub fn history_json_with_notices(
    rows: &[HistoryRow],
    events: &[NoticeEventRow],
    dry_runs: &[DryRun],
) -> serde_json::Result<String> {
    let mut all: Vec<serde_json::Value> = rows.iter().map(history_value).collect();
    all.extend(dry_runs.iter().map(|d| {
        serde_json::json!({
            "event": "dry_run",
            "at": d.at.to_string(),
            "run_id": d.run_key,
            "would_delete": d.items,
            "bytes": d.bytes,
        })
    }));
    all.extend(events.iter().map(|e| {
        serde_json::json!({
            "event": e.event.as_str(),
            "at": e.at.to_string(),
            "run_id": e.run_key,
            "service": e.target.service().as_str(),
            "instance": e.target.instance(),
            "kind": e.target.kind().as_str(),
            "arr_id": e.target.target_id(),
            "title": e.title,
            "detail": e.detail,
            "bytes": e.bytes,
        })
    }));
    serde_json::to_string_pretty(&all)
}

fn history_value(r: &HistoryRow) -> serde_json::Value {
    let mut value = serde_json::json!({
        "event": "deleted",
        "deleted_at": r.deleted_at.to_string(),
        "run_id": r.run_key,
        "service": r.target.service().as_str(),
        "instance": r.target.instance(),
        "kind": r.target.kind().as_str(),
        "arr_id": r.target.target_id(),
        "title": r.title,
        "reason": r.reason,
        "bytes": r.bytes,
        // What the file was; null where the *arr did not say (and for deletions recorded
        // before shelflife kept it).
        "quality": r.lost.quality,
        "resolution": r.lost.resolution,
        "video_resolution": r.lost.video_resolution,
        "audio_codec": r.lost.audio_codec,
        "audio_channels": r.lost.audio_channels,
        "lossless": r.lost.lossless,
    });
    // Seerr's cleanup, where there is one: `waiting`, `cleaned`, `not_found` or `failed`.
    if let (Some(seerr), Some(map)) = (&r.seerr, value.as_object_mut()) {
        map.insert("seerr".to_owned(), seerr.as_str().into());
        map.insert(
            "seerr_detail".to_owned(),
            r.seerr_detail
                .as_deref()
                .map_or(serde_json::Value::Null, Into::into),
        );
    }
    value
}

/// Seerr's cleanup of a deletion, as `history` shows it after the reason.
fn seerr_note(r: &HistoryRow) -> String {
    match r.seerr.as_deref() {
        None => String::new(),
        Some("waiting") => match &r.seerr_detail {
            Some(last) => format!("  (seerr: waiting; last try: {last})"),
            None => "  (seerr: waiting)".to_owned(),
        },
        Some("not_found") => "  (seerr: not found)".to_owned(),
        Some(state) => format!("  (seerr: {state})"),
    }
}

/// What a deletion took away, in one line: `Dune (2021) · 2160p Remux · TrueHD Atmos 7.1 ·
/// 64 GB · lossless`. The quality and the audio where the *arr told them; `lossless` marks a
/// track a lossy download could not bring back.
pub fn what_was_lost(title: &str, bytes: u64, lost: &LostMedia) -> String {
    let quality = quality_label(lost.quality.as_deref(), lost.resolution.map(i64::from));
    let channels = lost.audio_channels.and_then(Channels::from_f64);
    let audio = audio_label(lost.audio_codec.as_deref(), channels);
    let size = format_bytes(bytes);
    let lossless = (lost.lossless == Some(true)).then_some("lossless");
    let parts = [
        Some(title),
        quality.as_deref(),
        audio.as_deref(),
        Some(&*size),
        lossless,
    ];
    parts.into_iter().flatten().collect::<Vec<_>>().join(" · ")
}

/// `history`: one line per deletion, newest first, saying what it took away and why.
pub fn history_table(rows: &[HistoryRow]) -> String {
    if rows.is_empty() {
        return "Nothing deleted in that time.\n".to_owned();
    }
    let lost: Vec<String> = rows
        .iter()
        .map(|r| what_was_lost(&key_title(&r.title, &r.target), r.bytes, &r.lost))
        .collect();
    let width = lost.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    let mut total = 0;
    for (r, lost) in rows.iter().zip(&lost) {
        total += r.bytes;
        let _ = writeln!(
            out,
            "{}  {:<7}  {lost:<width$}  {}{}",
            short_time(r.deleted_at),
            r.target.kind().as_str(),
            r.reason,
            seerr_note(r)
        );
    }
    let _ = writeln!(
        out,
        "\n{} deletions, {} reclaimed",
        rows.len(),
        format_bytes(total)
    );
    out
}

/// `history --json`: an array of deletions, newest first.
pub fn history_json(rows: &[HistoryRow]) -> serde_json::Result<String> {
    history_json_with_notices(rows, &[], &[])
}

/// UTC to the minute: `2026-11-23 03:00`.
fn short_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M").to_string()
}

/// The plan as JSON for scripts: the [`Plan`] fields, with each reason also given as the
/// sentence the table shows (`reason.text`) next to its stable `code`, and what each file is
/// (`quality`, `resolution`, `video_resolution`, `audio_codec`, `audio_channels`, `lossless`,
/// where the *arr told them).
pub fn plan_json(plan: &Plan) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&PlanJson(plan))
}

/// [`plan_json`], written to `out` as it is serialized: a plan of tens of thousands of
/// decisions is never held whole as JSON.
pub fn write_plan_json(out: impl std::io::Write, plan: &Plan) -> serde_json::Result<()> {
    serde_json::to_writer_pretty(out, &PlanJson(plan))
}

/// The plan as `plan --json` shows it: as it serializes itself, each decision's reason with its
/// `text` added.
struct PlanJson<'a>(&'a Plan);

impl serde::Serialize for PlanJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeMap};
        let plan = self.0;
        // Everything but the decisions is small: serialized as the plan would be.
        let rest = Plan {
            decisions: Vec::new(),
            unmatched: plan.unmatched.clone(),
            unwatched: plan.unwatched,
            low_space: plan.low_space.clone(),
            space: plan.space.clone(),
            space_elsewhere: plan.space_elsewhere,
            // Not serialized: the decisions' qualities are written with them.
            qualities: Default::default(),
        };
        let value = serde_json::to_value(&rest).map_err(S::Error::custom)?;
        let fields = value
            .as_object()
            .ok_or_else(|| S::Error::custom("a plan serializes as an object"))?;
        let mut map = serializer.serialize_map(Some(fields.len()))?;
        for (key, field) in fields {
            if key == "decisions" {
                map.serialize_entry(key, &Decisions(plan))?;
            } else {
                map.serialize_entry(key, field)?;
            }
        }
        map.end()
    }
}

struct Decisions<'a>(&'a Plan);

impl serde::Serialize for Decisions<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let plan = self.0;
        serializer.collect_seq(plan.decisions.iter().map(|d| DecisionJson(d, plan)))
    }
}

/// One decision of a plan, its reason with its text and its file's quality: built as a value one
/// decision at a time.
struct DecisionJson<'a>(&'a Decision, &'a Plan);

impl serde::Serialize for DecisionJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        let mut value = serde_json::to_value(self.0).map_err(S::Error::custom)?;
        if let Some(reason) = value
            .get_mut("reason")
            .and_then(serde_json::Value::as_object_mut)
        {
            reason.insert("text".into(), self.0.reason.to_string().into());
        }
        let quality = serde_json::to_value(self.0.quality(self.1)).map_err(S::Error::custom)?;
        if let (Some(map), serde_json::Value::Object(fields)) = (value.as_object_mut(), quality) {
            map.extend(fields);
        }
        value.serialize(serializer)
    }
}

/// `check --json`: the verdict, the exit code it maps to, and every finding.
pub fn check_json(report: &crate::health::Report, warnings: &[String]) -> serde_json::Value {
    serde_json::json!({
        "overall": report.overall(),
        "exit_code": report.exit().code(),
        "findings": report.findings,
        "warnings": warnings,
    })
}

/// One line: watched / eligible / kept / deleted / failed / reclaimed.
pub fn run_summary_line(run: &RunOutcome) -> String {
    let watched = run.plan.decisions.len() + run.plan.unmatched.len();
    let eligible = run.plan.deletions().count();
    let kept = run.plan.kept().count() + run.plan.unmatched.len();
    let (done, failed, reclaimed) = match &run.report {
        Some(r) => {
            let done_bytes: u64 = r
                .outcomes
                .iter()
                .filter(|(_, o)| matches!(o, Outcome::Deleted | Outcome::WouldDelete))
                .map(|(i, _)| run.plan.decisions[*i].bytes)
                .sum();
            (
                r.count(|o| matches!(o, Outcome::Deleted | Outcome::WouldDelete)),
                r.count(Outcome::is_failure),
                done_bytes,
            )
        }
        None => (0, 0, 0),
    };
    let (deleted_word, reclaimed_word) = match run.mode {
        Mode::DryRun => ("would delete", "would reclaim"),
        Mode::Live => ("deleted", "reclaimed"),
    };
    format!(
        "watched {watched}, eligible {eligible}, kept {kept}, {deleted_word} {done}, failed {failed}, {reclaimed_word} {}",
        format_bytes(reclaimed)
    )
}

/// The end-of-pass report people read: the summary, kept by reason, and why it stopped.
pub fn run_summary(run: &RunOutcome) -> String {
    let mut out = String::new();
    if let Some(reason) = &run.paused {
        let _ = writeln!(
            out,
            "{} pass {}: paused before planning; nothing was deleted\npaused: the storage is not healthy: {reason}",
            match run.mode {
                Mode::DryRun => "Dry-run",
                Mode::Live => "Live",
            },
            run.run_id
        );
        return out;
    }
    let _ = writeln!(
        out,
        "{} pass {}: {}",
        match run.mode {
            Mode::DryRun => "Dry-run",
            Mode::Live => "Live",
        },
        run.run_id,
        run_summary_line(run)
    );
    let by_reason = kept_by_reason(&run.plan);
    if !by_reason.is_empty() {
        let parts: Vec<String> = by_reason.iter().map(|(r, n)| format!("{r} {n}")).collect();
        let _ = writeln!(out, "kept by reason: {}", parts.join(", "));
    }
    if let Some(refusal) = &run.refused {
        let _ = writeln!(out, "refused: {refusal}; nothing was deleted");
    }
    if let Some(report) = &run.report {
        for (i, outcome) in &report.outcomes {
            let d = &run.plan.decisions[*i];
            match outcome {
                Outcome::Failed(err) => {
                    let _ = writeln!(out, "failed: {} {}: {err}", d.kind, decision_title(d));
                }
                Outcome::InDoubt(why) => {
                    let _ = writeln!(out, "in doubt: {} {}: {why}", d.kind, decision_title(d));
                }
                Outcome::Changed(why) => {
                    let _ = writeln!(
                        out,
                        "left for the next pass: {} {}: {why}",
                        d.kind,
                        decision_title(d)
                    );
                }
                _ => {}
            }
        }
        for space in &report.space {
            if let Some(why) = &space.left {
                let left = report.count(|o| matches!(o, Outcome::Unneeded(w) if w == why));
                let _ = writeln!(out, "space: {why}; {} left", count(left, "deletion"));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::Unmatched;
    use crate::plan::{Decision, Kind, Reason, Target};

    fn decision(verdict: Verdict, title: &str, bytes: u64, reason: Reason) -> Decision {
        Decision {
            verdict,
            kind: Kind::Movie,
            title: title.into(),
            target: Target::Radarr {
                instance: "radarr".into(),
                movie_id: 1,
            },
            bytes,
            reason,
            watched_at: crate::plan::LastPlay::NONE,
            jellyfin_id: None,
            quality: Default::default(),
        }
    }

    #[test]
    fn table_lists_every_decision_with_reason_and_totals() {
        let plan = Plan {
            decisions: vec![
                decision(
                    Verdict::Delete,
                    "The Matrix (1999)",
                    8_100_000_000,
                    Reason::Watched { days_ago: 12 },
                ),
                decision(
                    Verdict::Keep,
                    "Heat (1995)",
                    0,
                    Reason::KeepTag { tag: "keep".into() },
                ),
            ],
            unmatched: vec![Unmatched {
                kind: "Movie".into(),
                title: "Home Video".into(),
                path: None,
                why: "no Radarr movie with tmdb 1".into(),
            }],
            unwatched: Default::default(),
            low_space: vec![crate::plan::LowSpace {
                mount: "/srv/media".into(),
                free_percent: 9.25,
                grace_days: 3,
            }],
            space: Vec::new(),
            space_elsewhere: 0,
            qualities: Default::default(),
        };
        let table = plan_table(&plan);
        assert!(
            table.contains("low space: /srv/media is at 9.2 % free: its files go 3 days after"),
            "{table}"
        );
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("ACTION"));
        assert!(lines[1].contains("delete") && lines[1].contains("The Matrix (1999)"));
        assert!(lines[1].contains("8.1 GB") && lines[1].contains("watched 12 days ago"));
        assert!(lines[2].contains("keep") && lines[2].contains("keep tag \"keep\""));
        assert!(lines[3].contains("unmatched: no Radarr movie with tmdb 1"));
        assert!(table.contains("1 to delete (8.1 GB in 1 file), 1 kept, 1 unmatched, not watched: 0 movies, 0 episodes"));
        let by_reason = kept_by_reason(&plan);
        assert_eq!(by_reason.get("keep_tag"), Some(&1));
        assert_eq!(by_reason.get("unmatched"), Some(&1));
    }

    #[test]
    fn what_was_lost_says_quality_audio_size_and_lossless() {
        let gb64 = 64_000_000_000;
        assert_eq!(
            what_was_lost("Dune (2021)", gb64, &LostMedia::truehd_remux()),
            "Dune (2021) · 2160p Remux · TrueHD Atmos 7.1 · 64 GB · lossless"
        );
        let lossy = LostMedia {
            quality: Some("WEBDL-1080p".into()),
            audio_codec: Some("EAC3 Atmos".into()),
            audio_channels: Some(5.1),
            lossless: Some(false),
            ..LostMedia::default()
        };
        assert_eq!(
            what_was_lost("Dark S01", 9_000_000_000, &lossy),
            "Dark S01 · 1080p WEBDL · EAC3 Atmos 5.1 · 9.0 GB"
        );
        let resolution_only = LostMedia {
            resolution: Some(720),
            ..LostMedia::default()
        };
        assert_eq!(
            what_was_lost("Heat (1995)", 1_500_000_000, &resolution_only),
            "Heat (1995) · 720p · 1.5 GB"
        );
        assert_eq!(
            what_was_lost("Heat (1995)", 1_500_000_000, &LostMedia::default()),
            "Heat (1995) · 1.5 GB"
        );
    }

    fn row(title: &str, key: TargetKey, lost: LostMedia) -> HistoryRow {
        HistoryRow {
            action_id: crate::state::ActionId(1),
            run_key: "r1".into(),
            deleted_at: "2026-11-23T03:00:00Z".parse().unwrap(),
            target: key,
            title: title.into(),
            reason: "watched 12 days ago".into(),
            bytes: 64_000_000_000,
            seerr: None,
            seerr_detail: None,
            lost,
        }
    }

    #[test]
    fn history_shows_what_each_deletion_took_away() {
        let rows = [
            row(
                "Dune (2021)",
                TargetKey::radarr_movie(1).on("4k"),
                LostMedia::truehd_remux(),
            ),
            row(
                "Heat (1995)",
                TargetKey::radarr_movie(2),
                LostMedia::default(),
            ),
        ];
        let table = history_table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "2026-11-23 03:00  movie    Dune (2021) [4k] · 2160p Remux · TrueHD Atmos 7.1 · 64 GB \
             · lossless  watched 12 days ago"
        );
        assert!(lines[1].starts_with("2026-11-23 03:00  movie    Heat (1995) · 64 GB   "));
        // The reasons line up: both lines end in the same one.
        assert!(lines[1].ends_with("  watched 12 days ago"), "{table}");
        assert_eq!(
            lines[0].chars().count(),
            lines[1].chars().count(),
            "{table}"
        );
        assert_eq!(lines[3], "2 deletions, 128 GB reclaimed");

        let json: serde_json::Value = serde_json::from_str(&history_json(&rows).unwrap()).unwrap();
        let dune = &json[0];
        assert_eq!(dune["quality"], "Remux-2160p");
        assert_eq!(dune["resolution"], 2160);
        assert_eq!(dune["video_resolution"], "3840x2160");
        assert_eq!(dune["audio_codec"], "TrueHD Atmos");
        assert_eq!(dune["audio_channels"], 7.1);
        assert_eq!(dune["lossless"], true);
        // What is not known is there, as null.
        let heat = json[1].as_object().unwrap();
        for key in [
            "quality",
            "resolution",
            "audio_codec",
            "audio_channels",
            "lossless",
        ] {
            assert_eq!(heat.get(key), Some(&serde_json::Value::Null), "{key}");
        }
    }

    #[test]
    fn plan_json_gives_each_decisions_file() {
        let mut plan = Plan {
            decisions: vec![decision(
                Verdict::Keep,
                "Dune (2021)",
                1,
                Reason::LosslessAudio {
                    codec: "TrueHD Atmos".into(),
                },
            )],
            ..Plan::default()
        };
        plan.decisions[0].quality = plan.qualities.intern(crate::library::Quality {
            name: Some("Remux-2160p".into()),
            audio_codec: Some("TrueHD Atmos".into()),
            ..Default::default()
        });
        let json: serde_json::Value = serde_json::from_str(&plan_json(&plan).unwrap()).unwrap();
        let d = &json["decisions"][0];
        assert_eq!(d["reason"]["code"], "lossless_audio");
        assert_eq!(d["reason"]["text"], "lossless audio (TrueHD Atmos)");
        assert_eq!(d["quality"], "Remux-2160p");
        assert_eq!(d["lossless"], true);
        assert!(d.get("audio_channels").is_none(), "unknown, left out");
    }
}
