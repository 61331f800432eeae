//! The one-line library API, as a downstream crate's `cargo test` would use it.

use std::path::Path;

#[test]
fn a_shipped_scenario_meets_its_expectations_in_one_line() {
    racesim_check::assert_scenario(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/mkwrite_punch.toml"));
}

#[test]
#[should_panic(expected = "expected clean, found write_to_freed_block")]
fn a_wrong_expectation_panics_with_the_reason() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/mkwrite_punch.toml"))
            .unwrap()
            .replace("legacy = \"write_to_freed_block\"", "legacy = \"clean\"");
    let path = std::env::temp_dir().join(format!("racesim-assert-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    racesim_check::assert_scenario(&path);
}

#[test]
fn a_relative_path_is_found_from_the_crate_directory_and_settings_apply() {
    // cargo test runs in crates/racesim-check; the scenario is in the workspace's scenarios/.
    let settings = racesim_check::Settings { schedules: 2_000, ..racesim_check::Settings::default() };
    racesim_check::assert_scenario_with("scenarios/collapse_mmap.toml", &settings);
    let results = racesim_check::check_scenario("scenarios/collapse_mmap.toml", &settings).expect("it passes");
    assert!(results.iter().any(|r| r.name == "legacy"));
}

#[test]
fn check_scenario_returns_the_failures_instead_of_panicking() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/mkwrite_punch.toml"))
            .unwrap()
            .replace("legacy = \"write_to_freed_block\"", "legacy = \"clean\"");
    let path = std::env::temp_dir().join(format!("racesim-check-result-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let failure = racesim_check::check_scenario(&path, &racesim_check::Settings::default()).unwrap_err();
    assert_eq!(failure.failures().count(), 1);
    assert!(failure.to_string().contains("expected clean, found write_to_freed_block"), "{failure}");
}
