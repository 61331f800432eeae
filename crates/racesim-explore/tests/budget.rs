//! Issue 14 (8): `--time-budget` was asked only between schedules, so one pathological schedule
//! outlived it. The budget is now also asked every few thousand scheduling points; a schedule
//! it cuts is neither counted nor judged.

use racesim_explore::{ExploreConfig, StrategyKind};
use racesim_scenario::Scenario;

/// Eight actors of 64 three-page reads each: one schedule has far more scheduling points than
/// the budget's check interval.
fn long_schedules() -> Scenario {
    let reads = vec!["{ op = \"read\", file = \"f\", page = 0, pages = 3 }"; 64].join(", ");
    let mut text = "format = 1\nname = \"long\"\n[[file]]\nname = \"f\"\npages = 3\n".to_string();
    for a in 0..8 {
        text.push_str(&format!("[[actor]]\nname = \"r{a}\"\nops = [ {reads} ]\n"));
    }
    Scenario::parse(&text, "long.toml").unwrap()
}

#[test]
fn issue14_the_time_budget_stops_a_schedule_in_the_middle() {
    let scenario = long_schedules();
    let policy = scenario.policy("legacy").unwrap();
    let config = ExploreConfig::new(StrategyKind::Random, 1, 10);
    // The budget allows the first schedule to start, then is spent.
    let mut asked = 0;
    let report = racesim_explore::explore(
        &scenario,
        &policy,
        &config,
        Box::new(move |_| {
            asked += 1;
            asked == 1
        }),
    );
    assert!(report.stopped_by_budget);
    assert_eq!(report.progress.schedules, 0, "the cut schedule is not counted");
    assert!(report.finding.is_none(), "and gives no verdict");
    // Without the budget, the same schedule runs to its end.
    let full = racesim_explore::explore(
        &scenario,
        &policy,
        &ExploreConfig::new(StrategyKind::Random, 1, 1),
        Box::new(|_| true),
    );
    assert_eq!(full.progress.schedules, 1);
    assert!(full.progress.steps > 4096, "the schedule is long enough to be cut: {} steps", full.progress.steps);
}
