//! `racesim_kernel::event::LOGGED_FUNCTIONS` is complete: every kernel function name that an
//! event of any shipped scenario logs, under every built-in policy and every variant the
//! scenario defines, is in the list. The scenario loader refuses a `[window]` function outside
//! the list, so a name missing here would make a correct window unloadable. This test is the
//! check (`Machine::emit` does not look the name up, for speed): it samples random and PCT
//! schedules of every scenario, so rare paths are reached too.

use racesim_explore::strategy::{Pct, RandomWalk};
use racesim_kernel::event::{LOGGED_FUNCTIONS, is_logged_function};
use racesim_kernel::policy::ALL_BUILTINS;
use racesim_scenario::Scenario;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Schedules per scenario and policy, per strategy.
const SAMPLES: u64 = 48;

fn scenarios() -> Vec<Scenario> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("scenarios/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths.iter().map(|p| Scenario::load(p).unwrap_or_else(|e| panic!("{e}"))).collect()
}

#[test]
fn every_function_any_shipped_scenario_logs_is_in_the_list() {
    let mut seen: BTreeSet<&'static str> = BTreeSet::new();
    let mut missing: BTreeSet<String> = BTreeSet::new();
    for scenario in scenarios() {
        let policies: Vec<String> = ALL_BUILTINS
            .iter()
            .map(|p| p.to_string())
            .chain(scenario.variants.iter().map(|v| v.name.clone()))
            .collect();
        for name in &policies {
            let policy = scenario.policy(name).expect("a built-in or a variant");
            for seed in 0..SAMPLES {
                for strategy in [
                    Box::new(RandomWalk::new(seed)) as Box<dyn racesim_explore::strategy::Strategy>,
                    Box::new(Pct::new(seed, 3)),
                ] {
                    let run = racesim_explore::run_one(&scenario, &policy, strategy, false);
                    for event in &run.events {
                        seen.insert(event.function);
                        if !is_logged_function(event.function) {
                            missing.insert(format!("{} ({} under {name})", event.function, scenario.path));
                        }
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "kernel functions logged but not in racesim_kernel::event::LOGGED_FUNCTIONS:\n  {}",
        missing.into_iter().collect::<Vec<_>>().join("\n  ")
    );
    // The sample reaches most of the list; a name no scenario reaches is still checked
    // against the kernel's source by racesim-kernel's own test.
    assert!(
        seen.len() * 4 >= LOGGED_FUNCTIONS.len() * 3,
        "only {} of {} listed functions seen",
        seen.len(),
        LOGGED_FUNCTIONS.len()
    );
}
