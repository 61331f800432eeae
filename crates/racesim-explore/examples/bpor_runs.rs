//! Probe (development aid): every execution bounded POR runs, as run-length decisions.
//! `bpor_runs <scenario.toml> <policy> <bound>`.
mod probe_common;

use racesim_explore::exhaustive::Mode;
use racesim_scenario::Scenario;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scenario = Scenario::load(std::path::Path::new(&args[1])).unwrap();
    let policy = scenario.policy(&args[2]).unwrap();
    let bound: usize = args[3].parse().unwrap();
    let inner = racesim_explore::exhaustive_strategy(&scenario, Mode::Bpor { bound }, None, true);
    let mut n = 0;
    let probe = probe_common::Recording::new(
        inner,
        Box::new(move |strategy, _, _, decisions: &[u32], preemptions| {
            let mut runs: Vec<(u32, usize)> = Vec::new();
            for &d in decisions {
                match runs.last_mut() {
                    Some((a, k)) if *a == d => *k += 1,
                    _ => runs.push((d, 1)),
                }
            }
            let text: Vec<String> = runs.iter().map(|(a, k)| format!("{a}x{k}")).collect();
            println!("#{n} p{preemptions} {} {:?}", text.join(" "), strategy.last_trace());
            n += 1;
        }),
    );
    let report = racesim_explore::explore_with(&scenario, &policy, Box::new(probe), 5_000_000, false);
    println!("{:?}", report.exhaustive.map(|s| (s.executions, s.distinct_traces)));
}
