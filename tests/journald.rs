//! The log in a real journal. `systemd-journald` runs without systemd as PID 1 inside a private
//! mount namespace (`unshare --mount --propagation private`) with its own tmpfs on `/run` and on
//! `/var/log/journal`, so nothing reaches the host's journal. shelflife runs there as systemd
//! would start it (`JOURNAL_STREAM` set, `--log-format auto`), then `journalctl` reads back what it
//! logged. Needs root, as CI has.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{small_library, Harness};
use serde_json::Value;
use shelflife::logging::message_id;
use shelflife_testkit::tool;

/// Starts journald in a private namespace, runs `shelflife` with each config in turn, and
/// returns the journal as JSON objects plus the output of `journalctl ACTION=delete`.
const SCRIPT: &str = r#"
set -eu
mount -t tmpfs tmpfs /run
if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi
mkdir -p /run/systemd/journal
"$JOURNALD" &
journald=$!
i=0
while [ ! -S /run/systemd/journal/socket ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ -S /run/systemd/journal/socket ] || { echo "journald did not start" >&2; exit 90; }
n=0
for config in $CONFIGS; do
    n=$((n + 1))
    code=0
    # As systemd does: JOURNAL_STREAM names the device and inode of stderr.
    : > "$OUT/run$n.err"
    JOURNAL_STREAM=$(stat -L -c '%d:%i' "$OUT/run$n.err") \
        "$SHELFLIFE" --config "$config" --log-format auto run --apply \
        > "$OUT/run$n.out" 2>> "$OUT/run$n.err" || code=$?
    echo "$code" >> "$OUT/codes"
done
journalctl --flush || true
journalctl --sync || true
journalctl -o json --no-pager SYSLOG_IDENTIFIER=shelflife > "$OUT/all.json"
journalctl -o json --no-pager ACTION=delete > "$OUT/delete.json"
kill $journald
wait $journald || true
"#;

