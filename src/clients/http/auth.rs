//! How each service wants its API key sent: the header, its value marked sensitive.

use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};

use super::{BuildError, Server, Service};

/// The header that carries `api_key` to `service`; a [`BuildError::BadKey`] for a key no header
/// can carry.
pub(super) fn header(
    service: Server,
    api_key: &str,
) -> Result<(HeaderName, HeaderValue), BuildError> {
    let key = api_key.trim();
    // A quote would end Jellyfin's `Token="…"` early; control characters are not valid in headers.
    if key.is_empty() || key.contains('"') {
        return Err(BuildError::BadKey { service });
    }
    let (name, value) = match service.service {
        Service::Jellyfin => (AUTHORIZATION, format!("MediaBrowser Token=\"{key}\"")),
        Service::Radarr | Service::Sonarr | Service::Seerr => {
            (HeaderName::from_static("x-api-key"), key.to_owned())
        }
    };
    let mut value = HeaderValue::from_str(&value).map_err(|_| BuildError::BadKey { service })?;
    value.set_sensitive(true);
    Ok((name, value))
}
