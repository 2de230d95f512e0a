//! `[seerr]`: where Seerr (or Jellyseerr) is, its key, and how long a new request protects.

use std::path::Path;

use super::build::{http_settings, Invalid};
use super::raw::RawSeerr;
use super::values::url;
use super::{secrets, ConfigError, Env, SeerrConfig};
use crate::defaults;

/// Longest protection of a new request: a year, as for the notice period.
const MAX_PROTECTION_DAYS: u32 = 365;

/// Its name in messages, credentials (`$CREDENTIALS_DIRECTORY/seerr`) and the environment
/// (`SHELFLIFE_SEERR_API_KEY`).
const NAME: &str = "seerr";

/// `[seerr]`, when the file has it. A table without a `url` is an error: an empty table is
/// more likely a forgotten line than a wish to leave Seerr out.
pub(super) fn seerr(
    raw: Option<RawSeerr>,
    source: &Path,
    env: &Env,
    invalid: Invalid,
) -> Result<Option<SeerrConfig>, ConfigError> {
    let Some(mut raw) = raw else {
        return Ok(None);
    };
    if raw.url.is_none() {
        return Err(invalid(
            "seerr.url",
            "is required in [seerr] (e.g. \"http://127.0.0.1:5055\"); leave the table out to \
             leave Seerr alone"
                .into(),
        ));
    }
    let seerr_url = url(raw.url.as_deref(), "seerr.url", invalid)?;
    let http = http_settings(raw.http(), NAME, invalid)?;
    let days = match raw.request_protection_days {
        None => defaults::REQUEST_PROTECTION_DAYS,
        Some(d) => u32::try_from(d)
            .ok()
            .filter(|d| *d <= MAX_PROTECTION_DAYS)
            .ok_or_else(|| {
                invalid(
                    "seerr.request_protection_days",
                    format!(
                        "must be a whole number of days from 0 to {MAX_PROTECTION_DAYS}, not {d}"
                    ),
                )
            })?,
    };
    Ok(Some(SeerrConfig {
        url: seerr_url,
        api_key: secrets::resolve(NAME, NAME, raw.api_key, raw.api_key_file, source, env)?,
        http,
        request_protection_days: days,
        keep_until_requester_watched: raw
            .keep_until_requester_watched
            .unwrap_or(defaults::KEEP_UNTIL_REQUESTER_WATCHED),
    }))
}
