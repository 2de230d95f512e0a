//! The schema, as an ordered list of migrations, and the check that a file is ours to migrate.
//!
//! `PRAGMA user_version` holds the number of migrations applied; `PRAGMA application_id` marks the
//! file as shelflife's, so a foreign SQLite file is never "migrated" into ours. To change the schema,
//! append one SQL string to `MIGRATIONS` (never edit an applied one); the tests migrate from every
//! earlier version and compare with a fresh database.

use rusqlite::{Connection, Transaction};

/// `application_id` of shelflife state files: "SHLF" in ASCII.
pub const APPLICATION_ID: i32 = 0x5348_4c46;

/// The schema version this build knows: the number of migrations.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Migration `i` takes the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7];

/// Timestamps are INTEGER unix seconds (UTC). Enum columns hold the lowercase names of
/// `state::types`, enforced by CHECK so a damaged or hand-edited row is caught at the source.
const V1: &str = "
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    run_key       TEXT    NOT NULL UNIQUE,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    mode          TEXT    NOT NULL CHECK (mode IN ('dry-run', 'live')),
    outcome       TEXT    CHECK (outcome IN ('completed', 'failed', 'paused', 'interrupted', 'refused')),
    reason        TEXT,
    pid           INTEGER NOT NULL,
    planned       INTEGER NOT NULL DEFAULT 0 CHECK (planned >= 0),
    deleted       INTEGER NOT NULL DEFAULT 0 CHECK (deleted >= 0),
    failed        INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
    kept          INTEGER NOT NULL DEFAULT 0 CHECK (kept >= 0),
    bytes_deleted INTEGER NOT NULL DEFAULT 0 CHECK (bytes_deleted >= 0),
    CHECK ((finished_at IS NULL) = (outcome IS NULL))
) STRICT;

CREATE TABLE actions (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    service     TEXT    NOT NULL CHECK (service IN ('radarr', 'sonarr')),
    target_id   INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('movie', 'season', 'episode')),
    target_key  TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    bytes       INTEGER NOT NULL CHECK (bytes >= 0),
    target_json TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'planned'
                CHECK (state IN ('planned', 'started', 'done', 'failed', 'skipped')),
    error       TEXT,
    planned_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER
) STRICT;

CREATE INDEX actions_by_run ON actions (run_id);
CREATE INDEX actions_history ON actions (finished_at) WHERE state = 'done';
CREATE INDEX actions_by_target ON actions (service, target_key);
CREATE INDEX actions_open ON actions (state) WHERE state IN ('planned', 'started');
";

/// Health samples of `shelflife monitor` (one per round), and the changes of each check's health
/// between rounds, so `require_healthy_for` and people can see how the storage has been.
const V2: &str = "
CREATE TABLE health_samples (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    overall  TEXT    NOT NULL CHECK (overall IN ('ok', 'degraded', 'unhealthy')),
    blocking INTEGER NOT NULL CHECK (blocking IN (0, 1)),
    summary  TEXT    NOT NULL
) STRICT;

CREATE INDEX health_samples_at ON health_samples (at);

CREATE TABLE health_transitions (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    check_name TEXT    NOT NULL,
    category   TEXT    NOT NULL,
    before     TEXT    CHECK (before IN ('ok', 'degraded', 'unhealthy')),
    after      TEXT    NOT NULL CHECK (after IN ('ok', 'degraded', 'unhealthy')),
    detail     TEXT    NOT NULL
) STRICT;

CREATE INDEX health_transitions_at ON health_transitions (at);
CREATE INDEX health_transitions_by_check ON health_transitions (check_name, id);
";

/// The metrics of a finished pass (JSON of `metrics::PassMetrics`), so the monitor, which writes
/// the metrics file between passes, can carry the last pass's figures along.
const V3: &str = "
ALTER TABLE runs ADD COLUMN metrics TEXT;
";

/// The *arr instance of each action, for configs with several Radarrs or Sonarrs. The actions
/// written before were all of the one instance named after its service, and their target
/// (as the pass would send it again) learns that name too.
const V4: &str = "
ALTER TABLE actions ADD COLUMN instance TEXT;
UPDATE actions SET instance = service;
UPDATE actions SET target_json = json_set(target_json, '$.instance', service)
    WHERE json_valid(target_json) AND json_type(target_json, '$.instance') IS NULL;
