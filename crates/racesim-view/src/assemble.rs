//! Builds a [`Timeline`] by replaying a trace with a kernel snapshot after every step.

use crate::timeline::{LockBar, Step, Timeline, Verdict};
use racesim_kernel::event::{Change, Names, SYNC_ACTOR};
use racesim_kernel::state::PteTarget;
use racesim_kernel::types::{Extent, Ino, Token};
use racesim_kernel::{Event, Kernel};
use racesim_scenario::{Scenario, ScenarioNames};
use racesim_trace::Trace;

/// Replays `trace` against `scenario` and lays it out. Fails if the trace names a policy the
/// scenario lacks or no longer replays.
pub fn timeline(scenario: &Scenario, trace: &Trace) -> Result<Timeline, String> {
    let policy = scenario
        .policy(&trace.policy)
        .ok_or_else(|| format!("the trace names policy '{}', which {} does not define", trace.policy, scenario.path))?;
    let (report, snapshots) = racesim_explore::replay_with_states(
        scenario,
        &policy,
        &trace.decisions,
        &racesim_explore::lock_orders_of(trace),
        true,
    );
    if let Some(reason) = report.diverged {
        return Err(format!("the trace no longer replays: {reason}"));
    }
    let mut timeline = layout(scenario, &trace.policy, &report.events, &snapshots, report.violation.as_ref());
    // The window and the sealing step, as `explain` computes them, for the pictures to mark.
    if report.violation.is_some() {
        let analysis = crate::explain::analyse(scenario, trace)?;
        timeline.window =
            analysis.window.map(|w| crate::timeline::RaceWindow { from: w.from, to: w.to, description: w.description });
        timeline.sealed = analysis.sealing.and_then(|s| s.step);
    }
    Ok(timeline)
}

/// Lays out an event log with its snapshots.
pub fn layout(
    scenario: &Scenario,
    policy: &str,
    events: &[Event],
    snapshots: &[(usize, Kernel)],
    violation: Option<&racesim_oracles::Violation>,
) -> Timeline {
    let names = scenario.names();
    let mut lanes: Vec<String> = scenario.actors.iter().map(|a| a.name.clone()).collect();
    if events.iter().any(|e| e.actor == SYNC_ACTOR) {
        lanes.push("sync".into());
    }
    let lane_of = |actor: u8| if actor == SYNC_ACTOR { lanes.len() - 1 } else { actor as usize };
    let mut steps = Vec::with_capacity(events.len());
    let mut next_snapshot = 0;
    for (index, event) in events.iter().enumerate() {
        // The state after the step that logged this event.
        while next_snapshot + 1 < snapshots.len() && snapshots[next_snapshot].0 <= index {
            next_snapshot += 1;
        }
        let state = snapshots.get(next_snapshot).map(|(_, k)| describe_state(k, &names)).unwrap_or_default();
        steps.push(Step {
            index,
            lane: lane_of(event.actor),
            function: event.function.to_string(),
            change: event.change.describe(&names),
            state,
        });
    }
    Timeline {
        title: format!("{} under {policy}", scenario.name),
        scenario: scenario.name.clone(),
        policy: policy.to_string(),
        locks: lock_bars(events, &names, &lane_of),
        lanes,
        steps,
        verdict: violation.map(|v| Verdict {
            oracle: v.oracle.name().to_string(),
            step: v.event,
            message: v.message.clone(),
        }),
        window: None,
        sealed: None,
    }
}

