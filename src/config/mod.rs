//! Configuration: the TOML file, its defaults, validation and secrets.
//!
//! Loading goes in three stages (as zincati does): the text is checked against the known keys
//! (so a typo is an error that names the key, its table, the file and the key you probably meant),
//! deserialized into raw structs whose fields are all optional, then turned into [`Config`] with
//! real types and defaults filled in. Secrets are read last, from the first source that has them.
//! Nothing here touches the network.

mod raw;
mod secrets;

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use secrets::{Env, Secret};

use crate::clients::http::HttpSettings;
use crate::clients::parse_base_url;
use crate::health::arrays::ArraySources;
use crate::health::gate::{GatePolicy, OnDegraded};
pub use crate::health::{HealthConfig, MountConfig};
use crate::rules::{Rules, SeriesMode, WatchedBy};

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from, for messages.
    pub source: PathBuf,
    /// Delete nothing unless this is false or `run --apply` is given.
    pub dry_run: bool,
    pub jellyfin: JellyfinConfig,
    /// Absent: movies are left alone.
    pub radarr: Option<ArrConfig>,
    /// Absent: TV is left alone.
    pub sonarr: Option<ArrConfig>,
    pub rules: Rules,
    pub path_map: Vec<PathMap>,
    pub health: HealthConfig,
    pub state: StateConfig,
    pub metrics: MetricsConfig,
}

#[derive(Debug, Clone)]
pub struct JellyfinConfig {
    pub url: String,
    pub api_key: Secret,
    /// Whose watched state counts, by Jellyfin user name.
    pub users: Vec<String>,
    /// Deadlines and retries of its requests.
    pub http: HttpSettings,
}

#[derive(Debug, Clone)]
pub struct ArrConfig {
    pub url: String,
    pub api_key: Secret,
    /// Radarr: also stop import lists from adding a deleted movie again.
    pub add_import_exclusion: bool,
    /// Deadlines and retries of its requests.
    pub http: HttpSettings,
}

/// How a path prefix Jellyfin sees appears to the *arrs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathMap {
    pub jellyfin: String,
    pub arr: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateConfig {
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    pub textfile: Option<PathBuf>,
}

