//! Whole dry-run passes over synthetic libraries, the way they run on a Raspberry Pi: the
//! simulated Jellyfin, Radarr and Sonarr serve the library from this process, and the release
//! `shelflife run` runs against them as a child process, alone, so its memory is its own.
//!
//! ```sh
//! cargo bench --bench pass                     # every size (S, M, L) with 1 and with 5 users
//!                                               # (the default hybrid mode), then L in episode
//!                                               # mode with 1 and 5
//! cargo bench --bench pass -- L 5              # one case
//! cargo bench --bench pass -- L 1 plan         # `shelflife plan` instead of a dry `run`
//! cargo bench --bench pass -- L 1 run episode  # `series_mode = "episode"`: the largest plan
//! ```
//!
//! Sizes: S 1k movies / 5k episodes, M 5k / 25k, L 10k / 100k; about 40 % watched by every
//! counted user. In episode mode 45 % are watched and every watched episode is its own
//! decision: on L about 45,000 deletions, the plan with the most decisions.
//!
//! The pass is started by a small runner process forked before any library is built: Linux
//! carries a process's peak RSS across `exec`, so a pass forked from this process, which holds
//! the simulated library, would report this process's memory as its own. Reported per case:
//! wall time of the pass, requests and response bytes by service, the pass's peak RSS
//! (`wait4`'s `ru_maxrss`), and the time of `policy::plan` alone (in this process, on the same
//! library, the median of 5 runs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use shelflife::config::{Config, Env};
use shelflife::inventory::{self, InventoryOptions};
use shelflife::pass::Pass;
use shelflife::policy;
use shelflife_sim::{Recorded, Service, SimStack, SyntheticSpec, World};

const SIZES: [(&str, usize, usize); 3] = [
    ("S", 1_000, 5_000),
    ("M", 5_000, 25_000),
    ("L", 10_000, 100_000),
];

struct Measured {
    case: String,
    wall: Duration,
    requests: [usize; 3],
    bytes: [usize; 3],
    peak_rss_kib: i64,
    /// User + system CPU time of the pass process (the rest of the wall time is the servers).
    cpu: Duration,
    policy: Duration,
    summary: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; the rest are ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args.first().map(String::as_str) == Some(RUNNER) {
        return runner();
    }
    let mut passes = Runner::start()?;
    let sizes: Vec<_> = SIZES
        .iter()
        .filter(|(name, _, _)| args.first().is_none_or(|a| a.eq_ignore_ascii_case(name)))
        .collect();
    let users: Vec<usize> = match args.get(1) {
        Some(n) => vec![n.parse()?],
        None => vec![1, 5],
    };
    let command = args.get(2).map_or("run", String::as_str).to_owned();
    let modes: Vec<&str> = match args.get(3) {
        Some(mode) => vec![mode.as_str()],
        None => vec!["hybrid"],
    };
    let mut cases: Vec<(&str, usize, usize, usize, &str)> = Vec::new();
    for &&(name, movies, episodes) in &sizes {
        for &users in &users {
            for &mode in &modes {
                cases.push((name, movies, episodes, users, mode));
            }
        }
    }
    if args.is_empty() {
        // The plan with the most decisions, with one user and with five.
        let (name, movies, episodes) = SIZES[2];
        for users in [1, 5] {
            cases.push((name, movies, episodes, users, "episode"));
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut results = Vec::new();
    for (name, movies, episodes, users, mode) in cases {
        let spec = SyntheticSpec {
            movies,
            episodes,
            users,
            watched_share: if mode == "episode" { 0.45 } else { 0.4 },
            seed: 42,
        };
        let measured = runtime.block_on(run_case(name, spec, mode, &command, &mut passes))?;
        eprintln!("{}: {}", measured.case, measured.summary);
        results.push(measured);
    }
    println!(
        "\n| case | pass wall | pass CPU | requests J/R/S (total) | received J/R/S | peak RSS | policy |\n|---|---|---|---|---|---|---|"
    );
    for m in &results {
        println!(
            "| {} | {:.2} s | {:.2} s | {}/{}/{} ({}) | {}/{}/{} | {:.1} MiB | {:.1} ms |",
            m.case,
            m.wall.as_secs_f64(),
            m.cpu.as_secs_f64(),
            m.requests[0],
            m.requests[1],
            m.requests[2],
            m.requests.iter().sum::<usize>(),
            mib(m.bytes[0]),
            mib(m.bytes[1]),
            mib(m.bytes[2]),
            m.peak_rss_kib as f64 / 1024.0,
            m.policy.as_secs_f64() * 1000.0,
        );
    }
    Ok(())
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

async fn run_case(
    name: &str,
    spec: SyntheticSpec,
    mode: &str,
    command: &str,
    runner: &mut Runner,
) -> Result<Measured, Box<dyn std::error::Error>> {
    let case = format!(
        "{name} ({}k movies / {}k episodes, {} user{}, {mode} mode)",
        spec.movies / 1000,
        spec.episodes / 1000,
        spec.users,
        if spec.users == 1 { "" } else { "s" }
    );
    let stack = SimStack::start(World::synthetic(jiff::Timestamp::now(), spec)).await?;
    let dir = tempfile::tempdir()?;
    let config_path = dir.path().join("config.toml");
    std::fs::write(
        &config_path,
        format!(
            "{}\n[rules]\nmax_deletions_per_run = 1000000\nseries_mode = {mode:?}\n\n[state]\npath = {:?}\n",
            stack.config_toml(""),
            dir.path().join("state.db").display().to_string()
        ),
    )?;

    // The pass, as its own process.
    stack.clear_log();
    let (wall, peak_rss_kib, cpu, stdout) =
        tokio::task::block_in_place(|| runner.run(&config_path, command))?;
    let log: Vec<(Service, Recorded)> = [Service::Jellyfin, Service::Radarr, Service::Sonarr]
        .into_iter()
        .flat_map(|s| stack.requests(s).into_iter().map(move |r| (s, r)))
        .collect();
    let mut requests = [0; 3];
    let mut bytes = [0; 3];
    for (service, recorded) in &log {
        let i = match service {
            Service::Jellyfin => 0,
            Service::Radarr => 1,
            Service::Sonarr => 2,
            // The bench configures no Seerr; the log above holds none of it.
            Service::Seerr => continue,
        };
        requests[i] += 1;
        bytes[i] += recorded.response_bytes;
    }

    // The retention rules alone, on the same library.
    let config = Config::load(&config_path, &Env::from_pairs([]))?.config;
    let pass = Pass::new(config.clone())?;
    let options = InventoryOptions {
        users: config.jellyfin.users.clone(),
        ..InventoryOptions::default()
    };
    let library = inventory::collect(pass.sources(), &options).await?.library;
    let now = jiff::Timestamp::now();
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let plan = policy::plan(&library, &config.rules, now);
            std::hint::black_box(plan);
            start.elapsed()
        })
        .collect();
    times.sort();
    let summary = stdout;
    Ok(Measured {
        case,
        wall,
        requests,
        bytes,
        peak_rss_kib,
        cpu,
        policy: times[times.len() / 2],
        summary,
    })
}

/// The argument that makes this binary the runner.
const RUNNER: &str = "__runner";

/// The runner process: it reads `CONFIG\tCOMMAND` lines, runs each pass, and answers with
/// `WALL_NS\tMAXRSS_KIB\tCPU_NS\tSUMMARY` lines.
struct Runner {
    child: std::process::Child,
    input: std::process::ChildStdin,
    output: std::io::BufReader<std::process::ChildStdout>,
}

impl Runner {
    fn start() -> Result<Runner, Box<dyn std::error::Error>> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg(RUNNER)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let input = child.stdin.take().ok_or("no stdin")?;
        let output = std::io::BufReader::new(child.stdout.take().ok_or("no stdout")?);
        Ok(Runner {
            child,
            input,
            output,
        })
    }

