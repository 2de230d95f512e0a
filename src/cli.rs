//! Command-line definitions (clap derive only; `main` turns them into actions).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::logging::LogFormat;

/// Deletes watched movies and TV after a grace period, safely, through Radarr and Sonarr.
///
/// Dry run is the default: nothing is deleted unless the config says `dry_run = false` or `run`
/// gets `--apply`.
#[derive(Debug, Parser)]
#[command(name = "shelflife", version, propagate_version = true)]
pub struct Cli {
    /// Config file.
    #[arg(
        long,
        global = true,
        env = "SHELFLIFE_CONFIG",
        default_value = "/etc/shelflife/config.toml"
    )]
    pub config: PathBuf,

    /// Where and how to log: journald under systemd, readable text or JSON lines on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,

    /// More detail in the log (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only warnings and errors in the log.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// One retention pass: check, plan, delete (dry run unless configured or --apply).
    Run(RunArgs),
    /// Compute the plan and print it; changes nothing.
    Plan(PlanArgs),
    /// Check that the servers and their root folders are reachable and healthy.
    Check(CheckArgs),
    /// Where Jellyfin, Radarr and Sonarr disagree: files the *arrs will download again, items
    /// no *arr matches, files Jellyfin does not show. Changes nothing.
    Drift(DriftArgs),
    /// Long-running health monitor for systemd (Type=notify, watchdog).
    Monitor,
    /// Last pass, whether paused and why, pending actions.
    Status,
    /// Past actions from the state database.
    History(HistoryArgs),
    /// Validate or show the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Maintain the state database.
    #[command(subcommand)]
    Db(DbCommand),
    /// Start a simulated Jellyfin, Radarr and Sonarr in-process and run plan + a dry run against them.
    ///
    /// Only in a build with the `demo` feature, the default of a build from source: the .deb
    /// and the Nix package have no demo (it exits 2 there).
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Then delete for real in the simulated servers, and run once more to show nothing goes twice.
    #[arg(long)]
    pub apply: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Delete for real, even if the config says dry_run = true.
    #[arg(long)]
    pub apply: bool,
    /// Change nothing, whatever the config or --apply say.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How far back, e.g. 7d, 12h.
    #[arg(long)]
    pub since: Option<String>,
    /// Only this kind: movie, season or episode.
    #[arg(long)]
    pub kind: Option<String>,
    /// Only what went through this Radarr or Sonarr instance, by its name (radarr, sonarr, or
    /// the `name` of one of several).
    #[arg(long)]
    pub instance: Option<String>,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the config file (no network).
    Check,
    /// Print the effective config with secrets redacted.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Online backup of the state database.
    Backup { path: PathBuf },
    /// Drop old records.
    Prune {
        /// Records older than this go, e.g. 180d.
        #[arg(long, default_value = "180d")]
        older_than: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_flags_parse() {
        let cli = Cli::try_parse_from(["shelflife", "--config", "/x.toml", "run", "--apply"])
            .expect("valid command line");
        assert_eq!(cli.config, PathBuf::from("/x.toml"));
        match cli.command {
            Command::Run(args) => assert!(args.apply && !args.dry_run),
            other => panic!("parsed as {other:?}"),
        }
    }
}
