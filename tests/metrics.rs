//! The metrics textfile, checked by the tools that will read it: `promtool check metrics` (no
//! errors, no lint) and a real `prometheus-node-exporter` with its textfile collector
//! (`node_textfile_scrape_error 0`, our samples served). Written by a pass and by each monitor
//! round; the monitor carries the last pass's figures along.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{now, small_library, Harness};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use shelflife_testkit::{tool, Tmpfs};

/// A tmpfs with a canary, and the `[[health.mounts]]` and `[metrics]` tables for it; `None`
/// where it cannot be mounted (the testkit said why).
fn setup(dir: &Path) -> Option<(Tmpfs, String)> {
    let disk = Tmpfs::mount("4m")?;
    std::fs::write(disk.path().join(".canary"), b"").expect("canary");
    let extra = format!(
        "[metrics]\ntextfile = {:?}\n\n[[health.mounts]]\npath = {:?}\ncanary = \".canary\"\n\
         timeout = \"1s\"\n",
        dir.join("metrics/shelflife.prom").display().to_string(),
        disk.path().display().to_string()
    );
    std::fs::create_dir_all(dir.join("metrics")).expect("metrics dir");
    Some((disk, extra))
}

fn textfile(dir: &Path) -> std::path::PathBuf {
    dir.join("metrics/shelflife.prom")
}

/// The value of the sample `series` (name and labels exactly as written).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn promtool_accepts(text: &str) {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool check metrics: {:?}\n{said}\n--- file\n{text}",
        out.status
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_pass_writes_metrics_that_promtool_accepts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((disk, extra)) = setup(dir.path()) else {
        return;
    };
    let h = Harness::start(small_library(), &extra).await;
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let text = std::fs::read_to_string(textfile(dir.path())).expect("the pass wrote the metrics");
    promtool_accepts(&text);
    let v = |s: &str| value(&text, s).unwrap_or_else(|| panic!("no {s} in\n{text}"));
    assert_eq!(v("shelflife_last_pass_outcome{outcome=\"completed\"}"), 1.0);
    assert_eq!(v("shelflife_last_pass_dry_run"), 0.0);
    assert_eq!(v("shelflife_paused{reason=\"\"}"), 0.0);
    assert_eq!(v("shelflife_last_pass_deleted_items{kind=\"movie\"}"), 2.0);
    assert_eq!(v("shelflife_last_pass_deleted_items{kind=\"season\"}"), 1.0);
    assert!(v("shelflife_last_pass_deleted_bytes{kind=\"movie\"}") > 0.0);
    assert_eq!(
        v("shelflife_last_pass_kept_items{reason=\"keep_tag\"}"),
        1.0
    );
    // The pass's own requests, counted by the client: the stack saw as many.
    for (service, label) in [
        (shelflife_sim::Service::Jellyfin, "jellyfin"),
        (shelflife_sim::Service::Radarr, "radarr"),
        (shelflife_sim::Service::Sonarr, "sonarr"),
    ] {
        let counted = v(&format!(
            "shelflife_last_pass_api_requests{{service=\"{label}\",server=\"{label}\"}}"
        ));
        assert_eq!(counted, h.stack.count(service) as f64, "{label}");
        assert_eq!(
            v(&format!(
                "shelflife_last_pass_api_errors{{service=\"{label}\",server=\"{label}\"}}"
            )),
            0.0
        );
    }
    let mount = disk.path().display().to_string();
    assert_eq!(
        v(&format!("shelflife_mount_health{{path=\"{mount}\"}}")),
        0.0
    );
    let ratio = v(&format!("shelflife_mount_free_ratio{{path=\"{mount}\"}}"));
    assert!(ratio > 0.5 && ratio <= 1.0, "{ratio}");
    let age = now().as_millisecond() as f64 / 1000.0 - v("shelflife_last_pass_timestamp_seconds");
    assert!((0.0..60.0).contains(&age), "finished {age} s ago");
}

/// A free port on 127.0.0.1 (bound and released; good enough for one test).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A real node_exporter with only the textfile collector, reading `dir`.
struct NodeExporter {
    child: std::process::Child,
    url: String,
}

