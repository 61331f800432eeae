//! Policies are data: a policy file a user writes is explored exactly like a built-in.

use racesim_explore::ExploreConfig;
use racesim_scenario::Scenario;
use std::path::Path;

#[test]
fn a_user_written_policy_file_reproduces_the_mmaplock_verdicts_on_every_scenario() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let policy = racesim_scenario::policy_file::load(&here.join("tests/policies/ext4_4_5.toml")).unwrap();
    let mut paths: Vec<_> =
        std::fs::read_dir(here.join("../../scenarios")).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    let mut compared = 0;
    for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "toml")) {
        let scenario = Scenario::load(path).unwrap();
        let Some(expected) = scenario.expectation("mmaplock") else { continue };
        let config = ExploreConfig::new(scenario.strategy_or(None), 1, 10_000);
        let report = racesim_explore::explore(&scenario, &policy, &config, Box::new(|_| true));
        let found = report.finding.as_ref().map(|f| f.violation.oracle);
        assert!(
            expected.accepts(found),
            "{}: mmaplock expects {expected}, the user's ext4_4_5 gives {found:?}",
            path.display()
        );
        // And the same schedules: the file describes the same policy, field for field.
        let builtin = scenario.policy("mmaplock").unwrap();
        let again = racesim_explore::explore(&scenario, &builtin, &config, Box::new(|_| true));
        assert_eq!(report.progress.steps, again.progress.steps, "{}", path.display());
        compared += 1;
    }
    assert!(compared >= 10, "compared {compared} scenarios");
}
