//! The CLI contract that CI and users script against: exit codes, JSON output, error messages
//! for bad input, replay checks, and the seed guard.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn racesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_racesim"))
        .args(args)
        .current_dir(repo())
        .env_remove("SHUTTLE_RANDOM_SEED")
        .output()
        .expect("racesim runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("racesim-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn run_finds_the_collapse_lost_write_under_legacy_and_writes_a_replayable_trace() {
    let out = scratch("run");
    let o = racesim(&[
        "run",
        "scenarios/collapse_mmap.toml",
        "--policy",
        "legacy,invalidate_lock",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("legacy") && text.contains("VIOLATION lost_write"), "{text}");
    assert!(text.contains("invalidate_lock") && text.contains("clean after 10,000 schedules"), "{text}");
    let trace = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".trace.json"))
        .expect("a trace");
    assert!(text.contains(&format!("racesim replay {}", trace.display())), "the replay command is printed: {text}");
    let r = racesim(&["replay", trace.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    let replay = stdout(&r);
    assert!(replay.contains("replay matches the recorded trace"), "{replay}");
    assert!(replay.contains(">>"), "the oracle's step is marked: {replay}");
    assert!(replay.contains("truncate_inode_page"), "steps name kernel functions: {replay}");
}

#[test]
fn json_output_is_one_object_per_policy_and_nothing_else() {
    let out = scratch("json");
    let o = racesim(&["run", "scenarios/collapse_mmap.toml", "--format", "json", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "six policies and a summary: {lines:?}");
    for line in &lines[..6] {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        for key in ["type", "schema", "scenario", "policy", "verdict", "oracle", "schedules", "trace", "expected"] {
            assert!(v.get(key).is_some(), "{key} missing in {line}");
        }
        assert_eq!(v["type"], "run.policy");
        assert_eq!(v["schema"], 1);
        assert!(v["expected"].is_array(), "expected is a list: {line}");
    }
    assert!(lines[0].starts_with("{\"type\":\"run.policy\",\"schema\":1,"), "type and schema first: {}", lines[0]);
    let legacy: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(legacy["policy"], "legacy");
    assert_eq!(legacy["oracle"], "lost_write");
    assert_eq!(legacy["matches_expected"], true);
    assert!(legacy["expected"].as_array().unwrap().iter().any(|o| o == "lost_write"));
    assert!(legacy["trace"].as_str().unwrap().ends_with(".trace.json"));
    let summary: serde_json::Value = serde_json::from_str(lines[6]).unwrap();
    assert_eq!(summary["type"], "run.summary");
    assert_eq!(summary["policies"], 6);
    assert_eq!(summary["exit_code"], 1);
}

#[test]
fn a_clean_run_exits_zero() {
    let o = racesim(&["run", "scenarios/collapse_mmap.toml", "--policy", "mmaplock", "--schedules", "500"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("clean after 500 schedules"));
}

#[test]
fn shuttle_random_seed_in_the_environment_does_not_replace_the_seed() {
    let run = |env: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_racesim"));
        c.args([
            "run",
            "scenarios/mkwrite_punch.toml",
            "--policy",
            "legacy",
            "--seed",
            "5",
            "--format",
            "json",
            "--out",
        ])
        .arg(scratch("seed"))
        .current_dir(repo());
        match env {
            Some(v) => c.env("SHUTTLE_RANDOM_SEED", v),
            None => c.env_remove("SHUTTLE_RANDOM_SEED"),
        };
        let o = c.output().unwrap();
        let v: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
        (v["schedule"].clone(), v["message"].clone())
    };
    let plain = run(None);
    assert_eq!(run(Some("777")), plain);
    assert_eq!(run(Some("1")), plain);
}

fn write_scenario(name: &str, text: &str) -> PathBuf {
    let path = scratch(name).join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

const GOOD_HEAD: &str = "format = 1\nname = \"t\"\n\n[[file]]\nname = \"data\"\npages = 4\n\n";

/// A scenario the loader accepts runs a few schedules under legacy, with or without a finding.
fn runs_briefly(name: &str, text: &str) {
    let path = write_scenario(name, text);
    let out_dir = scratch(&format!("{name}-out"));
    let o = racesim(&[
        "run",
        path.to_str().unwrap(),
        "--schedules",
        "5",
        "--policy",
        "legacy",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{name}: {}{}", stdout(&o), stderr(&o));
}

/// A malformed scenario exits 2 with `path:line:column: message`, and never panics.
fn assert_bad_scenario(name: &str, text: &str, line: usize, needle: &str) {
    let path = write_scenario(name, text);
    let o = racesim(&["run", path.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{name}: {err}");
    assert!(!err.contains("panicked"), "{name}: {err}");
    let location = format!("{}:{line}:", path.display());
    assert!(err.contains(&location), "{name}: expected {location} in: {err}");
    assert!(err.contains(needle), "{name}: expected '{needle}' in: {err}");
}

/// Limits where the model and Linux part ways are refused, not run: a mapping of no pages
/// (mmap of length 0 is EINVAL), and an insert_range past the model's block map (Linux inserts
/// up to s_maxbytes; the model would return EINVAL and never reach the race).
#[test]
fn an_empty_mapping_and_an_insert_past_the_model_are_refused() {
    let file = "format = 1\nname = \"t\"\n\n[[file]]\nname = \"data\"\npages = 4\n";
    let load = "\n[[actor]]\nname = \"a\"\nops = [{ op = \"load\", file = \"data\", page = 1 }]\n";
    let empty = format!("{file}map_pages = 0\n{load}");
    assert_bad_scenario("emptymap", &empty, 7, "map_pages: a mapping has at least one page");
    let insert = format!(
        "{file}\n[[actor]]\nname = \"a\"\nops = [{{ op = \"insert_range\", file = \"data\", page = 1, pages = 61 }}]\n"
    );
    assert_bad_scenario(
        "bigInsert",
        &insert,
        10,
        "insert_range: 61 pages into 'data' (4 pages) goes past the model's 64-page limit",
    );
}

#[test]
fn a_dirty_page_over_a_hole_is_refused() {
    let text = "format = 1\nname = \"t\"\n\n[[file]]\nname = \"data\"\npages = 4\nholes = [1]\ndirty = [1]\n\n\
                [[actor]]\nname = \"a\"\nops = [{ op = \"load\", file = \"data\", page = 0 }]\n";
    assert_bad_scenario("dirtyhole", text, 8, "dirty: page 1 of 'data' is also a hole");
}

#[test]
fn an_unquoted_policy_name_with_a_dot_in_expect_is_explained() {
    let text = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"load\", file = \"data\", page = 0 }}]\n\n\
         [expect]\nlegacy = \"clean\"\nxfs-4.1 = \"clean\"\n"
    );
    assert_bad_scenario("dottedpolicy", &text, 14, "a policy name with a dot must be quoted (\"xfs-4.1\" = \"clean\")");
}

#[test]
fn bad_toml_names_file_line_and_column() {
    assert_bad_scenario("badtoml", "format = 1\nname = \"t\"\n[[file]\n", 3, "");
}

#[test]
fn unknown_operation_is_named_with_the_known_ones() {
    let text =
        format!("{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"mmap_store\", file = \"data\", page = 1 }}]\n");
    assert_bad_scenario(
        "unknownop",
        &text,
        10,
        "unknown operation 'mmap_store'; expected one of mmap, munmap, load, store",
    );
}

#[test]
fn page_beyond_the_model_is_refused() {
    let text =
        format!("{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"store\", file = \"data\", page = 64 }}]\n");
    assert_bad_scenario("beyond", &text, 10, "page 64 is past the model's 64-page limit (pages are 0 to 63)");
}

#[test]
fn block_size_is_checked_with_its_position() {
    let head = "format = 1\nname = \"t\"\n\n[[file]]\nname = \"data\"\npages = 4\nblock_size = 512\n\n";
    let text = format!("{head}[[actor]]\nname = \"a\"\nops = [{{ op = \"store\", file = \"data\", page = 1 }}]\n");
    assert_bad_scenario("blocksize", &text, 7, "block_size 512 is not supported; expected 1024, 2048 or 4096");
    // What the model does not have for blocks smaller than a page is refused by name: a
    // direct write of part of a block.
    let head = head.replace("512", "1024");
    let text = format!(
        "{head}[[actor]]\nname = \"a\"\nops = [{{ op = \"dio_write\", file = \"data\", page = 0, blocks = 1, \
         async = true, last_page = \"head\" }}]\n"
    );
    assert_bad_scenario(
        "subpagediopart",
        &text,
        11,
        "dio_write: 'last_page' is not modelled for 'data', whose blocks are smaller than a page",
    );
    // Direct IO of whole blocks is, named as write(2) names them.
    let text = format!(
        "{head}[[actor]]\nname = \"a\"\nops = [{{ op = \"dio_write\", file = \"data\", page = 0, block = 1, blocks = 2, \
         async = true }}, {{ op = \"dio_read\", file = \"data\", page = 0, block = 3, blocks = 2 }}]\n"
    );
    runs_briefly("subpagedio", &text);
    // punch_hole is, over whole blocks named as write(2) names them, and so is
    // madvise(MADV_REMOVE), over whole pages of the mapping; and collapse and insert range, over
    // whole blocks. So are journal commits and crashes.
    let text = format!(
        "{head}[[actor]]\nname = \"a\"\nops = [{{ op = \"punch_hole\", file = \"data\", page = 0, block = 1, blocks = 2 }}, \
         {{ op = \"madvise_remove\", file = \"data\", page = 0, pages = 1 }}, \
         {{ op = \"collapse_range\", file = \"data\", page = 0, block = 1, blocks = 3 }}, \
         {{ op = \"insert_range\", file = \"data\", page = 1, block = 2, blocks = 5 }}]\n"
    );
    runs_briefly("subpagemadvise", &text);
    let text = format!(
        "{head}[[actor]]\nname = \"a\"\nops = [{{ op = \"punch_hole\", file = \"data\", page = 0, block = 1, blocks = 2 }}, \
         {{ op = \"journal_commit\", file = \"data\" }}, {{ op = \"crash\", file = \"data\" }}]\n"
    );
    runs_briefly("subpagecrash", &text);
    // An insert that cannot fit the file's initial 16 blocks in the model's 64 is refused.
    let text = format!(
        "{head}[[actor]]\nname = \"a\"\nops = [{{ op = \"insert_range\", file = \"data\", page = 0, block = 1, blocks = 49 }}]\n"
    );
    assert_bad_scenario(
        "subpageinsertlimit",
        &text,
        11,
        "insert_range: 49 blocks into 'data' (16 blocks) goes past the model's 64-block limit",
    );
    let text = format!(
        "{head}[[actor]]\nname = \"a\"\nops = [{{ op = \"punch_hole\", file = \"data\", page = 0, block = 4, blocks = 1 }}]\n"
    );
    assert_bad_scenario("subpagepunchblock", &text, 11, "block 4 is not a block of a page of 'data' (0 to 3)");
    let text =
        format!("{head}[[actor]]\nname = \"a\"\nops = [{{ op = \"store\", file = \"data\", page = 1, block = 4 }}]\n");
    assert_bad_scenario("subpageblock", &text, 11, "block 4 is not a block of a page of 'data' (0 to 3)");
    // write(2) and read(2) are modelled for such a file, naming blocks as load and store do...
    let text = format!(
        "{head}[[actor]]\nname = \"a\"\nops = [{{ op = \"write\", file = \"data\", page = 0, block = 1, blocks = 2 }}, \
         {{ op = \"write\", file = \"data\", page = 5, pages = 1 }}, {{ op = \"load\", file = \"data\", page = 0, block = 2 }}, \
         {{ op = \"read\", file = \"data\", page = 0, block = 3, blocks = 4 }}]\n"
    );
    let dir = scratch("subpagewrite");
    let path = dir.join("subpagewrite.toml");
    std::fs::write(&path, text).unwrap();
    let out_dir = dir.join("out");
    let o = racesim(&["run", path.to_str().unwrap(), "--schedules", "20", "--out", out_dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // ...a failing copy too, at a block of the write...
    let text = format!(
        "{head}[[actor]]\nname = \"a\"\nops = [{{ op = \"write\", file = \"data\", page = 0, blocks = 2, fail_at = 2 }}]\n"
    );
    assert_bad_scenario("subpagefail", &text, 11, "fail_at 2 is not a block of this 2-block write (0 to 1)");
    // ...but not with what its model leaves out (a buffer in a mapping).
    let text = format!(
        "{head}[[actor]]\nname = \"a\"\nops = [{{ op = \"write\", file = \"data\", page = 0, blocks = 2, from_mmap = \"data\", from_page = 1 }}]\n"
    );
    assert_bad_scenario(
        "subpagemmap",
        &text,
        11,
        "from_mmap: a user buffer in a file whose blocks are smaller than a page is not modelled",
    );
    // readahead names pages; a file of 1 KiB blocks has 16 of them.
    let text = format!(
        "{head}[[actor]]\nname = \"a\"\nops = [{{ op = \"readahead\", file = \"data\", page = 15, pages = 2 }}]\n"
    );
    assert_bad_scenario("subpagera", &text, 11, "the range [15, 17) goes past the model's 16-page limit");
    // `block` is for files of smaller blocks only.
    let text = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"store\", file = \"data\", page = 1, block = 1 }}]\n"
    );
    assert_bad_scenario("pageblock", &text, 10, "'block' is for files whose blocks are smaller than a page");
}

/// Where EOF is when an operation runs is the model's business: a page past the file's
/// initial size is accepted (an earlier write may have grown the file), and the kernel answers
/// as Linux does (here: a zero range past EOF extends the file).
#[test]
fn pages_past_the_initial_size_are_accepted() {
    let text = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"write\", file = \"data\", page = 4, pages = 2 }}, \
         {{ op = \"zero_range\", file = \"data\", page = 5, pages = 1 }}, {{ op = \"dio_write\", file = \"data\", page = 7, pages = 1 }}]\n"
    );
    let dir = scratch("grown");
    let path = dir.join("grown.toml");
    std::fs::write(&path, text).unwrap();
    let out_dir = dir.join("out");
    let o = racesim(&["run", path.to_str().unwrap(), "--schedules", "20", "--out", out_dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn unknown_policy_in_expect_is_refused() {
    let text = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"load\", file = \"data\", page = 1 }}]\n\n[expect]\nlegacyy = \"clean\"\n"
    );
    assert_bad_scenario("unknownpolicy", &text, 13, "unknown policy 'legacyy' in [expect]");
}

#[test]
fn unknown_strategy_in_a_scenario_is_refused() {
    let text = GOOD_HEAD.replace("name = \"t\"\n", "name = \"t\"\nstrategy = \"dfs\"\n")
        + "[[actor]]\nname = \"a\"\nops = [{ op = \"load\", file = \"data\", page = 1 }]\n";
    assert_bad_scenario(
        "badstrategy",
        &text,
        3,
        "unknown strategy 'dfs'; expected random, pct, pct:N (1 <= N <= 64), exhaustive",
    );
}

#[test]
fn a_user_buffer_field_on_the_wrong_operation_is_refused() {
    let text = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"dio_read\", file = \"data\", page = 0, pages = 1, from_mmap = \"data\" }}]\n"
    );
    assert_bad_scenario(
        "misplacedbuffer",
        &text,
        10,
        "'from_mmap' is not a field of dio_read; only write and dio_write take it",
    );
    let text = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"dio_read\", file = \"data\", page = 0, pages = 1, into_page = 2 }}]\n"
    );
    assert_bad_scenario("pagewithoutmapping", &text, 10, "'into_page' needs 'into_mmap'");
}

/// read(2) into a mapping: the buffer must be a mapping the process has, inside its pages; the
/// read of a DAX file (which copies from the blocks) into a mapping is not modelled.
#[test]
fn a_read_into_a_mapping_nobody_has_or_from_a_dax_file_is_refused() {
    let text = format!(
        "{GOOD_HEAD}[[file]]\nname = \"unmapped\"\npages = 2\nmmap = false\n\n[[actor]]\nname = \"a\"\nops = [{{ op = \"read\", file = \"data\", page = 0, pages = 1, into_mmap = \"unmapped\" }}]\n"
    );
    assert_bad_scenario("readunmapped", &text, 15, "'unmapped' is not mapped (mmap = false)");
    let text = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"read\", file = \"data\", page = 0, pages = 2, into_mmap = \"data\", into_page = 3 }}]\n"
    );
    assert_bad_scenario("readoutside", &text, 10, "the user buffer [3, 5) is outside the mapping of 'data'");
    let text = format!(
        "{GOOD_HEAD}[[file]]\nname = \"pmem\"\npages = 2\ndax = true\n\n[[actor]]\nname = \"a\"\nops = [{{ op = \"read\", file = \"pmem\", page = 0, pages = 1, into_mmap = \"data\" }}]\n"
    );
    assert_bad_scenario("readdax", &text, 15, "'pmem' is a DAX file: its read(2) copies from the blocks");
}

/// A scenario that names a strategy is explored with it; `--strategy` overrides it.
#[test]
fn the_scenario_strategy_applies_unless_the_command_line_overrides_it() {
    let scenario = "scenarios/dio_read_pinned_reclaim.toml";
    let o =
        racesim(&["run", scenario, "--policy", "invalidate_lock", "--out", scratch("own_strategy").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("(pct:3, seed 1)"), "{}", stdout(&o));
    let o = racesim(&["run", scenario, "--policy", "invalidate_lock", "--strategy", "random", "-n", "50"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("clean after 50 schedules"), "{}", stdout(&o));
}

/// `all` expands in place inside a list, and a policy named twice is explored once.
#[test]
fn all_may_stand_in_a_list_of_policies() {
    let o = racesim(&[
        "run",
        "scenarios/fault_truncate.toml",
        "-p",
        "all,xfs-4.1,legacy",
        "-n",
        "20",
        "--strategy",
        "random",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for policy in ["legacy", "mmaplock", "range_lock", "invalidate_lock", "xfs-4.1"] {
        let lines = out.lines().filter(|l| l.trim_start().starts_with(&format!("{policy} "))).count();
        assert_eq!(lines, 1, "{policy} once:\n{out}");
    }
}

#[test]
fn unknown_policy_on_the_command_line_is_bad_input() {
    let o = racesim(&["run", "scenarios/collapse_mmap.toml", "--policy", "ext5"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown policy 'ext5'"), "{}", stderr(&o));
}

#[test]
fn missing_scenario_file_is_bad_input() {
    let o = racesim(&["run", "scenarios/does_not_exist.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does_not_exist.toml: cannot read scenario"), "{}", stderr(&o));
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(racesim(&["run"]).status.code(), Some(2));
    assert_eq!(racesim(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(racesim(&["--help"]).status.code(), Some(0));
    assert!(stdout(&racesim(&["--help"])).contains("Exit codes"));
}

fn recorded_trace(name: &str) -> (PathBuf, serde_json::Value) {
    let out = scratch(name);
    let o = racesim(&["run", "scenarios/collapse_mmap.toml", "--policy", "legacy", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let path = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).next().unwrap();
    let value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (path, value)
}

#[test]
fn a_tampered_trace_diverges_with_exit_three() {
    let (path, mut trace) = recorded_trace("tamper");
    // Claim a different event log: the replay must notice.
    trace["events"][3]["change"] = serde_json::json!("something else happened");
    std::fs::write(&path, serde_json::to_string_pretty(&trace).unwrap()).unwrap();
    let o = racesim(&["replay", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(stdout(&o).contains("DIVERGED"), "{}", stdout(&o));
}

#[test]
fn a_trace_from_another_format_version_says_so() {
    let (path, mut trace) = recorded_trace("version");
    trace["format"] = serde_json::json!(99);
    std::fs::write(&path, serde_json::to_string_pretty(&trace).unwrap()).unwrap();
    let o = racesim(&["replay", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("trace format 99 is newer than this racesim"), "{}", stderr(&o));
}

#[test]
fn a_truncated_trace_is_bad_input() {
    let (path, trace) = recorded_trace("truncated");
    let text = serde_json::to_string_pretty(&trace).unwrap();
    std::fs::write(&path, &text[..text.len() / 3]).unwrap();
    let o = racesim(&["replay", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a racesim trace"), "{}", stderr(&o));
}

#[test]
fn replay_json_reports_the_match() {
    let (path, _) = recorded_trace("replayjson");
    let o = racesim(&["replay", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["type"], "replay");
    assert_eq!(v["matches"], true);
    assert_eq!(v["oracle"], "lost_write");
}

#[test]
fn minimize_explain_and_show_work_on_a_recorded_trace() {
    let (path, _) = recorded_trace("understand");
    let dir = path.parent().unwrap().to_path_buf();
    let minimized = dir.join("collapse.min.trace.json");
    let o = racesim(&["minimize", path.to_str().unwrap(), "--out", minimized.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "minimize succeeded: {}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("after:  1 preemption(s)"), "the collapse race needs one preemption: {text}");
    let r = racesim(&["replay", minimized.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(1));
    assert!(stdout(&r).contains("replay matches the recorded trace"));
    let e = racesim(&["explain", minimized.to_str().unwrap()]);
    assert_eq!(e.status.code(), Some(0), "explain succeeded");
    assert!(stdout(&e).contains("CPU0: mmap-writer") && stdout(&e).contains("The outcome was sealed"));
    let html = dir.join("t.html");
    let svg = dir.join("t.svg");
    let s = racesim(&[
        "show",
        minimized.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(s.status.code(), Some(0), "{}", stderr(&s));
    assert!(std::fs::read_to_string(&html).unwrap().contains("data-lane=\"1\""));
    assert!(
        std::fs::read_to_string(&svg).unwrap().starts_with("<svg")
            || std::fs::read_to_string(&svg).unwrap().contains("<svg")
    );
    assert_eq!(
        racesim(&["show", minimized.to_str().unwrap()]).status.code(),
        Some(2),
        "show without an output is bad usage"
    );
}

#[test]
fn a_policy_file_of_ones_own_is_explored_and_its_traces_replay_without_it() {
    let dir = scratch("policyfile");
    let file = dir.join("mine.toml");
    // mmaplock, but collapse flushes before taking the fault lock, as legacy ext4 did.
    std::fs::write(
        &file,
        "name = \"mine\"\nbase = \"mmaplock\"\ncollapse_flush_outside_lock = true\ninvalidation_lock = \"none\"\n",
    )
    .unwrap();
    let out = dir.join("out");
    let o = racesim(&[
        "run",
        "scenarios/collapse_mmap.toml",
        "--policy-file",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("mine") && stdout(&o).contains("VIOLATION lost_write"), "{}", stdout(&o));
    std::fs::remove_file(&file).unwrap();
    let trace = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path();
    let r = racesim(&["replay", trace.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(1), "{}{}", stdout(&r), stderr(&r));
    // A policy that takes the fault lock shared again inside a fault loads with a warning
    // naming the recursive read; the run shows what it leads to.
    std::fs::write(&file, "name = \"twice\"\nbase = \"mmaplock\"\npage_create_lock = \"fault_lock_shared\"\n").unwrap();
    let warned = racesim(&["run", "scenarios/collapse_mmap.toml", "--policy-file", file.to_str().unwrap()]);
    assert!(stderr(&warned).contains("recursive read of a fair rwsem"), "{}", stderr(&warned));
    // A placement that cannot be is refused with its line and column.
    std::fs::write(
        &file,
        "name = \"bad\"\nbase = \"legacy\"\n[[lock]]\nlock = \"i_rwsem\"\nmode = \"shared\"\nrange = \"file\"\nfunction = \"read\"\nfrom = \"copy\"\nto = \"end\"\n",
    )
    .unwrap();
    let bad = racesim(&["run", "scenarios/collapse_mmap.toml", "--policy-file", file.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("mine.toml:8:1") && stderr(&bad).contains("read has no point 'copy'"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_closed_pipe_does_not_change_the_exit_code() {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_racesim"))
        .args(["run", "scenarios/collapse_mmap.toml", "--policy", "legacy,mmaplock", "--out"])
        .arg(scratch("pipe"))
        .current_dir(repo())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // The reader is gone (like `| head -1`): racesim goes on and still reports the violation.
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

#[test]
fn more_bad_arguments_and_inputs_exit_two_without_panicking() {
    for args in [
        vec!["run", "scenarios/collapse_mmap.toml", "--schedules", "0"],
        vec!["run", "scenarios/collapse_mmap.toml", "--time-budget", "nan"],
        vec!["run", "scenarios/collapse_mmap.toml", "--time-budget", "0"],
        vec!["run", "scenarios/collapse_mmap.toml", "--policy", ","],
        vec!["run", "scenarios"],
    ] {
        let o = racesim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
    }
    let twice = format!("{GOOD_HEAD}holes = [1, 1]\n");
    assert_bad_scenario(
        "twiceholes",
        &format!("{twice}\n[[actor]]\nname = \"a\"\nops = [{{ op = \"load\", file = \"data\", page = 0 }}]\n"),
        8,
        "listed twice",
    );
    let huge = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"read\", file = \"data\", page = 4294967295, pages = 2 }}]\n"
    );
    assert_bad_scenario("hugepage", &huge, 10, "page");
    let dio = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"dio_write\", file = \"data\", page = 0, pages = 1, from_mmap = \"data\", from_page = 50 }}]\n"
    );
    assert_bad_scenario("diobuffer", &dio, 10, "outside the mapping");
}

#[test]
fn a_policy_file_can_be_named_with_policy() {
    let dir = scratch("policyname");
    let file = dir.join("mine.toml");
    std::fs::write(&file, "name = \"mine\"\nbase = \"mmaplock\"\n").unwrap();
    let o = racesim(&[
        "run",
        "scenarios/collapse_mmap.toml",
        "--policy",
        "mine,legacy",
        "--policy-file",
        file.to_str().unwrap(),
        "--schedules",
        "200",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("mine") && stdout(&o).contains("legacy"), "{}", stdout(&o));
}

#[test]
fn explain_and_show_refuse_a_trace_that_no_longer_replays() {
    let (path, mut trace) = recorded_trace("explaintamper");
    trace["verdict"]["event"] = serde_json::json!(0);
    std::fs::write(&path, serde_json::to_string_pretty(&trace).unwrap()).unwrap();
    assert_eq!(racesim(&["explain", path.to_str().unwrap()]).status.code(), Some(3));
    let html = path.with_extension("html");
    assert_eq!(racesim(&["show", path.to_str().unwrap(), "--html", html.to_str().unwrap()]).status.code(), Some(3));
    assert_eq!(racesim(&["replay", path.to_str().unwrap()]).status.code(), Some(3));
}

#[test]
fn a_policy_prints_as_the_policy_file_it_is() {
    let o = racesim(&["policy", "mmaplock", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(rows.iter().all(|r| r["type"] == "policy.lock"));
    assert!(rows.iter().any(|r| r["lock"] == "fault_lock" && r["function"] == "page_mkwrite" && r["mode"] == "shared"));
    assert!(rows.iter().any(|r| r["lock"] == "fault_lock" && r["mode"] == "exclusive"));
    let legacy = stdout(&racesim(&["policy", "legacy"]));
    assert!(!legacy.contains("lock = \"fault_lock\"") && !legacy.contains("lock = \"range_lock\""), "{legacy}");
    let variant = racesim(&["policy", "range_lock_mkwrite", "--scenario", "scenarios/collapse_mmap.toml"]);
    assert!(stdout(&variant).contains("page_mkwrite") && stdout(&variant).contains("range_lock"));
    assert_eq!(racesim(&["policy", "ext5"]).status.code(), Some(2));
    assert_eq!(racesim(&["policy", "--points"]).status.code(), Some(0));
}

/// `racesim policy X | racesim policy -` prints X again, for every built-in and library name.
#[test]
fn every_builtin_round_trips_through_racesim_policy() {
    use std::io::Write;
    let list = stdout(&racesim(&["policy", "--list"]));
    let mut names: Vec<&str> = list.split_whitespace().map(|n| n.trim_end_matches(',')).collect();
    names.sort();
    assert!(names.contains(&"xfs-5.3") && names.contains(&"ext4-4.4") && names.contains(&"legacy"), "{list}");
    for name in names {
        let printed = racesim(&["policy", name]);
        assert_eq!(printed.status.code(), Some(0), "{name}: {}", stderr(&printed));
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_racesim"))
            .args(["policy", "-"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&printed.stdout).unwrap();
        let again = child.wait_with_output().unwrap();
        assert_eq!(again.status.code(), Some(0), "{name}: {}", stderr(&again));
        assert_eq!(stdout(&again), stdout(&printed), "{name}");
    }
}

/// Regression: 9 actors of 64 loads (inside the documented 16 x 64 limits) died with SIGSEGV,
/// the recursive serial-order search overflowing the task's stack.
#[test]
fn hundreds_of_operations_do_not_overflow_the_end_state_search() {
    let loads = vec!["{ op = \"load\", file = \"data\", page = 0 }"; 64].join(", ");
    let actors: String = (0..9).map(|i| format!("\n[[actor]]\nname = \"a{i}\"\nops = [{loads}]\n")).collect();
    let text = format!("format = 1\nname = \"many_loads\"\n\n[[file]]\nname = \"data\"\npages = 1\n{actors}");
    let dir = scratch("many-loads");
    let path = dir.join("many_loads.toml");
    std::fs::write(&path, text).unwrap();
    let out_dir = dir.join("out");
    let o = racesim(&[
        "run",
        path.to_str().unwrap(),
        "--policy",
        "legacy",
        "--schedules",
        "5",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn an_exhaustive_run_says_exactly_what_it_showed() {
    let scenario = repo().join("scenarios/fault_truncate.toml");
    let scenario = scenario.to_str().unwrap();
    let coverage = |extra: &[&str]| {
        let mut args = vec!["run", scenario, "-p", "invalidate_lock", "--format", "json"];
        args.extend_from_slice(extra);
        let o = racesim(&args);
        // The policy's record (the first line; a summary record follows).
        let first = stdout(&o).lines().next().unwrap_or_default().to_string();
        let json: serde_json::Value = serde_json::from_str(&first).unwrap();
        (json["coverage"].as_str().unwrap_or("").to_string(), json["executions"].as_u64())
    };
    assert_eq!(coverage(&["--strategy", "exhaustive"]), ("verified".into(), Some(28)));
    // Bounded partial-order reduction (every schedule within the bound: 33).
    assert_eq!(coverage(&["--preemption-bound", "1"]), ("verified within 1 preemption".into(), Some(16)));
    assert_eq!(coverage(&["--strategy", "exhaustive", "-n", "5"]), ("incomplete after 5 executions".into(), Some(5)));
    let sampled = coverage(&[]);
    assert_eq!(sampled, (String::new(), None));
}

fn racesim_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_racesim"))
        .args(args)
        .current_dir(dir)
        .env_remove("SHUTTLE_RANDOM_SEED")
        .output()
        .expect("racesim runs")
}

#[test]
fn a_trace_copied_alone_to_an_empty_folder_replays_explains_shows_and_minimizes() {
    let alone = scratch("alone");
    std::fs::copy(repo().join("traces/collapse_mmap.legacy.minimized.trace.json"), alone.join("collapse.trace.json"))
        .unwrap();
    let r = racesim_in(&alone, &["replay", "collapse.trace.json"]);
    assert_eq!(r.status.code(), Some(1), "{}{}", stdout(&r), stderr(&r));
    assert!(stdout(&r).contains("replay matches the recorded trace"), "{}", stdout(&r));
    let e = racesim_in(&alone, &["explain", "collapse.trace.json"]);
    assert_eq!(e.status.code(), Some(0), "{}", stderr(&e));
    assert!(stdout(&e).contains("The outcome was sealed"), "{}", stdout(&e));
    let s = racesim_in(&alone, &["show", "collapse.trace.json", "--svg", "c.svg", "--html", "c.html"]);
    assert_eq!(s.status.code(), Some(0), "{}", stderr(&s));
    assert!(alone.join("c.svg").exists() && alone.join("c.html").exists());
    let m = racesim_in(&alone, &["minimize", "collapse.trace.json", "--out", "m.trace.json"]);
    assert_eq!(m.status.code(), Some(0), "{}", stderr(&m));
    let again = racesim_in(&alone, &["replay", "m.trace.json"]);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    // --scenario still overrides the embedded scenario.
    let missing = racesim_in(&alone, &["replay", "collapse.trace.json", "--scenario", "nowhere.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("nowhere.toml"), "{}", stderr(&missing));
}

#[test]
fn a_format_2_trace_still_reads_and_migrate_embeds_its_scenario() {
    let (path, mut trace) = recorded_trace("migrate");
    // Make it what racesim wrote before format 3: no scenario text.
    trace["format"] = serde_json::json!(2);
    trace["scenario"].as_object_mut().unwrap().remove("text");
    std::fs::write(&path, serde_json::to_string_pretty(&trace).unwrap()).unwrap();
    let r = racesim(&["replay", path.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(1), "format 2 replays where its scenario is: {}", stderr(&r));
    let alone = scratch("migrate-alone");
    std::fs::copy(&path, alone.join("old.trace.json")).unwrap();
    let lost = racesim_in(&alone, &["replay", "old.trace.json"]);
    assert_eq!(lost.status.code(), Some(2));
    assert!(stderr(&lost).contains("racesim migrate"), "{}", stderr(&lost));
    let m = racesim(&["migrate", path.to_str().unwrap()]);
    assert_eq!(m.status.code(), Some(0), "{}{}", stdout(&m), stderr(&m));
    assert!(stdout(&m).contains("trace format 2 -> 3"), "{}", stdout(&m));
    let migrated: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(migrated["format"], 3);
    assert!(migrated["scenario"]["text"].as_str().unwrap().contains("name = \"collapse_mmap\""));
    std::fs::copy(&path, alone.join("new.trace.json")).unwrap();
    let r = racesim_in(&alone, &["replay", "new.trace.json"]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    let again = racesim(&["migrate", path.to_str().unwrap()]);
    assert!(stdout(&again).contains("already trace format 3"), "{}", stdout(&again));
}

#[test]
fn explain_has_json_and_fits_a_width() {
    let trace = "traces/collapse_mmap.legacy.minimized.trace.json";
    let o = racesim(&["explain", trace, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["type"], "explain");
    assert_eq!(v["verdict"]["oracle"], "lost_write");
    // The store that seals the outcome lies inside the race window.
    let (from, to) = (v["window"]["from"].as_u64().unwrap(), v["window"]["to"].as_u64().unwrap());
    let sealed = v["sealing"]["step"].as_u64().unwrap();
    assert!(from <= sealed && sealed <= to && from < to, "{v}");
    let narrow = racesim(&["explain", trace, "--width", "64"]);
    assert_eq!(narrow.status.code(), Some(0));
    assert!(stdout(&narrow).lines().all(|l| l.chars().count() <= 64), "{}", stdout(&narrow));
    assert_eq!(racesim(&["explain", trace, "--width", "5"]).status.code(), Some(2));
}

#[test]
fn misspelt_names_get_a_did_you_mean() {
    let text =
        format!("{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"truncat\", file = \"data\", size = 1 }}]\n");
    assert_bad_scenario("didyoumean-op", &text, 10, "did you mean 'truncate'?");
    let text = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"truncate\", file = \"data\", size = 1 }}]\n\n[expect]\nmmaplok = \"clean\"\n"
    );
    assert_bad_scenario("didyoumean-policy", &text, 13, "did you mean 'mmaplock'?");
}

#[test]
fn run_warns_about_a_clean_expectation_without_a_window_and_explores_unnamed_variants() {
    let text = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"truncate\", file = \"data\", size = 1 }}]\n\n\
         [[policy]]\nname = \"legacy_plain\"\nbase = \"legacy\"\n\n[expect]\nlegacy = \"clean\"\n"
    );
    let path = write_scenario("nowindow", &text);
    let o = racesim(&["run", path.to_str().unwrap(), "-n", "10", "--out", scratch("nowindow-out").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("expects clean but declares no [window]"), "{}", stderr(&o));
    // The variant [expect] does not name is explored too, and said to have no expectation.
    assert!(stdout(&o).contains("legacy_plain") && stdout(&o).contains("no expectation"), "{}", stdout(&o));
}

#[test]
fn unix_conventions_dash_is_stdout_no_color_completions_and_man() {
    let trace = "traces/collapse_mmap.legacy.minimized.trace.json";
    let o = racesim(&["show", trace, "--svg", "-"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).trim_start().starts_with("<svg") || stdout(&o).contains("<svg"), "{}", stdout(&o));
    assert!(!repo().join("-").exists(), "no file named '-'");
    assert_eq!(racesim(&["show", trace, "--svg", "-", "--html", "-"]).status.code(), Some(2));
    // Colour only where asked for: never in a pipe, never with NO_COLOR, even when forced.
    let forced = Command::new(env!("CARGO_BIN_EXE_racesim"))
        .args(["replay", trace])
        .current_dir(repo())
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(stdout(&forced).contains("\x1b["), "CLICOLOR_FORCE colours: {}", stdout(&forced));
    let no_color = Command::new(env!("CARGO_BIN_EXE_racesim"))
        .args(["replay", trace])
        .current_dir(repo())
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stdout(&no_color).contains("\x1b["), "NO_COLOR wins: {}", stdout(&no_color));
    assert!(!stdout(&racesim(&["replay", trace])).contains("\x1b["), "no colour in a pipe");
    // run on a trace points at replay.
    let o = racesim(&["run", trace]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is a trace, not a scenario: replay it with racesim replay"), "{}", stderr(&o));
    let bash = racesim(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    assert!(stdout(&bash).contains("racesim") && stdout(&bash).contains("replay"), "{}", stdout(&bash));
    let man = racesim(&["man"]);
    assert_eq!(man.status.code(), Some(0));
    assert!(stdout(&man).contains(".TH racesim"), "{}", stdout(&man));
}

/// `bench --format json` reports, per policy, the end-state searches' cost next to the speed
/// figures (a deterministic count: the same on every machine).
#[test]
fn bench_json_reports_the_reference_search_cost() {
    let o = racesim(&[
        "bench",
        "scenarios/read_many_truncates.toml",
        "--schedules",
        "50",
        "--policy",
        "legacy",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let record: serde_json::Value = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "bench")
        .expect("a bench record");
    let max = record["reference_search_nodes_max"].as_u64().expect("a count");
    let mean = record["reference_search_nodes_mean"].as_f64().expect("a mean");
    assert!(max >= 33 && mean >= 33.0 && mean <= max as f64, "{record}");
}

#[test]
fn the_exhaustive_search_verifies_files_with_blocks_smaller_than_a_page() {
    // Their footprints are widened to the whole file (a store names a block where the PTE of a
    // page is meant), so the search is sound there too: it verifies the fix and finds the bug.
    let o = racesim(&["run", "scenarios/isize_extended_mkwrite.toml", "-p", "legacy", "--strategy", "exhaustive"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("verified"), "{out}");
    let o = racesim(&["run", "scenarios/isize_extended_mkwrite.toml", "-p", "legacy_3_17", "--preemption-bound", "2"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("lost_write"), "{out}");
}

#[test]
fn writes_of_part_of_a_page_are_checked_with_their_position() {
    let op = |fields: &str| {
        format!("{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"write\", file = \"data\", {fields} }}]\n")
    };
    assert_bad_scenario(
        "partunknown",
        &op("page = 0, pages = 2, last_page = \"tail\""),
        10,
        "unknown last_page 'tail'; expected \"whole\" or \"head\"",
    );
    assert_bad_scenario(
        "partneither",
        &op("page = 0, pages = 1, first_page = \"tail\", last_page = \"head\""),
        10,
        "a one-page write covers its page whole, its first half",
    );
    assert_bad_scenario(
        "partfail",
        &op("page = 0, pages = 2, last_page = \"head\", fail_at = 1"),
        10,
        "a write of part of a page (first_page, last_page) is not modelled where 'fail_at' is given",
    );
    let text = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"read\", file = \"data\", page = 0, pages = 1, first_page = \"tail\" }}]\n"
    );
    assert_bad_scenario("partread", &text, 10, "'first_page' is not a field of read; only write and dio_write take it");
    // Unwritten extents are checked against the holes.
    let text = GOOD_HEAD.replace("[[file]]", "[[file]]\nunwritten = [0]\nholes = [0]");
    let text = format!("{text}[[actor]]\nname = \"a\"\nops = [{{ op = \"load\", file = \"data\", page = 1 }}]\n");
    assert_bad_scenario("unwrittenhole", &text, 5, "unwritten: page 0 of 'data' is also a hole");
}

/// A write of part of a page runs next to a direct write of the same file, synchronous (which
/// holds i_rwsem to its return, as Linux does) or asynchronous. Until December 2026 the loader
/// refused it beside a synchronous one, whose i_rwsem the model released at submission.
#[test]
fn a_write_of_part_of_a_page_runs_beside_a_direct_write() {
    let text = |asynchronous: bool| {
        format!(
            "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"write\", file = \"data\", page = 0, pages = 1, first_page = \"tail\" }}]\n\
             [[actor]]\nname = \"b\"\nops = [{{ op = \"dio_write\", file = \"data\", page = 0, pages = 1, async = {asynchronous} }}]\n"
        )
    };
    runs_briefly("partdio", &text(false));
    runs_briefly("partaio", &text(true));
}

/// A direct write of part of a page: refused from a mapped buffer and past the file's initial
/// size; synchronous and asynchronous ones run, also beside each other (until December 2026 a
/// synchronous one was refused: the model released its i_rwsem at submission). `racesim policy` shows the
/// serialisation of unaligned direct writes, and a variant's bad value is named.
#[test]
fn a_direct_write_of_part_of_a_page_is_checked() {
    let op = |fields: &str| {
        format!("{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"dio_write\", file = \"data\", {fields} }}]\n")
    };
    runs_briefly("udiosync", &op("page = 0, pages = 1, last_page = \"head\""));
    assert_bad_scenario(
        "udiounknown",
        &op("page = 0, pages = 1, first_page = \"head\", async = true"),
        10,
        "unknown first_page 'head'; expected \"whole\" or \"tail\"",
    );
    assert_bad_scenario(
        "udiommap",
        &op("page = 0, pages = 1, last_page = \"head\", async = true, from_mmap = \"data\", from_page = 2"),
        10,
        "not modelled where 'from_mmap' is given",
    );
    assert_bad_scenario(
        "udioeof",
        &op("page = 3, pages = 2, first_page = \"tail\", async = true"),
        10,
        "is modelled inside the file's initial size (4 pages of 'data'); this one ends at page 5",
    );
    let two = |second: &str| {
        format!(
            "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"dio_write\", file = \"data\", page = 0, pages = 1, last_page = \"head\", async = true }}]\n\
             [[actor]]\nname = \"b\"\nops = [{{ op = \"dio_write\", file = \"data\", page = 0, pages = 1{second} }}]\n"
        )
    };
    runs_briefly("udiobeside", &two(""));
    runs_briefly("udioaio", &two(", async = true"));
    let o = racesim(&["policy", "xfs-5.3"]);
    assert!(stdout(&o).contains("dio_unaligned = \"wait_before_and_after\""), "{}", stdout(&o));
    let text = format!(
        "{}[[policy]]\nname = \"v\"\nbase = \"legacy\"\ndio_unaligned = \"sometimes\"\n",
        op("page = 0, pages = 1, last_page = \"head\", async = true")
    );
    assert_bad_scenario("udiopolicy", &text, 11, "unknown variant `sometimes`, expected one of `none`, `wait_before`");
}

/// The write-out punch hole and zero range do before evicting their range: shown by `racesim
/// policy`, and a value the field does not know is refused with its location.
#[test]
fn range_flush_fields_are_shown_and_checked() {
    let o = racesim(&["policy", "mmaplock"]);
    let shown = stdout(&o);
    assert!(shown.contains("punch_hole_flush = \"before_lock\""), "{shown}");
    assert!(shown.contains("zero_range_flush = \"none\""), "{shown}");
    let o = racesim(&["policy", "xfs-5.3"]);
    assert!(stdout(&o).contains("zero_range_flush = \"under_lock\""), "{}", stdout(&o));
    let text = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"zero_range\", file = \"data\", page = 0, pages = 1 }}]\n\
         [[policy]]\nname = \"v\"\nbase = \"mmaplock\"\nzero_range_flush = \"sometimes\"\n"
    );
    assert_bad_scenario("rangeflush", &text, 11, "unknown variant `sometimes`, expected one of `none`, `before_lock`");
    runs_briefly(
        "rangeflushok",
        &format!(
            "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [{{ op = \"zero_range\", file = \"data\", page = 0, pages = 1 }}]\n\
             [[policy]]\nname = \"w\"\nbase = \"mmaplock\"\nzero_range_flush = \"before_lock\"\n"
        ),
    );
}

/// A policy file written before `punch_hole_flush` still loads (the field defaults to `none`,
/// what such files meant), with a warning that no kernel punched without the write-out; in a
/// scenario that commits and crashes, that policy shows the stale data the write-out prevents.
#[test]
fn a_policy_file_without_the_punch_flush_warns_and_keeps_its_meaning() {
    let dir = scratch("punchflush");
    let file = dir.join("ext4_4_5.toml");
    let builtin = std::fs::read_to_string(repo().join("policies/mmaplock.toml")).unwrap();
    let renamed = builtin.replace("name = \"mmaplock\"", "name = \"ext4_4_5\"");
    let old: Vec<&str> = renamed.lines().filter(|l| !l.starts_with("punch_hole_flush")).collect();
    std::fs::write(&file, old.join("\n")).unwrap();
    let o = racesim(&[
        "run",
        "scenarios/punch_commit_crash.toml",
        "--policy-file",
        file.to_str().unwrap(),
        "--strategy",
        "exhaustive",
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert!(
        stderr(&o).contains("ext4_4_5.toml: policy 'ext4_4_5': warning: 'punch_hole_flush' is not given"),
        "{}",
        stderr(&o)
    );
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("VIOLATION stale_data"), "{}", stdout(&o));
    std::fs::write(&file, &renamed).unwrap();
    let said = racesim(&["run", "scenarios/punch_commit_crash.toml", "--policy-file", file.to_str().unwrap()]);
    assert_eq!(said.status.code(), Some(0), "{}{}", stdout(&said), stderr(&said));
    assert!(!stderr(&said).contains("punch_hole_flush"), "{}", stderr(&said));
}

/// An madvise(MADV_REMOVE) that an mlock of the same file in the same process starts inside of
/// is refused where it is written (Linux punches the unlocked VMA before the locked one, then
/// returns EINVAL); one that starts inside the mlock's range, or does not reach it, runs.
#[test]
fn an_madvise_remove_partly_inside_an_mlock_is_refused() {
    let text = |range: &str| {
        format!(
            "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [\n  {{ op = \"mlock\", file = \"data\", page = 1, pages = 2 }},\n\
             {{ op = \"madvise_remove\", file = \"data\", {range} }},\n]\n"
        )
    };
    assert_bad_scenario(
        "madvmlock",
        &text("page = 0, pages = 2"),
        12,
        "madvise_remove: an mlock of the same file in the same process (pages [1, 3)) starts inside pages [0, 2)",
    );
    runs_briefly("madvmlockinside", &text("page = 1, pages = 1"));
    runs_briefly("madvmlockrunspast", &text("page = 2, pages = 2"));
    runs_briefly("madvmlockoutside", &text("page = 3, pages = 1"));
}

/// An EOF inside a block (`half = true`) is modelled beside the operations that take it into
/// account, on files of any block size: the rest is refused where it is written.
#[test]
fn an_eof_inside_a_block_is_refused_where_it_is_not_modelled() {
    let subpage = "format = 1\nname = \"t\"\n\n[[file]]\nname = \"data\"\npages = 1\nblock_size = 1024\n\n\
                   [[actor]]\nname = \"a\"\nops = [\n  { op = \"truncate\", file = \"data\", blocks = 2, half = true },\n\
                   { op = \"zero_range\", file = \"data\", page = 0, block = 2, blocks = 1 },\n]\n";
    assert_bad_scenario(
        "halfsubpage",
        subpage,
        13,
        "zero_range: a zero range over the block a truncate or a write may leave EOF half-way into is not \
         modelled (its range covers block 2)",
    );
    // Before that block it runs.
    let before = write_scenario("halfsubpagebefore", &subpage.replace("block = 2, blocks", "block = 1, blocks"));
    let o = racesim(&["run", before.to_str().unwrap(), "-n", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let write = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [\n  {{ op = \"truncate\", file = \"data\", size = 1, half = true }},\n\
         ]\n\n[[actor]]\nname = \"b\"\nops = [\n  {{ op = \"write\", file = \"data\", page = 2, pages = 1, fail_at = 0 }},\n]\n"
    );
    // A write that fails beside it runs: its cleanup zeroes the block's tail as truncate does
    // (ext4_truncate_failed_write), and so does one that allocates its whole range first.
    for (name, text) in [
        ("halfwrite", write.clone()),
        ("halfwritewhole", write.replace("fail_at = 0", "fail_at = 0, alloc = \"whole_range\"")),
    ] {
        let fails = write_scenario(name, &text);
        let o = racesim(&["run", fails.to_str().unwrap(), "-n", "10"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}{}", stdout(&o), stderr(&o));
    }
    // fallocate runs over the block that holds such an EOF as well as past it.
    let fallocate = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [\n  {{ op = \"truncate\", file = \"data\", size = 1, half = true }},\n\
         {{ op = \"fallocate\", file = \"data\", page = 1, pages = 2, keep_size = false }},\n]\n"
    );
    let over = write_scenario("halffallocate", &fallocate);
    let o = racesim(&["run", over.to_str().unwrap(), "-n", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let punch = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [\n  {{ op = \"truncate\", file = \"data\", size = 1, half = true }},\n\
         {{ op = \"punch_hole\", file = \"data\", page = 1, pages = 1 }},\n]\n"
    );
    let punched = write_scenario("halfpunch", &punch);
    let o = racesim(&["run", punched.to_str().unwrap(), "-n", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // A direct read runs into anonymous memory, not into a mapping.
    let dio = punch.replace(
        "{ op = \"punch_hole\", file = \"data\", page = 1, pages = 1 }",
        "{ op = \"dio_read\", file = \"data\", page = 1, pages = 1 }",
    );
    let read = write_scenario("halfdio", &dio);
    let o = racesim(&["run", read.to_str().unwrap(), "-n", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    // Refused: of the file into another file's mapping, and of another file into its mapping.
    let two_files = dio.replace("[[actor]]", "[[file]]\nname = \"other\"\npages = 2\n\n[[actor]]");
    let of_it = two_files.replace("pages = 1 }", "pages = 1, into_mmap = \"other\", into_page = 0 }");
    assert_bad_scenario("halfdiommap", &of_it, 16, "dio_read: a direct read of or into a mapping");
    let into_it = two_files.replace(
        "file = \"data\", page = 1, pages = 1 }",
        "file = \"other\", page = 0, pages = 1, into_mmap = \"data\", into_page = 3 }",
    );
    assert_bad_scenario("halfdiointo", &into_it, 16, "dio_read: a direct read of or into a mapping");
    // Zero range runs past that block, not over it, nor beside a collapse or an insert.
    let zero = punch.replace("punch_hole", "zero_range").replace("page = 1, pages = 1", "page = 2, pages = 1");
    let past = write_scenario("halfzero", &zero);
    let o = racesim(&["run", past.to_str().unwrap(), "-n", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_bad_scenario(
        "halfzeroover",
        &zero.replace("page = 2, pages = 1", "page = 0, pages = 2"),
        12,
        "(its range covers block 1)",
    );
    let shifted = zero.replace(
        "pages = 1 },\n]\n",
        "pages = 1 },\n  { op = \"insert_range\", file = \"data\", page = 0, pages = 1 },\n]\n",
    );
    assert_bad_scenario("halfzeroinsert", &shifted, 12, "(on a file that collapse_range or insert_range also shifts");
    // A direct write runs wherever it starts (before, over or past that block), whole blocks,
    // from anonymous memory or a mapping (whose fault fails it, cleaned up as write(2) is); of
    // part of a block, it is refused.
    let dio_write = |fields: &str| {
        punch.replace(
            "{ op = \"punch_hole\", file = \"data\", page = 1, pages = 1 }",
            &format!("{{ op = \"dio_write\", file = \"data\", {fields} }}"),
        )
    };
    for fields in [
        "page = 1, pages = 1",
        "page = 0, pages = 2",
        "page = 2, pages = 1",
        "page = 2, pages = 1, from_mmap = \"data\", from_page = 3",
    ] {
        let fine = write_scenario("halfdiowrite", &dio_write(fields));
        let o = racesim(&["run", fine.to_str().unwrap(), "-n", "10"]);
        assert_eq!(o.status.code(), Some(0), "{fields}: {}{}", stdout(&o), stderr(&o));
    }
    assert_bad_scenario(
        "halfdiowritepart",
        &dio_write("page = 1, pages = 1, async = true, last_page = \"head\""),
        12,
        "it covers part of a block",
    );
    // So does one on a disk the files could fill (it may fail part-way with ENOSPC).
    let on_disk = |blocks: u32| {
        dio_write("page = 1, pages = 1").replace("name = \"t\"\n", &format!("name = \"t\"\ndisk_blocks = {blocks}\n"))
    };
    for (name, text) in [
        ("halfdiowritefits", on_disk(4)),
        (
            "halfdiowritedisk",
            on_disk(4).replace(
                "pages = 1 },\n]\n",
                "pages = 1 },\n  { op = \"write\", file = \"data\", page = 4, pages = 1 },\n]\n",
            ),
        ),
    ] {
        let runs = write_scenario(name, &text);
        let o = racesim(&["run", runs.to_str().unwrap(), "-n", "10"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}{}", stdout(&o), stderr(&o));
    }
    // A write ending half-way into a block it may grow the file to makes the file one too; a
    // later write runs beside it wherever it starts (past that block, the policy's zeroing of
    // the old EOF block's tail runs first).
    let writes = |second: u32| {
        format!(
            "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [\n  {{ op = \"truncate\", file = \"data\", size = 0 }},\n\
             {{ op = \"write\", file = \"data\", page = 1, pages = 1, last_page = \"head\" }},\n\
             {{ op = \"write\", file = \"data\", page = {second}, pages = 1 }},\n]\n"
        )
    };
    for second in [1, 2] {
        let fine = write_scenario(&format!("halfwritesfine{second}"), &writes(second));
        let o = racesim(&["run", fine.to_str().unwrap(), "-n", "10"]);
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    }
    let misplaced = format!(
        "{GOOD_HEAD}[[actor]]\nname = \"a\"\nops = [\n  {{ op = \"load\", file = \"data\", page = 1, half = true }},\n]\n"
    );
    assert_bad_scenario("halfload", &misplaced, 11, "'half' is not a field of load; only truncate take it");
}

/// The scenario at `path` is clean and verified by exhaustive search under each of `policies`.
fn verified_clean(path: &Path, policies: &[&str]) {
    for policy in policies {
        let o = racesim(&["run", path.to_str().unwrap(), "-p", policy, "--strategy", "exhaustive"]);
        assert_eq!(o.status.code(), Some(0), "{policy}: {}{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).contains("clean, verified"), "{policy}: {}", stdout(&o));
    }
}

/// A read(2) of the block that holds an EOF inside it copies the head only, after sampling
/// i_size on its own: racing a write that fills the block and grows the file, it may copy the
/// new data cut at the old EOF, a torn read Linux has too (filemap_read takes neither i_rwsem nor
/// the page lock to read i_size), not stale data. And a crash beside such a file, whichever
/// file it names (it takes every file with it), finds it as long as the truncate and an fsync
/// left it, 1.5 pages (refused until `i_disksize` learned to lie half-way into a block).
#[test]
fn a_read_cut_at_an_eof_inside_a_block_racing_a_write_is_not_stale_data() {
    let torn = "format = 1\nname = \"torn\"\n\n[[file]]\nname = \"data\"\npages = 2\n\n\
                [[actor]]\nname = \"a\"\nops = [\n  { op = \"truncate\", file = \"data\", size = 1, half = true },\n\
                { op = \"read\", file = \"data\", page = 1, pages = 1 },\n]\n\n\
                [[actor]]\nname = \"b\"\nops = [{ op = \"write\", file = \"data\", page = 1, pages = 1 }]\n";
    let path = write_scenario("tornread", torn);
    verified_clean(&path, &["legacy", "invalidate_lock", "xfs-5.3"]);
    // A direct read samples i_size where it maps its blocks and returns the head of the EOF
    // block: racing a write that grows the file and its writeback, the block it reads may hold
    // the new data, cut at the EOF it sampled. (The reference judged only read(2) that way: a
    // false stale_data under legacy until the direct read was accepted there.)
    let dio = "format = 1\nname = \"diotorn\"\n\n[[file]]\nname = \"data\"\npages = 3\n\n\
               [[actor]]\nname = \"app\"\nops = [\n  { op = \"truncate\", file = \"data\", size = 1, half = true },\n\
               { op = \"write\", file = \"data\", page = 1, pages = 1 },\n  { op = \"writeback\", file = \"data\" },\n]\n\n\
               [[actor]]\nname = \"reader\"\nops = [{ op = \"dio_read\", file = \"data\", page = 1, pages = 2 }]\n";
    let path = write_scenario("diotornread", dio);
    verified_clean(&path, &["legacy", "invalidate_lock", "xfs-5.3"]);
    let crash = "format = 1\nname = \"t\"\n\n[[file]]\nname = \"data\"\npages = 2\n\n[[file]]\nname = \"other\"\npages = 1\n\n\
                 [[actor]]\nname = \"a\"\nops = [\n  { op = \"truncate\", file = \"data\", size = 1, half = true },\n\
                 { op = \"fsync\", file = \"data\" },\n  { op = \"crash\", file = \"other\" },\n]\n";
    let path = write_scenario("halfcrash", crash);
    verified_clean(&path, &["legacy", "invalidate_lock", "xfs-5.3"]);
}
