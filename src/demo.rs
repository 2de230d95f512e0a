//! `shelflife demo`: a simulated Jellyfin, Radarr and Sonarr in-process, with a small library,
//! then `plan` and a dry `run` against them — what a newcomer sees on the first try.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use jiff::Timestamp;

use shelflife::apply::Mode;
use shelflife::config::{Config, Env};
use shelflife::exit::Exit;
use shelflife::output;
use shelflife::pass::Pass;
use shelflife::sim::{SimStack, World};

pub async fn run(out: &mut impl Write) -> anyhow::Result<Exit> {
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

    let pass = Pass::new(&config)?;
    writeln!(out, "$ shelflife plan")?;
    let planned = pass.plan(now).await?;
    write!(out, "{}", output::plan_table(&planned.plan))?;

    writeln!(out, "\n$ shelflife run            (dry run: the default)")?;
    let outcome = pass.run(Mode::DryRun, now).await?;
    write!(out, "{}", outcome.summary())?;
    let writes = stack.writes().len();
    writeln!(
        out,
        "\nWrite requests sent to the servers: {writes}. Delete for real with `run --apply` \
         (or dry_run = false in the config)."
    )?;
    Ok(outcome.exit())
}