/// Held and waited-for intervals, per lane and lock.
fn lock_bars(events: &[Event], names: &ScenarioNames, lane_of: &dyn Fn(u8) -> usize) -> Vec<LockBar> {
    let mut open: Vec<LockBar> = Vec::new();
    let mut bars = Vec::new();
    let last = events.len().saturating_sub(1);
    for (index, event) in events.iter().enumerate() {
        let lane = lane_of(event.actor);
        let text = |change: &Change, verb: &str| {
            let described = change.describe(names);
            described.strip_prefix(verb).unwrap_or(&described).to_string()
        };
        match event.change {
            Change::LockWait { .. } => open.push(LockBar {
                lane,
                lock: text(&event.change, "waits for "),
                from: index,
                to: index,
                waiting: true,
            }),
            Change::LockAcquired { .. } => {
                let lock = text(&event.change, "takes ");
                if let Some(at) = open.iter().position(|b| b.lane == lane && b.waiting && b.lock == lock) {
                    let mut waited = open.remove(at);
                    waited.to = index;
                    bars.push(waited);
                }
                open.push(LockBar { lane, lock, from: index, to: index, waiting: false });
            }
            Change::LockReleased { .. } => {
                let lock = text(&event.change, "releases ");
                if let Some(at) = open.iter().rposition(|b| b.lane == lane && !b.waiting && b.lock == lock) {
                    let mut held = open.remove(at);
                    held.to = index;
                    bars.push(held);
                }
            }
            _ => {}
        }
    }
    for mut bar in open {
        bar.to = last;
        bars.push(bar);
    }
    bars.sort_by(|a, b| (a.from, a.lane, &a.lock).cmp(&(b.from, b.lane, &b.lock)));
    bars
}

fn token(t: Token, names: &dyn Names) -> String {
    racesim_kernel::event::token_name(t, names)
}

/// The kernel state in a few lines: per file its size, block map, page cache and PTEs; then
/// the next free blocks.
pub fn describe_state(kernel: &Kernel, names: &dyn Names) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, inode) in kernel.inodes.iter().enumerate() {
        let ino = i as Ino;
        let file = names.file(ino);
        let shown = inode.i_size.max(inode.blocks.iter().rposition(|e| *e != Extent::Hole).map_or(0, |p| p as u32 + 1));
        let blocks: Vec<String> = (0..shown)
            .map(|l| match inode.blocks[l as usize] {
                Extent::Hole => format!("{l}:hole"),
                Extent::Delalloc => format!("{l}:delalloc"),
                Extent::Unwritten(p) => format!("{l}:b{p}(unwritten)"),
                Extent::Written(p) => format!("{l}:b{p}"),
            })
            .collect();
        lines.push(format!(
            "{file}: i_size {}{}  blocks {}",
            inode.i_size,
            if inode.dax { " (DAX)" } else { "" },
            blocks.join(" ")
        ));
        let cached: Vec<String> = inode
            .cache
            .iter()
            .enumerate()
            .filter_map(|(index, page)| page.map(|p| (index, p)))
            .map(|(index, p)| {
                let page = kernel.page(p);
                let mut flags = String::new();
                if page.uptodate {
                    flags.push('U');
                }
                if page.dirty {
                    flags.push('D');
                }
                if !kernel.locks[page.lock as usize].requests.iter().all(|r| !r.granted) {
                    flags.push('L');
                }
                format!("{index}:#{p}[{flags}] {}", token(page.content, names))
            })
            .collect();
        if !cached.is_empty() {
            lines.push(format!("{file}: page cache {}", cached.join(", ")));
        }
        for (mm, space) in kernel.mms.iter().enumerate() {
            for vma in space.vmas.iter().flatten().filter(|v| v.ino == ino) {
                let ptes: Vec<String> = vma
                    .ptes
                    .iter()
                    .enumerate()
                    .filter_map(|(slot, pte)| pte.map(|pte| (vma.pgoff + slot as u32, pte)))
                    .map(|(index, pte)| {
                        let target = match pte.target {
                            PteTarget::Page(p) => format!("#{p}"),
                            PteTarget::Pfn(b) => format!("pfn b{b}"),
                            PteTarget::ZeroPage => "zero page".into(),
                        };
                        format!("{index}->{target}{}", if pte.writable { " rw" } else { " ro" })
                    })
                    .collect();
                if !ptes.is_empty() {
                    lines.push(format!("{file}: mm{mm} ptes {}", ptes.join(", ")));
                }
            }
        }
    }
    let next: Vec<String> = kernel.free_blocks.iter().rev().take(4).map(|b| format!("b{b}")).collect();
    lines.push(format!("free blocks, next first: {}", next.join(" ")));
    lines
}
