//! `racesim run`: explore one scenario under each chosen policy, write a trace for each
//! finding, and print verdicts.

use crate::output::{Progress, line, shell_quote, thousands};
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
    /// Policies to explore, comma-separated: legacy, mmaplock, range_lock, invalidate_lock, a
    /// variant the scenario defines, or `all`. Default: every policy the scenario's [expect]
    /// names (all four built-ins if it names none).
    #[arg(long, short)]
    policy: Option<String>,
    /// A policy file of your own (see policies/*.toml for the built-ins in the same form);
    /// repeatable. Without --policy, only the policies of these files are explored.
    #[arg(long, value_name = "FILE")]
    policy_file: Vec<PathBuf>,
    /// How to pick the next actor: `random`, `pct` (PCT of depth 3) or `pct:N`. Default: the
    /// scenario's `strategy`, else random.
    #[arg(long)]
    strategy: Option<String>,
    /// Seed of the exploration. The same seed gives the same schedules, findings and traces.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Schedules to explore per policy (stops earlier at the first violation); 1 to 10^12.
    #[arg(long, visible_alias = "iterations", short = 'n', default_value_t = SCHEDULES_DEFAULT,
          value_parser = clap::value_parser!(u64).range(1..=SCHEDULES_MAX))]
    schedules: u64,
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
    let names: Vec<String> = match wanted {
        Some("all") => BUILTIN_POLICIES
            .iter()
            .map(|s| s.to_string())
            .chain(scenario.variants.iter().map(|v| v.name.clone()))
            .collect(),
        Some(list) => {
            let names: Vec<String> = list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            if names.is_empty() {
                return Err(format!("--policy '{list}' names no policy"));
            }
            names
        }
        None if scenario.expect.is_empty() => BUILTIN_POLICIES.iter().map(|s| s.to_string()).collect(),
        None => scenario.expect.iter().map(|(p, _)| p.clone()).collect(),
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
    let scenario = Scenario::load(path).map_err(bad_input)?;
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
                "unknown strategy '{text}'; expected random, pct or pct:N (1 <= N <= {})",
                racesim_scenario::PCT_DEPTH_MAX
            )
        }),
    }
}

pub fn run(args: RunArgs) -> u8 {
    let mut scenario = match Scenario::load(&args.scenario) {
        Ok(s) => s,
        Err(e) => return bad_input(e),
    };
    // Policy files first, so that --policy can name them.
    let mut from_files: Vec<String> = Vec::new();
    for path in &args.policy_file {
        let policy = match racesim_scenario::policy_file::load_with_warnings(path) {
            Ok((p, warnings)) => {
                for w in warnings {
                    eprintln!("{w}");
                }
                p
            }
            Err(e) => return bad_input(e),
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
    let strategy = match parse_strategy(args.strategy.as_deref()) {
        Ok(requested) => scenario.strategy_or(requested),
        Err(e) => return bad_input(e),
    };
    let time_budget = args.time_budget.and_then(|b| b.0);
    // Discover an unwritable --out before exploring: finding it after the first policy would
    // lose every verdict.
    if let Err(e) = crate::output::check_out_folder(&args.out) {
        return bad_input(format!("--out {}: cannot write traces there: {e}", args.out.display()));
    }
    let config = ExploreConfig::new(strategy, args.seed, args.schedules);
    if args.format == Format::Human {
        line(format!("{}: {}  ({})", scenario.name, scenario.description, scenario.path));
    }
    let mut any_violation = false;
    for policy in &policies {
        let report = explore_with_clock(&scenario, policy, &config, time_budget, args.format == Format::Human);
        let trace_path = match &report.finding {
            Some(finding) => {
                let mut trace = racesim_explore::to_trace(&scenario, &policy.name, &config, finding);
                if from_files.contains(&policy.name) {
                    trace.policy_definition = Some(racesim_scenario::policy_file::to_toml(policy));
                }
                let name = trace_file_name(&scenario.name, &policy.name, &config, finding.schedule);
                let path = args.out.join(name);
                if let Err(e) = trace.save(&path) {
                    eprintln!("racesim: error: cannot write trace {}: {e}", path.display());
                    return exit::BAD_INPUT;
                }
                Some(path)
            }
            None => None,
        };
        any_violation |= report.finding.is_some();
        let expected = scenario.expectation(&policy.name);
        match args.format {
            Format::Human => print_human(&report, expected, trace_path.as_deref(), &config),
            Format::Json => print_json(&scenario, &report, expected, trace_path.as_deref(), &config),
        }
    }
    if any_violation { exit::VIOLATION } else { exit::CLEAN }
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
        let within = limit.is_none_or(|l| started.elapsed() < l);
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
        None => String::new(),
        Some(e) if e.accepts(found) => format!("  (expected {e})"),
        Some(e) => format!("  (expected {e}: MISMATCH)"),
    }
}

fn print_human(report: &RunReport, expected: Option<Expect>, trace: Option<&Path>, config: &ExploreConfig) {
    let schedules = thousands(report.progress.schedules);
    match &report.finding {
        Some(finding) => {
            let got = Some(finding.violation.oracle);
            line(format!(
                "  {:<32} VIOLATION {} in schedule {} of {} ({}, seed {}){}",
                report.policy,
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
            line(format!(
                "  {:<32} clean after {schedules} schedules, {} steps{cut}{undecided}{budget}{}",
                report.policy,
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
    let object = serde_json::json!({
        "scenario": scenario.name,
        "path": scenario.path,
        "policy": report.policy,
        "verdict": if finding.is_some() { "violation" } else { "clean" },
        "oracle": finding.map(|f| f.violation.oracle.name()),
        "message": finding.map(|f| f.violation.message.clone()),
        "expected": expected.map(|e| e.to_string()),
        "schedules": report.progress.schedules,
        "steps": report.progress.steps,
        "schedule": finding.map(|f| f.schedule),
        "strategy": config.strategy.label(),
        "seed": config.seed,
        "stopped_by_time_budget": report.stopped_by_budget,
        "undecided": report.undecided,
        "trace": trace_text,
        "replay": trace_text.as_ref().map(|t| format!("racesim replay {}", shell_quote(t))),
    });
    line(object.to_string());
}
