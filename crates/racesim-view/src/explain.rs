//! The interleaving explained in the layout kernel developers know from lockdep reports and
//! mailing-list posts: one column per actor (CPU0, CPU1, ...), one row per step, each row the
//! kernel function and what it changed (locks taken and released, page cache, PTEs, block map,
//! `i_size`). The oracle's step is marked. A closing paragraph names the race window (the
//! scenario's declared `[window]`, as it occurred) and the step after which the outcome was
//! sealed: from there, every continuation breaks the same oracle.

use racesim_explore::strategy::{PrefixThenRandom, Replay};
use racesim_kernel::event::{Names, SYNC_ACTOR};
use racesim_kernel::{Event, Policy};
use racesim_scenario::Scenario;
use racesim_trace::Trace;

/// Width of one actor's column, in characters.
const COLUMN_WIDTH: usize = 46;
/// Continuations tried from a prefix to call the outcome sealed.
pub const SEALING_CONTINUATIONS: u64 = 200;
/// Lines listing other actors' steps inside the window, at most.
const WINDOW_LINES_MAX: usize = 16;

/// Where the outcome was decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealing {
    /// Decisions of the schedule that had to be followed; 0 means every schedule fails.
    pub decisions_needed: usize,
    /// The step the last needed decision scheduled (None when none was needed).
    pub step: Option<usize>,
}

/// The smallest prefix of `decisions` after which every one of [`SEALING_CONTINUATIONS`]
/// random continuations breaks an oracle (searched by bisection; seeded, so deterministic).
pub fn sealing(scenario: &Scenario, policy: &Policy, decisions: &[u32], positions: &[usize], seed: u64) -> Sealing {
    let sealed = |prefix: usize| {
        let strategy = PrefixThenRandom::new(decisions[..prefix].to_vec(), seed);
        let report = racesim_explore::explore_with(scenario, policy, Box::new(strategy), SEALING_CONTINUATIONS, false);
        report.findings == report.progress.schedules
    };
    let (mut low, mut high) = (0, decisions.len());
    if sealed(0) {
        return Sealing { decisions_needed: 0, step: None };
    }
    // Invariant: sealed(high), !sealed(low).
    while high - low > 1 {
        let middle = (low + high) / 2;
        if sealed(middle) { high = middle } else { low = middle }
    }
    Sealing { decisions_needed: high, step: positions.get(high - 1).copied() }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let current = lines.last_mut().expect("starts with one line");
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(String::new());
        }
        let current = lines.last_mut().expect("a line");
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines
}

fn describe(event: &Event, names: &dyn Names) -> String {
    format!("{}: {}", event.function, event.change.describe(names))
}

/// Explains `trace` (replayed against `scenario`) as text.
pub fn explain(scenario: &Scenario, trace: &Trace) -> Result<String, String> {
    let policy = scenario
        .policy(&trace.policy)
        .ok_or_else(|| format!("the trace names policy '{}', which {} does not define", trace.policy, scenario.path))?;
    let replayer = Replay::new(trace.decisions.clone());
    let orders = racesim_explore::lock_orders_of(trace);
    let run = racesim_explore::run_one_seeded(scenario, &policy, Box::new(replayer), false, orders);
    let rendered = racesim_explore::render_events(scenario, &run.events);
    if rendered != trace.events {
        return Err("the trace no longer replays to its recorded event log; re-record it".into());
    }
    let names = scenario.names();
    let mut lanes: Vec<String> = scenario.actors.iter().map(|a| a.name.clone()).collect();
    let has_sync = run.events.iter().any(|e| e.actor == SYNC_ACTOR);
    if has_sync {
        lanes.push("sync".into());
    }
    let lane_of = |actor: u8| if actor == SYNC_ACTOR { lanes.len() - 1 } else { actor as usize };
    let mut out = String::new();
    let verdict_step = run.violation.as_ref().map(|v| v.event);
    match &run.violation {
        Some(v) => out.push_str(&format!(
            "{} under {}: {} at step {}\n  {}\n\n",
            scenario.name, trace.policy, v.oracle, v.event, v.message
        )),
        None => out.push_str(&format!("{} under {}: clean\n\n", scenario.name, trace.policy)),
    }
    // Header: CPU columns.
    let mut header = format!("{:>6}  ", "step");
    let mut rule = format!("{:>6}  ", "");
    for (i, lane) in lanes.iter().enumerate() {
        let title = if has_sync && i == lanes.len() - 1 {
            format!("{lane} (at quiescence)")
        } else {
            format!("CPU{i}: {lane}")
        };
        header.push_str(&format!("{:<COLUMN_WIDTH$} ", title));
        rule.push_str(&format!("{:<COLUMN_WIDTH$} ", "-".repeat(COLUMN_WIDTH - 2)));
    }
    out.push_str(header.trim_end());
    out.push('\n');
    out.push_str(rule.trim_end());
    out.push('\n');
    for (index, event) in run.events.iter().enumerate() {
        let lane = lane_of(event.actor);
        let mark = if Some(index) == verdict_step { ">>" } else { "  " };
        for (line_number, text) in wrap(&describe(event, &names), COLUMN_WIDTH - 1).iter().enumerate() {
            let number = if line_number == 0 { format!("{mark}{index:>4}") } else { String::new() };
            let indent = (COLUMN_WIDTH + 1) * lane;
            let row = format!("{number:>6}  {}{text}", " ".repeat(indent));
            out.push_str(row.trim_end());
            out.push('\n');
        }
    }
    out.push('\n');
    out.push_str(&closing(scenario, &policy, trace, &run, &names, &lanes));
    Ok(out)
}

