//! The interleaving explained in the layout kernel developers know from lockdep reports and
//! mailing-list posts: one column per actor (CPU0, CPU1, ...), one row per step, each row the
//! kernel function and what it changed (locks taken and released, page cache, PTEs, block map,
//! `i_size`). The oracle's step is marked. A closing paragraph names the race window (the
//! scenario's declared `[window]`, as it occurred) and the step after which the outcome was
//! sealed: from there, every continuation breaks the same oracle.

use racesim_explore::strategy::{PrefixThenRandom, Replay};
use racesim_kernel::Policy;
use racesim_kernel::event::{Names, SYNC_ACTOR};
use racesim_scenario::Scenario;
use racesim_trace::Trace;
use serde::Serialize;

/// The width `explain` fits when it is given none and stdout is no terminal: a mailing-list
/// post (80 columns).
pub const DEFAULT_WIDTH: usize = 80;
/// Columns narrower than this wrap too much to read; wider output is preferred to that.
const COLUMN_WIDTH_MIN: usize = 24;
/// Width of the step-number gutter ("  >>  41  ").
const GUTTER: usize = 8;
/// Continuations tried from a prefix to call the outcome sealed.
pub const SEALING_CONTINUATIONS: u64 = 200;
/// Lines listing other actors' steps inside the window, at most.
const WINDOW_LINES_MAX: usize = 16;

/// Where the outcome was decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sealing {
    /// Decisions of the schedule that had to be followed; 0 means every schedule fails.
    pub decisions_needed: usize,
    /// The schedule's decisions in all.
    pub decisions: usize,
    /// The step the last needed decision scheduled (None when none was needed).
    pub step: Option<usize>,
}

/// The race window as it occurred in one trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RaceWindow {
    /// The scenario's `[window]` description, or how the window was inferred.
    pub description: String,
    /// True when it is the scenario's declared `[window]`; false when inferred (from the first
    /// preemption to the sealing step).
    pub declared: bool,
    /// First and last step of the window (inclusive).
    pub from: usize,
    pub to: usize,
    /// The lane whose two steps bound the window.
    pub owner: usize,
    /// Steps of other lanes that ran inside it.
    pub inside: Vec<usize>,
}

/// One step of the explained interleaving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExplainedStep {
    pub index: usize,
    pub lane: usize,
    pub actor: String,
    pub function: String,
    pub change: String,
}

/// Everything `explain` says about a trace, as data (the text and the JSON are drawn from it;
/// so are the race window and sealing marks of the pictures).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Analysis {
    pub scenario: String,
    pub policy: String,
    /// Actor lanes in scenario order, then `sync` when the final sync has steps.
    pub lanes: Vec<String>,
    /// Whether the last lane is the final sync (run at quiescence, after every actor).
    pub sync_lane: bool,
    pub steps: Vec<ExplainedStep>,
    pub verdict: Option<crate::timeline::Verdict>,
    /// Where the outcome was sealed (None for a clean trace).
    pub sealing: Option<Sealing>,
    /// The race window (None for a clean trace).
    pub window: Option<RaceWindow>,
    /// Steps at which a direct IO's invalidation met a page dirtied since (-EBUSY) and the
    /// direct IO went ahead (after its IO, or before it where the policy goes on all the same):
    /// the collision of direct and buffered or mmap IO that Linux warns about rather
    /// than prevents ([`direct_io_collisions`]).
    pub collisions: Vec<usize>,
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
        return Sealing { decisions_needed: 0, decisions: decisions.len(), step: None };
    }
    // Invariant: sealed(high), !sealed(low).
    while high - low > 1 {
        let middle = (low + high) / 2;
        if sealed(middle) { high = middle } else { low = middle }
    }
    // A trace with no decisions whose run does not fail (a tampered one) is sealed nowhere.
    let step = high.checked_sub(1).and_then(|i| positions.get(i)).copied();
    Sealing { decisions_needed: high, decisions: decisions.len(), step }
}

