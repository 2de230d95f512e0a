//! Configuration: the TOML file, defaults, validation and secrets.
