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
