//! Logging setup: journald under systemd, readable text or JSON lines on stderr otherwise.
//!
//! Every decision is logged with the fields `journalctl` filters on: `RUN_ID`, `ACTION` (delete,
//! keep, skip, pause, resume), `KIND`, `TITLE`, `ARR` (the *arr instance), `ARR_ID`, `REASON`,
//! `BYTES`, and what its file is where the *arr told it (`QUALITY`, `RESOLUTION`,
//! `AUDIO_CODEC`, `AUDIO_CHANNELS`, `LOSSLESS`). tracing-journald upper-cases field names, so
//! the code writes them in lower case. The start and end of a pass
//! carry a stable [`message_id`].

use std::fmt;

use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::FormatFields;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Where the log goes (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// journald when started by systemd (JOURNAL_STREAM is set), text otherwise.
    Auto,
    Journal,
    Text,
    Json,
}

/// Stable journal `MESSAGE_ID`s (`journalctl MESSAGE_ID=…`) of a pass's milestones. Listed in the
/// README; never change one, alerting rules depend on them.
pub mod message_id {
    /// A pass began (after the run lock was taken).
    pub const PASS_STARTED: &str = "1a9f479330724a2aa4f40185f4d8713e";
    /// A pass ended as planned: everything it set out to do is done (or, dry, reported).
    pub const PASS_FINISHED: &str = "4f786bb830644350b2ef382ffab83e12";
    /// A pass stopped because the storage is not healthy; nothing more was deleted (exit 75).
    pub const PASS_PAUSED: &str = "1dc30a88bb0147a692aaf2dd7705b09b";
    /// A pass failed: a server error, a refused plan, a failed delete, an unusable state file.
    pub const PASS_FAILED: &str = "e743a52e20a6403d86415ad6c89d4199";
    /// The storage is fit again after a paused pass; this pass goes on.
    pub const PASS_RESUMED: &str = "3df12d22508d4e1faf26f76eb84be710";

    /// All of them, with a name, for the README and its test.
    pub const ALL: [(&str, &str); 5] = [
        ("pass started", PASS_STARTED),
        ("pass finished", PASS_FINISHED),
        ("pass paused", PASS_PAUSED),
        ("pass failed", PASS_FAILED),
        ("pass resumed", PASS_RESUMED),
    ];
}

/// The log level from `-v`/`-q`: info by default.
pub fn level(verbose: u8, quiet: bool) -> LevelFilter {
    match (quiet, verbose) {
        (true, _) => LevelFilter::WARN,
        (false, 0) => LevelFilter::INFO,
        (false, 1) => LevelFilter::DEBUG,
        (false, _) => LevelFilter::TRACE,
    }
}

/// `auto` means journald when systemd connected stderr to the journal: it then sets
/// `JOURNAL_STREAM` to the device and inode of that stream (`"8:12345"`). A variable inherited by
/// a process whose stderr goes elsewhere (a shell started from a unit, a redirect) does not count.
pub fn resolve(
    format: LogFormat,
    journal_stream: Option<&str>,
    stderr: Option<(u64, u64)>,
) -> LogFormat {
    let is_journal = || {
        let (dev, ino) = journal_stream?.split_once(':')?;
        let named = (dev.parse::<u64>().ok()?, ino.parse::<u64>().ok()?);
        Some(Some(named) == stderr)
    };
    match format {
        LogFormat::Auto if is_journal() == Some(true) => LogFormat::Journal,
        LogFormat::Auto => LogFormat::Text,
        other => other,
    }
}

/// Device and inode of this process's stderr.
fn stderr_identity() -> Option<(u64, u64)> {
    use std::os::fd::AsRawFd;
    let stat = nix::sys::stat::fstat(std::io::stderr().as_raw_fd()).ok()?;
    Some((stat.st_dev as u64, stat.st_ino as u64))
}

/// Installs the global subscriber. Falls back to text on stderr when journald cannot be reached,
/// saying so, rather than losing the log.
pub fn init(format: LogFormat, level: LevelFilter) {
    let format = resolve(
        format,
        std::env::var("JOURNAL_STREAM").ok().as_deref(),
        stderr_identity(),
    );
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
        .fmt_fields(ReadableFields)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_filter(level)
}

/// The text format's fields: the message, then `name=value`, without the `message_id` that only
/// means something to journald.
struct ReadableFields;

impl<'writer> FormatFields<'writer> for ReadableFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut visitor = ReadableVisitor {
            writer: &mut writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct ReadableVisitor<'a, 'writer> {
    writer: &'a mut Writer<'writer>,
    first: bool,
    result: fmt::Result,
}

impl Visit for ReadableVisitor<'_, '_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() || field.name() == "message_id" {
            return;
        }
        let sep = if self.first { "" } else { " " };
        self.first = false;
        self.result = match field.name() {
            "message" => write!(self.writer, "{sep}{value:?}"),
            name => write!(self.writer, "{sep}{name}={value:?}"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_follows_journal_stream() {
        let stderr = Some((8, 1234));
        assert_eq!(
            resolve(LogFormat::Auto, Some("8:1234"), stderr),
            LogFormat::Journal
        );
        assert_eq!(resolve(LogFormat::Auto, None, stderr), LogFormat::Text);
        assert_eq!(resolve(LogFormat::Auto, Some(""), stderr), LogFormat::Text);
        assert_eq!(
            resolve(LogFormat::Auto, Some("8:x"), stderr),
            LogFormat::Text
        );
        // Inherited, but stderr was redirected elsewhere.
        assert_eq!(
            resolve(LogFormat::Auto, Some("8:999"), stderr),
            LogFormat::Text
        );
        assert_eq!(
            resolve(LogFormat::Auto, Some("8:1234"), None),
            LogFormat::Text
        );
        assert_eq!(
            resolve(LogFormat::Json, Some("8:1234"), stderr),
            LogFormat::Json
        );
    }

    #[test]
    fn message_ids_are_distinct_128_bit_hex() {
        let ids: std::collections::HashSet<&str> =
            message_id::ALL.iter().map(|(_, id)| *id).collect();
        assert_eq!(ids.len(), message_id::ALL.len());
        for id in ids {
            assert!(
                id.len() == 32
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                "{id}"
            );
        }
    }

    #[test]
    fn readable_fields_leave_out_the_message_id() {
        use tracing_subscriber::layer::SubscriberExt;
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let sink = std::sync::Arc::clone(&buf);
        let layer = tracing_subscriber::fmt::layer()
            .fmt_fields(ReadableFields)
            .with_ansi(false)
            .with_target(false)
            .without_time()
            .with_writer(move || Sink(std::sync::Arc::clone(&sink)));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                message_id = message_id::PASS_STARTED,
                run_id = "abc",
                bytes = 5u64,
                "pass started"
            );
        });
        let text = String::from_utf8(buf.lock().expect("lock").clone()).expect("utf8");
        assert_eq!(text.trim(), "INFO pass started run_id=\"abc\" bytes=5");
    }

    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn verbosity_maps_to_levels() {
        assert_eq!(level(0, false), LevelFilter::INFO);
        assert_eq!(level(1, false), LevelFilter::DEBUG);
        assert_eq!(level(3, false), LevelFilter::TRACE);
        assert_eq!(level(0, true), LevelFilter::WARN);
    }
}