/// A loaded config and what the user should hear about it.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// Why a config cannot be used. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}: unknown key `{key}` in {table}{}{}", line.map(|l| format!(" (line {l})")).unwrap_or_default(), suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownKey {
        path: PathBuf,
        key: String,
        /// `[rules]`, `[[health.mounts]]`, or "the top level".
        table: String,
        line: Option<usize>,
        suggestion: Option<String>,
    },
    #[error("{path}: `{key}` {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error("{path}: no API key for {service}; tried {tried}")]
    MissingSecret {
        path: PathBuf,
        service: &'static str,
        tried: String,
    },
    #[error("{path}: cannot read the {service} API key from {file}")]
    SecretFile {
        path: PathBuf,
        service: &'static str,
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

const DEFAULT_STATE_PATH: &str = "/var/lib/shelflife/state.db";

/// The warning for a config that deletes without checking any storage first.
pub const NO_MOUNTS: &str = "no [[health.mounts]] is configured, so nothing checks the storage \
     before a delete: Radarr answers a delete with 200 and drops the movie's record even when its \
     folder is an empty mount point (a NAS that did not mount); add the media mount with a \
     `canary` file so that such a delete is never sent";

impl Config {
    /// Reads and validates the config file at `path`.
    pub fn load(path: &Path, env: &Env) -> Result<Loaded, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut loaded = Self::parse(&text, path, env)?;
        if let Some(warning) = secrets::readable_inline_key_warning(path, &text) {
            loaded.warnings.push(warning);
        }
        Ok(loaded)
    }

    /// Validates config text; `source` names it in messages and anchors nothing else.
    pub fn parse(text: &str, source: &Path, env: &Env) -> Result<Loaded, ConfigError> {
        let raw = raw::parse(text, source)?;
        let mut warnings = Vec::new();
        let config = build(raw, source, env, &mut warnings)?;
        Ok(Loaded { config, warnings })
    }

    /// The effective config (defaults filled in) as TOML, every secret replaced by where it came
    /// from. This is what `config show` prints.
    pub fn to_redacted_toml(&self) -> String {
        let mut out = String::new();
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let d = |d: Duration| q(&humantime::format_duration(d).to_string());
        let _ = writeln!(out, "# {}", self.source.display());
        let _ = writeln!(out, "dry_run = {}", self.dry_run);
        let _ = writeln!(out, "\n[jellyfin]");
        let _ = writeln!(out, "url = {}", q(&self.jellyfin.url));
        let _ = writeln!(out, "api_key = {}", q(&self.jellyfin.api_key.to_string()));
        let users: Vec<String> = self.jellyfin.users.iter().map(|u| q(u)).collect();
        let _ = writeln!(out, "users = [{}]", users.join(", "));
        let watched_by = match self.rules.watched_by {
            WatchedBy::Any => "any",
            WatchedBy::All => "all",
        };
        let _ = writeln!(out, "watched_by = {}", q(watched_by));
        http_lines(&mut out, &self.jellyfin.http);
        for (name, arr) in [("radarr", &self.radarr), ("sonarr", &self.sonarr)] {
            match arr {
                None => {
                    let _ = writeln!(out, "\n# [{name}] is not configured: left alone");
                }
                Some(arr) => {
                    let _ = writeln!(out, "\n[{name}]");
                    let _ = writeln!(out, "url = {}", q(&arr.url));
                    let _ = writeln!(out, "api_key = {}", q(&arr.api_key.to_string()));
                    if name == "radarr" {
                        let _ =
                            writeln!(out, "add_import_exclusion = {}", arr.add_import_exclusion);
                    }
                    http_lines(&mut out, &arr.http);
                }
            }
        }
        let r = &self.rules;
        let _ = writeln!(out, "\n[rules]");
        let _ = writeln!(out, "grace_days = {}", r.grace_days);
        let tags: Vec<String> = r.keep_tags.iter().map(|t| q(t)).collect();
        let _ = writeln!(out, "keep_tags = [{}]", tags.join(", "));
        let _ = writeln!(out, "keep_favorites = {}", r.keep_favorites);
        let mode = match r.series_mode {
            SeriesMode::Episode => "episode",
            SeriesMode::Season => "season",
            SeriesMode::Hybrid => "hybrid",
        };
        let _ = writeln!(out, "series_mode = {}", q(mode));
        let _ = writeln!(
            out,
            "partial_season_threshold = {:?}",
            r.partial_season_threshold
        );
        let _ = writeln!(out, "protect_latest_season = {}", r.protect_latest_season);
        let _ = writeln!(out, "max_deletions_per_run = {}", r.max_deletions_per_run);
        for m in &self.path_map {
            let _ = writeln!(out, "\n[[path_map]]");
            let _ = writeln!(out, "jellyfin = {}", q(&m.jellyfin));
            let _ = writeln!(out, "arr = {}", q(&m.arr));
        }
        let _ = writeln!(out, "\n[health]");
        let h = &self.health;
        let _ = writeln!(out, "interval = {}", d(h.interval));
        if let Some(window) = h.require_healthy_for {
            let _ = writeln!(out, "require_healthy_for = {}", d(window));
        }
        let _ = writeln!(
            out,
            "on_degraded_array = {}",
            q(h.policy.on_degraded_array.as_str())
        );
        let _ = writeln!(out, "on_low_space = {}", q(h.policy.on_low_space.as_str()));
        let _ = writeln!(
            out,
            "mdstat = {}",
            q(&h.arrays.mdstat.display().to_string())
        );
        let _ = writeln!(out, "zpool = {}", q(&h.arrays.zpool.display().to_string()));
        let _ = writeln!(
            out,
            "btrfs_sysfs = {}",
            q(&h.arrays.btrfs_sysfs.display().to_string())
        );
        for m in &self.health.mounts {
            let _ = writeln!(out, "\n[[health.mounts]]");
            let _ = writeln!(out, "path = {}", q(&m.path.display().to_string()));
            if let Some(fstype) = &m.fstype {
                let _ = writeln!(out, "fstype = {}", q(fstype));
            }
            if let Some(canary) = &m.canary {
                let _ = writeln!(out, "canary = {}", q(canary));
            }
            let _ = writeln!(out, "timeout = {}", d(m.timeout));
            let _ = writeln!(out, "allow_readonly = {}", m.allow_readonly);
            let _ = writeln!(out, "min_free_percent = {:?}", m.min_free_percent);
            let _ = writeln!(out, "min_free_bytes = {}", m.min_free_bytes);
        }
        let _ = writeln!(out, "\n[state]");
        let _ = writeln!(out, "path = {}", q(&self.state.path.display().to_string()));
        let _ = writeln!(out, "\n[metrics]");
        match &self.metrics.textfile {
            Some(p) => {
                let _ = writeln!(out, "textfile = {}", q(&p.display().to_string()));
            }
            None => {
                let _ = writeln!(out, "# textfile is not set: no metrics file");
            }
        }
        out
    }
}

