//! `LOGGED_FUNCTIONS`, the kernel function names events carry, is sorted (it is binary
//! searched) and holds no stale name: each one is written in the kernel's source (or, for the
//! final `sync`, in the explorer that runs it). That no logged name is missing is shown by
//! racesim-explore's `logged_functions` test.

use racesim_kernel::event::{LOGGED_FUNCTIONS, is_logged_function};
use std::path::Path;

fn sources(dir: &Path, out: &mut String) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn the_list_is_sorted_and_without_duplicates() {
    for pair in LOGGED_FUNCTIONS.windows(2) {
        assert!(pair[0] < pair[1], "LOGGED_FUNCTIONS must be sorted and unique: '{}' before '{}'", pair[0], pair[1]);
    }
    assert!(is_logged_function("filemap_fault") && !is_logged_function("filemap_faul"));
}

#[test]
fn every_listed_name_is_written_in_the_source_that_logs_it() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut kernel = String::new();
    sources(&crates.join("racesim-kernel/src"), &mut kernel);
    // The explorer runs the final sync at quiescence, with the function name "sync".
    let explorer = std::fs::read_to_string(crates.join("racesim-explore/src/lib.rs")).unwrap();
    let stale: Vec<&str> = LOGGED_FUNCTIONS
        .iter()
        .copied()
        .filter(|name| {
            let literal = format!("\"{name}\"");
            // The list itself is in the source too: count occurrences outside it.
            let listed_once = 1;
            kernel.matches(&literal).count() <= listed_once && !explorer.contains(&literal)
        })
        .collect();
    assert!(stale.is_empty(), "listed in LOGGED_FUNCTIONS but logged nowhere: {stale:?}");
}
