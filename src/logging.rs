//! Logging setup: journald under systemd, readable text or JSON lines on stderr otherwise.

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use crate::cli::LogFormat;

/// The log level from `-v`/`-q`: info by default.
pub fn level(verbose: u8, quiet: bool) -> LevelFilter {
    match (quiet, verbose) {
        (true, _) => LevelFilter::WARN,
        (false, 0) => LevelFilter::INFO,
        (false, 1) => LevelFilter::DEBUG,
        (false, _) => LevelFilter::TRACE,
    }
}

/// `auto` means journald when systemd connected stderr to the journal (it sets `JOURNAL_STREAM`).
pub fn resolve(format: LogFormat, journal_stream: Option<&str>) -> LogFormat {
    match format {
        LogFormat::Auto if journal_stream.is_some_and(|s| !s.is_empty()) => LogFormat::Journal,
        LogFormat::Auto => LogFormat::Text,
        other => other,
    }
}

/// Installs the global subscriber. Falls back to text on stderr when journald cannot be reached,
/// saying so, rather than losing the log.
pub fn init(format: LogFormat, level: LevelFilter) {
    let format = resolve(format, std::env::var("JOURNAL_STREAM").ok().as_deref());
    let registry = tracing_subscriber::registry();
    match format {
        LogFormat::Journal => match tracing_journald::layer() {
            Ok(layer) => {
                let layer = layer
                    .with_syslog_identifier("shelflife".to_string())
                    .with_field_prefix(None)
                    .with_filter(level);
                registry.with(layer).init();
            }
            Err(err) => {
                registry.with(text_layer(level)).init();
                tracing::warn!("journald is not reachable ({err}); logging to stderr");
            }
        },
        LogFormat::Json => {
            let layer = tracing_subscriber::fmt::layer()
                .json()
                .with_writer(std::io::stderr)
                .with_filter(level);
            registry.with(layer).init();
        }
        LogFormat::Text | LogFormat::Auto => registry.with(text_layer(level)).init(),
    }
}

fn text_layer<S>(level: LevelFilter) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use std::io::IsTerminal;
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_filter(level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_follows_journal_stream() {
        assert_eq!(resolve(LogFormat::Auto, Some("8:1234")), LogFormat::Journal);
        assert_eq!(resolve(LogFormat::Auto, None), LogFormat::Text);
        assert_eq!(resolve(LogFormat::Auto, Some("")), LogFormat::Text);
        assert_eq!(resolve(LogFormat::Json, Some("8:1")), LogFormat::Json);
    }

    #[test]
    fn verbosity_maps_to_levels() {
        assert_eq!(level(0, false), LevelFilter::INFO);
        assert_eq!(level(1, false), LevelFilter::DEBUG);
        assert_eq!(level(3, false), LevelFilter::TRACE);
        assert_eq!(level(0, true), LevelFilter::WARN);
    }
}
