//! [`RacesimScheduler`]: the shuttle `Scheduler` racesim runs under. It
//! - hides actors asleep on a lock that cannot be granted yet from the strategy, and calls it a
//!   deadlock when every unfinished actor sleeps;
//! - asks the [`Strategy`] only where there is a real choice, and records that choice;
//! - stops the execution (returns `None`) as soon as a violation or the step bound is hit, and
//!   stops the run after the first finding, the schedule budget, or when the budget callback
//!   says so. Nothing panics across shuttle: a finding is a value read from the world.

use crate::strategy::Strategy;
use crate::world::{SharedWorld, lock};
use racesim_kernel::Event;
use racesim_kernel::types::ActorId;
use racesim_oracles::Violation;
use shuttle_engine::scheduler::{Schedule, Scheduler, Task, TaskId};
use std::cell::RefCell;
use std::rc::Rc;

/// Progress of a run, for budgets and progress indicators.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    pub schedules: u64,
    pub steps: u64,
}

/// A schedule that broke an oracle.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Which schedule of the run (0-based).
    pub schedule: u64,
    pub decisions: Vec<u32>,
    /// Per decision: it switched away from a task that could have gone on (a preemption).
    pub preempted: Vec<bool>,
    /// Per decision: the log length when it was taken.
    pub decision_positions: Vec<usize>,
    /// For a lock-order finding: the orders earlier schedules recorded, which it depends on.
    pub prior_lock_orders: Vec<racesim_oracles::lockdep::Order>,
    pub events: Vec<Event>,
    pub violation: Violation,
}

/// The run's bookkeeping, shared between the scheduler (owned by shuttle's `Runner`) and the
/// caller that reads the results.
pub struct Control {
    pub strategy: Box<dyn Strategy>,
    pub seed: u64,
    pub schedules_max: u64,
    pub progress: Progress,
    pub step_limited: u64,
    pub decisions: Vec<u32>,
    pub preempted: Vec<bool>,
    /// Per decision: how many events the log held when it was taken (the step it scheduled
    /// logs from there on).
    pub decision_positions: Vec<usize>,
    /// The first finding of the run.
    pub finding: Option<Finding>,
    /// Schedules that broke an oracle.
    pub findings: u64,
    /// Stop the run, and the execution, at the first violation. Off for benchmarks, which run
    /// schedules to completion past violations (a stopped execution's task stacks are leaked
    /// by shuttle, so stopping thousands of them would grow memory).
    pub stop_at_first_finding: bool,
    /// The last schedule's log, kept when the caller wants it (replay).
    pub keep_last_log: bool,
    pub last_log: Vec<Event>,
    /// Kernel states after every step of the last schedule, when the run keeps them.
    pub snapshots: Vec<(usize, racesim_kernel::Kernel)>,
    pub budget: Box<dyn FnMut(&Progress) -> bool>,
    pub stopped_by_budget: bool,
    /// The budget stopped a schedule before its end: it is not counted and gives no verdict.
    pub stopped_mid_schedule: bool,
    /// Scheduling points since the budget was last asked, within a schedule.
    pub points_since_budget: u32,
    /// The racy window to watch for, and how many schedules reached it.
    pub window: Option<racesim_scenario::Window>,
    pub window_hits: u64,
    /// The window's patterns some schedule matched ([`racesim_scenario::Window::parts_seen`]).
    pub window_parts: u8,
    /// Schedules whose end state the reference search could not decide (its node bound).
    pub undecided: u64,
    /// End-state search cost: the costliest schedule's configurations, and the sum.
    pub search_nodes_max: u64,
    pub search_nodes_total: u64,
    /// Running digest of every schedule's event log (determinism self-check).
    pub digest: Option<std::hash::DefaultHasher>,
    /// When collected: every distinct outcome, as (first verdict, digest of the final kernel
    /// state in its canonical form, [`racesim_kernel::Kernel::canonical`]). Soundness tests compare these between a reduced and a naive search.
    pub outcomes: Option<std::collections::BTreeSet<(String, u64)>>,
    /// Keep, instead of the first finding, the one with the fewest steps that breaks this
    /// oracle (the minimizer's search).
    pub shortest: Option<racesim_oracles::Oracle>,
}

/// Scheduling points between two budget checks inside one schedule (a few milliseconds).
const BUDGET_POINTS: u32 = 4096;

pub struct RacesimScheduler {
    pub world: SharedWorld,
    pub control: Rc<RefCell<Control>>,
}

