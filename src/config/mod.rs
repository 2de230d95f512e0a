//! Configuration: the TOML file, its defaults, validation and secrets.
//!
//! Loading goes in three stages (as zincati does): the text is checked against the known keys
//! (so a typo is an error that names the key, its table, the file and the key you probably meant),
//! deserialized into raw structs whose fields are all optional, then turned into [`Config`] with
//! real types and defaults filled in. Secrets are read last, from the first source that has them.
//! Nothing here touches the network.

mod build;
mod notice;
mod raw;
mod secrets;
mod seerr;
mod show;
mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use secrets::{env_var_of, token_credential_of, token_var_of, Env, Secret};

use crate::clients::http::Server;
use crate::clients::{HttpSettings, Service};
pub use crate::health::{HealthConfig, MountConfig, SpaceTarget};
use crate::rules::Rules;

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from, for messages.
    pub source: PathBuf,
    /// Delete nothing unless this is false or `run --apply` is given.
    pub dry_run: bool,
    pub jellyfin: JellyfinConfig,
    /// The Radarr instances, in the order of the file. None: movies are left alone.
    pub radarr: Vec<ArrConfig>,
    /// The Sonarr instances. None: TV is left alone.
    pub sonarr: Vec<ArrConfig>,
    pub rules: Rules,
    /// The Jellyfin collection that shows what is due to go (`rules.notice_days` above 0).
    pub leaving_soon: LeavingSoonConfig,
    /// Where the events of a pass are sent, in the order of the file. None: nowhere.
    pub notify: Vec<crate::notify::Target>,
    /// Where each token in `notify` was read from, by target name, for `config show`.
    notify_token_origins: BTreeMap<String, String>,
    /// Seerr (Jellyseerr), cleaned up after each deletion. `None`: not configured.
    pub seerr: Option<SeerrConfig>,
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

/// `[seerr]`: the request manager whose records are cleaned up after a deletion, so that the
/// title can be requested again.
#[derive(Debug, Clone)]
pub struct SeerrConfig {
    pub url: String,
    pub api_key: Secret,
    pub http: HttpSettings,
    /// Keep anything requested fewer than this many days ago; 0: off.
    pub request_protection_days: u32,
    /// Keep a requested title until the Jellyfin user who requested it has watched it.
    pub keep_until_requester_watched: bool,
}

/// One Radarr or Sonarr instance.
#[derive(Debug, Clone)]
pub struct ArrConfig {
    /// Unique among the servers; names it in logs, the journal, metrics and credentials. A
    /// single `[radarr]` table is called `radarr` unless it says otherwise.
    pub name: String,
    pub url: String,
    pub api_key: Secret,
    /// Radarr: also stop import lists from adding a deleted movie again.
    pub add_import_exclusion: bool,
    /// Deadlines and retries of its requests.
    pub http: HttpSettings,
}

/// `[leaving_soon]`: the Jellyfin collection of the items due to go. Used only while
/// `rules.notice_days` is above 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeavingSoonConfig {
    /// The collection's name; `None` when `enabled = false` (notices go out, but no collection
    /// is kept).
    pub collection: Option<String>,
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
        /// The server's name.
        service: String,
        tried: String,
    },
    #[error("{path}: cannot read {what} from {file}")]
    SecretFile {
        path: PathBuf,
        /// "the jellyfin API key", "the token of notify target ntfy".
        what: String,
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The warning for a config that deletes without checking any storage first.
pub const NO_MOUNTS: &str = "no [[health.mounts]] is configured, so nothing checks the storage \
     before a delete: Radarr answers a delete with 200 and drops the movie's record even when its \
     folder is an empty mount point (a NAS that did not mount); add the media mount with a \
     `canary` file so that such a delete is never sent";

impl Config {
    /// The longest a single small request to any configured server can take, retries
    /// included: what the monitor's checks send.
    pub fn longest_request(&self) -> Duration {
        self.request_limits()
            .into_iter()
            .map(|(_, limits)| limits.longest_request())
            .max()
            .unwrap_or_default()
    }

    /// The request limits of each configured server: Jellyfin, then the instances of each
    /// *arr in the order of the file.
    pub fn request_limits(&self) -> Vec<(Server, &HttpSettings)> {
        let mut limits = vec![(Server::from(Service::Jellyfin), &self.jellyfin.http)];
        for (service, arrs) in [
            (Service::Radarr, &self.radarr),
            (Service::Sonarr, &self.sonarr),
        ] {
            limits.extend(
                arrs.iter()
                    .map(|a| (Server::new(service, &a.name), &a.http)),
            );
        }
        limits
    }

    /// Every configured *arr instance with its service.
    pub fn arrs(&self) -> impl Iterator<Item = (Service, &ArrConfig)> {
        let radarr = self.radarr.iter().map(|a| (Service::Radarr, a));
        radarr.chain(self.sonarr.iter().map(|a| (Service::Sonarr, a)))
    }

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
        let config = build::build(raw, source, env, &mut warnings)?;
        Ok(Loaded { config, warnings })
    }
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
mod tests;
