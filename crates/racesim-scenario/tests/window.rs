//! `[window]` names are checked when the scenario is read: a misspelt kernel function is
//! refused with its position and the nearest function events can name, instead of showing up
//! only as "window never reached (0 of N schedules)".

use racesim_scenario::Scenario;

const HEAD: &str = "format = 1\nname = \"w\"\n\n[[file]]\nname = \"data\"\npages = 4\n\n\
[[actor]]\nname = \"faulter\"\nops = [{ op = \"load\", file = \"data\", page = 1 }]\n\n\
[[actor]]\nname = \"punch\"\nops = [{ op = \"punch_hole\", file = \"data\", page = 0, pages = 2 }]\n\n";

fn with_window(opens: &str) -> String {
    format!(
        "{HEAD}[window]\ndescription = \"d\"\nopens = {opens}\ncloses = {{ actor = \"punch\", function = \"inode_unlock\" }}\n\
         inside = {{ actor = \"faulter\", function = \"filemap_fault\" }}\n\n[expect]\nlegacy = \"clean\"\n"
    )
}

#[test]
fn a_known_window_function_loads() {
    let text = with_window("{ actor = \"punch\", function = \"truncate_inode_pages_range\" }");
    let scenario = Scenario::parse(&text, "w.toml").unwrap();
    assert_eq!(scenario.window.unwrap().opens.function.as_deref(), Some("truncate_inode_pages_range"));
}

#[test]
fn a_misspelt_window_function_is_refused_with_the_nearest_name() {
    let text = with_window("{ actor = \"punch\", function = \"truncate_inode_page_range\" }");
    let error = Scenario::parse(&text, "w.toml").unwrap_err();
    let opens_line = text.lines().position(|l| l.starts_with("opens")).unwrap() + 1;
    assert_eq!(error.line, opens_line, "{error}");
    let column = text.lines().nth(opens_line - 1).unwrap().find("\"truncate").unwrap() + 1;
    assert_eq!(error.column, column, "the column of the function's value: {error}");
    let message = error.to_string();
    assert!(message.contains("unknown kernel function 'truncate_inode_page_range' in [window] opens"), "{message}");
    assert!(message.contains("did you mean 'truncate_inode_pages_range'?"), "{message}");
}

#[test]
fn a_window_function_far_from_any_gets_no_guess() {
    let text = with_window("{ actor = \"punch\", function = \"xyzzy\" }");
    let message = Scenario::parse(&text, "w.toml").unwrap_err().to_string();
    assert!(message.contains("unknown kernel function 'xyzzy'") && !message.contains("did you mean"), "{message}");
}

#[test]
fn every_shipped_scenario_window_names_known_functions() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn the_format_docs_list_every_kernel_function_a_window_may_name() {
    let docs =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/scenario-format.md"))
            .unwrap();
    let missing: Vec<&str> = racesim_kernel::event::LOGGED_FUNCTIONS
        .iter()
        .copied()
        .filter(|name| !docs.contains(&format!("`{name}`")))
        .collect();
    assert!(missing.is_empty(), "docs/scenario-format.md ([window]) does not list {missing:?}");
}
