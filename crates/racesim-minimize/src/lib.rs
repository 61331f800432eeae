//! Shrinking a failing schedule to its essence.
//!
//! Given a scenario, a policy and the decisions of a schedule that breaks oracle `O`, the
//! minimizer looks for a schedule that still breaks `O` and is smaller, preferring in order:
//! 1. fewer preemptions (switches away from an actor that could have gone on): first the
//!    explorer's complete search of every schedule with at most `b` preemptions for `b` up to
//!    [`EXHAUSTIVE_PREEMPTIONS_MAX`] (iterative context bounding, Musuvathi and Qadeer's CHESS),
//!    smallest bound first, so the count found is the true minimum; if none breaks the oracle, a greedy pass over the original schedule
//!    replaces its preemptions one at a time by "keep running" ([`Guided`] follows the old
//!    decisions where they still fit and never preempts where they do not);
//! 2. fewer steps up to the violation: among the schedules with the fewest preemptions, the
//!    shortest; after the greedy pass, the decision list is cut as short as it can be;
//! 3. fewer operations and actors: each operation is removed in turn from the scenario, the
//!    reduced scenario explored (seeded) for the same oracle, and the result shrunk again; it
//!    is kept if it is no worse by 1 and 2.
//!
//! Everything is deterministic: the same input gives the same result. This crate owns the
//! search; writing the reduced scenario and the trace is the caller's.

use racesim_explore::strategy::{Guided, KEEP_RUNNING, RandomWalk};
use racesim_explore::{OneRun, run_one_seeded};
use racesim_kernel::Policy;
use racesim_oracles::Oracle;
use racesim_oracles::lockdep::Order;
use racesim_scenario::Scenario;

/// Schedules explored to find the race again in a scenario with one operation fewer, when the
/// exhaustive search does not find it.
pub const RESEARCH_SCHEDULES: u64 = 3_000;
/// Preemption bound of the exhaustive search.
pub const EXHAUSTIVE_PREEMPTIONS_MAX: usize = 2;
/// Executions one bound of the exhaustive search may take before giving up to the greedy pass.
pub const EXHAUSTIVE_RUNS_MAX: u64 = 200_000;
/// Bound on shrinking passes over the preemptions (each pass removes at least one).
const PREEMPTION_PASSES_MAX: usize = 256;

/// A schedule's size, compared in the minimizer's order of preference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Size {
    pub preemptions: usize,
    pub steps: usize,
    pub operations: usize,
    pub actors: usize,
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} preemption(s), {} step(s), {} operation(s), {} actor(s)",
            self.preemptions, self.steps, self.operations, self.actors
        )
    }
}

/// A failing schedule of a scenario.
pub struct Candidate {
    pub scenario: Scenario,
    pub run: OneRun,
}

impl Candidate {
    pub fn size(&self) -> Size {
        Size {
            preemptions: self.run.preemptions(),
            steps: self.run.steps(),
            operations: self.scenario.operation_count(),
            actors: self.scenario.actors.len(),
        }
    }

    fn oracle(&self) -> Option<Oracle> {
        self.run.violation.as_ref().map(|v| v.oracle)
    }
}

/// What minimizing did.
pub struct Outcome {
    pub before: Size,
    pub after: Size,
    pub best: Candidate,
    /// Operations were removed: the best schedule belongs to a reduced scenario.
    pub scenario_reduced: bool,
}

/// What every candidate run shares: the policy, and the lock orders earlier schedules recorded
/// (a lock-order finding depends on them; empty for every other oracle).
struct Runs<'a> {
    policy: &'a Policy,
    orders: &'a [Order],
}

fn guided(runs: &Runs, scenario: &Scenario, decisions: Vec<u32>) -> OneRun {
    run_one_seeded(scenario, runs.policy, Box::new(Guided::new(decisions)), false, runs.orders.to_vec())
}

/// The shortest schedule breaking `oracle` among those with the fewest preemptions, up to
/// `bound`: the complete preemption-bounded search of the explorer
/// ([`racesim_explore::shortest_within_bound`], every interleaving with at most `b`
/// preemptions for `b = 0, 1, ...`), so the first bound with a finding is the true minimum.
fn exhaustive(runs: &Runs, scenario: &Scenario, oracle: Oracle, bound: usize) -> Option<OneRun> {
    for preemptions in 0..=bound {
        let (found, complete) = racesim_explore::shortest_within_bound(
            scenario,
            runs.policy,
            preemptions,
            oracle,
            runs.orders,
            EXHAUSTIVE_RUNS_MAX,
        );
        if let Some(finding) = found {
            return Some(OneRun {
                events: finding.events,
                violation: Some(finding.violation),
                decisions: finding.decisions,
                preempted: finding.preempted,
                decision_positions: finding.decision_positions,
                prior_lock_orders: finding.prior_lock_orders,
                snapshots: Vec::new(),
            });
        }
        if !complete {
            // Too large to finish this bound: larger ones will not finish either.
            break;
        }
    }
    None
}

