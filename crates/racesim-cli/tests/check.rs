//! `racesim check`: the regression suite's contract (exit codes, JUnit, stale traces, jobs,
//! shards, bad inputs that do not stop the other cases).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn racesim_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_racesim")).args(args).current_dir(dir).output().expect("racesim runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scratch suite: a copy of some shipped scenarios (and their traces).
fn suite(name: &str, scenarios: &[&str], with_traces: bool) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("racesim-check-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::create_dir_all(dir.join("traces")).unwrap();
    for s in scenarios {
        std::fs::copy(
            repo().join("scenarios").join(format!("{s}.toml")),
            dir.join("scenarios").join(format!("{s}.toml")),
        )
        .unwrap();
        if with_traces {
            for trace in std::fs::read_dir(repo().join("traces")).unwrap() {
                let trace = trace.unwrap().path();
                let file = trace.file_name().unwrap().to_string_lossy().into_owned();
                if file.starts_with(&format!("{s}.")) {
                    std::fs::copy(&trace, dir.join("traces").join(&file)).unwrap();
                }
            }
        }
    }
    dir
}

/// The scenario text with the `[expect]` line of `policy` replaced by `policy = verdict`.
fn expect_line(text: &str, policy: &str, verdict: &str) -> String {
    let prefix = format!("{policy} = ");
    let lines: Vec<String> = text
        .lines()
        .map(|l| if l.starts_with(&prefix) { format!("{prefix}{verdict}") } else { l.to_string() })
        .collect();
    assert!(lines.iter().any(|l| l == &format!("{prefix}{verdict}")), "no [expect] line for {policy}");
    lines.join("\n") + "\n"
}

