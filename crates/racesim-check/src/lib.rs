//! The regression suite behind `racesim check`, and the one-line assertion a crate's own
//! `cargo test` can use ([`assert_scenario`]).
//!
//! A suite is a list of [`Case`]s discovered from scenario files and traces:
//! - one *expectation* case per policy a scenario states a verdict for: explore, compare the
//!   verdict; a clean verdict also needs the scenario's racy window to have been reached;
//! - one *determinism* case per scenario: its first schedules run twice must log the same;
//! - one *replay* case per trace: it must reproduce its verdict and event log.
//!
//! Cases are sorted by id, so sharding (`index % shards`) and any number of worker threads give
//! the same results as one thread. This crate owns discovery, sharding, running and judging;
//! printing and files belong to the CLI ([`junit`] renders a report to a string).

pub mod junit;

use racesim_explore::{Comparison, ExploreConfig, StrategyKind};
use racesim_scenario::{Expect, Scenario};
use racesim_trace::Trace;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// How cases explore.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Overrides every scenario's own strategy (`strategy = ...` in the file) when set.
    pub strategy: Option<StrategyKind>,
    pub seed: u64,
    /// Schedules per expectation case (the same default as `racesim run`).
    pub schedules: u64,
    /// Schedules the determinism case runs twice.
    pub determinism_schedules: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { strategy: None, seed: 1, schedules: 10_000, determinism_schedules: 50 }
    }
}

#[derive(Clone, Debug)]
pub enum CaseKind {
    Expectation {
        scenario: Arc<Scenario>,
        policy: String,
        expect: Expect,
    },
    Determinism {
        scenario: Arc<Scenario>,
    },
    Replay {
        path: PathBuf,
    },
    /// A file that could not become a case: reported as bad input, the rest still run.
    Invalid {
        path: PathBuf,
        error: String,
    },
}

#[derive(Clone, Debug)]
pub struct Case {
    /// `<file> [<policy>|determinism|replay]`; cases are ordered by it.
    pub id: String,
    /// The file the case comes from.
    pub file: String,
    /// The policy, `determinism`, `replay` or `input`.
    pub name: String,
    pub kind: CaseKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Pass,
    /// An expectation does not hold, a window was never reached, or a trace diverged.
    Fail,
    /// A trace whose scenario changed since it was recorded: re-record it deliberately.
    Stale,
    BadInput,
    /// The same schedules logged differently on two runs: a racesim bug.
    Nondeterministic,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::Stale => "stale",
            Status::BadInput => "bad input",
            Status::Nondeterministic => "NONDETERMINISTIC",
        }
    }
}

#[derive(Clone, Debug)]
pub struct CaseResult {
    pub id: String,
    pub file: String,
    pub name: String,
    pub status: Status,
    /// What was checked and what came out; for failures, why.
    pub message: String,
    pub schedules: u64,
    /// A trace of the unexpected finding, to be written by the caller.
    pub trace: Option<Trace>,
}

/// Exit codes of `racesim check`, by the most severe status present.
pub mod exit {
    pub const ALL_PASS: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const BAD_INPUT: u8 = 2;
    pub const NONDETERMINISTIC: u8 = 4;
    pub const STALE: u8 = 5;
}

pub fn exit_code(results: &[CaseResult]) -> u8 {
    let has = |s: Status| results.iter().any(|r| r.status == s);
    if has(Status::Nondeterministic) {
        exit::NONDETERMINISTIC
    } else if has(Status::Fail) {
        exit::FAILED
    } else if has(Status::BadInput) {
        exit::BAD_INPUT
    } else if has(Status::Stale) {
        exit::STALE
    } else {
        exit::ALL_PASS
    }
}

/// The folders `racesim check` looks in when given none.
pub fn default_paths() -> Vec<PathBuf> {
    vec![PathBuf::from("scenarios"), PathBuf::from("traces")]
}

fn is_trace(path: &Path) -> bool {
    path.to_string_lossy().ends_with(".trace.json")
}

fn is_scenario(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "toml")
}

