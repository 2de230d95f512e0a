//! The value types of the config file: URLs, names, durations, absolute paths, sizes. Each check
//! names the key it read, through `invalid`.

use std::time::Duration;

use super::ConfigError;
use crate::clients::parse_base_url;

pub(super) fn url(
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

/// Longest name an instance or a notify target may have: it becomes a file name, an environment
/// variable and a metric label.
const MAX_NAME: usize = 32;

/// A name that names a credential file and an environment variable, so it is plain: `4k`,
/// `anime`, `radarr-kids`.
pub(super) fn plain_name(
    name: String,
    key: &str,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<String, ConfigError> {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    let starts_well = name.starts_with(|c: char| c.is_ascii_alphanumeric());
    if !plain || !starts_well || name.len() > MAX_NAME {
        return Err(invalid(
            key,
            format!(
                "must be 1 to {MAX_NAME} lowercase letters, digits, `-` or `_`, starting with a \
                 letter or digit (it names a credential file), not {name:?}"
            ),
        ));
    }
    Ok(name)
}

pub(super) fn duration(
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

pub(super) fn absolute(
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
pub(super) fn parse_size(text: &str) -> Option<u64> {
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