/// Raw → validated, with defaults.
fn build(
    raw: raw::RawConfig,
    source: &Path,
    env: &Env,
    warnings: &mut Vec<String>,
) -> Result<Config, ConfigError> {
    let invalid = |key: &str, message: String| ConfigError::Invalid {
        path: source.to_path_buf(),
        key: key.to_string(),
        message,
    };
    let Some(mut jf) = raw.jellyfin else {
        return Err(invalid(
            "[jellyfin]",
            "is missing: shelflife needs Jellyfin's url, an API key and users".into(),
        ));
    };
    let jf_url = url(jf.url.as_deref(), "jellyfin.url", &invalid)?;
    let jf_http = http_settings(jf.http(), "jellyfin", &invalid)?;
    let users = jf.users.unwrap_or_default();
    if users.is_empty() || users.iter().any(|u| u.trim().is_empty()) {
        return Err(invalid(
            "jellyfin.users",
            "must list at least one Jellyfin user name, none empty (e.g. users = [\"alice\"])"
                .into(),
        ));
    }
    let watched_by = match jf.watched_by.as_deref().unwrap_or("any") {
        "any" => WatchedBy::Any,
        "all" => WatchedBy::All,
        other => {
            return Err(invalid(
                "jellyfin.watched_by",
                format!("must be \"any\" or \"all\", not {other:?}"),
            ))
        }
    };
    let jellyfin = JellyfinConfig {
        url: jf_url,
        api_key: secrets::resolve("jellyfin", jf.api_key, jf.api_key_file, source, env)?,
        users,
        http: jf_http,
    };

    // The key schema keeps `add_import_exclusion` out of [sonarr]; it is a Radarr setting.
    let arr =
        |name: &'static str, raw: Option<raw::RawArr>| -> Result<Option<ArrConfig>, ConfigError> {
            let Some(mut a) = raw else { return Ok(None) };
            let http = http_settings(a.http(), name, &invalid)?;
            Ok(Some(ArrConfig {
                url: url(a.url.as_deref(), &format!("{name}.url"), &invalid)?,
                api_key: secrets::resolve(name, a.api_key, a.api_key_file, source, env)?,
                add_import_exclusion: a.add_import_exclusion.unwrap_or(false),
                http,
            }))
        };
    let radarr = arr("radarr", raw.radarr)?;
    let sonarr = arr("sonarr", raw.sonarr)?;

    let rules = rules(raw.rules.unwrap_or_default(), watched_by, &invalid)?;

    let mut path_map = Vec::new();
    for (i, m) in raw.path_map.unwrap_or_default().into_iter().enumerate() {
        let key = |k: &str| format!("path_map[{}].{k}", i + 1);
        let (Some(jellyfin), Some(arr)) = (m.jellyfin, m.arr) else {
            return Err(invalid(
                &format!("path_map[{}]", i + 1),
                "needs both `jellyfin` and `arr`".into(),
            ));
        };
        absolute(&jellyfin, &key("jellyfin"), &invalid)?;
        absolute(&arr, &key("arr"), &invalid)?;
        path_map.push(PathMap { jellyfin, arr });
    }

    let raw_health = raw.health.unwrap_or_default();
    let mut mounts = Vec::new();
    for (i, m) in raw_health
        .mounts
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let key = |k: &str| format!("health.mounts[{}].{k}", i + 1);
        let Some(path) = m.path else {
            return Err(invalid(&key("path"), "is required".into()));
        };
        absolute(&path, &key("path"), &invalid)?;
        if let Some(canary) = &m.canary {
            if canary.is_empty() || canary.split('/').any(|c| c == "..") {
                return Err(invalid(
                    &key("canary"),
                    "must name a file inside the mount".into(),
                ));
            }
        }
        mounts.push(MountConfig {
            path: PathBuf::from(path),
            fstype: m.fstype,
            canary: m.canary,
            timeout: duration(
                m.timeout.as_deref(),
                Duration::from_secs(5),
                &key("timeout"),
                &invalid,
            )?,
            allow_readonly: m.allow_readonly.unwrap_or(false),
            min_free_percent: match m.min_free_percent {
                None => 5.0,
                Some(p) if (0.0..=100.0).contains(&p) => p,
                Some(p) => {
                    return Err(invalid(
                        &key("min_free_percent"),
                        format!("must be between 0 and 100, not {p}"),
                    ))
                }
            },
            min_free_bytes: match m.min_free_bytes {
                None => 0,
                Some(raw::RawSize::Bytes(n)) => u64::try_from(n)
                    .map_err(|_| invalid(&key("min_free_bytes"), "must not be negative".into()))?,
                Some(raw::RawSize::Text(text)) => parse_size(&text).ok_or_else(|| {
                    invalid(
                        &key("min_free_bytes"),
                        format!("is not a size like \"50GB\" or \"1.5 TiB\": {text:?}"),
                    )
                })?,
            },
        });
    }
    let on_degraded = |value: Option<String>, default: OnDegraded, key: &str| match value.as_deref()
    {
        None => Ok(default),
        Some("pause") => Ok(OnDegraded::Pause),
        Some("proceed") => Ok(OnDegraded::Proceed),
        Some(other) => Err(invalid(
            key,
            format!("must be \"pause\" or \"proceed\", not {other:?}"),
        )),
    };
    let defaults = ArraySources::default();
    let source_path = |value: Option<String>, default: std::path::PathBuf| {
        value.map_or(default, std::path::PathBuf::from)
    };
    let health = HealthConfig {
        interval: duration(
            raw_health.interval.as_deref(),
            Duration::from_secs(60),
            "health.interval",
            &invalid,
        )?,
        require_healthy_for: raw_health
            .require_healthy_for
            .as_deref()
            .map(|text| {
                duration(
                    Some(text),
                    Duration::ZERO,
                    "health.require_healthy_for",
                    &invalid,
                )
            })
            .transpose()?,
        policy: GatePolicy {
            on_degraded_array: on_degraded(
                raw_health.on_degraded_array,
                OnDegraded::Pause,
                "health.on_degraded_array",
            )?,
            on_low_space: on_degraded(
                raw_health.on_low_space,
                OnDegraded::Proceed,
                "health.on_low_space",
            )?,
        },
        arrays: ArraySources {
            mdstat: source_path(raw_health.mdstat, defaults.mdstat),
            zpool: source_path(raw_health.zpool, defaults.zpool),
            btrfs_sysfs: source_path(raw_health.btrfs_sysfs, defaults.btrfs_sysfs),
            zfs_module: defaults.zfs_module,
            timeout: defaults.timeout,
        },
        mounts,
    };

    let state_path = match raw.state.and_then(|s| s.path) {
        Some(p) => {
            absolute(&p, "state.path", &invalid)?;
            PathBuf::from(p)
        }
        None => match env.var("STATE_DIRECTORY") {
            // systemd may pass several directories separated by ':'; the first is ours.
            Some(dirs) if !dirs.is_empty() => {
                PathBuf::from(dirs.split(':').next().unwrap_or(dirs)).join("state.db")
            }
            _ => PathBuf::from(DEFAULT_STATE_PATH),
        },
    };
    let textfile = match raw.metrics.and_then(|m| m.textfile) {
        Some(p) => {
            absolute(&p, "metrics.textfile", &invalid)?;
            Some(PathBuf::from(p))
        }
        None => None,
    };

    if radarr.is_none() && sonarr.is_none() {
        warnings.push(format!(
            "{}: neither [radarr] nor [sonarr] is configured, so nothing can be deleted",
            source.display()
        ));
    } else if health.mounts.is_empty() {
        warnings.push(format!("{}: {NO_MOUNTS}", source.display()));
    }

    Ok(Config {
        source: source.to_path_buf(),
        dry_run: raw.dry_run.unwrap_or(true),
        jellyfin,
        radarr,
        sonarr,
        rules,
        path_map,
        health,
        state: StateConfig { path: state_path },
        metrics: MetricsConfig { textfile },
    })
}

