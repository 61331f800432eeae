//! Regression tests for issue 14, "Hostile input, faults and mutants": every input a user can
//! share (scenario, policy file, trace) and every output path is untrusted. Each test is named
//! after the defect it pins: no escape from `--out`, no clobbered special file, no panic on
//! legal input or on a full stdout, a documented bound on every number.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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
    let dir = std::env::temp_dir().join(format!("racesim-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A scenario that finds a violation at once (collapse_mmap's lost write under legacy), renamed.
fn violating_scenario(dir: &Path, name: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("scenarios/collapse_mmap.toml")).unwrap();
    let start = text.find("\nname = ").unwrap() + 1;
    let end = start + text[start..].find('\n').unwrap();
    let renamed = format!("{}name = {}{}", &text[..start], toml_string(name), &text[end..]);
    let path = dir.join("scenario.toml");
    std::fs::write(&path, renamed).unwrap();
    path
}

fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Every file under `dir`, relative.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                found.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn issue14_scenario_name_cannot_escape_out() {
    for (bad, needle) in [
        ("../escaped/x", "contains '/'"),
        ("", "the name is empty"),
        ("a\u{0}b", "contains '\\0'"),
        (".hidden", "does not start with a letter or digit"),
        (&"x".repeat(300), "300 bytes long"),
    ] {
        let dir = scratch("name");
        let scenario = violating_scenario(&dir, bad);
        let out = dir.join("out/a/b");
        let o = racesim(&["run", s(&scenario), "--policy", "legacy", "--out", s(&out)]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", text(&o));
        let err = stderr(&o);
        assert!(err.contains(&format!("{}:", scenario.display())), "names the file: {err}");
        assert!(err.contains("scenario 'name'") && err.contains(needle), "{bad:?}: {err}");
        assert_eq!(files_under(&dir), vec!["scenario.toml"], "nothing written for {bad:?}");
    }
}

#[test]
fn issue14_policy_name_cannot_escape_out() {
    let dir = scratch("policy-name");
    let scenario = violating_scenario(&dir, "ok");
    let mut text = std::fs::read_to_string(&scenario).unwrap();
    text.push_str("\n[[policy]]\nname = \"../../polesc\"\nbase = \"legacy\"\n");
    std::fs::write(&scenario, &text).unwrap();
    let o = racesim(&["run", s(&scenario), "--policy", "all", "--out", s(&dir.join("out/a"))]);
    assert_eq!(o.status.code(), Some(2), "{}", self::text(&o));
    let line = text.lines().position(|l| l.contains("polesc")).unwrap() + 1;
    let err = stderr(&o);
    assert!(err.contains(&format!("{}:{line}:8: [[policy]] 'name'", scenario.display())), "{err}");
    // A policy file of one's own, and the policy definition a trace carries, go through the
    // same check.
    let file = dir.join("p.toml");
    std::fs::write(&file, "base = \"legacy\"\nname = \"../../polesc\"\n").unwrap();
    let plain = violating_scenario(&dir, "ok");
    let o = racesim(&["run", s(&plain), "--policy-file", s(&file), "--out", s(&dir.join("out/a"))]);
    assert_eq!(o.status.code(), Some(2), "{}", self::text(&o));
    assert!(stderr(&o).contains(&format!("{}:2:8: policy 'name'", file.display())), "{}", stderr(&o));
    assert!(!dir.join("polesc").exists() && !dir.join("out").exists());
}

#[test]
fn issue14_unwritable_out_is_found_before_exploring() {
    let dir = scratch("unwritable");
    let blocker = dir.join("file");
    std::fs::write(&blocker, "a file, not a folder").unwrap();
    let out = blocker.join("out");
    let o = racesim(&["run", "scenarios/collapse_mmap.toml", "--policy", "all", "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(o.stdout.is_empty(), "no policy was explored: {}", text(&o));
    assert!(stderr(&o).contains(&format!("--out {}", out.display())), "{}", stderr(&o));
}

/// A trace that replays, written by a quick run.
fn fresh_trace(dir: &Path) -> PathBuf {
    let out = dir.join("traces");
    let o = racesim(&["run", "scenarios/collapse_mmap.toml", "--policy", "legacy", "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).next().unwrap()
}

#[cfg(unix)]
#[test]
fn issue14_outputs_do_not_replace_special_files() {
    use std::os::unix::fs::FileTypeExt;
    let dir = scratch("special");
    let trace = fresh_trace(&dir);
    // A character device is written in place.
    let o = racesim(&["show", s(&trace), "--html", "/dev/null", "--svg", "/dev/null", "--json", "/dev/null"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    if Path::new("/dev/full").exists() {
        let o = racesim(&["minimize", s(&trace), "--out", "/dev/full"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(stderr(&o).contains("cannot write /dev/full"), "{}", stderr(&o));
        assert!(std::fs::metadata("/dev/full").unwrap().file_type().is_char_device(), "/dev/full is intact");
    }
    // A symbolic link is refused and stays a link.
    let link = dir.join("link.html");
    std::os::unix::fs::symlink(dir.join("elsewhere.html"), &link).unwrap();
    let o = racesim(&["show", s(&trace), "--html", s(&link)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(stderr(&o).contains("symbolic link"), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(!dir.join("elsewhere.html").exists());
    // A FIFO is written in place: its reader gets the picture.
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = Command::new("cat").arg(&fifo).stdout(Stdio::piped()).spawn().unwrap();
    let o = racesim(&["show", s(&trace), "--svg", s(&fifo)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let picture = reader.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&picture.stdout).contains("<svg"), "the reader got the SVG");
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    // JUnit of check goes the same way.
    let o = racesim(&["check", s(&trace), "--junit", s(&link)]);
    assert!(stderr(&o).contains("symbolic link"), "{}", text(&o));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
}

#[cfg(unix)]
#[test]
fn issue14_kill_9_during_writes_leaves_no_temporary() {
    let dir = scratch("kill");
    let trace = fresh_trace(&dir);
    let out = dir.join("min");
    std::fs::create_dir_all(&out).unwrap();
    for i in 0..12u64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_racesim"))
            .args(["show", s(&trace), "--html", s(&out.join("t.html")), "--svg", s(&out.join("t.svg"))])
            .args(["--json", s(&out.join("t.json"))])
            .current_dir(repo())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(3 * i));
        let _ = child.kill();
        let _ = child.wait();
    }
    let leftovers: Vec<String> = files_under(&out).into_iter().filter(|n| n.starts_with('.')).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn scenario_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn assert_reported(o: &Output) {
    assert!(matches!(o.status.code(), Some(0 | 1)), "a reported outcome, not a crash: {:?}\n{}", o.status, text(o));
}

#[test]
fn issue14_a_user_buffer_in_an_unmapped_dax_file_is_efault_not_a_panic() {
    let dir = scratch("dax-buffer");
    let header = "format = 1\nname = \"dax_buffer\"\n[[file]]\nname = \"dst\"\npages = 2\n[[file]]\nname = \"src\"\n\
                  pages = 2\ndax = true\n";
    let never_mapped = scenario_file(
        &dir,
        "never",
        &format!(
            "{header}mmap = false\n[[actor]]\nname = \"w\"\nops = [ {{ op = \"write\", file = \"dst\", page = 0, pages = 1, \
             from_mmap = \"src\" }}, {{ op = \"dio_write\", file = \"dst\", page = 0, pages = 1, from_mmap = \"src\" }} ]\n"
        ),
    );
    let unmapped = scenario_file(
        &dir,
        "unmapped",
        &format!(
            "{header}[[actor]]\nname = \"w\"\nops = [ {{ op = \"munmap\", file = \"src\" }}, {{ op = \"write\", file = \"dst\", \
             page = 0, pages = 1, from_mmap = \"src\" }}, {{ op = \"dio_write\", file = \"dst\", page = 0, pages = 1, \
             from_mmap = \"src\" }} ]\n"
        ),
    );
    for scenario in [never_mapped, unmapped] {
        let o = racesim(&["run", s(&scenario), "--policy", "all", "-n", "20", "--out", s(&dir.join("out"))]);
        assert_reported(&o);
    }
}

#[test]
fn issue14_a_write_from_a_mapping_against_many_punches_is_not_a_panic() {
    let dir = scratch("punches");
    let punches = vec!["  { op = \"punch_hole\", file = \"src\", page = 0, pages = 1 }"; 32].join(",\n");
    let mut text = "format = 1\nname = \"punches\"\n[[file]]\nname = \"dst\"\npages = 1\n[[file]]\nname = \"src\"\n\
                    pages = 1\n[[actor]]\nname = \"writer\"\nops = [ { op = \"write\", file = \"dst\", page = 0, \
                    pages = 1, from_mmap = \"src\" } ]\n"
        .to_string();
    for a in ["a", "b", "c"] {
        text.push_str(&format!("[[actor]]\nname = \"puncher-{a}\"\nops = [\n{punches}\n]\n"));
    }
    let scenario = scenario_file(&dir, "punches", &text);
    // Under mmaplock, random walks of seed 1 let the writer retry after more than 64 of the
    // punches within 1,000 schedules: the old fixed bound panicked there.
    let o = racesim(&[
        "run",
        s(&scenario),
        "--policy",
        "mmaplock",
        "--strategy",
        "random",
        "-n",
        "1000",
        "--out",
        s(&dir.join("out")),
    ]);
    assert_reported(&o);
}

#[cfg(unix)]
#[test]
fn issue14_a_full_stdout_is_an_error_not_a_panic() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let dir = scratch("full");
    let trace = fresh_trace(&dir);
    let out = dir.join("out");
    let minimized = dir.join("m.trace.json");
    let commands: Vec<Vec<&str>> = vec![
        vec!["run", "scenarios/collapse_mmap.toml", "--policy", "legacy", "--out", s(&out)],
        vec!["run", "scenarios/collapse_mmap.toml", "--policy", "legacy", "--format", "json", "--out", s(&out)],
        vec!["replay", s(&trace)],
        vec!["explain", s(&trace)],
        vec!["policy", "legacy"],
        vec!["check", s(&trace)],
        vec!["minimize", s(&trace), "--out", s(&minimized)],
        vec!["--help"],
    ];
    for args in commands {
        let o = Command::new(env!("CARGO_BIN_EXE_racesim"))
            .args(&args)
            .current_dir(repo())
            .stdout(std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap())
            .output()
            .unwrap();
        if args == ["--help"] {
            // clap prints help itself; it must not panic either.
            assert_ne!(o.status.code(), Some(101), "{args:?}: {}", stderr(&o));
            continue;
        }
        assert_eq!(o.status.code(), Some(6), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("cannot write to stdout"), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn issue14_numbers_have_documented_bounds() {
    let dir = scratch("numbers");
    let base = std::fs::read_to_string(repo().join("scenarios/collapse_mmap.toml")).unwrap();
    let at = base.find("\n[[file]]").unwrap();
    let pct = format!("{}\nstrategy = \"pct:4294967296\"{}", &base[..at], &base[at..]);
    let line = pct[..pct.find("pct:4294967296").unwrap()].matches('\n').count() + 1;
    let path = scenario_file(&dir, "pct", &pct);
    let o = racesim(&["run", s(&path), "-n", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(stderr(&o).contains(&format!("{}:{line}:12: unknown strategy", path.display())), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 <= N <= 64"), "{}", stderr(&o));
    let scenario = "scenarios/collapse_mmap.toml";
    for (args, needle) in [
        (vec!["run", scenario, "--strategy", "pct:4294967296"], "1 <= N <= 64"),
        (vec!["run", scenario, "--schedules", "0"], "--schedules"),
        (vec!["run", scenario, "--schedules", "10000000000000"], "--schedules"),
        (vec!["run", scenario, "--time-budget", "nan"], "positive number"),
        (vec!["run", scenario, "--time-budget=-1"], "positive number"),
        (vec!["run", scenario, "--time-budget", "0"], "positive number"),
        (vec!["run", scenario, "--time-budget", "1e300"], "at most 1e9"),
        (vec!["check", "--jobs", "100000"], "--jobs"),
        (vec!["check", "--jobs", "0"], "--jobs"),
        (vec!["bench", scenario, "--schedules", "10000000000000"], "--schedules"),
    ] {
        let o = racesim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn issue14_time_budget_inf_means_no_limit() {
    let dir = scratch("inf");
    let o = racesim(&[
        "run",
        "scenarios/collapse_mmap.toml",
        "--policy",
        "invalidate_lock",
        "-n",
        "5",
        "--time-budget",
        "inf",
        "--out",
        s(&dir),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("clean after 5 schedules"), "{}", text(&o));
}

#[test]
fn issue14_unknown_policy_names_the_scenario_and_its_variants() {
    let o = racesim(&["policy", "nope", "--scenario", "scenarios/collapse_mmap.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = stderr(&o);
    assert!(err.contains("scenarios/collapse_mmap.toml"), "{err}");
    assert!(err.contains("legacy") && err.contains("range_lock_mkwrite_collapse_range_only"), "{err}");
}

#[cfg(unix)]
#[test]
fn issue14_an_endless_input_is_refused_not_read_forever() {
    for (args, needle) in [
        (vec!["run", "/dev/zero"], "/dev/zero: too large for a scenario: at most 4 MiB"),
        (vec!["replay", "/dev/zero"], "/dev/zero: a trace file is at most 64 MiB"),
        (vec!["run", "scenarios/collapse_mmap.toml", "--policy-file", "/dev/zero"], "too large for a policy file"),
    ] {
        let o = racesim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn issue14_a_huge_map_pages_with_an_offset_does_not_wrap_around() {
    let dir = scratch("map-offset");
    let text = "format = 1\nname = \"wrap\"\n[[file]]\nname = \"f\"\npages = 4\nmap_offset = 1\n\
                map_pages = 4294967295\n[[actor]]\nname = \"a\"\nops = [ { op = \"load\", file = \"f\", page = 1 } ]\n";
    let path = scenario_file(&dir, "wrap", text);
    let o = racesim(&["run", s(&path), "-n", "1", "--out", s(&dir.join("out"))]);
    assert_eq!(o.status.code(), Some(2), "{}", self::text(&o));
    assert!(stderr(&o).contains(&format!("{}:7:13: map_pages", path.display())), "{}", stderr(&o));
}

/// `eprintln!` panics when stderr cannot be written: `racesim run ... 2>/dev/full` died with
/// exit 101. Every message to stderr now ignores a failing stderr, and the exit code stays the
/// verdict's (a failing stdout is still exit 6).
#[cfg(unix)]
#[test]
fn issue14_stderr_full() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let dir = scratch("stderr-full");
    let trace = fresh_trace(&dir);
    let out = dir.join("out");
    let html = dir.join("t.html");
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let cases: Vec<(Vec<&str>, i32)> = vec![
        // A violation: the trace hint and the warnings go to stderr.
        (vec!["run", "scenarios/collapse_mmap.toml", "--policy", "legacy", "--out", s(&out)], 1),
        (vec!["run", "scenarios/collapse_mmap.toml", "--policy", "legacy", "--format", "json", "--out", s(&out)], 1),
        // Bad input: the error message goes to stderr.
        (vec!["run", "scenarios/no-such-scenario.toml"], 2),
        (vec!["replay", "no-such.trace.json"], 2),
        // "wrote FILE" goes to stderr.
        (vec!["show", s(&trace), "--html", s(&html)], 0),
        (vec!["replay", s(&trace)], 1),
        (vec!["policy", "no-such-policy"], 2),
    ];
    for (args, code) in cases {
        let o = Command::new(env!("CARGO_BIN_EXE_racesim"))
            .args(&args)
            .current_dir(repo())
            .stdout(Stdio::null())
            .stderr(full())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(code), "{args:?}");
    }
    // Both full: the lost stdout still says so with its own exit code.
    let o = Command::new(env!("CARGO_BIN_EXE_racesim"))
        .args(["policy", "legacy"])
        .current_dir(repo())
        .stdout(full())
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(6));
}