impl RacesimScheduler {
    /// Collects what the schedule that just ended produced.
    fn finish_schedule(&mut self) {
        let mut control = self.control.borrow_mut();
        let mut world = lock(&self.world);
        if control.stopped_mid_schedule {
            // Cut by the time budget: whatever it saw so far is no verdict on the schedule.
            world.violation = None;
            return;
        }
        control.progress.schedules += 1;
        control.progress.steps += world.steps;
        if world.step_limit_hit {
            control.step_limited += 1;
        }
        let choices = control.decisions.len();
        control.strategy.observe_length(choices);
        control.strategy.execution_ended(&world.machine.log, &world.machine.kernel);
        if let Some(outcomes) = control.outcomes.as_mut() {
            let verdict = world.violation.as_ref().map_or("clean", |v| v.oracle.name()).to_string();
            // The canonical form: equivalent interleavings may number the page frames
            // differently (`Kernel::canonical`).
            let mut hasher = std::hash::DefaultHasher::new();
            std::hash::Hash::hash(&world.machine.kernel.canonical(), &mut hasher);
            outcomes.insert((verdict, std::hash::Hasher::finish(&hasher)));
        }
        if control.keep_last_log {
            control.last_log.clone_from(&world.machine.log);
        }
        if world.judge.undecided() {
            control.undecided += 1;
        }
        let nodes = world.judge.search_nodes();
        control.search_nodes_max = control.search_nodes_max.max(nodes);
        control.search_nodes_total += nodes;
        if let Some(window) = control.window.as_ref() {
            let reached = window.reached(&world.machine.log);
            // Until every pattern has matched somewhere (usually the first schedules).
            let parts = if control.window_parts == racesim_scenario::Window::ALL {
                0
            } else {
                window.parts_seen(&world.machine.log)
            };
            control.window_hits += u64::from(reached);
            control.window_parts |= parts;
        }
        if let Some(digest) = control.digest.as_mut() {
            // SipHash with fixed keys: the same log gives the same digest within one build.
            std::hash::Hash::hash(&world.machine.log, digest);
        }
        if let Some(violation) = world.violation.take() {
            control.findings += 1;
            let replaces = match (&control.finding, control.shortest) {
                (None, None) => true,
                (_, Some(oracle)) if violation.oracle != oracle => false,
                (None, Some(_)) => true,
                (Some(kept), Some(_)) => violation.event < kept.violation.event,
                (Some(_), None) => false,
            };
            if !replaces {
                return;
            }
            let schedule = control.progress.schedules - 1;
            // An exhaustive search ran the execution past the violation; a replay stops at
            // the end of the violating step: keep what comes before.
            let end = world.violation_end.min(world.machine.log.len());
            let kept = control.decision_positions.iter().take_while(|&&p| p < end).count();
            let decisions = control.decisions[..kept].to_vec();
            let preempted = control.preempted[..kept].to_vec();
            let decision_positions = control.decision_positions[..kept].to_vec();
            let prior_lock_orders = if violation.oracle == racesim_oracles::Oracle::LockOrder {
                world.lock_graph.orders_before(world.executions.saturating_sub(1))
            } else {
                Vec::new()
            };
            control.finding = Some(Finding {
                schedule,
                decisions,
                preempted,
                decision_positions,
                prior_lock_orders,
                events: world.machine.log[..end].to_vec(),
                violation,
            });
        }
    }
}

impl Scheduler for RacesimScheduler {
    fn new_execution(&mut self) -> Option<Schedule> {
        // The schedule begun last time, if any, has ended.
        let was_live = std::mem::replace(&mut lock(&self.world).live, false);
        if was_live {
            self.finish_schedule();
        }
        let mut control = self.control.borrow_mut();
        let found = control.finding.is_some() && control.stop_at_first_finding;
        if found
            || control.stopped_mid_schedule
            || control.strategy.exhausted()
            || control.progress.schedules >= control.schedules_max
        {
            return None;
        }
        let progress = control.progress;
        if !(control.budget)(&progress) {
            control.stopped_by_budget = true;
            return None;
        }
        let schedule = control.progress.schedules;
        control.strategy.begin(schedule);
        control.points_since_budget = 0;
        control.decisions.clear();
        control.preempted.clear();
        control.decision_positions.clear();
        lock(&self.world).live = true;
        Some(Schedule::new(control.seed ^ schedule))
    }

    fn next_task(&mut self, runnable: &[&Task], current: Option<TaskId>, _is_yielding: bool) -> Option<TaskId> {
        let mut world = lock(&self.world);
        // One borrow of the run's bookkeeping for the whole decision: this runs at every
        // scheduling point.
        let mut control = self.control.borrow_mut();
        let stop_now = world.halt || world.step_limit_hit;
        let every_point = control.strategy.sees_every_point();
        // An exhaustive search runs a violating execution to its end (stopping one halfway
        // leaks its task stacks in shuttle) and stops the run after it.
        if stop_now || (world.violation.is_some() && control.stop_at_first_finding && !every_point) {
            return None;
        }
        // The budget is asked between schedules and, for a schedule that runs long, every
        // BUDGET_POINTS scheduling points: one pathological schedule cannot outlive
        // --time-budget. Which schedules run and what they find does not depend on it.
        {
            control.points_since_budget += 1;
            if control.points_since_budget >= BUDGET_POINTS {
                control.points_since_budget = 0;
                let progress = control.progress;
                if !(control.budget)(&progress) {
                    control.stopped_by_budget = true;
                    control.stopped_mid_schedule = true;
                    world.halt = true;
                    return None;
                }
            }
        }
        // Task 0 is main; task k is actor k - 1.
        let mut choices: [TaskId; 32] = [TaskId::from(0); 32];
        let mut count = 0;
        for task in runnable {
            let id = task.id();
            let index = usize::from(id);
            if index > 0 && world.blocked(index - 1) {
                continue;
            }
            if count < choices.len() {
                choices[count] = id;
                count += 1;
            }
        }
        if count == 0 {
            // Everyone left is asleep on a lock nobody will release.
            let sleepers: Vec<ActorId> =
                (0..world.waits.len()).filter(|&a| world.blocked(a)).map(|a| a as ActorId).collect();
            world.record_deadlock(sleepers);
            return None;
        }
        let position = world.machine.log.len();
        let chosen = if every_point {
            let chosen =
                control.strategy.at_point(&world.machine.log, &world.machine.kernel, &choices[..count], current)?;
            drop(world);
            if count == 1 {
                return Some(chosen);
            }
            chosen
        } else {
            drop(world);
            if count == 1 {
                return Some(choices[0]);
            }
            control.strategy.choose(&choices[..count], current)?
        };
        let preempted = current.is_some_and(|c| c != chosen && choices[..count].contains(&c));
        control.decisions.push(usize::from(chosen) as u32);
        control.preempted.push(preempted);
        control.decision_positions.push(position);
        Some(chosen)
    }

    fn next_u64(&mut self) -> u64 {
        self.control.borrow_mut().strategy.next_u64()
    }
}