    fn run(
        &mut self,
        config: &Path,
        command: &str,
    ) -> Result<(Duration, i64, Duration, String), Box<dyn std::error::Error>> {
        use std::io::{BufRead, Write};
        writeln!(self.input, "{}\t{command}", config.display())?;
        self.input.flush()?;
        let mut line = String::new();
        self.output.read_line(&mut line)?;
        let fields: Vec<&str> = line.trim_end().splitn(4, '\t').collect();
        let [wall, rss, cpu, summary] = fields[..] else {
            return Err(format!("the runner said {line:?}").into());
        };
        Ok((
            Duration::from_nanos(wall.parse()?),
            rss.parse()?,
            Duration::from_nanos(cpu.parse()?),
            summary.to_owned(),
        ))
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runner() -> Result<(), Box<dyn std::error::Error>> {
    use std::io::{BufRead, Write};
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let line = line?;
        let (config, command) = line.split_once('\t').ok_or("expected CONFIG<TAB>COMMAND")?;
        match run_pass(Path::new(config), command) {
            Ok((wall, rss, cpu, stdout)) => {
                let summary = stdout
                    .lines()
                    .find(|l| l.starts_with("Dry-run pass"))
                    .unwrap_or("(no summary)");
                writeln!(
                    out,
                    "{}\t{rss}\t{}\t{summary}",
                    wall.as_nanos(),
                    cpu.as_nanos()
                )?;
            }
            Err(err) => writeln!(out, "error: {err}")?,
        }
        out.flush()?;
    }
    Ok(())
}

/// Runs `shelflife --config PATH -q COMMAND` and waits for it with `wait4`, for its own peak RSS.
fn run_pass(
    config: &Path,
    command: &str,
) -> Result<(Duration, i64, Duration, String), std::io::Error> {
    use std::io::Read;
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_shelflife"))
        .arg("--config")
        .arg(config)
        .args(["-q", command])
        .env_remove("NOTIFY_SOCKET")
        .env_remove("JOURNAL_STREAM")
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut stdout)?;
    }
    let pid = child.id() as nix::libc::pid_t;
    let mut status = 0;
    // SAFETY: plain FFI with pointers to locals that outlive the call.
    let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { nix::libc::wait4(pid, &mut status, 0, &mut usage) };
    if waited != pid {
        return Err(std::io::Error::last_os_error());
    }
    let wall = start.elapsed();
    if !(nix::libc::WIFEXITED(status) && nix::libc::WEXITSTATUS(status) == 0) {
        return Err(std::io::Error::other(format!(
            "the pass failed (status {status}): {stdout}"
        )));
    }
    let time = |t: nix::libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    let cpu = time(usage.ru_utime) + time(usage.ru_stime);
    Ok((wall, usage.ru_maxrss, cpu, stdout))
}
