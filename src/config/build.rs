//! Raw → validated: every key checked and named in its error, every default filled in from
//! [`crate::defaults`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::notice;
use super::raw::{self, RawSize};
use super::seerr;
use super::values::{absolute, duration, parse_size, plain_name, url};
use super::{
    secrets, ArrConfig, Config, ConfigError, Env, HealthConfig, JellyfinConfig, MetricsConfig,
    MountConfig, PathMap, SpaceTarget, StateConfig, NO_MOUNTS,
};
use crate::clients::http::{Class, HttpSettings};
use crate::clients::Service;
use crate::defaults;
use crate::health::arrays::ArraySources;
use crate::health::gate::{GatePolicy, OnDegraded};
use crate::rules::{Copies, GraceTier, Rules, SeriesMode, WatchedBy};

/// Makes the error for a bad value of `key`.
pub(super) type Invalid<'a> = &'a dyn Fn(&str, String) -> ConfigError;

/// Longest notice: a year. Anything longer is more likely a typo than a wish.
const MAX_NOTICE_DAYS: u32 = 365;

/// Most attempts a request may have: more only makes a dead server take longer to be called so.
const MAX_RETRIES: i64 = 10;

pub(super) fn build(
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
    let (jellyfin, watched_by) = jellyfin(raw.jellyfin, source, env, &invalid)?;
    let radarr = arrs(Service::Radarr, raw.radarr, source, env, &invalid)?;
    let sonarr = arrs(Service::Sonarr, raw.sonarr, source, env, &invalid)?;
    unique_names(&radarr, &sonarr, &invalid)?;
    let rules = rules(raw.rules.unwrap_or_default(), watched_by, &invalid)?;
    let leaving_soon = notice::leaving_soon(raw.leaving_soon, &rules, source, warnings, &invalid)?;
    let (notify, notify_token_origins) = notice::targets(raw.notify, source, env, &invalid)?;
    let seerr = seerr::seerr(raw.seerr, source, env, &invalid)?;
    let path_map = path_maps(raw.path_map.unwrap_or_default(), &invalid)?;
    let health = health(raw.health.unwrap_or_default(), &invalid)?;
    let state_path = state_path(raw.state.and_then(|s| s.path), env, &invalid)?;
    let textfile = match raw.metrics.and_then(|m| m.textfile) {
        Some(p) => {
            absolute(&p, "metrics.textfile", &invalid)?;
            Some(PathBuf::from(p))
        }
        None => None,
    };

    if radarr.is_empty() && sonarr.is_empty() {
        warnings.push(format!(
            "{}: neither [radarr] nor [sonarr] is configured, so nothing can be deleted",
            source.display()
        ));
    } else if health.mounts.is_empty() {
        warnings.push(format!("{}: {NO_MOUNTS}", source.display()));
    }

    Ok(Config {
        source: source.to_path_buf(),
        dry_run: raw.dry_run.unwrap_or(defaults::DRY_RUN),
        jellyfin,
        radarr,
        sonarr,
        rules,
        leaving_soon,
        notify,
        notify_token_origins,
        seerr,
        path_map,
        health,
        state: StateConfig { path: state_path },
        metrics: MetricsConfig { textfile },
    })
}

/// `[jellyfin]`, and its `watched_by` (a rule, kept with the users it counts).
fn jellyfin(
    raw: Option<raw::RawJellyfin>,
    source: &Path,
    env: &Env,
    invalid: Invalid,
) -> Result<(JellyfinConfig, WatchedBy), ConfigError> {
    let Some(mut jf) = raw else {
        return Err(invalid(
            "[jellyfin]",
            "is missing: shelflife needs Jellyfin's url, an API key and users".into(),
        ));
    };
    let jf_url = url(jf.url.as_deref(), "jellyfin.url", invalid)?;
    let http = http_settings(jf.http(), Service::Jellyfin.key(), invalid)?;
    let users = jf.users.unwrap_or_default();
    if users.is_empty() || users.iter().any(|u| u.trim().is_empty()) {
        return Err(invalid(
            "jellyfin.users",
            "must list at least one Jellyfin user name, none empty (e.g. users = [\"alice\"])"
                .into(),
        ));
    }
    let watched_by = match jf.watched_by.as_deref() {
        None => Rules::default().watched_by,
        Some("any") => WatchedBy::Any,
        Some("all") => WatchedBy::All,
        Some(other) => {
            return Err(invalid(
                "jellyfin.watched_by",
                format!("must be \"any\" or \"all\", not {other:?}"),
            ))
        }
    };
    let jellyfin = JellyfinConfig {
        url: jf_url,
        api_key: secrets::resolve(
            Service::Jellyfin.key(),
            Service::Jellyfin.key(),
            jf.api_key,
            jf.api_key_file,
            source,
            env,
        )?,
        users,
        http,
    };
    Ok((jellyfin, watched_by))
}

