//! Survey: bounded partial-order reduction against the naive bounded search (development aid).
//! `bpor_survey <scenario.toml> <policy> <max bound> [shards]`: per bound, executions, distinct
//! traces and outcomes of both; with `shards`, the executions of each shard of the bounded and
//! unbounded reduced searches.
use racesim_explore::exhaustive::{Mode, Shard};
use racesim_explore::{ExploreConfig, StrategyKind};
use racesim_scenario::Scenario;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scenario = Scenario::load(std::path::Path::new(&args[1])).unwrap();
    let policy = scenario.policy(&args[2]).unwrap();
    let max: usize = args.get(3).map_or(3, |s| s.parse().unwrap());
    let shards: Option<u32> = args.get(4).map(|s| s.parse().unwrap());
    let mut config = ExploreConfig::new(StrategyKind::Exhaustive { preemption_bound: None }, 0, 5_000_000);
    config.stop_at_first_finding = false;
    config.collect_outcomes = true;
    config.count_traces = true;
    let run = |mode: Mode, shard: Option<Shard>| {
        let mut config = config.clone();
        config.shard = shard;
        let t = std::time::Instant::now();
        let r = racesim_explore::explore_mode(&scenario, &policy, mode, &config);
        (r.exhaustive.unwrap(), r.outcomes.unwrap_or_default(), t.elapsed())
    };
    if let Some(count) = shards {
        let mut modes: Vec<Mode> = (1..=max).map(|bound| Mode::Bpor { bound }).collect();
        modes.push(Mode::Dpor);
        for mode in modes {
            let (whole, outcomes, _) = run(mode, None);
            let mut union = std::collections::BTreeSet::new();
            let mut parts = Vec::new();
            for index in 0..count {
                let (s, o, _) = run(mode, Some(Shard { index, count }));
                parts.push((s.executions, s.foreign));
                union.extend(o);
            }
            for missing in outcomes.difference(&union) {
                println!("  missing from the shards: {missing:?}");
            }
            for extra in union.difference(&outcomes) {
                println!("  extra in the shards: {extra:?}");
            }
            let total: u64 = parts.iter().map(|p| p.0).sum();
            let own: u64 = parts.iter().map(|p| p.0 - p.1).sum();
            println!(
                "{mode:?}: whole {} | {count} shards {parts:?} total {total} own {own} | union == whole: {}",
                whole.executions,
                union == outcomes
            );
        }
        return;
    }
    for bound in 0..=max {
        let (n, no, nt) = run(Mode::Naive { bound: Some(bound) }, None);
        let (b, bo, bt) = run(Mode::Bpor { bound }, None);
        println!(
            "bound {bound}: naive {} execs {:?} traces {} outcomes in {nt:?} | bpor {} execs ({} redundant) {:?} traces {} outcomes in {bt:?} | equal {}",
            n.executions,
            n.distinct_traces,
            no.len(),
            b.executions,
            b.redundant,
            b.distinct_traces,
            bo.len(),
            no == bo
        );
    }
}
