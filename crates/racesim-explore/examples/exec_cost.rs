//! Paired cost measurement (development aid): the cost of an exhaustive execution against a
//! sampled (random) schedule, measured side by side, repeated.
//! `exec_cost <scenario.toml> <policy> [reps] [bound]`: per repetition, one whole exhaustive
//! search (DPOR, or bounded POR with `bound`, run again until it has taken at least 20,000
//! executions) then 20,000 random schedules; prints us per execution of each and their ratio,
//! per step too, then min/median/max of the ratios. A fifth argument `only=exhaustive` or
//! `only=random` runs one side alone (for callgrind; bound `-` for none).
use racesim_explore::{ExploreConfig, StrategyKind};
use racesim_scenario::Scenario;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scenario = Scenario::load(std::path::Path::new(&args[1])).unwrap();
    let policy = scenario.policy(&args[2]).unwrap();
    let reps: usize = args.get(3).map_or(5, |s| s.parse().unwrap());
    let bound: Option<usize> = args.get(4).and_then(|s| s.parse().ok());
    // `only=exhaustive` / `only=random`: one side alone (for callgrind).
    let only = args.get(5).map(String::as_str);
    const SAMPLED: u64 = 20_000;
    let config = |strategy, n| ExploreConfig { stop_at_first_finding: false, ..ExploreConfig::new(strategy, 1, n) };
    let exhaustive = config(StrategyKind::Exhaustive { preemption_bound: bound }, u64::MAX);
    let random = config(StrategyKind::Random, SAMPLED);
    let mut ratios = Vec::new();
    let mut step_ratios = Vec::new();
    for rep in 0..reps {
        let (mut execs, mut esteps, mut runs) = (0u64, 0u64, 0u64);
        let t = Instant::now();
        while execs < SAMPLED && only != Some("only=random") {
            let r = racesim_explore::explore(&scenario, &policy, &exhaustive, Box::new(|_| true));
            assert!(r.exhaustive.as_ref().unwrap().complete);
            execs += r.progress.schedules;
            esteps += r.progress.steps;
            runs += 1;
        }
        let te = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let random = ExploreConfig {
            schedules_max: if only == Some("only=exhaustive") { 1 } else { SAMPLED },
            ..random.clone()
        };
        let r = racesim_explore::explore(&scenario, &policy, &random, Box::new(|_| true));
        let tr = t.elapsed().as_secs_f64();
        let (e_us, r_us) = (te * 1e6 / execs as f64, tr * 1e6 / r.progress.schedules as f64);
        let (e_ns_step, r_ns_step) = (te * 1e9 / esteps as f64, tr * 1e9 / r.progress.steps as f64);
        println!(
            "rep {rep}: exhaustive {execs} executions ({runs} searches) {e_us:.2} us/exec {e_ns_step:.0} ns/step | random {} schedules {r_us:.2} us/sched {r_ns_step:.0} ns/step | ratio {:.2} per exec, {:.2} per step",
            r.progress.schedules,
            e_us / r_us,
            e_ns_step / r_ns_step
        );
        ratios.push(e_us / r_us);
        step_ratios.push(e_ns_step / r_ns_step);
    }
    for (what, v) in [("per execution", &mut ratios), ("per step", &mut step_ratios)] {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("ratio {what}: min {:.2} median {:.2} max {:.2}", v[0], v[v.len() / 2], v[v.len() - 1]);
    }
}
