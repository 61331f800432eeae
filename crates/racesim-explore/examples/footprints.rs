//! Prints each event of a serial run with its footprint (development aid).
use racesim_explore::strategy::Guided;
use racesim_scenario::Scenario;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scenario = Scenario::load(std::path::Path::new(&args[1])).unwrap();
    let policy = scenario.policy(&args[2]).unwrap();
    // An optional third argument: the decisions to follow (comma-separated task ids), as
    // `trace_probe` prints them; the step boundaries are then marked.
    let decisions: Vec<u32> = args.get(3).map_or(Vec::new(), |d| {
        d.split(',').filter(|x| !x.trim().is_empty()).map(|x| x.trim().parse().unwrap()).collect()
    });
    let strategy: Box<dyn racesim_explore::strategy::Strategy> = if decisions.is_empty() {
        Box::new(Guided::new(vec![]))
    } else {
        Box::new(racesim_explore::strategy::Replay::new(decisions))
    };
    let run = racesim_explore::run_one(&scenario, &policy, strategy, false);
    let names = scenario.names();
    let mut ops = Vec::new();
    let mut w = 0;
    for (a, spec) in scenario.actors.iter().enumerate() {
        for (i, op) in spec.ops.iter().enumerate() {
            w += 1;
            ops.push(racesim_oracles::OpInfo { actor: a as u8, op_index: i as u16, op: *op, write: w });
        }
    }
    for (n, e) in run.events.iter().enumerate() {
        if let Some(k) = run.decision_positions.iter().position(|&p| p == n) {
            println!("--- step {k}: task {}", run.decisions[k]);
        }
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
