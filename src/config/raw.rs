//! The config file as written: every key optional, unknown keys refused with a suggestion.

use std::path::Path;

use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub dry_run: Option<bool>,
    pub jellyfin: Option<RawJellyfin>,
    pub radarr: Option<Tables<RawArr>>,
    pub sonarr: Option<Tables<RawArr>>,
    pub rules: Option<RawRules>,
    pub leaving_soon: Option<RawLeavingSoon>,
    pub notify: Option<Tables<RawNotify>>,
    pub seerr: Option<RawSeerr>,
    pub path_map: Option<Vec<RawPathMap>>,
    pub health: Option<RawHealth>,
    pub state: Option<RawState>,
    pub metrics: Option<RawMetrics>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJellyfin {
    pub url: Option<String>,
    pub api_key: Option<String>,
    pub api_key_file: Option<String>,
    pub users: Option<Vec<String>>,
    pub watched_by: Option<String>,
    pub timeout: Option<String>,
    pub list_timeout: Option<String>,
    pub connect_timeout: Option<String>,
    pub retries: Option<i64>,
}

/// The request limits every service table may set, as written.
#[derive(Debug, Default)]
pub(super) struct RawHttp {
    pub timeout: Option<String>,
    pub list_timeout: Option<String>,
    pub connect_timeout: Option<String>,
    pub retries: Option<i64>,
}

