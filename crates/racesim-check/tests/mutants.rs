//! Oracle sensitivity as a test (docs/oracle-sensitivity.md): every mutant of every fixing
//! policy is killed by a shipped scenario, or listed in `tests/mutants.toml` with the reason it
//! survives; and every listed survivor still survives, so the list stays true.
//!
//! This runs the sampled pass for every mutant, and the exhaustive pass (within 2 preemptions)
//! for every mutant the sampled pass leaves alive that is not listed: what it would take to
//! call it a survivor. The listed survivors' exhaustive confirmation is `racesim mutants`
//! (`.ci/run`), which is too slow for the test profile.

use racesim_check::mutants::{self, MutantSettings, Outcome, Survivors};
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_mutant_is_killed_or_listed_as_a_survivor() {
    let list = Survivors::load(&repo().join("tests/mutants.toml")).unwrap();
    let all = mutants::subjects(&[repo().join("scenarios")]);
    let generated = mutants::generate(&all, &all);
    let settings =
        MutantSettings { sampled_only: list.survivor.iter().map(|s| s.id()).collect(), ..MutantSettings::default() };
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get()).min(4);
    let results = mutants::run_mutants(&generated, &settings, jobs, &|_, _| {});
    let subjects: Vec<String> = all.iter().map(|s| s.id.clone()).collect();
    let judgement = mutants::judge(&results, &list, &subjects, true);
    assert!(
        judgement.holds(),
        "survived but not listed in tests/mutants.toml (write the scenario that kills it, or list it with \
         its reason): {:#?}\nlisted but killed (take it off the list): {:#?}\nlisted but not generated: {:#?}",
        judgement.unexpected_survivors,
        judgement.listed_but_killed,
        judgement.listed_but_absent
    );
}

#[test]
fn the_loader_refuses_waiting_for_direct_io_shared() {
    let all = mutants::subjects(&[repo().join("scenarios/dio_punch.toml")]);
    let generated = mutants::generate(&all, &all);
    let refused: Vec<String> = generated.iter().filter(|m| m.policy.is_err()).map(|m| m.id()).collect();
    assert!(
        refused
            .contains(&"legacy: weaken i_dio_count exclusive file in inode_dio_wait start..end to shared".to_string()),
        "{refused:?}"
    );
    let settings = MutantSettings { preemption_bound: None, ..MutantSettings::default() };
    let refusal = generated.iter().find(|m| m.policy.is_err()).unwrap();
    assert!(matches!(mutants::run_mutant(refusal, &settings).outcome, Outcome::Refused { .. }));
}

/// A scenario variant is mutated only where it differs from its closest built-in; the built-in's
/// mutants also run against the variant's scenario, with the same change made to the variant.
#[test]
fn a_variant_is_mutated_where_it_differs_and_tests_its_base() {
    let all = mutants::subjects(&[repo().join("scenarios/collapse_mmap.toml")]);
    let ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["mmaplock", "invalidate_lock", "collapse_mmap/range_lock_mkwrite"]);
    let variant = &all[2];
    assert_eq!(mutants::closest_primary(&variant.policy).0, "range_lock");
    let generated = mutants::generate(&all, &all[2..]);
    let labels: Vec<&str> = generated.iter().map(|m| m.mutation.as_str()).collect();
    assert_eq!(
        labels,
        [
            "remove range_lock exclusive page in page_mkwrite start..end",
            "weaken range_lock exclusive page in page_mkwrite start..end to shared"
        ]
    );
    // range_lock expects no clean here, but its collapse decision is the variant's too.
    let with_range_lock =
        mutants::subjects(&[repo().join("scenarios/collapse_mmap.toml"), repo().join("scenarios/read_punch.toml")]);
    let range_lock: Vec<_> = with_range_lock.iter().filter(|s| s.id == "range_lock").cloned().collect();
    let generated = mutants::generate(&with_range_lock, &range_lock);
    let collapse = generated
        .iter()
        .find(|m| m.mutation == "shrink range_lock exclusive to_eof in collapse_range invalidate..end to range")
        .unwrap();
    let runs: Vec<String> = collapse.runs.iter().map(|(t, p)| format!("{} {}", t.scenario.name, p.name)).collect();
    assert_eq!(runs, ["read_punch range_lock", "collapse_mmap range_lock_mkwrite"]);
}

/// A variant of an XFS built-in is derived from that built-in, not from the ext4 primary the
/// built-in is derived from: XFS 6.2 is `xfs-5.3` with the iomap validity cookie and the 6.2
/// failed-write cleanup under `invalidate_lock`, and only those are mutated (the rest of
/// `xfs-5.3` is mutated as `xfs-5.3`, on its own scenarios).
#[test]
fn a_variant_of_an_xfs_built_in_is_mutated_only_where_it_differs_from_it() {
    let all = mutants::subjects(&[repo().join("scenarios/iomap_stale_map_writeback.toml")]);
    let variant = all.iter().find(|s| s.id == "iomap_stale_map_writeback/xfs_6_2").unwrap();
    assert_eq!(mutants::closest_builtin(&variant.policy).0, "xfs-5.3");
    let generated = mutants::generate(&all, std::slice::from_ref(variant));
    let labels: Vec<&str> = generated.iter().map(|m| m.mutation.as_str()).collect();
    assert_eq!(
        labels,
        [
            "remove fault_lock exclusive file in truncate_failed_write start..end",
            "weaken fault_lock exclusive file in truncate_failed_write start..end to shared",
            "set buffered_write_map = iomap",
        ]
    );
}