impl NodeExporter {
    fn start(program: &Path, dir: &Path) -> NodeExporter {
        let port = free_port();
        let child = Command::new(program)
            .arg("--collector.disable-defaults")
            .arg("--collector.textfile")
            .arg(format!("--collector.textfile.directory={}", dir.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node_exporter starts");
        NodeExporter {
            child,
            url: format!("http://127.0.0.1:{port}/metrics"),
        }
    }

    async fn scrape(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(resp) = reqwest::get(&self.url).await {
                if let Ok(text) = resp.text().await {
                    return text;
                }
            }
            assert!(Instant::now() < deadline, "node_exporter never answered");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for NodeExporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_exporter_serves_a_paused_pass_without_a_scrape_error() {
    let Some(exporter) = tool("prometheus-node-exporter") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((disk, extra)) = setup(dir.path()) else {
        return;
    };
    std::fs::remove_file(disk.path().join(".canary")).expect("canary gone");
    let h = Harness::start(small_library(), &extra).await;
    let run = h.run(&["run", "--apply"]).await;
    assert_eq!(run.code, 75, "{run:?}");
    let text = std::fs::read_to_string(textfile(dir.path())).expect("written");
    promtool_accepts(&text);

    let node = NodeExporter::start(&exporter, &dir.path().join("metrics"));
    let served = node.scrape().await;
    let v = |s: &str| value(&served, s).unwrap_or_else(|| panic!("no {s} in\n{served}"));
    assert_eq!(v("node_textfile_scrape_error"), 0.0);
    assert_eq!(v("shelflife_last_pass_outcome{outcome=\"paused\"}"), 1.0);
    let mount = disk.path().display().to_string();
    assert_eq!(
        v(&format!("shelflife_mount_health{{path=\"{mount}\"}}")),
        2.0
    );
    assert_eq!(v("shelflife_health"), 2.0);
    let paused = served
        .lines()
        .find(|l| l.starts_with("shelflife_paused{"))
        .expect("the paused flag is served");
    assert!(
        paused.contains("canary .canary is missing") && paused.ends_with(" 1"),
        "{paused}"
    );
    assert_eq!(v("shelflife_last_pass_deleted_items{kind=\"movie\"}"), 0.0);
    assert!(h.stack.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_monitor_round_rewrites_the_file_with_the_last_pass_in_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((disk, extra)) = setup(dir.path()) else {
        return;
    };
    let h = Harness::start(
        small_library(),
        &format!("{extra}\n[health]\ninterval = \"1s\"\n"),
    )
    .await;
    // A dry pass first: its figures go into the state file.
    let run = h.run(&["run"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let path = textfile(dir.path());
    std::fs::remove_file(&path).expect("remove the pass's file");

    let mut child = h
        .command(&["monitor"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the monitor starts");
    // Two rounds: the file appears, then it is replaced after the canary goes.
    let wait_for = |pred: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(text) = std::fs::read_to_string(&path) {
                if pred(&text) {
                    return text;
                }
            }
            assert!(Instant::now() < deadline, "the monitor did not write it");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let mount = disk.path().display().to_string();
    let healthy_series = format!("shelflife_mount_health{{path=\"{mount}\"}} 0");
    let first = wait_for(&|t: &str| t.contains(&healthy_series));
    std::fs::remove_file(disk.path().join(".canary")).expect("canary gone");
    let unhealthy_series = format!("shelflife_mount_health{{path=\"{mount}\"}} 2");
    let second = wait_for(&|t: &str| t.contains(&unhealthy_series));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).expect("SIGTERM");
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}");

    for text in [&first, &second] {
        promtool_accepts(text);
        // The dry pass's figures ride along with every round.
        assert_eq!(
            value(text, "shelflife_last_pass_dry_run"),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            value(text, "shelflife_last_pass_planned_items{kind=\"movie\"}"),
            Some(2.0),
            "{text}"
        );
    }
    assert!(
        value(&second, "shelflife_health_checked_timestamp_seconds")
            > value(&first, "shelflife_health_checked_timestamp_seconds")
    );
}

/// `packaging/prometheus/shelflife.rules.yml`, the alert rules shipped with shelflife.
const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/prometheus");

/// The alert rules are valid (`promtool check rules`), pass their unit tests (`promtool test
/// rules`: each alert fires on a series that should trip it, and stays quiet on one that should
/// not), and query only metrics a pass writes, so the two cannot drift apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_rules_hold_and_query_what_a_pass_writes() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    for args in [
        ["check", "rules", "shelflife.rules.yml"],
        ["test", "rules", "shelflife.rules.test.yml"],
    ] {
        let out = Command::new(&promtool)
            .args(args)
            .current_dir(RULES)
            .output()
            .expect("promtool runs");
        assert!(
            out.status.success(),
            "promtool {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let Some(written) = families_a_pass_writes().await else {
        return;
    };
    let rules =
        std::fs::read_to_string(Path::new(RULES).join("shelflife.rules.yml")).expect("the rules");
    let queried = metric_names(&rules);
    assert_eq!(queried.len(), 6, "{queried:?}");
    for name in &queried {
        assert!(
            written.contains(name),
            "the rules query {name}, which a pass does not write; it writes {written:?}"
        );
    }
}

/// The metric families (`# TYPE` lines) of the file a dry pass writes, with a mount checked;
/// `None` where no tmpfs can be mounted.
async fn families_a_pass_writes() -> Option<std::collections::BTreeSet<String>> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_disk, extra) = setup(dir.path())?;
    let h = Harness::start(small_library(), &extra).await;
    let run = h.run(&["run"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let text = std::fs::read_to_string(textfile(dir.path())).expect("the pass wrote the metrics");
    let families = (text.lines())
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| Some(l.split_whitespace().next()?.to_owned()))
        .collect();
    Some(families)
}

const DASHBOARD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/packaging/grafana/shelflife.json"
);

/// The Grafana dashboard has the shape of Grafana's dashboard JSON (what its import reads):
/// panels with unique ids, a place on the 24-column grid that overlaps no other panel, queries
/// on the dashboard's Prometheus data source variable; its queries are PromQL that promtool
/// parses, and query only metrics a pass writes, covering what the dashboard is for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_is_grafana_json_and_queries_what_a_pass_writes() {
    use serde_json::Value;
    let text = std::fs::read_to_string(DASHBOARD).expect("the dashboard");
    let dash: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    for key in ["title", "uid"] {
        assert!(dash[key].as_str().is_some_and(|s| !s.is_empty()), "{key}");
    }
    assert!(dash["schemaVersion"].as_u64().is_some_and(|v| v >= 36));
    assert!(dash["time"]["from"].is_string() && dash["time"]["to"].is_string());
    let variables = dash["templating"]["list"]
        .as_array()
        .expect("templating.list");
    let variable = |name: &str| variables.iter().find(|v| v["name"] == name);
    let source = variable("datasource").expect("a data source variable");
    assert_eq!(
        (&source["type"], &source["query"]),
        (&"datasource".into(), &"prometheus".into())
    );
    assert_eq!(
        variable("instance").expect("an instance variable")["type"],
        "query"
    );

    let panels = dash["panels"].as_array().expect("panels");
    let mut ids = std::collections::BTreeSet::new();
    let mut cells = std::collections::BTreeMap::new();
    let mut exprs = Vec::new();
    for panel in panels {
        let title = panel["title"].as_str().expect("a title");
        assert!(
            ids.insert(panel["id"].as_u64().expect("an id")),
            "{title}: id taken"
        );
        let kind = panel["type"].as_str().expect("a type");
        assert!(
            [
                "stat",
                "timeseries",
                "bargauge",
                "state-timeline",
                "table",
                "gauge"
            ]
            .contains(&kind),
            "{title}: {kind} is not a core panel"
        );
        let at = |k: &str| panel["gridPos"][k].as_u64().expect("gridPos");
        let (x, y, w, h) = (at("x"), at("y"), at("w"), at("h"));
        assert!(w > 0 && h > 0 && x + w <= 24, "{title}: off the grid");
        for cell in (x..x + w).flat_map(|c| (y..y + h).map(move |r| (c, r))) {
            if let Some(other) = cells.insert(cell, title) {
                panic!("{title} overlaps {other}");
            }
        }
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "{title}");
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title}: no query");
        let mut refs = std::collections::BTreeSet::new();
        for t in targets {
            assert!(
                refs.insert(t["refId"].as_str().expect("refId")),
                "{title}: refId"
            );
            exprs.push(t["expr"].as_str().expect("expr").to_owned());
        }
    }

    // promtool parses PromQL in rules: each query becomes a recording rule, with the dashboard's
    // variable filled in as Grafana would.
    if let Some(promtool) = tool("promtool") {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
        for (i, e) in exprs.iter().enumerate() {
            let e = e.replace("$instance", ".*");
            rules.push_str(&format!(
                "      - record: dashboard:query_{i}\n        expr: {e:?}\n"
            ));
        }
        let file = dir.path().join("dashboard.rules.yml");
        std::fs::write(&file, rules).expect("write");
        let out = Command::new(promtool)
            .args(["check", "rules"])
            .arg(&file)
            .output()
            .expect("promtool runs");
        assert!(
            out.status.success(),
            "a dashboard query is not PromQL: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let queried = metric_names(&exprs.join("\n"));
    // What the dashboard is for: space reclaimed, deletions by kind, kept by reason, pass
    // outcomes, mount health and free ratio, API errors by service.
    for name in [
        "shelflife_last_pass_deleted_bytes",
        "shelflife_last_pass_deleted_items",
        "shelflife_last_pass_kept_items",
        "shelflife_last_pass_outcome",
        "shelflife_mount_health",
        "shelflife_mount_free_ratio",
        "shelflife_last_pass_api_errors",
    ] {
        assert!(queried.contains(name), "the dashboard shows no {name}");
    }
    let Some(written) = families_a_pass_writes().await else {
        return;
    };
    for name in &queried {
        assert!(
            written.contains(name),
            "the dashboard queries {name}, which a pass does not write; it writes {written:?}"
        );
    }
}

/// The `shelflife_…` metric names in `text`.
fn metric_names(text: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("shelflife_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}
