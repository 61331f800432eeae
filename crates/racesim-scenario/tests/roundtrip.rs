//! Scenario files: every shipped one parses, and writing a scenario back out (what the
//! minimizer does with reduced scenarios) gives a file that parses to the same scenario.

use racesim_scenario::Scenario;
use std::path::Path;

fn shipped() -> Vec<Scenario> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut paths: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths.iter().filter(|p| p.extension().is_some_and(|e| e == "toml")).map(|p| Scenario::load(p).unwrap()).collect()
}

fn same(a: &Scenario, b: &Scenario) {
    assert_eq!(a.name, b.name);
    assert_eq!(a.description, b.description);
    assert_eq!(a.disk_blocks, b.disk_blocks);
    assert_eq!(format!("{:?}", a.files), format!("{:?}", b.files));
    assert_eq!(format!("{:?}", a.actors), format!("{:?}", b.actors));
    assert_eq!(a.variants, b.variants);
    assert_eq!(a.expect, b.expect);
    assert_eq!(a.window, b.window);
}

#[test]
fn every_shipped_scenario_round_trips_through_to_toml() {
    let all = shipped();
    assert!(all.len() >= 6);
    for scenario in all {
        let text = scenario.to_toml();
        let again = Scenario::parse(&text, "roundtrip.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        same(&scenario, &again);
    }
}

#[test]
fn removing_an_operation_drops_emptied_actors_and_their_window() {
    let scenario = shipped().into_iter().find(|s| s.name == "mkwrite_punch").unwrap();
    let allocator = scenario.actors.iter().position(|a| a.name == "allocator").unwrap();
    let fewer = scenario.without_op(allocator, 1);
    assert_eq!(fewer.operation_count(), scenario.operation_count() - 1);
    let none = fewer.without_op(allocator, 0);
    assert_eq!(none.actors.len(), scenario.actors.len() - 1);
    assert!(none.window.is_some(), "the window names mmap-writer and punch, which remain");
    let punch = none.actors.iter().position(|a| a.name == "punch").unwrap();
    let no_punch = none.without_op(punch, 0);
    assert!(no_punch.window.is_none(), "a window naming a removed actor goes");
    Scenario::parse(&no_punch.to_toml(), "reduced.toml").unwrap();
}

/// On a file of 1 KiB blocks, fallocate names blocks as punch_hole does, madvise(MADV_REMOVE)
/// names pages (madvise takes a page-aligned range) and punches their blocks, and mlock names the
/// pages it populates; each writes back out as it was written.
#[test]
fn fallocate_madvise_and_mlock_of_a_file_of_smaller_blocks_round_trip() {
    use racesim_kernel::Operation;
    let text = "format = 1\nname = \"t\"\n\n[[file]]\nname = \"data\"\npages = 2\nblock_size = 1024\n\n\
                [[actor]]\nname = \"a\"\nops = [\n\
                { op = \"fallocate\", file = \"data\", page = 1, block = 2, blocks = 3, keep_size = false },\n\
                { op = \"madvise_remove\", file = \"data\", page = 1, pages = 1 },\n\
                { op = \"mlock\", file = \"data\", page = 0, pages = 2 },\n]\n";
    let scenario = Scenario::parse(text, "subpage.toml").unwrap();
    let ops: Vec<Operation> = scenario.actors[0].ops.clone();
    assert_eq!(
        ops,
        [
            Operation::Fallocate { file: 0, page: 6, pages: 3, keep_size: false },
            Operation::MadviseRemove { file: 0, page: 4, pages: 4 },
            Operation::Mlock { file: 0, page: 0, pages: 2 },
        ]
    );
    let again = Scenario::parse(&scenario.to_toml(), "again.toml").unwrap();
    same(&scenario, &again);
}
