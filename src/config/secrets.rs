//! API keys: where they come from, and how they stay out of logs and messages.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::ConfigError;

/// An API key. `Debug` and `Display` show where it came from, never the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: String,
    origin: String,
}

impl Secret {
    pub fn new(value: impl Into<String>, origin: impl Into<String>) -> Self {
        Secret {
            value: value.into(),
            origin: origin.into(),
        }
    }

    /// The key itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Where it was read from ("inline api_key", "/run/credentials/…/jellyfin", "$SHELFLIFE_…").
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<redacted: from {}>)", self.origin)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted: from {}>", self.origin)
    }
}

/// The process environment as the loader sees it. Tests build one from a map so they never
/// depend on (or change) the real environment.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
    /// systemd's credential store, where the shipped units load the keys from
    /// (`/etc/credstore/shelflife.<service>`). Read as a last resort, so that root can run
    /// `shelflife plan` or `check` by hand with the keys the services use.
    credstore: Option<PathBuf>,
}

impl Env {
    pub fn from_process() -> Self {
        Env {
            vars: std::env::vars().collect(),
            credstore: Some(PathBuf::from("/etc/credstore")),
        }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Env {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            credstore: None,
        }
    }

    /// The same, with `dir` as the credential store.
    pub fn with_credstore(mut self, dir: impl Into<PathBuf>) -> Self {
        self.credstore = Some(dir.into());
        self
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

/// The key of the server called `name` (`jellyfin`, `radarr`, `4k`…) from the first source
/// that has one: inline `api_key`, `api_key_file`, `$CREDENTIALS_DIRECTORY/<name>` (systemd
/// `LoadCredential=`), `SHELFLIFE_<NAME>_API_KEY`, `/etc/credstore/shelflife.<name>` (what the
/// units load, readable by root). `table` names its table in messages (`radarr`, `radarr[2]`).
pub(super) fn resolve(
    name: &str,
    table: &str,
    inline: Option<String>,
    file: Option<String>,
    source: &Path,
    env: &Env,
) -> Result<Secret, ConfigError> {
    let service = name;
    let invalid = |message: String| ConfigError::Invalid {
        path: source.to_path_buf(),
        key: format!("{table}.api_key"),
        message,
    };
    let secret = match (inline, file) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "and api_key_file are both set; keep one (api_key_file is safer)".into(),
            ))
        }
        (Some(key), None) => Secret::new(key, format!("inline {table}.api_key")),
        (None, Some(file)) => read_key_file(service, Path::new(&file), source)?,
        (None, None) => {
            let credential = env
                .var("CREDENTIALS_DIRECTORY")
                .filter(|d| !d.is_empty())
                .map(|d| PathBuf::from(d).join(service));
            let env_name = env_var_of(name);
            let stored = env
                .credstore
                .as_ref()
                .map(|dir| dir.join(format!("shelflife.{service}")));
            let stored_exists = stored.as_ref().is_some_and(|p| p.exists());
            match (credential, env.var(&env_name), stored) {
                (Some(path), _, _) if path.exists() => read_key_file(service, &path, source)?,
                (_, Some(key), _) => Secret::new(key, format!("${env_name}")),
                (_, None, Some(path)) if stored_exists => read_key_file(service, &path, source)?,
                (credential, None, stored) => {
                    let mut tried =
                        vec![format!("{table}.api_key"), format!("{table}.api_key_file")];
                    match credential {
                        Some(path) => tried.push(path.display().to_string()),
                        None => tried.push(format!(
                            "$CREDENTIALS_DIRECTORY/{service} (CREDENTIALS_DIRECTORY is not set)"
                        )),
                    }
                    tried.push(format!("${env_name}"));
                    if let Some(path) = stored {
                        tried.push(path.display().to_string());
                    }
                    return Err(ConfigError::MissingSecret {
                        path: source.to_path_buf(),
                        service: service.to_owned(),
                        tried: tried.join(", "),
                    });
                }
            }
        }
    };
    if secret.expose().trim().is_empty() {
        return Err(invalid(format!("from {} is empty", secret.origin())));
    }
    Ok(secret)
}

/// The environment variable that may hold the key of server `name`: `SHELFLIFE_4K_API_KEY`,
/// a `-` in the name written `_`.
pub fn env_var_of(name: &str) -> String {
    format!(
        "SHELFLIFE_{}_API_KEY",
        name.to_uppercase().replace('-', "_")
    )
}

fn read_key_file(service: &str, file: &Path, source: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|err| ConfigError::SecretFile {
        path: source.to_path_buf(),
        service: service.to_owned(),
        file: file.to_path_buf(),
        source: err,
    })?;
    // Files written by `echo` end in a newline that is not part of the key.
    let key = text.trim_end_matches(['\n', '\r']).to_string();
    Ok(Secret::new(key, file.display().to_string()))
}

/// A warning when the file holds an inline `api_key` and group or others may read it.
pub(super) fn readable_inline_key_warning(path: &Path, text: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let holds_inline_key = text.lines().any(|line| {
        let line = line.trim_start();
        line.strip_prefix("api_key")
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    });
    if !holds_inline_key {
        return None;
    }
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o044 != 0).then(|| {
        format!(
            "{} holds an inline api_key and other users can read it (mode {:o}): use api_key_file or run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        )
    })
}
