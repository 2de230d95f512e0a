//! `shelflife demo`: the newcomer's first command works with no servers and no config; a build
//! without the `demo` feature (the .deb, the Nix package) says it has none.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;

#[cfg(feature = "demo")]
fn demo(args: &[&str]) -> String {
    let out = Command::cargo_bin("shelflife")
        .expect("binary")
        .arg("demo")
        .args(args)
        .env_remove("SHELFLIFE_CONFIG")
        .env_remove("JOURNAL_STREAM")
        .assert()
        .success();
    String::from_utf8_lossy(&out.get_output().stdout).into_owned()
}

#[cfg(feature = "demo")]
#[test]
fn demo_plans_and_dry_runs_without_writing() {
    let out = demo(&[]);
    assert!(out.contains("$ shelflife plan"), "{out}");
    assert!(out.contains("to delete ("), "{out}");
    assert!(out.contains("Dry-run pass"), "{out}");
    assert!(
        out.contains("Write requests sent to the servers: 0."),
        "{out}"
    );
}

#[cfg(feature = "demo")]
#[test]
fn demo_apply_deletes_once_and_the_next_pass_finds_nothing() {
    let out = demo(&["--apply"]);
    let live = out
        .lines()
        .find(|l| l.starts_with("Live pass"))
        .unwrap_or_else(|| panic!("no live pass in:\n{out}"));
    assert!(!live.contains("deleted 0,"), "{live}");
    let again = out
        .split("(again: nothing is deleted twice)")
        .nth(1)
        .unwrap_or_else(|| panic!("no second pass in:\n{out}"));
    assert!(again.contains("deleted 0, failed 0"), "{again}");
    assert!(
        again.contains("Write requests sent by this pass: 0."),
        "{again}"
    );
}

#[cfg(not(feature = "demo"))]
#[test]
fn a_build_without_the_demo_says_so_and_exits_2() {
    let out = Command::cargo_bin("shelflife")
        .expect("binary")
        .args(["demo", "--apply"])
        .env_remove("SHELFLIFE_CONFIG")
        .env_remove("JOURNAL_STREAM")
        .assert()
        .code(2);
    let output = out.get_output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("this build has no demo;"), "{stderr}");
    assert!(output.stdout.is_empty(), "{output:?}");
}
