//! The `shelflife` binary: parse the command line, set up logging, dispatch, map errors to exit
//! codes. Everything else lives in the library.

#[cfg(feature = "demo")]
mod demo;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use jiff::Timestamp;

use shelflife::apply::Mode;
use shelflife::cli::{Cli, Command, ConfigCommand, DbCommand, HistoryArgs, PlanArgs, RunArgs};
use shelflife::config::{Config, Env, Loaded};
use shelflife::exit::Exit;
use shelflife::pass::Pass;
use shelflife::state::{ActionKind, State};
use shelflife::{health, logging, monitor, output, record, systemd};

fn main() -> ExitCode {
    tune_malloc();
    let cli = Cli::parse();
    // The demo prints its own story; its log would repeat every line of it.
    let quiet = cli.quiet || (matches!(cli.command, Command::Demo(_)) && cli.verbose == 0);
    logging::init(cli.log_format, logging::level(cli.verbose, quiet));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("shelflife: cannot start the async runtime: {err}");
            return Exit::Failed.into();
        }
    };
    runtime.block_on(dispatch(cli)).into()
}

/// glibc gives every thread that allocates its own arena and returns little of it; with the
/// async runtime's threads a pass over a large library kept about twice its live data resident
/// (267 MB against 146 MB for 100k episodes, `cargo bench --bench pass -- L 1`). One arena
/// costs nothing measurable here (the work is I/O), and a second one still added 4–6 MB to
/// every few passes.
///
/// glibc also raises its mmap threshold each time a large block is freed, up to 32 MB, so the
/// large passing buffers of a pass (response bodies, growing lists) end up in the heap and leave
/// holes it cannot return. A fixed threshold keeps them mapped on their own: a plan over 100k
/// episodes peaked at 36 MB instead of 41–43.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before any thread exists.
    unsafe {
        nix::libc::mallopt(nix::libc::M_ARENA_MAX, 1);
        nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

async fn dispatch(cli: Cli) -> Exit {
    let config_path = cli.config.as_path();
    match cli.command {
        Command::Run(args) => run(config_path, &args).await,
        Command::Plan(args) => plan(config_path, &args).await,
        Command::Check(args) => check(config_path, args.json).await,
        Command::Drift(args) => drift(config_path, args.json).await,
        Command::Config(ConfigCommand::Check) => config_check(config_path),
        Command::Config(ConfigCommand::Show) => config_show(config_path),
        Command::Demo(args) => run_demo(args.apply).await,
        Command::Status => status(config_path),
        Command::History(args) => history(config_path, &args),
        Command::Db(DbCommand::Backup { path }) => db_backup(config_path, &path),
        Command::Db(DbCommand::Prune { older_than }) => db_prune(config_path, &older_than),
        Command::Monitor => run_monitor(config_path).await,
    }
}

#[cfg(feature = "demo")]
async fn run_demo(apply: bool) -> Exit {
    report(demo::run(apply, &mut std::io::stdout()).await, Exit::Failed)
}

/// A build without the simulated servers (the .deb, the Nix package) still knows the command,
/// so that the README's first command gets an answer rather than a parse error.
#[cfg(not(feature = "demo"))]
async fn run_demo(_apply: bool) -> Exit {
    eprintln!(
        "shelflife: this build has no demo; it was built without the `demo` feature, as the \
         .deb and the Nix package are. Try it from a checkout: cargo run --release -- demo"
    );
    Exit::Usage
}

/// Loads the config, logging its warnings.
fn load(path: &Path) -> Result<Config, anyhow::Error> {
    let Loaded { config, warnings } = Config::load(path, &Env::from_process())?;
    log_warnings(&warnings);
    Ok(config)
}

fn log_warnings(warnings: &[String]) {
    for warning in warnings {
        tracing::warn!("{warning}");
    }
}

/// The config at `path` with the clients of its servers, and the config's warnings: where
/// `run`, `plan`, `check` and `monitor` start. A bad config is reported and ends the command
/// with `code`.
fn setup(path: &Path, code: Exit) -> Result<(Pass, Vec<String>), Exit> {
    let Loaded { config, warnings } =
        Config::load(path, &Env::from_process()).map_err(|err| report(Err(err.into()), code))?;
    let pass = Pass::new(config).map_err(|err| report(Err(err.into()), code))?;
    Ok((pass, warnings))
}

/// [`setup`] for the commands that talk to the servers: the config's warnings go to the log,
/// a config that cannot be used is a usage error.
fn setup_logged(path: &Path) -> Result<Pass, Exit> {
    let (pass, warnings) = setup(path, Exit::Usage)?;
    log_warnings(&warnings);
    Ok(pass)
}

/// Prints an error chain and returns `code`; passes `Ok` through.
fn report(result: anyhow::Result<Exit>, code: Exit) -> Exit {
    match result {
        Ok(exit) => exit,
        Err(err) => {
            eprintln!("shelflife: {err:#}");
            code
        }
    }
}

async fn run(path: &Path, args: &RunArgs) -> Exit {
    let pass = match setup_logged(path) {
        Ok(pass) => pass,
        Err(code) => return code,
    };
    let mode = if args.dry_run {
        Mode::DryRun
    } else if args.apply || !pass.config().dry_run {
        Mode::Live
    } else {
        Mode::DryRun
    };
    // The lock before anything else: a second pass must not even read the journal.
    let mut opened = match record::open_for_pass(&pass.config().state.path, Timestamp::now()) {
        Ok(o) => o,
        Err(err) => {
            shelflife::pass::log_not_started(&err.to_string());
            return report(Err(err.into()), Exit::Failed);
        }
    };
    let result = async {
        let outcome = pass.run(mode, Timestamp::now(), &mut opened.state).await?;
        print!("{}", output::run_summary(&outcome));
        Ok(outcome.exit())
    };
    report(result.await, Exit::Failed)
}

/// Opens the state file of the config for reading and upkeep; `None` when there is none yet.
fn open_state(path: &Path) -> anyhow::Result<Option<State>> {
    existing_state(&load(path)?.state.path)
}

/// The state file at `db`, when there is one: reading it must not create it.
fn existing_state(db: &Path) -> anyhow::Result<Option<State>> {
    if !db.exists() {
        return Ok(None);
    }
    Ok(Some(State::open(db)?))
}

fn status(path: &Path) -> Exit {
    let result = (|| {
        let Some(state) = open_state(path)? else {
            print!("{}", output::status_text(None, &[], None));
            return Ok(Exit::Ok);
        };
        let last = state.last_run()?;
        let pending = state.pending_actions()?;
        let health = state.last_sample()?;
        print!(
            "{}",
            output::status_text(last.as_ref(), &pending, health.as_ref())
        );
        if let Some(run) = last
            .as_ref()
            .filter(|r| r.mode == shelflife::state::Mode::DryRun)
        {
            let metrics = state.run_metrics(run.id)?;
            if let Some(dry) = shelflife::metrics::dry_run(run, metrics.as_deref(), None) {
                print!("{}", output::dry_run_status(&dry));
            }
        }
        let tz = jiff::tz::TimeZone::system();
        print!("{}", output::leaving_soon_status(&state.notices()?, &tz));
        // What the last pass did for space, from the figures it stored; unreadable ones (an
        // older or damaged record) only leave the lines out.
        let metrics: Option<shelflife::metrics::PassMetrics> = state
            .last_run_metrics()?
            .and_then(|json| serde_json::from_str(&json).ok());
        if let Some(m) = &metrics {
            print!(
                "{}",
                output::space_status(m.space.iter().map(|s| output::SpaceLine {
                    mount: &s.mount,
                    free_after: s.free_after,
                    target: s.target,
                    freed: s.freed,
                    frees_nothing: s.left.as_deref().filter(|_| s.frees_nothing),
                }))
            );
        }
        Ok(Exit::Ok)
    })();
    report(result, Exit::Failed)
}

fn history(path: &Path, args: &HistoryArgs) -> Exit {
    let since = match args.since.as_deref().map(ago).transpose() {
        Ok(since) => since,
        Err(err) => return report(Err(err), Exit::Usage),
    };
    let kind = match args
        .kind
        .as_deref()
        .map(str::parse::<ActionKind>)
        .transpose()
    {
        Ok(kind) => kind,
        Err(err) => return report(Err(err.into()), Exit::Usage),
    };
    let result = (|| {
        let (rows, events, dry_runs) = match open_state(path)? {
            Some(state) => {
                // A dry run is not of one instance: an instance's history has none.
                let dry_runs = match args.instance {
                    Some(_) => Vec::new(),
                    None => state.dry_runs(since)?,
                };
                (
                    state.history(since, kind, args.instance.as_deref())?,
                    state.notice_events(since, kind, args.instance.as_deref())?,
                    (dry_runs.iter())
                        .filter_map(|(run, m)| shelflife::metrics::dry_run(run, m.as_deref(), kind))
                        .collect::<Vec<_>>(),
                )
            }
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        if args.json {
            let json = output::history_json_with_notices(&rows, &events, &dry_runs)?;
            println!("{json}");
        } else {
            print!(
                "{}",
                output::history_with_notices(&rows, &events, &dry_runs)
            );
        }
        Ok(Exit::Ok)
    })();
    report(result, Exit::Failed)
}

fn db_backup(path: &Path, dest: &Path) -> Exit {
    let result = (|| {
        let config = load(path)?;
        let state = State::open(&config.state.path)?;
        state.backup_to(dest)?;
        println!(
            "backed up {} to {}",
            config.state.path.display(),
            dest.display()
        );
        Ok(Exit::Ok)
    })();
    report(result, Exit::Failed)
}

fn db_prune(path: &Path, older_than: &str) -> Exit {
    let cut_off = match ago(older_than) {
        Ok(t) => t,
        Err(err) => return report(Err(err), Exit::Usage),
    };
    let result = (|| {
        let Some(mut state) = open_state(path)? else {
            println!("no state file yet; nothing to prune");
            return Ok(Exit::Ok);
        };
        let pruned = state.prune(cut_off)?;
        println!(
            "pruned {} passes, {} actions, {} health records and {} Leaving Soon events from \
             before {cut_off}",
            pruned.runs, pruned.actions, pruned.health_rows, pruned.notice_events
        );
        Ok(Exit::Ok)
    })();
    report(result, Exit::Failed)
}

/// `7d`, `12h`, `180days` → that long before now.
fn ago(text: &str) -> anyhow::Result<Timestamp> {
    let span = humantime::parse_duration(text)
        .with_context(|| format!("{text:?} is not a duration like 7d or 12h"))?;
    let span = jiff::SignedDuration::try_from(span).context("that duration is too long")?;
    Timestamp::now()
        .checked_sub(span)
        .context("that duration reaches before the calendar starts")
}

async fn plan(path: &Path, args: &PlanArgs) -> Exit {
    let pass = match setup_logged(path) {
        Ok(pass) => pass,
        Err(code) => return code,
    };
    let result = async {
        let state = existing_state(&pass.config().state.path)?;
        let preview = pass.preview(Timestamp::now(), state.as_ref()).await?;
        if args.json {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            output::write_plan_json(&mut out, &preview.plan)
                .context("cannot write the plan as JSON")?;
            std::io::Write::write_all(&mut out, b"\n")
                .and_then(|()| std::io::Write::flush(&mut out))
                .context("cannot print the plan")?;
        } else {
            // Line by line: a large plan is never held whole as text.
            let mut out = output::IoText::new(std::io::BufWriter::new(std::io::stdout().lock()));
            let written = output::write_preview(&mut out, &preview);
            out.finish(written).context("cannot print the plan")?;
        }
        Ok(Exit::Ok)
    };
    report(result.await, Exit::Failed)
}

async fn check(path: &Path, json: bool) -> Exit {
    let (pass, warnings) = match setup(path, Exit::CheckConfig) {
        Ok(setup) => setup,
        Err(code) => return code,
    };
    let config = pass.config();
    let mut report_ = health::check_all(&config.health, &config.state.path, pass.sources()).await;
    if let Some(seerr) = pass.seerr() {
        report_
            .findings
            .push(health::servers::check_seerr(seerr).await);
    }
    if json {
        match serde_json::to_string_pretty(&output::check_json(&report_, &warnings)) {
            Ok(text) => println!("{text}"),
            Err(err) => {
                eprintln!("shelflife: cannot write the report as JSON: {err}");
                return Exit::Failed;
            }
        }
    } else {
        print!("{}", report_.render());
        for warning in &warnings {
            println!("warning: {warning}");
        }
    }
    report_.exit()
}

async fn drift(path: &Path, json: bool) -> Exit {
    let pass = match setup_logged(path) {
        Ok(pass) => pass,
        Err(code) => return code,
    };
    let result = async {
        let found = (pass.drift(Timestamp::now()).await)
            .context("cannot read the servers for the drift report")?;
        if json {
            let text = serde_json::to_string_pretty(&found.json())
                .context("cannot write the report as JSON")?;
            println!("{text}");
        } else {
            print!("{}", found.render());
        }
        Ok(Exit::Ok)
    };
    report(result.await, Exit::Failed)
}

async fn run_monitor(path: &Path) -> Exit {
    use tokio::signal::unix::{signal, SignalKind};
    // Before anything slow: SIGTERM's default action would kill us without STOPPING=1.
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("shelflife: cannot listen for signals: {e}");
            return Exit::Failed;
        }
    };
    let pass = match setup_logged(path) {
        Ok(pass) => pass,
        Err(code) => return code,
    };
    let config = pass.config();
    let mut state = match State::open(&config.state.path) {
        Ok(s) => s,
        Err(err) => return report(Err(err.into()), Exit::Failed),
    };
    let heartbeat = std::sync::Arc::new(systemd::Heartbeat::new(std::time::Instant::now()));
    let watchdog = systemd::watchdog_interval();
    if let Some(interval) = watchdog {
        let pinger = systemd::spawn_pinger(std::sync::Arc::clone(&heartbeat), interval, || {
            systemd::notify(&[systemd::NotifyState::Watchdog]);
        });
        if let Err(err) = pinger {
            eprintln!("shelflife: cannot start the watchdog thread: {err}");
            return Exit::Failed;
        }
    }
    tracing::info!(
        interval = %humantime::format_duration(config.health.interval),
        "monitor started"
    );
    let shutdown = async {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    };
    monitor::run(
        config,
        pass.sources(),
        &mut state,
        &heartbeat,
        watchdog,
        shutdown,
    )
    .await;
    tracing::info!("monitor stopped");
    Exit::Ok
}

fn config_check(path: &Path) -> Exit {
    match Config::load(path, &Env::from_process()) {
        Ok(Loaded { warnings, .. }) => {
            for warning in &warnings {
                println!("warning: {warning}");
            }
            println!("{}: ok", path.display());
            Exit::Ok
        }
        Err(err) => report(Err(err.into()), Exit::Usage),
    }
}

fn config_show(path: &Path) -> Exit {
    match load(path) {
        Ok(config) => {
            print!("{}", config.to_redacted_toml());
            Exit::Ok
        }
        Err(err) => report(Err(err), Exit::Usage),
    }
}
