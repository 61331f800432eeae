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
    // A fifth argument: measure memory only (no outcome or trace sets, which grow).
    let measure_memory = args.get(5).is_some();
    config.collect_outcomes = !measure_memory;
    config.count_traces = !measure_memory;
    let modes = if args.get(4).is_some() { vec![Mode::Dpor] } else { vec![Mode::Dpor, Mode::Naive { bound: None }] };
    for mode in modes {
        let t = std::time::Instant::now();
        let r = racesim_explore::explore_mode(&scenario, &policy, mode, &config);
        let s = r.exhaustive.unwrap();
        let outcomes = r.outcomes.unwrap_or_default();
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

/// Resident set size in KiB (Linux), printed by the memory measurement.
#[allow(dead_code)]
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}
