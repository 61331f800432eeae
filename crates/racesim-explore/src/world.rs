//! The state every task of one execution shares: the machine, the judge, who sleeps on which
//! lock, and the first violation. Shuttle runs all tasks on one OS thread, so a plain mutex
//! around it is never contended; it exists to satisfy `Send + Sync` on the task closures.
//!
//! This module also owns deadlock detection: the wait-for graph is built from the lock queues
//! (an actor waits for every actor whose request is granted or queued ahead of its own and
//! conflicts with it), and a cycle through a sleeper, or every live actor asleep, is a deadlock.

use racesim_kernel::event::Names;
use racesim_kernel::lock::RequestRef;
use racesim_kernel::types::ActorId;
use racesim_kernel::{Kernel, Machine};
use racesim_oracles::{Judge, Violation};
use std::sync::{Arc, Mutex, MutexGuard};

pub struct World {
    pub machine: Machine,
    pub judge: Judge,
    /// Per actor: the lock request it sleeps on.
    pub waits: Vec<Option<RequestRef>>,
    /// Per actor: finished all its operations.
    pub finished: Vec<bool>,
    pub violation: Option<Violation>,
    /// The log length at the end of the step that broke an oracle (`usize::MAX` if none did,
    /// or not in a step): where a replay, which stops there, ends.
    pub violation_end: usize,
    /// Steps taken in this execution, and the bound.
    pub steps: u64,
    pub steps_max: u64,
    pub step_limit_hit: bool,
    /// The execution cannot go on (deadlock, step bound): the scheduler stops it.
    pub halt: bool,
    /// The execution is being abandoned: every actor unwinds its stack at its next scheduling
    /// point ([`Abandoned`]) instead of running its step, and the final sync is skipped, so the
    /// execution ends with no task left suspended (shuttle leaks the stacks of an execution
    /// stopped with suspended tasks).
    pub abandon: bool,
    /// The exhaustive strategy found the rest of the execution redundant: it runs unjudged, its
    /// end state is no outcome, and a deadlock in it is not reported (an equivalent execution
    /// explored before was judged).
    pub redundant: bool,
    /// Oracles the scenario ignores.
    pub ignore: Vec<racesim_oracles::Oracle>,
    /// Lock orders seen in this run, across schedules (the lock-order oracle's memory).
    pub lock_graph: racesim_oracles::lockdep::LockGraph,
    /// When set, every execution starts from these lock orders only, forgetting what earlier
    /// executions of the run saw (a search for a schedule that reproduces on its own).
    pub lock_orders_per_execution: Option<Vec<racesim_oracles::lockdep::Order>>,
    /// Lock classes each actor holds in this execution.
    pub held: racesim_oracles::lockdep::Held,
    /// Executions begun in this run (numbers schedules in lock-order reports).
    pub executions: u64,
    /// When set (replays for pictures), the kernel state after every step, with the log length
    /// at that point.
    pub snapshots: Option<Vec<(usize, racesim_kernel::Kernel)>>,
    /// A schedule is running (begun and not yet collected by the scheduler).
    pub live: bool,
    pub names: racesim_scenario::ScenarioNames,
}

pub type SharedWorld = Arc<Mutex<World>>;

/// The payload an actor unwinds with when its execution is abandoned (raised with
/// `resume_unwind`, which skips the panic hook, and caught where the actor's task begins).
pub struct Abandoned;

pub fn lock(world: &SharedWorld) -> MutexGuard<'_, World> {
    // A poisoned lock means a racesim bug panicked inside a step; the panic is the report.
    world.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl World {
    /// Prepares for a new execution from the scenario's initial kernel.
    pub fn reset(&mut self, initial: &Kernel) {
        self.machine.kernel.clone_from(initial);
        self.machine.log.clear();
        self.judge.reset();
        self.waits.iter_mut().for_each(|w| *w = None);
        self.finished.iter_mut().for_each(|f| *f = false);
        self.violation = None;
        self.violation_end = usize::MAX;
        self.steps = 0;
        self.step_limit_hit = false;
        self.halt = false;
        self.abandon = false;
        self.redundant = false;
        self.held.reset();
        if let Some(orders) = &self.lock_orders_per_execution {
            self.lock_graph = racesim_oracles::lockdep::LockGraph::new();
            self.lock_graph.seed(orders);
        }
        self.executions += 1;
        if let Some(snapshots) = self.snapshots.as_mut() {
            snapshots.clear();
        }
    }

    /// Is `actor` asleep on a lock it cannot have yet?
    pub fn blocked(&self, actor: usize) -> bool {
        match self.waits.get(actor).copied().flatten() {
            Some(request) => !self.machine.kernel.locks[request.lock as usize].grantable(request.ticket),
            None => false,
        }
    }

    /// The actors `actor` waits for.
    fn waits_for(&self, actor: ActorId) -> Vec<ActorId> {
        match self.waits[actor as usize] {
            Some(request) => {
                let lock = &self.machine.kernel.locks[request.lock as usize];
                if lock.grantable(request.ticket) { Vec::new() } else { lock.blockers(request.ticket).collect() }
            }
            None => Vec::new(),
        }
    }

    /// A cycle of sleepers through `start`, if there is one.
    pub fn cycle_through(&self, start: ActorId) -> Option<Vec<ActorId>> {
        // Depth-first search over the wait-for graph; actors are few.
        let mut path = vec![start];
        let mut visited = vec![false; self.waits.len()];
        fn search(world: &World, path: &mut Vec<ActorId>, visited: &mut [bool], start: ActorId) -> bool {
            let current = *path.last().expect("path starts non-empty");
            for next in world.waits_for(current) {
                if next == start {
                    return true;
                }
                if (next as usize) < visited.len() && !visited[next as usize] {
                    visited[next as usize] = true;
                    path.push(next);
                    if search(world, path, visited, start) {
                        return true;
                    }
                    path.pop();
                }
            }
            false
        }
        search(self, &mut path, &mut visited, start).then_some(path)
    }

    /// Describes what each of `actors` waits for, for the deadlock message.
    pub fn describe_waits(&self, actors: &[ActorId]) -> Vec<String> {
        actors
            .iter()
            .filter_map(|&a| {
                let request = self.waits[a as usize]?;
                let lock = &self.machine.kernel.locks[request.lock as usize];
                let holders: Vec<String> = lock.blockers(request.ticket).map(|b| self.names.actor(b)).collect();
                let class = racesim_kernel::Change::LockWait {
                    class: lock.class,
                    mode: lock.request(request.ticket).mode,
                    range: lock.request(request.ticket).range,
                }
                .describe(&self.names);
                Some(format!("{} {class}, held or queued ahead by {}", self.names.actor(a), holders.join(" and ")))
            })
            .collect()
    }

    /// Records a deadlock among `actors` unless a violation is already recorded.
    pub fn record_deadlock(&mut self, actors: Vec<ActorId>) {
        // Sleepers on each other never wake: the execution must stop.
        self.halt = true;
        if self.violation.is_some() {
            return;
        }
        let waits = self.describe_waits(&actors);
        let at = self.machine.log.len().saturating_sub(1);
        self.violation = Some(racesim_oracles::deadlock(at, actors, &waits, &self.names));
    }
}
