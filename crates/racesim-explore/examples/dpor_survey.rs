//! Survey: DPOR against the naive search on shipped scenarios (development aid).
use racesim_explore::exhaustive::Mode;
use racesim_explore::{ExploreConfig, StrategyKind};
use racesim_scenario::Scenario;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scenario = Scenario::load(std::path::Path::new(&args[1])).unwrap();
    let cap: u64 = args.get(3).map_or(200_000, |s| s.parse().unwrap());
    let policy = scenario.policy(&args[2]).unwrap();
    let mut config = ExploreConfig::new(StrategyKind::Exhaustive { preemption_bound: None }, 0, cap);
    config.stop_at_first_finding = false;
    config.collect_outcomes = true;
    config.count_traces = true;
    let modes = if args.get(4).is_some() { vec![Mode::Dpor] } else { vec![Mode::Dpor, Mode::Naive { bound: None }] };
    for mode in modes {
        let t = std::time::Instant::now();
        let r = racesim_explore::explore_mode(&scenario, &policy, mode, &config);
        let s = r.exhaustive.unwrap();
        let outcomes = r.outcomes.unwrap();
        println!(
            "steps {} limited {} {mode:?}: execs {} redundant {} complete {} traces {:?} outcomes {} {:?} in {:?}",
            r.progress.steps,
            r.step_limited,
            s.executions,
            s.redundant,
            s.complete,
            s.distinct_traces,
            outcomes.len(),
            outcomes.iter().map(|o| o.0.clone()).collect::<std::collections::BTreeSet<_>>(),
            t.elapsed()
        );
    }
}
