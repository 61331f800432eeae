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
pub mod mutants;

use racesim_explore::{Comparison, ExploreConfig, StrategyKind};
use racesim_scenario::{Expect, Scenario};
use racesim_trace::Trace;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// How cases explore.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Overrides every scenario's own strategy (`strategy = ...` in the file) when set.
    pub strategy: Option<StrategyKind>,
    pub seed: u64,
    /// Schedules per expectation case (the same default as `racesim run`) for sampling
    /// strategies.
    pub schedules: u64,
    /// Executions an exhaustive case may take before it is reported incomplete.
    pub executions_max: u64,
    /// Schedules the determinism case runs twice.
    pub determinism_schedules: u64,
    /// Set by the caller to stop the suite early (the CLI sets it on Ctrl-C): no case starts
    /// once it is set, a running one stops at its next schedule boundary, and [`run_cases`]
    /// returns only the cases that finished before it was set (a case cut short is no result).
    pub stop: Option<Arc<AtomicBool>>,
}

impl Settings {
    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst))
    }

    /// The explorer's budget callback: go on unless [`Settings::stop`] is set.
    fn budget(&self) -> Box<dyn FnMut(&racesim_explore::Progress) -> bool> {
        let stop = self.stop.clone();
        Box::new(move |_| stop.as_ref().is_none_or(|s| !s.load(Ordering::SeqCst)))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            strategy: None,
            seed: 1,
            schedules: 10_000,
            executions_max: 5_000_000,
            determinism_schedules: 50,
            stop: None,
        }
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
    /// A policy file found among the cases: it must load (a policy file that no longer parses
    /// would break every `--policy-file` run that names it).
    Policy {
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
    /// The policy, `determinism`, `replay`, `policy file` or `input`.
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
    /// For an expectation case: how the verdict was established, `sampled` or what the
    /// exhaustive search showed (`verified`, `verified within B preemptions`, `incomplete
    /// after N executions`).
    pub coverage: Option<String>,
    /// Wall-clock time the case took (for reports only: JUnit `time`, JSON `seconds`; no
    /// verdict depends on it).
    pub duration: std::time::Duration,
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

/// The folders `racesim check` looks in when given none: `scenarios/` and `traces/` of the
/// project root, the nearest of the current folder and its parents that holds a `scenarios/`
/// folder (so `check` works from any subdirectory of a project). Falls back to the current
/// folder's, which then are named as missing.
pub fn default_paths() -> Vec<PathBuf> {
    let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let root = here.ancestors().find(|dir| dir.join("scenarios").is_dir()).map(Path::to_path_buf);
    let relative = |name: &str| match &root {
        // Paths as short as they can be: relative to the current folder when it is the root.
        Some(root) if *root == here => PathBuf::from(name),
        Some(root) => root.join(name),
        None => PathBuf::from(name),
    };
    let mut paths = vec![relative("scenarios")];
    let traces = relative("traces");
    // A project without recorded traces is fine; a missing scenarios/ is worth saying.
    if traces.is_dir() || root.is_none() {
        paths.push(traces);
    }
    paths
}

fn is_trace(path: &Path) -> bool {
    path.to_string_lossy().ends_with(".trace.json")
}

fn is_scenario(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "toml")
}

/// What racesim reads: scenarios and policy files (`*.toml`) and traces (`*.trace.json`).
/// Inside a folder, everything else (a README, the JUnit report `check` wrote itself, notes,
/// hidden files) is not a case and is skipped; a file named on the command line is always
/// judged.
fn is_read_by_racesim(path: &Path) -> bool {
    is_trace(path) || is_scenario(path)
}

/// A policy file rather than a scenario: a TOML table with lock rows or a `base` policy and
/// no files or actors (policies/*.toml, or a user's own, as `--policy-file` reads them).
fn is_policy_file(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else { return false };
    let Ok(table) = text.parse::<toml::Table>() else { return false };
    (table.contains_key("lock") || table.contains_key("base"))
        && !table.contains_key("actor")
        && !table.contains_key("file")
}

/// TOML files of other tools that share a project with scenarios: never scenarios.
const OTHER_TOOLS_TOML: [&str; 8] = [
    "Cargo.toml",
    "rustfmt.toml",
    "clippy.toml",
    "rust-toolchain.toml",
    "deny.toml",
    "taplo.toml",
    "pyproject.toml",
    "config.toml",
];

