//! `racesim minimize`: shrink a failing trace to one that breaks the same oracle with fewer
//! preemptions, steps, operations and actors; write it (and the reduced scenario, if
//! operations went) and report before and after.

use crate::output::write_atomically;
use crate::output::{line, record, shell_quote};
use crate::show::load;
use crate::{Format, bad_input, exit};
use racesim_explore::ExploreConfig;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct MinimizeArgs {
    /// A failing trace written by `racesim run`.
    trace: PathBuf,
    /// Where to write the minimized trace (default: racesim-out/<name>.min.trace.json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The scenario to replay against (default: the scenario embedded in the trace).
    #[arg(long)]
    scenario: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

fn default_out(trace: &Path) -> PathBuf {
    let name = trace.file_name().and_then(|n| n.to_str()).unwrap_or("trace.trace.json");
    let stem = name.strip_suffix(".trace.json").unwrap_or(name);
    crate::default_out().join(format!("{stem}.min.trace.json"))
}

pub fn minimize(args: MinimizeArgs) -> u8 {
    let (trace, scenario) = match load(&args.trace, args.scenario.as_deref()) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    if let Err(code) = crate::show::require_replay(&args.trace, &scenario, &trace) {
        return code;
    }
    let Some(policy) = scenario.policy(&trace.policy) else {
        return bad_input(format!(
            "trace {} names policy '{}', which {} does not define",
            args.trace.display(),
            trace.policy,
            scenario.path
        ));
    };
    let Some(outcome) = racesim_minimize::minimize(
        &scenario,
        &policy,
        &trace.decisions,
        trace.seed,
        &racesim_explore::lock_orders_of(&trace),
    ) else {
        return bad_input(format!(
            "{}: the trace's schedule breaks no oracle; there is nothing to minimize",
            args.trace.display()
        ));
    };
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.trace));
    let mut best_scenario = outcome.best.scenario.clone();
    if outcome.scenario_reduced {
        // The schedule belongs to a smaller scenario: write it beside the trace.
        // Beside the trace, unless the trace goes to a device or FIFO (`--out /dev/null`): then
        // into racesim-out, not into /dev.
        let special = std::fs::symlink_metadata(&out).is_ok_and(|m| !m.file_type().is_file());
        let beside = if special { default_out(&args.trace) } else { out.clone() };
        let name = beside.file_name().and_then(|n| n.to_str()).unwrap_or("min");
        let stem = name.strip_suffix(".trace.json").unwrap_or(name);
        let path = beside.with_file_name(format!("{stem}.scenario.toml"));
        let mut text =
            format!("# Reduced by racesim minimize from {} (trace {}).\n", scenario.path, args.trace.display());
        text.push_str(&best_scenario.to_toml());
        if let Err(e) = write_atomically(&path, &text) {
            crate::output::stderr_line(format!("racesim: error: cannot write {}: {e}", path.display()));
            return exit::BAD_INPUT;
        }
        best_scenario.path = path.display().to_string();
        best_scenario.content_hash = racesim_scenario::content_hash(text.as_bytes());
        best_scenario.text = text;
    }
    let strategy =
        racesim_explore::StrategyKind::parse(&trace.strategy).unwrap_or(racesim_explore::StrategyKind::Random);
    let config = ExploreConfig::new(strategy, trace.seed, 1);
    let finding = outcome.best.run.into_finding(trace.schedule).expect("the minimized schedule breaks the oracle");
    let mut minimized = racesim_explore::to_trace(&best_scenario, &trace.policy, &config, &finding);
    minimized.strategy = format!("minimized from {}", trace.strategy);
    if let Err(e) = minimized.save(&out) {
        crate::output::stderr_line(format!("racesim: error: cannot write {}: {e}", out.display()));
        return exit::BAD_INPUT;
    }
    let shown = shell_quote(&out.display().to_string());
    match args.format {
        Format::Human => {
            line(format!("{}: {} under {}", args.trace.display(), finding.violation.oracle, trace.policy));
            line(format!("  before: {}", outcome.before));
            line(format!("  after:  {}", outcome.after));
            if outcome.scenario_reduced {
                line(format!("  reduced scenario: {}", best_scenario.path));
            }
            line(format!("  {}", finding.violation.message));
            line(format!("  trace:   {shown}"));
            line(format!("  explain: racesim explain {shown}"));
        }
        Format::Json => {
            let size = |s: racesim_minimize::Size| serde_json::json!({"preemptions": s.preemptions, "steps": s.steps, "operations": s.operations, "actors": s.actors});
            record(
                "minimize",
                serde_json::json!({
                    "trace": args.trace.display().to_string(),
                    "oracle": finding.violation.oracle.name(),
                    "before": size(outcome.before),
                    "after": size(outcome.after),
                    "minimized": out.display().to_string(),
                    "scenario": best_scenario.path,
                    "scenario_reduced": outcome.scenario_reduced,
                }),
            );
        }
    }
    // Success: the minimized trace is written. (Exit 1 means "a violation was found" for run
    // and replay; a minimize that worked is not a failure to a script.)
    exit::CLEAN
}
