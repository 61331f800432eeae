//! `racesim migrate`: rewrite traces of an older trace format in the current one. A format-2
//! trace names its scenario file but does not carry it; migrating embeds that file's text, once
//! the trace has been replayed against it and reproduced, so the rewritten trace replays alone.

use crate::output::line;
use crate::{bad_input, exit};
use racesim_explore::Comparison;
use racesim_trace::{TRACE_FORMAT_VERSION, Trace};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct MigrateArgs {
    /// Traces to rewrite in place (each atomically). Traces already in the current format are
    /// left alone.
    #[arg(required = true)]
    traces: Vec<PathBuf>,
    /// The scenario the traces were recorded from (default: the path each trace records, as
    /// given or relative to the folder above the trace's folder).
    #[arg(long)]
    scenario: Option<PathBuf>,
}

pub fn migrate(args: MigrateArgs) -> u8 {
    let mut code = exit::CLEAN;
    for path in &args.traces {
        let mut trace = match Trace::load(path) {
            Ok(t) => t,
            Err(e) => {
                code = code.max(bad_input(e));
                continue;
            }
        };
        if !trace.is_old_format() {
            line(format!("{}: already trace format {TRACE_FORMAT_VERSION}", path.display()));
            continue;
        }
        let found = match racesim_check::scenario_of_trace(path, &trace, args.scenario.as_deref()) {
            Ok(found) => found,
            Err(e) => {
                code = code.max(bad_input(e));
                continue;
            }
        };
        // Embed only a scenario the trace reproduces against: a migrated trace must stay true.
        match racesim_explore::replay_trace(&found.scenario, &trace).map(|r| r.comparison) {
            Some(Comparison::Matches) => {}
            Some(Comparison::Diverged(reason)) => {
                crate::output::stderr_line(format!(
                    "racesim: error: {}: does not replay against {} ({reason}); re-record it instead",
                    path.display(),
                    found.scenario.path
                ));
                code = code.max(exit::DIVERGED);
                continue;
            }
            None => {
                code = code.max(bad_input(format!("{}: names an undefined policy '{}'", path.display(), trace.policy)));
                continue;
            }
        }
        let from = trace.format;
        trace.format = TRACE_FORMAT_VERSION;
        trace.scenario.text = Some(found.scenario.text.clone());
        trace.scenario.content_hash = found.scenario.content_hash.clone();
        if let Err(e) = trace.save(path) {
            crate::output::stderr_line(format!("racesim: error: cannot write {}: {e}", path.display()));
            code = code.max(exit::BAD_INPUT);
            continue;
        }
        line(format!(
            "{}: trace format {from} -> {TRACE_FORMAT_VERSION}, scenario {} embedded",
            path.display(),
            found.scenario.path
        ));
    }
    code
}
