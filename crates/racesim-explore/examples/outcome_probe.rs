//! Probe (development aid): the end states a sharded DPOR search reaches and the unsharded one
//! does not, with the decisions that reach them, for a replay and a comparison.
//! `outcome_probe <scenario.toml> <policy> <shards> <out dir> [raw]`: writes the final kernel
//! state of every outcome of the unsharded search (`whole_<n>_<digest>.txt`, decisions on the
//! last line) and of every extra one (`extra_<digest>.txt`, with its replayed event log in
//! `log_<digest>.txt`), so that `diff` shows what differs. States are compared in their
//! canonical form (`Kernel::canonical`), or as they are with `raw` (how the frame-numbering
//! difference of docs/exhaustive.md, "Soundness", was found).
mod probe_common;

use racesim_explore::exhaustive::{Mode, Shard};
use racesim_kernel::Kernel;
use racesim_scenario::Scenario;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Final-state digest -> the decisions of the first execution that reached it, and the state.
type Seen = BTreeMap<u64, (Vec<u32>, Kernel)>;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scenario = Scenario::load(std::path::Path::new(&args[1])).unwrap();
    let policy = scenario.policy(&args[2]).unwrap();
    let count: u32 = args[3].parse().unwrap();
    let out = std::path::PathBuf::from(&args[4]);
    let raw = args.get(5).is_some_and(|a| a == "raw");
    std::fs::create_dir_all(&out).unwrap();
    let run = |shard: Option<Shard>| {
        let seen = Rc::new(RefCell::new(Seen::new()));
        let inner = racesim_explore::exhaustive_strategy(&scenario, Mode::Dpor, shard, false);
        let record = seen.clone();
        let probe = probe_common::Recording::new(
            inner,
            Box::new(move |_, _, kernel: &Kernel, decisions: &[u32], _| {
                let mut hasher = std::hash::DefaultHasher::new();
                if raw {
                    std::hash::Hash::hash(kernel, &mut hasher);
                } else {
                    std::hash::Hash::hash(&kernel.canonical(), &mut hasher);
                }
                let digest = std::hash::Hasher::finish(&hasher);
                record.borrow_mut().entry(digest).or_insert_with(|| (decisions.to_vec(), kernel.clone()));
            }),
        );
        let report = racesim_explore::explore_with(&scenario, &policy, Box::new(probe), 5_000_000, false);
        println!("{shard:?}: {:?}", report.exhaustive);
        Rc::try_unwrap(seen).ok().unwrap().into_inner()
    };
    let whole = run(None);
    let mut union = Seen::new();
    for index in 0..count {
        for (digest, seen) in run(Some(Shard { index, count })) {
            union.entry(digest).or_insert(seen);
        }
    }
    println!("end states: unsharded {}, union of the shards {}", whole.len(), union.len());
    for (n, (digest, (decisions, kernel))) in whole.iter().enumerate() {
        let text = format!("{kernel:#?}\n{decisions:?}\n");
        std::fs::write(out.join(format!("whole_{n}_{digest}.txt")), text).unwrap();
    }
    for digest in whole.keys().filter(|d| !union.contains_key(d)) {
        println!("missing from the shards: {digest}");
    }
    let names = scenario.names();
    for (digest, (decisions, kernel)) in union.iter().filter(|(d, _)| !whole.contains_key(d)) {
        let replay = racesim_explore::replay(&scenario, &policy, decisions);
        println!("extra in the shards: {digest} (replay diverged: {:?})", replay.diverged);
        std::fs::write(out.join(format!("extra_{digest}.txt")), format!("{kernel:#?}\n{decisions:?}\n")).unwrap();
        let log: Vec<String> = replay.events.iter().map(|e| e.describe(&names)).collect();
        std::fs::write(out.join(format!("log_{digest}.txt")), log.join("\n")).unwrap();
    }
}
