//! The README is part of the contract: what it lists for alerting and dashboards must be what the
//! program emits.

use std::path::Path;

use shelflife::health::{Category, Finding, Report};
use shelflife::logging::message_id;
use shelflife::metrics::{render, HealthMetrics, PassMetrics};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md")
}

#[test]
fn every_message_id_is_listed_with_its_meaning() {
    let readme = readme();
    for (meaning, id) in message_id::ALL {
        let row = readme
            .lines()
            .find(|l| l.starts_with('|') && l.contains(id))
            .unwrap_or_else(|| panic!("{meaning} ({id}) is not in the README"));
        assert!(row.contains(meaning), "{id} is listed as {row:?}");
    }
}

#[test]
fn every_metric_family_is_documented() {
    let readme = readme();
    let report = Report {
        findings: vec![Finding::ok(Category::State, "state directory", "fine")],
    };
    let mounts = [std::path::PathBuf::from("/srv/media")];
    let text = render(
        Some(&PassMetrics::default()),
        Some(&HealthMetrics {
            report: &report,
            checked_at: jiff::Timestamp::now(),
            mounts: &mounts,
        }),
    );
    let families: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert!(families.len() > 10, "{families:?}");
    for family in families {
        assert!(
            readme.contains(&format!("`{family}`")),
            "{family} is not documented in the README"
        );
    }
}

/// The config a newcomer copies checks the storage: no warning that nothing does.
#[test]
fn the_smallest_config_checks_a_mount_with_a_canary() {
    let readme = readme();
    let start = readme
        .find("The smallest useful config")
        .expect("the README shows the smallest useful config");
    let block = readme[start..]
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a toml block follows");
    assert!(
        block.contains("[[health.mounts]]") && block.contains("canary"),
        "{block}"
    );
    // The keys come inline here: the files it names do not exist on a test machine.
    let text: String = block
        .lines()
        .map(|l| {
            if l.starts_with("api_key_file") {
                "api_key = \"k\"\n".to_owned()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let env = shelflife::config::Env::default();
    let loaded =
        shelflife::config::Config::parse(&text, Path::new("/etc/shelflife/config.toml"), &env)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}
