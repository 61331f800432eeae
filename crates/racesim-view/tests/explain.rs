//! Snapshot of `racesim explain` on the minimized collapse_mmap trace (insta): the text a
//! kernel developer reads is part of the product, so a change to it must be deliberate. Look
//! at the diff a mismatch prints and accept it with `cargo insta review` (or
//! `INSTA_UPDATE=always cargo test -p racesim-view --test explain`); in CI a mismatch fails.

use racesim_scenario::Scenario;
use racesim_trace::Trace;
use std::path::Path;

#[test]
fn explain_of_the_minimized_collapse_trace_matches_its_snapshot() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let trace = Trace::load(&repo.join("traces/collapse_mmap.legacy.minimized.trace.json")).unwrap();
    let scenario = Scenario::load(&repo.join(&trace.scenario.path)).unwrap();
    let text = racesim_view::explain::explain(&scenario, &trace).unwrap();
    insta::assert_snapshot!("collapse_mmap.legacy.minimized", text);
    // What the snapshot must keep saying: one preemption is enough, the store lands inside the
    // window between flush and page-cache removal, and that seals the lost write.
    assert!(text.contains("CPU0: mmap-writer") && text.contains("CPU1: collapse"));
    assert!(text.contains("The outcome was sealed at step"));
    assert!(text.contains("user store to data:6 lands"));
}

#[test]
fn explain_fits_the_width_it_is_given() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let trace = Trace::load(&repo.join("traces/collapse_mmap.legacy.minimized.trace.json")).unwrap();
    let scenario = Scenario::load(&repo.join(&trace.scenario.path)).unwrap();
    let analysis = racesim_view::explain::analyse(&scenario, &trace).unwrap();
    for width in [60, 72, 80, 132] {
        let text = racesim_view::explain::render(&analysis, width);
        let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(widest <= width, "{width} columns asked, {widest} used:\n{text}");
        // Words are not cut where they fit: the key step reads whole.
        assert!(text.contains("discarding dirty") || width < 72, "{text}");
    }
    // No empty sync column: the final sync's steps run across the width, below the actors.
    let text = racesim_view::explain::render(&analysis, 80);
    assert!(!text.contains("CPU2") && text.contains("sync (at quiescence"), "{text}");
    let window = analysis.window.as_ref().expect("a failing trace has a window");
    assert!(window.declared && window.from < window.to);
    // The outcome is sealed by the store landing, inside the window.
    let store = trace.events.iter().position(|e| e.change.contains("user store to data:6 lands"));
    assert_eq!(analysis.sealing.as_ref().and_then(|s| s.step), store);
    assert!(store.is_some_and(|s| window.from <= s && s <= window.to));
}