fn rules(
    r: raw::RawRules,
    watched_by: WatchedBy,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Rules, ConfigError> {
    let defaults = Rules::default();
    let series_mode = match r.series_mode.as_deref() {
        None => defaults.series_mode,
        Some("episode") => SeriesMode::Episode,
        Some("season") => SeriesMode::Season,
        Some("hybrid") => SeriesMode::Hybrid,
        Some(other) => {
            return Err(invalid(
                "rules.series_mode",
                format!("must be \"episode\", \"season\" or \"hybrid\", not {other:?}"),
            ))
        }
    };
    let threshold = r
        .partial_season_threshold
        .unwrap_or(defaults.partial_season_threshold);
    if !(threshold > 0.0 && threshold <= 1.0) {
        return Err(invalid(
            "rules.partial_season_threshold",
            format!("must be more than 0 and at most 1 (a share of the season), not {threshold}"),
        ));
    }
    let grace_days = match r.grace_days {
        None => defaults.grace_days,
        Some(d) => u32::try_from(d).map_err(|_| {
            invalid(
                "rules.grace_days",
                format!("must be a whole number of days, 0 or more, not {d}"),
            )
        })?,
    };
    let max_deletions_per_run = match r.max_deletions_per_run {
        None => defaults.max_deletions_per_run,
        Some(n) => u32::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
            invalid(
                "rules.max_deletions_per_run",
                format!("must be at least 1, not {n}"),
            )
        })?,
    };
    let keep_tags = r.keep_tags.unwrap_or(defaults.keep_tags);
    if keep_tags.iter().any(|t| t.trim().is_empty()) {
        return Err(invalid(
            "rules.keep_tags",
            "must not hold an empty tag".into(),
        ));
    }
    Ok(Rules {
        watched_by,
        grace_days,
        keep_tags,
        keep_favorites: r.keep_favorites.unwrap_or(defaults.keep_favorites),
        series_mode,
        partial_season_threshold: threshold,
        protect_latest_season: r
            .protect_latest_season
            .unwrap_or(defaults.protect_latest_season),
        max_deletions_per_run,
    })
}

