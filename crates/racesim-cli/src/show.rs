//! `racesim show`: pictures of a trace: a self-contained interactive HTML swimlane timeline,
//! a static SVG, or the timeline data as JSON.

use crate::output::write_atomically;
use crate::{bad_input, exit};
use racesim_scenario::Scenario;
use racesim_trace::Trace;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct ShowArgs {
    /// A trace written by `racesim run` (or `racesim minimize`).
    trace: PathBuf,
    /// Write a self-contained HTML page (`-`: to stdout) (no network, no external assets): one lane per actor,
    /// lock holding as bars, the violating step highlighted, kernel state on hover or click.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write a static SVG swimlane picture, for a mailing-list post or a bug report (`-`: to
    /// stdout).
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Write the timeline (lanes, steps, lock bars, state per step) as JSON (`-`: to stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// The scenario to replay against (default: the scenario embedded in the trace).
    #[arg(long)]
    scenario: Option<PathBuf>,
}

/// Loads a trace and its scenario: `--scenario` when given, else the scenario the trace
/// embeds (else, for a format-2 trace, the file at its recorded path). A stale trace (its
/// scenario file now means something else) is said on stderr, with the command that
/// re-records it.
pub fn load(trace_path: &Path, scenario: Option<&Path>) -> Result<(Trace, Scenario), u8> {
    let trace = Trace::load(trace_path).map_err(bad_input)?;
    let found = racesim_check::scenario_of_trace(trace_path, &trace, scenario).map_err(bad_input)?;
    if let Some(stale) = &found.stale {
        crate::output::stderr_line(format!("racesim: warning: {}: {stale}", trace_path.display()));
    }
    Ok((trace, found.scenario))
}

/// Requires the trace to replay to its recorded log and verdict, as `racesim replay` does;
/// pictures and explanations of a trace that no longer replays would mislead.
pub fn require_replay(trace_path: &Path, scenario: &Scenario, trace: &Trace) -> Result<(), u8> {
    match racesim_explore::replay_trace(scenario, trace).map(|r| r.comparison) {
        Some(racesim_explore::Comparison::Matches) => Ok(()),
        Some(racesim_explore::Comparison::Diverged(reason)) => {
            crate::output::stderr_line(format!(
                "racesim: error: {}: the trace does not replay ({reason}); see racesim replay {}",
                trace_path.display(),
                trace_path.display()
            ));
            Err(exit::DIVERGED)
        }
        None => {
            Err(bad_input(format!("{}: names policy '{}', which is not defined", trace_path.display(), trace.policy)))
        }
    }
}

pub fn show(args: ShowArgs) -> u8 {
    if args.html.is_none() && args.svg.is_none() && args.json.is_none() {
        return bad_input("say what to write: --html FILE, --svg FILE and/or --json FILE");
    }
    let (trace, scenario) = match load(&args.trace, args.scenario.as_deref()) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    if let Err(code) = require_replay(&args.trace, &scenario, &trace) {
        return code;
    }
    let timeline = match racesim_view::assemble::timeline(&scenario, &trace) {
        Ok(t) => t,
        Err(e) => {
            crate::output::stderr_line(format!("racesim: error: {}: {e}", args.trace.display()));
            return exit::DIVERGED;
        }
    };
    let outputs = [
        (args.html.as_ref(), racesim_view::html::render as fn(&racesim_view::Timeline) -> String),
        (args.svg.as_ref(), racesim_view::svg::render),
        (args.json.as_ref(), |t: &racesim_view::Timeline| {
            serde_json::to_string_pretty(t).expect("a timeline serialises")
        }),
    ];
    if outputs.iter().filter(|(path, _)| path.is_some_and(|p| p.as_os_str() == "-")).count() > 1 {
        return bad_input("only one of --html, --svg and --json can go to stdout ('-')");
    }
    for (path, render) in outputs {
        let Some(path) = path else { continue };
        if path.as_os_str() == "-" {
            // `-` is stdout, as for every Unix tool: `racesim show T --svg - | ...`.
            crate::output::line(render(&timeline).trim_end_matches('\n'));
            continue;
        }
        if let Err(e) = write_atomically(path, &render(&timeline)) {
            crate::output::stderr_line(format!("racesim: error: cannot write {}: {e}", path.display()));
            return exit::BAD_INPUT;
        }
        crate::output::stderr_line(format!("wrote {}", path.display()));
    }
    exit::CLEAN
}

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// A trace written by `racesim run` or `racesim minimize`.
    trace: PathBuf,
    /// Fit the text to N columns (default: the terminal's width, 80 when stdout is not a
    /// terminal: `--width 72` for a mail).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(20..))]
    width: Option<u16>,
    #[arg(long, value_enum, default_value_t = crate::Format::Human)]
    format: crate::Format,
    /// The scenario to replay against (default: the scenario embedded in the trace).
    #[arg(long)]
    scenario: Option<PathBuf>,
}

/// `racesim explain`: the interleaving in CPU columns, with the race window and where the
/// outcome was sealed.
pub fn explain(args: ExplainArgs) -> u8 {
    let (trace, scenario) = match load(&args.trace, args.scenario.as_deref()) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    if let Err(code) = require_replay(&args.trace, &scenario, &trace) {
        return code;
    }
    let analysis = match racesim_view::explain::analyse(&scenario, &trace) {
        Ok(analysis) => analysis,
        Err(e) => {
            crate::output::stderr_line(format!("racesim: error: {}: {e}", args.trace.display()));
            return exit::DIVERGED;
        }
    };
    match args.format {
        crate::Format::Human => {
            let width = args.width.map(usize::from).unwrap_or_else(terminal_width);
            for line in racesim_view::explain::render(&analysis, width).lines() {
                crate::output::line(line);
            }
        }
        crate::Format::Json => {
            let mut fields = serde_json::to_value(&analysis).expect("an analysis serialises");
            if let serde_json::Value::Object(map) = &mut fields {
                map.insert("trace".into(), args.trace.display().to_string().into());
            }
            crate::output::record("explain", fields);
        }
    }
    // Success: the explanation is printed, whatever the trace's verdict.
    exit::CLEAN
}

/// The terminal's width when stdout is one, else the width of a mailing-list post.
fn terminal_width() -> usize {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return racesim_view::explain::DEFAULT_WIDTH;
    }
    terminal_size::terminal_size().map_or(racesim_view::explain::DEFAULT_WIDTH, |(w, _)| usize::from(w.0))
}
