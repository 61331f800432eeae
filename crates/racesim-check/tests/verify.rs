//! A scenario's `verify` key: its clean expectations are established by the exhaustive search
//! and the case says so; violations are still found; a search cut short is a failure.

use racesim_check::{Settings, Status};
use std::path::PathBuf;

fn write_scenario(name: &str, verify: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("racesim-verify-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shipped = std::fs::read_to_string(repo.join("scenarios/fault_truncate.toml")).unwrap();
    // The shipped scenario with a verify line after its description.
    let text = shipped.replacen("\n[[file]]", &format!("{verify}\n\n[[file]]"), 1);
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn run(path: PathBuf, settings: &Settings) -> Vec<racesim_check::CaseResult> {
    let cases = racesim_check::discover(&[path]);
    racesim_check::run_cases(&cases, settings, 1, &|_| {})
}

#[test]
fn clean_expectations_are_verified_when_the_scenario_asks() {
    let results = run(write_scenario("unbounded", "verify = \"exhaustive\""), &Settings::default());
    let invalidate = results.iter().find(|r| r.name == "invalidate_lock").unwrap();
    assert_eq!(invalidate.status, Status::Pass, "{}", invalidate.message);
    assert_eq!(invalidate.coverage.as_deref(), Some("verified"));
    assert_eq!(invalidate.schedules, 28);
    // The violating expectation is still explored as the scenario says (sampled).
    let buggy = results.iter().find(|r| r.name == "legacy_without_recheck").unwrap();
    assert_eq!(buggy.status, Status::Pass, "{}", buggy.message);
    assert_eq!(buggy.coverage.as_deref(), Some("sampled"));

    let results = run(write_scenario("bounded", "verify = { preemption_bound = 1 }"), &Settings::default());
    let invalidate = results.iter().find(|r| r.name == "invalidate_lock").unwrap();
    assert_eq!(invalidate.coverage.as_deref(), Some("verified within 1 preemption"));
    // Bounded partial-order reduction: 16 executions where enumerating every schedule within
    // one preemption takes 33.
    assert_eq!(invalidate.schedules, 16);
}

#[test]
fn a_verification_cut_short_fails() {
    let settings = Settings { executions_max: 5, ..Settings::default() };
    let results = run(write_scenario("cut", "verify = \"exhaustive\""), &settings);
    let invalidate = results.iter().find(|r| r.name == "invalidate_lock").unwrap();
    assert_eq!(invalidate.status, Status::Fail);
    assert_eq!(invalidate.coverage.as_deref(), Some("incomplete after 5 executions"));
    let junit = racesim_check::junit::render(&results, &vec![None; results.len()]);
    assert!(junit.contains("<property name=\"coverage\" value=\"incomplete after 5 executions\"/>"), "{junit}");
}

#[test]
fn a_verified_clean_whose_window_no_interleaving_reaches_fails() {
    // The window's inside step names a function the truncate never runs (a scenario written
    // against another kernel's function names): the complete search shows no interleaving
    // reaches the window, so the clean verdict says nothing about the race.
    let path = write_scenario("unreachable", "verify = \"exhaustive\"");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "inside = { actor = \"truncate\", function = \"i_size_write\" }",
        "inside = { actor = \"truncate\", function = \"ext4_punch_hole\" }",
    );
    std::fs::write(&path, text).unwrap();
    let results = run(path, &Settings::default());
    let invalidate = results.iter().find(|r| r.name == "invalidate_lock").unwrap();
    assert_eq!(invalidate.status, Status::Fail, "{}", invalidate.message);
    assert_eq!(invalidate.coverage.as_deref(), Some("verified"));
    assert!(
        invalidate.message.contains("no interleaving has `inside` (truncate in ext4_punch_hole)"),
        "{}",
        invalidate.message
    );
}
