//! [`ShuttleCpu`]: the kernel model's [`Cpu`] on shuttle. A step is `switch()` (a shuttle
//! scheduling point) followed by the step's body under the world lock, then the oracles' look
//! at the events the step produced. A sleeping actor records the request it waits for; the
//! scheduler ([`crate::scheduler`]) does not run it until the request can be granted.

use crate::world::{Abandoned, SharedWorld, World, lock};
use racesim_kernel::lock::RequestRef;
use racesim_kernel::types::ActorId;
use racesim_kernel::{Cpu, Machine};
use shuttle_engine::runtime::thread::switch;

pub struct ShuttleCpu {
    pub world: SharedWorld,
    pub actor: ActorId,
}

/// Runs `f`, a step of `actor`, on the machine and judges what it logged.
fn judged<R>(world: &mut World, actor: ActorId, f: impl FnOnce(&mut Machine) -> R) -> R {
    let World {
        machine,
        judge,
        violation,
        steps,
        steps_max,
        step_limit_hit,
        snapshots,
        lock_graph,
        held,
        executions,
        names,
        ignore,
        violation_end,
        redundant,
        ..
    } = world;
    let first = machine.log.len();
    let result = f(machine);
    // Every step names what it touched through its events: that is its footprint (see
    // racesim_kernel::event::Object), which a partial-order reduction will rely on.
    debug_assert!(machine.log.len() > first, "racesim bug: a step logged no event (after {:?})", machine.log.last());
    if machine.log.len() == first {
        // A release build keeps going, but not unsoundly: a step that logged nothing still
        // read something, if only to decide it had nothing to do, so it is taken to have read
        // everything (`Change::Nothing`), and the trace shows where.
        machine.emit(actor, "(unlogged step)", racesim_kernel::event::Change::Nothing);
    }
    *steps += 1;
    if *steps >= *steps_max {
        *step_limit_hit = true;
    }
    if *redundant {
        // The rest of an execution equivalent to one explored before: nothing to judge
        // (the lock orders it takes were recorded by that one).
    } else if violation.is_none() {
        *violation = judge.check_events(&machine.kernel, &machine.log, first);
    }
    if !*redundant && violation.is_none() && !ignore.contains(&racesim_oracles::Oracle::LockOrder) {
        *violation = lock_graph.observe(held, &machine.log, first, executions.saturating_sub(1), names);
    }
    if violation.as_ref().is_some_and(|v| ignore.contains(&v.oracle)) {
        *violation = None;
    }
    if violation.is_some() && *violation_end == usize::MAX {
        *violation_end = machine.log.len();
    }
    if let Some(snapshots) = snapshots {
        snapshots.push((machine.log.len(), machine.kernel.clone()));
    }
    result
}

/// Where an actor resumes after a scheduling point: the world, locked, unless the execution is
/// being abandoned; then the actor's stack unwinds from here (the lock released first, so that
/// it is not poisoned) to where its task began ([`crate::run_actor`]).
fn abandon_point(world: &SharedWorld) -> std::sync::MutexGuard<'_, World> {
    let world = lock(world);
    if world.abandon {
        unwind(world);
    }
    world
}

#[cold]
#[inline(never)]
fn unwind(world: std::sync::MutexGuard<'_, World>) -> ! {
    drop(world);
    std::panic::resume_unwind(Box::new(Abandoned))
}

impl Cpu for ShuttleCpu {
    fn step<R>(&mut self, f: impl FnOnce(&mut Machine) -> R) -> R {
        switch();
        judged(&mut abandon_point(&self.world), self.actor, f)
    }

    fn peek<R>(&mut self, f: impl FnOnce(&Machine) -> R) -> R {
        f(&lock(&self.world).machine)
    }

    fn block_until_grantable<R>(&mut self, request: RequestRef, grant: impl FnOnce(&mut Machine) -> R) -> R {
        {
            let mut world = lock(&self.world);
            world.waits[self.actor as usize] = Some(request);
            if let Some(cycle) = world.cycle_through(self.actor) {
                if world.redundant {
                    // Reported by the equivalent execution explored before.
                    world.halt = true;
                } else {
                    world.record_deadlock(cycle);
                }
            }
        }
        // The scheduler resumes us only once the request is grantable (or never, if the
        // execution stops on a violation).
        switch();
        let mut world = abandon_point(&self.world);
        world.waits[self.actor as usize] = None;
        debug_assert!(
            world.machine.kernel.locks[request.lock as usize].grantable(request.ticket),
            "racesim bug: a sleeper was resumed before its lock could be granted"
        );
        judged(&mut world, self.actor, grant)
    }
}