/// `[radarr]` or `[[radarr]]` (or Sonarr's). The key schema keeps `add_import_exclusion` out of
/// Sonarr's tables.
fn arrs(
    service: Service,
    raw: Option<raw::Tables<raw::RawArr>>,
    source: &Path,
    env: &Env,
    invalid: Invalid,
) -> Result<Vec<ArrConfig>, ConfigError> {
    let Some(tables) = raw else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(tables.items.len());
    for (i, mut a) in tables.items.into_iter().enumerate() {
        // The key of this table in messages: `radarr`, or `radarr[2]` in an array.
        let table = if tables.array {
            format!("{}[{}]", service.key(), i + 1)
        } else {
            service.key().to_owned()
        };
        let name = match a.name.take() {
            None => service.key().to_owned(),
            Some(name) => instance_name(service, name, &format!("{table}.name"), invalid)?,
        };
        let http = http_settings(a.http(), &table, invalid)?;
        out.push(ArrConfig {
            url: url(a.url.as_deref(), &format!("{table}.url"), invalid)?,
            api_key: secrets::resolve(&name, &table, a.api_key, a.api_key_file, source, env)?,
            add_import_exclusion: a
                .add_import_exclusion
                .unwrap_or(defaults::ADD_IMPORT_EXCLUSION),
            http,
            name,
        });
    }
    Ok(out)
}

/// A checked instance name: it names a credential file and an environment variable, so it is
/// plain (`4k`, `anime`, `radarr-kids`), and it may not be another server's own name.
fn instance_name(
    service: Service,
    name: String,
    key: &str,
    invalid: Invalid,
) -> Result<String, ConfigError> {
    let name = plain_name(name, key, invalid)?;
    // Another server's own name would read its credential and mislead every log line.
    let taken = ["jellyfin", "radarr", "sonarr", "seerr"]
        .into_iter()
        .any(|other| other != service.key() && other == name);
    if taken {
        return Err(invalid(
            key,
            format!("must not be {name:?}: that is the name of another server's credentials"),
        ));
    }
    // `notify-<name>` is a notify target's token.
    if name.starts_with("notify-") {
        return Err(invalid(
            key,
            format!(
                "must not start with `notify-`, not {name:?}: such credentials hold the tokens \
                 of [[notify]] targets"
            ),
        ));
    }
    Ok(name)
}

/// No two instances share a name, nor an environment variable for their key.
fn unique_names(
    radarr: &[ArrConfig],
    sonarr: &[ArrConfig],
    invalid: Invalid,
) -> Result<(), ConfigError> {
    let mut seen: Vec<(String, &str)> = Vec::new();
    for (service, arrs) in [("radarr", radarr), ("sonarr", sonarr)] {
        for a in arrs {
            let env_name = secrets::env_var_of(&a.name);
            if let Some((_, first)) = seen.iter().find(|(e, _)| *e == env_name) {
                let message = if *first == a.name {
                    format!(
                        "{:?} names two instances; give each [[{service}]] its own `name`",
                        a.name
                    )
                } else {
                    format!(
                        "{:?} and {first:?} would share the key variable ${env_name}; rename one",
                        a.name
                    )
                };
                return Err(invalid(&format!("{service}.name"), message));
            }
            seen.push((env_name, &a.name));
        }
    }
    Ok(())
}

