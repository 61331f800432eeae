//! Probe (development aid): the traces the naive bounded search reaches and bounded POR does
//! not. `trace_probe <scenario.toml> <policy> <bound>`: per missing trace fingerprint, the
//! decisions of a naive execution with it, its preemptions, whether unbounded DPOR explores
//! it (unless a fourth argument `nodpor` skips that search, which can be long), and its
//! replayed event log.
mod probe_common;

use racesim_explore::exhaustive::Mode;
use racesim_scenario::Scenario;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Trace fingerprint -> the decisions and preemptions of the first execution with it.
type Seen = BTreeMap<u64, (Vec<u32>, usize)>;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scenario = Scenario::load(std::path::Path::new(&args[1])).unwrap();
    let policy = scenario.policy(&args[2]).unwrap();
    let bound: usize = args[3].parse().unwrap();
    let run = |mode: Mode| {
        let seen = Rc::new(RefCell::new(Seen::new()));
        let inner = racesim_explore::exhaustive_strategy(&scenario, mode, None, true);
        let record = seen.clone();
        let probe = probe_common::Recording::new(
            inner,
            Box::new(move |strategy, _, _, decisions: &[u32], preemptions| {
                if let Some(trace) = strategy.last_trace() {
                    record.borrow_mut().entry(trace).or_insert_with(|| (decisions.to_vec(), preemptions));
                }
            }),
        );
        let report = racesim_explore::explore_with(&scenario, &policy, Box::new(probe), 5_000_000, false);
        println!("{mode:?}: {:?}", report.exhaustive.map(|s| (s.executions, s.distinct_traces)));
        Rc::try_unwrap(seen).ok().unwrap().into_inner()
    };
    let naive = run(Mode::Naive { bound: Some(bound) });
    let bpor = run(Mode::Bpor { bound });
    let dpor = if args.get(4).is_some_and(|a| a == "nodpor") { Seen::new() } else { run(Mode::Dpor) };
    let names = scenario.names();
    for (trace, (decisions, preemptions)) in naive.iter().filter(|(t, _)| !bpor.contains_key(t)) {
        println!(
            "missing {trace}: {preemptions} preemptions, in DPOR: {}, decisions {decisions:?}",
            dpor.contains_key(trace)
        );
    }
    // The first missing one's log, and the log of a DPOR execution whose actors did the same
    // things (the same per-actor event sequences), if any.
    let per_actor = |decisions: &[u32]| {
        let replay = racesim_explore::replay(&scenario, &policy, decisions);
        let mut actors: BTreeMap<u8, Vec<String>> = BTreeMap::new();
        for e in &replay.events {
            actors.entry(e.actor).or_default().push(e.describe(&names));
        }
        (actors, replay.events.iter().map(|e| e.describe(&names)).collect::<Vec<_>>())
    };
    if let Some((_, (decisions, _))) = naive.iter().find(|(t, _)| !bpor.contains_key(t)) {
        let (actors, log) = per_actor(decisions);
        for line in &log {
            println!("  {line}");
        }
        for (trace, (d, _)) in &dpor {
            let (other, other_log) = per_actor(d);
            if other == actors {
                println!("DPOR {trace} has the same per-actor events:");
                for line in &other_log {
                    println!("  {line}");
                }
            }
        }
    }
}
