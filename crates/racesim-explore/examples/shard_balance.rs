//! Shard balance of an exhaustive search (development aid, docs/exhaustive.md "Sharding").
//! `shard_balance <scenario.toml> <policy> <dpor|B> [N,N,...] [check]`: the unsharded search's
//! executions, then for each shard count N every shard's own and total (foreign included)
//! executions, and the largest shard's share of the unsharded search: own and total. The wall
//! time of a CI matrix running the shards is its largest shard's. With `check`, also whether
//! the union of the shards' outcomes is the unsharded search's.
use racesim_explore::exhaustive::{Mode, Shard};
use racesim_explore::{ExploreConfig, StrategyKind};
use racesim_scenario::Scenario;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scenario = Scenario::load(std::path::Path::new(&args[1])).unwrap();
    let policy = scenario.policy(&args[2]).unwrap();
    let mode = match args.get(3).map(String::as_str) {
        None | Some("dpor") => Mode::Dpor,
        Some(bound) => Mode::Bpor { bound: bound.parse().unwrap() },
    };
    let counts: Vec<u32> = args.get(4).map_or("2,4,8", String::as_str).split(',').map(|n| n.parse().unwrap()).collect();
    let check = args.get(5).is_some_and(|a| a == "check");
    let mut config = ExploreConfig::new(StrategyKind::Exhaustive { preemption_bound: None }, 0, 50_000_000);
    config.stop_at_first_finding = false;
    config.collect_outcomes = check;
    let run = |shard: Option<Shard>| {
        let mut config = config.clone();
        config.shard = shard;
        let r = racesim_explore::explore_mode(&scenario, &policy, mode, &config);
        (r.exhaustive.unwrap(), r.outcomes.unwrap_or_default())
    };
    let t = std::time::Instant::now();
    let (whole, outcomes) = run(None);
    println!("{} {} {mode:?}: unsharded {} executions ({:.1?})", scenario.name, args[2], whole.executions, t.elapsed());
    let whole_executions = whole.executions.max(1) as f64;
    for count in counts {
        let t = std::time::Instant::now();
        let mut union = std::collections::BTreeSet::new();
        let mut parts = Vec::new();
        for index in 0..count {
            let (s, o) = run(Some(Shard { index, count }));
            assert!(s.complete);
            parts.push((s.executions - s.foreign, s.executions));
            union.extend(o);
        }
        let own: u64 = parts.iter().map(|p| p.0).sum();
        let total: u64 = parts.iter().map(|p| p.1).sum();
        let max_own = parts.iter().map(|p| p.0).max().unwrap_or(0);
        let max_total = parts.iter().map(|p| p.1).max().unwrap_or(0);
        println!(
            "  N={count}: largest shard own {:.0}% total {:.0}% (ideal {:.0}%) | sum own {own} total {total} | per shard (own, total) {parts:?}{} ({:.1?})",
            100.0 * max_own as f64 / whole_executions,
            100.0 * max_total as f64 / whole_executions,
            100.0 / f64::from(count),
            if check { format!(" | union == whole: {}", union == outcomes) } else { String::new() },
            t.elapsed()
        );
    }
}
