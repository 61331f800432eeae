//! `racesim run`: explore one scenario under each chosen policy, write a trace for each
//! finding, and print verdicts.

use crate::output::{Progress, line, paint, record, shell_quote, style, thousands};
use crate::{Format, bad_input, exit};
use racesim_explore::{ExploreConfig, RunReport, StrategyKind};
use racesim_kernel::Policy;
use racesim_kernel::policy::BUILTIN_POLICIES;
use racesim_oracles::Oracle;
use racesim_scenario::{Expect, Scenario};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Schedules explored per policy unless `--schedules` says otherwise.
pub const SCHEDULES_DEFAULT: u64 = 10_000;

#[derive(clap::Args)]
pub struct RunArgs {
    /// The scenario file (TOML; see docs/scenario-format.md).
    scenario: PathBuf,
    /// Policies to explore, comma-separated: legacy, mmaplock, range_lock, invalidate_lock,
    /// xfs-4.1, xfs-5.3 (or another name of the kernel library), a variant the scenario
    /// defines, or `all` (the first four and every variant; it may stand in a list:
    /// `all,xfs-4.1`). Default: every policy the scenario's [expect] names and every variant
    /// the scenario defines (the first four if [expect] names none).
    #[arg(long, short)]
    policy: Option<String>,
    /// A policy file of your own (see policies/*.toml for the built-ins in the same form);
    /// repeatable. Without --policy, only the policies of these files are explored.
    #[arg(long, value_name = "FILE")]
    policy_file: Vec<PathBuf>,
    /// How to pick the next actor: `random`, `pct` (PCT of depth 3), `pct:N`, or
    /// `exhaustive` (every distinct interleaving, by dynamic partial-order reduction: a clean
    /// result is then `verified`). Default: the scenario's `strategy`, else random.
    #[arg(long)]
    strategy: Option<String>,
    /// With `exhaustive` (implied): every interleaving with at most B preemptions instead
    /// (no reduction); a clean result is `verified within B preemptions`.
    #[arg(long, value_name = "B")]
    preemption_bound: Option<usize>,
    /// With `exhaustive`: explore only part K of N of the search tree (by decision prefixes);
    /// parts 1/N..N/N together cover the whole search, so a CI matrix can split one.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Seed of the exploration. The same seed gives the same schedules, findings and traces.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Schedules to explore per policy (stops earlier at the first violation); 1 to 10^12.
    /// Default: 10,000; unlimited for `exhaustive` (which stops when the search is complete).
    /// An exhaustive search cut by it is `incomplete`, never `verified`.
    #[arg(long, visible_alias = "iterations", short = 'n',
          value_parser = clap::value_parser!(u64).range(1..=SCHEDULES_MAX))]
    schedules: Option<u64>,
    /// Wall-clock limit per policy, in seconds (up to 10^9), or `inf` for none. Checked between
    /// schedules and every few thousand steps inside one: a schedule cut short gives no
    /// verdict. The verdict of a time-limited run depends on the machine's speed; use
    /// --schedules for reproducible runs.
    #[arg(long, value_name = "SECONDS", value_parser = parse_time_budget)]
    time_budget: Option<TimeBudget>,
    /// Folder for the traces of findings. `--save-trace traces/` promotes them into the
    /// regression suite that `racesim check` replays.
    #[arg(long, visible_alias = "save-trace", default_value = crate::OUT)]
    out: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Upper bound of `--schedules` (run, check, bench): far beyond any useful run, small enough
/// that counters and per-schedule seeds never overflow.
pub const SCHEDULES_MAX: u64 = 1_000_000_000_000;
/// Upper bound of `--time-budget`, in seconds (about 31 years); `inf` means no limit.
pub const TIME_BUDGET_MAX_SECONDS: f64 = 1e9;

/// A parsed `--time-budget`: `None` inside means no limit (`inf`).
#[derive(Clone, Copy, Debug)]
pub struct TimeBudget(pub Option<Duration>);

