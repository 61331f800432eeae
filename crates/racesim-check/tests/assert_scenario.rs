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