/// Wraps at spaces; a word longer than a line is cut (never a line wider than `width`).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = vec![String::new()];
    let mut words: Vec<String> = Vec::new();
    for word in text.split(' ') {
        let chars: Vec<char> = word.chars().collect();
        if chars.is_empty() {
            words.push(String::new());
        }
        for piece in chars.chunks(width) {
            words.push(piece.iter().collect());
        }
    }
    for word in words {
        let word = word.as_str();
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

/// Explains `trace` (replayed against `scenario`) as text [`DEFAULT_WIDTH`] columns wide.
pub fn explain(scenario: &Scenario, trace: &Trace) -> Result<String, String> {
    Ok(render(&analyse(scenario, trace)?, DEFAULT_WIDTH))
}

/// Replays `trace` against `scenario` and works out the race window and the sealing step.
pub fn analyse(scenario: &Scenario, trace: &Trace) -> Result<Analysis, String> {
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
    let sync_lane = run.events.iter().any(|e| e.actor == SYNC_ACTOR);
    if sync_lane {
        lanes.push("sync".into());
    }
    let lane_of = |actor: u8| if actor == SYNC_ACTOR { lanes.len() - 1 } else { actor as usize };
    let steps = run
        .events
        .iter()
        .enumerate()
        .map(|(index, e)| ExplainedStep {
            index,
            lane: lane_of(e.actor),
            actor: names.actor(e.actor),
            function: e.function.to_string(),
            change: e.change.describe(&names),
        })
        .collect();
    let verdict = run.violation.as_ref().map(|v| crate::timeline::Verdict {
        oracle: v.oracle.name().to_string(),
        step: v.event,
        message: v.message.clone(),
    });
    let (sealing, window) = match &run.violation {
        None => (None, None),
        Some(violation) => {
            let sealing = sealing(scenario, &policy, &trace.decisions, &run.decision_positions, trace.seed);
            let window = race_window(scenario, &run, sealing.step.unwrap_or(violation.event), &lane_of);
            (Some(sealing), Some(window))
        }
    };
    let collisions = direct_io_collisions(&run.events);
    Ok(Analysis {
        scenario: scenario.name.clone(),
        policy: trace.policy.clone(),
        lanes,
        sync_lane,
        steps,
        verdict,
        sealing,
        window,
        collisions,
    })
}

/// The steps at which a page the invalidation of a direct IO could not drop (-EBUSY: dirtied
/// since the flush, through a mapping or by a direct read's DMA) stays cached while the IO goes
/// ahead: the invalidation after the IO (the actor's `dio_bio_end_io` came first in its
/// operation, or in the completion of an asynchronous one), or the one before it where the IO
/// then submits its bio anyway (a write under `dio_invalidate_busy = "warn"`, a read that
/// invalidates). A busy page answered by a buffered fallback or a short write is no collision. Linux
/// warns about such a page out of date with the disk rather than preventing it: "If this
/// invalidation fails, tough, the write still worked" (generic_file_direct_write before 4.14),
/// `WARN_ON_ONCE` (XFS 4.x), and `dio_warn_stale_pagecache` (5a9d929d6e13, 4.19: "Possible data
/// corruption due to collision with buffered I/O!"); a design that prevents it (Kara's range
/// lock) closes the race (`scenarios/dio_read_own_mapping_store.toml`).
pub fn direct_io_collisions(events: &[racesim_kernel::Event]) -> Vec<usize> {
    use racesim_kernel::event::Change;
    let mut out = Vec::new();
    for (i, event) in events.iter().enumerate() {
        if !matches!(event.change, Change::InvalidateBusy { .. }) {
            continue;
        }
        let own = |e: &&racesim_kernel::Event| e.actor == event.actor;
        let op_boundary = |e: &racesim_kernel::Event| matches!(e.change, Change::OpBegin { .. } | Change::OpEnd { .. });
        // Back to the start of the operation (or of the completion, which follows the syscall's
        // return): did its IO complete already?
        let after_io = events[..i]
            .iter()
            .rev()
            .filter(own)
            .take_while(|e| !matches!(e.change, Change::OpBegin { .. }))
            .any(|e| e.function == "dio_bio_end_io");
        // Forward to the end of the operation: is its bio submitted all the same?
        let submitted_anyway = events[i + 1..]
            .iter()
            .filter(own)
            .take_while(|e| !op_boundary(e))
            .any(|e| matches!(e.change, Change::BioSubmitted { .. }));
        if after_io || submitted_anyway {
            out.push(i);
        }
    }
    out
}

/// The scenario's declared window as it occurred in `run`, else from the first preemption to
/// the sealing step (`sealed_or_verdict`).
fn race_window(
    scenario: &Scenario,
    run: &racesim_explore::OneRun,
    sealed_or_verdict: usize,
    lane_of: &dyn Fn(u8) -> usize,
) -> RaceWindow {
    let events = &run.events;
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
    let is_declared = declared.is_some();
    let (description, from, to) = match declared {
        Some(found) => found,
        None => {
            let first_preemption =
                run.preempted.iter().position(|p| *p).and_then(|i| run.decision_positions.get(i).copied());
            let to = sealed_or_verdict;
            ("from the first preemption to the sealing step".to_string(), first_preemption.unwrap_or(0).min(to), to)
        }
    };
    let owner = events[from].actor;
    let inside = (from + 1..to).filter(|&i| events[i].actor != owner).collect();
    RaceWindow { description, declared: is_declared, from, to, owner: lane_of(owner), inside }
}

/// The analysis as text at most `width` columns wide where it can be: one column per actor
/// (CPU0, CPU1, ...), the final sync's steps across the full width below them (they run at
/// quiescence, after every actor), and the closing paragraph wrapped to the width.
pub fn render(analysis: &Analysis, width: usize) -> String {
    let actor_lanes = if analysis.sync_lane { analysis.lanes.len() - 1 } else { analysis.lanes.len() }.max(1);
    let column = (width.saturating_sub(GUTTER) / actor_lanes).saturating_sub(1).max(COLUMN_WIDTH_MIN);
    let full = (column + 1) * actor_lanes - 1;
    let mut out = String::new();
    match &analysis.verdict {
        Some(v) => {
            out.push_str(&format!(
                "{} under {}: {} at step {}\n",
                analysis.scenario, analysis.policy, v.oracle, v.step
            ));
            for line in wrap(&v.message, width.saturating_sub(2).max(COLUMN_WIDTH_MIN)) {
                out.push_str(&format!("  {line}\n"));
            }
            out.push('\n');
        }
        None => out.push_str(&format!("{} under {}: clean\n\n", analysis.scenario, analysis.policy)),
    }
    let mut header = format!("{:>6}  ", "step");
    let mut rule = format!("{:>6}  ", "");
    for (i, lane) in analysis.lanes.iter().take(actor_lanes).enumerate() {
        let title: String = format!("CPU{i}: {lane}").chars().take(column).collect();
        header.push_str(&format!("{title:<column$} "));
        rule.push_str(&format!("{:<column$} ", "-".repeat(column.saturating_sub(2))));
    }
    out.push_str(header.trim_end());
    out.push('\n');
    out.push_str(rule.trim_end());
    out.push('\n');
    let verdict_step = analysis.verdict.as_ref().map(|v| v.step);
    let mut sync_started = false;
    for step in &analysis.steps {
        let is_sync = analysis.sync_lane && step.lane == analysis.lanes.len() - 1;
        let (text, indent, room) = if is_sync {
            if !sync_started {
                out.push_str(&format!("{:>6}  {}\n", "", "sync (at quiescence, after every actor):"));
                sync_started = true;
            }
            (format!("{}: {}", step.function, step.change), 0, full)
        } else {
            (format!("{}: {}", step.function, step.change), (column + 1) * step.lane, column)
        };
        let mark = if Some(step.index) == verdict_step { ">>" } else { "  " };
        for (line_number, text) in wrap(&text, room).iter().enumerate() {
            let number = if line_number == 0 { format!("{mark}{:>4}", step.index) } else { String::new() };
            let row = format!("{number:>6}  {}{text}", " ".repeat(indent));
            out.push_str(row.trim_end());
            out.push('\n');
        }
    }
    out.push('\n');
    for paragraph in closing(analysis) {
        for line in wrap(&paragraph.text, width.saturating_sub(paragraph.indent).max(COLUMN_WIDTH_MIN)) {
            out.push_str(&format!("{}{line}\n", " ".repeat(paragraph.indent)));
        }
    }
    out
}

struct Paragraph {
    indent: usize,
    text: String,
}

/// The closing paragraphs: where the outcome was sealed and the race window.
fn closing(analysis: &Analysis) -> Vec<Paragraph> {
    let plain = |text: String| Paragraph { indent: 0, text };
    let show = |i: usize| {
        let s = &analysis.steps[i];
        format!("step {i} ({} {}: {})", s.actor, s.function, s.change)
    };
    let (Some(verdict), Some(sealing), Some(window)) = (&analysis.verdict, &analysis.sealing, &analysis.window) else {
        return vec![plain("No oracle fired in this schedule.".into())];
    };
    let mut out = Vec::new();
    if let Some(&first) = analysis.collisions.first() {
        out.push(plain(format!(
            "At {} a direct IO's invalidation could not drop a page dirtied since, and the IO went ahead all the \
             same: from there the page cache and the disk may disagree. Linux does not prevent this collision of \
             direct and buffered or mmap IO; it warns about it (dio_warn_stale_pagecache, 5a9d929d6e13, 4.19: \
             \"Possible data corruption due to collision with buffered I/O!\"; WARN_ON_ONCE in XFS 4.x; \"If this \
             invalidation fails, tough, the write still worked\" in generic_file_direct_write before 4.14).",
            show(first)
        )));
    }
    match sealing.step {
        None => out.push(plain(format!(
            "The outcome was sealed before any scheduling choice: every one of {SEALING_CONTINUATIONS} random schedules \
             tried breaks {}. No interleaving is needed for this bug; the operations alone cause it.",
            verdict.oracle
        ))),
        Some(step) => out.push(plain(format!(
            "The outcome was sealed at {}: the first {} of the schedule's {} decisions suffice, and every one of \
             {SEALING_CONTINUATIONS} random continuations from there breaks {}.",
            show(step),
            sealing.decisions_needed,
            sealing.decisions,
            verdict.oracle
        ))),
    }
    out.push(plain(format!(
        "The race window ({}) runs from {} to {}.",
        window.description,
        show(window.from),
        show(window.to)
    )));
    if window.inside.is_empty() {
        out.push(plain("No other actor ran inside it.".into()));
    } else {
        out.push(plain(format!(
            "Inside it, {} step(s) of other actors ran while {} was between those two steps:",
            window.inside.len(),
            analysis.lanes[window.owner]
        )));
        for &i in window.inside.iter().take(WINDOW_LINES_MAX) {
            out.push(Paragraph { indent: 2, text: show(i) });
        }
        if window.inside.len() > WINDOW_LINES_MAX {
            out.push(Paragraph { indent: 2, text: format!("... and {} more", window.inside.len() - WINDOW_LINES_MAX) });
        }
    }
    out
}