/// `--time-budget`: a positive number of seconds up to [`TIME_BUDGET_MAX_SECONDS`], or `inf`.
pub fn parse_time_budget(text: &str) -> Result<TimeBudget, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds; give a positive number (at most 1e9) or inf"))?;
    if seconds == f64::INFINITY {
        return Ok(TimeBudget(None));
    }
    if !(seconds > 0.0 && seconds <= TIME_BUDGET_MAX_SECONDS) {
        return Err(format!("{text} seconds: give a positive number of seconds (at most 1e9), or inf for no limit"));
    }
    Ok(TimeBudget(Some(Duration::from_secs_f64(seconds))))
}

/// Resolves the `--policy` argument against the scenario.
pub fn choose_policies(scenario: &Scenario, wanted: Option<&str>) -> Result<Vec<Policy>, String> {
    let all = || BUILTIN_POLICIES.iter().map(|s| s.to_string()).chain(scenario.variants.iter().map(|v| v.name.clone()));
    let names: Vec<String> = match wanted {
        // `all` may stand in a list (`all,xfs-4.1`): it expands in place, and a name given
        // twice is explored once.
        Some(list) => {
            let mut names: Vec<String> = Vec::new();
            for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let expanded: Vec<String> = if name == "all" { all().collect() } else { vec![name.to_string()] };
                for name in expanded {
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
            if names.is_empty() {
                return Err(format!("--policy '{list}' names no policy"));
            }
            names
        }
        None if scenario.expect.is_empty() => BUILTIN_POLICIES.iter().map(|s| s.to_string()).collect(),
        // Every policy [expect] names, then every variant it does not: a variant is defined
        // to be explored, and skipping it silently hid its verdict. Without an expectation it
        // is reported, not judged.
        None => scenario
            .expect
            .iter()
            .map(|(p, _)| p.clone())
            .chain(scenario.variants.iter().map(|v| v.name.clone()).filter(|v| scenario.expectation(v).is_none()))
            .collect(),
    };
    names
        .iter()
        .map(|name| {
            scenario.policy(name).ok_or_else(|| {
                let mut known: Vec<String> = BUILTIN_POLICIES.iter().map(|s| s.to_string()).collect();
                known.extend(scenario.variants.iter().map(|v| v.name.clone()));
                format!("unknown policy '{name}' for {}; expected one of {}, or all", scenario.path, known.join(", "))
            })
        })
        .collect()
}

/// Loads the scenario and resolves `--policy` and `--strategy` against it; on bad input,
/// prints the error and returns the exit code.
pub fn resolve(
    path: &Path,
    policy: Option<&str>,
    strategy: Option<&str>,
) -> Result<(Scenario, Vec<Policy>, StrategyKind), u8> {
    let scenario = Scenario::load(path).map_err(|e| crate::bad_file(&e))?;
    let policies = choose_policies(&scenario, policy).map_err(bad_input)?;
    let strategy = scenario.strategy_or(parse_strategy(strategy).map_err(bad_input)?);
    Ok((scenario, policies, strategy))
}

/// The `--strategy` argument: `None` when absent (the scenario's own strategy applies).
pub fn parse_strategy(text: Option<&str>) -> Result<Option<StrategyKind>, String> {
    match text {
        None => Ok(None),
        Some(text) => StrategyKind::parse(text).map(Some).ok_or_else(|| {
            format!(
                "unknown strategy '{text}'; expected random, pct, pct:N (1 <= N <= {}), exhaustive or exhaustive:B",
                racesim_scenario::PCT_DEPTH_MAX
            )
        }),
    }
}

pub fn run(args: RunArgs) -> u8 {
    crate::interrupt::install();
    let mut scenario = match Scenario::load(&args.scenario) {
        Ok(s) => s,
        Err(_) if looks_like_a_trace(&args.scenario) => {
            let shown = shell_quote(&args.scenario.display().to_string());
            return bad_input(format!(
                "{} is a trace, not a scenario: replay it with racesim replay {shown} (or explain, show, minimize it)",
                args.scenario.display()
            ));
        }
        Err(e) => return crate::bad_file(&e),
    };
    // Policy files first, so that --policy can name them.
    let mut from_files: Vec<String> = Vec::new();
    for path in &args.policy_file {
        let policy = match racesim_scenario::policy_file::load_with_warnings(path) {
            Ok((p, warnings)) => {
                for w in warnings {
                    crate::output::stderr_line(w.to_string());
                }
                p
            }
            Err(e) => return crate::bad_file(&e),
        };
        if scenario.policy(&policy.name).is_some() {
            return bad_input(format!("{}: policy name '{}' is already taken", path.display(), policy.name));
        }
        // Known to the scenario from now on; its traces carry the definition (below), so they
        // replay without the file.
        scenario.variants.push(policy.clone());
        from_files.push(policy.name.clone());
    }
    let policies = match (args.policy.as_deref(), from_files.is_empty()) {
        // Without --policy, a policy file means "explore this one".
        (None, false) => from_files.iter().filter_map(|name| scenario.policy(name)).collect(),
        (wanted, _) => match choose_policies(&scenario, wanted) {
            Ok(p) => p,
            Err(e) => return bad_input(e),
        },
    };
    let strategy = match parse_strategy(args.strategy.as_deref()).and_then(|s| with_bound(s, args.preemption_bound)) {
        Ok(requested) => scenario.strategy_or(requested),
        Err(e) => return bad_input(e),
    };
    let shard = match parse_search_shard(args.shard.as_deref(), strategy) {
        Ok(s) => s,
        Err(e) => return bad_input(e),
    };
    let schedules = args.schedules.unwrap_or(if strategy.is_exhaustive() { u64::MAX } else { SCHEDULES_DEFAULT });
    let time_budget = args.time_budget.and_then(|b| b.0);
    // Discover an unwritable --out before exploring: finding it after the first policy would
    // lose every verdict.
    if let Err(e) = crate::output::check_out_folder(&args.out) {
        return bad_input(format!("--out {}: cannot write traces there: {e}", args.out.display()));
    }
    // Counting window hits lets a clean verdict say whether it ever met the race.
    let config =
        ExploreConfig { window: scenario.window.clone(), shard, ..ExploreConfig::new(strategy, args.seed, schedules) };
    if scenario.window.is_none()
        && policies.iter().any(|p| matches!(scenario.expectation(&p.name), Some(Expect::Clean)))
    {
        crate::output::stderr_line(format!(
            "racesim: warning: {}: expects clean but declares no [window]: a clean verdict that never reached \
             the race proves nothing (racesim check fails it; see docs/scenario-format.md)",
            scenario.path
        ));
    }
    if args.format == Format::Human {
        line(format!("{}: {}  ({})", scenario.name, scenario.description, scenario.path));
    }
    let mut any_violation = false;
    let mut mismatches = 0;
    let mut policies_with_violation = 0;
    // Ctrl-C: policies explored to their end, and the one it cut short (with its report).
    let mut finished = 0;
    let mut cut: Option<(String, RunReport)> = None;
    for policy in &policies {
        // Started even after Ctrl-C: the explorer asks the budget before its first schedule
        // and stops there, so the policy shows as cut short after 0 schedules.
        let report = explore_with_clock(&scenario, policy, &config, time_budget, args.format == Format::Human);
        // Cut short by Ctrl-C: no verdict (a clean run that stopped early proves nothing), no
        // window warning; what it explored goes into the partial summary.
        if report.finding.is_none() && report.stopped_by_budget && crate::interrupt::requested() {
            cut = Some((policy.name.clone(), report));
            break;
        }
        finished += 1;
        let trace_path = match &report.finding {
            Some(finding) => {
                let mut trace = racesim_explore::to_trace(&scenario, &policy.name, &config, finding);
                if from_files.contains(&policy.name) {
                    trace.policy_definition = Some(racesim_scenario::policy_file::to_toml(policy));
                }
                let name = trace_file_name(&scenario.name, &policy.name, &config, finding.schedule);
                let path = args.out.join(name);
                if let Err(e) = trace.save(&path) {
                    crate::output::stderr_line(format!("racesim: error: cannot write trace {}: {e}", path.display()));
                    return exit::BAD_INPUT;
                }
                Some(path)
            }
            None => None,
        };
        if report.finding.is_none()
            && report.window_hits == 0
            && let Some(window) = &scenario.window
        {
            let problems = racesim_explore::window_problems(&scenario, std::slice::from_ref(policy));
            let why = if problems.is_empty() { String::new() } else { format!("; {}", problems.join("; ")) };
            crate::output::stderr_line(format!(
                "racesim: warning: {} under {}: clean, but the window was never reached: \"{}\"{why}",
                scenario.path, policy.name, window.description
            ));
        }
        any_violation |= report.finding.is_some();
        policies_with_violation += usize::from(report.finding.is_some());
        let expected = scenario.expectation(&policy.name);
        if expected.as_ref().is_some_and(|e| !e.accepts(report.finding.as_ref().map(|f| f.violation.oracle))) {
            mismatches += 1;
        }
        match args.format {
            Format::Human => print_human(&report, expected, trace_path.as_deref(), &config),
            Format::Json => print_json(&scenario, &report, expected, trace_path.as_deref(), &config),
        }
    }
    let interrupted = crate::interrupt::requested();
    let code = if interrupted {
        exit::INTERRUPTED
    } else if any_violation {
        exit::VIOLATION
    } else {
        exit::CLEAN
    };
    let not_explored: Vec<&str> =
        policies.iter().skip(finished + usize::from(cut.is_some())).map(|p| p.name.as_str()).collect();
    match args.format {
        Format::Human if interrupted => {
            if let Some((policy, report)) = &cut {
                line(format!("  {policy:<32} {}", interrupted_text(report)));
            }
            let rest = if not_explored.is_empty() {
                String::new()
            } else {
                format!("; not explored: {}", not_explored.join(", "))
            };
            line(format!(
                "{}: {finished} of {} policies explored to the end, {policies_with_violation} with a violation{rest}",
                paint(style::WARN, "interrupted (Ctrl-C)"),
                policies.len()
            ));
        }
        Format::Human => {}
        Format::Json => {
            if let Some((policy, report)) = &cut {
                record(
                    "run.policy",
                    serde_json::json!({
                        "scenario": scenario.name,
                        "path": scenario.path,
                        "policy": policy,
                        "verdict": "interrupted",
                        "oracle": null,
                        "message": interrupted_text(report),
                        "expected": scenario.expectation(policy).as_ref().map(expected_list),
                        "matches_expected": null,
                        "schedules": report.progress.schedules,
                        "steps": report.progress.steps,
                        "schedule": null,
                        "strategy": config.strategy.label(),
                        "seed": config.seed,
                        "stopped_by_time_budget": false,
                        "undecided": report.undecided,
                        "coverage": coverage_text(report),
                        "executions": report.exhaustive.as_ref().map(|s| s.executions - s.foreign),
                        "window_hits": scenario.window.as_ref().map(|_| report.window_hits),
                        "trace": null,
                        "replay": null,
                    }),
                );
            }
            record(
                "run.summary",
                serde_json::json!({
                    "scenario": scenario.name,
                    "policies": policies.len(),
                    "violations": policies_with_violation,
                    "mismatches": mismatches,
                    "interrupted": interrupted,
                    "finished": finished,
                    "not_explored": not_explored,
                    "exit_code": code,
                }),
            );
        }
    }
    code
}

/// What a policy cut short by Ctrl-C explored: never a verdict. An exhaustive search says
/// "incomplete after N executions" (never "verified").
pub fn interrupted_text(report: &RunReport) -> String {
    let interrupted = paint(style::WARN, "interrupted");
    match coverage_text(report) {
        Some(coverage) => format!(
            "{interrupted}: {coverage}, {} steps: no violation so far, not verified",
            thousands(report.progress.steps)
        ),
        None => format!(
            "{interrupted} after {} schedules, {} steps: no violation so far, no verdict",
            thousands(report.progress.schedules),
            thousands(report.progress.steps)
        ),
    }
}

/// An expectation as a JSON list: `["clean"]`, or the oracles any one of which is expected.
pub fn expected_list(expected: &Expect) -> Vec<&'static str> {
    match expected {
        Expect::Clean => vec!["clean"],
        Expect::Violation(any) => any.iter().map(|o| o.name()).collect(),
    }
}