/// Documentation and hidden files live next to cases and are not cases.
fn is_ignored(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.starts_with('.') || name.ends_with(".md")
}

fn files_under(path: &Path, found: &mut Vec<PathBuf>, invalid: &mut Vec<(PathBuf, String)>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                invalid.push((path.to_path_buf(), format!("cannot read folder: {e}")));
                return;
            }
        };
        entries.sort();
        for entry in entries {
            if !is_ignored(&entry) {
                files_under(&entry, found, invalid);
            }
        }
    } else if path.exists() {
        found.push(path.to_path_buf());
    } else {
        invalid.push((path.to_path_buf(), "no such file or folder".into()));
    }
}

/// Finds the cases in `paths` (files or folders, searched recursively), sorted by id.
pub fn discover(paths: &[PathBuf]) -> Vec<Case> {
    let mut files = Vec::new();
    let mut invalid = Vec::new();
    for path in paths {
        files_under(path, &mut files, &mut invalid);
    }
    let mut cases = Vec::new();
    for file in files {
        let shown = file.display().to_string();
        if is_trace(&file) {
            cases.push(Case {
                id: format!("{shown} [replay]"),
                file: shown,
                name: "replay".into(),
                kind: CaseKind::Replay { path: file },
            });
        } else if is_scenario(&file) {
            match Scenario::load(&file) {
                Ok(scenario) => {
                    let scenario = Arc::new(scenario);
                    for (policy, expect) in &scenario.expect {
                        cases.push(Case {
                            id: format!("{shown} [{policy}]"),
                            file: shown.clone(),
                            name: policy.clone(),
                            kind: CaseKind::Expectation {
                                scenario: scenario.clone(),
                                policy: policy.clone(),
                                expect: expect.clone(),
                            },
                        });
                    }
                    if scenario.expect.is_empty() {
                        invalid.push((file.clone(), "states no [expect]ation, so there is nothing to check".into()));
                    }
                    cases.push(Case {
                        id: format!("{shown} [determinism]"),
                        file: shown,
                        name: "determinism".into(),
                        kind: CaseKind::Determinism { scenario },
                    });
                }
                Err(error) => invalid.push((file.clone(), error.to_string())),
            }
        } else {
            invalid.push((file.clone(), "not a scenario (*.toml) or a trace (*.trace.json)".into()));
        }
    }
    for (path, error) in invalid {
        let shown = path.display().to_string();
        cases.push(Case {
            id: format!("{shown} [input]"),
            file: shown,
            name: "input".into(),
            kind: CaseKind::Invalid { path, error },
        });
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    cases
}

/// Parses `K/N` (1 <= K <= N).
pub fn parse_shard(text: &str) -> Option<(usize, usize)> {
    let (k, n) = text.split_once('/')?;
    let (k, n): (usize, usize) = (k.trim().parse().ok()?, n.trim().parse().ok()?);
    (n >= 1 && (1..=n).contains(&k)).then_some((k, n))
}

/// The cases of shard `k` of `n`: every `n`-th case of the sorted list, starting at `k - 1`.
/// Shards 1..=n together hold every case exactly once, whatever the machine.
pub fn select_shard(cases: Vec<Case>, shard: Option<(usize, usize)>) -> Vec<Case> {
    match shard {
        None => cases,
        Some((k, n)) => cases.into_iter().enumerate().filter(|(i, _)| i % n == k - 1).map(|(_, c)| c).collect(),
    }
}

/// What the progress callback hears after each case.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub schedules: u64,
}

/// Runs `cases` on `jobs` worker threads; results come back in case order, identical for any
/// number of jobs.
pub fn run_cases(
    cases: &[Case],
    settings: &Settings,
    jobs: usize,
    progress: &(dyn Fn(Progress) + Sync),
) -> Vec<CaseResult> {
    let results: Mutex<Vec<Option<CaseResult>>> = Mutex::new(vec![None; cases.len()]);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let schedules = Mutex::new(0u64);
    let worker = || {
        loop {
            let index = next.fetch_add(1, Ordering::SeqCst);
            let Some(case) = cases.get(index) else { break };
            let result = run_case(case, settings);
            let total_schedules = {
                let mut s = schedules.lock().unwrap_or_else(|p| p.into_inner());
                *s += result.schedules;
                *s
            };
            results.lock().unwrap_or_else(|p| p.into_inner())[index] = Some(result);
            let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
            progress(Progress { done: finished, total: cases.len(), schedules: total_schedules });
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(worker);
        }
    });
    results.into_inner().unwrap_or_else(|p| p.into_inner()).into_iter().map(|r| r.expect("every case ran")).collect()
}