/// Shrinks the preemptions, then the steps, of a failing schedule of one scenario.
fn shrink_schedule(runs: &Runs, scenario: &Scenario, oracle: Oracle, mut best: OneRun) -> OneRun {
    let size = |run: &OneRun| (run.preemptions(), run.steps());
    if let Some(found) = exhaustive(runs, scenario, oracle, EXHAUSTIVE_PREEMPTIONS_MAX.min(best.preemptions()))
        && size(&found) <= size(&best)
    {
        return found;
    }
    // 1. Preemptions: replace one by "keep running"; keep the result if it still fails the
    //    same way and is smaller. Repeat until no single replacement helps.
    for _ in 0..PREEMPTION_PASSES_MAX {
        let mut improved = false;
        for i in (0..best.decisions.len()).filter(|&i| best.preempted[i]) {
            let mut decisions = best.decisions.clone();
            decisions[i] = KEEP_RUNNING;
            let candidate = guided(runs, scenario, decisions);
            if candidate.violation.as_ref().map(|v| v.oracle) == Some(oracle) && size(&candidate) < size(&best) {
                best = candidate;
                improved = true;
                break;
            }
        }
        if !improved {
            break;
        }
    }
    // 2. Steps: the shortest prefix of decisions that, with no preemption after it, still
    //    fails the same way and is no bigger.
    for keep in 0..best.decisions.len() {
        let candidate = guided(runs, scenario, best.decisions[..keep].to_vec());
        if candidate.violation.as_ref().map(|v| v.oracle) == Some(oracle) && size(&candidate) <= size(&best) {
            best = candidate;
            break;
        }
    }
    best
}

/// Finds `oracle` again in a reduced scenario: the exhaustive bounded search first, else
/// exploration seeded by `seed`; then shrinking.
fn research(runs: &Runs, scenario: &Scenario, oracle: Oracle, seed: u64) -> Option<OneRun> {
    if let Some(found) = exhaustive(runs, scenario, oracle, EXHAUSTIVE_PREEMPTIONS_MAX) {
        return Some(found);
    }
    let report =
        racesim_explore::explore_with(scenario, runs.policy, Box::new(RandomWalk::new(seed)), RESEARCH_SCHEDULES, true);
    let finding = report.finding.filter(|f| f.violation.oracle == oracle)?;
    let run = guided(runs, scenario, finding.decisions);
    (run.violation.as_ref().map(|v| v.oracle) == Some(oracle)).then(|| shrink_schedule(runs, scenario, oracle, run))
}

/// Minimizes the schedule `decisions` of `scenario` under `policy`, starting every run from
/// `lock_orders` (a lock-order trace's prior orders). Returns `None` if those decisions do not
/// break any oracle.
pub fn minimize(
    scenario: &Scenario,
    policy: &Policy,
    decisions: &[u32],
    seed: u64,
    lock_orders: &[Order],
) -> Option<Outcome> {
    let runs = Runs { policy, orders: lock_orders };
    let start = guided(&runs, scenario, decisions.to_vec());
    let oracle = start.violation.as_ref()?.oracle;
    let original = Candidate { scenario: scenario.clone(), run: start };
    let before = original.size();
    let shrunk = shrink_schedule(&runs, scenario, oracle, original.run);
    let mut best = Candidate { scenario: scenario.clone(), run: shrunk };
    // 3. Operations, last first (later operations are more often incidental), until no single
    //    removal helps.
    let mut reduced = false;
    loop {
        let mut improved = false;
        'search: for actor in (0..best.scenario.actors.len()).rev() {
            for op in (0..best.scenario.actors[actor].ops.len()).rev() {
                if best.scenario.operation_count() <= 1 {
                    break 'search;
                }
                let smaller = best.scenario.without_op(actor, op);
                let Some(run) = research(&runs, &smaller, oracle, seed) else { continue };
                let candidate = Candidate { scenario: smaller, run };
                if candidate.oracle() == Some(oracle) && candidate.size() < best.size() {
                    best = candidate;
                    reduced = true;
                    improved = true;
                    break 'search;
                }
            }
        }
        if !improved {
            break;
        }
    }
    Some(Outcome { before, after: best.size(), best, scenario_reduced: reduced })
}