#[test]
fn the_shipped_suite_passes() {
    let o = racesim_in(&repo(), &["check", "--jobs", "2", "--out", "target/check-test-out"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("FAIL                   0"));
}

#[test]
fn a_wrong_expectation_fails_with_a_clear_message_exit_code_and_junit_failure() {
    let dir = suite("wrong", &["collapse_mmap"], false);
    let path = dir.join("scenarios/collapse_mmap.toml");
    let planted = expect_line(&std::fs::read_to_string(&path).unwrap(), "mmaplock", "\"lost_write\"");
    std::fs::write(&path, planted).unwrap();
    let o = racesim_in(&dir, &["check", "--schedules", "300", "--junit", "report.xml"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL    scenarios/collapse_mmap.toml [mmaplock]"), "{out}");
    assert!(out.contains("expected lost_write, found nothing in 300 schedules"), "{out}");
    let junit = std::fs::read_to_string(dir.join("report.xml")).unwrap();
    assert!(junit.contains("<failure message=\"expected lost_write, found nothing"), "{junit}");
    assert!(junit.contains("type=\"FAIL\""), "{junit}");
    assert!(junit.contains("name=\"mmaplock\""), "{junit}");
}

#[test]
fn an_unexpected_finding_comes_with_its_replay_command() {
    let dir = suite("unexpected", &["collapse_mmap"], false);
    let path = dir.join("scenarios/collapse_mmap.toml");
    let planted = expect_line(&std::fs::read_to_string(&path).unwrap(), "legacy", "\"clean\"");
    std::fs::write(&path, planted).unwrap();
    let o = racesim_in(&dir, &["check", "--schedules", "300", "--junit", "report.xml"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("reproduce: racesim replay racesim-out/check/collapse_mmap.legacy.seed1"), "{out}");
    let junit = std::fs::read_to_string(dir.join("report.xml")).unwrap();
    assert!(junit.contains("reproduce with: racesim replay"), "{junit}");
}

#[test]
fn a_clean_verdict_that_never_reached_its_window_fails() {
    let dir = suite("window", &["collapse_mmap"], false);
    let path = dir.join("scenarios/collapse_mmap.toml");
    let original = std::fs::read_to_string(&path).unwrap();
    let opens = "opens = { actor = \"collapse\", function = \"filemap_write_and_wait_range\" }";
    assert!(original.contains(opens));
    // A window that cannot open: a kernel function collapse never runs (faults do). Only
    // running the model can tell.
    let planted = original.replace(opens, "opens = { actor = \"collapse\", function = \"filemap_fault\" }");
    std::fs::write(&path, planted).unwrap();
    let o = racesim_in(&dir, &["check", "--schedules", "200"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("window never reached"), "{out}");
    assert!(out.contains("actor 'collapse' never ran kernel function 'filemap_fault'"), "{out}");
    let o = racesim_in(&dir, &["run", "scenarios/collapse_mmap.toml", "--policy", "invalidate_lock", "-n", "100"]);
    assert!(text(&o.stderr).contains("the window was never reached"), "{}", text(&o.stderr));
    // A name no event carries is refused when the scenario is read, with the name meant.
    let typo = original.replace("filemap_write_and_wait_range\" }", "filemap_write_and_wait_rnage\" }");
    std::fs::write(&path, typo).unwrap();
    let o = racesim_in(&dir, &["check", "--schedules", "200"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("unknown kernel function 'filemap_write_and_wait_rnage' in [window] opens"), "{out}");
    assert!(out.contains("did you mean 'filemap_write_and_wait_range'?"), "{out}");
    let o = racesim_in(&dir, &["run", "scenarios/collapse_mmap.toml", "--policy", "invalidate_lock", "-n", "100"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("did you mean 'filemap_write_and_wait_range'?"), "{}", text(&o.stderr));
}

#[test]
fn a_trace_whose_scenario_changed_is_stale_not_a_failure() {
    let dir = suite("stale", &["dax_punch"], true);
    let path = dir.join("scenarios/dax_punch.toml");
    // A different scenario: the allocator writes two pages instead of one.
    let edited = std::fs::read_to_string(&path).unwrap().replace(
        "{ op = \"write\", file = \"other\", page = 0, pages = 1 }",
        "{ op = \"write\", file = \"other\", page = 0, pages = 2 }",
    );
    std::fs::write(&path, edited).unwrap();
    let o = racesim_in(&dir, &["check", "--schedules", "200"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(5), "{out}");
    assert!(out.contains("stale   traces/dax_punch.legacy"), "{out}");
    assert!(out.contains("changed since this trace was recorded"), "{out}");
    // The message names the exact command that records the trace again.
    assert!(
        out.contains(
            "racesim run scenarios/dax_punch.toml --policy legacy --strategy random --seed 1 --save-trace traces"
        ),
        "{out}"
    );
}

#[test]
fn a_comment_or_a_new_description_does_not_make_traces_stale() {
    let dir = suite("comment", &["dax_punch"], true);
    let path = dir.join("scenarios/dax_punch.toml");
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replace("description = \"DAX fault", "# A new comment.\ndescription = \"Edited: DAX fault");
    std::fs::write(&path, edited).unwrap();
    let o = racesim_in(&dir, &["check", "--schedules", "200", "traces"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
}

#[test]
fn bad_inputs_are_named_and_the_other_cases_still_run() {
    let dir = suite("bad", &["dax_punch"], true);
    std::fs::write(dir.join("scenarios/broken.toml"), "not = [a scenario").unwrap();
    let trace = std::fs::read_dir(dir.join("traces")).unwrap().next().unwrap().unwrap().path();
    let full = std::fs::read_to_string(&trace).unwrap();
    std::fs::write(dir.join("traces/truncated.trace.json"), &full[..full.len() / 2]).unwrap();
    std::fs::write(dir.join("traces/newer.trace.json"), full.replacen("\"format\": 3", "\"format\": 99", 1)).unwrap();
    let o = racesim_in(&dir, &["check", "--schedules", "200", "--format", "json"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{out}");
    let rows: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let row = |needle: &str| {
        rows.iter()
            .find(|r| r["type"] == "check.case" && r["case"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("{needle}: {out}"))
    };
    assert_eq!(row("broken.toml")["status"], "bad input");
    assert!(row("broken.toml")["message"].as_str().unwrap().contains("broken.toml:1"));
    assert_eq!(row("truncated.trace.json")["status"], "bad input");
    assert!(row("truncated.trace.json")["message"].as_str().unwrap().contains("truncated.trace.json"));
    assert!(row("newer.trace.json")["message"].as_str().unwrap().contains("trace format 99 is newer"));
    // The good cases ran and passed.
    assert_eq!(row("dax_punch.toml [legacy]")["status"], "pass");
    assert_eq!(row("dax_punch.legacy")["status"], "pass");
}

/// The case records of a JSON run, without their wall-clock times (the one thing that may
/// differ between two runs).
fn json_lines(o: &Output) -> Vec<String> {
    text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "check.case")
        .map(|mut v| {
            v.as_object_mut().unwrap().remove("seconds");
            v.to_string()
        })
        .collect()
}

#[test]
fn json_records_are_typed_versioned_and_end_with_a_summary() {
    let dir = suite("json", &["dax_punch"], true);
    let o = racesim_in(&dir, &["check", "--schedules", "200", "--format", "json", "--junit", "j.xml"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let rows: Vec<serde_json::Value> = text(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(rows.iter().all(|r| r["schema"] == 1 && r["type"].is_string()), "{rows:?}");
    let summary = rows.last().unwrap();
    assert_eq!(summary["type"], "check.summary");
    assert_eq!(summary["cases"].as_u64().unwrap() as usize, rows.len() - 1);
    assert_eq!(summary["exit_code"], 0);
    let xml = std::fs::read_to_string(dir.join("j.xml")).unwrap();
    assert!(xml.contains("classname=\"scenarios/dax_punch\""), "{xml}");
    assert!(xml.contains(" time=\""), "JUnit cases carry their time: {xml}");
}

#[test]
fn two_jobs_give_the_same_results_as_one() {
    let dir = suite("jobs", &["collapse_mmap", "mkwrite_punch", "write_from_mmap"], true);
    let one = racesim_in(&dir, &["check", "--schedules", "500", "--format", "json", "--jobs", "1"]);
    let two = racesim_in(&dir, &["check", "--schedules", "500", "--format", "json", "--jobs", "2"]);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stdout));
    assert_eq!(json_lines(&one), json_lines(&two));
}

#[test]
fn shards_cover_every_case_exactly_once() {
    let dir = suite("shards", &["collapse_mmap", "fault_truncate", "failed_write"], true);
    let case_ids = |o: &Output| -> Vec<String> {
        json_lines(o)
            .iter()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["case"].as_str().unwrap().to_string())
            .filter(|id| !id.is_empty())
            .collect()
    };
    let all = case_ids(&racesim_in(&dir, &["check", "--schedules", "100", "--format", "json"]));
    let mut union = Vec::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let part = case_ids(&racesim_in(&dir, &["check", "--schedules", "100", "--format", "json", "--shard", &shard]));
        assert!(!part.is_empty(), "shard {shard} is empty");
        union.extend(part);
    }
    union.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(union, expected, "shards must partition the cases");
    assert!(racesim_in(&dir, &["check", "--shard", "4/3"]).status.code() == Some(2));
}

#[test]
fn a_folder_of_what_racesim_reads_and_what_it_does_not_passes_from_anywhere_in_the_project() {
    let dir = suite("mixed", &["dax_punch"], true);
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::copy(repo().join("policies/mmaplock.toml"), dir.join("policies/mmaplock.toml")).unwrap();
    std::fs::write(dir.join("policies/mine.toml"), "name = \"mine\"\nbase = \"legacy\"\n").unwrap();
    std::fs::write(dir.join("scenarios/README.md"), "# Our scenarios\n").unwrap();
    std::fs::write(dir.join("traces/notes.txt"), "not a trace\n").unwrap();
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"mine\"\n").unwrap();
    std::fs::create_dir_all(dir.join("target/debug")).unwrap();
    std::fs::write(dir.join("target/debug/junk.toml"), "not = [toml").unwrap();
    // The first run writes its JUnit report into the folder it checks; the second must not
    // mistake it for input.
    for _ in 0..2 {
        let o = racesim_in(&dir, &["check", "--schedules", "200", "--junit", "junit.xml", "."]);
        let out = text(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
        assert!(out.contains("policies/mine.toml [policy file]"), "{out}");
        for skipped in ["README", "junit.xml", "notes.txt", "Cargo.toml", "junk.toml"] {
            assert!(!out.contains(skipped), "{skipped} is not a case: {out}");
        }
    }
    // From a subdirectory, check finds the project's scenarios/ and traces/.
    let o = racesim_in(&dir.join("traces"), &["check", "--schedules", "200"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(out.contains("dax_punch.toml [legacy]") && out.contains("[replay]"), "{out}");
    // A file named on the command line is judged whatever it is.
    let o = racesim_in(&dir, &["check", "traces/notes.txt"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
}