/// Inside folders: hidden files and folders, build output (`target/`) and other tools' TOML
/// files live next to cases and are never cases.
fn is_ignored(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.starts_with('.')
        || (name == "target" && path.is_dir())
        || (OTHER_TOOLS_TOML.contains(&name.as_str()) && path.is_file())
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
            if is_ignored(&entry) {
                continue;
            }
            if entry.is_dir() {
                files_under(&entry, found, invalid);
            } else if is_read_by_racesim(&entry) {
                found.push(entry);
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
        } else if is_scenario(&file) && is_policy_file(&file) {
            cases.push(Case {
                id: format!("{shown} [policy file]"),
                file: shown,
                name: "policy file".into(),
                kind: CaseKind::Policy { path: file },
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
            invalid.push((file.clone(), "not a scenario or policy file (*.toml) or a trace (*.trace.json)".into()));
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
/// number of jobs. With [`Settings::stop`] set during the run, only the cases that finished
/// before it come back.
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
            if settings.stopped() {
                break;
            }
            let started = std::time::Instant::now();
            let mut result = run_case(case, settings);
            result.duration = started.elapsed();
            if settings.stopped() {
                // It may have been cut short: not a result.
                break;
            }
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
    // Every case, unless `settings.stop` ended the run early: then the ones that finished.
    results.into_inner().unwrap_or_else(|p| p.into_inner()).into_iter().flatten().collect()
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
        coverage: None,
        duration: std::time::Duration::ZERO,
    }
}

/// The strategy of an expectation case: the command line's, else for a clean expectation the
/// scenario's `verify`, else the scenario's own strategy.
pub fn case_strategy(scenario: &Scenario, expect: &Expect, settings: &Settings) -> StrategyKind {
    match (settings.strategy, scenario.verify) {
        (Some(strategy), _) => strategy,
        (None, Some(verify)) if expect.accepts(None) => verify,
        (None, _) => scenario.strategy_or(None),
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
        CaseKind::Policy { path } => match racesim_scenario::policy_file::load(path) {
            Ok(policy) => result(case, Status::Pass, format!("policy '{}' loads", policy.name), 0, None),
            Err(e) => result(case, Status::BadInput, e.to_string(), 0, None),
        },
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
    let mut outcome = check_expectation_with(case, scenario, &policy, policy_name, expect, settings);
    if outcome.coverage.is_none() {
        // A violation found (or not) by sampling, or by a search that stopped at it.
        let exhaustive = case_strategy(scenario, expect, settings).is_exhaustive();
        outcome.coverage = Some(if exhaustive { "exhaustive search" } else { "sampled" }.into());
    }
    outcome
}

fn check_expectation_with(
    case: &Case,
    scenario: &Scenario,
    policy: &racesim_kernel::Policy,
    policy_name: &str,
    expect: &Expect,
    settings: &Settings,
) -> CaseResult {
    let strategy = case_strategy(scenario, expect, settings);
    let schedules_max = if strategy.is_exhaustive() { settings.executions_max } else { settings.schedules };
    let config =
        ExploreConfig { window: scenario.window.clone(), ..ExploreConfig::new(strategy, settings.seed, schedules_max) };
    let report = racesim_explore::explore(scenario, policy, &config, settings.budget());
    let schedules = report.progress.schedules;
    let coverage = report.coverage();
    let with_coverage = |mut r: CaseResult| {
        r.coverage = coverage.as_ref().map(|c| c.to_string());
        r
    };
    if let Some(coverage) = &coverage
        && report.finding.is_none()
        && !matches!(
            coverage,
            racesim_explore::exhaustive::Coverage::Verified | racesim_explore::exhaustive::Coverage::VerifiedWithin(_)
        )
    {
        return with_coverage(result(
            case,
            Status::Fail,
            format!("expected {expect}, but the exhaustive search is {coverage}: nothing is verified"),
            schedules,
            None,
        ));
    }
    if let Some(coverage) = &coverage
        && report.finding.is_none()
        && expect.accepts(None)
    {
        // A verified clean covers every interleaving, those inside the window included; the
        // explored executions represent classes of equivalent ones, and a window defined by
        // the order of independent steps need not show in the representatives, so it is
        // reported, not required. But every step the window names runs in some execution of
        // a complete search if it runs in any interleaving: one that never ran shows a window
        // no interleaving reaches (a function the policy's kernel does not call).
        if let Some(window) = &scenario.window
            && report.window_hits == 0
            && report.window_parts != racesim_scenario::Window::ALL
        {
            let missing: Vec<String> = [
                (racesim_scenario::Window::OPENS, "opens", &window.opens),
                (racesim_scenario::Window::CLOSES, "closes", &window.closes),
                (racesim_scenario::Window::INSIDE, "inside", &window.inside),
            ]
            .into_iter()
            .filter(|(bit, _, _)| report.window_parts & bit == 0)
            .map(|(_, part, pattern)| format!("`{part}` ({})", describe_pattern(scenario, pattern)))
            .collect();
            return with_coverage(result(
                case,
                Status::Fail,
                format!(
                    "clean, {coverage}, but the [window] cannot be reached under this policy: no interleaving has {}",
                    missing.join(" or ")
                ),
                schedules,
                None,
            ));
        }
        let window = match (&scenario.window, report.window_hits) {
            (Some(_), 0) => "; window order not among the representatives".to_string(),
            (Some(_), hits) => format!("; window reached in {hits}"),
            (None, _) => String::new(),
        };
        return with_coverage(result(
            case,
            Status::Pass,
            format!("clean, {coverage} ({schedules} executions{window})"),
            schedules,
            None,
        ));
    }
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
        Some(window) if report.window_hits == 0 => {
            let problems = racesim_explore::window_problems(scenario, std::slice::from_ref(policy));
            let why = if problems.is_empty() { String::new() } else { format!("; {}", problems.join("; ")) };
            result(
                case,
                Status::Fail,
                format!("window never reached: \"{}\" (0 of {schedules} schedules){why}", window.description),
                schedules,
                None,
            )
        }
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
    let first = racesim_explore::explore(scenario, &policy, &config, settings.budget());
    let second = racesim_explore::explore(scenario, &policy, &config, settings.budget());
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

/// Where the scenario a trace names is: as recorded (relative to where racesim runs), or
/// relative to the folder above the trace's folder (a checkout's `traces/../scenarios/...`).
/// `None` when neither exists (a trace mailed on its own).
pub fn locate_scenario(trace_path: &Path, recorded: &str) -> Option<PathBuf> {
    let recorded = PathBuf::from(recorded);
    if recorded.is_file() {
        return Some(recorded);
    }
    let beside = trace_path.parent().and_then(|p| p.parent()).map(|root| root.join(&recorded));
    beside.filter(|p| p.is_file())
}

/// The scenario a trace replays against, and whether the trace is stale.
#[derive(Clone, Debug)]
pub struct TraceScenario {
    /// The scenario, with the trace's own policy definition adopted.
    pub scenario: Scenario,
    /// Why the trace is stale, with the command that re-records it; `None` if it is current
    /// (or its scenario file is not around to compare with).
    pub stale: Option<String>,
}

/// Finds the scenario of `trace`: `given` (`--scenario`) when set; else the scenario text the
/// trace embeds (so a trace replays alone, anywhere); else (a format-2 trace) the scenario
/// file at its recorded path. The trace is stale when the scenario file (given, or found at
/// the recorded path) means something else than what the trace was recorded with: judged on
/// the parsed scenarios, so comments and layout do not count.
pub fn scenario_of_trace(trace_path: &Path, trace: &Trace, given: Option<&Path>) -> Result<TraceScenario, String> {
    let on_disk = match given {
        Some(path) => Some(Scenario::load(path).map_err(|e| e.to_string())?),
        None => match locate_scenario(trace_path, &trace.scenario.path) {
            Some(path) => match Scenario::load(&path) {
                Ok(s) => Some(s),
                // A broken scenario file cannot be replayed against, but the embedded text can.
                Err(e) if trace.scenario.text.is_some() => {
                    return resolved_embedded(trace_path, trace, Some(e.to_string()));
                }
                Err(e) => return Err(format!("{e} (the scenario of trace {})", trace_path.display())),
            },
            None => None,
        },
    };
    let stale_of = |scenario: &Scenario| {
        racesim_explore::scenario_changed(scenario, trace).then(|| stale_message(trace_path, trace, &scenario.path))
    };
    if given.is_some() || trace.scenario.text.is_none() {
        match on_disk {
            Some(scenario) => {
                let stale = stale_of(&scenario);
                adopt(trace_path, trace, scenario, stale)
            }
            None => Err(format!(
                "{}: cannot read scenario (the trace is in format {}, which does not embed its scenario; \
                 give it with --scenario FILE, or run racesim migrate {} where the scenario is)",
                trace.scenario.path,
                trace.format,
                trace_path.display()
            )),
        }
    } else {
        let stale = on_disk.as_ref().and_then(stale_of);
        resolved_embedded(trace_path, trace, stale)
    }
}

fn resolved_embedded(trace_path: &Path, trace: &Trace, stale: Option<String>) -> Result<TraceScenario, String> {
    let text = trace.scenario.text.as_deref().unwrap_or_default();
    let scenario = Scenario::parse(text, &trace.scenario.path)
        .map_err(|e| format!("{e} (the scenario embedded in trace {})", trace_path.display()))?;
    adopt(trace_path, trace, scenario, stale)
}

fn adopt(
    trace_path: &Path,
    trace: &Trace,
    mut scenario: Scenario,
    stale: Option<String>,
) -> Result<TraceScenario, String> {
    racesim_explore::adopt_trace_policy(&mut scenario, trace).map_err(|e| format!("{}: {e}", trace_path.display()))?;
    Ok(TraceScenario { scenario, stale })
}

fn stale_message(trace_path: &Path, trace: &Trace, scenario_path: &str) -> String {
    format!(
        "{scenario_path} changed since this trace was recorded (the parsed scenario differs); \
         re-record it deliberately: {}",
        rerecord_command(trace_path, trace, scenario_path)
    )
}

/// The command that records `trace` again from `scenario_path`, into the trace's own folder
/// (and, for a minimized trace, minimizes the new one onto the old one's file).
pub fn rerecord_command(trace_path: &Path, trace: &Trace, scenario_path: &str) -> String {
    let folder = trace_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let folder = folder.display().to_string();
    let policy_file = if trace.policy_definition.is_some() { " --policy-file FILE-DEFINING-THE-POLICY" } else { "" };
    let (strategy, minimized) = match trace.strategy.strip_prefix("minimized from ") {
        Some(strategy) => (strategy, true),
        None => (trace.strategy.as_str(), false),
    };
    let run = format!(
        "racesim run {} --policy {}{policy_file} --strategy {} --seed {} --save-trace {}",
        quote(scenario_path),
        quote(&trace.policy),
        quote(strategy),
        trace.seed,
        quote(&folder)
    );
    if !minimized {
        return run;
    }
    // The run names its trace after the scenario, policy, seed and (unknown in advance) schedule.
    let recorded =
        format!("{}/{}.{}.seed{}.schedule*.trace.json", folder, trace.scenario.name, trace.policy, trace.seed);
    format!("{run} && racesim minimize {} --out {}", quote(&recorded), quote(&trace_path.display().to_string()))
}

/// Quotes a word for a shell command line when it needs it (a `*` stays a glob).
fn quote(text: &str) -> String {
    if text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-:+=,*".contains(c)) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

fn check_trace(case: &Case, path: &Path) -> CaseResult {
    let trace = match Trace::load(path) {
        Ok(t) => t,
        Err(e) => return result(case, Status::BadInput, e.to_string(), 0, None),
    };
    let TraceScenario { scenario, stale } = match scenario_of_trace(path, &trace, None) {
        Ok(found) => found,
        Err(e) => return result(case, Status::BadInput, e, 0, None),
    };
    if let Some(message) = stale {
        return result(case, Status::Stale, message, 1, None);
    }
    let Some(replay) = racesim_explore::replay_trace(&scenario, &trace) else {
        return result(
            case,
            Status::BadInput,
            format!("the trace names policy '{}', which {} does not define", trace.policy, scenario.path),
            0,
            None,
        );
    };
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

/// Every case found in `paths` as a test of the caller's own test harness (libtest-mimic):
/// a `[[test]]` target with `harness = false` whose `main` runs these trials becomes one test
/// per expectation, determinism check and trace, which `cargo test` and `cargo nextest` list,
/// filter, run in parallel, partition, retry and report like any other test. Relative paths
/// are found from the crate directory upwards, as for [`assert_scenario`].
///
/// ```no_run
/// // The `main` of tests/scenarios.rs, with `[[test]] name = "scenarios" harness = false`.
/// let args = libtest_mimic::Arguments::from_args();
/// let trials = racesim_check::trials(&["scenarios".into(), "traces".into()], &Default::default());
/// libtest_mimic::run(&args, trials).exit();
/// ```
pub fn trials(paths: &[PathBuf], settings: &Settings) -> Vec<libtest_mimic::Trial> {
    let mut trials = Vec::new();
    for given in paths {
        let resolved = resolve_scenario_path(given);
        // Test names use the path as given, not where it was found: the same on every machine,
        // so nextest's partitions and filters do not depend on the checkout's location.
        let (found, shown) = (resolved.display().to_string(), given.display().to_string());
        for case in discover(std::slice::from_ref(&resolved)) {
            let settings = settings.clone();
            let name = case.id.replacen(&found, &shown, 1);
            trials.push(libtest_mimic::Trial::test(name, move || {
                let result = run_case(&case, &settings);
                match result.status {
                    Status::Pass => Ok(()),
                    status => Err(format!("{}: {}", status.name(), result.message).into()),
                }
            }));
        }
    }
    trials
}

/// The checks of one scenario file that did not pass ([`check_scenario`]).
#[derive(Clone, Debug)]
pub struct ScenarioFailure {
    /// The scenario file, as resolved.
    pub path: PathBuf,
    /// Every check that ran, passed or not.
    pub results: Vec<CaseResult>,
}

impl ScenarioFailure {
    pub fn failures(&self) -> impl Iterator<Item = &CaseResult> {
        self.results.iter().filter(|r| r.status != Status::Pass)
    }
}

impl std::fmt::Display for ScenarioFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} of {} checks failed:", self.path.display(), self.failures().count(), self.results.len())?;
        for r in self.failures() {
            write!(f, "\n  {} {}: {}", r.status.name(), r.id, r.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioFailure {}

/// A relative scenario path as a crate's test means it: as given when it exists (relative to
/// the crate's directory, where `cargo test` runs), else relative to the nearest folder above
/// that has it (the workspace root, where `scenarios/` usually is).
pub fn resolve_scenario_path(path: &Path) -> PathBuf {
    if path.is_absolute() || path.exists() {
        return path.to_path_buf();
    }
    let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    here.ancestors().map(|dir| dir.join(path)).find(|p| p.exists()).unwrap_or_else(|| path.to_path_buf())
}

/// Runs every expectation of the scenario file at `path` (and its determinism check) with
/// `settings`; `Err` lists what failed. For a crate's own tests and tools.
pub fn check_scenario(path: impl AsRef<Path>, settings: &Settings) -> Result<Vec<CaseResult>, ScenarioFailure> {
    let path = resolve_scenario_path(path.as_ref());
    let cases = discover(std::slice::from_ref(&path));
    let results = run_cases(&cases, settings, 1, &|_| {});
    if results.iter().all(|r| r.status == Status::Pass) { Ok(results) } else { Err(ScenarioFailure { path, results }) }
}

/// Runs every expectation of the scenario file at `path` (and its determinism check), and
/// fails the test with a readable list of what failed. For a crate's own tests:
///
/// ```no_run
/// racesim_check::assert_scenario("scenarios/collapse_mmap.toml");
/// ```
///
/// A relative path is tried in the crate's directory, then in the folders above it.
pub fn assert_scenario(path: impl AsRef<Path>) {
    assert_scenario_with(path, &Settings::default());
}

/// [`assert_scenario`] with settings (schedules, seed, strategy).
pub fn assert_scenario_with(path: impl AsRef<Path>, settings: &Settings) {
    if let Err(failure) = check_scenario(path, settings) {
        let message = failure.to_string();
        eprintln!("{message}");
        // Unwinding without the panic hook: once shuttle has run in a process, its hook
        // prints "Task failed, serializing schedule" before any panic, which reads like a
        // crash of racesim rather than a failed expectation. The test still fails, with the
        // message as its payload (`#[should_panic(expected = ...)]` sees it).
        std::panic::resume_unwind(Box::new(message));
    }
}

/// A window pattern in the scenario's words: "punch in truncate_inode_pages_range (op 2)".
fn describe_pattern(scenario: &Scenario, pattern: &racesim_scenario::EventPattern) -> String {
    let actor = scenario
        .actors
        .get(pattern.actor as usize)
        .map_or_else(|| format!("actor {}", pattern.actor), |a| a.name.clone());
    let mut text = match &pattern.function {
        Some(function) => format!("{actor} in {function}"),
        None => format!("a step of {actor}"),
    };
    if let Some(op) = pattern.op {
        text.push_str(&format!(" (op {op})"));
    }
    text
}
