//! `shelflife demo`: a simulated Jellyfin, Radarr and Sonarr in-process, with a small library,
//! then `plan` and a dry `run` against them — what a newcomer sees on the first try. With
//! `--apply`, a live pass follows, then another to show that nothing is deleted twice.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use jiff::Timestamp;

use shelflife::apply::Mode;
use shelflife::config::{Config, Env};
use shelflife::exit::Exit;
use shelflife::output;
use shelflife::pass::Pass;
use shelflife::state::State;
use shelflife_sim::{SimStack, World};

pub async fn run(apply: bool, out: &mut impl Write) -> anyhow::Result<Exit> {
    let now = Timestamp::now();
    let stack = SimStack::start(World::demo(now))
        .await
        .context("cannot start the simulated servers on 127.0.0.1")?;
    let text = stack.config_toml("[rules]\ngrace_days = 5\nseries_mode = \"hybrid\"\n");
    let loaded = Config::parse(&text, Path::new("<demo>"), &Env::default())
        .context("the demo config is invalid")?;
    let config = loaded.config;
    writeln!(
        out,
        "Simulated Jellyfin at {}, Radarr at {}, Sonarr at {}.\n\
         Users alice and bob; grace 5 days; keep tag \"keep\"; series mode hybrid.\n",
        stack.jellyfin_url(),
        stack.radarr_url(),
        stack.sonarr_url()
    )?;

    let pass = Pass::new(config)?;
    // The journal lives in a scratch directory that goes with the demo.
    let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
    let mut state = State::open(&scratch.path().join("state.db"))?;
    writeln!(out, "$ shelflife plan")?;
    let preview = pass.preview(now, Some(&state)).await?;
    write!(out, "{}", output::preview_text(&preview))?;

    writeln!(out, "\n$ shelflife run            (dry run: the default)")?;
    let outcome = pass.run(Mode::DryRun, now, &mut state).await?;
    write!(out, "{}", output::run_summary(&outcome))?;
    let writes = stack.writes().len();
    writeln!(out, "\nWrite requests sent to the servers: {writes}.")?;
    if !apply {
        writeln!(
            out,
            "Delete for real with `run --apply` (or dry_run = false in the config); \
             see it here with `shelflife demo --apply`."
        )?;
        return Ok(outcome.exit());
    }

    writeln!(out, "\n$ shelflife run --apply")?;
    let live = pass.run(Mode::Live, now, &mut state).await?;
    write!(out, "{}", output::run_summary(&live))?;
    let files_left = stack.with_world(|w| w.files.len());
    writeln!(
        out,
        "Write requests sent to the servers: {}; media files left in the simulated library: {files_left}.",
        stack.writes().len()
    )?;
    if live.exit() != Exit::Ok {
        return Ok(live.exit());
    }

    writeln!(
        out,
        "\n$ shelflife run --apply     (again: nothing is deleted twice)"
    )?;
    let before = stack.writes().len();
    let again = pass.run(Mode::Live, now, &mut state).await?;
    write!(out, "{}", output::run_summary(&again))?;
    writeln!(
        out,
        "Write requests sent by this pass: {}.",
        stack.writes().len() - before
    )?;
    Ok(again.exit())
}