/// The closing paragraph: the race window and where the outcome was sealed.
fn closing(
    scenario: &Scenario,
    policy: &Policy,
    trace: &Trace,
    run: &racesim_explore::OneRun,
    names: &dyn Names,
    lanes: &[String],
) -> String {
    let mut out = String::new();
    let events = &run.events;
    let show = |i: usize| {
        let e = &events[i];
        format!("step {i} ({} {})", names.actor(e.actor), describe(e, names))
    };
    let Some(violation) = &run.violation else {
        return "No oracle fired in this schedule.\n".into();
    };
    let sealing = sealing(scenario, policy, &trace.decisions, &run.decision_positions, trace.seed);
    let sealed_at = sealing.step;
    match sealed_at {
        None => out.push_str(&format!(
            "The outcome was sealed before any scheduling choice: every one of {SEALING_CONTINUATIONS} random schedules \
             tried breaks {}. No interleaving is needed for this bug; the operations alone cause it.\n",
            violation.oracle
        )),
        Some(step) => out.push_str(&format!(
            "The outcome was sealed at {}: the first {} of the schedule's {} decisions suffice, and every one of \
             {SEALING_CONTINUATIONS} random continuations from there breaks {}.\n",
            show(step),
            sealing.decisions_needed,
            trace.decisions.len(),
            violation.oracle
        )),
    }
    // The window: the scenario's declared one as it occurred here, else from the first
    // preemption to the sealing step.
    let declared = scenario.window.as_ref().and_then(|w| {
        let mut open = None;
        let mut running = racesim_scenario::RunningOps::default();
        for (i, e) in events.iter().enumerate() {
            running.observe(e);
            match open {
                None if w.opens.matches(e, &running) => open = Some((i, false)),
                Some((start, reached)) => {
                    let reached = reached || w.inside.matches(e, &running);
                    if w.closes.matches(e, &running) {
                        if reached {
                            return Some((w.description.clone(), start, i));
                        }
                        open = None;
                    } else {
                        open = Some((start, reached));
                    }
                }
                None => {}
            }
        }
        // A window still open at the end of the log closes there.
        match open {
            Some((start, true)) => Some((w.description.clone(), start, events.len() - 1)),
            _ => None,
        }
    });
    let (description, from, to) = match declared {
        Some(found) => found,
        None => {
            let first_preemption =
                run.preempted.iter().position(|p| *p).and_then(|i| run.decision_positions.get(i).copied());
            let to = sealed_at.unwrap_or(violation.event);
            ("from the first preemption to the sealing step".to_string(), first_preemption.unwrap_or(0).min(to), to)
        }
    };
    out.push_str(&format!("The race window ({description}) runs from {} to {}.\n", show(from), show(to)));
    let owner = events[from].actor;
    let inside: Vec<usize> = (from + 1..to).filter(|&i| events[i].actor != owner).collect();
    if inside.is_empty() {
        out.push_str("No other actor ran inside it.\n");
    } else {
        out.push_str(&format!(
            "Inside it, {} step(s) of other actors ran while {} was between those two steps:\n",
            inside.len(),
            lanes.get(owner as usize).cloned().unwrap_or_else(|| names.actor(owner))
        ));
        for &i in inside.iter().take(WINDOW_LINES_MAX) {
            out.push_str(&format!("  {}\n", show(i)));
        }
        if inside.len() > WINDOW_LINES_MAX {
            out.push_str(&format!("  ... and {} more\n", inside.len() - WINDOW_LINES_MAX));
        }
    }
    out
}
