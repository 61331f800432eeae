//! Snapshots of the human output users read: `run` (a violation, a sampled clean run, an
//! exhaustively verified one), the `check` summary, `replay`, `explain`, `show`, `policy NAME`,
//! `minimize`, and the errors for a malformed scenario, a misspelt window function and a trace
//! of another format version. A change to any of them must be deliberate: run the tests, look
//! at the diff, and accept it with `cargo insta review` (or `INSTA_UPDATE=always cargo test`).
//! With `CI` set (as .ci/run is run) a mismatch fails and writes nothing.
//!
//! Output is made deterministic before it is compared: the scratch folder becomes `[SCRATCH]`,
//! wall-clock seconds `[SECONDS]`, racesim's version `[VERSION]`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("racesim-snap-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs racesim from the repository root, without colour.
fn racesim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_racesim"))
        .args(args)
        .current_dir(repo())
        .env_remove("SHUTTLE_RANDOM_SEED")
        .env_remove("CLICOLOR_FORCE")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .output()
        .expect("racesim runs")
}

/// The text of one stream with everything that varies between machines and runs replaced.
fn redact(bytes: &[u8], scratch: &Path) -> String {
    let text = String::from_utf8_lossy(bytes).replace(&scratch.display().to_string(), "[SCRATCH]");
    let text = text.replace(env!("CARGO_PKG_VERSION"), "[VERSION]");
    redact_seconds(&text)
}

/// "in 1.2s" -> "in [SECONDS]s": the check summary's wall-clock time.
fn redact_seconds(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(" in ") {
        let (head, tail) = rest.split_at(at + 4);
        out.push_str(head);
        let digits = tail.chars().take_while(|c| c.is_ascii_digit() || *c == '.').count();
        if digits > 0 && tail[digits..].starts_with('s') {
            out.push_str("[SECONDS]");
            rest = &tail[digits..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// stdout, then (if any) stderr under a marker, then the exit code: what a user sees.
fn shown(o: &Output, scratch: &Path) -> String {
    let mut text = redact(&o.stdout, scratch);
    let stderr = redact(&o.stderr, scratch);
    if !stderr.is_empty() {
        text.push_str("--- stderr\n");
        text.push_str(&stderr);
    }
    text.push_str(&format!("--- exit code {}\n", o.status.code().map_or("none".into(), |c| c.to_string())));
    text
}

const MINIMIZED: &str = "traces/collapse_mmap.legacy.minimized.trace.json";

#[test]
fn run_with_a_violation() {
    let dir = scratch("run");
    let o = racesim(&["run", "scenarios/collapse_mmap.toml", "--policy", "legacy", "--out", dir.to_str().unwrap()]);
    insta::assert_snapshot!("run_violation", shown(&o, &dir));
}

#[test]
fn run_clean_sampled_and_verified() {
    let dir = scratch("clean");
    let sampled = racesim(&["run", "scenarios/collapse_mmap.toml", "--policy", "mmaplock", "--schedules", "300"]);
    insta::assert_snapshot!("run_clean_sampled", shown(&sampled, &dir));
    let verified =
        racesim(&["run", "scenarios/collapse_mmap.toml", "--policy", "mmaplock", "--strategy", "exhaustive"]);
    insta::assert_snapshot!("run_clean_verified", shown(&verified, &dir));
}

#[test]
fn check_summary() {
    let dir = scratch("check");
    let o = racesim(&[
        "check",
        "scenarios/collapse_mmap.toml",
        MINIMIZED,
        "--schedules",
        "2000",
        "--out",
        dir.to_str().unwrap(),
    ]);
    insta::assert_snapshot!("check_summary", shown(&o, &dir));
}

#[test]
fn replay_of_the_minimized_collapse_trace() {
    let dir = scratch("replay");
    insta::assert_snapshot!("replay", shown(&racesim(&["replay", MINIMIZED]), &dir));
}

#[test]
fn explain_of_the_minimized_collapse_trace() {
    let dir = scratch("explain");
    insta::assert_snapshot!("explain_width_100", shown(&racesim(&["explain", MINIMIZED, "--width", "100"]), &dir));
    insta::assert_snapshot!("explain_width_72", shown(&racesim(&["explain", MINIMIZED, "--width", "72"]), &dir));
}

#[test]
fn show_and_policy() {
    let dir = scratch("show");
    let svg = dir.join("collapse.svg");
    let o = racesim(&["show", MINIMIZED, "--svg", svg.to_str().unwrap()]);
    insta::assert_snapshot!("show", shown(&o, &dir));
    insta::assert_snapshot!("policy_legacy", shown(&racesim(&["policy", "legacy"]), &dir));
}

#[test]
fn minimize_a_fresh_finding() {
    let dir = scratch("minimize");
    let out = dir.join("out");
    let run = racesim(&["run", "scenarios/collapse_mmap.toml", "--policy", "legacy", "--out", out.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1));
    let trace = out.join("collapse_mmap.legacy.seed1.schedule0.trace.json");
    let minimized = dir.join("min.trace.json");
    let o = racesim(&["minimize", trace.to_str().unwrap(), "--out", minimized.to_str().unwrap()]);
    insta::assert_snapshot!("minimize", shown(&o, &dir));
}

#[test]
fn errors_point_into_the_file() {
    let dir = scratch("errors");
    let head = "format = 1\nname = \"t\"\n\n[[file]]\nname = \"data\"\npages = 4\n\n";
    let bad_op = dir.join("bad_op.toml");
    std::fs::write(
        &bad_op,
        format!("{head}[[actor]]\nname = \"a\"\nops = [ {{ op = \"stor\", file = \"data\", page = 1 }} ]\n"),
    )
    .unwrap();
    insta::assert_snapshot!("error_malformed_scenario", shown(&racesim(&["run", bad_op.to_str().unwrap()]), &dir));

    let bad_window = dir.join("bad_window.toml");
    std::fs::write(
        &bad_window,
        format!(
            "{head}[[actor]]\nname = \"a\"\nops = [ {{ op = \"store\", file = \"data\", page = 1 }} ]\n\n\
             [window]\ndescription = \"d\"\nopens = {{ actor = \"a\", function = \"filemap_faul\" }}\n\
             closes = {{ actor = \"a\" }}\ninside = {{ actor = \"a\" }}\n"
        ),
    )
    .unwrap();
    insta::assert_snapshot!("error_window_function", shown(&racesim(&["run", bad_window.to_str().unwrap()]), &dir));

    let text = std::fs::read_to_string(repo().join(MINIMIZED)).unwrap();
    let mut trace: serde_json::Value = serde_json::from_str(&text).unwrap();
    trace["format"] = serde_json::json!(99);
    let future = dir.join("future.trace.json");
    std::fs::write(&future, serde_json::to_string_pretty(&trace).unwrap()).unwrap();
    insta::assert_snapshot!("error_trace_format", shown(&racesim(&["replay", future.to_str().unwrap()]), &dir));
}