fn url(
    value: Option<&str>,
    key: &str,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<String, ConfigError> {
    let Some(value) = value else {
        return Err(invalid(
            key,
            "is required (e.g. \"http://127.0.0.1:8096\")".into(),
        ));
    };
    // The clients' own check: a URL accepted here is one they can be built with.
    match parse_base_url(value) {
        Ok(_) => Ok(value.to_string()),
        Err(bad) => Err(invalid(
            key,
            format!(
                "must be an http:// or https:// URL with a host, not {value:?}: {}",
                bad.reason
            ),
        )),
    }
}

/// Most attempts a request may have: more only makes a dead server take longer to be called so.
const MAX_RETRIES: i64 = 10;

/// The request limits of service `name` (`jellyfin`, `radarr`, `sonarr`).
fn http_settings(
    raw: raw::RawHttp,
    name: &str,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<HttpSettings, ConfigError> {
    let defaults = HttpSettings::default();
    let key = |k: &str| format!("{name}.{k}");
    let retries = match raw.retries {
        None => defaults.retries,
        Some(n) if (0..=MAX_RETRIES).contains(&n) => n as u32,
        Some(n) => {
            return Err(invalid(
                &key("retries"),
                format!("must be between 0 and {MAX_RETRIES}, not {n}"),
            ))
        }
    };
    let settings = HttpSettings {
        timeout: duration(
            raw.timeout.as_deref(),
            defaults.timeout,
            &key("timeout"),
            invalid,
        )?,
        list_timeout: duration(
            raw.list_timeout.as_deref(),
            defaults.list_timeout,
            &key("list_timeout"),
            invalid,
        )?,
        connect_timeout: duration(
            raw.connect_timeout.as_deref(),
            defaults.connect_timeout,
            &key("connect_timeout"),
            invalid,
        )?,
        retries,
        ..defaults
    };
    // A pass tells systemd it is alive between its steps; one request must fit in between.
    let longest = settings.longest(crate::clients::http::Class::List);
    if longest > crate::systemd::PROGRESS_GRACE {
        return Err(invalid(
            &key("list_timeout"),
            format!(
                "lets one list request take up to {} with its retry, more than the {} a pass \
                 may go without showing progress; lower it",
                humantime::format_duration(longest),
                humantime::format_duration(crate::systemd::PROGRESS_GRACE)
            ),
        ));
    }
    Ok(settings)
}

/// The `[jellyfin]`/`[radarr]`/`[sonarr]` lines of `config show` for `http`.
fn http_lines(out: &mut String, http: &HttpSettings) {
    let d = |d: Duration| format!("{:?}", humantime::format_duration(d).to_string());
    let _ = writeln!(out, "timeout = {}", d(http.timeout));
    let _ = writeln!(out, "list_timeout = {}", d(http.list_timeout));
    let _ = writeln!(out, "connect_timeout = {}", d(http.connect_timeout));
    let _ = writeln!(out, "retries = {}", http.retries);
}

fn duration(
    value: Option<&str>,
    default: Duration,
    key: &str,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(default),
        Some(text) => match humantime::parse_duration(text) {
            Ok(d) if !d.is_zero() => Ok(d),
            Ok(_) => Err(invalid(key, "must be longer than zero".into())),
            Err(err) => Err(invalid(
                key,
                format!("is not a duration like \"30s\", \"5m\" or \"7d\": {err}"),
            )),
        },
    }
}

fn absolute(
    value: &str,
    key: &str,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if value.starts_with('/') {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!("must be an absolute path, not {value:?}"),
        ))
    }
}

/// "50GB", "1.5 TiB", "200 MiB", "4096" → bytes. Decimal units are powers of 1000, binary of 1024.
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = number * factor;
    (bytes.is_finite() && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// Every key the config file may hold, by table (`""` is the top level, `health.mounts` the
/// `[[health.mounts]]` entries). For tools that must agree with the file format, such as the
/// NixOS module's typed options.
pub fn schema() -> &'static [(&'static str, &'static [&'static str])] {
    raw::SCHEMA
}

/// A complete, commented example: dry run on, every key explained. Shipped as the packaged
/// `/etc/shelflife/config.toml`; a test keeps it valid.
pub const EXAMPLE: &str = include_str!("example.toml");

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const KEY: &str = "s3cr3t-key-value";

    fn env() -> Env {
        Env::from_pairs([
            ("SHELFLIFE_JELLYFIN_API_KEY", KEY),
            ("SHELFLIFE_RADARR_API_KEY", KEY),
            ("SHELFLIFE_SONARR_API_KEY", KEY),
        ])
    }

    const MINIMAL: &str = r#"
[jellyfin]
url = "http://127.0.0.1:8096"
users = ["alice"]

