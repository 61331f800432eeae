//! Scenario cases as tests of a crate's own harness ([`racesim_check::trials`]), the way a
//! user's crate makes every scenario file a test that `cargo nextest` runs, filters, partitions
//! and retries. A few of the shipped scenarios and traces, found from the crate directory.

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let paths = [
        "scenarios/collapse_mmap.toml".into(),
        "scenarios/mkwrite_punch.toml".into(),
        "traces/collapse_mmap.legacy.minimized.trace.json".into(),
    ];
    let settings = racesim_check::Settings { schedules: 2_000, ..racesim_check::Settings::default() };
    let trials = racesim_check::trials(&paths, &settings);
    assert!(trials.len() >= 12, "the cases of two scenarios and a trace: {}", trials.len());
    libtest_mimic::run(&args, trials).exit();
}
