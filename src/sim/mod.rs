//! A simulated Jellyfin, Radarr and Sonarr over real HTTP on 127.0.0.1, for tests and the demo.
