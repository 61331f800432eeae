//! The fuzz harness of issue 14: mutated shipped scenarios, policy files and traces (byte flips,
//! truncations, swapped and duplicated lines, huge numbers) go through everything a user can
//! feed them to, in process: load, a short exploration, replay, explain, the pictures and
//! minimize. Goal: no panic, and every rejection names the file it is about.
//!
//! Mutations come from a seeded ChaCha8 generator, one seed per case, so any failure is
//! reproduced by its case number. `cargo test` runs 1,000 cases (about a second); docs/fuzzing.md gives
//! the command for 10^5 (`RACESIM_FUZZ_CASES`, read only here, in a test, never by racesim).

use racesim_explore::{Comparison, ExploreConfig};
use racesim_scenario::Scenario;
use racesim_trace::Trace;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shipped inputs a case starts from, sorted: the same corpus on every machine.
fn corpus(folder: &str, suffix: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = std::fs::read_dir(repo().join(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .map(|p| {
            (format!("{folder}/{}", p.file_name().unwrap().to_string_lossy()), std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    found.sort();
    found
}

const HUGE: &[&str] = &[
    "0",
    "-1",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    "1e308",
    "65535",
    "65536",
    "2147483648",
    "nan",
    "inf",
];

/// One to three mutations of `text`.
fn mutate(rng: &mut ChaCha8Rng, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    // Mostly one mutation: a mutant close to a valid file goes deeper than a wreck.
    let mutations = if rng.random_bool(0.7) { 1 } else { rng.random_range(2..=3) };
    for _ in 0..mutations {
        if bytes.is_empty() {
            break;
        }
        match rng.random_range(0..7) {
            // Flip one byte: to another printable character, or to anything.
            0 => {
                let at = rng.random_range(0..bytes.len());
                bytes[at] = if rng.random_bool(0.7) { rng.random_range(0x20..0x7f) } else { rng.next_u32() as u8 };
            }
            // Truncate.
            1 => {
                let at = rng.random_range(0..bytes.len());
                bytes.truncate(at);
            }
            // A number becomes a huge or odd one.
            2 => {
                let digits: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i].is_ascii_digit()).collect();
                if let Some(&start) = digits.get(rng.random_range(0..digits.len().max(1))) {
                    let end = (start..bytes.len()).find(|&i| !bytes[i].is_ascii_digit()).unwrap_or(bytes.len());
                    let with = HUGE[rng.random_range(0..HUGE.len())].as_bytes();
                    bytes.splice(start..end, with.iter().copied());
                }
            }
            // Swap two lines, or the values of two `key = value` lines.
            3 | 4 => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
                if lines.len() >= 2 {
                    let (a, b) = (rng.random_range(0..lines.len()), rng.random_range(0..lines.len()));
                    let split = |l: &str| l.split_once(" = ").map(|(k, v)| (k.to_string(), v.to_string()));
                    match (split(&lines[a]), split(&lines[b])) {
                        (Some((ka, va)), Some((kb, vb))) if rng.random_bool(0.5) => {
                            lines[a] = format!("{ka} = {vb}");
                            lines[b] = format!("{kb} = {va}");
                        }
                        _ => lines.swap(a, b),
                    }
                }
                bytes = lines.join("\n").into_bytes();
            }
            // Duplicate a line.
            5 => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let at = rng.random_range(0..lines.len());
                    lines.insert(at, lines[at]);
                }
                bytes = lines.join("\n").into_bytes();
            }
            // Delete a line.
            _ => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    lines.remove(rng.random_range(0..lines.len()));
                }
                bytes = lines.join("\n").into_bytes();
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// What a case came to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Accepted(&'static str),
    Rejected(&'static str, String),
}

/// The reason of a rejection message, without its file position and values: a histogram key.
fn reason(message: &str, path: &str) -> String {
    let rest = message.strip_prefix(path).unwrap_or(message);
    let rest = rest.trim_start_matches(|c: char| c == ':' || c.is_ascii_digit() || c == ' ');
    let words: Vec<&str> = rest.split_whitespace().take(4).collect();
    words
        .join(" ")
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .filter(|c| *c != '\'' && *c != '"')
        .take(48)
        .collect()
}

fn reject(kind: &'static str, message: String, path: &str) -> Outcome {
    assert!(message.contains(path), "a rejection must name the file {path}: {message}");
    Outcome::Rejected(kind, reason(&message, path))
}

/// A short exploration: few schedules, each capped in steps, so a mutant cannot run long.
fn explore_briefly(scenario: &Scenario, policy: &racesim_kernel::Policy) {
    let mut config = ExploreConfig::new(scenario.strategy_or(None), 1, 3);
    config.steps_per_schedule_max = config.steps_per_schedule_max.min(20_000);
    let started = Instant::now();
    let _ = racesim_explore::explore(
        scenario,
        policy,
        &config,
        Box::new(move |_| started.elapsed() < Duration::from_secs(20)),
    );
}

fn scenario_case(rng: &mut ChaCha8Rng, scenarios: &[(String, String)]) -> Outcome {
    let (name, text) = &scenarios[rng.random_range(0..scenarios.len())];
    let path = format!("fuzz/{}", name.trim_start_matches("scenarios/"));
    let text = mutate(rng, text);
    match Scenario::parse(&text, &path) {
        Err(e) => reject("scenario", e.to_string(), &path),
        Ok(scenario) => {
            let policy = scenario.policy("legacy").unwrap();
            explore_briefly(&scenario, &policy);
            for variant in scenario.variants.clone() {
                explore_briefly(&scenario, &variant);
            }
            Outcome::Accepted("scenario")
        }
    }
}

fn policy_case(rng: &mut ChaCha8Rng, policies: &[(String, String)], small: &Scenario) -> Outcome {
    let (name, text) = &policies[rng.random_range(0..policies.len())];
    let path = format!("fuzz/{}", name.trim_start_matches("policies/"));
    let text = mutate(rng, text);
    match racesim_scenario::policy_file::parse(&text, &path) {
        Err(e) => reject("policy", e.to_string(), &path),
        Ok(policy) => {
            explore_briefly(small, &policy);
            Outcome::Accepted("policy")
        }
    }
}

fn trace_case(rng: &mut ChaCha8Rng, traces: &[(String, String)], deep: bool) -> Outcome {
    let (name, text) = &traces[rng.random_range(0..traces.len())];
    let path = format!("fuzz/{}", name.trim_start_matches("traces/"));
    let text = mutate(rng, text);
    let trace = match Trace::from_json(&text, Path::new(&path)) {
        Err(e) => return reject("trace", e.to_string(), &path),
        Ok(t) => t,
    };
    // The scenario a trace names is read as `racesim replay` does, relative to the repository.
    let Ok(mut scenario) = Scenario::load(&repo().join(&trace.scenario.path)) else {
        return Outcome::Rejected("trace", "its scenario cannot be read".into());
    };
    if let Err(e) = racesim_explore::adopt_trace_policy(&mut scenario, &trace) {
        return Outcome::Rejected(
            "trace",
            format!("policy_definition: {}", reason(&e, "the trace's policy_definition")),
        );
    }
    let Some(replay) = racesim_explore::replay_trace(&scenario, &trace) else {
        return Outcome::Rejected("trace", "names an undefined policy".into());
    };
    if let Comparison::Diverged(_) = replay.comparison {
        return Outcome::Rejected("trace", "diverged on replay".into());
    }
    // What show, explain and minimize do with a trace that replays.
    if let Ok(timeline) = racesim_view::assemble::timeline(&scenario, &trace) {
        let _ = racesim_view::html::render(&timeline);
        let _ = racesim_view::svg::render(&timeline);
        let _ = serde_json::to_string(&timeline);
    }
    if deep {
        let _ = racesim_view::explain::explain(&scenario, &trace);
        if let Some(policy) = scenario.policy(&trace.policy) {
            let orders = racesim_explore::lock_orders_of(&trace);
            let _ = racesim_minimize::minimize(&scenario, &policy, &trace.decisions, trace.seed, &orders);
        }
    }
    Outcome::Accepted("trace")
}

/// Every `BINARY_EVERY`-th case also goes through the racesim binary, as a user would run it:
/// what the library returns must become an exit code and a message, never a crash.
const BINARY_EVERY: u64 = 50;

/// Runs the racesim commands a user would on a mutated input file; returns a problem, if any.
fn through_binary(case: u64, kind: u32, text: &str) -> Option<String> {
    let dir = std::env::temp_dir().join(format!("racesim-fuzz-{}-{case}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(match kind {
        0 => "mutant.toml",
        1 => "mutant-policy.toml",
        _ => "mutant.trace.json",
    });
    std::fs::write(&file, text).unwrap();
    let (file_text, out) = (file.display().to_string(), dir.join("out").display().to_string());
    let commands: Vec<Vec<&str>> = match kind {
        0 => vec![vec!["run", &file_text, "-n", "3", "--out", &out]],
        1 => vec![
            vec!["policy", &file_text],
            vec!["run", "scenarios/collapse_mmap.toml", "--policy-file", &file_text, "-n", "3", "--out", &out],
        ],
        _ => vec![vec!["replay", &file_text], vec!["show", &file_text, "--json", "/dev/null"]],
    };
    let mut problem = None;
    for args in commands {
        let o =
            std::process::Command::new(env!("CARGO_BIN_EXE_racesim")).args(&args).current_dir(repo()).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        let code = o.status.code();
        if code.is_none() || code == Some(101) || err.contains("panicked") {
            problem = Some(format!("case {case}: racesim {args:?}: {:?}: {err}", o.status));
        } else if code == Some(2) && !err.contains(&file_text) && !err.contains("scenarios/") {
            problem = Some(format!("case {case}: racesim {args:?}: a rejection that names no file: {err}"));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    problem
}

#[test]
fn fuzz_mutated_inputs_never_panic_and_rejections_name_the_file() {
    #[allow(clippy::disallowed_methods)] // a test knob, never read by racesim itself
    let cases: u64 = std::env::var("RACESIM_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    #[allow(clippy::disallowed_methods)]
    let first: u64 = std::env::var("RACESIM_FUZZ_FIRST").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let scenarios = corpus("scenarios", ".toml");
    let policies = corpus("policies", ".toml");
    let traces = corpus("traces", ".trace.json");
    let small = Scenario::load(&repo().join("scenarios/collapse_mmap.toml")).unwrap();
    let mut histogram: BTreeMap<String, u64> = BTreeMap::new();
    let mut panics = Vec::new();
    let mut slow = Vec::new();
    let mut binary_problems = Vec::new();
    // Panics are counted, not printed case by case.
    let hook = std::panic::take_hook();
    #[allow(clippy::disallowed_methods)] // a test knob: keep the hook to see where a panic is
    let show_panics = std::env::var_os("RACESIM_FUZZ_SHOW_PANICS").is_some();
    if !show_panics {
        std::panic::set_hook(Box::new(|_| {}));
    }
    for case in first..first + cases {
        let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_0000 ^ case);
        let kind = rng.random_range(0..3);
        if case % BINARY_EVERY == 0 {
            // The same mutant as the in-process case below: same seed, same draws.
            let mut again = rng.clone();
            let corpus = match kind {
                0 => &scenarios,
                1 => &policies,
                _ => &traces,
            };
            let _deep = again.random_range(0..8);
            let (_, original) = &corpus[again.random_range(0..corpus.len())];
            let text = mutate(&mut again, original);
            if let Some(problem) = through_binary(case, kind, &text) {
                binary_problems.push(problem);
            }
        }
        // explain and minimize replay hundreds of continuations: one trace case in eight.
        let deep = rng.random_range(0..8) == 0;
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| match kind {
            0 => scenario_case(&mut rng, &scenarios),
            1 => policy_case(&mut rng, &policies, &small),
            _ => trace_case(&mut rng, &traces, deep),
        }));
        let seconds = started.elapsed().as_secs_f64();
        if seconds > 10.0 {
            slow.push((case, seconds));
        }
        let key = match outcome {
            Ok(Outcome::Accepted(what)) => format!("accepted {what}"),
            Ok(Outcome::Rejected(what, why)) => format!("rejected {what}: {why}"),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panics.push((case, message.chars().take(300).collect::<String>()));
                "PANIC".to_string()
            }
        };
        *histogram.entry(key).or_default() += 1;
    }
    std::panic::set_hook(hook);
    let mut by_total: BTreeMap<&str, u64> = BTreeMap::new();
    for (key, n) in &histogram {
        let group = if key.starts_with("accepted") {
            "accepted"
        } else if key.starts_with("rejected") {
            "rejected"
        } else {
            "panics"
        };
        *by_total.entry(group).or_default() += n;
    }
    eprintln!("fuzz: {cases} cases from {first}: {by_total:?}, {} slower than 10 s", slow.len());
    for (key, n) in &histogram {
        eprintln!("  {n:>7}  {key}");
    }
    for (case, seconds) in &slow {
        eprintln!("  slow: case {case} took {seconds:.1} s");
    }
    eprintln!("  {} cases also went through the racesim binary", cases.div_ceil(BINARY_EVERY));
    assert!(binary_problems.is_empty(), "{binary_problems:#?}");
    assert!(panics.is_empty(), "panics (reproduce with RACESIM_FUZZ_FIRST=N RACESIM_FUZZ_CASES=1): {panics:#?}");
}