/// A table that may be written once (`[radarr]`) or several times (`[[radarr]]`).
#[derive(Debug, Default)]
pub(super) struct Tables<T> {
    pub items: Vec<T>,
    /// Written as an array of tables.
    pub array: bool,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Tables<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Through a `Value`, so a bad key in one table is reported as itself and not as "matches
        // neither a table nor an array".
        let one = |v: toml::Value| T::deserialize(v).map_err(D::Error::custom);
        match toml::Value::deserialize(d)? {
            table @ toml::Value::Table(_) => Ok(Tables {
                items: vec![one(table)?],
                array: false,
            }),
            toml::Value::Array(values) => Ok(Tables {
                items: values.into_iter().map(one).collect::<Result<_, _>>()?,
                array: true,
            }),
            other => Err(D::Error::custom(format!(
                "must be a table or an array of tables, not a {}",
                other.type_str()
            ))),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawArr {
    pub name: Option<String>,
    pub url: Option<String>,
    pub api_key: Option<String>,
    pub api_key_file: Option<String>,
    pub add_import_exclusion: Option<bool>,
    pub timeout: Option<String>,
    pub list_timeout: Option<String>,
    pub connect_timeout: Option<String>,
    pub retries: Option<i64>,
}

/// The request limits of a service table (`[jellyfin]`, `[radarr]`, `[sonarr]`), taken out.
macro_rules! take_http {
    ($table:ty) => {
        impl $table {
            pub fn http(&mut self) -> RawHttp {
                RawHttp {
                    timeout: self.timeout.take(),
                    list_timeout: self.list_timeout.take(),
                    connect_timeout: self.connect_timeout.take(),
                    retries: self.retries.take(),
                }
            }
        }
    };
}

take_http!(RawJellyfin);
take_http!(RawSeerr);
take_http!(RawArr);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRules {
    pub grace_days: Option<i64>,
    pub notice_days: Option<i64>,
    pub keep_tags: Option<Vec<String>>,
    pub keep_favorites: Option<bool>,
    pub keep_lossless: Option<bool>,
    pub series_mode: Option<String>,
    pub partial_season_threshold: Option<f64>,
    pub protect_latest_season: Option<bool>,
    pub max_deletions_per_run: Option<i64>,
    pub copies: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLeavingSoon {
    pub enabled: Option<bool>,
    pub collection: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSeerr {
    pub url: Option<String>,
    pub api_key: Option<String>,
    pub api_key_file: Option<String>,
    pub timeout: Option<String>,
    pub list_timeout: Option<String>,
    pub connect_timeout: Option<String>,
    pub retries: Option<i64>,
    pub request_protection_days: Option<i64>,
    pub keep_until_requester_watched: Option<bool>,
}

/// One notification target: `[notify]`, or an entry of `[[notify]]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub url: Option<String>,
    pub command: Option<Vec<String>>,
    pub events: Option<Vec<String>>,
    pub timeout: Option<String>,
    pub token: Option<String>,
    pub token_file: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPathMap {
    pub jellyfin: Option<String>,
    pub arr: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHealth {
    pub interval: Option<String>,
    pub require_healthy_for: Option<String>,
    pub on_degraded_array: Option<String>,
    pub on_low_space: Option<String>,
    pub mdstat: Option<String>,
    pub zpool: Option<String>,
    pub btrfs_sysfs: Option<String>,
    pub mounts: Option<Vec<RawMount>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMount {
    pub path: Option<String>,
    pub fstype: Option<String>,
    pub canary: Option<String>,
    pub timeout: Option<String>,
    pub allow_readonly: Option<bool>,
    pub min_free_percent: Option<f64>,
    pub min_free_bytes: Option<RawSize>,
    pub root_folders: Option<Vec<String>>,
    pub grace_tiers: Option<Vec<RawTier>>,
    pub space_mode: Option<String>,
    pub target_free_percent: Option<f64>,
    pub target_free_bytes: Option<RawSize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTier {
    pub below_free_percent: Option<f64>,
    pub grace_days: Option<i64>,
}

/// A size: a number of bytes, or text such as "50GB" or "1.5 TiB".
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawSize {
    Bytes(i64),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawState {
    pub path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetrics {
    pub textfile: Option<String>,
}

/// The keys each table may hold. Kept next to the structs above; a test checks the two agree.
pub(super) const SCHEMA: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "dry_run",
            "jellyfin",
            "radarr",
            "sonarr",
            "rules",
            "leaving_soon",
            "notify",
            "seerr",
            "path_map",
            "health",
            "state",
            "metrics",
        ],
    ),
    (
        "jellyfin",
        &[
            "url",
            "api_key",
            "api_key_file",
            "users",
            "watched_by",
            "timeout",
            "list_timeout",
            "connect_timeout",
            "retries",
        ],
    ),
    (
        "radarr",
        &[
            "name",
            "url",
            "api_key",
            "api_key_file",
            "add_import_exclusion",
            "timeout",
            "list_timeout",
            "connect_timeout",
            "retries",
        ],
    ),
    (
        "sonarr",
        &[
            "name",
            "url",
            "api_key",
            "api_key_file",
            "timeout",
            "list_timeout",
            "connect_timeout",
            "retries",
        ],
    ),
    (
        "rules",
        &[
            "grace_days",
            "notice_days",
            "keep_tags",
            "keep_favorites",
            "keep_lossless",
            "series_mode",
            "partial_season_threshold",
            "protect_latest_season",
            "max_deletions_per_run",
            "copies",
        ],
    ),
    ("leaving_soon", &["enabled", "collection"]),
    (
        "notify",
        &[
            "name",
            "kind",
            "url",
            "command",
            "events",
            "timeout",
            "token",
            "token_file",
        ],
    ),
    ("path_map", &["jellyfin", "arr"]),
    (
        "health",
        &[
            "interval",
            "require_healthy_for",
            "on_degraded_array",
            "on_low_space",
            "mdstat",
            "zpool",
            "btrfs_sysfs",
            "mounts",
        ],
    ),
    (
        "health.mounts",
        &[
            "path",
            "fstype",
            "canary",
            "timeout",
            "allow_readonly",
            "min_free_percent",
            "min_free_bytes",
            "root_folders",
            "grace_tiers",
            "space_mode",
            "target_free_percent",
            "target_free_bytes",
        ],
    ),
    (
        "health.mounts.grace_tiers",
        &["below_free_percent", "grace_days"],
    ),
    ("state", &["path"]),
    ("metrics", &["textfile"]),
    (
        "seerr",
        &[
            "url",
            "api_key",
            "api_key_file",
            "timeout",
            "list_timeout",
            "connect_timeout",
            "retries",
            "request_protection_days",
            "keep_until_requester_watched",
        ],
    ),
];

fn known_keys(table: &str) -> Option<&'static [&'static str]> {
    SCHEMA.iter().find(|(t, _)| *t == table).map(|(_, k)| *k)
}

/// Parses the text: syntax first, then unknown keys (with a suggestion), then types.
pub(super) fn parse(text: &str, source: &Path) -> Result<RawConfig, ConfigError> {
    let syntax = |err: toml::de::Error| ConfigError::Syntax {
        path: source.to_path_buf(),
        message: err.to_string().trim_end().to_string(),
    };
    let table: toml::Table = toml::from_str(text).map_err(syntax)?;
    check_keys(&table, "", false, text, source)?;
    toml::from_str(text).map_err(syntax)
}

/// Checks the keys of `table`, called `name` (`""` at the top level); `in_array` when it is one
/// of an array of tables (`[[radarr]]`).
fn check_keys(
    table: &toml::Table,
    name: &str,
    in_array: bool,
    text: &str,
    source: &Path,
) -> Result<(), ConfigError> {
    let Some(known) = known_keys(name) else {
        return Ok(());
    };
    for (key, value) in table {
        if !known.contains(&key.as_str()) {
            return Err(ConfigError::UnknownKey {
                path: source.to_path_buf(),
                key: key.clone(),
                table: describe_table(name, in_array),
                line: find_line(text, name, key),
                suggestion: suggest(key, known),
            });
        }
        let child = if name.is_empty() {
            key.clone()
        } else {
            format!("{name}.{key}")
        };
        match value {
            toml::Value::Table(t) => check_keys(t, &child, false, text, source)?,
            toml::Value::Array(items) => {
                for item in items {
                    if let toml::Value::Table(t) = item {
                        check_keys(t, &child, true, text, source)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn describe_table(name: &str, in_array: bool) -> String {
    match name {
        "" => "the top level".to_string(),
        _ if in_array => format!("[[{name}]]"),
        other => format!("[{other}]"),
    }
}

/// The known key nearest to `key`, when it is near enough to be a likely typo.
fn suggest(key: &str, known: &[&str]) -> Option<String> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(key, k), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.to_string())
}

/// The line (1-based) where `key` is set inside `table`, found by scanning headers; best effort.
fn find_line(text: &str, table: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(header) = trimmed.strip_prefix('[') {
            current = header
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            if table.is_empty() || current != table {
                // A header such as `[rulez]` at the top level names the unknown key itself.
                if table.is_empty() && current.split('.').next() == Some(key) {
                    return Some(i + 1);
                }
            }
            continue;
        }
        if current == table {
            let rest = trimmed
                .strip_prefix(key)
                .or_else(|| trimmed.strip_prefix(&format!("\"{key}\"")));
            if let Some(rest) = rest {
                let rest = rest.trim_start();
                if rest.starts_with('=') || rest.starts_with('.') {
                    return Some(i + 1);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_agrees_with_the_raw_structs() {
        // Every key the schema allows must deserialize (deny_unknown_fields would refuse a key
        // the structs lack), so a key added to one and not the other fails here.
        let mut text = String::new();
        for (table, keys) in SCHEMA {
            if table.is_empty() {
                continue;
            }
            let header = match *table {
                "path_map" | "health.mounts" | "health.mounts.grace_tiers" => {
                    format!("[[{table}]]")
                }
                t => format!("[{t}]"),
            };
            text.push_str(&header);
            text.push('\n');
            for key in *keys {
                if *key == "mounts" || *key == "grace_tiers" {
                    continue;
                }
                let value = match *key {
                    "users" | "keep_tags" | "root_folders" | "command" | "events" => "[\"a\"]",
                    "dry_run"
                    | "keep_favorites"
                    | "keep_lossless"
                    | "protect_latest_season"
                    | "add_import_exclusion"
                    | "allow_readonly"
                    | "keep_until_requester_watched"
                    | "enabled" => "true",
                    "grace_days"
                    | "notice_days"
                    | "max_deletions_per_run"
                    | "retries"
                    | "request_protection_days" => "1",
                    "partial_season_threshold"
                    | "min_free_percent"
                    | "below_free_percent"
                    | "target_free_percent" => "0.5",
                    "min_free_bytes" | "target_free_bytes" => "1",
                    _ => "\"x\"",
                };
                text.push_str(&format!("{key} = {value}\n"));
            }
        }
        text.insert_str(0, "dry_run = true\n");
        let parsed: Result<RawConfig, _> = toml::from_str(&text);
        assert!(parsed.is_ok(), "{parsed:?}\n{text}");
    }

    #[test]
    fn suggestions_only_for_near_misses() {
        let rules = known_keys("rules").unwrap_or_default();
        assert_eq!(suggest("grace_dyas", rules).as_deref(), Some("grace_days"));
        assert_eq!(suggest("keep_tag", rules).as_deref(), Some("keep_tags"));
        assert_eq!(suggest("colour", rules), None);
    }

    #[test]
    fn line_of_a_key_in_its_table() {
        let text = "dry_run = true\n[jellyfin]\nurl = \"x\"\n[rules]\n\ngrace_dyas = 3\n";
        assert_eq!(find_line(text, "rules", "grace_dyas"), Some(6));
        assert_eq!(find_line(text, "", "dry_run"), Some(1));
        assert_eq!(find_line(text, "jellyfin", "grace_dyas"), None);
    }
}