/// A trace given where a scenario belongs: named `*.json`, or a JSON object whose first
/// kilobytes name a racesim version. Reads a bounded prefix only (`/dev/zero` is no trace).
fn looks_like_a_trace(path: &Path) -> bool {
    use std::io::Read;
    if path.to_string_lossy().ends_with(".json") {
        return true;
    }
    let mut prefix = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(4096).read_to_end(&mut prefix));
    let text = String::from_utf8_lossy(&prefix);
    read.is_ok() && text.trim_start().starts_with('{') && text.contains("\"racesim_version\"")
}

/// Applies `--preemption-bound` to the requested strategy: it implies the exhaustive strategy
/// (over the scenario's own) and goes with no other.
pub fn with_bound(requested: Option<StrategyKind>, bound: Option<usize>) -> Result<Option<StrategyKind>, String> {
    match (requested, bound) {
        (s, None) => Ok(s),
        (None | Some(StrategyKind::Exhaustive { .. }), Some(b)) => {
            Ok(Some(StrategyKind::Exhaustive { preemption_bound: Some(b) }))
        }
        (Some(s), Some(_)) => Err(format!("--preemption-bound goes with --strategy exhaustive, not {}", s.label())),
    }
}

/// Parses `--shard K/N` of an exhaustive search.
pub fn parse_search_shard(
    text: Option<&str>,
    strategy: StrategyKind,
) -> Result<Option<racesim_explore::exhaustive::Shard>, String> {
    let Some(text) = text else { return Ok(None) };
    if !strategy.is_exhaustive() {
        return Err("--shard splits an exhaustive search: use it with --strategy exhaustive".into());
    }
    let (k, n) =
        racesim_check::parse_shard(text).ok_or_else(|| format!("--shard wants K/N with 1 <= K <= N, got '{text}'"))?;
    Ok(Some(racesim_explore::exhaustive::Shard { index: k as u32 - 1, count: n as u32 }))
}