fn rules(r: raw::RawRules, watched_by: WatchedBy, invalid: Invalid) -> Result<Rules, ConfigError> {
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
    let notice_days = match r.notice_days {
        None => defaults.notice_days,
        Some(d) => u32::try_from(d)
            .ok()
            .filter(|d| *d <= MAX_NOTICE_DAYS)
            .ok_or_else(|| {
                invalid(
                    "rules.notice_days",
                    format!("must be a whole number of days from 0 to {MAX_NOTICE_DAYS}, not {d}"),
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
    let copies = match r.copies.as_deref() {
        None => defaults.copies,
        Some("together") => Copies::Together,
        Some("separate") => Copies::Separate,
        Some(other) => {
            return Err(invalid(
                "rules.copies",
                format!("must be \"together\" or \"separate\", not {other:?}"),
            ))
        }
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
        notice_days,
        keep_tags,
        keep_favorites: r.keep_favorites.unwrap_or(defaults.keep_favorites),
        keep_lossless: r.keep_lossless.unwrap_or(defaults.keep_lossless),
        series_mode,
        partial_season_threshold: threshold,
        protect_latest_season: r
            .protect_latest_season
            .unwrap_or(defaults.protect_latest_season),
        max_deletions_per_run,
        copies,
    })
}

/// The request limits of service `name` (`jellyfin`, `radarr`, `sonarr`).
pub(super) fn http_settings(
    raw: raw::RawHttp,
    name: &str,
    invalid: Invalid,
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
    let longest = settings.longest(Class::List);
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

fn path_maps(raw: Vec<raw::RawPathMap>, invalid: Invalid) -> Result<Vec<PathMap>, ConfigError> {
    let mut path_map = Vec::new();
    for (i, m) in raw.into_iter().enumerate() {
        let key = |k: &str| format!("path_map[{}].{k}", i + 1);
        let (Some(jellyfin), Some(arr)) = (m.jellyfin, m.arr) else {
            return Err(invalid(
                &format!("path_map[{}]", i + 1),
                "needs both `jellyfin` and `arr`".into(),
            ));
        };
        absolute(&jellyfin, &key("jellyfin"), invalid)?;
        absolute(&arr, &key("arr"), invalid)?;
        path_map.push(PathMap { jellyfin, arr });
    }
    Ok(path_map)
}

fn health(raw: raw::RawHealth, invalid: Invalid) -> Result<HealthConfig, ConfigError> {
    let mounts = raw
        .mounts
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, m)| mount(m, i, invalid))
        .collect::<Result<Vec<_>, _>>()?;
    one_mount_per_root_folder(&mounts, invalid)?;
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
    let policy = GatePolicy::default();
    let arrays = ArraySources::default();
    let source_path =
        |value: Option<String>, default: PathBuf| value.map_or(default, PathBuf::from);
    Ok(HealthConfig {
        interval: duration(
            raw.interval.as_deref(),
            defaults::HEALTH_INTERVAL,
            "health.interval",
            invalid,
        )?,
        // Off unless set: it needs the monitor running.
        require_healthy_for: raw
            .require_healthy_for
            .as_deref()
            .map(|text| {
                duration(
                    Some(text),
                    Duration::ZERO,
                    "health.require_healthy_for",
                    invalid,
                )
            })
            .transpose()?,
        policy: GatePolicy {
            on_degraded_array: on_degraded(
                raw.on_degraded_array,
                policy.on_degraded_array,
                "health.on_degraded_array",
            )?,
            on_low_space: on_degraded(
                raw.on_low_space,
                policy.on_low_space,
                "health.on_low_space",
            )?,
        },
        arrays: ArraySources {
            mdstat: source_path(raw.mdstat, arrays.mdstat),
            zpool: source_path(raw.zpool, arrays.zpool),
            btrfs_sysfs: source_path(raw.btrfs_sysfs, arrays.btrfs_sysfs),
            zfs_module: arrays.zfs_module,
            timeout: arrays.timeout,
        },
        mounts,
    })
}

/// The `i`-th (from 0) `[[health.mounts]]`.
fn mount(m: raw::RawMount, i: usize, invalid: Invalid) -> Result<MountConfig, ConfigError> {
    let key = |k: &str| format!("health.mounts[{}].{k}", i + 1);
    let Some(path) = m.path else {
        return Err(invalid(&key("path"), "is required".into()));
    };
    absolute(&path, &key("path"), invalid)?;
    if let Some(canary) = &m.canary {
        if canary.is_empty() || canary.split('/').any(|c| c == "..") {
            return Err(invalid(
                &key("canary"),
                "must name a file inside the mount".into(),
            ));
        }
    }
    let root_folders = m.root_folders.unwrap_or_default();
    for folder in &root_folders {
        absolute(folder, &key("root_folders"), invalid)?;
    }
    let grace_tiers = m
        .grace_tiers
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(t, tier)| grace_tier(tier, &key(&format!("grace_tiers[{}]", t + 1)), invalid))
        .collect::<Result<Vec<_>, _>>()?;
    if !grace_tiers.is_empty() && root_folders.is_empty() {
        return Err(invalid(
            &key("grace_tiers"),
            "needs `root_folders`: the *arr root folders whose files lie on this mount".into(),
        ));
    }
    let target_free_percent = match m.target_free_percent {
        None => None,
        Some(p) if p > 0.0 && p < 100.0 => Some(p),
        Some(p) => {
            return Err(invalid(
                &key("target_free_percent"),
                format!("must be more than 0 and less than 100, not {p}"),
            ))
        }
    };
    let target_free_bytes = m
        .target_free_bytes
        .map(|size| size_of(size, &key("target_free_bytes"), invalid))
        .transpose()?;
    let has_target = target_free_percent.is_some() || target_free_bytes.is_some();
    let target = match m.space_mode.as_deref() {
        None | Some("always") if has_target => {
            return Err(invalid(
                &key("target_free_percent"),
                "needs `space_mode = \"when_low\"`: a target says how far to delete when \
                 space is low"
                    .into(),
            ))
        }
        None | Some("always") => None,
        Some("when_low") if !has_target => {
            return Err(invalid(
                &key("space_mode"),
                "\"when_low\" needs `target_free_percent` or `target_free_bytes`".into(),
            ))
        }
        Some("when_low") if root_folders.is_empty() => {
            return Err(invalid(
                &key("space_mode"),
                "needs `root_folders`: the *arr root folders whose files lie on this mount".into(),
            ))
        }
        Some("when_low") => Some(SpaceTarget {
            free_percent: target_free_percent,
            free_bytes: target_free_bytes,
        }),
        Some(other) => {
            return Err(invalid(
                &key("space_mode"),
                format!("must be \"always\" or \"when_low\", not {other:?}"),
            ))
        }
    };
    Ok(MountConfig {
        root_folders,
        grace_tiers,
        target,
        path: PathBuf::from(path),
        fstype: m.fstype,
        canary: m.canary,
        timeout: duration(
            m.timeout.as_deref(),
            defaults::MOUNT_TIMEOUT,
            &key("timeout"),
            invalid,
        )?,
        allow_readonly: m.allow_readonly.unwrap_or(defaults::ALLOW_READONLY),
        min_free_percent: match m.min_free_percent {
            None => defaults::MIN_FREE_PERCENT,
            Some(p) if (0.0..=100.0).contains(&p) => p,
            Some(p) => {
                return Err(invalid(
                    &key("min_free_percent"),
                    format!("must be between 0 and 100, not {p}"),
                ))
            }
        },
        min_free_bytes: match m.min_free_bytes {
            None => defaults::MIN_FREE_BYTES,
            Some(size) => size_of(size, &key("min_free_bytes"), invalid)?,
        },
    })
}

/// A size as written (bytes, or text such as "50GB"), called `key` in messages.
fn size_of(size: RawSize, key: &str, invalid: Invalid) -> Result<u64, ConfigError> {
    match size {
        RawSize::Bytes(n) => {
            u64::try_from(n).map_err(|_| invalid(key, "must not be negative".into()))
        }
        RawSize::Text(text) => parse_size(&text).ok_or_else(|| {
            invalid(
                key,
                format!("is not a size like \"50GB\" or \"1.5 TiB\": {text:?}"),
            )
        }),
    }
}

/// One of a mount's `grace_tiers`, called `key` in messages.
fn grace_tier(tier: raw::RawTier, key: &str, invalid: Invalid) -> Result<GraceTier, ConfigError> {
    let (Some(below), Some(days)) = (tier.below_free_percent, tier.grace_days) else {
        return Err(invalid(
            key,
            "needs both `below_free_percent` and `grace_days`, e.g. \
             { below_free_percent = 15, grace_days = 3 }"
                .into(),
        ));
    };
    if !(below > 0.0 && below <= 100.0) {
        return Err(invalid(
            &format!("{key}.below_free_percent"),
            format!("must be more than 0 and at most 100, not {below}"),
        ));
    }
    let grace_days = u32::try_from(days).map_err(|_| {
        invalid(
            &format!("{key}.grace_days"),
            format!("must be a whole number of days, 0 or more, not {days}"),
        )
    })?;
    Ok(GraceTier {
        below_free_percent: below,
        grace_days,
    })
}

/// No *arr root folder is said to lie on two mounts.
fn one_mount_per_root_folder(mounts: &[MountConfig], invalid: Invalid) -> Result<(), ConfigError> {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for (i, m) in mounts.iter().enumerate() {
        for folder in &m.root_folders {
            let folder = folder.trim_end_matches('/');
            if let Some((_, first)) = seen.iter().find(|(f, _)| *f == folder) {
                return Err(invalid(
                    &format!("health.mounts[{}].root_folders", i + 1),
                    format!(
                        "names {folder}, which health.mounts[{}] holds already",
                        first + 1
                    ),
                ));
            }
            seen.push((folder, i));
        }
    }
    Ok(())
}

/// `[state] path`, else systemd's `STATE_DIRECTORY`, else the default.
fn state_path(raw: Option<String>, env: &Env, invalid: Invalid) -> Result<PathBuf, ConfigError> {
    Ok(match raw {
        Some(p) => {
            absolute(&p, "state.path", invalid)?;
            PathBuf::from(p)
        }
        None => match env.var("STATE_DIRECTORY") {
            // systemd may pass several directories separated by ':'; the first is ours.
            Some(dirs) if !dirs.is_empty() => {
                PathBuf::from(dirs.split(':').next().unwrap_or(dirs)).join("state.db")
            }
            _ => PathBuf::from(defaults::STATE_PATH),
        },
    })
}
