//! Prints each event of a serial run with its footprint (development aid).
use racesim_explore::strategy::Guided;
use racesim_scenario::Scenario;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scenario = Scenario::load(std::path::Path::new(&args[1])).unwrap();
    let policy = scenario.policy(&args[2]).unwrap();
    let run = racesim_explore::run_one(&scenario, &policy, Box::new(Guided::new(vec![])), false);
    let names = scenario.names();
    let mut ops = Vec::new();
    let mut w = 0;
    for (a, spec) in scenario.actors.iter().enumerate() {
        for (i, op) in spec.ops.iter().enumerate() {
            w += 1;
            ops.push(racesim_oracles::OpInfo { actor: a as u8, op_index: i as u16, op: *op, write: w });
        }
    }
    for e in &run.events {
        let mut out = Vec::new();
        racesim_oracles::judge_accesses(
            &ops,
            e,
            true,
            &run.snapshots.last().map(|s| s.1.clone()).unwrap_or_else(|| scenario.build_kernel()),
            &mut out,
        );
        let fp: Vec<String> =
            out.iter().map(|a| format!("{}{:?}", if a.write { "W" } else { "R" }, a.object)).collect();
        println!("{:<60} {}", e.describe(&names), fp.join(" "));
    }
}
