//! Every recorded trace in `traces/` must replay to the same verdict and the same event log.
//! A trace whose scenario changed since it was recorded fails with that said plainly, so that
//! re-recording it is a deliberate act. Every trace embeds its scenario (so it replays alone).

use racesim_explore::Comparison;
use racesim_scenario::Scenario;
use racesim_trace::Trace;
use std::path::{Path, PathBuf};

#[test]
fn every_recorded_trace_replays_identically() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo.join("traces"))
        .expect("traces/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".trace.json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 6, "expected the recorded traces of the public scenarios, found {}", paths.len());
    let mut failures = Vec::new();
    for path in &paths {
        let trace = Trace::load(path).unwrap_or_else(|e| panic!("{e}"));
        if trace.is_old_format() || trace.scenario.text.is_none() {
            failures.push(format!(
                "{}: trace format {} does not embed its scenario; run racesim migrate {} (or re-record it)",
                path.display(),
                trace.format,
                path.display()
            ));
            continue;
        }
        let scenario = Scenario::load(&repo.join(&trace.scenario.path)).unwrap_or_else(|e| panic!("{e}"));
        let replay = racesim_explore::replay_trace(&scenario, &trace).expect("the trace's policy exists");
        if replay.scenario_changed {
            failures.push(format!(
                "{}: stale: {} changed since the trace was recorded; re-record it with racesim run --save-trace traces",
                path.display(),
                trace.scenario.path
            ));
        } else if let Comparison::Diverged(reason) = replay.comparison {
            failures.push(format!("{}: replay diverged: {reason}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