/// The coverage words of a clean exhaustive run, with its shard if any.
pub fn coverage_text(report: &RunReport) -> Option<String> {
    let coverage = report.coverage()?;
    let shard = report.exhaustive.as_ref().and_then(|s| s.shard);
    Some(match shard {
        Some(s) => format!("{coverage} (shard {}/{} of the search)", s.index + 1, s.count),
        None => coverage.to_string(),
    })
}

/// Explores with the wall clock in charge of the time budget and the progress indicator.
pub fn explore_with_clock(
    scenario: &Scenario,
    policy: &Policy,
    config: &ExploreConfig,
    time_budget: Option<Duration>,
    show_progress: bool,
) -> RunReport {
    let started = Instant::now();
    let limit = time_budget;
    let mut progress = Progress::new(policy.name.clone(), show_progress);
    let budget = Box::new(move |p: &racesim_explore::Progress| {
        progress.update(p.schedules, p.steps);
        let within = limit.is_none_or(|l| started.elapsed() < l) && !crate::interrupt::requested();
        if !within {
            progress.finish();
        }
        within
    });
    let report = racesim_explore::explore(scenario, policy, config, budget);
    if show_progress {
        Progress::new(String::new(), true).finish();
    }
    report
}

/// `SCENARIO.POLICY.seedS.scheduleN.trace.json`: one component, whatever the names hold.
/// Names are validated at load (`racesim_scenario::check_name`); this makes the file name
/// safe on its own too, as a second line of defence: every byte outside the name alphabet
/// becomes `_`, a leading dot or dash is prefixed, a long name is cut.
pub fn trace_file_name(scenario: &str, policy: &str, config: &ExploreConfig, schedule: u64) -> String {
    format!("{}.{}.seed{}.schedule{schedule}.trace.json", safe_component(scenario), safe_component(policy), config.seed)
}