fn entries(path: &Path) -> Vec<HashMap<String, Value>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn field<'a>(entry: &'a HashMap<String, Value>, name: &str) -> &'a str {
    entry.get(name).and_then(Value::as_str).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_and_milestones_land_in_the_journal_with_their_fields() {
    let (Some(journald), Some(unshare), Some(_)) = (
        tool("/lib/systemd/systemd-journald"),
        tool("unshare"),
        tool("journalctl"),
    ) else {
        return;
    };
    let h = Harness::start(small_library(), "").await;
    let good = std::fs::read_to_string(&h.config).expect("config");

    // 1: paused (a plain directory where a mount should be), 2: resumes and deletes,
    // 3: fails (Jellyfin refuses the key).
    let plain_dir = h.dir.path().join("not-a-mount");
    std::fs::create_dir(&plain_dir).expect("dir");
    let paused = h.dir.path().join("paused.toml");
    std::fs::write(
        &paused,
        format!(
            "{good}\n[[health.mounts]]\npath = {:?}\n",
            plain_dir.display().to_string()
        ),
    )
    .expect("write");
    let failing = h.dir.path().join("failing.toml");
    std::fs::write(
        &failing,
        good.replacen("api_key = \"", "api_key = \"wrong", 1),
    )
    .expect("write");
    let out = h.dir.path().join("out");
    std::fs::create_dir(&out).expect("out dir");
    let configs = [paused.as_path(), h.config.as_path(), failing.as_path()]
        .map(|p| p.display().to_string())
        .join(" ");

    let mut cmd = std::process::Command::new(unshare);
    cmd.args(["--mount", "--propagation", "private", "sh", "-c", SCRIPT])
        .env("JOURNALD", journald)
        .env("SHELFLIFE", env!("CARGO_BIN_EXE_shelflife"))
        .env("CONFIGS", configs)
        .env("OUT", &out)
        .env_remove("NOTIFY_SOCKET");
    let done = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("unshare runs");
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap_or_default();
    assert!(
        done.status.success(),
        "{:?}\n{}\nrun1: {}\nrun2: {}\nrun3: {}",
        done.status,
        String::from_utf8_lossy(&done.stderr),
        read("run1.err"),
        read("run2.err"),
        read("run3.err")
    );
    let codes: Vec<String> = read("codes").lines().map(str::to_owned).collect();
    assert_eq!(codes, ["75", "0", "1"], "run 2: {}", read("run2.out"));
    // Under the journal, stderr carries no log lines: they went to journald.
    assert!(
        !read("run2.err").contains("pass started"),
        "{}",
        read("run2.err")
    );

    let all = entries(&out.join("all.json"));
    let deletes = entries(&out.join("delete.json"));

    // journalctl ACTION=delete finds every deletion, with the DESIGN fields and no F_ prefix.
    let mut titles: Vec<&str> = deletes.iter().map(|e| field(e, "TITLE")).collect();
    titles.sort_unstable();
    assert_eq!(
        titles,
        ["Alien (1979)", "Dark S01", "Heat (1995)"],
        "{deletes:?}"
    );
    let run2 = read("run2.out");
    for e in &deletes {
        assert_eq!(field(e, "SYSLOG_IDENTIFIER"), "shelflife");
        assert_eq!(field(e, "ACTION"), "delete");
        assert!(
            run2.contains(field(e, "RUN_ID")),
            "RUN_ID of {e:?} vs {run2}"
        );
        for name in ["KIND", "ARR_ID", "REASON", "BYTES", "MESSAGE"] {
            assert!(!field(e, name).is_empty(), "{name} missing in {e:?}");
        }
        // What was lost: the simulated *arrs' files are 1080p with AC3 or EAC3 5.1.
        assert!(field(e, "QUALITY").contains("1080p"), "{e:?}");
        assert_eq!(field(e, "RESOLUTION"), "1080", "{e:?}");
        assert!(field(e, "AUDIO_CODEC").ends_with("AC3"), "{e:?}");
        assert_eq!(field(e, "AUDIO_CHANNELS"), "5.1", "{e:?}");
        assert_eq!(field(e, "LOSSLESS"), "false", "{e:?}");
        assert!(
            field(e, "BYTES").parse::<u64>().is_ok_and(|b| b > 0),
            "{e:?}"
        );
        assert!(!e.keys().any(|k| k.starts_with("F_")), "{e:?}");
        // The instance it went through: a single table's is named after its service.
        let arr = if field(e, "KIND") == "movie" {
            "radarr"
        } else {
            "sonarr"
        };
        assert_eq!(field(e, "ARR"), arr, "{e:?}");
    }
    let kinds: Vec<&str> = deletes.iter().map(|e| field(e, "KIND")).collect();
    assert!(
        kinds.contains(&"movie") && kinds.contains(&"season"),
        "{kinds:?}"
    );

    // Kept decisions carry their reason.
    let kept = all
        .iter()
        .find(|e| field(e, "ACTION") == "keep" && field(e, "TITLE") == "Arrival (2016)")
        .expect("the kept movie is logged");
    assert!(field(kept, "REASON").contains("keep"), "{kept:?}");

    // Each pass starts and ends with its MESSAGE_ID; the priority says how it went.
    let with_id = |id: &str| -> Vec<&HashMap<String, Value>> {
        all.iter()
            .filter(|e| field(e, "MESSAGE_ID") == id)
            .collect()
    };
    assert_eq!(with_id(message_id::PASS_STARTED).len(), 3);
    let paused = with_id(message_id::PASS_PAUSED);
    assert_eq!(paused.len(), 1, "{paused:?}");
    assert_eq!(field(paused[0], "PRIORITY"), "4");
    assert!(field(paused[0], "REASON").contains("nothing is mounted there"));
    assert!(
        all.iter()
            .any(|e| field(e, "ACTION") == "pause"
                && field(e, "RUN_ID") == field(paused[0], "RUN_ID"))
    );
    let resumed = with_id(message_id::PASS_RESUMED);
    assert_eq!(resumed.len(), 1);
    assert_eq!(field(resumed[0], "ACTION"), "resume");
    let finished = with_id(message_id::PASS_FINISHED);
    assert_eq!(finished.len(), 1);
    assert_eq!(field(finished[0], "RUN_ID"), field(&deletes[0], "RUN_ID"));
    let failed = with_id(message_id::PASS_FAILED);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(field(failed[0], "PRIORITY"), "3");
    assert!(
        field(failed[0], "REASON").contains("Jellyfin"),
        "{failed:?}"
    );
}