fn result(case: &Case, status: Status, message: String, schedules: u64, trace: Option<Trace>) -> CaseResult {
    CaseResult {
        id: case.id.clone(),
        file: case.file.clone(),
        name: case.name.clone(),
        status,
        message,
        schedules,
        trace,
    }
}

/// Runs one case.
pub fn run_case(case: &Case, settings: &Settings) -> CaseResult {
    match &case.kind {
        CaseKind::Invalid { error, path } => {
            result(case, Status::BadInput, format!("{}: {error}", path.display()), 0, None)
        }
        CaseKind::Expectation { scenario, policy, expect } => {
            check_expectation(case, scenario, policy, expect, settings)
        }
        CaseKind::Determinism { scenario } => check_determinism(case, scenario, settings),
        CaseKind::Replay { path } => check_trace(case, path),
    }
}

fn check_expectation(
    case: &Case,
    scenario: &Scenario,
    policy_name: &str,
    expect: &Expect,
    settings: &Settings,
) -> CaseResult {
    let Some(policy) = scenario.policy(policy_name) else {
        return result(case, Status::BadInput, format!("unknown policy '{policy_name}'"), 0, None);
    };
    let strategy = scenario.strategy_or(settings.strategy);
    let config = ExploreConfig {
        window: scenario.window.clone(),
        ..ExploreConfig::new(strategy, settings.seed, settings.schedules)
    };
    let report = racesim_explore::explore(scenario, &policy, &config, Box::new(|_| true));
    let schedules = report.progress.schedules;
    let found = report.finding.as_ref().map(|f| f.violation.oracle);
    if !expect.accepts(found) {
        return match &report.finding {
            Some(finding) => {
                let trace = racesim_explore::to_trace(scenario, policy_name, &config, finding);
                let message = format!(
                    "expected {expect}, found {} in schedule {} ({}, seed {}): {}",
                    finding.violation.oracle,
                    finding.schedule,
                    strategy.label(),
                    settings.seed,
                    finding.violation.message
                );
                result(case, Status::Fail, message, schedules, Some(trace))
            }
            None => result(
                case,
                Status::Fail,
                format!(
                    "expected {expect}, found nothing in {schedules} schedules ({}, seed {})",
                    strategy.label(),
                    settings.seed
                ),
                schedules,
                None,
            ),
        };
    }
    if found.is_some() {
        return result(case, Status::Pass, format!("{expect} found in schedule {}", schedules - 1), schedules, None);
    }
    // Clean, as expected: but did exploration reach the racy window at all?
    match &scenario.window {
        None => result(
            case,
            Status::Fail,
            "expects clean but declares no [window]: a clean verdict that never reached the race proves nothing".into(),
            schedules,
            None,
        ),
        Some(window) if report.window_hits == 0 => result(
            case,
            Status::Fail,
            format!("window never reached: \"{}\" (0 of {schedules} schedules)", window.description),
            schedules,
            None,
        ),
        Some(_) => {
            // Undecided end states are neither clean nor violating: say how many there were.
            let undecided = if report.undecided > 0 {
                format!("; {} end state(s) undecided (reference search bound)", report.undecided)
            } else {
                String::new()
            };
            result(
                case,
                Status::Pass,
                format!("clean in {schedules} schedules; window reached in {}{undecided}", report.window_hits),
                schedules,
                None,
            )
        }
    }
}