[radarr]
url = "http://127.0.0.1:7878"
"#;

    fn parse(text: &str) -> Result<Loaded, ConfigError> {
        Config::parse(text, Path::new("/etc/shelflife/config.toml"), &env())
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn minimal_config_gets_the_contract_defaults() {
        let Loaded { config, warnings } = parse(MINIMAL).expect("valid");
        assert!(config.dry_run, "dry run must be the default");
        assert_eq!(config.rules, Rules::default());
        assert_eq!(config.jellyfin.users, vec!["alice"]);
        assert_eq!(config.jellyfin.http, HttpSettings::default());
        assert_eq!(config.jellyfin.http.timeout, Duration::from_secs(30));
        assert_eq!(config.jellyfin.http.list_timeout, Duration::from_secs(180));
        assert!(config.sonarr.is_none());
        assert_eq!(
            config.radarr.as_ref().map(|r| r.add_import_exclusion),
            Some(false)
        );
        assert_eq!(config.health.interval, Duration::from_secs(60));
        assert_eq!(config.health.require_healthy_for, None);
        assert_eq!(config.health.policy, GatePolicy::default());
        assert_eq!(config.health.policy.on_degraded_array, OnDegraded::Pause);
        assert_eq!(config.health.policy.on_low_space, OnDegraded::Proceed);
        assert_eq!(config.health.arrays, ArraySources::default());
        assert_eq!(
            config.state.path,
            PathBuf::from("/var/lib/shelflife/state.db")
        );
        assert_eq!(config.metrics.textfile, None);
        // Deleting with nothing checking the storage is allowed, and said.
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].ends_with(NO_MOUNTS), "{warnings:?}");
    }

    #[test]
    fn a_mount_to_check_silences_the_storage_warning() {
        let text = format!(
            "{MINIMAL}\n[[health.mounts]]\npath = \"/srv/media\"\ncanary = \".shelflife-canary\"\n"
        );
        let Loaded { warnings, .. } = parse(&text).expect("valid");
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn request_limits_per_service() {
        let text = format!(
            "{MINIMAL}list_timeout = \"10m\"\nconnect_timeout = \"2s\"\nretries = 0\ntimeout = \"5s\"\n"
        );
        let Loaded { config, .. } = parse(&text).expect("valid");
        let http = &config.radarr.as_ref().expect("radarr").http;
        assert_eq!(http.list_timeout, Duration::from_secs(600));
        assert_eq!(http.connect_timeout, Duration::from_secs(2));
        assert_eq!(http.timeout, Duration::from_secs(5));
        assert_eq!(http.retries, 0);
        assert_eq!(config.jellyfin.http, HttpSettings::default(), "per service");
        let shown = config.to_redacted_toml();
        assert!(shown.contains("list_timeout = \"10m\""), "{shown}");
        assert!(shown.contains("retries = 0"), "{shown}");
        for (bad, says) in [
            (
                "retries = 11\n",
                "`radarr.retries` must be between 0 and 10",
            ),
            ("retries = -1\n", "`radarr.retries`"),
            (
                "list_timeout = \"1h\"\n",
                "`radarr.list_timeout` lets one list request take",
            ),
            (
                "connect_timeout = \"0s\"\n",
                "`radarr.connect_timeout` must be longer than zero",
            ),
        ] {
            let e = err(&format!("{MINIMAL}{bad}"));
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn state_directory_from_systemd() {
        let env = Env::from_pairs([
            ("SHELFLIFE_JELLYFIN_API_KEY", KEY),
            ("SHELFLIFE_RADARR_API_KEY", KEY),
            ("STATE_DIRECTORY", "/var/lib/shelflife:/var/lib/other"),
        ]);
        let loaded = Config::parse(MINIMAL, Path::new("c.toml"), &env).expect("valid");
        assert_eq!(
            loaded.config.state.path,
            PathBuf::from("/var/lib/shelflife/state.db")
        );
        let explicit = format!("{MINIMAL}\n[state]\npath = \"/srv/s.db\"\n");
        let loaded = Config::parse(&explicit, Path::new("c.toml"), &env).expect("valid");
        assert_eq!(loaded.config.state.path, PathBuf::from("/srv/s.db"));
    }

    #[test]
    fn unknown_keys_name_key_table_file_line_and_suggestion() {
        let e = err(&format!("{MINIMAL}\n[rules]\ngrace_dyas = 3\n"));
        assert_eq!(
            e,
            "/etc/shelflife/config.toml: unknown key `grace_dyas` in [rules] (line 10); did you mean `grace_days`?"
        );
        let e = err(&format!("dry_rn = false\n{MINIMAL}"));
        assert!(
            e.contains("unknown key `dry_rn` in the top level (line 1); did you mean `dry_run`?"),
            "{e}"
        );
        let e = err(&format!(
            "{MINIMAL}\n[[path_map]]\njellyfin = \"/a\"\narr_path = \"/b\"\n"
        ));
        assert!(
            e.contains("`arr_path` in [[path_map]]") && e.contains("did you mean `arr`?"),
            "{e}"
        );
        let e = err(&format!(
            "{MINIMAL}\n[[health.mounts]]\npath = \"/srv\"\ncanery = \"x\"\n"
        ));
        assert!(
            e.contains("`canery` in [[health.mounts]]") && e.contains("`canary`"),
            "{e}"
        );
        let e = err(&format!("{MINIMAL}\n[colour]\nx = 1\n"));
        assert!(
            e.contains("unknown key `colour` in the top level") && !e.contains("did you mean"),
            "{e}"
        );
        let e = err(&format!(
            "{MINIMAL}\n[sonarr]\nurl = \"http://s\"\nadd_import_exclusion = true\n"
        ));
        assert!(e.contains("`add_import_exclusion` in [sonarr]"), "{e}");
    }

    #[test]
    fn syntax_and_type_errors_keep_the_position() {
        let e = err("[jellyfin\nurl = 1\n");
        assert!(
            e.starts_with("/etc/shelflife/config.toml: ") && e.contains("line 1"),
            "{e}"
        );
        let e = err(&format!("{MINIMAL}\n[rules]\ngrace_days = \"five\"\n"));
        assert!(e.contains("line 10") && e.contains("grace_days"), "{e}");
    }

    #[test]
    fn invalid_values_are_named() {
        let cases = [
            ("[rules]\nseries_mode = \"weekly\"\n", "rules.series_mode"),
            (
                "[rules]\npartial_season_threshold = 0\n",
                "rules.partial_season_threshold",
            ),
            (
                "[rules]\npartial_season_threshold = 1.5\n",
                "rules.partial_season_threshold",
            ),
            (
                "[rules]\nmax_deletions_per_run = 0\n",
                "rules.max_deletions_per_run",
            ),
            ("[rules]\ngrace_days = -1\n", "rules.grace_days"),
            ("[rules]\nkeep_tags = [\"\"]\n", "rules.keep_tags"),
            ("[health]\ninterval = \"soon\"\n", "health.interval"),
            (
                "[health]\non_low_space = \"maybe\"\n",
                "health.on_low_space",
            ),
            (
                "[health]\nrequire_healthy_for = \"0s\"\n",
                "health.require_healthy_for",
            ),
            (
                "[[health.mounts]]\npath = \"/srv\"\nmin_free_percent = 150.0\n",
                "health.mounts[1].min_free_percent",
            ),
            (
                "[[health.mounts]]\npath = \"/srv\"\nmin_free_bytes = \"lots\"\n",
                "health.mounts[1].min_free_bytes",
            ),
            (
                "[[health.mounts]]\npath = \"/srv\"\nmin_free_bytes = -1\n",
                "health.mounts[1].min_free_bytes",
            ),
            (
                "[[path_map]]\njellyfin = \"media\"\narr = \"/m\"\n",
                "path_map[1].jellyfin",
            ),
            (
                "[[health.mounts]]\npath = \"srv\"\n",
                "health.mounts[1].path",
            ),
            ("[metrics]\ntextfile = \"m.prom\"\n", "metrics.textfile"),
        ];
        for (extra, key) in cases {
            let e = err(&format!("{MINIMAL}\n{extra}"));
            assert!(e.contains(&format!("`{key}`")), "{extra}: {e}");
        }
        let bad_url = MINIMAL.replace("http://127.0.0.1:8096", "127.0.0.1:8096");
        assert!(err(&bad_url).contains("`jellyfin.url` must be an http:// or https:// URL"));
        let no_users = MINIMAL.replace("users = [\"alice\"]", "users = []");
        assert!(err(&no_users).contains("`jellyfin.users`"));
        let bad_watch = format!(
            "{}watched_by = \"most\"\n",
            MINIMAL.replace("[radarr]\nurl = \"http://127.0.0.1:7878\"\n", "")
        );
        assert!(
            err(&bad_watch).contains("`jellyfin.watched_by`"),
            "{}",
            err(&bad_watch)
        );
        assert!(err("dry_run = true\n").contains("[jellyfin]"));
    }

    fn loaded_key(text: &str, env: &Env) -> Result<Secret, ConfigError> {
        Config::parse(text, Path::new("c.toml"), env).map(|l| l.config.jellyfin.api_key)
    }

    const JF_ONLY: &str = "[jellyfin]\nurl = \"http://j\"\nusers = [\"a\"]\n";

    #[test]
    fn secrets_come_from_the_first_source_that_has_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key_file = dir.path().join("jf.key");
        std::fs::write(&key_file, "from-file\n").expect("write");
        let creds = dir.path().join("creds");
        std::fs::create_dir(&creds).expect("mkdir");
        std::fs::write(creds.join("jellyfin"), "from-credential").expect("write");
        let creds_str = creds.display().to_string();
        let full_env = Env::from_pairs([
            ("CREDENTIALS_DIRECTORY", creds_str.as_str()),
            ("SHELFLIFE_JELLYFIN_API_KEY", "from-env"),
        ]);

        let inline = format!("{JF_ONLY}api_key = \"inline\"\n");
        assert_eq!(
            loaded_key(&inline, &full_env).expect("ok").expose(),
            "inline"
        );
        let file = format!("{JF_ONLY}api_key_file = \"{}\"\n", key_file.display());
        assert_eq!(
            loaded_key(&file, &full_env).expect("ok").expose(),
            "from-file"
        );
        assert_eq!(
            loaded_key(JF_ONLY, &full_env).expect("ok").expose(),
            "from-credential"
        );
        let credstore = dir.path().join("credstore");
        std::fs::create_dir(&credstore).expect("mkdir");
        std::fs::write(credstore.join("shelflife.jellyfin"), "from-credstore\n").expect("write");
        let env_only = Env::from_pairs([("SHELFLIFE_JELLYFIN_API_KEY", "from-env")])
            .with_credstore(&credstore);
        assert_eq!(
            loaded_key(JF_ONLY, &env_only).expect("ok").expose(),
            "from-env"
        );
        // Last: the credential store the units load from, for root at a shell.
        let bare = Env::default().with_credstore(&credstore);
        assert_eq!(
            loaded_key(JF_ONLY, &bare).expect("ok").expose(),
            "from-credstore"
        );
        let e = loaded_key(JF_ONLY, &Env::default().with_credstore(dir.path()))
            .expect_err("no shelflife.jellyfin there")
            .to_string();
        assert!(e.contains("shelflife.jellyfin"), "{e}");
    }

    #[test]
    fn secret_errors() {
        let both = format!("{JF_ONLY}api_key = \"a\"\napi_key_file = \"/k\"\n");
        let e = loaded_key(&both, &Env::default())
            .expect_err("both set")
            .to_string();
        assert!(e.contains("api_key_file are both set"), "{e}");

        let e = loaded_key(JF_ONLY, &Env::default())
            .expect_err("none")
            .to_string();
        assert!(
            e.contains("no API key for jellyfin")
                && e.contains("jellyfin.api_key_file")
                && e.contains("$CREDENTIALS_DIRECTORY/jellyfin")
                && e.contains("$SHELFLIFE_JELLYFIN_API_KEY"),
            "{e}"
        );

        let missing = format!("{JF_ONLY}api_key_file = \"/nonexistent/jf.key\"\n");
        let e = loaded_key(&missing, &Env::default())
            .expect_err("unreadable")
            .to_string();
        assert!(e.contains("/nonexistent/jf.key"), "{e}");

        let empty = format!("{JF_ONLY}api_key = \"  \"\n");
        let e = loaded_key(&empty, &Env::default())
            .expect_err("empty")
            .to_string();
        assert!(e.contains("is empty"), "{e}");
    }

    #[test]
    fn secrets_never_show() {
        let text = format!(
            "{JF_ONLY}api_key = \"{KEY}\"\n[radarr]\nurl = \"http://r\"\napi_key = \"{KEY}\"\n"
        );
        let loaded = Config::parse(&text, Path::new("c.toml"), &Env::default()).expect("valid");
        let shown = loaded.config.to_redacted_toml();
        assert!(!shown.contains(KEY), "{shown}");
        assert!(
            shown.contains("api_key = \"<redacted: from inline jellyfin.api_key>\""),
            "{shown}"
        );
        assert!(!format!("{:?}", loaded.config).contains(KEY));
        // What `config show` prints is itself a valid config shape (keys the parser knows).
        let reparsed: Result<toml::Table, _> = toml::from_str(&shown);
        assert!(reparsed.is_ok(), "{shown}");
    }

    #[test]
    fn world_readable_inline_key_warns() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, format!("{JF_ONLY}api_key = \"{KEY}\"\n")).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let loaded = Config::load(&path, &Env::default()).expect("valid");
        assert!(
            loaded
                .warnings
                .iter()
                .any(|w| w.contains("other users can read it") && w.contains("chmod 600")),
            "{:?}",
            loaded.warnings
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let loaded = Config::load(&path, &Env::default()).expect("valid");
        assert!(!loaded
            .warnings
            .iter()
            .any(|w| w.contains("other users can read it")));
    }

    #[test]
    fn missing_file_is_named() {
        let e = Config::load(Path::new("/nonexistent/shelflife.toml"), &env())
            .expect_err("missing")
            .to_string();
        assert!(e.contains("/nonexistent/shelflife.toml"), "{e}");
    }

    #[test]
    fn example_is_valid_and_dry() {
        // As the shipped units run it: keys from $CREDENTIALS_DIRECTORY, state from
        // $STATE_DIRECTORY.
        let dir = tempfile::tempdir().expect("tempdir");
        for service in ["jellyfin", "radarr", "sonarr"] {
            std::fs::write(dir.path().join(service), KEY).expect("write");
        }
        let creds = dir.path().display().to_string();
        let env = Env::from_pairs([
            ("CREDENTIALS_DIRECTORY", creds.as_str()),
            ("STATE_DIRECTORY", "/var/lib/shelflife"),
        ]);
        let loaded = Config::parse(EXAMPLE, Path::new("/etc/shelflife/config.toml"), &env)
            .expect("the shipped example must parse");
        let config = loaded.config;
        assert!(config.dry_run);
        assert!(config.radarr.is_some() && config.sonarr.is_some());
        assert_eq!(config.jellyfin.api_key.expose(), KEY);
        assert_eq!(
            config.state.path,
            Path::new("/var/lib/shelflife/state.db"),
            "the state path is left to systemd"
        );
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("50GB"), Some(50_000_000_000));
        assert_eq!(parse_size("1.5 TiB"), Some(1_649_267_441_664));
        assert_eq!(parse_size("200 MiB"), Some(200 * 1024 * 1024));
        assert_eq!(parse_size("10 parsecs"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn mount_keys_and_health_policy_are_read() {
        let text = format!(
            "{MINIMAL}\n[health]\nrequire_healthy_for = \"10m\"\non_degraded_array = \"proceed\"\n\
             on_low_space = \"pause\"\nmdstat = \"/tmp/mdstat\"\n\n[[health.mounts]]\npath = \"/srv\"\n\
             fstype = \"nfs4\"\ncanary = \".c\"\ntimeout = \"2s\"\nallow_readonly = true\n\
             min_free_percent = 10\nmin_free_bytes = \"1GB\"\n"
        );
        let config = parse(&text).expect("valid").config;
        let h = &config.health;
        assert_eq!(h.require_healthy_for, Some(Duration::from_secs(600)));
        assert_eq!(
            h.policy,
            GatePolicy {
                on_degraded_array: OnDegraded::Proceed,
                on_low_space: OnDegraded::Pause
            }
        );
        assert_eq!(h.arrays.mdstat, PathBuf::from("/tmp/mdstat"));
        let m = &h.mounts[0];
        assert_eq!(m.fstype.as_deref(), Some("nfs4"));
        assert_eq!(m.timeout, Duration::from_secs(2));
        assert!(m.allow_readonly);
        assert_eq!(m.min_free_percent, 10.0);
        assert_eq!(m.min_free_bytes, 1_000_000_000);
        // What `config show` prints loads back to the same health config.
        let again = parse(&config.to_redacted_toml())
            .expect("shown config loads")
            .config;
        assert_eq!(again.health, config.health);
    }
}