/// A name made safe as part of one file name: no separator, NUL, `..` climbing or hiding.
pub fn safe_component(name: &str) -> String {
    let mut safe: String = name
        .chars()
        .take(racesim_scenario::NAME_BYTES_MAX)
        .map(|c| if c.is_ascii_alphanumeric() || "_-.+".contains(c) { c } else { '_' })
        .collect();
    if !safe.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        safe.insert(0, '_');
    }
    safe
}

fn expected_note(expected: Option<Expect>, found: Option<Oracle>) -> String {
    match expected {
        None => "  (no expectation in [expect])".into(),
        Some(e) if e.accepts(found) => format!("  (expected {e})"),
        Some(e) => format!("  (expected {e}: {})", paint(style::BAD, "MISMATCH")),
    }
}

fn print_human(report: &RunReport, expected: Option<Expect>, trace: Option<&Path>, config: &ExploreConfig) {
    let schedules = thousands(report.progress.schedules);
    match &report.finding {
        Some(finding) => {
            let got = Some(finding.violation.oracle);
            line(format!(
                "  {:<32} {} {} in schedule {} of {} ({}, seed {}){}",
                report.policy,
                paint(style::BAD, "VIOLATION"),
                finding.violation.oracle,
                finding.schedule,
                schedules,
                config.strategy.label(),
                config.seed,
                expected_note(expected, got)
            ));
            line(format!("      {}", finding.violation.message));
            if let Some(path) = trace {
                let shown = shell_quote(&path.display().to_string());
                line(format!("      trace:  {shown}"));
                line(format!("      replay: racesim replay {shown}"));
            }
        }
        None => {
            let cut = if report.step_limited > 0 {
                format!(", {} cut at the step bound", thousands(report.step_limited))
            } else {
                String::new()
            };
            let budget = if report.stopped_by_budget { " (time budget reached)" } else { "" };
            let undecided = if report.undecided > 0 {
                format!(
                    ", {} end state(s) undecided (the reference search reached its bound)",
                    thousands(report.undecided)
                )
            } else {
                String::new()
            };
            if let Some(coverage) = coverage_text(report) {
                let summary = report.exhaustive.clone().unwrap_or_default();
                line(format!(
                    "  {:<32} clean, {coverage}: {} executions ({} redundant), {} steps{cut}{undecided}{budget}{}",
                    report.policy,
                    thousands(summary.executions - summary.foreign),
                    thousands(summary.redundant),
                    thousands(report.progress.steps),
                    expected_note(expected, None)
                ));
                return;
            }
            line(format!(
                "  {:<32} {} after {schedules} schedules, {} steps{cut}{undecided}{budget}{}",
                report.policy,
                paint(style::GOOD, "clean"),
                thousands(report.progress.steps),
                expected_note(expected, None)
            ));
        }
    }
}