fn check_determinism(case: &Case, scenario: &Scenario, settings: &Settings) -> CaseResult {
    let policy_name = scenario.expect.first().map(|(p, _)| p.clone()).unwrap_or_else(|| "legacy".into());
    let Some(policy) = scenario.policy(&policy_name) else {
        return result(case, Status::BadInput, format!("unknown policy '{policy_name}'"), 0, None);
    };
    let config = ExploreConfig {
        stop_at_first_finding: false,
        digest_logs: true,
        ..ExploreConfig::new(scenario.strategy_or(settings.strategy), settings.seed, settings.determinism_schedules)
    };
    let first = racesim_explore::explore(scenario, &policy, &config, Box::new(|_| true));
    let second = racesim_explore::explore(scenario, &policy, &config, Box::new(|_| true));
    let schedules = first.progress.schedules + second.progress.schedules;
    if first.log_digest != second.log_digest || first.findings != second.findings {
        return result(
            case,
            Status::Nondeterministic,
            format!(
                "the first {} schedules under {policy_name} logged differently on two runs with seed {}: racesim is not deterministic here",
                settings.determinism_schedules, settings.seed
            ),
            schedules,
            None,
        );
    }
    result(
        case,
        Status::Pass,
        format!("{} schedules under {policy_name} logged identically twice", settings.determinism_schedules),
        schedules,
        None,
    )
}

/// Where the scenario a trace names is: as recorded (relative to where racesim ran), or
/// relative to the folder above the trace's folder (a checkout's `traces/../scenarios/...`).
fn locate_scenario(trace_path: &Path, recorded: &str) -> PathBuf {
    let recorded = PathBuf::from(recorded);
    if recorded.exists() {
        return recorded;
    }
    let beside = trace_path.parent().and_then(|p| p.parent()).map(|root| root.join(&recorded));
    beside.filter(|p| p.exists()).unwrap_or(recorded)
}

fn check_trace(case: &Case, path: &Path) -> CaseResult {
    let trace = match Trace::load(path) {
        Ok(t) => t,
        Err(e) => return result(case, Status::BadInput, e.to_string(), 0, None),
    };
    let scenario_path = locate_scenario(path, &trace.scenario.path);
    let scenario = match Scenario::load(&scenario_path) {
        Ok(s) => s,
        Err(e) => return result(case, Status::BadInput, format!("{e} (the scenario of this trace)"), 0, None),
    };
    let Some(replay) = racesim_explore::replay_trace(&scenario, &trace) else {
        return result(
            case,
            Status::BadInput,
            format!("the trace names policy '{}', which {} does not define", trace.policy, scenario.path),
            0,
            None,
        );
    };
    if replay.scenario_changed {
        return result(
            case,
            Status::Stale,
            format!(
                "{} changed since this trace was recorded; replay it by hand, then re-record it deliberately (racesim run --save-trace traces/)",
                scenario.path
            ),
            1,
            None,
        );
    }
    match replay.comparison {
        Comparison::Matches => result(
            case,
            Status::Pass,
            format!("reproduces {} and its {} events", trace.verdict.oracle, trace.events.len()),
            1,
            None,
        ),
        Comparison::Diverged(reason) => result(case, Status::Fail, format!("replay diverged: {reason}"), 1, None),
    }
}

/// Runs every expectation of the scenario file at `path` (and its determinism check), and
/// panics with a readable list of what failed. For a crate's own tests:
///
/// ```no_run
/// racesim_check::assert_scenario("scenarios/collapse_mmap.toml");
/// ```
#[track_caller]
pub fn assert_scenario(path: impl AsRef<Path>) {
    let path = path.as_ref();
    let cases = discover(&[path.to_path_buf()]);
    let results = run_cases(&cases, &Settings::default(), 1, &|_| {});
    let failures: Vec<String> = results
        .iter()
        .filter(|r| r.status != Status::Pass)
        .map(|r| format!("  {} {}: {}", r.status.name(), r.id, r.message))
        .collect();
    assert!(
        failures.is_empty(),
        "{}: {} of {} checks failed:\n{}",
        path.display(),
        failures.len(),
        results.len(),
        failures.join("\n")
    );
}
