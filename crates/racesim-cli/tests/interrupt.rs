//! Ctrl-C during a long exploration: racesim stops at the next schedule boundary, prints what
//! it explored so far (never a verdict, never "verified"), leaves no half-written trace, and
//! exits with 130. Each test waits for a line racesim prints once it is exploring, not for a
//! fixed time, so a loaded machine only makes it slower.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("racesim-interrupt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn start(args: &[&str]) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_racesim"))
        .args(args)
        .current_dir(repo())
        .env_remove("SHUTTLE_RANDOM_SEED")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("racesim starts");
    // A watchdog: a lost signal must fail the test, not hang it.
    let pid = child.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(600));
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
    });
    child
}

fn sigint(child: &Child) {
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
}

/// Reads stdout lines until one contains `marker`, sends SIGINT, and returns everything racesim
/// printed (stdout, stderr) and its exit code.
fn interrupt_after(mut child: Child, marker: &str) -> (String, String, Option<i32>) {
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = stdout.read_line(&mut line).unwrap();
        assert!(n > 0, "racesim ended before printing '{marker}': {seen}");
        seen.push_str(&line);
        if line.contains(marker) {
            break;
        }
    }
    sigint(&child);
    stdout.read_to_string(&mut seen).unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    (seen, stderr, status.code())
}

#[test]
fn ctrl_c_during_run_prints_a_partial_summary_and_exits_130() {
    let out = scratch("run");
    let child = start(&[
        "run",
        "scenarios/collapse_mmap.toml",
        "--policy",
        "legacy,mmaplock,invalidate_lock",
        "--schedules",
        "1000000000000",
        "--out",
        out.to_str().unwrap(),
    ]);
    // legacy fails at once; its replay line is printed once its trace is written, and then
    // mmaplock explores (clean) for as long as it is let.
    let (stdout, stderr, code) = interrupt_after(child, "replay: racesim replay");
    assert_eq!(code, Some(130), "{stdout}{stderr}");
    assert!(stdout.contains("VIOLATION lost_write"), "the finding before Ctrl-C is reported: {stdout}");
    assert!(
        stdout
            .contains("interrupted (Ctrl-C): 1 of 3 policies explored to the end, 1 with a violation; not explored: "),
        "{stdout}"
    );
    assert!(stdout.lines().last().unwrap().contains("invalidate_lock"), "{stdout}");
    // mmaplock was cut short: what it explored, and no verdict.
    if let Some(line) = stdout.lines().find(|l| l.trim_start().starts_with("mmaplock")) {
        assert!(line.contains("interrupted after") && line.contains("no verdict"), "{line}");
    }
    assert!(!stdout.contains("clean"), "an interrupted run gives no clean verdict: {stdout}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    // Only the finished trace, and no temporary beside it.
    let files: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(files, ["collapse_mmap.legacy.seed1.schedule0.trace.json"], "{files:?}");
}

#[test]
fn ctrl_c_during_an_exhaustive_run_says_incomplete_never_verified() {
    // Four actors on one file: a search far too large to finish while the test waits.
    let dir = scratch("exhaustive");
    let scenario = dir.join("big.toml");
    std::fs::write(
        &scenario,
        r#"format = 1
name = "big"
description = "four actors on one file, for a long exhaustive search"

[[file]]
name = "data"
pages = 4
cached = [0, 1, 2, 3]

[[actor]]
name = "w1"
ops = [{ op = "write", file = "data", page = 0, pages = 3 }, { op = "read", file = "data", page = 0, pages = 3 }]

[[actor]]
name = "w2"
ops = [{ op = "write", file = "data", page = 1, pages = 3 }, { op = "store", file = "data", page = 2 }]

[[actor]]
name = "r"
ops = [{ op = "read", file = "data", page = 0, pages = 4 }, { op = "load", file = "data", page = 1 }]

[[actor]]
name = "p"
ops = [{ op = "punch_hole", file = "data", page = 1, pages = 2 }, { op = "store", file = "data", page = 3 }]
"#,
    )
    .unwrap();
    let child = start(&[
        "run",
        scenario.to_str().unwrap(),
        "--policy",
        "invalidate_lock",
        "--strategy",
        "exhaustive",
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    // The header line is printed right before the search starts.
    let (stdout, stderr, code) = interrupt_after(child, "big: four actors");
    assert_eq!(code, Some(130), "{stdout}{stderr}");
    assert!(stdout.contains("interrupted: incomplete after "), "{stdout}");
    assert!(stdout.contains("not verified"), "{stdout}");
    assert!(!stdout.contains("clean"), "{stdout}");
    assert!(
        stdout.contains("interrupted (Ctrl-C): 0 of 1 policies explored to the end, 0 with a violation"),
        "{stdout}"
    );
}

#[test]
fn ctrl_c_during_run_with_json_ends_with_an_interrupted_summary() {
    let out = scratch("json");
    let child = start(&[
        "run",
        "scenarios/collapse_mmap.toml",
        "--policy",
        "legacy,mmaplock",
        "--schedules",
        "1000000000000",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (stdout, stderr, code) = interrupt_after(child, "\"type\":\"run.policy\"");
    assert_eq!(code, Some(130), "{stdout}{stderr}");
    let records: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let summary = records.last().unwrap();
    assert_eq!(summary["type"], "run.summary");
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["exit_code"], 130);
    assert_eq!(summary["finished"], 1);
    for record in &records[1..records.len() - 1] {
        assert_eq!(record["verdict"], "interrupted", "{record}");
    }
}

#[test]
fn ctrl_c_during_check_reports_the_finished_cases_and_exits_130() {
    let out = scratch("check");
    let child = start(&["check", "--jobs", "1", "--out", out.to_str().unwrap()]);
    let (stdout, stderr, code) = interrupt_after(child, "checking ");
    assert_eq!(code, Some(130), "{stdout}{stderr}");
    assert!(stdout.contains("summary: "), "{stdout}");
    assert!(stdout.contains("interrupted (Ctrl-C): "), "{stdout}");
    assert!(stdout.contains(" cases finished; the other "), "{stdout}");
    assert!(!stdout.lines().any(|l| l.starts_with("FAIL")), "no case fails for being cut short: {stdout}");
}

#[test]
fn ctrl_c_during_mutants_reports_the_finished_mutants_and_exits_130() {
    // A sampled pass of 10^12 schedules per scenario never finishes: every worker is inside a
    // mutant when the signal comes. `mutants` prints nothing until it is done, so the test
    // waits a fixed time; the handler is installed before anything is loaded.
    let child =
        start(&["mutants", "scenarios", "--policy", "invalidate_lock", "--jobs", "2", "--schedules", "1000000000000"]);
    std::thread::sleep(std::time::Duration::from_secs(5));
    sigint(&child);
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stdout}{stderr}");
    // Killed mutants finish at their first violation and are reported; a survivor would need
    // 10^12 schedules, so the mutants running at the signal were cut short: no result, and
    // none is reported as a survivor (the listed survivors that did not run are not "absent"
    // either).
    assert!(stdout.contains("summary: ") && stdout.contains("  survived       0"), "{stdout}");
    assert!(!stdout.contains("SURVIVED") && !stdout.contains("listed but"), "{stdout}");
    assert!(stderr.contains("interrupted (Ctrl-C): ") && stderr.contains(" mutants ran"), "{stderr}");
}