fn print_json(
    scenario: &Scenario,
    report: &RunReport,
    expected: Option<Expect>,
    trace: Option<&Path>,
    config: &ExploreConfig,
) {
    let finding = report.finding.as_ref();
    let trace_text = trace.map(|p| p.display().to_string());
    let found = finding.map(|f| f.violation.oracle);
    let object = serde_json::json!({
        "scenario": scenario.name,
        "path": scenario.path,
        "policy": report.policy,
        "verdict": if finding.is_some() { "violation" } else { "clean" },
        "oracle": finding.map(|f| f.violation.oracle.name()),
        "message": finding.map(|f| f.violation.message.clone()),
        "expected": expected.as_ref().map(expected_list),
        "matches_expected": expected.as_ref().map(|e| e.accepts(found)),
        "schedules": report.progress.schedules,
        "steps": report.progress.steps,
        "schedule": finding.map(|f| f.schedule),
        "strategy": config.strategy.label(),
        "seed": config.seed,
        "stopped_by_time_budget": report.stopped_by_budget,
        "undecided": report.undecided,
        "coverage": if finding.is_none() { coverage_text(report) } else { None },
        "executions": report.exhaustive.as_ref().map(|s| s.executions - s.foreign),
        "window_hits": scenario.window.as_ref().map(|_| report.window_hits),
        "trace": trace_text,
        "replay": trace_text.as_ref().map(|t| format!("racesim replay {}", shell_quote(t))),
    });
    record("run.policy", object);
}