CREATE INDEX actions_by_instance ON actions (instance, finished_at) WHERE state = 'done';
";

/// The notice period (`notice_days`): what is announced to go and when (`notices`, one row per
/// target while it is on the schedule or kept by hand), what happened to those announcements
/// (`notice_events`, for `history`), and the notifications not yet delivered (`outbox`, retried
/// at each pass until a target takes them).
const V5: &str = "
CREATE TABLE notices (
    target_key   TEXT    PRIMARY KEY,
    instance     TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('movie', 'season', 'episode')),
    title        TEXT    NOT NULL,
    bytes        INTEGER NOT NULL CHECK (bytes >= 0),
    jellyfin_id  TEXT,
    state        TEXT    NOT NULL CHECK (state IN ('scheduled', 'leaving', 'kept')),
    scheduled_at INTEGER NOT NULL,
    due_at       INTEGER NOT NULL,
    kept_reason  TEXT,
    CHECK ((state = 'kept') = (kept_reason IS NOT NULL))
) STRICT;

CREATE TABLE notice_events (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    run_key    TEXT,
    target_key TEXT    NOT NULL,
    instance   TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('movie', 'season', 'episode')),
    title      TEXT    NOT NULL,
    bytes      INTEGER NOT NULL CHECK (bytes >= 0),
    event      TEXT    NOT NULL CHECK (event IN ('scheduled', 'rescued')),
    detail     TEXT    NOT NULL
) STRICT;

CREATE INDEX notice_events_at ON notice_events (at);

CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    target     TEXT    NOT NULL,
    event      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error TEXT
) STRICT;
";

/// Seerr's records to clean up after a deletion, one per action that deleted a movie or a
/// whole season: `waiting` until the action is done and Seerr took the change, then `cleaned`,
/// `not_found` (Seerr held nothing of it) or `failed` (given up on after a week of failures).
/// A `series` row is a season of a series whose every season went in its run: once all of
/// them are done, the series' media record goes whole.
const V6: &str = "
CREATE TABLE seerr_cleanups (
    id          INTEGER PRIMARY KEY,
    action_id   INTEGER NOT NULL UNIQUE,
    run_id      INTEGER NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('movie', 'season', 'series')),
    tmdb_id     INTEGER,
    tvdb_id     INTEGER,
    season      INTEGER,
    series_key  TEXT,
    state       TEXT    NOT NULL DEFAULT 'waiting'
                CHECK (state IN ('waiting', 'cleaned', 'not_found', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    detail      TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX seerr_cleanups_waiting ON seerr_cleanups (state) WHERE state = 'waiting';
";

/// What each action's file was, so that `history` can say what was lost: the *arr's quality
/// name (`Remux-2160p`) and its resolution, the video's size (`3840x2160`), the main audio
/// track's codec and channels (7.1), and whether that track is lossless (1/0). Each may be
/// unknown; actions written before have none of them.
const V7: &str = "
ALTER TABLE actions ADD COLUMN quality TEXT;
ALTER TABLE actions ADD COLUMN resolution INTEGER CHECK (resolution > 0);
ALTER TABLE actions ADD COLUMN video_resolution TEXT;
ALTER TABLE actions ADD COLUMN audio_codec TEXT;
ALTER TABLE actions ADD COLUMN audio_channels REAL CHECK (audio_channels > 0);
ALTER TABLE actions ADD COLUMN lossless INTEGER CHECK (lossless IN (0, 1));
";

/// What the header and catalogue of a file say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileMarks {
    pub application_id: i32,
    pub user_version: i64,
    /// Tables, indexes, views and triggers, not counting SQLite's own.
    pub objects: i64,
}

/// What opening must do with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Ours (or empty): apply migrations `from..known`; nothing to do when `from == known`.
    Migrate {
        from: i64,
    },
    TooNew {
        found: i64,
    },
    Foreign {
        why: String,
    },
}

