//! `racesim replay`: re-execute a trace's decisions, print the interleaving one line per
//! step, mark where the oracle fired, and check the replay against the recorded log.

use crate::output::{line, record};
use crate::{Format, bad_input, exit};
use racesim_explore::{Comparison, TraceReplay};
use racesim_trace::{Trace, TraceEvent};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// A trace written by `racesim run`.
    trace: PathBuf,
    /// The scenario to replay against (default: the scenario embedded in the trace).
    #[arg(long)]
    scenario: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub fn replay(args: ReplayArgs) -> u8 {
    let trace = match Trace::load(&args.trace) {
        Ok(t) => t,
        Err(e) => return bad_input(e),
    };
    let found = match racesim_check::scenario_of_trace(&args.trace, &trace, args.scenario.as_deref()) {
        Ok(found) => found,
        Err(e) => return bad_input(e),
    };
    let scenario = found.scenario;
    let stale = found.stale;
    let Some(TraceReplay { events, verdict, comparison, .. }) = racesim_explore::replay_trace(&scenario, &trace) else {
        return bad_input(format!(
            "trace {} names policy '{}', which {} does not define",
            args.trace.display(),
            trace.policy,
            scenario.path
        ));
    };
    match args.format {
        Format::Human => print_human(&args, &trace, &events, &verdict, &comparison, &stale),
        Format::Json => {
            let (matches, reason) = match &comparison {
                Comparison::Matches => (true, None),
                Comparison::Diverged(r) => (false, Some(r.clone())),
            };
            let object = serde_json::json!({
                "trace": args.trace.display().to_string(),
                "scenario": scenario.name,
                "policy": trace.policy,
                "oracle": verdict.oracle,
                "event": verdict.event,
                "message": verdict.message,
                "matches": matches,
                "diverged": reason,
                "scenario_changed": stale.is_some(),
                "stale": stale,
                "events": events.iter().map(|e| serde_json::json!({"actor": e.actor, "function": e.function, "change": e.change})).collect::<Vec<_>>(),
            });
            record("replay", object);
        }
    }
    match comparison {
        Comparison::Diverged(_) => exit::DIVERGED,
        Comparison::Matches if verdict.oracle == "clean" => exit::CLEAN,
        Comparison::Matches => exit::VIOLATION,
    }
}

fn print_human(
    args: &ReplayArgs,
    trace: &Trace,
    events: &[TraceEvent],
    verdict: &racesim_trace::Verdict,
    comparison: &Comparison,
    stale: &Option<String>,
) {
    line(format!(
        "{}: scenario {} under {}, {} seed {}, schedule {} ({} decisions)",
        args.trace.display(),
        trace.scenario.name,
        trace.policy,
        trace.strategy,
        trace.seed,
        trace.schedule,
        trace.decisions.len()
    ));
    let actor_width = events.iter().map(|e| e.actor.len()).max().unwrap_or(5).max(5);
    let function_width = events.iter().map(|e| e.function.len()).max().unwrap_or(8).clamp(8, 34);
    line(format!("  step  {:<actor_width$}  {:<function_width$}  what changed", "actor", "function"));
    for (i, event) in events.iter().enumerate() {
        let mark = if verdict.event == Some(i) {
            crate::output::paint(crate::output::style::MARK, ">>")
        } else {
            "  ".to_string()
        };
        line(format!(
            "{mark}{i:>4}  {:<actor_width$}  {:<function_width$}  {}",
            event.actor, event.function, event.change
        ));
    }
    match verdict.event {
        Some(at) => line(format!("verdict: {} at step {at}: {}", verdict.oracle, verdict.message)),
        None => line("verdict: clean"),
    }
    if let Some(stale) = stale {
        line(format!("note: {stale}"));
    }
    match comparison {
        Comparison::Matches => line(format!("replay matches the recorded trace ({} events)", trace.events.len())),
        Comparison::Diverged(reason) => line(format!("replay DIVERGED from the recorded trace: {reason}")),
    }
}
