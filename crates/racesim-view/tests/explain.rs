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

/// A finding that passes through a direct write's invalidation failing on a page dirtied since
/// (-EBUSY) says so, with the warning Linux prints there; one that does not, does not.
#[test]
fn explain_names_the_direct_io_collision_linux_warns_about() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let analyse = |name: &str| {
        let trace = Trace::load(&repo.join("traces").join(name)).unwrap();
        let scenario = Scenario::load(&repo.join(&trace.scenario.path)).unwrap();
        racesim_view::explain::analyse(&scenario, &trace).unwrap()
    };
    let collided = analyse("dio_read_own_mapping_store.invalidate_lock.seed1.schedule906.trace.json");
    let &[step] = collided.collisions.as_slice() else { panic!("{:?}", collided.collisions) };
    assert!(collided.steps[step].change.contains("-EBUSY"), "{:?}", collided.steps[step]);
    assert_eq!(collided.steps[step].actor, "dio-writer");
    let text = racesim_view::explain::render(&collided, 80);
    assert!(text.contains(&format!("At step {step} (dio-writer invalidate_complete_page2")), "{text}");
    assert!(text.contains("dio_warn_stale_pagecache"), "{text}");
    let clean = analyse("collapse_mmap.legacy.minimized.trace.json");
    assert!(clean.collisions.is_empty());
    assert!(!racesim_view::explain::render(&clean, 80).contains("dio_warn_stale_pagecache"));
}

/// A busy page before the IO is a collision only when the IO goes ahead (a write under
/// `dio_invalidate_busy = "warn"`, a read): a buffered fallback or a short write is none. After
/// the IO it always is.
#[test]
fn a_busy_page_is_a_collision_only_when_the_direct_io_goes_ahead() {
    use racesim_kernel::Event;
    use racesim_kernel::event::{Change, Outcome};
    use racesim_kernel::types::PageRange;
    let ev = |function, change| Event { actor: 0, function, change };
    let busy = ev("invalidate_complete_page2", Change::InvalidateBusy { ino: 0, index: 0, page: 3 });
    let begin = ev("dio_write", Change::OpBegin { op: 0 });
    let end = ev("dio_write", Change::OpEnd { op: 0, outcome: Outcome::Pages(1) });
    let submit = ev("submit_bio", Change::BioSubmitted { ino: 0, range: PageRange::new(0, 1) });
    let done = ev("dio_bio_end_io", Change::Nothing);
    let fallback = ev("iov_iter_copy_from_user_atomic", Change::Nothing);
    let cases = [
        (vec![begin, busy, submit, done, end], vec![1]),
        (vec![begin, busy, fallback, end], vec![]),
        (vec![begin, submit, done, busy, end], vec![3]),
        // An asynchronous write's completion, after the syscall returned.
        (vec![begin, submit, end, done, busy], vec![4]),
        // The next operation's busy page, before its own IO, with no bio after it.
        (vec![begin, submit, done, end, begin, busy, end], vec![]),
    ];
    for (events, expected) in cases {
        assert_eq!(racesim_view::explain::direct_io_collisions(&events), expected, "{events:?}");
    }
}