/// Decides from the marks alone, so the rules are testable without files.
pub(crate) fn judge(marks: FileMarks, known: i64) -> Verdict {
    let FileMarks {
        application_id,
        user_version,
        objects,
    } = marks;
    if application_id == APPLICATION_ID {
        return if user_version > known {
            Verdict::TooNew {
                found: user_version,
            }
        } else {
            Verdict::Migrate {
                from: user_version.max(0),
            }
        };
    }
    if application_id != 0 {
        return Verdict::Foreign {
            why: format!("application_id {application_id:#010x}"),
        };
    }
    if user_version != 0 {
        return Verdict::Foreign {
            why: format!("user_version {user_version} without shelflife's application_id"),
        };
    }
    if objects != 0 {
        return Verdict::Foreign {
            why: format!("{objects} tables or indexes that are not shelflife's"),
        };
    }
    Verdict::Migrate { from: 0 }
}

/// Reads the marks; this is the first read of the file, so a non-database fails here.
pub(crate) fn read_marks(conn: &Connection) -> rusqlite::Result<FileMarks> {
    // One statement, so one snapshot: read apart, another opener's migration could commit in
    // between and leave a version without its application id.
    conn.query_row(
        "SELECT (SELECT application_id FROM pragma_application_id()),
                (SELECT user_version FROM pragma_user_version()),
                (SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\')",
        [],
        |r| {
            Ok(FileMarks {
                application_id: r.get(0)?,
                user_version: r.get(1)?,
                objects: r.get(2)?,
            })
        },
    )
}

/// Applies `migrations[from..to]` and stamps the version and application id, inside the caller's
/// transaction so a failure leaves the file as it was.
pub(crate) fn apply(
    tx: &Transaction<'_>,
    migrations: &[&str],
    from: i64,
    to: i64,
) -> rusqlite::Result<()> {
    let from = usize::try_from(from).unwrap_or(0);
    let to = usize::try_from(to).unwrap_or(0).min(migrations.len());
    for sql in migrations.iter().take(to).skip(from) {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", to as i64)?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(application_id: i32, user_version: i64, objects: i64) -> FileMarks {
        FileMarks {
            application_id,
            user_version,
            objects,
        }
    }

    #[test]
    fn an_empty_file_is_migrated_from_zero() {
        assert_eq!(judge(marks(0, 0, 0), 1), Verdict::Migrate { from: 0 });
    }

    #[test]
    fn our_files_migrate_from_their_version_or_are_too_new() {
        assert_eq!(
            judge(marks(APPLICATION_ID, 1, 6), 3),
            Verdict::Migrate { from: 1 }
        );
        assert_eq!(
            judge(marks(APPLICATION_ID, 3, 6), 3),
            Verdict::Migrate { from: 3 }
        );
        assert_eq!(
            judge(marks(APPLICATION_ID, 7, 6), 1),
            Verdict::TooNew { found: 7 }
        );
    }

    #[test]
    fn foreign_files_are_recognised_by_their_marks() {
        for m in [marks(0x1234, 0, 0), marks(0, 3, 0), marks(0, 0, 2)] {
            assert!(
                matches!(judge(m, 1), Verdict::Foreign { .. }),
                "{m:?} was not judged foreign"
            );
        }
        let Verdict::Foreign { why } = judge(marks(0x0f00_0001, 0, 0), 1) else {
            panic!("not foreign");
        };
        assert_eq!(why, "application_id 0x0f000001");
    }

    #[test]
    fn a_failing_migration_leaves_the_file_unchanged() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        apply(&tx, &[V1, "CREATE TABLE broken ("], 0, 2).unwrap_err();
        drop(tx);
        let after = read_marks(&conn).unwrap();
        assert_eq!(after, marks(0, 0, 0));
    }

    #[test]
    fn migrations_stamp_version_and_owner() {
        let mut conn = Connection::open_in_memory().unwrap();
        let tx = conn.transaction().unwrap();
        apply(&tx, MIGRATIONS, 0, SCHEMA_VERSION).unwrap();
        tx.commit().unwrap();
        let after = read_marks(&conn).unwrap();
        assert_eq!(after.application_id, APPLICATION_ID);
        assert_eq!(after.user_version, SCHEMA_VERSION);
        assert!(after.objects >= 2);
    }
}
