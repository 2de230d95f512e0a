//! Clients for Jellyfin, Radarr and Sonarr on one shared HTTP client.
